"""Structured explanations: a short list of rules ``{activates_on, strength 0..5}``.

Parsing is strict (a malformed reply is an error message, never an empty rule list);
judge-based scorers see the rules rendered as one line of text; the simulator simulates each
rule on its own and takes, at every token, the max over rules of (rule fires) x strength.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from pydantic import BaseModel, Field, ValidationError

MAX_STRENGTH = 5


class Rule(BaseModel):
    activates_on: str = Field(min_length=1, description="What the latent fires on.")
    strength: int = Field(ge=0, le=MAX_STRENGTH, description="0-5: how strongly.")


def parse_rules(text: str, cap: int) -> list[Rule] | str:
    """The last JSON list of rules in ``text``, or an error message saying what is wrong."""
    candidates = re.findall(r"\[[^\[\]]*(?:\{[^{}]*\}[^\[\]]*)*\]", text, flags=re.DOTALL)
    if not candidates:
        return "no JSON list of rules in the answer"
    try:
        raw = json.loads(candidates[-1])
    except json.JSONDecodeError as err:
        return f"the list of rules is not valid JSON ({err.msg})"
    if not isinstance(raw, list) or not raw:
        return "the list of rules is empty"
    if len(raw) > cap:
        return f"{len(raw)} rules given, at most {cap} allowed"
    try:
        rules = [Rule.model_validate(item) for item in raw]
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"a rule is malformed ({where}: {first['msg']})"
    rules = [r.model_copy(update={"activates_on": r.activates_on.strip()}) for r in rules]
    if any(not r.activates_on for r in rules):
        return "a rule has an empty 'activates_on'"
    return rules


def render_rules(rules: Sequence[Rule]) -> str:
    """One line of text for judge-based scorers, strongest rule first."""
    ordered = sorted(rules, key=lambda r: -r.strength)
    return "; ".join(f"{r.activates_on} (strength {r.strength}/{MAX_STRENGTH})" for r in ordered)


def rule_wise_max(
    per_rule: Sequence[Sequence[float]], strengths: Sequence[int], top: float = 10.0
) -> list[float]:
    """Per token: max over rules of (how much the rule fires, prediction/``top``) x strength,
    on the 0-``top`` scale (a strength-5 rule that fully fires gives ``top``)."""
    if len(per_rule) != len(strengths) or not per_rule:
        raise ValueError("one prediction list per rule is needed")
    n = len(per_rule[0])
    if any(len(p) != n for p in per_rule):
        raise ValueError("rule predictions differ in length")
    return [
        max(p[i] / top * s / MAX_STRENGTH * top for p, s in zip(per_rule, strengths, strict=True))
        for i in range(n)
    ]
