import math
from collections.abc import Sequence

import pytest

from sae_interp.activations.records import LatentRecord, RecordStatus, Window, WindowKind
from sae_interp.llm.errors import LLMError
from sae_interp.llm.prompt_logprobs import PromptLogprobs
from sae_interp.llm.scripted import ScriptedBackend
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import LLMRequest
from sae_interp.scorers import simulation_metrics as sm
from sae_interp.scorers.base import ScoreItem
from sae_interp.scorers.simulation import (
    SimulationScorer,
    Simulator,
    SimulatorSettings,
    read_all_at_once,
    simulation_metrics,
)
from sae_interp.scorers.simulation_prompts import all_at_once_prompt

WORDS = ["<bos>", " the", " cat", " sat", " on", " mat", "."]


class WordTokenizer:
    def decode(self, ids: Sequence[int]) -> str:
        return "".join(WORDS[i] for i in ids)


def test_expected_level_by_hand() -> None:
    ev = sm.expected_level({"0": math.log(0.5), "10": math.log(0.25), " 4": math.log(0.25)})
    assert ev is not None and ev[0] == pytest.approx(3.5) and ev[1] == pytest.approx(1.0)
    ev = sm.expected_level({"2": math.log(0.2), "6": math.log(0.2), "x": math.log(0.6)})
    assert ev is not None and ev[0] == pytest.approx(4.0) and ev[1] == pytest.approx(0.4)
    assert sm.expected_level({"x": 0.0, "11": -1.0, "07": -1.0}) is None


def test_scores_by_hand() -> None:
    assert sm.correlation([0, 1, 2, 3], [0, 2, 4, 6]) == pytest.approx(1.0)
    assert sm.correlation([3, 2, 1, 0], [0, 2, 4, 6]) == pytest.approx(-1.0)
    assert sm.correlation([1, 1, 1], [0, 2, 4]) is None  # constant predictions
    assert sm.correlation([0, 1, 2], [0, 0, 0]) is None  # constant truth
    # SST = 42/9, SSE = 1 ; sum |t - mean| = 10/3, sum |p - t| = 1
    assert sm.r_squared([1, 2, 3], [1, 2, 4]) == pytest.approx(1 - 9 / 42)
    assert sm.abs_dev_explained([1, 2, 3], [1, 2, 4]) == pytest.approx(0.7)
    assert sm.r_squared([1, 2, 3], [2, 2, 2]) is None
    mean, undefined = sm.per_window_correlation(
        [([0, 1], [0, 2]), ([1, 0], [0, 2]), ([0, 0], [0, 1])]
    )
    assert mean == pytest.approx(0.0) and undefined == 1
    assert sm.rescale([0.0, 2.0, 4.0, 8.0], 4.0) == [0.0, 5.0, 10.0, 10.0]


def test_all_at_once_prompt_golden() -> None:
    prompt, offsets = all_at_once_prompt("cats", [" the", " cat\n"])
    expected = (
        "A latent (a learned feature) of a language model responds to some tokens of a text. "
        "Each text below is listed one token per line as token<TAB>activation, where the "
        "activation of the latent runs from 0 (silent) to 10 (strongest). Most tokens have "
        "activation 0.\n\n"
        "Latent description: days of the week\nText:\n"
        "The\t0\n shop\t0\n shuts\t0\n early\t0\n on\t0\n Monday\t10\n and\t0\n Friday\t8\n.\t0\n"
        "<end>\n\n"
        "Latent description: cats\nText:\n"
        " the\t?\n cat↵\t?\n"
    )
    assert prompt == expected
    assert [prompt[o] for o in offsets] == ["?", "?"]
    assert prompt[offsets[1] - 6 : offsets[1]] == " cat↵\t"
    zeros, same_offsets = all_at_once_prompt("cats", [" the", " cat\n"], placeholder="0")
    assert zeros == expected.replace("\t?\n", "\t0\n") and same_offsets == offsets
    contrastive, _ = all_at_once_prompt("cats", [" the"], demos="contrastive")
    assert contrastive == (
        expected.split("Latent description")[0] + "Latent description: words for food\nText:\n"
        "The\t0\n cat\t0\n ate\t0\n bread\t10\n and\t0\n the\t0\n dog\t0\n ate\t0\n soup\t9\n.\t0\n"
        "<end>\n\n"
        "Latent description: animals\nText:\n"
        "The\t0\n cat\t10\n ate\t0\n bread\t0\n and\t0\n the\t0\n dog\t10\n ate\t0\n soup\t0\n.\t0\n"
        "<end>\n\n"
        "Latent description: cats\nText:\n"
        " the\t?\n"
    )


def char_logprobs(prompt: str, level_of_line: dict[str, float], shift: int) -> PromptLogprobs:
    """One token per character. At each '?' that follows a tab the alternatives say the
    level given for its line's token (shift 0: listed at the '?', as OpenAI does; shift -1:
    listed one position earlier, as llama-cpp-python does)."""
    top: list[dict[str, float] | None] = [{"x": 0.0} for _ in prompt]
    for i, ch in enumerate(prompt):
        if ch == "?" and prompt[i - 1] == "\t":
            line = prompt[prompt.rfind("\n", 0, i) + 1 : i - 1]
            level = level_of_line.get(line, 0.0)
            low, high = math.floor(level), math.ceil(level)
            alts = {str(low): math.log(1 - (level - low))} if level != high else {}
            if level != low:
                alts[str(high)] = math.log(level - low)
            top[i + shift] = alts or {str(low): 0.0}
    return PromptLogprobs(tokens=list(prompt), offsets=list(range(len(prompt))), top=top)


def test_all_at_once_reading_handles_both_alignments() -> None:
    prompt, offsets = all_at_once_prompt("cats", [" the", " cat", " sat"])
    for shift, alignment in ((0, "current"), (-1, "next")):
        answer = char_logprobs(prompt, {" cat": 9.5, " sat": 2.0}, shift)
        predicted, got_alignment, error = read_all_at_once(answer, offsets)
        assert error is None and got_alignment == alignment
        assert predicted == pytest.approx([0.0, 9.5, 2.0])
    merged = PromptLogprobs(tokens=["a"], offsets=[0], top=[None])
    assert read_all_at_once(merged, offsets)[2] is not None


def window(ids: list[int], acts: list[float], kind: WindowKind) -> Window:
    return Window(seq=0, start=1, end=1 + len(ids), tokens=ids, activations=acts, kind=kind)


RECORD = LatentRecord(
    latent=7,
    status=RecordStatus.ok,
    n_activating_windows=2,
    max_activation=4.0,
    firing_frequency=0.1,
    test=[
        window([1, 2, 3], [0.0, 4.0, 0.0], WindowKind.activating),
        window([2, 4, 5], [2.0, 0.0, 0.0], WindowKind.activating),
    ],
    negatives=[window([1, 3, 6], [0.0, 0.0, 0.0], WindowKind.random_negative)],
)


class CatClient:
    """Prompt log-probs that say 'cat' lines are 8 and everything else 0 (routes on the
    text of each token line)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.prompts: list[str] = []

    def identity(self) -> str:
        return "cat-client"

    def prompt_logprobs(self, prompts: Sequence[str], top: int) -> list[PromptLogprobs | LLMError]:
        self.prompts += prompts
        if self.fail:
            return [LLMError("the server returned no prompt log-probs") for _ in prompts]
        return [char_logprobs(p, {" cat": 8.0}, 0) for p in prompts]


def test_scorer_all_at_once_scores_all_test_windows() -> None:
    client = CatClient()
    sim = Simulator(SimulatorSettings(mode="all_at_once"), WordTokenizer(), prompt_client=client)
    [outcome] = SimulationScorer(sim).score([ScoreItem(RECORD, "cats")])
    assert len(client.prompts) == 3  # 2 activating + 1 negative, one call each
    assert [w.predicted for w in outcome.windows] == [[0, 8, 0], [8, 0, 0], [0, 0, 0]]
    metrics = simulation_metrics(outcome)
    truth = [0, 4, 0, 2, 0, 0, 0, 0, 0]
    pred = [0, 8, 0, 8, 0, 0, 0, 0, 0]
    assert metrics.correlation == pytest.approx(sm.correlation(pred, truth))
    assert metrics.n_tokens == 9 and metrics.n_failed_windows == 0
    assert metrics.n_undefined_windows == 1  # the all-zero negative


def test_chat_length_mismatch_is_a_recorded_failure() -> None:
    def script(request: LLMRequest) -> str:
        text = request.messages[-1].content
        return "[0, 9]" if "'.'" in text else "[0, 9, 0]"  # the negative gets a short list

    service = LLMService(ScriptedBackend(script), concurrency=2)
    sim = Simulator(SimulatorSettings(mode="chat"), WordTokenizer(), service=service)
    [outcome] = SimulationScorer(sim).score([ScoreItem(RECORD, "cats")])
    service.close()
    failed = outcome.windows[2]
    assert failed.predicted is None and failed.error and failed.raw == "[0, 9]"
    metrics = simulation_metrics(outcome)
    assert metrics.n_failed_windows == 1 and metrics.n_tokens == 6  # never scored as zeros


def test_auto_falls_back_to_chat_without_prompt_logprobs() -> None:
    service = LLMService(ScriptedBackend(lambda r: "[0, 9, 0]"))
    client = CatClient(fail=True)
    sim = Simulator(SimulatorSettings(), WordTokenizer(), service, client)
    [outcome] = SimulationScorer(sim).score([ScoreItem(RECORD, "cats")])
    service.close()
    assert len(client.prompts) == 1 and sim.mode == "chat"
    assert all(w.mode == "chat" and w.predicted == [0, 9, 0] for w in outcome.windows)


def test_constant_predictions_give_undefined_scores() -> None:
    client = CatClient()
    sim = Simulator(SimulatorSettings(mode="all_at_once"), WordTokenizer(), prompt_client=client)
    [outcome] = SimulationScorer(sim).score([ScoreItem(RECORD, "nothing")])
    assert all(w.predicted is not None for w in outcome.windows)
    outcome.windows = [
        w.model_copy(update={"predicted": [0.0] * len(w.true)}) for w in outcome.windows
    ]
    metrics = simulation_metrics(outcome)
    assert metrics.correlation is None and metrics.r_squared is None


def test_in_process_prompt_logprobs_are_counted_in_the_service_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The offline simulator computes prompt log-probs in-process (no endpoint): each prompt
    it computes is one call with its tokens in the eval service's report, and is kept in the
    service's response cache (a repeat is neither computed nor counted again)."""
    from sae_interp.llm.cache import ResponseCache
    from sae_interp.llm.local_prompt_logprobs import LocalPromptLogprobs

    computed: list[str] = []

    def compute(prompt: str, top: int) -> PromptLogprobs:
        computed.append(prompt)
        return PromptLogprobs(tokens=["a"], offsets=[0], top=[{"1": 0.0}], prompt_tokens=7)

    service = LLMService(ScriptedBackend(lambda r: "unused"), cache=ResponseCache(tmp_path / "c"))
    client = LocalPromptLogprobs.__new__(LocalPromptLogprobs)  # no model file: _call replaced
    client.service, client._call = service, compute  # type: ignore[method-assign]
    answers = client.prompt_logprobs(["x", "y", "x"], 20)
    service.close()
    assert computed == ["x", "y"] and all(isinstance(a, PromptLogprobs) for a in answers)
    assert service.report.calls == 2 and service.report.usage.prompt_tokens == 14
    assert service.report.cost_usd == 0.0
