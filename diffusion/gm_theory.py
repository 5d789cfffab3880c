"""The two-Gaussian mixture: every closed form of the toolkit's reference model, in one place.

PHYSICS.md §2, §5 (dynamical-regimes paper, Methods and eq. 4–10). Data
``a = c m + sigma h`` with fair signs ``c = ±1``, ``|m|^2 = mu~^2 d`` and
``h ~ N(0, I_d)``: the law ``(N(m, sigma^2 I) + N(-m, sigma^2 I))/2``. Noised
by a process (``x_t = s a + sqrt(Delta) z``, :mod:`diffusion.processes`) it
stays a mixture, ``(N(s m, Gamma I) + N(-s m, Gamma I))/2`` with

    Gamma_t = Delta_t + sigma^2 s^2,    kappa_t = |m| s / sqrt(Gamma_t),

``kappa`` the separation of the two classes in units of their width.

- population score and density (:func:`two_gaussians_score`,
  :func:`two_gaussians_log_density`);
- speciation: the clone agreement ``phi(t)`` of eq. 6 (:func:`gm_phi`), the
  reduced potential of eq. 8 (:func:`gm_potential`) and the speciation
  time, where ``kappa = 1`` (:func:`gm_speciation_time`);
- collapse: ``t_C`` of eq. 10 (:func:`gm_collapse_time`), the excess
  entropy ``f(t)`` (:func:`gm_excess_entropy`), and two finite-size
  predictions of the Monte Carlo ``f^e``: annealed over the other points
  (:func:`gm_excess_entropy_annealed`) and exact, by a reduction to three
  dimensions (:func:`gm_excess_entropy_finite`).

The Monte Carlo estimators these are compared with live elsewhere
(:mod:`diffusion.collapse`, :mod:`diffusion.speciation`,
:mod:`diffusion.sampler`); their old import paths still give these functions.
``log cosh`` is :func:`statmech.lse.log_cosh`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from statmech._fastexp import exp_nonpositive
from statmech._numba import pkernel
from statmech._validation import (
    as_float,
    as_float_array,
    as_generator,
    as_int,
    as_positive_array,
    as_seed_sequence,
    check_same,
    child_seed,
)
from statmech.lse import log_cosh

from diffusion.collapse import _SHIFT_LIMIT, ExcessEntropy
from diffusion.processes import as_process

__all__ = [
    "two_gaussians_score",
    "two_gaussians_log_density",
    "gm_speciation_time",
    "gm_phi",
    "gm_potential",
    "gm_collapse_time",
    "gm_excess_entropy",
    "gm_excess_entropy_annealed",
    "gm_excess_entropy_finite",
]


def _as_centre(centre, d, name="centre"):
    """The class centre ``m`` as a float64 vector of length ``d``, or raise."""
    centre = as_float_array(centre, name, ndim=1, dtype=np.float64)
    check_same(centre.shape[0], d, name, "x", "dimension d")
    return centre


# --------------------------------------------------------------------------
# Population score and density.
# --------------------------------------------------------------------------


def _noised_mixture(x, t, centre, sigma, process):
    """Checked ``x`` (float64, (B, d)), the noised centre ``m_t = s m`` and width ``Gamma_t``."""
    process = as_process(process)
    x = as_float_array(x, "x", ndim=2, dtype=np.float64)
    centre = _as_centre(centre, x.shape[1])
    sigma = as_float(sigma, "sigma", nonnegative=True)
    t = as_float(t, "t", positive=True)
    s, delta = float(process.s(t)), float(process.delta(t))
    return x, s * centre, delta + sigma**2 * s**2


def two_gaussians_score(x, t, centre, sigma, process=None) -> np.ndarray:
    """Population score of ``(N(m, sigma^2 I) + N(-m, sigma^2 I))/2`` noised to time ``t``.

    ``score = (m_t tanh(m_t.x / Gamma_t) - x) / Gamma_t`` with ``m_t = s m``,
    ``Gamma_t = Delta_t + sigma^2 s^2`` (PHYSICS.md §2; dynamical-regimes
    Methods, two Gaussian clusters).

    Parameters
    ----------
    x : array_like, shape (B, d)
    t : float, ``> 0``
    centre : array_like, shape (d,)
        ``m`` (``|m|^2 = mu~^2 d`` in the paper).
    sigma : float, ``>= 0``
    process : Process, optional

    Returns
    -------
    ndarray, shape (B, d)
    """
    x, m_t, gamma = _noised_mixture(x, t, centre, sigma, process)
    return (np.tanh(x @ m_t / gamma)[:, None] * m_t[None, :] - x) / gamma


def two_gaussians_log_density(x, t, centre, sigma, process=None) -> np.ndarray:
    """``log P_t(x)`` of the two-Gaussian mixture at time ``t``.

    ``P_t = (N(s m, Gamma_t I) + N(-s m, Gamma_t I))/2`` (module docstring):
    ``log P_t = -(|x|^2 + s^2|m|^2)/(2 Gamma) + log cosh(s m.x/Gamma) - (d/2) log(2 pi Gamma)``.

    Parameters
    ----------
    x : array_like, shape (B, d)
    t : float, ``> 0``
    centre : array_like, shape (d,)
        ``m``.
    sigma : float, ``>= 0``
    process : Process, optional
        Default OU with ``T = 1``.

    Returns
    -------
    ndarray, shape (B,)
    """
    x, m_t, gamma = _noised_mixture(x, t, centre, sigma, process)
    d = x.shape[1]
    u = x @ m_t / gamma
    return (-(np.einsum("ij,ij->i", x, x) + m_t @ m_t) / (2.0 * gamma) + log_cosh(u)
            - 0.5 * d * math.log(2.0 * math.pi * gamma))


# --------------------------------------------------------------------------
# Speciation (dynamical-regimes eq. 4, 6, 8).
# --------------------------------------------------------------------------


def gm_speciation_time(d, mu_tilde=1.0, sigma=1.0, process=None) -> float:
    """Speciation time of the mixture: where the class separation ``kappa_t`` equals 1.

    ``kappa_t^2 = mu~^2 d s^2 / (Delta_t + sigma^2 s^2)`` (module docstring)
    falls through 1 at

    - OU with temperature ``T``: ``t_S = 1/2 log((mu~^2 d + T - sigma^2)/T)``;
    - VE (``Delta = sigma_VE^2 t``): ``t_S = (mu~^2 d - sigma^2)/sigma_VE^2``.

    This is the convention of the toolkit for the mixture: :func:`gm_phi`
    depends on ``t`` only through ``kappa_t``, so the curves of eq. 6 for
    every ``d`` cross exactly at ``t/t_S = 1``. At ``mu~ = sigma = T = 1``
    it is ``1/2 log d``, the scale of the papers' plots (dynamical-regimes
    Fig. 2). The covariance criterion of eq. 4, ``1/2 log Lambda`` with the
    top eigenvalue ``Lambda = mu~^2 d + sigma^2`` of the population
    covariance (:func:`diffusion.speciation.speciation_time`), is larger by
    ``1/2 log(1 + sigma^2/(mu~^2 d))``, a ``1/d`` difference (``1/2 log(d+1)``
    at ``mu~ = sigma = 1``).

    Parameters
    ----------
    d : int
        Dimension, ``>= 1``.
    mu_tilde : float
        ``|m| = mu~ sqrt(d)``, ``> 0``.
    sigma : float
        Class standard deviation, ``>= 0``.
    process : Process, optional
        Default OU with ``T = 1``.

    Returns
    -------
    float
        ``t_S`` in the process's time.

    Raises
    ------
    ValueError
        If ``kappa_t < 1`` at every time (``mu~^2 d <= sigma^2``): the
        classes never stand out of their own width.
    """
    process = as_process(process)
    d = as_int(d, "d", minimum=1)
    mu_tilde = as_float(mu_tilde, "mu_tilde", positive=True)
    sigma = as_float(sigma, "sigma", nonnegative=True)
    signal = mu_tilde**2 * d
    if not signal > sigma**2:
        raise ValueError(
            f"no speciation: the squared separation mu_tilde^2 d = {signal!r} must exceed "
            f"sigma^2 = {sigma**2!r} (kappa_t < 1 at every t)"
        )
    if process.code == 0:
        return 0.5 * math.log((signal + process.temperature - sigma**2) / process.temperature)
    return (signal - sigma**2) / process.sigma**2


def _gm_kappa(t, mu_tilde, sigma, d, process):
    s = np.asarray(process.s(t), dtype=np.float64)
    delta = np.asarray(process.delta(t), dtype=np.float64)
    gamma = delta + sigma**2 * s**2
    return mu_tilde * math.sqrt(d) * s / np.sqrt(gamma)


#: Gauss–Hermite (probabilists') nodes for E_z[f(z)], z ~ N(0, 1).
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(160)
_GH_WEIGHTS = _GH_WEIGHTS / math.sqrt(2.0 * math.pi)
_A_GRID = np.linspace(-60.0, 60.0, 6001)


def _sigmoid_prime(a):
    e = np.exp(-np.abs(a))
    return e / (1.0 + e) ** 2


def _mean_r_one_minus_r(kappa):
    """``E_z[r (1 - r)]``, ``r = sigmoid(2 kappa (kappa + z))``, ``z ~ N(0, 1)``, per kappa."""
    out = np.empty(kappa.shape[0])
    small = kappa < 1.0
    if small.any():
        k = kappa[small][:, None]
        out[small] = _sigmoid_prime(2.0 * k * (k + _GH_NODES[None, :])) @ _GH_WEIGHTS
    if (~small).any():
        k = kappa[~small][:, None]
        a = _A_GRID[None, :]
        z = a / (2.0 * k) - k
        dens = np.exp(-0.5 * z * z) / (math.sqrt(2.0 * math.pi) * 2.0 * k)
        out[~small] = np.trapezoid(_sigmoid_prime(a) * dens, _A_GRID, axis=1)
    return out


def gm_phi(t, mu_tilde=1.0, sigma=1.0, d=1, process=None):
    """Probability that two clones branched at ``t`` end in the same Gaussian class (eq. 6).

    Dynamical-regimes eq. 6:
    ``phi(t) = 1/2 ∫ dy (G_+^2 + G_-^2)/(G_+ + G_-)``, ``G_± = G(y; ±m e^{-t},
    Gamma_t)``, ``m = mu~ sqrt(d)``, ``Gamma_t = Delta_t + sigma^2 e^{-2t}``
    (``e^{-t} -> s(t)`` for other processes). With ``r = G_+/(G_+ + G_-)``
    the integrand is ``(G_+ + G_-)(r^2 + (1 - r)^2)``, so by symmetry
    ``phi = 1 - 2 E_z[r (1 - r)]`` with ``r = sigmoid(2 kappa (kappa + z))``,
    ``kappa = m s / sqrt(Gamma_t)`` and ``z ~ N(0, 1)``. For ``kappa < 1``
    the expectation is a 160-point Gauss–Hermite rule in ``z`` (``r(1 - r)``
    varies on the scale ``1/(2 kappa) > 1/2``); for ``kappa >= 1`` it is a
    trapezoid rule in ``a = 2 kappa (kappa + z)``, where ``r(1 - r) =
    sigmoid'(a)`` has unit width, on ``|a| <= 60`` with step 0.02 (the
    neglected tail is below ``e^{-60}``). Agreement with adaptive quadrature
    of the original form is tested to 1e-9.

    Parameters
    ----------
    t : float or array_like, ``> 0``
    mu_tilde : float, ``>= 0``
    sigma : float, ``>= 0``
    d : int, ``>= 1``
    process : Process, optional (default OU)

    Returns
    -------
    float or ndarray like ``t``; decreases from 1 (t -> 0) to 1/2.
    """
    process = as_process(process)
    mu_tilde = as_float(mu_tilde, "mu_tilde", nonnegative=True)
    sigma = as_float(sigma, "sigma", nonnegative=True)
    d = as_int(d, "d", minimum=1)
    t_arr = as_positive_array(t, "t", ndim=None, contiguous=False)
    kappa = np.atleast_1d(_gm_kappa(t_arr, mu_tilde, sigma, d, process)).ravel()
    out = 1.0 - 2.0 * _mean_r_one_minus_r(kappa)
    out = out.reshape(t_arr.shape)
    return float(out) if out.ndim == 0 else out


def gm_potential(q, t, mu_tilde=1.0, d=1):
    """Reduced potential ``V(q, t) = q^2/2 - 2 mu~^2 log cosh(q e^{-t} sqrt(d))`` (eq. 8).

    Dynamical-regimes eq. 8 (OU time): the effective potential of the
    projection ``q`` on the class direction; its double well appears at the
    speciation time.

    Parameters
    ----------
    q : float or array_like
    t : float, ``> 0``
    mu_tilde : float, ``>= 0``
    d : int, ``>= 1``

    Returns
    -------
    ndarray
        Same shape as ``q``.
    """
    q = as_float_array(q, "q", ndim=None, dtype=np.float64, contiguous=False)
    t = as_float(t, "t", positive=True)
    mu_tilde = as_float(mu_tilde, "mu_tilde", nonnegative=True)
    d = as_int(d, "d", minimum=1)
    u = np.abs(q * math.exp(-t) * math.sqrt(d))
    return 0.5 * q**2 - 2.0 * mu_tilde**2 * log_cosh(u)


# --------------------------------------------------------------------------
# Collapse (dynamical-regimes eq. 5, 9, 10) and finite-size predictions of f^e.
# --------------------------------------------------------------------------


def gm_collapse_time(n, d, sigma=1.0) -> float:
    """Gaussian-mixture collapse time ``t_C = 1/2 log(1 + sigma^2/(n^{2/d} - 1))`` (eq. 10).

    Dynamical-regimes eq. 10 (OU time, ``n, d -> infinity`` at fixed
    ``alpha = log(n)/d``): the root of :func:`gm_excess_entropy`.

    Parameters
    ----------
    n : int, ``>= 2``
        Training points.
    d : int, ``>= 1``
    sigma : float, ``>= 0``

    Returns
    -------
    float
    """
    n = as_int(n, "n", minimum=2)
    d = as_int(d, "d", minimum=1)
    sigma = as_float(sigma, "sigma", nonnegative=True)
    return 0.5 * math.log1p(sigma**2 / math.expm1(2.0 * math.log(n) / d))


def gm_excess_entropy(t, n, d, sigma=1.0, *, clamp=True):
    """Gaussian-mixture theory ``f(t) = alpha + 1/2 log(Delta_t/(Delta_t + sigma^2 e^{-2t}))``.

    Dynamical-regimes eq. 9 (OU time, ``alpha = log(n)/d``); clamped at 0
    below ``t_C`` (the curve of the dynamical-regimes code; ``f^e`` vanishes
    there). Its root is :func:`gm_collapse_time`.

    Parameters
    ----------
    t : float or array_like
        Times ``> 0``.
    n : int, ``>= 2``
    d : int, ``>= 1``
    sigma : float, ``>= 0``
    clamp : bool
        Clamp at 0.

    Returns
    -------
    float or ndarray
        Like ``t``.
    """
    t = as_positive_array(t, "t", ndim=None, contiguous=False)
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

    Parameters
    ----------
    t : float or array_like
        Times ``> 0``.
    n : int, ``>= 2``
    d : int, ``>= 1``
    mu_tilde : float, ``>= 0``
    sigma : float, ``>= 0``
    n_samples : int
        Monte Carlo samples per time.
    seed : int or SeedSequence
        Time ``k`` draws from child ``k`` of the seed.
    block : int
        Samples per vectorised block (memory only).

    Returns
    -------
    f, f_se : ndarrays like ``t``
        ``(1/d) E softplus(log(Z'/Z_1))`` and its Monte Carlo standard error.
    """
    t_arr = as_positive_array(t, "t", ndim=None, contiguous=False)
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
        rng = as_generator(child_seed(seed, k))
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
            log_ratio = (math.log(n - 1) + 0.5 * d * math.log(delta / gamma)
                         - (np.einsum("ij,ij->i", x, x) + s * s * (m @ m)) / (2.0 * gamma)
                         + log_cosh(u) + 0.5 * np.einsum("ij,ij->i", z, z))
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
    times = as_positive_array(t, "t", ndim=1)
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
            rng = np.random.default_rng(child_seed(root, start + r))
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
