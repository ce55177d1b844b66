import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
import torch

from sae_interp.llm import LLMError
from sae_interp.scoring_lm import (
    ScoringLMSettings,
    char_spans,
    load_scoring_lm,
    tokens_in_spans,
)
from sae_interp.scoring_lm.completions_server import CompletionsScoringLM
from sae_interp.scoring_lm.transformer_lens_lm import TransformerLensScoringLM


def _reference(model, prefix: str, text: str) -> list[float]:
    """Log-probs of ``text``'s tokens from one full forward pass of prefix + text."""
    pre = model.to_tokens(prefix, prepend_bos=True)[0]
    ids = model.tokenizer(text, add_special_tokens=False)["input_ids"]
    full = torch.cat([pre, torch.tensor(ids)])[None]
    lp = torch.log_softmax(model(full)[0].float(), -1)
    return [lp[len(pre) - 1 + j, t].item() for j, t in enumerate(ids)]


def test_cached_prefix_matches_a_full_forward_pass(tiny_model) -> None:
    lm = TransformerLensScoringLM(tiny_model, batch_size=2)
    prefix = "the cat sat on the mat ."
    texts = ["a dog ran", "the red cat sat on a mat", "one", "two three four five"]
    got = lm.continuation_logprobs(prefix, texts)
    assert [len(g.logprobs) for g in got] == [3, 7, 1, 4]  # padding never leaks into results
    for text, result in zip(texts, got, strict=True):
        assert result.logprobs == pytest.approx(_reference(tiny_model, prefix, text), abs=1e-4)
        assert result.offsets[0] == 0 and result.offsets == sorted(result.offsets)


def test_in_process_backend_reuses_the_eval_model(tiny_model) -> None:
    lm = load_scoring_lm(ScoringLMSettings(model="same-spec"), tiny_model, "same-spec")
    assert isinstance(lm, TransformerLensScoringLM) and lm.model is tiny_model


def test_token_span_overlap() -> None:
    spans = char_spans([" the", " cat", " sat"])
    assert spans == [(0, 4), (4, 8), (8, 12)]
    # scoring tokens " th" "e cat" " sat": only the second overlaps " cat"
    assert tokens_in_spans([0, 3, 8], 12, [spans[1]]) == [False, True, False]


class _Completions(BaseHTTPRequestHandler):
    prompts: ClassVar[list[str]] = []
    broken = False
    fail_next = 0  # answer this many requests with a 500 first

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["prompt"]
        _Completions.prompts.append(prompt)
        if _Completions.fail_next:
            _Completions.fail_next -= 1
            data = b'{"error": {"message": "overloaded"}}'
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        words, offsets, at = [], [], 0
        for word in prompt.split(" "):  # one "token" per space-separated word
            words.append(word)
            offsets.append(at)
            at += len(word) + 1
        logprobs = [None] + [-float(len(w)) for w in words[1:]]
        payload = {
            "id": "x",
            "object": "text_completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "text": prompt,
                    "finish_reason": "length",
                    "logprobs": None
                    if _Completions.broken
                    else {
                        "tokens": words,
                        "token_logprobs": logprobs,
                        "text_offset": offsets,
                        "top_logprobs": None,
                    },
                }
            ],
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        pass


@pytest.fixture
def completions_url():  # type: ignore[no-untyped-def]
    server = HTTPServer(("127.0.0.1", 0), _Completions)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Completions.prompts, _Completions.broken, _Completions.fail_next = [], False, 0
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()


def test_completions_server_echo_logprobs(completions_url: str) -> None:
    lm = CompletionsScoringLM("base-model", completions_url, api_key_env="NO_KEY_HERE")
    (a, b) = lm.continuation_logprobs("Description: x\n", ["ab cde", "f"])
    # prompt "Description: x\nab cde" splits into ["Description:", "x\nab", "cde"]; the
    # continuation starts at offset 15, so only "cde" (offset 18 -> 3) is inside it
    assert a.logprobs == [-3.0] and a.offsets == [3]
    assert b.logprobs == [] and sorted(_Completions.prompts) == [
        "Description: x\nab cde",
        "Description: x\nf",
    ]


def test_completions_server_goes_through_the_llm_service(completions_url: str) -> None:
    _Completions.fail_next = 1
    lm = CompletionsScoringLM("base-model", completions_url, api_key_env="NO_KEY_HERE")
    (first,) = lm.continuation_logprobs("Description: x\n", ["ab cde"])
    (again,) = lm.continuation_logprobs("Description: x\n", ["ab cde"])
    assert first == again and first.logprobs == [-3.0]
    report = lm.usage()
    assert report.retries_by_kind["server_error"] == 1 and report.calls == 1
    assert report.cached == 1 and len(_Completions.prompts) == 2  # the 500, then one answer


def test_completions_server_without_logprobs_is_a_clear_error(completions_url: str) -> None:
    _Completions.broken = True
    lm = CompletionsScoringLM("base-model", completions_url, api_key_env="NO_KEY_HERE")
    with pytest.raises(LLMError, match="prompt log-probs"):
        lm.continuation_logprobs("p ", ["q"])


def test_too_long_for_the_model_is_a_clear_error(tiny_model) -> None:
    lm = TransformerLensScoringLM(tiny_model)
    with pytest.raises(ValueError, match="exceed the scoring model's context of 64"):
        lm.continuation_logprobs("the " * 40, ["cat " * 30])
