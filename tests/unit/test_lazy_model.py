"""The model of a run, loaded on first use of its weights: its config and tokenizer from the
model without weights, an SAE's fit checked on shapes alone, and which stages of a sharded
run ask Ray for model hardware."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from sae_interp.base.errors import CompatibilityError
from sae_interp.distributed.ray_executor import stage_resources
from sae_interp.distributed.shards import Stage
from sae_interp.evals import get_eval
from sae_interp.models import loading
from sae_interp.models.lazy import LazyModel
from sae_interp.models.loading import ModelResolver, model_shell, register_model_resolver
from sae_interp.models.shell import is_weightless
from sae_interp.saes import check_sae_fits
from sae_interp.saes.loading import needs_model_weights
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_model, make_tiny_sae


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The specs whose weights were loaded."""
    seen: list[str] = []

    def load_model(spec: str, **kwargs: Any) -> Any:
        seen.append(spec)
        return loading.load_model(spec, **kwargs)

    monkeypatch.setattr("sae_interp.models.lazy.load_model", load_model)
    return seen


def test_config_and_tokenizer_come_without_the_weights(loads: list[str]) -> None:
    lazy = LazyModel(TINY_MODEL_SPEC, torch.device("cpu"), "float32")
    loaded = make_tiny_model()
    assert lazy.cfg.model_name == loaded.cfg.model_name == "tiny-random"
    assert lazy.cfg.dtype == loaded.cfg.dtype and lazy.cfg.d_model == loaded.cfg.d_model
    assert str(lazy.cfg.device) == "meta" and is_weightless(lazy.weightless())
    text = "the cat sat (on 12 mats)"
    assert lazy.tokenizer(text)["input_ids"] == loaded.tokenizer(text)["input_ids"]
    assert lazy.tokenizer.padding_side == loaded.tokenizer.padding_side
    assert loads == [] and not lazy.loaded
    model = lazy.get()
    assert lazy.get() is model and lazy.weightless() is model and loads == [TINY_MODEL_SPEC]
    assert str(lazy.cfg.device) == "cpu" and lazy.tokenizer is model.tokenizer
    with torch.no_grad():  # the same weights as a fresh load
        assert torch.equal(model.W_E, loaded.W_E)


def test_a_model_given_is_never_loaded_again(loads: list[str]) -> None:
    model = make_tiny_model()
    lazy = LazyModel.of(model, TINY_MODEL_SPEC)
    assert lazy.loaded and lazy.get() is model and lazy.cfg is model.cfg and loads == []


def test_a_resolver_without_a_shell_loads_for_the_tokenizer(loads: list[str]) -> None:
    register_model_resolver(
        "tiny-no-shell",
        ModelResolver(
            matches=lambda spec: spec == "tiny-no-shell",
            load=lambda spec, device, dtype: make_tiny_model(device=str(device)),
            describe="'tiny-no-shell' (test model)",
        ),
    )
    assert model_shell("tiny-no-shell") is None
    lazy = LazyModel("tiny-no-shell", torch.device("cpu"), "float32")
    assert lazy.tokenizer is not None and lazy.loaded and loads == ["tiny-no-shell"]


def test_an_sae_fit_is_checked_on_the_model_without_weights() -> None:
    shell = model_shell(TINY_MODEL_SPEC)
    assert shell is not None
    check_sae_fits(shell, make_tiny_sae(d_in=16), ctx_len=32)
    with pytest.raises(CompatibilityError, match="d_in=12"):
        check_sae_fits(shell, make_tiny_sae(d_in=12), ctx_len=32)
    with pytest.raises(CompatibilityError, match="n_ctx=64"):
        check_sae_fits(shell, make_tiny_sae(d_in=16), ctx_len=128)


def test_only_saes_built_from_activations_need_the_weights() -> None:
    assert needs_model_weights("planted") and needs_model_weights("random:planted@3")
    assert not needs_model_weights("embedded") and not needs_model_weights("random:embedded")
    assert not needs_model_weights("identity:blocks.0.hook_resid_post")


@pytest.mark.parametrize(
    ("eval_name", "values", "stage", "model_work"),
    [
        ("autointerp", {}, Stage.explain, False),
        ("autointerp", {}, Stage.score, False),
        ("autointerp", {}, Stage.prepare, True),
        ("autointerp", {}, Stage.merge, True),
        ("surprisal", {}, Stage.score, True),  # the in-process scoring LM
        ("surprisal", {"scoring_lm": {"backend": "openai", "model": "m"}}, Stage.score, False),
        ("surprisal", {}, Stage.explain, False),
        ("all", {"evals": ["autointerp", "fuzzing"]}, Stage.score, False),
        ("all", {"evals": ["fuzzing", "surprisal"]}, Stage.score, True),
        ("all", {"evals": ["fuzzing", "intervention"]}, Stage.merge, True),
        ("all", {"evals": ["fuzzing", "intervention"]}, Stage.explain, False),
    ],
)
def test_judge_only_stages_ask_ray_for_a_cpu(
    eval_name: str, values: dict[str, Any], stage: Stage, model_work: bool
) -> None:
    definition = get_eval(eval_name)
    config = definition.config_cls.model_validate(
        {"model": TINY_MODEL_SPEC, "saes": ["embedded"]} | values
    )
    gpu = {"num_gpus": 1.0}
    expected = gpu if model_work else {"num_cpus": 1}
    assert stage_resources(definition, config, stage, gpu) == expected
    assert stage_resources(definition, config, None, gpu) == gpu  # a whole run
