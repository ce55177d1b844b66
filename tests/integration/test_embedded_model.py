import torch

from sae_interp.models.embedded import converted_dir
from sae_interp.models.offline import hub_offline


def test_embedded_model_matches_hugging_face_logits(gemma) -> None:
    from transformers import AutoModelForCausalLM

    assert gemma.cfg.n_layers == 18 and gemma.cfg.d_model == 640
    with hub_offline():
        hf = AutoModelForCausalLM.from_pretrained(
            str(converted_dir()), dtype=torch.float32, local_files_only=True
        )
    tokens = gemma.to_tokens(
        "The quick brown fox jumps over the lazy dog. In 1969, Apollo 11 landed"
    )
    with torch.no_grad():
        ours = gemma(tokens)
        theirs = hf(tokens).logits
    assert (ours - theirs).abs().max() < 1e-3
    assert torch.equal(ours.argmax(-1), theirs.argmax(-1))


def test_conversion_is_cached_with_provenance() -> None:
    import json

    record = json.loads((converted_dir() / "sae_interp_conversion.json").read_text())
    assert record["tl_name"] == "google/gemma-3-270m"
    assert len(record["gguf_sha256"]) == 64
    assert (converted_dir() / "model.safetensors").exists()


def test_model_is_a_real_language_model(gemma) -> None:
    """A real LM predicts an obvious continuation; a random one would not."""
    logits = gemma(gemma.to_tokens("Monday, Tuesday, Wednesday, Thursday,"))
    assert gemma.tokenizer.decode(logits[0, -1].argmax()).strip() == "Friday"


def test_random_weights_control_keeps_tokens_and_loses_the_computation(gemma) -> None:
    """``random-weights:embedded``: every Gemma block parameter is re-drawn (none is left
    unhandled), the embeddings are Gemma's, and the obvious continuation is gone."""
    from sae_interp.models import load_model

    random = load_model("random-weights:embedded@0", device="cpu")
    assert torch.equal(random.embed.W_E, gemma.embed.W_E)
    assert random.cfg.model_name != gemma.cfg.model_name
    for (name, mine), (_, theirs) in zip(
        random.named_parameters(), gemma.named_parameters(), strict=True
    ):
        leaf = name.rsplit(".", 1)[-1].lstrip("_")
        if not name.startswith("blocks."):
            continue
        if leaf.startswith("W_"):
            assert not torch.equal(mine, theirs), name  # re-drawn
        elif leaf.startswith("b_"):
            assert torch.all(mine == 0), name  # Gemma's are zero too
        else:
            assert leaf == "w" and torch.all(mine == 1), name  # norms: identity
            assert not torch.all(theirs == 1), name
    logits = random(random.to_tokens("Monday, Tuesday, Wednesday, Thursday,"))
    assert random.tokenizer.decode(logits[0, -1].argmax()).strip() != "Friday"


def test_the_model_without_weights_has_the_loaded_config_and_tokenizer(gemma) -> None:
    """What a judge-only stage reads instead of the model (the latent cache key, the
    provenance, the tokenizer) equals the loaded model's, for the embedded spec, its
    converted directory as a local spec, and its random-weights control."""
    from sae_interp.models.loading import model_shell
    from sae_interp.models.randomized import random_weights_name

    text = "Monday, Tuesday (the 3rd) and <b>Wednesday</b>"
    expected = {k: str(v) for k, v in gemma.cfg.to_dict().items() if k != "device"}
    for spec in ("embedded", f"{converted_dir('gemma-3-270m')}#google/gemma-3-270m"):
        shell = model_shell(spec)
        assert shell is not None and str(shell.cfg.device) == "meta", spec
        found = {k: str(v) for k, v in shell.cfg.to_dict().items() if k != "device"}
        assert found == expected, spec
        assert shell.tokenizer(text)["input_ids"] == gemma.tokenizer(text)["input_ids"]
        assert shell.tokenizer.bos_token_id == gemma.tokenizer.bos_token_id
        ids = gemma.to_tokens(text)[0].tolist()
        assert shell.tokenizer.decode(ids) == gemma.tokenizer.decode(ids)
        assert shell.tokenizer.padding_side == gemma.tokenizer.padding_side
    random = model_shell("random-weights:embedded@3")
    assert random is not None
    assert random.cfg.model_name == random_weights_name(gemma.cfg.model_name, 3)
