"""Benchmark: modern-Hopfield retrieval against the matrix products it needs, and against NumPy.

Setting (issue 4): P = 20000 spherical patterns, N = 256, B = 256 queries,
tolerance 1e-8 (max-norm change), float64 and float32. The cues are stored
patterns plus Gaussian noise whose size grows across the batch, so queries
converge after different numbers of updates and the compaction matters.

Rows (ratios measured in the same run, timings interleaved):

- ``retrieve`` against **the products actually needed**: for the batch sizes
  ``n_a`` that :func:`hopfield.modern.retrieve` reports per iteration
  (``active_counts``), the two products ``(n_a x N) . (N x P)`` and
  ``(n_a x P) . (P x N)`` per iteration, timed alone with preallocated
  buffers. Target: retrieve <= 1.2 x products.
- ``retrieve`` against the NumPy reference of the tests
  (``naive.hopfield_retrieve``), which iterates the whole batch (B rows
  every iteration, softmax in NumPy) until every row has converged.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import Row, Table, interleaved_medians  # noqa: E402

# The plain NumPy references of the tests (tests/naive.py) are the baselines.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import naive  # noqa: E402

from hopfield.modern import retrieve  # noqa: E402
from hopfield.patterns import random_patterns  # noqa: E402

P, N, B = 20000, 256, 256
BETA = 0.1
TOL = 1e-8


def retrieval_problem(dtype, n_patterns=P, n_features=N, n_queries=B):
    """Spherical patterns and cues: stored patterns plus Gaussian noise growing across the batch."""
    xi = random_patterns("spherical", n_patterns, n_features, seed=1).astype(dtype)
    rng = np.random.default_rng(2)
    targets = rng.integers(0, n_patterns, n_queries)
    noise = np.linspace(0.2, 5.0, n_queries)[:, None]  # retrieve in 3 updates up to ~13 (and fail) across the batch
    cues = (xi[targets] + noise * rng.standard_normal((n_queries, n_features))).astype(dtype)
    return xi, cues


def _products(xi, counts, dtype):
    """Callable doing exactly the products of the active rows, iteration by iteration."""
    x = np.ones((B, N), dtype=dtype)
    w = np.empty((B, P), dtype=dtype)
    m = np.empty((B, N), dtype=dtype)

    def run():
        for n_a in counts:
            np.dot(x[:n_a], xi.T, out=w[:n_a])
            np.dot(w[:n_a], xi, out=m[:n_a])

    return run


def run(table: Table, repeats: int = 5) -> Table:
    for dtype in (np.float64, np.float32):
        xi, cues = retrieval_problem(dtype)
        res = retrieve(xi, cues, BETA, tol=TOL)  # also compiles
        counts = res.active_counts
        ref_x, ref_row_iters = naive.hopfield_retrieve(xi, cues, BETA, TOL, 1000)
        ref_iters = int(ref_row_iters.max())
        name = np.dtype(dtype).name
        times = interleaved_medians(
            {
                "ours": lambda: retrieve(xi, cues, BETA, tol=TOL),
                "products": _products(xi, counts, dtype),
                "numpy": lambda: naive.hopfield_retrieve(xi, cues, BETA, TOL, 1000),
            },
            repeats=repeats,
        )
        ratio = times["ours"] / times["products"]
        print(
            f"# {name}: iterations per query min/median/max = {res.iterations.min()}/"
            f"{int(np.median(res.iterations))}/{res.iterations.max()}, batch iterations = {counts.size}, "
            f"row-iterations {counts.sum()} vs whole batch {ref_iters * B}; "
            f"max |ours - numpy| = {np.abs(res.states.astype(float) - ref_x.astype(float)).max():.2e}; "
            f"ours / products = {ratio:.3f}",
            flush=True,
        )
        table.add(Row("hopfield retrieve", f"P={P} N={N} B={B} {name}", times["ours"],
                      "products actually needed", times["products"], target="ours <= 1.2x products",
                      met="yes" if ratio <= 1.2 else f"no ({ratio:.2f}x)"))
        table.add(Row("hopfield retrieve", f"P={P} N={N} B={B} {name}", times["ours"],
                      "NumPy whole batch", times["numpy"], target="faster than NumPy",
                      met="yes" if times["numpy"] > times["ours"] else "no"))
    return table


if __name__ == "__main__":
    run(Table()).print()
