"""Exact nearest windows for similar negatives: one matrix product (what
:func:`sae_interp.activations.window_index.most_similar` does) vs faiss's exact flat
inner-product index (per-query top-k over the candidate windows, merged by best
similarity: the same answer). Random unit vectors of the MiniLM width (384).

    python benchmarks/window_index_search.py
"""

from __future__ import annotations

import time

import numpy as np

from sae_interp.activations.window_index import most_similar, unit_rows


def faiss_most_similar(emb: np.ndarray, queries: list[int], cand: np.ndarray, k: int) -> np.ndarray:
    import faiss

    index = faiss.IndexFlatIP(emb.shape[1])
    index.add(emb[cand])
    sims, ids = index.search(emb[queries], k)
    best: dict[int, float] = {}
    for row_s, row_i in zip(sims, ids, strict=True):
        for s, i in zip(row_s, row_i, strict=True):
            w = int(cand[i])
            best[w] = max(best.get(w, -2.0), float(s))
    return np.asarray(sorted(best, key=lambda w: (-best[w], w))[:k])


def timed(fn, repeats: int = 5) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    rng = np.random.default_rng(0)
    print("windows  queries  k   matmul_ms  faiss_ms  same")
    for n in (2_048, 32_768, 131_072):
        emb = unit_rows(rng.standard_normal((n, 384)).astype(np.float32))
        queries = rng.choice(n, 20, replace=False).tolist()
        cand = np.setdiff1d(np.arange(n), queries)
        k = 50
        a = most_similar(emb, queries, cand, k)
        b = faiss_most_similar(emb, queries, cand, k)
        t_mm = timed(lambda: most_similar(emb, queries, cand, k))  # noqa: B023
        t_fa = timed(lambda: faiss_most_similar(emb, queries, cand, k))  # noqa: B023
        print(
            f"{n:7d}  {len(queries):7d}  {k}  {1e3 * t_mm:9.2f}  {1e3 * t_fa:8.2f}  {np.array_equal(a, b)}"
        )


if __name__ == "__main__":
    main()
