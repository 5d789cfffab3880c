"""Benchmarks of the log-sum-exp and Gibbs-average kernels (issue 2).

Run: ``python benchmarks/bench_kernels.py``. Each kernel is timed with its
NumPy/SciPy reference and its hardware bound, interleaved in the same run:

- ``logsumexp`` over rows of a 256 x 20000 array, against
  ``scipy.special.logsumexp`` and against ``numpy.exp`` of the same array
  (the exp bound: any log-sum-exp must at least exponentiate every entry);
- ``gibbs_average`` with B = 256 states, n = 20000 patterns, d = 256, in
  float64 and float32, against its two matrix products alone (the BLAS
  bound: the same ``np.dot`` calls on the same chunks, compiled, with nothing
  in between) and against
  the plain NumPy reference (full B x n log-weights, scipy logsumexp, softmax,
  product). Target: at most 1.15x the BLAS bound.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import scipy.special

sys.path.insert(0, os.path.dirname(__file__))
from _harness import Row, Table, interleaved_medians  # noqa: E402

# The plain NumPy references of the tests (tests/naive.py) are the baselines.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import naive  # noqa: E402

from statmech import gibbs_average, logsumexp  # noqa: E402
from statmech._numba import kernel  # noqa: E402
from statmech.gibbs import default_chunk_size  # noqa: E402


def bench_logsumexp(table: Table, repeats: int = 7) -> None:
    rng = np.random.default_rng(0)
    values = rng.standard_normal((256, 20000)) * 10
    scratch = np.empty_like(values)
    times = interleaved_medians(
        {
            "ours": lambda: logsumexp(values, axis=1),
            "scipy": lambda: scipy.special.logsumexp(values, axis=1),
            "exp bound": lambda: np.exp(values, out=scratch),
        },
        repeats=repeats,
    )
    table.add(Row("logsumexp", "256x20000 f64, axis=1", times["ours"], "scipy.special.logsumexp",
                  times["scipy"], "faster than scipy", "yes" if times["ours"] < times["scipy"] else "no"))
    table.add(Row("logsumexp", "256x20000 f64, axis=1", times["ours"], "numpy.exp (exp bound)",
                  times["exp bound"], "report", f"{times['ours'] / times['exp bound']:.2f}x bound"))


@kernel
def _two_products(scaled, patterns, chunk, block, product):
    """Exactly the BLAS calls gibbs_average makes, with nothing in between."""
    n = patterns.shape[0]
    for start in range(0, n, chunk):
        part = patterns[start:min(start + chunk, n)]
        weights = block[: scaled.shape[0] * part.shape[0]].reshape((scaled.shape[0], part.shape[0]))
        np.dot(scaled, part.T, weights)
        np.dot(weights, part, product)


def bench_gibbs(table: Table, dtype, repeats: int = 7, B: int = 256, n: int = 20000, d: int = 256) -> None:
    rng = np.random.default_rng(1)
    patterns = (rng.standard_normal((n, d)) / np.sqrt(d)).astype(dtype)
    states = rng.standard_normal((B, d)).astype(dtype)
    beta = 2.0
    chunk = default_chunk_size(B, n)
    block = np.empty(B * chunk, dtype)
    product = np.empty((B, d), dtype)
    scaled = (beta * states).astype(dtype)

    def blas_bound():
        _two_products(scaled, patterns, chunk, block, product)

    # The NumPy reference is timed on its own: its 40 MB temporaries slow down
    # whatever runs right after it (measured: the bare products went from 55 to
    # 148 ms when interleaved with it), which would blur the ours/bound ratio.
    times = interleaved_medians({"ours": lambda: gibbs_average(patterns, states, beta), "bound": blas_bound},
                                repeats=repeats)
    times.update(interleaved_medians({"numpy": lambda: naive.gibbs_reference(patterns, states, beta,
                                                                             dtype=dtype)},
                                     repeats=max(3, repeats // 2)))
    name = np.dtype(dtype).name
    case = f"B={B} n={n} d={d} {name}"
    ratio = times["ours"] / times["bound"]
    table.add(Row("gibbs_average", case, times["ours"], "two matrix products", times["bound"],
                  "<= 1.15x bound", f"{ratio:.2f}x bound: {'yes' if ratio <= 1.15 else 'NO'}"))
    table.add(Row("gibbs_average", case, times["ours"], "NumPy reference", times["numpy"], "report", ""))


def run(table: Table) -> Table:
    bench_logsumexp(table)
    bench_gibbs(table, np.float64)
    bench_gibbs(table, np.float32)
    return table


if __name__ == "__main__":
    from _harness import header

    print(header())
    run(Table()).print()
