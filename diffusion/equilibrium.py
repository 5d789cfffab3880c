"""The equilibrium view: order parameter, pitchfork, susceptibility, exponents, landscapes.

Ambrogioni §3–6 (PHYSICS.md §3), VE process ``x_t = a + sigma sqrt(t) z``:

- two deltas at ``±1``: the magnetisation ``-dF/dx = tanh(x/(t sigma^2))``
  and the self-consistency ``m = tanh(m/(t sigma^2))`` (Ambrogioni eq. 27):
  a pitchfork at ``t_c = 1/sigma^2`` with Curie–Weiss exponents
  ``beta = 1/2``, ``gamma = 1`` (both sides), ``delta = 3``. Branches,
  susceptibility (implicit differentiation, ``chi = J/(1 - J)``) and the
  fitted exponents come from :mod:`statmech.meanfield`, with the control
  parameter ``T = t sigma^2``;
- four deltas at ``(±1, 0)``, ``(0, ±1)``: the regularised free energy
  ``F~(x, t) = F + |x|^2/2`` on a 2-D grid (Ambrogioni Fig. 3), from the
  exact posterior over the four points (:func:`diffusion.score.empirical_posterior`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from statmech import meanfield
from statmech._validation import as_float, as_float_array, as_int, as_positive_array

from diffusion.processes import ve_process
from diffusion.score import empirical_posterior

__all__ = [
    "Pitchfork",
    "two_deltas_magnetisation",
    "two_deltas_pitchfork",
    "FOUR_DELTAS",
    "Landscape",
    "four_deltas_landscape",
]

#: The four-deltas data of Ambrogioni Fig. 3.
FOUR_DELTAS = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])


def two_deltas_magnetisation(x, t, sigma=1.0):
    """Magnetisation (denoiser) of two deltas at ``±1``: ``-dF/dx = tanh(x/(t sigma^2))``.

    VE posterior over ``{-1, +1}`` (Ambrogioni eq. 12–13, 18).

    Parameters
    ----------
    x : float or array_like
        Positions.
    t : float
        VE time ``> 0``.
    sigma : float
        VE noise amplitude ``> 0``.

    Returns
    -------
    ndarray
        Like ``x``.
    """
    x = as_float_array(x, "x", ndim=None, dtype=np.float64, contiguous=False)
    t = as_float(t, "t", positive=True)
    sigma = as_float(sigma, "sigma", positive=True)
    return np.tanh(x / (t * sigma**2))


@dataclass(frozen=True)
class Pitchfork:
    """Branches of ``m = tanh(m/(t sigma^2))`` and the critical behaviour.

    Attributes
    ----------
    t : ndarray (P,)
        Diffusion times (VE), increasing.
    m : ndarray (n_branches, P)
        Order parameter on each branch (NaN where a branch is absent).
    exists, stable : ndarray of bool (n_branches, P)
    chi : ndarray (n_branches, P)
        Susceptibility ``dm/dh`` (implicit differentiation).
    t_c : float
        Critical time located from the branches (``1/sigma^2`` in theory).
    beta, gamma_minus, gamma_plus, delta : float
        Fitted exponents (theory 1/2, 1, 1, 3).
    beta_se, gamma_minus_se, gamma_plus_se, delta_se : float
        Their least-squares standard errors.
    sigma : float
    """

    t: np.ndarray
    m: np.ndarray
    exists: np.ndarray
    stable: np.ndarray
    chi: np.ndarray
    t_c: float
    beta: float
    gamma_minus: float
    gamma_plus: float
    delta: float
    beta_se: float
    gamma_minus_se: float
    gamma_plus_se: float
    delta_se: float
    sigma: float


def two_deltas_pitchfork(sigma=1.0, *, t_min=0.05, t_max=2.0, n_points=400) -> Pitchfork:
    """Pitchfork of ``m = tanh(m/(t sigma^2))``, two deltas (Ambrogioni eq. 27–30).

    Branches are followed by :func:`statmech.meanfield.follow_branches` on
    ``T = t sigma^2`` (seeds ``-1, 0, +1``); ``t_c`` is where the leading
    eigenvalue of ``dg/dm`` crosses 1 (:func:`statmech.meanfield.locate_critical_points`).
    Exponents are fitted by :func:`statmech.meanfield.critical_exponents`
    on a second grid refined around ``t_c`` (``|tau|`` in ``[1e-4, 1e-2]``),
    and ``delta`` from the critical isotherm ``m(h)`` at ``t_c``.

    Parameters
    ----------
    sigma : float, ``> 0``
    t_min, t_max : float
        Range of diffusion times, ``0 < t_min < 1/sigma^2 < t_max``.
    n_points : int
        Grid points of the branch plot.

    Returns
    -------
    Pitchfork
        Branches over ``t``, ``t_c`` (diffusion time) and the fitted exponents
        with standard errors.
    """
    sigma = as_float(sigma, "sigma", positive=True)
    t_min = as_float(t_min, "t_min", positive=True)
    t_max = as_float(t_max, "t_max", positive=True)
    n_points = as_int(n_points, "n_points", minimum=10)
    t_theory = 1.0 / sigma**2
    if not t_min < t_theory < t_max:
        raise ValueError(
            f"need t_min < 1/sigma^2 = {t_theory} < t_max, got t_min={t_min}, t_max={t_max}"
        )
    model = meanfield.curie_weiss()
    s2 = sigma**2
    t = np.linspace(t_min, t_max, n_points)
    # Followed from high to low temperature so the ordered branches are born at t_c.
    temps = (t * s2)[::-1]
    starts = np.array([[-1.0], [0.0], [1.0]])
    branches = meanfield.follow_branches(model.g, temps, starts, jac=model.jac)
    critical = meanfield.locate_critical_points(model.g, branches, jac=model.jac)
    if not critical:
        raise RuntimeError("no critical point found on the grid")
    T_c = critical[0].param
    m = branches.m[:, ::-1, 0]
    chi = branches.chi[:, ::-1, 0, 0]
    exists = branches.exists[:, ::-1]
    stable = branches.stable[:, ::-1]

    # Exponents on a grid refined around T_c.
    tau = np.geomspace(1e-5, 3e-2, 60)
    below = T_c * (1.0 - tau)
    above = T_c * (1.0 + tau)
    m_below = np.array([meanfield.solve(model.g, [1.0], T, jac=model.jac).m[0] for T in below])
    chi_below = np.array([meanfield.susceptibility(model.g, [mb], T, jac=model.jac)[0, 0]
                          for mb, T in zip(m_below, below)])
    chi_above = np.array([meanfield.susceptibility(model.g, [0.0], T, jac=model.jac)[0, 0]
                          for T in above])
    control = np.concatenate((below, above))
    m_all = np.concatenate((m_below, np.zeros_like(above)))
    chi_all = np.concatenate((chi_below, chi_above))
    fields = np.geomspace(1e-9, 1e-3, 30)
    m_field = np.array([meanfield.solve(model.g, [0.5], T_c, h=h, jac=model.jac).m[0]
                        for h in fields])
    exps = meanfield.critical_exponents(control, m_all, chi_all, T_c, field=fields,
                                        m_field=m_field, window=(1e-4, 1e-2),
                                        field_window=(1e-3, 1e-1))
    return Pitchfork(
        t=t, m=m, exists=exists, stable=stable, chi=chi, t_c=T_c / s2,
        beta=exps.beta.exponent, gamma_minus=exps.gamma_minus.exponent,
        gamma_plus=exps.gamma_plus.exponent, delta=exps.delta.exponent,
        beta_se=exps.beta.stderr, gamma_minus_se=exps.gamma_minus.stderr,
        gamma_plus_se=exps.gamma_plus.stderr, delta_se=exps.delta.stderr, sigma=sigma,
    )


@dataclass(frozen=True)
class Landscape:
    """Regularised free energy ``F~(x, t)`` on a 2-D grid.

    Attributes
    ----------
    t : ndarray (T,)
    x, y : ndarray (G,)
        Grid axes.
    free_energy_reg : ndarray (T, G, G)
        ``F~`` at ``(t, y, x)`` (rows are ``y``).
    points : ndarray (4, 2)
        The data.
    sigma : float
    """

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    free_energy_reg: np.ndarray
    points: np.ndarray
    sigma: float


def four_deltas_landscape(times, *, sigma=1.0, extent=2.0, n_grid=101) -> Landscape:
    """Regularised free energy ``F~ = F + |x|^2/2`` of four deltas at ``(±1,0)``, ``(0,±1)``.

    Ambrogioni eq. 17 and 24, Fig. 3 (VE, ``beta = 1/(t sigma^2)``):
    ``F = -t sigma^2 log((1/4) sum_j exp((x.y_j - |y_j|^2/2)/(t sigma^2)))``.
    At large ``t`` ``F~`` has one minimum; below the symmetry-breaking times
    it develops minima near the four points.

    Parameters
    ----------
    times : array_like (T,), ``> 0``
    sigma : float, ``> 0``
    extent : float
        The grid covers ``[-extent, extent]^2``.
    n_grid : int
        Points per axis.

    Returns
    -------
    Landscape
        ``F~`` on the grid at each time.
    """
    times = as_positive_array(times, "times", ndim=1)
    sigma = as_float(sigma, "sigma", positive=True)
    extent = as_float(extent, "extent", positive=True)
    n_grid = as_int(n_grid, "n_grid", minimum=2)
    axis = np.linspace(-extent, extent, n_grid)
    gx, gy = np.meshgrid(axis, axis)
    states = np.column_stack((gx.ravel(), gy.ravel()))
    process = ve_process(sigma)
    out = np.empty((times.shape[0], n_grid, n_grid))
    for k, t in enumerate(times):
        post = empirical_posterior(FOUR_DELTAS, states, float(t), process)
        out[k] = post.free_energy_reg.reshape(n_grid, n_grid)
    return Landscape(t=times.copy(), x=axis, y=axis.copy(), free_energy_reg=out,
                     points=FOUR_DELTAS.copy(), sigma=sigma)
