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
