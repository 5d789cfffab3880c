"""Overhead of the generic score-model path of the backward sampler (issue 11).

``backward_sample(model=EmpiricalModel(data))`` against today's
``backward_sample(data)`` on the sampler benchmark's workload (n = 20000,
d = 256, B = 256, float64 and float32), and ``backward_sample(model=
TwoGaussiansModel(...))`` against ``backward_sample_two_gaussians`` (d = 256,
B = 4096). The built-in models dispatch to the same compiled drifts, so the
target (at most 5 % more per step) should be met with room; the rows measure
it. A model called from Python at every step (the Gaussian model, with exact
k-NN tracking against the training set) is timed next to them for
information. Interleaved medians; ``--quick``: n = 2000, d = 64, K = 20.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _harness import Row, Table, interleaved_medians  # noqa: E402

from diffusion.datasets import gaussian_mixture  # noqa: E402
from diffusion.models import EmpiricalModel, GaussianModel, TwoGaussiansModel  # noqa: E402
from diffusion.processes import ou_process  # noqa: E402
from diffusion.sampler import backward_sample, backward_sample_two_gaussians  # noqa: E402


def _overhead(table, name, case, reference, today, generic, repeats):
    """Time the generic path against today's function, interleaved; add the row (target +5 %)."""
    med = interleaved_medians({"today": today, "generic": generic}, repeats=repeats)
    extra = med["generic"] / med["today"] - 1.0
    table.add(Row(name, case, med["generic"], reference, med["today"], "<= 5 % more per step",
                  f"{100 * extra:+.1f} %: {'yes' if extra <= 0.05 else 'NO'}"))


def run(table: Table, *, quick: bool = False, repeats: int = 3, steps: int | None = None) -> Table:
    n, d, B, K = (2000, 64, 64, 20) if quick else (20000, 256, 256, 50)
    K = steps or K
    process = ou_process()
    mix = gaussian_mixture(n, d, seed=1)
    times = process.time_grid(0.01, 5.0, K, spacing="log")
    case = f"n={n} d={d} B={B} K={K}"
    for dtype in (np.float64, np.float32):
        data = mix.data.astype(dtype)
        model = EmpiricalModel(data, process)
        kw = dict(n_trajectories=B, group_size=B, seed=3, dtype=dtype, init="gaussian", n_boot=0)
        _overhead(table, "exact model, generic", f"{np.dtype(dtype).name} {case}",
                  "backward_sample(data)", lambda: backward_sample(data, process, times, **kw),
                  lambda: backward_sample(data, process, times, model=model, **kw), repeats)
    B2 = 4096 if not quick else 512
    centre = np.ones(d)
    tg = TwoGaussiansModel(centre, 1.0, process)
    kw2 = dict(n_trajectories=B2, group_size=256, seed=3, n_boot=0)
    _overhead(table, "two Gaussians, generic", f"d={d} B={B2} K={K}", "backward_sample_two_gaussians",
              lambda: backward_sample_two_gaussians(centre, 1.0, process, times, **kw2),
              lambda: backward_sample(None, None, times, model=tg, **kw2), repeats)
    gauss = GaussianModel.fit(mix.data, process)
    kw = dict(n_trajectories=B, group_size=B, seed=3, init="gaussian", n_boot=0)
    med = interleaved_medians({
        "exact": lambda: backward_sample(mix.data, process, times, **kw),
        "python": lambda: backward_sample(mix.data, process, times, model=gauss, **kw),
    }, repeats=repeats)
    table.add(Row("Gaussian model (Python)", f"float64 {case}", med["python"],
                  "exact model (compiled)", med["exact"], "(information)",
                  "drift in NumPy + k-NN of mu* per step"))
    return table


if __name__ == "__main__":
    import argparse

    from _harness import header

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 2000, d = 64, K = 20")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="override K")
    args = parser.parse_args()
    print(header())
    run(Table(), quick=args.quick, repeats=args.repeats, steps=args.steps).print()
