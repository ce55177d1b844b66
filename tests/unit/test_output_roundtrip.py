"""Every output class reads back what it wrote, undefined metrics (NaN) included."""

from __future__ import annotations

import enum
import math
import types
import typing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Union

import pytest
from pydantic import BaseModel

from sae_interp.evals import eval_names, explanation_evals, get_eval
from sae_interp.evals.autointerp.eval_output import AutoInterpEvalOutput
from sae_interp.framework.latent_store import LatentStore
from sae_interp.framework.nan_safe import load_json, restore_nan
from sae_interp.framework.runner import EVALS

for _name in eval_names():  # every eval registers, so every output class is covered
    get_eval(_name)


def sample(annotation: Any, depth: int = 0) -> Any:
    """A value of ``annotation`` with NaN in every plain float (and every optional set)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return sample(typing.get_args(annotation)[0], depth)
    if annotation is float:
        return math.nan
    if annotation is bool:
        return True
    if annotation is int:
        return 3
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation))
    if annotation is str:
        return "x"
    if annotation is datetime:
        return datetime(2026, 1, 1, tzinfo=timezone.utc)
    if annotation is Path:
        return Path("p")
    if annotation is Any or annotation is object:
        return {"a": 1}
    if origin is Literal:
        return typing.get_args(annotation)[0]
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return sample(args[0], depth)
    if origin in (list, set, frozenset):
        return [sample(typing.get_args(annotation)[0], depth + 1)]
    if origin is tuple:
        args = typing.get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return (sample(args[0], depth + 1),)
        return tuple(sample(a, depth + 1) for a in args)
    if origin is dict:
        key, value = typing.get_args(annotation)
        return {sample(key, depth + 1): sample(value, depth + 1)}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.model_construct(
            **{
                name: sample(field.annotation, depth + 1)
                for name, field in annotation.model_fields.items()
            }
        )
    raise TypeError(f"no sample for {annotation!r}")


def undefined(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and to None (an optional float written as NaN is
    undefined either way: ``null`` in the JSON, ``None`` when read back)."""
    if undefined(a) and undefined(b):
        return True
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def count_nan(value: Any) -> int:
    if isinstance(value, float):
        return int(math.isnan(value))
    if isinstance(value, dict):
        return sum(count_nan(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(count_nan(v) for v in value)
    return 0


def sample_output(definition: Any) -> BaseModel:
    cls = definition.output_cls
    values = {
        name: sample(field.annotation)
        for name, field in cls.model_fields.items()
        if name not in ("eval_config", "eval_result_unstructured")
    }
    values["eval_config"] = definition.config_cls()
    return cls.model_validate(
        {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in values.items()}
        | {"eval_result_details": [d.model_dump() for d in values["eval_result_details"]]}
    )


@pytest.mark.parametrize("eval_type_id", EVALS.names())
def test_every_output_round_trips_with_nan_metrics(eval_type_id: str, tmp_path: Path) -> None:
    definition = EVALS.get(eval_type_id)
    output = sample_output(definition)
    written = output.model_dump()
    n_nan = count_nan(written)
    path = output.save(tmp_path / "result.json")
    assert "NaN" not in path.read_text()  # standard JSON: undefined numbers are null
    loaded = definition.output_cls.load(path)
    assert same(loaded.model_dump(), written)
    assert 0 < count_nan(loaded.model_dump()) <= n_nan  # plain floats NaN, optional ones None
    if eval_type_id != "all":  # metrics are typed (evals.all keeps each eval's as a dict)
        assert count_nan(loaded.eval_result_metrics.model_dump()) > 0


@pytest.mark.parametrize("eval_type_id", explanation_evals())
def test_latent_store_keeps_latents_with_nan_metrics(eval_type_id: str, tmp_path: Path) -> None:
    result_cls = get_eval(eval_type_id).scored.result_cls
    record = result_cls.model_validate(sample(result_cls).model_dump() | {"latent": 7})
    store = LatentStore(tmp_path / "latents.jsonl", result_cls)
    store.put(record)
    reread = LatentStore(tmp_path / "latents.jsonl", result_cls)
    assert reread.done() == {7}  # a finished latent with NaN metrics counts as finished
    assert same(reread.get(7).model_dump(), record.model_dump())  # type: ignore[union-attr]
    assert count_nan(record.model_dump()) > 0


def test_precision_without_positive_predictions_reads_back_as_nan(tmp_path: Path) -> None:
    definition = EVALS.get("autointerp")
    output = sample_output(definition)
    assert isinstance(output, AutoInterpEvalOutput)
    text = output.model_dump_json()
    assert '"precision":null' in text.replace(" ", "")
    loaded = load_json(AutoInterpEvalOutput, text)
    # per latent: NaN (pooled numbers leave undefined values out and count them)
    assert any(
        d.metrics is not None and math.isnan(d.metrics.precision)
        for d in loaded.eval_result_details
    )


def test_optional_floats_stay_none_and_plain_floats_become_nan() -> None:
    class M(BaseModel):
        a: float
        b: float | None
        c: list[float]
        d: dict[str, float]

    data = restore_nan(M, {"a": None, "b": None, "c": [1.0, None], "d": {"k": None}})
    m = M.model_validate(data)
    assert math.isnan(m.a) and m.b is None and m.c[0] == 1.0 and math.isnan(m.c[1])
    assert math.isnan(m.d["k"])
