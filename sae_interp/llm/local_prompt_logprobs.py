"""Prompt log-probabilities of the offline GGUF model computed in-process with
llama-cpp-python, for the simulator's all-at-once mode.

The llama.cpp server answers ``echo`` + ``logprobs`` too, but llama-cpp-python builds every
position's alternatives by sorting the whole vocabulary in Python (measured: ~80 s for a
160-token prompt on 2 cores). Here one forward pass keeps the logits of every position and
only the integer answers "0".."10" that are single tokens are read out (a log-softmax over
the vocabulary in numpy), which is all a simulator needs; the key/value cache of the prefix
shared with the previous prompt (header and demo) is reused. Position i lists the alternatives
for the token *after* token i (the simulator's reader detects this, see ``alignment``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sae_interp.llm.cache import request_key
from sae_interp.llm.errors import LLMError
from sae_interp.llm.local import LOCAL_MODEL_ALIAS, assemble_gguf
from sae_interp.llm.local_answer_logprobs import keep_shared_prefix
from sae_interp.llm.prompt_logprobs import PromptLogprobs, echo_request
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import LLMResponse, Usage


class LocalPromptLogprobs:
    def __init__(
        self,
        model_path: Path | None = None,
        n_ctx: int = 1024,
        n_threads: int | None = None,
        service: LLMService | None = None,
    ) -> None:
        """``service``: the eval's LLM service, whose response cache keeps the answers and
        whose usage report counts each computed prompt (None: neither)."""
        from llama_cpp import Llama

        self._llm: Any = Llama(
            model_path=str(model_path or assemble_gguf()),
            n_ctx=n_ctx,
            n_threads=n_threads,
            logits_all=True,
            verbose=False,
        )
        self.n_ctx = n_ctx
        self.service = service
        self.calls = 0
        self._lock = threading.Lock()
        self.levels: dict[str, int] = {}  # answer text -> token id, single-token integers only
        for k in range(11):
            ids = self._llm.tokenize(str(k).encode(), add_bos=False, special=False)
            if len(ids) == 1:
                self.levels[str(k)] = int(ids[0])

    def identity(self) -> str:
        return f"local-llama.cpp-inprocess:{LOCAL_MODEL_ALIAS}"

    def _call(self, prompt: str, top: int) -> PromptLogprobs | LLMError:
        llm = self._llm
        tokens = llm.tokenize(prompt.encode(), add_bos=True, special=False)
        if len(tokens) > self.n_ctx:
            return LLMError(f"prompt of {len(tokens)} tokens exceeds the context ({self.n_ctx})")
        with self._lock:
            # keep the key/value cache of the prefix shared with the previous prompt (the
            # header and demo): only the rest is evaluated
            llm.eval(tokens[keep_shared_prefix(llm, tokens) :])
            scores = np.array(llm.scores[: len(tokens)], dtype=np.float32)
        self.calls += 1
        peak = scores.max(axis=1, keepdims=True)
        log_z = peak[:, 0] + np.log(np.exp(scores - peak).sum(axis=1))
        ids = list(self.levels.values())
        chosen = scores[:, ids] - log_z[:, None]
        names = list(self.levels)
        offsets, pieces = [], []
        for i in range(len(tokens)):
            offsets.append(len(llm.detokenize(tokens[:i]).decode("utf-8", errors="ignore")))
            pieces.append(llm.detokenize([tokens[i]]).decode("utf-8", errors="ignore"))
        top_lists = [{name: float(row[j]) for j, name in enumerate(names)} for row in chosen]
        return PromptLogprobs(
            tokens=pieces, offsets=offsets, top=list(top_lists), prompt_tokens=len(tokens)
        )

    def _cached(self, prompt: str, top: int) -> PromptLogprobs | LLMError:
        """One prompt through the response cache (stored as a response whose text is the
        JSON of the log-probs; failures are not cached); computed ones are counted."""
        cache = self.service.cache if self.service is not None else None
        key = request_key(self.identity(), echo_request(prompt, top))
        if cache is not None and (hit := cache.get(key)) is not None:
            return PromptLogprobs.model_validate_json(hit.text)
        answer = self._call(prompt, top)
        if isinstance(answer, PromptLogprobs):
            if cache is not None:
                cache.put(key, LLMResponse(text=answer.model_dump_json()))
            if self.service is not None:
                self.service.record_in_process(Usage(prompt_tokens=answer.prompt_tokens))
        return answer

    def prompt_logprobs(self, prompts: Sequence[str], top: int) -> list[PromptLogprobs | LLMError]:
        return [self._cached(p, top) for p in prompts]
