"""Random energy model theory: Derrida's closed forms, the exact finite-N participation, a general solver.

Conventions as in :mod:`statmech.rem` (the streaming engine these results
are compared with; it re-exports every name here): ``Z = sum_j exp(-beta
E_j)`` unnormalised, ``Y = Z(2 beta)/Z(beta)^2``, sizes per ``M = log2 N``,
the standard REM has ``E_j ~ N(0, M/2)`` and ``beta_c = 2 sqrt(ln 2)``
(PHYSICS.md §4; Derrida 1981).

- ``M -> infinity`` closed forms: :func:`rem_critical_beta`,
  :func:`rem_log_partition`, :func:`rem_free_energy`,
  :func:`rem_mean_participation`;
- the exact ``E[Y]`` and ``E[Y^2]`` at finite ``N`` for Gaussian levels,
  as one-dimensional quadratures over the level distribution
  (:func:`rem_participation_moments`);
- :class:`GeneralREM`: any level entropy ``Sigma(e)``, solved by a Legendre
  transform (the Hopfield overlap ensembles of :mod:`hopfield.ensembles`
  are instances).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.special

from statmech._validation import as_beta, as_float, as_int
from statmech.lse import LN2


# ---------------------------------------------------------------------------
# Theory: the Gaussian REM in closed form
# ---------------------------------------------------------------------------


def _beta_values(beta, name: str = "beta"):
    """``(1-D float64 array, was_scalar)`` of inverse temperatures, all finite and > 0."""
    scalar = np.ndim(beta) == 0
    return as_beta(beta, name), scalar


def _densities(n_levels, variance) -> tuple[float, float]:
    """``(a, v)``: log-count and variance per unit size ``M = log2 N``."""
    if n_levels is None:
        if variance is not None:
            raise ValueError(
                f"variance={variance!r} needs n_levels (the variance is per N = 2^M levels)"
            )
        return LN2, 0.5
    n_levels = as_int(n_levels, "n_levels", minimum=2)
    size = math.log2(n_levels)
    if variance is None:
        variance = size / 2.0
    variance = as_float(variance, "variance", positive=True)
    return LN2, variance / size


def rem_critical_beta(*, n_levels=None, variance=None) -> float:
    """Condensation inverse temperature of the Gaussian REM.

    Physics: the entropy density ``s(e) = ln 2 - e^2 / (2 v)`` (per ``M = log2 N``,
    ``v = variance / M``) vanishes at ``e_0 = -sqrt(2 v ln 2)``, where its slope is
    ``beta_c = sqrt(2 ln 2 / v) = sqrt(2 ln N) / sigma`` (Derrida 1981, eq. 10;
    Mézard, Parisi & Virasoro 1987, ch. 1; PHYSICS.md §4). For the standard REM,
    ``variance = M/2`` and ``beta_c = 2 sqrt(ln 2)``.

    Parameters
    ----------
    n_levels : int, optional
        ``N >= 2``. Default: the standard REM (any ``N``).
    variance : float, optional
        Variance ``> 0`` of each level; default ``M/2``. Needs ``n_levels``.

    Returns
    -------
    float
        ``beta_c`` in units of 1/energy (leading order in ``M``).
    """
    a, v = _densities(n_levels, variance)
    if n_levels is None:
        return 2.0 * math.sqrt(LN2)
    return math.sqrt(2.0 * a / v)


def rem_log_partition(beta, *, n_levels=None, variance=None, normalised=False):
    """Quenched ``lim E[ln Z] / M`` of the Gaussian REM, both sides of ``beta_c``.

    Physics (Derrida 1981, eqs. 9–11; Mézard, Parisi & Virasoro 1987, ch. 1):
    with ``a = ln 2`` and ``v = variance / M`` per ``M = log2 N``,

    - ``phi(beta) = a + v beta^2 / 2`` for ``beta <= beta_c = sqrt(2 a / v)``,
    - ``phi(beta) = beta sqrt(2 a v)`` above (frozen: ``Z`` is dominated by the
      lowest levels, ``e_0 = -sqrt(2 a v)``).

    For the standard REM (``v = 1/2``) that is ``ln 2 + beta^2 / 4`` and
    ``beta sqrt(ln 2)``.

    Parameters
    ----------
    beta : float or array_like
        Inverse temperatures ``> 0``.
    n_levels, variance
        As in :func:`rem_critical_beta`; default the standard REM.
    normalised : bool
        If true, for ``Z_N = Z / N``: subtract ``a = ln 2``.

    Returns
    -------
    float or ndarray
        ``phi(beta)``, per ``M``; same shape as ``beta``.
    """
    betas, scalar = _beta_values(beta)
    a, v = _densities(n_levels, variance)
    beta_c = math.sqrt(2.0 * a / v)
    out = np.where(betas <= beta_c, a + 0.5 * v * betas**2, betas * math.sqrt(2.0 * a * v))
    if normalised:
        out = out - a
    return float(out[0]) if scalar else out


def rem_free_energy(beta, *, n_levels=None, variance=None, normalised=False):
    """Quenched free energy per ``M = log2 N`` of the Gaussian REM, both sides of ``beta_c``.

    Physics: ``f(beta) = -phi(beta) / beta`` with ``phi`` from
    :func:`rem_log_partition` (Derrida 1981, eq. 11): for the standard REM,
    ``f = -ln 2 / beta - beta / 4`` above ``T_c`` and ``f = -sqrt(ln 2)`` (the
    ground-state energy density, frozen) for ``beta > beta_c = 2 sqrt(ln 2)``.
    Normalisation: unnormalised ``Z = sum_j exp(-beta E_j)`` unless
    ``normalised`` (then ``Z_N = Z / N`` and ``f`` grows by ``ln 2 / beta``).

    Parameters
    ----------
    beta : float or array_like
        Inverse temperatures ``> 0``.
    n_levels, variance, normalised
        As in :func:`rem_log_partition`.

    Returns
    -------
    float or ndarray
        ``f(beta)`` in energy units per ``M``.
    """
    betas, scalar = _beta_values(beta)
    phi = rem_log_partition(betas, n_levels=n_levels, variance=variance, normalised=normalised)
    out = -phi / betas
    return float(out[0]) if scalar else out


def rem_mean_participation(beta, beta_c=2.0 * math.sqrt(LN2)):
    """Large-size mean participation ratio ``E[Y] = max(0, 1 - beta_c / beta)``.

    Physics: below ``T_c`` the Gibbs weights of the lowest levels are
    Poisson–Dirichlet with parameter ``m = beta_c / beta``, whose
    ``E[sum_j p_j^2] = 1 - m`` (Derrida 1981; Mézard, Parisi & Virasoro 1987;
    Ambrogioni 2023 eq. 39); above ``T_c``, ``Y -> 0``.

    Parameters
    ----------
    beta : float or array_like
        Inverse temperatures ``> 0``.
    beta_c : float
        Critical inverse temperature ``> 0`` (may be ``inf``: never condenses).

    Returns
    -------
    float or ndarray
    """
    betas, scalar = _beta_values(beta)
    beta_c = as_float(beta_c, "beta_c", positive=True, finite=False)
    out = np.maximum(0.0, 1.0 - beta_c / betas)
    return float(out[0]) if scalar else out


# ---------------------------------------------------------------------------
# The exact participation moments at finite N (Gaussian levels)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipationMoments:
    """Exact moments of the participation ratio ``Y`` of a Gaussian REM at finite ``N``.

    Attributes
    ----------
    beta : ndarray (K,)
        Inverse temperatures.
    mean : ndarray (K,)
        ``E[Y]``.
    second_moment : ndarray (K,)
        ``E[Y^2]``.
    n_levels : int
        ``N``.
    variance : float
        Variance of each level.
    """

    beta: np.ndarray
    mean: np.ndarray
    second_moment: np.ndarray
    n_levels: int
    variance: float

    @property
    def std(self) -> np.ndarray:
        """``sqrt(E[Y^2] - E[Y]^2)``: the sample-to-sample spread of ``Y``."""
        return np.sqrt(np.maximum(self.second_moment - self.mean**2, 0.0))


#: Grid points per ``min(1/beta, sigma/sqrt(2 ln N + 1))``. The sums below
#: converge geometrically in it (the integrands are analytic in a strip of
#: half-width ~pi/(2 beta)): 4 agrees with 8 to 2e-15 in E[Y] and 1.5e-13
#: (relative) in E[Y^2] from N = 2 to 2^64, and 8 with 16 and 32 to 1e-15.
_MOMENT_STEPS = 4
#: The level grid reaches this many standard deviations beyond the lowest
#: typical level and above 0 ...
_MOMENT_TAIL = 10.0
#: ... and this many ``1/beta`` further on both sides (the Boltzmann kernels' width).
_MOMENT_FAR = 30.0
#: ``log2 N`` up to which ``N`` and the level density stay within float64.
MOMENTS_MAX_LOG2_LEVELS = 512


def _participation_moments(beta: float, n_levels: int, sigma: float) -> tuple[float, float]:
    """``(E[Y], E[Y^2])`` at one ``beta`` (see :func:`rem_participation_moments`)."""
    root = math.sqrt(2.0 * math.log(max(n_levels, 2)))
    h = min(1.0 / beta, sigma / math.sqrt(root * root + 1.0)) / _MOMENT_STEPS
    low = -sigma * (root + _MOMENT_TAIL) - _MOMENT_FAR / beta
    high = sigma * _MOMENT_TAIL + _MOMENT_FAR / beta
    n = int(math.ceil((high - low) / h)) + 1
    levels = low + h * np.arange(n)
    density = np.exp(-0.5 * (levels / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi))
    # Kernels at the offsets y - E = j h, j = -(n-1) .. n-1; with y on the
    # level grid each convolution is a discrete one, summed directly (an FFT
    # would lose the relative accuracy of the tiny tail values).
    bx = beta * h * np.arange(-(n - 1), n)
    u = np.exp(np.minimum(bx, 700.0))
    one_minus_phi_kernel = -np.expm1(-u)
    with np.errstate(under="ignore"):
        g2_kernel = np.exp(2.0 * bx - u)
        g4_kernel = np.exp(4.0 * bx - u)
    window = slice(n - 1, 2 * n - 1)
    q = np.minimum(np.convolve(density, one_minus_phi_kernel)[window] * h, 1.0)
    g2 = np.convolve(density, g2_kernel)[window] * h
    g4 = np.convolve(density, g4_kernel)[window] * h
    phi_n1 = np.exp(scipy.special.xlog1py(n_levels - 1.0, -q))
    mean = n_levels * beta * h * float(np.sum(g2 * phi_n1))
    second = n_levels * float(np.sum(g4 * phi_n1))
    if n_levels > 1:  # pairs of distinct levels
        phi_n2 = np.exp(scipy.special.xlog1py(n_levels - 2.0, -q))
        second += n_levels * (n_levels - 1.0) * float(np.sum(g2 * g2 * phi_n2))
    return mean, beta / 6.0 * h * second


def rem_participation_moments(beta, n_levels, *, variance=None) -> ParticipationMoments:
    """Exact ``E[Y]`` and ``E[Y^2]`` of the participation ratio of a Gaussian REM of ``N`` levels.

    *Derived here.* For ``N`` i.i.d. levels of density ``rho`` (``N(0,
    variance)``), Boltzmann factors ``w_j = e^{-beta E_j}`` and ``Z = sum_j
    w_j``, write ``Y = sum_j w_j^2 / Z^2`` and use ``Z^{-k} = int_0^inf
    u^{k-1} e^{-u Z} du / (k-1)!``. The ``N`` levels then decouple; with
    ``u = e^{beta y}``:

        E[Y]   = N beta int dy G_2(y) Phi(y)^{N-1},
        E[Y^2] = (beta/6) int dy [N G_4(y) Phi(y)^{N-1} + N (N-1) G_2(y)^2 Phi(y)^{N-2}],

    with the one-dimensional integrals over the level distribution

        Phi(y) = E[exp(-e^{beta (y - E)})],   G_k(y) = E[e^{k beta (y - E)} exp(-e^{beta (y - E)})].

    ``1 - Phi``, ``G_2``, ``G_4`` are convolutions of ``rho`` with smooth
    kernels, done on one uniform grid (step ``min(1/beta, sigma/sqrt(2 ln N
    + 1))/4``), and the outer integrals are sums on the same grid: for
    these analytic, rapidly decaying integrands that rule converges
    geometrically (halving the step changes ``E[Y]`` by < 2e-15). The cost
    is ``O(n^2)`` for ``n`` grid points: ~0.01 s per ``beta`` at ``N = 2^20``,
    ~1 s at ``N = 2^256``.
    ``N = 1`` gives ``Y = 1`` and ``N = 2`` a one-dimensional integral over
    ``E_1 - E_2`` (tests); at large ``N`` the mean tends to
    :func:`rem_mean_participation` (``1 - beta_c/beta``) with an
    extreme-value correction ``beta_c -> beta_c (1 - ln(4 pi ln N)/(4 ln N))``.

    Parameters
    ----------
    beta : float or array_like
        Inverse temperatures ``> 0``.
    n_levels : int
        ``N``, ``1 <= log2 N <= 512``.
    variance : float, optional
        Variance of each level, ``> 0``; default ``M/2`` with ``M = log2 N``
        (the standard REM).

    Returns
    -------
    ParticipationMoments
        ``mean`` and ``second_moment`` over ``beta`` (arrays, even for a
        scalar ``beta``).
    """
    betas = as_beta(beta, "beta")
    n_levels = as_int(n_levels, "n_levels", minimum=1)
    if math.log2(n_levels) > MOMENTS_MAX_LOG2_LEVELS:
        raise ValueError(
            f"n_levels must be <= 2^{MOMENTS_MAX_LOG2_LEVELS} (float64 range), got 2^"
            f"{math.log2(n_levels):.1f}"
        )
    if variance is None:
        variance = math.log2(n_levels) / 2.0 if n_levels > 1 else 0.5
    variance = as_float(variance, "variance", positive=True)
    sigma = math.sqrt(variance)
    mean = np.empty(betas.shape[0])
    second = np.empty(betas.shape[0])
    for k, b in enumerate(betas):
        mean[k], second[k] = _participation_moments(float(b), n_levels, sigma)
    return ParticipationMoments(beta=betas, mean=mean, second_moment=second, n_levels=n_levels,
                                variance=variance)


# ---------------------------------------------------------------------------
# Theory: the general REM solver
# ---------------------------------------------------------------------------

_FAR = 1e150  # how far the solver searches on an unbounded interval


def _bisect(pred, good: float, bad: float) -> tuple[float, float]:
    """Shrink ``[good, bad]`` (``pred(good)`` true, ``pred(bad)`` false) to adjacent floats.

    ``bad`` is never evaluated, so it may be an open end where the function
    is singular. Plain bisection: sign tests only, so ``-inf`` values are fine,
    and the result is exact to the last ulp.
    """
    while True:
        mid = good + (bad - good) / 2.0
        if mid == good or mid == bad:
            return good, bad
        if pred(mid):
            good = mid
        else:
            bad = mid


def _gaussian_entropy(e, variance_density):
    return -(e * e) / (2.0 * variance_density)


def _gaussian_slope(e, variance_density):
    return -e / variance_density


@dataclass(frozen=True)
class GeneralREM:
    """A REM defined by its level entropy: free energy by a Legendre transform.

    Physics (Derrida 1981; Mézard, Parisi & Virasoro 1987, ch. 1; PHYSICS.md
    §4, §6): a system of size ``M`` has ``exp(M Sigma(e))`` independent levels
    of energy ``M e``, with the total entropy density ``Sigma(e) = log_count +
    entropy(e)`` concave on ``(lower, upper)``. Only levels with ``Sigma >= 0``
    exist in a typical sample, so, per unit size and for ``beta > 0``,

    ``phi(beta) = lim E[ln Z] / M = max_{e >= e_0} [Sigma(e) - beta e]``,

    with ``e_0`` the lowest energy where ``Sigma >= 0``. The dominant level
    ``e*(beta)`` solves ``Sigma'(e*) = beta``; when ``beta`` exceeds
    ``beta_c = Sigma'(e_0)`` it sticks at ``e_0`` where the entropy has reached
    0: the measure condenses on the few lowest levels (frozen phase, ``phi =
    -beta e_0``) and ``E[Y] -> 1 - beta_c / beta``.

    Hopfield capacity (Lucibello & Mézard 2024): with patterns' overlaps ``q``
    with the state, energy ``e = -q``, ``log_count = alpha`` (``P = e^{alpha N}``
    patterns) and the overlap entropy of the ensemble, ``phi(beta)`` is
    ``lim (1/N) ln sum_nu exp(beta N q_nu)``; the overlap ensembles are built
    in :mod:`hopfield.ensembles` (``statmech`` holds no Hopfield physics).

    Parameters
    ----------
    entropy : callable
        ``s(e)`` (float -> float), concave on ``(lower, upper)``; may return
        ``-inf`` at the ends.
    lower, upper : float
        Support of ``s`` (may be infinite).
    log_count : float
        ``alpha``, added to ``s``: ``Sigma = alpha + s``.
    slope : callable, optional
        ``s'(e)``. Without it a fourth-order central difference is used (error
        ~1e-11 for smooth ``s`` away from the ends); pass it for full precision.
    name : str
        Label for ``repr``.

    Raises
    ------
    TypeError, ValueError
        Bad arguments, or an entropy that is negative everywhere (no level
        populated) or non-negative down to ``-inf`` (``ln Z`` diverges).
    """

    entropy: Callable[[float], float]
    lower: float = -math.inf
    upper: float = math.inf
    log_count: float = 0.0
    slope: Callable[[float], float] | None = None
    name: str = "custom"
    _geometry: tuple = field(init=False, repr=False, compare=False)

    # -- construction -----------------------------------------------------

    def __post_init__(self):
        if not callable(self.entropy):
            raise TypeError(f"entropy must be callable s(e) -> float, got {self.entropy!r}")
        if self.slope is not None and not callable(self.slope):
            raise TypeError(f"slope must be None or callable s'(e) -> float, got {self.slope!r}")
        lower = as_float(self.lower, "lower", finite=False)
        upper = as_float(self.upper, "upper", finite=False)
        if not lower < upper:
            raise ValueError(f"lower must be < upper, got lower={lower!r}, upper={upper!r}")
        if lower == math.inf or upper == -math.inf:
            raise ValueError(f"the interval ({lower!r}, {upper!r}) is empty")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        object.__setattr__(self, "log_count", as_float(self.log_count, "log_count"))
        object.__setattr__(self, "_geometry", self._solve_geometry())

    @classmethod
    def gaussian(cls, variance_density=0.5, log_count=LN2, *, name=None) -> "GeneralREM":
        """Gaussian REM: ``Sigma(e) = log_count - e^2 / (2 variance_density)``.

        With the defaults (per ``M = log2 N``, variance ``M/2``) this is the
        standard REM: ``beta_c = 2 sqrt(ln 2)``.

        Parameters
        ----------
        variance_density : float
            Variance of the levels per unit size, ``> 0``.
        log_count : float
            ``Sigma`` at ``e = 0`` (``ln 2`` per bit for ``N = 2^M`` levels).
        name : str, optional
            Label for ``repr`` and error messages (default ``gaussian(v=...)``).

        Returns
        -------
        GeneralREM
        """
        v = as_float(variance_density, "variance_density", positive=True)
        return cls(
            entropy=_Partial(_gaussian_entropy, v),
            slope=_Partial(_gaussian_slope, v),
            log_count=log_count,
            name=f"gaussian(v={v!r})" if name is None else name,
        )

    # -- the entropy and its slope ----------------------------------------

    def total_entropy(self, e: float) -> float:
        """``Sigma(e) = log_count + entropy(e)``, the log-count of levels per unit size.

        Parameters
        ----------
        e : float
            Energy density.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            If the entropy returns NaN.
        """
        value = float(self.log_count + self.entropy(e))
        if math.isnan(value):
            raise ValueError(f"entropy({e!r}) returned NaN")
        return value

    def _slope(self, e: float) -> float:
        if self.slope is not None:
            value = float(self.slope(e))
        else:
            value = self._numeric_slope(e)
        if math.isnan(value):
            raise ValueError(f"slope of the entropy at e={e!r} is NaN")
        return value

    def _numeric_slope(self, e: float) -> float:
        room = min(e - self.lower, self.upper - e)
        h = min(1e-3 * max(1.0, abs(e)), room / 2.5)
        if not h > 0:
            raise ValueError(
                f"cannot differentiate the entropy at the end e={e!r} of its support; pass slope"
            )
        f = self.entropy
        return (-f(e + 2 * h) + 8 * f(e + h) - 8 * f(e - h) + f(e - 2 * h)) / (12.0 * h)

    def _start(self) -> float:
        lo, hi = self.lower, self.upper
        if math.isfinite(lo) and math.isfinite(hi):
            return lo + (hi - lo) / 2.0
        if math.isfinite(lo):
            return lo + 1.0
        if math.isfinite(hi):
            return hi - 1.0
        return 0.0

    def _expand(self, pred, start: float, direction: float) -> tuple[float, float]:
        """From ``start`` (``pred`` true), double the step towards ``direction`` till it fails."""
        step = 1.0
        while step < _FAR:
            point = start + direction * step
            if not pred(point):
                return start, point
            start = point
            step *= 2.0
        raise ValueError(
            f"{self.name}: no end found towards {'+' if direction > 0 else '-'}inf "
            "(entropy not concave or log Z diverges)"
        )

    def _edge(self, pred, start: float, direction: float) -> tuple[float, float]:
        """Bisect for where ``pred`` stops holding, going from ``start`` towards ``direction``."""
        end = self.upper if direction > 0 else self.lower
        if math.isinf(end):
            start, end = self._expand(pred, start, direction)
        return _bisect(pred, start, end)

    def _solve_geometry(self):
        """Peak of ``Sigma``, lower edge ``e_0``, its entropy, and ``Sigma'(e_0)``."""
        c = self._start()
        slope_c = self._slope(c)
        if slope_c > 0:
            peak, _ = self._edge(lambda e: self._slope(e) > 0, c, +1.0)
        elif slope_c < 0:
            peak, _ = self._edge(lambda e: self._slope(e) < 0, c, -1.0)
        else:
            peak = c
        top = self.total_entropy(peak)
        if top < 0:
            raise ValueError(
                f"{self.name}: log_count + entropy(e) < 0 for every e "
                f"(maximum {top!r} at e={peak!r}); "
                "no level is populated"
            )
        good, bad = self._edge(lambda e: self.total_entropy(e) >= 0, peak, -1.0)
        if bad == self.lower:
            # Sigma >= 0 down to the end of the support: levels pile up at the edge.
            try:
                edge_entropy = self.total_entropy(self.lower)
            except (ValueError, ZeroDivisionError, OverflowError):
                edge_entropy = -math.inf
            e0 = self.lower if edge_entropy >= 0 else good
        else:
            edge_entropy = 0.0
            e0 = good
        if e0 == self.lower:
            try:
                freeze = self._slope(e0)
            except (ValueError, ZeroDivisionError, OverflowError):
                freeze = math.inf
        else:
            freeze = self._slope(e0)
        condensed = edge_entropy <= 0.0
        return peak, e0, freeze, condensed

    # -- public results ---------------------------------------------------

    @property
    def lowest_level(self) -> float:
        """``e_0``: lowest energy density with ``Sigma(e) >= 0`` (ground state per unit size)."""
        return self._geometry[1]

    def critical_beta(self) -> float:
        """``beta_c = Sigma'(e_0)``: condensation where the dominant level's entropy reaches 0.

        Returns
        -------
        float
            ``beta_c``; ``inf`` if ``Sigma`` is still positive at the end of its
            support (the levels then pile up at the edge without an entropy crisis).
        """
        _, _, freeze, condensed = self._geometry
        return freeze if condensed else math.inf

    def _dominant(self, beta: float) -> float:
        peak, e0, freeze, _ = self._geometry
        if beta >= freeze or e0 >= peak:
            return e0
        good, bad = _bisect(lambda e: self._slope(e) > beta, e0, peak)
        return good + (bad - good) / 2.0

    def _map(self, func, beta):
        betas, scalar = _beta_values(beta)
        out = np.array([func(float(b)) for b in betas])
        return float(out[0]) if scalar else out

    def dominant_level(self, beta):
        """``e*(beta)``: the energy density that dominates ``Z``; ``e_0`` in the frozen phase.

        Solves ``Sigma'(e*) = beta`` by bisection (Derrida 1981; MPV ch. 1).

        Parameters
        ----------
        beta : float or array_like
            Inverse temperatures ``> 0``.

        Returns
        -------
        float or ndarray
        """
        return self._map(self._dominant, beta)

    def log_partition(self, beta):
        """``phi(beta) = lim E[ln Z] / M = Sigma(e*) - beta e*`` (quenched, unnormalised).

        Parameters
        ----------
        beta : float or array_like
            Inverse temperatures ``> 0``.

        Returns
        -------
        float or ndarray
            ``phi`` per unit size; ``-beta e_0`` in the frozen phase.
        """

        def phi(b):
            e = self._dominant(b)
            return self.total_entropy(e) - b * e

        return self._map(phi, beta)

    def annealed_log_partition(self, beta):
        """``lim ln E[Z] / M = max_e [Sigma(e) - beta e]`` over the whole support.

        Equals :meth:`log_partition` for ``beta <= beta_c`` and exceeds it above
        (Jensen): levels with negative entropy are counted on average.

        Parameters
        ----------
        beta : float or array_like
            Inverse temperatures ``> 0``.

        Returns
        -------
        float or ndarray
        """
        peak = self._geometry[0]

        def phi(b):
            pred = lambda e: self._slope(e) > b  # noqa: E731
            if math.isinf(self.lower):
                good, bad = self._expand(lambda e: not pred(e), peak, -1.0)
                good, bad = _bisect(pred, bad, good)
            else:
                bad, good = _bisect(lambda e: not pred(e), peak, self.lower)
                if bad == self.lower or good == self.lower:
                    good = bad = self.lower
            e = good + (bad - good) / 2.0
            return self.total_entropy(e) - b * e

        return self._map(phi, beta)

    def free_energy(self, beta):
        """``f(beta) = -phi(beta) / beta`` per unit size.

        Parameters
        ----------
        beta : float or array_like
            Inverse temperatures ``> 0``.

        Returns
        -------
        float or ndarray
        """

        def f(b):
            e = self._dominant(b)
            return -(self.total_entropy(e) - b * e) / b

        return self._map(f, beta)

    def complexity(self, beta):
        """``Sigma(e*(beta))``: log-count per unit size of the dominant levels (0 when frozen).

        Parameters
        ----------
        beta : float or array_like
            Inverse temperatures ``> 0``.

        Returns
        -------
        float or ndarray
        """
        return self._map(lambda b: max(self.total_entropy(self._dominant(b)), 0.0), beta)

    def mean_participation(self, beta):
        """Large-size ``E[Y] = max(0, 1 - beta_c / beta)``.

        The lowest levels form a Poisson process of density ``exp(beta_c x)``
        for any smooth ``Sigma`` with slope ``beta_c`` at ``e_0``, hence
        Poisson–Dirichlet weights with ``m = beta_c / beta`` (as for the Gaussian
        REM, Derrida 1981). That generality is our derivation, not a quoted result.

        Parameters
        ----------
        beta : float or array_like
            Inverse temperatures ``> 0``.

        Returns
        -------
        float or ndarray
        """
        return rem_mean_participation(beta, self.critical_beta())


@dataclass(frozen=True)
class _Partial:
    """``func(e, param)`` as a one-argument callable with a readable repr and equality."""

    func: Callable
    param: float

    def __call__(self, e):
        return self.func(e, self.param)


__all__ = [
    "LN2",
    "GeneralREM",
    "ParticipationMoments",
    "MOMENTS_MAX_LOG2_LEVELS",
    "rem_critical_beta",
    "rem_log_partition",
    "rem_free_energy",
    "rem_mean_participation",
    "rem_participation_moments",
]
