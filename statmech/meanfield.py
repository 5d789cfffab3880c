"""Mean-field self-consistency: fixed points, branches, susceptibility, exponents.

The order parameter ``m`` (a vector in R^d) solves

    m = g(m + h, p),                                             (PHYSICS.md §3)

with ``g`` the mean-field map (for the diffusion posterior ``g = -grad F``,
the magnetisation/denoiser), ``h`` an external field and ``p`` a control
parameter (temperature, or diffusion time). Example: Curie–Weiss / two
deltas at ±1, ``g(x, T) = tanh(x / T)`` (``T = t sigma^2`` in the VE
diffusion), with ``T_c = 1`` and mean-field exponents beta = 1/2,
gamma = 1 (both sides), delta = 3.

Conventions
-----------
* ``g(x, p, *args)`` takes a float64 vector ``x`` of shape ``(d,)`` and
  returns ``(d,)``; ``jac(x, p, *args)`` returns ``dg_i/dx_j`` of shape
  ``(d, d)``. Plain Python/NumPy or jitted functions both work: the systems
  are small and this module is not a hot path (SciPy does the root finding).
* Without ``jac``, the Jacobian is taken by central differences with steps
  ``eps^(1/3) max(1, |x_j|)`` (relative error ~1e-10), or by the complex
  step ``Im g(x + i e_j 1e-30) / 1e-30`` (exact to round-off, but only valid
  if ``g`` is analytic and accepts complex input): ``jac="central"`` or
  ``jac="complex-step"``.
* A fixed point is *stable* when the spectral radius of ``J = dg(m + h)`` is
  below 1 (it attracts the iteration ``m <- g(m + h)``).
* Susceptibility by implicit differentiation at the fixed point:
  ``chi = dm/dh = (I - J)^{-1} J``. It diverges where ``J`` has the
  eigenvalue 1, which is how the critical point is located.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import optimize

from ._validation import as_float, as_float_array

__all__ = [
    "MeanFieldModel",
    "FixedPoint",
    "Branches",
    "CriticalPoint",
    "PowerLawFit",
    "CriticalExponents",
    "curie_weiss",
    "jacobian",
    "solve",
    "susceptibility",
    "follow_branches",
    "locate_critical_points",
    "fit_power_law",
    "critical_exponents",
    "OrderedDisordered",
    "ordered_and_disordered",
    "branch_exponents",
]

_CENTRAL_STEP = np.finfo(np.float64).eps ** (1.0 / 3.0)
_COMPLEX_STEP = 1e-30


# --------------------------------------------------------------------------
# Results.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MeanFieldModel:
    """A self-consistency map with its Jacobian and theory values.

    Attributes
    ----------
    g, jac : callable
        ``g(x, p)`` and ``dg/dx(x, p)``.
    name : str
    t_c : float
        Critical value of the control parameter.
    beta, gamma, delta : float
        Critical exponents predicted by theory.
    """

    g: Callable
    jac: Callable
    name: str
    t_c: float
    beta: float
    gamma: float
    delta: float


@dataclass(frozen=True)
class FixedPoint:
    """A solution of ``m = g(m + h, p)``.

    Attributes
    ----------
    m : ndarray, shape (d,)
    param : float
    h : ndarray, shape (d,)
    residual : float
        ``max |m - g(m + h, p)|``.
    jacobian : ndarray, shape (d, d)
        ``J = dg(m + h, p)``.
    spectral_radius : float
        Largest ``|eigenvalue|`` of ``J``.
    stable : bool
        ``spectral_radius < 1``.
    """

    m: np.ndarray
    param: float
    h: np.ndarray
    residual: float
    jacobian: np.ndarray
    spectral_radius: float
    stable: bool


@dataclass(frozen=True)
class Branches:
    """Fixed-point branches over a grid of the control parameter.

    A branch exists on a contiguous run of grid points; elsewhere its
    entries are NaN and ``exists`` is False (always test ``exists``).

    Attributes
    ----------
    params : ndarray, shape (P,)
        The control grid, in the order it was followed.
    m : ndarray, shape (n_branches, P, d)
        Order parameter along each branch.
    exists : ndarray of bool, shape (n_branches, P)
    stable : ndarray of bool, shape (n_branches, P)
        Spectral radius of ``J`` below 1 (False where the branch is absent).
    spectral_radius : ndarray, shape (n_branches, P)
    leading_eigenvalue : ndarray, shape (n_branches, P)
        Largest real part of the eigenvalues of ``J``; it crosses 1 at a
        critical point.
    chi : ndarray, shape (n_branches, P, d, d)
        Susceptibility ``(I - J)^{-1} J``; ``+inf`` where ``I - J`` is
        singular to working precision (a critical point on the grid).
    h : ndarray, shape (d,)
        The field.
    """

    params: np.ndarray
    m: np.ndarray
    exists: np.ndarray
    stable: np.ndarray
    spectral_radius: np.ndarray
    leading_eigenvalue: np.ndarray
    chi: np.ndarray
    h: np.ndarray

    @property
    def n_branches(self) -> int:
        return self.m.shape[0]


@dataclass(frozen=True)
class CriticalPoint:
    """Where the leading eigenvalue of ``J`` crosses 1 along a branch.

    Attributes
    ----------
    param : float
        Critical value (root of ``leading_eigenvalue - 1``, refined by
        Brent's method to ``xtol``).
    bracket : tuple of float
        The two grid values between which the crossing happened.
    branch : int
        Index of the branch in :class:`Branches`.
    branches_before, branches_after : int
        Number of branches at the two bracket ends (a pitchfork shows as a
        change in this count next to the crossing).
    """

    param: float
    bracket: tuple
    branch: int
    branches_before: int
    branches_after: int


@dataclass(frozen=True)
class PowerLawFit:
    """Least-squares fit of ``log|y| = log(amplitude) + exponent log(x)``.

    Attributes
    ----------
    exponent, stderr : float
        Slope and its ordinary least-squares standard error
        ``sqrt(s^2 / sum (log x - mean)^2)``, ``s^2`` the residual variance
        with ``n - 2`` degrees of freedom. For noise-free data the residuals
        are corrections to scaling, so the standard error measures the
        curvature within the window.
    amplitude : float
    window : tuple of float
        Inclusive range of ``x`` used.
    n_points : int
    """

    exponent: float
    stderr: float
    amplitude: float
    window: tuple
    n_points: int


@dataclass(frozen=True)
class CriticalExponents:
    """Critical exponents fitted near ``t_c``.

    With ``tau = (p - t_c)/|t_c|``: ``m ~ |tau|^beta`` on the ordered side,
    ``chi ~ |tau|^-gamma`` on each side, ``h ~ m^delta`` at ``t_c``.
    ``beta``, ``gamma_minus`` (ordered side), ``gamma_plus`` (disordered
    side) and ``delta`` are :class:`PowerLawFit` objects whose ``exponent``
    is the critical exponent itself (sign flipped for gamma).
    """

    t_c: float
    beta: PowerLawFit
    gamma_minus: PowerLawFit
    gamma_plus: PowerLawFit
    delta: PowerLawFit | None


# --------------------------------------------------------------------------
# Curie–Weiss.
# --------------------------------------------------------------------------


def _cw_temperature(T):
    if not T > 0:
        raise ValueError(f"T must be > 0 for Curie–Weiss, got {T!r}")


def _cw_g(x, T):
    _cw_temperature(T)
    return np.tanh(x / T)


def _cw_jac(x, T):
    _cw_temperature(T)
    s = 1.0 / np.cosh(x / T)
    return np.diag(s * s / T)


def curie_weiss() -> MeanFieldModel:
    """Curie–Weiss / two deltas at ±1: ``m = tanh((m + h)/T)`` componentwise.

    PHYSICS.md §3 (Ambrogioni §5): the VE posterior of two deltas at ±1 with
    ``T = t sigma^2``. Acts componentwise on any ``d`` (``d`` independent
    copies). Theory: ``T_c = 1``, ``beta = 1/2``, ``gamma = 1``,
    ``delta = 3``; ``chi = J/(1 - J)`` with ``J = sech^2(m/T)/T`` at
    ``h = 0``, so ``chi = 1/(T - 1)`` exactly above ``T_c``.

    Returns
    -------
    MeanFieldModel
        ``g``, its Jacobian and the theory values.
    """
    return MeanFieldModel(g=_cw_g, jac=_cw_jac, name="curie-weiss", t_c=1.0,
                          beta=0.5, gamma=1.0, delta=3.0)


# --------------------------------------------------------------------------
# Validation helpers.
# --------------------------------------------------------------------------


def _check_callable(g, name):
    if not callable(g):
        raise TypeError(f"{name} must be callable as {name}(x, p, *args), got {g!r}")


def _check_jac(jac):
    if jac is None:
        return "central"
    if isinstance(jac, str):
        if jac not in ("central", "complex-step"):
            raise ValueError(
                f"jac must be a callable, 'central' or 'complex-step', got {jac!r}"
            )
        return jac
    _check_callable(jac, "jac")
    return jac


def _check_args(args):
    if not isinstance(args, tuple):
        raise TypeError(f"args must be a tuple, got {type(args).__name__}")
    return args


def _check_h(h, d):
    if h is None:
        return np.zeros(d)
    if np.ndim(h) == 0:
        return np.full(d, as_float(h, "h"))
    arr = as_float_array(h, "h", ndim=1, dtype=np.float64)
    if arr.shape[0] != d:
        raise ValueError(f"h must be a scalar or have shape ({d},) like m, got {arr.shape}")
    return arr


def _call_g(g, x, p, args, d, name="g"):
    try:
        with np.errstate(all="ignore"):
            out = g(x, p, *args)
    except TypeError as exc:
        raise TypeError(
            f"{name} could not be called as {name}(x, p, *args) with x of shape {x.shape}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    out = np.asarray(out)
    if out.dtype.kind not in "biufc" or out.shape != (d,):
        raise ValueError(
            f"{name}(x, p) must return a real array of shape ({d},), got shape {out.shape} "
            f"and dtype {out.dtype}"
        )
    return out


def _param(p, name="param"):
    return as_float(p, name)


# --------------------------------------------------------------------------
# Jacobian, solver, susceptibility.
# --------------------------------------------------------------------------


def _jacobian(g, x, p, jac, args):
    d = x.shape[0]
    if callable(jac):
        try:
            J = np.asarray(jac(x, p, *args), dtype=np.float64)
        except Exception as exc:
            raise TypeError(f"jac could not be called as jac(x, p, *args): {exc}") from exc
        if J.shape != (d, d):
            raise ValueError(f"jac(x, p) must return shape ({d}, {d}), got {J.shape}")
        return J
    J = np.empty((d, d))
    if jac == "complex-step":
        xc = x.astype(np.complex128)
        for j in range(d):
            xc[j] += 1j * _COMPLEX_STEP
            J[:, j] = np.imag(np.asarray(g(xc, p, *args))) / _COMPLEX_STEP
            xc[j] = x[j]
        return J
    for j in range(d):
        step = _CENTRAL_STEP * max(1.0, abs(x[j]))
        xp = x.copy()
        xm = x.copy()
        xp[j] += step
        xm[j] -= step
        # (x + step) - (x - step) is the step actually taken.
        J[:, j] = (np.asarray(g(xp, p, *args), dtype=np.float64)
                   - np.asarray(g(xm, p, *args), dtype=np.float64)) / (xp[j] - xm[j])
    return J


def jacobian(g, x, param, *, jac=None, args: tuple = ()) -> np.ndarray:
    """Jacobian ``dg_i/dx_j`` of the mean-field map at ``x``.

    Parameters
    ----------
    g : callable
        ``g(x, p, *args) -> (d,)``.
    x : array_like, shape (d,)
    param : float
    jac : callable, "central" or "complex-step", optional
        Analytic Jacobian, or the finite-difference scheme (default central,
        steps ``eps^(1/3) max(1, |x_j|)``; complex step needs an analytic
        ``g`` that accepts complex input).
    args : tuple
        Extra arguments of ``g`` and ``jac``.

    Returns
    -------
    ndarray, shape (d, d)
    """
    _check_callable(g, "g")
    jac = _check_jac(jac)
    args = _check_args(args)
    x = as_float_array(x, "x", ndim=1, dtype=np.float64)
    p = _param(param)
    _call_g(g, x, p, args, x.shape[0])
    J = _jacobian(g, x, p, jac, args)
    if not np.isfinite(J).all():
        raise ValueError(f"the Jacobian of g at x={x.tolist()} is not finite")
    return J


def _eig_summary(J):
    ev = np.linalg.eigvals(J)
    return float(np.max(np.abs(ev))), float(np.max(ev.real))


def _chi_from_jacobian(J):
    d = J.shape[0]
    A = np.eye(d) - J
    if np.linalg.cond(A) > 1.0 / np.finfo(np.float64).eps:
        return np.full((d, d), np.inf)
    return np.linalg.solve(A, J)


def _solve_raw(g, m0, p, h, jac, args, tol):
    """Root of ``m - g(m + h)``; returns (m, residual) or (None, residual)."""
    d = m0.shape[0]
    eye = np.eye(d)

    def fun(m):
        return m - np.asarray(g(m + h, p, *args), dtype=np.float64)

    def fjac(m):
        return eye - _jacobian(g, m + h, p, jac, args)

    with np.errstate(all="ignore"):
        try:
            sol = optimize.root(fun, m0, jac=fjac, method="hybr", options={"xtol": 1e-14})
            m = sol.x
            # Newton polish: hybr stops on the step size; two Newton steps
            # bring the residual to round-off even where I - J is nearly singular.
            for _ in range(3):
                r = fun(m)
                if not np.isfinite(r).all():
                    return None, np.inf
                try:
                    step = np.linalg.solve(fjac(m), r)
                except np.linalg.LinAlgError:
                    break
                if not np.isfinite(step).all():
                    break
                m_new = m - step
                if np.max(np.abs(fun(m_new))) <= np.max(np.abs(r)):
                    m = m_new
                else:
                    break
            res = float(np.max(np.abs(fun(m))))
        except (ValueError, FloatingPointError, OverflowError):
            return None, np.inf
    if not np.isfinite(m).all() or not res <= tol * max(1.0, float(np.max(np.abs(m)))):
        return None, res
    return m, res


def _fixed_point(g, m, p, h, jac, args, res):
    J = _jacobian(g, m + h, p, jac, args)
    rho, _ = _eig_summary(J)
    return FixedPoint(m=m, param=p, h=h, residual=res, jacobian=J,
                      spectral_radius=rho, stable=bool(rho < 1.0))


def solve(g, m0, param, *, h=None, jac=None, args: tuple = (), tol: float = 1e-12) -> FixedPoint:
    """Solve the mean-field self-consistency ``m = g(m + h, p)`` from ``m0``.

    PHYSICS.md §3 (``m(h, t) = -grad F(m + h, t)``). SciPy's hybrid Powell
    method (MINPACK ``hybrd``) with the Jacobian ``I - dg``, then Newton
    polishing.

    Parameters
    ----------
    g : callable
        ``g(x, p, *args) -> (d,)``.
    m0 : array_like, shape (d,)
        Starting point (selects the branch).
    param : float
        Control parameter ``p`` (temperature, time).
    h : float or array_like of shape (d,), optional
        External field (default 0).
    jac : callable, "central" or "complex-step", optional
        See :func:`jacobian`.
    args : tuple
        Extra arguments of ``g`` and ``jac``.
    tol : float
        Accepted residual ``max|m - g(m + h)| <= tol max(1, |m|)``.

    Returns
    -------
    FixedPoint

    Raises
    ------
    RuntimeError
        If no fixed point is found from ``m0``.
    """
    _check_callable(g, "g")
    jac = _check_jac(jac)
    args = _check_args(args)
    m0 = as_float_array(m0, "m0", ndim=1, dtype=np.float64)
    d = m0.shape[0]
    p = _param(param)
    h = _check_h(h, d)
    tol = as_float(tol, "tol", positive=True)
    g0 = _call_g(g, m0 + h, p, args, d)
    if not np.isfinite(g0).all():
        raise ValueError(f"g(m0 + h, p) is not finite at m0={m0.tolist()}, p={p}")
    if callable(jac):
        _jacobian(g, m0 + h, p, jac, args)
    m, res = _solve_raw(g, m0, p, h, jac, args, tol)
    if m is None:
        raise RuntimeError(
            f"no fixed point of m = g(m + h, p) found from m0={m0.tolist()} at p={p} "
            f"(best residual {res:.3g} > tol={tol})"
        )
    return _fixed_point(g, m, p, h, jac, args, res)


def susceptibility(g, m, param, *, h=None, jac=None, args: tuple = (),
                   tol: float = 1e-8) -> np.ndarray:
    """Susceptibility matrix ``chi_ij = dm_i/dh_j`` by implicit differentiation.

    Differentiating ``m = g(m + h, p)`` gives ``(I - J) chi = J`` with
    ``J = dg(m + h, p)`` (PHYSICS.md §3: "compute it by implicit
    differentiation, not by finite differences"). For Curie–Weiss,
    ``chi = J/(1 - J)``, ``J = sech^2(m/T)/T``.

    Parameters
    ----------
    g : callable
    m : array_like, shape (d,)
        A fixed point (checked: ``max|m - g(m + h)| <= tol max(1, |m|)``).
    param : float
    h : float or array_like, optional
        Field at which ``chi`` is taken (default 0).
    jac : callable, "central" or "complex-step", optional
    args : tuple
    tol : float

    Returns
    -------
    ndarray, shape (d, d)

    Raises
    ------
    ValueError
        If ``m`` is not a fixed point, or ``I - J`` is singular (critical
        point: ``chi`` diverges).
    """
    _check_callable(g, "g")
    jac = _check_jac(jac)
    args = _check_args(args)
    m = as_float_array(m, "m", ndim=1, dtype=np.float64)
    d = m.shape[0]
    p = _param(param)
    h = _check_h(h, d)
    tol = as_float(tol, "tol", positive=True)
    res = float(np.max(np.abs(m - _call_g(g, m + h, p, args, d))))
    if not res <= tol * max(1.0, float(np.max(np.abs(m)))):
        raise ValueError(
            f"m must be a fixed point of m = g(m + h, p); residual {res:.3g} > tol={tol} "
            f"at m={m.tolist()}, p={p}"
        )
    J = _jacobian(g, m + h, p, jac, args)
    chi = _chi_from_jacobian(J)
    if not np.isfinite(chi).all():
        raise ValueError(
            f"I - dg is singular at m={m.tolist()}, p={p}: a critical point, chi diverges"
        )
    return chi


# --------------------------------------------------------------------------
# Branch following.
# --------------------------------------------------------------------------


def follow_branches(
    g,
    params,
    starts,
    *,
    h=None,
    jac=None,
    args: tuple = (),
    tol: float = 1e-12,
    merge_tol: float = 1e-7,
) -> Branches:
    """Follow every fixed-point branch of ``m = g(m + h, p)`` along a grid of ``p``.

    Natural-parameter continuation through bifurcations (PHYSICS.md §3,
    the pitchfork of two deltas / Curie–Weiss and the four-deltas
    landscape). At each grid value:

    1. every live branch is continued from a linear predictor (its last two
       points), falling back to its last point;
    2. the solver is also started from every point of ``starts`` (use
       symmetric seeds, e.g. ``±e_i`` and 0), which finds branches born in
       a bifurcation;
    3. solutions closer than ``merge_tol (1 + |m|)`` are merged. A merged
       group that contains continuations keeps the branch whose previous
       point is nearest; the others end there (branches that meet in a
       pitchfork). A group found only from ``starts`` opens a new branch.

    Parameters
    ----------
    g : callable
        ``g(x, p, *args) -> (d,)``.
    params : array_like, shape (P,)
        Strictly monotone grid of the control parameter, followed in order.
    starts : array_like, shape (S, d)
        Seeds tried at every grid value.
    h : float or array_like of shape (d,), optional
        Field (default 0).
    jac : callable, "central" or "complex-step", optional
        See :func:`jacobian`.
    args : tuple
    tol : float
        Residual accepted by the solver.
    merge_tol : float
        Distance below which two solutions are the same fixed point; must
        exceed the solver accuracy and stay below the spacing of distinct
        branches (``~sqrt(3 |tau|)`` near a pitchfork).

    Returns
    -------
    Branches
    """
    _check_callable(g, "g")
    jac = _check_jac(jac)
    args = _check_args(args)
    params = as_float_array(params, "params", ndim=1, dtype=np.float64)
    if params.shape[0] >= 2:
        dp = np.diff(params)
        if not ((dp > 0).all() or (dp < 0).all()):
            raise ValueError("params must be strictly monotone (increasing or decreasing)")
    starts = as_float_array(starts, "starts", ndim=2, dtype=np.float64)
    d = starts.shape[1]
    h = _check_h(h, d)
    tol = as_float(tol, "tol", positive=True)
    merge_tol = as_float(merge_tol, "merge_tol", positive=True)
    g0 = _call_g(g, starts[0] + h, float(params[0]), args, d)
    if not np.isfinite(g0).all():
        raise ValueError(f"g(starts[0] + h, params[0]) is not finite: {g0.tolist()}")
    if callable(jac):
        _jacobian(g, starts[0] + h, float(params[0]), jac, args)

    P = params.shape[0]
    tracks: list[dict] = []  # each: {"start": i0, "m": [values], "alive": bool}

    for i in range(P):
        p = float(params[i])
        cands: list[tuple[np.ndarray, int | None]] = []
        for b, tr in enumerate(tracks):
            if not tr["alive"]:
                continue
            last = tr["m"][-1]
            guesses = [last]
            if len(tr["m"]) >= 2:
                frac = (p - params[i - 1]) / (params[i - 1] - params[i - 2])
                guesses.insert(0, last + frac * (last - tr["m"][-2]))
            for guess in guesses:
                m, _ = _solve_raw(g, guess, p, h, jac, args, tol)
                if m is not None:
                    cands.append((m, b))
                    break
            else:
                tr["alive"] = False
        for s in starts:
            m, _ = _solve_raw(g, s, p, h, jac, args, tol)
            if m is not None:
                cands.append((m, None))
        # Group candidates (single linkage at merge_tol).
        groups: list[list[tuple[np.ndarray, int | None]]] = []
        for cand in cands:
            for grp in groups:
                ref = grp[0][0]
                if np.max(np.abs(cand[0] - ref)) <= merge_tol * (1.0 + np.max(np.abs(ref))):
                    grp.append(cand)
                    break
            else:
                groups.append([cand])
        continued = set()
        for grp in groups:
            owners = [b for _, b in grp if b is not None]
            if owners:
                value = next(m for m, b in grp if b is not None)
                keep = min(owners, key=lambda b: float(np.max(np.abs(tracks[b]["m"][-1] - value))))
                tracks[keep]["m"].append(grp[[b for _, b in grp].index(keep)][0])
                continued.add(keep)
                for b in owners:
                    if b != keep:
                        tracks[b]["alive"] = False
            else:
                tracks.append({"start": i, "m": [grp[0][0]], "alive": True})
                continued.add(len(tracks) - 1)
        for b, tr in enumerate(tracks):
            if tr["alive"] and b not in continued:
                tr["alive"] = False

    nb = len(tracks)
    m_out = np.full((nb, P, d), np.nan)
    exists = np.zeros((nb, P), dtype=bool)
    stable = np.zeros((nb, P), dtype=bool)
    rho = np.full((nb, P), np.nan)
    lead = np.full((nb, P), np.nan)
    chi = np.full((nb, P, d, d), np.nan)
    for b, tr in enumerate(tracks):
        for k, m in enumerate(tr["m"]):
            i = tr["start"] + k
            J = _jacobian(g, m + h, float(params[i]), jac, args)
            r, lr = _eig_summary(J)
            m_out[b, i] = m
            exists[b, i] = True
            rho[b, i] = r
            lead[b, i] = lr
            stable[b, i] = r < 1.0
            chi[b, i] = _chi_from_jacobian(J)
    return Branches(params=params, m=m_out, exists=exists, stable=stable, spectral_radius=rho,
                    leading_eigenvalue=lead, chi=chi, h=h)


def locate_critical_points(g, branches: Branches, *, jac=None, args: tuple = (),
                           xtol: float = 1e-13) -> tuple:
    """Critical points: where the leading eigenvalue of ``J`` crosses 1 on a branch.

    There ``I - J`` is singular and ``chi = (I - J)^{-1} J`` diverges
    (PHYSICS.md §3). Each sign change of ``leading_eigenvalue - 1`` between
    neighbouring grid points of a branch is refined with Brent's method,
    re-solving the fixed point at each trial value from the branch's nearest
    grid point.

    Parameters
    ----------
    g : callable
    branches : Branches
        From :func:`follow_branches` with the same ``g``, ``jac``, ``args``.
    jac, args
        As in :func:`follow_branches`.
    xtol : float
        Absolute tolerance on the critical parameter.

    Returns
    -------
    tuple of CriticalPoint
        Sorted by ``param``; empty if no crossing is on the grid.
    """
    _check_callable(g, "g")
    jac = _check_jac(jac)
    args = _check_args(args)
    if not isinstance(branches, Branches):
        raise TypeError(f"branches must be a Branches result, got {type(branches).__name__}")
    xtol = as_float(xtol, "xtol", positive=True)
    params, h = branches.params, branches.h
    count = branches.exists.sum(axis=0)
    found = []
    for b in range(branches.n_branches):
        lead = branches.leading_eigenvalue[b] - 1.0
        for i in range(params.shape[0] - 1):
            if not (branches.exists[b, i] and branches.exists[b, i + 1]):
                continue
            if lead[i] == 0.0:
                root = float(params[i])
            elif lead[i] * lead[i + 1] < 0:
                m_a, m_b = branches.m[b, i], branches.m[b, i + 1]
                p_a, p_b = float(params[i]), float(params[i + 1])

                def excess(p, m_a=m_a, m_b=m_b, p_a=p_a, p_b=p_b):
                    start = m_a if abs(p - p_a) <= abs(p - p_b) else m_b
                    m, _ = _solve_raw(g, start, p, h, jac, args, 1e-12)
                    if m is None:
                        raise RuntimeError(f"the branch could not be re-solved at p={p}")
                    return _eig_summary(_jacobian(g, m + h, p, jac, args))[1] - 1.0

                root = float(optimize.brentq(excess, p_a, p_b, xtol=xtol,
                                             rtol=4 * np.finfo(float).eps))
            else:
                continue
            found.append(CriticalPoint(param=root, bracket=(float(params[i]), float(params[i + 1])),
                                       branch=b, branches_before=int(count[i]),
                                       branches_after=int(count[i + 1])))
    return tuple(sorted(found, key=lambda c: c.param))


# --------------------------------------------------------------------------
# Critical exponents.
# --------------------------------------------------------------------------


def fit_power_law(x, y, *, window=None) -> PowerLawFit:
    """Fit ``|y| = A x^p`` by least squares in log–log, with the slope's standard error.

    Parameters
    ----------
    x : array_like, shape (n,)
        Positive abscissae (e.g. ``|tau|`` or ``m``).
    y : array_like, shape (n,)
        Nonzero ordinates (their absolute value is fitted).
    window : (float, float), optional
        Inclusive range of ``x`` to use (default: all). At least 3 points.

    Returns
    -------
    PowerLawFit
    """
    x = as_float_array(x, "x", ndim=1, dtype=np.float64)
    y = as_float_array(y, "y", ndim=1, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    if window is None:
        lo, hi = float(x.min()), float(x.max())
    else:
        lo, hi = _check_window(window, "window")
    sel = (x >= lo) & (x <= hi)
    if (x[sel] <= 0).any():
        raise ValueError(f"x must be > 0 in the fit window, got {x[sel][x[sel] <= 0][0]}")
    if (y[sel] == 0).any():
        raise ValueError("y must be nonzero in the fit window (log|y| is fitted)")
    n = int(sel.sum())
    if n < 3:
        raise ValueError(
            f"the fit window {(lo, hi)} holds {n} points; at least 3 are needed for a slope "
            "and its standard error"
        )
    lx, ly = np.log(x[sel]), np.log(np.abs(y[sel]))
    xm = lx.mean()
    sxx = float(((lx - xm) ** 2).sum())
    if sxx == 0.0:
        raise ValueError("x must take at least 2 distinct values in the fit window")
    slope = float(((lx - xm) * (ly - ly.mean())).sum() / sxx)
    intercept = float(ly.mean() - slope * xm)
    resid = ly - (intercept + slope * lx)
    s2 = float((resid**2).sum() / (n - 2))
    return PowerLawFit(exponent=slope, stderr=math.sqrt(s2 / sxx), amplitude=math.exp(intercept),
                       window=(lo, hi), n_points=n)


def _check_window(window, name):
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise TypeError(f"{name} must be a pair (low, high), got {window!r}")
    lo = as_float(window[0], f"{name}[0]", positive=True)
    hi = as_float(window[1], f"{name}[1]", positive=True)
    if not lo < hi:
        raise ValueError(f"{name} must have low < high, got {window!r}")
    return lo, hi


def critical_exponents(
    control,
    m,
    chi,
    t_c,
    *,
    field=None,
    m_field=None,
    window=(1e-4, 1e-2),
    field_window=(1e-3, 1e-1),
    ordered_side: str = "below",
) -> CriticalExponents:
    """Fit the critical exponents beta, gamma (both sides) and delta.

    Mean-field (Curie–Weiss) scaling, PHYSICS.md §3: ``m ~ (-tau)^beta``,
    ``chi ~ |tau|^-gamma``, ``h ~ m^delta`` at ``t_c``, with
    ``tau = (p - t_c)/|t_c|``. Each exponent is a log–log least-squares
    slope (:func:`fit_power_law`) with its standard error.

    Parameters
    ----------
    control : array_like, shape (n,)
        Control values ``p`` on both sides of ``t_c``.
    m : array_like, shape (n,)
        Order parameter (e.g. ``|m|`` of the stable ordered branch); used
        on the ordered side only, where it must be nonzero in the window.
    chi : array_like, shape (n,)
        Scalar susceptibility (e.g. the largest eigenvalue of ``chi``).
    t_c : float
        Critical value (e.g. from :func:`locate_critical_points`).
    field, m_field : array_like, shape (k,), optional
        Critical isotherm: fields ``h > 0`` and the order parameter they
        induce at ``p = t_c``. Both or neither.
    window : (float, float)
        Range of ``|tau|`` used for beta and gamma (default ``[1e-4,
        1e-2]``: corrections to scaling are ``O(|tau|)``).
    field_window : (float, float)
        Range of ``m`` used for delta (corrections ``O(m^2)``).
    ordered_side : {"below", "above"}
        Side of ``t_c`` where ``m != 0``.

    Returns
    -------
    CriticalExponents
    """
    control = as_float_array(control, "control", ndim=1, dtype=np.float64)
    m = as_float_array(m, "m", ndim=1, dtype=np.float64)
    chi = as_float_array(chi, "chi", ndim=1, dtype=np.float64)
    if not (control.shape == m.shape == chi.shape):
        raise ValueError(
            f"control, m and chi must have the same shape, got {control.shape}, {m.shape}, "
            f"{chi.shape}"
        )
    t_c = as_float(t_c, "t_c")
    if t_c == 0.0:
        raise ValueError("t_c must be nonzero (tau = (p - t_c)/|t_c|)")
    if ordered_side not in ("below", "above"):
        raise ValueError(f"ordered_side must be 'below' or 'above', got {ordered_side!r}")
    window = _check_window(window, "window")
    field_window = _check_window(field_window, "field_window")
    if (field is None) != (m_field is None):
        raise ValueError("give both field and m_field (the critical isotherm), or neither")

    tau = (control - t_c) / abs(t_c)
    ordered = tau < 0 if ordered_side == "below" else tau > 0
    disordered = tau > 0 if ordered_side == "below" else tau < 0
    fits = {}
    for key, sel, y in (("beta", ordered, m), ("gamma_minus", ordered, chi),
                        ("gamma_plus", disordered, chi)):
        try:
            fits[key] = fit_power_law(np.abs(tau[sel]), y[sel], window=window)
        except ValueError as exc:
            raise ValueError(f"cannot fit {key}: {exc}") from exc
    fits["gamma_minus"] = _negate(fits["gamma_minus"])
    fits["gamma_plus"] = _negate(fits["gamma_plus"])
    delta = None
    if field is not None:
        field = as_float_array(field, "field", ndim=1, dtype=np.float64)
        m_field = as_float_array(m_field, "m_field", ndim=1, dtype=np.float64)
        if field.shape != m_field.shape:
            raise ValueError(
                f"field and m_field must have the same shape, got {field.shape} and "
                f"{m_field.shape}"
            )
        try:
            delta = fit_power_law(np.abs(m_field), field, window=field_window)
        except ValueError as exc:
            raise ValueError(f"cannot fit delta: {exc}") from exc
    return CriticalExponents(t_c=t_c, beta=fits["beta"], gamma_minus=fits["gamma_minus"],
                             gamma_plus=fits["gamma_plus"], delta=delta)


@dataclass(frozen=True)
class OrderedDisordered:
    """The two branches of a continuous transition, picked out of :class:`Branches`.

    Attributes
    ----------
    ordered, disordered : int
        Branch indices: the stable branch with ``m_c > 0`` on the ordered
        side, and the branch with ``m = 0`` on the disordered side.
    ordered_side : str
        ``"below"`` or ``"above"`` ``t_c`` (where ``m != 0``).
    control : ndarray (P,)
        The grid.
    m : ndarray (P,)
        ``|m_c|`` of the ordered branch on the ordered side, 0 elsewhere.
    chi : ndarray (P,)
        ``chi_cc`` of the ordered branch on the ordered side and of the
        disordered branch on the other (0 where the branch is absent).
    """

    ordered: int
    disordered: int
    ordered_side: str
    control: np.ndarray
    m: np.ndarray
    chi: np.ndarray


def ordered_and_disordered(branches: Branches, t_c, *, component: int = 0,
                           zero_tol: float = 1e-12) -> OrderedDisordered:
    """Pick the ordered and the disordered branch of a transition at ``t_c``.

    The disordered branch is the one with ``|m| <= zero_tol`` wherever it
    exists on the side of ``t_c`` where it is the only fixed point; the
    ordered one is the stable branch with the largest ``m_c > 0`` on the
    other side (component ``c`` of ``m``; with ``h = 0`` the ``-m`` branch is
    its mirror image). The side is found from the data: it is the side
    where a branch with ``m_c > zero_tol`` exists.

    Parameters
    ----------
    branches : Branches
        From :func:`follow_branches`, across ``t_c``.
    t_c : float
        Critical value (:func:`locate_critical_points`).
    component : int
        Component ``c`` of the order parameter and of ``chi``.
    zero_tol : float
        ``|m|`` below which a fixed point counts as disordered.

    Returns
    -------
    OrderedDisordered
        With the ``m`` and ``chi`` curves :func:`critical_exponents` takes.

    Raises
    ------
    ValueError
        If either branch is missing, or ``t_c`` is outside the grid.
    """
    if not isinstance(branches, Branches):
        raise TypeError(f"branches must be a Branches (follow_branches), got {type(branches).__name__}")
    t_c = as_float(t_c, "t_c")
    d = branches.m.shape[2]
    if not isinstance(component, (int, np.integer)) or not 0 <= component < d:
        raise ValueError(f"component must be an integer in [0, {d}), got {component!r}")
    zero_tol = as_float(zero_tol, "zero_tol", nonnegative=True)
    params = branches.params
    below, above = params < t_c, params > t_c
    if not below.any() or not above.any():
        raise ValueError(f"t_c = {t_c!r} must lie inside the grid [{params.min()!r}, {params.max()!r}]")
    mc = np.where(branches.exists, branches.m[:, :, component], 0.0)
    norm = np.where(branches.exists, np.abs(branches.m).max(axis=2), 0.0)
    positive = branches.exists & branches.stable & (mc > zero_tol)
    if positive[:, below].any() and not positive[:, above].any():
        side, ordered_sel, disordered_sel = "below", below, above
    elif positive[:, above].any() and not positive[:, below].any():
        side, ordered_sel, disordered_sel = "above", above, below
    else:
        raise ValueError(
            "could not tell the ordered side: a stable branch with m > 0 must exist on exactly "
            f"one side of t_c = {t_c!r}"
        )
    # Ordered: the stable positive branch present farthest from t_c (largest m there).
    candidates = np.flatnonzero(positive[:, ordered_sel].any(axis=1))
    reach = positive[:, ordered_sel].sum(axis=1)[candidates]
    ordered = int(candidates[np.argmax(reach)])
    # Disordered: exists on the disordered side with |m| <= zero_tol everywhere it exists.
    zero = [b for b in range(branches.n_branches)
            if branches.exists[b, disordered_sel].any()
            and (norm[b, branches.exists[b] & disordered_sel] <= zero_tol).all()]
    if not zero:
        raise ValueError(f"no branch with m = 0 (|m| <= {zero_tol!r}) on the disordered side")
    disordered = zero[0]
    chi_c = np.where(branches.exists, branches.chi[:, :, component, component], 0.0)
    m = np.where(ordered_sel, np.abs(mc[ordered]), 0.0)
    chi = np.where(ordered_sel, chi_c[ordered], chi_c[disordered])
    return OrderedDisordered(ordered=ordered, disordered=disordered, ordered_side=side,
                             control=params.copy(), m=m, chi=chi)


def branch_exponents(branches: Branches, t_c, *, component: int = 0, field=None, m_field=None,
                     window=(1e-4, 1e-2), field_window=(1e-3, 1e-1)) -> CriticalExponents:
    """:func:`critical_exponents` straight from :func:`follow_branches` output.

    Picks the ordered and disordered branches (:func:`ordered_and_disordered`)
    and fits beta, gamma on both sides and, given the critical isotherm,
    delta (PHYSICS.md §3).

    Parameters
    ----------
    branches : Branches
    t_c : float
    component : int
        Component of ``m`` and ``chi`` used.
    field, m_field, window, field_window
        As in :func:`critical_exponents`.

    Returns
    -------
    CriticalExponents
    """
    picked = ordered_and_disordered(branches, t_c, component=component)
    return critical_exponents(picked.control, picked.m, picked.chi, t_c, field=field,
                              m_field=m_field, window=window, field_window=field_window,
                              ordered_side=picked.ordered_side)


def _negate(fit: PowerLawFit) -> PowerLawFit:
    return PowerLawFit(exponent=-fit.exponent, stderr=fit.stderr, amplitude=fit.amplitude,
                       window=fit.window, n_points=fit.n_points)
