"""The scoring text of the intervention eval. Exact strings are tested; scores are only
comparable under the same template and few-shot prefix."""

from __future__ import annotations

TEMPLATE = '<PASSAGE>\n{passage}\n\nThe above passage contains an amplified amount of "'

DEMOS: tuple[tuple[str, str], ...] = (
    ("The weather report said rain, rain and more rain, with storms", "rain and storms"),
    ("She counted one, two, three, four, five apples", "counting numbers"),
)


def prefix(passage: str) -> str:
    """Few-shot passages with their amplified concept, then ``passage`` up to the opening
    quote; the explanation is scored as what follows."""
    shots = "".join(TEMPLATE.format(passage=p) + f'{concept}"\n\n' for p, concept in DEMOS)
    return shots + TEMPLATE.format(passage=passage)
