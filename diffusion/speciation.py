"""Speciation: top covariance eigenvalue, ``t_S``, Gaussian-mixture ``phi(t)``, the crossing.

PHYSICS.md §5 (dynamical-regimes eq. 4, 6–8, 11):

- ``Lambda``, the largest eigenvalue of the data covariance ``C_0``; by an
  iterative Lanczos solver (ARPACK through ``scipy.sparse.linalg.eigsh``)
  applied to the centred data as a linear operator, never forming the
  ``d x d`` covariance when ``d`` is large;
- ``t_S = 1/2 log Lambda`` (eq. 4, OU with ``T = 1``): the time where the
  principal-direction signal ``Lambda e^{-2t}`` of ``C(t) = C_0 e^{-2t} +
  Delta_t I`` (eq. 11) falls to the noise level. For general processes the
  same criterion ``s(t)^2 Lambda = T`` reads ``t_S = 1/2 log(Lambda/T)``
  (OU with temperature ``T``) and ``t_S = Lambda/sigma^2`` (VE: ``Lambda =
  Delta = sigma^2 t``);
- the two-Gaussian ``phi(t)``, the probability that two clones branched at
  ``t`` end in the same class, as the 1-D integral of eq. 6;
- the reduced potential ``V(q, t)`` of eq. 8;
- a finite-size estimate of ``t_S``: where simulated ``phi`` curves at
  several ``d`` cross, with a parametric-bootstrap uncertainty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from statmech._validation import as_float, as_float_array, as_generator, as_int

from diffusion.processes import Process, ou_process

__all__ = [
    "TopEigen",
    "top_eigenvalue",
    "speciation_time",
    "gm_phi",
    "gm_potential",
    "Crossing",
    "crossing_point",
    "DENSE_MAX_D",
]

#: Up to this dimension the covariance is formed and diagonalised densely.
DENSE_MAX_D = 512


@dataclass(frozen=True)
class TopEigen:
    """Largest eigenvalue of the data covariance.

    Attributes
    ----------
    value : float
        ``Lambda``.
    vector : ndarray (d,)
        Unit principal direction.
    method : str
        ``"dense"`` (``numpy.linalg.eigvalsh`` of the formed covariance) or
        ``"lanczos"`` (``eigsh`` on the centred data as a linear operator).
    ddof : int
    n, d : int
    """

    value: float
    vector: np.ndarray
    method: str
    ddof: int
    n: int
    d: int


def top_eigenvalue(data, *, ddof=1, method="auto", tol=1e-10, seed=0) -> TopEigen:
    """Largest eigenvalue ``Lambda`` of the data covariance ``C_0`` (dynamical-regimes eq. 4).

    ``C_0 = X_c^T X_c / (n - ddof)`` with ``X_c`` the centred data. For
    ``d > DENSE_MAX_D`` (or ``method="lanczos"``) the product ``v -> X_c^T
    (X_c v) / (n - ddof)`` is handed to ARPACK's Lanczos solver
    (``scipy.sparse.linalg.eigsh``) as a ``LinearOperator``: memory
    ``O(n d)`` (the centred copy), never ``d x d``.

    Parameters
    ----------
    data : array_like, shape (n, d), ``n >= 2``
    ddof : {0, 1}
        ``1`` (default): unbiased covariance; ``0``: covariance of the
        empirical law ``P_0^e``.
    method : {"auto", "dense", "lanczos"}
    tol : float
        Relative tolerance of the Lanczos solver.
    seed : int
        Seed of the Lanczos starting vector (the result does not depend on
        it beyond ``tol``).

    Returns
    -------
    TopEigen
    """
    data = as_float_array(data, "data", ndim=2, dtype=np.float64)
    n, d = data.shape
    if n < 2:
        raise ValueError(f"data must have at least 2 rows to form a covariance, got n={n}")
    ddof = as_int(ddof, "ddof", minimum=0, maximum=1)
    if method not in ("auto", "dense", "lanczos"):
        raise ValueError(f"method must be 'auto', 'dense' or 'lanczos', got {method!r}")
    tol = as_float(tol, "tol", positive=True)
    if method == "auto":
        method = "dense" if d <= DENSE_MAX_D else "lanczos"
    if method == "lanczos" and d < 3:
        method = "dense"  # ARPACK needs k < d
    centred = data - data.mean(axis=0)
    norm = 1.0 / (n - ddof)
    if method == "dense":
        cov = centred.T @ centred * norm
        values, vectors = np.linalg.eigh(cov)
        return TopEigen(value=float(values[-1]), vector=vectors[:, -1], method="dense", ddof=ddof,
                        n=n, d=d)

    def matvec(v):
        v = np.asarray(v, dtype=np.float64).reshape(-1)
        return centred.T @ (centred @ v) * norm

    op = LinearOperator((d, d), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(as_int(seed, "seed", minimum=0)).standard_normal(d)
    values, vectors = eigsh(op, k=1, which="LA", tol=tol, v0=v0)
    return TopEigen(value=float(values[0]), vector=vectors[:, 0], method="lanczos", ddof=ddof,
                    n=n, d=d)


def speciation_time(Lambda, process=None) -> float:
    """Speciation time from the top covariance eigenvalue: ``t_S = 1/2 log Lambda`` (eq. 4).

    The time where ``s(t)^2 Lambda`` equals the stationary noise level:
    ``1/2 log(Lambda / T)`` for OU/DDPM (``T = 1``: dynamical-regimes eq. 4),
    ``Lambda / sigma^2`` for VE. ``Lambda <= T`` gives ``t_S <= 0``: the data
    have no direction that stands out of the noise.
    """
    process = ou_process() if process is None else process
    if not isinstance(process, Process):
        raise TypeError(f"process must be a Process, got {type(process).__name__}")
    Lambda = as_float(Lambda, "Lambda", positive=True)
    if process.code == 0:
        return 0.5 * math.log(Lambda / process.temperature)
    return Lambda / process.sigma**2


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
    process = ou_process() if process is None else process
    mu_tilde = as_float(mu_tilde, "mu_tilde", nonnegative=True)
    sigma = as_float(sigma, "sigma", nonnegative=True)
    d = as_int(d, "d", minimum=1)
    t_arr = as_float_array(t, "t", ndim=None, dtype=np.float64, contiguous=False)
    if (t_arr <= 0).any():
        raise ValueError(f"t must be > 0, got {t_arr[t_arr <= 0].ravel()[0]}")
    kappa = np.atleast_1d(_gm_kappa(t_arr, mu_tilde, sigma, d, process)).ravel()
    out = 1.0 - 2.0 * _mean_r_one_minus_r(kappa)
    out = out.reshape(t_arr.shape)
    return float(out) if out.ndim == 0 else out


def gm_potential(q, t, mu_tilde=1.0, d=1):
    """Reduced potential ``V(q, t) = q^2/2 - 2 mu~^2 log cosh(q e^{-t} sqrt(d))`` (eq. 8)."""
    q = as_float_array(q, "q", ndim=None, dtype=np.float64, contiguous=False)
    t = as_float(t, "t", positive=True)
    mu_tilde = as_float(mu_tilde, "mu_tilde", nonnegative=True)
    d = as_int(d, "d", minimum=1)
    u = np.abs(q * math.exp(-t) * math.sqrt(d))
    log_cosh = u + np.log1p(np.exp(-2.0 * u)) - math.log(2.0)
    return 0.5 * q**2 - 2.0 * mu_tilde**2 * log_cosh


@dataclass(frozen=True)
class Crossing:
    """Where ``phi`` curves at increasing ``d`` cross (finite-size estimate of ``t_S``).

    Attributes
    ----------
    x : float
        Crossing abscissa (in the units of the grid, e.g. ``t/t_S``): mean
        over the pairs of consecutive curves.
    x_se : float
        Its parametric-bootstrap standard error.
    phi : float
        ``phi`` at the crossing (mean over pairs).
    pair_x : ndarray (D-1,)
        Crossing of each consecutive pair.
    n_boot : int
    """

    x: float
    x_se: float
    phi: float
    pair_x: np.ndarray
    n_boot: int


def _pair_crossing(x, lower, upper, band):
    """First sign change of ``upper - lower`` (larger minus smaller d), both inside ``band``."""
    diff = upper - lower
    inside = (np.minimum(lower, upper) > band[0]) & (np.maximum(lower, upper) < band[1])
    for i in range(x.shape[0] - 1):
        if not (inside[i] and inside[i + 1]):
            continue
        if diff[i] >= 0 > diff[i + 1] or diff[i] > 0 >= diff[i + 1]:
            frac = diff[i] / (diff[i] - diff[i + 1])
            xc = x[i] + frac * (x[i + 1] - x[i])
            pc = lower[i] + frac * (lower[i + 1] - lower[i])
            return xc, pc
    return math.nan, math.nan


def crossing_point(x, phi, phi_se, *, band=(0.55, 0.98), n_boot=2000, seed=0) -> Crossing:
    """Crossing of ``phi`` curves simulated at increasing ``d`` (finite-size ``t_S``).

    Following the dynamical-regimes paper (Fig. 2, finite-size scaling), the
    speciation time is where the curves for different ``d`` cross. Curves
    must be sampled on the same grid ``x`` (increasing, e.g. ``t/t_S``) and
    ordered by increasing ``d``; larger ``d`` is steeper, so ``phi_{d'} -
    phi_d`` (``d' > d``) goes from positive to negative. Only points where
    both curves lie in ``band`` are used (at the extremes all curves are 1
    or 1/2 and differ only by noise). Each consecutive pair is crossed by
    linear interpolation; the estimate is their mean, and its standard
    error comes from ``n_boot`` parametric resamples ``phi + phi_se N(0,1)``.

    Parameters
    ----------
    x : array_like (X,), increasing
    phi, phi_se : array_like (D, X), ``D >= 2``
    band : (float, float)
    n_boot : int
    seed : int

    Returns
    -------
    Crossing

    Raises
    ------
    ValueError
        If some pair of curves does not cross inside ``band``.
    """
    x = as_float_array(x, "x", ndim=1, dtype=np.float64)
    phi = as_float_array(phi, "phi", ndim=2, dtype=np.float64)
    phi_se = as_float_array(phi_se, "phi_se", ndim=2, dtype=np.float64)
    if phi.shape != phi_se.shape or phi.shape[1] != x.shape[0]:
        raise ValueError(
            f"phi and phi_se must have shape (D, {x.shape[0]}), got {phi.shape} and {phi_se.shape}"
        )
    if phi.shape[0] < 2:
        raise ValueError(f"need curves at >= 2 dimensions to cross, got {phi.shape[0]}")
    if not (np.diff(x) > 0).all():
        raise ValueError("x must be strictly increasing")
    if (phi_se < 0).any():
        raise ValueError("phi_se must be >= 0")
    n_boot = as_int(n_boot, "n_boot", minimum=2)
    pairs = [_pair_crossing(x, phi[i], phi[i + 1], band) for i in range(phi.shape[0] - 1)]
    pair_x = np.array([p[0] for p in pairs])
    if not np.isfinite(pair_x).all():
        bad = int(np.flatnonzero(~np.isfinite(pair_x))[0])
        raise ValueError(f"curves {bad} and {bad + 1} do not cross inside phi in {band}")
    rng = as_generator(seed)
    boot = np.empty(n_boot)
    for b in range(n_boot):
        sample = phi + phi_se * rng.standard_normal(phi.shape)
        xs = [_pair_crossing(x, sample[i], sample[i + 1], band)[0] for i in range(phi.shape[0] - 1)]
        boot[b] = np.mean(xs)
    boot = boot[np.isfinite(boot)]
    x_se = float(np.std(boot, ddof=1)) if boot.shape[0] > 1 else math.inf
    return Crossing(x=float(pair_x.mean()), x_se=x_se, phi=float(np.mean([p[1] for p in pairs])),
                    pair_x=pair_x, n_boot=int(boot.shape[0]))
