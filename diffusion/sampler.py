"""Backward dynamics with the exact empirical score, nearest-neighbour tracking, cloning.

PHYSICS.md §2 and §5. For a forward process ``dx = -k x dt + g dW`` with
marginals ``x_t = s a + sqrt(Delta) z`` (:mod:`diffusion.processes`), the
backward SDE run from ``t_end`` down to ``t_min`` is, per step ``h > 0``,

    y <- y + h (k y + g^2 score(y, t)) + g sqrt(h) xi,

(dynamical-regimes eq. 3 for OU, ``k = 1``, ``g^2 = 2T``; Ambrogioni eq. 3
for VE, ``k = 0``, ``g = sigma``), and the probability-flow ODE drops the
noise and halves the score term. The score is the exact empirical one,
``(s <a>_y - y)/Delta`` (:mod:`diffusion.score`), computed in one chunked
pass of the shared Gibbs kernel (two matrix products per evaluation). The
integrators are :mod:`statmech.langevin`'s leaf kernels (``em_step``,
``heun_step``, ``exponential_step``); this module supplies the drift and
the loop around them, because it needs per-step bookkeeping that
:func:`statmech.langevin.integrate` does not do:

- the nearest data point ``mu*(t) = argmin_mu |y - s a_mu|``
  (dynamical-regimes eq. 12) comes free from the Gibbs pass at every step,
  and ``t^_C``, the last time it changed, is kept per trajectory;
- **cloning**: at each time of ``clone_times`` every trajectory is copied
  once; from then on the copy and the original evolve with independent
  noise. ``phi(t)`` is the fraction of pairs whose end points are in the same
  class (sign of ``x.m``, or the label of the nearest training point) and
  ``phi_C(t)`` the fraction that end on the same training point; both come
  with binomial standard errors. The original serves as first member of
  every pair (pairs at different times are correlated, each time's estimate
  is an average over independent trajectories).

Memory stays bounded: trajectories run in batches whose working arrays hold
``batch x (1 + #clone times) x d`` numbers; only per-trajectory statistics
(and optional snapshots) are kept.

Randomness: trajectories are grouped in fixed groups of ``group_size``;
group ``j`` draws its initial state and all its noise (its clones' too) from
its own stream ``SeedSequence(entropy, spawn_key + (j,))``. Results depend
on ``seed`` and ``group_size`` only: not on the batch size, the Gibbs chunk
size (beyond round-off) or the number of threads.

Given initial states (``x0``, rows ``j*group_size ...`` forming group ``j``)
take the place of the initial draw at ``times[0]``, which each group still
makes and discards: the noise is then the same numbers as with ``x0=None``
and the same seed, so ``x0`` equal to the sampler's own draw gives the same
result bit for bit, and runs from different ``x0`` share their noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from statmech._numba import kernel
from statmech._validation import (
    as_float,
    as_float_array,
    as_float_dtype,
    as_int,
    as_seed_sequence,
    check_same,
    child_seed,
)
from statmech.gibbs import gibbs_pass, gibbs_workspace
from statmech.langevin import METHODS, check_method, grid_indices

from diffusion.datasets import as_labels
from diffusion.processes import as_process, process_coefficients

__all__ = [
    "METHODS",
    "CloningStats",
    "BackwardResult",
    "backward_sample",
    "backward_sample_two_gaussians",
    "check_time_grid",
]

# Working rows x d held per batch by default (about 32 MiB per float64 array).
_BATCH_VALUES = 1 << 22

# Trajectories when neither n_trajectories nor x0 gives the number.
_DEFAULT_TRAJECTORIES = 256


@dataclass(frozen=True)
class CloningStats:
    """Cloning-protocol statistics (dynamical-regimes Methods, Fig. 2 and 5).

    Attributes
    ----------
    clone_times : ndarray (L,)
        Branching times, decreasing (the order the dynamics meets them).
    phi, phi_se : ndarray (L,) or None
        Probability that the two copies end in the same class, and its
        standard error ``sqrt(phi (1 - phi)/(N - 1))``. ``None`` when no
        class is defined (no labels and no centre).
    phi_c, phi_c_se : ndarray (L,) or None
        Probability that the two copies end on the same training point
        (empirical score only; ``None`` for a population score).
    n_pairs : int
        Pairs per clone time ``N`` (the number of trajectories).
    """

    clone_times: np.ndarray
    phi: np.ndarray | None
    phi_se: np.ndarray | None
    phi_c: np.ndarray | None
    phi_c_se: np.ndarray | None
    n_pairs: int


@dataclass(frozen=True)
class BackwardResult:
    """Outcome of a backward run.

    Attributes
    ----------
    x : ndarray (B, d)
        End points at ``t_min`` (original trajectories, not the clones).
    nearest : ndarray of int64 (B,) or None
        Nearest training point at ``t_min`` (empirical score only).
    t_collapse : ndarray (B,) or None
        ``t^_C``: the last grid time at which ``mu*(t)`` changed (``t_end``
        if it never did). Empirical score only.
    classes : ndarray of int64 (B,) or None
        Class of each end point (label of the nearest point, or sign of
        ``x.m``); ``None`` when no class is defined.
    cloning : CloningStats or None
    snapshots : ndarray (S, B, d)
        States at ``snapshot_times`` (empty when none were asked for).
    snapshot_times : ndarray (S,)
    nearest_path : ndarray of int64 (K+1, B) or None
        ``mu*(t_k)`` at every grid time, if ``record_nearest``.
    times : ndarray (K+1,)
        The decreasing time grid.
    method : str
    ode : bool
    seed_entropy : int
    spawn_key : tuple
    group_size : int
    """

    x: np.ndarray
    nearest: np.ndarray | None
    t_collapse: np.ndarray | None
    classes: np.ndarray | None
    cloning: CloningStats | None
    snapshots: np.ndarray
    snapshot_times: np.ndarray
    nearest_path: np.ndarray | None
    times: np.ndarray
    method: str
    ode: bool
    seed_entropy: int
    spawn_key: tuple
    group_size: int


# --------------------------------------------------------------------------
# Drifts (jitted; signature drift(X, t, out, *args) as statmech.langevin wants).
# --------------------------------------------------------------------------


@kernel
def _empirical_drift(X, t, out, data, sqnorm, offsets, beta, work, log_z, participation, nearest,
                     nn_record, record_t, code, temperature, sigma, k_rate, c2, nonlinear_only):
    """Backward drift ``k y + c2 (s <a>_y - y)/Delta`` with the exact empirical score.

    One Gibbs pass over the data (:func:`statmech.gibbs.gibbs_pass`, two
    matrix products per chunk); ``<a>_y = S1/S0`` is read from the running
    sums it leaves in ``work``, folded into one factor per row. With
    ``nonlinear_only`` it returns only ``c2 s <a>_y / Delta`` (the part
    that exponential Euler does not treat exactly). When ``t ==
    record_t[0]`` the nearest data point of each row goes to ``nn_record``
    (else to the scratch array ``nearest``).
    """
    n_rows = X.shape[0]
    n_data = data.shape[0]
    s, delta = process_coefficients(code, temperature, sigma, t)
    inv = 1.0 / delta
    for b in range(n_rows):
        beta[b] = inv
    half_s2 = 0.5 * s * s
    for mu in range(n_data):
        offsets[mu] = -half_s2 * sqnorm[mu]
    argmax = nn_record[:n_rows] if t == record_t[0] else nearest[:n_rows]
    gibbs_pass(work, X, beta[:n_rows], s, data, offsets, log_z[:n_rows], participation[:n_rows],
               argmax, out[:0])
    s0 = work.s0
    mean_acc = work.mean_acc
    d = X.shape[1]
    for b in range(n_rows):
        pull = c2 * s * inv / s0[b]  # c2 s <a>/Delta = c2 s S1 / (S0 Delta)
        if nonlinear_only:
            for j in range(d):
                out[b, j] = pull * mean_acc[b, j]
        else:
            lin = k_rate - c2 * inv
            for j in range(d):
                out[b, j] = lin * X[b, j] + pull * mean_acc[b, j]


@kernel
def _two_gaussians_drift(X, t, out, centre, sigma2, code, temperature, sigma, k_rate, c2,
                         nonlinear_only):
    """Backward drift with the two-Gaussian population score (PHYSICS.md §2).

    ``score = (m_t tanh(m_t.y/Gamma) - y)/Gamma``, ``m_t = s m``,
    ``Gamma = Delta + sigma^2 s^2``.
    """
    n_rows, d = X.shape
    s, delta = process_coefficients(code, temperature, sigma, t)
    gamma = delta + sigma2 * s * s
    inv = 1.0 / gamma
    for b in range(n_rows):
        overlap = 0.0
        for j in range(d):
            overlap += X[b, j] * centre[j]
        pull = c2 * inv * s * math.tanh(s * overlap * inv)
        if nonlinear_only:
            for j in range(d):
                out[b, j] = pull * centre[j]
        else:
            lin = k_rate - c2 * inv
            for j in range(d):
                out[b, j] = lin * X[b, j] + pull * centre[j]


@kernel
def _track_nearest(nn_now, previous, t_hat, t):
    """Record the last time ``t`` at which each row's nearest point changed."""
    for i in range(nn_now.shape[0]):
        value = nn_now[i]
        if previous[i] >= 0 and value != previous[i]:
            t_hat[i] = t
        previous[i] = value


# --------------------------------------------------------------------------
# Validation helpers.
# --------------------------------------------------------------------------


def check_time_grid(times) -> np.ndarray:
    """A strictly decreasing grid of positive times with at least 2 points, or raise.

    Parameters
    ----------
    times : array_like, shape (K+1,)
        ``t_end > ... > t_min > 0`` (:meth:`Process.time_grid`).

    Returns
    -------
    ndarray of float64, shape (K+1,)

    Raises
    ------
    ValueError
        Missing, too short, non-positive or not strictly decreasing.
    """
    if times is None:
        raise ValueError(
            "times must be a time grid (e.g. process.time_grid(t_min, t_end, K)), got None")
    times = as_float_array(times, "times", ndim=1, dtype=np.float64, allow_empty=True)
    if times.shape[0] == 0:
        raise ValueError("times must not be empty: give a decreasing grid t_end > ... > t_min > 0")
    if times.shape[0] < 2:
        raise ValueError(f"times must hold at least 2 grid points, got {times.shape[0]}")
    if (times <= 0).any():
        raise ValueError(f"times must be > 0 (t_min > 0), got {times[times <= 0][0]}")
    if not (np.diff(times) < 0).all():
        k = int(np.flatnonzero(np.diff(times) >= 0)[0])
        raise ValueError(
            "times must be strictly decreasing (t_end first, t_min last; t_min < t_end), "
            f"got t[{k}]={times[k]!r}, t[{k + 1}]={times[k + 1]!r}"
        )
    return times


def _grid_steps(values, times, name):
    """Grid indices of ``values`` (None: none), in decreasing-time order.

    :func:`statmech.langevin.grid_indices` with a tolerance of ``1e-9`` of
    the largest time (grids built by :meth:`Process.time_grid` hold the
    values exactly).
    """
    if values is None:
        return np.zeros(0, dtype=np.int64)
    hint = f"; build the grid with process.time_grid(..., include={name})"
    return np.sort(grid_indices(values, times, name, rtol=1e-9, hint=hint))


def _check_method(method, ode):
    scheme = check_method(method)
    if not isinstance(ode, (bool, np.bool_)):
        raise TypeError(f"ode must be True or False, got {ode!r}")
    return scheme, bool(ode)


def _initial_states(x0, n_trajectories, d, dtype):
    """Checked ``x0`` (or None) and the number of trajectories it implies."""
    if x0 is None:
        if n_trajectories is None:
            return None, _DEFAULT_TRAJECTORIES
        return None, as_int(n_trajectories, "n_trajectories", minimum=1)
    x0 = as_float_array(x0, "x0", ndim=2, dtype=dtype)
    check_same(x0.shape[1], d, "x0", "data", "dimension d (columns)")
    if n_trajectories is None:
        return x0, x0.shape[0]
    n_traj = as_int(n_trajectories, "n_trajectories", minimum=1)
    if n_traj != x0.shape[0]:
        raise ValueError(
            f"n_trajectories must equal the number of rows of x0 ({x0.shape[0]}) or be None, "
            f"got {n_traj}"
        )
    return x0, n_traj


def _draw_noise(groups, rngs, xi, dtype):
    """Standard normals for one step: group ``(j, i0, size)`` fills ``xi[:, i0:i0+size]``.

    The numbers are those of ``rng.standard_normal(xi[:, i0:i0+size].shape)``,
    drawn straight into ``xi`` when that block is contiguous (one group per
    batch, or no clones yet): no temporary array, no copy.
    """
    for (_, i0, size), rng in zip(groups, rngs):
        target = xi[:, i0:i0 + size]
        if target.flags.c_contiguous:
            rng.standard_normal(dtype=dtype, out=target)
        else:
            target[...] = rng.standard_normal(target.shape, dtype=dtype)


def _group_rng(root: np.random.SeedSequence, j: int) -> np.random.Generator:
    return np.random.default_rng(child_seed(root, j))


# --------------------------------------------------------------------------
# Driver shared by the empirical and population samplers.
# --------------------------------------------------------------------------


class _Model:
    """What the driver needs from a score: drift, its arguments, initial draws, classes."""

    empirical = False

    def init(self, rng, size, s, delta, mode, dtype):
        raise NotImplementedError

    def classes(self, x, nearest):
        raise NotImplementedError


class _EmpiricalModel(_Model):
    empirical = True

    def __init__(self, data, labels, centre, chunk_size, dtype):
        self.data = data
        self.labels = labels
        self.centre = centre
        self.n, self.d = data.shape
        self.sqnorm = np.einsum("ij,ij->i", data, data, dtype=np.float64)
        self.chunk_size = chunk_size
        self.dtype = dtype
        self.drift = _empirical_drift

    def rate(self, delta, s, c2, k):
        return c2 / delta - k

    def buffers(self, rows):
        return dict(
            offsets=np.empty(self.n), beta=np.empty(rows),
            work=gibbs_workspace(rows, self.d, self.chunk_size, n_patterns=self.n,
                                 dtype=self.dtype),
            log_z=np.empty(rows), participation=np.empty(rows),
            nearest=np.empty(rows, np.int64), nn_record=np.full(rows, -1, np.int64),
            record_t=np.zeros(1),
        )

    def args(self, buf, process, k_rate, c2, nonlinear_only):
        return (self.data, self.sqnorm, buf["offsets"], buf["beta"], buf["work"], buf["log_z"],
                buf["participation"], buf["nearest"], buf["nn_record"], buf["record_t"],
                process.code, process.temperature, process.sigma, k_rate, c2, nonlinear_only)

    def init(self, rng, size, s, delta, mode, dtype):
        index = rng.integers(0, self.n, size=size)
        z = rng.standard_normal((size, self.d))
        if mode == "gaussian":
            return math.sqrt(delta) * z
        return s * self.data[index].astype(np.float64) + math.sqrt(delta) * z

    def classes(self, x, nearest):
        if self.labels is not None:
            return self.labels[nearest]
        if self.centre is not None:
            return np.sign(x.astype(np.float64) @ self.centre).astype(np.int64)
        return None


class _TwoGaussiansModel(_Model):
    def __init__(self, centre, sigma):
        self.centre = centre
        self.sigma = sigma
        self.d = centre.shape[0]
        self.drift = _two_gaussians_drift

    def rate(self, delta, s, c2, k):
        return c2 / (delta + self.sigma**2 * s * s) - k

    def buffers(self, rows):
        return {}

    def args(self, buf, process, k_rate, c2, nonlinear_only):
        return (self.centre, self.sigma**2, process.code, process.temperature, process.sigma,
                k_rate, c2, nonlinear_only)

    def init(self, rng, size, s, delta, mode, dtype):
        signs = np.where(rng.random(size) < 0.5, 1.0, -1.0)
        xi = rng.standard_normal((size, self.d))
        z = rng.standard_normal((size, self.d))
        if mode == "gaussian":
            return math.sqrt(delta) * z
        return s * (signs[:, None] * self.centre[None, :] + self.sigma * xi) + math.sqrt(delta) * z

    def classes(self, x, nearest):
        return np.sign(x.astype(np.float64) @ self.centre).astype(np.int64)


def _run(model, process, times, *, n_trajectories, x0, method, ode, clone_times, snapshot_times,
         record_nearest, init, seed, group_size, batch_size, dtype):
    scheme, ode = _check_method(method, ode)
    x0, n_traj = _initial_states(x0, n_trajectories, model.d, dtype)
    group_size = as_int(group_size, "group_size", minimum=1)
    if init not in ("marginal", "gaussian"):
        raise ValueError(f"init must be 'marginal' or 'gaussian', got {init!r}")
    clone_steps = _grid_steps(clone_times, times, "clone_times")
    if clone_steps.size and clone_steps[-1] == times.shape[0] - 1:
        raise ValueError("clone_times must be > t_min (the copies need at least one step)")
    snap_steps = _grid_steps(snapshot_times, times, "snapshot_times")
    if not isinstance(record_nearest, (bool, np.bool_)):
        raise TypeError(f"record_nearest must be True or False, got {record_nearest!r}")
    root = as_seed_sequence(seed)
    n_sets = 1 + clone_steps.shape[0]
    d = model.d
    if batch_size is None:
        per = max(1, _BATCH_VALUES // (d * n_sets))
        batch_size = max(group_size, (per // group_size) * group_size)
    else:
        batch_size = as_int(batch_size, "batch_size", minimum=1)
        if batch_size % group_size:
            raise ValueError(
                f"batch_size must be a multiple of group_size={group_size}, got {batch_size}"
            )
    batch_size = min(batch_size, -(-n_traj // group_size) * group_size)

    K = times.shape[0] - 1
    k_rate = process.drift_rate
    g_amp = 0.0 if ode else math.sqrt(process.noise_variance)
    c2 = process.noise_variance * (0.5 if ode else 1.0)
    s_grid = np.asarray(process.s(times))
    delta_grid = np.asarray(process.delta(times))
    h_grid = times[:-1] - times[1:]
    lam_pts = np.array([model.rate(dl, s, c2, k_rate) for dl, s in zip(delta_grid, s_grid)])
    # Left-point rate, consistent with the nonlinear part N(y, t_k): the step's fixed
    # point N/lam is then exactly s <a>_y. (A trapezoid rate with a left-point N
    # shifts it by the relative change of lam over the step, a shrinkage that
    # accumulates where Delta -> 0: 16 % of the variance with 200 log steps.)
    lam_bar = lam_pts[:-1].copy()
    nonlinear_only = scheme.needs_rate
    if nonlinear_only and (np.abs(lam_bar * h_grid) > 700).any():
        raise ValueError("the time grid is too coarse for method='exponential' (lam*h > 700)")

    rows = batch_size * n_sets
    X = np.empty((rows, d), dtype)
    F0 = np.empty((rows, d), dtype)
    heun = scheme.name == "heun"
    Xp = np.empty((rows if heun else 0, d), dtype)
    F1 = np.empty((rows if heun else 0, d), dtype)
    xi = np.zeros((rows, d), dtype)
    buf = model.buffers(rows)
    args = model.args(buf, process, k_rate, c2, nonlinear_only)
    empirical = model.empirical

    x_out = np.empty((n_traj, d), dtype)
    nearest_out = np.empty(n_traj, np.int64) if empirical else None
    t_hat_out = np.empty(n_traj) if empirical else None
    classes_out = None
    snaps = np.empty((snap_steps.shape[0], n_traj, d), dtype)
    snap_slot = {int(k): i for i, k in enumerate(snap_steps)}
    path = np.empty((K + 1, n_traj), np.int64) if (record_nearest and empirical) else None
    L = clone_steps.shape[0]
    same_class = np.zeros(L)
    same_point = np.zeros(L)
    have_classes = True

    previous = np.full(rows, -1, np.int64)
    t_hat = np.empty(rows)

    for b0 in range(0, n_traj, batch_size):
        nb = min(batch_size, n_traj - b0)
        # b0 is a multiple of group_size: the batch holds whole groups (the last may be short).
        groups = [((b0 + i0) // group_size, i0, min(group_size, nb - i0))
                  for i0 in range(0, nb, group_size)]
        rngs = [_group_rng(root, j) for j, _, _ in groups]
        for (j, i0, size), rng in zip(groups, rngs):
            # Drawn even when x0 replaces it, so that the noise below is the same numbers.
            drawn = model.init(rng, size, float(s_grid[0]), float(delta_grid[0]), init, dtype)
            X[i0:i0 + size] = drawn if x0 is None else x0[b0 + i0:b0 + i0 + size]
        X4 = X[: nb * n_sets].reshape(n_sets, nb, d)
        xi4 = xi[: nb * n_sets].reshape(n_sets, nb, d)
        if 0 in snap_slot:
            snaps[snap_slot[0], b0:b0 + nb] = X[:nb]
        previous[:] = -1
        t_hat[:] = times[0]
        active = 1
        next_clone = 0
        for k in range(K):
            while next_clone < L and clone_steps[next_clone] == k:
                X4[active] = X4[0]
                previous[active * nb:(active + 1) * nb] = previous[:nb]
                t_hat[active * nb:(active + 1) * nb] = t_hat[:nb]
                active += 1
                next_clone += 1
            na = active * nb
            if not ode:
                _draw_noise(groups, rngs, xi4[:active], dtype)
            sq = math.sqrt(h_grid[k])
            if empirical:
                buf["record_t"][0] = times[k]
            scheme.advance(model.drift, args, X[:na], times[k], times[k + 1], h_grid[k],
                           g_amp * sq, g_amp * sq, lam_bar[k], xi[:na], F0[:na], Xp[:na], F1[:na])
            if empirical:
                _track_nearest(buf["nn_record"][:na], previous[:na], t_hat[:na], times[k])
                if path is not None:
                    path[k, b0:b0 + nb] = buf["nn_record"][:nb]
            if k + 1 in snap_slot:
                snaps[snap_slot[k + 1], b0:b0 + nb] = X[:nb]
            if not np.isfinite(X[:na]).all():
                raise FloatingPointError(
                    f"the state became non-finite between t={times[k]!r} and t={times[k + 1]!r}: "
                    "the step is too large for the score (refine the grid toward t_min, e.g. "
                    "spacing='log', or use method='exponential')"
                )
        na = active * nb
        nearest_end = None
        if empirical:
            buf["record_t"][0] = times[K]
            model.drift(X[:na], times[K], F0[:na], *args)
            _track_nearest(buf["nn_record"][:na], previous[:na], t_hat[:na], times[K])
            nearest_end = buf["nn_record"][:na].copy()
            nearest_out[b0:b0 + nb] = nearest_end[:nb]
            t_hat_out[b0:b0 + nb] = t_hat[:nb]
            if path is not None:
                path[K, b0:b0 + nb] = nearest_end[:nb]
        x_out[b0:b0 + nb] = X[:nb]
        cls = model.classes(X[:na], nearest_end)
        if cls is None:
            have_classes = False
        else:
            if classes_out is None:
                classes_out = np.empty(n_traj, np.int64)
            classes_out[b0:b0 + nb] = cls[:nb]
            for l in range(L):
                same_class[l] += np.count_nonzero(cls[(l + 1) * nb:(l + 2) * nb] == cls[:nb])
        if empirical:
            for l in range(L):
                same_point[l] += np.count_nonzero(
                    nearest_end[(l + 1) * nb:(l + 2) * nb] == nearest_end[:nb])

    cloning = None
    if L:
        def _rate(count):
            p = count / n_traj
            se = np.sqrt(p * (1.0 - p) / max(n_traj - 1, 1))
            return p, se

        phi, phi_se = _rate(same_class) if have_classes else (None, None)
        phi_c, phi_c_se = _rate(same_point) if empirical else (None, None)
        cloning = CloningStats(clone_times=times[clone_steps].copy(), phi=phi, phi_se=phi_se,
                               phi_c=phi_c, phi_c_se=phi_c_se, n_pairs=n_traj)
    return BackwardResult(
        x=x_out, nearest=nearest_out, t_collapse=t_hat_out,
        classes=classes_out if have_classes else None, cloning=cloning, snapshots=snaps,
        snapshot_times=times[snap_steps].copy(), nearest_path=path, times=times,
        method=method, ode=ode, seed_entropy=root.entropy, spawn_key=tuple(root.spawn_key),
        group_size=group_size,
    )


def backward_sample(
    data,
    process=None,
    times=None,
    *,
    n_trajectories=None,
    x0=None,
    labels=None,
    centre=None,
    method="euler_maruyama",
    ode=False,
    clone_times=None,
    snapshot_times=None,
    record_nearest=False,
    init="marginal",
    seed=None,
    group_size=64,
    batch_size=None,
    chunk_size=None,
    dtype=np.float64,
) -> BackwardResult:
    """Run the backward SDE (or probability-flow ODE) with the exact empirical score.

    Generative dynamics of a diffusion model trained exactly on ``data``
    (PHYSICS.md §2, dynamical-regimes eq. 3, Ambrogioni eq. 3), with the
    nearest-neighbour index ``mu*(t)`` (dynamical-regimes eq. 12), ``t^_C``
    per trajectory and the cloning protocol ``phi(t)``, ``phi_C(t)``
    (PHYSICS.md §5), from ``times[0]`` (own draws, or given states ``x0``)
    down to ``times[-1]``. See the module docstring for the scheme.

    Parameters
    ----------
    data : array_like, shape (n, d)
        Training points.
    process : Process, optional
        Forward process (default OU, ``T = 1``).
    times : array_like, shape (K+1,)
        Strictly decreasing grid ``t_end > ... > t_min > 0``
        (:meth:`Process.time_grid`).
    n_trajectories : int, optional
        Number of trajectories ``B`` (= clone pairs per clone time). Default
        ``x0.shape[0]`` when ``x0`` is given (which it must then equal),
        else 256.
    x0 : array_like, shape (B, d), optional
        States at ``times[0]`` (the largest time) to start from, instead of
        the sampler's own draw (``init``, which is then ignored); finite,
        converted to ``dtype``. Row ``i`` belongs to group ``i //
        group_size``; each group still draws (and discards) its initial
        states, so the noise is the same numbers as with ``x0=None``: ``x0``
        equal to that draw gives the same result bit for bit. Give states
        of the forward marginal at ``times[0]`` (:meth:`Process.sample_marginal`)
        to run the exact backward dynamics from an intermediate time, or
        noisy cues for retrieval.
    labels : array_like of int, shape (n,), optional
        Class of each training point: the class of an end point is the
        label of its nearest training point.
    centre : array_like, shape (d,), optional
        Class direction ``m``: the class is ``sign(x.m)`` (Gaussian
        mixture). Give ``labels`` or ``centre``, not both.
    method : {"euler_maruyama", "heun", "exponential"}
        ``statmech.langevin`` step; ``"exponential"`` treats the stiff
        linear part ``-(c2/Delta - k) y`` exactly.
    ode : bool
        Probability-flow ODE instead of the SDE.
    clone_times : array_like, optional
        Grid times at which to branch every trajectory into a pair.
    snapshot_times : array_like, optional
        Grid times at which to store the (original) states.
    record_nearest : bool
        Keep ``mu*(t_k)`` at every grid time (``(K+1) x B`` integers).
    init : {"marginal", "gaussian"}
        Start from an exact draw of ``P_{t_end}^e`` (``s a_nu + sqrt(Delta) z``)
        or from ``N(0, Delta(t_end) I)`` (the paper's pure noise). Ignored
        when ``x0`` is given.
    seed : int, SeedSequence or None
    group_size : int
        Trajectories per random stream (part of the random-number recipe:
        the result depends on ``seed``, ``group_size`` and ``x0`` only).
    batch_size : int, optional
        Trajectories per batch, a multiple of ``group_size`` (memory only:
        the result does not depend on it beyond round-off).
    chunk_size : int, optional
        Data rows per Gibbs chunk (memory only).
    dtype : float64 or float32
        Working precision of states and products.

    Returns
    -------
    BackwardResult
    """
    process = as_process(process)
    dtype = as_float_dtype(dtype)
    data = as_float_array(data, "data", ndim=2, dtype=dtype)
    times = check_time_grid(times)
    n, d = data.shape
    if labels is not None and centre is not None:
        raise ValueError("give labels or centre to define classes, not both")
    if labels is not None:
        labels = as_labels(labels, n)
    if centre is not None:
        centre = as_float_array(centre, "centre", ndim=1, dtype=np.float64)
        check_same(centre.shape[0], d, "centre", "data", "dimension d")
    if chunk_size is not None:
        chunk_size = as_int(chunk_size, "chunk_size", minimum=1)
    model = _EmpiricalModel(data, labels, centre, chunk_size, dtype)
    return _run(model, process, times, n_trajectories=n_trajectories, x0=x0, method=method, ode=ode,
                clone_times=clone_times, snapshot_times=snapshot_times,
                record_nearest=record_nearest, init=init, seed=seed, group_size=group_size,
                batch_size=batch_size, dtype=dtype)


def backward_sample_two_gaussians(
    centre,
    sigma,
    process=None,
    times=None,
    *,
    n_trajectories=256,
    method="euler_maruyama",
    ode=False,
    clone_times=None,
    snapshot_times=None,
    init="marginal",
    seed=None,
    group_size=64,
    batch_size=None,
    dtype=np.float64,
) -> BackwardResult:
    """Backward dynamics with the exact population score of ``(N(m, s^2 I) + N(-m, s^2 I))/2``.

    The Gaussian-mixture reference dynamics of the dynamical-regimes paper
    (Methods, Fig. 2): score ``(m_t tanh(m_t.y/Gamma_t) - y)/Gamma_t`` with
    ``m_t = s m``, ``Gamma_t = Delta_t + sigma^2 s^2``
    (:func:`diffusion.gm_theory.two_gaussians_score`). ``centre = 0``
    gives the isotropic Gaussian ``N(0, sigma^2 I)``. Classes are
    ``sign(x.m)``; there is no training set, so no nearest point, ``t^_C`` or
    ``phi_C``.

    Parameters
    ----------
    centre : array_like, shape (d,)
        ``m``.
    sigma : float
        Class standard deviation ``>= 0``.
    process : Process, optional
        Default OU with ``T = 1``.
    times : array_like, shape (K+1,)
        Strictly decreasing grid.
    n_trajectories : int
    method : {"euler_maruyama", "heun", "exponential"}
    ode : bool
    clone_times, snapshot_times : array_like, optional
    init : {"marginal", "gaussian"}
    seed : int, SeedSequence or None
    group_size, batch_size : int
    dtype : float64 or float32
        As in :func:`backward_sample` (there is no ``x0`` here).

    Returns
    -------
    BackwardResult
    """
    process = as_process(process)
    dtype = as_float_dtype(dtype)
    centre = as_float_array(centre, "centre", ndim=1, dtype=np.float64)
    sigma = as_float(sigma, "sigma", nonnegative=True)
    times = check_time_grid(times)
    model = _TwoGaussiansModel(centre, sigma)
    return _run(model, process, times, n_trajectories=n_trajectories, x0=None, method=method,
                ode=ode, clone_times=clone_times, snapshot_times=snapshot_times,
                record_nearest=False, init=init, seed=seed, group_size=group_size,
                batch_size=batch_size, dtype=dtype)
