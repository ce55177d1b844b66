"""The token-first explainer prompt: exact strings, firing-token counts and peak contexts."""

from sae_interp.explainers import token_first_prompts as prompts
from sae_interp.explainers.one_shot import firing_token_counts, peak_context
from sae_interp.explainers.one_shot_prompts import parse_explanation


def test_user_message_exact() -> None:
    assert prompts.user_message([("7", 3), (")", 1)], ["in <<7>> days", "x<<)>>"]) == (
        'Firing tokens, with counts: "7" (3), ")" (1)\n\nContexts:\n1. in <<7>> days\n2. x<<)>>'
    )
    assert prompts.SYSTEM.endswith("[EXPLANATION]: <a short phrase>")
    assert [parse_explanation(a) for _, a in prompts.DEMOS] == [
        "days of the week",
        "closing parentheses",
    ]


def test_counts_and_contexts() -> None:
    windows = [
        (["a", " 7", " b", " 8"], [0.0, 2.0, 0.0, 1.0]),  # 8 is above 0.3 x 2: both fire
        (["c", " 7", " d"], [0.0, 1.0, 0.1]),  # 0.1 < 0.3: only 7
    ]
    assert firing_token_counts(windows, 0.3, 10) == [("7", 2), ("8", 1)]
    tokens = ["a", " b", " c", " 7", " d", " e", " f"]
    assert peak_context(tokens, [0, 0, 0, 3.0, 0, 1.0, 0], 2) == "b c <<7>> d e"
