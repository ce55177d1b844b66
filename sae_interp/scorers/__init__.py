"""Scorers: how an explanation of a latent is scored.

Every scorer follows :class:`LatentScorer` (score (record, explanation) pairs, then the
latent's metrics from each outcome), so the shared loop of ``sae_interp.evals.common`` drives
them all; the LLM judges build on :class:`JudgeScorer`. Also here: the shuffled-explanation
control, the pure classification metrics (``scorers.metrics``) and the generation and
prediction evaluations of the agentic eval. Each scorer's prompts live in their own
``*_prompts`` module (import those as submodules)."""

from sae_interp.scorers.base import JudgeScorer, LatentScorer, ScoreItem
from sae_interp.scorers.controls import shuffled_explanation_sources
from sae_interp.scorers.detection import DetectionMetrics, DetectionScorer, DetectionSettings
from sae_interp.scorers.embedding import EmbeddingMetrics, EmbeddingScorer, EmbeddingSettings
from sae_interp.scorers.fuzzing import FuzzingScorer, FuzzingSettings
from sae_interp.scorers.generation import GenerationResult, GenerationSettings
from sae_interp.scorers.intervention import score_explanations
from sae_interp.scorers.intruder import IntruderMetrics, IntruderScorer, IntruderSettings
from sae_interp.scorers.judge import JudgeMetrics, JudgeSettings
from sae_interp.scorers.per_example import PerExampleScorer
from sae_interp.scorers.prediction import PredictionResult, PredictionSettings
from sae_interp.scorers.saebench_detection import SaeBenchMetrics, SaeBenchScorer
from sae_interp.scorers.simulation import SimulationMetrics, SimulationScorer, SimulatorSettings
from sae_interp.scorers.simulator_setup import simulator_for
from sae_interp.scorers.surprisal import SurprisalMetrics, SurprisalScorer, SurprisalSettings

__all__ = [
    "DetectionMetrics",
    "DetectionScorer",
    "DetectionSettings",
    "EmbeddingMetrics",
    "EmbeddingScorer",
    "EmbeddingSettings",
    "FuzzingScorer",
    "FuzzingSettings",
    "GenerationResult",
    "GenerationSettings",
    "IntruderMetrics",
    "IntruderScorer",
    "IntruderSettings",
    "JudgeMetrics",
    "JudgeScorer",
    "JudgeSettings",
    "LatentScorer",
    "PerExampleScorer",
    "PredictionResult",
    "PredictionSettings",
    "SaeBenchMetrics",
    "SaeBenchScorer",
    "ScoreItem",
    "SimulationMetrics",
    "SimulationScorer",
    "SimulatorSettings",
    "SurprisalMetrics",
    "SurprisalScorer",
    "SurprisalSettings",
    "score_explanations",
    "shuffled_explanation_sources",
    "simulator_for",
]
