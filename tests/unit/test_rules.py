import pytest

from sae_interp.explainers.structured_prompts import correction, system
from sae_interp.text.rules import Rule, parse_rules, render_rules, rule_wise_max


def test_parse_rules_reads_the_last_list() -> None:
    text = (
        'Thinking [not a list]. Rules:\n[{"activates_on": "Monday", "strength": 5}, '
        '{"activates_on": " other days ", "strength": 2}]'
    )
    rules = parse_rules(text, cap=5)
    assert rules == [
        Rule(activates_on="Monday", strength=5),
        Rule(activates_on="other days", strength=2),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no rules here", "no JSON list"),
        ('[{"activates_on": "x", "strength": 7}]', "strength"),
        ('[{"activates_on": "x"}]', "strength"),
        ("[]", "empty"),
        (
            '[{"activates_on": "a", "strength": 1}, {"activates_on": "b", "strength": 1}]',
            "at most 1",
        ),
        ('[{"activates_on": "   ", "strength": 1}]', "empty"),
    ],
)
def test_parse_rules_failures_are_messages(text: str, message: str) -> None:
    result = parse_rules(text, cap=1 if "at most" in message else 5)
    assert isinstance(result, str) and message in result


def test_render_and_rule_wise_max() -> None:
    rules = [Rule(activates_on="commas", strength=2), Rule(activates_on="Monday", strength=5)]
    assert render_rules(rules) == "Monday (strength 5/5); commas (strength 2/5)"
    # rule 1 (strength 5) fires half on token 0; rule 2 (strength 2) fully on tokens 0 and 1
    assert rule_wise_max([[5.0, 0.0, 0.0], [10.0, 10.0, 0.0]], [5, 2]) == pytest.approx(
        [5.0, 4.0, 0.0]
    )
    with pytest.raises(ValueError):
        rule_wise_max([[1.0], [1.0, 2.0]], [1, 1])


def test_structured_prompts_golden() -> None:
    assert system(3) == (
        "You study one latent (a learned feature) of a language model. You are shown text "
        "excerpts in which the latent is active; tokens where it is strongly active are marked "
        "<<like this>>. Describe when the latent fires as a list of at most 3 rules. Each "
        'rule is a JSON object {"activates_on": "<what the token is or follows>", "strength": '
        "<0-5, how strongly the latent fires on it>}. Think briefly, then end with the JSON list "
        "of rules on its own, e.g.\n"
        '[{"activates_on": "the word \\"Monday\\"", "strength": 5}, '
        '{"activates_on": "other days of the week", "strength": 3}]'
    )
    assert correction("no JSON list of rules in the answer", 5) == (
        "Your answer could not be read: no JSON list of rules in the answer. Reply with only a "
        'JSON list of at most 5 objects, each {"activates_on": <text>, "strength": <integer 0-5>}.'
    )
