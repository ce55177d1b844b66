import json
from pathlib import Path

import pytest
import torch

from sae_interp.base.errors import CompatibilityError, SpecError
from sae_interp.saes import (
    PCASAE,
    SAE_CLASSES,
    BaseSAE,
    BatchTopKSAE,
    GatedSAE,
    IdentitySAE,
    JumpReLUSAE,
    LinearSAE,
    ReLUSAE,
    SAEConfig,
    TopKSAE,
    as_sae,
    check_sae_fits,
    load_sae,
    register_sae_class,
)


def _cfg(arch: str, d_in: int = 2, d_sae: int = 3, **kw) -> SAEConfig:
    return SAEConfig(
        architecture=arch, d_in=d_in, d_sae=d_sae, hook_name="blocks.0.hook_resid_post", **kw
    )


def _set(sae: LinearSAE, W_enc, b_enc, W_dec, b_dec) -> None:
    with torch.no_grad():
        sae.W_enc.copy_(torch.tensor(W_enc, dtype=torch.float32))
        sae.b_enc.copy_(torch.tensor(b_enc, dtype=torch.float32))
        sae.W_dec.copy_(torch.tensor(W_dec, dtype=torch.float32))
        sae.b_dec.copy_(torch.tensor(b_dec, dtype=torch.float32))


W_ENC = [[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]]
W_DEC = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
X = torch.tensor([[2.0, 1.0]])  # pre-acts with zero bias: [2, 1, 1]


def test_registry_has_every_architecture() -> None:
    assert {"relu", "topk", "batch_topk", "jumprelu", "gated", "identity", "pca"} <= set(
        SAE_CLASSES.names()
    )


def test_relu_encode_decode_by_hand() -> None:
    sae = ReLUSAE(_cfg("relu"))
    _set(sae, W_ENC, [0.0, -2.0, 0.5], W_DEC, [1.0, -1.0])
    f = sae.encode(X)  # pre = [2, -1, 1.5] -> relu
    assert torch.equal(f, torch.tensor([[2.0, 0.0, 1.5]]))
    # decode: 2*[1,0] + 1.5*[.5,.5] + b_dec = [2.75, 0.75] + [1, -1]
    assert torch.allclose(sae.decode(f), torch.tensor([[3.75, -0.25]]))


def test_relu_applies_b_dec_to_input_when_configured() -> None:
    sae = ReLUSAE(_cfg("relu", apply_b_dec_to_input=True))
    _set(sae, W_ENC, [0, 0, 0], W_DEC, [1.0, 1.0])
    assert torch.equal(sae.encode(X), torch.tensor([[1.0, 0.0, 1.0]]))  # x - b_dec = [1, 0]


def test_topk_keeps_k_largest() -> None:
    sae = TopKSAE(_cfg("topk", k=1))
    _set(sae, W_ENC, [0.0, 0.5, 0.0], W_DEC, [0, 0])
    assert torch.equal(sae.encode(X), torch.tensor([[2.0, 0.0, 0.0]]))  # pre [2, 1.5, 1]
    sae2 = TopKSAE(_cfg("topk", k=2))
    _set(sae2, W_ENC, [0.0, 0.5, 0.0], W_DEC, [0, 0])
    assert torch.equal(sae2.encode(X), torch.tensor([[2.0, 1.5, 0.0]]))


def test_topk_rejects_bad_k() -> None:
    with pytest.raises(ValueError):
        TopKSAE(_cfg("topk", k=None))
    with pytest.raises(ValueError):
        TopKSAE(_cfg("topk", k=4))


def test_batch_topk_threshold_and_batch_rule() -> None:
    sae = BatchTopKSAE(_cfg("batch_topk", k=1))
    _set(sae, W_ENC, [0, 0, 0], W_DEC, [0, 0])
    with torch.no_grad():
        sae.threshold.fill_(1.5)
    x = torch.tensor([[2.0, 1.0], [0.5, 3.0]])  # pre: [2,1,1], [.5,3,-2.5]
    assert torch.equal(sae.encode(x), torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0]]))
    # k=1 per token on average over 2 tokens -> the 2 largest of the batch survive
    assert torch.equal(sae.encode_batch(x), torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0]]))


def test_jumprelu_per_latent_threshold() -> None:
    sae = JumpReLUSAE(_cfg("jumprelu"))
    _set(sae, W_ENC, [0, 0, 0], W_DEC, [0, 0])
    with torch.no_grad():
        sae.threshold.copy_(torch.tensor([2.5, 0.5, 0.9]))
    assert torch.equal(sae.encode(X), torch.tensor([[0.0, 1.0, 1.0]]))  # 2 < 2.5 is dropped


def test_gated_gate_and_magnitude() -> None:
    sae = GatedSAE(_cfg("gated"))
    _set(sae, W_ENC, [0.0, -1.5, 0.0], W_DEC, [0, 0])  # gate pre: [2, -0.5, 1]
    with torch.no_grad():
        sae.r_mag.copy_(torch.tensor([0.0, 0.0, torch.log(torch.tensor(2.0))]))
        sae.b_mag.copy_(torch.tensor([1.0, 5.0, 0.0]))
    # magnitudes: [2*1+1, gated off, 1*2+0]
    assert torch.allclose(sae.encode(X), torch.tensor([[3.0, 0.0, 2.0]]))


def test_identity_round_trip() -> None:
    sae = IdentitySAE.for_hook(4, "blocks.0.hook_resid_post")
    x = torch.randn(3, 4)
    assert torch.equal(sae.encode(x), x)
    assert torch.equal(sae(x), x)


def test_pca_fits_and_reconstructs() -> None:
    torch.manual_seed(0)
    acts = torch.randn(200, 5) @ torch.randn(5, 5) + 3.0
    sae = PCASAE.fit(acts, "blocks.0.hook_resid_post")
    assert torch.allclose(sae(acts), acts, atol=1e-4)
    gram = sae.W_dec @ sae.W_dec.T
    assert torch.allclose(gram, torch.eye(5), atol=1e-5)
    variances = sae.encode(acts).var(0)
    assert torch.all(variances[:-1] >= variances[1:])  # components ordered by variance
    truncated = PCASAE.fit(acts, "blocks.0.hook_resid_post", d_sae=2)
    assert truncated.encode(acts).shape == (200, 2)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    sae = TopKSAE(_cfg("topk", d_in=4, d_sae=6, k=2))
    torch.nn.init.normal_(sae.W_enc)
    torch.nn.init.normal_(sae.W_dec)
    sae.save(tmp_path / "sae")
    loaded = BaseSAE.load(tmp_path / "sae")
    assert isinstance(loaded, TopKSAE) and loaded.cfg == sae.cfg
    x = torch.randn(5, 4)
    assert torch.equal(loaded(x), sae(x))
    assert isinstance(load_sae(str(tmp_path / "sae"), device="cpu"), TopKSAE)


@register_sae_class("test_double_relu")
class DoubleReLU(LinearSAE):
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * torch.relu(self.pre_acts(x))


def test_custom_class_via_registry_and_spec(tmp_path: Path) -> None:
    sae = DoubleReLU(_cfg("test_double_relu"))
    _set(sae, W_ENC, [0, 0, 0], W_DEC, [0, 0])
    sae.save(tmp_path / "custom")
    by_registry = load_sae(str(tmp_path / "custom"), device="cpu")
    assert isinstance(by_registry, DoubleReLU)
    assert torch.equal(by_registry.encode(X), torch.tensor([[4.0, 2.0, 2.0]]))
    by_spec = load_sae(f"custom:{__name__}:DoubleReLU:{tmp_path / 'custom'}", device="cpu")
    assert isinstance(by_spec, DoubleReLU)


def test_unregistered_architecture_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    cfg = _cfg("relu").model_dump() | {"architecture": "nope", "sae_interp_format": 1}
    (tmp_path / "x" / "cfg.json").write_text(json.dumps(cfg))
    with pytest.raises(SpecError, match="unknown SAE architecture 'nope'"):
        load_sae(str(tmp_path / "x"), device="cpu")


def test_saelens_sae_is_accepted() -> None:
    from sae_lens.saes.standard_sae import StandardSAE, StandardSAEConfig

    cfg = StandardSAEConfig(d_in=4, d_sae=6)
    cfg.metadata.hook_name = "blocks.0.hook_resid_post"
    inner = StandardSAE(cfg)
    torch.nn.init.normal_(inner.W_enc)
    torch.nn.init.normal_(inner.W_dec)
    wrapped = as_sae(inner)
    x = torch.randn(3, 4)
    assert wrapped.cfg.hook_name == "blocks.0.hook_resid_post"
    assert wrapped.cfg.d_sae == 6 and wrapped.cfg.architecture == "saelens:standard"
    assert torch.equal(wrapped.encode(x), inner.encode(x))
    assert torch.equal(wrapped.W_dec, inner.W_dec)
    with pytest.raises(TypeError):
        as_sae(object())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no-such-thing", "unknown SAE spec"),
        ("saelens:not-a-release/x", "unknown sae-lens release"),
        ("saelens:missing-slash", "expected 'saelens:RELEASE/SAE_ID'"),
        ("custom:too:few", "expected 'custom:"),
        ("custom:math:sqrt:/tmp", "not a BaseSAE subclass"),
    ],
)
def test_bad_sae_specs(spec: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_sae(spec, device="cpu")


def test_known_saelens_release_with_unknown_id() -> None:
    from sae_lens.loading.pretrained_saes_directory import get_pretrained_saes_directory

    release = next(iter(get_pretrained_saes_directory()))
    with pytest.raises(SpecError, match="has no SAE"):
        load_sae(f"saelens:{release}/definitely-not-an-id", device="cpu")


def test_identity_spec_needs_model(tiny_model) -> None:
    with pytest.raises(SpecError, match="needs the model"):
        load_sae("identity:blocks.0.hook_resid_post", device="cpu")
    sae = load_sae("identity:blocks.0.hook_resid_post", model=tiny_model, device="cpu")
    assert sae.cfg.d_in == sae.cfg.d_sae == 16


def test_sae_must_fit_model(tiny_model) -> None:
    check_sae_fits(tiny_model, IdentitySAE.for_hook(16, "blocks.1.hook_resid_post"), ctx_len=64)
    with pytest.raises(CompatibilityError, match="d_in=8 but activations"):
        check_sae_fits(tiny_model, IdentitySAE.for_hook(8, "blocks.1.hook_resid_post"))
    with pytest.raises(CompatibilityError, match=r"does not exist.*Did you mean"):
        check_sae_fits(tiny_model, IdentitySAE.for_hook(16, "blocks.1.hook_resid_pots"))
    with pytest.raises(CompatibilityError, match="exceeds the context"):
        check_sae_fits(tiny_model, IdentitySAE.for_hook(16, "blocks.1.hook_resid_post"), ctx_len=65)


def test_random_sae_same_shape_new_directions(tmp_path: Path) -> None:
    from sae_interp.saes import random_like
    from sae_interp.testing import make_tiny_sae

    sae = make_tiny_sae(d_sae=48, k=4)
    with torch.no_grad():
        sae.W_dec.mul_(torch.linspace(0.5, 2.0, 48)[:, None])
    original = sae.W_dec.detach().clone()
    control = random_like(sae, seed=1)
    assert type(control) is TopKSAE and control.W_dec.shape == sae.W_dec.shape
    assert torch.allclose(control.W_dec.norm(dim=-1), sae.W_dec.norm(dim=-1), atol=1e-5)
    cos = torch.nn.functional.cosine_similarity(control.W_dec, sae.W_dec, dim=-1)
    assert cos.abs().max() < 0.9  # no direction survives
    assert torch.allclose((control.W_dec @ control.W_enc).diagonal(), torch.ones(48), atol=1e-5)
    assert torch.equal(control.b_enc, sae.b_enc) and control.cfg.k == 4
    assert control.cfg.extra["random_control_seed"] == 1
    assert torch.equal(random_like(sae, seed=1).W_dec, control.W_dec)
    assert not torch.equal(random_like(sae, seed=2).W_dec, control.W_dec)
    x = torch.randn(5, 16)
    assert ((control.encode(x) != 0).sum(-1) <= 4).all()  # same sparsity rule
    assert torch.equal(sae.W_dec, original)  # the original is untouched
    sae.save(tmp_path / "s")
    loaded = load_sae(f"random:{tmp_path / 's'}@1", device="cpu")
    assert torch.allclose(loaded.W_dec, control.W_dec)
