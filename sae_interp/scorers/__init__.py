"""Scorers: how an explanation of a latent is scored.

Every scorer follows :class:`~sae_interp.scorers.base.LatentScorer` (score (record,
explanation) pairs, then the latent's metrics from each outcome), so the one loop of
``sae_interp.evals.common`` drives them all; the LLM judges build on
:class:`~sae_interp.scorers.base.JudgeScorer`. Also here: the shuffled-explanation control
(``scorers.controls``), the pure classification metrics (``scorers.metrics``) and the
generation and prediction evaluations of the agentic eval. Each scorer's prompts live in
their own ``*_prompts`` module. Import what you use from its module: importing this package
loads no scorer."""
