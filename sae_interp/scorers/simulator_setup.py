"""The simulator an eval (or the tree explainer) uses, built from its settings and the
eval's LLM service. All-at-once mode reads prompt log-probs: from a remote completions
endpoint through that same service, or, for the offline LLM, computed in-process from the
same GGUF file (its server's echo is too slow: see :mod:`sae_interp.llm.local_prompt_logprobs`),
counted in the service's usage report and kept in its response cache."""

from __future__ import annotations

from typing import Any

from sae_interp.llm.local_prompt_logprobs import LocalPromptLogprobs
from sae_interp.llm.prompt_logprobs import CompletionsPromptLogprobs, PromptLogprobsClient
from sae_interp.llm.settings import LLMSettings
from sae_interp.scorers.simulation import Simulator, SimulatorSettings


def simulator_for(
    settings: SimulatorSettings, llm: LLMSettings, tokenizer: Any, resources: Any | None
) -> Simulator:
    """``resources`` is an :class:`~sae_interp.evals.common.EvalResources` (None when only
    planning: ``auto`` then assumes all_at_once for the local LLM, whose llama.cpp server
    returns prompt log-probs, and chat elsewhere)."""
    if resources is None:
        if settings.mode == "auto":
            local = llm.resolved_backend() == "local"
            settings = settings.model_copy(update={"mode": "all_at_once" if local else "chat"})
        return Simulator(settings, tokenizer)
    service = resources.service
    client: PromptLogprobsClient | None = None
    if settings.mode != "chat" and llm.resolved_backend() == "local":
        client = resources.shared(
            "simulation:local_prompt_logprobs", lambda: LocalPromptLogprobs(service=service)
        )
    elif settings.mode != "chat" and (llm.base_url is not None or llm.model):
        client = CompletionsPromptLogprobs(service)
    return Simulator(settings, tokenizer, service, client)
