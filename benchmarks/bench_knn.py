"""Benchmark of the exact k-NN (issue 11): 10^4 queries against 6 x 10^4 training points, d = 784.

MNIST-shaped synthetic data (float32 pixels in [0, 1] around ten prototypes,
10 % of the queries exact copies of training points, as memorised samples
are), ``k = 2`` (the memorisation ratio ``d_1/d_2``). In the same run,
interleaved:

- ``statmech.knn.knn`` (float32 candidates; for float64 data also with
  ``candidate_dtype=float64``);
- its GEMM bound: the matrix products ``Q' A'^T`` alone, as the k-NN runs
  them (tasks of ``PRODUCT_ENTRIES / TRAIN_BLOCK`` queries x ``TRAIN_BLOCK``
  training rows, one BLAS thread per Numba thread), and the same products
  on all BLAS threads in products of 2^24 entries or with all queries at
  once (the fastest of the three is the bound quoted). Target: ours <= 1.2 x
  bound;
- ``faiss.IndexFlatL2`` (exact; float32 only, so float64 data are cast);
- scikit-learn ``NearestNeighbors(algorithm="brute")``.
  Target: ours at least as fast as both.

faiss-cpu and scikit-learn are optional (``pip install faiss-cpu
scikit-learn``, the ``bench`` extra); a missing peer is reported, not timed.
Results of the peers are checked against ours (indices, distances to
float32 round-off). Run ``python benchmarks/bench_knn.py`` (``--quick``: 2000
queries x 12000 points), and again with ``OPENBLAS_CORETYPE=Haswell
OPENBLAS_L2_SIZE=512`` in the command for the AVX2 kernels.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(__file__))
from _harness import Row, Table, interleaved_medians  # noqa: E402

from statmech.knn import TRAIN_BLOCK, centred, knn, query_tasks  # noqa: E402


def mnist_like(n_train, n_queries, d=784, seed=0):
    """Float32 images in [0, 1]: ten prototypes, smooth per-image variation, pixel noise, clipping."""
    rng = np.random.default_rng(seed)
    prototypes = np.clip(rng.standard_normal((10, d)) * 0.6, 0.0, 1.0)
    basis = rng.standard_normal((20, d)) * 0.08

    def draw(m):
        labels = rng.integers(0, 10, size=m)
        out = prototypes[labels] + rng.standard_normal((m, 20)) @ basis
        out += 0.1 * rng.standard_normal((m, d))
        return np.clip(out, 0.0, 1.0).astype(np.float32)

    train = draw(n_train)
    queries = draw(n_queries)
    copies = rng.choice(n_train, size=n_queries // 10, replace=False)
    queries[: copies.shape[0]] = train[copies]
    return train, queries


#: Query rows per product of the 2-BLAS-thread reference: 2^24 entries per product.
_BIG_BLOCK = (1 << 24) // TRAIN_BLOCK


def _centred_copies(queries, train, dtype):
    centre = queries.mean(axis=0, dtype=np.float64)
    return centred(queries, centre, dtype)[0], centred(train, centre, dtype)[0]


def _gemm_in_tasks(queries, train, dtype):
    """The products of knn() alone, as it runs them: its query tasks on its threads, one BLAS thread each.

    The centred, rounded copies are made beforehand (knn's centring is not in the bound).
    """
    q, a = _centred_copies(queries, train, dtype)
    threads, tasks = query_tasks(q.shape[0])
    buffers = [np.empty((tasks[0][1] - tasks[0][0]) * TRAIN_BLOCK, dtype) for _ in range(threads)]

    def task(bounds):
        q0, q1 = bounds
        buffer = buffers.pop()
        for start in range(0, a.shape[0], TRAIN_BLOCK):
            block = a[start:start + TRAIN_BLOCK]
            np.matmul(q[q0:q1], block.T, out=buffer[: (q1 - q0) * block.shape[0]].reshape(q1 - q0, -1))
        buffers.append(buffer)

    def run():
        with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(threads) as pool:
            list(pool.map(task, tasks))

    return run


def _gemm_blas_threads(queries, train, dtype, max_rows=None):
    """Equal query blocks of at most ``max_rows`` (default all) x TRAIN_BLOCK rows per product, all BLAS threads."""
    q, a = _centred_copies(queries, train, dtype)
    n_blocks = 1 if max_rows is None else -(-q.shape[0] // max_rows)
    rows = -(-q.shape[0] // n_blocks)
    buffer = np.empty(rows * TRAIN_BLOCK, dtype)

    def run():
        for start in range(0, a.shape[0], TRAIN_BLOCK):
            block = a[start:start + TRAIN_BLOCK]
            for q0 in range(0, q.shape[0], rows):
                q1 = min(q0 + rows, q.shape[0])
                np.matmul(q[q0:q1], block.T, out=buffer[: (q1 - q0) * block.shape[0]].reshape(q1 - q0, -1))

    return run


def _faiss(queries, train, k):
    try:
        import faiss
    except ImportError:
        return None
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    q32 = np.ascontiguousarray(queries, np.float32)
    index = faiss.IndexFlatL2(train.shape[1])
    index.add(np.ascontiguousarray(train, np.float32))

    def run():
        return index.search(q32, k)

    return run


def _sklearn(queries, train, k):
    try:
        from sklearn.neighbors import NearestNeighbors
    except ImportError:
        return None
    model = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(train)

    def run():
        return model.kneighbors(queries)

    return run


def _check_peer(name, ours, distances, indices, squared):
    """Peers must find the same neighbours; their GEMM-expanded distances agree to round-off."""
    distances = np.sqrt(np.maximum(distances, 0.0)) if squared else distances
    same = float(np.mean(indices[:, 0] == ours.indices[:, 0]))
    worst = float(np.max(np.abs(distances - ours.distances)))
    print(f"  check {name}: same nearest index for {same:.4%} of queries, "
          f"max |distance - ours| = {worst:.2e}", flush=True)


def bench(table: Table, dtype, *, quick: bool, repeats: int, k: int = 2) -> None:
    n_train, n_queries = (12000, 2000) if quick else (60000, 10000)
    train, queries = mnist_like(n_train, n_queries)
    train, queries = train.astype(dtype), queries.astype(dtype)
    name = np.dtype(dtype).name
    case = f"{n_queries}x{n_train} d=784 {name} k={k}"
    runs = {"ours": lambda: knn(queries, train, k)}
    if dtype == np.float64:
        runs["ours f64 candidates"] = lambda: knn(queries, train, k, candidate_dtype=np.float64)
        runs["dgemm tasks"] = _gemm_in_tasks(queries, train, np.float64)
        runs["dgemm 2^24 blocks"] = _gemm_blas_threads(queries, train, np.float64, _BIG_BLOCK)
    runs["gemm tasks"] = _gemm_in_tasks(queries, train, np.float32)
    runs["gemm 2^24 blocks"] = _gemm_blas_threads(queries, train, np.float32, _BIG_BLOCK)
    runs["gemm all queries"] = _gemm_blas_threads(queries, train, np.float32)
    peers = {"faiss IndexFlatL2": _faiss(queries, train, k),
             "sklearn brute": _sklearn(queries, train, k)}
    for peer, func in peers.items():
        if func is None:
            print(f"  {peer}: not installed (pip install faiss-cpu scikit-learn), not timed")
        else:
            runs[peer] = func
    ours = knn(queries, train, k)
    if runs.get("faiss IndexFlatL2"):
        dist, idx = runs["faiss IndexFlatL2"]()
        _check_peer("faiss", ours, dist, idx, squared=True)
    if runs.get("sklearn brute"):
        dist, idx = runs["sklearn brute"]()
        _check_peer("sklearn", ours, dist, idx, squared=False)
    times = interleaved_medians(runs, repeats=repeats)
    bound = min(times["gemm tasks"], times["gemm 2^24 blocks"], times["gemm all queries"])
    ratio = times["ours"] / bound
    table.add(Row("knn", case, times["ours"], "sgemm bound (fastest of 3)", bound, "<= 1.2x bound",
                  f"{ratio:.2f}x bound: {'yes' if ratio <= 1.2 else 'NO'}"))
    table.add(Row("knn", case, times["ours"], "sgemm in our tasks", times["gemm tasks"], "report", ""))
    table.add(Row("knn", case, times["ours"], "sgemm 2^24-entry blocks", times["gemm 2^24 blocks"],
                  "report", ""))
    table.add(Row("knn", case, times["ours"], "sgemm all queries/product", times["gemm all queries"],
                  "report", ""))
    if dtype == np.float64:
        bound64 = min(times["dgemm tasks"], times["dgemm 2^24 blocks"])
        ratio64 = times["ours f64 candidates"] / bound64
        table.add(Row("knn f64 candidates", case, times["ours f64 candidates"], "dgemm bound (faster of 2)",
                      bound64, "<= 1.2x bound", f"{ratio64:.2f}x bound: {'yes' if ratio64 <= 1.2 else 'NO'}"))
        table.add(Row("knn", case, times["ours"], "dgemm (same tasks)", times["dgemm tasks"],
                      "report", ""))
    for peer in peers:
        if peer in times:
            faster = times["ours"] <= times[peer]
            note = " (float32 copy)" if peer.startswith("faiss") and dtype == np.float64 else ""
            table.add(Row("knn", case, times["ours"], peer + note, times[peer], "ours <= peer",
                          "yes" if faster else "NO"))


def run(table: Table, *, quick: bool = False, repeats: int = 3) -> Table:
    bench(table, np.float32, quick=quick, repeats=repeats)
    bench(table, np.float64, quick=quick, repeats=repeats)
    return table


def _environment() -> str:
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i.get('internal_api')} {i.get('architecture')} x{i.get('num_threads')}"
                         for i in threadpool_info())
    except ImportError:
        blas = "threadpoolctl not installed"
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    return (f"BLAS: {blas}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}; "
            f"load average {' '.join(load)}")


if __name__ == "__main__":
    from _harness import header

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2000 queries x 12000 points")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(_environment(), flush=True)
    print(header())
    table = run(Table(), quick=args.quick, repeats=args.repeats)
    table.print()
    print(_environment())
