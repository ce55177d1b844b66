"""Every bad input gets one sentence naming the file, flag or value, a non-zero exit, and
(where the check needs no model) comes before any model is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sae_interp.evals.autointerp.main import DEFINITION
from sae_interp.framework.cli import eval_main
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_sae


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded before the bad input was reported")

    monkeypatch.setattr("sae_interp.models.lazy.load_model", refuse)
    monkeypatch.setattr("sae_interp.models.lazy.model_shell", refuse)  # nor its config


@pytest.fixture
def sae_dir(tmp_path: Path) -> Path:
    return make_tiny_sae(d_sae=48).save(tmp_path / "sae")


def argv(tmp_path: Path, corpus: Path, sae: Path | str, *extra: str) -> list[str]:
    return [
        "--model",
        TINY_MODEL_SPEC,
        "--saes",
        str(sae),
        "--corpus",
        str(corpus),
        "--n-tokens",
        "512",
        "--ctx-len",
        "33",
        "--device",
        "cpu",
        "--output-dir",
        str(tmp_path / "out"),
        *extra,
    ]


def run(args: list[str], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    code = eval_main(DEFINITION, args)
    return code, capsys.readouterr().err + caplog.text


def test_missing_config_file(tmp_path, corpus_file, sae_dir, capsys, caplog, no_model_load):  # type: ignore[no-untyped-def]
    missing = tmp_path / "nope.json"
    code, text = run(
        ["--config", str(missing), *argv(tmp_path, corpus_file, sae_dir)], capsys, caplog
    )
    assert code == 2
    assert f"--config {missing}: no such file" in text
    assert "Traceback" not in text


def test_malformed_config_file_names_file_and_line(  # type: ignore[no-untyped-def]
    tmp_path, corpus_file, sae_dir, capsys, caplog, no_model_load
):
    bad = tmp_path / "cfg.json"
    bad.write_text('{\n  "n_latents": 3,\n  "seed": ,\n}\n')
    code, text = run(["--config", str(bad), *argv(tmp_path, corpus_file, sae_dir)], capsys, caplog)
    assert code == 2
    assert f"--config {bad}, line 3" in text and "not valid JSON" in text


def test_config_file_that_is_not_an_object(tmp_path, corpus_file, sae_dir, capsys, caplog):  # type: ignore[no-untyped-def]
    bad = tmp_path / "cfg.json"
    bad.write_text("[1, 2]")
    code, text = run(["--config", str(bad), *argv(tmp_path, corpus_file, sae_dir)], capsys, caplog)
    assert code == 2 and "expected a JSON object" in text and str(bad) in text


def test_truncated_sae_weights(tmp_path, corpus_file, sae_dir, capsys, caplog, no_model_load):  # type: ignore[no-untyped-def]
    weights = sae_dir / "sae_weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    code, text = run(argv(tmp_path, corpus_file, sae_dir), capsys, caplog)
    assert code == 2
    assert f"{weights} is truncated" in text


def test_cfg_json_missing_d_in(tmp_path, corpus_file, sae_dir, capsys, caplog, no_model_load):  # type: ignore[no-untyped-def]
    cfg_path = sae_dir / "cfg.json"
    cfg = json.loads(cfg_path.read_text())
    del cfg["d_in"]
    cfg_path.write_text(json.dumps(cfg))
    code, text = run(argv(tmp_path, corpus_file, sae_dir), capsys, caplog)
    assert code == 2
    assert str(cfg_path) in text and "d_in: missing" in text


def test_cfg_json_that_is_not_json(tmp_path, corpus_file, sae_dir, capsys, caplog, no_model_load):  # type: ignore[no-untyped-def]
    cfg_path = sae_dir / "cfg.json"
    cfg_path.write_text("{\n 'd_in': 16\n}")
    code, text = run(argv(tmp_path, corpus_file, sae_dir), capsys, caplog)
    assert code == 2 and f"{cfg_path}, line 2" in text


@pytest.mark.parametrize(
    ("latent", "message"),
    [("-1", "--latents -1: latent ids are not negative"), ("48", "has 48 latents (ids 0 to 47)")],
)
def test_latent_ids_out_of_range(  # type: ignore[no-untyped-def]
    latent, message, tmp_path, corpus_file, sae_dir, capsys, caplog, no_model_load
):
    code, text = run(
        argv(tmp_path, corpus_file, sae_dir, "--latents", f"3,{latent}"), capsys, caplog
    )
    assert code == 2 and message in text
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.pt"))


def test_base_url_without_model(tmp_path, corpus_file, sae_dir, capsys, caplog, no_model_load):  # type: ignore[no-untyped-def]
    args = argv(tmp_path, corpus_file, sae_dir, "--llm-base-url", "http://127.0.0.1:9/v1")
    code, text = run(args, capsys, caplog)
    assert code == 2
    assert "--llm-base-url http://127.0.0.1:9/v1 is given without --llm-model" in text


def test_hook_beyond_the_model(tmp_path, corpus_file, capsys, caplog, no_model_load):  # type: ignore[no-untyped-def]
    sae = make_tiny_sae(hook_name="blocks.5.hook_resid_post").save(tmp_path / "deep")
    code, text = run(argv(tmp_path, corpus_file, sae), capsys, caplog)
    assert code == 2
    assert "'blocks.5.hook_resid_post' is in block 5" in text and "has 2 blocks" in text


def test_d_in_mismatch(tmp_path, corpus_file, capsys, caplog, no_model_load):  # type: ignore[no-untyped-def]
    sae = make_tiny_sae(d_in=8).save(tmp_path / "narrow")
    code, text = run(argv(tmp_path, corpus_file, sae), capsys, caplog)
    assert code == 2 and "SAE d_in=8" in text and "width 16" in text


def test_ctx_len_beyond_the_model(tmp_path, corpus_file, sae_dir, capsys, caplog, no_model_load):  # type: ignore[no-untyped-def]
    code, text = run(argv(tmp_path, corpus_file, sae_dir, "--ctx-len", "65"), capsys, caplog)
    assert code == 2 and "--ctx-len 65 exceeds the context" in text


def test_missing_corpus_file(tmp_path, sae_dir, capsys, caplog, no_model_load):  # type: ignore[no-untyped-def]
    missing = tmp_path / "corpus.txt"
    code, text = run(argv(tmp_path, missing, sae_dir), capsys, caplog)
    assert code == 2
    assert f"corpus file {missing} does not exist" in text and "unknown corpus spec" not in text


def test_missing_sae_directory(tmp_path, corpus_file, capsys, caplog, no_model_load):  # type: ignore[no-untyped-def]
    code, text = run(argv(tmp_path, corpus_file, tmp_path / "no_sae"), capsys, caplog)
    assert code == 2 and f"SAE directory {tmp_path / 'no_sae'} does not exist" in text


def test_unknown_model_spec(tmp_path, corpus_file, sae_dir, capsys, caplog, no_model_load):  # type: ignore[no-untyped-def]
    args = argv(tmp_path, corpus_file, sae_dir)
    args[args.index(TINY_MODEL_SPEC)] = "no-such-model-xyz"
    code, text = run(args, capsys, caplog)
    assert code == 2 and "unknown model spec 'no-such-model-xyz'" in text


def test_help_shows_the_defaults_each_eval_uses(capsys) -> None:  # type: ignore[no-untyped-def]
    from sae_interp.evals.agentic import AgenticEvalConfig
    from sae_interp.evals.autointerp import AutoInterpEvalConfig
    from sae_interp.framework.cli import build_parser

    def help_line(config_cls: type, flag: str) -> str:
        text = " ".join(build_parser(config_cls).format_help().split())
        start = text.rindex(flag + " ")  # the options, not the usage line
        return text[start : text.index("--", start + len(flag))]

    assert "(default: 15)" in help_line(AutoInterpEvalConfig, "--sampling-n-train")
    assert "(default: 10)" in help_line(AutoInterpEvalConfig, "--sampling-n-negatives")
    assert "(default: 20)" in help_line(AgenticEvalConfig, "--sampling-n-train")
    assert "(default: 6)" in help_line(AgenticEvalConfig, "--agent-max-rounds")


@pytest.mark.parametrize(
    ("flag", "value", "registry"),
    [
        ("--sampling-train-strategy", "topmost", "activating sampler"),
        ("--sampling-test-strategy", "quantile", "activating sampler"),
        ("--sampling-negative-strategy", "similarish", "negative source"),
        ("--llm-backend", "vllm", "LLM backend"),
        ("--detection-mode", "per-example", "detection mode"),
        ("--explainer-kind", "tree_search", "explainer"),
    ],
)
def test_unknown_implementation_names_are_refused_before_the_model_loads(  # type: ignore[no-untyped-def]
    tmp_path, corpus_file, sae_dir, capsys, caplog, no_model_load, flag, value, registry
):
    code, text = run([*argv(tmp_path, corpus_file, sae_dir), flag, value], capsys, caplog)
    assert code == 2
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and flag in lines[0]
    assert f"unknown {registry} {value!r}; known:" in lines[0]


def test_a_fuzzing_mode_of_another_scorer_is_refused_before_the_model_loads(  # type: ignore[no-untyped-def]
    tmp_path, corpus_file, sae_dir, capsys, no_model_load
):
    from sae_interp.evals.fuzzing.main import DEFINITION as FUZZING

    args = [*argv(tmp_path, corpus_file, sae_dir), "--fuzzing-mode", "saebench"]
    assert eval_main(FUZZING, args) == 2
    err = capsys.readouterr().err
    assert "--fuzzing-mode" in err and "unknown fuzzing mode 'saebench'" in err


def test_an_unknown_simulator_mode_is_refused_before_the_model_loads(  # type: ignore[no-untyped-def]
    tmp_path, corpus_file, sae_dir, capsys, no_model_load
):
    from sae_interp.evals.simulation.main import DEFINITION as SIMULATION

    args = [*argv(tmp_path, corpus_file, sae_dir), "--simulator-mode", "all-at-once"]
    assert eval_main(SIMULATION, args) == 2
    err = capsys.readouterr().err
    assert "--simulator-mode" in err and "unknown simulation mode 'all-at-once'" in err
