"""Prompts of the fuzzing scorer. Exact strings are tested; change them deliberately."""

from __future__ import annotations

from sae_interp.scorers.detection_prompts import user_message  # same excerpt list

SYSTEM = (
    "You check explanations of latents (learned features) of a language model. You get an "
    "explanation and numbered text excerpts in which some tokens are marked like <<this>>. "
    "For each excerpt, decide whether the marked tokens are correctly marked, that is, whether "
    "the marked tokens are the ones the explanation describes. "
    "Reply with only a list with one number per excerpt, in order: 1 if the marking is "
    "correct, 0 if not. Example reply for four excerpts: [1, 0, 0, 1]"
)


DEMOS: tuple[tuple[str, str], ...] = (
    (
        user_message(
            "days of the week",
            [
                "The meeting moved to <<Thursday>> afternoon.",
                "She bought <<three>> apples and a pear.",
                "Shops stay <<closed>> on Sunday in this town.",
            ],
        ),
        "[1, 0, 0]",
    ),
)
