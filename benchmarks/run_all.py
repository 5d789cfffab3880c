"""Run every benchmark and print one table of medians and ratios.

    python benchmarks/run_all.py            # full sizes from the issues
    python benchmarks/run_all.py --quick    # REM reference on 1 sample (x4), sampler K=50 steps,
                                            # smaller scans (bench_scan.py --quick), k-NN 2000 x 12000,
                                            # generic-model overhead at n=2000, d=64, capacity
                                            # benchmark at 2^20 levels and 2^17 patterns

Each row compares our hot path with its NumPy/SciPy reference or with its
hardware bound (BLAS products, exp), timed in the same run: quote the
ratios, not the seconds; the machine is shared and noisy.

The peer comparison with JAX (issue 13: the backward sampler, excess
entropy, sampled REM, retrieval, per-update retrieval and the empirical
posterior, with agreement checks and the statmech/JAX ratio table) is a
separate script, since JAX is an optional dependency (the ``bench`` extra,
``pip install -e ".[bench]"``)::

    python benchmarks/bench_jax.py --both-blas   # users' and pinned OpenBLAS, both tables
    python benchmarks/bench_jax.py --quick       # small smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import bench_capacity  # noqa: E402
import bench_diffusion  # noqa: E402
import bench_hopfield  # noqa: E402
import bench_kernels  # noqa: E402
import bench_knn  # noqa: E402
import bench_models  # noqa: E402
import bench_rem  # noqa: E402
import bench_scan  # noqa: E402
from _harness import Table, header  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter references (see module docstring)")
    args = parser.parse_args(argv)
    print(
        f"numpy {np.__version__}, numba {numba.__version__} ({numba.get_num_threads()} threads), "
        f"{os.cpu_count()} cpus, {platform.processor() or platform.machine()}",
        flush=True,
    )
    print(header(), flush=True)
    table = Table()
    bench_kernels.run(table)
    bench_rem.run(table, quick=args.quick, repeats=3)
    bench_hopfield.run(table, repeats=3)
    bench_capacity.run(table, quick=args.quick, repeats=3)
    bench_diffusion.run(table, repeats=3, steps=50 if args.quick else None)
    bench_scan.run(table, quick=args.quick)
    bench_knn.run(table, quick=args.quick)
    bench_models.run(table, quick=args.quick, steps=20 if args.quick else None)
    table.print()


if __name__ == "__main__":
    main()
