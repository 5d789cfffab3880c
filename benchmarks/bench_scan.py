"""Scans end to end: what archiving costs, and what a busy CPU costs an in-process scan.

    python benchmarks/bench_scan.py              # the sizes of issue 9
    python benchmarks/bench_scan.py --quick      # 500 cheap points, 12 large runs, a shorter thread scan
    python benchmarks/bench_scan.py --part cheap # one part: cheap, large or threads

Parts:

- ``cheap``: 2000 points of ``rem`` with ``M=6, samples=4, n_beta=10`` in
  this process (``--jobs 1``). Prints where the wall time goes (computing the
  points, staging them in the log, encoding them into the archive's working
  copy, periodic publishing, the final merge) and the bytes per run, next to
  two references timed in the same run: the points computed alone, and a bare
  in-memory h5py write of the same arrays; then the bytes per run as an
  archive of these runs grows, with and without sharing identical arrays
  (:mod:`statmech.runs.shared`). Targets: publishing (periodic and final) <=
  10 % of the wall time, the whole archive <= 5 ms per point, a few kB per
  run beyond its data.
- ``large``: 60 runs of ``pitchfork`` with ``n_grid=400`` (5.1 MB of arrays
  per run), same breakdown. Target: publishing <= 10 % of the wall time.
- ``threads``: a small ``hopfield-capacity`` scan with ``statmech scan --jobs
  1`` on an idle CPU and again with two busy-loop processes on the 2 cores;
  prints the loaded/quiet ratio (target: about 3x, the CPU share the scan gets,
  not the 8-27x measured before the threading policy of
  :mod:`statmech.runs.threads`). ``--policy-off`` also times the scan with BLAS
  left on its default threads (slow: the "before").

The machine is shared: quote the ratios and shares, and run the ``threads``
part when ``/proc/loadavg`` is low (it checks and warns).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402

from _harness import Row  # noqa: E402

CHEAP = {"M": 6, "samples": 4, "n_beta": 10}
LARGE_GRID = 400
THREAD_SCAN = """
experiment = "hopfield-capacity"
seeds = {seeds}
[fixed]
full_sizes = "12,16,20"
rem_sizes = ""
ensembles = "spherical,binary"
n_targets = 32
n_sets = 2
limit_betas = ""
"""
POLICY_OFF_DRIVER = r"""
import contextlib, sys
import statmech.runs.registry as registry, statmech.runs.executors as executors
registry.single_threaded_blas = executors.single_threaded_blas = contextlib.nullcontext
from statmech.runs.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _blas() -> str:
    from threadpoolctl import threadpool_info

    import scipy.linalg.cython_blas  # noqa: F401  (Numba's np.dot uses SciPy's OpenBLAS)

    kinds = {f"{i['internal_api']} {i.get('architecture', '?')} x{i['num_threads']}" for i in threadpool_info()
             if i["user_api"] == "blas"}
    return ", ".join(sorted(kinds))


def _scan(text: str):
    from statmech.runs.scanfile import parse_scan

    return parse_scan(textwrap.dedent(text), "bench.toml")


def _breakdown(title: str, report, compute_alone: float | None, n: int, archive: Path, data_bytes: float,
               bare: float | None) -> dict:
    s = report.archive_stats
    wall = report.elapsed - report.warmup_seconds
    archive_total = s.stage_seconds + s.encode_seconds + s.publish_seconds + s.final_seconds
    rest = wall - archive_total
    size = archive.stat().st_size
    publishing = s.publish_seconds + s.final_seconds
    print(f"\n{title}: {n} runs in {wall:.2f} s (warm-up {report.warmup_seconds:.2f} s apart)")
    print(f"  {'part':<38} {'seconds':>9} {'ms/run':>9} {'share':>7}")
    for label, value in (
        ("computing (and running the points)", rest),
        ("staging (log append)", s.stage_seconds),
        ("encoding into the working copy", s.encode_seconds),
        (f"periodic publishing ({s.publishes} publishes)", s.publish_seconds),
        ("final merge", s.final_seconds),
    ):
        print(f"  {label:<38} {value:9.3f} {value / n * 1e3:9.3f} {value / wall * 100:6.1f}%")
    print(f"  publishing (periodic + final): {publishing / wall * 100:.1f} % of the wall time "
          f"(target <= 10 %)")
    print(f"  whole archive cost: {archive_total / n * 1e3:.2f} ms per run")
    if compute_alone is not None:
        print(f"  reference: the points computed alone: {compute_alone / n * 1e3:.3f} ms per run")
    if bare is not None:
        print(f"  reference: a bare in-memory h5py write of the same arrays: {bare * 1e3:.3f} ms per run "
              f"(encoding costs {s.encode_seconds / n / bare:.1f}x that)")
    print(f"  archive: {size / n / 1e3:.1f} kB per run for {data_bytes / 1e3:.1f} kB of arrays "
          f"(overhead {(size / n - data_bytes) / 1e3:.1f} kB per run; {size / 1e6:.1f} MB in all)")
    return {"wall": wall, "publishing_share": publishing / wall, "archive_ms": archive_total / n * 1e3,
            "bytes_per_run": size / n, "data_bytes": data_bytes, "overhead_bytes": size / n - data_bytes}


def _data_bytes(result) -> float:
    return float(sum(np.asarray(a).nbytes for _, a in result.arrays.values())
                 + sum(np.asarray(c).nbytes for c in result.coords.values()))


def _bare_write(results) -> float:
    """Seconds per run of writing just the arrays with h5py into an in-memory file."""
    import h5py

    start = time.perf_counter()
    with h5py.File(io.BytesIO(), "w") as f:
        for k, result in enumerate(results):
            g = f.create_group(str(k))
            for name, (_, arr) in result.arrays.items():
                g.create_dataset(name, data=arr)
    return (time.perf_counter() - start) / len(results)


def _sharing_breakdown(path: Path, n_runs: int = 300) -> None:
    """Bytes per run as the archive grows (no fixed costs), re-encoding ``n_runs`` of the scan's runs:
    as written (schema 6), without sharing identical arrays, and with nothing shared (schema 5)."""
    import h5py

    from statmech.runs.reader import open_archive
    from statmech.runs.schema import FILE_LIBVER, init_root, read_record, write_run
    from statmech.runs.shared import SharedObjects

    class NoArrays(SharedObjects):
        def same_array(self, root, key):
            return None

    with open_archive(path) as arc:
        group = arc.file["runs"]
        records = [read_record(group[rid]) for rid in arc.run_ids[:n_runs]]

    def growth(shared_type) -> float:
        sizes = []
        for count in (n_runs // 3, n_runs):
            with h5py.File(io.BytesIO(), "w", libver=FILE_LIBVER) as f:
                init_root(f)
                shared = shared_type()
                for record in records[:count]:
                    write_run(f["runs"], record, shared)
                f.flush()
                sizes.append(f.id.get_filesize())
        return (sizes[1] - sizes[0]) / (n_runs - n_runs // 3)

    print(f"  bytes per run as the archive grows ({n_runs // 3} -> {n_runs} of these runs, re-encoded): "
          f"{growth(SharedObjects) / 1e3:.2f} kB as written; {growth(NoArrays) / 1e3:.2f} kB without sharing "
          "identical arrays (the theory curves every seed repeats)")


def bench_cheap(n: int, folder: Path) -> dict:
    from statmech.runs.registry import get_experiment
    from statmech.runs.scanner import run_scan
    from statmech.runs.threads import single_threaded_blas

    spec = get_experiment("rem")
    spec.run(CHEAP, seed=0)  # compile
    with single_threaded_blas():  # as the scan runs them
        start = time.perf_counter()
        results = [spec.run(CHEAP, seed=s) for s in range(n)]
        alone = time.perf_counter() - start
    bare = _bare_write(results[:200])
    path = folder / "cheap.h5"
    report = run_scan(_scan(f'experiment = "rem"\nseeds = {list(range(n))}\n[fixed]\n'
                            + "\n".join(f"{k} = {v}" for k, v in CHEAP.items())),
                      path, jobs=1, progress=False)
    row = _breakdown(f"cheap points (rem {CHEAP}, --jobs 1)", report, alone, n, path,
                     _data_bytes(results[0]), bare)
    _sharing_breakdown(path, min(n, 300))
    return row


def bench_large(n: int, folder: Path) -> dict:
    from statmech.runs.registry import get_experiment
    from statmech.runs.scanner import run_scan

    spec = get_experiment("pitchfork")
    sample = spec.run({"n_grid": LARGE_GRID}, seed=0)
    bare = _bare_write([sample] * 3)
    path = folder / "large.h5"
    report = run_scan(_scan(f'experiment = "pitchfork"\n[fixed]\nn_grid = {LARGE_GRID}\n'
                            f'[grid]\nsigma = {{ start = 0.8, stop = 1.2, num = {n} }}\n'),
                      path, jobs=1, progress=False)
    return _breakdown(f"large runs (pitchfork n_grid={LARGE_GRID}, --jobs 1)", report, None, n, path,
                      _data_bytes(sample), bare)


def _timed_scan(scan_file: Path, out: Path, driver: str | None = None) -> float:
    if out.exists():
        out.unlink()
    command = ([sys.executable, "-c", driver] if driver else [sys.executable, "-m", "statmech.cli"])
    command += ["scan", str(scan_file), "-o", str(out), "--jobs", "1", "--quiet"]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"scan failed: {proc.stderr}")
    return elapsed


def _busy(n: int) -> list:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def bench_threads(quick: bool, folder: Path, policy_off: bool) -> dict:
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"\nwarning: load average {load:.2f}: the 'quiet' timing is not quiet; quote the ratio with care")
    seeds = list(range(3 if quick else 6))
    scan_file = folder / "threads.toml"
    scan_file.write_text(THREAD_SCAN.format(seeds=seeds))
    from statmech.runs.registry import get_experiment

    spec = get_experiment("hopfield-capacity")
    spec.run(spec.warmup, seed=0)  # fill Numba's cache before timing
    out = folder / "threads.h5"
    rows = {}
    variants = [("policy (BLAS one thread)", None)] + ([("policy off (before)", POLICY_OFF_DRIVER)] if policy_off else [])
    for label, driver in variants:
        quiet = _timed_scan(scan_file, out, driver)
        loops = _busy(2)
        try:
            loaded = _timed_scan(scan_file, out, driver)
        finally:
            for p in loops:
                p.kill()
                p.wait()
        rows[label] = (quiet, loaded)
    print(f"\nhopfield-capacity scan, {len(seeds)} points, statmech scan --jobs 1 (in-process)")
    print(f"  {'variant':<28} {'quiet s':>9} {'2 busy loops s':>15} {'loaded/quiet':>13}")
    for label, (quiet, loaded) in rows.items():
        print(f"  {label:<28} {quiet:9.2f} {loaded:15.2f} {loaded / quiet:13.2f}")
    print("  target: loaded/quiet within about 3x (the scan's share of 2 cores among 3 busy processes)")
    quiet, loaded = rows["policy (BLAS one thread)"]
    return {"quiet": quiet, "loaded": loaded, "ratio": loaded / quiet}


def run(table, quick: bool = False) -> None:
    """Add the scan rows to ``table`` (used by ``run_all.py``)."""
    with tempfile.TemporaryDirectory(prefix="statmech-bench-scan-") as tmp:
        folder = Path(tmp)
        cheap = bench_cheap(500 if quick else 2000, folder)
        large = bench_large(12 if quick else 60, folder)
        threads = bench_threads(quick, folder, policy_off=False)
    table.add(Row("scan archive", "rem cheap points, per point", cheap["archive_ms"] / 1e3,
                  "5 ms budget", 5e-3, "publishing <= 10 %",
                  f"{cheap['publishing_share'] * 100:.1f} %"))
    table.add(Row("scan archive", "pitchfork 5 MB runs, per run", large["archive_ms"] / 1e3,
                  "wall per run", large["wall"] / (12 if quick else 60), "publishing <= 10 %",
                  f"{large['publishing_share'] * 100:.1f} %"))
    table.add(Row("scan --jobs 1", "hopfield-capacity, 2 busy loops", threads["loaded"],
                  "quiet", threads["quiet"], "loaded/quiet <= ~3x", f"{threads['ratio']:.2f}x"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (see the module docstring)")
    parser.add_argument("--part", choices=("cheap", "large", "threads"), action="append",
                        help="run only these parts (repeatable)")
    parser.add_argument("--policy-off", action="store_true",
                        help="threads part: also time the scan without the threading policy (slow)")
    args = parser.parse_args(argv)
    parts = args.part or ["cheap", "large", "threads"]
    print(f"BLAS: {_blas()}; {os.cpu_count()} cpus; load average {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="statmech-bench-scan-") as tmp:
        folder = Path(tmp)
        if "cheap" in parts:
            bench_cheap(500 if args.quick else 2000, folder)
        if "large" in parts:
            bench_large(12 if args.quick else 60, folder)
        if "threads" in parts:
            bench_threads(args.quick, folder, args.policy_off)


if __name__ == "__main__":
    main()
