"""FINAL_CONCLUSION: the explanation, with its evidence and short labels."""

from __future__ import annotations

from typing import Any

from sae_interp.agentic.parsing import extract_json, require_str, str_list
from sae_interp.agentic.prompts.common import evidence
from sae_interp.agentic.schema import AgentTranscript


def user_message(t: AgentTranscript) -> str:
    return (
        f"{evidence(t)}\n\nWrite the final explanation of the latent: one short sentence "
        "saying what makes it fire (which tokens, in which contexts), the evidence for it "
        "(test numbers or exemplar numbers) and up to three short labels. Reply as\n"
        '{"description": "...", "evidence": ["..."], "labels": ["..."]}'
    )


def parse(text: str) -> dict[str, Any]:
    data = extract_json(text)
    return {
        "description": require_str(data, "description"),
        "evidence": str_list(data, "evidence"),
        "labels": str_list(data, "labels")[:3],
    }
