"""The per-latent loop every eval runs on: resume, later stages, unfinished latents, counts."""

from pathlib import Path

from pydantic import BaseModel

from sae_interp.evals.common.latent_loop import run_latents, status_counts
from sae_interp.framework.latent_store import LatentStore


class Result(BaseModel):
    latent: int
    status: str = "ok"
    value: int = 0
    control: int | None = None


def test_loop_resumes_groups_and_keeps_order(tmp_path: Path) -> None:
    store = LatentStore(tmp_path / "r.jsonl", Result)
    store.put(Result(latent=7, value=70))
    seen: list[list[int]] = []

    def work(latents: list[int]) -> list[Result]:
        seen.append(latents)
        return [Result(latent=x, value=10 * x) for x in latents]

    out = run_latents([9, 7, 1, 4, 2], store, work, group=2, desc="t")
    assert seen == [[9, 1], [4, 2]]  # the stored latent is not worked on again
    assert [r.latent for r in out] == [9, 7, 1, 4, 2] and out[1].value == 70
    reloaded = LatentStore(tmp_path / "r.jsonl", Result)
    assert reloaded.done() == {1, 2, 4, 7, 9}
    assert run_latents([9, 7], reloaded, work, group=2, desc="t") and len(seen) == 2


def test_later_stage_finishes_stored_latents_and_failures_stay_unfinished(
    tmp_path: Path,
) -> None:
    store = LatentStore(tmp_path / "r.jsonl", Result)
    for x in (1, 2, 3):
        store.put(Result(latent=x))
    store.put(Result(latent=2, control=5))  # finished by an earlier run

    def control(latents: list[int]) -> list[Result]:
        return [
            Result(latent=x, status="scoring_failed" if x == 3 else "ok", control=x)
            for x in latents
        ]

    out = run_latents(
        [1, 2, 3],
        store,
        control,
        group=1,
        desc="control",
        finished=lambda r: r.control is not None,
        unfinished=lambda r: r.status == "scoring_failed",
    )
    assert [(r.latent, r.control, r.status) for r in out] == [
        (1, 1, "ok"),
        (2, 5, "ok"),
        (3, 3, "scoring_failed"),
    ]
    reloaded = LatentStore(tmp_path / "r.jsonl", Result)
    assert reloaded.get(3) == Result(latent=3)  # the failure was not stored
    assert status_counts(out, n_failed="scoring_failed", n_dead="dead") == {
        "n_requested": 3,
        "n_failed": 1,
        "n_dead": 0,
    }
