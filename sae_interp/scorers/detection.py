"""Detection scoring: can a judge tell activating from non-activating windows given only
the explanation? Windows are shown without highlights, shuffled, in small batches; the judge
answers a 0/1 list (see :mod:`sae_interp.scorers.judge`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field

from sae_interp.activations.records import LatentRecord, Window
from sae_interp.base.registry import Registry
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import LLMRequest
from sae_interp.scorers import detection_prompts as prompts
from sae_interp.scorers import judge, per_example_prompts
from sae_interp.scorers.base import JudgeScorer, LatentScorer, ScoreItem
from sae_interp.scorers.judge import JudgeMetrics, JudgeOutcome, JudgePlan, JudgeSettings, Shown
from sae_interp.scorers.per_example import PerExampleScorer
from sae_interp.scorers.saebench_detection import SaeBenchScorer
from sae_interp.text.formatting import plain_text

# detection's outcome and metrics are the generic judge's
DetectionOutcome = JudgeOutcome
DetectionMetrics = JudgeMetrics
DetectionPlan = JudgePlan
detection_metrics = judge.judge_metrics
read_outcome = judge.read_outcome
run_plans = judge.run_plans


class DetectionSettings(JudgeSettings):
    mode: str = Field(
        default="auto",
        description="'batched': 0/1 per window in small batches (metrics + AUROC); 'saebench': "
        "SAEBench's single prompt of 14 windows, indices listed, accuracy; 'per_example': one "
        "window per request, the judge names the matching words or None, AUROC from "
        "1 - P(None); 'auto': per_example with the offline LLM (it recovers the planted "
        "suite's known answers there), batched with any endpoint.",
    )


def shown_examples(record: LatentRecord, tokenizer: Any) -> list[Shown]:
    """Activating test windows (label 1) and negatives (label 0) as plain text."""
    return [
        Shown(w, int(w.is_activating), plain_text(w.str_tokens(tokenizer)))
        for w in record.test_with_negatives
    ]


def arrange(record: LatentRecord, seed: int, per_prompt: int) -> list[list[tuple[Window, int]]]:
    """Test windows (label 1) and negatives (label 0), shuffled with a fixed seed, batched."""
    shown = [Shown(w, int(w.is_activating), "") for w in record.test_with_negatives]
    batches = judge.shuffle_in_batches(shown, seed, record.latent, per_prompt)
    return [[(s.window, s.label) for s in batch] for batch in batches]


def build_request(explanation: str, texts: Sequence[str], settings: JudgeSettings) -> LLMRequest:
    return judge.build_request(prompts, explanation, texts, settings)


def plan_latent(
    record: LatentRecord,
    explanation: str,
    tokenizer: Any,
    settings: JudgeSettings,
    seed: int,
) -> JudgePlan:
    shown = shown_examples(record, tokenizer)
    return judge.plan_judgements(record.latent, explanation, shown, prompts, settings, seed)


class DetectionScorer(JudgeScorer):
    def __init__(
        self, tokenizer: Any, service: LLMService | None, settings: JudgeSettings, seed: int
    ) -> None:
        super().__init__(tokenizer, service, seed)
        self.settings = settings

    def plan(self, item: ScoreItem) -> JudgePlan:
        return plan_latent(item.record, item.explanation, self.tokenizer, self.settings, self.seed)


def score_latent(
    record: LatentRecord,
    explanation: str,
    tokenizer: Any,
    service: LLMService,
    settings: JudgeSettings,
    seed: int,
) -> JudgeOutcome:
    return DetectionScorer(tokenizer, service, settings, seed).score(
        [ScoreItem(record, explanation)]
    )[0]


# mode -> the scorer of that mode, from (tokenizer, LLM service or None when planning,
# detection settings, seed)
DetectionFactory = Callable[[Any, LLMService | None, DetectionSettings, int], LatentScorer]
DETECTION_MODES: Registry[DetectionFactory] = Registry("detection mode")
DETECTION_MODES.register("batched", DetectionScorer)
DETECTION_MODES.register(
    "saebench", lambda tokenizer, service, settings, seed: SaeBenchScorer(tokenizer, service, seed)
)
DETECTION_MODES.register(
    "per_example",
    lambda tokenizer, service, settings, seed: PerExampleScorer(
        tokenizer,
        service,
        settings,
        seed,
        lambda record: shown_examples(record, tokenizer),
        per_example_prompts.DETECTION,
    ),
)
DetectionSettings.MODES = DETECTION_MODES
