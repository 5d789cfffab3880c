"""Benchmark: the capacity simulations at large N (issue 14, item 6).

Rows (ratios measured in the same run, timings interleaved):

- **REM-level sampler, every level drawn** (``tail_levels`` above ``P``: no
  bulk rule), one sample of ``L`` overlap levels from the exact spherical and
  Gaussian laws, reduced on the sampler's ``kappa`` grid (129 points;
  Gaussian 257, the window above ``m = 1`` included), against
  :func:`statmech.rem.sampled_rem` streaming ``L`` Gaussian levels on as many
  inverse temperatures. One thread each. Target: levels per second within
  1.5x of ``sampled_rem``'s.
- **REM-level sampler, default** (tail drawn, bulk by its Gauss–Legendre
  rule): the effective levels per second at ``N = 80`` (``P = e^{28}``), for
  scale; no target.
- **Streamed full dynamics** against its bound: spherical patterns, ``N =
  32``, ``P`` patterns, ``B = 64`` queries started at their patterns and kept
  active for 3 updates (``tol = 0``), then the measuring pass. The bound does
  exactly that work with nothing else: for every pattern block of every pass,
  the generation of the block (:func:`hopfield.patterns.fill_pattern_block`)
  and the matrix products (two per update pass, one for the measure).
  Target: within 1.5x of the bound.

Run ``python benchmarks/bench_capacity.py [--quick]`` (also from
``run_all.py``). Set ``OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512`` in the
command (not in the code) for the AVX2 kernels; the header says which is used.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np

try:
    from benchmarks._harness import Row, Table, interleaved_medians
except ImportError:  # run as a script: benchmarks/ is on sys.path
    from _harness import Row, Table, interleaved_medians

from statmech.rem import sampled_rem

from hopfield.capacity import capacity_simulation
from hopfield.criterion import GRID_INTERVALS, criterion_simulation
from hopfield.patterns import BLOCK_ROWS, fill_pattern_block

TARGET = 1.5


def _openblas_note() -> str:
    core = os.environ.get("OPENBLAS_CORETYPE")
    return f"OPENBLAS_CORETYPE={core}" if core else "OPENBLAS_CORETYPE unset (SkylakeX kernels on AVX-512)"


def _load_note() -> str:
    try:
        with open("/proc/loadavg") as handle:
            return "load average " + " ".join(handle.read().split()[:3])
    except OSError:
        return "load average unknown"


def rem_rows(table: Table, *, levels: int, repeats: int) -> None:
    n = 40
    alpha = math.log(levels + 1) / n
    for ensemble in ("spherical", "gaussian"):
        grid = 2 * GRID_INTERVALS + 1 if ensemble == "gaussian" else GRID_INTERVALS + 1
        betas = np.linspace(0.05, 4.0, grid)

        def ours():
            return criterion_simulation(ensemble, 0.5, n, [alpha], n_samples=1, seed=1, tail_levels=levels * 4)

        def reference():
            return sampled_rem(levels, betas, seed=2, threads=1)

        ours()
        reference()
        times = interleaved_medians({"ours": ours, "rem": reference}, repeats=repeats)
        ratio = times["ours"] / times["rem"]
        print(f"# REM level, {ensemble}: {levels / times['ours'] / 1e6:.2f} M levels/s against sampled_rem "
              f"{levels / times['rem'] / 1e6:.2f} M levels/s ({grid} kappa / beta values)", flush=True)
        table.add(Row("REM criterion", f"{ensemble} L=2^{int(math.log2(levels))} K={grid} every level",
                      times["ours"], f"sampled_rem K={grid}", times["rem"], target=f"<= {TARGET}x",
                      met="yes" if ratio <= TARGET else f"no ({ratio:.2f}x)"))
    # Effective rate of the default (split) sampler at a size no level-by-level sampler reaches.
    n_big, alpha_big = 80, 0.35
    samples = 8

    def split():
        return criterion_simulation("spherical", 0.5, n_big, [alpha_big], n_samples=samples, seed=3)

    split()
    t_split = interleaved_medians({"split": split}, repeats=repeats)["split"]
    p_levels = math.exp(alpha_big * n_big)
    print(f"# REM level, spherical N={n_big} P=e^{alpha_big * n_big:.0f}: {t_split / samples * 1e3:.1f} ms per "
          f"sample, {p_levels * samples / t_split:.3g} effective levels/s (tail drawn, bulk by its rule)",
          flush=True)


def _full_bound(n, n_patterns, n_queries, passes, seed):
    """Generation + the products of ``passes`` update passes and one measuring pass, nothing else."""
    x = np.ascontiguousarray(np.random.default_rng(seed).standard_normal((n_queries, n)))
    weights = np.empty((n_queries, BLOCK_ROWS))
    mean = np.empty((n_queries, n))
    rows_buf = np.empty((BLOCK_ROWS, n))
    seq = np.random.SeedSequence(seed)

    def run():
        for p in range(passes + 1):
            for block, start in enumerate(range(0, n_patterns, BLOCK_ROWS)):
                rows = fill_pattern_block("spherical", seq, block, rows_buf[: min(BLOCK_ROWS, n_patterns - start)])
                w = weights[:, : rows.shape[0]]
                np.dot(x, rows.T, out=w)
                if p < passes:
                    np.dot(w, rows, out=mean)

    return run


def full_rows(table: Table, *, n_patterns: int, repeats: int) -> None:
    n, n_queries, passes = 32, 64, 3
    alpha = math.log(n_patterns) / n

    def ours():
        return capacity_simulation("spherical", 0.5, n, [alpha], n_targets=n_queries, n_sets=1, seed=4, tol=0.0,
                                   max_iter=passes, streamed=True)

    bound = _full_bound(n, n_patterns, n_queries, passes, 4)
    curve = ours()
    assert curve.mean_iterations[0] == passes
    times = interleaved_medians({"ours": ours, "bound": bound}, repeats=repeats)
    ratio = times["ours"] / times["bound"]
    print(f"# streamed dynamics: {times['ours'] / (passes + 1):.3f} s per pass over P = {n_patterns} patterns "
          f"(N = {n}, B = {n_queries}); ours / (generation + products) = {ratio:.2f}", flush=True)
    table.add(Row("streamed dynamics", f"P={n_patterns} N={n} B={n_queries} {passes}+1 passes", times["ours"],
                  "generation + products", times["bound"], target=f"<= {TARGET}x",
                  met="yes" if ratio <= TARGET else f"no ({ratio:.2f}x)"))


def run(table: Table, *, quick: bool = False, repeats: int = 3) -> Table:
    print(f"# {_openblas_note()}; {_load_note()}", flush=True)
    rem_rows(table, levels=2**20 if quick else 2**22, repeats=repeats)
    full_rows(table, n_patterns=2**17 if quick else 2**20, repeats=repeats)
    print(f"# after: {_load_note()}", flush=True)
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2^20 levels and 2^17 patterns")
    args = parser.parse_args()
    sys.exit(run(Table(), quick=args.quick).print())
