"""The offline judge's short answers with log-probabilities, computed in-process, are the
server's answers: the same text, answer tokens, alternatives and log-probabilities, for the
per-example fuzzing and detection prompts (one and several answer tokens). And the offline
backend sends them there, without starting the log-probability server."""

import asyncio

import pytest

from sae_interp.llm.local import LocalLlamaServer, answers_in_process
from sae_interp.llm.local_answer_logprobs import LocalAnswerLogprobs
from sae_interp.llm.openai_backend import OpenAICompatibleBackend
from sae_interp.llm.settings import LLMSettings, open_service
from sae_interp.llm.types import LLMRequest, LLMResponse
from sae_interp.scorers.judge import JudgeSettings
from sae_interp.scorers.per_example import build_request
from sae_interp.scorers.per_example_prompts import DETECTION, FUZZING


def _requests() -> list[LLMRequest]:
    settings = JudgeSettings(top_logprobs=5)
    fuzzing = [
        "The <<dog>> barked at the <<cat>> all night.",
        "We <<drove>> to the coast <<on>> Sunday.",
        "A <<horse>> and two <<sheep>> stood in the field.",
    ]
    detection = ["The dog barked at the cat all night.", "We drove to the coast on Sunday."]
    return [build_request(FUZZING, "animals", text, settings) for text in fuzzing] + [
        build_request(DETECTION, "animals", text, settings) for text in detection
    ]


def _answer_all(
    backend: LocalAnswerLogprobs | OpenAICompatibleBackend, requests: list[LLMRequest]
) -> list[LLMResponse]:
    async def each() -> list[LLMResponse]:
        return [await backend.complete(r) for r in requests]

    return asyncio.run(each())


def _same_answer(ours: LLMResponse, server: LLMResponse) -> None:
    assert ours.text == server.text
    assert ours.finish_reason == server.finish_reason
    assert ours.usage.prompt_tokens == server.usage.prompt_tokens
    assert ours.usage.completion_tokens == server.usage.completion_tokens
    assert ours.logprobs is not None and server.logprobs is not None
    assert [t.token for t in ours.logprobs] == [t.token for t in server.logprobs]
    for mine, theirs in zip(ours.logprobs, server.logprobs, strict=True):
        assert mine.logprob == pytest.approx(theirs.logprob, abs=2e-3)
        assert set(mine.top) == set(theirs.top)
        for token, value in theirs.top.items():
            assert mine.top[token] == pytest.approx(value, abs=2e-3)


def test_in_process_answers_equal_the_log_probability_servers() -> None:
    requests = _requests()
    assert all(answers_in_process(r) for r in requests)
    with LocalLlamaServer(logits_all=True) as server:
        client = OpenAICompatibleBackend(server.alias, base_url=server.base_url)
        served = _answer_all(client, requests)
    answered = _answer_all(LocalAnswerLogprobs("local-test"), requests)
    for mine, theirs in zip(answered, served, strict=True):
        _same_answer(mine, theirs)
    assert {r.text for r in answered[:3]} <= {"Yes", "No"}
    assert answered[3].usage.completion_tokens >= 1
    # a latent's requests share all but the excerpt: only that part is evaluated again
    assert answered[1].usage.cached_tokens > 0.7 * answered[1].usage.prompt_tokens
    assert answered[0].usage.cached_tokens == 0


def test_the_offline_backend_answers_them_without_the_second_server() -> None:
    request = _requests()[0]
    with open_service(LLMSettings(backend="local", cache=False)) as service:
        (answer,) = service.complete_all([request])
        backend = service.backend
        assert backend.logprob_server is None  # type: ignore[attr-defined]
    assert isinstance(answer, LLMResponse) and answer.text in {"Yes", "No"}
    assert answer.logprobs and {"Yes", "No"} <= set(answer.logprobs[0].top)
