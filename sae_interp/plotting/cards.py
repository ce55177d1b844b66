"""A latent card: its top windows with every token shaded by the latent's activation, its
explanation and its scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure

from sae_interp.plotting.common import new_figure, save_figure

Window = tuple[Sequence[str], Sequence[float]]  # tokens as text, activation per token


def shown_token(token: str) -> str:
    """A token as printed on a card (newlines as ↵, tabs as →, empty as ·)."""
    return token.replace("\n", "↵").replace("\t", "→") or "·"


def shade(activation: float, peak: float) -> float:
    """0..1 intensity of a token (activation over the card's peak; 0 when the peak is 0)."""
    return max(0.0, min(1.0, activation / peak)) if peak > 0 else 0.0


def latent_card(
    windows: Sequence[Window],
    explanation: str | None = None,
    scores: Mapping[str, float | None] | None = None,
    title: str = "",
    path: Path | str | None = None,
) -> Figure:
    """One row block per window; each token is a text box whose colour is its activation
    relative to the highest activation on the card. The explanation and the scores head it."""
    peak = max((max(acts, default=0.0) for _, acts in windows), default=0.0)
    lines = sum(1 + sum(len(shown_token(t)) for t in toks) // 90 for toks, _ in windows)
    figure = new_figure(width=8.0, height=1.3 + 0.32 * max(lines, 1))
    ax = figure.subplots()
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    header = title or "latent"
    if explanation:
        header += f" — {explanation}"
    ax.set_title(header, fontsize=10, loc="left")
    if scores:
        shown = "   ".join(f"{k}: {'n/a' if v is None else f'{v:.3f}'}" for k, v in scores.items())
        ax.text(0.0, 1.0, shown, fontsize=8, va="bottom", transform=ax.transAxes, gid="scores")
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    cmap = colormaps["Oranges"]
    width_px = ax.get_window_extent(renderer).width
    step = 1.0 / (lines + 1)
    y = 1.0 - step
    for tokens, activations in windows:
        x = 0.0
        for token, activation in zip(tokens, activations, strict=True):
            level = shade(float(activation), peak)
            text = ax.text(
                x,
                y,
                shown_token(token),
                fontsize=8,
                family="monospace",
                va="center",
                bbox={"facecolor": cmap(level), "edgecolor": "none", "pad": 1.0},
                gid=f"token:{float(activation):.4g}",
            )
            advance = text.get_window_extent(renderer).width / width_px
            if x > 0 and x + advance > 1.0:  # wrap to the next line
                y -= step
                x = 0.0
                text.set_position((x, y))
            x += advance + 0.004
        y -= step
    return save_figure(figure, path)
