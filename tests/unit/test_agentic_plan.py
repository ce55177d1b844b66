"""The agentic eval's ``--dry-run`` plans its calls: explanations and evaluations exactly,
the agent's data-dependent calls as an upper bound."""

from __future__ import annotations

from pathlib import Path

from helpers import agent_reply, agentic_config

from sae_interp.agentic.prompts import common
from sae_interp.evals.agentic import run_eval
from sae_interp.evals.agentic.main import DEFINITION
from sae_interp.evals.agentic.plan import agent_calls_at_most
from sae_interp.framework.runner import plan_per_sae
from sae_interp.llm import ScriptedBackend
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.testing import make_tiny_sae


def test_dry_run_plans_the_agentic_calls(tmp_path: Path, corpus_file: Path) -> None:
    backend = ScriptedBackend(agent_reply)
    LLM_BACKENDS.register("agent-plan-script", lambda s, stack: backend, overwrite=True)
    cfg = agentic_config(tmp_path, corpus_file, backend="agent-plan-script")
    sae = make_tiny_sae(d_sae=32, k=4)
    (plan,) = plan_per_sae(DEFINITION, cfg, saes={"tiny": sae})
    assert backend.calls == [] and plan.prompt_tokens > 0 and "agent: at most" in plan.notes
    run_eval(cfg, saes={"tiny": sae})
    agent = sum(r.messages[0].content == common.SYSTEM for r in backend.calls)
    other = len(backend.calls) - agent
    assert plan.calls - 2 * agent_calls_at_most(cfg) == other  # explanations + evaluations
    assert 0 < agent <= 2 * agent_calls_at_most(cfg)
    (again,) = plan_per_sae(DEFINITION, cfg, saes={"tiny": sae})
    assert again.calls == 0  # everything finished


def test_dry_run_plans_the_random_sae_arm_and_reseeds(tmp_path: Path, corpus_file: Path) -> None:
    backend = ScriptedBackend(agent_reply)
    LLM_BACKENDS.register("agent-plan-script", lambda s, stack: backend, overwrite=True)
    cfg = agentic_config(tmp_path, corpus_file, backend="agent-plan-script").model_copy(
        update={"random_sae_control": True, "seeds": [7]}
    )
    sae = make_tiny_sae(d_sae=32, k=4)
    (plan,) = plan_per_sae(DEFINITION, cfg, saes={"tiny": sae})
    assert "1 extra seeds" in plan.notes and "random-SAE control" in plan.notes
    run_eval(cfg, saes={"tiny": sae})
    agent = sum(r.messages[0].content == common.SYSTEM for r in backend.calls)
    other = len(backend.calls) - agent
    # explanations of both SAEs' latents, and evaluations of both plus the reseed, exactly
    assert plan.calls - 4 * agent_calls_at_most(cfg) == other
    assert 0 < agent <= 4 * agent_calls_at_most(cfg)
