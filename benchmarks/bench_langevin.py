"""Benchmarks of the Langevin integrators (issue 2, section 3).

Run: ``python benchmarks/bench_langevin.py``. Ornstein–Uhlenbeck drift
``f = -x`` on B = 4096 trajectories in d = 64 over K = 200 steps, timed
interleaved in the same run against:

- the plain NumPy loop of the same scheme (noise drawn per step with
  ``Generator.standard_normal``, vectorised updates);
- the noise alone (drawing the K x B x d normals into a reused buffer): with
  a cheap drift this is the bound for any seeded run, since the integrator
  draws exactly these numbers.

Also the noise-free Heun (probability-flow ODE) mode against its NumPy loop,
and the compile time of the driver for a new drift function (kernels taking
a function argument are not cached on disk).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _harness import Row, Table, interleaved_medians  # noqa: E402

# The plain NumPy references of the tests (tests/naive.py) are the baselines.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import naive  # noqa: E402

from statmech._numba import kernel  # noqa: E402
from statmech.langevin import integrate  # noqa: E402

B, D, K = 4096, 64, 200


@kernel
def ou_drift(X, t, out, c):
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            out[i, j] = -c * X[i, j]


def ou_np(x, t):
    return -x


def numpy_em(x0, times, g, seed):
    """naive.integrate, Euler–Maruyama, noise drawn per step from the same seed."""
    return naive.integrate(ou_np, x0, times, g, "euler_maruyama", seed=seed, path=False)


def numpy_heun_ode(x0, times):
    return naive.integrate(ou_np, x0, times, 0.0, "heun", path=False)


def noise_only(times, seed):
    rng = np.random.default_rng(seed)
    buf = np.empty((min(K, (1 << 21) // (B * D)), B, D))
    left = len(times) - 1
    while left:
        n = min(left, buf.shape[0])
        rng.standard_normal(out=buf[:n])
        left -= n


def main(repeats: int = 5) -> Table:
    table = Table()
    x0 = np.random.default_rng(0).standard_normal((B, D))
    times = np.linspace(0.0, 2.0, K + 1)
    g = np.sqrt(2.0)

    start = time.perf_counter()
    integrate(ou_drift, x0[:2], times[:3], g=g, drift_args=(1.0,), seed=0)
    compile_s = time.perf_counter() - start
    print(f"compile time of the driver for a new drift: {compile_s:.2f} s", flush=True)

    # Same numbers: the seeded run and the NumPy loop agree to round-off.
    ours = integrate(ou_drift, x0, times, g=g, drift_args=(1.0,), seed=1).x
    ref = numpy_em(x0, times, g, 1)
    print(f"max |ours - numpy| (EM, same seed): {np.abs(ours - ref).max():.2e}", flush=True)

    t = interleaved_medians(
        {
            "ours": lambda: integrate(ou_drift, x0, times, g=g, drift_args=(1.0,), seed=1),
            "numpy": lambda: numpy_em(x0, times, g, 1),
            "noise": lambda: noise_only(times, 1),
        },
        repeats=repeats,
    )
    case = f"EM OU B={B} d={D} K={K}"
    table.add(Row("langevin seeded", case, t["ours"], "numpy loop", t["numpy"]))
    table.add(Row("langevin seeded", case, t["ours"], "normals alone (bound)", t["noise"],
                  target="<= 1.3x bound", met="yes" if t["ours"] <= 1.3 * t["noise"] else "no"))

    t = interleaved_medians(
        {
            "ours": lambda: integrate(ou_drift, x0, times, method="heun", drift_args=(1.0,)),
            "numpy": lambda: numpy_heun_ode(x0, times),
        },
        repeats=repeats,
    )
    table.add(Row("langevin ODE", f"Heun g=0 B={B} d={D} K={K}", t["ours"], "numpy loop",
                  t["numpy"]))
    table.print()
    return table


if __name__ == "__main__":
    main()
