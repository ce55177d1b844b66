"""Latent shards without Ray: which latents a shard takes, where a shard's store writes, the
merge of shard files into their stores, the stages of a sharded run in one process, and the
LLM limit's leases."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import Judge, tiny_eval_values
from pydantic import BaseModel, ValidationError

from sae_interp.distributed.ray_executor import ConcurrencyLimitActor, check_reachable
from sae_interp.distributed.shards import (
    LatentShard,
    Stage,
    current_shard,
    current_stage,
    forget_store,
    forgets,
    merge_shard_files,
    shard_stage,
    stages,
)
from sae_interp.evals import get_eval
from sae_interp.framework.latent_store import LatentStore
from sae_interp.framework.runner import run_per_sae
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.models import lazy
from sae_interp.models import loading as models_loading
from sae_interp.testing import make_tiny_sae


class Row(BaseModel):
    latent: int
    value: str


def test_shards_partition_the_latents_in_a_like_mix() -> None:
    latents = list(range(10, 21))
    parts = [LatentShard(i, 3).pick(latents) for i in range(3)]
    assert parts == [[10, 13, 16, 19], [11, 14, 17, 20], [12, 15, 18]]
    assert sorted(x for part in parts for x in part) == latents
    with pytest.raises(ValueError, match="shard 3 of 3"):
        LatentShard(3, 3)


def test_shard_count_from_shards_or_shard_size() -> None:
    config_cls = get_eval("autointerp").config_cls
    assert config_cls(latent_shards=4).shard_count() == 4
    assert config_cls(shard_size=3, n_latents=10).shard_count() == 4
    assert config_cls(shard_size=3, latents=[1, 2, 3]).shard_count() == 1
    assert config_cls().shard_count() == 1
    with pytest.raises(ValidationError, match="--latent-shards or --shard-size, not both"):
        config_cls(latent_shards=2, shard_size=5)
    settings = config_cls(latent_shards=4).result_settings()
    assert "latent_shards" not in settings  # how a result is computed, not what it is


def test_a_shard_writes_its_own_file_and_reads_the_store_too(tmp_path: Path) -> None:
    path = tmp_path / "latents.jsonl"
    base = LatentStore(path, Row)
    base.put(Row(latent=1, value="before"))
    with shard_stage(Stage.score, LatentShard(0, 2)):
        assert current_shard() == LatentShard(0, 2)
        shard = LatentStore(path, Row)
        assert shard.done() == {1}  # it sees what the store already holds
        shard.put(Row(latent=4, value="shard 0"))
    with shard_stage(Stage.score, LatentShard(1, 2)):
        LatentStore(path, Row).put(Row(latent=5, value="shard 1"))
    assert current_shard() is None
    assert path.read_text().count("\n") == 1  # nothing of the shards yet
    assert LatentStore(path, Row).done() == {1}
    with shard_stage(Stage.score, LatentShard(0, 2)):
        assert LatentStore(path, Row).done() == {1, 4}  # a rerun of shard 0 resumes

    assert merge_shard_files(tmp_path) == 2
    merged = LatentStore(path, Row)
    assert merged.done() == {1, 4, 5}
    assert not list(tmp_path.glob("*.shard-*"))
    assert merge_shard_files(tmp_path) == 0


def test_merge_keeps_a_torn_line_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "latents.jsonl"
    path.write_text('{"latent": 1, "value": "a"}\n{"latent": 2, "val')  # killed mid-write
    (tmp_path / "latents.shard-0-of-2.jsonl").write_text(
        '{"latent": 3, "value": "c"}\n{"latent": 4, "va'
    )
    (tmp_path / "latents.shard-1-of-2.jsonl").write_text('{"latent": 5, "value": "e"}\n')
    merge_shard_files(tmp_path)
    assert LatentStore(path, Row).done() == {1, 3, 5}
    assert LatentStore(path, Row).get(5) == Row(latent=5, value="e")


def test_force_empties_stores_only_where_a_run_starts(tmp_path: Path) -> None:
    path = tmp_path / "latents.jsonl"
    for name in ("latents.jsonl", "latents.shard-0-of-2.jsonl", "latents.progress.jsonl"):
        (tmp_path / name).write_text('{"latent": 1, "value": "a"}\n')
    forget_store(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latents.progress.jsonl"]
    assert forgets(True) and not forgets(False)
    with shard_stage(Stage.prepare):
        assert forgets(True)
    for stage in (Stage.explain, Stage.score, Stage.merge):
        with shard_stage(stage, LatentShard(0, 1) if stage is not Stage.merge else None):
            assert not forgets(True)


def test_a_lease_not_given_back_lapses() -> None:
    async def scenario() -> tuple[float, int]:
        limit = ConcurrencyLimitActor(1, lease_s=0.3)
        await limit.acquire()  # its holder dies without giving it back
        started = time.monotonic()
        second = await limit.acquire()
        waited = time.monotonic() - started
        await limit.release(second)
        await limit.release(second)  # a late second release frees nothing more
        third = await limit.acquire()
        assert limit.in_use() == 1
        return waited, third

    waited, third = asyncio.run(scenario())
    assert 0.25 <= waited < 2.0
    assert third == 3


def test_a_released_slot_goes_to_the_next_caller_at_once() -> None:
    async def scenario() -> float:
        limit = ConcurrencyLimitActor(1, lease_s=60.0)
        lease = await limit.acquire()
        waiter = asyncio.ensure_future(limit.acquire())
        await asyncio.sleep(0.05)
        assert not waiter.done()
        started = time.monotonic()
        await limit.release(lease)
        await waiter
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 1.0


def test_an_unreachable_ray_address_is_one_sentence() -> None:
    with pytest.raises(Exception, match=r"--ray-address 127\.0\.0\.1:9: no Ray cluster answers"):
        check_reachable("127.0.0.1:9")
    with pytest.raises(Exception, match="give auto or HOST:PORT"):
        check_reachable("nowhere")
    check_reachable("auto")  # looked up by Ray itself


def run_in_stages(definition: Any, config: Any, sae: Any, n_shards: int) -> list[Any]:
    """What the Ray driver does, in this process: every stage, then the merge of its files."""
    outputs: list[Any] = []
    for stage, shards in stages(n_shards):
        for shard in shards:
            with shard_stage(stage, shard):
                outputs = run_per_sae(definition, config, saes={"tiny": sae})
        merge_shard_files(Path(config.output_dir))
    return outputs


def without_run_fields(path: Path) -> Any:
    data = json.loads(path.read_text())
    for key in ("eval_id", "provenance", "eval_config"):
        data.pop(key)
    return data


def test_the_stages_of_a_sharded_run_give_the_local_result_with_every_arm(
    tmp_path: Path, corpus_file: Path, monkeypatch: pytest.MonkeyPatch, isolated_cache: Path
) -> None:
    """Three shards of evals.all with the random-SAE and random-model arms and a reseed, run
    stage by stage as the Ray driver runs them, write the result files of a local run;
    --force empties the stores once, in the prepare stage, even of a stale shard file. The
    explain and score stages never load the weights of either model (they run on CPU
    workers)."""
    loads: list[Stage | None] = []

    def load_model(*args: Any, **kwargs: Any) -> Any:
        loads.append(current_stage())
        return models_loading.load_model(*args, **kwargs)

    monkeypatch.setattr(lazy, "load_model", load_model)
    judge = Judge()
    LLM_BACKENDS.register("shard-judge", lambda settings, stack: judge.backend, overwrite=True)
    definition = get_eval("all")
    sae = make_tiny_sae(d_sae=32, k=4)
    out = {"local": tmp_path / "local", "sharded": tmp_path / "sharded"}
    llm = {"backend": "shard-judge", "cache": False}
    make_tiny_sae(d_sae=32, k=4, seed=3).save(tmp_path / "on-random-model")
    extra = {"evals": ["autointerp", "fuzzing"], "n_latents": 7, "random_sae_control": True,
             "random_model_control": True, "random_model_saes": [str(tmp_path / "on-random-model")],
             "seeds": [42, 5], "force": True}  # fmt: skip
    configs = {
        k: definition.config_cls.model_validate(
            tiny_eval_values(tmp_path, corpus_file, llm) | extra | {"output_dir": path}
        )
        for k, path in out.items()
    }
    (local,) = run_per_sae(definition, configs["local"], saes={"tiny": sae})
    assert loads == [None, None]  # the local run collects, on both models
    calls_local = len(judge.backend.calls)
    # a stopped earlier run left a stale shard file: --force must not merge it in
    stale = next(out["local"].glob("autointerp/*/latents_*[0-9a-f].jsonl"))
    target = out["sharded"] / stale.relative_to(out["local"])
    target.parent.mkdir(parents=True)
    target.with_name(target.stem + ".shard-0-of-3.jsonl").write_text(
        stale.read_text().replace('"status":"ok"', '"status":"stale"')
    )
    shutil.rmtree(isolated_cache / "latents")  # the prepare stage collects them again
    (sharded,) = run_in_stages(definition, configs["sharded"], sae, n_shards=3)
    assert loads == [None, None, Stage.prepare, Stage.prepare], loads
    assert definition.stage_uses_model(configs["sharded"], Stage.prepare)
    for stage in (Stage.explain, Stage.score):
        assert not definition.stage_uses_model(configs["sharded"], stage)
    assert len(judge.backend.calls) - calls_local == calls_local  # same work, same calls
    names = sorted(p.relative_to(out["local"]) for p in out["local"].glob("*/*.json"))
    assert len(names) == 7  # all; each eval on the SAE, its random SAE and the random model
    for name in names:
        a, b = without_run_fields(out["local"] / name), without_run_fields(out["sharded"] / name)
        usage = [data["eval_result_metrics"].pop("llm_usage") for data in (a, b)]
        assert a == b, name
        # the shards' LLM work is counted in the merged result, as the local run counts it
        keys = ("calls", "prompt_tokens", "completion_tokens", "prompt_tokens_per_latent")
        assert [u.get(k) for k in keys for u in usage[:1]] == [usage[1].get(k) for k in keys]
        assert "random_sae" in str(name) or "on-random-model" in str(name) or usage[1]["calls"]
    assert "stale" not in "".join(p.read_text() for p in out["sharded"].rglob("*.jsonl"))
    assert (
        local.eval_result_metrics.llm_usage["calls"]
        == sharded.eval_result_metrics.llm_usage["calls"]
    )
