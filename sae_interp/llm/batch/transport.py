"""Where batches go: OpenAI's Batch API (or any server that speaks it), or request files on
disk for ``vllm run-batch`` to answer offline. Both take a written request file, report the
batch's state, and hand back its output and error lines in the same format."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, Protocol

from sae_interp.base.logging import redact, register_secret_env
from sae_interp.llm.batch.manifest import BatchEntry
from sae_interp.llm.errors import LLMError, kind_of_status

logger = logging.getLogger(__name__)

COMPLETION_WINDOW: Literal["24h"] = "24h"  # the only window the Batch API offers


class BatchTransport(Protocol):
    def submit(self, entry: BatchEntry, request_file: Path, save: Callable[[], None]) -> None:
        """Send ``entry``'s request file and start its batch; ``save`` records each step in
        the manifest, so a rerun resumes after the last one instead of repeating it."""

    def refresh(self, entry: BatchEntry) -> None:
        """Update ``entry.status`` (and its file ids) from the batch's current state."""

    def results(self, entry: BatchEntry) -> str:
        """The output lines and error lines of a finished batch, as one JSONL text."""


class OpenAIBatches:
    """The Batch API at ``base_url`` (OpenAI's when None), through the openai SDK."""

    def __init__(self, base_url: str | None, api_key_env: str, timeout_s: float) -> None:
        from openai import OpenAI

        register_secret_env(api_key_env)
        key = os.environ.get(api_key_env)
        if key is None and base_url is None:
            raise LLMError(f"no API key: set the environment variable {api_key_env}")
        self._client = OpenAI(
            api_key=key or "not-needed", base_url=base_url, timeout=timeout_s, max_retries=3
        )

    def submit(self, entry: BatchEntry, request_file: Path, save: Callable[[], None]) -> None:
        with _api(f"uploading {request_file.name}"):
            if entry.input_file_id is None:
                with request_file.open("rb") as f:
                    entry.input_file_id = self._client.files.create(file=f, purpose="batch").id
                entry.status = "uploaded"
                save()
            batch = self._existing(entry.input_file_id) or self._client.batches.create(
                input_file_id=entry.input_file_id,
                endpoint=entry.endpoint,  # type: ignore[arg-type]
                completion_window=COMPLETION_WINDOW,
                metadata={"sae_interp_batch": entry.name},
            )
        self._update(entry, batch)
        save()

    def _existing(self, input_file_id: str) -> Any:
        """The batch already created on this file (by a run stopped before it could record
        it), or None."""
        for batch in self._client.batches.list(limit=100):
            if batch.input_file_id == input_file_id:
                logger.info("batch %s was created before the stop; reusing it", batch.id)
                return batch
        return None

    def refresh(self, entry: BatchEntry) -> None:
        assert entry.batch_id is not None
        with _api(f"reading batch {entry.batch_id}"):
            self._update(entry, self._client.batches.retrieve(entry.batch_id))

    def results(self, entry: BatchEntry) -> str:
        texts = []
        with _api(f"downloading the results of batch {entry.batch_id}"):
            for file_id in (entry.output_file_id, entry.error_file_id):
                if file_id:
                    texts.append(self._client.files.content(file_id).text)
        return "\n".join(texts)

    def cancel(self, entry: BatchEntry) -> None:
        assert entry.batch_id is not None
        with _api(f"cancelling batch {entry.batch_id}"):
            self._update(entry, self._client.batches.cancel(entry.batch_id))

    @staticmethod
    def _update(entry: BatchEntry, batch: Any) -> None:
        entry.batch_id = batch.id
        entry.status = batch.status
        entry.output_file_id = batch.output_file_id
        entry.error_file_id = batch.error_file_id


@contextlib.contextmanager
def _api(doing: str) -> Iterator[None]:
    """One sentence for a failed Batch API call, naming what was being done."""
    import openai

    try:
        yield
    except openai.APIStatusError as err:
        raise LLMError(
            f"Batch API: {doing} failed: {redact(str(err))[:300]}", kind_of_status(err.status_code)
        ) from None
    except openai.APIError as err:
        raise LLMError(f"Batch API: {doing} failed: {redact(str(err))[:300]}") from None


class RunBatchFiles:
    """Request files in ``directory`` for ``vllm run-batch -i FILE -o OUTPUT``; a batch is
    done when its output file holds a line per request."""

    def __init__(self, directory: Path, model: str) -> None:
        self.directory = Path(directory)
        self.model = model

    def submit(self, entry: BatchEntry, request_file: Path, save: Callable[[], None]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{entry.name}.requests.jsonl"
        shutil.copyfile(request_file, target)
        entry.output_file = str(self.directory / f"{entry.name}.output.jsonl")
        entry.status = "waiting"
        save()
        logger.info(
            "wrote %s; answer it with: vllm run-batch -i %s -o %s --model %s",
            target,
            target,
            entry.output_file,
            self.model,
        )

    def refresh(self, entry: BatchEntry) -> None:
        assert entry.output_file is not None
        output = Path(entry.output_file)
        if output.exists():
            with output.open("rb") as f:
                lines = sum(1 for line in f if line.strip())
            if lines >= entry.n_requests:
                entry.status = "completed"

    def results(self, entry: BatchEntry) -> str:
        assert entry.output_file is not None
        return Path(entry.output_file).read_text()
