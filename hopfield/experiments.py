"""Experiments of the Hopfield side and of the bridge (registered through ``pyproject.toml``).

Each is a function of plain keyword parameters and a ``seed``
(:class:`numpy.random.SeedSequence`) returning a
:class:`statmech.registry.ExperimentResult` (named arrays with dimensions and
coordinates, scalar summaries); its figure is drawn by :mod:`hopfield.plots`.
Functions that need :mod:`diffusion` go through :mod:`hopfield.bridge`.

- ``hopfield-capacity``: retrieval fraction against ``alpha = ln(P)/N`` for
  several N and the three ensembles; ``alpha_{1/2}(N)`` against the finite-N
  theory; extrapolated ``alpha_1`` against the REM theory;
- ``classical-capacity``: classical (Hebbian, ``alpha = P/N``) against modern
  (``alpha = ln(P)/N``) capacity scans with finite-size behaviour;
- ``rem-condensation``: Ambrogioni eq. 38–39 on sphere data;
- ``bridge``: identities to round-off on random and real (digits) patterns;
- ``capacity-collapse``: diffusion collapse against Hopfield retrieval at
  matched ``alpha = ln(n)/d``;
- ``retrieval``: Hopfield (deterministic, stochastic) against diffusion
  retrieval from the same cues.
"""

from __future__ import annotations

import math

import numpy as np

from statmech._validation import child_seed as _child
from statmech._validation import parse_list
from statmech.runs.registry import ExperimentResult, Parameter, experiment
from statmech.runs.resources import Resources

from hopfield import bridge, plots
from hopfield.capacity import (
    alpha_1,
    capacity_simulation,
    estimate_threshold,
    finite_size_alpha_1,
)
from hopfield.classical import classical_capacity
from hopfield.patterns import ENSEMBLES, random_patterns

__all__ = [
    "capacity",
    "classical_vs_modern",
    "rem_condensation",
    "bridge_identities",
    "capacity_vs_collapse",
    "retrieval_comparison",
    "parse_list",
    "report_capacity",
    "report_classical",
    "report_rem_condensation",
    "report_bridge",
    "report_capacity_collapse",
    "report_retrieval",
]


def _extrapolation_bias(ensemble, beta, sizes, alpha_limit):
    """Systematic error of the ``alpha + ln N / N = a + b/N`` extrapolation over these sizes.

    The same fit applied to the finite-N mean-field thresholds (whose N -> inf
    limit is ``alpha_1``) misses it by this much: the curvature in 1/N.
    """
    n = np.asarray(sizes, dtype=np.float64)
    y = np.array([finite_size_alpha_1(ensemble, beta, int(k)) for k in sizes]) + np.log(n) / n
    coef = np.polyfit(1.0 / n, y, 1)
    return float(coef[1] - alpha_limit)


#: Rough costs (seconds) measured on the 2-core EPYC: one flop of the Hopfield products (BLAS on one
#: thread), one exponential weight, the fixed cost of one capacity grid point (draw, retrieve, measure).
_FLOP_SECONDS = 1e-10
_EXP_SECONDS = 3e-9
_GRID_POINT_SECONDS = 0.05
#: Iterations of the Hopfield update to converge (typical, tolerance 1e-7..1e-9).
_ITERATIONS = 20


def _patterns_bytes(p, n, queries=0) -> float:
    """A P x N float64 pattern matrix (and the draw it is made from), and the weights of ``queries`` queries."""
    return 8.0 * p * (2 * n + 2 * queries)


# --------------------------------------------------------------------------
# Capacity
# --------------------------------------------------------------------------


def _capacity_grid(below, above, step):
    return np.arange(-below, above + 0.5 * step, step) if step > 0 else np.zeros(1)


def _capacity_resources(*, beta, sizes, ensembles, n_targets, n_sets, below, above, step, tol):
    """Load grids sit around the finite-N threshold, bounded here by ``alpha_1 - ln(N)/(2N)``.

    (``finite_size_alpha_1`` costs ~0.1 s a call; the bound is within a factor
    ~2 in ``P`` above it at ``beta = 0.5``, N = 12..28, and never below it.)
    """
    size_list = parse_list(sizes, "sizes")
    ens_list = parse_list(ensembles, "ensembles", str)
    for e in ens_list:
        if e not in ENSEMBLES:
            raise ValueError(f"ensembles must be among {ENSEMBLES}, got {e!r}")
    offsets = _capacity_grid(below, above, step)
    limits = {e: alpha_1(e, beta) if beta > 0 else 1.0 for e in ens_list}
    p_max, n_at, seconds = 0.0, size_list[0], 0.0
    for e in ens_list:
        for n in size_list:
            centre = limits[e] - math.log(max(n, 2)) / (2 * max(n, 2))
            for off in offsets:
                p = math.exp(min(max(centre + off, 0) * n, 700))
                if p * n > p_max * n_at:
                    p_max, n_at = p, n
                seconds += max(n_sets, 0) * (_GRID_POINT_SECONDS + _ITERATIONS * max(n_targets, 0) * p
                                             * (4 * n * _FLOP_SECONDS + _EXP_SECONDS))
    return Resources(
        _patterns_bytes(p_max, n_at, max(n_targets, 0)),
        f"P = exp(alpha N) ~ {p_max:.3g} patterns of N = {n_at} at the top of the load grid (sizes, above, "
        "beta), with n_targets queries' weights",
        seconds,
        "ensembles x sizes x load grid (below, above, step) x n_sets x n_targets x P",
    )


def report_capacity(result) -> str:
    """Text table: extrapolated alpha_1 per ensemble against the REM theory, with the fit's ends."""
    sc = result.scalars
    ens_list = [str(e) for e in result.coords["ensemble"]]
    lines = [f"Modern Hopfield capacity, beta = {result.attrs['beta']}: alpha_1 = lim ln(P)/N extrapolated from "
             f"N = {', '.join(str(int(n)) for n in result.coords['size'])}",
             f"{'ensemble':>10} {'alpha_1 simulated':>26} {'REM theory':>11} {'z':>6} {'fraction at grid ends':>22}"]
    for e in ens_list:
        lines.append(
            f"{e:>10} {sc[f'alpha_1_sim_{e}']:9.4f} ± {sc[f'alpha_1_sim_err_{e}']:.4f} "
            f"(sys {sc[f'alpha_1_sys_err_{e}']:.4f}) {sc[f'alpha_1_theory_{e}']:11.4f} {sc[f'alpha_1_z_{e}']:6.2f}"
            f" {sc[f'fraction_low_end_{e}']:10.2f} .. {sc[f'fraction_high_end_{e}']:.2f}")
    lines.append("z: (simulated - theory) / (statistical and extrapolation errors combined); the retrieved "
                 "fraction must go from ~1 to ~0 across the grid")
    return "\n".join(lines)


@experiment(
    name="hopfield-capacity",
    description="Modern Hopfield exponential capacity: retrieval fraction vs alpha=ln(P)/N, alpha_1 sim vs REM theory",
    parameters=[
        Parameter("beta", float, 0.5, "1/overlap", "Hopfield inverse temperature"),
        Parameter("sizes", str, "12,16,20,24,28", "", "dimensions N, comma-separated"),
        Parameter("ensembles", str, "spherical,binary,gaussian", "", "pattern ensembles"),
        Parameter("n_targets", int, 64, "", "queries (started at their pattern) per pattern set"),
        Parameter("n_sets", int, 4, "", "independent pattern sets per size"),
        Parameter("below", float, 0.08, "alpha", "grid starts this far below the finite-N theory threshold"),
        Parameter("above", float, 0.06, "alpha", "grid ends this far above it"),
        Parameter("step", float, 0.01, "alpha", "grid step"),
        Parameter("tol", float, 1e-7, "", "retrieval tolerance (max-norm change)"),
    ],
    plot=plots.plot_capacity,
    figsize=(10.0, 6.5),
    warmup={"sizes": "8,10", "ensembles": "spherical", "n_targets": 4, "n_sets": 1, "step": 0.05},
    report=report_capacity,
    resources=_capacity_resources,
)
def capacity(*, seed, beta, sizes, ensembles, n_targets, n_sets, below, above, step, tol, progress=None):
    """Retrieval fraction against load, per ensemble and N; thresholds against theory.

    Per N the load grid is centred on the finite-N mean-field threshold
    (:func:`hopfield.capacity.finite_size_alpha_1`) only to spend the
    patterns where the transition is; the fraction must reach ~1 and ~0 at
    the grid ends (``fraction_low_end``/``fraction_high_end`` are returned).
    """
    size_list = parse_list(sizes, "sizes")
    ens_list = [e for e in parse_list(ensembles, "ensembles", str)]
    for e in ens_list:
        if e not in ENSEMBLES:
            raise ValueError(f"ensembles must be among {ENSEMBLES}, got {e!r}")
    if not step > 0:
        raise ValueError(f"step must be > 0, got {step}")
    offsets = np.arange(-below, above + 0.5 * step, step)
    k = offsets.shape[0]
    shape = (len(ens_list), len(size_list), k)
    prob = np.empty(shape)
    alphas_all = np.empty(shape)
    overlap = np.empty(shape)
    iters = np.empty(shape)
    half = np.empty(shape[:2])
    half_err = np.empty(shape[:2])
    finite = np.empty(shape[:2])
    scalars = {}
    for e, ens in enumerate(ens_list):
        curves = []
        for i, n in enumerate(size_list):
            finite[e, i] = finite_size_alpha_1(ens, beta, n) if not (ens == "gaussian" and beta >= 1) else alpha_1(ens, beta)
            alphas = np.clip(np.round(finite[e, i] + offsets, 6), 1e-6, None)
            curve = capacity_simulation(ens, beta, n, alphas, n_targets=n_targets, n_sets=n_sets,
                                        seed=_child(seed, e, i), tol=tol, max_iter=1000)
            curves.append(curve)
            prob[e, i], alphas_all[e, i] = curve.probability, alphas
            overlap[e, i], iters[e, i] = curve.mean_overlap, curve.mean_iterations
            if progress is not None:
                progress(e * len(size_list) + i + 1, len(ens_list) * len(size_list))
        est = estimate_threshold(curves, seed=_child(seed, e, 99).generate_state(1)[0])
        half[e], half_err[e] = est.alpha_half, est.alpha_half_err
        theory = alpha_1(ens, beta)
        bias = _extrapolation_bias(ens, beta, size_list, theory) if not (ens == "gaussian" and beta >= 1) else 0.0
        total_err = math.sqrt(est.alpha_inf_err**2 + bias**2)
        scalars.update({
            f"alpha_1_theory_{ens}": theory,
            f"alpha_1_sim_{ens}": est.alpha_inf,
            f"alpha_1_sim_err_{ens}": est.alpha_inf_err,
            f"alpha_1_sys_err_{ens}": abs(bias),
            f"alpha_1_z_{ens}": (est.alpha_inf - theory) / total_err if total_err > 0 else math.inf,
            f"fit_chi2_{ens}": est.chi2,
            f"fraction_low_end_{ens}": float(prob[e, :, 0].min()),
            f"fraction_high_end_{ens}": float(prob[e, :, -1].max()),
        })
    return ExperimentResult(
        arrays={
            "alpha": (("ensemble", "size", "point"), alphas_all),
            "probability": (("ensemble", "size", "point"), prob),
            "mean_overlap": (("ensemble", "size", "point"), overlap),
            "mean_iterations": (("ensemble", "size", "point"), iters),
            "alpha_half": (("ensemble", "size"), half),
            "alpha_half_err": (("ensemble", "size"), half_err),
            "alpha_finite_theory": (("ensemble", "size"), finite),
        },
        coords={"ensemble": np.array(ens_list), "size": np.array(size_list), "point": np.arange(k)},
        scalars=scalars,
        attrs={"beta": beta, "criterion": "nearest pattern is target and |m - 1| < (1 - m_fail)/2"},
    )


# --------------------------------------------------------------------------
# Classical against modern
# --------------------------------------------------------------------------


def _classical_resources(*, sizes, alpha_min, alpha_max, n_alpha, n_sets, n_targets, modern_size, modern_beta):
    size_list = parse_list(sizes, "sizes")
    n_max, a_max = max(size_list), max(alpha_max, 0)
    ops = sum(max(n_alpha, 0) * max(n_sets, 0) * n * n * (2 * a_max * n + _ITERATIONS * max(n_targets, 1))
              for n in size_list)
    return Resources(8.0 * (2 * n_max * n_max + 2 * a_max * n_max * n_max),
                     f"the N x N Hebbian weights of the largest N = {n_max} (sizes) and alpha_max N patterns",
                     0.5 + ops * 1e-9, "n_alpha x n_sets x N^2 x (2 alpha N + iterations x n_targets), over sizes")


def report_classical(result) -> str:
    """Text: the classical capacity extrapolated in N^-1/2 against AGS 0.138, and the modern network."""
    sc = result.scalars
    half = result.arrays["alpha_half"][1]
    sizes = ", ".join(f"N={int(n)}: {h:.3f}" for n, h in zip(result.coords["size"], half))
    lines = ["Classical Hebbian network: load alpha = P/N where half the patterns are retrieved",
             f"  alpha_1/2 per size: {sizes}"]
    if "alpha_c_extrapolated" in sc:
        err = f" ± {sc['alpha_c_extrapolated_err']:.3f}" if "alpha_c_extrapolated_err" in sc else ""
        lines.append(f"  extrapolated in N^-1/2: alpha_c = {sc['alpha_c_extrapolated']:.3f}{err} "
                     f"(AGS theory {sc['alpha_c_ags']})")
    prob = result.arrays["modern_probability"][1]
    loads = result.coords["load"]
    lines.append(f"  modern network (N = {result.attrs['modern_size']}, binary): retrieval fraction "
                 f"{prob[0]:.2f} at P/N = {loads[0]:g}, {prob[-1]:.2f} at P/N = {loads[-1]:g} "
                 f"(alpha_1 theory {sc['modern_alpha_1_theory']:.3f} in ln(P)/N)")
    return "\n".join(lines)


@experiment(
    name="classical-capacity",
    description="Classical Hebbian capacity (alpha=P/N, ~0.138) with finite-size scan, next to the modern network",
    parameters=[
        Parameter("sizes", str, "250,500,1000,2000", "", "classical network sizes N"),
        Parameter("alpha_min", float, 0.10, "P/N", "smallest classical load"),
        Parameter("alpha_max", float, 0.20, "P/N", "largest classical load"),
        Parameter("n_alpha", int, 11, "", "classical loads"),
        Parameter("n_sets", int, 8, "", "pattern sets per load"),
        Parameter("n_targets", int, 16, "", "starting patterns per set"),
        Parameter("modern_size", int, 20, "", "modern network N (binary patterns)"),
        Parameter("modern_beta", float, 0.5, "", "modern network beta"),
    ],
    plot=plots.plot_classical,
    figsize=(13.0, 4.2),
    warmup={"sizes": "50,60", "n_alpha": 3, "n_sets": 2, "n_targets": 2, "modern_size": 8},
    report=report_classical,
    resources=_classical_resources,
)
def classical_vs_modern(*, seed, sizes, alpha_min, alpha_max, n_alpha, n_sets, n_targets, modern_size,
                        modern_beta, progress=None):
    """Classical capacity scan (AGS alpha_c ~ 0.138) with ``alpha_{1/2}(N)`` extrapolated in
    ``N^{-1/2}``, and the modern network's retrieval fraction on binary patterns of a small N
    against ``P/N`` (it keeps retrieving far beyond 0.138)."""
    size_list = parse_list(sizes, "sizes")
    alphas = np.linspace(alpha_min, alpha_max, n_alpha)
    m = np.empty((len(size_list), n_alpha))
    m_se = np.empty_like(m)
    prob = np.empty_like(m)
    half = np.empty(len(size_list))
    for i, n in enumerate(size_list):
        c = classical_capacity(n, alphas, n_sets=n_sets, n_targets=n_targets, seed=_child(seed, i))
        m[i], m_se[i], prob[i] = c.mean_overlap, c.overlap_sem, c.probability
        above = prob[i] >= 0.5
        if above.all() or not above.any() or not above[0]:
            half[i] = np.nan
        else:
            j = int(np.flatnonzero(~above)[0])
            half[i] = alphas[j - 1] + (prob[i, j - 1] - 0.5) * (alphas[j] - alphas[j - 1]) / (prob[i, j - 1] - prob[i, j])
        if progress is not None:
            progress(i + 1, len(size_list) + 1)
    ok = np.isfinite(half)
    scalars = {}
    if ok.sum() >= 2:
        x = 1.0 / np.sqrt(np.asarray(size_list, dtype=np.float64)[ok])
        coef, cov = np.polyfit(x, half[ok], 1, cov=ok.sum() > 2) if ok.sum() > 2 else (np.polyfit(x, half[ok], 1), None)
        scalars["alpha_c_extrapolated"] = float(coef[1])
        if cov is not None:
            scalars["alpha_c_extrapolated_err"] = float(math.sqrt(cov[1, 1]))
        scalars["finite_size_slope"] = float(coef[0])
    scalars["alpha_c_ags"] = 0.138
    # Modern network on binary patterns, loads expressed as P/N for comparison.
    n_mod = modern_size
    loads = np.array([0.1, 0.5, 1, 2, 5, 10, 20, 50, 100, 200])
    mod_alpha = np.log(np.maximum(loads * n_mod, 1.0)) / n_mod
    curve = capacity_simulation("binary", modern_beta, n_mod, mod_alpha, n_targets=32, n_sets=2,
                                seed=_child(seed, 100), tol=1e-7, max_iter=1000)
    scalars["modern_alpha_1_theory"] = alpha_1("binary", modern_beta)
    return ExperimentResult(
        arrays={
            "overlap": (("size", "alpha"), m),
            "overlap_se": (("size", "alpha"), m_se),
            "probability": (("size", "alpha"), prob),
            "alpha_half": (("size",), half),
            "modern_probability": (("load",), curve.probability),
            "modern_log_alpha": (("load",), mod_alpha),
        },
        coords={"size": np.array(size_list), "alpha": alphas, "load": loads},
        scalars=scalars,
        attrs={"modern_size": n_mod, "modern_beta": modern_beta},
    )


# --------------------------------------------------------------------------
# REM condensation
# --------------------------------------------------------------------------


def _rem_condensation_resources(*, sizes, dimension, nu, sigma, x_norm, n_samples, n_beta):
    m_list = parse_list(sizes, "sizes")
    n_max = 2.0 ** min(max(m_list), 60)
    seconds = sum(max(n_samples, 0) * 2.0 ** min(m, 60) * max(dimension, 0) * 2e-8 for m in m_list)
    return Resources(8.0 * 5 * n_max * max(dimension, 0),
                     f"the 2^M x dimension = 2^{max(m_list)} x {dimension} sphere data of the largest M (sizes)",
                     seconds, "n_samples x 2^M x dimension, over sizes")


def report_rem_condensation(result) -> str:
    """Text: E[Y] of sphere data against the sampled REM and eq. 39, per M."""
    sc = result.scalars
    dev = result.arrays["max_dev_theory"][1]
    lines = [f"REM condensation of the diffusion posterior (Ambrogioni eq. 38-39): beta_c = {sc['beta_c']:.4f}, "
             f"condensation time t_c = {sc['t_c']:.4f}",
             f"  largest |z| between sphere data and the sampled REM: {sc['max_abs_z_data_vs_rem']:.2f}",
             "  largest |E[Y] - eq. 39| per M: "
             + ", ".join(f"M={int(m)}: {d:.3f}" for m, d in zip(result.coords["M"], dev))
             + " (finite-M corrections shrink as M grows)"]
    return "\n".join(lines)


@experiment(
    name="rem-condensation",
    description="Ambrogioni eq. 38-39: E[Y] vs 1 - beta_c/beta on sphere data, N = 2^M, and a sampled REM",
    parameters=[
        Parameter("sizes", str, "6,8,10,12,14", "", "M values (N = 2^M data points)"),
        Parameter("dimension", int, 1024, "", "data dimension d (>> M)"),
        Parameter("nu", float, 1.0, "", "data scale nu"),
        Parameter("sigma", float, 1.0, "", "VE noise amplitude"),
        Parameter("x_norm", float, 1.0, "", "|x| of the state"),
        Parameter("n_samples", int, 24, "", "data sets per M"),
        Parameter("n_beta", int, 25, "", "points of beta~/beta_c in [0.25, 4]"),
    ],
    plot=plots.plot_rem_condensation,
    warmup={"sizes": "3,4", "dimension": 16, "n_samples": 2, "n_beta": 3},
    report=report_rem_condensation,
    resources=_rem_condensation_resources,
)
def rem_condensation(*, seed, sizes, dimension, nu, sigma, x_norm, n_samples, n_beta):
    """Sphere data against the Gaussian REM and eq. 39 (see :func:`hopfield.bridge.rem_condensation`)."""
    r = bridge.rem_condensation(parse_list(sizes, "sizes"), dimension=dimension, nu=nu, sigma=sigma,
                                x_norm=x_norm, reduced_betas=np.linspace(0.25, 4.0, n_beta),
                                n_samples=n_samples, seed=seed)
    z = (r.y_data - r.y_rem) / np.sqrt(r.y_data_se**2 + r.y_rem_se**2 + 1e-300)
    dev = np.abs(r.y_data - r.y_theory[None, :])
    return ExperimentResult(
        arrays={
            "y_data": (("M", "reduced_beta"), r.y_data),
            "y_data_se": (("M", "reduced_beta"), r.y_data_se),
            "y_rem": (("M", "reduced_beta"), r.y_rem),
            "y_rem_se": (("M", "reduced_beta"), r.y_rem_se),
            "y_theory": (("reduced_beta",), r.y_theory),
            "time": (("reduced_beta",), r.times),
            "max_dev_theory": (("M",), dev.max(axis=1)),
        },
        coords={"M": r.sizes, "reduced_beta": r.reduced_beta},
        scalars={"t_c": r.t_c, "max_abs_z_data_vs_rem": float(np.nanmax(np.abs(z))),
                 "beta_c": 2.0 * math.sqrt(math.log(2.0))},
        attrs={"radius": "nu * sqrt(M d / 2) (consistent with Ambrogioni eq. 37)"},
    )


# --------------------------------------------------------------------------
# Bridge identities
# --------------------------------------------------------------------------


def _bridge_resources(*, n_patterns, dimension, n_states, n_times, t_min, t_max):
    p, d = max(n_patterns, 1797), max(dimension, 64)
    return Resources(8.0 * (3 * p * d + 4 * max(n_states, 0) * p),
                     f"n_patterns x dimension = {n_patterns} x {dimension} patterns and n_states x n_patterns weights",
                     0.1 + 4 * max(n_times, 0) * max(n_states, 0) * p * (8 * d * _FLOP_SECONDS + 2 * _EXP_SECONDS),
                     "4 cases x n_times x n_states x n_patterns x dimension")


def report_bridge(result) -> str:
    """Text: the largest deviations of the identities (they hold to round-off)."""
    sc = result.scalars
    return "\n".join([
        "Bridge identities (random spherical and digits patterns, VE and OU processes), largest deviations:",
        f"  diffusion denoiser vs one Hopfield update: {sc['max_denoiser_error']:.2e}",
        f"  regularised free energy vs Hopfield energy + constant: {sc['max_free_energy_error']:.2e}",
        f"  posterior vs softmax participation ratio: {sc['max_participation_error']:.2e}",
        "  (identities: only floating-point round-off is expected)",
    ])


@experiment(
    name="bridge",
    description="Bridge identities: diffusion denoiser = Hopfield update, F~ = Hopfield energy + C (VE, OU), random and digits",
    parameters=[
        Parameter("n_patterns", int, 2000, "", "random spherical patterns"),
        Parameter("dimension", int, 64, "", "their dimension"),
        Parameter("n_states", int, 64, "", "states per time"),
        Parameter("n_times", int, 12, "", "times, log-spaced in [t_min, t_max]"),
        Parameter("t_min", float, 0.01, "", "first time"),
        Parameter("t_max", float, 5.0, "", "last time"),
    ],
    plot=plots.plot_bridge,
    figsize=(11.0, 4.5),
    warmup={"n_patterns": 20, "dimension": 4, "n_states": 2, "n_times": 2},
    report=report_bridge,
    resources=_bridge_resources,
)
def bridge_identities(*, seed, n_patterns, dimension, n_states, n_times, t_min, t_max, progress=None):
    """Identities on random spherical patterns and on the digits (equal norms), VE and OU."""
    times = np.exp(np.linspace(math.log(t_min), math.log(t_max), n_times))
    sets = {
        "random": random_patterns("spherical", n_patterns, dimension, seed=_child(seed, 0)),
        "digits": bridge.digit_patterns(),
    }
    keys = [(name, proc) for name in sets for proc in ("ve", "ou")]
    den = np.empty((len(keys), n_times))
    fe = np.empty_like(den)
    ye = np.empty_like(den)
    yd = np.empty_like(den)
    yh = np.empty_like(den)
    beta = np.empty_like(den)
    for k, (name, proc) in enumerate(keys):
        r = bridge.bridge_identities(sets[name], times, process=proc, n_states=n_states, seed=_child(seed, 1, k))
        den[k], fe[k], ye[k] = r.denoiser_error, r.free_energy_error, r.participation_error
        yd[k], yh[k], beta[k] = r.participation_diffusion, r.participation_hopfield, r.beta
        if progress is not None:
            progress(k + 1, len(keys))
    case = np.array([f"{n}-{p}" for n, p in keys])
    return ExperimentResult(
        arrays={
            "denoiser_error": (("case", "time"), den),
            "free_energy_error": (("case", "time"), fe),
            "participation_error": (("case", "time"), ye),
            "participation_diffusion": (("case", "time"), yd),
            "participation_hopfield": (("case", "time"), yh),
            "beta_hopfield": (("case", "time"), beta),
        },
        coords={"case": case, "time": times},
        scalars={"max_denoiser_error": float(den.max()), "max_free_energy_error": float(fe.max()),
                 "max_participation_error": float(ye.max())},
        attrs={"constant": "F~ = s^2 E_H(x/s; s^2/Delta) + Delta ln n + s^2 r^2 / 2"},
    )


# --------------------------------------------------------------------------
# Capacity against collapse
# --------------------------------------------------------------------------


def report_capacity_collapse(result) -> str:
    """Text table: the diffusion collapse time and the Hopfield retrieval time, simulated and theory."""
    alpha = result.coords["alpha"]
    arr = {name: value for name, (_, value) in result.arrays.items()}
    lines = [
        f"Memorisation vs capacity, spherical patterns, d = {result.scalars['dimension']}, OU time "
        "(matched alpha = ln(n)/d, Hopfield beta(t) = s^2/Delta)",
        f"{'alpha':>6} {'n':>7} | {'t_C theory':>10} {'t_C from f^e':>16} {'mean t^_C (NN)':>16} |"
        f" {'t_H theory':>10} {'t_H finite d':>12} {'t_H sim':>8}",
    ]
    for k in range(alpha.shape[0]):
        lines.append(
            f"{alpha[k]:6.3f} {int(arr['n_patterns'][k]):7d} | {arr['t_collapse_theory'][k]:10.3f}"
            f" {arr['t_collapse_excess'][k]:8.3f} ± {arr['t_collapse_excess_se'][k]:5.3f}"
            f" {arr['t_collapse_nn'][k]:8.3f} ± {arr['t_collapse_nn_se'][k]:5.3f} |"
            f" {arr['t_hopfield_theory'][k]:10.3f} {arr['t_hopfield_finite'][k]:12.3f} {arr['t_hopfield_sim'][k]:8.3f}"
        )
    lines.append(
        "t_C from f^e: largest time where the own pattern holds half the posterior weight in half "
        "the samples (diffusion.collapse.collapse_time); t_H: largest time at which one Hopfield "
        "update at beta(t) still retrieves a typical pattern. Theory is d -> infinity (REM); the "
        "simulated t_C approaches it from above as d grows (like 1/d for the Gaussian mixture, see "
        "the collapse docs)."
    )
    return "\n".join(lines)


#: Fixed cost per alpha of capacity-collapse (the theory curves' REM solves and searches), seconds.
_CAPACITY_COLLAPSE_ALPHA_SECONDS = 35.0


def _capacity_collapse_resources(*, alphas, dimension, n_samples, n_trajectories, n_targets, n_times):
    alpha_list = parse_list(alphas, "alphas", float)
    d = max(dimension, 1)
    sizes = [math.exp(min(max(a, 0) * d, 700)) for a in alpha_list]
    n_max = max(sizes)
    block = min(max(n_samples, 1) * n_max, 1 << 23)
    seconds = sum(_CAPACITY_COLLAPSE_ALPHA_SECONDS
                  + n * (max(n_samples, 0) * max(n_times, 0) * _EXP_SECONDS
                         + 200 * max(n_trajectories, 0) * (4 * d * _FLOP_SECONDS + _EXP_SECONDS)
                         + max(n_times, 0) * min(max(n_targets, 0), n) * _ITERATIONS * 4 * d * _FLOP_SECONDS)
                  for n in sizes)
    return Resources(_patterns_bytes(n_max, d) + 8.0 * 2 * block,
                     f"n = exp(alpha d) = {n_max:.3g} patterns of d = {dimension} (alphas, dimension) and "
                     "blocks of n_samples x n overlaps",
                     seconds, "a fixed ~35 s per alpha (theory curves), then n x (n_samples x n_times + "
                     "200 n_trajectories d + n_times n_targets d)")


@experiment(
    name="capacity-collapse",
    description="Diffusion collapse time t_C (excess entropy, nearest neighbour) vs Hopfield retrieval time at matched alpha",
    parameters=[
        Parameter("alphas", str, "0.15,0.25,0.35,0.45", "", "loads alpha = ln(n)/d"),
        Parameter("dimension", int, 20, "", "pattern dimension d"),
        Parameter("n_samples", int, 400, "", "Monte Carlo samples of f^e"),
        Parameter("n_trajectories", int, 64, "", "backward trajectories for t^_C"),
        Parameter("n_targets", int, 32, "", "patterns tested for Hopfield retrieval"),
        Parameter("n_times", int, 40, "", "log-spaced OU times in [0.02, 3]"),
    ],
    plot=plots.plot_capacity_collapse,
    report=report_capacity_collapse,
    resources=_capacity_collapse_resources,
    warmup={"alphas": "0.3", "dimension": 6, "n_samples": 20, "n_trajectories": 4, "n_targets": 2, "n_times": 4},
)
def capacity_vs_collapse(*, seed, alphas, dimension, n_samples, n_trajectories, n_targets, n_times,
                         progress=None):
    """See :func:`hopfield.bridge.capacity_vs_collapse`."""
    r = bridge.capacity_vs_collapse(parse_list(alphas, "alphas", float), dimension=dimension,
                                    n_samples=n_samples, n_trajectories=n_trajectories,
                                    n_targets=n_targets, n_times=n_times, seed=seed,
                                    progress=progress)
    fine = np.linspace(0.05, max(0.6, float(r.alphas.max()) + 0.05), 40)
    arrays = {
        "n_patterns": (("alpha",), r.n_patterns),
        "t_collapse_theory": (("alpha",), r.t_collapse_theory),
        "t_hopfield_theory": (("alpha",), r.t_hopfield_theory),
        "t_hopfield_finite": (("alpha",), r.t_hopfield_finite),
        "t_collapse_excess": (("alpha",), r.t_collapse_excess),
        "t_collapse_excess_se": (("alpha",), r.t_collapse_excess_se),
        "t_collapse_nn": (("alpha",), r.t_collapse_nn),
        "t_collapse_nn_se": (("alpha",), r.t_collapse_nn_se),
        "t_hopfield_sim": (("alpha",), r.t_hopfield_sim),
        "curve_collapse": (("alpha_fine",), np.array([bridge.collapse_time_theory(a) for a in fine])),
        "curve_hopfield": (("alpha_fine",), np.array([bridge.hopfield_time_theory(a) for a in fine])),
    }
    return ExperimentResult(arrays=arrays, coords={"alpha": r.alphas, "alpha_fine": fine},
                            scalars={"dimension": dimension}, attrs={"process": "OU, T = 1; spherical patterns"})


# --------------------------------------------------------------------------
# Retrieval comparison
# --------------------------------------------------------------------------


def _retrieval_resources(*, patterns, n_patterns, dimension, noise_levels, n_cues, temperature, n_steps):
    p, d = (1797, 64) if patterns == "digits" else (max(n_patterns, 1), max(dimension, 1))
    levels = len(parse_list(noise_levels, "noise_levels", float))
    return Resources(_patterns_bytes(p, d, 2 * max(n_cues, 0)),
                     f"the {p} x {d} patterns (patterns, n_patterns, dimension) and n_cues x P weights",
                     0.1 + levels * 3 * max(n_steps, 1) * max(n_cues, 0) * p * (4 * d * _FLOP_SECONDS + _EXP_SECONDS),
                     "noise levels x 3 dynamics x n_steps x n_cues x P x d")


def report_retrieval(result) -> str:
    """Text table: success of deterministic, stochastic Hopfield and diffusion retrieval per cue noise."""
    arr = {name: value for name, (_, value) in result.arrays.items()}
    lines = [f"Retrieval from the same noisy cues ({result.attrs['patterns']} patterns, "
             f"{result.scalars['n_cues']} cues per level): fraction whose final state's nearest pattern is the target",
             f"{'noise':>6} {'VE time':>8} {'Hopfield beta':>14} {'deterministic':>14} {'stochastic':>11} {'diffusion':>10}"]
    for k, eps in enumerate(result.coords["noise"]):
        lines.append(f"{eps:6.2f} {arr['times'][k]:8.3f} {arr['beta'][k]:14.3f} {arr['success_deterministic'][k]:14.2f}"
                     f" {arr['success_stochastic'][k]:11.2f} {arr['success_diffusion'][k]:10.2f}")
    return "\n".join(lines)


@experiment(
    name="retrieval",
    description="Hopfield (deterministic, Langevin) vs diffusion backward retrieval from the same noisy cues",
    parameters=[
        Parameter("patterns", str, "digits", "", "digits (equal-norm) or spherical", choices=("digits", "spherical")),
        Parameter("n_patterns", int, 1000, "", "spherical patterns (if patterns=spherical)"),
        Parameter("dimension", int, 64, "", "their dimension"),
        Parameter("noise_levels", str, "0.25,0.5,1.0,1.5,2.0,3.0", "", "cue noise per component"),
        Parameter("n_cues", int, 64, "", "cues per noise level"),
        Parameter("temperature", float, 0.05, "", "Langevin temperature of stochastic Hopfield"),
        Parameter("n_steps", int, 200, "", "steps of both stochastic dynamics"),
    ],
    plot=plots.plot_retrieval,
    figsize=(11.0, 4.5),
    warmup={"patterns": "spherical", "n_patterns": 20, "dimension": 4, "noise_levels": "0.5", "n_cues": 2, "n_steps": 3},
    report=report_retrieval,
    resources=_retrieval_resources,
)
def retrieval_comparison(*, seed, patterns, n_patterns, dimension, noise_levels, n_cues, temperature, n_steps):
    """See :func:`hopfield.bridge.retrieval_comparison`."""
    xi = bridge.digit_patterns() if patterns == "digits" else random_patterns("spherical", n_patterns, dimension,
                                                                             seed=_child(seed, 0))
    r = bridge.retrieval_comparison(xi, parse_list(noise_levels, "noise_levels", float), n_cues=n_cues,
                                    temperature=temperature, n_steps=n_steps, seed=_child(seed, 1))
    arrays = {name: (("noise",), getattr(r, name)) for name in (
        "times", "beta", "success_deterministic", "success_stochastic", "success_diffusion",
        "overlap_deterministic", "overlap_stochastic", "overlap_diffusion", "overlap_cue")}
    return ExperimentResult(arrays=arrays, coords={"noise": r.noise}, scalars={"n_cues": n_cues},
                            attrs={"patterns": patterns})
