"""Classical Hopfield network: Hebbian weights, sign dynamics, capacity ``alpha_c ~ 0.138``.

Loads here are ``alpha = P/N`` (a ratio: the classical convention). The
modern network's ``alpha`` is ``ln(P)/N`` (:mod:`hopfield.capacity`); the
result types name them ``load_ratio`` and ``load_exponent``.

Physics (Hopfield 1982; Amit, Gutfreund & Sompolinsky 1985; PHYSICS.md §6):
``P = alpha N`` patterns ``xi_mu`` in ``{-1, +1}^N``, weights
``W = (1/N) sum_mu xi_mu xi_mu^T`` with zero diagonal, energy
``E(s) = -1/2 s^T W s``, zero-temperature dynamics ``s_i <- sign(h_i)`` with
the local field ``h = W s``. A field of exactly 0 keeps the spin (no
preferred sign). Starting at a pattern, the state stays near it (overlap
``m = xi.s / N ~ 0.97``) for ``alpha < alpha_c ~ 0.138`` and wanders off
above (AGS 1985); at finite N the transition is smeared and shifted.

Dynamics:

- ``"async"``: random sequential updates, one random permutation of the sites
  per sweep; the local fields are kept up to date after each flip (``O(N)``
  per flip), so a sweep without flips costs ``O(N)``. Stops after a sweep
  with no flip (a fixed point: every spin aligned with its field).
- ``"sync"``: ``s <- sign(W s)`` for all sites at once; stops at a fixed
  point, or reports a 2-cycle (synchronous dynamics may oscillate).

Randomness: the site order of query ``b`` comes from its own SplitMix64
stream seeded from ``SeedSequence(seed).spawn`` -> the result depends only on
the seed, not on threads (queries run in parallel, each on its own rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import prange

from statmech._numba import kernel, pkernel
from statmech._validation import (
    as_float_array,
    as_int,
    as_positive_array,
    as_seed_sequence,
    check_same,
    child_seed,
)

from hopfield.capacity import _half_crossing
from hopfield.patterns import as_patterns, random_patterns

MODES = ("async", "sync")


@dataclass(frozen=True)
class ClassicalResult:
    """Outcome of :func:`classical_retrieve`.

    Attributes
    ----------
    states : ndarray of float64 (values ±1), shape (B, N)
    sweeps : ndarray of int64, shape (B,)
        Sweeps (async) or synchronous steps run.
    converged : ndarray of bool, shape (B,)
        Reached a fixed point.
    cycled : ndarray of bool, shape (B,)
        Synchronous dynamics ended in a 2-cycle (always False for async).
    mode : str
    """

    states: np.ndarray
    sweeps: np.ndarray
    converged: np.ndarray
    cycled: np.ndarray
    mode: str


@kernel
def _splitmix64(state):
    """One SplitMix64 step: returns ``(new_state, output)`` (Steele, Lea & Flood 2014)."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return state, z


@kernel
def _hebbian_kernel(patterns, out):
    """``out = (1/N) Xi^T Xi`` with a zero diagonal."""
    n_features = patterns.shape[1]
    np.dot(patterns.T, patterns, out)
    inv = 1.0 / n_features
    for i in range(n_features):
        for j in range(n_features):
            out[i, j] *= inv
        out[i, i] = 0.0


@pkernel
def _async_kernel(weights, states, seeds, max_sweeps, fields, orders, out_sweeps, out_converged):
    """Random sequential sign dynamics in place on ``states`` (B, N), queries in parallel."""
    n_queries, n_features = states.shape
    for b in prange(n_queries):
        s = states[b]
        h = fields[b]
        order = orders[b]
        for i in range(n_features):
            acc = 0.0
            for j in range(n_features):
                acc += weights[i, j] * s[j]
            h[i] = acc
        rng = seeds[b]
        sweeps = 0
        done = False
        while sweeps < max_sweeps and not done:
            for i in range(n_features):
                order[i] = i
            for i in range(n_features - 1, 0, -1):  # Fisher–Yates
                rng, r = _splitmix64(rng)
                j = np.int64(r % np.uint64(i + 1))
                tmp = order[i]
                order[i] = order[j]
                order[j] = tmp
            flips = 0
            for k in range(n_features):
                i = order[k]
                hi = h[i]
                if hi == 0.0:
                    continue
                new = 1.0 if hi > 0 else -1.0
                if new != s[i]:
                    delta = new - s[i]
                    s[i] = new
                    flips += 1
                    for j in range(n_features):
                        h[j] += weights[j, i] * delta
            sweeps += 1
            done = flips == 0
        out_sweeps[b] = sweeps
        out_converged[b] = done


@kernel
def _sync_kernel(weights, states, max_steps, fields, previous, older, out_steps, out_converged, out_cycled):
    """Synchronous sign dynamics ``s <- sign(W s)`` on the batch, in place."""
    n_queries, n_features = states.shape
    active = np.ones(n_queries, dtype=np.bool_)
    older[:] = np.nan
    for step in range(max_steps):
        np.dot(states, weights, fields)  # W symmetric: (S W)[b] = W s_b
        previous[:] = states
        any_active = False
        for b in range(n_queries):
            if not active[b]:
                continue
            for i in range(n_features):
                h = fields[b, i]
                if h > 0:
                    states[b, i] = 1.0
                elif h < 0:
                    states[b, i] = -1.0
            same = True
            for i in range(n_features):
                if states[b, i] != previous[b, i]:
                    same = False
                    break
            out_steps[b] = step + 1
            if same:
                active[b] = False
                out_converged[b] = True
                continue
            cycle = True
            for i in range(n_features):
                if states[b, i] != older[b, i]:
                    cycle = False
                    break
            if cycle:
                active[b] = False
                out_cycled[b] = True
                continue
            any_active = True
        for b in range(n_queries):
            for i in range(n_features):
                older[b, i] = previous[b, i]
        if not any_active:
            break


def hebbian_weights(patterns) -> np.ndarray:
    """Hebbian weight matrix ``W = (1/N) sum_mu xi_mu xi_mu^T`` with zero diagonal.

    Hopfield 1982 (PHYSICS.md §6).

    Parameters
    ----------
    patterns : array_like, shape (P, N)
        ``P >= 1`` finite patterns (usually ±1).

    Returns
    -------
    ndarray of float64, shape (N, N)
        Symmetric.
    """
    patterns = as_patterns(patterns, dtype=np.float64)
    out = np.empty((patterns.shape[1], patterns.shape[1]))
    _hebbian_kernel(patterns, out)
    return out


def _as_spins(states, n_features):
    states = as_float_array(states, "states", ndim=2, dtype=np.float64)
    check_same(states.shape[1], n_features, "states", "weights", "dimension N")
    if not np.all(np.abs(states) == 1.0):
        raise ValueError("states must hold only -1 and +1 (Ising spins)")
    return states.copy()


def classical_retrieve(weights, states, *, mode="async", max_sweeps=200, seed=None) -> ClassicalResult:
    """Zero-temperature sign dynamics of the classical Hopfield network from each state.

    ``s_i <- sign(sum_j W_ij s_j)`` (Hopfield 1982), asynchronous in random
    order or synchronous (module docstring).

    Parameters
    ----------
    weights : array_like, shape (N, N)
        Symmetric couplings, e.g. :func:`hebbian_weights`.
    states : array_like, shape (B, N)
        Initial ±1 states.
    mode : {"async", "sync"}
    max_sweeps : int
        Largest number of sweeps (async) or steps (sync), ``>= 1``.
    seed : None, int or SeedSequence
        Site orders (async only); query ``b`` uses child ``b`` of the seed.

    Returns
    -------
    ClassicalResult
    """
    weights = as_float_array(weights, "weights", ndim=2, dtype=np.float64)
    if weights.shape[0] != weights.shape[1]:
        raise ValueError(f"weights must be square (N, N), got shape {weights.shape}")
    n_features = weights.shape[0]
    spins = _as_spins(states, n_features)
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    max_sweeps = as_int(max_sweeps, "max_sweeps", minimum=1)
    n_queries = spins.shape[0]
    sweeps = np.zeros(n_queries, dtype=np.int64)
    converged = np.zeros(n_queries, dtype=np.bool_)
    cycled = np.zeros(n_queries, dtype=np.bool_)
    fields = np.empty_like(spins)
    if mode == "async":
        seq = as_seed_sequence(seed)
        seeds = np.array([child.generate_state(1, np.uint64)[0] for child in seq.spawn(n_queries)]
                         if n_queries else [], dtype=np.uint64)
        orders = np.empty((n_queries, n_features), dtype=np.int64)
        _async_kernel(weights, spins, seeds, max_sweeps, fields, orders, sweeps, converged)
    else:
        previous = np.empty_like(spins)
        older = np.empty_like(spins)
        _sync_kernel(weights, spins, max_sweeps, fields, previous, older, sweeps, converged, cycled)
    return ClassicalResult(states=spins, sweeps=sweeps, converged=converged, cycled=cycled, mode=mode)


@dataclass(frozen=True)
class ClassicalCapacityCurve:
    """Retrieval against ``alpha = P/N`` for the classical network at one size N.

    Attributes
    ----------
    n_features : int
    alphas : ndarray, shape (K,)
        Loads ``alpha = P/N`` (the classical convention, a ratio; the modern
        network's ``alpha`` is ``ln(P)/N``).
    n_patterns : ndarray of int64, shape (K,)
    mean_overlap : ndarray, shape (K,)
        Mean final overlap ``m = xi_t.s / N`` (start at the pattern).
    overlap_sem : ndarray, shape (K,)
        Standard error of ``mean_overlap`` over pattern sets.
    probability : ndarray, shape (K,)
        Fraction with final ``m >= threshold``.
    trials : ndarray of int64, shape (K,)
    threshold : float
    successes : ndarray of int64, shape (S, K)
        Starting patterns with final ``m >= threshold``, per pattern set and load.
    """

    n_features: int
    alphas: np.ndarray
    n_patterns: np.ndarray
    mean_overlap: np.ndarray
    overlap_sem: np.ndarray
    probability: np.ndarray
    trials: np.ndarray
    threshold: float
    successes: np.ndarray | None = None

    @property
    def load_ratio(self) -> np.ndarray:
        """The loads by their name: ``P/N`` (same array as ``alphas``)."""
        return self.alphas

    @property
    def alpha_half(self) -> float:
        """Load ``P/N`` where the retrieved fraction first falls below 1/2 (NaN off the grid)."""
        return _half_crossing(self.alphas, self.probability, clamp=False)


def classical_capacity(n_features, alphas, *, n_sets=8, n_targets=32, threshold=0.9, mode="async",
                       max_sweeps=200, seed=None) -> ClassicalCapacityCurve:
    """Final overlap and retrieval fraction of the classical network against ``alpha = P/N``.

    For each load, ``n_sets`` sets of ``P = round(alpha N)`` random ±1
    patterns; the first ``min(n_targets, P)`` patterns are used as starting
    states; retrieval means final overlap ``m >= threshold`` (AGS: ``m ~
    0.97`` below ``alpha_c ~ 0.138``, much lower above).

    Parameters
    ----------
    n_features : int
        Network size ``N >= 2``.
    alphas : array_like, shape (K,)
        Loads ``P/N > 0``.
    n_sets : int
        Pattern sets per load.
    n_targets : int
        Starting patterns per set.
    threshold : float
        Final overlap that counts as retrieved.
    mode : {"async", "sync"}
    max_sweeps : int
    seed : None, int or SeedSequence
        Set ``s`` at load ``k`` draws its patterns from child ``(k, s, 0)``
        and its site orders from child ``(k, s, 1)``.

    Returns
    -------
    ClassicalCapacityCurve
    """
    n_features = as_int(n_features, "n_features", minimum=2)
    alphas = as_positive_array(alphas, "alphas", ndim=1)
    n_sets = as_int(n_sets, "n_sets", minimum=1)
    n_targets = as_int(n_targets, "n_targets", minimum=1)
    seq = as_seed_sequence(seed)
    sizes = np.maximum(1, np.round(alphas * n_features)).astype(np.int64)
    means = np.zeros((n_sets, alphas.shape[0]))
    hits = np.zeros((n_sets, alphas.shape[0]), dtype=np.int64)
    trials = np.minimum(sizes, n_targets)
    for k, n_pat in enumerate(sizes):
        for s in range(n_sets):
            child = child_seed(seq, k, s, 0)
            xi = random_patterns("binary", int(n_pat), n_features, seed=child)
            w = hebbian_weights(xi)
            n_q = int(trials[k])
            res = classical_retrieve(w, xi[:n_q], mode=mode, max_sweeps=max_sweeps,
                                     seed=child_seed(seq, k, s, 1))
            m = np.einsum("ij,ij->i", xi[:n_q], res.states) / n_features
            means[s, k] = m.mean()
            hits[s, k] = int((m >= threshold).sum())
    return ClassicalCapacityCurve(
        n_features=n_features,
        alphas=alphas,
        n_patterns=sizes,
        mean_overlap=means.mean(axis=0),
        overlap_sem=means.std(axis=0, ddof=1) / np.sqrt(n_sets) if n_sets > 1 else np.full(alphas.shape[0], np.nan),
        probability=hits.sum(axis=0) / (trials * n_sets),
        trials=trials,
        threshold=float(threshold),
        successes=hits,
    )


@dataclass(frozen=True)
class ClassicalThreshold:
    """The classical capacity ``alpha_c`` (``P/N``) from retrieval curves at several ``N``.

    Attributes
    ----------
    n_features : ndarray of int64, shape (L,)
    alpha_half : ndarray, shape (L,)
        ``P/N`` where the retrieved fraction crosses 1/2 at each size (NaN
        where it does not cross on the grid; such sizes are left out of the fit).
    alpha_c : float
        Extrapolation ``N -> inf`` of ``alpha_half(N) = alpha_c + a N^{-1/2}``.
    alpha_c_err : float
        Standard error of ``alpha_c`` from the least-squares covariance (NaN
        with two sizes: no degree of freedom left).
    slope : float
        ``a``.
    """

    n_features: np.ndarray
    alpha_half: np.ndarray
    alpha_c: float
    alpha_c_err: float
    slope: float


def classical_threshold(curves) -> ClassicalThreshold:
    """Estimate the classical Hebbian capacity ``alpha_c = P/N`` (AGS 1985: 0.138).

    At each size the load where the retrieved fraction crosses 1/2
    (:attr:`ClassicalCapacityCurve.alpha_half`); the finite-size shift of a
    smeared first-order transition scales like ``N^{-1/2}``, so
    ``alpha_half(N) = alpha_c + a N^{-1/2}`` is fitted by least squares.

    Parameters
    ----------
    curves : iterable of ClassicalCapacityCurve
        :func:`classical_capacity` at two or more sizes, on load grids that
        bracket the crossing.

    Returns
    -------
    ClassicalThreshold

    Raises
    ------
    ValueError
        Fewer than two sizes cross 1/2 on their grid.
    """
    curves = list(curves)
    for curve in curves:
        if not isinstance(curve, ClassicalCapacityCurve):
            raise TypeError(f"curves must be ClassicalCapacityCurve objects, got {type(curve).__name__}")
    sizes = np.array([c.n_features for c in curves], dtype=np.int64)
    half = np.array([c.alpha_half for c in curves])
    ok = np.isfinite(half)
    if ok.sum() < 2:
        raise ValueError(
            f"classical_threshold needs >= 2 sizes whose retrieved fraction crosses 1/2 on the "
            f"grid, got {int(ok.sum())} of {len(curves)} (widen the loads)"
        )
    x = 1.0 / np.sqrt(sizes[ok].astype(np.float64))
    if ok.sum() > 2:
        coef, cov = np.polyfit(x, half[ok], 1, cov=True)
        err = float(math.sqrt(cov[1, 1]))
    else:
        coef, err = np.polyfit(x, half[ok], 1), math.nan
    return ClassicalThreshold(n_features=sizes, alpha_half=half, alpha_c=float(coef[1]),
                              alpha_c_err=err, slope=float(coef[0]))


__all__ = [
    "MODES",
    "ClassicalResult",
    "ClassicalCapacityCurve",
    "ClassicalThreshold",
    "hebbian_weights",
    "classical_retrieve",
    "classical_capacity",
    "classical_threshold",
]
