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
- a finite-size estimate of ``t_S``: where simulated ``phi`` curves at
  several ``d`` cross, with a parametric-bootstrap uncertainty.

The two-Gaussian theory (``phi(t)`` of eq. 6, the potential of eq. 8, the
mixture's ``t_S``) lives in :mod:`diffusion.gm_theory`; ``gm_phi``
and ``gm_potential`` are still importable from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from statmech._validation import as_float, as_float_array, as_generator, as_int

from diffusion.gm_theory import gm_phi, gm_potential
from diffusion.processes import as_process

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

    The time where the principal-direction signal ``s(t)^2 Lambda`` falls to
    the stationary noise level: ``1/2 log(Lambda / T)`` for OU/DDPM (``T =
    1``: dynamical-regimes eq. 4), ``Lambda / sigma^2`` for VE. For the
    two-Gaussian mixture see also
    :func:`diffusion.gm_theory.gm_speciation_time` (the ``kappa = 1``
    convention, ``1/d`` below this one).

    Parameters
    ----------
    Lambda : float
        Largest eigenvalue of the data covariance, ``> 0``
        (:func:`top_eigenvalue`); for OU it must exceed ``T``.
    process : Process, optional
        Default OU with ``T = 1``.

    Returns
    -------
    float
        ``t_S > 0`` in the process's time.

    Raises
    ------
    ValueError
        ``Lambda <= T`` for OU: no direction of the data stands out of the
        stationary noise, so there is no speciation (eq. 4 would give
        ``t_S <= 0``).
    """
    process = as_process(process)
    Lambda = as_float(Lambda, "Lambda", positive=True)
    if process.code == 0:
        if not Lambda > process.temperature:
            raise ValueError(
                f"Lambda must exceed the stationary variance T = {process.temperature!r} for a "
                f"speciation (eq. 4 would give t_S = 1/2 log(Lambda/T) <= 0), got {Lambda!r}"
            )
        return 0.5 * math.log(Lambda / process.temperature)
    return Lambda / process.sigma**2


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
