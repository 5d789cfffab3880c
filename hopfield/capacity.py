r"""Exponential capacity of the modern Hopfield network: theory and simulation.

Theory: the typical-pattern retrieval threshold ``alpha_1(beta)``
==================================================================

Setting (PHYSICS.md §6; Lucibello & Mézard, PRL 132, 077301 (2024)). ``P =
e^{alpha N}`` i.i.d. patterns with ``|xi|^2 = N`` (spherical, binary; on
average for Gaussian), the update ``x <- Xi^T softmax(beta Xi x)``
(:mod:`hopfield.modern`), ``beta = O(1)``. Retrieval of pattern 1 means: the
dynamics started *at* ``xi_1`` has a fixed point that stays at ``xi_1``
(overlap ``m = xi_1.x / N -> 1``), not one that drifts away.

Derivation (ours, from the signal-to-noise principle of Lucibello–Mézard).

1. *Signal and noise.* At ``x = xi_1`` the softmax weights are
   ``w_1 = e^{beta N} / (e^{beta N} + Z)`` with the *noise* partition function
   ``Z = sum_{nu >= 2} exp(beta N q_nu)``, ``q_nu = xi_nu.xi_1 / N``.
2. *Auxiliary REM.* The ``q_nu`` are i.i.d.; the number of patterns with
   overlap near ``q`` is ``exp(N (alpha + s(q)))`` with the ensemble's
   overlap entropy ``s(q) <= 0``: spherical ``1/2 ln(1 - q^2)`` (density
   ``∝ (1-q^2)^{(N-3)/2}``), Gaussian ``-q^2/2``, binary ``H((1+q)/2) - ln
   2``. ``Z`` is a REM at inverse temperature ``beta`` with energies ``e =
   -q`` and entropy ``Sigma(e) = alpha + s(-e)``; its quenched
   ``phi(beta) = lim (1/N) ln Z = max_{q: alpha + s(q) >= 0} [alpha + s(q) + beta q]``
   comes from :func:`hopfield.ensembles.overlap_rem`, a
   :class:`statmech.rem.GeneralREM` (Legendre transform,
   condensed where ``alpha + s(q*) = 0``).
3. *Threshold.* ``w_1 -> 1`` iff ``beta > phi(beta; alpha)``. Then ``x =
   xi_1 + O(e^{-N(beta - phi)})`` is a fixed point; otherwise the first
   update already moves the state away. ``phi`` increases with ``alpha``, so
   ``alpha_1(beta) = sup{alpha : beta > phi(beta; alpha)}``.
4. *Closed forms* (used as independent checks in the tests). Let
   ``psi(beta) = max_q [s(q) + beta q]`` (annealed) with maximiser
   ``q_beta``. If ``q_beta <= 1`` (the signal overlap), the noise REM is
   uncondensed at the threshold and ``alpha_1 = beta - psi(beta)``;
   otherwise the REM is frozen there, ``phi = beta q_max(alpha)`` and
   ``alpha_1 = -s(1)`` (the load at which the best noise overlap reaches 1):

   - spherical: ``q_beta = (sqrt(1 + 4 beta^2) - 1) / (2 beta)``,
     ``alpha_1 = beta (1 - q_beta) - 1/2 ln(1 - q_beta^2)`` (``-> inf`` as
     ``beta -> inf``: at ``beta = inf`` a pattern is always its own nearest);
   - Gaussian: ``alpha_1 = beta - beta^2 / 2`` for ``beta <= 1``, ``1/2``
     for ``beta >= 1`` (frozen side: ``q_max = sqrt(2 alpha) < 1``);
   - binary: ``q_beta = tanh(beta)``, ``alpha_1 = beta - ln cosh beta =
     ln 2 - ln(1 + e^{-2 beta}) -> ln 2`` as ``beta -> inf``.

5. *What happens on failure* (why the retrieval criterion is not "nearest
   pattern"). Above ``alpha_1`` the noise REM is uncondensed; the average of
   its exponentially many dominant patterns is ``q* xi_1`` (their
   orthogonal parts cancel), so the state stays *aligned* with ``xi_1`` and
   shrinks: ``m <- q*(beta m)``, converging to ``m_fail`` with ``m_fail =
   q*(beta m_fail)``: ``sqrt(1 - 1/beta)`` (spherical, ``beta > 1``), the
   Curie–Weiss root of ``m = tanh(beta m)`` (binary), 0 otherwise. The
   failed state's nearest pattern is still ``xi_1``; only its overlap tells.
   A query therefore counts as retrieved when its nearest pattern is the
   target *and* ``|m - 1| < (1 - m_fail) / 2`` (the final overlaps are
   bimodal, at ``~1`` and ``~m_fail``, so the midpoint separates them). For
   Gaussian patterns with ``beta > 1`` failure is condensation onto another
   pattern, caught by the nearest-pattern test (``m_fail := 0``).

6. *Finite N* (ours; for comparing with simulations at N = 12..40). Along
   ``x = m xi_1`` the annealed noise gives the map
   ``m <- [e^{beta N m} + (P-1) M_0 R] / [e^{beta N m} + (P-1) M_0]`` with
   ``M_0(kappa) = E e^{kappa q}``, ``R = E[q e^{kappa q}] / M_0``, ``kappa =
   beta N m`` computed exactly at finite N (spherical: ``M_0 = Gamma(N/2)
   (2/kappa)^{N/2-1} I_{N/2-1}(kappa)``, ``R = I_{N/2}/I_{N/2-1}``; binary:
   ``cosh^N(kappa/N)``, ``tanh``; Gaussian: ``e^{kappa^2/(2N)}``, ``R =
   kappa/N``, with ``|xi_1|^2`` at the median of ``chi^2_N``).
   :func:`finite_size_alpha_1` iterates it from ``m = 1``. Expanding near
   ``m = 1`` shows the fixed point disappears when ``N (beta - phi) < 1 +
   ln(N beta (1 - q_beta)^2)``: the finite-N threshold is lower than
   ``alpha_1`` by ``~ ln(N) / N``, a large shift at the sizes one can
   simulate (``P = e^{alpha N}`` must fit in memory).

Simulation
==========
:func:`capacity_simulation` draws nested pattern sets (prefixes of one draw),
starts each target query at its pattern, runs :func:`hopfield.modern.retrieve`
and records the fraction retrieved on a grid of ``alpha`` for each ``N``.
:func:`estimate_threshold` turns those curves into ``alpha_{1/2}(N)`` (where
the fraction crosses 1/2) with a bootstrap error, and extrapolates to
``N -> inf`` with ``alpha(N) = alpha_inf + (a - ln N) / N`` (the ``ln N``
coefficient from item 6), giving ``alpha_1`` with its uncertainty.

At larger N (issue 14): ``capacity_simulation(..., streamed=True)`` regenerates
the patterns block by block at every update instead of storing them
(:mod:`hopfield.streaming`, bit-identical to the stored path);
:mod:`hopfield.criterion` simulates the retrieval criterion at the level of the
auxiliary REM, from the exact finite-N overlap laws, up to N ~ 160; and
:mod:`hopfield.finite_size` extrapolates with several forms, chi^2 and a total
error (:mod:`hopfield.threshold_series` runs both over N).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.special
import scipy.stats

from statmech._validation import (
    as_float,
    as_int,
    as_positive_array,
    as_seed_sequence,
    child_seed,
)
from statmech.lse import LN2, log_cosh

from hopfield.ensembles import dominant_overlap, overlap_entropy, overlap_rem
from hopfield.patterns import check_ensemble, patterns_for_alpha, random_patterns
from hopfield.streaming import PatternStream, check_stream_args, stored_load_outcome, streamed_load_outcomes


# --------------------------------------------------------------------------
# The noise REM and the retrieval window (overlap ensembles: hopfield.ensembles)
# --------------------------------------------------------------------------


def noise_log_partition(ensemble, alpha, beta) -> float:
    """``phi(beta; alpha) = lim (1/N) ln sum_{nu>=2} exp(beta N q_nu)`` (quenched REM).

    The auxiliary REM of the noise patterns (module docstring, item 2),
    :func:`hopfield.ensembles.overlap_rem`.

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    alpha : float
        Load ``ln(P)/N >= 0``.
    beta : float
        ``> 0``.

    Returns
    -------
    float
    """
    return float(overlap_rem(ensemble, alpha).log_partition(as_float(beta, "beta", positive=True)))


def failure_overlap(ensemble, beta) -> float:
    """``m_fail``: the overlap a failed retrieval ends at, ``m = q*(beta m)`` from ``m = 1``.

    Spherical ``sqrt(1 - 1/beta)`` for ``beta > 1``; binary the positive root
    of ``m = tanh(beta m)``; otherwise 0 (module docstring, item 5).

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    beta : float
        ``> 0`` (``inf`` allowed).

    Returns
    -------
    float
    """
    ensemble = check_ensemble(ensemble)
    beta = as_float(beta, "beta", positive=True, finite=False)
    if ensemble == "gaussian" or beta <= 1.0:
        return 0.0
    if ensemble == "spherical":
        return 1.0 if math.isinf(beta) else math.sqrt(1.0 - 1.0 / beta)
    if math.isinf(beta):
        return 1.0
    m = 1.0
    for _ in range(100000):
        new = math.tanh(beta * m)
        if abs(new - m) < 1e-15:
            break
        m = new
    return m


def success_window(ensemble, beta) -> float:
    """Half-width ``(1 - m_fail) / 2`` of the overlap window ``|m - 1| <`` that counts as retrieved.

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    beta : float
        ``> 0``.

    Returns
    -------
    float
    """
    return 0.5 * (1.0 - failure_overlap(ensemble, beta))


def alpha_1(ensemble, beta) -> float:
    """Typical-pattern retrieval threshold ``alpha_1(beta)`` (N -> inf).

    ``alpha_1 = sup{alpha : beta > phi(beta; alpha)}`` with ``phi`` the
    quenched log-partition function of the auxiliary REM of the other
    patterns, from :class:`statmech.rem.GeneralREM` with the ensemble's
    overlap entropy (Lucibello & Mézard 2024 principle; derivation in the
    module docstring, ours). Solved by bisection in ``alpha`` to ~1e-12.

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    beta : float
        Hopfield inverse temperature ``> 0`` (``inf`` allowed: ``-s(1)``,
        i.e. ``inf``, ``1/2``, ``ln 2``).

    Returns
    -------
    float
        ``alpha_1`` in nats per dimension (``P = e^{alpha N}``).
    """
    ensemble = check_ensemble(ensemble)
    beta = as_float(beta, "beta", positive=True, finite=False)
    if math.isinf(beta):
        return {"spherical": math.inf, "gaussian": 0.5, "binary": LN2}[ensemble]

    def retrieves(alpha):
        return beta > overlap_rem(ensemble, alpha).log_partition(beta)

    lo, hi = 0.0, 1.0
    while retrieves(hi):
        lo, hi = hi, 2.0 * hi
        if hi > 1e6:
            return math.inf
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if retrieves(mid):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def alpha_1_closed_form(ensemble, beta) -> float:
    """Closed forms of ``alpha_1(beta)`` (module docstring, item 4); the test reference.

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    beta : float
        ``> 0``.

    Returns
    -------
    float
        ``ln(P)/N``.
    """
    ensemble = check_ensemble(ensemble)
    beta = as_float(beta, "beta", positive=True)
    if ensemble == "spherical":
        q = dominant_overlap("spherical", beta)
        return beta * (1 - q) - 0.5 * math.log(1 - q * q)
    if ensemble == "gaussian":
        return beta - 0.5 * beta * beta if beta <= 1 else 0.5
    return beta - math.log(math.cosh(beta))


# --------------------------------------------------------------------------
# Finite-N mean-field map (module docstring, item 6)
# --------------------------------------------------------------------------


def _noise_moments(ensemble, kappa, n_features, signal_norm):
    """``(ln M_0, R)`` of the noise overlaps at ``kappa = beta N m`` (finite N, exact laws)."""
    n = n_features
    if ensemble == "binary":
        b = kappa / n
        return n * float(log_cosh(b)), math.tanh(b)
    if ensemble == "gaussian":
        # overlaps xi_nu.x / N with x = m xi_1, |xi_1|^2 = r N: variance r m^2 / N.
        return 0.5 * kappa * kappa * signal_norm / n, kappa / n
    nu = 0.5 * n - 1.0
    if kappa == 0:
        return 0.0, 0.0
    log_i0, log_i1 = _log_bessel_i(nu, kappa), _log_bessel_i(nu + 1.0, kappa)
    log_m0 = scipy.special.gammaln(0.5 * n) + nu * math.log(2.0 / kappa) + log_i0
    return log_m0, math.exp(log_i1 - log_i0)


def _log_bessel_i(nu, x):
    """``ln I_nu(x)`` for ``nu >= 0``, ``x > 0``: scaled Bessel, or Debye's expansion where that underflows.

    ``ive`` underflows only for large orders (``nu^2 / (2x) > ~575``), where
    the uniform expansion ``I_nu(nu z) ~ e^{nu eta} / (sqrt(2 pi nu) (1 +
    z^2)^{1/4}) (1 + u_1(t)/nu + u_2(t)/nu^2)`` (Abramowitz & Stegun 9.7.7)
    has relative error ``O(nu^-3)``.
    """
    value = scipy.special.ive(nu, x)
    if value > 1e-250 and math.isfinite(value):
        return math.log(value) + x
    z = x / nu
    root = math.sqrt(1.0 + z * z)
    eta = root + math.log(z / (1.0 + root))
    t = 1.0 / root
    u1 = (3 * t - 5 * t**3) / 24.0
    u2 = (81 * t**2 - 462 * t**4 + 385 * t**6) / 1152.0
    return nu * eta - 0.5 * math.log(2 * math.pi * nu) - 0.5 * math.log(root) + math.log1p(u1 / nu + u2 / nu**2)


def _map_retrieves(ensemble, beta, n_features, alpha, window, signal_norm, max_iter=5000):
    y = alpha * n_features  # ln(P - 1) with P = e^y
    log_noise_count = y + math.log1p(-math.exp(-y)) if y > 1e-300 else -math.inf
    m = 1.0
    for _ in range(max_iter):
        kappa = beta * n_features * m
        log_m0, ratio = _noise_moments(ensemble, kappa, n_features, signal_norm)
        log_signal = kappa * signal_norm
        log_noise = log_noise_count + log_m0
        w1 = scipy.special.expit(log_signal - log_noise)
        new = w1 + (1 - w1) * ratio
        if abs(new - m) < 1e-13:
            m = new
            break
        m = new
        if abs(m - 1) >= 4 * window:
            break
    return abs(m - 1) < window


def finite_size_alpha_1(ensemble, beta, n_features) -> float:
    """Finite-N retrieval threshold of the annealed mean-field map (module docstring, item 6).

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    beta : float
        ``> 0``, finite.
    n_features : int
        ``N >= 2``.

    Returns
    -------
    float
        Largest ``alpha`` (to ~1e-6) for which the map started at ``m = 1``
        stays within the success window. Tends to :func:`alpha_1` as
        ``N -> inf`` (with ``-ln(N)/N`` corrections).
    """
    ensemble = check_ensemble(ensemble)
    beta = as_float(beta, "beta", positive=True)
    n_features = as_int(n_features, "n_features", minimum=2)
    if ensemble == "gaussian" and beta >= 1.0:
        raise ValueError(
            f"finite_size_alpha_1: for Gaussian patterns the annealed map holds on the uncondensed "
            f"side only (beta < 1), got beta={beta!r}; alpha_1 = 1/2 there is an extreme-value threshold"
        )
    window = success_window(ensemble, beta)
    signal_norm = scipy.stats.chi2.median(n_features) / n_features if ensemble == "gaussian" else 1.0
    lo, hi = 0.0, max(2.0 * alpha_1(ensemble, beta), 0.1) if ensemble != "spherical" or beta < 50 else 50.0
    if not _map_retrieves(ensemble, beta, n_features, 1e-9, window, signal_norm):
        return 0.0
    while _map_retrieves(ensemble, beta, n_features, hi, window, signal_norm):
        lo, hi = hi, 2 * hi
    while hi - lo > 1e-7:
        mid = 0.5 * (lo + hi)
        if _map_retrieves(ensemble, beta, n_features, mid, window, signal_norm):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# --------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityCurve:
    """Retrieval fraction against load for one ``(ensemble, beta, N)``.

    Attributes
    ----------
    ensemble : str
    beta : float
    n_features : int
    alphas : ndarray, shape (K,)
        Loads ``alpha = ln(P)/N`` requested (the modern convention, an
        exponent: ``P = e^{alpha N}``; the classical network's ``alpha`` is
        ``P/N``, :class:`hopfield.classical.ClassicalCapacityCurve`).
    n_patterns : ndarray of int64, shape (K,)
        ``P = round(e^{alpha N})``.
    successes : ndarray of int64, shape (S, K)
        Targets retrieved per pattern set ``s`` and load.
    trials : ndarray of int64, shape (K,)
        Targets tried per pattern set (``min(n_targets, P)``).
    mean_overlap : ndarray, shape (K,)
        Mean final overlap ``m``.
    mean_iterations : ndarray, shape (K,)
    window : float
        Success window ``|m - 1| <`` used.
    signal_successes : ndarray of int64, shape (S, K)
        Targets whose weight at the first update from ``x = xi_t`` exceeds
        1/2 (the signal-to-noise criterion of :mod:`hopfield.criterion`).
    streamed : bool
        Whether the patterns were streamed (:mod:`hopfield.streaming`).
    """

    ensemble: str
    beta: float
    n_features: int
    alphas: np.ndarray
    n_patterns: np.ndarray
    successes: np.ndarray
    trials: np.ndarray
    mean_overlap: np.ndarray
    mean_iterations: np.ndarray
    window: float
    signal_successes: np.ndarray | None = None
    streamed: bool = False

    @property
    def probability(self) -> np.ndarray:
        """Fraction retrieved per load (all pattern sets pooled)."""
        return self.successes.sum(axis=0) / (self.trials * self.successes.shape[0])

    @property
    def signal_probability(self) -> np.ndarray:
        """Fraction of targets whose softmax weight at the first update from ``xi_t`` exceeds 1/2."""
        return self.signal_successes.sum(axis=0) / (self.trials * self.signal_successes.shape[0])

    @property
    def load_exponent(self) -> np.ndarray:
        """The loads by their name: ``ln(P)/N`` (same array as ``alphas``)."""
        return self.alphas


def capacity_simulation(
    ensemble,
    beta,
    n_features,
    alphas,
    *,
    n_targets=64,
    n_sets=4,
    seed=None,
    tol=1e-9,
    max_iter=2000,
    dtype=np.float64,
    memory_limit=None,
    streamed=False,
    threads=1,
    batch_blocks=1,
    early_exit=False,
) -> CapacityCurve:
    """Fraction of patterns retrieved against ``alpha = ln(P)/N``, by simulation.

    For each of ``n_sets`` pattern sets (one draw of ``P_max`` patterns whose
    prefixes are the smaller sets), the first ``min(n_targets, P)`` patterns
    are used as queries *started at the pattern* and iterated to a fixed point
    (:func:`hopfield.modern.retrieve`, in Gibbs chunks of the pattern blocks);
    a query is retrieved when its nearest pattern is the target and ``|m - 1|
    <`` :func:`success_window` (module docstring, item 5).

    With ``streamed=True`` the patterns are regenerated block by block at
    every iteration and never stored (:mod:`hopfield.streaming`): memory is
    flat in ``P`` and the result is bit-identical to the stored path.

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    beta : float
        ``> 0``.
    n_features : int
        ``N >= 2``.
    alphas : array_like, shape (K,)
        Loads ``>= 0``; the largest fixes ``P_max``, refused (with the memory it
        would need) if it does not fit.
    n_targets, n_sets : int
    seed : None, int or SeedSequence
        Set ``s`` uses the child ``spawn_key + (s,)``.
    tol, max_iter, dtype
        Passed to :func:`hopfield.modern.retrieve`.
    memory_limit : int, optional
        Bytes allowed for the pattern matrix (stored path).
    streamed : bool
        Stream the patterns instead of storing them.
    threads, batch_blocks : int
        Streamed path: pattern-generation threads and blocks per batch
        (:meth:`hopfield.streaming.PatternStream.blocks`); no effect on the result.
    early_exit : bool
        Streamed path, opt-in: stop a query once its overlap falls below
        ``1 - 3 window / 2`` (halfway between the window's edge and
        ``m_fail``) and count it as failed, saving the slow approach to the
        failed fixed point. Off, the result is the stored path's bit for bit.

    Returns
    -------
    CapacityCurve
    """
    ensemble = check_ensemble(ensemble)
    beta = as_float(beta, "beta", positive=True)
    n_features = as_int(n_features, "n_features", minimum=2)
    alphas = as_positive_array(alphas, "alphas", ndim=1, allow_zero=True)
    n_targets = as_int(n_targets, "n_targets", minimum=1)
    n_sets = as_int(n_sets, "n_sets", minimum=1)
    seq = as_seed_sequence(seed)
    if not isinstance(streamed, (bool, np.bool_)):
        raise TypeError(f"streamed must be True or False, got {streamed!r}")
    tol, max_iter, threads, batch_blocks = check_stream_args(tol, max_iter, threads, batch_blocks)
    if streamed:
        sizes = np.array([max(1, int(round(math.exp(a * n_features)))) if a * n_features < 700 else 0
                          for a in alphas], dtype=np.int64)
        if (sizes <= 0).any():
            raise ValueError(f"alphas up to {alphas.max()!r} give P = e^(alpha N) beyond any simulation at N = {n_features}")
    else:
        sizes = np.array([patterns_for_alpha(a, n_features, dtype=dtype, memory_limit=memory_limit) for a in alphas])
    p_max = int(sizes.max())
    window = success_window(ensemble, beta)
    exit_level = 1.0 - 1.5 * window if early_exit else -math.inf
    trials = np.minimum(n_targets, sizes)
    successes = np.zeros((n_sets, alphas.shape[0]), dtype=np.int64)
    signal = np.zeros((n_sets, alphas.shape[0]), dtype=np.int64)
    overlap_sum = np.zeros(alphas.shape[0])
    iter_sum = np.zeros(alphas.shape[0])
    for s in range(n_sets):
        child = child_seed(seq, s)
        if streamed:
            stream = PatternStream(ensemble, p_max, n_features, seed=child, dtype=dtype)
            outcomes, _ = streamed_load_outcomes(stream, sizes, trials, beta, tol=tol, max_iter=max_iter,
                                                 threads=threads, batch_blocks=batch_blocks, exit_level=exit_level)
        else:
            xi = random_patterns(ensemble, p_max, n_features, seed=child, dtype=dtype, memory_limit=memory_limit)
            outcomes = [stored_load_outcome(xi[:n_pat], int(n_q), beta, tol=tol, max_iter=max_iter)
                        for n_pat, n_q in zip(sizes, trials)]
        for k, out in enumerate(outcomes):
            ok = (out.nearest == np.arange(trials[k])) & (np.abs(out.overlap - 1.0) < window)
            successes[s, k] = int(ok.sum())
            signal[s, k] = int((out.first_log_weight > -LN2).sum())
            overlap_sum[k] += out.overlap.sum()
            iter_sum[k] += out.iterations.sum()
    total = trials * n_sets
    return CapacityCurve(
        ensemble=ensemble,
        beta=beta,
        n_features=n_features,
        alphas=alphas,
        n_patterns=sizes.astype(np.int64),
        successes=successes,
        trials=trials.astype(np.int64),
        mean_overlap=overlap_sum / total,
        mean_iterations=iter_sum / total,
        window=window,
        signal_successes=signal,
        streamed=bool(streamed),
    )


def _half_crossing(alphas, prob, *, clamp=True) -> float:
    """Where the (decreasing) fraction first crosses 1/2, by linear interpolation.

    Off the grid (never, or already at the first load, below 1/2; never
    below it) the crossing is the nearest grid end if ``clamp``, else NaN.
    """
    above = prob >= 0.5
    if above.all():
        return float(alphas[-1]) if clamp else math.nan
    if not above.any():
        return float(alphas[0]) if clamp else math.nan
    k = int(np.flatnonzero(~above)[0])
    if k == 0:
        return float(alphas[0]) if clamp else math.nan
    a0, a1, p0, p1 = alphas[k - 1], alphas[k], prob[k - 1], prob[k]
    return float(a0 + (p0 - 0.5) * (a1 - a0) / (p0 - p1))


@dataclass(frozen=True)
class ThresholdEstimate:
    """``alpha_{1/2}(N)`` per size and its extrapolation to ``N -> inf``.

    Attributes
    ----------
    n_features : ndarray of int64, shape (L,)
    alpha_half : ndarray, shape (L,)
        Load where the retrieved fraction crosses 1/2.
    alpha_half_err : ndarray, shape (L,)
        Bootstrap standard error (resampling pattern sets and targets).
    alpha_inf, alpha_inf_err : float
        Extrapolated threshold ``alpha_1`` and its standard error (weighted
        least squares of ``alpha(N) + ln(N)/N = alpha_inf + a/N``).
    slope : float
        Fitted ``a``.
    chi2 : float
        Weighted residual sum of squares of the fit (``L - 2`` degrees of freedom).
    """

    n_features: np.ndarray
    alpha_half: np.ndarray
    alpha_half_err: np.ndarray
    alpha_inf: float
    alpha_inf_err: float
    slope: float
    chi2: float


def estimate_threshold(curves, *, n_boot=400, seed=0, resolution=None) -> ThresholdEstimate:
    """Per-size thresholds ``alpha_{1/2}(N)`` and the extrapolated ``alpha_1``.

    The fraction retrieved at each load is bootstrapped (pattern sets, then
    per-set binomial resampling of the targets) to give the standard error of
    the crossing. A grid-resolution floor ``resolution / sqrt(12)`` (uniform
    error within one grid step, default the grid step) is added in quadrature,
    since a step sharper than the grid cannot be located more finely.
    Extrapolation: ``alpha(N) = alpha_inf + (a - ln N)/N`` (module docstring,
    item 6), weighted least squares in ``1/N``.

    Parameters
    ----------
    curves : iterable of CapacityCurve
        At two or more sizes.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the bootstrap.
    resolution : float, optional
        Grid step for the resolution floor (default: each curve's smallest step).

    Returns
    -------
    ThresholdEstimate
    """
    curves = list(curves)
    if len(curves) < 2:
        raise ValueError(f"estimate_threshold needs curves at >= 2 sizes N, got {len(curves)}")
    rng = np.random.default_rng(seed)
    n_list, mids, errs = [], [], []
    for curve in curves:
        prob = curve.probability
        mids.append(_half_crossing(curve.alphas, prob))
        n_sets = curve.successes.shape[0]
        boots = np.empty(n_boot)
        for b in range(n_boot):
            pick = rng.integers(0, n_sets, n_sets)
            p_set = curve.successes[pick] / curve.trials
            resampled = rng.binomial(curve.trials, np.clip(p_set, 0, 1)).sum(axis=0)
            boots[b] = _half_crossing(curve.alphas, resampled / (curve.trials * n_sets))
        step = resolution if resolution is not None else float(np.min(np.diff(curve.alphas))) if curve.alphas.size > 1 else 0.0
        errs.append(math.sqrt(np.var(boots, ddof=1) + step**2 / 12.0))
        n_list.append(curve.n_features)
    n_arr = np.array(n_list, dtype=np.float64)
    mids = np.array(mids)
    errs = np.array(errs)
    y = mids + np.log(n_arr) / n_arr
    design = np.column_stack([np.ones_like(n_arr), 1.0 / n_arr])
    weights = 1.0 / errs**2
    cov = np.linalg.inv(design.T @ (design * weights[:, None]))
    coef = cov @ (design.T @ (weights * y))
    resid = y - design @ coef
    chi2 = float(np.sum(weights * resid**2))
    return ThresholdEstimate(
        n_features=n_arr.astype(np.int64),
        alpha_half=mids,
        alpha_half_err=errs,
        alpha_inf=float(coef[0]),
        alpha_inf_err=float(math.sqrt(cov[0, 0])),
        slope=float(coef[1]),
        chi2=chi2,
    )


__all__ = [
    "overlap_entropy",
    "overlap_rem",
    "noise_log_partition",
    "dominant_overlap",
    "failure_overlap",
    "success_window",
    "alpha_1",
    "alpha_1_closed_form",
    "finite_size_alpha_1",
    "CapacityCurve",
    "capacity_simulation",
    "ThresholdEstimate",
    "estimate_threshold",
]
