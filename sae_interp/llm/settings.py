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
from sae_interp.base.registry import Registry
from sae_interp.llm.batch.lines import MAX_BYTES, MAX_LINES
from sae_interp.llm.batch.run import BatchOptions, active_batch
from sae_interp.llm.cache import ResponseCache, response_cache_path
from sae_interp.llm.limits import endpoint_identity, shared_limit
from sae_interp.llm.pricing import load_prices
from sae_interp.llm.service import LLMService
from sae_interp.llm.spread import SpreadBackend
from sae_interp.llm.types import LLMBackend

REMOTE_CONCURRENCY = 16  # what hosted endpoints and vLLM serve comfortably
LOCAL_CONCURRENCY = 4  # the local llama.cpp server decodes one request at a time anyway


class LLMSettings(FrozenModel):
    backend: str = Field(
        default="auto",
        description="'local' (offline llama.cpp default), 'openai' (any OpenAI-compatible "
        "endpoint) or 'auto' (openai when a model or base URL is given, else local).",
    )
    base_url: str | None = Field(
        default=None,
        description="Endpoint, e.g. http://host:8000/v1; several, comma-separated, serving the "
        "same model (requests go to the least busy, --llm-concurrency each).",
    )
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
    price_file: Path | None = Field(
        default=None,
        description='JSON prices per million tokens, {"model": [input, output]} or [input, '
        "output, batch input, batch output], added to the built-in table when the settings "
        "are read.",
    )
    batch: bool = Field(
        default=False,
        description="Send the requests through the endpoint's Batch API at batch prices, "
        "stage by stage (explanations, then scoring); without --llm-batch-wait the command "
        "stops after submitting and the same command collects.",
    )
    batch_files: Path | None = Field(
        default=None,
        description="Batch mode offline: write each stage's request file into this folder for "
        "'vllm run-batch -i FILE -o OUTPUT' and read the output file back.",
    )
    batch_wait: bool = Field(
        default=False, description="In batch mode, wait for the batches instead of stopping."
    )
    batch_fallback: bool = Field(
        default=False,
        description="In batch mode, send lines that failed or expired through the ordinary "
        "client instead of resubmitting them once.",
    )
    batch_poll_s: float = Field(
        default=30.0, gt=0, description="First wait between looks at running batches (doubles)."
    )
    batch_max_lines: int = Field(
        default=MAX_LINES, gt=0, le=MAX_LINES, description="Requests per batch file at most."
    )
    batch_max_bytes: int = Field(
        default=MAX_BYTES, gt=0, le=MAX_BYTES, description="Bytes per batch file at most."
    )

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

    @field_validator("price_file")
    @classmethod
    def _prices(cls, value: Path | None) -> Path | None:
        if value is not None:
            load_prices(value)  # a bad file is one sentence naming it, before any model loads
        return value

    @model_validator(mode="after")
    def _batch_needs_endpoint(self) -> LLMSettings:
        if not self.batched():
            return self
        flag = "--llm-batch-files" if self.batch_files is not None else "--llm-batch"
        if self.resolved_backend() != "openai":
            raise ValueError(
                f"{flag} needs an OpenAI-compatible endpoint (--llm-model, and --llm-base-url "
                "for one other than OpenAI's); the local judge costs nothing per call, run it "
                "without batches"
            )
        if not self.cache:
            raise ValueError(f"{flag} needs the response cache: batch answers are kept there")
        if len(self.endpoints()) > 1:
            raise ValueError(f"{flag} takes one --llm-base-url: a batch goes to one endpoint")
        return self

    def batched(self) -> bool:
        """Whether requests go through batches (the Batch API, or offline files)."""
        return self.batch or self.batch_files is not None

    def refuse_batches(self, what: str, why: str) -> None:
        """One sentence for a run that cannot go through batches, at validation."""
        if self.batched():
            raise ValueError(
                f"{what} cannot run in batch mode (--llm-batch, --llm-batch-files): {why}"
            )

    def batch_options(self) -> BatchOptions:
        return BatchOptions(
            identity=self.identity(),
            model=self.model_name(),
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            timeout_s=self.timeout_s,
            files=self.batch_files,
            wait=self.batch_wait,
            fallback=self.batch_fallback,
            poll_s=self.batch_poll_s,
            max_lines=self.batch_max_lines,
            max_bytes=self.batch_max_bytes,
        )

    @field_validator("base_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        if value is None:
            return None
        urls = [u.strip() for u in value.split(",")]
        bad = [u for u in urls if not u.startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"not an http(s) URL: {bad[0]!r}")
        return ",".join(urls)

    def endpoints(self) -> list[str]:
        """The endpoint URLs (several with a comma-separated ``--llm-base-url``)."""
        return self.base_url.split(",") if self.base_url else []

    def effective_concurrency(self) -> int:
        """Requests in flight at once, over every endpoint: ``concurrency`` (or the default
        for this kind of endpoint) for each one."""
        return self.per_endpoint_concurrency() * max(1, len(self.endpoints()))

    def per_endpoint_concurrency(self) -> int:
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
            # several endpoints of one model: named by their sorted URLs
            urls = ",".join(sorted(self.endpoints())) or None
            return endpoint_identity(urls, self.model or "")
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
    urls: list[str | None] = list(settings.endpoints()) or [None]
    clients = [
        OpenAICompatibleBackend(
            settings.model, url, settings.api_key_env, settings.timeout_s, settings.identity()
        )
        for url in urls
    ]
    if len(clients) == 1:
        return clients[0]
    per_endpoint = settings.per_endpoint_concurrency()
    shared = [shared_limit(endpoint_identity(settings.identity(), u), per_endpoint) for u in urls]
    return SpreadBackend(clients, per_endpoint, settings.identity(), shared)


def _local(settings: LLMSettings, stack: contextlib.ExitStack) -> LLMBackend:
    from sae_interp.llm.local import LocalLlamaServer, LocalServerBackend
    from sae_interp.llm.local_answer_logprobs import LocalAnswerLogprobs
    from sae_interp.llm.openai_backend import OpenAICompatibleBackend

    def serve(logits_all: bool) -> tuple[OpenAICompatibleBackend, LocalLlamaServer]:
        server = stack.enter_context(LocalLlamaServer(logits_all=logits_all))
        client = OpenAICompatibleBackend(
            server.alias,
            server.base_url,
            settings.api_key_env,
            settings.timeout_s,
            settings.identity(),
        )
        return client, server

    client, server = serve(logits_all=False)

    def in_process() -> LocalAnswerLogprobs:
        return LocalAnswerLogprobs(
            settings.identity(), server.model_path, server.n_ctx, server.n_threads
        )

    # generation on a server without per-token logits (faster prompts); short answers with
    # log-probabilities in this process, from the GGUF the server serves; other
    # log-probability requests on a second server, started when the first comes
    return LocalServerBackend(
        client,
        server,
        logprob_server=lambda: serve(True),
        in_process=in_process if server.serves_model_file else None,
    )


LLM_BACKENDS.register("openai", _openai)
LLM_BACKENDS.register("local", _local)


@contextlib.contextmanager
def open_service(settings: LLMSettings, seed: int = 0) -> Iterator[LLMService]:
    """Build the backend (starting a local server if needed) and the service around it;
    everything started here is stopped on exit."""
    with contextlib.ExitStack() as stack:
        backend = LLM_BACKENDS.get(settings.resolved_backend())(settings, stack)
        cache = ResponseCache(response_cache_path(backend.identity())) if settings.cache else None
        batch = active_batch()
        batch = batch if batch is not None and batch.serves(backend.identity()) else None
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
            defer=batch.defer if batch is not None else None,
            shared=shared_limit(backend.identity(), settings.effective_concurrency()),
        )
        if batch is not None:
            service.report.batch = batch.summary()
        stack.callback(service.close)
        yield service
