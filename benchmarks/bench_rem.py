"""REM benchmark: ``sampled_rem`` against the NumPy/SciPy reference (issue 2, Benchmarks).

Case: 4 disorder samples x 2^24 Gaussian levels x 64 inverse temperatures, float64.

- ours: :func:`statmech.rem.sampled_rem` (streaming, levels never stored);
- reference: materialise each sample's levels with ``numpy.random.Generator.normal``
  (the very same streams, so the results can be compared), then one
  ``scipy.special.logsumexp`` per beta and per 2 beta. It takes minutes, so it
  is timed once, sample by sample (``--quick`` times one sample and scales by 4);
- bound: generating the normals alone, through the same per-block streams and
  threads; no implementation of this case can beat it.

Also prints the peak memory (RSS) of ``sampled_rem`` against N, each size in a
fresh process.

Run ``python benchmarks/bench_rem.py [--quick]``, or call ``run(table)``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

try:
    from benchmarks._harness import Row, Table, interleaved_medians
except ImportError:  # run as a script: benchmarks/ is on sys.path
    from _harness import Row, Table, interleaved_medians

# The plain NumPy references of the tests (tests/naive.py) are the baselines.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import naive  # noqa: E402

from statmech.rem import BLOCK_SIZE, _block_stream, sampled_rem

N_SAMPLES = 4
N_LEVELS = 2**24
BETAS = np.linspace(0.05, 4.0, 64)
SEED = 12345
TARGET = 60.0


def _reference_sample(sample: int, seq: np.random.SeedSequence, sigma: float):
    """One sample the textbook way: all levels in memory, one logsumexp per beta and 2 beta."""
    levels = np.empty(N_LEVELS)
    for block, start in enumerate(range(0, N_LEVELS, BLOCK_SIZE)):
        stop = min(start + BLOCK_SIZE, N_LEVELS)
        levels[start:stop] = _block_stream(seq, sample, block).normal(0.0, sigma, stop - start)
    log_z, log_z2 = naive.rem_log_partitions(levels, BETAS)
    return log_z[0], np.exp(log_z2[0] - 2.0 * log_z[0])


def _normals_alone(seq: np.random.SeedSequence, threads: int) -> None:
    """The generation part of ``sampled_rem`` alone: same streams, same threads, no reduction."""
    n_blocks = -(-N_LEVELS // BLOCK_SIZE)
    buffers = [np.empty(BLOCK_SIZE) for _ in range(threads)]

    def work(worker: int) -> None:
        for task in range(worker, N_SAMPLES * n_blocks, threads):
            sample, block = divmod(task, n_blocks)
            _block_stream(seq, sample, block).standard_normal(out=buffers[worker])

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(work, range(threads)))


# Peak RSS from /proc/self/status (VmHWM): unlike getrusage's ru_maxrss, which
# Linux carries over fork and exec from the (large) parent, it starts afresh.
_RSS_PROBE = """
import sys, time
from statmech.rem import sampled_rem
n = int(sys.argv[1])
sampled_rem(1000, [1.0, 2.0], seed=0)  # compile (or load the cache) first
start = time.perf_counter()
sampled_rem(n, [1.0, 2.0], n_samples=1, seed=7)
seconds = time.perf_counter() - start
with open("/proc/self/status") as status:
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(hwm, seconds)
"""


def peak_memory(sizes) -> list[tuple[int, float, float]]:
    """``(N, peak RSS in MiB, seconds)`` of ``sampled_rem(N, 2 betas)``, each in a fresh process."""
    rows = []
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-c", _RSS_PROBE, str(n)], check=True, capture_output=True, text=True
        ).stdout.split()
        rows.append((n, int(out[0]) / 1024.0, float(out[1])))
    return rows


def run(
    table: Table, *, quick: bool = False, repeats: int = 5, memory_sizes=(2**20, 2**24, 2**28)
) -> dict:
    """Time the REM case, add rows to ``table`` and return the measured numbers."""
    threads = numba.get_num_threads()
    seq = np.random.SeedSequence(SEED)
    sigma = float(np.sqrt(np.log2(N_LEVELS) / 2.0))
    geometric = np.geomspace(BETAS[0], BETAS[-1], BETAS.size)

    # Warm up (compile) outside the timings.
    sampled_rem(1000, BETAS, seed=0)
    sampled_rem(1000, geometric, seed=0)
    ours = {}

    def fast():
        ours["uniform"] = sampled_rem(N_LEVELS, BETAS, n_samples=N_SAMPLES, seed=seq)

    def slow():
        ours["geometric"] = sampled_rem(N_LEVELS, geometric, n_samples=N_SAMPLES, seed=seq)

    times = interleaved_medians(
        {"uniform": fast, "geometric": slow, "normals": lambda: _normals_alone(seq, threads)},
        repeats=repeats,
        warmup=0,
    )

    # The reference, once, sample by sample.
    samples = 1 if quick else N_SAMPLES
    ref_times, ref_log_z, ref_y = [], [], []
    for sample in range(samples):
        start = time.perf_counter()
        log_z, y = _reference_sample(sample, seq, sigma)
        ref_times.append(time.perf_counter() - start)
        ref_log_z.append(log_z)
        ref_y.append(y)
    ref_seconds = sum(ref_times) * N_SAMPLES / samples
    ref_log_z = np.array(ref_log_z)
    ref_y = np.array(ref_y)

    # Same levels on both sides: the results must agree to round-off.
    got = ours["uniform"]
    err_log_z = float(np.max(np.abs(got.log_z[:samples] - ref_log_z) / np.abs(ref_log_z)))
    # The reference's Y = exp(log Z(2b) - 2 log Z(b)) carries the cancellation
    # error of ~ulp(2 |log Z|) in its exponent, so compare with that allowance.
    err_y = float(np.max(np.abs(got.participation[:samples] / ref_y - 1)))

    case = f"{N_SAMPLES}x2^24 levels x64 betas f64"
    note = " (1 sample x4)" if quick else ""
    ratio = ref_seconds / times["uniform"]
    reference = "numpy normal+scipy lse" + note
    met = "yes" if ratio >= TARGET else f"NO ({ratio:.0f}x)"
    table.add(
        Row("rem sampled", case + ", uniform", times["uniform"], reference, ref_seconds,
            f">= {TARGET:.0f}x", met)
    )
    geo_ratio = ref_seconds / times["geometric"]
    table.add(
        Row("rem sampled", case + ", geomspace", times["geometric"], reference, ref_seconds,
            "(slow path)", f"{geo_ratio:.0f}x")
    )
    share = f"{100 * times['normals'] / times['uniform']:.0f}% of ours is RNG"
    table.add(
        Row("rem sampled", case + ", uniform", times["uniform"], "normals alone (bound)",
            times["normals"], "", share)
    )
    print(
        f"reference per sample: median {statistics.median(ref_times):.2f} s over {samples}; "
        f"accuracy vs reference on the same levels: log Z max rel {err_log_z:.1e}, "
        f"Y max rel {err_y:.1e}",
        flush=True,
    )
    memory = peak_memory(memory_sizes) if memory_sizes else []
    for n, mib, seconds in memory:
        print(
            f"peak RSS sampled_rem(N=2^{int(np.log2(n))}, 2 betas): {mib:7.1f} MiB "
            f"in {seconds:6.2f} s "
            f"(storing the levels alone would take {8 * n / 2**20:8.0f} MiB)",
            flush=True,
        )
    return dict(
        times=times, reference_seconds=ref_seconds, ratio=ratio, err_log_z=err_log_z, err_y=err_y,
        memory=memory,
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="time the reference on 1 sample and scale by 4"
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"numba threads: {numba.get_num_threads()}, cpus: {os.cpu_count()}", flush=True)
    table = Table()
    run(table, quick=args.quick, repeats=args.repeats)
    table.print()


if __name__ == "__main__":
    main()
