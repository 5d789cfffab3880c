"""Exact k nearest neighbours in Euclidean distance, against a training set in memory or on disk.

For queries ``q_b`` and training points ``a_j`` (rows, in R^d) this returns,
per query, the ``k`` training indices with the smallest distances
``|q_b - a_j|`` and those distances, ties going to the lower index. It is
the nearest-neighbour index ``mu*`` of a diffusion trajectory
(dynamical-regimes eq. 12) for any score model, and the memorisation ratio
``d_1/d_2`` of generated samples (Yoon et al. 2023, PHYSICS.md §8).

Algorithm: candidates from one matrix product, answers from a fixed-order sum
------------------------------------------------------------------------------
1. Queries and training rows are centred on a vector ``c`` and rounded to the
   candidate precision ``w`` (float32 by default, also for float64 data):
   ``q' = fl_w(q - c)``, ``a' = fl_w(a - c)``. Blocks of ``G = Q' A'^T`` come
   from BLAS (the GEMM that bounds the cost) and give approximate squared
   distances ``D~ = |q'|^2 + |a'|^2 - 2 G``.
2. A rigorous bound ``e`` on ``|D~ - D|`` (below) turns each ``D~`` into a
   lower bound ``D~ - e`` of the exact squared distance ``D``. A training
   point is a candidate only if that lower bound does not exceed ``tau``, the
   query's current k-th best exact squared distance.
3. Each candidate's ``D = sum_i (q_i - a_i)^2`` is computed from the original
   values in float64, in a fixed order (:func:`squared_distance`), and enters
   the sorted top-k list if it beats the k-th entry in ``(D, index)`` order.

A point of the exact top-k always passes step 2 (its lower bound is at most
its ``D``, at most the final k-th distance, at most any current ``tau``), so
the answer is the top-k of the fixed-order distances, whatever the chunk
size, the block shapes, the thread count or the BLAS kernels. Only the set of
candidates, never the result, depends on them. The fixed-order distances are
also exact where the GEMM expansion ``|q|^2 + |a|^2 - 2 q.a`` loses all
digits to cancellation: for a sample that copies a training point, ``d_1`` is
0, not the square root of round-off.

Error bound. With ``u`` the unit round-off of ``w``, ``S = |q'| + |a'|``,
``eps = 1.01 (u + 2^-53)``, ``gamma_m = m u / (1 - m u)``, and ``eta`` half
the smallest subnormal of ``w``:

- rounding the centred inputs moves ``|q - a|`` by at most
  ``r = eps (|q - c| + |a - c|) + 2 sqrt(d) eta <= eps S / (1 - eps) + 2 sqrt(d) eta``,
  hence ``D`` by at most ``r (2 S + r)``;
- the GEMM entry satisfies ``|G - q'.a'| <= gamma_d |q'| |a'| + d eta`` (any
  summation order, with or without FMA), and ``2 |q'| |a'| <= S^2 / 2``;
- the float64 norms, the float64 expansion and the fixed-order sum add
  ``3 gamma_{d+3}(2^-53) S^2`` at most.

So ``e = 1.1 [S^2 (gamma_d / 2 + 2.5 eps + 3 gamma_{d+3}(2^-53)) + 2 d eta +
8 sqrt(d) eta S]`` (the 10 % covers the float64 rounding of the bound and of
the comparison). ``S`` uses the largest ``|a'|`` of the training block. For
d = 784 in float32, ``e ~ 2.4e-5 S^2``; centring keeps ``S`` of the order of
the data's spread, so only points within a sliver of ``tau`` are recomputed
exactly. Data far from the centre cost more exact sums, never a wrong answer.

The centre is the training mean for a :class:`KNNIndex` and the query mean
for :func:`knn` (which reads the training set only once).

Threads: the queries are cut into equal tasks (:func:`query_tasks`), as many
per thread. Each of the search's threads multiplies a task's rows by the
training blocks on one BLAS thread (BLAS is held at one thread while searches
run, by the run system's :func:`statmech.runs.threads.single_threaded_blas`)
and scans each product right after it, while it is in cache. No product is
handed between threads and no BLAS thread spins next to a scan; the threads
meet only once per chunk of training rows.
"""

from __future__ import annotations

import contextlib
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from statmech._fastexp import cast_like
from statmech._numba import kernel, ordered_kernel
from statmech.memory import check_memory
from statmech.runs.threads import single_threaded_blas
from statmech._validation import as_float_array, as_float_dtype, as_int, check_same

__all__ = ["Neighbours", "KNNIndex", "knn", "squared_distance", "candidate_margin"]

#: Training rows per matrix product. Products of 10^4 x 784 x 2048 run at the
#: GEMM's full speed (benchmarks/bench_knn.py), and a block of rows stays small
#: enough that the per-block maximum norm in the error bound stays tight.
TRAIN_BLOCK = 2048

#: Most entries of one product (a task's queries x TRAIN_BLOCK): 8 MiB in float32. Each
#: search thread multiplies its tasks on one BLAS thread and scans each product at once,
#: from cache. Measured on 2 cores (benchmarks/bench_knn.py, 10^4 x 6 x 10^4, d = 784):
#: tasks of 1024 rows ran 1.11x the products alone; 512 rows 1.14x, 256 rows 1.24x
#: (more packing per product); the former products of 2^24 entries on both BLAS threads
#: with a scan between them, 1.2x.
PRODUCT_ENTRIES = 1 << 21

#: Columns of a row of G counted together (vectorised) before any is looked at alone.
_SCAN_GROUP = 256

#: Fewest query rows per thread worth a thread of the scan.
_MIN_SCAN_ROWS = 128

#: Rows read at once from a streamed training set (49 MiB of float32 at d = 784).
STREAM_ROWS = 8 * TRAIN_BLOCK

_U64 = 2.0**-53


@dataclass(frozen=True)
class Neighbours:
    """The ``k`` nearest training points of each query.

    Attributes
    ----------
    distances : ndarray, shape (Q, k), float64
        Euclidean distances ``|q - a_j|``, increasing along each row,
        computed in float64 in a fixed order (:func:`squared_distance`).
    indices : ndarray, shape (Q, k), int64
        Training row indices; equal distances are ordered by index.
    """

    distances: np.ndarray
    indices: np.ndarray

    @property
    def k(self) -> int:
        return self.indices.shape[1]


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------


@ordered_kernel
def squared_distance(x, y):
    """``sum_i (x_i - y_i)^2`` in float64, in an order fixed by the length alone (kernel).

    Eight partial sums over ``i mod 8`` are combined pairwise. Compiled
    without ``reassoc``, so LLVM cannot reorder the sum: the value depends on
    ``x`` and ``y`` only, never on where or with what the function is called.
    """
    n = x.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    stop = n - n % 8
    for i in range(0, stop, 8):
        d0 = np.float64(x[i]) - np.float64(y[i])
        d1 = np.float64(x[i + 1]) - np.float64(y[i + 1])
        d2 = np.float64(x[i + 2]) - np.float64(y[i + 2])
        d3 = np.float64(x[i + 3]) - np.float64(y[i + 3])
        d4 = np.float64(x[i + 4]) - np.float64(y[i + 4])
        d5 = np.float64(x[i + 5]) - np.float64(y[i + 5])
        d6 = np.float64(x[i + 6]) - np.float64(y[i + 6])
        d7 = np.float64(x[i + 7]) - np.float64(y[i + 7])
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        s4 += d4 * d4
        s5 += d5 * d5
        s6 += d6 * d6
        s7 += d7 * d7
    for i in range(stop, n):
        diff = np.float64(x[i]) - np.float64(y[i])
        s0 += diff * diff
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@kernel
def _insert(dist_row, index_row, dist, index):
    """Insert ``(dist, index)`` into the sorted top-k row, dropping its last entry."""
    p = dist_row.shape[0] - 1
    while p > 0 and (dist_row[p - 1] > dist or (dist_row[p - 1] == dist and index_row[p - 1] > index)):
        dist_row[p] = dist_row[p - 1]
        index_row[p] = index_row[p - 1]
        p -= 1
    dist_row[p] = dist
    index_row[p] = index


@kernel
def _centre_rows(rows, centre, out, sqnorm):
    """``out = fl(rows - centre)`` (difference in float64, rounded to ``out``'s dtype) and ``|out_i|^2``."""
    n_rows, n_features = rows.shape
    for i in range(n_rows):
        total = 0.0
        for j in range(n_features):
            value = cast_like(np.float64(rows[i, j]) - centre[j], out[0, 0])
            out[i, j] = value
            total += np.float64(value) * np.float64(value)
        sqnorm[i] = total


@kernel
def _kth_upper_bound(row, cand_sqnorm, offset, k, work):
    """k-th smallest of ``cand_sqnorm[j] - 2 row[j] + offset`` over ``j`` (inf if fewer than k)."""
    work[:k] = np.inf
    top = np.inf
    for j in range(row.shape[0]):
        value = cand_sqnorm[j] - 2.0 * np.float64(row[j]) + offset
        if value < top:
            p = k - 1
            while p > 0 and work[p - 1] > value:
                work[p] = work[p - 1]
                p -= 1
            work[p] = value
            top = work[k - 1]
    return top


@kernel
def _count_candidates(row, half, level):
    """How many ``j`` have ``half[j] - level <= row[j]``, in the precision of ``row`` (vectorised).

    A separate kernel on slices: LLVM vectorises this loop, not the same
    loop written with offset indices inside the caller (measured 6x slower).
    """
    hits = 0
    for j in range(row.shape[0]):
        hits += 1 if half[j] - level <= row[j] else 0
    return hits


@kernel
def _candidate_level(limit, half_max, unit):
    """``level`` of the test ``half_j - level <= G_j``, in ``half``'s precision, never missing a candidate.

    Wanted: every ``j`` with ``|a'_j|^2 / 2 - G_j <= limit / 2`` (exact
    arithmetic on the stored values) passes the test as computed. With
    ``half_j = fl(|a'_j|^2 / 2)`` and ``M = max_j half_j + |limit| / 2``,
    rounding ``half_j``, ``level`` and the difference moves the test by at
    most ``2.01 u (M + slack)``; ``slack = 3 u M`` (plus ``2^-140`` for
    subnormals) absorbs it.
    """
    bound = half_max + 0.5 * abs(limit)
    return 0.5 * limit + 3.0 * unit * bound + 2.0**-140


@kernel
def _scan_block(products, half, half_max, unit, cand_sqnorm, block_norm, query_sqnorm, query_norm,
                coef, absolute, queries, train, index_start, best_dist, best_index):
    """Fold one block of training rows into the top-k lists of a block of queries (kernel).

    Parameters
    ----------
    products : (B, T) ``G = Q' A'^T`` of the centred, rounded rows
    half : (T,) ``fl(|a'_j|^2 / 2)`` in the precision of ``products``; half_max its maximum
    unit : unit round-off of that precision
    cand_sqnorm : (T,) float64 ``|a'_j|^2``
    block_norm : float64, ``max_j |a'_j|`` over the block
    query_sqnorm, query_norm : (B,) float64 ``|q'_b|^2`` and ``|q'_b|``
    coef, absolute : float64, the bound ``e = coef S^2 + absolute (1 + S)``
        (:func:`candidate_margin`)
    queries : (B, d) original queries; train : (T, d) original training rows
    index_start : global index of the block's first row
    best_dist, best_index : (B, k) sorted top-k squared distances and indices

    Per query: ``bound`` is an upper bound of its final k-th squared
    distance, the k-th entry of its list or, while the list is empty, the
    k-th smallest upper bound ``D~ + e`` of this block. A column is a
    candidate when ``D~ - e <= bound``, i.e. ``|a'|^2 / 2 - G <= limit / 2``
    with ``limit = bound - |q'|^2 + e``; the test runs in the precision of
    ``G`` with a slack that never drops a candidate
    (:func:`_candidate_level`). One vectorised pass counts the candidates per
    group of :data:`_SCAN_GROUP` columns; only groups with candidates are
    visited column by column, and each candidate's exact distance is summed.
    """
    n_rows, n_cols = products.shape
    k = best_dist.shape[1]
    work = np.empty(k)
    n_groups = (n_cols + _SCAN_GROUP - 1) // _SCAN_GROUP
    group_hits = np.empty(n_groups, dtype=np.int64)
    for b in range(n_rows):
        total = query_norm[b] + block_norm
        margin = coef * total * total + absolute * (1.0 + total)
        tau = best_dist[b, k - 1]
        row = products[b]
        bound = tau
        if best_index[b, 0] < 0 and n_cols >= k:
            bound = _kth_upper_bound(row, cand_sqnorm, query_sqnorm[b] + margin, k, work)
        shift = margin - query_sqnorm[b]
        level = cast_like(_candidate_level(bound + shift, half_max, unit), row[0])
        any_hits = False
        for g in range(n_groups):
            stop = min((g + 1) * _SCAN_GROUP, n_cols)
            hits = _count_candidates(row[g * _SCAN_GROUP:stop], half[g * _SCAN_GROUP:stop], level)
            group_hits[g] = hits
            any_hits = any_hits or hits > 0
        if not any_hits:
            continue
        for g in range(n_groups):
            if group_hits[g] == 0:
                continue
            for j in range(g * _SCAN_GROUP, min((g + 1) * _SCAN_GROUP, n_cols)):
                if half[j] - level > row[j]:
                    continue
                dist = squared_distance(queries[b], train[j])
                index = index_start + j
                if dist < tau or (dist == tau and index < best_index[b, k - 1]):
                    _insert(best_dist[b], best_index[b], dist, index)
                    tau = best_dist[b, k - 1]
                    if tau < bound:
                        bound = tau
                        level = cast_like(_candidate_level(bound + shift, half_max, unit), row[0])


# --------------------------------------------------------------------------
# The search over blocks
# --------------------------------------------------------------------------


def candidate_margin(d: int, dtype) -> tuple[float, float]:
    """``(coef, absolute)`` of the bound ``e = coef S^2 + absolute (1 + S)`` on ``|D~ - D|``.

    The derivation is in the module docstring; ``absolute (1 + S)`` bounds
    its underflow terms ``1.1 (2 d eta + 8 sqrt(d) eta S)``.
    """
    dtype = as_float_dtype(dtype)
    u = float(np.finfo(dtype).eps) / 2.0
    eta = float(np.finfo(dtype).smallest_subnormal) / 2.0
    if d * u >= 0.5:
        raise ValueError(f"d = {d} is too large for a rounding bound in {dtype.name}")
    gamma_d = d * u / (1.0 - d * u)
    gamma_64 = (d + 3) * _U64 / (1.0 - (d + 3) * _U64)
    eps = 1.01 * (u + _U64)
    coef = 1.1 * (0.5 * gamma_d + 2.5 * eps + 3.0 * gamma_64)
    absolute = 1.1 * max(2.0 * d * eta, 8.0 * math.sqrt(d) * eta)
    return coef, absolute


def query_tasks(n_queries: int) -> tuple[int, list[tuple[int, int]]]:
    """Threads of a search over ``n_queries`` queries and its tasks, ``(start, stop)`` rows.

    Equal tasks of at most ``PRODUCT_ENTRIES / TRAIN_BLOCK`` rows, as many
    per thread; the threads are the Numba threads, fewer when a thread would
    get less than :data:`_MIN_SCAN_ROWS` rows.
    """
    threads = max(1, min(numba.get_num_threads(), n_queries // _MIN_SCAN_ROWS))
    n_tasks = -(-n_queries // max(1, PRODUCT_ENTRIES // TRAIN_BLOCK))
    n_tasks = min(-(-n_tasks // threads) * threads, n_queries)  # no thread left idle at the end
    rows = -(-n_queries // n_tasks)
    tasks = [(q0, min(q0 + rows, n_queries)) for q0 in range(0, n_queries, rows)]
    return min(threads, len(tasks)), tasks


class _Search:
    """Top-k lists of a set of queries, fed blocks of training rows in any order.

    The queries are cut into tasks of at most :data:`PRODUCT_ENTRIES` /
    :data:`TRAIN_BLOCK` rows. Each task, on one of the search's threads,
    multiplies its rows by a training block on one BLAS thread and scans the
    product right away, while it is still in cache. The threads share no
    product, so they never wait for each other within a chunk of training
    rows; rows are independent, so the result does not depend on the split.
    """

    def __init__(self, queries, k, centre, cand_dtype):
        self.queries = queries
        self.k = k
        self.n_queries, self.d = queries.shape
        self.centre = centre
        self.cand_dtype = cand_dtype
        self.cand_queries, self.query_sqnorm = centred(queries, centre, cand_dtype)
        self.query_norm = np.sqrt(self.query_sqnorm)
        _check_magnitude(float(self.query_norm.max()), cand_dtype, "the queries")
        self.coef, self.absolute = candidate_margin(self.d, cand_dtype)
        self.unit = float(np.finfo(cand_dtype).eps) / 2.0
        self._threads, self._tasks = query_tasks(self.n_queries)
        self.query_block = self._tasks[0][1] - self._tasks[0][0]
        check_memory(self._threads * self.query_block * TRAIN_BLOCK * cand_dtype.itemsize,
                     "knn: the blocks of products", hint="query fewer points at once")
        self.best_dist = np.full((self.n_queries, k), np.inf)
        self.best_index = np.full((self.n_queries, k), -1, dtype=np.int64)
        self._buffers = [np.empty(self.query_block * TRAIN_BLOCK, dtype=cand_dtype)
                         for _ in range(self._threads)]
        self._cand = None  # centring buffers of fold_rows, made on first use
        self._pool = ThreadPoolExecutor(self._threads) if self._threads > 1 else None
        # Several threads each run BLAS on one thread: their products need no
        # hand-off, and no BLAS thread spins next to a scan.
        self._blas = single_threaded_blas() if self._pool is not None else contextlib.nullcontext()

    def __enter__(self):
        self._blas.__enter__()
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self._blas.__exit__(*exc)

    def fold_rows(self, train, index_start):
        """Centre, round and fold training rows (any number) starting at global ``index_start``."""
        n_rows = train.shape[0]
        if self._cand is None or self._cand.shape[0] < n_rows:
            self._cand = np.empty((n_rows, self.d), dtype=self.cand_dtype)
            self._cand_sqnorm = np.empty(n_rows)
        cand, sqnorm = self._cand[:n_rows], self._cand_sqnorm[:n_rows]
        starts = range(0, n_rows, TRAIN_BLOCK)
        self._run(lambda start: _centre_rows(train[start:start + TRAIN_BLOCK], self.centre,
                                             cand[start:start + TRAIN_BLOCK],
                                             sqnorm[start:start + TRAIN_BLOCK]), starts)
        if n_rows:
            _check_magnitude(math.sqrt(float(sqnorm.max())), self.cand_dtype, "the training points")
        self.fold(train, cand, sqnorm, index_start)

    def fold(self, train, cand, cand_sqnorm, index_start):
        """Fold training rows (any number) with their centred copy and its squared norms."""
        blocks = []
        for b0 in range(0, train.shape[0], TRAIN_BLOCK):
            sqnorm = cand_sqnorm[b0:b0 + TRAIN_BLOCK]
            half = (0.5 * sqnorm).astype(self.cand_dtype)
            blocks.append((train[b0:b0 + TRAIN_BLOCK], cand[b0:b0 + TRAIN_BLOCK], sqnorm,
                           index_start + b0, half, float(half.max()), math.sqrt(float(sqnorm.max()))))
        buffers = list(self._buffers)

        def task(rows):
            q0, q1 = rows
            products = buffers.pop()
            try:
                for train_rows, cand_rows, sqnorm, start, half, half_max, block_norm in blocks:
                    out = products[: (q1 - q0) * train_rows.shape[0]].reshape(q1 - q0, -1)
                    np.matmul(self.cand_queries[q0:q1], cand_rows.T, out=out)
                    _scan_block(out, half, half_max, self.unit, sqnorm, block_norm,
                                self.query_sqnorm[q0:q1], self.query_norm[q0:q1], self.coef,
                                self.absolute, self.queries[q0:q1], train_rows, start,
                                self.best_dist[q0:q1], self.best_index[q0:q1])
            finally:
                buffers.append(products)

        if blocks:
            self._run(task, self._tasks)

    def _run(self, func, items):
        """``func(item)`` for every item, on the search's threads (in this thread if it has one)."""
        if self._pool is None:
            for item in items:
                func(item)
        else:
            for future in [self._pool.submit(func, item) for item in items]:
                future.result()

    def result(self) -> Neighbours:
        return Neighbours(distances=np.sqrt(self.best_dist), indices=self.best_index)


def centred(rows, centre, dtype):
    """``fl_dtype(rows - centre)`` (the difference in float64) and its squared row norms (float64)."""
    rows = np.asarray(rows)
    out = np.empty(rows.shape, dtype=dtype)
    sqnorm = np.empty(rows.shape[0])
    if rows.shape[0]:
        _centre_rows(rows, centre, out, sqnorm)
    return out, sqnorm


def _check_k(k, n):
    return as_int(k, "k", minimum=1, maximum=n)


def _check_queries(queries, d, dtype):
    queries = as_float_array(queries, "queries", ndim=2, dtype=dtype)
    check_same(queries.shape[1], d, "queries", "the training set", "dimension d (columns)")
    return queries


def _candidate_dtype(candidate_dtype):
    return np.dtype(np.float32) if candidate_dtype is None else as_float_dtype(
        candidate_dtype, "candidate_dtype")


def _check_magnitude(cand_rows_norm_max, cand_dtype, what):
    # Products of rows of norm N reach N^2; keep them far from the float range.
    limit = math.sqrt(float(np.finfo(cand_dtype).max)) / 1e3
    if not cand_rows_norm_max < limit:
        raise ValueError(
            f"{what} lie up to {cand_rows_norm_max:.3g} from the centre, too far for "
            f"{cand_dtype.name} products (limit {limit:.3g}); use candidate_dtype=np.float64"
        )


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


class KNNIndex:
    """Exact k-NN against a training set held in memory, for repeated queries.

    Keeps the training rows, their centred copy in the candidate precision
    and its squared norms, so each :meth:`query` costs one pass of matrix
    products over the set (module docstring). The centre is the training mean.

    Parameters
    ----------
    train : array_like, shape (n, d)
        Training points, finite; float32 stays float32.
    candidate_dtype : {None, float32, float64}
        Precision of the candidate products (default float32, also for
        float64 data: the answers come from float64 sums either way).
    memory_limit : int, optional
        Bytes the centred copy may take (default half the available memory).
    """

    def __init__(self, train, *, candidate_dtype=None, memory_limit=None):
        train = as_float_array(train, "train", ndim=2)
        self.cand_dtype = _candidate_dtype(candidate_dtype)
        n, d = train.shape
        check_memory(n * d * self.cand_dtype.itemsize + 8 * n, "KNNIndex: the centred copy of the training set",
                     memory_limit=memory_limit, fraction=0.5,
                     hint="stream the training set with knn() from an HDF5 dataset instead")
        self.train = train
        self.n, self.d = n, d
        self.centre = train.mean(axis=0, dtype=np.float64)
        self.cand, self.cand_sqnorm = centred(train, self.centre, self.cand_dtype)
        _check_magnitude(math.sqrt(float(self.cand_sqnorm.max())), self.cand_dtype,
                         "the training points")

    def query(self, queries, k=1) -> Neighbours:
        """The ``k`` nearest training points of each query (rows of ``queries``, shape (Q, d)).

        Returns
        -------
        Neighbours
            Distances (float64) and indices, shape (Q, k).
        """
        k = _check_k(k, self.n)
        queries = _check_queries(queries, self.d, None)
        with _Search(queries, k, self.centre, self.cand_dtype) as search:
            search.fold(self.train, self.cand, self.cand_sqnorm, 0)
            return search.result()


def _is_streamed(train) -> bool:
    return (not isinstance(train, np.ndarray) and hasattr(train, "shape") and hasattr(train, "dtype")
            and hasattr(train, "__getitem__"))


def knn(queries, train, k=1, *, chunk_size=None, candidate_dtype=None) -> Neighbours:
    """Exact ``k`` nearest training points of each query, reading the training set once.

    Euclidean distances ``|q - a_j|``, ties to the lower index (module
    docstring for the algorithm and its error bound). The training set may
    be an array or an HDF5 dataset (``h5py.Dataset``, or any 2-D object with
    ``shape``, ``dtype`` and row slicing) larger than memory: it is read in
    chunks of ``chunk_size`` rows, each checked before use. The result does
    not depend on ``chunk_size``, on the thread count or on the BLAS kernels.

    Parameters
    ----------
    queries : array_like, shape (Q, d)
        Query points, finite (generated samples, states ``x / s(t)``).
    train : array_like or h5py.Dataset, shape (n, d)
        Training points, finite.
    k : int
        Number of neighbours, ``1 <= k <= n``.
    chunk_size : int, optional
        Training rows read at once (default :data:`STREAM_ROWS`); memory only.
    candidate_dtype : {None, float32, float64}
        Precision of the candidate products (default float32).

    Returns
    -------
    Neighbours
        ``distances`` (float64) and ``indices`` (int64), shape (Q, k).

    Raises
    ------
    TypeError, ValueError
        Bad shapes, dtypes, NaN/inf (for a streamed set: naming the rows of
        the chunk that holds them), ``k`` outside ``[1, n]``.
    """
    streamed = _is_streamed(train)
    if streamed:
        shape = tuple(train.shape)
        if len(shape) != 2:
            raise ValueError(f"train must be 2-D (n, d), got shape {shape}")
        if np.dtype(train.dtype).kind not in "biuf":
            raise TypeError(f"train must hold real numbers, got dtype {train.dtype}")
        n, d = shape
        if n == 0 or d == 0:
            raise ValueError(f"train must not be empty, got shape {shape}")
    else:
        train = as_float_array(train, "train", ndim=2)
        n, d = train.shape
    k = _check_k(k, n)
    queries = _check_queries(queries, d, None)
    chunk = STREAM_ROWS if chunk_size is None else as_int(chunk_size, "chunk_size", minimum=1)
    cand_dtype = _candidate_dtype(candidate_dtype)
    centre = queries.mean(axis=0, dtype=np.float64)
    with _Search(queries, k, centre, cand_dtype) as search:
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            rows = train[start:stop]
            if streamed:
                rows = as_float_array(rows, f"train rows {start}:{stop}", ndim=2)
            search.fold_rows(rows, start)
        return search.result()
