r"""The Hopfield–diffusion bridge: identities, condensation, capacity against collapse, retrieval.

The only module of :mod:`hopfield` that imports :mod:`diffusion`.

Identities (Ambrogioni 2023 §7, eq. 31; PHYSICS.md §2, §3, §6)
---------------------------------------------------------------
For data ``a_mu`` with equal norms ``|a_mu|^2 = r^2`` and a process with
``x_t = s a + sqrt(Delta) z``, the posterior weights are
``softmax_mu((s x.a_mu - s^2 r^2/2) / Delta) = softmax_mu(beta_H y.a_mu)`` with
``y = x / s`` and ``beta_H = s^2 / Delta`` (the offsets are the same for every
``mu`` and cancel). Hence, with ``E_H`` the modern-Hopfield energy and ``U``
one Hopfield update (:mod:`hopfield.modern`):

- denoiser ``<a>_x = U(x / s; beta_H)``; for VE (``s = 1``, ``Delta = sigma^2
  t``) this is one Hopfield update at ``beta = 1/(t sigma^2)`` on ``x``;
- regularised free energy ``F~(x, t) = s^2 E_H(x/s; beta_H) + Delta ln n +
  s^2 r^2 / 2`` (our algebra from the definitions of :mod:`diffusion.score`:
  ``F = -Delta ln((1/n) sum_mu e^{(s x.a_mu - s^2 r^2/2)/Delta})``, ``F~ =
  F + |x|^2/2``); for VE, ``F~ = E_H(x; 1/(t sigma^2)) + t sigma^2 ln n + r^2/2``;
- OU (``s = e^{-t}``, ``Delta = T(1 - e^{-2t})``): the same with the scale
  factor ``s``: state ``x/s``, ``beta_H = s^2/Delta``, energy times ``s^2``;
- the participation ratios of the two weight vectors are equal.

These hold to round-off (they are the same Gibbs pass with different
bookkeeping), which :func:`bridge_identities` measures.

REM condensation (Ambrogioni §8, eq. 36–39)
-------------------------------------------
Data uniform on a sphere in ``R^d``, ``N = 2^M`` points, state ``x``:
energies ``E_j = -x.a_j``. For ``d >> M`` the overlaps are Gaussian and
``beta(t) x.a_j = beta~ E~_j`` with ``E~_j ~ N(0, M/2)`` and ``beta~ = nu
beta(t) |x|`` **provided the radius is** ``r = nu sqrt(M d / 2)`` (then
``var(x.a_j) = |x|^2 r^2 / d = |x|^2 nu^2 M / 2``, Ambrogioni's eq. 37 text).
The radius printed in Ambrogioni (and PHYSICS.md §4), ``nu sqrt(M/(2d))``,
gives ``var = |x|^2 nu^2 M / (2 d^2)``, i.e. ``beta~ = nu beta |x| / d``; we
use the radius consistent with eq. 37–38. Condensation at ``beta~ =
2 sqrt(ln 2)``: ``t_c(x) = nu |x| / (2 sigma^2 sqrt(ln 2))`` (eq. 38), and
``E[Y] -> 1 - beta_c / beta~`` above it (eq. 39). :func:`rem_condensation`
measures ``E[Y]`` on sphere data with :func:`statmech.rem.quenched_rem` and
compares it with a sampled Gaussian REM of the same ``M``
(:func:`statmech.rem.sampled_rem`) and with eq. 39.

Capacity against collapse (ours; PHYSICS.md §5–7)
-------------------------------------------------
Spherical data ``|a|^2 = d`` under OU with ``T = 1`` (so ``s^2 + Delta = 1``),
``n = e^{alpha d}`` points. A noisy sample ``x = s a_1 + sqrt(Delta) z`` has
self log-weight ``-d/2`` and, for the others, ``-d (2 s^2 + Delta)/(2 Delta) +
(s/Delta) x.a_nu`` with ``x.a_nu = d sqrt(s^2 + Delta) u`` (``u`` a spherical
overlap). The posterior collapses on ``a_1`` (``f(t) = 0``, Biroli et al.
2024) iff ``s^2/Delta > phi_sph(b_C; alpha)`` with ``b_C = s sqrt(s^2 +
Delta)/Delta`` and ``phi_sph`` the auxiliary REM of
:mod:`hopfield.capacity`; ``t_C(alpha)`` is the largest such ``t``. The
Hopfield side: the denoiser at ``t`` is the Hopfield update at ``beta_H(t) =
s^2/Delta`` (identity above), which keeps a stored pattern iff ``alpha <
alpha_1(beta_H(t))``; ``t_H(alpha)`` is the largest such ``t``. Since ``b_C >
beta_H`` (``s < 1``), ``t_C < t_H``: a pattern is a fixed point of the
denoiser before the noisy samples collapse onto it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from statmech._validation import (
    as_float,
    as_float_array,
    as_int,
    as_positive_array,
    as_seed_sequence,
    child_seed,
)
from statmech.lse import LN2
from statmech.gibbs import gibbs_average
from statmech.rem import quenched_rem, rem_mean_participation, sampled_rem

from diffusion.collapse import collapse_time, excess_entropy
from diffusion.datasets import load_digits
from diffusion.processes import Process, ou_process, ve_process
from diffusion.sampler import backward_sample
from diffusion.score import empirical_posterior

from hopfield.capacity import alpha_1, finite_size_alpha_1, overlap_rem, success_window
from hopfield.modern import (
    hopfield_energy,
    hopfield_update,
    retrieval_measures,
    retrieve,
    stochastic_retrieve,
)
from hopfield.patterns import as_patterns, random_patterns



# --------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------


def equal_norm(patterns, radius=None) -> np.ndarray:
    """Rescale every row to the norm ``radius``; rows of norm 0 are refused.

    Parameters
    ----------
    patterns : array_like, shape (n, N)
    radius : float, optional
        ``> 0``; default ``sqrt(N)``.

    Returns
    -------
    ndarray of float64, shape (n, N)
    """
    patterns = as_patterns(patterns, dtype=np.float64)
    norms = np.linalg.norm(patterns, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError(f"patterns has {int((norms == 0).sum())} zero rows, which cannot be normalised")
    radius = math.sqrt(patterns.shape[1]) if radius is None else as_float(radius, "radius", positive=True)
    return patterns * (radius / norms)


def digit_patterns(classes=None, *, normalise=True) -> np.ndarray:
    """The 8x8 digits of :func:`diffusion.datasets.load_digits` (pixels in ``[-1, 1]``) as patterns.

    Parameters
    ----------
    classes : iterable of int, optional
        Digit classes to keep (default all).
    normalise : bool
        Rescale each image to norm ``sqrt(64) = 8`` (equal norms, as the
        bridge identities need).

    Returns
    -------
    ndarray of float64, shape (n, 64)
    """
    data = load_digits(classes).data
    return equal_norm(data) if normalise else np.ascontiguousarray(data)


def _as_process(process, sigma, temperature) -> Process:
    if isinstance(process, Process):
        return process
    if process == "ve":
        return ve_process(sigma)
    if process == "ou":
        return ou_process(temperature)
    raise ValueError(f"process must be 've', 'ou' or a diffusion Process, got {process!r}")


def hopfield_beta(process: Process, t) -> float:
    """Matched Hopfield inverse temperature ``beta_H(t) = s(t)^2 / Delta(t)`` (``1/(t sigma^2)`` for VE).

    Parameters
    ----------
    process : Process
    t : float
        Forward time ``> 0``.

    Returns
    -------
    float
    """
    t = as_float(t, "t", positive=True)
    return float(process.s(t)) ** 2 / float(process.delta(t))


# --------------------------------------------------------------------------
# 1. Identities
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class BridgeIdentities:
    """Measured differences between the diffusion side and the Hopfield side (module docstring).

    Attributes
    ----------
    times : ndarray, shape (T,)
    beta : ndarray, shape (T,)
        ``beta_H(t) = s^2 / Delta``.
    denoiser_error : ndarray, shape (T,)
        ``max |<a>_x - U(x/s; beta_H)| / max|a|`` over the states.
    free_energy_error : ndarray, shape (T,)
        ``max |F~ - (s^2 E_H(x/s) + C)| / max(1, |F~|)``.
    free_energy_constant : ndarray, shape (T,)
        ``C = Delta ln n + s^2 r^2 / 2``.
    participation_diffusion, participation_hopfield : ndarray, shape (T,)
        Mean participation ratio of the posterior and of the Hopfield softmax.
    participation_error : ndarray, shape (T,)
        ``max |Y_diffusion - Y_hopfield|``.
    norm_spread : float
        ``max |a|^2 / min |a|^2 - 1`` (0 for equal norms).
    process : str
    """

    times: np.ndarray
    beta: np.ndarray
    denoiser_error: np.ndarray
    free_energy_error: np.ndarray
    free_energy_constant: np.ndarray
    participation_diffusion: np.ndarray
    participation_hopfield: np.ndarray
    participation_error: np.ndarray
    norm_spread: float
    process: str


def bridge_identities(patterns, times, *, process="ve", sigma=1.0, temperature=1.0, n_states=32,
                      seed=None) -> BridgeIdentities:
    """Check denoiser = Hopfield update, ``F~`` = Hopfield energy + constant, equal participation.

    Physics: module docstring (Ambrogioni 2023 §7). States are drawn from the
    noised empirical law at each time (``process.sample_marginal``). The
    identities need equal norms; for unequal norms the errors measure how far
    from it the data are (use :func:`equal_norm`).

    Parameters
    ----------
    patterns : array_like, shape (n, d)
    times : array_like, shape (T,)
        Forward times ``> 0``.
    process : {"ve", "ou"} or diffusion Process
    sigma, temperature : float
        VE noise amplitude; OU temperature.
    n_states : int
        States per time.
    seed : None, int or SeedSequence

    Returns
    -------
    BridgeIdentities
    """
    patterns = as_patterns(patterns, dtype=np.float64)
    times = as_positive_array(times, "times", ndim=1)
    proc = _as_process(process, sigma, temperature)
    n_states = as_int(n_states, "n_states", minimum=1)
    seq = as_seed_sequence(seed)
    n, d = patterns.shape
    sq = np.einsum("ij,ij->i", patterns, patterns)
    r2 = float(sq.mean())
    scale = float(np.max(np.abs(patterns)))
    out = {k: np.empty(times.shape[0]) for k in ("beta", "den", "fe", "const", "yd", "yh", "ye")}
    for k, t in enumerate(times):
        child = child_seed(seq, k)
        x, _ = proc.sample_marginal(patterns, float(t), seed=child, n_samples=n_states)
        post = empirical_posterior(patterns, x, float(t), proc)
        s = post.s
        delta = post.delta
        beta = s * s / delta
        y = x / s
        update = hopfield_update(patterns, y, beta)
        energy = hopfield_energy(patterns, y, beta)
        hop_y = gibbs_average(patterns, y, beta, compute_mean=False).participation
        const = delta * math.log(n) + s * s * r2 / 2.0
        out["beta"][k] = beta
        out["den"][k] = np.max(np.abs(post.denoiser - update)) / scale
        fe = post.free_energy_reg
        out["fe"][k] = np.max(np.abs(fe - (s * s * energy + const)) / np.maximum(1.0, np.abs(fe)))
        out["const"][k] = const
        out["yd"][k] = post.participation.mean()
        out["yh"][k] = hop_y.mean()
        out["ye"][k] = np.max(np.abs(post.participation - hop_y))
    return BridgeIdentities(
        times=times, beta=out["beta"], denoiser_error=out["den"], free_energy_error=out["fe"],
        free_energy_constant=out["const"], participation_diffusion=out["yd"],
        participation_hopfield=out["yh"], participation_error=out["ye"],
        norm_spread=float(sq.max() / sq.min() - 1.0), process=proc.kind,
    )


# --------------------------------------------------------------------------
# 2. REM condensation on sphere data (Ambrogioni eq. 38–39)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class REMCondensation:
    """``E[Y]`` against ``beta~ / beta_c`` for sphere data, a sampled REM, and eq. 39.

    Attributes
    ----------
    sizes : ndarray of int64, shape (L,)
        ``M`` (``N = 2^M`` data points).
    reduced_beta : ndarray, shape (K,)
        ``beta~ / beta_c`` on the grid.
    times : ndarray, shape (K,)
        VE times ``t = nu |x| / (sigma^2 beta~)``; ``t_c = times`` at ratio 1.
    y_data, y_data_se : ndarray, shape (L, K)
        Mean participation of the posterior over sphere data, and its standard error.
    y_rem, y_rem_se : ndarray, shape (L, K)
        Same for a sampled Gaussian REM with ``N = 2^M`` levels of variance ``M/2``.
    y_theory : ndarray, shape (K,)
        ``max(0, 1 - beta_c / beta~)`` (eq. 39).
    t_c : float
        Eq. 38, ``nu |x| / (2 sigma^2 sqrt(ln 2))``.
    dimension : int
    nu, sigma, x_norm : float
    """

    sizes: np.ndarray
    reduced_beta: np.ndarray
    times: np.ndarray
    y_data: np.ndarray
    y_data_se: np.ndarray
    y_rem: np.ndarray
    y_rem_se: np.ndarray
    y_theory: np.ndarray
    t_c: float
    dimension: int
    nu: float
    sigma: float
    x_norm: float


def rem_condensation(sizes=(6, 8, 10, 12), *, dimension=1024, nu=1.0, sigma=1.0, x_norm=1.0,
                     reduced_betas=None, n_samples=16, seed=None) -> REMCondensation:
    """Simulate Ambrogioni's REM condensation (eq. 38–39) on data uniform on a sphere.

    For each ``M``: ``n_samples`` data sets of ``N = 2^M`` points uniform on
    the sphere of radius ``nu sqrt(M d / 2)`` (module docstring) and a state of
    norm ``x_norm`` in a random direction; energies ``-x.a_j``; the
    participation ratio at VE inverse temperature ``beta(t) = 1/(t sigma^2)``
    from :func:`statmech.rem.quenched_rem`. The same ``beta~`` grid is run on
    sampled Gaussian REMs (:func:`statmech.rem.sampled_rem`).

    Parameters
    ----------
    sizes : iterable of int
        ``M`` (``N = 2^M`` data points).
    dimension : int
        ``d``.
    nu : float
        Radius factor of the sphere.
    sigma : float
        VE noise amplitude.
    x_norm : float
        Norm of the state.
    reduced_betas : array_like, optional
        The ``beta~`` grid.
    n_samples : int
        Data sets per ``M``.
    seed : None, int or SeedSequence

    Returns
    -------
    REMCondensation
    """
    sizes = np.asarray([as_int(int(m), "sizes[i]", minimum=1) for m in np.atleast_1d(sizes)], dtype=np.int64)
    dimension = as_int(dimension, "dimension", minimum=2)
    nu = as_float(nu, "nu", positive=True)
    sigma = as_float(sigma, "sigma", positive=True)
    x_norm = as_float(x_norm, "x_norm", positive=True)
    n_samples = as_int(n_samples, "n_samples", minimum=2)
    if reduced_betas is None:
        reduced_betas = np.linspace(0.25, 4.0, 31)
    reduced_betas = as_float_array(reduced_betas, "reduced_betas", ndim=1, dtype=np.float64)
    if (reduced_betas <= 0).any():
        raise ValueError("reduced_betas must be > 0")
    seq = as_seed_sequence(seed)
    beta_c = 2.0 * math.sqrt(LN2)
    tilde = reduced_betas * beta_c
    times = nu * x_norm / (sigma**2 * tilde)
    betas_t = 1.0 / (sigma**2 * times)  # = tilde / (nu |x|)
    y_data = np.empty((sizes.shape[0], tilde.shape[0]))
    y_data_se = np.empty_like(y_data)
    y_rem = np.empty_like(y_data)
    y_rem_se = np.empty_like(y_data)
    for i, m in enumerate(sizes):
        n_points = 1 << int(m)
        radius = nu * math.sqrt(m * dimension / 2.0)
        rows = np.empty((n_samples, tilde.shape[0]))
        for s in range(n_samples):
            child = child_seed(seq, i, s, 0)
            data = random_patterns("spherical", n_points, dimension, seed=child) * (radius / math.sqrt(dimension))
            rng = np.random.default_rng(child_seed(seq, i, s, 1))
            x = rng.standard_normal(dimension)
            x *= x_norm / np.linalg.norm(x)
            energies = -(data @ x)
            rows[s] = quenched_rem(energies, betas_t).participation
        y_data[i] = rows.mean(axis=0)
        y_data_se[i] = rows.std(axis=0, ddof=1) / math.sqrt(n_samples)
        rem = sampled_rem(n_points, tilde, n_samples=n_samples,
                          seed=child_seed(seq, i, 10**6))
        y_rem[i] = rem.participation.mean(axis=0)
        y_rem_se[i] = rem.participation.std(axis=0, ddof=1) / math.sqrt(n_samples)
    return REMCondensation(
        sizes=sizes, reduced_beta=reduced_betas, times=times, y_data=y_data, y_data_se=y_data_se,
        y_rem=y_rem, y_rem_se=y_rem_se, y_theory=rem_mean_participation(tilde, beta_c),
        t_c=nu * x_norm / (2.0 * sigma**2 * math.sqrt(LN2)), dimension=dimension, nu=nu, sigma=sigma,
        x_norm=x_norm,
    )


# --------------------------------------------------------------------------
# 3. Capacity against collapse
# --------------------------------------------------------------------------


def _largest_time(pred, t_lo=1e-6, t_hi=20.0) -> float:
    """Largest ``t`` in ``[t_lo, t_hi]`` with ``pred(t)`` true, assuming true below, false above."""
    if not pred(t_lo):
        return 0.0
    if pred(t_hi):
        return t_hi
    lo, hi = math.log(t_lo), math.log(t_hi)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if pred(math.exp(mid)):
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi))


def collapse_time_theory(alpha, temperature=1.0) -> float:
    """``t_C(alpha)`` for spherical data under OU (module docstring; ours).

    The largest ``t`` with ``s^2/Delta > phi_sph(s sqrt(s^2 + Delta)/Delta;
    alpha)``, for data on the sphere of radius ``sqrt(d)``.

    Parameters
    ----------
    alpha : float
        ``ln(n)/d > 0``.
    temperature : float
        OU temperature ``T > 0``.

    Returns
    -------
    float
        OU time.
    """
    alpha = as_float(alpha, "alpha", positive=True)
    proc = ou_process(as_float(temperature, "temperature", positive=True))
    rem = overlap_rem("spherical", alpha)

    def collapsed(t):
        s = float(proc.s(t))
        delta = float(proc.delta(t))
        b = s * math.sqrt(s * s + delta) / delta
        return s * s / delta > rem.log_partition(b)

    return _largest_time(collapsed)


def hopfield_time_theory(alpha, temperature=1.0, n_features=None) -> float:
    """``t_H(alpha)``: largest OU time with ``alpha < alpha_1(beta_H(t))``, ``beta_H = s^2/Delta``.

    Parameters
    ----------
    alpha : float
        ``ln(n)/d > 0``.
    temperature : float
        OU temperature ``T > 0``.
    n_features : int, optional
        With it the finite-N mean-field threshold
        (:func:`hopfield.capacity.finite_size_alpha_1`) replaces ``alpha_1``.

    Returns
    -------
    float
        OU time.
    """
    alpha = as_float(alpha, "alpha", positive=True)
    proc = ou_process(as_float(temperature, "temperature", positive=True))

    def keeps(t):
        beta = hopfield_beta(proc, t)
        if n_features is None:
            return alpha < alpha_1("spherical", beta)
        return alpha < finite_size_alpha_1("spherical", beta, n_features)

    return _largest_time(keeps)


@dataclass(frozen=True)
class CapacityCollapse:
    """Diffusion collapse and Hopfield retrieval against ``alpha = ln(n)/d`` on the same patterns.

    Attributes
    ----------
    alphas : ndarray, shape (A,)
    n_patterns : ndarray of int64, shape (A,)
    t_collapse_theory, t_hopfield_theory : ndarray, shape (A,)
        ``t_C(alpha)`` and ``t_H(alpha)`` (N -> inf, module docstring).
    t_hopfield_finite : ndarray, shape (A,)
        ``t_H`` from the finite-d mean-field threshold.
    t_collapse_excess, t_collapse_excess_se : ndarray, shape (A,)
        ``t_C`` from the excess entropy ``f^e`` (diffusion.collapse), bootstrap SE.
    t_collapse_nn, t_collapse_nn_se : ndarray, shape (A,)
        Mean nearest-neighbour ``t^_C`` over backward trajectories, and its SE.
    t_hopfield_sim : ndarray, shape (A,)
        Largest grid time at which at least half of the patterns are retrieved
        (started at the pattern) by the Hopfield network at ``beta_H(t)``.
    dimension : int
    """

    alphas: np.ndarray
    n_patterns: np.ndarray
    t_collapse_theory: np.ndarray
    t_hopfield_theory: np.ndarray
    t_hopfield_finite: np.ndarray
    t_collapse_excess: np.ndarray
    t_collapse_excess_se: np.ndarray
    t_collapse_nn: np.ndarray
    t_collapse_nn_se: np.ndarray
    t_hopfield_sim: np.ndarray
    dimension: int


def capacity_vs_collapse(alphas=(0.15, 0.25, 0.35, 0.45), *, dimension=20, n_samples=400,
                         n_trajectories=64, n_targets=32, n_times=40, seed=None,
                         memory_limit=None, progress=None) -> CapacityCollapse:
    """Diffusion collapse time and Hopfield retrieval threshold at matched ``alpha = ln(n)/d``.

    Spherical patterns (radius ``sqrt(d)``), OU process with ``T = 1``. For each
    ``alpha``: ``n = round(e^{alpha d})`` patterns; ``t_C`` from the excess
    entropy (:func:`diffusion.collapse.excess_entropy`, ``collapse_time``), the
    nearest-neighbour ``t^_C`` (:func:`diffusion.sampler.backward_sample`), the
    Hopfield threshold time (:func:`hopfield.modern.retrieve` at ``beta_H(t) =
    s^2/Delta``, started at the patterns), and the two theory curves (module
    docstring).

    Parameters
    ----------
    alphas : array_like (K,)
        Loads ``ln(n)/d > 0``.
    dimension : int
        ``d >= 2``.
    n_samples : int
        Monte Carlo samples of the excess entropy.
    n_trajectories : int
        Backward trajectories for ``t^_C``.
    n_targets : int
        Patterns retrieved per time.
    n_times : int
        Grid times.
    seed : None, int or SeedSequence
        Load ``i`` uses children ``(i, 0)`` (patterns), ``(i, 1)``, ``(i, 2)``.
    memory_limit : int, optional
        Bytes allowed for a pattern matrix.
    progress : callable, optional
        ``progress(done, total)`` after each of the three stages (excess
        entropy, backward trajectories, Hopfield retrieval) of each load.

    Returns
    -------
    CapacityCollapse
    """
    from hopfield.patterns import patterns_for_alpha

    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable(done, total) or None, got {progress!r}")

    alphas = as_positive_array(alphas, "alphas", ndim=1)
    dimension = as_int(dimension, "dimension", minimum=2)
    seq = as_seed_sequence(seed)
    proc = ou_process(1.0)
    times = np.exp(np.linspace(math.log(0.02), math.log(3.0), as_int(n_times, "n_times", minimum=4)))
    a = alphas.shape[0]
    res = {k: np.zeros(a) for k in ("tc", "th", "thf", "tce", "tcese", "tnn", "tnnse", "ths")}
    sizes = np.zeros(a, dtype=np.int64)

    def stage(i, k):
        if progress is not None:
            progress(3 * i + k, 3 * a)

    for i, alpha in enumerate(alphas):
        n = patterns_for_alpha(alpha, dimension, memory_limit=memory_limit)
        sizes[i] = n
        child = child_seed(seq, i, 0)
        data = random_patterns("spherical", n, dimension, seed=child)
        res["tc"][i] = collapse_time_theory(alpha)
        res["th"][i] = hopfield_time_theory(alpha)
        res["thf"][i] = hopfield_time_theory(alpha, n_features=dimension)
        ex = excess_entropy(data, times, proc, n_samples=n_samples,
                            seed=child_seed(seq, i, 1))
        ct = collapse_time(ex)
        res["tce"][i], res["tcese"][i] = ct.t_c, ct.t_c_se
        stage(i, 1)
        grid = proc.time_grid(0.01, 3.0, 200, spacing="log")
        back = backward_sample(data, proc, grid, n_trajectories=n_trajectories,
                               seed=child_seed(seq, i, 2))
        res["tnn"][i] = float(np.mean(back.t_collapse))
        res["tnnse"][i] = float(np.std(back.t_collapse, ddof=1) / math.sqrt(back.t_collapse.shape[0]))
        stage(i, 2)
        n_q = min(n_targets, n)
        window = 0.5  # failure overlap is 0 for beta_H <= 1 and sqrt(1 - 1/beta) above; see success_window
        best = 0.0
        for t in times:
            beta = hopfield_beta(proc, float(t))
            window = success_window("spherical", beta)
            r = retrieve(data, data[:n_q], beta, tol=1e-9, max_iter=2000)
            meas = retrieval_measures(data, r.states, np.arange(n_q))
            frac = float(np.mean(meas.nearest_is_target & (np.abs(meas.overlap - 1) < window)))
            if frac >= 0.5:
                best = float(t)
        res["ths"][i] = best
        stage(i, 3)
    return CapacityCollapse(
        alphas=alphas, n_patterns=sizes, t_collapse_theory=res["tc"], t_hopfield_theory=res["th"],
        t_hopfield_finite=res["thf"], t_collapse_excess=res["tce"], t_collapse_excess_se=res["tcese"],
        t_collapse_nn=res["tnn"], t_collapse_nn_se=res["tnnse"], t_hopfield_sim=res["ths"],
        dimension=dimension,
    )


# --------------------------------------------------------------------------
# 4. Retrieval compared from the same cues
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievalComparison:
    """Success rates and overlaps of Hopfield and diffusion retrieval from the same noisy cues.

    Attributes
    ----------
    noise : ndarray, shape (L,)
        Cue noise ``eps`` per component (cue = pattern + eps z).
    times : ndarray, shape (L,)
        Matching VE time ``t = eps^2 / sigma^2``.
    beta : ndarray, shape (L,)
        Matched Hopfield inverse temperature ``1/(sigma^2 t) = 1/eps^2``.
    success_deterministic, success_stochastic, success_diffusion : ndarray, shape (L,)
        Fraction whose final state's nearest pattern is the target.
    overlap_deterministic, overlap_stochastic, overlap_diffusion : ndarray, shape (L,)
        Mean ``xi_t.x / |xi_t|^2``.
    overlap_cue : ndarray, shape (L,)
        Mean cosine between cue and target.
    n_cues : int
    """

    noise: np.ndarray
    times: np.ndarray
    beta: np.ndarray
    success_deterministic: np.ndarray
    success_stochastic: np.ndarray
    success_diffusion: np.ndarray
    overlap_deterministic: np.ndarray
    overlap_stochastic: np.ndarray
    overlap_diffusion: np.ndarray
    overlap_cue: np.ndarray
    n_cues: int


def ve_backward_from(data, x0, t_start, *, sigma=1.0, t_min=1e-3, n_steps=200, seed=None) -> np.ndarray:
    """VE backward SDE ``y <- y + sigma^2 h score(y, t) + sigma sqrt(h) xi`` from given states.

    Ambrogioni eq. 3 / PHYSICS.md §2 with the exact empirical score, from the
    states ``x0`` at ``t_start`` down to ``t_min`` on a log-spaced grid:
    :func:`diffusion.sampler.backward_sample` with ``x0``, the VE process and
    ``method="euler_maruyama"``; its random-number recipe (``seed``, groups of
    64 trajectories) applies.

    Parameters
    ----------
    data : array_like, shape (n, d)
    x0 : array_like, shape (B, d)
    t_start : float
        ``> t_min``.
    sigma : float
        VE noise amplitude ``> 0``.
    t_min : float
        ``> 0``.
    n_steps : int
        ``>= 1``.
    seed : None, int or SeedSequence

    Returns
    -------
    ndarray, shape (B, d)
        States at ``t_min``.
    """
    data = as_patterns(data, dtype=np.float64)
    x0 = as_float_array(x0, "x0", ndim=2, dtype=np.float64)
    t_start = as_float(t_start, "t_start", positive=True)
    t_min = as_float(t_min, "t_min", positive=True)
    if not t_min < t_start:
        raise ValueError(f"t_min must be < t_start, got {t_min!r} and {t_start!r}")
    proc = ve_process(as_float(sigma, "sigma", positive=True))
    grid = proc.time_grid(t_min, t_start, as_int(n_steps, "n_steps", minimum=1), spacing="log")
    return backward_sample(data, proc, grid, x0=x0, method="euler_maruyama", seed=seed).x


def retrieval_comparison(patterns, noise_levels=(0.25, 0.5, 0.75, 1.0, 1.5), *, n_cues=64, sigma=1.0,
                         temperature=0.05, duration=20.0, n_steps=200, t_min=1e-3, seed=None) -> RetrievalComparison:
    """Hopfield (deterministic, stochastic) and diffusion retrieval from the same noisy cues.

    Cue: ``x = xi_target + eps z``, ``z ~ N(0, I)``, which is a draw of the VE
    marginal at ``t = eps^2/sigma^2``. Hopfield at the matched ``beta =
    1/(sigma^2 t)``: :func:`hopfield.modern.retrieve` (fixed point) and
    :func:`hopfield.modern.stochastic_retrieve` (Langevin at ``temperature``
    for ``duration``); diffusion: :func:`ve_backward_from` from ``t`` to
    ``t_min``. Success = the final state's nearest pattern is the target.

    Parameters
    ----------
    patterns : array_like, shape (n, d)
    noise_levels : array_like (L,)
        ``eps > 0``.
    n_cues : int
        Cues per noise level.
    sigma : float
        VE noise amplitude ``> 0``.
    temperature, duration : float
        Of the stochastic retrieval.
    n_steps : int
        Steps of the Langevin and backward dynamics.
    t_min : float
        End of the backward dynamics.
    seed : None, int or SeedSequence

    Returns
    -------
    RetrievalComparison
    """
    patterns = as_patterns(patterns, dtype=np.float64)
    noise = as_positive_array(noise_levels, "noise_levels", ndim=1)
    n_cues = as_int(n_cues, "n_cues", minimum=1)
    sigma = as_float(sigma, "sigma", positive=True)
    seq = as_seed_sequence(seed)
    n = patterns.shape[0]
    keys = ("sd", "ss", "sdf", "od", "os", "odf", "oc")
    out = {k: np.empty(noise.shape[0]) for k in keys}
    times = noise**2 / sigma**2
    betas = 1.0 / (sigma**2 * times)
    for i, eps in enumerate(noise):
        rng = np.random.default_rng(child_seed(seq, i))
        targets = rng.integers(0, n, n_cues)
        cues = patterns[targets] + eps * rng.standard_normal((n_cues, patterns.shape[1]))
        det = retrieve(patterns, cues, betas[i], tol=1e-9, max_iter=2000).states
        sto = stochastic_retrieve(patterns, cues, betas[i], temperature=temperature, duration=duration,
                                  n_steps=n_steps,
                                  seed=child_seed(seq, i, 1)).states
        dif = ve_backward_from(patterns, cues, times[i], sigma=sigma, t_min=min(t_min, 0.5 * times[i]),
                               n_steps=n_steps,
                               seed=child_seed(seq, i, 2))
        for name, states in (("d", det), ("s", sto), ("df", dif)):
            meas = retrieval_measures(patterns, states, targets)
            out["s" + name][i] = meas.nearest_is_target.mean()
            out["o" + name][i] = meas.overlap.mean()
        out["oc"][i] = retrieval_measures(patterns, cues, targets).cosine.mean()
    return RetrievalComparison(
        noise=noise, times=times, beta=betas, success_deterministic=out["sd"], success_stochastic=out["ss"],
        success_diffusion=out["sdf"], overlap_deterministic=out["od"], overlap_stochastic=out["os"],
        overlap_diffusion=out["odf"], overlap_cue=out["oc"], n_cues=n_cues,
    )


__all__ = [
    "equal_norm",
    "digit_patterns",
    "hopfield_beta",
    "BridgeIdentities",
    "bridge_identities",
    "REMCondensation",
    "rem_condensation",
    "collapse_time_theory",
    "hopfield_time_theory",
    "CapacityCollapse",
    "capacity_vs_collapse",
    "RetrievalComparison",
    "ve_backward_from",
    "retrieval_comparison",
]
