"""Several endpoints serving one model (``--llm-base-url URL1,URL2``, e.g. one vLLM server per
GPU node) as one backend: each request goes to the endpoint with the fewest requests in
flight (ties in turn), and no endpoint ever holds more than its own limit
(``--llm-concurrency`` each). The service's queue sees the sum of the limits. In the workers
of a Ray run each endpoint's limit is also one for all of them (``shared``: a limit per
endpoint, :mod:`sae_interp.llm.limits`)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence

from sae_interp.llm.limits import SharedLimit
from sae_interp.llm.types import LLMBackend, LLMRequest, LLMResponse


class SpreadBackend:
    def __init__(
        self,
        backends: Sequence[LLMBackend],
        per_endpoint: int,
        identity: str,
        shared: Sequence[SharedLimit | None] | None = None,
    ) -> None:
        if not backends:
            raise ValueError("no endpoints to spread requests over")
        self.shared = list(shared) if shared is not None else [None] * len(backends)
        self.backends = list(backends)
        self.model = self.backends[0].model
        self.per_endpoint = per_endpoint
        self._identity = identity
        self.in_flight = [0] * len(self.backends)
        self.sending = [0] * len(self.backends)  # past the endpoint's limit, being answered
        self.peak = [0] * len(self.backends)  # most requests one endpoint held at once
        self.sent = [0] * len(self.backends)
        self._turn = itertools.count()
        self._gates: dict[asyncio.AbstractEventLoop, list[asyncio.Semaphore]] = {}

    def identity(self) -> str:
        return self._identity

    def _pick(self) -> int:
        """The endpoint with the fewest requests in flight; ties go round in turn."""
        start = next(self._turn) % len(self.backends)
        order = [(start + i) % len(self.backends) for i in range(len(self.backends))]
        return min(order, key=lambda i: self.in_flight[i])

    async def complete(self, request: LLMRequest) -> LLMResponse:
        loop = asyncio.get_running_loop()
        gates = self._gates.setdefault(
            loop, [asyncio.Semaphore(self.per_endpoint) for _ in self.backends]
        )
        i = self._pick()
        self.in_flight[i] += 1  # counted before the wait, so the next pick sees it
        try:
            async with gates[i]:
                shared = self.shared[i]
                lease = await shared.acquire() if shared is not None else None
                self.sending[i] += 1
                self.peak[i] = max(self.peak[i], self.sending[i])
                self.sent[i] += 1
                try:
                    return await self.backends[i].complete(request)
                finally:
                    self.sending[i] -= 1
                    if shared is not None:
                        await shared.release(lease)
        finally:
            self.in_flight[i] -= 1
