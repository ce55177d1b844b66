"""The contrastive explainer: its prompt shows the train windows and as many contrast
windows (similar windows where the latent is zero, drawn for the explainer only), its
explanations are stored apart from one-shot's, and an eval runs with it end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import Judge, autointerp_config, task_of

from sae_interp.activations.records import LatentRecord, RecordStatus, Window, WindowKind
from sae_interp.evals.autointerp import run_eval
from sae_interp.explainers import contrastive, contrastive_prompts
from sae_interp.explainers.one_shot import OneShotSettings
from sae_interp.explainers.registry import contrast_windows, store_path
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.testing import make_tiny_sae, make_tiny_tokenizer


def window(text_ids: list[int], acts: list[float], kind: WindowKind) -> Window:
    return Window(seq=0, start=1, end=1 + len(text_ids), tokens=text_ids, activations=acts,
                  kind=kind)  # fmt: skip


def test_the_prompt_shows_each_train_window_and_a_contrast_window_each() -> None:
    tokenizer = make_tiny_tokenizer()
    ids = [tokenizer(w, add_special_tokens=False)["input_ids"] for w in ("the cat", "a dog")]
    record = LatentRecord(
        latent=3, status=RecordStatus.ok, n_activating_windows=2, max_activation=1.0,
        firing_frequency=0.1,
        train=[window(ids[0], [0.0] * (len(ids[0]) - 1) + [1.0], WindowKind.activating)] * 2,
        contrast=[window(ids[1], [0.0] * len(ids[1]), WindowKind.similar_negative)] * 3,
    )  # fmt: skip
    request = contrastive.build_request(record, tokenizer, OneShotSettings())
    assert request.messages[0].content == contrastive_prompts.SYSTEM
    last = request.messages[-1].content
    assert last.count("Contrast ") == 2 and last.count("Example ") == 2  # as many as shown
    contrast_lines = [line for line in last.splitlines() if line.startswith("Contrast")]
    assert all("dog" in line and "<<" not in line for line in contrast_lines)
    assert "<<" in next(line for line in last.splitlines() if line.startswith("Example 1"))
    assert len(request.messages) == 1 + 2 * len(contrastive_prompts.DEMOS) + 1


def test_an_eval_with_the_contrastive_explainer(
    tmp_path: Path, corpus_file: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers import TinyEmbedder

    monkeypatch.setattr(
        "sae_interp.activations.window_index.sentence_embedder",
        lambda name: TinyEmbedder().encode,
    )
    judge = Judge()
    seen: list[str] = []

    def reply(request):  # type: ignore[no-untyped-def]
        if task_of(request) == "explain":
            seen.append(request.messages[-1].content)
        return judge.reply(request)

    judge.backend.script = reply
    LLM_BACKENDS.register("test-judge", lambda settings, stack: judge.backend, overwrite=True)
    cfg = autointerp_config(tmp_path, corpus_file, explainer_kind="contrastive")
    assert contrast_windows(cfg) == cfg.sampling.n_train == 4
    (out,) = run_eval(cfg, saes={"tiny": make_tiny_sae(d_sae=32, k=4)})
    explained = [d for d in out.eval_result_details if d.status == "ok"]
    assert explained and len(seen) == out.eval_result_metrics.n_requested
    assert all(message.count("Contrast ") >= 1 and "Not active:" in message for message in seen)
    one_shot = cfg.model_copy(update={"explainer_kind": "one_shot"})
    assert store_path(cfg, "tiny", "f") != store_path(one_shot, "tiny", "f")
