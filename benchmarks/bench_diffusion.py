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
   squared distances to all data: target >= 25 x.

Run as ``python benchmarks/bench_diffusion.py`` (``--quick`` for a small
smoke run), or import and call ``run(table)``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import scipy.special

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Row, Table, interleaved_medians  # noqa: E402

from diffusion.collapse import excess_entropy  # noqa: E402
from diffusion.datasets import gaussian_mixture  # noqa: E402
from diffusion.processes import ou_process  # noqa: E402
from diffusion.sampler import backward_sample  # noqa: E402


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


def _numpy_sampler(data, process, times, n_traj, seed):
    """Reference: the same Euler–Maruyama loop in NumPy/SciPy with nearest-neighbour tracking."""
    rng = np.random.default_rng(seed)
    n, d = data.shape
    sqnorm = (data * data).sum(1)
    x = math.sqrt(process.delta(times[0])) * rng.standard_normal((n_traj, d))
    last = np.full(n_traj, -1)
    t_hat = np.full(n_traj, times[0])
    for k in range(len(times) - 1):
        t, h = times[k], times[k] - times[k + 1]
        s, delta = process.s(t), process.delta(t)
        logw = (s * (x @ data.T) - 0.5 * s * s * sqnorm) / delta
        nearest = logw.argmax(1)
        changed = (last >= 0) & (nearest != last)
        t_hat[changed] = t
        last = nearest
        w = np.exp(logw - scipy.special.logsumexp(logw, axis=1, keepdims=True))
        score = (s * (w @ data) - x) / delta
        x = x + h * (x + 2.0 * score) + math.sqrt(2.0 * h) * rng.standard_normal((n_traj, d))
    return x, t_hat


def _excess_reference(data, times, process, n_samples, seed):
    """Reference f^e: redraw (nu, z) at every time, squared distances, scipy logsumexp."""
    rng = np.random.default_rng(seed)
    n, d = data.shape
    sqnorm = (data * data).sum(1)
    out = np.empty(len(times))
    for k, t in enumerate(times):
        s, delta = process.s(t), process.delta(t)
        nu = rng.integers(0, n, n_samples)
        x = s * data[nu] + math.sqrt(delta) * rng.standard_normal((n_samples, d))
        sq = (x * x).sum(1)[:, None] + s * s * sqnorm[None, :] - 2.0 * s * (x @ data.T)
        lse = scipy.special.logsumexp(-sq / (2.0 * delta), axis=1)
        out[k] = 0.5 + 0.5 * math.log(2 * math.pi * delta) + math.log(n) / d + (
            lse - math.log(n) - 0.5 * d * math.log(2 * math.pi * delta)).mean() / d
    return out


def run(table: Table, *, quick: bool = False, repeats: int = 3, steps: int | None = None) -> Table:
    """Time both benchmarks and add their rows to ``table``.

    ``steps`` overrides K (the per-step cost is constant, so the ratios do not
    depend on it; use it when the machine is too loaded for the full run).
    """
    n, d, B, K = (2000, 64, 64, 20) if quick else (20000, 256, 256, 200)
    if steps is not None:
        K = steps
    process = ou_process()
    data = gaussian_mixture(n, d, seed=1).data
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
    med.update(interleaved_medians({"numpy": lambda: _numpy_sampler(data, process, times, B, 3)},
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

    M, T = (200, 10) if quick else (2000, 50)
    f_times = np.linspace(0.05, 5.0, T)
    funcs = {
        "ours": lambda: excess_entropy(data, f_times, process, n_samples=M, seed=4),
        "reference": lambda: _excess_reference(data, f_times, process, M, 4),
    }
    med = interleaved_medians(funcs, repeats=repeats, warmup=1)
    ratio = med["reference"] / med["ours"]
    table.add(Row("excess entropy", f"n={n} d={d} M={M} {T} times", med["ours"],
                  "NumPy redraw + logsumexp", med["reference"], target=">= 25 x",
                  met="yes" if ratio >= 25 else "NO"))
    return table


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--steps", type=int, default=None, help="override K (default 200)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tab = Table()
    run(tab, quick=args.quick, repeats=args.repeats, steps=args.steps)
    tab.print()
