"""Overdamped Langevin / additive-noise SDE integrators for batches of trajectories.

The equation is

    dx = f(x, t) ds + g(t) dW(s),        ds = |dt|,

for ``B`` independent trajectories held as the rows of a state array ``X``
of shape ``(B, d)``. The time grid ``t_0, ..., t_K`` may increase (forward
in time) or decrease (backward in time, as in the generative dynamics of a
diffusion model, PHYSICS.md §2). Every step advances by the *positive*
amount ``h_k = |t_{k+1} - t_k|``: the drift ``f`` is the rate of change per
unit of elapsed integration time, whichever way the clock runs. So the
backward Ornstein–Uhlenbeck dynamics of PHYSICS.md §2,
``y <- y + h (y + 2 T score) + sqrt(2 T h) xi``, is ``f(y, t) = y + 2 T
score(y, t)`` and ``g = sqrt(2 T)`` on a decreasing grid, and an ODE
``dx/dt = F(x, t)`` solved on a decreasing grid needs ``f = -F``.

Methods (``method=``):

``"euler_maruyama"``
    ``x <- x + h f(x, t_k) + g(t_k) dW_k``. Strong order 1.0 for additive
    noise (it then coincides with Milstein; 0.5 is its order for
    multiplicative noise, which this module does not support), weak order
    1.0, order 1 without noise (Kloeden & Platen 1992, §10.2–10.3).
``"heun"``
    Stochastic Heun (predictor–corrector trapezoid):
    ``x~ = x + h f(x, t_k) + g_k dW_k``,
    ``x <- x + h/2 [f(x, t_k) + f(x~, t_{k+1})] + (g_k + g_{k+1})/2 dW_k``.
    Strong order 1.0 for additive noise, weak order 2.0; without noise it is
    the explicit trapezoid rule (RK2, order 2).
``"exponential"``
    Exponential Euler for ``f(x, t) = -lambda(t) x + N(x, t)``, where the
    drift function supplies only the nonlinear part ``N`` and ``lam`` the
    rate ``lambda``:
    ``x <- e^{-L} x + (1 - e^{-L})/lambda_k N(x, t_k) + g_k c_k dW_k`` with
    ``lambda_k = (lambda(t_k) + lambda(t_{k+1}))/2``, ``L = lambda_k h`` and
    ``c_k = sqrt((1 - e^{-2L}) / (2L))``, so that ``g_k c_k dW_k`` has the
    exact Ornstein–Uhlenbeck transition variance. For a pure OU process
    (``N = 0``, constant ``lambda`` and ``g``) each step is the exact
    transition, for any step size. Order 1 in general.

:data:`METHOD_TABLE` holds each method's strong, weak and noise-free orders
and its step kernel (one common signature); :func:`integrate` and the
diffusion sampler both take their step from it, and :func:`grid_indices`
is the one place where requested times are located on a grid.

Noise-free mode (probability-flow ODEs): ``g = 0`` everywhere. Any method
then solves the ODE ``dx/ds = f``; no noise is drawn.

Noise. ``dW_k`` is the Brownian increment over step ``k``, with variance
``h_k`` per component. Either pass them (``increments``, shape
``(K, B, d)``) or a ``seed``: the increments are then drawn with NumPy's
``Generator.standard_normal`` in step order, in blocks of ``block_steps``
steps (bounded memory), scaled by ``sqrt(h_k)``. Consecutive blocks
continue the same stream, so results depend only on the seed, not on the
block size or the number of threads (the kernels here are serial; a drift
may use ``prange`` over trajectories, which leaves the result independent of
the thread count).

The drift is a jitted function ``drift(X, t, out, *drift_args)`` that writes
``f(X, t)`` for the whole batch into ``out`` (shape ``(B, d)``) and returns
nothing, so it can use matrix products over the batch. ``t`` is the signed
grid time ``t_k``. Kernels that take the drift as an argument are compiled
per drift function and are not cached on disk (``callable_kernel``): the
first call with a new drift pays the compile time (about 1–3 s here).

The single-step kernels :func:`em_step`, :func:`heun_step` and
:func:`exponential_step` update a batch in place and can be called from other
jitted loops (nearest-neighbour tracking, cloning).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from numba.extending import is_jitted

from ._numba import callable_kernel, kernel
from ._validation import as_float_array, as_int, as_seed_sequence

__all__ = [
    "Method",
    "METHOD_TABLE",
    "METHODS",
    "LangevinResult",
    "integrate",
    "check_method",
    "grid_indices",
    "em_step",
    "heun_step",
    "exponential_step",
    "ou_phi",
]

# Default noise block: at most this many float64 values (16 MiB) at a time.
_BLOCK_VALUES = 1 << 21


# --------------------------------------------------------------------------
# Leaf kernels (serial, in place; callers decide where parallelism goes).
# --------------------------------------------------------------------------


@kernel
def ou_phi(lam, h):
    """The three coefficients of one exponential-Euler step of length ``h > 0``.

    For the linear drift ``-lam x`` (module docstring): ``e^{-lam h}``,
    ``(1 - e^{-lam h})/lam`` and ``sqrt((1 - e^{-2 lam h})/(2 lam h))``, with
    the limits ``h`` and ``1`` at ``lam = 0``. ``expm1`` keeps them accurate
    for small ``lam h``; a negative ``lam`` (growing linear part, as in
    backward OU) is allowed.

    Parameters
    ----------
    lam : float
        Rate of the linear drift.
    h : float
        Step ``> 0``.

    Returns
    -------
    tuple of float
        ``(decay, phi1, noise_factor)``.
    """
    lh = lam * h
    decay = math.exp(-lh)
    if lh == 0.0:
        return decay, h, 1.0
    phi1 = -math.expm1(-lh) / lam
    noise = math.sqrt(-math.expm1(-2.0 * lh) / (2.0 * lh))
    return decay, phi1, noise


@callable_kernel
def em_step(drift, drift_args, X, t, h, g, dW, F):
    """One Euler–Maruyama step in place: ``X <- X + h f(X, t) + g dW`` (Kloeden & Platen §10.2).

    Parameters
    ----------
    drift : numba-jitted function
        ``drift(X, t, out, *drift_args)``.
    drift_args : tuple
    X : ndarray (B, d)
        States, updated in place.
    t : float
        Grid time of the step's start.
    h : float
        Step ``> 0``.
    g : float
        Noise amplitude (``0``: no noise; ``dW`` is then not read and may be
        any 2-D array).
    dW : ndarray (B, d)
        Brownian increments (variance ``h``).
    F : ndarray (B, d)
        Receives the drift.

    Returns
    -------
    None
    """
    drift(X, t, F, *drift_args)
    B, d = X.shape
    if g != 0.0:
        for i in range(B):
            for j in range(d):
                X[i, j] += h * F[i, j] + g * dW[i, j]
    else:
        for i in range(B):
            for j in range(d):
                X[i, j] += h * F[i, j]


@callable_kernel
def heun_step(drift, drift_args, X, t0, t1, h, g0, g1, dW, F0, Xp, F1):
    """One stochastic Heun step in place (additive noise; Kloeden & Platen §15.1).

    ``Xp = X + h f(X, t0) + g0 dW``;
    ``X <- X + h/2 [f(X, t0) + f(Xp, t1)] + (g0 + g1)/2 dW``.

    Parameters
    ----------
    drift : numba-jitted function
        ``drift(X, t, out, *drift_args)``.
    drift_args : tuple
    X : ndarray (B, d)
        States, updated in place.
    t0, t1 : float
        Grid times at the start and end of the step.
    h : float
        Step ``> 0``.
    g0, g1 : float
        Noise amplitudes at ``t0`` and ``t1`` (``dW`` is read only when one is
        nonzero).
    dW : ndarray (B, d)
        Brownian increments (variance ``h``).
    F0, Xp, F1 : ndarray (B, d)
        Work arrays.

    Returns
    -------
    None
    """
    drift(X, t0, F0, *drift_args)
    B, d = X.shape
    noisy = g0 != 0.0 or g1 != 0.0
    gbar = 0.5 * (g0 + g1)
    for i in range(B):
        for j in range(d):
            Xp[i, j] = X[i, j] + h * F0[i, j]
    if noisy:
        for i in range(B):
            for j in range(d):
                Xp[i, j] += g0 * dW[i, j]
    drift(Xp, t1, F1, *drift_args)
    half = 0.5 * h
    if noisy:
        for i in range(B):
            for j in range(d):
                X[i, j] += half * (F0[i, j] + F1[i, j]) + gbar * dW[i, j]
    else:
        for i in range(B):
            for j in range(d):
                X[i, j] += half * (F0[i, j] + F1[i, j])


@callable_kernel
def exponential_step(drift, drift_args, X, t, h, lam, g, dW, F):
    """One exponential-Euler step in place for ``f = -lam x + N(x, t)``.

    ``drift`` returns the nonlinear part ``N`` only. With ``(a, p, c) =
    ou_phi(lam, h)``: ``X <- a X + p N(X, t) + g c dW``, the exact OU
    transition when ``N = 0``.

    Parameters
    ----------
    drift : numba-jitted function
        ``drift(X, t, out, *drift_args)`` writing ``N``.
    drift_args : tuple
    X : ndarray (B, d)
        States, updated in place.
    t : float
        Grid time of the step's start.
    h : float
        Step ``> 0``.
    lam : float
        Rate of the exact linear part.
    g : float
        Noise amplitude (``dW``, variance ``h``, is read only when ``g != 0``).
    dW : ndarray (B, d)
    F : ndarray (B, d)
        Receives ``N``.

    Returns
    -------
    None
    """
    drift(X, t, F, *drift_args)
    a, p, c = ou_phi(lam, h)
    B, d = X.shape
    if g != 0.0:
        gc = g * c
        for i in range(B):
            for j in range(d):
                X[i, j] = a * X[i, j] + p * F[i, j] + gc * dW[i, j]
    else:
        for i in range(B):
            for j in range(d):
                X[i, j] = a * X[i, j] + p * F[i, j]


# One signature for every method's step, so a driver picks the step from the
# method table (only the step in use is compiled for a given drift):
# step(drift, drift_args, X, t0, t1, h, g0, g1, lam, dW, F0, Xp, F1), with
# g0, g1 the noise amplitudes at t0, t1 (already times sqrt(h) when dW is a
# standard normal), lam the exact linear rate (exponential only), and Xp, F1
# work arrays (Heun only).


@callable_kernel
def _em_any(drift, drift_args, X, t0, t1, h, g0, g1, lam, dW, F0, Xp, F1):
    """:func:`em_step` in the common step signature."""
    em_step(drift, drift_args, X, t0, h, g0, dW, F0)


@callable_kernel
def _heun_any(drift, drift_args, X, t0, t1, h, g0, g1, lam, dW, F0, Xp, F1):
    """:func:`heun_step` in the common step signature."""
    heun_step(drift, drift_args, X, t0, t1, h, g0, g1, dW, F0, Xp, F1)


@callable_kernel
def _exponential_any(drift, drift_args, X, t0, t1, h, g0, g1, lam, dW, F0, Xp, F1):
    """:func:`exponential_step` in the common step signature."""
    exponential_step(drift, drift_args, X, t0, h, lam, g0, dW, F0)


@dataclass(frozen=True)
class Method:
    """An integration method: its code, its orders, and its step kernel.

    Attributes
    ----------
    name : str
    code : int
        Its code in :data:`METHODS`.
    strong_order : float
        Strong order with additive noise (pathwise RMS error ``O(h^p)``).
    weak_order : float
        Weak order (error of expectations of smooth functions ``O(h^p)``).
    ode_order : float
        Order without noise (probability-flow ODEs).
    needs_rate : bool
        Takes the exact linear rate ``lam`` (the drift is then the nonlinear part).
    step : numba dispatcher
        The step kernel, ``step(drift, drift_args, X, t0, t1, h, g0, g1, lam,
        dW, F0, Xp, F1)``, updating ``X`` in place.
    """

    name: str
    code: int
    strong_order: float
    weak_order: float
    ode_order: float
    needs_rate: bool
    step: object

    def advance(self, drift, drift_args, X, t0, t1, h, g0, g1, lam, dW, F0, Xp, F1) -> None:
        """One step in place (arguments as for :attr:`step`).

        Parameters
        ----------
        drift : numba-jitted function
            ``drift(X, t, out, *drift_args)``.
        drift_args : tuple
        X : ndarray (B, d)
            States, updated in place.
        t0, t1 : float
            Grid times of the step; ``h = |t1 - t0| > 0``.
        h : float
        g0, g1 : float
            Noise amplitudes at ``t0``, ``t1`` (multiplying ``dW``).
        lam : float
            Exact linear rate (exponential Euler; ignored otherwise).
        dW : ndarray (B, d)
            Noise of the step.
        F0, Xp, F1 : ndarray
            Work arrays shaped like ``X`` (``Xp``, ``F1``: Heun only).

        Returns
        -------
        None
        """
        self.step(drift, drift_args, X, t0, t1, h, g0, g1, lam, dW, F0, Xp, F1)


#: The integration methods (module docstring; Kloeden & Platen 1992 §10–15).
#: One table for every driver; the order tests read the orders from here.
METHOD_TABLE = {
    method.name: method
    for method in (
        Method("euler_maruyama", 0, strong_order=1.0, weak_order=1.0, ode_order=1.0,
               needs_rate=False, step=_em_any),
        Method("heun", 1, strong_order=1.0, weak_order=2.0, ode_order=2.0,
               needs_rate=False, step=_heun_any),
        Method("exponential", 2, strong_order=1.0, weak_order=1.0, ode_order=1.0,
               needs_rate=True, step=_exponential_any),
    )
}

#: Method names accepted by :func:`integrate`, with their kernel codes.
METHODS = {name: method.code for name, method in METHOD_TABLE.items()}


def check_method(method) -> Method:
    """The :class:`Method` named ``method``, or raise ``ValueError``.

    Parameters
    ----------
    method : str
        A key of :data:`METHOD_TABLE`.

    Returns
    -------
    Method
    """
    if not isinstance(method, str) or method not in METHOD_TABLE:
        raise ValueError(f"method must be one of {sorted(METHOD_TABLE)}, got {method!r}")
    return METHOD_TABLE[method]


@callable_kernel
def _run_block(
    step, drift, drift_args, X, times, g, lam_bar, dW, noisy, k0, k1, snap_slot, snaps, F0, Xp, F1
):
    """Advance ``X`` over steps ``k0 .. k1-1`` of the grid with ``step``, recording snapshots.

    ``step`` is a :attr:`Method.step` kernel. ``dW[k - k0]`` is step ``k``'s
    increment when ``noisy``; otherwise ``g`` is all zero and ``dW`` is a
    dummy. ``snap_slot[k]`` is the snapshot slot of grid point ``k`` or ``-1``.
    """
    B, d = X.shape
    for k in range(k0, k1):
        t0 = times[k]
        t1 = times[k + 1]
        h = abs(t1 - t0)
        dWk = dW[k - k0] if noisy else dW[0]
        step(drift, drift_args, X, t0, t1, h, g[k], g[k + 1], lam_bar[k], dWk, F0, Xp, F1)
        s = snap_slot[k + 1]
        if s >= 0:
            for i in range(B):
                for j in range(d):
                    snaps[s, i, j] = X[i, j]


# --------------------------------------------------------------------------
# Public driver.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LangevinResult:
    """Outcome of :func:`integrate`.

    Attributes
    ----------
    x : ndarray, shape (B, d)
        State at the last grid time.
    snapshots : ndarray, shape (S, B, d)
        States at ``snapshot_times`` (in the order requested).
    snapshot_times : ndarray, shape (S,)
        The grid times of the snapshots.
    snapshot_steps : ndarray of int, shape (S,)
        Their grid indices (0 is the initial state).
    times : ndarray, shape (K+1,)
        The time grid.
    method : str
        Integration method.
    noise : str
        ``"seed"``, ``"increments"`` or ``"none"`` (noise-free mode).
    seed_entropy : int or None
        Entropy of the ``SeedSequence`` used (reproduces the run with
        ``spawn_key``); ``None`` unless ``noise == "seed"``.
    spawn_key : tuple of int
        Spawn key of that ``SeedSequence``.
    block_steps : int
        Steps per noise block (does not change the result).
    """

    x: np.ndarray
    snapshots: np.ndarray
    snapshot_times: np.ndarray
    snapshot_steps: np.ndarray
    times: np.ndarray
    method: str
    noise: str
    seed_entropy: int | None
    spawn_key: tuple
    block_steps: int


def _check_times(times) -> np.ndarray:
    times = as_float_array(times, "times", ndim=1, dtype=np.float64)
    if times.shape[0] < 2:
        raise ValueError(f"times must hold at least 2 grid points, got {times.shape[0]}")
    dt = np.diff(times)
    if not ((dt > 0).all() or (dt < 0).all()):
        k = int(np.flatnonzero(np.sign(dt) != np.sign(dt[0]))[0]) if dt[0] != 0 else 0
        raise ValueError(
            "times must be strictly monotone (all increasing or all decreasing), "
            f"got t[{k}]={times[k]!r}, t[{k + 1}]={times[k + 1]!r}"
        )
    return times


def _check_grid_function(value, name: str, n: int, *, nonnegative: bool) -> np.ndarray:
    """A scalar or a length-``n`` array on the grid, returned as a length-``n`` array."""
    if np.ndim(value) == 0:
        arr = as_float_array(value, name, ndim=0, dtype=np.float64, contiguous=False)
        arr = np.full(n, float(arr))
    else:
        arr = as_float_array(value, name, ndim=1, dtype=np.float64)
        if arr.shape[0] != n:
            raise ValueError(
                f"{name} must be a scalar or have one value per grid time ({n}), "
                f"got shape {arr.shape}"
            )
    if nonnegative and (arr < 0).any():
        raise ValueError(f"{name} must be >= 0, got {arr[arr < 0][0]!r}")
    return np.ascontiguousarray(arr)


def _check_drift_args(drift_args, name: str = "drift_args") -> tuple:
    """A tuple of numeric arrays, numbers, or tuples of them (a GibbsWorkspace), or raise."""
    if not isinstance(drift_args, tuple):
        raise TypeError(
            f"{name} must be a tuple of arrays or numbers, got {type(drift_args).__name__}"
        )
    for i, arg in enumerate(drift_args):
        if isinstance(arg, np.ndarray):
            if arg.dtype.kind not in "biufc":
                raise TypeError(f"{name}[{i}] must have a numeric dtype, got {arg.dtype}")
        elif isinstance(arg, tuple):
            _check_drift_args(arg, f"{name}[{i}]")
        elif not isinstance(arg, (numbers.Number, np.generic)) or isinstance(arg, str):
            raise TypeError(
                f"{name}[{i}] must be a NumPy array, a number or a tuple of them, "
                f"got {type(arg).__name__}"
            )
    return drift_args


#: Default tolerance of :func:`grid_indices`: a few ulps of the largest |t|.
_GRID_RTOL = 8 * np.finfo(np.float64).eps


def grid_indices(values, times, name="times", *, rtol=_GRID_RTOL, hint="") -> np.ndarray:
    """Indices of the grid points ``times`` that the ``values`` fall on (snapshot, clone times).

    A value counts as on the grid when it is within ``rtol * max(1, max|t|)``
    of a grid point (round-off of a grid built with the value included).

    Parameters
    ----------
    values : float or array_like (S,)
        Times to locate.
    times : ndarray (K+1,)
        A strictly monotone grid (increasing or decreasing).
    name : str
        Argument name for the error messages.
    rtol : float
        Tolerance relative to ``max(1, max|t|)``.
    hint : str
        Appended to the off-grid error message (how to build a grid that
        holds the values).

    Returns
    -------
    ndarray of int64 (S,)
        Grid index of each value, in the order given.

    Raises
    ------
    ValueError
        A value off the grid, or two values on the same grid point.
    """
    values = np.atleast_1d(as_float_array(values, name, ndim=(0, 1), dtype=np.float64))
    n = times.shape[0]
    order = np.argsort(times)
    sorted_t = times[order]
    pos = np.clip(np.searchsorted(sorted_t, values), 1, n - 1)
    left, right = sorted_t[pos - 1], sorted_t[pos]
    nearest = np.where(np.abs(values - left) <= np.abs(values - right), pos - 1, pos)
    gap = np.abs(sorted_t[nearest] - values)
    bad = gap > rtol * max(1.0, float(np.abs(times).max()))
    if bad.any():
        raise ValueError(
            f"{name} must lie on the time grid, got {float(values[bad][0])!r} "
            f"(nearest grid time {float(sorted_t[nearest][bad][0])!r}){hint}"
        )
    steps = order[nearest].astype(np.int64)
    if np.unique(steps).shape[0] != steps.shape[0]:
        raise ValueError(f"{name} must not repeat a grid time, got {values.tolist()}")
    return steps


def _check_snapshots(snapshot_times, times: np.ndarray):
    """Map snapshot times to grid indices (exact or within round-off)."""
    n = times.shape[0]
    if snapshot_times is None:
        steps = np.array([n - 1], dtype=np.int64)
    else:
        steps = grid_indices(snapshot_times, times, "snapshot_times")
    slot = np.full(n, -1, dtype=np.int64)
    slot[steps] = np.arange(steps.shape[0])
    return steps, slot


def integrate(
    drift,
    x0,
    times,
    *,
    g=0.0,
    method: str = "euler_maruyama",
    drift_args: tuple = (),
    lam=None,
    seed=None,
    increments=None,
    snapshot_times=None,
    block_steps: int | None = None,
    check_drift: bool = True,
) -> LangevinResult:
    """Integrate ``dx = f(x, t) ds + g(t) dW`` for a batch of trajectories.

    Overdamped Langevin / additive-noise SDE (forward or backward in time,
    ``ds = |dt|``); the backward dynamics of a diffusion model (PHYSICS.md
    §2, dynamical-regimes eq. 3, Ambrogioni eq. 3) and its probability-flow
    ODE (``g = 0``) are special cases. The schemes are given in the module
    docstring (Kloeden & Platen 1992 §10–15; exponential Euler for the OU
    part).

    Parameters
    ----------
    drift : numba-jitted function
        ``drift(X, t, out, *drift_args)`` writes ``f(X, t)`` (shape
        ``(B, d)``) into ``out`` and returns nothing. ``t`` is the signed
        grid time. ``f`` is the rate per unit of ``|dt|``: on a decreasing
        grid it is the drift of the backward process in reversed time. For
        ``method="exponential"`` it is the nonlinear part ``N`` only.
    x0 : array_like, shape (B, d)
        Initial states (copied; integer input is converted to float64).
    times : array_like, shape (K+1,)
        Strictly monotone, finite time grid, ``K >= 1``.
    g : float or array_like of shape (K+1,)
        Noise amplitude ``g(t) >= 0`` on the grid. ``0`` everywhere selects
        the noise-free (ODE) mode.
    method : {"euler_maruyama", "heun", "exponential"}
    drift_args : tuple
        Extra arrays, numbers or tuples of them (such as a
        :class:`statmech.gibbs.GibbsWorkspace`) passed to ``drift`` after ``out``.
    lam : float or array_like of shape (K+1,), optional
        Rate of the linear drift ``-lam(t) x`` treated exactly by
        ``method="exponential"`` (required there, refused otherwise); the
        step uses the trapezoid mean ``(lam_k + lam_{k+1})/2``.
    seed : int, SeedSequence or None
        Seed of the noise (ignored in noise-free mode). ``None`` draws fresh
        entropy, recorded in the result.
    increments : array_like, shape (K, B, d), optional
        Brownian increments ``dW_k`` (variance ``|t_{k+1} - t_k|``), instead
        of a seed.
    snapshot_times : array_like, optional
        Grid times at which to store the state (default: the last time).
    block_steps : int, optional
        Steps per noise block when drawing from a seed (default: about 2^21
        values per block). Does not change the result.
    check_drift : bool
        Call ``drift`` once at ``(x0, t_0)`` before integrating, to report a
        wrong signature or a non-finite drift as an error here.

    Returns
    -------
    LangevinResult

    Raises
    ------
    TypeError, ValueError
        Bad arguments (checked before any kernel runs).
    FloatingPointError
        A state became non-finite (step too large for the drift).
    """
    if not is_jitted(drift):
        raise TypeError(
            f"drift must be a Numba-jitted function drift(X, t, out, *drift_args), got {drift!r}"
        )
    scheme = check_method(method)
    drift_args = _check_drift_args(drift_args)
    times = _check_times(times)
    n_grid = times.shape[0]
    n_steps = n_grid - 1
    x0 = as_float_array(x0, "x0", ndim=2, dtype=np.float64)
    B, d = x0.shape
    g_arr = _check_grid_function(g, "g", n_grid, nonnegative=True)
    noisy = bool((g_arr != 0).any())
    if scheme.needs_rate:
        if lam is None:
            raise ValueError("lam (the rate of the exact linear drift -lam x) is required "
                             "for method='exponential', got None")
        lam_arr = _check_grid_function(lam, "lam", n_grid, nonnegative=False)
        lam_bar = 0.5 * (lam_arr[:-1] + lam_arr[1:])
        if (np.abs(lam_bar * np.abs(np.diff(times))) > 700).any():
            raise ValueError("lam * |dt| must stay below 700 in magnitude (exp overflow)")
    else:
        if lam is not None:
            raise ValueError(
                f"lam is only used by method='exponential', got lam={lam!r} with method={method!r}"
            )
        lam_bar = np.zeros(n_steps)
    if increments is not None and seed is not None:
        raise ValueError("give either seed or increments, not both")
    if increments is not None:
        increments = as_float_array(increments, "increments", ndim=3, dtype=np.float64)
        if increments.shape != (n_steps, B, d):
            raise ValueError(
                f"increments must have shape (K, B, d) = {(n_steps, B, d)}, "
                f"got {increments.shape}"
            )
    if block_steps is None:
        block_steps = max(1, min(n_steps, _BLOCK_VALUES // (B * d)))
    else:
        block_steps = as_int(block_steps, "block_steps", minimum=1)
    seed_seq = as_seed_sequence(seed) if (noisy and increments is None) else None
    snap_steps, snap_slot = _check_snapshots(snapshot_times, times)
    if not isinstance(check_drift, (bool, np.bool_)):
        raise TypeError(f"check_drift must be a bool, got {check_drift!r}")

    X = x0.copy()
    F0 = np.empty_like(X)
    if check_drift:
        F0.fill(np.nan)
        try:
            drift(X.copy(), float(times[0]), F0, *drift_args)
        except Exception as exc:  # report any failure of the user's drift here
            raise TypeError(
                "drift could not be called as drift(X, t, out, *drift_args) with X of shape "
                f"{X.shape}, t float and drift_args of types "
                f"{[type(a).__name__ for a in drift_args]}: {type(exc).__name__}: {exc}"
            ) from exc
        if not np.isfinite(F0).all():
            raise ValueError(
                "drift must write a finite value into every entry of out; at x0 and "
                f"t={times[0]!r} it left {int((~np.isfinite(F0)).sum())} entries non-finite"
            )

    snaps = np.empty((snap_steps.shape[0], B, d))
    if snap_slot[0] >= 0:
        snaps[snap_slot[0]] = X
    Xp = np.empty_like(X) if method == "heun" else np.empty((0, 0))
    F1 = np.empty_like(X) if method == "heun" else np.empty((0, 0))
    step = scheme.step

    if not noisy:
        noise_kind = "none"
        dummy = np.zeros((1, B, d))
        _run_block(step, drift, drift_args, X, times, g_arr, lam_bar, dummy, False,
                   0, n_steps, snap_slot, snaps, F0, Xp, F1)
        _check_finite(X, 0, n_steps, times)
    elif increments is not None:
        noise_kind = "increments"
        for k0 in range(0, n_steps, block_steps):
            k1 = min(n_steps, k0 + block_steps)
            _run_block(step, drift, drift_args, X, times, g_arr, lam_bar, increments[k0:k1],
                       True, k0, k1, snap_slot, snaps, F0, Xp, F1)
            _check_finite(X, k0, k1, times)
    else:
        noise_kind = "seed"
        rng = np.random.default_rng(seed_seq)
        sqrt_h = np.sqrt(np.abs(np.diff(times)))
        buf = np.empty((block_steps, B, d))
        for k0 in range(0, n_steps, block_steps):
            k1 = min(n_steps, k0 + block_steps)
            dW = buf[: k1 - k0]
            rng.standard_normal(out=dW)
            dW *= sqrt_h[k0:k1, None, None]
            _run_block(step, drift, drift_args, X, times, g_arr, lam_bar, dW,
                       True, k0, k1, snap_slot, snaps, F0, Xp, F1)
            _check_finite(X, k0, k1, times)

    return LangevinResult(
        x=X,
        snapshots=snaps,
        snapshot_times=times[snap_steps].copy(),
        snapshot_steps=snap_steps,
        times=times,
        method=method,
        noise=noise_kind,
        seed_entropy=None if seed_seq is None else seed_seq.entropy,
        spawn_key=() if seed_seq is None else tuple(seed_seq.spawn_key),
        block_steps=block_steps,
    )


def _check_finite(X: np.ndarray, k0: int, k1: int, times: np.ndarray) -> None:
    if not np.isfinite(X).all():
        raise FloatingPointError(
            f"the state became non-finite between t={times[k0]!r} and t={times[k1]!r} "
            f"(steps {k0}..{k1 - 1}): the step is too large for this drift, or the drift "
            "returned NaN/inf"
        )
