"""Known-answer validity checks: scorers and explainers on a planted SAE."""

from sae_interp.validity.suite import ValidityConfig, ValidityReport, run_suite

__all__ = ["ValidityConfig", "ValidityReport", "run_suite"]
