import pytest
import torch

from sae_interp.base.errors import SpecError
from sae_interp.models import activations_at_hook, hook_layer, hooks_attached, load_model
from sae_interp.models.hf_local import tl_name_from_dir
from sae_interp.models.hooks import stop_layer
from sae_interp.models.loading import model_facts
from sae_interp.testing import TINY_MODEL_SPEC


def test_unknown_model_spec_lists_forms() -> None:
    with pytest.raises(SpecError, match=r"unknown model spec 'not/a-model'.*embedded"):
        load_model("not/a-model", device="cpu")


def test_registered_resolver_is_used() -> None:
    model = load_model(TINY_MODEL_SPEC, device="cpu")
    assert model.cfg.n_layers == 2 and model.tokenizer is not None


def test_local_dir_without_config_is_rejected(tmp_path) -> None:
    with pytest.raises(SpecError, match=r"no config\.json"):
        load_model(str(tmp_path), device="cpu")


def test_tl_name_from_dir(tmp_path) -> None:
    (tmp_path / "config.json").write_text('{"_name_or_path": "gpt2"}')
    assert tl_name_from_dir(tmp_path) == "gpt2"
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SpecError, match="#<transformer-lens model name>"):
        tl_name_from_dir(tmp_path)


def test_hook_layers() -> None:
    assert hook_layer("blocks.11.hook_resid_post") == 11
    assert hook_layer("hook_embed") is None


def test_activations_at_hook_match_full_cache(tiny_model) -> None:
    tokens = torch.randint(4, tiny_model.cfg.d_vocab, (2, 10))
    _, cache = tiny_model.run_with_cache(tokens)
    for hook in ("blocks.0.hook_resid_post", "blocks.1.hook_mlp_out", "hook_embed"):
        assert torch.allclose(activations_at_hook(tiny_model, tokens, hook), cache[hook])
    assert stop_layer(tiny_model, "blocks.0.hook_resid_post") == 1


def test_hooks_are_removed_even_on_error(tiny_model) -> None:
    def boom(act, hook):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    with (
        pytest.raises(RuntimeError),
        hooks_attached(tiny_model, [("blocks.0.hook_resid_post", boom)]),
    ):
        tiny_model(torch.tensor([[1, 4, 5]]))
    assert not tiny_model.hook_dict["blocks.0.hook_resid_post"].fwd_hooks
    tiny_model(torch.tensor([[1, 4, 5]]))  # runs clean afterwards


def test_random_weights_model_keeps_embeddings_and_redraws_blocks() -> None:
    trained = load_model(TINY_MODEL_SPEC, device="cpu")
    spec = f"random-weights:{TINY_MODEL_SPEC}@3"
    random = load_model(spec, device="cpu")
    again = load_model(spec, device="cpu")
    other = load_model(f"random-weights:{TINY_MODEL_SPEC}@4", device="cpu")
    assert torch.equal(random.embed.W_E, trained.embed.W_E)
    assert torch.equal(random.unembed.W_U, trained.unembed.W_U)
    q = random.blocks[0].attn.W_Q
    assert not torch.allclose(q, trained.blocks[0].attn.W_Q)
    assert torch.equal(q, again.blocks[0].attn.W_Q)  # seeded
    assert not torch.allclose(q, other.blocks[0].attn.W_Q)
    assert float(q.std()) == pytest.approx(random.cfg.initializer_range, rel=0.2)
    assert torch.all(random.blocks[1].ln2.w == 1.0) and torch.all(random.blocks[1].mlp.b_in == 0)
    # renamed, so caches keyed by the model name never mix it up with the trained model
    assert random.cfg.model_name.endswith("-random-weights-3")
    assert random.cfg.model_name != trained.cfg.model_name
    tokens = torch.randint(4, trained.cfg.d_vocab, (1, 6))
    hook = "blocks.1.hook_resid_post"
    assert not torch.allclose(
        activations_at_hook(random, tokens, hook), activations_at_hook(trained, tokens, hook)
    )
    assert model_facts(spec) == model_facts(TINY_MODEL_SPEC)
    with pytest.raises(SpecError, match="seed after '@' must be an integer"):
        load_model(f"random-weights:{TINY_MODEL_SPEC}@x", device="cpu")
