"""Collapse: the excess entropy ``f^e(t)`` by Monte Carlo, ``t_C``, and the Gaussian-mixture theory.

PHYSICS.md §5 (dynamical-regimes eq. 5, 9, 10). The excess entropy density
``f(t) = s_sep(t) - s(t)``, ``s_sep = log(n)/d + 1/2 + 1/2 log(2 pi Delta_t)``,
is estimated on the training set as ``f^e(t) = s_sep - s^e(t)`` with
``s^e = -(1/d) E_{x ~ P_t^e} log P_t^e(x)``. For ``x = s a_nu + sqrt(Delta) z``
(``nu`` uniform, ``z ~ N(0, I)``), ``log P_t^e(x) = logsumexp_mu l_mu - log n -
(d/2) log(2 pi Delta)`` with ``l_mu = -|x - s a_mu|^2/(2 Delta)``, so

    f^e(t) = 1/2 + (1/d) E[logsumexp_mu l_mu] = (1/d) E[v],
    v = logsumexp_mu (l_mu - l_nu) = log(1 + sum_{mu != nu} e^{l_mu - l_nu}) >= 0,

using ``l_nu = -|z|^2/2`` and ``E|z|^2 = d`` (an exact control variate: the
``|z|^2`` fluctuation, of variance ``2d``, drops out). ``f^e >= 0`` always; it
vanishes for ``t < t_C`` where ``P_t^e`` splits into separate lumps.

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

Gaussian-mixture theory: ``t_C = 1/2 log(1 + sigma^2/(n^{2/d} - 1))``
(eq. 10) and ``f(t) = alpha + 1/2 log(Delta_t/(Delta_t + sigma^2 e^{-2t}))``,
clamped at 0 (the curve of the authors' code), both ``n, d -> infinity``
at fixed ``alpha``. At finite size, :func:`gm_excess_entropy_finite` gives
the exact expectation of the estimator without a data set (a reduction to
three dimensions, derived here), so simulation and theory are compared
size for size; its finite-size scaling shows the median criterion reaching
eq. 10 like ``1/d`` and the level criterion like ``d^{-1/2}`` (tests).
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
    as_seed_sequence,
)

from diffusion.processes import Process, ou_process

__all__ = [
    "ExcessEntropy",
    "CollapseTime",
    "excess_entropy",
    "collapse_time",
    "gm_collapse_time",
    "gm_excess_entropy",
    "draw_collapse_samples",
    "gm_excess_entropy_annealed",
    "gm_excess_entropy_finite",
]

# Above this shift the single-pass sum could underflow; use a max pass.
_SHIFT_LIMIT = 600.0
# Samples per matrix product [A_nu; Z] A^T in excess_entropy (fewer for huge n,
# to bound memory). OpenBLAS's value for a row depends on the shape of the
# product the row is part of (SkylakeX kernels, its small-matrix path), so the
# samples are multiplied in fixed groups numbered from the first sample: each
# row always meets the same product, whatever block_rows, and the result
# depends on the seed alone. 128 samples (256 rows) keep the product at full
# BLAS speed; smaller groups pay for packing the data once per product.
_PRODUCT_SAMPLES = 128
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
    return max(1, min(_PRODUCT_SAMPLES, (1 << 22) // max(n, 1)))


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
    (drawn block by block, which gives the same numbers). For tests and
    references that must use the same draws.
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
        a whole number of overlap products (128 samples each, fewer when
        ``n > 32768``). The result does not depend on it: the products
        always group the same samples.
    keep_samples : bool
        Keep the ``(M, T)`` per-sample values (for the bootstrap of ``t_C``).

    Returns
    -------
    ExcessEntropy
    """
    process = ou_process() if process is None else process
    if not isinstance(process, Process):
        raise TypeError(f"process must be a Process, got {type(process).__name__}")
    data = as_float_array(data, "data", ndim=2, dtype=np.float64)
    times = as_float_array(times, "times", ndim=1, dtype=np.float64, allow_empty=True)
    if times.shape[0] == 0:
        raise ValueError("times must not be empty")
    if (times <= 0).any():
        raise ValueError(f"times must be > 0, got {times[times <= 0][0]}")
    n, d = data.shape
    n_samples = as_int(n_samples, "n_samples", minimum=2)
    if block_rows is None:
        # About 2 x 2^23 overlaps (128 MiB): each block's products cost the next
        # kernel ~0.1 s of OpenBLAS spinning, so fewer blocks (5, not 10, at
        # n = 20000) were measured 15 % faster; larger ones lose it again to page faults.
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


def gm_collapse_time(n, d, sigma=1.0) -> float:
    """Gaussian-mixture collapse time ``t_C = 1/2 log(1 + sigma^2/(n^{2/d} - 1))`` (eq. 10).

    OU time.
    """
    n = as_int(n, "n", minimum=2)
    d = as_int(d, "d", minimum=1)
    sigma = as_float(sigma, "sigma", nonnegative=True)
    return 0.5 * math.log1p(sigma**2 / math.expm1(2.0 * math.log(n) / d))


def gm_excess_entropy(t, n, d, sigma=1.0, *, clamp=True):
    """Gaussian-mixture theory ``f(t) = alpha + 1/2 log(Delta_t/(Delta_t + sigma^2 e^{-2t}))``.

    OU time, ``alpha = log(n)/d``; clamped at 0 below ``t_C`` (the curve of
    the dynamical-regimes code; ``f^e`` vanishes there). Its root is
    :func:`gm_collapse_time`.
    """
    t = as_float_array(t, "t", ndim=None, dtype=np.float64, contiguous=False)
    if (t <= 0).any():
        raise ValueError(f"t must be > 0, got {t[t <= 0].ravel()[0]}")
    n = as_int(n, "n", minimum=2)
    d = as_int(d, "d", minimum=1)
    sigma = as_float(sigma, "sigma", nonnegative=True)
    delta = -np.expm1(-2.0 * t)
    f = math.log(n) / d + 0.5 * np.log(delta / (delta + sigma**2 * np.exp(-2.0 * t)))
    if clamp:
        f = np.maximum(f, 0.0)
    return float(f) if f.ndim == 0 else f


def gm_excess_entropy_annealed(t, n, d, mu_tilde=1.0, sigma=1.0, *, n_samples=20000, seed=0,
                               block=2000):
    """Finite-``n`` Gaussian-mixture prediction of ``f^e(t)`` (annealed over the other points).

    *Derived here, not in the seed papers; checked against the Monte Carlo
    ``f^e`` by the tests (it agrees above ``t_C``).* Write
    ``f^e = (1/d) E log(1 + Z'/Z_1)`` with ``Z_1 = e^{-|z|^2/2}`` the own
    point and ``Z' = sum_{mu != nu} e^{-|x - s a_mu|^2/(2 Delta)}``. Replacing
    ``Z'`` by its mean over the ``n - 1`` other points (valid while that sum
    is self-averaging, the liquid phase of its random energy model, i.e.
    ``t > t_C``) gives, per sample ``x = s a + sqrt(Delta) z``,

        log(Z'/Z_1) = log(n - 1) + (d/2) log(Delta/Gamma)
                      - (|x|^2 + s^2 |m|^2)/(2 Gamma) + log cosh(s m.x/Gamma) + |z|^2/2,

    ``Gamma = Delta + sigma^2 s^2``. Its mean is ``d f(t) - log 2`` (well
    separated classes) and its spread ``~ sqrt(d (1 - Delta/Gamma))``, which
    is ``sqrt(2 log n)`` at ``t_C``: that spread is what rounds ``f^e`` off
    near ``t_C`` at any ``d`` for fixed ``n``. Below ``t_C`` the annealed
    value overestimates ``f^e`` (Jensen). OU time.

    Returns
    -------
    f, f_se : ndarrays like ``t``
        ``(1/d) E softplus(log(Z'/Z_1))`` and its Monte Carlo standard error.
    """
    t_arr = as_float_array(t, "t", ndim=None, dtype=np.float64, contiguous=False)
    if (t_arr <= 0).any():
        raise ValueError(f"t must be > 0, got {t_arr[t_arr <= 0].ravel()[0]}")
    n = as_int(n, "n", minimum=2)
    d = as_int(d, "d", minimum=1)
    mu_tilde = as_float(mu_tilde, "mu_tilde", nonnegative=True)
    sigma = as_float(sigma, "sigma", nonnegative=True)
    n_samples = as_int(n_samples, "n_samples", minimum=2)
    block = as_int(block, "block", minimum=1)
    flat = t_arr.ravel()
    f = np.empty(flat.shape[0])
    f_se = np.empty(flat.shape[0])
    m = np.full(d, mu_tilde)
    for k, tk in enumerate(flat):
        rng = as_generator(np.random.SeedSequence(as_int(seed, "seed", minimum=0), spawn_key=(k,)))
        s = math.exp(-tk)
        delta = -math.expm1(-2.0 * tk)
        gamma = delta + sigma**2 * s * s
        values = np.empty(n_samples)
        for start in range(0, n_samples, block):
            size = min(block, n_samples - start)
            sign = np.where(rng.random(size) < 0.5, 1.0, -1.0)
            a = sign[:, None] * m[None, :] + sigma * rng.standard_normal((size, d))
            z = rng.standard_normal((size, d))
            x = s * a + math.sqrt(delta) * z
            u = np.abs(s * (x @ m) / gamma)
            log_cosh = u + np.log1p(np.exp(-2.0 * u)) - math.log(2.0)
            log_ratio = (math.log(n - 1) + 0.5 * d * math.log(delta / gamma)
                         - (np.einsum("ij,ij->i", x, x) + s * s * (m @ m)) / (2.0 * gamma)
                         + log_cosh + 0.5 * np.einsum("ij,ij->i", z, z))
            values[start:start + size] = np.logaddexp(0.0, log_ratio) / d
        f[k] = values.mean()
        f_se[k] = values.std(ddof=1) / math.sqrt(n_samples)
    return f.reshape(t_arr.shape), f_se.reshape(t_arr.shape)


# --------------------------------------------------------------------------
# Exact finite-(n, d) Gaussian-mixture prediction of f^e, by dimensional reduction.
# --------------------------------------------------------------------------


@pkernel
def _finite_size_curves(own, features, s, delta, sigma, m_norm, out):
    """``out[i, k] = log(1 + sum_mu exp(u_mu))`` from the projected coordinates.

    ``own[i] = (g1, g2, z1, z2, z3, |z|^2)``; ``features[i]`` holds, per other
    point, ``h.g``, ``h.z``, ``|h|^2``, ``c`` (1 for the other class, else 0)
    and ``c eta1`` in the basis of :func:`gm_excess_entropy_finite`. With
    ``b = s sigma g + sqrt(Delta) z``, ``u_mu = |z|^2/2 - |x - s a_mu|^2/(2 Delta)``
    and

        |x - s a_mu|^2 = |b|^2 - 2 s sigma (s sigma h.g + sqrt(Delta) h.z)
                         + s^2 sigma^2 |h|^2 + c (4 s |m| b1 + 4 s^2 |m|^2 - 4 s^2 sigma |m| eta1),

    a linear form in the features (one vectorised pass per time). The sum
    is shifted by ``u_mu <= |z|^2/2`` (or by a max pass when that exceeds
    the underflow limit, as in :func:`excess_entropy`). Rows are independent
    (``prange``).
    """
    n_rows = own.shape[0]
    n_others = features.shape[2]
    n_times = s.shape[0]
    for i in prange(n_rows):
        g1, g2, z1, z2, z3, zsq = own[i, 0], own[i, 1], own[i, 2], own[i, 3], own[i, 4], own[i, 5]
        h_g = features[i, 0]
        h_z = features[i, 1]
        h_sq = features[i, 2]
        far = features[i, 3]
        far_eta = features[i, 4]
        bound = 0.5 * zsq
        for k in range(n_times):
            scale = s[k] * sigma
            root = math.sqrt(delta[k])
            inv = 0.5 / delta[k]
            b1 = scale * g1 + root * z1
            b2 = scale * g2 + root * z2
            b3 = root * z3
            c0 = bound - inv * (b1 * b1 + b2 * b2 + b3 * b3)
            c_g = 2.0 * inv * scale * scale
            c_z = 2.0 * inv * scale * root
            c_sq = -inv * scale * scale
            c_far = -inv * (4.0 * s[k] * m_norm * b1 + 4.0 * s[k] * s[k] * m_norm * m_norm)
            c_eta = 4.0 * inv * scale * s[k] * m_norm
            shift = bound
            if bound > _SHIFT_LIMIT:
                shift = 0.0  # the own point's term, u_nu = 0
                for mu in range(n_others):
                    value = (c0 + c_g * h_g[mu] + c_z * h_z[mu] + c_sq * h_sq[mu]
                             + c_far * far[mu] + c_eta * far_eta[mu])
                    if value > shift:
                        shift = value
            base = c0 - shift
            total = exp_nonpositive(-shift)
            for mu in range(n_others):
                total += exp_nonpositive(base + c_g * h_g[mu] + c_z * h_z[mu] + c_sq * h_sq[mu]
                                         + c_far * far[mu] + c_eta * far_eta[mu])
            out[i, k] = shift + math.log(total)


def gm_excess_entropy_finite(t, n, d, mu_tilde=1.0, sigma=1.0, *, n_samples=2000, seed=0,
                             block_entries=1 << 21) -> ExcessEntropy:
    """Exact finite-``(n, d)`` Gaussian-mixture prediction of ``f^e(t)``, without a data set.

    *Derived here, not in the seed papers.* The Monte Carlo estimator of
    :func:`excess_entropy` is ``f^e = (1/d) E log(1 + sum_{mu != nu} e^{u_mu})``,
    ``u_mu = |z|^2/2 - |x - s a_mu|^2/(2 Delta)``, ``x = s a_nu + sqrt(Delta) z``.
    Averaged over data sets of :func:`diffusion.datasets.gaussian_mixture`
    (``a = c m + sigma h``, fair independent signs ``c``, ``h ~ N(0, I_d)``),
    every ``u_mu`` depends on ``d``-vectors only through their components in
    the 3-D space spanned by ``m``, ``g`` (own noise, ``a_nu = m + sigma g``)
    and ``z``, plus ``|h_mu|^2``. In the basis ``e1 = m/|m|``, ``e2`` along
    the part of ``g`` orthogonal to ``m``, ``e3`` along the rest of ``z``,
    the exact joint law is

        g = (g1, sqrt(chi2_{d-1}), 0),    z = (z1, z2, sqrt(chi2_{d-2})),
        h_mu = (eta1, eta2, eta3) + orthogonal part, |h_mu|^2 = |eta|^2 + chi2_{d-3},

    with all ``g1, z1, z2, eta`` standard normal, all variables independent.
    With ``b = s sigma g + sqrt(Delta) z`` (plus ``2 s m`` for a point of the
    other class),

        |x - s a_mu|^2 = |b|^2 - 2 s sigma h_mu.b + s^2 sigma^2 |h_mu|^2,

    so each sample costs ``O(n)`` scalar draws and ``O(n)`` work per time,
    with no ``d``-dimensional vector. This is the quenched value (each sample
    has its own ``n - 1`` other points), exact at any ``n`` and ``d``: it
    keeps the finite-``n`` rounding near ``t_C`` and the condensation of the
    sum over the other points below ``t_C`` (the random energy model of
    those points freezes at the ``t_C`` of eq. 10, which is why the
    annealed curve of :func:`gm_excess_entropy_annealed` fails there). The
    draws are shared by all times, as in :func:`excess_entropy`, so
    :func:`collapse_time` applies to the result unchanged and gives the
    finite-size prediction of the estimated ``t_C``. OU time.

    Parameters
    ----------
    t : array_like (T,)
        Times ``> 0``.
    n : int, ``>= 2``
        Training points.
    d : int, ``>= 4``
        Dimension (the reduction needs ``chi2_{d-3}``).
    mu_tilde : float, ``>= 0``
        ``|m|^2 = mu~^2 d``.
    sigma : float, ``> 0``
        Class standard deviation.
    n_samples : int, ``>= 2``
        Monte Carlo samples.
    seed : int or SeedSequence
        Sample ``i`` draws from ``SeedSequence(entropy, spawn_key + (i,))``,
        so the result does not depend on ``block_entries`` or threads.
    block_entries : int
        Memory bound: samples are processed in blocks of about
        ``block_entries / (5 n)`` (each holds ``5 (n - 1)`` numbers).

    Returns
    -------
    ExcessEntropy
        ``n``, ``d``, ``alpha = log(n)/d`` and ``per_sample`` as for a
        simulated data set.
    """
    times = as_float_array(t, "t", ndim=1, dtype=np.float64, allow_empty=True)
    if times.shape[0] == 0:
        raise ValueError("t must not be empty")
    if (times <= 0).any():
        raise ValueError(f"t must be > 0, got {times[times <= 0][0]}")
    n = as_int(n, "n", minimum=2)
    d = as_int(d, "d", minimum=4)
    mu_tilde = as_float(mu_tilde, "mu_tilde", nonnegative=True)
    sigma = as_float(sigma, "sigma", positive=True)
    n_samples = as_int(n_samples, "n_samples", minimum=2)
    block_entries = as_int(block_entries, "block_entries", minimum=1)
    root = as_seed_sequence(seed)
    s = np.exp(-times)
    delta = -np.expm1(-2.0 * times)
    others_count = n - 1
    block = max(1, min(n_samples, block_entries // (5 * others_count)))
    values = np.empty((n_samples, times.shape[0]))
    own = np.empty((block, 6))
    features = np.empty((block, 5, others_count))
    for start in range(0, n_samples, block):
        rows = min(block, n_samples - start)
        for r in range(rows):
            rng = np.random.default_rng(
                np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + (start + r,)))
            g1, z1, z2 = rng.standard_normal(3)
            g2 = math.sqrt(rng.chisquare(d - 1))
            z3 = math.sqrt(rng.chisquare(d - 2))
            own[r] = (g1, g2, z1, z2, z3, z1 * z1 + z2 * z2 + z3 * z3)
            eta = rng.standard_normal((3, others_count))
            h_g, h_z, h_sq, far, far_eta = features[r]
            np.multiply(eta[0], g1, out=h_g)
            h_g += g2 * eta[1]
            np.multiply(eta[0], z1, out=h_z)
            h_z += z2 * eta[1]
            h_z += z3 * eta[2]
            np.einsum("ij,ij->j", eta, eta, out=h_sq)
            h_sq += rng.chisquare(d - 3, others_count)
            np.less(rng.random(others_count), 0.5, out=far)
            np.multiply(far, eta[0], out=far_eta)
        _finite_size_curves(own[:rows], features[:rows], s, delta, sigma,
                            mu_tilde * math.sqrt(d), values[start:start + rows])
    per = values / d
    return ExcessEntropy(times=times.copy(), f=per.mean(axis=0),
                         f_se=per.std(axis=0, ddof=1) / math.sqrt(n_samples),
                         alpha=math.log(n) / d, per_sample=per, n=n, d=d, n_samples=n_samples,
                         seed_entropy=root.entropy, spawn_key=tuple(root.spawn_key))
