"""Where the LLM stage of autointerp spends its time on the offline judge, request by request.

llama-cpp-python's server logs, for each request, the prompt tokens it reused from the
previous prompt's key/value cache (``prefix-match hit``), the ones it evaluated and how long
that took, and the tokens it decoded and how long that took. This runs autointerp on the
offline judge at concurrency 1 with no response cache (so the server's log lines follow the
requests one for one), records each request on the client (its stage, when it was sent and
answered, and where it went: the generation server, the one that keeps per-token logits
for log-probability requests, or the in-process reader of short answers with
log-probabilities, whose token counts come from its answers and which logs no timings),
joins the two, and reports per stage (explain, score):

- requests, prompt tokens, tokens reused from the previous prompt and tokens evaluated;
- the server's prompt-evaluation and decoding seconds, the client's request seconds, and the
  client's own gaps (from one answer to the next request);
- the evaluation rate (tokens per second), to price a prompt token against a decoded one.

    python benchmarks/llm_stage_profile.py --n-latents 10 --detection-mode saebench \
        --no-shuffled-control
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sae_interp.evals import get_eval
from sae_interp.explainers.one_shot_prompts import EXPLANATION_TAG
from sae_interp.framework.runner import run_per_sae
from sae_interp.llm.local import answers_in_process
from sae_interp.llm.settings import LLM_BACKENDS, LLMSettings
from sae_interp.llm.types import LLMBackend, LLMRequest, LLMResponse

logger = logging.getLogger("llm_stage_profile")


@dataclass
class Sent:
    stage: str
    sent: float
    answered: float = 0.0
    where: str = "generation"  # or "logprobs" (the second server), or "in_process"
    served: Served | None = None  # in-process: from the answer's usage


@dataclass
class Profiled:
    """The offline backend, each request's stage and times recorded."""

    inner: Any
    log: list[Sent] = field(default_factory=list)

    @property
    def model(self) -> str:
        return str(self.inner.model)

    def identity(self) -> str:
        return str(self.inner.identity())

    async def complete(self, request: LLMRequest) -> LLMResponse:
        stage = "explain" if EXPLANATION_TAG in request.messages[0].content else "score"
        if answers_in_process(request):
            where = "in_process"
        elif request.top_logprobs or request.echo_logprobs:
            where = "logprobs"
        else:
            where = "generation"
        record = Sent(stage, time.perf_counter(), where=where)
        self.log.append(record)
        try:
            response = await self.inner.complete(request)
        finally:
            record.answered = time.perf_counter()
        if where == "in_process":
            usage = response.usage
            record.served = Served(
                reused=usage.cached_tokens,
                evaluated=usage.prompt_tokens - usage.cached_tokens,
                decoded=usage.completion_tokens,
            )
        return response


@dataclass
class Served:
    """One request as the server's log tells it."""

    reused: int = 0
    evaluated: int = 0
    prompt_ms: float = 0.0
    decoded: int = 0
    decode_ms: float = 0.0


NUMBER = r"([\d.]+)"
HIT = re.compile(rf"Llama\.generate: {NUMBER} prefix-match hit")
PROMPT = re.compile(rf"prompt eval time =\s+{NUMBER} ms /\s+{NUMBER} tokens")
DECODE = re.compile(rf"\beval time =\s+{NUMBER} ms /\s+{NUMBER} runs")
TOTAL = re.compile(r"total time =")


def served(log_text: str) -> list[Served]:
    """The server's record of each request, in order."""
    out: list[Served] = []
    current = Served()
    for line in log_text.splitlines():
        if (m := HIT.search(line)) is not None:
            current.reused = int(float(m.group(1)))
        elif (m := PROMPT.search(line)) is not None:
            current.prompt_ms, current.evaluated = float(m.group(1)), int(float(m.group(2)))
        elif "prompt eval" not in line and (m := DECODE.search(line)) is not None:
            current.decode_ms, current.decoded = float(m.group(1)), int(float(m.group(2)))
        elif TOTAL.search(line):
            out.append(current)
            current = Served()
    return out


def summarise(sent: list[Sent], server: list[Served]) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    previous_answer: float | None = None
    for s, v in zip(sent, server, strict=True):
        row = rows.setdefault(
            s.stage,
            dict.fromkeys(
                ("requests", "in_process_requests", "prompt_tokens", "reused_tokens",
                 "evaluated_tokens", "prompt_eval_s", "decoded_tokens", "decode_s",
                 "request_s", "server_request_s", "server_evaluated_tokens",
                 "server_decoded_tokens", "gap_s"),
                0.0,
            ),
        )  # fmt: skip
        row["requests"] += 1
        row["prompt_tokens"] += v.reused + v.evaluated
        row["reused_tokens"] += v.reused
        row["evaluated_tokens"] += v.evaluated
        row["prompt_eval_s"] += v.prompt_ms / 1000
        row["decoded_tokens"] += v.decoded
        row["decode_s"] += v.decode_ms / 1000
        row["request_s"] += s.answered - s.sent
        if s.where == "in_process":
            row["in_process_requests"] += 1
        else:
            row["server_request_s"] += s.answered - s.sent
            row["server_evaluated_tokens"] += v.evaluated
            row["server_decoded_tokens"] += v.decoded
        if previous_answer is not None:
            row["gap_s"] += max(0.0, s.sent - previous_answer)
        previous_answer = s.answered
    for row in rows.values():
        row["reused_fraction"] = row["reused_tokens"] / max(row["prompt_tokens"], 1)
        # rates and shares of the servers' requests (the in-process reader logs no timings)
        row["eval_tokens_per_s"] = row["server_evaluated_tokens"] / max(row["prompt_eval_s"], 1e-9)
        row["decode_tokens_per_s"] = row["server_decoded_tokens"] / max(row["decode_s"], 1e-9)
        row["server_share_of_request"] = (row["prompt_eval_s"] + row["decode_s"]) / max(
            row["server_request_s"], 1e-9
        )
    return {k: {m: round(v, 3) for m, v in r.items()} for k, r in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--saes", default="embedded")
    parser.add_argument("--n-latents", type=int, default=10)
    parser.add_argument("--n-tokens", type=int, default=50_000)
    parser.add_argument("--detection-mode", default="saebench")
    parser.add_argument("--no-shuffled-control", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    profiled: list[Profiled] = []
    locals_: list[Any] = []

    def factory(settings: LLMSettings, stack: contextlib.ExitStack) -> LLMBackend:
        local = LLM_BACKENDS.get("local")(settings.model_copy(update={"backend": "local"}), stack)
        locals_.append(local)
        profiled.append(Profiled(local))
        return profiled[-1]

    LLM_BACKENDS.register("profiled-local", factory, overwrite=True)
    definition = get_eval("autointerp")
    config = definition.config_cls.model_validate(
        {
            "saes": args.saes.split(","),
            "n_latents": args.n_latents,
            "n_tokens": args.n_tokens,
            "device": "cpu",
            "output_dir": tempfile.mkdtemp(prefix="llm-profile-"),
            "shuffled_control": not args.no_shuffled_control,
            "detection": {"mode": args.detection_mode},
            "llm": {"backend": "profiled-local", "concurrency": 1, "cache": False},
        }
    )
    started = time.perf_counter()
    (output,) = run_per_sae(definition, config)
    wall = time.perf_counter() - started
    (backend,) = profiled
    # each server's log lines follow its own requests; put them back in request order
    server: list[Served] = []
    by_server = {"generation": locals_[0].server, "logprobs": locals_[0].logprob_server}
    lines: dict[str, list[Served]] = {}
    for kind, srv in by_server.items():
        mine = [s for s in backend.log if s.where == kind]
        text = Path(srv.log_path).read_text() if srv is not None else ""
        lines[kind] = served(text)[-len(mine) :] if mine else []
    seen = dict.fromkeys(lines, 0)
    for sent in backend.log:
        if sent.served is not None:
            server.append(sent.served)
            continue
        server.append(lines[sent.where][seen[sent.where]])
        seen[sent.where] += 1
    stages = summarise(backend.log, server)
    llm_s = backend.log[-1].answered - backend.log[0].sent
    result = {
        "settings": vars(args),
        "wall_s": round(wall, 1),
        "llm_stage_s": round(llm_s, 1),
        "requests": len(backend.log),
        "by_stage": stages,
        "usage": output.eval_result_metrics.llm_usage,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
