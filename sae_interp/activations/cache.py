"""A sparse, on-disk cache of SAE latent activations.

Only non-zero entries (sequence, position, latent, value) are kept. Tokens are stored once.
While collecting, entries go to disk in chunks (each covering a range of sequences), so
memory stays bounded however many tokens are collected, and an interrupted collection
resumes after its last complete chunk. ``finalize`` regroups the chunks into shards sorted
by latent with an offsets index, so reading one latent touches one contiguous slice.
All files are safetensors.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from sae_interp.activations.stats import LatentStats
from sae_interp.base.errors import CacheError

logger = logging.getLogger(__name__)

CACHE_VERSION = 1
ENTRY_FIELDS = ("latent", "seq", "pos", "value")


@dataclass
class SparseEntries:
    """Non-zero latent activations; ``latent`` is the local index into the cached latents."""

    latent: torch.Tensor  # int32 [n]
    seq: torch.Tensor  # int32 [n]
    pos: torch.Tensor  # int32 [n]
    value: torch.Tensor  # float32 [n]

    @classmethod
    def from_dense(
        cls, latents_BLF: torch.Tensor, mask_BL: torch.Tensor, seq_offset: int
    ) -> SparseEntries:
        masked = latents_BLF * mask_BL.unsqueeze(-1).to(latents_BLF.dtype)
        seq, pos, latent = masked.nonzero(as_tuple=True)
        value = masked[seq, pos, latent]
        return cls(
            latent=latent.to(torch.int32).cpu(),
            seq=(seq + seq_offset).to(torch.int32).cpu(),
            pos=pos.to(torch.int32).cpu(),
            value=value.float().cpu(),
        )

    @classmethod
    def concat(cls, parts: list[SparseEntries]) -> SparseEntries:
        if not parts:
            return cls(*(torch.zeros(0, dtype=d) for d in (torch.int32,) * 3 + (torch.float32,)))
        return cls(*(torch.cat([getattr(p, f) for p in parts]) for f in ENTRY_FIELDS))

    def __len__(self) -> int:
        return int(self.latent.numel())

    def select(self, index: torch.Tensor) -> SparseEntries:
        return SparseEntries(*(getattr(self, f)[index] for f in ENTRY_FIELDS))

    def sorted_by_latent(self, ctx_len: int) -> SparseEntries:
        key = (self.latent.long() * (2**40)) + self.seq.long() * ctx_len + self.pos.long()
        return self.select(torch.argsort(key))

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f: getattr(self, f).contiguous() for f in ENTRY_FIELDS}


def _offsets(latent_sorted: torch.Tensor, n_latents: int, base: int = 0) -> torch.Tensor:
    counts = torch.bincount(latent_sorted.long() - base, minlength=n_latents)
    return torch.cat([torch.zeros(1, dtype=torch.int64), counts.cumsum(0)])


class LatentCacheWriter:
    """Accumulates sparse entries batch by batch and writes them in chunks."""

    def __init__(
        self, directory: Path, n_latents: int, ctx_len: int, chunk_entries: int = 4_000_000
    ) -> None:
        self.directory = directory
        self.chunk_dir = directory / "chunks"
        self.chunk_dir.mkdir(parents=True, exist_ok=True)
        self.n_latents = n_latents
        self.ctx_len = ctx_len
        self.chunk_entries = chunk_entries
        self._buffer: list[SparseEntries] = []
        self._buffered = 0
        self._progress_path = directory / "progress.json"
        progress = self._load_progress()
        self.chunks: list[dict[str, Any]] = progress["chunks"]
        self.seq_done: int = progress["seq_done"]
        self._pending_seq_end = self.seq_done

    def _load_progress(self) -> dict[str, Any]:
        if self._progress_path.exists():
            return json.loads(self._progress_path.read_text())
        return {"chunks": [], "seq_done": 0}

    def add(self, entries: SparseEntries, seq_end: int) -> None:
        """Add the entries of sequences up to (excluding) ``seq_end``."""
        self._buffer.append(entries)
        self._buffered += len(entries)
        self._pending_seq_end = seq_end
        if self._buffered >= self.chunk_entries:
            self.flush()

    def flush(self) -> None:
        if self._pending_seq_end == self.seq_done:
            return
        entries = SparseEntries.concat(self._buffer).sorted_by_latent(self.ctx_len)
        name = f"chunk_{len(self.chunks):05d}.safetensors"
        tensors = entries.tensors()
        tensors["offsets"] = _offsets(entries.latent, self.n_latents)
        save_file(tensors, str(self.chunk_dir / name))
        self.chunks.append(
            {"file": name, "n_entries": len(entries), "seq_end": self._pending_seq_end}
        )
        self.seq_done = self._pending_seq_end
        self._progress_path.write_text(
            json.dumps({"chunks": self.chunks, "seq_done": self.seq_done})
        )
        self._buffer, self._buffered = [], 0

    def finalize(
        self,
        tokens_NL: torch.Tensor,
        mask_NL: torch.Tensor,
        meta: dict[str, Any],
        shard_entries: int = 8_000_000,
    ) -> LatentCache:
        self.flush()
        stats = LatentStats.empty(self.n_latents, int(mask_NL.sum()))
        chunk_paths = [self.chunk_dir / c["file"] for c in self.chunks]
        chunk_offsets = [load_file(str(p))["offsets"] for p in chunk_paths]
        counts = sum(
            (o[1:] - o[:-1] for o in chunk_offsets), torch.zeros(self.n_latents, dtype=torch.int64)
        )
        shards: list[dict[str, Any]] = []
        start = 0
        while start < self.n_latents:
            end = start + 1
            total = int(counts[start])
            while end < self.n_latents and total + int(counts[end]) <= shard_entries:
                total += int(counts[end])
                end += 1
            pieces = []
            for path, offs in zip(chunk_paths, chunk_offsets, strict=True):
                lo, hi = int(offs[start]), int(offs[end])
                if hi > lo:
                    with safe_open(str(path), framework="pt") as handle:
                        pieces.append(
                            SparseEntries(*(handle.get_slice(f)[lo:hi] for f in ENTRY_FIELDS))
                        )
            entries = SparseEntries.concat(pieces).sorted_by_latent(self.ctx_len)
            stats.update(entries.latent, entries.value)
            name = f"shard_{len(shards):05d}.safetensors"
            tensors = entries.tensors()
            tensors["offsets"] = _offsets(entries.latent, end - start, base=start)
            save_file(tensors, str(self.directory / name))
            shards.append(
                {"file": name, "latent_start": start, "latent_end": end, "n_entries": total}
            )
            start = end
        save_file(
            {
                "tokens": tokens_NL.to(torch.int32).contiguous(),
                "mask": mask_NL.to(torch.uint8).contiguous(),
            },
            str(self.directory / "tokens.safetensors"),
        )
        stats.save(self.directory / "stats.safetensors")
        full_meta = {
            **meta,
            "version": CACHE_VERSION,
            "n_latents": self.n_latents,
            "shards": shards,
        }
        (self.directory / "meta.json").write_text(json.dumps(full_meta, indent=2))
        shutil.rmtree(self.chunk_dir, ignore_errors=True)
        self._progress_path.unlink(missing_ok=True)
        return LatentCache(self.directory)


class LatentCache:
    """Read side of the sparse latent cache."""

    # True when this process ran the model to build it (not read from an earlier run): what
    # a dry run reports, since it collects only to select latents and size the prompts
    collected_now: bool = False

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        meta_path = self.directory / "meta.json"
        if not meta_path.exists():
            raise CacheError(f"{self.directory} is not a complete latent cache (no meta.json)")
        self.meta: dict[str, Any] = json.loads(meta_path.read_text())
        if self.meta.get("version") != CACHE_VERSION:
            raise CacheError(f"latent cache version {self.meta.get('version')} is not supported")
        ids = self.meta.get("latent_ids")
        self.latent_ids: list[int] = (
            list(ids) if ids is not None else list(range(self.meta["n_latents"]))
        )
        self._local = {latent: i for i, latent in enumerate(self.latent_ids)}
        self._tokens: dict[str, torch.Tensor] | None = None
        self._stats: LatentStats | None = None

    @staticmethod
    def is_complete(directory: Path) -> bool:
        return (Path(directory) / "meta.json").exists()

    def _token_data(self) -> dict[str, torch.Tensor]:
        if self._tokens is None:
            self._tokens = load_file(str(self.directory / "tokens.safetensors"))
        return self._tokens

    @property
    def tokens(self) -> torch.Tensor:
        return self._token_data()["tokens"].long()

    @property
    def mask(self) -> torch.Tensor:
        return self._token_data()["mask"].bool()

    @property
    def stats(self) -> LatentStats:
        if self._stats is None:
            self._stats = LatentStats.load(self.directory / "stats.safetensors")
        return self._stats

    @property
    def n_seqs(self) -> int:
        return int(self.meta["n_seqs"])

    @property
    def ctx_len(self) -> int:
        return int(self.meta["ctx_len"])

    def local_index(self, latent: int) -> int:
        try:
            return self._local[latent]
        except KeyError:
            raise CacheError(f"latent {latent} was not collected in {self.directory}") from None

    def latent_entries(self, latent: int) -> SparseEntries:
        """All non-zero activations of one latent (global id), sorted by (seq, pos)."""
        local = self.local_index(latent)
        for shard in self.meta["shards"]:
            if shard["latent_start"] <= local < shard["latent_end"]:
                with safe_open(str(self.directory / shard["file"]), framework="pt") as handle:
                    offs = handle.get_slice("offsets")
                    i = local - shard["latent_start"]
                    lo, hi = (int(v) for v in offs[i : i + 2])
                    return SparseEntries(*(handle.get_slice(f)[lo:hi] for f in ENTRY_FIELDS))
        raise CacheError(f"no shard holds latent {latent}")

    def dense_latent(self, latent: int) -> torch.Tensor:
        """[N, L] activations of one latent (zeros where inactive or masked)."""
        entries = self.latent_entries(latent)
        dense = torch.zeros(self.n_seqs, self.ctx_len, dtype=torch.float32)
        dense[entries.seq.long(), entries.pos.long()] = entries.value
        return dense

    def to_dense(self) -> torch.Tensor:
        """[N, L, F] all cached latents; for small caches and tests."""
        dense = torch.zeros(self.n_seqs, self.ctx_len, len(self.latent_ids), dtype=torch.float32)
        for shard in self.meta["shards"]:
            data = load_file(str(self.directory / shard["file"]))
            dense[data["seq"].long(), data["pos"].long(), data["latent"].long()] = data["value"]
        return dense
