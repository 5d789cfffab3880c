"""Production runs of the capacity thresholds (issue 14), one job per (kind, ensemble, beta, N).

Each job writes ``data/capacity/<kind>-<ensemble>-b<beta>-N<n>.npz`` (skipped if
present) with the success counts per load, the parameters, the seed and the
wall time, so that ``hopfield.finite_size`` can redo the analysis without
rerunning anything.

    python data/capacity_production.py full --ensembles spherical,binary,gaussian --betas 0.5 \\
        --sizes 12,16,20,24,28,32,36,40,44 --workers 2
    python data/capacity_production.py rem --sizes 16,24,32,48,64,80 --samples 4000
    python data/capacity_production.py classical --sizes 250,500,1000,2000,4000,8000

Kinds: ``full`` (streamed full dynamics, :func:`hopfield.capacity.capacity_simulation`),
``rem`` (REM-level criteria, :func:`hopfield.criterion.criterion_simulation`),
``classical`` (Hebbian network, :func:`hopfield.classical.classical_capacity`).
Workers are spawned processes with one BLAS and one Numba thread each.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "capacity")
KINDS = ("full", "rem", "classical")
ENSEMBLE_KEYS = {"spherical": 0, "gaussian": 1, "binary": 2}


def job_seed(kind, ensemble, beta, n):
    import numpy as np

    return np.random.SeedSequence(14, spawn_key=(KINDS.index(kind), ENSEMBLE_KEYS.get(ensemble, 9),
                                                 int(round(beta * 1000)), int(n)))


def job_path(kind, ensemble, beta, n):
    return os.path.join(OUT, f"{kind}-{ensemble}-b{beta:g}-N{n}.npz")


def classical_grid(n):
    """Loads ``P/N`` around ``0.138 + 0.78/sqrt(N)`` (the crossing seen at N = 250..1000), +-1.1/sqrt(N).

    N <= 1000 ran on the fixed grid 0.100..0.220 (step 0.005).
    """
    import numpy as np

    if n <= 1000:
        return np.round(np.arange(0.10, 0.2201, 0.005), 4)
    centre, half = 0.138 + 0.78 / n**0.5, 1.1 / n**0.5
    return np.round(np.linspace(centre - half, centre + half, 9), 4)


def run_job(kind, ensemble, beta, n, opts):
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy as np

    path = job_path(kind, ensemble, beta, n)
    if os.path.exists(path):
        return path, "exists", 0.0
    seed = job_seed(kind, ensemble, beta, n)
    start = time.time()
    if kind == "full":
        from hopfield.capacity import capacity_simulation
        from hopfield.threshold_series import full_grid

        alphas = full_grid(ensemble, beta, n)
        n_sets = opts["sets"] if n > 32 else 2 * opts["sets"]
        curve = capacity_simulation(ensemble, beta, n, alphas, n_targets=opts["targets"], n_sets=n_sets,
                                    seed=seed, tol=1e-6, max_iter=1000, streamed=True, early_exit=True)
        data = dict(alphas=curve.alphas, n_patterns=curve.n_patterns, successes=curve.successes,
                    signal_successes=curve.signal_successes, trials=curve.trials,
                    mean_overlap=curve.mean_overlap, mean_iterations=curve.mean_iterations,
                    window=curve.window)
    elif kind == "rem":
        from hopfield.criterion import criterion_simulation
        from hopfield.threshold_series import rem_grid

        alphas = rem_grid(ensemble, beta, n)
        samples = opts["samples_gaussian"] if ensemble == "gaussian" else opts["samples"]
        curve = criterion_simulation(ensemble, beta, n, alphas, n_samples=samples, seed=seed,
                                     stratify=ensemble == "gaussian")
        data = dict(alphas=curve.alphas, n_patterns=curve.n_patterns, success=curve.success,
                    signal=curve.signal, signal_norm=curve.signal_norm, window=curve.window,
                    tail_fraction=curve.tail_fraction, mean_drawn=curve.mean_drawn, stratified=curve.stratified,
                    log_noise_median=np.median(curve.log_noise, axis=0))
    else:
        from hopfield.classical import classical_capacity

        alphas = classical_grid(n)
        curve = classical_capacity(n, alphas, n_sets=opts["classical_sets"], n_targets=opts["targets"],
                                   seed=seed)
        data = dict(alphas=curve.alphas, n_patterns=curve.n_patterns, mean_overlap=curve.mean_overlap,
                    overlap_sem=curve.overlap_sem, probability=curve.probability, trials=curve.trials,
                    successes=curve.successes, threshold=curve.threshold, n_sets=opts["classical_sets"])
    elapsed = time.time() - start
    os.makedirs(OUT, exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, kind=kind, ensemble=ensemble, beta=beta, n_features=n, seed_entropy=seed.entropy,
             spawn_key=np.array(seed.spawn_key), seconds=elapsed, **data)
    os.replace(tmp, path)
    return path, "done", elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--ensembles", default="spherical,binary,gaussian")
    parser.add_argument("--betas", default="0.5,0.8")
    parser.add_argument("--sizes", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--targets", type=int, default=64)
    parser.add_argument("--sets", type=int, default=4)
    parser.add_argument("--samples", type=int, default=1500)
    parser.add_argument("--samples-gaussian", type=int, default=4000)
    parser.add_argument("--classical-sets", type=int, default=16)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    opts = dict(targets=args.targets, sets=args.sets, samples=args.samples, samples_gaussian=args.samples_gaussian,
                classical_sets=args.classical_sets)
    if args.kind == "classical":
        jobs = [("classical", "binary", 0.0, n) for n in sizes]
    else:
        jobs = [(args.kind, e, float(b), n) for n in sizes for b in args.betas.split(",")
                for e in args.ensembles.split(",")]
    env = dict(OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    os.environ.update(env)
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=ctx) as pool:
        futures = {pool.submit(run_job, *job, opts): job for job in jobs}
        for future in as_completed(futures):
            path, status, seconds = future.result()
            print(f"{status:6s} {seconds:9.1f} s  {os.path.basename(path)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
