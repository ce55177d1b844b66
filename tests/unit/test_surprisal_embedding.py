import math
import re
from typing import ClassVar

import numpy as np
import pytest

from sae_interp.activations.records import LatentRecord, RecordStatus, Window, WindowKind
from sae_interp.scorers import surprisal_prompts
from sae_interp.scorers.base import ScoreItem
from sae_interp.scorers.embedding import (
    EmbeddingExample,
    EmbeddingOutcome,
    EmbeddingScorer,
    EmbeddingSettings,
    embedding_metrics,
)
from sae_interp.scorers.surprisal import (
    SurprisalExample,
    SurprisalOutcome,
    SurprisalScorer,
    SurprisalSettings,
    surprisal_metrics,
)
from sae_interp.scoring_lm import TokenLogprobs


class WordLM:
    """Each space-separated word of a continuation costs 1 nat if the prefix's last
    description mentions it, else 3 nats. Counts the texts it scores per prefix."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def identity(self) -> str:
        return "word-lm"

    def continuation_logprobs(self, prefix, continuations):  # type: ignore[no-untyped-def]
        description = prefix.rsplit("Description: ", 1)[1].split("\n")[0]
        self.calls.append((description, len(continuations)))
        out = []
        for text in continuations:
            words = list(re.finditer(r"\S+", text))
            logprobs = [-1.0 if m.group() in description.split() else -3.0 for m in words]
            out.append(TokenLogprobs(logprobs, [m.start() for m in words]))
        return out


class SpacedTokenizer:
    """decode() gives each word with a leading space, like real BPE tokenizers."""

    words: ClassVar[list[str]] = ["the", "cat", "sat", "dog", "ran", "red", "a", "one", "two"]

    def decode(self, ids):  # type: ignore[no-untyped-def]
        return "".join(" " + self.words[i] for i in ids)


def _w(seq: int, words: str, active: list[int]) -> Window:
    ids = [SpacedTokenizer.words.index(w) for w in words.split()]
    acts = [1.0 if i in active else 0.0 for i in range(len(ids))]
    kind = WindowKind.activating if active else WindowKind.random_negative
    return Window(seq=seq, start=0, end=len(ids), tokens=ids, activations=acts, kind=kind)


@pytest.fixture
def record() -> LatentRecord:
    return LatentRecord(
        latent=5,
        status=RecordStatus.ok,
        n_activating_windows=2,
        max_activation=1.0,
        firing_frequency=0.1,
        test=[_w(0, "the cat sat", [1]), _w(1, "a red cat ran", [2])],
        negatives=[_w(2, "the dog sat", []), _w(3, "one two", [])],
    )


def test_surprisal_prefix_ends_with_the_description() -> None:
    text = surprisal_prompts.prefix("cats")
    assert text.startswith(surprisal_prompts.INTRO)
    assert text.endswith("\n\nDescription: cats\nSentences:\n")
    assert text.count("Description:") == len(surprisal_prompts.DEMOS) + 1


def test_surprisal_scores_the_right_explanation_above_a_wrong_one(record) -> None:
    lm = WordLM()
    scorer = SurprisalScorer(lm, SpacedTokenizer(), SurprisalSettings())
    good, bad = scorer.score([ScoreItem(record, "cat"), ScoreItem(record, "dog")])
    g, b = scorer.metrics(good), scorer.metrics(bad)
    # "cat" lowers the loss of both activating windows only: perfect separation
    assert g.auroc == 1.0 and g.auroc_activating_tokens == 1.0
    assert g.mean_loss_drop_activating == pytest.approx((2 / 3 + 2 / 4) / 2)
    assert g.mean_loss_drop_negatives == 0.0
    # "dog" lowers the loss of one negative only
    assert b.auroc < 0.5
    # activating-token variant: only the 'cat' token of each activating window counts (drop 2)
    assert [e.loss_drop_active for e in good.examples[:2]] == [2.0, 2.0]
    # the control prefix was scored once, for the 4 windows, and reused for the second item
    assert [c for c in lm.calls if c[0] == surprisal_prompts.CONTROL_DESCRIPTION] == [
        (surprisal_prompts.CONTROL_DESCRIPTION, 4)
    ]
    assert scorer.planned_requests(ScoreItem(record, "cat")) == []


def test_surprisal_metrics_by_hand() -> None:
    def ex(label: int, expl: float, ctrl: float) -> SurprisalExample:
        return SurprisalExample(
            seq=0, start=0, label=label, n_tokens=3, loss_explanation=expl, loss_control=ctrl
        )

    outcome = SurprisalOutcome(
        latent=0,
        explanation="x",
        examples=[ex(1, 1.0, 2.0), ex(1, 2.0, 2.1), ex(0, 2.0, 2.5), ex(0, 2.0, 1.0)],
    )
    m = surprisal_metrics(outcome)
    assert m.auroc == 0.75  # drops 1.0, 0.1 vs 0.5, -1.0: 3 of 4 pairs ordered
    assert m.auroc_activating_tokens == 0.75  # no token-level drops: falls back to the window
    assert m.n_examples == 4
    empty = SurprisalOutcome(latent=0, explanation="x", examples=[])
    assert math.isnan(surprisal_metrics(empty).auroc)


class BagOfWords:
    """A deterministic stand-in for a sentence embedder: word counts over a small vocabulary."""

    vocab: ClassVar[list[str]] = ["cat", "dog", "sat", "ran", "red", "one", "two"]

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts, batch_size, normalize_embeddings, show_progress_bar, convert_to_numpy):  # type: ignore[no-untyped-def]
        self.encoded += texts
        out = np.zeros((len(texts), len(self.vocab)), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.replace("\n", " ").split():
                if word in self.vocab:
                    out[i, self.vocab.index(word)] += 1
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out


def test_embedding_scorer_and_window_reuse(record) -> None:
    embedder = BagOfWords()
    scorer = EmbeddingScorer(embedder, SpacedTokenizer(), EmbeddingSettings())
    good, bad = scorer.score([ScoreItem(record, "cat"), ScoreItem(record, "dog")])
    assert scorer.metrics(good).auroc == 1.0
    assert scorer.metrics(bad).auroc < 0.5
    assert good.query.endswith("Query: cat") and good.query.startswith("Instruct: Retrieve")
    windows = [t for t in embedder.encoded if not t.startswith("Instruct")]
    assert sorted(windows) == sorted({" the cat sat", " a red cat ran", " the dog sat", " one two"})
    scorer.score([ScoreItem(record, "red")])  # windows already embedded: only the query
    assert len(embedder.encoded) == len(windows) + 3


def test_embedding_metrics_by_hand() -> None:
    def ex(label: int, sim: float) -> EmbeddingExample:
        return EmbeddingExample(seq=0, start=0, label=label, similarity=sim)

    outcome = EmbeddingOutcome(
        latent=0, explanation="x", query="q", examples=[ex(1, 0.9), ex(1, 0.2), ex(0, 0.5)]
    )
    m = embedding_metrics(outcome)
    assert m.auroc == 0.5 and m.mean_similarity_activating == pytest.approx(0.55)
    assert m.mean_similarity_negatives == pytest.approx(0.5) and m.n_examples == 3


def test_embedder_names_resolve_to_local_files(tmp_path) -> None:
    from sae_interp.activations.window_index import DEFAULT_EMBEDDER, embedder_path

    shipped = embedder_path(DEFAULT_EMBEDDER)
    assert shipped is not None and (shipped / "model.safetensors").exists()
    assert (shipped / "modules.json").exists()  # a sentence-transformers model directory
    assert embedder_path(str(tmp_path)) == tmp_path
    assert embedder_path("some-org/some-hub-model") is None  # left to the hub
