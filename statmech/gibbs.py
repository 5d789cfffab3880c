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

The pass between the two products is serial on purpose: on two cores
OpenBLAS's spinning threads fight a parallel Numba pass
(``../shared/PERFORMANCE.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from statmech._fastexp import cast_like, exp_nonpositive, exp_nonpositive_like
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


@kernel
def _scale_states(states, beta, coupling, out):
    """``out[b] = beta[b] * coupling * states[b]`` (dtype of ``out``)."""
    n_states, n_features = states.shape
    for b in range(n_states):
        factor = beta[b] * coupling
        for k in range(n_features):
            out[b, k] = factor * states[b, k]


@kernel
def _weights_pass(log_weights, beta, offsets, running_max, s0, s2, argmax, index_start, mean_acc):
    """Turn one chunk's scaled overlaps into weights ``e^{l - m}``, in place.

    ``log_weights[b, j]`` holds ``beta_b c x_b.a_j`` on entry and
    ``exp(beta_b (c x_b.a_j + b_j) - m_b)`` on exit, where ``m_b`` is the
    updated running maximum. ``s0``, ``s2`` and the rows of ``mean_acc`` are
    rescaled to the new maximum.
    """
    n_states, n_cols = log_weights.shape
    for b in range(n_states):
        row = log_weights[b]
        beta_b = beta[b]
        chunk_max = -np.inf
        chunk_arg = 0
        for j in range(n_cols):
            value = row[j] + beta_b * offsets[j]
            row[j] = value
            if value > chunk_max:
                chunk_max = value
                chunk_arg = j
        previous = running_max[b]
        if chunk_max > previous:
            rescale = exp_nonpositive(previous - chunk_max)
            s0[b] *= rescale
            s2[b] *= rescale * rescale
            if mean_acc.shape[0] > 0:
                for k in range(mean_acc.shape[1]):
                    mean_acc[b, k] *= rescale
            running_max[b] = chunk_max
            argmax[b] = index_start + chunk_arg
        top = cast_like(running_max[b], row[0])  # in the row's precision
        total = cast_like(0.0, row[0])
        total_sq = cast_like(0.0, row[0])
        for j in range(n_cols):
            w = exp_nonpositive_like(row[j] - top)
            row[j] = w
            total += w
            total_sq += w * w
        s0[b] += total
        s2[b] += total_sq


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
    """Fold one chunk of patterns into the running Gibbs sums (kernel).

    Parameters
    ----------
    scaled_states : (B, d) array, ``beta_b * c * x_b``, dtype of ``patterns``
    beta : (B,) float64
    patterns : (m, d) C-contiguous chunk ``a_{start..start+m}``
    offsets : (m,) float64 ``b_mu``
    index_start : int, global index of the chunk's first pattern
    block : 1-D work buffer of at least B*m entries, dtype of ``patterns``
    product : (B, d) work buffer for the mean update (shape (0, d) to skip it)
    running_max, s0, s2 : (B,) float64 running sums
    argmax : (B,) int64
    mean_acc : (B, d) running ``S1`` (shape (0, d) to skip the mean)
    """
    n_chunk = patterns.shape[0]
    weights = block[: scaled_states.shape[0] * n_chunk].reshape((scaled_states.shape[0], n_chunk))
    np.dot(scaled_states, patterns.T, weights)
    _weights_pass(weights, beta, offsets, running_max, s0, s2, argmax, index_start, mean_acc)
    if mean_acc.shape[0] > 0:
        np.dot(weights, patterns, product)
        mean_acc += product


@kernel
def gibbs_finalize(running_max, s0, s2, mean_acc, log_z, participation, mean):
    """``log Z = m + log S0``, ``Y = S2 / S0^2``, ``<a> = S1 / S0`` (kernel)."""
    for b in range(running_max.shape[0]):
        log_z[b] = running_max[b] + np.log(s0[b])
        participation[b] = s2[b] / (s0[b] * s0[b])
        if mean.shape[0] > 0:
            inverse = 1.0 / s0[b]
            for k in range(mean.shape[1]):
                mean[b, k] = mean_acc[b, k] * inverse


@kernel
def gibbs_reset(running_max, s0, s2, argmax, mean_acc):
    """Empty the running sums (kernel)."""
    running_max[:] = -np.inf
    s0[:] = 0.0
    s2[:] = 0.0
    argmax[:] = -1
    mean_acc[:] = 0.0


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def default_chunk_size(n_states: int, n_patterns: int) -> int:
    """Patterns per chunk so that a chunk of weights holds ~2^21 entries."""
    return int(max(64, min(n_patterns, DEFAULT_BLOCK_ENTRIES // max(n_states, 1))))


class GibbsAccumulator:
    """Streaming Gibbs averages: feed patterns chunk by chunk, read the result.

    Use it when the patterns do not fit in memory (an HDF5 dataset read in
    blocks): the result equals :func:`gibbs_average` on the concatenated
    patterns up to round-off. Equations: see the module docstring.

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

    Examples
    --------
    >>> acc = GibbsAccumulator(X, beta=2.0)
    >>> for start in range(0, n, 4096):
    ...     acc.update(dataset[start:start + 4096])
    >>> result = acc.result()
    """

    def __init__(self, states, beta=1.0, *, coupling=1.0, compute_mean=True, dtype=None):
        states = as_float_array(states, "states", ndim=2, dtype=dtype)
        self.dtype = states.dtype
        self.n_states, self.n_features = states.shape
        self.beta = as_beta(beta, "beta", size=self.n_states)
        self.coupling = as_float(coupling, "coupling")
        if not isinstance(compute_mean, (bool, np.bool_)):
            raise TypeError(f"compute_mean must be True or False, got {compute_mean!r}")
        self.compute_mean = bool(compute_mean)
        self._scaled = np.empty_like(states)
        _scale_states(states, self.beta, self.coupling, self._scaled)
        self._running_max = np.full(self.n_states, -np.inf)
        self._s0 = np.zeros(self.n_states)
        self._s2 = np.zeros(self.n_states)
        self._argmax = np.full(self.n_states, -1, dtype=np.int64)
        rows = self.n_states if self.compute_mean else 0
        self._mean_acc = np.zeros((rows, self.n_features), dtype=self.dtype)
        self._product = np.empty((rows, self.n_features), dtype=self.dtype)
        self._block = np.empty(0, dtype=self.dtype)
        self.n_seen = 0

    def update(self, patterns, offsets=None):
        """Fold a chunk of patterns (m x d) and their offsets (m,) into the sums.

        Returns ``self``. Raises ``ValueError`` on a dimension mismatch, NaN
        or inf, before touching the running sums.
        """
        patterns = as_float_array(patterns, "patterns", ndim=2, dtype=self.dtype)
        check_same(patterns.shape[1], self.n_features, "patterns", "states", "number of columns (d)")
        self._fold(patterns, _as_offsets(offsets, patterns.shape[0]))
        return self

    def _fold(self, patterns, offsets):
        """Fold an already validated chunk (C-contiguous rows, float64 offsets)."""
        n_chunk = patterns.shape[0]
        if self._block.shape[0] < self.n_states * n_chunk:
            self._block = np.empty(self.n_states * n_chunk, dtype=self.dtype)
        gibbs_chunk_update(
            self._scaled, self.beta, patterns, offsets, self.n_seen, self._block, self._product,
            self._running_max, self._s0, self._s2, self._argmax, self._mean_acc,
        )
        self.n_seen += n_chunk

    def result(self) -> GibbsAverage:
        """The Gibbs averages over every pattern seen so far."""
        if self.n_seen == 0:
            raise ValueError("no patterns were given to the accumulator (call update first)")
        log_z = np.empty(self.n_states)
        participation = np.empty(self.n_states)
        mean = np.empty((self._mean_acc.shape[0], self.n_features), dtype=self.dtype)
        gibbs_finalize(self._running_max, self._s0, self._s2, self._mean_acc, log_z, participation, mean)
        if not np.all(np.isfinite(log_z)):
            bad = int(np.flatnonzero(~np.isfinite(log_z))[0])
            raise FloatingPointError(
                f"the log-weights beta*(c*x.a + b) of state {bad} overflow the "
                f"{self.dtype} range (log Z = {log_z[bad]}); rescale the states or patterns"
            )
        return GibbsAverage(
            log_z=log_z,
            mean=mean if self.compute_mean else None,
            participation=participation,
            argmax=self._argmax.copy(),
        )


def _as_offsets(offsets, n_patterns: int) -> np.ndarray:
    if offsets is None:
        return np.zeros(n_patterns)
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
    if chunk_size is None:
        chunk_size = default_chunk_size(states.shape[0], n_patterns)
    chunk_size = as_int(chunk_size, "chunk_size", minimum=1)
    accumulator = GibbsAccumulator(states, beta, coupling=coupling, compute_mean=compute_mean)
    for start in range(0, n_patterns, chunk_size):
        stop = min(start + chunk_size, n_patterns)
        accumulator._fold(patterns[start:stop], offsets[start:stop])
    return accumulator.result()


__all__ = [
    "GibbsAverage",
    "GibbsAccumulator",
    "gibbs_average",
    "gibbs_chunk_update",
    "gibbs_finalize",
    "gibbs_reset",
    "default_chunk_size",
    "DEFAULT_BLOCK_ENTRIES",
]
