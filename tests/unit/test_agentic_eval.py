import json
import re
from pathlib import Path

from helpers import agent_reply, agentic_config, task_of

from sae_interp.evals.agentic import run_eval
from sae_interp.llm import LLMError, ScriptedBackend
from sae_interp.llm.errors import FailureKind
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.testing import make_tiny_sae


def test_agentic_eval_end_to_end(tmp_path: Path, corpus_file: Path) -> None:
    backend = ScriptedBackend(agent_reply)
    LLM_BACKENDS.register("agent-script", lambda s, stack: backend, overwrite=True)
    cfg = agentic_config(tmp_path, corpus_file)
    (out,) = run_eval(cfg, saes={"tiny": make_tiny_sae(d_sae=32, k=4)})
    m = out.eval_result_metrics
    assert m.n_requested == 2 and m.n_concluded == 2 and m.n_forced == 0
    assert m.agentic is not None and m.one_shot is not None and m.shuffled_control is not None
    assert m.mean_tests == 3.0
    for r in out.eval_result_details:
        assert r.transcript.conclusion.description == "cat tokens"
        assert r.agentic.explanation == "cat tokens"
        assert r.one_shot.explanation.startswith("the token")
        assert r.control_explanation_of not in (None, r.latent)
        gen = r.agentic.generation
        assert (
            len(gen.texts) == 3 and len(gen.max_activations) == 3 and gen.success_rate is not None
        )
        assert len(r.agentic.prediction.windows) == 3 and r.agentic.prediction.n_failed == 0
        assert r.llm_usage["calls"] > 0
    # resume: a rerun pays nothing
    calls = len(backend.calls)
    (next(iter((tmp_path / "out" / "agentic").glob("*.json")))).unlink()
    run_eval(cfg, saes={"tiny": make_tiny_sae(d_sae=32, k=4)})
    assert len(backend.calls) == calls


def test_a_failed_agent_call_leaves_its_latent_for_the_rerun(
    tmp_path: Path, corpus_file: Path
) -> None:
    broken = {"n": 1}  # the first "design a test" request fails at the LLM

    def flaky(request):  # type: ignore[no-untyped-def]
        if "Design one new test" in request.messages[-1].content and broken["n"]:
            broken["n"] -= 1
            return LLMError("503 after retries", kind=FailureKind.server_error)
        return agent_reply(request)

    backend = ScriptedBackend(flaky)
    LLM_BACKENDS.register("agent-script", lambda s, stack: backend, overwrite=True)
    cfg = agentic_config(tmp_path, corpus_file)
    sae = {"tiny": make_tiny_sae(d_sae=32, k=4)}
    (out,) = run_eval(cfg, saes=sae)
    failed = [r for r in out.eval_result_details if r.status == "scoring_failed"]
    assert len(failed) == 1 and failed[0].error_kind == "server_error"
    assert out.failures == {"server_error": 1}
    stored = next((tmp_path / "out" / "agentic").rglob("latents_*.jsonl")).read_text()
    assert f'"latent": {failed[0].latent},' not in stored.replace('"latent":', '"latent": ')
    calls = len(backend.calls)
    (again,) = run_eval(cfg, saes=sae)  # the failed latent alone is run again
    assert all(r.status == "ok" for r in again.eval_result_details) and not again.failures
    assert 0 < len(backend.calls) - calls < calls


def test_agentic_random_sae_control_and_reseeds(tmp_path: Path, corpus_file: Path) -> None:
    """--random-sae-control runs the agent on a random SAE's frequency-matched latents;
    --seeds evaluates every latent's explanations again on other windows and other
    generated texts without running the agent again; a rerun pays nothing."""
    backend = ScriptedBackend(agent_reply)
    LLM_BACKENDS.register("agent-script", lambda s, stack: backend, overwrite=True)
    cfg = agentic_config(tmp_path, corpus_file).model_copy(
        update={"random_sae_control": True, "seeds": [1, 2]}
    )
    sae = {"tiny": make_tiny_sae(d_sae=32, k=4)}
    (out,) = run_eval(cfg, saes=sae)
    m = out.eval_result_metrics
    starts = [c for c in backend.calls if "Propose at least three" in c.messages[-1].content]
    assert len(starts) == 4  # the agent ran on 2 latents of each SAE, not once more per seed
    assert m.random_sae_control is not None and m.random_sae_one_shot is not None
    assert m.real_minus_random_sae is not None
    real = m.agentic.prediction_pearson  # type: ignore[union-attr]
    rand = m.random_sae_control.prediction_pearson  # type: ignore[attr-defined]
    diff = m.real_minus_random_sae.prediction_pearson  # type: ignore[attr-defined]
    assert real.n == 2 and rand.n == 2
    assert abs(diff.value - (real.value - rand.value)) < 1e-9
    spread = m.reseed["agentic.prediction_pearson"]  # type: ignore[index]
    assert spread.seeds == [cfg.seed, 1, 2] and len(spread.means) == 3
    assert spread.means[0] == real.value
    assert set(m.reseed) >= {  # type: ignore[arg-type]
        "one_shot.generation_success_rate",
        "shuffled_control.prediction_pearson",
    }
    generated = [c for c in backend.calls if task_of(c) == "generation"]
    assert {c.seed for c in generated} == {cfg.seed, 1, 2}
    # the reseeded arms hold their own per-latent records (no transcript: the agent's kept)
    reseeded = list((tmp_path / "out" / "agentic").rglob("latents_*_reseed.jsonl"))
    assert len(reseeded) == 2
    rows = [json.loads(line) for line in reseeded[0].read_text().splitlines()]
    assert len(rows) == 2 and all(r["transcript"] is None for r in rows)
    assert {r["agentic"]["explanation"] for r in rows} == {"cat tokens"}
    windows = {
        r.latent: {(w.seq, w.start) for w in r.agentic.prediction.windows}
        for r in out.eval_result_details
    }
    drawn = {
        r["latent"]: {(w["seq"], w["start"]) for w in r["agentic"]["prediction"]["windows"]}
        for r in rows
    }
    assert drawn.keys() == windows.keys() and drawn != windows  # other test windows
    calls = len(backend.calls)
    next((tmp_path / "out" / "agentic").glob("*.json")).unlink()
    (again,) = run_eval(cfg, saes=sae)
    assert len(backend.calls) == calls
    assert again.eval_result_metrics.reseed == m.reseed


def test_the_eval_tells_an_agent_that_names_the_latent_from_one_that_does_not(
    tmp_path: Path, corpus_file: Path
) -> None:
    """What the eval is for, with a scripted judge (the offline LLM does not reach it): a
    text writer that writes what the description names makes texts that fire the latent when
    the agent names the token its exemplars mark, and not when the agent names a word the
    tiny vocabulary lacks; the generation score (mean activation) says which agent was
    right."""
    seen: dict[str, str] = {}

    def agent(named_right: bool):  # type: ignore[no-untyped-def]
        def answer(request):  # type: ignore[no-untyped-def]
            last, task = request.messages[-1].content, task_of(request)
            if task == "generation":  # the described token, written out again and again
                described = re.search(r"Description of the latent: (?:the token )?(\S+)", last)
                word = described.group(1) if described else "zebra"
                return json.dumps({"texts": [" ".join([word] * 6), " ".join([word] * 4)]})
            if "Propose at least three" in last:  # the exemplars: remember the marked token
                marked = re.findall(r"<<\s*([^<>]+?)\s*>>", last)
                seen["top"] = max(set(marked), key=marked.count) if marked else "the"
            if "Write the final explanation" in last:
                word = seen["top"] if named_right else "zebra"
                return json.dumps({"description": f"the token {word}", "labels": [word]})
            return agent_reply(request)

        return answer

    rates = {}
    for named_right in (True, False):
        backend = ScriptedBackend(agent(named_right))
        LLM_BACKENDS.register("agent-script", lambda s, stack, b=backend: b, overwrite=True)
        cfg = agentic_config(tmp_path / str(named_right), corpus_file)
        cfg = cfg.model_copy(update={"llm": cfg.llm.model_copy(update={"concurrency": 1})})
        (out,) = run_eval(cfg, saes={"tiny": make_tiny_sae(d_sae=32, k=4)})
        m = out.eval_result_metrics
        assert m.agentic is not None and m.agentic.generation_mean_activation.value is not None
        rates[named_right] = m.agentic.generation_mean_activation.value
    # the mean max activation of the generated texts (repeated tokens out of context fire
    # below the success threshold of half the exemplars', so the success rate is 0 for both)
    assert rates[False] == 0.0 and rates[True] > 0.3, rates
