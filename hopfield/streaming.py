"""Capacity simulation with patterns streamed from their seed, never stored.

Why (issue 14). At load ``alpha`` a simulation of the modern Hopfield network
needs ``P = e^{alpha N}`` patterns: 50 million of dimension 48 near the
threshold, more than the memory the stored path may use. The update
``x <- Xi^T softmax(beta Xi x)`` only ever needs the patterns one block at a
time, and a block of random patterns is a function of its seed and its
index (:func:`hopfield.patterns.fill_pattern_block`, the same stream as
:func:`hopfield.patterns.random_patterns`). So every iteration regenerates
the patterns block by block: memory stays flat in ``P``, at the price of one
draw of the ``P x N`` entries per iteration.

One pass per iteration serves every load of the grid. The pattern sets of
the loads are prefixes of one draw (nested sets), so the blocks are
generated once per pass and each is folded into the Gibbs sums of every
load whose set reaches it (:class:`statmech.gibbs.GibbsAccumulator`).

Bit-identical to the stored path. The stored path
(:func:`hopfield.capacity.capacity_simulation` without ``streamed``) runs
:func:`hopfield.modern.retrieve` with Gibbs chunks of exactly
:data:`~hopfield.patterns.BLOCK_ROWS` patterns, the pattern blocks. The
streamed path folds the same blocks, in the same order, into the same
kernel, with the same batch of active queries in the same row order
(converged queries leave the batch as in ``retrieve``), so every matrix
product has the same shape and operands: the results agree bit for bit,
whatever the OpenBLAS kernels (GEMM results may depend on block shapes).
Neither the number of generator threads nor the number of blocks generated
per batch changes any product.

Measures (both paths, one helper): the final overlap ``m = xi_t.x /
|xi_t|^2``, the Euclidean nearest pattern (a Gibbs pass with offsets
``-|xi|^2/2``, block by block), and the *first-step signal-to-noise*
criterion: the target's softmax weight at the first update from ``x =
xi_t`` exceeds 1/2, ``beta |xi_t|^2 - ln Z > -ln 2`` (the quantity
:mod:`hopfield.criterion` samples at the REM level).
"""

from __future__ import annotations

import math
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from statmech._numba import kernel
from statmech._validation import as_float, as_float_dtype, as_int, as_seed_sequence
from statmech.gibbs import GibbsAccumulator, check_log_z, gibbs_finish, gibbs_fold, gibbs_start, gibbs_workspace

from hopfield.modern import row_converged
from hopfield.patterns import BLOCK_ROWS, check_ensemble, fill_pattern_block


# --------------------------------------------------------------------------
# Pattern stream
# --------------------------------------------------------------------------


class PatternStream:
    """The patterns of one draw, regenerated block by block and never stored.

    Block ``b`` holds rows ``b * BLOCK_ROWS ... min((b + 1) * BLOCK_ROWS,
    P) - 1`` of ``random_patterns(ensemble, P, N, seed=seed, dtype=dtype)``,
    bit for bit (same streams, drawn in float64 and rounded to ``dtype``).

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    n_patterns : int
        ``P >= 1`` (any size: nothing of size ``P`` is allocated).
    n_features : int
        ``N >= 1``.
    seed : None, int or SeedSequence
    dtype : float64 or float32
    """

    def __init__(self, ensemble, n_patterns, n_features, *, seed=None, dtype=np.float64):
        self.ensemble = check_ensemble(ensemble)
        self.n_patterns = as_int(n_patterns, "n_patterns", minimum=1)
        self.n_features = as_int(n_features, "n_features", minimum=1)
        self.dtype = as_float_dtype(dtype)
        self.seed = as_seed_sequence(seed)
        self.n_blocks = -(-self.n_patterns // BLOCK_ROWS)

    def block_rows(self, block: int) -> int:
        """Number of rows of block ``block``."""
        return min(BLOCK_ROWS, self.n_patterns - block * BLOCK_ROWS)

    def fill(self, block: int, out: np.ndarray) -> np.ndarray:
        """Fill ``out`` (at least the block's rows, dtype of the stream) with block ``block``; return the rows."""
        rows = out[: self.block_rows(block)]
        if self.dtype == np.float64:
            return fill_pattern_block(self.ensemble, self.seed, block, rows)
        scratch = np.empty(rows.shape)
        rows[...] = fill_pattern_block(self.ensemble, self.seed, block, scratch)
        return rows

    def rows(self, stop: int) -> np.ndarray:
        """The first ``stop`` patterns as an array (small prefixes only, e.g. the targets)."""
        stop = as_int(stop, "stop", minimum=0, maximum=self.n_patterns)
        out = np.empty((stop, self.n_features), dtype=self.dtype)
        buf = np.empty((BLOCK_ROWS, self.n_features), dtype=self.dtype)
        for block, start in enumerate(range(0, stop, BLOCK_ROWS)):
            end = min(start + BLOCK_ROWS, stop)
            out[start:end] = self.fill(block, buf)[: end - start]
        return out

    def blocks(self, n_rows=None, *, threads=1, batch_blocks=1):
        """Yield ``(block index, rows)`` in order over the first ``n_rows`` patterns.

        ``threads - 1`` worker threads generate batches of ``batch_blocks``
        blocks ahead of the consumer (NumPy's generators release the GIL).
        The rows handed out are views into a ring of buffers, valid until
        the next item is requested. Neither argument changes a value.
        """
        n_rows = self.n_patterns if n_rows is None else min(int(n_rows), self.n_patterns)
        threads = as_int(threads, "threads", minimum=1)
        batch_blocks = as_int(batch_blocks, "batch_blocks", minimum=1)
        n_blocks = -(-n_rows // BLOCK_ROWS)
        n_batches = -(-n_blocks // batch_blocks)

        def fill_batch(index, buffer):
            first = index * batch_blocks
            last = min(first + batch_blocks, n_blocks)
            return [self.fill(b, buffer[(b - first) * BLOCK_ROWS:]) for b in range(first, last)]

        def emit(index, rows_list):
            first = index * batch_blocks
            for offset, rows in enumerate(rows_list):
                block = first + offset
                yield block, rows[: min(BLOCK_ROWS, n_rows - block * BLOCK_ROWS)]

        shape = (batch_blocks * BLOCK_ROWS, self.n_features)
        if threads == 1 or n_batches <= 1:
            buffer = np.empty(shape, dtype=self.dtype)
            for index in range(n_batches):
                yield from emit(index, fill_batch(index, buffer))
            return
        depth = threads + 1
        ring = [np.empty(shape, dtype=self.dtype) for _ in range(depth)]
        pool = ThreadPoolExecutor(max_workers=threads - 1)
        pending = deque()
        try:
            for index in range(min(depth - 1, n_batches)):
                pending.append(pool.submit(fill_batch, index, ring[index % depth]))
            for index in range(n_batches):
                rows_list = pending.popleft().result()
                ahead = index + depth - 1  # reuses the slot of batch index - 1, already consumed
                if ahead < n_batches:
                    pending.append(pool.submit(fill_batch, ahead, ring[ahead % depth]))
                yield from emit(index, rows_list)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------


@kernel
def _sort_out_converged(x, x_new, index, beta_active, tol, it, max_iter, n_active, out_states,
                        out_iterations, out_converged):
    """After an update: store converged rows, move the others to the front (order kept).

    The stopping rule of :func:`hopfield.modern.retrieve`
    (:func:`hopfield.modern.row_converged`) and its compaction, so that the
    same rows stay active: a row stops when it converged or at ``max_iter``.
    Returns the number of rows still active.
    """
    n_features = x.shape[1]
    kept = 0
    for a in range(n_active):
        converged = row_converged(x, x_new, a, tol)
        row = index[a]
        if converged or it == max_iter:
            for k in range(n_features):
                out_states[row, k] = x_new[a, k]
            out_iterations[row] = it
            out_converged[row] = converged
        else:
            for k in range(n_features):
                x[kept, k] = x_new[a, k]
            index[kept] = row
            beta_active[kept] = beta_active[a]
            kept += 1
    return kept


# --------------------------------------------------------------------------
# One load: retrieval dynamics state, fed block by block
# --------------------------------------------------------------------------


def _tolerances(tol, dtype):
    """``(tol, rel)`` of :func:`hopfield.modern.retrieve`: float32 adds ``4 eps_32 max|x|``."""
    rel = 4.0 * float(np.finfo(np.float32).eps) if np.dtype(dtype) == np.float32 else 0.0
    return np.array([tol, rel])


def target_log_weight(targets, beta) -> np.ndarray:
    """``beta |xi_t|^2``: the log-weight of the target at ``x = xi_t`` (float64)."""
    t64 = np.asarray(targets, dtype=np.float64)
    return beta * np.einsum("ij,ij->i", t64, t64)


def nearest_offsets(rows) -> np.ndarray:
    """``-|xi|^2 / 2`` of each pattern row (float64): nearest pattern = argmax of ``xi.x - |xi|^2/2``."""
    p64 = np.asarray(rows, dtype=np.float64)
    return -0.5 * np.einsum("ij,ij->i", p64, p64)


#: Offsets of the retrieval passes: shape (0,) stands for all zeros (as in hopfield.modern.retrieve).
_NO_OFFSETS = np.zeros(0)


@dataclass
class _LoadState:
    """Retrieval of the first ``n_queries`` patterns of a set of ``n_patterns`` (one load).

    Each update is the Gibbs pass of :func:`hopfield.modern.retrieve`, cut
    at the pattern blocks: :func:`statmech.gibbs.gibbs_start`, one
    :func:`statmech.gibbs.gibbs_fold` per block, :func:`statmech.gibbs.gibbs_finish`,
    on a workspace built as ``retrieve`` builds it (chunks of
    :data:`BLOCK_ROWS` patterns).
    """

    n_patterns: int
    targets: np.ndarray  # (B, N) working dtype; the initial states
    beta: float
    tolerances: np.ndarray
    max_iter: int
    exit_level: float  # stop a query once its overlap falls below this (-inf: never)
    x: np.ndarray = field(init=False)
    phase: str = field(init=False, default="dynamics")
    iteration: int = field(init=False, default=0)
    n_active: int = field(init=False)
    first_log_z: np.ndarray | None = field(init=False, default=None)
    nearest: np.ndarray | None = field(init=False, default=None)

    def __post_init__(self):
        n_q, n_features = self.targets.shape
        self.x = self.targets.copy()
        self.x_new = np.empty_like(self.x)
        self.index = np.arange(n_q, dtype=np.int64)
        self.beta_active = np.full(n_q, self.beta)
        self.states = np.empty_like(self.x)
        self.iterations = np.zeros(n_q, dtype=np.int64)
        self.converged = np.zeros(n_q, dtype=np.bool_)
        self.n_active = n_q
        self.target_norm2 = np.einsum("ij,ij->i", self.targets.astype(np.float64), self.targets.astype(np.float64))
        self.work = gibbs_workspace(n_q, n_features, BLOCK_ROWS, n_patterns=self.n_patterns, dtype=self.x.dtype)
        self.log_z = np.empty(n_q)
        self.participation = np.empty(n_q)
        self.argmax = np.empty(n_q, dtype=np.int64)
        self.accumulator = None

    def start_pass(self):
        """Open the Gibbs sums of this pass (dynamics: active queries; measure: final states)."""
        if self.phase == "dynamics":
            n = self.n_active
            gibbs_start(self.work, self.x[:n], self.beta_active[:n], 1.0)
        elif self.phase == "measure":
            self.accumulator = GibbsAccumulator(self.states.astype(np.float64), 1.0, compute_mean=False,
                                                chunk_size=BLOCK_ROWS)

    def fold(self, rows, start):
        """Fold the next pattern rows (already cut at ``n_patterns``; ``start`` their first index)."""
        if self.phase == "dynamics":
            gibbs_fold(self.work, self.beta_active[: self.n_active], rows, _NO_OFFSETS, start)
        else:
            self.accumulator.update(rows.astype(np.float64, copy=False), nearest_offsets(rows))

    def end_pass(self):
        """Apply the update (dynamics) or record the nearest patterns (measure)."""
        if self.phase == "measure":
            self.nearest = self.accumulator.result().argmax
            self.accumulator = None
            self.phase = "done"
            return
        n = self.n_active
        gibbs_finish(self.work, self.log_z[:n], self.participation[:n], self.argmax[:n], self.x_new[:n])
        check_log_z(self.log_z[:n], self.x.dtype)
        if self.iteration == 0:
            self.first_log_z = self.log_z.copy()
        self.iteration += 1
        x_new = self.x_new[:n]
        if self.exit_level > -math.inf:
            x_new = self._exit_failed(x_new)
        self.n_active = _sort_out_converged(
            self.x, x_new, self.index, self.beta_active, self.tolerances, self.iteration, self.max_iter,
            self.n_active, self.states, self.iterations, self.converged,
        )
        if self.n_active == 0:
            self.phase = "measure"

    def _exit_failed(self, x_new):
        """Record queries whose overlap fell below ``exit_level`` as finished (opt-in early exit)."""
        rows = self.index[: self.n_active]
        overlap = np.einsum("ij,ij->i", self.targets[rows].astype(np.float64), x_new.astype(np.float64))
        overlap /= self.target_norm2[rows]
        failed = overlap < self.exit_level
        if not failed.any():
            return x_new
        keep = ~failed
        done_rows = rows[failed]
        self.states[done_rows] = x_new[failed]
        self.iterations[done_rows] = self.iteration
        self.converged[done_rows] = False
        n_keep = int(keep.sum())
        self.x[:n_keep] = self.x[: self.n_active][keep]
        self.index[:n_keep] = rows[keep]
        self.beta_active[:n_keep] = self.beta_active[: self.n_active][keep]
        self.n_active = n_keep
        return np.ascontiguousarray(x_new[keep])


@dataclass(frozen=True)
class LoadOutcome:
    """Per-query outcome of the retrieval of one pattern set at one load.

    Attributes
    ----------
    overlap : ndarray, shape (B,)
        ``m = xi_t.x / |xi_t|^2`` of the final state.
    nearest : ndarray of int64, shape (B,)
        Euclidean nearest pattern of the final state.
    iterations : ndarray of int64, shape (B,)
    first_log_weight : ndarray, shape (B,)
        ``ln w_t`` at the first update from ``x = xi_t``: ``beta |xi_t|^2 - ln Z``.
    """

    overlap: np.ndarray
    nearest: np.ndarray
    iterations: np.ndarray
    first_log_weight: np.ndarray


def _outcome(state: _LoadState) -> LoadOutcome:
    dots = np.einsum("ij,ij->i", state.targets.astype(np.float64), state.states.astype(np.float64))
    return LoadOutcome(
        overlap=dots / state.target_norm2,
        nearest=state.nearest,
        iterations=state.iterations,
        first_log_weight=target_log_weight(state.targets, state.beta) - state.first_log_z,
    )


def _run_loads(stream: PatternStream, loads, *, threads, batch_blocks):
    """Drive every load to the end, one streamed pass over the patterns per iteration."""
    n_passes = 0
    while any(s.phase != "done" for s in loads):
        live = [s for s in loads if s.phase != "done"]
        for s in live:
            s.start_pass()
        reach = max(s.n_patterns for s in live)
        for block, rows in stream.blocks(reach, threads=threads, batch_blocks=batch_blocks):
            start = block * BLOCK_ROWS
            for s in live:
                if start < s.n_patterns:
                    s.fold(rows[: s.n_patterns - start], start)
        for s in live:
            s.end_pass()
        n_passes += 1
    return n_passes


def stored_load_outcome(patterns, n_queries, beta, *, tol, max_iter) -> LoadOutcome:
    """The stored-pattern path for one load: :func:`hopfield.modern.retrieve` in pattern blocks.

    ``retrieve`` runs with Gibbs chunks of :data:`BLOCK_ROWS` patterns (the
    pattern blocks); the first-step weights and the nearest patterns come
    from block-by-block Gibbs passes. :func:`streamed_load_outcomes` computes
    the same numbers with the patterns regenerated.
    """
    from hopfield.modern import retrieve

    n_patterns = patterns.shape[0]
    targets = patterns[:n_queries]
    result = retrieve(patterns, targets, beta, tol=tol, max_iter=max_iter, chunk_size=BLOCK_ROWS)
    first = GibbsAccumulator(targets, beta, chunk_size=BLOCK_ROWS)
    nearest = GibbsAccumulator(result.states.astype(np.float64), 1.0, compute_mean=False, chunk_size=BLOCK_ROWS)
    for start in range(0, n_patterns, BLOCK_ROWS):
        rows = patterns[start:start + BLOCK_ROWS]
        first.update(rows)
        nearest.update(rows.astype(np.float64, copy=False), nearest_offsets(rows))
    t64 = targets.astype(np.float64)
    dots = np.einsum("ij,ij->i", t64, result.states.astype(np.float64))
    return LoadOutcome(
        overlap=dots / np.einsum("ij,ij->i", t64, t64),
        nearest=nearest.result().argmax,
        iterations=result.iterations,
        first_log_weight=target_log_weight(targets, beta) - first.result().log_z,
    )


def streamed_load_outcomes(stream: PatternStream, sizes, n_queries, beta, *, tol, max_iter, threads=1,
                           batch_blocks=1, exit_level=-math.inf):
    """Retrieval at several nested loads of one streamed pattern set.

    Parameters
    ----------
    stream : PatternStream
        The pattern set (``stream.n_patterns >= max(sizes)``).
    sizes : sequence of int
        ``P`` of each load (prefixes of the stream).
    n_queries : sequence of int
        Queries per load: the first ``n_queries[k]`` patterns, each started at itself.
    beta, tol, max_iter
        As in :func:`hopfield.modern.retrieve`.
    threads, batch_blocks
        Pattern generation (:meth:`PatternStream.blocks`); no effect on the result.
    exit_level : float
        Opt-in early exit: a query whose overlap with its target falls below
        this stops and is recorded where it is (``-inf``, the default: never).

    Returns
    -------
    list of LoadOutcome, int
        One outcome per load, and the number of streamed passes.
    """
    dtype = stream.dtype
    largest = max(n_queries)
    targets = stream.rows(largest)
    loads = [
        _LoadState(int(p), targets[: int(q)], beta, _tolerances(tol, dtype), max_iter, exit_level)
        for p, q in zip(sizes, n_queries)
    ]
    n_passes = _run_loads(stream, loads, threads=threads, batch_blocks=batch_blocks)
    return [_outcome(s) for s in loads], n_passes


def check_stream_args(tol, max_iter, threads, batch_blocks):
    """Validate the common arguments of the streamed simulation; returns them coerced."""
    return (
        as_float(tol, "tol", nonnegative=True),
        as_int(max_iter, "max_iter", minimum=1),
        as_int(threads, "threads", minimum=1),
        as_int(batch_blocks, "batch_blocks", minimum=1),
    )


__all__ = [
    "PatternStream",
    "LoadOutcome",
    "target_log_weight",
    "nearest_offsets",
    "stored_load_outcome",
    "streamed_load_outcomes",
    "check_stream_args",
]
