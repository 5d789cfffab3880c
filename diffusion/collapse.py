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

``t_C``: the largest grid-interpolated time where ``f^e`` falls to
``level * alpha`` (default ``level = 0.05``, ``alpha = log(n)/d``), with a
bootstrap (over samples) standard error. Gaussian-mixture theory:
``t_C = 1/2 log(1 + sigma^2/(n^{2/d} - 1))`` (eq. 10) and
``f(t) = alpha + 1/2 log(Delta_t/(Delta_t + sigma^2 e^{-2t}))``, clamped at 0
(the curve of the authors' code).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import prange

from statmech._fastexp import exp_nonpositive
from statmech._numba import pkernel
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
]

# Above this shift the single-pass sum could underflow; use a max pass.
_SHIFT_LIMIT = 600.0


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
    """Largest time at which ``f^e`` reaches ``level * alpha``.

    Attributes
    ----------
    t_c : float
        Estimate (linear interpolation between grid times).
    t_c_se : float
        Bootstrap standard error over samples (``0`` if no per-sample data).
    level : float
        Threshold as a fraction of ``alpha``.
    found : bool
        False if ``f^e`` never reaches the level on the grid (then ``t_c``
        is the smallest grid time, a bound: ``t_C`` is below the grid).
    """

    t_c: float
    t_c_se: float
    level: float
    found: bool


@pkernel
def _excess_curves(overlaps_g, overlaps_h, sqnorm, own_sqnorm, own_h, zsq, coef_a, coef_b, out):
    """``out[i, k] = log sum_mu exp(l_mu - l_nu)`` for each sample ``i`` and time ``k``.

    ``l_mu - l_nu = A_k (2 G_imu - |a_mu|^2 - |a_nu|^2) + B_k (H_imu - z_i.a_nu)``
    (module docstring). Rows are independent (``prange``): the result does
    not depend on the number of threads.
    """
    n_rows, n = overlaps_g.shape
    n_times = coef_a.shape[0]
    for i in prange(n_rows):
        g = overlaps_g[i]
        h = overlaps_h[i]
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
                    value = a * (2.0 * g[mu] - sqnorm[mu]) + b * h[mu] + const
                    if value > shift:
                        shift = value
            total = 0.0
            base = const - shift
            for mu in range(n):
                total += exp_nonpositive(a * (2.0 * g[mu] - sqnorm[mu]) + b * h[mu] + base)
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
        Samples per block (memory ``2 x block x n`` overlaps); the result
        does not depend on it.
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
        block_rows = max(1, min(n_samples, (1 << 22) // max(n, 1)))
    block_rows = as_int(block_rows, "block_rows", minimum=1)
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
    stacked = np.empty((2 * block_rows, d))
    overlaps = np.empty((2 * block_rows, n))
    for start in range(0, n_samples, block_rows):
        m = min(block_rows, n_samples - start)
        stacked[:m] = data[nu[start:start + m]]
        rng.standard_normal(out=stacked[m:2 * m])
        np.dot(stacked[:2 * m], data.T, out=overlaps[:2 * m])
        own = nu[start:start + m]
        z = stacked[m:2 * m]
        zsq = np.einsum("ij,ij->i", z, z)
        own_h = overlaps[m + np.arange(m), own]
        _excess_curves(overlaps[:m], overlaps[m:2 * m], sqnorm, sqnorm[own], own_h, zsq,
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


def collapse_time(result: ExcessEntropy, *, level=0.05, n_boot=500, seed=0) -> CollapseTime:
    """Collapse time ``t_C``: the largest time where ``f^e(t)`` reaches ``level * alpha``.

    Dynamical-regimes eq. 5: ``t_C`` is the largest root of ``f(t)``. The
    Monte Carlo ``f^e`` is ``>= 0`` and only tends to 0 below ``t_C``, so the
    root is taken at a small threshold ``level * alpha`` (default 5 % of its
    large-``t`` value ``alpha``), by linear interpolation between grid
    times. The standard error is a bootstrap over the Monte Carlo samples
    (rows of ``result.per_sample``), which keeps the correlation between
    times that the common random numbers create.
    """
    if not isinstance(result, ExcessEntropy):
        raise TypeError(f"result must be an ExcessEntropy, got {type(result).__name__}")
    level = as_float(level, "level", positive=True)
    n_boot = as_int(n_boot, "n_boot", minimum=0)
    order = np.argsort(result.times)
    times = result.times[order]
    threshold = level * result.alpha
    t_c, found = _largest_crossing(times, result.f[order], threshold)
    se = 0.0
    if result.per_sample is not None and n_boot >= 2:
        rng = as_generator(seed)
        per = result.per_sample[:, order]
        m = per.shape[0]
        boots = np.empty(n_boot)
        for b in range(n_boot):
            rows = rng.integers(0, m, size=m)
            boots[b] = _largest_crossing(times, per[rows].mean(axis=0), threshold)[0]
        se = float(np.std(boots, ddof=1))
    return CollapseTime(t_c=t_c, t_c_se=se, level=level, found=found)


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
