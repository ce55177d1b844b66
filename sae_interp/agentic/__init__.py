"""The SAGE-style agent: a state machine (code controls the flow, the LLM fills each step),
one prompt module per LLM state with its validator, typed tools that run texts through the
live model, and the transcript schema."""

from sae_interp.agentic.controller import AgentController, AgentLLM, AgentSettings
from sae_interp.agentic.schema import AgentTranscript
from sae_interp.agentic.tools import ModelTools, ToolError

__all__ = [
    "AgentController",
    "AgentLLM",
    "AgentSettings",
    "AgentTranscript",
    "ModelTools",
    "ToolError",
]
