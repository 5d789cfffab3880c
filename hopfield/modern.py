"""Modern (dense, exponential) Hopfield network: energy, update, retrieval.

Physics (Ramsauer et al., ICLR 2021, eqs. 2–3; Ambrogioni 2023 eq. 31;
PHYSICS.md §6). Patterns ``xi_mu`` are the rows of ``Xi`` (``P x N``); for a
state ``x`` in ``R^N`` at inverse temperature ``beta``:

- energy ``E(x) = -beta^{-1} ln sum_mu exp(beta xi_mu.x) + |x|^2 / 2``
  (the constant ``beta^{-1} ln P + M^2/2`` of Ramsauer's eq. 2 is dropped);
- gradient ``grad E(x) = x - Xi^T softmax(beta Xi x)``;
- update (the concave–convex step, a descent of ``E``)
  ``x <- Xi^T softmax(beta Xi x)``, i.e. ``x <- x - grad E(x)``.

Conventions: ``beta`` is the Hopfield inverse temperature (per unit of
``xi.x``); with ``|xi|^2 ~ N`` the exponents ``beta xi.x`` are extensive and
``beta = O(1)`` is the exponential-capacity scaling (:mod:`hopfield.capacity`).
Overlaps are reported as ``m = xi_target.x / |xi_target|^2`` (1 at the target).

All softmax averages go through :mod:`statmech.gibbs` (coupling 1, offsets 0):
the modern-Hopfield update *is* the Gibbs mean of that module.

Retrieval iterates the update for ``B`` queries at once. A query stops on its
own when ``max_k |x_new - x|_k <= tol``; converged queries leave the batch,
which is compacted, so later iterations only multiply the active rows
(``active_counts`` in the result records the batch size per iteration; the
matrix products needed are exactly two ``(n_active x N) . (N x P)``-sized
products per iteration). In float32 the test is ``change <= tol + 4 eps_32
max|x_new|`` (a float32 fixed point cannot be resolved more finely).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from statmech._numba import kernel
from statmech._validation import as_beta, as_float, as_float_array, as_int, check_same
from statmech.gibbs import gibbs_average, gibbs_pass, gibbs_workspace

from hopfield.patterns import as_patterns

#: Default largest number of update iterations per query.
DEFAULT_MAX_ITER = 1000


@dataclass(frozen=True)
class RetrievalResult:
    """Outcome of :func:`retrieve` (deterministic modern-Hopfield retrieval).

    Attributes
    ----------
    states : ndarray, shape (B, N)
        Final state of each query (the fixed point when converged).
    iterations : ndarray of int64, shape (B,)
        Updates applied to each query.
    converged : ndarray of bool, shape (B,)
        Whether the last update moved the query by at most ``tol`` (max norm).
    top_pattern : ndarray of int64, shape (B,)
        ``argmax_mu xi_mu.x`` at the last update (largest softmax weight).
    participation : ndarray, shape (B,)
        ``sum_mu w_mu^2`` of the softmax weights at the last update
        (1: one pattern carries all the weight; ``1/P``: uniform).
    active_counts : ndarray of int64, shape (n_iter,)
        Queries still active at each iteration (the batch the products used).
    tol : float
        Effective tolerance.
    beta : ndarray, shape (B,)
        Inverse temperature of each query.
    """

    states: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    top_pattern: np.ndarray
    participation: np.ndarray
    active_counts: np.ndarray
    tol: float
    beta: np.ndarray


@dataclass(frozen=True)
class RetrievalMeasures:
    """How well final states retrieve their targets.

    Attributes
    ----------
    overlap : ndarray, shape (B,)
        ``m = xi_t.x / |xi_t|^2`` (1 at the target).
    cosine : ndarray, shape (B,)
        ``xi_t.x / (|xi_t| |x|)`` (0 for ``x = 0``).
    nearest : ndarray of int64, shape (B,)
        Index of the pattern nearest to ``x`` in Euclidean distance.
    nearest_is_target : ndarray of bool, shape (B,)
    """

    overlap: np.ndarray
    cosine: np.ndarray
    nearest: np.ndarray
    nearest_is_target: np.ndarray


# --------------------------------------------------------------------------
# Kernel
# --------------------------------------------------------------------------


@kernel
def row_converged(x, x_new, a, tol):
    """Retrieve's stopping rule for row ``a``: ``max_k |x_new - x| <= tol[0] + tol[1] max_k |x_new_k|``.

    Both maxima are taken in float64 whatever the states' precision; shared
    by :func:`retrieve` and the streamed capacity pass
    (:mod:`hopfield.streaming`) so that the same rows stay active.
    """
    change = 0.0
    scale = 0.0
    for k in range(x.shape[1]):
        diff = abs(np.float64(x_new[a, k]) - np.float64(x[a, k]))
        if diff > change:
            change = diff
        size = abs(np.float64(x_new[a, k]))
        if size > scale:
            scale = size
    return change <= tol[0] + tol[1] * scale


@kernel
def _retrieve_kernel(
    patterns,
    offsets,
    beta,
    tol,
    max_iter,
    work,
    x,
    x_new,
    index,
    beta_active,
    log_z,
    participation,
    argmax,
    out_states,
    out_iterations,
    out_converged,
    out_top,
    out_participation,
    active_counts,
):
    """Iterate ``x <- Xi^T softmax(beta Xi x)`` with per-query stopping.

    ``x`` (B, N) holds the queries on entry, in the working dtype; ``index``
    their original rows. Rows ``0..n_active-1`` of every work array are the
    active queries; after each iteration the unconverged ones are moved to the
    front (order kept), so each product only sees active rows. Each update is
    one :func:`statmech.gibbs.gibbs_pass`. Returns the number of iterations run.
    """
    n_active = x.shape[0]
    n_features = x.shape[1]
    it = 0
    while it < max_iter and n_active > 0:
        active_counts[it] = n_active
        gibbs_pass(work, x[:n_active], beta_active[:n_active], 1.0, patterns, offsets,
                   log_z[:n_active], participation[:n_active], argmax[:n_active],
                   x_new[:n_active])
        it += 1
        kept = 0
        for a in range(n_active):
            converged = row_converged(x, x_new, a, tol)
            row = index[a]
            if converged or it == max_iter:
                for k in range(n_features):
                    out_states[row, k] = x_new[a, k]
                out_iterations[row] = it
                out_converged[row] = converged
                out_top[row] = argmax[a]
                out_participation[row] = participation[a]
            else:
                for k in range(n_features):
                    x[kept, k] = x_new[a, k]
                index[kept] = row
                beta_active[kept] = beta_active[a]
                kept += 1
        n_active = kept
    return it


@kernel
def _hopfield_drift(X, t, out, patterns, offsets, beta, work, log_z, participation, argmax):
    """Langevin drift (nonlinear part) ``out = Xi^T softmax(beta Xi x)``; the ``-x`` is exact.

    Signature ``drift(X, t, out, *args)`` of :func:`statmech.langevin.integrate`;
    one :func:`statmech.gibbs.gibbs_pass`.
    """
    gibbs_pass(work, X, beta, 1.0, patterns, offsets, log_z, participation, argmax, out)


# --------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------


def _prepare(patterns, states, dtype, states_name="states"):
    patterns = as_patterns(patterns, dtype=dtype)
    states = as_float_array(states, states_name, ndim=2, dtype=dtype)
    if dtype is None and patterns.dtype != states.dtype:
        patterns = patterns.astype(np.float64)
        states = states.astype(np.float64)
    check_same(patterns.shape[1], states.shape[1], "patterns", states_name, "dimension N (number of columns)")
    return patterns, states


def hopfield_energy(patterns, states, beta=1.0, *, dtype=None) -> np.ndarray:
    """Modern-Hopfield energy of each state.

    ``E(x) = -beta^{-1} ln sum_mu exp(beta xi_mu.x) + |x|^2 / 2`` (Ramsauer et
    al. 2021 eq. 2 without its constant; Ambrogioni 2023 eq. 31; PHYSICS.md §6).

    Parameters
    ----------
    patterns : array_like, shape (P, N)
    states : array_like, shape (B, N)
    beta : float or array_like of shape (B,)
        Inverse temperature(s) ``> 0``.
    dtype : {None, float64, float32}
        Working precision of the products (the result is float64).

    Returns
    -------
    ndarray, shape (B,), float64
    """
    patterns, states = _prepare(patterns, states, dtype)
    betas = as_beta(beta, "beta", size=states.shape[0])
    avg = gibbs_average(patterns, states, betas, compute_mean=False)
    sq = np.einsum("ij,ij->i", states.astype(np.float64), states.astype(np.float64))
    return -avg.log_z / betas + 0.5 * sq


def hopfield_gradient(patterns, states, beta=1.0, *, dtype=None) -> np.ndarray:
    """Gradient of the modern-Hopfield energy, ``x - Xi^T softmax(beta Xi x)``.

    Same conventions as :func:`hopfield_energy` (PHYSICS.md §6).

    Parameters
    ----------
    patterns : array_like, shape (P, N)
    states : array_like, shape (B, N)
    beta : float or array_like of shape (B,)
        Inverse temperature(s) ``> 0``.
    dtype : {None, float64, float32}
        Working precision.

    Returns
    -------
    ndarray, shape (B, N)
        In the working dtype.
    """
    patterns, states = _prepare(patterns, states, dtype)
    betas = as_beta(beta, "beta", size=states.shape[0])
    return states - gibbs_average(patterns, states, betas).mean


def hopfield_update(patterns, states, beta=1.0, *, dtype=None) -> np.ndarray:
    """One modern-Hopfield update ``x <- Xi^T softmax(beta Xi x)`` for each state.

    Ramsauer et al. 2021 eq. 3 (PHYSICS.md §6); equals the VE-diffusion
    denoiser at ``t = 1/(beta sigma^2)`` for equal-norm patterns
    (:mod:`hopfield.bridge`).

    Parameters
    ----------
    patterns : array_like, shape (P, N)
    states : array_like, shape (B, N)
    beta : float or array_like of shape (B,)
        Inverse temperature(s) ``> 0``.
    dtype : {None, float64, float32}
        Working precision.

    Returns
    -------
    ndarray, shape (B, N)
    """
    patterns, states = _prepare(patterns, states, dtype)
    betas = as_beta(beta, "beta", size=states.shape[0])
    return gibbs_average(patterns, states, betas).mean


def retrieve(
    patterns,
    queries,
    beta=1.0,
    *,
    tol=1e-8,
    max_iter=DEFAULT_MAX_ITER,
    chunk_size=None,
    dtype=None,
) -> RetrievalResult:
    """Deterministic retrieval: iterate the modern-Hopfield update to a fixed point.

    Each query ``x`` is updated by ``x <- Xi^T softmax(beta Xi x)`` (Ramsauer
    et al. 2021 eq. 3; PHYSICS.md §6) until ``max_k |x_new - x|_k <= tol``
    (that query then stops and leaves the batch) or ``max_iter`` updates.

    Parameters
    ----------
    patterns : array_like, shape (P, N)
        Stored patterns, ``P >= 1``, finite.
    queries : array_like, shape (B, N)
        Initial states (cues).
    beta : float or array_like of shape (B,)
        Inverse temperature(s) ``> 0``.
    tol : float
        Stopping tolerance ``>= 0`` on the max-norm change (plus
        ``4 eps_32 max|x_new|`` in float32).
    max_iter : int
        Largest number of updates per query, ``>= 1``.
    chunk_size : int, optional
        Patterns per Gibbs chunk (default :func:`statmech.gibbs.default_chunk_size`
        for the full batch); results do not depend on it beyond round-off.
    dtype : {None, float64, float32}
        Working precision; default float32 only if both inputs are float32.

    Returns
    -------
    RetrievalResult
    """
    patterns, queries = _prepare(patterns, queries, dtype, "queries")
    n_queries, n_features = queries.shape
    n_patterns = patterns.shape[0]
    betas = as_beta(beta, "beta", size=n_queries)
    tol = as_float(tol, "tol", nonnegative=True)
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    work = queries.dtype
    rel = 4.0 * float(np.finfo(np.float32).eps) if work == np.float32 else 0.0
    tolerances = np.array([tol, rel])

    x = queries.copy()
    x_new = np.empty_like(x)
    index = np.arange(n_queries, dtype=np.int64)
    beta_active = betas.copy()
    gibbs_work = gibbs_workspace(n_queries, n_features, chunk_size, n_patterns=n_patterns,
                                 dtype=work)
    argmax = np.empty(n_queries, dtype=np.int64)
    log_z = np.empty(n_queries)
    participation = np.empty(n_queries)
    out_states = np.empty_like(x)
    out_iterations = np.zeros(n_queries, dtype=np.int64)
    out_converged = np.zeros(n_queries, dtype=np.bool_)
    out_top = np.zeros(n_queries, dtype=np.int64)
    out_participation = np.empty(n_queries)
    active_counts = np.zeros(max_iter, dtype=np.int64)
    offsets = np.zeros(0)  # all zeros: the pass skips the add
    n_iter = _retrieve_kernel(
        patterns, offsets, betas, tolerances, max_iter, gibbs_work, x, x_new, index, beta_active,
        log_z, participation, argmax, out_states, out_iterations, out_converged, out_top,
        out_participation, active_counts,
    )
    if not np.all(np.isfinite(out_participation)):
        raise FloatingPointError(
            "the log-weights beta * xi.x overflow the floating-point range; lower beta or rescale the patterns"
        )
    return RetrievalResult(
        states=out_states,
        iterations=out_iterations,
        converged=out_converged,
        top_pattern=out_top,
        participation=out_participation,
        active_counts=active_counts[:n_iter].copy(),
        tol=tol,
        beta=betas,
    )


@dataclass(frozen=True)
class StochasticRetrievalResult:
    """Outcome of :func:`stochastic_retrieve` (Langevin dynamics on the Hopfield energy).

    Attributes
    ----------
    states : ndarray, shape (B, N)
        States at the final time.
    snapshots : ndarray, shape (S, B, N)
        States at ``snapshot_times``.
    snapshot_times : ndarray, shape (S,)
    temperature : float
    beta : ndarray, shape (B,)
    seed_entropy : int or None
    spawn_key : tuple
    """

    states: np.ndarray
    snapshots: np.ndarray
    snapshot_times: np.ndarray
    temperature: float
    beta: np.ndarray
    seed_entropy: int | None
    spawn_key: tuple


def stochastic_retrieve(
    patterns,
    queries,
    beta=1.0,
    *,
    temperature=0.1,
    duration=10.0,
    n_steps=200,
    n_snapshots=1,
    seed=None,
    chunk_size=None,
) -> StochasticRetrievalResult:
    """Stochastic retrieval: overdamped Langevin dynamics on the modern-Hopfield energy.

    ``dx = -grad E(x) dt + sqrt(2 T) dW`` with ``grad E = x - Xi^T
    softmax(beta Xi x)`` (PHYSICS.md §6), whose stationary law is
    ``∝ exp(-E(x)/T)``. Integrated by :func:`statmech.langevin.integrate`
    with the exponential-Euler scheme: the linear part ``-x`` is exact (rate
    ``lam = 1``), the softmax mean is the nonlinear drift. ``T = 0`` gives the
    gradient flow, whose fixed points are those of :func:`retrieve`.

    Parameters
    ----------
    patterns : array_like, shape (P, N)
    queries : array_like, shape (B, N)
    beta : float or array_like of shape (B,)
        Softmax inverse temperature ``> 0``.
    temperature : float
        Langevin temperature ``T >= 0`` (energy units of ``E``).
    duration : float
        Integration time ``> 0``.
    n_steps : int
        Uniform time steps ``>= 1``.
    n_snapshots : int
        States stored at ``n_snapshots`` evenly spaced grid times ending at
        ``duration``.
    seed : None, int or SeedSequence
        Noise seed (the result depends only on it).
    chunk_size : int, optional
        Gibbs chunk length.

    Returns
    -------
    StochasticRetrievalResult
    """
    from statmech.langevin import integrate

    patterns, queries = _prepare(patterns, queries, np.float64, "queries")
    n_queries, n_features = queries.shape
    n_patterns = patterns.shape[0]
    betas = as_beta(beta, "beta", size=n_queries)
    temperature = as_float(temperature, "temperature", nonnegative=True)
    duration = as_float(duration, "duration", positive=True)
    n_steps = as_int(n_steps, "n_steps", minimum=1)
    n_snapshots = as_int(n_snapshots, "n_snapshots", minimum=1, maximum=n_steps)
    gibbs_work = gibbs_workspace(n_queries, n_features, chunk_size, n_patterns=n_patterns)
    times = np.linspace(0.0, duration, n_steps + 1)
    snap_idx = np.linspace(n_steps, 0, n_snapshots, endpoint=False)[::-1].round().astype(np.int64)
    args = (
        patterns, np.zeros(0), betas, gibbs_work,
        np.empty(n_queries), np.empty(n_queries), np.empty(n_queries, dtype=np.int64),
    )
    result = integrate(
        _hopfield_drift, queries, times, g=float(np.sqrt(2.0 * temperature)), method="exponential",
        lam=1.0, drift_args=args, seed=seed if temperature > 0 else None, snapshot_times=times[snap_idx],
    )
    return StochasticRetrievalResult(
        states=result.x,
        snapshots=result.snapshots,
        snapshot_times=result.snapshot_times,
        temperature=temperature,
        beta=betas,
        seed_entropy=result.seed_entropy,
        spawn_key=result.spawn_key,
    )


def retrieval_measures(patterns, states, targets) -> RetrievalMeasures:
    """Overlap with the target, cosine, Euclidean nearest pattern, and whether it is the target.

    Parameters
    ----------
    patterns : array_like, shape (P, N)
    states : array_like, shape (B, N)
    targets : array_like of int, shape (B,)
        Index of each state's target pattern, in ``[0, P)``.

    Returns
    -------
    RetrievalMeasures
        ``overlap = xi_t.x / |xi_t|^2``; ``nearest = argmin_mu |x - xi_mu|``
        (``argmax_mu (xi_mu.x - |xi_mu|^2/2)``, through :mod:`statmech.gibbs`).
    """
    patterns, states = _prepare(patterns, states, None)
    targets = _as_targets(targets, states.shape[0], patterns.shape[0])
    p64 = patterns.astype(np.float64, copy=False)
    s64 = states.astype(np.float64, copy=False)
    target_rows = p64[targets]
    dots = np.einsum("ij,ij->i", target_rows, s64)
    norms2 = np.einsum("ij,ij->i", target_rows, target_rows)
    overlap = np.divide(dots, norms2, out=np.zeros_like(dots), where=norms2 > 0)
    state_norms = np.sqrt(np.einsum("ij,ij->i", s64, s64))
    denom = np.sqrt(norms2) * state_norms
    cosine = np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)
    nearest = nearest_pattern(p64, s64)
    return RetrievalMeasures(overlap=overlap, cosine=cosine, nearest=nearest, nearest_is_target=nearest == targets)


def nearest_pattern(patterns, states) -> np.ndarray:
    """``argmin_mu |x - xi_mu|`` for each state (first on ties).

    Computed as ``argmax_mu (xi_mu.x - |xi_mu|^2 / 2)``: the argmax of the Gibbs
    weights with offsets ``-|xi|^2/2`` (statmech.gibbs; the argmax does not
    depend on beta).

    Parameters
    ----------
    patterns : array_like, shape (P, N)
    states : array_like, shape (B, N)

    Returns
    -------
    ndarray of int64, shape (B,)
    """
    patterns, states = _prepare(patterns, states, None)
    offsets = -0.5 * np.einsum("ij,ij->i", patterns.astype(np.float64), patterns.astype(np.float64))
    return gibbs_average(patterns, states, 1.0, offsets=offsets, compute_mean=False).argmax


def _as_targets(targets, n_states: int, n_patterns: int) -> np.ndarray:
    arr = np.asarray(targets)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"targets must be integer pattern indices, got dtype {arr.dtype}")
    if arr.shape != (n_states,):
        raise ValueError(f"targets must have shape ({n_states},) (one per state), got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_patterns):
        raise ValueError(f"targets must lie in [0, {n_patterns}), got values in [{arr.min()}, {arr.max()}]")
    return arr.astype(np.int64)


__all__ = [
    "DEFAULT_MAX_ITER",
    "RetrievalResult",
    "RetrievalMeasures",
    "hopfield_energy",
    "hopfield_gradient",
    "hopfield_update",
    "retrieve",
    "StochasticRetrievalResult",
    "stochastic_retrieve",
    "retrieval_measures",
    "nearest_pattern",
]
