"""``--executor ray`` on a Ray cluster of this machine, kept on loopback: every SAE a task,
the results equal to a local run's, and one LLM concurrency limit across the workers."""

from __future__ import annotations

import os

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # before Ray is imported

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
from helpers import TINY_SAMPLING

from sae_interp.base.errors import SpecError
from sae_interp.evals import get_eval
from sae_interp.framework.runner import run_per_sae
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_sae
from sae_interp.testing.fault_server import FaultServer


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("worker_cache")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        namespace="sae_interp",
        runtime_env={
            "worker_process_setup_hook": "sae_interp.testing.tiny.register_tiny_model",
            "env_vars": {"SAE_INTERP_CACHE": str(cache), "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"},
        },
    )
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
    yield cache
    ray.shutdown()


def judge(messages: list[dict[str, str]]) -> str:
    """Explains with the first quoted token; marks every other excerpt as active."""
    last = messages[-1]["content"]
    n = sum(line.startswith("Excerpt") for line in last.splitlines())
    if n:
        return "[" + ", ".join("1" if i % 2 else "0" for i in range(n)) + "]"
    token = last.split('"')[1] if last.count('"') >= 2 else "something"
    return f"It fires on {token}.\n[EXPLANATION]: the token {token}"


def config(out: Path, corpus: Path, saes: list[str], url: str, **kw: Any) -> Any:
    values = {
        "model": TINY_MODEL_SPEC, "saes": saes, "corpus": str(corpus), "n_tokens": 2048,
        "ctx_len": 33, "device": "cpu", "output_dir": out, "n_latents": 4,
        "sampling": TINY_SAMPLING,
        "llm": {"base_url": url, "model": "judge", "concurrency": 1, "api_key_env": "RAY_KEY"},
    }  # fmt: skip
    return get_eval("autointerp").config_cls.model_validate(values | kw)


def test_every_sae_a_task_and_the_results_those_of_a_local_run(
    cluster: Path, tmp_path: Path, corpus_file: Path, isolated_cache: Path
) -> None:
    definition = get_eval("autointerp")
    specs = [str(make_tiny_sae(d_sae=32, k=4, seed=s).save(tmp_path / f"sae{s}")) for s in (0, 1)]
    with FaultServer(latency_s=0.05, responder=judge) as server:
        local = run_per_sae(
            definition, config(tmp_path / "local", corpus_file, specs, server.base_url)
        )
        server.peak_in_flight = 0
        distributed = config(tmp_path / "ray", corpus_file, specs, server.base_url, executor="ray")
        on_ray = run_per_sae(definition, distributed)
        assert server.peak_in_flight == 1  # two workers, one limit of 1 between them
    assert [o.provenance.executor for o in local] == ["local", "local"]
    assert [o.provenance.executor for o in on_ray] == ["ray", "ray"]
    for a, b in zip(local, on_ray, strict=True):
        assert a.provenance.sae_spec == b.provenance.sae_spec
        assert a.eval_result_details == b.eval_result_details
        drop = {"llm_usage"}
        assert a.eval_result_metrics.model_dump(exclude=drop) == b.eval_result_metrics.model_dump(
            exclude=drop
        )
    assert all(o.eval_result_metrics.detection.balanced_accuracy.n == 4 for o in on_ray)
    assert (tmp_path / "ray" / "autointerp").is_dir()  # written by the workers
    caches = list((cluster / "latents").iterdir())
    assert len(caches) == 2  # both SAEs' caches, collected by the workers


def test_objects_cannot_go_to_ray(cluster: Path, tmp_path: Path, corpus_file: Path) -> None:
    cfg = config(tmp_path, corpus_file, ["tiny"], "http://127.0.0.1:9/v1", executor="ray")
    with pytest.raises(SpecError, match="give specs, not objects"):
        run_per_sae(get_eval("autointerp"), cfg, saes={"tiny": make_tiny_sae()})
