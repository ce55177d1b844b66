"""The simulator an eval (or the tree explainer) uses, built from its settings and shared
resources: the chat service, and a prompt log-probs client on the same endpoint (shared by
every eval of a run, and cached with the service's response cache). For the offline LLM the
prompt log-probs are computed in-process from the same GGUF file (its server's echo is too
slow to use: see :mod:`sae_interp.llm.local_prompt_logprobs`)."""

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
    base_url = getattr(service.backend, "base_url", None)
    if settings.mode != "chat" and llm.resolved_backend() == "local":
        client = resources.shared(
            "simulation:local_prompt_logprobs", lambda: LocalPromptLogprobs(cache=service.cache)
        )
    elif settings.mode != "chat" and (base_url is not None or llm.model):
        client = resources.shared(
            "simulation:prompt_logprobs",
            lambda: CompletionsPromptLogprobs(
                service.backend.model,
                base_url,
                llm.api_key_env,
                llm.effective_concurrency(),
                llm.timeout_s,
                cache=service.cache,
            ),
        )
    return Simulator(settings, tokenizer, service, client)
