"""The offline model's short answers with their log-probabilities, computed in-process.

Per-example judging, the debiased intruder and the prediction scorers ask the judge for a
short answer (a few tokens, greedy) and the top log-probabilities of each answer token.
llama-cpp-python's server can only give them when it keeps every prompt token's logits
(``logits_all``); it then computes a log-softmax over all of them for every request and
sorts the whole vocabulary in Python for each answer token (measured on 2 cores: 2.4 s per
per-example fuzzing request after the first, of which the model's own work is about a
third). Only the logits of the position being answered are needed. Here the same GGUF is
loaded without per-token logits, the prompt is formatted and tokenized exactly as the server
does it (the GGUF's chat template), the key/value cache of the prefix shared with the
previous prompt is kept (a latent's requests differ only in the excerpt), and each answer
token's alternatives come from that one position's logits: about 1.1 s per request, with
the same answer and log-probabilities (checked against the server in
``tests/integration/test_local_answer_logprobs.py``).

Requests this does not serve (sampling temperature, stop strings, echoed prompts) stay with
the server (:func:`sae_interp.llm.local.answers_in_process`).
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import numpy as np

from sae_interp.llm.errors import FailureKind, LLMError
from sae_interp.llm.local import LOCAL_MODEL_ALIAS, assemble_gguf
from sae_interp.llm.types import LLMRequest, LLMResponse, TokenLogprob, Usage


class LocalAnswerLogprobs:
    """An :class:`~sae_interp.llm.types.LLMBackend` of the offline GGUF model in this
    process, for greedy chat answers with top log-probabilities. Calls run one at a time in
    a worker thread; the model loads on the first."""

    def __init__(
        self,
        identity: str,
        model_path: Path | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
    ) -> None:
        self.model = LOCAL_MODEL_ALIAS
        self._identity = identity
        self._model_path = model_path
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._llm: Any = None
        self._format: Any = None
        self._lock = threading.Lock()

    def identity(self) -> str:
        return self._identity

    async def complete(self, request: LLMRequest) -> LLMResponse:
        return await asyncio.to_thread(self._answer, request)

    def _load(self) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = Llama(
            model_path=str(self._model_path or assemble_gguf()),
            n_ctx=self._n_ctx,
            n_threads=self._n_threads,
            logits_all=False,
            verbose=False,
        )
        template = llm.metadata.get("tokenizer.chat_template")
        if template is None:
            raise LLMError("the offline model's GGUF has no chat template", FailureKind.other)
        # the prompt as llama-cpp-python's server renders it from the same metadata (its
        # stop on the eos token is the end-of-generation test below)
        eos, bos = llm.token_eos(), llm.token_bos()
        self._format = Jinja2ChatFormatter(
            template=template,
            eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
            bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
        )
        self._llm = llm

    def _answer(self, request: LLMRequest) -> LLMResponse:
        with self._lock:
            if self._llm is None:
                self._load()
            return self._generate(request)

    def _generate(self, request: LLMRequest) -> LLMResponse:
        llm = self._llm
        formatted = self._format(messages=[m.model_dump() for m in request.messages])
        tokens = llm.tokenize(formatted.prompt.encode("utf-8"), add_bos=False, special=True)
        if len(tokens) + request.max_tokens > self._n_ctx:
            raise LLMError(
                f"prompt of {len(tokens)} tokens plus {request.max_tokens} answer tokens exceeds "
                f"the offline model's context ({self._n_ctx})",
                FailureKind.bad_request,
            )
        reused = keep_shared_prefix(llm, tokens)
        llm.eval(tokens[reused:])
        answer: list[int] = []
        items: list[TokenLogprob] = []
        finish = "length"
        while len(answer) < request.max_tokens:
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
            token = int(np.argmax(logits))  # greedy, as temperature 0 samples
            if _is_end(llm, token):  # the eos token among them
                finish = "stop"
                break
            logprobs = type(llm).logits_to_logprobs(logits)
            items.append(_answer_token(llm, logprobs, token, tokens + answer, request.top_logprobs))
            answer.append(token)
            if len(answer) < request.max_tokens:
                llm.eval([token])
        return LLMResponse(
            text=_text(llm, answer),
            logprobs=items,
            usage=Usage(
                prompt_tokens=len(tokens), completion_tokens=len(answer), cached_tokens=reused
            ),
            model=self.model,
            finish_reason=finish,
        )


def _is_end(llm: Any, token: int) -> bool:
    """An end-of-generation token (as the server's sampling loop tests it)."""
    import llama_cpp

    return bool(llama_cpp.llama_token_is_eog(llm._model.vocab, token))


def keep_shared_prefix(llm: Any, tokens: list[int]) -> int:
    """Keep the key/value cache of the longest prefix ``tokens`` shares with what the
    in-process model ``llm`` holds (at least one token is left to evaluate, so its logits
    are fresh); returns its length."""
    held = llm.input_ids[: llm.n_tokens].tolist()
    common = 0
    for before, now in zip(held, tokens[:-1], strict=False):
        if before != now:
            break
        common += 1
    llm.n_tokens = common
    return common


def _text(llm: Any, tokens: list[int]) -> str:
    return str(llm.detokenize(tokens).decode("utf-8", errors="ignore"))


def _answer_token(
    llm: Any, logprobs: np.ndarray, token: int, before: list[int], top: int
) -> TokenLogprob:
    """One answer token and its ``top`` alternatives, written as the server writes them:
    ties ordered by the larger token id first, a later alternative with the same text
    replacing an earlier one, and the chosen token always present."""
    k = min(top, len(logprobs))
    threshold = np.partition(logprobs, -k)[-k]
    candidates = np.flatnonzero(logprobs >= threshold)
    ranked = sorted(zip(logprobs[candidates].tolist(), candidates.tolist(), strict=True))[::-1]

    def piece(i: int) -> str:
        return str(llm.detokenize([i], prev_tokens=before).decode("utf-8", errors="ignore"))

    alternatives = {piece(i): float(value) for value, i in ranked[:k]}
    chosen = piece(token)
    alternatives[chosen] = float(logprobs[token])
    return TokenLogprob(token=chosen, logprob=float(logprobs[token]), top=alternatives)
