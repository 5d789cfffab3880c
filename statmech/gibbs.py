"""Gibbs averages over patterns with energies linear in the state.

For patterns ``a_mu`` (rows of ``A``, n x d), per-pattern offsets ``b_mu``,
a coupling ``c`` and a state ``x`` at inverse temperature ``beta``, the
energies are

.. math::  E_\\mu(x) = -(c\\, x\\cdot a_\\mu + b_\\mu),

and the Gibbs weights ``w_mu = exp(-beta E_mu) / Z`` give, per state,

- ``log Z = logsumexp_mu beta (c x.a_mu + b_mu)``;
- the weighted mean ``<a>_x = sum_mu w_mu a_mu``;
- the participation ratio ``Y = sum_mu w_mu^2`` (in ``[1/n, 1]``);
- the index of the largest weight ``argmax_mu w_mu``.

Both modules use it: the diffusion posterior over the training set
(``c = s(t)``, ``b_mu = -s^2 |a_mu|^2 / 2``, ``beta = 1/Delta(t)``, PHYSICS.md
§2) and the modern Hopfield softmax (``c = 1``, ``b = 0``, PHYSICS.md §6).

Algorithm (one pass, bounded memory): the patterns are visited chunk by
chunk. For each chunk the log-weights ``beta_b (c X A_chunk^T + b)`` come
from one matrix product; a running maximum ``m_b`` per state rescales the
accumulated sums ``S0 = sum e^{l - m}``, ``S2 = sum e^{2(l - m)}`` and
``S1 = sum e^{l - m} a_mu`` whenever it grows; ``S1`` gets a second matrix
product. At the end ``log Z = m + log S0``, ``<a> = S1/S0``,
``Y = S2/S0^2``. Only a B x chunk block of weights ever exists, so data larger
than memory (an HDF5 dataset read in blocks) can be streamed through
:class:`GibbsAccumulator` with the same result to round-off.

The pass in code. A :class:`GibbsWorkspace` (:func:`gibbs_workspace`) holds
every work array for a batch of up to ``B`` states; :func:`gibbs_pass` is
the complete pass in one compiled call, allocating nothing, so a loop (an
SDE drift, a fixed-point iteration) calls it with the same workspace each
time. It is :func:`gibbs_start` (scale the states, empty the sums),
:func:`gibbs_fold` (the chunk loop; call it repeatedly to stream) and
:func:`gibbs_finish` (``log Z``, ``Y``, argmax, mean). :func:`gibbs_average`,
:class:`GibbsAccumulator`, the diffusion sampler's drift and the
modern-Hopfield update, retrieval and drift all run these kernels.

Between the two products each row of weights gets two vectorised passes:
the offsets and the maxima of blocks of 256 columns (over integer keys, a
max LLVM vectorises without the no-NaN flag), then the exps. Weights below
``e^-60`` (float64; ``e^-40`` in float32) of the running maximum are set to
0, which changes the sums by less than half an ulp even for 2^32 patterns;
blocks wholly below that skip the exp, and when few blocks of a chunk hold
any weight (a cold posterior) the second product becomes a sum over the
nonzero weights. The result stays independent of the thread count; it
depends on the chunk size only at round-off level.

The pass between the two products is serial on purpose: on two cores
OpenBLAS's spinning threads fight a parallel Numba pass
(``../shared/PERFORMANCE.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from numba import types
from numba.extending import overload

from statmech._fastexp import (
    _float32_bits_as_int32,
    _float64_bits_as_int64,
    _int32_bits_as_float32,
    _int64_bits_as_float64,
    cast_like,
    exp_nonpositive,
    exp_nonpositive_like,
)
from statmech._numba import kernel
from statmech._validation import (
    as_beta,
    as_float,
    as_float_array,
    as_float_dtype,
    as_int,
    check_same,
)

#: Default number of weight-matrix entries (B x chunk) held at once: 2^21
#: entries is 16 MB in float64, large enough that BLAS runs at full speed.
DEFAULT_BLOCK_ENTRIES = 1 << 21


@dataclass(frozen=True)
class GibbsAverage:
    """Per-state Gibbs averages over the patterns.

    Attributes
    ----------
    log_z : ndarray, shape (B,), float64
        ``log sum_mu exp(beta (c x.a_mu + b_mu))`` (unnormalised; subtract
        ``log n`` for the normalised partition function).
    mean : ndarray, shape (B, d), or None
        ``sum_mu w_mu a_mu``, in the dtype of the patterns; ``None`` when not
        requested.
    participation : ndarray, shape (B,), float64
        ``sum_mu w_mu^2``.
    argmax : ndarray, shape (B,), int64
        Index of the largest weight (first one on ties).
    """

    log_z: np.ndarray
    mean: np.ndarray | None
    participation: np.ndarray
    argmax: np.ndarray


# --------------------------------------------------------------------------
# Kernels (usable from other kernels, e.g. a Langevin drift)
# --------------------------------------------------------------------------

#: Entries per block of a weight row. The max pass records each block's
#: maximum, so the exp pass can skip blocks of negligible weights and the
#: argmax search scans a single block.
_ROW_BLOCK = 256

#: Log-weights more than this far below the running maximum get weight 0.
#: Even 2^32 such weights sum to less than half an ulp of ``S0 >= 1``
#: (float64: 2^32 e^-60 = 3.8e-17; float32: 2^32 e^-40 = 1.8e-8), so the
#: result changes only at round-off level. It spares the exp of whole blocks
#: (most of the diffusion posterior at small t) and keeps subnormal weights,
#: which this CPU handles ~3x slower, out of the exp and the second product.
_CUT_F64 = -60.0
_CUT_F32 = -40.0

#: The second product becomes a direct sum over the nonzero weights when at
#: most 1/_SPARSE_FRACTION of a chunk's blocks hold any. A cold posterior
#: (diffusion at small t, Hopfield retrieval) keeps about one block per state,
#: and its few nonzero weights cost far less than the two-thread product over
#: all blocks; even if every kept weight were nonzero, the serial sum over 1/8
#: of the blocks would cost no more than the product (~10 vs ~70 GFLOP/s).
_SPARSE_FRACTION = 8


def _order_key(value):
    """Integer with the order of the float ``value`` (compiled code only).

    The sign-magnitude bits of a float become a two's-complement integer, so
    a max over keys is a max over the floats: an integer reduction, which
    LLVM vectorises without the no-NaN flag a float max would need.
    """
    raise NotImplementedError("_order_key is only available inside Numba kernels")


def _from_key(key, like):
    """Inverse of :func:`_order_key`, in the float type of ``like``."""
    raise NotImplementedError("_from_key is only available inside Numba kernels")


def _lowest_key(like):
    """The smallest key (below that of ``-inf``) for the float type of ``like``."""
    raise NotImplementedError("_lowest_key is only available inside Numba kernels")


def _weight_cut(like):
    """:data:`_CUT_F64` or :data:`_CUT_F32`, in the float type of ``like``."""
    raise NotImplementedError("_weight_cut is only available inside Numba kernels")


@overload(_order_key)
def _order_key_overload(value):
    if value == types.float32:
        def key32(value):
            bits = _float32_bits_as_int32(value)
            return bits ^ ((bits >> np.int32(31)) & np.int32(0x7FFFFFFF))
        return key32
    if value == types.float64:
        def key64(value):
            bits = _float64_bits_as_int64(value)
            return bits ^ ((bits >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))
        return key64
    return None


@overload(_from_key)
def _from_key_overload(key, like):
    if like == types.float32:
        return lambda key, like: _int32_bits_as_float32(
            key ^ ((key >> np.int32(31)) & np.int32(0x7FFFFFFF)))
    if like == types.float64:
        return lambda key, like: _int64_bits_as_float64(
            key ^ ((key >> 63) & np.int64(0x7FFFFFFFFFFFFFFF)))
    return None


@overload(_lowest_key)
def _lowest_key_overload(like):
    if like == types.float32:
        return lambda like: np.int32(-(2**31))
    if like == types.float64:
        return lambda like: np.int64(-(2**63))
    return None


@overload(_weight_cut)
def _weight_cut_overload(like):
    if like == types.float32:
        return lambda like: np.float32(_CUT_F32)
    if like == types.float64:
        return lambda like: _CUT_F64
    return None


@kernel
def _scale_states(states, beta, coupling, out):
    """``out[b] = beta[b] * coupling * states[b]`` (dtype of ``out``)."""
    n_states, n_features = states.shape
    for b in range(n_states):
        factor = beta[b] * coupling
        for k in range(n_features):
            out[b, k] = factor * states[b, k]


@kernel
def _shift_block(seg, beta_b, offsets):
    """``seg += beta_b * offsets`` in place (skipped when ``offsets`` is empty).

    Returns the largest entry (row precision) and a probe that is NaN if
    any entry is NaN or +-inf, else 0 (``x * 0`` is 0 only for finite x).
    The sum is formed in float64 and rounded once to the row's precision.
    One vectorised pass: the max is taken over integer keys.
    """
    best = _lowest_key(seg[0])
    zero = cast_like(0.0, seg[0])
    probe = zero
    if offsets.shape[0] == 0:
        for j in range(seg.shape[0]):
            value = seg[j]
            best = max(best, _order_key(value))
            probe += value * zero
    else:
        for j in range(seg.shape[0]):
            value = cast_like(seg[j] + beta_b * offsets[j], seg[0])
            seg[j] = value
            best = max(best, _order_key(value))
            probe += value * zero
    return _from_key(best, seg[0]), probe


@kernel
def _exp_block(seg, top, cut):
    """``seg <- exp(seg - top)`` in place, 0 below ``cut``; returns the sum and the sum of squares.

    ``top`` and ``cut`` are in the precision of ``seg``. The exp sees its
    argument clamped at ``cut``, so it never produces a subnormal.
    """
    total = cast_like(0.0, seg[0])
    total_sq = cast_like(0.0, seg[0])
    zero = cast_like(0.0, seg[0])
    for j in range(seg.shape[0]):
        shifted = seg[j] - top
        weight = exp_nonpositive_like(max(shifted, cut))
        weight = zero if shifted < cut else weight
        seg[j] = weight
        total += weight
        total_sq += weight * weight
    return total, total_sq


@kernel
def _weights_pass(log_weights, beta, offsets, running_max, s0, s2, argmax, index_start, mean_acc,
                  kept, block_max):
    """Turn one chunk's scaled overlaps into weights ``e^{l - m}``, in place.

    ``log_weights[b, j]`` holds ``beta_b c x_b.a_j`` on entry and
    ``exp(beta_b (c x_b.a_j + b_j) - m_b)`` on exit (0 below the cut
    :data:`_CUT_F64`), where ``m_b`` is the updated running maximum.
    ``s0``, ``s2`` and the rows of ``mean_acc`` are rescaled to the new
    maximum. ``offsets`` of shape (0,) stands for all zeros. A non-finite
    log-weight (finite inputs make one only by overflowing the float range)
    makes ``s0`` NaN, so the caller sees a non-finite ``log Z``.

    Two passes per row, each vectorised: offsets and block maxima, then the
    exps (blocks wholly below the cut are zero-filled). The row stays in
    the L2 cache between them. ``kept[b, i]`` (at least (B, #blocks) of
    ``_ROW_BLOCK`` columns) records whether block ``i`` of row ``b`` holds
    nonzero weights; returns how many blocks do. ``block_max`` (at least
    #blocks entries) is work space for one row's block maxima.
    """
    n_states, n_cols = log_weights.shape
    n_blocks = (n_cols + _ROW_BLOCK - 1) // _ROW_BLOCK
    n_kept = 0
    for b in range(n_states):
        row = log_weights[b]
        beta_b = beta[b]
        chunk_max = -np.inf
        first_block = 0
        probe = 0.0
        for i in range(n_blocks):
            start = i * _ROW_BLOCK
            stop = min(start + _ROW_BLOCK, n_cols)
            peak, block_probe = _shift_block(row[start:stop], beta_b, offsets[start:stop])
            block_max[i] = peak
            probe += block_probe
            if peak > chunk_max:
                chunk_max = peak
                first_block = i
        previous = running_max[b]
        if chunk_max > previous:
            target = cast_like(chunk_max, row[0])
            start = first_block * _ROW_BLOCK
            arg = start
            for j in range(start, min(start + _ROW_BLOCK, n_cols)):
                if row[j] == target:
                    arg = j
                    break
            rescale = exp_nonpositive(previous - chunk_max)
            s0[b] *= rescale
            s2[b] *= rescale * rescale
            if mean_acc.shape[0] > 0:
                for k in range(mean_acc.shape[1]):
                    mean_acc[b, k] *= rescale
            running_max[b] = chunk_max
            argmax[b] = index_start + arg
        top = running_max[b]
        cut = _weight_cut(row[0])
        floor = top + cut
        shift = cast_like(top, row[0])
        zero = cast_like(0.0, row[0])
        total = cast_like(0.0, row[0])
        total_sq = cast_like(0.0, row[0])
        i = 0
        while i < n_blocks:  # runs of kept blocks share one exp loop
            start = i * _ROW_BLOCK
            if block_max[i] < floor:
                row[start:min(start + _ROW_BLOCK, n_cols)] = zero
                kept[b, i] = False
                i += 1
                continue
            run_end = i
            while run_end < n_blocks and block_max[run_end] >= floor:
                kept[b, run_end] = True
                run_end += 1
            n_kept += run_end - i
            run_total, run_sq = _exp_block(row[start:min(run_end * _ROW_BLOCK, n_cols)], shift, cut)
            total += run_total
            total_sq += run_sq
            i = run_end
        s0[b] += total
        s2[b] += total_sq
        if probe != 0.0:
            s0[b] = np.nan
    return n_kept


@kernel
def _sparse_mean(weights, patterns, kept, mean_acc):
    """``mean_acc += weights @ patterns``, visiting only the kept blocks' nonzero weights."""
    n_states, n_cols = weights.shape
    n_features = patterns.shape[1]
    n_blocks = (n_cols + _ROW_BLOCK - 1) // _ROW_BLOCK
    for b in range(n_states):
        for i in range(n_blocks):
            if not kept[b, i]:
                continue
            for j in range(i * _ROW_BLOCK, min((i + 1) * _ROW_BLOCK, n_cols)):
                w = weights[b, j]
                if w != 0.0:
                    for k in range(n_features):
                        mean_acc[b, k] += w * patterns[j, k]


@kernel
def _row_blocks(n_columns):
    """Blocks of :data:`_ROW_BLOCK` columns in a row of ``n_columns`` weights."""
    return (n_columns + _ROW_BLOCK - 1) // _ROW_BLOCK


@kernel
def _fold_chunk(scaled_states, beta, patterns, offsets, index_start, block, product, running_max,
                s0, s2, argmax, mean_acc, kept, block_max):
    """Fold one chunk of patterns into the running sums: two products and a weights pass.

    The one implementation of a chunk step (module docstring): the
    log-weights ``scaled_states @ patterns.T`` go into ``block``,
    :func:`_weights_pass` turns them into weights, and the second product
    (or the sparse sum of a cold posterior) adds ``weights @ patterns`` to
    ``mean_acc``. ``kept`` and ``block_max`` are work space for the blocks
    of the chunk's rows.
    """
    n_states = scaled_states.shape[0]
    n_chunk = patterns.shape[0]
    weights = block[: n_states * n_chunk].reshape((n_states, n_chunk))
    np.dot(scaled_states, patterns.T, weights)
    n_kept = _weights_pass(weights, beta, offsets, running_max, s0, s2, argmax, index_start,
                           mean_acc, kept, block_max)
    if mean_acc.shape[0] > 0:
        if n_kept * _SPARSE_FRACTION <= n_states * _row_blocks(n_chunk):
            _sparse_mean(weights, patterns, kept, mean_acc)
        else:
            np.dot(weights, patterns, product)
            mean_acc += product


@kernel
def gibbs_chunk_update(
    scaled_states,
    beta,
    patterns,
    offsets,
    index_start,
    block,
    product,
    running_max,
    s0,
    s2,
    argmax,
    mean_acc,
):
    """Fold one chunk of patterns into running Gibbs sums held in loose arrays (kernel).

    The chunk step of :func:`gibbs_fold` for callers that keep their own
    arrays instead of a :class:`GibbsWorkspace` (it allocates the small
    block bookkeeping on every call; :func:`gibbs_fold` does not).

    Parameters
    ----------
    scaled_states : (B, d) array, ``beta_b * c * x_b``, dtype of ``patterns``
    beta : (B,) float64
    patterns : (m, d) C-contiguous chunk ``a_{start..start+m}``
    offsets : (m,) float64 ``b_mu``, or shape (0,) for all zeros (skips the add)
    index_start : int, global index of the chunk's first pattern
    block : 1-D work buffer of at least B*m entries, dtype of ``patterns``
    product : (B, d) work buffer for the mean update (shape (0, d) to skip it)
    running_max, s0, s2 : (B,) float64 running sums
    argmax : (B,) int64
    mean_acc : (B, d) running ``S1`` (shape (0, d) to skip the mean)

    Returns
    -------
    None
        The running sums are updated in place.
    """
    n_blocks = _row_blocks(patterns.shape[0])
    kept = np.empty((scaled_states.shape[0], n_blocks), dtype=np.bool_)
    block_max = np.empty(n_blocks)
    _fold_chunk(scaled_states, beta, patterns, offsets, index_start, block, product, running_max,
                s0, s2, argmax, mean_acc, kept, block_max)


@kernel
def gibbs_finalize(running_max, s0, s2, mean_acc, log_z, participation, mean):
    """``log Z = m + log S0``, ``Y = S2 / S0^2``, ``<a> = S1 / S0`` (kernel).

    Parameters
    ----------
    running_max, s0, s2 : (B,) float64
        Running maximum ``m`` and sums ``S0``, ``S2``.
    mean_acc : (B, d) or (0, d)
        Running ``S1``.
    log_z, participation : (B,) float64
        Outputs.
    mean : (B, d) or (0, d)
        Output ``<a>`` (skipped when it has no rows).

    Returns
    -------
    None
    """
    for b in range(running_max.shape[0]):
        log_z[b] = running_max[b] + np.log(s0[b])
        participation[b] = s2[b] / (s0[b] * s0[b])
        if mean.shape[0] > 0:
            inverse = 1.0 / s0[b]
            for k in range(mean.shape[1]):
                mean[b, k] = mean_acc[b, k] * inverse


@kernel
def gibbs_reset(running_max, s0, s2, argmax, mean_acc):
    """Empty the running sums (kernel).

    Parameters
    ----------
    running_max, s0, s2 : (B,) float64
    argmax : (B,) int64
    mean_acc : (B, d) or (0, d)

    Returns
    -------
    None
    """
    running_max[:] = -np.inf
    s0[:] = 0.0
    s2[:] = 0.0
    argmax[:] = -1
    mean_acc[:] = 0.0


# --------------------------------------------------------------------------
# The pass: a workspace built once for a batch shape, and the kernels that use it
# --------------------------------------------------------------------------


class GibbsWorkspace(NamedTuple):
    """Work arrays of the Gibbs pass for up to ``B`` states (build with :func:`gibbs_workspace`).

    A tuple of arrays, so compiled code takes it as one argument. A pass over
    ``n <= B`` states uses the first ``n`` rows of each array. The chunk
    length (patterns per matrix product) is ``block.shape[0] // B``.

    Attributes
    ----------
    scaled : ndarray (B, d), working dtype
        ``beta_b c x_b``.
    block : ndarray (B * chunk,), working dtype
        One chunk of log-weights, then weights.
    product : ndarray (B, d) or (0, d), working dtype
        The second product of one chunk (no rows: the mean is not computed).
    block_max : ndarray (ceil(chunk / 256),), float64
        One row's block maxima.
    kept : ndarray (B, ceil(chunk / 256)), bool
        Blocks of the chunk that hold nonzero weights.
    running_max, s0, s2 : ndarray (B,), float64
        Running maximum ``m`` and sums ``S0``, ``S2``.
    argmax : ndarray (B,), int64
        Running argmax.
    mean_acc : ndarray (B, d) or (0, d), working dtype
        Running ``S1``.
    """

    scaled: np.ndarray
    block: np.ndarray
    product: np.ndarray
    block_max: np.ndarray
    kept: np.ndarray
    running_max: np.ndarray
    s0: np.ndarray
    s2: np.ndarray
    argmax: np.ndarray
    mean_acc: np.ndarray

    @property
    def capacity(self) -> int:
        """``B``: the largest number of states a pass may hold."""
        return self.scaled.shape[0]

    @property
    def chunk_size(self) -> int:
        """Patterns per matrix product."""
        return self.block.shape[0] // max(self.scaled.shape[0], 1)


def default_chunk_size(n_states: int, n_patterns: int | None = None) -> int:
    """Patterns per chunk so that a chunk of weights holds about 2^21 entries.

    Parameters
    ----------
    n_states : int
        States per pass ``B``.
    n_patterns : int, optional
        Patterns ``n``: the chunk never exceeds it.

    Returns
    -------
    int
        ``max(64, 2^21 // B)``, at most ``n``.
    """
    chunk = max(64, DEFAULT_BLOCK_ENTRIES // max(n_states, 1))
    return int(chunk if n_patterns is None else max(1, min(n_patterns, chunk)))


def gibbs_workspace(n_states, n_features, chunk_size=None, *, n_patterns=None, dtype=np.float64,
                    compute_mean=True) -> GibbsWorkspace:
    """Allocate the work arrays of the Gibbs pass once, for a batch shape.

    Parameters
    ----------
    n_states : int
        Largest number of states ``B`` a pass will hold, ``>= 1``.
    n_features : int
        Dimension ``d``, ``>= 1``.
    chunk_size : int, optional
        Patterns per matrix product; default :func:`default_chunk_size`.
        Results depend on it at round-off level only.
    n_patterns : int, optional
        Number of patterns, if known: the chunk never exceeds it.
    dtype : {float64, float32}
        Working precision of the products (sums stay float64).
    compute_mean : bool
        Accumulate the weighted mean (the second product).

    Returns
    -------
    GibbsWorkspace
    """
    n_states = as_int(n_states, "n_states", minimum=1)
    n_features = as_int(n_features, "n_features", minimum=1)
    dtype = as_float_dtype(dtype)
    if n_patterns is not None:
        n_patterns = as_int(n_patterns, "n_patterns", minimum=1)
    if chunk_size is None:
        chunk_size = default_chunk_size(n_states, n_patterns)
    chunk_size = as_int(chunk_size, "chunk_size", minimum=1)
    if n_patterns is not None:
        chunk_size = min(chunk_size, n_patterns)
    if not isinstance(compute_mean, (bool, np.bool_)):
        raise TypeError(f"compute_mean must be True or False, got {compute_mean!r}")
    rows = n_states if compute_mean else 0
    n_blocks = _row_blocks(chunk_size)
    return GibbsWorkspace(
        scaled=np.empty((n_states, n_features), dtype=dtype),
        block=np.empty(n_states * chunk_size, dtype=dtype),
        product=np.empty((rows, n_features), dtype=dtype),
        block_max=np.empty(n_blocks),
        kept=np.empty((n_states, n_blocks), dtype=np.bool_),
        running_max=np.full(n_states, -np.inf),
        s0=np.zeros(n_states),
        s2=np.zeros(n_states),
        argmax=np.full(n_states, -1, dtype=np.int64),
        mean_acc=np.zeros((rows, n_features), dtype=dtype),
    )


@kernel
def gibbs_start(work, states, beta, coupling):
    """Begin a pass over the states ``x_b`` (kernel): scale them and empty the sums.

    Parameters
    ----------
    work : GibbsWorkspace
        Its first ``n = states.shape[0]`` rows are used.
    states : (n, d) array, working dtype
    beta : (n,) float64
        Inverse temperatures.
    coupling : float
        ``c``.

    Returns
    -------
    None
    """
    n = states.shape[0]
    _scale_states(states, beta, coupling, work.scaled[:n])
    gibbs_reset(work.running_max[:n], work.s0[:n], work.s2[:n], work.argmax[:n], work.mean_acc[:n])


@kernel
def gibbs_fold(work, beta, patterns, offsets, index_start):
    """Fold patterns into the running sums of the first ``len(beta)`` states (kernel).

    The chunk loop of every Gibbs pass: the patterns are taken
    ``work.chunk_size`` at a time, each chunk costing two matrix products
    and a weights pass (module docstring). Call :func:`gibbs_start` first;
    call it again with the next patterns to stream them.

    Parameters
    ----------
    work : GibbsWorkspace
    beta : (n,) float64
        Inverse temperatures of the ``n`` states (as given to :func:`gibbs_start`).
    patterns : (m, d) C-contiguous array, working dtype
    offsets : (m,) float64 ``b_mu``, or shape (0,) for all zeros
    index_start : int
        Global index of ``patterns[0]`` (for the argmax).

    Returns
    -------
    None
    """
    n = beta.shape[0]
    chunk = work.block.shape[0] // work.scaled.shape[0]
    n_patterns = patterns.shape[0]
    for start in range(0, n_patterns, chunk):
        stop = min(start + chunk, n_patterns)
        _fold_chunk(work.scaled[:n], beta, patterns[start:stop], offsets[start:stop],
                    index_start + start, work.block, work.product[:n], work.running_max[:n],
                    work.s0[:n], work.s2[:n], work.argmax[:n], work.mean_acc[:n], work.kept,
                    work.block_max)


@kernel
def gibbs_finish(work, log_z, participation, argmax, mean):
    """End a pass (kernel): ``log Z``, ``Y``, the argmax and ``<a>`` of the first ``n`` states.

    ``log Z = m + log S0``, ``Y = S2 / S0^2``, ``<a> = S1 / S0`` (module
    docstring), with ``n = log_z.shape[0]``.

    Parameters
    ----------
    work : GibbsWorkspace
    log_z, participation : (n,) float64
        Outputs.
    argmax : (n,) int64
        Output: index of the largest weight.
    mean : (n, d) or (0, d), working dtype
        Output ``<a>`` (no rows: skipped).

    Returns
    -------
    None
    """
    n = log_z.shape[0]
    gibbs_finalize(work.running_max[:n], work.s0[:n], work.s2[:n], work.mean_acc[:n], log_z,
                   participation, mean)
    for b in range(n):
        argmax[b] = work.argmax[b]


@kernel
def gibbs_pass(work, states, beta, coupling, patterns, offsets, log_z, participation, argmax, mean):
    """One complete Gibbs pass (kernel): every average of the patterns seen from each state.

    Weights ``w_mu(x_b) ∝ exp(beta_b (c x_b.a_mu + b_mu))`` (module
    docstring; PHYSICS.md §2 for the diffusion posterior, §6 for the
    modern-Hopfield softmax), computed chunk by chunk with bounded memory.
    Allocates nothing: call it in a loop with one workspace.

    Parameters
    ----------
    work : GibbsWorkspace
        Built for at least ``n`` states of dimension ``d``, in the dtype of
        ``states`` and ``patterns``.
    states : (n, d) array
        States ``x_b``.
    beta : (n,) float64
        Inverse temperatures ``> 0``.
    coupling : float
        ``c``.
    patterns : (N, d) C-contiguous array
        Patterns ``a_mu``.
    offsets : (N,) float64 ``b_mu``, or shape (0,) for all zeros
    log_z, participation : (n,) float64
        Outputs: ``log sum_mu exp(beta (c x.a_mu + b_mu))`` and ``sum_mu w_mu^2``.
    argmax : (n,) int64
        Output: ``argmax_mu w_mu`` (first on ties).
    mean : (n, d) or (0, d)
        Output ``<a>_x = sum_mu w_mu a_mu`` in the working dtype (no rows:
        skipped; then ``work`` may be built with ``compute_mean=False``).

    Returns
    -------
    None
        The outputs are filled in place; ``work`` keeps the running sums of
        the ``n`` states (``S0 = work.s0[b]``, ``S1 = work.mean_acc[b]``,
        relative to ``work.running_max[b]``) until the next pass.
    """
    gibbs_start(work, states, beta, coupling)
    gibbs_fold(work, beta, patterns, offsets, 0)
    gibbs_finish(work, log_z, participation, argmax, mean)


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


class GibbsAccumulator:
    """Streaming Gibbs averages: feed patterns chunk by chunk, read the result.

    Use it when the patterns do not fit in memory (an HDF5 dataset read in
    blocks): the result equals :func:`gibbs_average` on the concatenated
    patterns up to round-off. Equations: see the module docstring. It runs
    :func:`gibbs_start`, :func:`gibbs_fold` per update and
    :func:`gibbs_finish` on one :class:`GibbsWorkspace`.

    Parameters
    ----------
    states : array_like, shape (B, d)
        States ``x``; float32 keeps the computation in float32 (sums and
        ``log Z`` stay float64).
    beta : float or array_like of shape (B,), default 1
        Inverse temperature(s), ``> 0``.
    coupling : float, default 1
        ``c`` in ``E_mu(x) = -(c x.a_mu + b_mu)``; any finite real.
    compute_mean : bool, default True
        Accumulate ``sum_mu w_mu a_mu`` (costs a second matrix product).
    dtype : {None, float64, float32}
        Working precision; default the dtype of ``states``.
    chunk_size : int, optional
        Patterns per matrix product (an update of more patterns is split);
        default :func:`default_chunk_size`.

    Examples
    --------
    >>> acc = GibbsAccumulator(X, beta=2.0)
    >>> for start in range(0, n, 4096):
    ...     acc.update(dataset[start:start + 4096])
    >>> result = acc.result()
    """

    def __init__(self, states, beta=1.0, *, coupling=1.0, compute_mean=True, dtype=None,
                 chunk_size=None):
        states = as_float_array(states, "states", ndim=2, dtype=dtype)
        self.dtype = states.dtype
        self.n_states, self.n_features = states.shape
        self.beta = as_beta(beta, "beta", size=self.n_states)
        self.coupling = as_float(coupling, "coupling")
        if not isinstance(compute_mean, (bool, np.bool_)):
            raise TypeError(f"compute_mean must be True or False, got {compute_mean!r}")
        self.compute_mean = bool(compute_mean)
        self._work = gibbs_workspace(self.n_states, self.n_features, chunk_size, dtype=self.dtype,
                                     compute_mean=self.compute_mean)
        gibbs_start(self._work, states, self.beta, self.coupling)
        self.n_seen = 0

    def update(self, patterns, offsets=None):
        """Fold a chunk of patterns (m x d) and their offsets (m,) into the sums.

        Parameters
        ----------
        patterns : array_like, shape (m, d)
            Finite patterns, the next ``m`` in the stream.
        offsets : array_like, shape (m,), optional
            Their ``b_mu`` (default 0).

        Returns
        -------
        GibbsAccumulator
            ``self``.

        Raises
        ------
        ValueError
            On a dimension mismatch, NaN or inf, before touching the running sums.
        """
        patterns = as_float_array(patterns, "patterns", ndim=2, dtype=self.dtype)
        check_same(patterns.shape[1], self.n_features, "patterns", "states", "number of columns (d)")
        self._fold(patterns, _as_offsets(offsets, patterns.shape[0]))
        return self

    def _fold(self, patterns, offsets):
        """Fold an already validated chunk (C-contiguous rows, float64 offsets)."""
        gibbs_fold(self._work, self.beta, patterns, offsets, self.n_seen)
        self.n_seen += patterns.shape[0]

    def result(self) -> GibbsAverage:
        """The Gibbs averages over every pattern seen so far.

        Returns
        -------
        GibbsAverage

        Raises
        ------
        ValueError
            If no pattern was given.
        FloatingPointError
            If the log-weights overflow the float range.
        """
        if self.n_seen == 0:
            raise ValueError("no patterns were given to the accumulator (call update first)")
        log_z = np.empty(self.n_states)
        participation = np.empty(self.n_states)
        argmax = np.empty(self.n_states, dtype=np.int64)
        mean = np.empty((self._work.mean_acc.shape[0], self.n_features), dtype=self.dtype)
        gibbs_finish(self._work, log_z, participation, argmax, mean)
        check_log_z(log_z, self.dtype)
        return GibbsAverage(
            log_z=log_z,
            mean=mean if self.compute_mean else None,
            participation=participation,
            argmax=argmax,
        )


def check_log_z(log_z, dtype) -> None:
    """Raise ``FloatingPointError`` if a pass's ``log Z`` is not finite (overflowed log-weights).

    Parameters
    ----------
    log_z : ndarray (B,)
        ``log Z`` of each state, from a Gibbs pass.
    dtype : numpy dtype
        Working precision of the pass (named in the message).

    Returns
    -------
    None
    """
    if not np.all(np.isfinite(log_z)):
        bad = int(np.flatnonzero(~np.isfinite(log_z))[0])
        raise FloatingPointError(
            f"the log-weights beta*(c*x.a + b) of state {bad} overflow the "
            f"{np.dtype(dtype)} range (log Z = {log_z[bad]}); rescale the states or patterns"
        )


def _as_offsets(offsets, n_patterns: int) -> np.ndarray:
    if offsets is None:
        return np.zeros(0)  # the kernels read an empty array as all zeros
    offsets = as_float_array(offsets, "offsets", ndim=1, dtype=np.float64)
    check_same(offsets.shape[0], n_patterns, "offsets", "patterns", "length (n)")
    return offsets


def gibbs_average(
    patterns,
    states,
    beta=1.0,
    *,
    coupling=1.0,
    offsets=None,
    compute_mean=True,
    chunk_size=None,
    dtype=None,
) -> GibbsAverage:
    """Gibbs averages of the patterns seen from each state, in one chunked pass.

    Boltzmann weights ``w_mu(x) ∝ exp(beta (c x.a_mu + b_mu))`` over the
    patterns (energies ``E_mu = -(c x.a_mu + b_mu)``, module docstring);
    returns ``log Z``, ``<a>_x = sum_mu w_mu a_mu``, ``sum_mu w_mu^2`` and
    ``argmax_mu w_mu`` per state. This is the diffusion posterior of
    PHYSICS.md §2 and the modern-Hopfield softmax of §6.

    Parameters
    ----------
    patterns : array_like, shape (n, d)
        Patterns ``a_mu``, finite.
    states : array_like, shape (B, d)
        States ``x``, finite.
    beta : float or array_like of shape (B,), default 1
        Inverse temperature(s), ``> 0``.
    coupling : float, default 1
        ``c``; any finite real (``s(t)`` for diffusion).
    offsets : array_like, shape (n,), optional
        ``b_mu``, finite (``-s^2 |a_mu|^2 / 2`` for diffusion). Default 0.
    compute_mean : bool, default True
        Also return ``<a>_x`` (a second matrix product).
    chunk_size : int, optional
        Patterns per chunk; default keeps ~2^21 weights in memory. The result
        does not depend on it beyond round-off.
    dtype : {None, float64, float32}
        Working precision; default float32 only if both inputs are float32.

    Returns
    -------
    GibbsAverage

    Raises
    ------
    TypeError, ValueError
        Bad shapes, dtypes, NaN/inf, ``beta <= 0``, before any kernel runs.
    FloatingPointError
        When the log-weights themselves overflow the float range (no NaN is
        ever returned).
    """
    patterns = as_float_array(patterns, "patterns", ndim=2, dtype=dtype)
    states = as_float_array(states, "states", ndim=2, dtype=dtype)
    if dtype is None and patterns.dtype != states.dtype:
        patterns = patterns.astype(np.float64)
        states = states.astype(np.float64)
    check_same(patterns.shape[1], states.shape[1], "patterns", "states", "number of columns (d)")
    n_patterns = patterns.shape[0]
    offsets = _as_offsets(offsets, n_patterns)
    if chunk_size is not None:
        chunk_size = min(as_int(chunk_size, "chunk_size", minimum=1), n_patterns)
    accumulator = GibbsAccumulator(states, beta, coupling=coupling, compute_mean=compute_mean,
                                   chunk_size=chunk_size or default_chunk_size(states.shape[0],
                                                                               n_patterns))
    accumulator._fold(patterns, offsets)
    return accumulator.result()


__all__ = [
    "GibbsAverage",
    "GibbsAccumulator",
    "GibbsWorkspace",
    "gibbs_average",
    "gibbs_workspace",
    "gibbs_pass",
    "gibbs_start",
    "gibbs_fold",
    "gibbs_finish",
    "check_log_z",
    "gibbs_chunk_update",
    "gibbs_finalize",
    "gibbs_reset",
    "default_chunk_size",
    "DEFAULT_BLOCK_ENTRIES",
]
