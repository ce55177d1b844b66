"""The known-answer report, computed from per-latent results (pure: no model, no LLM).

Per scorer and metric: the planted latents, the decoys (same explanation text as their
planted partner in the given-explanations run) and the shuffled-explanation control (the
planted latents scored with another latent's explanation), each with a bootstrap interval,
and the intervals of the differences planted - control (paired) and planted - decoys."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from sae_interp.saes.planted_sets import TokenSet
from sae_interp.stats import (
    Estimate,
    IntervalSettings,
    bootstrap_mean,
    difference_of_means,
    paired_difference,
)

# per-latent metrics reported for each eval (the first is the headline); an eval not listed
# here is reported on its numeric fields whose name contains "auroc"
SUITE_METRICS: dict[str, tuple[str, ...]] = {
    "autointerp": ("auroc", "balanced_accuracy"),
    "fuzzing": ("auroc", "balanced_accuracy"),
    "surprisal": ("auroc", "auroc_activating_tokens"),
    "embedding": ("auroc",),
    "intruder": ("accuracy", "raw_accuracy", "p_correct"),
    "simulation": ("correlation", "per_window_correlation"),
}


class ScorerRow(BaseModel):
    source: str = Field(description="'given' (correct explanations) or 'explainer'.")
    eval: str
    metric: str
    planted: Estimate
    decoys: Estimate
    control: Estimate = Field(description="Planted latents with a shuffled explanation.")
    planted_minus_control: Estimate = Field(description="Paired over planted latents.")
    planted_minus_decoys: Estimate = Field(description="Difference of means.")
    separates_control: bool = Field(description="planted - control interval above zero.")
    separates_decoys: bool = Field(description="planted - decoys interval above zero.")


class ExplainerQuality(BaseModel):
    n_planted: int
    n_named: int
    fraction: float
    explanations: dict[int, str | None]
    named: dict[int, bool]


def interval(values: Sequence[float | None], seed: int) -> Estimate:
    return bootstrap_mean(values, IntervalSettings(seed=seed))


def _value(metrics: Mapping[str, Any] | None, metric: str) -> float | None:
    value = (metrics or {}).get(metric)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def metrics_of(eval_name: str, example: Mapping[str, Any] | None) -> tuple[str, ...]:
    if eval_name in SUITE_METRICS:
        return SUITE_METRICS[eval_name]
    return tuple(k for k, v in (example or {}).items() if "auroc" in k and _value(example, k))


def scorer_rows(
    source: str,
    eval_name: str,
    rows: Sequence[Mapping[str, Any]],
    planted: Sequence[int],
    decoys: Sequence[int],
    seed: int,
) -> list[ScorerRow]:
    """``rows``: per latent ``{"latent", "metrics", "control_metrics", "same_control"}``
    (``same_control``: the control explanation is the latent's own text, which happens when
    a planted latent is given its decoy partner's explanation; such pairs are left out of
    the control)."""
    by_latent = {int(r["latent"]): r for r in rows}
    first = next((r["metrics"] for r in rows if r.get("metrics")), None)
    out = []
    for metric in metrics_of(eval_name, first):
        real = [_value(by_latent.get(i, {}).get("metrics"), metric) for i in planted]
        decoy = [_value(by_latent.get(i, {}).get("metrics"), metric) for i in decoys]
        paired = [
            (_value(r.get("metrics"), metric), _value(r.get("control_metrics"), metric))
            for i in planted
            if (r := by_latent.get(i)) is not None and not r.get("same_control")
        ]
        paired_ok = [(a, b) for a, b in paired if a is not None and b is not None]
        settings = IntervalSettings(seed=seed)
        control_ci = paired_difference(
            [a for a, _ in paired_ok], [b for _, b in paired_ok], settings
        )
        decoy_ci = difference_of_means(real, decoy, settings)
        out.append(
            ScorerRow(
                source=source,
                eval=eval_name,
                metric=metric,
                planted=interval(real, seed),
                decoys=interval(decoy, seed),
                control=interval([b for _, b in paired_ok], seed),
                planted_minus_control=control_ci,
                planted_minus_decoys=decoy_ci,
                separates_control=control_ci.lo is not None and control_ci.lo > 0,
                separates_decoys=decoy_ci.lo is not None and decoy_ci.lo > 0,
            )
        )
    return out


def explainer_quality(
    explanations: Mapping[int, str | None], sets: Mapping[int, TokenSet]
) -> ExplainerQuality:
    """Fraction of planted latents whose explanation names their token set."""
    named = {i: s.names_this_set(explanations.get(i)) for i, s in sets.items()}
    n = len(named)
    return ExplainerQuality(
        n_planted=n,
        n_named=sum(named.values()),
        fraction=sum(named.values()) / n if n else math.nan,
        explanations={i: explanations.get(i) for i in sets},
        named=named,
    )


def _fmt(x: Estimate) -> str:
    if x.value is None:
        return "-"
    if x.lo is None or x.hi is None:
        return f"{x.value:.2f}"
    return f"{x.value:.2f} [{x.lo:.2f}, {x.hi:.2f}]"


def markdown_table(rows: Sequence[ScorerRow]) -> str:
    """The report's table: one line per (explanations, eval, metric)."""
    head = (
        "| explanations | eval | metric | planted | decoys | shuffled control | "
        "planted − control | planted − decoys |\n|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        mark_c = " ✓" if r.separates_control else ""
        mark_d = " ✓" if r.separates_decoys else ""
        lines.append(
            f"| {r.source} | {r.eval} | {r.metric} | {_fmt(r.planted)} | {_fmt(r.decoys)} | "
            f"{_fmt(r.control)} | {_fmt(r.planted_minus_control)}{mark_c} | "
            f"{_fmt(r.planted_minus_decoys)}{mark_d} |"
        )
    return "\n".join(lines)
