"""One subpackage per eval; each exports ``run_eval`` and its ``EvalConfig``."""
