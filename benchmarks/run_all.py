"""Run every benchmark and print one table of medians and ratios.

    python benchmarks/run_all.py            # full sizes from the issues
    python benchmarks/run_all.py --quick    # REM reference on 1 sample (x4), sampler K=50 steps,
                                            # smaller scans (bench_scan.py --quick), k-NN 2000 x 12000,
                                            # generic-model overhead at n=2000, d=64, capacity
                                            # benchmark at 2^20 levels and 2^17 patterns
    python benchmarks/run_all.py --only kernels,rem,hopfield,diffusion   # a subset

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


#: The benchmark files run_all runs, in order (``--only`` selects a subset).
BENCHES = ("kernels", "rem", "hopfield", "capacity", "diffusion", "scan", "knn", "models")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter references (see module docstring)")
    parser.add_argument("--only", metavar="NAMES",
                        help=f"comma-separated subset of: {', '.join(BENCHES)} (default: all)")
    args = parser.parse_args(argv)
    only = BENCHES if args.only is None else [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(BENCHES))
    if unknown or not only:
        parser.error(f"--only: unknown benchmark(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(BENCHES)}")
    print(
        f"numpy {np.__version__}, numba {numba.__version__} ({numba.get_num_threads()} threads), "
        f"{os.cpu_count()} cpus, {platform.processor() or platform.machine()}",
        flush=True,
    )
    print(header(), flush=True)
    table = Table()
    runs = {
        "kernels": lambda: bench_kernels.run(table),
        "rem": lambda: bench_rem.run(table, quick=args.quick, repeats=3),
        "hopfield": lambda: bench_hopfield.run(table, repeats=3),
        "capacity": lambda: bench_capacity.run(table, quick=args.quick, repeats=3),
        "diffusion": lambda: bench_diffusion.run(table, repeats=3, steps=50 if args.quick else None),
        "scan": lambda: bench_scan.run(table, quick=args.quick),
        "knn": lambda: bench_knn.run(table, quick=args.quick),
        "models": lambda: bench_models.run(table, quick=args.quick, steps=20 if args.quick else None),
    }
    for name in BENCHES:
        if name in only:
            runs[name]()
    table.print()


if __name__ == "__main__":
    main()
