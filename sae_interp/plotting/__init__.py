"""Plots of results (matplotlib, Agg backend). Every function returns a ``Figure`` and saves
nothing unless given ``path=``; inputs are stored results as dicts (``json.load`` of a result
file, or ``output.model_dump(mode="json")``) or plain arrays.

- :func:`score_vs_control`: per-latent scores with the explanation vs the shuffled-explanation
  control, one panel per eval;
- :func:`recall_by_quantile`: detection/fuzzing recall per activation quantile bin;
- :func:`compare_saes`: one metric across SAEs, with intervals when given;
- :func:`core_vs_l0`: core metrics against L0;
- :func:`probing_auc_vs_k`: sparse probing test AUC against k, with the best baseline;
- :func:`latent_card`: a latent's top windows with tokens shaded by activation, its
  explanation and scores.
"""

from sae_interp.plotting.cards import latent_card
from sae_interp.plotting.common import save_figure
from sae_interp.plotting.comparison import compare_results, compare_saes, core_vs_l0
from sae_interp.plotting.probing import probing_auc_vs_k
from sae_interp.plotting.scores import (
    LATENT_SCORE_NAMES,
    latent_scores,
    recall_by_quantile,
    score_vs_control,
)

__all__ = [
    "LATENT_SCORE_NAMES",
    "compare_results",
    "compare_saes",
    "core_vs_l0",
    "latent_card",
    "latent_scores",
    "probing_auc_vs_k",
    "recall_by_quantile",
    "save_figure",
    "score_vs_control",
]
