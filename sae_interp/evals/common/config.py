"""Config fields the latent evals share: :class:`LatentEvalConfig` (where windows come from,
which latents, how their windows are sampled, the LLM and the controls; intervention builds
on it) and :class:`ExplainedEvalConfig` (how latents are explained, reseeds, given
explanations; every explanation-based eval and agentic build on it)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from sae_interp.activations.sampling import SamplingConfig
from sae_interp.explainers.one_shot import OneShotSettings
from sae_interp.explainers.registry import EXPLAINERS
from sae_interp.explainers.structured import StructuredSettings
from sae_interp.explainers.tree import TreeSettings
from sae_interp.framework.config import BaseEvalConfig
from sae_interp.interop.explanations import explanations_digest
from sae_interp.llm.settings import LLMSettings
from sae_interp.models.randomized import PREFIX as RANDOM_WEIGHTS_PREFIX
from sae_interp.saes.loading import random_model_counterpart
from sae_interp.scorers.simulation import SimulatorSettings


def default_sampling() -> SamplingConfig:
    # sized for minutes on a 2-core CPU with the offline LLM; the published defaults are
    # 40 train / 50 test / 50 negatives (pass them with a real endpoint)
    return SamplingConfig(n_train=15, n_test=10, n_negatives=10)


class LatentEvalConfig(BaseEvalConfig):
    """Base of the evals that look at chosen latents of an SAE, each with its controls. An
    eval that needs another default for one of these settings says so with
    :func:`~sae_interp.framework.config.with_default`, not by declaring it again."""

    collects_latents: ClassVar[bool] = True

    corpus: str = Field(
        default="embedded:validation", description="Where example windows come from."
    )
    n_tokens: int = Field(default=65_536, gt=0, description="Tokens to collect latents over.")
    latents: list[int] | None = Field(
        default=None, description="Latent ids to explain (default: random)."
    )
    n_latents: int = Field(
        default=10, gt=0, description="Random live latents when --latents is not given."
    )
    shuffled_control: bool = Field(
        default=True, description="Also score every latent with another latent's explanation."
    )
    random_sae_control: bool = Field(
        default=False,
        description=(
            "Also run the whole pipeline on a random SAE of the same shape, on latents matched "
            "by firing frequency (one more collection, and explanations for its latents)."
        ),
    )
    random_sae_seed: int = Field(default=0, description="Seed of the random-SAE control.")
    sampling: SamplingConfig = Field(
        default_factory=default_sampling,
        description="How each latent's windows are drawn: train windows for the explainer, "
        "test windows and negatives for scoring.",
    )
    llm: LLMSettings = Field(default_factory=LLMSettings)


class ExplainedEvalConfig(LatentEvalConfig):
    """Base of the evals that explain latents and score the explanations."""

    # the file's path may move; what it holds counts, through ``explanations_digest``
    RUN_CONTROL_FIELDS: ClassVar[frozenset[str]] = BaseEvalConfig.RUN_CONTROL_FIELDS | {
        "explanations",
        "reuse_explanations",
    }

    seeds: list[int] | None = Field(
        default=None,
        description=(
            "Extra seeds: draw the test windows, negatives, control explanations and judge "
            "order again with each (activation cache and explanations reused) and report the "
            "between-seed SD of every pooled score next to the between-latent SD."
        ),
    )
    explainer: OneShotSettings = Field(default_factory=OneShotSettings)
    explainer_kind: str = Field(
        default="one_shot",
        description="one_shot | contrastive (one-shot windows next to as many similar windows "
        "where the latent is zero) | structured (rules with strengths) | tree (one-shot roots "
        "revised with simulation feedback; uses --simulator-*).",
    )
    structured: StructuredSettings = Field(default_factory=StructuredSettings)
    tree: TreeSettings = Field(default_factory=TreeSettings)
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    explanations: str | None = Field(
        default=None,
        description=(
            "Score these explanations instead of asking the explainer: a JSONL or CSV file "
            "(latent, explanation), a Neuronpedia export (.jsonl[.gz] with index, "
            "description), a SAEBench autointerp result (.json) or delphi's explanations/ "
            "folder; 'FORMAT:PATH' names the format. Its latents are scored unless --latents "
            "is given; latents it lacks are explained by the LLM."
        ),
    )
    reuse_explanations: bool = Field(
        default=False,
        description="With --force, keep the stored explanations and recompute only the scores "
        "(without it, --force asks the explainer again).",
    )
    explanations_digest: str | None = Field(
        default=None,
        description=(
            "Hash of the --explanations content, filled in from the file (a stored result "
            "that scored other explanations is stale); not meant to be set by hand."
        ),
    )
    random_model_control: bool = Field(
        default=False,
        description=(
            "Also run the whole pipeline on the same SAE recipe trained on a random-weights "
            "copy of the model (--random-model-saes), on that model, with latents matched by "
            "firing frequency: how much of the score needs no learned computation."
        ),
    )
    random_model_saes: list[str] | None = Field(
        default=None,
        description=(
            "For --random-model-control: the SAE trained on the random-weights model for each "
            "--saes entry, in order (default: the one shipped with each embedded SAE, "
            "'embedded-random-model:NAME')."
        ),
    )
    random_model: str | None = Field(
        default=None,
        description=(
            "For --random-model-control: the model spec the --random-model-saes were trained "
            "on (default: 'random-weights:MODEL@0' of --model)."
        ),
    )

    @model_validator(mode="after")
    def _random_model_saes(self) -> ExplainedEvalConfig:
        if not self.random_model_control:
            return self
        if self.random_model_saes is None:
            found = [random_model_counterpart(spec) for spec in self.saes]
            missing = [spec for spec, other in zip(self.saes, found, strict=True) if not other]
            if missing:
                raise ValueError(
                    f"--random-model-control: no SAE trained on a random-weights model ships "
                    f"for {', '.join(missing)}; give one per SAE with --random-model-saes "
                    "(train one with python -m sae_interp.training.default_saes --model "
                    "random-weights:MODEL@0 --assets-dir DIR)"
                )
            object.__setattr__(self, "random_model_saes", found)
        elif len(self.random_model_saes) != len(self.saes):
            raise ValueError(
                f"--random-model-saes gives {len(self.random_model_saes)} SAEs for "
                f"{len(self.saes)} --saes entries: give one per SAE, in order"
            )
        return self

    def random_model_sae_for(self, sae_spec: str) -> str:
        """The SAE trained on the random-weights model that ``sae_spec`` is controlled with."""
        assert self.random_model_saes is not None, "--random-model-control is off"
        return self.random_model_saes[self.saes.index(sae_spec)]

    def random_model_spec(self) -> str:
        """The random-weights model the --random-model-saes run on."""
        return self.random_model or f"{RANDOM_WEIGHTS_PREFIX}{self.model}@0"

    @model_validator(mode="after")
    def _hash_explanations(self) -> ExplainedEvalConfig:
        # read once here: a malformed file fails before any model loads
        if self.explanations is not None and self.explanations_digest is None:
            object.__setattr__(self, "explanations_digest", explanations_digest(self.explanations))
        return self

    @field_validator("explainer_kind")
    @classmethod
    def _known_explainer(cls, value: str) -> str:
        return EXPLAINERS.validate(value)


SHARED_FIELDS = frozenset(ExplainedEvalConfig.model_fields)
