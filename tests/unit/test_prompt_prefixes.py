"""Prompts are ordered for prefix caching: everything but the last message (system prompt,
few-shot demos) is identical across latents, batches and explanations."""

from sae_interp.activations.records import LatentRecord, RecordStatus, Window
from sae_interp.explainers import one_shot_prompts
from sae_interp.explainers.one_shot import OneShotSettings
from sae_interp.explainers.one_shot import build_request as explain_request
from sae_interp.scorers import detection_prompts, fuzzing_prompts
from sae_interp.scorers.judge import JudgeSettings
from sae_interp.scorers.judge import build_request as judge_request


def _record(latent: int, tokenizer, words: str) -> LatentRecord:  # type: ignore[no-untyped-def]
    ids = tokenizer(words, add_special_tokens=False)["input_ids"]
    window = Window(seq=latent, start=1, end=1 + len(ids), tokens=ids, activations=[1.0] * len(ids))
    return LatentRecord(
        latent=latent,
        status=RecordStatus.ok,
        n_activating_windows=1,
        max_activation=1.0,
        firing_frequency=0.1,
        train=[window],
    )


def test_judge_prompts_share_everything_but_the_last_message() -> None:
    for prompts in (detection_prompts, fuzzing_prompts):
        a = judge_request(prompts, "cats", ["the cat"], JudgeSettings())
        b = judge_request(prompts, "numbers", ["one two", "three"], JudgeSettings())
        assert a.messages[:-1] == b.messages[:-1] and a.messages[-1] != b.messages[-1]
        assert a.messages[0].content == prompts.SYSTEM and len(a.messages) == 2 + 2 * len(
            prompts.DEMOS
        )


def test_explainer_prompts_share_everything_but_the_last_message(tokenizer) -> None:  # type: ignore[no-untyped-def]
    a = explain_request(_record(1, tokenizer, "the red cat"), tokenizer, OneShotSettings())
    b = explain_request(_record(2, tokenizer, "one two three"), tokenizer, OneShotSettings())
    assert a.messages[:-1] == b.messages[:-1] and a.messages[-1] != b.messages[-1]
    assert a.messages[0].content == one_shot_prompts.SYSTEM
