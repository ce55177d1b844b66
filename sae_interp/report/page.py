"""The report page: one self-contained HTML file (inline CSS, plots as base64 PNG, no script
and nothing fetched from elsewhere). It opens on one headline table (per eval and SAE: the
eval's headline score, its shuffled control, its random SAE where present and the
differences, each with its interval); then a wide metrics table per eval, the plots, and one
card per latent: its explanation and where it came from, every eval's score with the
control's, and its top windows with tokens shaded by activation."""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from sae_interp.interop.results import interval, load_results, sae_label
from sae_interp.plotting import (
    LATENT_SCORE_NAMES,
    compare_results,
    core_vs_l0,
    probing_auc_vs_k,
    recall_by_quantile,
    score_vs_control,
)
from sae_interp.plotting.cards import shade, shown_token
from sae_interp.plotting.scores import latent_scores, quantile_recall

CONTROL_GROUP = "shuffled_control"
TokenWindow = tuple[list[str], list[float]]


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def figure_img(figure: Figure, alt: str) -> str:
    """``figure`` as an inline base64 PNG ``<img>``."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<figure class="plot"><img alt="{esc(alt)}" src="data:image/png;base64,{data}"><figcaption>{esc(alt)}</figcaption></figure>'


def flat_metrics(metrics: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flat {'group.name': value}, interval objects ({value, lo, hi}) kept whole."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and "value" not in value:
            out.update(flat_metrics(value, f"{name}."))
        else:
            out[name] = value
    return out


def cell(value: Any) -> str:
    v, lo, hi = interval(value)
    if v is None:
        return "" if value is None else esc(value)
    text = "nan" if math.isnan(v) else f"{v:.4g}"
    if lo is not None and hi is not None:
        text += f' <span class="ci">[{lo:.3g}, {hi:.3g}]</span>'
    return text


def metrics_table(results: Sequence[dict[str, Any]]) -> str:
    """One row per result (SAE); the scalar metrics of all of them as columns."""
    rows = [flat_metrics(d["eval_result_metrics"]) for d in results]
    columns = sorted(
        {k for r in rows for k, v in r.items() if interval(v)[0] is not None},
        key=lambda c: (c.startswith("llm_usage"), c),
    )
    head = "".join(f"<th>{esc(c)}</th>" for c in ["SAE", *columns])
    body = "".join(
        "<tr>"
        + f"<td>{esc(sae_label(d))}</td>"
        + "".join(f"<td>{cell(r.get(c))}</td>" for c in columns)
        + "</tr>"
        for d, r in zip(results, rows, strict=True)
    )
    return f'<div class="scroll"><table class="metrics"><tr>{head}</tr>{body}</table></div>'


def headline(data: dict[str, Any]) -> tuple[str, str | None] | None:
    """(metric, control metric) to compare SAEs by: the pooled group that has a control
    sibling, read by its first :data:`LATENT_SCORE_NAMES` field; explained variance for core."""
    metrics = data["eval_result_metrics"]
    if data["eval_type_id"] == "core":
        return "reconstruction.explained_variance", None
    control = metrics.get(CONTROL_GROUP)
    for group, value in metrics.items():
        if group == CONTROL_GROUP or not isinstance(value, dict) or not isinstance(control, dict):
            continue
        for name in LATENT_SCORE_NAMES:
            if name in value and name in control:
                return f"{group}.{name}", f"{CONTROL_GROUP}.{name}"
    return None


# the arms shown beside each headline score: (column, metric group in the output)
HEADLINE_ARMS = (
    ("shuffled control", CONTROL_GROUP),
    ("real − shuffled", "real_minus_shuffled_control"),
    ("random SAE", "random_sae_control"),
    ("real − random SAE", "real_minus_random_sae"),
    ("random model", "random_model_control"),
    ("real − random model", "real_minus_random_model"),
)


def headline_metric(data: dict[str, Any]) -> str | None:
    """The flat name of a result's headline score: the first of its eval's table columns
    that the result has an interval for (e.g. ``detection.balanced_accuracy``, or
    ``saebench.accuracy`` in SAEBench mode), else the first it has a number for."""
    from sae_interp.evals import get_eval

    if data["eval_type_id"] == "all":  # each eval it ran has its own result and row
        return None
    flat = flat_metrics(data["eval_result_metrics"])
    columns = [c for c in get_eval(data["eval_type_id"]).table_columns if c in flat]
    with_interval = [c for c in columns if interval(flat[c])[1] is not None]
    with_number = [c for c in columns if interval(flat[c])[0] is not None]
    return next(iter(with_interval or with_number), None)


def headline_table(results: Sequence[dict[str, Any]]) -> str:
    """One row per eval and SAE: the headline score and the same score under each arm the
    result has, with intervals."""
    rows = []
    for data in sorted(results, key=lambda d: (d["eval_type_id"], sae_label(d))):
        name = headline_metric(data)
        if name is None:
            continue
        flat = flat_metrics(data["eval_result_metrics"])
        metric = name.split(".", 1)[1] if "." in name else name
        arms = [flat.get(f"{group}.{metric}") for _, group in HEADLINE_ARMS]
        rows.append(
            "<tr>"
            + f"<td>{esc(data['eval_type_id'])}</td><td>{esc(sae_label(data))}</td>"
            + f"<td>{esc(name)}</td><td>{cell(flat.get(name))}</td>"
            + "".join(f"<td>{cell(value)}</td>" for value in arms)
            + "</tr>"
        )
    if not rows:
        return "<p>no headline scores</p>"
    columns = ["eval", "SAE", "headline", "real", *(column for column, _ in HEADLINE_ARMS)]
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    return f'<table class="headline"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def by_eval(results: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for data in results:
        groups.setdefault(data["eval_type_id"], []).append(data)
    return dict(sorted(groups.items()))


def explained(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results with per-latent explanations (the combined 'all' result repeats its evals)."""
    return [
        d
        for d in results
        if d["eval_type_id"] != "all"
        and any(
            isinstance(x, dict) and "explanation" in x for x in d.get("eval_result_details") or []
        )
    ]


def plots(results: Sequence[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    groups = by_eval(results)
    if "core" in groups:
        out.append(figure_img(core_vs_l0(groups["core"]), "core metrics against L0"))
    if "sparse_probing" in groups:
        out.append(
            figure_img(
                probing_auc_vs_k(groups["sparse_probing"]),
                "sparse probing: mean test AUC by k (dashed: best baseline)",
            )
        )
    scored = explained(results)
    if any(latent_scores(d)[1] for d in scored):
        out.append(
            figure_img(
                score_vs_control(scored),
                "per-latent scores: explanation vs shuffled-explanation control",
            )
        )
    if any(quantile_recall(d) for d in scored):
        out.append(figure_img(recall_by_quantile(scored), "recall by activation quantile"))
    for name, group in groups.items():
        pick = headline(group[0])
        if len(group) > 1 and pick is not None:
            out.append(
                figure_img(compare_results(group, pick[0], pick[1]), f"{name}: {pick[0]} by SAE")
            )
    return out


def window_html(tokens: Sequence[str], activations: Sequence[float], peak: float) -> str:
    spans = []
    for token, activation in zip(tokens, activations, strict=True):
        level = shade(float(activation), peak)
        style = f"background: rgba(230, 110, 0, {level:.2f})" if level > 0 else ""
        spans.append(
            f'<span class="tok" style="{style}" title="{float(activation):.3g}">{esc(shown_token(token))}</span>'
        )
    return '<div class="window">' + "".join(spans) + "</div>"


def latent_rows(group: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """latent -> its explanation, source and per-eval (real, control) scores, over the
    explanation-based results of one SAE."""
    rows: dict[int, dict[str, Any]] = {}
    for data in group:
        name, _, _ = latent_scores(data)
        for d in data.get("eval_result_details") or []:
            row = rows.setdefault(d["latent"], {"status": d.get("status"), "scores": {}})
            row.setdefault("explanation", d.get("explanation"))
            row.setdefault("source", d.get("explanation_source"))
            if name is not None:
                real = interval((d.get("metrics") or {}).get(name))[0]
                control = interval((d.get("control_metrics") or {}).get(name))[0]
                row["scores"][f"{data['eval_type_id']} {name}"] = (real, control)
    return rows


def card_html(sae: str, latent: int, row: dict[str, Any], windows: Sequence[TokenWindow]) -> str:
    scores = "".join(
        f"<tr><td>{esc(k)}</td><td>{cell(r)}</td><td>{cell(c)}</td></tr>"
        for k, (r, c) in row["scores"].items()
    )
    peak = max((max(a, default=0.0) for _, a in windows), default=0.0)
    shown = (
        "".join(window_html(t, a, peak) for t, a in windows)
        or '<p class="note">windows not available (latent cache not found)</p>'
    )
    explanation = row.get("explanation")
    return (
        f'<section class="card" id="card-{esc(sae)}-{latent}"><h3>latent {latent}'
        f' <span class="status">{esc(row.get("status") or "")}</span></h3>'
        f'<p class="explanation">{esc(explanation) if explanation else "<em>no explanation</em>"}</p>'
        f'<p class="source">source: {esc(row.get("source") or "n/a")}</p>'
        f'<table class="scores"><tr><th>score</th><th>explanation</th><th>control</th></tr>{scores}</table>'
        f"{shown}</section>"
    )


def build_report(
    results_dir: Path | str,
    *,
    tokenizer: Any | None = None,
    max_cards: int = 12,
    n_windows: int = 3,
    windows: bool = True,
    cache_root: Path | None = None,
) -> str:
    """The report page of every result under ``results_dir``, as HTML text."""
    from sae_interp.report.windows import windows_for

    results = [data for _, data in load_results([results_dir])]
    sections = []
    for name, group in by_eval(results).items():
        sections.append(f'<h2 id="eval-{esc(name)}">{esc(name)}</h2>{metrics_table(group)}')
    figures = plots(results)
    cards = []
    by_sae: dict[str, list[dict[str, Any]]] = {}
    for data in explained(results):
        by_sae.setdefault(sae_label(data), []).append(data)
    for sae, group in sorted(by_sae.items()):
        rows = latent_rows(group)
        latents = sorted(rows)[:max_cards]
        found = windows_for(group[0], latents, tokenizer, n_windows, cache_root) if windows else {}
        cards.append(f'<h3 class="sae">{esc(sae)}</h3>')
        cards += [card_html(sae, k, rows[k], found.get(k, [])) for k in latents]
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>sae_interp report: {esc(Path(results_dir).name)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>sae_interp report</h1><p class="meta">{esc(results_dir)} · {len(results)} results · {made}</p></header>'
        f'<main><section id="headline"><h2>Headline</h2>{headline_table(results)}</section>'
        f'<section id="tables"><h2>Metrics</h2>{"".join(sections)}</section>'
        f'<section id="plots"><h2>Plots</h2>{"".join(figures) or "<p>no plots</p>"}</section>'
        f'<section id="cards"><h2>Latents</h2>{"".join(cards) or "<p>no explained latents</p>"}</section>'
        "</main></body></html>\n"
    )


def write_report(results_dir: Path | str, output: Path | str | None = None, **options: Any) -> Path:
    """Write the page (default: ``<results_dir>/report.html``); returns its path."""
    path = Path(output) if output is not None else Path(results_dir) / "report.html"
    page = build_report(results_dir, **options)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
header { background: #22313f; color: #fff; padding: 12px 24px; }
header h1 { margin: 0; font-size: 1.4em; }
.meta { margin: 4px 0 0; opacity: 0.8; font-size: 0.85em; }
main { padding: 8px 24px 40px; }
h2 { border-bottom: 2px solid #22313f; padding-bottom: 2px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.8em; margin: 6px 0 14px; background: #fff; }
th, td { border: 1px solid #d0d0d0; padding: 3px 6px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
.ci { color: #666; font-size: 0.9em; }
.plot { display: inline-block; margin: 6px 12px 12px 0; background: #fff; border: 1px solid #ddd; padding: 4px; }
.plot img { max-width: 100%; display: block; }
.plot figcaption { font-size: 0.8em; color: #555; }
.card { background: #fff; border: 1px solid #ccc; border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.card h3 { margin: 0 0 4px; font-size: 1em; }
.status { font-weight: normal; color: #777; font-size: 0.85em; }
.explanation { font-size: 1.05em; margin: 4px 0; }
.source, .note { color: #666; font-size: 0.8em; margin: 2px 0 6px; }
.window { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.8em; margin: 3px 0; padding: 3px; background: #f4f4f4; white-space: pre-wrap; word-break: break-all; }
.tok { border-radius: 2px; }
"""
