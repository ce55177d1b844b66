"""LLM settings shared by every eval that calls an LLM, and the backend registry.

In an eval config this is the nested ``llm`` field, so the flags are ``--llm-base-url``,
``--llm-model``, ``--llm-concurrency``, ... The key itself is never a setting: only the
name of the environment variable holding it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from sae_interp.base import FrozenModel
from sae_interp.base.paths import cache_dir, slugify
from sae_interp.base.registry import Registry
from sae_interp.llm.cache import ResponseCache
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import LLMBackend

REMOTE_CONCURRENCY = 16  # what hosted endpoints and vLLM serve comfortably
LOCAL_CONCURRENCY = 4  # the local llama.cpp server decodes one request at a time anyway


class LLMSettings(FrozenModel):
    backend: str = Field(
        default="auto",
        description="'local' (offline llama.cpp default), 'openai' (any OpenAI-compatible "
        "endpoint) or 'auto' (openai when a model or base URL is given, else local).",
    )
    base_url: str | None = Field(default=None, description="Endpoint, e.g. http://host:8000/v1.")
    model: str | None = Field(default=None, description="Model name at the endpoint.")
    api_key_env: str = Field(
        default="OPENAI_API_KEY", description="Environment variable that holds the API key."
    )
    concurrency: int | None = Field(
        default=None,
        gt=0,
        description="Requests in flight at once (default: "
        f"{REMOTE_CONCURRENCY} for a remote endpoint, {LOCAL_CONCURRENCY} for the local server).",
    )
    max_retries: int = Field(
        default=5,
        ge=0,
        description="Retries on 429, 5xx, timeouts, dropped connections and malformed bodies.",
    )
    invalid_retries: int = Field(
        default=2,
        ge=0,
        description="Times an answer the eval cannot read is asked again (it is never cached).",
    )
    timeout_s: float = Field(default=300.0, gt=0, description="Per-request timeout (seconds).")
    cache: bool = Field(default=True, description="Reuse answers to identical requests.")

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        return LLM_BACKENDS.validate(value, "auto")

    @model_validator(mode="after")
    def _endpoint_needs_model(self) -> LLMSettings:
        # checked with the settings, before any model loads (not at the first LLM call)
        if self.resolved_backend() == "openai" and not self.model:
            given = f"--llm-base-url {self.base_url}" if self.base_url else "--llm-backend openai"
            raise ValueError(
                f"{given} is given without --llm-model: name the model to ask at that endpoint"
            )
        return self

    def effective_concurrency(self) -> int:
        """``concurrency``, or the default for this kind of endpoint."""
        if self.concurrency is not None:
            return self.concurrency
        return LOCAL_CONCURRENCY if self.resolved_backend() == "local" else REMOTE_CONCURRENCY

    def resolved_backend(self) -> str:
        if self.backend != "auto":
            return self.backend
        return "openai" if (self.model or self.base_url) else "local"

    def identity(self) -> str:
        """What distinguishes answers of this LLM (cache and store keys): stable across
        runs, so a restarted local server on another port still hits the same caches."""
        from sae_interp.llm.local import LOCAL_MODEL_ALIAS
        from sae_interp.llm.openai_backend import endpoint_identity

        backend = self.resolved_backend()
        if backend == "local":
            return f"local-llama.cpp:{LOCAL_MODEL_ALIAS}"
        if backend == "openai":
            return endpoint_identity(self.base_url, self.model or "")
        return backend

    def model_name(self) -> str:
        from sae_interp.llm.local import LOCAL_MODEL_ALIAS

        return self.model or (LOCAL_MODEL_ALIAS if self.resolved_backend() == "local" else "")


BackendFactory = Callable[[LLMSettings, contextlib.ExitStack], LLMBackend]
LLM_BACKENDS: Registry[BackendFactory] = Registry("LLM backend")


def _openai(settings: LLMSettings, stack: contextlib.ExitStack) -> LLMBackend:
    from sae_interp.llm.openai_backend import OpenAICompatibleBackend

    if not settings.model:
        raise ValueError("--llm-model is required for an OpenAI-compatible endpoint")
    return OpenAICompatibleBackend(
        settings.model,
        settings.base_url,
        settings.api_key_env,
        settings.timeout_s,
        settings.identity(),
    )


def _local(settings: LLMSettings, stack: contextlib.ExitStack) -> LLMBackend:
    from sae_interp.llm.local import LocalLlamaServer, LocalServerBackend
    from sae_interp.llm.openai_backend import OpenAICompatibleBackend

    server = stack.enter_context(LocalLlamaServer())
    client = OpenAICompatibleBackend(
        server.alias, server.base_url, settings.api_key_env, settings.timeout_s, settings.identity()
    )
    return LocalServerBackend(client, server)


LLM_BACKENDS.register("openai", _openai)
LLM_BACKENDS.register("local", _local)


def response_cache_path(backend: LLMBackend) -> Path:
    return cache_dir("llm", "responses") / f"{slugify(backend.identity())}.sqlite"


@contextlib.contextmanager
def open_service(settings: LLMSettings, seed: int = 0) -> Iterator[LLMService]:
    """Build the backend (starting a local server if needed) and the service around it;
    everything started here is stopped on exit."""
    with contextlib.ExitStack() as stack:
        backend = LLM_BACKENDS.get(settings.resolved_backend())(settings, stack)
        cache = ResponseCache(response_cache_path(backend)) if settings.cache else None
        if cache is not None:
            stack.callback(cache.close)
        service = LLMService(
            backend,
            concurrency=settings.effective_concurrency(),
            max_retries=settings.max_retries,
            max_invalid_retries=settings.invalid_retries,
            timeout_s=settings.timeout_s,
            cache=cache,
            seed=seed,
        )
        stack.callback(service.close)
        yield service
