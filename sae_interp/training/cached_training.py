"""Train sae-lens SAEs on cached activations, with sae-lens' own trainer.

The model is run once (``activation_cache``); each SAE then streams shuffled batches of
the cached activations, for as many epochs as ``training_tokens`` asks, through
``sae_lens.training.sae_trainer.SAETrainer``. Two choices differ from sae-lens' defaults
and are recorded in every ``training.json``:

* ``b_dec`` starts at the mean of the (scaled) activations instead of zero. With a zero
  bias the shared mean direction of the residual stream dominates every pre-activation at
  initialisation, so half of the latents start below the TopK threshold and never fire.
* the dead-feature window is scaled to the run's length (sae-lens' default of 1000 steps
  outlasts a short CPU run, and AuxK would never see a latent as dead).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import torch

from sae_interp.training.activation_cache import shuffled_batches

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings shared by the SAEs of one run."""

    training_tokens: int
    batch_tokens: int = 1024
    lr: float = 1e-3
    lr_warm_up_steps: int = 100
    lr_decay_fraction: float = 0.2
    dead_window_fraction: float = 0.02
    init_b_dec: str = "mean"
    n_batches_for_norm_estimate: int = 50
    seed: int = 42

    @property
    def steps(self) -> int:
        return self.training_tokens // self.batch_tokens

    @property
    def dead_window(self) -> int:
        """Steps without firing after which a latent counts as dead (for AuxK)."""
        return max(25, min(1000, int(self.steps * self.dead_window_fraction)))

    def record(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "steps": self.steps, "dead_window": self.dead_window}


def build_training_sae(spec: dict[str, Any], hook_name: str, model_name: str) -> Any:
    """A fresh sae-lens training SAE from ``{"architecture": ..., **config fields}``."""
    from sae_lens.registry import get_sae_training_class
    from sae_lens.saes.sae import SAEMetadata

    fields = {k: v for k, v in spec.items() if k != "architecture"}
    sae_class, cfg_class = get_sae_training_class(spec["architecture"])
    cfg = cfg_class(**fields, metadata=SAEMetadata(hook_name=hook_name, model_name=model_name))
    return sae_class(cfg)


def _trainer_config(settings: TrainSettings) -> Any:
    from sae_lens.config import LoggingConfig, SAETrainerConfig

    decay_steps = int(settings.steps * settings.lr_decay_fraction)
    return SAETrainerConfig(
        total_training_samples=settings.steps * settings.batch_tokens,
        train_batch_size_samples=settings.batch_tokens,
        lr=settings.lr,
        lr_end=settings.lr / 10,
        lr_scheduler_name="constant",
        lr_warm_up_steps=settings.lr_warm_up_steps,
        lr_decay_steps=decay_steps,
        device="cpu",
        dead_feature_window=settings.dead_window,
        feature_sampling_window=2 * settings.dead_window,
        n_batches_for_norm_estimate=settings.n_batches_for_norm_estimate,
        logger=LoggingConfig(log_to_wandb=False),
    )


def train_on_cache(
    spec: dict[str, Any],
    acts: torch.Tensor,
    settings: TrainSettings,
    *,
    hook_name: str,
    model_name: str,
) -> tuple[Any, dict[str, Any]]:
    """Train one SAE on ``acts`` [n, d_in]; returns the sae-lens SAE and a run record."""
    from sae_lens.training.sae_trainer import SAETrainer

    torch.manual_seed(settings.seed)
    sae = build_training_sae(spec, hook_name, model_name)
    n_batches = settings.steps + settings.n_batches_for_norm_estimate
    data = shuffled_batches(acts, settings.batch_tokens, n_batches, settings.seed)
    trainer = SAETrainer(_trainer_config(settings), sae, data)
    scaler = trainer.activation_scaler
    if spec.get("normalize_activations") == "expected_average_only_in":
        scaler.estimate_scaling_factor(
            d_in=sae.cfg.d_in,
            data_provider=data,
            n_batches_for_norm_estimate=settings.n_batches_for_norm_estimate,
        )
    if settings.init_b_dec == "mean":
        sample = acts[torch.randperm(acts.shape[0])[:65536]].float()
        with torch.no_grad():
            sae.b_dec.copy_(scaler(sample).mean(dim=0))
    elif settings.init_b_dec != "zeros":
        raise ValueError(f"init_b_dec must be 'mean' or 'zeros', got {settings.init_b_dec!r}")
    scaling = scaler.scaling_factor
    started = time.time()
    trained = trainer.fit()
    record = {
        "train_seconds": round(time.time() - started),
        "dead_in_last_window": int(trainer.dead_neurons.sum()),
        "scaling_factor": scaling,
    }
    logger.info("trained %s: %s", spec["architecture"], record)
    return trained, record
