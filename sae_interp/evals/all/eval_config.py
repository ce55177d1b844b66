"""Configuration of ``evals.all``: several explanation-based evals on the same SAEs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, ValidationError, create_model, field_validator, model_validator
from pydantic.fields import FieldInfo

from sae_interp.base.errors import ConfigFileError
from sae_interp.evals import get_eval
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.scored_models import ScoredEval
from sae_interp.framework.config import BaseEvalConfig

DEFAULT_EVALS = ["autointerp", "fuzzing", "surprisal", "embedding"]


def whole_eval(name: str) -> Any:
    """The registered :class:`~sae_interp.framework.runner.EvalDefinition` of an eval that
    ``evals.all`` runs whole (:func:`~sae_interp.evals.whole_evals`), or None for any other
    name."""
    from sae_interp.evals import whole_evals

    return get_eval(name) if name in whole_evals() else None


def scored_eval(name: str) -> ScoredEval:
    """The explain-and-score part of the explanation-based eval ``name``; any other name is
    a ValueError listing the evals ``evals.all`` can run."""
    from sae_interp.evals import COMBINED, eval_names, explanation_evals, whole_evals

    if name in eval_names() and name != COMBINED:
        scored = get_eval(name).scored
        if scored is not None:
            return scored
    known = ", ".join([*explanation_evals(), *whole_evals()])
    raise ValueError(f"evals.all cannot run the eval {name!r}; known: {known}")


class _AllEvalBase(ExplainedEvalConfig):
    """Several explanation-based evals on the same SAEs, sharing one latent cache, one set of
    explanations and one LLM service; one combined table and JSON per SAE. Every setting of
    every explanation-based eval is a setting here too (derived from the eval registry)."""

    eval_type_id: ClassVar[str] = "all"

    evals: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EVALS),
        min_length=1,
        description="Evals to run, comma-separated, in order: any explanation-based eval, "
        "and intervention, agentic or sparse_probing (run whole on the same model and SAE).",
    )
    eval_config_files: list[str] = Field(
        default_factory=list,
        description="NAME=FILE pairs: a JSON config file for intervention, agentic or "
        "sparse_probing; settings it does not give come from this run where the eval has "
        "them, else from the eval's defaults.",
    )

    @field_validator("evals")
    @classmethod
    def _known_evals(cls, value: list[str]) -> list[str]:
        names = [v.strip() for v in value]
        for name in names:
            if whole_eval(name) is None:
                scored_eval(name)  # raises with the list of known evals
        if len(set(names)) != len(names):
            raise ValueError(f"an eval is listed twice: {names}")
        return names

    @field_validator("eval_config_files")
    @classmethod
    def _readable_files(cls, value: list[str]) -> list[str]:
        from sae_interp.evals import whole_evals

        for pair in value:
            name, sep, file = pair.partition("=")
            if not sep or name.strip() not in whole_evals():
                raise ValueError(
                    f"--eval-config-files entry {pair!r} is not NAME=FILE with NAME one of "
                    f"{', '.join(whole_evals())}"
                )
            if not Path(file.strip()).is_file():
                raise ValueError(f"--eval-config-files: no such file {file.strip()!r}")
        return value

    @model_validator(mode="after")
    def _whole_evals_take_settings(self) -> _AllEvalBase:
        # a whole eval's config is built at run time: check now that it takes batch mode
        # and the random-model control
        checked = self.llm.batched() or self.random_model_control
        for name in self.evals if checked else []:
            if whole_eval(name) is not None:
                try:
                    config = self.whole_config(name)
                except ValidationError as err:
                    message = str(err.errors()[0]["msg"]).removeprefix("Value error, ")
                    raise ValueError(message) from None
                if self.random_model_control and not getattr(config, "random_model_control", False):
                    raise ValueError(f"--random-model-control: the {name} eval has no such arm")
        return self

    if TYPE_CHECKING:  # the settings derived from each eval's config

        def __getattr__(self, name: str) -> Any: ...

    def config_for(self, name: str) -> ExplainedEvalConfig:
        """The config ``name`` runs with: every field it has, taken from this config."""
        config_cls = scored_eval(name).config_cls
        values = {
            k: getattr(self, k) for k in config_cls.model_fields if k in type(self).model_fields
        }
        return config_cls(**values)

    def whole_config(self, name: str) -> BaseEvalConfig:
        """The config a whole eval (:func:`~sae_interp.evals.whole_evals`) runs with: its config file's values,
        then, for settings the file does not give, this run's shared settings and the
        settings given explicitly here that the eval has with the same type."""
        config_cls = whole_eval(name).config_cls
        mine = type(self).model_fields
        shared = set(BaseEvalConfig.model_fields) - {"dry_run"}
        values = {
            k: getattr(self, k)
            for k, info in config_cls.model_fields.items()
            if k in mine
            and (k in shared or k in self.model_fields_set or k == "llm")
            and info.annotation == mine[k].annotation
        }
        for pair in self.eval_config_files:
            key, _, file = pair.partition("=")
            if key.strip() == name:
                path = Path(file.strip())
                try:
                    values |= json.loads(path.read_text())
                except json.JSONDecodeError as err:
                    raise ConfigFileError(
                        f"{path}: not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}"
                    ) from None
        return config_cls.model_validate(values)


def eval_specific_fields() -> dict[str, tuple[Any, FieldInfo]]:
    """The settings the explanation-based evals add to the shared ones, by name; one name
    must mean one setting in every eval that has it."""
    from sae_interp.evals import explanation_evals

    fields: dict[str, tuple[Any, FieldInfo]] = {}
    for name in explanation_evals():
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
