"""The executor interface: ``--executor`` names a registered executor, which places the work
of a run and calls the in-process runner on each part; one of your own runs the same evals
with the same results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sae_interp.base.errors import SpecError
from sae_interp.distributed import EXECUTOR_ENV
from sae_interp.distributed.executors import EXECUTORS, Executor
from sae_interp.evals import get_eval
from sae_interp.evals.core import CoreEvalConfig
from sae_interp.framework.runner import run_per_sae
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_sae


@pytest.fixture
def one_by_one(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """An executor of our own: each SAE a call of the runner, as a worker would make it
    (its name in the worker's environment); returns the parts it was given."""
    parts: list[list[str]] = []

    def run(definition: Any, config: Any, run_local: Any) -> list[Any]:
        outputs = []
        for spec in config.saes:
            part = config.model_copy(update={"saes": [spec]})
            parts.append(part.saes)
            with monkeypatch.context() as worker:
                worker.setenv(EXECUTOR_ENV, "one-by-one")
                outputs += run_local(definition, part)
        return outputs

    EXECUTORS.register(
        "one-by-one", Executor(run, in_process=False, describe="test"), overwrite=True
    )
    yield parts
    EXECUTORS.unregister("one-by-one")


def config(tmp_path: Path, corpus: Path, specs: list[str], **kw: Any) -> CoreEvalConfig:
    values = {"model": TINY_MODEL_SPEC, "saes": specs, "corpus": str(corpus), "n_tokens": 256,
              "n_ce_tokens": 64, "ctx_len": 32, "device": "cpu", "output_dir": tmp_path}  # fmt: skip
    return CoreEvalConfig(**(values | kw))


def test_an_executor_of_your_own_gives_the_local_results(
    one_by_one: list[list[str]], tmp_path: Path, corpus_file: Path
) -> None:
    specs = [str(make_tiny_sae(d_sae=32, seed=s).save(tmp_path / f"sae{s}")) for s in (0, 1)]
    definition = get_eval("core")
    local = run_per_sae(definition, config(tmp_path / "local", corpus_file, specs))
    mine = run_per_sae(
        definition, config(tmp_path / "mine", corpus_file, specs, executor="one-by-one")
    )
    assert one_by_one == [[specs[0]], [specs[1]]]
    assert [o.provenance.executor for o in local] == ["local", "local"]
    assert [o.provenance.executor for o in mine] == ["one-by-one", "one-by-one"]
    for a, b in zip(local, mine, strict=True):
        assert a.provenance.sae_spec == b.provenance.sae_spec
        assert a.eval_result_metrics == b.eval_result_metrics
    written = sorted(p.name for p in (tmp_path / "mine" / "core").glob("*.json"))
    assert len(written) == 2


def test_objects_go_only_to_an_executor_in_this_process(
    one_by_one: list[list[str]], tmp_path: Path, corpus_file: Path
) -> None:
    cfg = config(tmp_path, corpus_file, ["mine"], executor="one-by-one")
    with pytest.raises(SpecError, match="--executor one-by-one loads the model and each SAE"):
        run_per_sae(get_eval("core"), cfg, saes={"mine": make_tiny_sae()})
    assert one_by_one == []


def test_an_unknown_executor_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unknown executor 'slurm'; known: local, ray"):
        CoreEvalConfig(executor="slurm", output_dir=tmp_path)
