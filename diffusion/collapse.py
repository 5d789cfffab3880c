"""Collapse: the excess entropy ``f^e(t)`` by Monte Carlo, and ``t_C``.

PHYSICS.md §5 (dynamical-regimes eq. 5, 9, 10). The excess entropy density
``f(t) = s_sep(t) - s(t)``, ``s_sep = log(n)/d + 1/2 + 1/2 log(2 pi Delta_t)``,
is estimated on the training set as ``f^e(t) = s_sep - s^e(t)`` with
``s^e = -(1/d) E_{x ~ P_t^e} log P_t^e(x)``. For ``x = s a_nu + sqrt(Delta) z``
(``nu`` uniform, ``z ~ N(0, I)``), ``log P_t^e(x) = logsumexp_mu l_mu - log n -
(d/2) log(2 pi Delta)`` with ``l_mu = -|x - s a_mu|^2/(2 Delta)``, so

    f^e(t) = 1/2 + (1/d) E[logsumexp_mu l_mu] = (1/d) E[v],
    v = logsumexp_mu (l_mu - l_nu) = log(1 + sum_{mu != nu} e^{l_mu - l_nu}) >= 0,

using ``l_nu = -|z|^2/2`` and ``E|z|^2 = d`` (an exact control variate: the
``|z|^2`` fluctuation, of variance ``2d``, drops out). ``f^e >= 0``; it
vanishes for ``t < t_C`` where ``P_t^e`` splits into separate lumps. In
floating point ``v = shift + log(sum)`` (next paragraphs) is a difference
of two numbers of order ``|z|^2/2``, so a per-sample ``v`` can come out
below 0 by a few ulps of ``|z|^2`` (measured: ``-1.9e-15`` at ``d = 16``,
``-1.8e-14`` in larger runs) where the own point takes all the weight;
the values are left as computed, not clipped, so that they stay equal to
the per-time reference to round-off.

Common random numbers. ``(nu, z)`` are drawn once for all times. With
``G = A_nu A^T`` and ``H = Z A^T`` (one product ``[A_nu; Z] A^T`` per block
of samples),

    l_mu - l_nu = (s^2/(2 Delta)) (2 G_mu - |a_mu|^2 - |a_nu|^2)
                  + (s/sqrt(Delta)) (H_mu - z.a_nu),

so each time costs an ``O(M n)`` combination and a log-sum-exp, not a new
``M x n x d`` product. Each sample's ``v(t)`` is exactly what the per-time
reference (draw ``x``, squared distances to all data, ``scipy`` logsumexp)
gives on the same draws: tested to 1e-12. The curve is smooth in ``t``
because the noise is shared, which also makes its root well defined.

Shift: ``l_mu - l_nu <= |z|^2/2`` (maximise the quadratic in
``|a_mu - a_nu|``), so the sum is shifted by ``|z|^2/2`` and every exponent
is ``<= 0`` (no overflow, one pass). When ``|z|^2/2`` exceeds 600 (``d``
above ~1200) a separate max pass is made instead, to avoid underflow.

``t_C`` (:func:`collapse_time`): the largest grid-interpolated time where
the per-sample median of ``v`` falls to ``log 2`` (the generating point
holds half the posterior weight), or where the mean ``f^e`` falls to
``level * alpha``; bootstrap (over samples) standard errors.

The Gaussian-mixture theory these are compared with (``t_C`` of eq. 10,
``f(t)``, and the exact finite-size expectation of this estimator) lives in
:mod:`diffusion.gm_theory`; its ``gm_*`` functions are still
importable from here. Its finite-size scaling shows the median criterion
reaching eq. 10 like ``1/d`` and the level criterion like ``d^{-1/2}`` (tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import prange

from statmech._fastexp import exp_nonpositive
from statmech._numba import kernel, pkernel
from statmech._validation import (
    as_float,
    as_float_array,
    as_generator,
    as_int,
    as_positive_array,
    as_seed_sequence,
)

from diffusion.processes import as_process

__all__ = [
    "ExcessEntropy",
    "CollapseTime",
    "excess_entropy",
    "collapse_time",
    "draw_collapse_samples",
]

#: Names that moved to :mod:`diffusion.gm_theory` (imported from there on first use).
_MOVED = ("gm_collapse_time", "gm_excess_entropy", "gm_excess_entropy_annealed",
          "gm_excess_entropy_finite", "_finite_size_curves")


def __getattr__(name):
    if name in _MOVED:
        from diffusion import gm_theory

        return getattr(gm_theory, name)
    raise AttributeError(f"module 'diffusion.collapse' has no attribute {name!r}")

# Above this shift the single-pass sum could underflow; use a max pass.
_SHIFT_LIMIT = 600.0
# Samples per matrix product [A_nu; Z] A^T in excess_entropy (fewer for huge n,
# to bound memory). OpenBLAS's value for a row depends on the shape of the
# product the row is part of (SkylakeX kernels, its small-matrix path), so the
# samples are multiplied in fixed groups numbered from the first sample: each
# row always meets the same product, whatever block_rows, and the result
# depends on the seed alone. 256 samples (512 rows) keep the product near full
# BLAS speed (each product packs the data once: ~4 % more than the 838-row
# products of one block at n = 20000); smaller groups pay more for packing.
_PRODUCT_SAMPLES = 256
# Pruning in _excess_curves: chunks of _CHUNK data points whose terms are all
# below e^_PRUNE / n relative to the mu = nu term are skipped.
_CHUNK = 64
_PRUNE = -40.0


@dataclass(frozen=True)
class ExcessEntropy:
    """Monte Carlo excess entropy density ``f^e(t)``.

    Attributes
    ----------
    times : ndarray (T,)
        As given (any order).
    f : ndarray (T,)
        ``f^e(t)`` (nats per dimension).
    f_se : ndarray (T,)
        Standard error ``std(v)/(d sqrt(M))``.
    alpha : float
        ``log(n)/d``.
    per_sample : ndarray (M, T) or None
        ``v_i(t)/d`` for each sample (if ``keep_samples``): the bootstrap of
        :func:`collapse_time` resamples its rows.
    n, d, n_samples : int
    seed_entropy : int
    spawn_key : tuple
    """

    times: np.ndarray
    f: np.ndarray
    f_se: np.ndarray
    alpha: float
    per_sample: np.ndarray | None
    n: int
    d: int
    n_samples: int
    seed_entropy: int
    spawn_key: tuple


@dataclass(frozen=True)
class CollapseTime:
    """Largest time at which ``f^e`` (or its per-sample median) reaches a threshold.

    Attributes
    ----------
    t_c : float
        Estimate (linear interpolation between grid times).
    t_c_se : float
        Bootstrap standard error over samples (``0`` if no per-sample data).
    level : float
        Threshold: a fraction of ``alpha`` (``criterion="level"``) or
        ``log 2`` nats (``criterion="median"``).
    found : bool
        False if the curve never reaches the threshold on the grid (then
        ``t_c`` is the smallest grid time, a bound: ``t_C`` is below the grid).
    criterion : str
        ``"level"`` or ``"median"`` (see :func:`collapse_time`).
    """

    t_c: float
    t_c_se: float
    level: float
    found: bool
    criterion: str = "median"


@kernel
def _sum_exp_run(p, h, a, b, base):
    """``sum_j exp(a p_j + b h_j + base)``, every exponent ``<= 0``: the hot loop of ``_excess_curves``.

    A function of its own and called on slices: the index starts at 0, so
    Numba drops the per-element wraparound check and LLVM vectorises the
    loop with contiguous loads. Measured 20 % faster than the same loop
    written inline in the ``prange`` body.
    """
    total = 0.0
    for j in range(p.shape[0]):
        total += exp_nonpositive(a * p[j] + b * h[j] + base)
    return total


def _product_samples(n: int) -> int:
    """Samples per overlap product for ``n`` data points (see :data:`_PRODUCT_SAMPLES`)."""
    return max(1, min(_PRODUCT_SAMPLES, (1 << 23) // max(n, 1)))


@kernel
def _overlap_rows(i, group, n_rows):
    """Rows of sample ``i``'s ``G`` and ``H`` overlaps in a block multiplied in groups.

    Group ``g`` (samples ``g*group ..``, ``size`` of them) occupies rows
    ``2 g group ..`` of the block's overlaps: its ``size`` rows of ``G`` then
    its ``size`` rows of ``H``.
    """
    g = i // group
    size = min(group, n_rows - g * group)
    row_g = 2 * g * group + (i - g * group)
    return row_g, row_g + size


@pkernel
def _excess_curves(overlaps, group, n_rows, sqnorm, own_sqnorm, own_h, zsq, coef_a, coef_b, out):
    """``out[i, k] = log sum_mu exp(l_mu - l_nu)`` for each sample ``i`` and time ``k``.

    ``l_mu - l_nu = A_k (2 G_imu - |a_mu|^2 - |a_nu|^2) + B_k (H_imu - z_i.a_nu)``
    (module docstring). The ``G`` and ``H`` rows of sample ``i`` sit in
    ``overlaps`` as laid out by :func:`_overlap_rows` (products of ``group``
    samples). The ``G`` rows are overwritten with ``2 G - |a_mu|^2``,
    so the hot loop is two multiply-adds and an ``exp`` (vectorised).

    Pruning: the ``mu = nu`` term is ``e^0 = 1``, so a chunk of
    ``_CHUNK`` data points whose every term is below ``e^{-40}/n`` (checked
    with the chunk maxima of ``2 G - |a|^2`` and ``H``) changes the sum by
    less than ``e^{-40} ~ 4e-18`` relative and is skipped. Runs of kept
    chunks are summed in one loop. Rows are independent (``prange``) and the
    chunks are fixed: the result does not depend on the number of threads
    or on the block of samples.
    """
    n = overlaps.shape[1]
    n_times = coef_a.shape[0]
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    cut = _PRUNE - math.log(n)
    for i in prange(n_rows):
        row_g, row_h = _overlap_rows(i, group, n_rows)
        p = overlaps[row_g]
        h = overlaps[row_h]
        for mu in range(n):
            p[mu] = 2.0 * p[mu] - sqnorm[mu]
        p_max = np.empty(n_chunks)
        h_max = np.empty(n_chunks)
        h_min = np.empty(n_chunks)
        for c in range(n_chunks):
            p_max[c] = p[c * _CHUNK:(c + 1) * _CHUNK].max()
            h_max[c] = h[c * _CHUNK:(c + 1) * _CHUNK].max()
            h_min[c] = h[c * _CHUNK:(c + 1) * _CHUNK].min()
        bound = 0.5 * zsq[i]
        for k in range(n_times):
            a = coef_a[k]
            b = coef_b[k]
            const = -a * own_sqnorm[i] - b * own_h[i]
            if bound <= _SHIFT_LIMIT:
                shift = bound
            else:
                shift = -np.inf
                for mu in range(n):
                    shift = max(shift, a * p[mu] + b * h[mu] + const)
            base = const - shift
            low = cut - const  # chunk c is kept if its largest a p + b h reaches this
            total = 0.0
            c = 0
            while c < n_chunks:
                if a * p_max[c] + max(b * h_max[c], b * h_min[c]) < low:
                    c += 1
                    continue
                first = c
                c += 1
                while c < n_chunks and a * p_max[c] + max(b * h_max[c], b * h_min[c]) >= low:
                    c += 1
                total += _sum_exp_run(p[first * _CHUNK:c * _CHUNK], h[first * _CHUNK:c * _CHUNK],
                                      a, b, base)
            out[i, k] = shift + math.log(total)


def draw_collapse_samples(n, d, n_samples, seed):
    """The draws ``(nu, z)`` used by :func:`excess_entropy` for a given seed.

    ``nu = rng.integers(0, n, M)`` first, then ``z = rng.standard_normal((M, d))``
    (drawn group by group, which gives the same numbers). For tests and
    references that must use the same draws.

    Parameters
    ----------
    n, d : int
        Data points and dimension.
    n_samples : int
        ``M``.
    seed : int, SeedSequence or Generator

    Returns
    -------
    nu : ndarray of int64, shape (M,)
    z : ndarray, shape (M, d)
    """
    rng = as_generator(seed)
    nu = rng.integers(0, n, size=n_samples)
    z = rng.standard_normal((n_samples, d))
    return nu, z


def excess_entropy(data, times, process=None, *, n_samples=2000, seed=None, block_rows=None,
                   keep_samples=True) -> ExcessEntropy:
    """Excess entropy density ``f^e(t)`` of the training set, by Monte Carlo with standard errors.

    Dynamical-regimes eq. 5 and Methods (``f^e = s_sep - s^e``), PHYSICS.md
    §5; estimator and common random numbers in the module docstring.

    Parameters
    ----------
    data : array_like, shape (n, d)
    times : array_like, shape (T,)
        Times ``> 0`` (any order, no repeats needed).
    process : Process, optional (default OU)
    n_samples : int
        Monte Carlo samples ``M`` (shared by all times).
    seed : int, SeedSequence or None
    block_rows : int, optional
        Samples per block (memory ``2 x block x n`` overlaps), rounded up to
        a whole number of overlap products (256 samples each, fewer when
        ``n > 32768``). The result does not depend on it: the products
        always group the same samples.
    keep_samples : bool
        Keep the ``(M, T)`` per-sample values (for the bootstrap of ``t_C``).

    Returns
    -------
    ExcessEntropy
    """
    process = as_process(process)
    data = as_float_array(data, "data", ndim=2, dtype=np.float64)
    times = as_positive_array(times, "times", ndim=1)
    n, d = data.shape
    n_samples = as_int(n_samples, "n_samples", minimum=2)
    if block_rows is None:
        # About 2 x 2^23 overlaps (128 MiB, rounded up to whole products: 160 MiB
        # at n = 20000): each block's products cost the next kernel ~0.1 s of
        # OpenBLAS spinning, so fewer blocks (4-5, not 10, at n = 20000) were
        # measured 15 % faster; larger ones lose it again to page faults.
        block_rows = max(1, (1 << 23) // max(n, 1))
    block_rows = as_int(block_rows, "block_rows", minimum=1)
    group = _product_samples(n)
    block_rows = min(n_samples, -(-block_rows // group) * group)
    if not isinstance(keep_samples, (bool, np.bool_)):
        raise TypeError(f"keep_samples must be True or False, got {keep_samples!r}")
    root = as_seed_sequence(seed)
    rng = np.random.default_rng(root)

    s = np.asarray(process.s(times), dtype=np.float64).reshape(-1)
    delta = np.asarray(process.delta(times), dtype=np.float64).reshape(-1)
    if (delta <= 0).any():
        raise ValueError("Delta(t) underflows to 0 at some time; use larger times")
    coef_a = np.ascontiguousarray(s * s / (2.0 * delta))
    coef_b = np.ascontiguousarray(s / np.sqrt(delta))
    sqnorm = np.einsum("ij,ij->i", data, data)

    nu = rng.integers(0, n, size=n_samples)
    values = np.empty((n_samples, times.shape[0]))
    stacked = np.empty((2 * group, d))
    overlaps = np.empty((2 * block_rows, n))
    zsq = np.empty(block_rows)
    own_h = np.empty(block_rows)
    for start in range(0, n_samples, block_rows):
        m = min(block_rows, n_samples - start)
        # One product [A_nu; Z] A^T per group of samples; z is drawn group by
        # group, which continues the same stream (the same numbers as one draw).
        for first in range(0, m, group):
            size = min(group, m - first)
            own = nu[start + first:start + first + size]
            stacked[:size] = data[own]
            z = stacked[size:2 * size]
            rng.standard_normal(out=z)
            zsq[first:first + size] = np.einsum("ij,ij->i", z, z)
            rows = overlaps[2 * first:2 * (first + size)]
            np.dot(stacked[:2 * size], data.T, out=rows)
            own_h[first:first + size] = rows[size + np.arange(size), own]
        own = nu[start:start + m]
        _excess_curves(overlaps, group, m, sqnorm, sqnorm[own], own_h[:m], zsq[:m],
                       coef_a, coef_b, values[start:start + m])
    per = values / d
    f = per.mean(axis=0)
    f_se = per.std(axis=0, ddof=1) / math.sqrt(n_samples)
    return ExcessEntropy(times=times.copy(), f=f, f_se=f_se, alpha=math.log(n) / d,
                         per_sample=per if keep_samples else None, n=n, d=d, n_samples=n_samples,
                         seed_entropy=root.entropy, spawn_key=tuple(root.spawn_key))


def _largest_crossing(times_sorted, f_sorted, level):
    """Largest time where ``f`` (times increasing) is at or below ``level``, interpolated."""
    below = f_sorted <= level
    if not below.any():
        return float(times_sorted[0]), False
    last = int(np.flatnonzero(below)[-1])
    if last == times_sorted.shape[0] - 1:
        return float(times_sorted[-1]), True
    f0, f1 = f_sorted[last], f_sorted[last + 1]
    t0, t1 = times_sorted[last], times_sorted[last + 1]
    frac = (level - f0) / (f1 - f0)
    return float(t0 + frac * (t1 - t0)), True


def collapse_time(result: ExcessEntropy, *, criterion="median", level=0.05, n_boot=500,
                  seed=0) -> CollapseTime:
    """Collapse time ``t_C`` from the Monte Carlo excess entropy, with a bootstrap error.

    Dynamical-regimes eq. 5: ``t_C`` is the largest root of ``f(t)``. At
    finite ``n`` the Monte Carlo ``f^e`` is ``>= 0`` and only tends to 0
    below ``t_C``, so a root must be defined. Two criteria:

    ``"median"`` (default)
        The largest time where the median over samples of ``d f^e_i =
        softplus(L_i)``, ``L = log(Z'/Z_nu)`` (module docstring), falls to
        ``log 2``, i.e. where the median of ``L`` crosses 0: the time below
        which the point that generated the sample holds at least half the
        posterior weight in at least half of the samples. The median of
        ``L`` is insensitive to its (nearly symmetric) spread, so this
        converges to eq. 10 like ``1/d`` at fixed ``alpha`` (finite-size
        scaling in the tests). The ``1/d`` shift is late: only the ``n/2``
        points of the own class compete (eq. 10 with ``n -> n/2``), and the
        sum over them is below its annealed value at ``t_C``. ``level`` is unused.
    ``"level"``
        The largest time where the mean ``f^e(t)`` falls to ``level *
        alpha`` (5 % of its large-``t`` value ``alpha = log(n)/d``). Simple,
        but biased early at finite ``n``: per sample ``f^e`` is ``(1/d)
        softplus(L)`` and ``L``
        spreads by about ``sqrt(2 log n)`` at ``t_C``, so the mean is rounded
        off over a time window that shrinks only like ``d^{-1/2}`` at fixed
        ``alpha``.

    Times are interpolated linearly between grid points. The standard error
    is a bootstrap over the Monte Carlo samples (rows of
    ``result.per_sample``), which keeps the correlation between times that
    the common random numbers create; the ``"median"`` criterion needs
    ``per_sample``.

    Parameters
    ----------
    result : ExcessEntropy
    criterion : {"level", "median"}
    level : float, ``> 0``
    n_boot : int, ``>= 0``
        Bootstrap resamples (``< 2``: no standard error).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    CollapseTime
    """
    if not isinstance(result, ExcessEntropy):
        raise TypeError(f"result must be an ExcessEntropy, got {type(result).__name__}")
    if criterion not in ("level", "median"):
        raise ValueError(f"criterion must be 'level' or 'median', got {criterion!r}")
    level = as_float(level, "level", positive=True)
    n_boot = as_int(n_boot, "n_boot", minimum=0)
    order = np.argsort(result.times)
    times = result.times[order]
    per = None if result.per_sample is None else result.per_sample[:, order]
    if criterion == "median":
        if per is None:
            raise ValueError("criterion='median' needs per-sample values; "
                             "run excess_entropy with keep_samples=True")
        threshold = math.log(2.0) / result.d

        def curve(rows):
            return np.median(rows, axis=0)
    else:
        threshold = level * result.alpha

        def curve(rows):
            return rows.mean(axis=0)
    t_c, found = _largest_crossing(times, curve(per) if per is not None else result.f[order],
                                   threshold)
    se = 0.0
    if per is not None and n_boot >= 2:
        rng = as_generator(seed)
        m = per.shape[0]
        boots = np.empty(n_boot)
        for b in range(n_boot):
            boots[b] = _largest_crossing(times, curve(per[rng.integers(0, m, size=m)]), threshold)[0]
        se = float(np.std(boots, ddof=1))
    return CollapseTime(t_c=t_c, t_c_se=se, level=level if criterion == "level" else math.log(2.0),
                        found=found, criterion=criterion)
