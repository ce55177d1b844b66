"""``sae-interp cost``: each eval's row is its dry run per latent, priced at standard and
batch prices and timed, and the evals together pay for explanations once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import tiny_eval_values

from sae_interp.cli import main as cli_main
from sae_interp.cost import CostConfig, cost_table
from sae_interp.evals.autointerp import AutoInterpEvalConfig
from sae_interp.evals.autointerp.main import DEFINITION as AUTOINTERP
from sae_interp.evals.fuzzing import FuzzingEvalConfig
from sae_interp.evals.fuzzing.main import DEFINITION as FUZZING
from sae_interp.framework.runner import plan_per_sae
from sae_interp.llm.pricing import PRICES_PER_MTOK, batch_price_of, load_prices, price_of
from sae_interp.testing import make_tiny_sae

ENDPOINT = {"backend": "openai", "model": "gpt-4o-mini", "concurrency": 4}


def test_each_row_is_the_dry_run_per_latent(tmp_path: Path, corpus_file: Path) -> None:
    values = tiny_eval_values(tmp_path, corpus_file, ENDPOINT)
    cfg = CostConfig.model_validate(
        values | {"evals": ["autointerp", "fuzzing"], "latent_counts": [1000], "latency_s": 3.0}
    )
    saes = {"tiny": make_tiny_sae(d_sae=32, k=4)}
    rows = cost_table(cfg, saes=saes)
    assert [r.eval for r in rows] == ["autointerp", "fuzzing", "all"]
    fresh = values | {"output_dir": tmp_path / "fresh"}
    (auto_plan,) = plan_per_sae(AUTOINTERP, AutoInterpEvalConfig.model_validate(fresh), saes=saes)
    (fuzz_plan,) = plan_per_sae(FUZZING, FuzzingEvalConfig.model_validate(fresh), saes=saes)
    auto, fuzz, together = rows
    for row, plan in ((auto, auto_plan), (fuzz, fuzz_plan)):
        assert row.n_latents == 4
        assert row.calls_per_latent * 4 == pytest.approx(plan.calls)
        assert row.prompt_tokens_per_latent * 4 == pytest.approx(plan.prompt_tokens)
        assert row.completion_tokens_per_latent * 4 == pytest.approx(plan.max_completion_tokens)
        standard = row.prompt_tokens_per_latent * 0.15 + row.completion_tokens_per_latent * 0.6
        assert row.usd_per_latent == pytest.approx(standard / 1e6)
        assert row.batch_usd_per_latent == pytest.approx(row.usd_per_latent / 2)
        assert row.hours_per_latent == pytest.approx(row.calls_per_latent * 3.0 / 4 / 3600)
    # together, the explanations both evals need are paid once
    assert max(auto.calls_per_latent, fuzz.calls_per_latent) < together.calls_per_latent
    assert together.calls_per_latent < auto.calls_per_latent + fuzz.calls_per_latent
    assert not (tmp_path / "out").exists()  # nothing written where the eval would write


def test_command_prints_the_table(
    tmp_path: Path, corpus_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = tiny_eval_values(tmp_path, corpus_file, ENDPOINT)
    config = tmp_path / "cost.json"
    config.write_text(json.dumps(values | {"output_dir": str(tmp_path / "out")}, default=str))
    sae = make_tiny_sae(d_sae=32, k=4)
    sae_dir = sae.save(tmp_path / "tiny_sae")
    args = ["--config", str(config), "--saes", str(sae_dir), "--evals", "autointerp"]
    assert cli_main(["cost", *args, "--latent-counts", "1000,1000000"]) == 0
    out = capsys.readouterr().out
    assert "gpt-4o-mini" in out and "$ batch 1,000,000" in out and "hours 1,000" in out
    bad = tmp_path / "prices.json"
    bad.write_text('{"m": [1]}')
    assert cli_main(["cost", *args, "--llm-price-file", str(bad)]) == 2
    assert f"--llm-price-file: {bad}: not a price file" in capsys.readouterr().err


def test_price_files_add_models_and_batch_prices(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"my-judge": [1.0, 4.0], "my-batch-judge": [2.0, 8.0, 0.5, 1.0]}')
    try:
        load_prices(path)
        assert price_of("my-judge") == (1.0, 4.0) and batch_price_of("my-judge") == (0.5, 2.0)
        assert batch_price_of("router/my-batch-judge") == (0.5, 1.0)
        assert batch_price_of("unknown-model") is None
        path.write_text('{"m": [1, 2, 3]}')
        with pytest.raises(ValueError, match="give 2 or 4 prices"):
            load_prices(path)
    finally:
        for model in ("my-judge", "my-batch-judge"):
            PRICES_PER_MTOK.pop(model, None)
