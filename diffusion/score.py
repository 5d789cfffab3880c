"""Exact empirical score and the posterior over the training set, in one Gibbs pass.

PHYSICS.md §2–3. For data ``a_1..a_n`` in R^d and a process with
``(s, Delta)`` at time ``t``, the noised empirical law is
``P_t^e(x) = (1/n) sum_mu N(x; s a_mu, Delta I)``. With the energies
``E_mu(x) = s^2 |a_mu|^2 / 2 - s x.a_mu`` (``= (|x - s a_mu|^2 - |x|^2)/2``)
and ``beta = 1/Delta`` the posterior over the data is the Boltzmann law
``w_mu = exp(-beta E_mu) / Z`` and

- denoiser ``<a>_x = sum_mu w_mu a_mu``;
- score ``grad log P_t^e(x) = (s <a>_x - x) / Delta``;
- ``log P_t^e(x) = log sum_mu e^{-beta E_mu} - |x|^2/(2 Delta) - log n - (d/2) log(2 pi Delta)``;
- free energy ``F = -beta^-1 log Z_n``, ``Z_n = (1/n) sum_mu e^{-beta E_mu}``
  (Ambrogioni eq. 17), so ``-grad F = s <a>_x`` (the denoiser itself for VE,
  where ``s = 1``: Ambrogioni eq. 18);
- regularised free energy ``F~ = F + |x|^2/2`` (Ambrogioni eq. 24), with
  ``score = -beta grad F~`` for every process (Ambrogioni eq. 23);
- participation ratio ``sum_mu w_mu^2``;
- nearest data point ``argmin_mu |x - s a_mu| = argmax_mu w_mu``
  (dynamical-regimes eq. 12).

All of them come from one chunked pass of :func:`statmech.gibbs.gibbs_average`
(coupling ``s``, offsets ``-s^2 |a_mu|^2 / 2``, inverse temperature
``1/Delta``): the B x n weights never exist at once.

Closed-form population scores for validation: two deltas at ``±1`` in 1-D
and an isotropic Gaussian ``N(mu, v I)``; the two Gaussians ``N(±m, sigma^2
I)`` (the ``tanh`` / ``Gamma_t`` form) are in :mod:`diffusion.gm_theory`
and still importable from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from statmech.gibbs import gibbs_average
from statmech._validation import as_float, as_float_array, check_same

from diffusion.gm_theory import _as_centre, two_gaussians_log_density, two_gaussians_score
from diffusion.processes import as_process

__all__ = [
    "EmpiricalPosterior",
    "empirical_posterior",
    "empirical_score",
    "log_density",
    "two_deltas_score",
    "two_gaussians_score",
    "isotropic_gaussian_score",
    "two_gaussians_log_density",
]


@dataclass(frozen=True)
class EmpiricalPosterior:
    """Everything the posterior over the training set gives at states ``x``, time ``t``.

    Attributes
    ----------
    score : ndarray (B, d)
        ``grad_x log P_t^e(x) = (s <a>_x - x)/Delta``.
    denoiser : ndarray (B, d)
        Posterior mean ``<a>_x``.
    log_density : ndarray (B,)
        ``log P_t^e(x)``.
    free_energy : ndarray (B,)
        ``F = -Delta log((1/n) sum_mu exp((s x.a_mu - s^2|a_mu|^2/2)/Delta))``.
    free_energy_reg : ndarray (B,)
        ``F~ = F + |x|^2/2``.
    participation : ndarray (B,)
        ``sum_mu w_mu^2`` in ``[1/n, 1]``.
    nearest : ndarray of int64 (B,)
        ``argmin_mu |x - s a_mu|``.
    t, s, delta, beta : float
        The time and its coefficients (``beta = 1/Delta``).
    """

    score: np.ndarray
    denoiser: np.ndarray
    log_density: np.ndarray
    free_energy: np.ndarray
    free_energy_reg: np.ndarray
    participation: np.ndarray
    nearest: np.ndarray
    t: float
    s: float
    delta: float
    beta: float


def _check_data_states(data, x, dtype):
    data = as_float_array(data, "data", ndim=2, dtype=dtype)
    x = as_float_array(x, "x", ndim=2, dtype=dtype)
    check_same(data.shape[1], x.shape[1], "data", "x", "number of columns (d)")
    if dtype is None and data.dtype != x.dtype:
        data, x = data.astype(np.float64), x.astype(np.float64)
    return data, x


def empirical_posterior(data, x, t, process=None, *, chunk_size=None,
                        dtype=None) -> EmpiricalPosterior:
    """Exact empirical score, denoiser, ``log P_t^e``, ``F``, ``F~``, participation, nearest point.

    The posterior over the training set at time ``t`` (PHYSICS.md §2–3,
    dynamical-regimes eq. 2 and 12, Ambrogioni eq. 17–24), in one chunked
    pass of the shared Gibbs kernel.

    Parameters
    ----------
    data : array_like, shape (n, d)
        Training points ``a_mu``, finite.
    x : array_like, shape (B, d)
        States, finite.
    t : float
        Forward time, ``> 0``.
    process : Process, optional
        Default: OU with ``T = 1``.
    chunk_size : int, optional
        Data rows per chunk (default: about 2^21 weights in memory). The
        result does not depend on it beyond round-off.
    dtype : {None, float64, float32}
        Working precision of the matrix products (default: float32 only if
        both inputs are float32). Sums and logs stay float64.

    Returns
    -------
    EmpiricalPosterior
    """
    process = as_process(process)
    data, x = _check_data_states(data, x, dtype)
    t = as_float(t, "t", positive=True)
    n, d = data.shape
    s = float(process.s(t))
    delta = float(process.delta(t))
    if not delta > 0:
        raise ValueError(f"Delta(t) underflows to 0 at t={t}; use a larger t")
    sqnorm = np.einsum("ij,ij->i", data, data, dtype=np.float64)
    offsets = -0.5 * s * s * sqnorm
    g = gibbs_average(data, x, 1.0 / delta, coupling=s, offsets=offsets, chunk_size=chunk_size,
                      dtype=dtype)
    x64 = x.astype(np.float64, copy=False)
    xsq = np.einsum("ij,ij->i", x64, x64)
    log_zn = g.log_z - math.log(n)
    free = -delta * log_zn
    denoiser = g.mean
    score = (s * denoiser.astype(np.float64) - x64) / delta
    log_p = log_zn - xsq / (2.0 * delta) - 0.5 * d * math.log(2.0 * math.pi * delta)
    return EmpiricalPosterior(
        score=score.astype(x.dtype, copy=False),
        denoiser=denoiser,
        log_density=log_p,
        free_energy=free,
        free_energy_reg=free + 0.5 * xsq,
        participation=g.participation,
        nearest=g.argmax,
        t=t,
        s=s,
        delta=delta,
        beta=1.0 / delta,
    )


def empirical_score(data, x, t, process=None, *, chunk_size=None, dtype=None) -> np.ndarray:
    """The exact empirical score ``grad log P_t^e(x) = (s <a>_x - x)/Delta`` (PHYSICS.md §2).

    Shorthand for ``empirical_posterior(...).score``.

    Parameters
    ----------
    data : array_like, shape (n, d)
    x : array_like, shape (B, d)
    t : float
        Forward time ``> 0``.
    process : Process, optional
        Default OU with ``T = 1``.
    chunk_size : int, optional
    dtype : {None, float64, float32}
        As in :func:`empirical_posterior`.

    Returns
    -------
    ndarray, shape (B, d)
    """
    return empirical_posterior(data, x, t, process, chunk_size=chunk_size, dtype=dtype).score


def log_density(data, x, t, process=None, *, chunk_size=None, dtype=None) -> np.ndarray:
    """``log P_t^e(x)`` of the noised data law (PHYSICS.md §2).

    Shorthand for ``empirical_posterior(...).log_density``.

    Parameters
    ----------
    data : array_like, shape (n, d)
    x : array_like, shape (B, d)
    t : float
        Forward time ``> 0``.
    process : Process, optional
        Default OU with ``T = 1``.
    chunk_size : int, optional
    dtype : {None, float64, float32}
        As in :func:`empirical_posterior`.

    Returns
    -------
    ndarray, shape (B,)
    """
    return empirical_posterior(data, x, t, process, chunk_size=chunk_size, dtype=dtype).log_density


# --------------------------------------------------------------------------
# Closed-form population scores (validation).
# --------------------------------------------------------------------------


def two_deltas_score(x, t, process=None) -> np.ndarray:
    """Score of two deltas at ``±1`` in 1-D: ``(s tanh(s x / Delta) - x) / Delta``.

    ``P_t = (N(x; s, Delta) + N(x; -s, Delta))/2`` (PHYSICS.md §2, Ambrogioni
    §3.1).

    Parameters
    ----------
    x : float or array_like
        Positions (each entry a 1-D state).
    t : float
        Forward time ``> 0``.
    process : Process, optional
        Default OU with ``T = 1``.

    Returns
    -------
    ndarray
        Same shape as ``x``.
    """
    process = as_process(process)
    x = as_float_array(x, "x", ndim=None, dtype=np.float64, contiguous=False)
    t = as_float(t, "t", positive=True)
    s, delta = float(process.s(t)), float(process.delta(t))
    return (s * np.tanh(s * x / delta) - x) / delta


def isotropic_gaussian_score(x, t, mean, variance, process=None) -> np.ndarray:
    """Population score of ``N(mu, v I)`` noised to time ``t``: ``-(x - s mu) / (Delta + s^2 v)``.

    The noised law is ``N(s mu, (Delta + s^2 v) I)`` (PHYSICS.md §1–2).

    Parameters
    ----------
    x : array_like, shape (B, d)
    t : float
        Forward time ``> 0``.
    mean : array_like, shape (d,)
        ``mu``.
    variance : float
        ``v >= 0``.
    process : Process, optional
        Default OU with ``T = 1``.

    Returns
    -------
    ndarray, shape (B, d)
    """
    process = as_process(process)
    x = as_float_array(x, "x", ndim=2, dtype=np.float64)
    mean = _as_centre(mean, x.shape[1], "mean")
    variance = as_float(variance, "variance", nonnegative=True)
    t = as_float(t, "t", positive=True)
    s, delta = float(process.s(t)), float(process.delta(t))
    return -(x - s * mean[None, :]) / (delta + s * s * variance)
