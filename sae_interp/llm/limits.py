"""Concurrency limits shared by processes: when the workers of a Ray run each open an LLM
service, one limit per LLM holds across all of them, so N workers never send N times the
configured load. The executor installs a factory of such limits in each worker
(:func:`use_shared_limits`); :func:`~sae_interp.llm.settings.open_service` asks it for the
limit of its LLM. Without one, each service's own queue is the only limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class SharedLimit(Protocol):
    """A slot per request in flight: :meth:`acquire` waits for one and returns its lease,
    :meth:`release` gives it back. A lease not given back (its holder died) lapses after a
    while, so a lost worker cannot shrink the limit for good."""

    async def acquire(self) -> object: ...

    async def release(self, lease: object) -> None: ...


# (LLM identity, limit) -> its shared limit, or None where there is none for that LLM
LimitFactory = Callable[[str, int], SharedLimit | None]

_FACTORY: LimitFactory | None = None


def use_shared_limits(factory: LimitFactory | None) -> None:
    global _FACTORY
    _FACTORY = factory


def endpoint_identity(identity: str, url: str | None) -> str:
    """The name of one endpoint's own limit, among the several of an LLM."""
    return f"{identity}@{url}"


def shared_limit(identity: str, limit: int) -> SharedLimit | None:
    """The limit shared across processes for the LLM ``identity``, or None."""
    return _FACTORY(identity, limit) if _FACTORY is not None else None
