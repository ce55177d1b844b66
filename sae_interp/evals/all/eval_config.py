"""Configuration of ``evals.all``: several explanation-based evals on the same SAEs."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, create_model, field_validator
from pydantic.fields import FieldInfo

from sae_interp.evals.common.config import ExplainedEvalConfig

DEFAULT_EVALS = ["autointerp", "fuzzing", "surprisal", "embedding"]


def scored_eval(name: str) -> Any:
    """The registered :class:`~sae_interp.evals.common.ScoredEval` called ``name``."""
    from sae_interp.evals import EVAL_MODULES
    from sae_interp.evals.common import SCORED_EVALS

    if name in EVAL_MODULES and name not in SCORED_EVALS:
        importlib.import_module(EVAL_MODULES[name])
    return SCORED_EVALS.get(name)


class _AllEvalBase(ExplainedEvalConfig):
    """Several explanation-based evals on the same SAEs, sharing one latent cache, one set of
    explanations and one LLM service; one combined table and JSON per SAE. Every setting of
    every explanation-based eval is a setting here too (derived from the eval registry)."""

    eval_type_id: ClassVar[str] = "all"

    evals: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EVALS),
        min_length=1,
        description="Evals to run, comma-separated, in order.",
    )

    @field_validator("evals")
    @classmethod
    def _known_evals(cls, value: list[str]) -> list[str]:
        names = [v.strip() for v in value]
        for name in names:
            scored_eval(name)  # raises with the list of known evals
        if len(set(names)) != len(names):
            raise ValueError(f"an eval is listed twice: {names}")
        return names

    if TYPE_CHECKING:  # the settings derived from each eval's config

        def __getattr__(self, name: str) -> Any: ...

    def config_for(self, name: str) -> ExplainedEvalConfig:
        """The config ``name`` runs with: every field it has, taken from this config."""
        config_cls = scored_eval(name).config_cls
        values = {
            k: getattr(self, k) for k in config_cls.model_fields if k in type(self).model_fields
        }
        return config_cls(**values)


def eval_specific_fields() -> dict[str, tuple[Any, FieldInfo]]:
    """The settings the explanation-based evals add to the shared ones, by name; one name
    must mean one setting in every eval that has it."""
    from sae_interp.evals import EXPLANATION_EVALS

    fields: dict[str, tuple[Any, FieldInfo]] = {}
    for name in EXPLANATION_EVALS:
        for field_name, info in scored_eval(name).config_cls.model_fields.items():
            if field_name in ExplainedEvalConfig.model_fields:
                continue
            if field_name in fields and fields[field_name][0] != info.annotation:
                raise TypeError(f"the setting {field_name!r} of {name} clashes with another eval's")
            fields[field_name] = (info.annotation, info)
    return fields


if TYPE_CHECKING:
    AllEvalConfig = _AllEvalBase
else:
    AllEvalConfig = create_model(
        "AllEvalConfig",
        __base__=_AllEvalBase,
        __doc__=_AllEvalBase.__doc__,
        **eval_specific_fields(),
    )
