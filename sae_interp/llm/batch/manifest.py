"""The batch manifest: what a command has submitted, in its output directory.

One JSON file per LLM identity, rewritten atomically after every step (a file written, a
file uploaded, a batch created, a batch collected), so a command stopped at any point,
even by SIGKILL, finds on its rerun everything it had sent and submits nothing twice.
Per request, only what went wrong is kept: how often its line failed, the requests given
up on, and those to send through the ordinary client.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

from sae_interp.base.paths import slugify

# remote states after which a batch's files no longer change
TERMINAL = frozenset({"completed", "expired", "failed", "cancelled"})
COLLECTED = "collected"


class BatchEntry(BaseModel):
    """One request file and the batch that answers it."""

    name: str = Field(description="stage<N>-<endpoint>-<i>, unique in the manifest.")
    endpoint: str
    request_file: str = Field(description="The request file, relative to the manifest.")
    n_requests: int
    status: str = Field(
        default="written",
        description="written | uploaded | the Batch API's status (validating, in_progress, "
        "finalizing, completed, expired, failed, cancelling, cancelled) | waiting (an "
        "offline output file not there yet) | collected.",
    )
    input_file_id: str | None = None
    batch_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    output_file: str | None = Field(
        default=None, description="Offline batches: the output file the command waits for."
    )
    answered: int = 0
    failed: int = 0


class BatchTotals(BaseModel):
    """What the command's batches did and cost, at the batch prices of the model."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    failed_lines: int = 0
    expired_lines: int = 0
    resubmitted: int = 0
    fell_back: int = 0
    given_up: int = 0


class Manifest(BaseModel):
    llm: str = Field(description="The LLM identity the answers are cached under.")
    transport: str = Field(description="'openai' (the Batch API) or 'files' (vllm run-batch).")
    stage: int = 0
    batches: list[BatchEntry] = Field(default_factory=list)
    line_failures: dict[str, int] = Field(
        default_factory=dict, description="Request key -> times its batch line failed."
    )
    given_up: dict[str, str] = Field(
        default_factory=dict, description="Request key -> the error of its last line."
    )
    fallback: list[str] = Field(
        default_factory=list, description="Request keys to send through the ordinary client."
    )
    totals: BatchTotals = Field(default_factory=BatchTotals)

    def unfinished(self) -> list[BatchEntry]:
        return [b for b in self.batches if b.status != COLLECTED]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=1))
        os.replace(tmp, path)


def manifest_path(output_dir: Path, llm_identity: str) -> Path:
    return Path(output_dir) / "llm_batches" / slugify(llm_identity) / "manifest.json"


def load_manifest(path: Path, llm: str, transport: str) -> Manifest:
    """The manifest at ``path``, or a new one; one written for the other transport is an
    error naming the file (its batches would never be collected)."""
    if not path.exists():
        return Manifest(llm=llm, transport=transport)
    try:
        manifest = Manifest.model_validate_json(path.read_text())
    except ValueError as err:
        raise ValueError(
            f"{path}: not a batch manifest ({type(err).__name__}); move it away"
        ) from None
    if manifest.transport != transport and manifest.unfinished():
        raise ValueError(
            f"{path} has {len(manifest.unfinished())} unfinished {manifest.transport!r} "
            f"batches; finish them with the same flags, or move the file away to start over"
        )
    manifest.transport = transport
    return manifest
