"""Prompts of the structured (rules) explainer. Exact strings are tested; change them
deliberately."""

from __future__ import annotations

SYSTEM_TEMPLATE = (
    "You study one latent (a learned feature) of a language model. You are shown text "
    "excerpts in which the latent is active; tokens where it is strongly active are marked "
    "<<like this>>. Describe when the latent fires as a list of at most {cap} rules. Each "
    'rule is a JSON object {{"activates_on": "<what the token is or follows>", "strength": '
    "<0-5, how strongly the latent fires on it>}}. Think briefly, then end with the JSON list "
    "of rules on its own, e.g.\n"
    '[{{"activates_on": "the word \\"Monday\\"", "strength": 5}}, '
    '{{"activates_on": "other days of the week", "strength": 3}}]'
)


def system(cap: int) -> str:
    return SYSTEM_TEMPLATE.format(cap=cap)


def correction(error: str, cap: int) -> str:
    return (
        f"Your answer could not be read: {error}. Reply with only a JSON list of at most {cap} "
        'objects, each {"activates_on": <text>, "strength": <integer 0-5>}.'
    )
