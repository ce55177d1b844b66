"""The system prompt and evidence block every state shares."""

from __future__ import annotations

from sae_interp.agentic.formatting import exemplar_table, hypotheses_table, tests_table
from sae_interp.agentic.schema import AgentTranscript

SYSTEM = (
    "You are a careful scientist explaining one latent (a learned feature) of a sparse "
    "autoencoder on a language model. You can only learn about it from evidence: its top "
    "activating texts and the results of test texts that the system runs on the live model "
    "for you. Form hypotheses, test them, and revise them. Always reply with exactly one "
    "JSON object in the format asked for, and nothing after it."
)


def evidence(t: AgentTranscript) -> str:
    parts = ["Top activating texts of the latent:", exemplar_table(t.exemplars)]
    if t.hypotheses:
        parts += ["", "Hypotheses so far:", hypotheses_table(t.hypotheses)]
    parts += ["", "Tests so far:", tests_table(t.tests, t.exemplar_mean_max)]
    return "\n".join(parts)
