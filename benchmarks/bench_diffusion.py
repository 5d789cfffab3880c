"""Benchmarks of the diffusion package (issue 3), each against a reference in the same run.

1. Backward sampler with the exact empirical score and nearest-neighbour
   tracking: n = 20000, d = 256, B = 256 trajectories, K = 200 steps
   (Euler–Maruyama). Compared with
   - its matrix products alone (two B x d x n products per step, the BLAS
     bound): target ours <= 1.15 x products, float64 and float32;
   - itself in float64: target float32 >= 1.7 x faster;
   - a plain NumPy reference sampler (same algorithm, scipy logsumexp).
2. Excess-entropy curve: n = 20000, d = 256, M = 2000 samples, 50 times,
   common random numbers, against the NumPy reference that redraws the
   samples at each time and calls ``scipy.special.logsumexp`` over the
   squared distances to all data: target >= 25 x. Also against its own
   bound: ``M n T`` evaluations of ``exp_nonpositive`` alone (a tiny
   parallel loop) plus the one product ``[A_nu; Z] A^T`` in the same blocks;
   pruning of negligible terms lets ours beat that bound. The row
   "excess entropy bound" (reference / bound) is the largest ratio an
   implementation of this estimator without pruning could reach.

Run as ``python benchmarks/bench_diffusion.py`` (``--quick`` for a small
smoke run), or import and call ``run(table)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from numba import prange

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Row, Table, interleaved_medians  # noqa: E402

# The plain NumPy references of the tests (tests/naive.py) are the baselines.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import naive  # noqa: E402

from diffusion.collapse import _product_samples, excess_entropy  # noqa: E402
from diffusion.datasets import gaussian_mixture  # noqa: E402
from diffusion.processes import ou_process  # noqa: E402
from diffusion.sampler import backward_sample  # noqa: E402
from statmech._fastexp import exp_nonpositive  # noqa: E402
from statmech._numba import pkernel  # noqa: E402


def _products_alone(data, n_traj, n_steps, dtype):
    data = data.astype(dtype)
    x = np.random.default_rng(0).standard_normal((n_traj, data.shape[1])).astype(dtype)
    weights = np.empty((n_traj, data.shape[0]), dtype)
    mean = np.empty_like(x)

    def run():
        for _ in range(n_steps):
            np.dot(x, data.T, out=weights)
            np.dot(weights, data, out=mean)

    return run


@pkernel
def _exp_sums(values, n_rows, n_times, out):
    """``n_rows x n_times`` sums of ``exp_nonpositive`` over a row of ``values``: the exp bound."""
    n_values, n = values.shape
    for i in prange(n_rows):
        row = values[i % n_values]
        for k in range(n_times):
            shift = -1e-3 * k
            total = 0.0
            for mu in range(n):
                total += exp_nonpositive(row[mu] + shift)
            out[i, k] = total


def _excess_bound(data, n_samples, n_times):
    """What any excess-entropy run without pruning must do: ``M n T`` exps and the overlap product.

    Returns two callables: the exps alone (rows of a small array reused, like
    ours reuses one row of overlaps for all times) and the product
    ``[A_nu; Z] A^T`` in the groups of samples :func:`excess_entropy` uses.
    """
    n, d = data.shape
    values = -50.0 * np.random.default_rng(0).random((64, n))
    sums = np.empty((n_samples, n_times))
    group = _product_samples(n)  # excess_entropy's samples per product
    stacked = np.random.default_rng(1).standard_normal((2 * group, d))
    overlaps = np.empty((2 * group, n))

    def exps():
        _exp_sums(values, n_samples, n_times, sums)

    def product():
        for start in range(0, n_samples, group):
            m = min(group, n_samples - start)
            np.dot(stacked[:2 * m], data.T, out=overlaps[:2 * m])

    return exps, product


def _excess_reference(data, times, process, n_samples, seed):
    """Reference f^e: redraw (nu, z) at every time, then naive.excess_entropy_values (logsumexp)."""
    rng = np.random.default_rng(seed)
    n, d = data.shape
    out = np.empty(len(times))
    for k, t in enumerate(times):
        nu = rng.integers(0, n, n_samples)
        z = rng.standard_normal((n_samples, d))
        out[k] = naive.excess_entropy_values(data, [t], process, nu, z).mean()
    return out


def run(table: Table, *, quick: bool = False, repeats: int = 3, steps: int | None = None,
        parts=("sampler", "excess")) -> Table:
    """Time the benchmarks named in ``parts`` and add their rows to ``table``.

    ``steps`` overrides K (the per-step cost is constant, so the ratios do not
    depend on it; use it when the machine is too loaded for the full run).
    """
    n, d = (2000, 64) if quick else (20000, 256)
    process = ou_process()
    data = gaussian_mixture(n, d, seed=1).data
    if "sampler" in parts:
        _run_sampler(table, data, process, quick=quick, repeats=repeats, steps=steps)
    if "excess" in parts:
        _run_excess(table, data, process, quick=quick, repeats=repeats)
    return table


def _run_sampler(table, data, process, *, quick, repeats, steps):
    n, d = data.shape
    B, K = (64, 20) if quick else (256, 200)
    if steps is not None:
        K = steps
    times = process.time_grid(0.01, 5.0, K, spacing="log")
    data32 = data.astype(np.float32)

    def ours(dtype, array):
        return lambda: backward_sample(array, process, times, n_trajectories=B, group_size=B,
                                       seed=3, dtype=dtype, init="gaussian")

    funcs = {
        "ours64": ours(np.float64, data),
        "ours32": ours(np.float32, data32),
        "blas64": _products_alone(data, B, K, np.float64),
        "blas32": _products_alone(data, B, K, np.float32),
    }
    med = interleaved_medians(funcs, repeats=repeats, warmup=1)
    # The NumPy reference on its own: its large temporaries slow whatever runs next.
    med.update(interleaved_medians({"numpy": lambda: naive.backward_sampler(data, process, times, B, 3,
                                                                            init="gaussian")},
                                   repeats=repeats, warmup=0))
    case = f"n={n} d={d} B={B} K={K}"
    for bits in ("64", "32"):
        ratio = med["blas" + bits] / med["ours" + bits]
        table.add(Row("backward sampler", f"float{bits} {case}", med["ours" + bits],
                      "its 2 BLAS products/step", med["blas" + bits],
                      target="ours <= 1.15 x products", met="yes" if ratio >= 1 / 1.15 else "NO"))
    speed = med["ours64"] / med["ours32"]
    table.add(Row("backward sampler", f"float32 vs float64 {case}", med["ours32"],
                  "ours in float64", med["ours64"], target="float32 >= 1.7 x faster",
                  met="yes" if speed >= 1.7 else "NO"))
    table.add(Row("backward sampler", f"float64 {case}", med["ours64"], "NumPy reference sampler",
                  med["numpy"], target="(information)", met="-"))


def _run_excess(table, data, process, *, quick, repeats):
    n, d = data.shape
    M, T = (200, 10) if quick else (2000, 50)
    f_times = np.linspace(0.05, 5.0, T)
    exps, product = _excess_bound(data, M, T)
    # Product before exps, as any implementation must run them: the OpenBLAS
    # worker spins for ~0.1 s after a product and slows the Numba kernel that
    # follows, in ours (once per block) as in the bound (once).
    funcs = {
        "ours": lambda: excess_entropy(data, f_times, process, n_samples=M, seed=4),
        "product": product,
        "exps": exps,
    }
    med = interleaved_medians(funcs, repeats=repeats, warmup=1)
    # The NumPy reference on its own: its large temporaries slow whatever runs next.
    med.update(interleaved_medians(
        {"reference": lambda: _excess_reference(data, f_times, process, M, 4)},
        repeats=repeats, warmup=0))
    bound = med["exps"] + med["product"]
    case = f"n={n} d={d} M={M} {T} times"
    ratio = med["reference"] / med["ours"]
    table.add(Row("excess entropy", case, med["ours"],
                  "NumPy redraw + logsumexp", med["reference"], target=">= 25 x",
                  met="yes" if ratio >= 25 else "NO"))
    table.add(Row("excess entropy", case, med["ours"], "M n T exps + product", bound,
                  target="report",
                  met=f"{med['ours'] / bound:.2f}x bound (exps {med['exps']:.3f} s, "
                      f"product {med['product']:.3f} s)"))
    table.add(Row("excess entropy bound", case, bound,
                  "NumPy redraw + logsumexp", med["reference"], target="(information)",
                  met="largest ratio without pruning"))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--steps", type=int, default=None, help="override K (default 200)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=("sampler", "excess"), default=None,
                        help="run one of the two benchmarks")
    args = parser.parse_args()
    tab = Table()
    run(tab, quick=args.quick, repeats=args.repeats, steps=args.steps,
        parts=("sampler", "excess") if args.only is None else (args.only,))
    tab.print()
