"""The EDM time discretisation (Karras, Aittala, Aila and Laine 2022, eq. 5), for any process.

EDM writes every process as ``x = s(t) (a + sigma(t) z)``, so its noise level
is ``sigma(t) = sqrt(Delta(t)) / s(t)`` (PHYSICS.md §1): ``sigma^2 = sigma_VE^2 t``
for VE (``sigma^2 = t`` at ``sigma_VE = 1``, the process of PHYSICS.md §8) and
``sigma^2 = T (e^{2t} - 1)`` for OU. Its grid is uniform in ``sigma^{1/rho}``:

    sigma_i = (sigma_max^{1/rho} + i/K (sigma_min^{1/rho} - sigma_max^{1/rho}))^rho,  i = 0..K,

with ``rho = 7``, mapped back to times; EDM then takes a last step to
``sigma = 0`` whose output is the denoiser ``D(x, t_min)`` (the samplers'
final step to ``t = 0``). Steps are short at small ``sigma``, where the
score is stiff.
"""

from __future__ import annotations

import numpy as np

from statmech._validation import as_float, as_float_array, as_int

from diffusion.processes import as_process

__all__ = ["noise_level", "time_at_noise_level", "edm_times", "EDM_RHO"]

#: Karras et al.'s exponent.
EDM_RHO = 7.0


def noise_level(t, process=None):
    """EDM noise level ``sigma(t) = sqrt(Delta(t)) / s(t)`` (module docstring), for ``t >= 0``."""
    process = as_process(process)
    t = as_float_array(t, "t", ndim=None, dtype=np.float64, contiguous=False)
    if (t < 0).any():
        raise ValueError(f"t must be >= 0, got {t[t < 0].ravel()[0]}")
    out = np.sqrt(np.asarray(process.delta(t))) / np.asarray(process.s(t))
    return float(out) if np.ndim(out) == 0 else out


def time_at_noise_level(sigma, process=None):
    """Inverse of :func:`noise_level`: ``t = sigma^2 / sigma_VE^2`` (VE), ``1/2 log1p(sigma^2 / T)`` (OU-type)."""
    process = as_process(process)
    sigma = as_float_array(sigma, "sigma", ndim=None, dtype=np.float64, contiguous=False)
    if (sigma < 0).any():
        raise ValueError(f"sigma must be >= 0, got {sigma[sigma < 0].ravel()[0]}")
    if process.code == 1:
        out = sigma**2 / process.sigma**2
    else:
        out = 0.5 * np.log1p(sigma**2 / process.temperature)
    return float(out) if np.ndim(out) == 0 else out


def edm_times(t_min, t_end, n_steps, process=None, *, rho=EDM_RHO) -> np.ndarray:
    """Decreasing grid ``t_end = t_0 > ... > t_K = t_min`` uniform in ``sigma(t)^{1/rho}``.

    Karras et al. 2022, eq. 5 (module docstring); the end points are exact.

    Parameters
    ----------
    t_min, t_end : float
        ``0 < t_min < t_end``.
    n_steps : int
        ``K >= 1``.
    process : Process, optional
        Default OU, ``T = 1``.
    rho : float
        ``> 0``; 7 in EDM, 1 gives a grid uniform in ``sigma``.

    Returns
    -------
    ndarray, shape (K+1,), strictly decreasing.
    """
    process = as_process(process)
    t_min = as_float(t_min, "t_min", positive=True)
    t_end = as_float(t_end, "t_end", positive=True)
    if not t_min < t_end:
        raise ValueError(f"t_min must be < t_end, got t_min={t_min} and t_end={t_end}")
    n_steps = as_int(n_steps, "n_steps", minimum=1)
    rho = as_float(rho, "rho", positive=True)
    lo = noise_level(t_min, process) ** (1.0 / rho)
    hi = noise_level(t_end, process) ** (1.0 / rho)
    sigma = (hi + np.arange(n_steps + 1) / n_steps * (lo - hi)) ** rho
    times = np.asarray(time_at_noise_level(sigma, process), dtype=np.float64)
    times[0], times[-1] = t_end, t_min
    if not (np.diff(times) < 0).all():
        raise ValueError(
            f"the EDM grid from t_end={t_end} to t_min={t_min} in {n_steps} steps repeats a time "
            "(too many steps for the float range of sigma); use fewer steps")
    return times

