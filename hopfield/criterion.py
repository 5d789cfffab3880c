r"""Retrieval criterion of the modern Hopfield network simulated at the REM level.

At ``x = m xi_1`` (the state on the line of the target pattern ``xi_1``) the
softmax weights of the update ``x <- Xi^T softmax(beta Xi x)`` depend on the
other patterns only through their overlaps with the target,

.. math::  q_\nu = \xi_\nu\cdot\xi_1 / N, \qquad \nu = 2..P,

and the target's own ``r_1 = |xi_1|^2 / N``: the target has log-weight
``kappa r_1`` and pattern ``nu`` has ``kappa q_nu``, with ``kappa = beta N m``
(:mod:`hopfield.capacity`, module docstring items 1-2). Given the target, the
``q_nu`` are i.i.d. with an exact finite-N law, so the noise is a REM whose
``P - 1`` levels can be drawn directly, never building a pattern.

Overlap laws, conditioned on the target ``xi_1`` (exact at finite N)
===================================================================
- **spherical** (``|xi|^2 = N``): ``q`` is a coordinate of a uniform point of
  the unit sphere of ``R^N``, density ``∝ (1 - q^2)^{(N-3)/2}`` on
  ``(-1, 1)``, i.e. ``(1 + q)/2 ~ Beta((N-1)/2, (N-1)/2)``; independent of
  ``xi_1`` (rotation invariance); ``r_1 = 1``.
- **binary** (``±1`` entries): ``N q = N - 2 D`` with ``D ~ Binomial(N,
  1/2)`` the number of disagreements, independent of ``xi_1``; ``r_1 = 1``.
  ``D = 0`` (``q = 1``) is a duplicate of the target.
- **Gaussian** (``N(0, 1)`` entries): conditioned on ``xi_1`` the overlaps
  are i.i.d. ``N(0, r_1 / N)`` with the target's own ``r_1 = |xi_1|^2 / N``,
  and ``N r_1 ~ chi^2_N``. Each sample draws ``r_1`` first, then the levels
  given ``r_1``: unconditionally the levels of one sample are exchangeable,
  not independent (they share ``r_1``), and the signal ``kappa r_1``
  fluctuates with the target's norm.

Two criteria, from the same levels
==================================
Let ``U_j(kappa) = sum_nu (q_nu - r_1)^j e^{kappa (q_nu - r_1)}`` (sums
relative to the target's weight).

- **signal** (signal-to-noise at the first update, the issue's ``w_1 > 1/2``):
  at ``x = xi_1``, ``w_1 = 1 / (1 + U_0(beta N))``; the criterion is ``U_0 <
  1``. The full dynamics computes the very same random variable at its first
  update (:attr:`hopfield.capacity.CapacityCurve.signal_successes`).
- **fixed point** (the retrieval criterion): along the line the update maps
  ``m -> g(m) = <q>_kappa / r_1`` (the Gibbs mean over all ``P`` levels,
  target included), the quenched version of the annealed map of
  :func:`hopfield.capacity.finite_size_alpha_1`. ``g`` increases with ``m``
  (``g' = beta N Var_kappa(q) / r_1``), so iterating from ``m = 1``
  converges monotonically to the nearest fixed point, and the target is
  retrieved iff that fixed point lies in the success window ``|m - 1| <
  w`` of :func:`hopfield.capacity.success_window`: iff ``h = g - m >= 0``
  somewhere on ``[1 - w, 1]`` (when ``g(1) < 1``), or ``h <= 0`` somewhere
  on ``[1, 1 + w]`` (``g(1) > 1``, Gaussian only). ``h`` and ``h'`` are
  computed exactly on a uniform grid of ``kappa`` and the criterion is
  decided on the cubic Hermite interpolant between nodes (its error is
  ``O(dm^4)``). The orthogonal part of the state (the parts of the noise
  patterns orthogonal to ``xi_1``) is what this reduction drops; the tests
  measure its effect against the full dynamics.

Streaming ``P = e^{alpha N}`` levels
====================================
The loads of a sample are nested (prefixes of one draw, as in the full
simulation), so the levels come interval by interval, ``[P_{k-1}, P_k)``.
In each interval the counts are ``Multinomial(P_k - P_{k-1})`` over: the
*tail* ``q > c`` (its levels then drawn one by one from the law truncated to
``q > c``, by rejection from a tangent exponential: exact), and the cells of
a Gauss–Legendre rule on ``q <= c`` (the *bulk*: each cell's levels sit at
its node). The cut ``c`` puts about ``tail_levels`` expected levels above it
at the largest load, so the levels that can dominate (the REM's extremes)
are all drawn exactly; the bulk sums, ``sum_i n_i (q_i - r_1)^j
e^{kappa (q_i - r_1)}``, have the exact mean and every low joint moment in
``kappa`` of the true sums, to the rule's precision (~1e-14 with 128 nodes:
tested against the closed-form moment generating functions). When ``P`` is
at most ``4 tail_levels`` every level is drawn (no bulk). Binary overlaps
take ``N + 1`` values: their counts are drawn exactly, whatever ``P``.
Counts of more than ``2^62`` levels (``alpha N > 43``) are drawn category by
category (:func:`_multinomial`), with errors far below anything a criterion
sees; smaller counts by exact conditional binomials (:func:`_conditional_binomials`:
NumPy's multinomial would put ~1e-16 of the levels on the node next to the cut).

Gaussian targets' norms may be drawn in strata (``stratify=True``): sample
``s`` takes ``r_1`` in the ``s``-th equal-probability stratum of its law,
which removes the norm's variance from the estimated probabilities.

Randomness: sample ``s`` uses ``SeedSequence(entropy, spawn_key=key + (s,))``
alone (an SFC64 generator); results depend only on the seed (not on
``threads``).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.special
import scipy.stats

from statmech._fastexp import exp_nonpositive
from statmech._numba import kernel
from statmech._validation import as_float, as_float_array, as_int, as_seed_sequence, child_seed
from statmech.lse import LN2

from hopfield.capacity import success_window
from hopfield.patterns import check_ensemble

#: Gauss–Legendre nodes of the bulk rule.
BULK_NODES = 128
#: Expected number of levels drawn one by one (above the cut) at the largest load.
TAIL_LEVELS = 4096
#: Grid intervals of ``m`` over the success window ``[1 - w, 1]``.
GRID_INTERVALS = 128
#: Largest count of one exact multinomial draw (NumPy's int64 counts).
_MAX_DRAW = 1 << 62
#: Beyond ``_MAX_DRAW``: category counts with a smaller mean are drawn as Poisson variates.
_POISSON_MEAN = 1e4
#: Standardised lower end of the Gaussian bulk rule (``Phi(-40)`` is below 1e-300).
_GAUSS_LOW = -40.0
#: Exp recurrence restarts every this many grid points (round-off ~ this many ulp).
_RESTART = 16
#: Levels per tile of the grid-sum kernel (its work arrays stay in L1).
_TILE = 256
#: Terms below this (relative to the target's weight) are dropped.
_TINY = 2.0**-1000


# --------------------------------------------------------------------------
# Exact finite-N overlap laws
# --------------------------------------------------------------------------


class OverlapLaw:
    """Law of ``q = xi.xi_1 / N`` for a random pattern ``xi``, given the target ``xi_1``.

    Module docstring: spherical ``∝ (1 - q^2)^{(N-3)/2}``; binary ``1 - 2
    Binomial(N, 1/2) / N``; Gaussian ``N(0, r_1 / N)`` with ``r_1 = |xi_1|^2 /
    N`` (``signal_norm``).

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    n_features : int
        ``N`` (``>= 3`` for spherical, ``>= 1`` otherwise).
    signal_norm : float
        ``r_1 > 0`` (Gaussian only; 1 for the other ensembles).
    """

    def __init__(self, ensemble, n_features, signal_norm=1.0):
        self.ensemble = check_ensemble(ensemble)
        minimum = 3 if ensemble == "spherical" else 1
        self.n_features = as_int(n_features, "n_features", minimum=minimum)
        self.signal_norm = as_float(signal_norm, "signal_norm", positive=True)
        if ensemble != "gaussian" and self.signal_norm != 1.0:
            raise ValueError(f"signal_norm is |xi_1|^2/N = 1 for {ensemble} patterns, got {signal_norm!r}")
        n = self.n_features
        self.discrete = ensemble == "binary"
        if ensemble == "spherical":
            self._a = 0.5 * (n - 1)
            self._log_norm = (scipy.special.gammaln(0.5 * n) - 0.5 * math.log(math.pi)
                              - scipy.special.gammaln(0.5 * (n - 1)))
        elif ensemble == "gaussian":
            self.scale = math.sqrt(self.signal_norm / n)
        else:
            d = np.arange(n + 1)
            self.values = 1.0 - 2.0 * d / n
            self.probabilities = np.exp(scipy.special.gammaln(n + 1) - scipy.special.gammaln(d + 1)
                                        - scipy.special.gammaln(n - d + 1) - n * LN2)

    # -- densities --------------------------------------------------------

    def logpdf(self, q):
        """Log density (continuous ensembles) of ``q``; ``-inf`` outside the support."""
        q = np.asarray(q, dtype=np.float64)
        if self.ensemble == "spherical":
            with np.errstate(divide="ignore", invalid="ignore"):
                inside = np.abs(q) < 1
                return np.where(inside, self._log_norm + 0.5 * (self.n_features - 3)
                                * np.log1p(-np.where(inside, q * q, 0.0)), -np.inf)
        if self.ensemble == "gaussian":
            return scipy.stats.norm.logpdf(q, scale=self.scale)
        raise ValueError("binary overlaps are discrete: use values and probabilities")

    def cdf(self, q):
        """``P(q' <= q)``."""
        q = np.asarray(q, dtype=np.float64)
        if self.ensemble == "spherical":
            return scipy.special.betainc(self._a, self._a, np.clip(0.5 * (1 + q), 0, 1))
        if self.ensemble == "gaussian":
            return scipy.special.ndtr(q / self.scale)
        return np.array([self.probabilities[self.values <= v].sum() for v in np.atleast_1d(q)]).reshape(q.shape)

    def sf(self, c) -> float:
        """``P(q > c)``, accurate in the far tail."""
        if self.ensemble == "spherical":
            if c <= -1:
                return 1.0
            if c >= 1:
                return 0.0
            return float(scipy.special.betainc(self._a, self._a, 0.5 * (1 - c)))
        if self.ensemble == "gaussian":
            return float(scipy.special.ndtr(-c / self.scale))
        return float(self.probabilities[self.values > c].sum())

    def cutoff(self, fraction) -> float:
        """``c`` with ``P(q > c) = fraction`` (the lower end of the support for ``fraction >= 1``)."""
        if self.ensemble == "spherical":
            if fraction >= 1:
                return -1.0
            return float(1.0 - 2.0 * scipy.special.betaincinv(self._a, self._a, fraction))
        if self.ensemble == "gaussian":
            if fraction >= 1:
                return -math.inf
            return float(-self.scale * scipy.special.ndtri(fraction))
        raise ValueError("binary overlaps are discrete: no cut is needed")

    # -- sampling ---------------------------------------------------------

    def sample(self, rng, size) -> np.ndarray:
        """``size`` independent overlaps from the whole law (exact).

        Spherical: ``(1 - q^2)^k <= e^{-k q^2}`` (``k = (N-3)/2``), so normal
        proposals of variance ``1/(2k)`` accepted with probability ``(1 -
        q^2)^k e^{k q^2}`` are exact draws (acceptance ``~1 - 3/(8k)``; a
        squeeze skips the logarithm for most). ``N = 3`` is uniform.
        """
        if self.ensemble == "spherical":
            k = 0.5 * (self.n_features - 3)
            if k == 0:
                return 2.0 * rng.random(size) - 1.0
            out = np.empty(int(size))
            filled = 0
            while filled < out.shape[0]:
                want = out.shape[0] - filled
                n_try = int(want * (1.0 + 1.0 / k)) + 16
                z = rng.standard_normal(n_try)
                u = rng.random(n_try)
                filled += _accept_spherical(z, u, k, out[filled:])
            return out
        if self.ensemble == "gaussian":
            return self.scale * rng.standard_normal(size)
        return 1.0 - 2.0 * rng.binomial(self.n_features, 0.5, size) / self.n_features

    def sample_tail(self, rng, size, c) -> np.ndarray:
        """``size`` overlaps from the law conditioned on ``q > c`` (exact, by rejection).

        Spherical with ``c > 0`` and Gaussian with ``c > sigma / 2``: proposals
        ``c + Exp(lam)`` from the tangent of the log-concave log-density at
        ``c`` (an upper bound), accepted with the density ratio. Otherwise
        draws from the whole law, kept above ``c`` (acceptance ``>= 0.3``).
        """
        size = int(size)
        out = np.empty(size)
        filled = 0
        if self.ensemble == "spherical" and c > 0:
            k = 0.5 * (self.n_features - 3)
            lam = 2.0 * k * c / (1.0 - c * c)
            top = 1.0 - c
            if lam * top < 1e-3 or k == 0:  # nearly flat: uniform proposals on (c, 1)
                lam = 0.0
            while filled < size:
                want = size - filled
                n_try = int(want * 1.2) + 16
                u = rng.random(n_try)
                if lam > 0:
                    y = -np.log1p(-u * -np.expm1(-lam * top)) / lam
                else:
                    y = u * top
                q = c + y
                log_ratio = k * (np.log1p(-q * q) - math.log1p(-c * c)) + lam * y
                keep = q[(np.log(rng.random(n_try)) < log_ratio) & (q < 1.0)][:want]
                out[filled:filled + keep.size] = keep
                filled += keep.size
            return out
        if self.ensemble == "gaussian" and c > 0.5 * self.scale:
            zc = c / self.scale
            lam = 0.5 * (zc + math.sqrt(zc * zc + 4.0))
            while filled < size:
                want = size - filled
                n_try = int(want * 1.3) + 16
                z = zc + rng.standard_exponential(n_try) / lam
                accept = rng.random(n_try) <= np.exp(-0.5 * (z - lam) ** 2)
                keep = z[accept][:want]
                out[filled:filled + keep.size] = self.scale * keep
                filled += keep.size
            return out
        while filled < size:
            want = size - filled
            q = self.sample(rng, int(want * 3.5) + 16)
            keep = q[q > c][:want]
            out[filled:filled + keep.size] = keep
            filled += keep.size
        return out

    def bulk_rule(self, c, n_nodes=BULK_NODES):
        """Nodes and cell probabilities of the law on ``q <= c`` (Gauss–Legendre rule).

        Returns ``(q_i, p_i)`` with ``sum_i p_i = P(q <= c)`` exactly (the
        rule's weights rescaled by the exact mass, a ~1e-14 change).
        Binary: the values ``<= c`` and their exact probabilities.
        """
        if self.discrete:
            below = self.values <= c
            return self.values[below].copy(), self.probabilities[below].copy()
        mass = 1.0 - self.sf(c)
        if mass <= 0:
            return np.empty(0), np.empty(0)
        x, w = np.polynomial.legendre.leggauss(n_nodes)
        lo = -1.0 if self.ensemble == "spherical" else _GAUSS_LOW * self.scale
        hi = min(c, 1.0) if self.ensemble == "spherical" else c
        q = lo + (hi - lo) * 0.5 * (x + 1.0)
        p = w * 0.5 * (hi - lo) * np.exp(self.logpdf(q))
        return q, p * (mass / p.sum())


def sample_overlaps(ensemble, n_features, size, *, seed=None, signal_norm=1.0) -> np.ndarray:
    """Draw overlaps ``q = xi.xi_1 / N`` of random patterns with a fixed target, from the exact law.

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    n_features : int
    size : int
    seed : None, int or SeedSequence
    signal_norm : float
        ``r_1 = |xi_1|^2 / N`` of the target (Gaussian).

    Returns
    -------
    ndarray, shape (size,)
    """
    law = OverlapLaw(ensemble, n_features, signal_norm)
    size = as_int(size, "size", minimum=0)
    rng = np.random.default_rng(as_seed_sequence(seed))
    return law.sample(rng, size)


# --------------------------------------------------------------------------
# Kernels: sums on the kappa grid
# --------------------------------------------------------------------------


@kernel
def _accept_spherical(z, u, k, out):
    """Keep ``q = z / sqrt(2k)`` with probability ``exp(k (ln(1 - q^2) + q^2))``; fill ``out`` in order.

    Squeeze: ``ln(1 - q^2) + q^2 >= -q^4 / (2 (1 - q^2))``, so ``u <= 1 - k q^4
    / (2 (1 - q^2))`` accepts without the logarithm. Returns the number written.
    """
    scale = 1.0 / math.sqrt(2.0 * k)
    n = 0
    for i in range(z.shape[0]):
        if n == out.shape[0]:
            break
        q = z[i] * scale
        q2 = q * q
        if q2 >= 1.0:
            continue
        if u[i] <= 1.0 - k * q2 * q2 / (2.0 * (1.0 - q2)) or math.log(u[i]) < k * (math.log1p(-q2) + q2):
            out[n] = q
            n += 1
    return n


@kernel
def _flush(x):
    """``x`` if ``x >= 2^-1000`` else 0: keeps subnormal numbers (and their slow arithmetic) out."""
    return x if x >= _TINY else 0.0


@kernel
def _level_sums(levels, r1, kappa0, dkappa, out0, out1, out2):
    """Add ``sum_i d_i^j exp(kappa_g d_i)`` (``d = q - r_1``, ``j = 0, 1, 2``) on the grid ``kappa_g``.

    ``kappa_g = kappa0 + g dkappa``. Levels go in tiles of :data:`_TILE`,
    shifted by the tile's largest ``d`` (``top >= 0``) so that every term is
    at most 1; along the grid a term is advanced by one multiplication,
    restarted from a direct exp every :data:`_RESTART` points (relative
    round-off below ~20 ulp), four grid points per sweep of the tile (as in
    :mod:`statmech.rem`'s kernel). Terms below ``2^-1000`` of the target's
    weight are dropped. The inner loops run over the tile and vectorise.
    """
    n = levels.shape[0]
    n_grid = out0.shape[0]
    d = np.empty(_TILE)
    d2 = np.empty(_TILE)
    step = np.empty(_TILE)
    x = np.empty(_TILE)
    sums = np.empty((3, 4))
    for start in range(0, n, _TILE):
        m = min(_TILE, n - start)
        top = 0.0
        for i in range(m):
            value = levels[start + i] - r1
            d[i] = value
            d2[i] = value * value
            top = max(top, value)
        for i in range(m):
            step[i] = exp_nonpositive(dkappa * (d[i] - top))
        for g0 in range(0, n_grid, _RESTART):
            kappa = kappa0 + g0 * dkappa
            for i in range(m):
                x[i] = _flush(exp_nonpositive(kappa * (d[i] - top)))
            g_end = min(g0 + _RESTART, n_grid)
            g = g0
            while g < g_end:
                width = min(4, g_end - g)
                a00 = 0.0
                a01 = 0.0
                a02 = 0.0
                a10 = 0.0
                a11 = 0.0
                a12 = 0.0
                a20 = 0.0
                a21 = 0.0
                a22 = 0.0
                a30 = 0.0
                a31 = 0.0
                a32 = 0.0
                if width == 4:
                    for i in range(m):
                        r = step[i]
                        di = d[i]
                        di2 = d2[i]
                        xi = x[i]
                        a00 += xi
                        a01 += xi * di
                        a02 += xi * di2
                        xi = _flush(xi * r)
                        a10 += xi
                        a11 += xi * di
                        a12 += xi * di2
                        xi = _flush(xi * r)
                        a20 += xi
                        a21 += xi * di
                        a22 += xi * di2
                        xi = _flush(xi * r)
                        a30 += xi
                        a31 += xi * di
                        a32 += xi * di2
                        x[i] = _flush(xi * r)
                    sums[0, 0], sums[1, 0], sums[2, 0] = a00, a01, a02
                    sums[0, 1], sums[1, 1], sums[2, 1] = a10, a11, a12
                    sums[0, 2], sums[1, 2], sums[2, 2] = a20, a21, a22
                    sums[0, 3], sums[1, 3], sums[2, 3] = a30, a31, a32
                else:
                    for w in range(width):
                        b0 = 0.0
                        b1 = 0.0
                        b2 = 0.0
                        for i in range(m):
                            xi = x[i]
                            b0 += xi
                            b1 += xi * d[i]
                            b2 += xi * d2[i]
                            x[i] = _flush(xi * step[i])
                        sums[0, w], sums[1, w], sums[2, w] = b0, b1, b2
                for w in range(width):
                    scale = math.exp((kappa0 + (g + w) * dkappa) * top) if top > 0.0 else 1.0
                    out0[g + w] += sums[0, w] * scale
                    out1[g + w] += sums[1, w] * scale
                    out2[g + w] += sums[2, w] * scale
                g += width


@kernel
def _level_sums_rows(levels, bounds, r1, kappa0, dkappa, out0, out1, out2):
    """:func:`_level_sums` of ``levels[bounds[k]:bounds[k+1]]`` into row ``k`` of each output (K, G)."""
    for k in range(out0.shape[0]):
        if bounds[k + 1] > bounds[k]:
            _level_sums(levels[bounds[k]:bounds[k + 1]], r1, kappa0, dkappa, out0[k], out1[k], out2[k])


def _grid_terms(q, r1, kappas):
    """``(E, E d, E d^2)`` with ``E[i, g] = exp(kappa_g (q_i - r_1))``: the bulk nodes on the grid."""
    d = (q - r1)[:, None]
    e = np.exp(d * kappas[None, :])
    return e, e * d, e * d * d


# --------------------------------------------------------------------------
# Decisions from the sums
# --------------------------------------------------------------------------


def _hermite_extreme(h0, h1, d0, d1, step, find_max):
    """Max (or min) over each interval of the cubic Hermite interpolant of ``(h, h')``; arrays (..., G-1)."""
    d0 = d0 * step
    d1 = d1 * step
    a = 2.0 * (h0 - h1) + d0 + d1
    b = 3.0 * (h1 - h0) - 2.0 * d0 - d1
    c = d0
    best = np.maximum(h0, h1) if find_max else np.minimum(h0, h1)
    qa, qb, qc = 3.0 * a, 2.0 * b, c
    disc = qb * qb - 4.0 * qa * qc
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt(np.where(disc >= 0, disc, np.nan))
        for sign in (-1.0, 1.0):
            t = np.where(np.abs(qa) > 1e-300, (-qb + sign * root) / (2.0 * qa), -qc / qb)
            ok = np.isfinite(t) & (t > 0) & (t < 1)
            value = ((a * t + b) * t + c) * t + h0
            value = np.where(ok, value, best)
            best = np.maximum(best, value) if find_max else np.minimum(best, value)
    return best


def decide_fixed_point(u0, u1, u2, m_grid, beta, n_features, r1, window):
    """Fixed-point criterion from the grid sums (module docstring).

    Parameters
    ----------
    u0, u1, u2 : ndarray, shape (..., G)
        ``U_j`` on the grid ``m_grid`` (``kappa = beta N m``).
    m_grid : ndarray, shape (G,)
        Uniform, containing ``1 - window`` and 1 (and ``1 + window`` if the
        grid extends above 1).
    beta, n_features, r1, window
        ``r1`` broadcasts against ``u0[..., 0]``.

    Returns
    -------
    ndarray of bool, shape (...)
    """
    r1 = np.asarray(r1, dtype=np.float64)[..., None]
    t0 = 1.0 + u0
    mean_dev = u1 / t0
    var = np.maximum(u2 / t0 - mean_dev * mean_dev, 0.0)
    h = 1.0 + mean_dev / r1 - m_grid
    dh = beta * n_features * var / r1 - 1.0
    step = float(m_grid[1] - m_grid[0])
    one = int(round((1.0 - m_grid[0]) / step))
    low = int(round((1.0 - window - m_grid[0]) / step))
    lower = _hermite_extreme(h[..., low:one], h[..., low + 1:one + 1], dh[..., low:one], dh[..., low + 1:one + 1],
                             step, True).max(axis=-1) >= 0.0
    h_one = h[..., one]
    if one == m_grid.shape[0] - 1:
        going_up = np.zeros(h_one.shape, dtype=bool)
        upper = np.zeros(h_one.shape, dtype=bool)
    else:
        going_up = h_one > 0
        top = int(round((1.0 + window - m_grid[0]) / step))
        upper = _hermite_extreme(h[..., one:top], h[..., one + 1:top + 1], dh[..., one:top],
                                 dh[..., one + 1:top + 1], step, False).min(axis=-1) <= 0.0
    return np.where(going_up, upper, lower)


def _m_grid(window, upper):
    """Uniform grid of ``m`` from ``1 - window`` to 1 (to ``1 + window`` if ``upper``)."""
    n_low = GRID_INTERVALS
    step = window / n_low
    n = 2 * n_low + 1 if upper else n_low + 1
    return (1.0 - window) + step * np.arange(n)


def level_criteria(levels, beta, n_features, *, signal_norm=1.0, window=None, ensemble="spherical"):
    """Both criteria for explicit noise levels ``q_nu`` (the reference path of the sampler).

    Parameters
    ----------
    levels : array_like, shape (L,)
        Overlaps ``q_nu`` of the ``P - 1`` noise patterns with the target.
    beta : float
    n_features : int
    signal_norm : float
        ``r_1``.
    window : float, optional
        Success half-width; default :func:`hopfield.capacity.success_window`.
    ensemble : str
        Only for the default window.

    Returns
    -------
    (bool, bool, float)
        Fixed-point success, signal success (``w_1 > 1/2``), and ``ln U_0(beta N)``.
    """
    levels = as_float_array(levels, "levels", ndim=1, dtype=np.float64, allow_empty=True)
    beta = as_float(beta, "beta", positive=True)
    n_features = as_int(n_features, "n_features", minimum=1)
    r1 = as_float(signal_norm, "signal_norm", positive=True)
    if window is None:
        window = success_window(ensemble, beta)
    m = _m_grid(window, upper=bool((levels > r1).any()) or ensemble == "gaussian")
    kappas = beta * n_features * m
    u = [np.zeros(m.shape[0]) for _ in range(3)]
    _level_sums(levels, r1, kappas[0], kappas[1] - kappas[0], *u)
    one = int(round((1.0 - m[0]) / (m[1] - m[0])))
    ok = bool(decide_fixed_point(u[0], u[1], u[2], m, beta, n_features, r1, window))
    return ok, bool(u[0][one] < 1.0), float(np.log(u[0][one])) if u[0][one] > 0 else -math.inf


# --------------------------------------------------------------------------
# Finite-N theory of the criteria
# --------------------------------------------------------------------------


def _check_setting(ensemble, beta, n_features):
    """``(ensemble, beta, N)`` checked: a known ensemble, ``beta > 0``, ``N >= 3`` (spherical) or ``>= 1``."""
    ensemble = check_ensemble(ensemble)
    beta = as_float(beta, "beta", positive=True)
    n_features = as_int(n_features, "n_features", minimum=3 if ensemble == "spherical" else 1)
    return ensemble, beta, n_features


def finite_size_signal_alpha(ensemble, beta, n_features) -> float:
    """Annealed finite-N threshold of the signal criterion ``w_1 = 1/2`` at ``x = xi_1``.

    ``(P - 1) M_0(beta N) = e^{beta N r_1}``, i.e. ``alpha = ln(1 + e^{beta N
    r_1} / M_0(beta N)) / N``, with the exact finite-N moment generating
    function of the overlap law (:func:`hopfield.capacity` item 6) and, for
    Gaussian patterns, ``M_0 = e^{beta^2 N r_1 / 2}`` given the target's norm
    at the median of ``chi^2_N / N`` (the median target). Valid where the
    noise sum is self-averaging (``alpha + s(q_{2 beta}) > 0`` at the
    threshold); tends to :func:`hopfield.capacity.alpha_1` like ``1/N``.

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    beta : float
    n_features : int

    Returns
    -------
    float
    """
    from hopfield.capacity import _noise_moments

    ensemble, beta, n = _check_setting(ensemble, beta, n_features)
    r1 = scipy.stats.chi2.median(n) / n if ensemble == "gaussian" else 1.0
    kappa = beta * n
    if ensemble == "gaussian":
        log_m0 = 0.5 * kappa * kappa * r1 / n
    else:
        log_m0, _ = _noise_moments(ensemble, kappa, n, 1.0)
    x = kappa * r1 - log_m0
    return float((x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))) / n)


def binary_infinite_beta_thresholds(n_features):
    """Exact finite-N thresholds of binary patterns at ``beta = inf`` (the argmax update).

    At ``beta = inf`` the update from ``x = xi_t`` returns ``xi_t`` with weight
    1 unless another pattern duplicates it (then the weight is at most 1/2).

    - *typical pattern* (one target): retrieved with probability ``(1 -
      2^{-N})^{P-1}``; that is 1/2 at ``alpha_typ(N) = ln(1 + ln 2 /
      -ln(1 - 2^{-N})) / N -> ln 2`` (the ``beta -> inf`` limit of ``alpha_1
      = beta - ln cosh beta``);
    - *all patterns* (every one of the P retrieved, the capacity of
      Demircigil et al. 2017, ``~2^{N/2}`` patterns): no two patterns equal,
      probability ``prod_{i<P} (1 - i 2^{-N})``; 1/2 at ``alpha_all(N) -> ln 2
      / 2 = alpha_1 / 2``.

    Parameters
    ----------
    n_features : int
        ``N >= 1``.

    Returns
    -------
    (float, float)
        ``(alpha_typ(N), alpha_all(N))``.
    """
    n = as_int(n_features, "n_features", minimum=1)
    x = 2.0**-n
    log_q = math.log1p(-x)  # ln(1 - 2^-N)
    typical = math.log1p(LN2 / -log_q) / n

    def log_all_distinct(p):
        """``ln prod_{i<p} (1 - i x)``: exact sum below 2e6 factors, else its expansion to second order."""
        if p < 2_000_000:
            return float(np.sum(np.log1p(-np.arange(p) * x)))
        return -x * p * (p - 1) / 2.0 - x * x * (p - 1) * p * (2 * p - 1) / 12.0

    target = -LN2
    lo, hi = 1, 2  # integers: all distinct with probability above 1/2 at lo, not at hi
    while log_all_distinct(hi) > target:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if log_all_distinct(mid) > target:
            lo = mid
        else:
            hi = mid
    l0, l1 = log_all_distinct(lo), log_all_distinct(hi)
    crossing = lo + (l0 - target) / (l0 - l1)  # linear in P between the two integers
    return typical, math.log(crossing) / n


# --------------------------------------------------------------------------
# The sampler
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionCurve:
    """REM-level retrieval criteria against load for one ``(ensemble, beta, N)``.

    Attributes
    ----------
    ensemble : str
    beta : float
    n_features : int
    alphas : ndarray, shape (K,)
        Loads (increasing); ``P_k = round(e^{alpha_k N})``.
    n_patterns : ndarray of float64, shape (K,)
        ``P_k`` (float: may exceed int64).
    success : ndarray of bool, shape (S, K)
        Fixed-point criterion per sample and load.
    signal : ndarray of bool, shape (S, K)
        Signal-to-noise criterion ``w_1 > 1/2`` at ``x = xi_1``.
    log_noise : ndarray, shape (S, K)
        ``ln U_0(beta N) = ln(Z_noise / e^{beta N r_1})`` at ``x = xi_1``.
    signal_norm : ndarray, shape (S,)
        ``r_1`` of each sample's target (1 except Gaussian).
    window : float
    tail_fraction : float
        ``P(q > c)`` of the cut (1: every level drawn).
    mean_drawn : float
        Mean number of levels drawn one by one per sample.
    stratified : bool
        Whether the samples are strata of the target's norm (in order).
    """

    ensemble: str
    beta: float
    n_features: int
    alphas: np.ndarray
    n_patterns: np.ndarray
    success: np.ndarray
    signal: np.ndarray
    log_noise: np.ndarray
    signal_norm: np.ndarray
    window: float
    tail_fraction: float
    mean_drawn: float
    stratified: bool = False

    @property
    def probability(self) -> np.ndarray:
        """Fraction of samples whose target is a retrieved fixed point, per load."""
        return self.success.mean(axis=0)

    @property
    def signal_probability(self) -> np.ndarray:
        """Fraction of samples with ``w_1 > 1/2`` at ``x = xi_1``, per load."""
        return self.signal.mean(axis=0)


def _interval_sizes(alphas, n_features):
    """``P_k`` (exact integers) and the noise levels added per interval, ``P_k - P_{k-1}`` (``P_0 = 1``)."""
    sizes = [max(1, int(round(math.exp(a * n_features)))) for a in alphas]
    previous = [1] + sizes[:-1]
    return sizes, [p - q for p, q in zip(sizes, previous)]


def _multinomial(rng, n, probabilities, numpy_draw=False):
    """Multinomial counts (float64) for an integer ``n`` of any size.

    Exact for ``n <= 2^62`` (:func:`_conditional_binomials`). Beyond, each category
    independently: Poisson with the category's mean when that is below
    :data:`_POISSON_MEAN` (total-variation distance to the binomial below
    ``mean^2 / n < 1e-11``), otherwise a rounded normal with the binomial's
    mean and variance (skewness below 1e-2 of a relative fluctuation below
    1e-2). The multinomial's correlations, ``-sqrt(p_i p_j)`` between
    relative fluctuations of size ``(n p)^{-1/2} < 1e-7``, are dropped: the
    counts' errors are far below anything a criterion can see. (A
    sequential draw would leave the float64 round-off of ``n``, ~``1e-16 n``
    levels, in its last category.)

    ``numpy_draw=True`` takes NumPy's ``Generator.multinomial`` for ``n <=
    2^62`` instead: its last categories get round-off counts (see
    :func:`_conditional_binomials`), harmless only when they carry no weight.
    The binary law uses it (its categories run from ``q = 1`` down to ``q =
    -1``: the leftover sits at weight ``e^{-2 kappa}``), which keeps the
    random stream of its published runs.
    """
    return _multinomial_rows(rng, [n], probabilities, numpy_draw)[0]


def _multinomial_rows(rng, sizes, probabilities, numpy_draw=False):
    """:func:`_multinomial` for each integer of ``sizes`` (one row each), drawn in vectorised calls."""
    sizes = list(sizes)
    counts = np.zeros((len(sizes), probabilities.shape[0]))
    exact = [i for i, n in enumerate(sizes) if n <= _MAX_DRAW]
    huge = [i for i, n in enumerate(sizes) if n > _MAX_DRAW]
    if exact:
        draw = rng.multinomial if numpy_draw else partial(_conditional_binomials, rng)
        counts[exact] = draw(np.array([sizes[i] for i in exact], dtype=np.int64), probabilities)
    if huge:
        mean = np.array([float(sizes[i]) for i in huge])[:, None] * probabilities[None, :]
        small = mean < _POISSON_MEAN
        rows = np.empty_like(mean)
        rows[small] = rng.poisson(mean[small])
        big = ~small
        share = np.broadcast_to(probabilities, mean.shape)[big]
        sd = np.sqrt(mean[big] * (1.0 - share))
        rows[big] = np.maximum(np.rint(mean[big] + sd * rng.standard_normal(int(big.sum()))), 0.0)
        counts[huge] = rows
    return counts


def _conditional_binomials(rng, sizes, probabilities):
    """Exact multinomial counts, shape (len(sizes), C), for int64 ``sizes``, whatever the categories' masses.

    Category ``j`` takes ``Binomial(n_left, p_j / S_j)`` of the ``n_left``
    levels not yet placed, with ``S_j = sum_{i >= j} p_i`` summed from the
    end (accurate relative to ``p_j`` however small); the last category with
    ``p > 0`` has ratio exactly 1 and takes the rest. NumPy's
    ``Generator.multinomial`` instead conditions on ``1 - sum_{i < j} p_i``,
    whose round-off (~1e-16) swamps the mass of trailing categories below
    ~1e-16, and gives its last category the leftover: ~1e-16 n levels where
    ``n p`` may be 1e-11. Here the categories end with the bulk node next to
    the cut, the heaviest level of the bulk, so that leftover decided the
    criteria (Gaussian patterns, ``beta = 0.8``, ``N = 80, 112``).
    """
    survival = np.cumsum(probabilities[::-1])[::-1]
    ratio = np.zeros_like(probabilities)
    np.divide(probabilities, survival, out=ratio, where=survival > 0)
    np.minimum(ratio, 1.0, out=ratio)
    left = sizes.astype(np.int64).copy()
    counts = np.zeros((left.shape[0], probabilities.shape[0]))
    for j in range(probabilities.shape[0]):
        if not left.any():
            break
        drawn = rng.binomial(left, ratio[j])
        counts[:, j] = drawn
        left -= drawn
    return counts


class _SampleRunner:
    """Everything shared by the samples of one criterion simulation."""

    def __init__(self, ensemble, beta, n_features, alphas, tail_levels, seq, n_strata=0):
        self.n_strata = n_strata
        self.ensemble = ensemble
        self.beta = beta
        self.n_features = n_features
        self.alphas = alphas
        self.seq = seq
        self.sizes, self.steps = _interval_sizes(alphas, n_features)
        self.window = success_window(ensemble, beta)
        self.m = _m_grid(self.window, upper=ensemble == "gaussian")
        self.kappas = beta * n_features * self.m
        self.one = int(round((1.0 - self.m[0]) / (self.m[1] - self.m[0])))
        n_noise = self.sizes[-1] - 1
        self.fraction = 1.0 if n_noise <= 4 * tail_levels else tail_levels / n_noise
        if ensemble == "spherical":
            self.unit_law = OverlapLaw("spherical", n_features)
        elif ensemble == "binary":
            self.unit_law = OverlapLaw("binary", n_features)
        else:
            self.unit_law = OverlapLaw("gaussian", n_features, 1.0)
        # The cut and the bulk rule of the unit law (Gaussian: rescaled by sqrt(r_1) per sample).
        if self.unit_law.discrete:
            self.cut = math.inf
            self.p_tail = 0.0
        else:
            self.cut = self.unit_law.cutoff(self.fraction)
            self.p_tail = 1.0 if self.fraction >= 1 else self.unit_law.sf(self.cut)
        self.nodes, self.node_p = self.unit_law.bulk_rule(self.cut) if self.p_tail < 1 else (np.empty(0), np.empty(0))
        self.categories = np.concatenate([[self.p_tail], self.node_p])
        self.categories /= self.categories.sum()
        self.unit_terms = _grid_terms(self.nodes, 1.0, self.kappas) if ensemble != "gaussian" else None

    def run(self, sample):
        """Criteria of one sample at every load: (success (K,), signal (K,), log_noise (K,), r_1, drawn)."""
        rng = np.random.Generator(np.random.SFC64(child_seed(self.seq, sample)))
        n = self.n_features
        if self.ensemble == "gaussian":
            if self.n_strata:  # stratum `sample` of n_strata equal-probability strata of chi^2_N / N
                r1 = float(scipy.stats.chi2.ppf((sample + rng.random()) / self.n_strata, n)) / n
            else:
                r1 = float(rng.standard_gamma(0.5 * n)) * 2.0 / n
            law = OverlapLaw("gaussian", n, r1)
            scale = math.sqrt(r1)
            cut = self.cut * scale
            terms = _grid_terms(self.nodes * scale, r1, self.kappas)
        else:
            r1, law, cut, terms = 1.0, self.unit_law, self.cut, self.unit_terms
        n_k = len(self.steps)
        n_g = self.m.shape[0]
        u = np.zeros((3, n_k, n_g))
        counts = _multinomial_rows(rng, self.steps, self.categories, numpy_draw=law.discrete)
        n_tail = counts[:, 0].astype(np.int64)
        node_counts = counts[:, 1:]
        total = int(n_tail.sum())
        levels = law.sample_tail(rng, total, cut) if self.p_tail < 1 else law.sample(rng, total)
        bounds = np.concatenate([[0], np.cumsum(n_tail)])
        _level_sums_rows(levels, bounds, r1, self.kappas[0], self.kappas[1] - self.kappas[0], u[0], u[1], u[2])
        drawn = total
        if self.nodes.shape[0]:
            for j in range(3):
                u[j] += node_counts @ terms[j]
        np.cumsum(u, axis=1, out=u)
        success = decide_fixed_point(u[0], u[1], u[2], self.m, self.beta, n, r1, self.window)
        at_one = u[0][:, self.one]
        with np.errstate(divide="ignore"):
            log_noise = np.log(at_one)
        return success, at_one < 1.0, log_noise, r1, drawn


def criterion_simulation(ensemble, beta, n_features, alphas, *, n_samples=256, seed=None,
                         tail_levels=TAIL_LEVELS, threads=1, stratify=False) -> CriterionCurve:
    """Probability that a typical target is retrieved, from the REM of its overlaps (module docstring).

    For each sample: a target (its ``r_1``), then the ``P_k - 1`` noise
    overlaps of the nested loads streamed from their exact finite-N law;
    returns, per load, whether the target is a retrieved fixed point of the
    update along its line, and whether ``w_1 > 1/2`` at the first update.

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    beta : float
        Hopfield inverse temperature ``> 0``.
    n_features : int
        ``N`` (``>= 3`` spherical).
    alphas : array_like, shape (K,)
        Increasing loads ``>= 0`` (``P_k = round(e^{alpha_k N})``, nested).
    n_samples : int
        Independent targets (each with its own noise levels).
    seed : None, int or SeedSequence
        Sample ``s`` uses the child ``spawn_key + (s,)`` alone.
    tail_levels : int
        Expected levels drawn one by one at the largest load (above the cut);
        every level is drawn while ``P - 1 <= 4 tail_levels``.
    threads : int
        Worker threads over samples; no effect on the result.
    stratify : bool
        Gaussian patterns: draw the targets' norms stratified, sample ``s``
        in the ``s``-th of ``n_samples`` equal-probability strata of
        ``chi^2_N / N`` (uniform inside it). The estimated probabilities stay
        unbiased and lose the variance of the norms, which dominates the
        Gaussian thresholds; :func:`hopfield.finite_size.half_threshold`
        bootstraps such samples within pairs of neighbouring strata
        (``CriterionCurve.stratified``). Refused for the other ensembles.

    Returns
    -------
    CriterionCurve
    """
    ensemble, beta, n_features = _check_setting(ensemble, beta, n_features)
    alphas = as_float_array(alphas, "alphas", ndim=1, dtype=np.float64)
    if (alphas < 0).any():
        raise ValueError(f"alphas must be >= 0, got {alphas.min()!r}")
    if np.any(np.diff(alphas) <= 0):
        raise ValueError(f"alphas must be strictly increasing (nested pattern sets), got {alphas!r}")
    if alphas.max() * n_features > 2000:
        raise ValueError(f"alpha N up to {alphas.max() * n_features!r} is beyond float64 exponents "
                         f"(P = e^(alpha N)); expected alpha N <= 2000")
    n_samples = as_int(n_samples, "n_samples", minimum=1)
    tail_levels = as_int(tail_levels, "tail_levels", minimum=1)
    threads = as_int(threads, "threads", minimum=1)
    seq = as_seed_sequence(seed)
    if not isinstance(stratify, (bool, np.bool_)):
        raise TypeError(f"stratify must be True or False, got {stratify!r}")
    if stratify and ensemble != "gaussian":
        raise ValueError(f"stratify applies to the Gaussian targets' norms only, got ensemble={ensemble!r}")
    runner = _SampleRunner(ensemble, beta, n_features, alphas, tail_levels, seq, n_samples if stratify else 0)
    k = alphas.shape[0]
    success = np.zeros((n_samples, k), dtype=bool)
    signal = np.zeros((n_samples, k), dtype=bool)
    log_noise = np.zeros((n_samples, k))
    norms = np.ones(n_samples)
    drawn = np.zeros(n_samples)

    def work(s):
        success[s], signal[s], log_noise[s], norms[s], drawn[s] = runner.run(s)

    if threads == 1:
        for s in range(n_samples):
            work(s)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(work, range(n_samples)))
    return CriterionCurve(
        ensemble=ensemble, beta=beta, n_features=n_features, alphas=alphas,
        n_patterns=np.array(runner.sizes, dtype=np.float64), success=success, signal=signal,
        log_noise=log_noise, signal_norm=norms, window=runner.window, tail_fraction=runner.fraction,
        mean_drawn=float(drawn.mean()), stratified=bool(stratify),
    )


__all__ = [
    "BULK_NODES",
    "TAIL_LEVELS",
    "GRID_INTERVALS",
    "OverlapLaw",
    "sample_overlaps",
    "level_criteria",
    "decide_fixed_point",
    "finite_size_signal_alpha",
    "binary_infinite_beta_thresholds",
    "CriterionCurve",
    "criterion_simulation",
]
