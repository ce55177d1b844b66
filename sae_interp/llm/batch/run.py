"""Batch mode (``--llm-batch``, ``--llm-batch-files``): a run in passes, each paid at batch
prices.

A pass is the ordinary run with one difference: a request the response cache cannot answer
is not sent but deferred (:meth:`BatchRun.defer`); its latent is left unfinished, and a
stage whose later stages depend on its answers (explanations, before the scoring that
reads them and the shuffled control that pairs them) stops the SAE's pass there
(:class:`~sae_interp.llm.errors.AnswersPending`). After the pass, the deferred requests are
written as batch request files, sent, and recorded in the manifest; collection joins the
output and error lines on ``custom_id`` (the cache key) into the response cache, and the
next pass proceeds on cache hits and defers the next stage. The pass that defers nothing is
the run: its results are the ones a synchronous run with the same answers writes.

Without ``--llm-batch-wait`` the command stops after submitting (exit 0), and the same
command collects: a rerun whose manifest has unfinished batches only polls them. Lines that
failed or expired are deferred again on the next pass (resubmitted once), or, with
``--llm-batch-fallback``, sent through the ordinary client; a line that fails twice is
given up (a ``batch_failed`` failure of its latent). Each is counted in the manifest's
totals, which every output of the run reports as its ``batch_*`` usage.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from sae_interp.llm.batch.lines import (
    EXPIRED,
    read_outcomes,
    request_keys,
    request_lines,
    split_lines,
)
from sae_interp.llm.batch.manifest import (
    COLLECTED,
    TERMINAL,
    BatchEntry,
    Manifest,
    load_manifest,
    manifest_path,
)
from sae_interp.llm.batch.transport import BatchTransport, OpenAIBatches, RunBatchFiles
from sae_interp.llm.cache import ResponseCache, response_cache_path
from sae_interp.llm.errors import FailureKind, LLMError
from sae_interp.llm.pricing import batch_price_of, cost_usd
from sae_interp.llm.types import LLMRequest

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_POLL_S = 600.0


class BatchSubmitted(Exception):
    """Batches are submitted or still running, and the command was not asked to wait: the
    same command collects them. The command line prints this and exits 0."""


@dataclasses.dataclass(frozen=True)
class BatchOptions:
    """What batch mode needs of the LLM settings."""

    identity: str  # of the LLM: the answers' cache, and the manifest's folder
    model: str
    base_url: str | None
    api_key_env: str
    timeout_s: float
    files: Path | None  # offline request files for vllm run-batch, instead of the Batch API
    wait: bool
    fallback: bool
    poll_s: float
    max_lines: int
    max_bytes: int


class BatchRun:
    """The batches of one command: the manifest, the requests the current pass deferred,
    submission and collection."""

    def __init__(
        self,
        options: BatchOptions,
        output_dir: Path,
        transport: BatchTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options = options
        self.path = manifest_path(output_dir, options.identity)
        kind = "files" if options.files is not None else "openai"
        self.manifest: Manifest = load_manifest(self.path, options.identity, kind)
        if transport is None:
            transport = (
                RunBatchFiles(options.files, options.model)
                if options.files is not None
                else OpenAIBatches(options.base_url, options.api_key_env, options.timeout_s)
            )
        self.transport = transport
        self.pending: dict[str, LLMRequest] = {}
        self._lock = threading.Lock()
        self._sleep = sleep

    # ---- during a pass --------------------------------------------------------------------

    def serves(self, identity: str) -> bool:
        return identity == self.options.identity

    def defer(self, key: str, request: LLMRequest) -> LLMError | None:
        """What the service answers for a request the cache cannot: None to send it now
        (a failed line sent through the ordinary client), else the error that stands in its
        slot (awaiting a batch, or given up)."""
        if key in self.manifest.given_up:
            return LLMError(
                f"its batch line failed twice: {self.manifest.given_up[key]}",
                FailureKind.batch_failed,
            )
        if key in self.manifest.fallback:
            return None
        with self._lock:
            self.pending[key] = request
        return LLMError("the answer awaits a batch", FailureKind.batch_pending)

    def n_pending(self) -> int:
        with self._lock:
            return len(self.pending)

    # ---- between passes -------------------------------------------------------------------

    def save(self) -> None:
        self.manifest.save(self.path)

    def submit(self) -> None:
        """Write the deferred requests as request files, record them, and send them."""
        manifest = self.manifest
        stage = manifest.stage + 1
        entries: list[BatchEntry] = []
        for endpoint, lines in request_lines(self.options.model, self.pending).items():
            kind = "chat" if "chat" in endpoint else "completions"
            chunks = split_lines(lines, self.options.max_lines, self.options.max_bytes)
            for i, chunk in enumerate(chunks, start=1):
                name = f"stage{stage}-{kind}-{i}"
                request_file = self.path.parent / f"{name}.jsonl"
                request_file.parent.mkdir(parents=True, exist_ok=True)
                request_file.write_bytes(b"".join(chunk))
                entries.append(
                    BatchEntry(
                        name=name,
                        endpoint=endpoint,
                        request_file=request_file.name,
                        n_requests=len(chunk),
                    )
                )
        manifest.totals.resubmitted += sum(key in manifest.line_failures for key in self.pending)
        manifest.batches += entries
        manifest.stage = stage
        self.save()
        for entry in entries:
            self.transport.submit(entry, self.path.parent / entry.request_file, self.save)
        logger.info(
            "submitted %d requests in %d batches (stage %d); manifest: %s",
            len(self.pending),
            len(entries),
            stage,
            self.path,
        )
        self.pending.clear()

    def collect(self) -> None:
        """Send what a stopped command wrote but did not send; poll the unfinished batches
        and import each finished one into the response cache. Raises
        :class:`BatchSubmitted` when some are still running and the command does not wait."""
        for entry in self.manifest.unfinished():
            if entry.status in ("written", "uploaded"):
                self.transport.submit(entry, self.path.parent / entry.request_file, self.save)
        if not self.manifest.unfinished():
            return
        delay = self.options.poll_s
        cache = ResponseCache(response_cache_path(self.options.identity))
        try:
            while True:
                for entry in self.manifest.unfinished():
                    self.transport.refresh(entry)
                    if entry.status in TERMINAL:
                        self._import(entry, cache)
                    self.save()
                left = self.manifest.unfinished()
                if not left:
                    return
                if not self.options.wait:
                    raise BatchSubmitted(self.describe(left))
                logger.info("%d batches still running; next look in %.0f s", len(left), delay)
                self._sleep(delay)
                delay = min(delay * 2, MAX_POLL_S)
        finally:
            cache.close()

    def describe(self, left: list[BatchEntry]) -> str:
        requests = sum(e.n_requests for e in left)
        where = (
            f"Answer the request files in {self.options.files} with vllm run-batch (see the "
            "log), then run"
            if self.options.files is not None
            else "Run"
        )
        names = ", ".join(f"{e.name} ({e.batch_id or e.output_file}: {e.status})" for e in left)
        return (
            f"{len(left)} batches with {requests} requests are not answered yet: {names}. "
            f"{where} the same command again to collect them and go on "
            f"(or add --llm-batch-wait); manifest: {self.path}"
        )

    def _import(self, entry: BatchEntry, cache: ResponseCache) -> None:
        keys = set(request_keys(self.path.parent / entry.request_file))
        seen: set[str] = set()
        totals = self.manifest.totals
        price_batch = batch_price_of(self.options.model) is not None
        for outcome in read_outcomes(entry.endpoint, self.transport.results(entry)):
            if outcome.key not in keys or outcome.key in seen:
                continue
            seen.add(outcome.key)
            if outcome.response is None:
                entry.failed += 1
                self._line_failed(outcome.key, outcome.error or "failed", outcome.code == EXPIRED)
                continue
            cache.put(outcome.key, outcome.response)
            self.manifest.line_failures.pop(outcome.key, None)
            entry.answered += 1
            usage = outcome.response.usage
            totals.calls += 1
            totals.prompt_tokens += usage.prompt_tokens
            totals.completion_tokens += usage.completion_tokens
            if price_batch:
                totals.cost_usd += cost_usd(self.options.model, usage, batch=True)
        for key in sorted(keys - seen):
            entry.failed += 1
            self._line_failed(
                key,
                f"no answer in the output of a batch that ended {entry.status}",
                entry.status == "expired",
            )
        logger.info(
            "batch %s (%s): %d answered, %d failed",
            entry.name,
            entry.status,
            entry.answered,
            entry.failed,
        )
        entry.status = COLLECTED

    def _line_failed(self, key: str, error: str, expired: bool) -> None:
        manifest, totals = self.manifest, self.manifest.totals
        totals.failed_lines += 1
        totals.expired_lines += expired
        failures = manifest.line_failures[key] = manifest.line_failures.get(key, 0) + 1
        if failures >= 2:
            manifest.given_up[key] = error
            totals.given_up += 1
        elif self.options.fallback:
            manifest.fallback.append(key)
            totals.fell_back += 1
        # else the next pass defers it again: resubmitted once

    def summary(self) -> dict[str, float | int | bool]:
        """The ``batch_*`` usage fields of every output of the run."""
        totals = self.manifest.totals
        price = batch_price_of(self.options.model)
        return {
            "batch_batches": len(self.manifest.batches),
            "batch_calls": totals.calls,
            "batch_prompt_tokens": totals.prompt_tokens,
            "batch_completion_tokens": totals.completion_tokens,
            "batch_cost_usd": round(totals.cost_usd, 6),
            "batch_price_input_per_mtok": price[0] if price else 0.0,
            "batch_price_output_per_mtok": price[1] if price else 0.0,
            "batch_failed_lines": totals.failed_lines,
            "batch_expired_lines": totals.expired_lines,
            "batch_resubmitted": totals.resubmitted,
            "batch_fell_back": totals.fell_back,
            "batch_given_up": totals.given_up,
        }


_ACTIVE: BatchRun | None = None


def active_batch() -> BatchRun | None:
    """The batch run of the command in progress, if it runs in batch mode."""
    return _ACTIVE


@contextlib.contextmanager
def _activated(batch: BatchRun) -> Iterator[None]:
    global _ACTIVE
    _ACTIVE = batch
    try:
        yield
    finally:
        _ACTIVE = None


def run_in_batches(
    options: BatchOptions,
    output_dir: Path,
    run_pass: Callable[[], T],
    transport: BatchTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``run_pass`` until a pass defers nothing, collecting and submitting batches between
    passes; its last result. Inside a batch run already (``evals.all``'s sub-runs), just
    ``run_pass()``."""
    if _ACTIVE is not None:
        return run_pass()
    batch = BatchRun(options, output_dir, transport, sleep)
    with _activated(batch):
        while True:
            batch.collect()
            batch.pending.clear()
            result = run_pass()
            if not batch.pending:
                if batch.manifest.batches:
                    logger.info("every batch answer is in; manifest: %s", batch.path)
                return result
            batch.submit()
