"""The known-answer suite: every explanation-based scorer on a planted SAE, with the
correct explanations given and with the explainer's own, and the intruder scorer.

For each explanation source the suite runs ``evals.all`` on every latent of the planted SAE
(planted latents and decoys) in its own output directory. For ``given``, the explanation
store is filled first: each planted latent gets its token set's correct explanation and
each decoy the explanation of its planted partner (so planted vs decoy compares the same
text on the right latent and on a random direction that fires as often).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field, field_validator

from sae_interp.base.errors import SpecError
from sae_interp.base.torch_utils import resolve_device
from sae_interp.evals.all import AllEvalConfig
from sae_interp.evals.all import run_eval as run_all
from sae_interp.evals.intruder import IntruderEvalConfig
from sae_interp.evals.intruder import run_eval as run_intruder
from sae_interp.explainers.explanations import Explanation, ExplanationStore
from sae_interp.explainers.registry import store_path
from sae_interp.framework.runner import result_path
from sae_interp.models import load_model
from sae_interp.saes import load_sae
from sae_interp.saes.base import BaseSAE, sae_fingerprint
from sae_interp.saes.planted import PlantedSAE, decoy_latents, planted_token_sets
from sae_interp.scorers.judge import resolved_mode
from sae_interp.validity.bias import IntruderBias, JudgeBias, intruder_bias, judge_bias
from sae_interp.validity.report import (
    ExplainerQuality,
    ScorerRow,
    explainer_quality,
    markdown_table,
    scorer_rows,
)

logger = logging.getLogger(__name__)

SOURCES = ("given", "explainer")


class ValidityConfig(AllEvalConfig):
    """The known-answer suite: explanation-based scorers (and the intruder scorer) on a
    planted SAE whose latents detect known token sets, against decoys and controls."""

    eval_type_id: ClassVar[str] = "validity"

    saes: list[str] = Field(
        default_factory=lambda: ["planted"],
        min_length=1,
        description="Planted SAE specs: 'planted[:HOOK][@SEED]'.",
    )
    sources: list[str] = Field(
        default_factory=lambda: list(SOURCES),
        min_length=1,
        description="Explanations to score: 'given' (correct) and/or 'explainer' (the LLM's).",
    )

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in SOURCES]
        if unknown:
            raise ValueError(f"unknown explanation sources {unknown}; use {', '.join(SOURCES)}")
        return value

    with_intruder: bool = Field(default=True, description="Also run the intruder scorer.")


class ValidityReport(BaseModel):
    sae: str
    planted: dict[int, str] = Field(description="Planted latent -> token set.")
    decoys: list[int]
    rows: list[ScorerRow]
    bias: list[JudgeBias]
    intruder_bias: IntruderBias | None = None
    explainer: ExplainerQuality | None = None
    table: str


def _planted_sae(spec: str, model: Any, device: Any) -> PlantedSAE:
    sae = load_sae(spec, model=model, device=device)
    if not isinstance(sae, PlantedSAE):
        raise SpecError(f"the known-answer suite needs a planted SAE ('planted...'), got {spec!r}")
    return sae


def given_explanations(sae: PlantedSAE) -> dict[int, str]:
    """Correct text for each planted latent; each decoy gets its planted partner's."""
    sets = planted_token_sets(sae)
    texts = {i: s.explanation for i, s in sets.items()}
    for j, latent in enumerate(decoy_latents(sae)):
        texts[latent] = texts[j % len(sets)]
    return texts


def fill_store(cfg: AllEvalConfig, spec: str, sae: BaseSAE, texts: dict[int, str]) -> None:
    # the path the evals read (negative settings left out of the key, as they do)
    store = ExplanationStore(store_path(cfg, spec, sae_fingerprint(sae)))
    for latent, text in texts.items():
        if latent not in store:
            store.put(Explanation(latent=latent, text=text, raw="given"))


def _mode(cfg: AllEvalConfig, name: str) -> tuple[str, int]:
    settings = {"autointerp": cfg.detection, "fuzzing": cfg.fuzzing}.get(name)
    if settings is None:
        return "", 1
    mode = resolved_mode(settings.mode, cfg.llm.resolved_backend())
    return mode, settings.n_examples_per_prompt


def run_source(
    cfg: ValidityConfig, source: str, spec: str, sae: PlantedSAE, model: Any
) -> tuple[list[ScorerRow], list[JudgeBias], dict[int, str | None]]:
    values = {k: getattr(cfg, k) for k in AllEvalConfig.model_fields if k in type(cfg).model_fields}
    values |= {
        "saes": [spec],
        "latents": cfg.latents or list(range(sae.cfg.d_sae)),
        "output_dir": Path(cfg.output_dir) / source,
    }
    all_cfg = AllEvalConfig(**values)
    texts = given_explanations(sae)
    if source == "given":
        fill_store(all_cfg, spec, sae, texts)
    (out,) = run_all(all_cfg, model=model, saes={spec: sae})
    planted = sorted(planted_token_sets(sae))
    decoys = decoy_latents(sae)
    rows, bias = [], []
    explanations = {r.latent: r.explanation for r in out.eval_result_details}
    for name in all_cfg.evals:
        per_latent = [
            {
                "latent": r.latent,
                "metrics": r.metrics.get(name),
                "control_metrics": r.control_metrics.get(name),
                "same_control": r.control_explanation_of is not None
                and explanations.get(r.control_explanation_of) == r.explanation,
            }
            for r in out.eval_result_details
        ]
        rows += scorer_rows(source, name, per_latent, planted, decoys, cfg.seed)
        mode, per_prompt = _mode(all_cfg, name)
        if mode:
            sub = all_cfg.config_for(name)
            stored = json.loads(result_path(sub, name, spec).read_text())
            found = judge_bias(source, name, mode, per_prompt, stored["eval_result_details"])
            if found is not None:
                bias.append(found)
    return rows, bias, explanations


def run_intruder_rows(
    cfg: ValidityConfig, spec: str, sae: PlantedSAE, model: Any
) -> tuple[list[ScorerRow], IntruderBias | None]:
    values = {
        k: getattr(cfg, k) for k in IntruderEvalConfig.model_fields if k in type(cfg).model_fields
    }
    values |= {
        "saes": [spec],
        "latents": cfg.latents or list(range(sae.cfg.d_sae)),
        "output_dir": Path(cfg.output_dir) / "intruder",
    }
    (out,) = run_intruder(IntruderEvalConfig(**values), model=model, saes={spec: sae})
    per_latent = [
        {"latent": r.latent, "metrics": r.metrics.model_dump() if r.metrics else None}
        for r in out.eval_result_details
    ]
    planted = sorted(planted_token_sets(sae))
    rows = scorer_rows("none", "intruder", per_latent, planted, decoy_latents(sae), cfg.seed)
    stored = [r.model_dump(mode="json") for r in out.eval_result_details]
    return rows, intruder_bias(stored)


def run_suite(
    cfg: ValidityConfig, model: Any = None, saes: Mapping[str, PlantedSAE] | None = None
) -> list[ValidityReport]:
    """Run the suite on every planted SAE of ``cfg`` (``saes``: spec -> SAE objects already
    built); each report is also written as JSON under ``<output_dir>/validity/``."""
    device = resolve_device(cfg.device)
    model = model or load_model(cfg.model, device=device, dtype=cfg.dtype)
    reports = []
    for spec in cfg.saes:
        sae = (saes or {}).get(spec) or _planted_sae(spec, model, device)
        rows: list[ScorerRow] = []
        bias: list[JudgeBias] = []
        quality = None
        for source in cfg.sources:
            logger.info("known answers: %s explanations on %s", source, spec)
            found, found_bias, explanations = run_source(cfg, source, spec, sae, model)
            rows += found
            bias += found_bias
            if source == "explainer":
                quality = explainer_quality(explanations, planted_token_sets(sae))
        position_bias = None
        if cfg.with_intruder:
            intruder_rows, position_bias = run_intruder_rows(cfg, spec, sae, model)
            rows += intruder_rows
        report = ValidityReport(
            sae=spec,
            planted={i: s.name for i, s in planted_token_sets(sae).items()},
            decoys=decoy_latents(sae),
            rows=rows,
            bias=bias,
            intruder_bias=position_bias,
            explainer=quality,
            table=markdown_table(rows),
        )
        path = (
            Path(cfg.output_dir) / "validity" / f"{spec.replace(':', '_').replace('@', '_')}.json"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report.model_dump_json(indent=2))
        reports.append(report)
    return reports
