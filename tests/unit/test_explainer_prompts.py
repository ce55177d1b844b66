from sae_interp.explainers.one_shot_prompts import (
    DEMOS,
    SYSTEM,
    PromptExample,
    parse_explanation,
    user_message,
)
from sae_interp.text.formatting import (
    highlighted_text,
    normalised_activations,
    plain_text,
    top_firing_tokens,
)


def test_highlight_runs_and_threshold() -> None:
    tokens = ["The", " cat", " sat", " on", " the", " mat", "\n"]
    acts = [0.0, 5.0, 2.0, 1.0, 0.0, 4.0, 0.0]  # threshold 0.3 * 5 = 1.5
    assert highlighted_text(tokens, acts) == "The <<cat sat>> on the <<mat>>↵"
    assert highlighted_text(tokens, [0.0] * 7) == "The cat sat on the mat↵"
    assert highlighted_text(["a", "b"], [1.0, 1.0]) == "<<ab>>"
    assert plain_text(tokens) == "The cat sat on the mat↵"


def test_normalised_activations() -> None:
    assert normalised_activations([0.0, 0.05, 5.0, 10.0, 12.0], 10.0) == [0, 1, 5, 10, 10]
    assert normalised_activations([1.0], 0.0) == [0]


def test_top_firing_tokens() -> None:
    windows = [
        (["a", " cat"], [0.1, 2.0]),
        (["the", " cat"], [0.0, 1.0]),
        (["dog", "!"], [3.0, 0.0]),
        (["x"], [0.0]),
    ]
    assert top_firing_tokens(windows) == [("cat", 2), ("dog", 1)]


def test_user_message_exact() -> None:
    text = user_message(
        [("cat", 2)],
        [PromptExample("The <<cat>> sat", (("cat", 10), ("sat", 2))), PromptExample("a <<cat>>")],
    )
    assert text == (
        'Tokens where the latent peaks, with counts: "cat" (2)\n'
        "\n"
        "Example 1: The <<cat>> sat\n"
        'Activations (0-10): "cat" 10, "sat" 2\n'
        "Example 2: a <<cat>>"
    )


def test_system_prompt_and_demos_end_in_the_tag() -> None:
    assert SYSTEM.endswith("[EXPLANATION]: <a short phrase or sentence>")
    assert [parse_explanation(answer) for _, answer in DEMOS] == [
        "days of the week",
        "closing parentheses",
    ]


def test_parse_explanation() -> None:
    assert parse_explanation("thinking...\n[EXPLANATION]: colour words\n") == "colour words"
    assert parse_explanation('[explanation]: first\nmore\n[EXPLANATION]: "second"') == "second"
    assert parse_explanation("no tag at all") is None
    assert parse_explanation("[EXPLANATION]:   \n") is None
