"""Running evals past this process: the executors (:mod:`sae_interp.distributed.executors`),
the Ray executor, and latent shards."""

from __future__ import annotations

import os

# set in the worker processes of an executor (``ray``): a run there is the local runner's
EXECUTOR_ENV = "SAE_INTERP_EXECUTOR"


def current_executor() -> str:
    """``local``, or the executor whose worker this process is."""
    return os.environ.get(EXECUTOR_ENV, "local")
