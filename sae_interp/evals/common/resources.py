"""Resources shared by every SAE of a run (and by every eval of ``evals.all``): the LLM
service, opened on first use only (a run whose explanations are all stored starts no LLM),
and local models such as a scoring LM or a sentence embedder, built once by key."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar, runtime_checkable

from sae_interp.llm.service import LLMService, UsageReport
from sae_interp.llm.settings import LLMSettings, open_service

T = TypeVar("T")


@runtime_checkable
class ReportsUsage(Protocol):
    """A shared object that calls an LLM endpoint through a service of its own."""

    def usage(self) -> UsageReport: ...


class EvalResources:
    def __init__(self, llm: LLMSettings, seed: int) -> None:
        self.llm = llm
        self.seed = seed
        self._stack = contextlib.ExitStack()
        self._service: LLMService | None = None
        self._shared: dict[str, Any] = {}
        self._on_call: list[Callable[[], None]] = []

    @property
    def service(self) -> LLMService:
        """The LLM service (started on first use: a local server, a client, the cache)."""
        if self._service is None:
            self._service = self._stack.enter_context(open_service(self.llm, self.seed))
            self._service.on_call.extend(self._on_call)
        return self._service

    @contextlib.contextmanager
    def on_call(self, callback: Callable[[], None]) -> Iterator[None]:
        """Call ``callback`` after each call the service answers in the enclosed code."""
        self._on_call.append(callback)
        if self._service is not None:
            self._service.on_call.append(callback)
        try:
            yield
        finally:
            self._on_call.remove(callback)
            if self._service is not None and callback in self._service.on_call:
                self._service.on_call.remove(callback)

    @property
    def service_opened(self) -> bool:
        return self._service is not None

    def usage(self) -> UsageReport:
        """A snapshot of the LLM usage so far: the service's (zeros if it was never opened)
        plus that of every shared object with a service of its own (a remote scoring LM)."""
        total = dataclasses.replace(self._service.report) if self._service else UsageReport()
        for item in list(self._shared.values()):  # (shared objects may be added meanwhile)
            if isinstance(item, ReportsUsage):
                total = total + item.usage()
        return total

    def shared(self, key: str, factory: Callable[[], T]) -> T:
        """The object built by ``factory`` the first time ``key`` is asked for."""
        if key not in self._shared:
            self._shared[key] = factory()
        return self._shared[key]

    def close(self) -> None:
        self._shared.clear()
        self._stack.close()


@contextlib.contextmanager
def open_resources(llm: LLMSettings, seed: int) -> Iterator[EvalResources]:
    resources = EvalResources(llm, seed)
    try:
        yield resources
    finally:
        resources.close()
