"""Figures made without a display (Agg canvas), saved only on request."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

CONTROL_LABEL = "shuffled-explanation control"
EXPLANATION_LABEL = "explanation"


def new_figure(width: float = 6.4, height: float = 4.0) -> Figure:
    """A figure on its own Agg canvas (pyplot's global state is never touched)."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Figure, path: Path | str | None, dpi: int = 110) -> Figure:
    """Save ``figure`` to ``path`` when one is given (format from the suffix)."""
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=dpi)
    return figure
