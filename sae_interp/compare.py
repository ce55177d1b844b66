"""``sae-interp compare RESULT_A RESULT_B``: can this eval tell two SAEs apart?

For every pooled score of the eval (not the bookkeeping ones, such as the fraction of
unreadable answers), the difference A - B over latents (or the eval's own units, such as
sparse probing's datasets) with a bootstrap
interval and a two-sided permutation p-value; then one sentence per metric saying whether
the eval separates the two. Two SAEs (or an SAE and its random SAE) have different
latents: the difference is of means, each side resampled on its own, tested by relabelling.
Two results on the same latents of the same SAE (another judge, explainer or negative
source) are paired: the per-latent differences are resampled, tested by sign flips. Units
shared by every SAE (sparse probing's datasets, on the same splits) pair across SAEs too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from tabulate import tabulate

from sae_interp.base.errors import SaeInterpError
from sae_interp.evals import get_eval
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.framework.runner import CompareSpec, EvalDefinition
from sae_interp.framework.table import format_estimate
from sae_interp.stats import (
    Estimate,
    IntervalSettings,
    defined,
    difference_of_means,
    paired_difference,
    permutation_p_value,
    pooled_fields,
    sign_flip_p_value,
)

Pairing = Literal["auto", "paired", "independent"]


class MetricComparison(BaseModel):
    metric: str
    mean_a: float | None
    mean_b: float | None
    difference: Estimate = Field(description="mean(A) - mean(B) with its bootstrap interval.")
    p_value: float | None = Field(description="Two-sided permutation test over the units.")
    separates: bool = Field(description="The interval excludes 0 and p < alpha.")
    verdict: str


class Comparison(BaseModel):
    eval_type_id: str
    sae_a: str
    sae_b: str
    unit: str = Field(
        default="latent", description="What is resampled: latents, or the eval's units."
    )
    n_latents_a: int = Field(description="Units (latents, or the eval's units) of A.")
    n_latents_b: int = Field(description="Units of B.")
    paired: bool = Field(
        description="The same units on both sides (the same SAE's latents, or the eval's "
        "shared units such as datasets): per-unit differences compared."
    )
    alpha: float
    metrics: list[MetricComparison]


def load_result(path: Path) -> BaseEvalOutput[Any, Any, Any]:
    """Any eval's result file, read back with its own output class."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as err:
        raise SaeInterpError(f"result file {path} does not exist") from err
    except json.JSONDecodeError as err:
        raise SaeInterpError(f"{path} is not JSON (line {err.lineno}: {err.msg})") from err
    if not isinstance(data, dict) or "eval_type_id" not in data:
        raise SaeInterpError(f"{path} is not an sae_interp result (no eval_type_id)")
    definition = get_eval(str(data["eval_type_id"]))
    try:
        return definition.output_cls.load(path)  # undefined metrics (null) read back as NaN
    except ValueError as err:  # pydantic's ValidationError is a ValueError
        raise SaeInterpError(
            f"{path} is not a readable {data['eval_type_id']} result "
            f"({type(err).__name__}; rerun the eval to write it again)"
        ) from err


def keyed_units(output: BaseEvalOutput[Any, Any, Any]) -> list[tuple[Any, BaseModel]]:
    """(unit key, headline metrics) of every unit that has them: the eval's own units when
    it declares them (``CompareSpec.units``), else latents (the key is None for an eval whose
    details are not one per latent)."""
    spec = get_eval(output.eval_type_id).compare or CompareSpec()
    if spec.units is not None:
        return spec.units(output)
    if spec.latent_metrics is None:
        raise SaeInterpError(f"the {output.eval_type_id} eval has no per-latent scores to compare")
    keyed = [
        (getattr(detail, "latent", None), spec.latent_metrics(detail))
        for detail in output.eval_result_details
    ]
    return [(key, m) for key, m in keyed if m is not None]


def _pairable(
    definition: EvalDefinition[Any, Any],
    a: BaseEvalOutput[Any, Any, Any],
    b: BaseEvalOutput[Any, Any, Any],
    keyed_a: list[tuple[Any, BaseModel]],
    keyed_b: list[tuple[Any, BaseModel]],
) -> str | None:
    """Why A and B cannot be compared unit by unit; None when they can."""
    spec = definition.compare or CompareSpec()
    unit = spec.unit
    if spec.pairing is not None:
        why = spec.pairing(a, b)
        if why is not None:
            return why
    elif a.provenance.sae_fingerprint is None or (
        a.provenance.sae_fingerprint != b.provenance.sae_fingerprint
    ):
        return "they are results of different SAEs"
    keys_a, keys_b = [k for k, _ in keyed_a], [k for k, _ in keyed_b]
    if None in keys_a or len(set(keys_a)) != len(keys_a):
        return f"the {a.eval_type_id} eval's details are not one per {unit}"
    if set(keys_a) != set(keys_b):
        return f"their {unit}s differ"
    return None


def _mean(values: Sequence[Any]) -> float | None:
    x = defined(values)
    return float(x.mean()) if len(x) else None


def _verdict(
    metric: str, diff: Estimate, p: float | None, separates: bool, unit: str = "latent"
) -> str:
    if diff.value is None:
        return f"{metric}: not comparable (no {unit} has a value in one of the results)"
    if diff.lo is None or p is None:
        return f"{metric}: too few {unit}s for an interval; cannot tell"
    if separates:
        side = "higher" if diff.value > 0 else "lower"
        return (
            f"{metric}: A is {side} than B by {format_estimate(diff.model_dump())} "
            f"(p = {p:.3g}); the eval separates them"
        )
    return (
        f"{metric}: difference {format_estimate(diff.model_dump())} (p = {p:.3g}) includes 0; "
        f"the eval does not separate them at this number of {unit}s"
    )


def compare(
    a: BaseEvalOutput[Any, Any, Any],
    b: BaseEvalOutput[Any, Any, Any],
    settings: IntervalSettings | None = None,
    n_permutations: int = 10_000,
    alpha: float = 0.05,
    pairing: Pairing = "auto",
) -> Comparison:
    """Each pooled metric of two results of the same eval, A - B, with interval and p:
    paired over latents when both are the same SAE's results on the same latents (``auto``),
    or as ``pairing`` says."""
    if a.eval_type_id != b.eval_type_id:
        raise SaeInterpError(
            f"cannot compare a {a.eval_type_id} result with a {b.eval_type_id} result"
        )
    settings = settings or IntervalSettings()
    definition = get_eval(a.eval_type_id)
    unit = (definition.compare or CompareSpec()).unit
    keyed_a, keyed_b = keyed_units(a), keyed_units(b)
    why_not = _pairable(definition, a, b, keyed_a, keyed_b)
    if pairing == "paired" and why_not is not None:
        raise SaeInterpError(f"cannot pair the two results {unit} by {unit}: {why_not}")
    paired = why_not is None and pairing != "independent"
    if paired:
        by_latent = dict(keyed_b)
        keyed_a = sorted(keyed_a, key=lambda item: item[0])
        keyed_b = [(key, by_latent[key]) for key, _ in keyed_a]
    metrics_a, metrics_b = [m for _, m in keyed_a], [m for _, m in keyed_b]
    classes = {type(m) for m in metrics_a + metrics_b}
    if len(classes) != 1:
        raise SaeInterpError(
            "the two results have no per-unit metrics in common (different modes or ks?)"
        )
    (metrics_cls,) = classes
    rows = []
    for name in pooled_fields(metrics_cls, scores_only=True):
        va = [getattr(m, name) for m in metrics_a]
        vb = [getattr(m, name) for m in metrics_b]
        if paired:
            diff = paired_difference(va, vb, settings)
            p = sign_flip_p_value(va, vb, n_permutations, settings.seed)
        else:
            diff = difference_of_means(va, vb, settings)
            p = permutation_p_value(va, vb, n_permutations, settings.seed)
        separates = diff.excludes(0.0) and p is not None and p < alpha
        mean_a, mean_b = _mean(va), _mean(vb)
        rows.append(
            MetricComparison(
                metric=name,
                mean_a=mean_a,
                mean_b=mean_b,
                difference=diff,
                p_value=p,
                separates=separates,
                verdict=_verdict(name, diff, p, separates, unit),
            )
        )
    return Comparison(
        eval_type_id=a.eval_type_id,
        sae_a=a.provenance.sae_spec,
        sae_b=b.provenance.sae_spec,
        unit=unit,
        n_latents_a=len(metrics_a),
        n_latents_b=len(metrics_b),
        paired=paired,
        alpha=alpha,
        metrics=rows,
    )


def comparison_table(comparison: Comparison) -> str:
    rows = [
        {
            "metric": m.metric,
            "A": f"{m.mean_a:.3g}" if m.mean_a is not None else "n/a",
            "B": f"{m.mean_b:.3g}" if m.mean_b is not None else "n/a",
            "A - B [95% CI]": format_estimate(m.difference.model_dump()),
            "p": f"{m.p_value:.3g}" if m.p_value is not None else "n/a",
            "separates": "yes" if m.separates else "no",
        }
        for m in comparison.metrics
    ]
    unit = comparison.unit
    design = (
        f"paired: the same {unit}s scored both ways, sign-flip test"
        if comparison.paired
        else f"independent {unit}s, relabelling test"
    )
    head = (
        f"{comparison.eval_type_id}: A = {comparison.sae_a} ({comparison.n_latents_a} {unit}s), "
        f"B = {comparison.sae_b} ({comparison.n_latents_b} {unit}s); {design}"
    )
    return "\n".join(
        [head, tabulate(rows, headers="keys", tablefmt="github"), ""]
        + [m.verdict for m in comparison.metrics]
    )


def main(argv: Sequence[str] | None = None, prog: str = "sae-interp compare") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Does an eval separate two SAEs? Difference of each pooled metric with a "
        "bootstrap interval and a permutation p-value over latents (or datasets).",
    )
    parser.add_argument("result_a", type=Path, help="Result JSON of SAE A.")
    parser.add_argument("result_b", type=Path, help="Result JSON of SAE B (same eval).")
    parser.add_argument("--n-resamples", type=int, default=1000, help="Bootstrap resamples.")
    parser.add_argument("--n-permutations", type=int, default=10_000, help="Permutations.")
    parser.add_argument("--alpha", type=float, default=0.05, help="Significance level.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of resampling.")
    parser.add_argument(
        "--pairing",
        choices=["auto", "paired", "independent"],
        default="auto",
        help="auto: paired when both results are the same SAE's on the same latents, or "
        "share the eval's units (sparse probing: the same datasets and splits).",
    )
    parser.add_argument("--output", type=Path, default=None, help="Also write the JSON here.")
    args = parser.parse_args(argv)
    try:
        comparison = compare(
            load_result(args.result_a),
            load_result(args.result_b),
            IntervalSettings(n_resamples=args.n_resamples, seed=args.seed),
            args.n_permutations,
            args.alpha,
            args.pairing,
        )
    except SaeInterpError as err:
        sys.stderr.write(f"{err}\n")
        return 2
    sys.stdout.write(comparison_table(comparison) + "\n")
    if args.output is not None:
        args.output.write_text(comparison.model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
