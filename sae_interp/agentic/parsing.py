"""Reading the agent's JSON replies. A reply that cannot be read raises :class:`ReplyError`
with a message the controller sends back once as a correction."""

from __future__ import annotations

import json
import re
from typing import Any


class ReplyError(ValueError):
    """The reply is not what the state asked for (the message says what was wrong)."""


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json(text: str) -> dict[str, Any]:
    """The last JSON object in ``text`` (code fences allowed)."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] or [text]
    for candidate in reversed(candidates):
        end = candidate.rfind("}")
        while end != -1:
            start = candidate.rfind("{", 0, end)
            while start != -1:
                try:
                    value = json.loads(candidate[start : end + 1])
                except json.JSONDecodeError:
                    start = candidate.rfind("{", 0, start)
                    continue
                if isinstance(value, dict):
                    return value
                start = candidate.rfind("{", 0, start)
            end = candidate.rfind("}", 0, end)
    raise ReplyError("no JSON object found in the reply")


def require_str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ReplyError(f"'{key}' must be a non-empty string")
    return value.strip()


def require_choice(data: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = str(data.get(key, "")).strip().upper() if data.get(key) is not None else ""
    upper = {c.upper(): c for c in choices}
    if value not in upper:
        raise ReplyError(f"'{key}' must be one of {', '.join(choices)}")
    return upper[value]


def str_list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ReplyError(f"'{key}' must be a list of strings")
    return [str(v).strip() for v in value if str(v).strip()]
