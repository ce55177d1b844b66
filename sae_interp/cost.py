"""``sae-interp cost``: what explaining and scoring latents costs, per eval, before paying.

Each eval's dry-run planner (the same one ``--dry-run`` uses, on the same records and
prompts a run would build) plans the configured latents of the first SAE with nothing
stored yet, so every explanation and every score is counted. Per latent, that gives calls,
prompt tokens and completion tokens (an upper bound: every answer at ``max_tokens``);
scaled to each of ``--latent-counts``, the dollars at the model's standard and batch
prices, and the hours at the LLM's concurrency and ``--latency-s`` seconds per call. A last
row plans the evals together, as ``evals.all`` runs them: explanations are paid once.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator
from tabulate import tabulate

from sae_interp.base.torch_utils import resolve_device
from sae_interp.evals import get_eval
from sae_interp.evals.all.eval_config import AllEvalConfig, whole_eval
from sae_interp.framework.cli import command_main
from sae_interp.framework.runner import LLMPlan, plan_per_sae
from sae_interp.llm.pricing import batch_price_of, price_of
from sae_interp.models import load_model

logger = logging.getLogger(__name__)


class CostConfig(AllEvalConfig):
    """Plan the LLM calls of evals on a few latents and scale them to many: calls, tokens,
    dollars (standard and batch prices) and hours per eval. Takes every setting of the evals
    it plans; nothing is called and nothing is stored."""

    latent_counts: list[int] = Field(
        default_factory=lambda: [1_000, 1_000_000],
        description="Latent counts to price, comma-separated.",
    )
    latency_s: float = Field(
        default=2.0, gt=0, description="Mean seconds one call takes, for the hours column."
    )

    @field_validator("latent_counts")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if not value or any(n <= 0 for n in value):
            raise ValueError("give one or more positive latent counts")
        return value


class EvalCost(BaseModel):
    """The planned cost of one eval (or of the evals together, ``eval`` = ``all``)."""

    eval: str
    llm: str
    n_latents: int = Field(description="Latents planned.")
    calls_per_latent: float
    prompt_tokens_per_latent: float
    completion_tokens_per_latent: float = Field(description="Upper bound: answers at max_tokens.")
    usd_per_latent: float | None = Field(description="Standard prices; None when unpriced.")
    batch_usd_per_latent: float | None = Field(description="Batch prices; None when unpriced.")
    hours_per_latent: float = Field(description="calls x latency / concurrency.")


def _priced(model: str, prompt: float, completion: float, batch: bool) -> float | None:
    price = batch_price_of(model) if batch else price_of(model)
    return None if price is None else (prompt * price[0] + completion * price[1]) / 1e6


def eval_cost(plan: LLMPlan, name: str, n_latents: int, cfg: CostConfig) -> EvalCost:
    """``plan`` (of ``n_latents`` latents) per latent, priced and timed with ``cfg``."""
    n = max(1, n_latents)
    prompt, completion = plan.prompt_tokens / n, plan.max_completion_tokens / n
    model = cfg.llm.model_name()
    concurrency = max(1, cfg.llm.effective_concurrency())
    return EvalCost(
        eval=name,
        llm=plan.llm,
        n_latents=n_latents,
        calls_per_latent=plan.calls / n,
        prompt_tokens_per_latent=prompt,
        completion_tokens_per_latent=completion,
        usd_per_latent=_priced(model, prompt, completion, batch=False),
        batch_usd_per_latent=_priced(model, prompt, completion, batch=True),
        hours_per_latent=plan.calls / n * cfg.latency_s / concurrency / 3600,
    )


def cost_table(
    cfg: CostConfig, *, model: Any = None, saes: Mapping[str, object] | None = None
) -> list[EvalCost]:
    """One :class:`EvalCost` per eval of ``cfg.evals`` on its first SAE, then one for them
    together (when there are several)."""
    with tempfile.TemporaryDirectory(prefix="sae-interp-cost-") as tmp:
        base = cfg.model_copy(update={"output_dir": Path(tmp), "saes": cfg.saes[:1]})
        device = resolve_device(base.device)
        model = model or load_model(base.model, device=device, dtype=base.dtype)
        rows = []
        for name in base.evals:
            whole = whole_eval(name)
            sub = base.config_for(name) if whole is None else base.whole_config(name)
            plans = plan_per_sae(get_eval(name), sub, model=model, saes=saes)
            if plans:
                rows.append(eval_cost(plans[0], name, _n_latents(sub), cfg))
        if len(base.evals) > 1:
            (together,) = plan_per_sae(get_eval("all"), base, model=model, saes=saes)
            rows.append(eval_cost(together, "all", _n_latents(base), cfg))
    return rows


def _n_latents(config: Any) -> int:
    latents = getattr(config, "latents", None)
    return len(latents) if latents else int(getattr(config, "n_latents", 1))


def render(rows: Sequence[EvalCost], counts: Sequence[int]) -> str:
    """The table: per eval, per latent, then dollars and hours for each latent count."""
    table = []
    for r in rows:
        row: dict[str, Any] = {
            "eval": r.eval,
            "calls / latent": round(r.calls_per_latent, 2),
            "prompt tok / latent": round(r.prompt_tokens_per_latent),
            "completion tok / latent (max)": round(r.completion_tokens_per_latent),
        }
        for n in counts:
            label = f"{n:,}"
            row[f"$ {label}"] = _dollars(r.usd_per_latent, n)
            row[f"$ batch {label}"] = _dollars(r.batch_usd_per_latent, n)
            row[f"hours {label}"] = round(r.hours_per_latent * n, 2)
        table.append(row)
    llm = rows[0].llm if rows else "?"
    return f"LLM: {llm}\n" + tabulate(table, headers="keys", tablefmt="github")


def _dollars(per_latent: float | None, n: int) -> str:
    return "unpriced" if per_latent is None else f"{per_latent * n:,.2f}"


def main(argv: Sequence[str] | None = None, prog: str = "sae-interp cost") -> int:
    return command_main(
        CostConfig, argv, prog, lambda cfg: render(cost_table(cfg), cfg.latent_counts) + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
