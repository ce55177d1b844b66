"""``sae-interp report RESULTS_DIR``: a self-contained static HTML page of a results folder
(tables, plots, per-latent cards with highlighted tokens)."""

from sae_interp.report.cli import ReportConfig, main
from sae_interp.report.page import build_report, write_report

__all__ = ["ReportConfig", "build_report", "main", "write_report"]
