"""Reading back JSON whose undefined numbers were written as ``null``.

JSON has no NaN: pydantic writes a NaN float (an undefined metric, such as precision with no
positive prediction) as ``null``, and then refuses ``null`` for a plain ``float`` field on
load. :func:`load_json` walks the data alongside the model's field types and turns ``null``
back into NaN wherever the type is a plain ``float`` (fields typed ``float | None`` keep
their ``None``), so every stored output and per-latent record reads back as it was written.
"""

from __future__ import annotations

import json
import math
import types
import typing
from typing import Annotated, Any, TypeVar, Union

from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)


def _args(annotation: Any) -> tuple[Any, ...]:
    return typing.get_args(annotation)


def restore_nan(annotation: Any, value: Any) -> Any:
    """``value`` (parsed JSON) with ``null`` replaced by NaN where ``annotation`` is a plain
    float, recursively through models, lists, tuples, dicts and unions."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return restore_nan(_args(annotation)[0], value)
    if annotation is float:
        return math.nan if value is None else value
    if origin in (Union, types.UnionType):
        args = _args(annotation)
        if value is None:  # a union that allows None keeps it; one with a float reads NaN
            return math.nan if type(None) not in args and float in args else value
        for arg in args:
            if arg is type(None):
                continue
            if isinstance(value, dict) and isinstance(arg, type) and issubclass(arg, BaseModel):
                return restore_nan(arg, value)
            if isinstance(value, list) and typing.get_origin(arg) in (list, tuple):
                return restore_nan(arg, value)
        return value
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not isinstance(value, dict):
            return value
        fields = annotation.model_fields
        return {
            key: restore_nan(fields[key].annotation, item) if key in fields else item
            for key, item in value.items()
        }
    if origin in (list, set, frozenset) and isinstance(value, list):
        (item_type,) = _args(annotation) or (Any,)
        return [restore_nan(item_type, item) for item in value]
    if origin is tuple and isinstance(value, list):
        args = _args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return [restore_nan(args[0], item) for item in value]
        if len(args) == len(value):
            return [restore_nan(arg, item) for arg, item in zip(args, value, strict=True)]
        return value
    if origin is dict and isinstance(value, dict):
        args = _args(annotation)
        value_type = args[1] if len(args) == 2 else Any
        return {key: restore_nan(value_type, item) for key, item in value.items()}
    return value


def load_json(model_cls: type[ModelT], text: str) -> ModelT:
    """``model_cls`` validated from JSON ``text``, undefined floats (``null``) read as NaN."""
    return model_cls.model_validate(restore_nan(model_cls, json.loads(text)))
