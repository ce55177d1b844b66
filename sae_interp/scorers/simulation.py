"""The simulator and the simulation scorer (explain -> simulate -> score).

From an explanation alone, a simulator LM predicts the latent's activation (0-10) at every
token of the test windows (activating and negatives); the latent's score is the correlation
of predictions with the true activations over all those tokens (see
:mod:`sae_interp.scorers.simulation_metrics` for the other scores).

Modes (a registry):
- ``all_at_once``: one completions call per window with prompt log-probs (llama.cpp server,
  vLLM); the prediction at a token is the expected value over the integer answers among the
  alternatives at its placeholder. Servers differ in whether the alternatives listed at a
  position are for that position (OpenAI, vLLM) or for the next one (llama-cpp-python); the
  reader takes, per window, the reading that puts more probability on integers, and records it.
- ``chat``: the model lists the values (prompt of the prediction scorer); a list of the wrong
  length is a recorded failure, never zeros. With answer log-probs, expected values.
- ``auto``: all_at_once where the endpoint returns prompt log-probs, else chat."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from sae_interp.activations.records import LatentRecord, Window
from sae_interp.base import FrozenModel
from sae_interp.base.registry import Registry
from sae_interp.llm.errors import LLMError
from sae_interp.llm.local_prompt_logprobs import LocalPromptLogprobs
from sae_interp.llm.prompt_logprobs import (
    CompletionsPromptLogprobs,
    PromptLogprobs,
    PromptLogprobsClient,
    echo_request,
)
from sae_interp.llm.service import LLMService
from sae_interp.llm.settings import LLMSettings
from sae_interp.llm.types import LLMRequest
from sae_interp.scorers import simulation_metrics as sm
from sae_interp.scorers.base import ScoreItem
from sae_interp.scorers.prediction import PredictionSettings, expected_levels, parse_levels
from sae_interp.scorers.prediction import build_request as chat_request
from sae_interp.scorers.simulation_prompts import all_at_once_prompt
from sae_interp.stats import pooled
from sae_interp.text.rules import rule_wise_max

logger = logging.getLogger(__name__)


class SimulatorSettings(FrozenModel):
    mode: str = Field(
        default="auto",
        description="all_at_once (prompt log-probs from a completions endpoint, one call per "
        "window) | chat (the model lists the values) | auto (all_at_once where the endpoint "
        "returns prompt log-probs, else chat).",
    )
    top_logprobs: int = Field(
        default=20, ge=1, le=20, description="Alternatives read per position (all_at_once)."
    )
    chat_max_tokens: int = Field(default=200, gt=0, description="Answer limit in chat mode.")

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, value: str) -> str:
        return SIMULATION_MODES.validate(value, "auto")

    demos: Literal["one", "contrastive"] = Field(
        default="one",
        description="Worked examples in the all_at_once prompt: 'one' (a single explanation) "
        "or 'contrastive' (one text under two explanations that mark different tokens).",
    )
    placeholder: Literal["?", "0"] = Field(
        default="?",
        description="What stands in each token's activation slot in the all_at_once prompt "
        "('?': unknown; '0': the common value).",
    )


class SimulatedWindow(BaseModel):
    """One window's simulation, auditable: truth, prediction (None on failure) and how it was
    read."""

    kind: str
    seq: int
    start: int
    quantile_bin: int | None = None
    true: list[float]
    predicted: list[float] | None = None
    mode: str | None = None
    alignment: str | None = Field(
        default=None,
        description="all_at_once: whether alternatives were read at the "
        "placeholder ('current') or at the token before it ('next').",
    )
    raw: str | None = None
    error: str | None = None
    prompt_tokens: int = Field(default=0, description="Billed prompt tokens (all_at_once).")


def read_all_at_once(
    answer: PromptLogprobs, placeholders: Sequence[int]
) -> tuple[list[float] | None, str | None, str | None]:
    """(predictions, alignment, error) from the echoed prompt of one window."""
    position = {offset: i for i, offset in enumerate(answer.offsets)}
    found = [position.get(o) for o in placeholders]
    index = [i for i in found if i is not None]
    if len(index) != len(found):
        return None, None, "a placeholder is not a token of its own in the echoed prompt"
    best: tuple[float, str, list[tuple[float, float] | None]] | None = None
    for alignment, shift in (("current", 0), ("next", -1)):
        levels = [
            sm.expected_level(answer.top[i + shift] or {}) if i + shift >= 0 else None
            for i in index
        ]
        mass = sum(level[1] for level in levels if level is not None)
        if best is None or mass > best[0]:
            best = (mass, alignment, levels)
    assert best is not None
    _, alignment, levels = best
    missing = [j for j, level in enumerate(levels) if level is None]
    if missing:
        return None, alignment, f"no integer among the alternatives at token {missing[0] + 1}"
    return [level[0] for level in levels if level is not None], alignment, None


Job = tuple[str, Window, list[str]]  # explanation, window, its token strings
ModeFn = Callable[["Simulator", Sequence[Job]], list[SimulatedWindow]]
SIMULATION_MODES: Registry[ModeFn] = Registry("simulation mode")


def _shell(window: Window) -> SimulatedWindow:
    return SimulatedWindow(
        kind=window.kind.value,
        seq=window.seq,
        start=window.start,
        quantile_bin=window.quantile_bin,
        true=list(window.activations),
    )


@SIMULATION_MODES.decorator("all_at_once")
def _all_at_once(sim: Simulator, jobs: Sequence[Job]) -> list[SimulatedWindow]:
    if sim.prompt_client is None:
        raise LLMError("all_at_once simulation needs a completions endpoint with prompt log-probs")
    shape = (sim.settings.placeholder, sim.settings.demos)
    prompts = [all_at_once_prompt(e, tokens, *shape) for e, _, tokens in jobs]
    answers = sim.prompt_client.prompt_logprobs([p for p, _ in prompts], sim.settings.top_logprobs)
    out = []
    for (_, window, _), (_, offsets), answer in zip(jobs, prompts, answers, strict=True):
        shell = _shell(window).model_copy(update={"mode": "all_at_once"})
        if isinstance(answer, LLMError):
            out.append(shell.model_copy(update={"error": str(answer)}))
            continue
        predicted, alignment, error = read_all_at_once(answer, offsets)
        update = {"predicted": predicted, "alignment": alignment, "error": error}
        out.append(shell.model_copy(update={**update, "prompt_tokens": answer.prompt_tokens}))
    return out


@SIMULATION_MODES.decorator("chat")
def _chat(sim: Simulator, jobs: Sequence[Job]) -> list[SimulatedWindow]:
    if sim.service is None:
        raise LLMError("chat simulation needs an LLM service")
    answers = sim.service.complete_all([sim.chat_request(e, t) for e, _, t in jobs])
    out = []
    for (_, window, tokens), answer in zip(jobs, answers, strict=True):
        shell = _shell(window).model_copy(update={"mode": "chat"})
        if isinstance(answer, LLMError):
            out.append(shell.model_copy(update={"error": str(answer)}))
            continue
        parsed = parse_levels(answer.text, len(tokens))
        if parsed is None:
            error = f"no list of {len(tokens)} integers in the answer"
            out.append(shell.model_copy(update={"raw": answer.text, "error": error}))
            continue
        predicted = expected_levels(answer, len(tokens)) or parsed
        out.append(shell.model_copy(update={"raw": answer.text, "predicted": predicted}))
    return out


class Simulator:
    """Predicts per-token activations of windows from explanations."""

    def __init__(
        self,
        settings: SimulatorSettings,
        tokenizer: Any,
        service: LLMService | None = None,
        prompt_client: PromptLogprobsClient | None = None,
    ) -> None:
        self.settings = settings
        self.tokenizer = tokenizer
        self.service = service
        self.prompt_client = prompt_client
        if settings.mode != "auto":
            SIMULATION_MODES.get(settings.mode)
        self.mode = settings.mode if settings.mode != "auto" else None

    def chat_request(self, explanation: str, tokens: Sequence[str]) -> LLMRequest:
        settings = PredictionSettings(max_tokens=self.settings.chat_max_tokens, top_logprobs=0)
        return chat_request(explanation, tokens, settings)

    def planned_requests(self, explanation: str, windows: Sequence[Window]) -> list[LLMRequest]:
        """The requests a run sends (all_at_once: one prompt log-probs request per window),
        for dry-run estimates and to tell which latent a failed request belonged to."""
        mode = self.mode or ("all_at_once" if self.prompt_client is not None else "chat")
        out = []
        for window in windows:
            tokens = self.str_tokens(window)
            if mode == "chat":
                out.append(self.chat_request(explanation, tokens))
            else:
                shape = (self.settings.placeholder, self.settings.demos)
                prompt, _ = all_at_once_prompt(explanation, tokens, *shape)
                out.append(echo_request(prompt, self.settings.top_logprobs))
        return out

    def str_tokens(self, window: Window) -> list[str]:
        return window.str_tokens(self.tokenizer)

    def simulate(self, pairs: Sequence[tuple[str, Window]]) -> list[SimulatedWindow]:
        jobs = [(e, w, self.str_tokens(w)) for e, w in pairs]
        if not jobs:
            return []
        if self.mode is None:  # auto: probe the endpoint with the first window
            self.mode = "all_at_once" if self.prompt_client is not None else "chat"
            if self.mode == "all_at_once":
                first = _all_at_once(self, jobs[:1])[0]
                if first.predicted is None and first.alignment is None:
                    logger.info("no prompt log-probs (%s): simulating in chat mode", first.error)
                    self.mode = "chat"
                else:
                    return [first, *_all_at_once(self, jobs[1:])]
        return SIMULATION_MODES.get(self.mode)(self, jobs)


class SimulationOutcome(BaseModel):
    max_activation: float = Field(description="The latent's max, the top of the 0-10 scale.")
    windows: list[SimulatedWindow]


class SimulationMetrics(BaseModel):
    correlation: float | None = pooled(
        "Pearson over all tokens of the test windows (activating + negatives) that were "
        "simulated; None when truth or predictions are constant."
    )
    r_squared: float | None = pooled("Variance of the true activations the prediction explains.")
    abs_dev_explained: float | None = pooled("The same with absolute deviations.")
    per_window_correlation: float | None = pooled("Mean over windows of the per-window Pearson.")
    n_windows: int
    n_failed_windows: int = Field(description="Not simulated (errors, unreadable answers).")
    n_undefined_windows: int = Field(description="Left out of the per-window correlation.")
    n_tokens: int


def simulation_metrics(outcome: SimulationOutcome) -> SimulationMetrics:
    read = [w for w in outcome.windows if w.predicted is not None]
    pred = [p for w in read for p in w.predicted or []]
    true = [t for w in read for t in w.true]
    scaled = sm.rescale(true, outcome.max_activation)
    per_window, undefined = sm.per_window_correlation([(w.predicted or [], w.true) for w in read])
    return SimulationMetrics(
        correlation=sm.correlation(pred, true),
        r_squared=sm.r_squared(pred, scaled),
        abs_dev_explained=sm.abs_dev_explained(pred, scaled),
        per_window_correlation=per_window,
        n_windows=len(outcome.windows),
        n_failed_windows=len(outcome.windows) - len(read),
        n_undefined_windows=undefined,
        n_tokens=len(true),
    )


class SimulationScorer:
    """Simulates every test window (activating + negatives) of each item's latent."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    @staticmethod
    def windows(record: LatentRecord) -> list[Window]:
        return record.test_with_negatives

    def score(self, items: Sequence[ScoreItem]) -> list[SimulationOutcome]:
        """Every test window of every item; a structured explanation is simulated rule by
        rule and combined per token with :func:`rule_wise_max` (a window fails if any of its
        rules does)."""
        texts = [[r.activates_on for r in item.rules] or [item.explanation] for item in items]
        pairs = [
            (text, w)
            for item, item_texts in zip(items, texts, strict=True)
            for w in self.windows(item.record)
            for text in item_texts
        ]
        simulated = iter(self.simulator.simulate(pairs))
        out = []
        for item, item_texts in zip(items, texts, strict=True):
            windows = []
            for _ in self.windows(item.record):
                parts = [next(simulated) for _ in item_texts]
                windows.append(combine_rules(parts, item.rules) if item.rules else parts[0])
            out.append(
                SimulationOutcome(max_activation=item.record.max_activation, windows=windows)
            )
        return out

    def metrics(self, outcome: SimulationOutcome) -> SimulationMetrics:
        return simulation_metrics(outcome)

    def planned_requests(self, item: ScoreItem) -> list[LLMRequest]:
        texts = [r.activates_on for r in item.rules] or [item.explanation]
        return [
            req
            for t in texts
            for req in self.simulator.planned_requests(t, self.windows(item.record))
        ]


def combine_rules(parts: Sequence[SimulatedWindow], rules: Sequence[Any]) -> SimulatedWindow:
    """One window's rule-wise simulation: max over rules of (rule fires) x strength."""
    first = parts[0]
    errors = [p.error for p in parts if p.predicted is None]
    if errors:
        return first.model_copy(
            update={"predicted": None, "error": "; ".join(e or "" for e in errors)}
        )
    predicted = rule_wise_max([p.predicted or [] for p in parts], [r.strength for r in rules])
    return first.model_copy(
        update={"predicted": predicted, "prompt_tokens": sum(p.prompt_tokens for p in parts)}
    )


def simulator_for(
    settings: SimulatorSettings, llm: LLMSettings, tokenizer: Any, resources: Any | None
) -> Simulator:
    """``resources`` is an :class:`~sae_interp.evals.common.EvalResources` (None when only
    planning: ``auto`` then assumes all_at_once for the local LLM, whose llama.cpp server
    returns prompt log-probs, and chat elsewhere)."""
    if resources is None:
        if settings.mode == "auto":
            local = llm.resolved_backend() == "local"
            settings = settings.model_copy(update={"mode": "all_at_once" if local else "chat"})
        return Simulator(settings, tokenizer)
    service = resources.service
    client: PromptLogprobsClient | None = None
    if settings.mode != "chat" and llm.resolved_backend() == "local":
        client = resources.shared(
            "simulation:local_prompt_logprobs", lambda: LocalPromptLogprobs(service=service)
        )
    elif settings.mode != "chat" and (llm.base_url is not None or llm.model):
        client = CompletionsPromptLogprobs(service)
    return Simulator(settings, tokenizer, service, client)
