"""Output schema of the fuzzing eval."""

from __future__ import annotations

from pydantic import Field

from sae_interp.core.output import BaseEvalOutput
from sae_interp.evals.autointerp.eval_output import PooledDetection
from sae_interp.evals.common.scored import ExplainedCounts, LatentScore
from sae_interp.evals.fuzzing.eval_config import FuzzingEvalConfig
from sae_interp.scorers.judge import JudgeMetrics, JudgeOutcome


class FuzzingMetrics(ExplainedCounts):
    fuzzing: PooledDetection | None = Field(description="Means over scored latents.")
    random_explanation_control: PooledDetection | None = Field(
        description="The same scoring with explanations shuffled across latents."
    )


LatentFuzzingResult = LatentScore[JudgeOutcome, JudgeMetrics]


class FuzzingEvalOutput(BaseEvalOutput[FuzzingEvalConfig, FuzzingMetrics, LatentFuzzingResult]):
    """Result of ``sae_interp.evals.fuzzing``."""
