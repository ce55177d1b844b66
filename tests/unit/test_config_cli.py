import json
from pathlib import Path

import pytest
from pydantic import Field, ValidationError

from sae_interp.activations import SamplingConfig
from sae_interp.evals.core import CoreEvalConfig, CoreEvalOutput
from sae_interp.evals.core.main import DEFINITION
from sae_interp.framework import BaseEvalConfig, json_schema
from sae_interp.framework.cli import build_parser, config_error_message, eval_main, parse_config
from sae_interp.testing import TINY_MODEL_SPEC


class NestedConfig(BaseEvalConfig):
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    latents: list[int] | None = Field(default=None, description="Latent ids.")


def test_unknown_keys_rejected_and_frozen() -> None:
    with pytest.raises(ValidationError, match="extra"):
        CoreEvalConfig(n_tokenz=5)  # type: ignore[call-arg]
    cfg = CoreEvalConfig()
    with pytest.raises(ValidationError):
        cfg.n_tokens = 5  # type: ignore[misc]
    with pytest.raises(ValidationError):
        CoreEvalConfig(dtype="float8")
    with pytest.raises(ValidationError):
        CoreEvalConfig(saes=[])


def test_cli_flags_cover_every_field_with_help() -> None:
    parser = build_parser(CoreEvalConfig)
    text = parser.format_help()
    for name, info in CoreEvalConfig.model_fields.items():
        assert "--" + name.replace("_", "-") in text
        assert info.description and info.description.split()[0] in text


def test_parse_argv_into_config(tmp_path: Path) -> None:
    argv = [
        "--saes",
        "a,b",
        "--n-tokens",
        "99",
        "--no-save-latent-stats",
        "--force",
        "--output-dir",
        str(tmp_path),
    ]
    cfg, level = parse_config(CoreEvalConfig, argv)
    assert isinstance(cfg, CoreEvalConfig)
    assert cfg.saes == ["a", "b"] and cfg.n_tokens == 99 and cfg.force and not cfg.save_latent_stats
    assert cfg.output_dir == tmp_path and cfg.ctx_len == 128 and level == "INFO"


def test_config_file_with_flag_override(tmp_path: Path) -> None:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"n_tokens": 7, "ctx_len": 32}))
    cfg, _ = parse_config(CoreEvalConfig, ["--config", str(path), "--ctx-len", "16"])
    assert cfg.n_tokens == 7 and cfg.ctx_len == 16


def test_nested_and_optional_fields() -> None:
    cfg, _ = parse_config(NestedConfig, ["--sampling-window-len", "8", "--latents", "1,5"])
    assert isinstance(cfg, NestedConfig)
    assert cfg.sampling.window_len == 8 and cfg.sampling.n_train == 40 and cfg.latents == [1, 5]
    cfg2, _ = parse_config(NestedConfig, ["--latents", "none"])
    assert cfg2.latents is None  # type: ignore[attr-defined]


class SmallSamplingConfig(BaseEvalConfig):
    sampling: SamplingConfig = Field(
        default_factory=lambda: SamplingConfig(n_train=15, n_test=10, n_negatives=10)
    )


def test_one_nested_flag_keeps_the_parents_other_nested_defaults(tmp_path: Path) -> None:
    """One sampling flag changes that setting only: the window counts stay the ones the
    config's own default builds (15/10/10), not SamplingConfig's class defaults (40/50/50)."""
    cfg, _ = parse_config(SmallSamplingConfig, ["--sampling-negative-strategy", "similar"])
    assert isinstance(cfg, SmallSamplingConfig)
    assert cfg.sampling.negative_strategy == "similar"
    assert (cfg.sampling.n_train, cfg.sampling.n_test, cfg.sampling.n_negatives) == (15, 10, 10)
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"sampling": {"n_test": 7}}))
    cfg2, _ = parse_config(SmallSamplingConfig, ["--config", str(path)])
    assert (cfg2.sampling.n_train, cfg2.sampling.n_test) == (15, 7)  # type: ignore[attr-defined]


def test_bad_values_exit_with_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert eval_main(DEFINITION, ["--n-tokens", "-3"]) == 2
    # one line naming the flag and the value, not pydantic's multi-line dump
    assert capsys.readouterr().err == (
        "invalid configuration: --n-tokens: Input should be greater than 0 (got -3)\n"
    )
    with pytest.raises(SystemExit):
        parse_config(CoreEvalConfig, ["--no-such-flag"])


def test_config_errors_name_nested_flags_one_per_problem() -> None:
    from sae_interp.evals.autointerp import AutoInterpEvalConfig

    with pytest.raises(ValidationError) as info:
        AutoInterpEvalConfig(sampling={"n_train": -3}, n_latents=0)
    message = config_error_message(info.value)
    assert message.startswith("invalid configuration: ") and "\n" not in message
    assert "--sampling-n-train: Input should be greater than or equal to 0 (got -3)" in message
    assert "--n-latents: " in message and message.count("; ") == 1


def test_json_schema_is_generated() -> None:
    schema = json.loads(json_schema(CoreEvalOutput))
    assert "provenance" in schema["properties"]
    assert "CoreMetrics" in schema["$defs"]


def _argv(tmp_path: Path, corpus: Path, *extra: str) -> list[str]:
    return [
        "--model",
        TINY_MODEL_SPEC,
        "--saes",
        "identity:blocks.0.hook_resid_post",
        "--corpus",
        str(corpus),
        "--n-tokens",
        "256",
        "--n-ce-tokens",
        "64",
        "--ctx-len",
        "32",
        "--device",
        "cpu",
        "--output-dir",
        str(tmp_path / "out"),
        *extra,
    ]


def test_cli_runs_writes_json_and_skips_existing(tmp_path: Path, corpus_file: Path, capsys) -> None:
    assert eval_main(DEFINITION, _argv(tmp_path, corpus_file)) == 0
    out = capsys.readouterr().out
    assert "reconstruction.explained_variance" in out and "identity:blocks.0.hook_resid_post" in out
    result = tmp_path / "out" / "core" / "tiny-random__identity_blocks.0.hook_resid_post.json"
    first = CoreEvalOutput.model_validate_json(result.read_text())
    assert (
        first.provenance.model_name == "tiny-random"
        and first.provenance.hook_name == "blocks.0.hook_resid_post"
    )
    assert first.eval_config.n_tokens == 256
    assert eval_main(DEFINITION, _argv(tmp_path, corpus_file)) == 0
    assert (
        CoreEvalOutput.model_validate_json(result.read_text()).eval_id == first.eval_id
    )  # skipped
    assert eval_main(DEFINITION, _argv(tmp_path, corpus_file, "--force")) == 0
    assert CoreEvalOutput.model_validate_json(result.read_text()).eval_id != first.eval_id


def test_cli_reports_bad_specs(tmp_path: Path, corpus_file: Path, caplog) -> None:
    argv = _argv(tmp_path, corpus_file)
    argv[argv.index("identity:blocks.0.hook_resid_post")] = "identity:blocks.9.hook_resid_post"
    assert eval_main(DEFINITION, argv) == 2
    assert "does not exist" in caplog.text
    argv = _argv(tmp_path, corpus_file, "--ctx-len", "65")
    assert eval_main(DEFINITION, argv) == 2
    assert "exceeds the context" in caplog.text


def test_top_level_cli_dispatches(tmp_path: Path, corpus_file: Path, capsys) -> None:
    from sae_interp.cli import main

    assert main([]) == 2
    assert main(["no-such-eval"]) == 2
    assert "unknown eval" in capsys.readouterr().err
    assert main(["core", *_argv(tmp_path, corpus_file)]) == 0
    assert "explained_variance" in capsys.readouterr().out


def test_result_settings_leave_out_run_control_and_llm_transport() -> None:
    from sae_interp.evals.autointerp import AutoInterpEvalConfig
    from sae_interp.llm.settings import LLMSettings

    base = AutoInterpEvalConfig(llm=LLMSettings(model="m", base_url="http://a/v1"))
    moved = base.model_copy(
        update={
            "device": "cuda",
            "batch_size": 3,
            "output_dir": Path("elsewhere"),
            "llm": LLMSettings(model="m", base_url="http://a/v1", concurrency=9, timeout_s=5),
        }
    )
    assert moved.result_settings() == base.result_settings()
    other_llm = base.model_copy(update={"llm": LLMSettings(model="n", base_url="http://a/v1")})
    assert other_llm.result_settings()["llm"] != base.result_settings()["llm"]
    assert base.model_copy(update={"n_latents": 7}).result_settings() != base.result_settings()


def test_every_explanation_eval_setting_is_an_evals_all_setting() -> None:
    from sae_interp.evals import explanation_evals
    from sae_interp.evals.all import AllEvalConfig
    from sae_interp.evals.all.eval_config import scored_eval

    for name in explanation_evals():
        for field_name, info in scored_eval(name).config_cls.model_fields.items():
            assert field_name in AllEvalConfig.model_fields, (name, field_name)
            assert AllEvalConfig.model_fields[field_name].annotation == info.annotation
    # and it reaches the eval: a simulation-only setting is passed on by config_for
    cfg = AllEvalConfig(evals=["simulation"], compare_negatives=["similar_negative"])
    assert cfg.config_for("simulation").compare_negatives == ["similar_negative"]
