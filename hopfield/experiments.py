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
from statmech.runs.quantities import DIMENSIONLESS as _1
from statmech.runs.quantities import Quantity, Summary
from statmech.runs.registry import ExperimentResult, Parameter, experiment
from statmech.runs.resources import Resources

from hopfield import bridge, plots
from statmech.lse import LN2

from hopfield.capacity import alpha_1, capacity_simulation
from hopfield.classical import classical_capacity
from hopfield.criterion import binary_infinite_beta_thresholds
from hopfield.finite_size import CLASSICAL_FORMS, extrapolate, size_thresholds
from hopfield.patterns import BLOCK_ROWS, ENSEMBLES, random_patterns
from hopfield.threshold_series import CRITERIA, full_grid, rem_grid, run_series

__all__ = [
    "capacity",
    "capacity_result",
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


#: One pattern entry drawn (PCG64 normal or bit) on one core, and one REM-level sample per load point.
_DRAW_SECONDS = 1.5e-8
_REM_POINT_SECONDS = 5e-5


# --------------------------------------------------------------------------
# Capacity (issue 14): thresholds over N from the streamed dynamics and the REM level
# --------------------------------------------------------------------------

#: 1/N grid of the fitted curves (from 1/N = 0, where they carry the extrapolation, to 1/12).
_INV_N = np.linspace(0.0, 1.0 / 12.0, 61)
_CRITERION_KEYS = {"fixed point": "fixed", "signal": "signal"}


def _optional_list(text, name, kind=int):
    """``parse_list`` that reads ``""`` as the empty list."""
    return [] if str(text).strip() == "" else parse_list(text, name, kind)


def _capacity_lists(ensembles, full_sizes, rem_sizes, limit_betas):
    ens_list = parse_list(ensembles, "ensembles", str)
    for e in ens_list:
        if e not in ENSEMBLES:
            raise ValueError(f"ensembles must be among {ENSEMBLES}, got {e!r}")
    full = _optional_list(full_sizes, "full_sizes")
    rem = _optional_list(rem_sizes, "rem_sizes")
    if len(full) + len(rem) == 0:
        raise ValueError("full_sizes and rem_sizes are both empty: nothing to simulate")
    limits = _optional_list(limit_betas, "limit_betas", float)
    return ens_list, full, rem, limits


def _capacity_resources(*, beta, ensembles, full_sizes, rem_sizes, n_targets, n_sets, n_samples, limit_betas,
                        limit_samples):
    """Streamed patterns: memory flat in P; time ~ passes x P x N (generation) + the products.

    Memory: a ring of pattern blocks (BLOCK_ROWS x N) and each load's
    workspace of the streamed dynamics, the REM level's grid sums per sample.
    Time: per full-dynamics load ~30 passes over its P patterns (the early exit
    cuts the failed ones short), each drawing P x N entries and multiplying
    them by the queries twice; per REM load point and sample a fixed cost.
    """
    ens_list, full, rem, limits = _capacity_lists(ensembles, full_sizes, rem_sizes, limit_betas)
    seconds = 0.0
    for e in ens_list:
        for n in full:
            p = np.exp(np.minimum(full_grid(e, beta, n) * n, 700.0))
            per_pass = p * n * (_DRAW_SECONDS + 4 * max(n_targets, 1) * _FLOP_SECONDS)
            seconds += max(n_sets, 0) * float(np.sum(30 * per_pass)) + _GRID_POINT_SECONDS * p.shape[0]
        for n in rem:
            seconds += max(n_samples, 0) * rem_grid(e, beta, n).shape[0] * _REM_POINT_SECONDS
    if "binary" in ens_list:
        seconds += sum(max(limit_samples, 0) * rem_grid("binary", b, n).shape[0] * _REM_POINT_SECONDS
                       for b in limits for n in rem)
    n_max = max(full + rem)
    queries = max(n_targets, 1)
    memory = 8.0 * n_max * (4 * BLOCK_ROWS + queries * (6 + BLOCK_ROWS / n_max) * max(len(full), 1)) + 8.0 * 3 * 400 * 260
    return Resources(
        memory,
        f"pattern blocks ({BLOCK_ROWS} x N, never P x N) and the queries' workspaces at N = {n_max} "
        "(full_sizes, rem_sizes, n_targets)",
        seconds,
        "full_sizes (P = e^(alpha N) patterns drawn per pass) x n_sets x n_targets; rem_sizes x n_samples",
    )


def _long(rows, names):
    """Columns of a list of row tuples, as arrays (empty lists give empty float arrays)."""
    columns = list(zip(*rows)) if rows else [[] for _ in names]
    return {name: np.asarray(col, dtype=np.float64) for name, col in zip(names, columns)}


def report_capacity(result) -> str:
    """Text tables: alpha_{1/2}(N) of both simulations against the finite-N theory; alpha_1 against the REM."""
    sc = result.scalars
    arr = {name: np.asarray(value) for name, (_, value) in result.arrays.items()}
    ens_list = [str(e) for e in result.coords["ensemble"]]
    methods = [str(m) for m in result.coords["method"]]
    criteria = [str(c) for c in result.coords["criterion"]]
    lines = [f"Modern Hopfield exponential capacity, beta = {result.attrs['beta']}: alpha_1/2(N) "
             "[annealed finite-N theory], then alpha_1 = lim alpha_1/2(N) (fits in 1/N, Akaike-averaged; "
             "error = statistics + spread of the forms)"]
    for e, ens in enumerate(ens_list):
        lines.append(f"== {ens}: alpha_1 (REM theory) = {sc[f'alpha_1_theory_{ens}']:.4f}")
        for m, method in enumerate(methods):
            for c, criterion in enumerate(criteria):
                rows = ((arr["threshold_ensemble"] == e) & (arr["threshold_method"] == m)
                        & (arr["threshold_criterion"] == c))
                if not rows.any():
                    continue
                cells = "; ".join(
                    f"{int(n)}: {a:.4f}±{d:.4f} [{t:.4f}]" for n, a, d, t in zip(
                        arr["threshold_size"][rows], arr["alpha_half"][rows], arr["alpha_half_err"][rows],
                        arr["alpha_half_theory"][rows]))
                lines.append(f"  {method:>4} {criterion:>11}: {cells}")
                key = f"{method}_{_CRITERION_KEYS[criterion]}_{ens}"
                if f"alpha_1_{key}" in sc:
                    lines.append(
                        f"  {'':>4} {'':>11}  -> alpha_1 = {sc[f'alpha_1_{key}']:.4f} ± {sc[f'alpha_1_{key}_err']:.4f}"
                        f" (best form {sc[f'form_{key}']}, chi2 = {sc[f'chi2_{key}']:.1f} / {int(sc[f'dof_{key}'])});"
                        f" (sim - theory) / error = {sc[f'z_{key}']:+.1f}")
    if result.coords["limit_beta"].shape[0]:
        lines.append(f"== binary, beta -> inf: typical pattern alpha_1(beta) -> ln 2 = {LN2:.4f}; all patterns "
                     f"alpha_1/2 -> ln2/2 = {LN2 / 2:.4f} (Demircigil et al.)")
        for b, a, d, t in zip(result.coords["limit_beta"], arr["limit_alpha"], arr["limit_alpha_err"],
                              arr["limit_theory"]):
            lines.append(f"  beta = {b:g}: REM-level signal threshold {a:.4f} ± {d:.4f}, theory {t:.4f}; "
                         f"all patterns {t / 2:.4f}")
    lines.append("full: streamed retrieval dynamics (fixed point: nearest pattern is the target and |m - 1| < "
                 "(1 - m_fail)/2; signal: w_1 > 1/2 at the first update); rem: REM-level sampler of the overlaps")
    return "\n".join(lines)


_CAPACITY_VARIABLES = {
    # coordinates
    "ensemble": Quantity("pattern ensemble", "", _1),
    "method": Quantity("simulation: streamed full dynamics or REM level", "", _1),
    "criterion": Quantity("retrieval criterion: fixed point or signal", "", _1),
    "curve_point": Quantity("point of a retrieval curve (long format)", "", _1),
    "threshold": Quantity("threshold of one size, method and criterion (long format)", "", _1),
    "series": Quantity("fitted threshold series (ensemble, method, criterion)", "", _1),
    "inv_n": Quantity("finite size", "$1/N$", _1),
    "limit_beta": Quantity("inverse temperature of the binary beta -> inf series", r"$\beta$", _1),
    "infinite_beta_size": Quantity("dimension of the exact beta = inf thresholds", "$N$", _1),
    # retrieval curves, one row per (ensemble, method, N, alpha)
    "curve_ensemble": Quantity("pattern ensemble of the curve point (index into ensemble)", "", _1),
    "curve_method": Quantity("simulation of the curve point (index into method)", "", _1),
    "curve_size": Quantity("dimension of the curve point", "$N$", _1),
    "curve_alpha": Quantity("load ln(P)/N", r"$\alpha$", _1),
    "curve_probability": Quantity("fraction of targets retrieved (fixed-point criterion)", "", _1),
    "curve_signal_probability": Quantity("fraction of targets retrieved (signal criterion)", "", _1),
    # thresholds, one row per (ensemble, method, criterion, N)
    "threshold_ensemble": Quantity("pattern ensemble of the threshold (index into ensemble)", "", _1),
    "threshold_method": Quantity("simulation of the threshold (index into method)", "", _1),
    "threshold_criterion": Quantity("criterion of the threshold (index into criterion)", "", _1),
    "threshold_size": Quantity("dimension of the threshold", "$N$", _1),
    "alpha_half": Quantity("load where half the targets are retrieved", r"$\alpha_{1/2}(N)$", _1),
    "alpha_half_theory": Quantity("threshold load, annealed finite-N theory", r"$\alpha_{1/2}(N)$", _1),
    # extrapolations to 1/N = 0, one row per fitted series
    "series_ensemble": Quantity("pattern ensemble of the series (index into ensemble)", "", _1),
    "series_method": Quantity("simulation of the series (index into method)", "", _1),
    "series_criterion": Quantity("criterion of the series (index into criterion)", "", _1),
    "alpha_1_fit": Quantity("capacity extrapolated to N -> inf (Akaike average of the forms)", r"$\alpha_1$", _1),
    "alpha_1_fit_err": Quantity("total error of the extrapolated capacity (statistics + spread of forms)", "", _1),
    "alpha_1_fit_stat": Quantity("statistical error of the extrapolated capacity", "", _1),
    "alpha_1_fit_spread": Quantity("spread of the extrapolated capacity between finite-size forms", "", _1),
    "fit_chi2": Quantity("chi-square of the best finite-size form", r"$\chi^2$", _1),
    "fit_dof": Quantity("degrees of freedom of the best finite-size form", "", "count"),
    "fit_z": Quantity("(extrapolated - REM theory) / total error", "$z$", _1),
    "fit_curve": Quantity("best finite-size form through alpha_1/2(N) (alpha_1 at 1/N = 0)", r"$\alpha_{1/2}$", _1),
    "fit_band": Quantity("standard error of the fitted form (total error at 1/N = 0)", "", _1),
    # binary, beta -> inf
    "limit_alpha": Quantity("binary REM-level signal threshold extrapolated to N -> inf", r"$\alpha_1$", _1),
    "limit_alpha_err": Quantity("total error of the binary REM-level signal threshold", "", _1),
    "limit_theory": Quantity("binary capacity, REM theory beta - ln cosh beta", r"$\alpha_1$", _1),
    "infinite_beta_typical": Quantity("exact beta = inf threshold, typical pattern (-> ln 2)", r"$\alpha_{1/2}$", _1),
    "infinite_beta_all": Quantity("exact beta = inf threshold, all patterns (-> ln 2 / 2, Demircigil et al.)",
                                  r"$\alpha_{1/2}$", _1),
}

_CAPACITY_SERIES = "{method} simulation, {criterion} criterion, {ensemble}"
_CAPACITY_SUMMARIES = {
    "alpha_1_theory_{ensemble}": Summary("capacity, REM theory ({ensemble})", r"$\alpha_1$", _1),
    "alpha_1_{method}_{criterion}_{ensemble}": Summary(
        f"capacity extrapolated to N -> inf ({_CAPACITY_SERIES})", r"$\alpha_1$", _1,
        theory="alpha_1_theory_{ensemble}", theory_label="REM theory",
        error="alpha_1_{method}_{criterion}_{ensemble}_err"),
    "alpha_1_{method}_{criterion}_{ensemble}_err": Summary(
        f"total error of the extrapolated capacity, statistics + spread of forms ({_CAPACITY_SERIES})", "", _1),
    "chi2_{method}_{criterion}_{ensemble}": Summary(f"chi-square of the best finite-size form ({_CAPACITY_SERIES})",
                                                    r"$\chi^2$", _1),
    "dof_{method}_{criterion}_{ensemble}": Summary(
        f"degrees of freedom of the best finite-size form ({_CAPACITY_SERIES})", "", "count"),
    "form_{method}_{criterion}_{ensemble}": Summary(f"best finite-size form, Akaike ({_CAPACITY_SERIES})", "", _1),
    "z_{method}_{criterion}_{ensemble}": Summary(
        f"(extrapolated - REM theory) / total error ({_CAPACITY_SERIES})", "$z$", _1, theory=0.0,
        theory_label="agreement"),
    "ln2": Summary("binary capacity at beta = inf, typical pattern", r"$\ln 2$", _1),
    "ln2_half": Summary("binary capacity at beta = inf, all patterns (Demircigil et al.)", r"$\ln 2 / 2$", _1),
}


@experiment(
    name="hopfield-capacity",
    description="Modern Hopfield exponential capacity: alpha_1/2(N) from streamed dynamics and REM level, alpha_1 vs theory",
    parameters=[
        Parameter("beta", float, 0.5, "1/overlap", "Hopfield inverse temperature"),
        Parameter("ensembles", str, "spherical,binary,gaussian", "", "pattern ensembles"),
        Parameter("full_sizes", str, "12,16,20,24,28", "", "N of the streamed full dynamics ('' for none)"),
        Parameter("rem_sizes", str, "16,20,24,32,40,48,64,80,112,160", "", "N of the REM-level criteria ('' for none)"),
        Parameter("n_targets", int, 64, "", "full dynamics: queries (started at their pattern) per pattern set"),
        Parameter("n_sets", int, 4, "", "full dynamics: pattern sets per size"),
        Parameter("n_samples", int, 1500, "", "REM level: samples (targets) per size; Gaussian: norm strata"),
        Parameter("limit_betas", str, "1,2,4", "", "binary: larger betas of the REM-level signal threshold ('' none)"),
        Parameter("limit_samples", int, 400, "", "REM-level samples per size at each limit beta"),
    ],
    plot=plots.plot_capacity,
    figsize=(17.0, 9.5),
    warmup={"ensembles": "spherical", "full_sizes": "8,10", "rem_sizes": "8,10,12", "n_targets": 4, "n_sets": 1,
            "n_samples": 20, "limit_betas": ""},
    report=report_capacity,
    resources=_capacity_resources,
    variables=_CAPACITY_VARIABLES,
    summaries=_CAPACITY_SUMMARIES,
)
def capacity(*, seed, beta, ensembles, full_sizes, rem_sizes, n_targets, n_sets, n_samples, limit_betas,
             limit_samples, progress=None):
    """Thresholds ``alpha_{1/2}(N)`` from both simulations, finite-N theory, fits down to ``1/N = 0``.

    Per ensemble: the streamed full dynamics at ``full_sizes`` and the
    REM-level criteria at ``rem_sizes`` (:func:`hopfield.threshold_series.run_series`:
    load grids placed around the finite-N theory, crossings measured), each
    criterion's ``alpha_{1/2}(N)`` with its bootstrap error next to the
    annealed finite-N theory, and its extrapolation (:mod:`hopfield.finite_size`).
    Binary runs add the REM-level signal threshold at ``limit_betas`` (towards
    ``ln 2`` as ``beta -> inf``) and the exact ``beta = inf`` thresholds.
    Results are stored in long format (one row per curve point, per
    threshold, per fitted series): no padding.
    """
    ens_list, full, rem, limits = _capacity_lists(ensembles, full_sizes, rem_sizes, limit_betas)
    limits = limits if "binary" in ens_list else []
    total = len(ens_list) * (len(full) + len(rem)) + len(limits) * len(rem)
    done = [0]

    def step(*_):
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    runs = {}
    for e, ens in enumerate(ens_list):
        for m, (method, sizes) in enumerate((("full", full), ("rem", rem))):
            if sizes:
                runs[e, m] = run_series(method, ens, beta, sizes, seed=_child(seed, e, m), n_targets=n_targets,
                                        n_sets=n_sets, n_samples=n_samples, progress=step)
    limit_runs = {b: run_series("rem", "binary", b, rem, seed=_child(seed, 100, j), n_samples=limit_samples,
                                progress=step) for j, b in enumerate(limits)}
    return capacity_result(beta, ens_list, runs, limit_runs, rem or full)


def capacity_result(beta, ens_list, runs, limit_runs, infinite_beta_sizes) -> ExperimentResult:
    """The ``hopfield-capacity`` result from threshold series (:class:`hopfield.threshold_series.SeriesRun`).

    Parameters
    ----------
    beta : float
    ens_list : list of str
    runs : dict
        ``(ensemble index, method index) -> SeriesRun`` (method 0: full, 1: rem).
    limit_runs : dict
        ``beta -> SeriesRun`` of the binary REM level at larger ``beta``.
    infinite_beta_sizes : list of int
        Sizes of the exact ``beta = inf`` binary thresholds.

    Returns
    -------
    ExperimentResult
        Long format (one row per curve point, threshold, fitted series): no
        padding, no NaN; a function of the seed alone (wall times are the
        run system's provenance, not results). Also used to report stored
        production runs (``data/capacity_analysis.py``).
    """
    curve_rows, threshold_rows, series_rows, fit_rows, band_rows = [], [], [], [], []
    scalars = {}
    for e, ens in enumerate(ens_list):
        scalars[f"alpha_1_theory_{ens}"] = alpha_1(ens, beta)
        for m, method in enumerate(("full", "rem")):
            run = runs.get((e, m))
            if run is None:
                continue
            for curve in run.curves:
                for a, p, q in zip(curve.alphas, curve.probability, curve.signal_probability):
                    curve_rows.append((e, m, curve.n_features, a, p, q))
            for c, criterion in enumerate(CRITERIA):
                series = run.series[criterion]
                th = series.thresholds
                for n, a, d, t in zip(th.n_features, th.alpha_half, th.alpha_half_err, series.finite_theory):
                    threshold_rows.append((e, m, c, n, a, d, t))
                ex = series.extrapolation
                if ex is None:
                    continue
                key = f"{method}_{_CRITERION_KEYS[criterion]}_{ens}"
                z = (ex.limit - series.theory) / ex.total_err
                series_rows.append((e, m, c, ex.limit, ex.total_err, ex.stat_err, ex.spread, ex.best.chi2,
                                    ex.best.dof, z))
                inv = _INV_N[1:]
                fit_rows.append(np.concatenate([[ex.limit], ex.best.predict(1.0 / inv)]))
                band_rows.append(np.concatenate([[ex.total_err], ex.best.predict_err(1.0 / inv)]))
                scalars.update({f"alpha_1_{key}": ex.limit, f"alpha_1_{key}_err": ex.total_err,
                                f"chi2_{key}": ex.best.chi2, f"dof_{key}": int(ex.best.dof),
                                f"form_{key}": ex.best.form.name, f"z_{key}": z})
    limit_rows = []
    for b, run in limit_runs.items():
        ex = run.series["signal"].extrapolation
        if ex is not None:
            limit_rows.append((b, ex.limit, ex.total_err, alpha_1("binary", b)))
    typical, every = zip(*(binary_infinite_beta_thresholds(n) for n in infinite_beta_sizes))
    curves = _long(curve_rows, ["ensemble", "method", "size", "alpha", "probability", "signal_probability"])
    thresholds = _long(threshold_rows, ["ensemble", "method", "criterion", "size", "alpha_half", "err", "theory"])
    series = _long(series_rows, ["ensemble", "method", "criterion", "limit", "err", "stat", "spread", "chi2", "dof", "z"])
    lim = _long(limit_rows, ["beta", "alpha", "err", "theory"])
    scalars.update({"ln2": LN2, "ln2_half": LN2 / 2})
    n_fit = len(fit_rows)
    return ExperimentResult(
        arrays={
            "curve_ensemble": (("curve_point",), curves["ensemble"]),
            "curve_method": (("curve_point",), curves["method"]),
            "curve_size": (("curve_point",), curves["size"]),
            "curve_alpha": (("curve_point",), curves["alpha"]),
            "curve_probability": (("curve_point",), curves["probability"]),
            "curve_signal_probability": (("curve_point",), curves["signal_probability"]),
            "threshold_ensemble": (("threshold",), thresholds["ensemble"]),
            "threshold_method": (("threshold",), thresholds["method"]),
            "threshold_criterion": (("threshold",), thresholds["criterion"]),
            "threshold_size": (("threshold",), thresholds["size"]),
            "alpha_half": (("threshold",), thresholds["alpha_half"]),
            "alpha_half_err": (("threshold",), thresholds["err"]),
            "alpha_half_theory": (("threshold",), thresholds["theory"]),
            "series_ensemble": (("series",), series["ensemble"]),
            "series_method": (("series",), series["method"]),
            "series_criterion": (("series",), series["criterion"]),
            "alpha_1_fit": (("series",), series["limit"]),
            "alpha_1_fit_err": (("series",), series["err"]),
            "alpha_1_fit_stat": (("series",), series["stat"]),
            "alpha_1_fit_spread": (("series",), series["spread"]),
            "fit_chi2": (("series",), series["chi2"]),
            "fit_dof": (("series",), series["dof"]),
            "fit_z": (("series",), series["z"]),
            "fit_curve": (("series", "inv_n"), np.array(fit_rows).reshape(n_fit, _INV_N.shape[0])),
            "fit_band": (("series", "inv_n"), np.array(band_rows).reshape(n_fit, _INV_N.shape[0])),
            "limit_alpha": (("limit_beta",), lim["alpha"]),
            "limit_alpha_err": (("limit_beta",), lim["err"]),
            "limit_theory": (("limit_beta",), lim["theory"]),
            "infinite_beta_typical": (("infinite_beta_size",), np.array(typical)),
            "infinite_beta_all": (("infinite_beta_size",), np.array(every)),
        },
        coords={
            "ensemble": np.array(ens_list), "method": np.array(["full", "rem"]), "criterion": np.array(CRITERIA),
            "curve_point": np.arange(curves["alpha"].shape[0]), "threshold": np.arange(thresholds["size"].shape[0]),
            "series": np.arange(n_fit), "inv_n": _INV_N,
            "limit_beta": lim["beta"], "infinite_beta_size": np.array(infinite_beta_sizes),
        },
        scalars=scalars,
        attrs={"beta": beta, "criterion_fixed_point": "nearest pattern is target and |m - 1| < (1 - m_fail)/2",
               "criterion_signal": "softmax weight of the target at the first update from x = xi_t exceeds 1/2",
               "full_dynamics": "patterns streamed from their seed (hopfield.streaming), early exit of failed queries",
               "rem_level": "exact finite-N overlap laws, tail drawn one by one, bulk by its Gauss-Legendre rule"},
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
    """Text: the classical capacity extrapolated in N against AGS 0.138, and the modern network."""
    sc = result.scalars
    half = result.arrays["alpha_half"][1]
    sizes = ", ".join(f"N={int(n)}: {h:.3f}" for n, h in zip(result.coords["size"], half))
    lines = ["Classical Hebbian network: load alpha = P/N where half the patterns are retrieved",
             f"  alpha_1/2 per size: {sizes}"]
    if "alpha_c_extrapolated" in sc:
        lines.append(f"  extrapolated (forms in N^-1/2, N^-1, N^-1/3, N^-2/3, Akaike-averaged): alpha_c = "
                     f"{sc['alpha_c_extrapolated']:.4f} ± {sc['alpha_c_extrapolated_err']:.4f} (best form "
                     f"{sc['fit_form']}, chi2 = {sc['fit_chi2']:.1f} / {sc['fit_dof']}; AGS theory {sc['alpha_c_ags']})")
    prob = result.arrays["modern_probability"][1]
    loads = result.coords["load"]
    lines.append(f"  modern network (N = {result.attrs['modern_size']}, binary): retrieval fraction "
                 f"{prob[0]:.2f} at P/N = {loads[0]:g}, {prob[-1]:.2f} at P/N = {loads[-1]:g} "
                 f"(alpha_1 theory {sc['modern_alpha_1_theory']:.3f} in ln(P)/N)")
    return "\n".join(lines)


_CLASSICAL_VARIABLES = {
    "size": Quantity("network size", "$N$", _1),
    "alpha": Quantity("load P/N", r"$\alpha$", _1),
    "load": Quantity("load P/N of the modern network", "$P/N$", _1),
    "overlap": Quantity("mean overlap after retrieval", "$m$", _1),
    "probability": Quantity("fraction of patterns retrieved", "", _1),
    "alpha_half": Quantity("load where half the patterns are retrieved", r"$\alpha_{1/2}$", _1),
    "modern_probability": Quantity("fraction retrieved by the modern network", "", _1),
    "modern_log_alpha": Quantity("load ln(P)/N of the modern network", r"$\alpha$", _1),
    "inv_sqrt_n": Quantity("finite size", r"$N^{-1/2}$", _1),
    "fit_curve": Quantity("best finite-size form through alpha_1/2(N)", r"$\alpha_{1/2}$", _1),
    "fit_band": Quantity("standard error of the fitted form (total error at N = inf)", "", _1),
}

_CLASSICAL_SUMMARIES = {
    "alpha_c_extrapolated": Summary("classical capacity extrapolated in N^-1/2", r"$\alpha_c$", _1,
                                    theory="alpha_c_ags", theory_label="AGS", error="alpha_c_extrapolated_err"),
    "alpha_c_stat": Summary("statistical error of the extrapolated classical capacity", "", _1),
    "alpha_c_spread": Summary("spread of the extrapolation between finite-size forms", "", _1),
    "fit_chi2": Summary("chi-square of the best finite-size form", r"$\chi^2$", _1),
    "fit_dof": Summary("degrees of freedom of the best finite-size form", "", "count"),
    "fit_form": Summary("best finite-size form (Akaike)", "", _1),
    "alpha_c_ags": Summary("classical capacity, AGS theory", r"$\alpha_c$", _1),
    "modern_alpha_1_theory": Summary("modern capacity ln(P)/N, REM theory", r"$\alpha_1$", _1),
}


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
    figsize=(15.0, 4.6),
    warmup={"sizes": "50,60", "n_alpha": 3, "n_sets": 2, "n_targets": 2, "modern_size": 8},
    report=report_classical,
    resources=_classical_resources,
    variables=_CLASSICAL_VARIABLES,
    summaries=_CLASSICAL_SUMMARIES,
)
def classical_vs_modern(*, seed, sizes, alpha_min, alpha_max, n_alpha, n_sets, n_targets, modern_size,
                        modern_beta, progress=None):
    """Classical capacity scan (AGS alpha_c ~ 0.138) with ``alpha_{1/2}(N)`` extrapolated by the
    finite-size forms of :mod:`hopfield.finite_size` (``N^{-1/2}`` and alternatives, chi^2, total
    error), and the modern network's retrieval fraction on binary patterns of a small N against
    ``P/N`` (it keeps retrieving far beyond 0.138)."""
    size_list = parse_list(sizes, "sizes")
    alphas = np.linspace(alpha_min, alpha_max, n_alpha)
    m = np.empty((len(size_list), n_alpha))
    m_se = np.empty_like(m)
    prob = np.empty_like(m)
    half = np.full(len(size_list), np.nan)
    half_err = np.full(len(size_list), np.nan)
    curves = []
    for i, n in enumerate(size_list):
        c = classical_capacity(n, alphas, n_sets=n_sets, n_targets=n_targets, seed=_child(seed, i))
        m[i], m_se[i], prob[i] = c.mean_overlap, c.overlap_sem, c.probability
        curves.append(c)
        if progress is not None:
            progress(i + 1, len(size_list) + 1)
    # alpha_{1/2}(N) with bootstrap errors over pattern sets, and the forms of hopfield.finite_size.
    th = size_thresholds(curves, label="classical")
    for n, a, d in zip(th.n_features, th.alpha_half, th.alpha_half_err):
        i = size_list.index(int(n))
        half[i], half_err[i] = a, d
    scalars = {}
    fit_x = np.linspace(0.0, 1.0 / math.sqrt(min(size_list)), 41)
    fit = np.full(fit_x.shape, np.nan)
    band = np.full(fit_x.shape, np.nan)
    if th.n_features.shape[0] >= 3:
        ex = extrapolate(th, CLASSICAL_FORMS)
        scalars.update({"alpha_c_extrapolated": ex.limit, "alpha_c_extrapolated_err": ex.total_err,
                        "alpha_c_stat": ex.stat_err, "alpha_c_spread": ex.spread, "fit_chi2": ex.best.chi2,
                        "fit_dof": int(ex.best.dof), "fit_form": ex.best.form.name})
        fit[1:] = ex.best.predict(fit_x[1:] ** -2)
        band[1:] = ex.best.predict_err(fit_x[1:] ** -2)
        fit[0], band[0] = ex.limit, ex.total_err
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
            "alpha_half_err": (("size",), half_err),
            "fit_curve": (("inv_sqrt_n",), fit),
            "fit_band": (("inv_sqrt_n",), band),
            "modern_probability": (("load",), curve.probability),
            "modern_log_alpha": (("load",), mod_alpha),
        },
        coords={"size": np.array(size_list), "alpha": alphas, "load": loads, "inv_sqrt_n": fit_x},
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


_REM_CONDENSATION_VARIABLES = {
    "M": Quantity("bits: N = 2^M data points", "$M$", "bits"),
    "reduced_beta": Quantity("inverse temperature over its critical value", r"$\tilde\beta/\beta_c$", _1),
    "y_data": Quantity("mean participation ratio, sphere data", "$E[Y]$", _1),
    "y_rem": Quantity("mean participation ratio, sampled REM", "$E[Y]$", _1),
    "y_theory": Quantity("mean participation ratio, eq. 39", "$E[Y]$", _1),
    "time": Quantity("VE time at this inverse temperature", "$t$", "VE time"),
    "max_dev_theory": Quantity("largest deviation of E[Y] from eq. 39", r"$\max|\Delta E[Y]|$", _1),
}

_REM_CONDENSATION_SUMMARIES = {
    "t_c": Summary("condensation time", "$t_c$", "VE time"),
    "max_abs_z_data_vs_rem": Summary("largest |z| between sphere data and the sampled REM", r"$\max|z|$", _1),
    "beta_c": Summary("critical inverse temperature 2√(ln 2)", r"$\beta_c$", _1),
}


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
    variables=_REM_CONDENSATION_VARIABLES,
    summaries=_REM_CONDENSATION_SUMMARIES,
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


_BRIDGE_VARIABLES = {
    "case": Quantity("patterns and process", "", _1),
    "time": Quantity("diffusion time", "$t$", "process time"),
    "denoiser_error": Quantity("largest |denoiser - Hopfield update|", "", _1),
    "free_energy_error": Quantity("largest |F~ - (Hopfield energy + C)|", "", _1),
    "participation_error": Quantity("largest |posterior - softmax participation ratio|", "", _1),
    "participation_diffusion": Quantity("participation ratio of the diffusion posterior", "$Y$", _1),
    "participation_hopfield": Quantity("participation ratio of the Hopfield softmax", "$Y$", _1),
    "beta_hopfield": Quantity("Hopfield inverse temperature", r"$\beta$", _1),
}

_BRIDGE_SUMMARIES = {
    "max_denoiser_error": Summary("largest |denoiser - Hopfield update|", "", _1, theory=0.0,
                                  theory_label="identity"),
    "max_free_energy_error": Summary("largest |F~ - (Hopfield energy + C)|", "", _1, theory=0.0,
                                     theory_label="identity"),
    "max_participation_error": Summary("largest |posterior - softmax participation ratio|", "", _1, theory=0.0,
                                       theory_label="identity"),
}


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
    variables=_BRIDGE_VARIABLES,
    summaries=_BRIDGE_SUMMARIES,
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


_CAPACITY_COLLAPSE_VARIABLES = {
    "alpha": Quantity("load ln(n)/d", r"$\alpha$", _1),
    "alpha_fine": Quantity("load ln(n)/d", r"$\alpha$", _1),
    "n_patterns": Quantity("patterns n = exp(α d)", "$n$", "count"),
    "t_collapse_theory": Quantity("collapse time, REM theory d → ∞", "$t_C$", "OU time"),
    "t_hopfield_theory": Quantity("Hopfield retrieval time, theory d → ∞", "$t_H$", "OU time"),
    "t_hopfield_finite": Quantity("Hopfield retrieval time, theory at this d", "$t_H$", "OU time"),
    "t_collapse_excess": Quantity("collapse time from f^e", "$t_C$", "OU time"),
    "t_collapse_nn": Quantity("mean nearest-neighbour collapse time", r"$\hat t_C$", "OU time"),
    "t_hopfield_sim": Quantity("Hopfield retrieval time, simulated", "$t_H$", "OU time"),
    "curve_collapse": Quantity("collapse time, REM theory d → ∞", "$t_C$", "OU time"),
    "curve_hopfield": Quantity("Hopfield retrieval time, theory d → ∞", "$t_H$", "OU time"),
}

_CAPACITY_COLLAPSE_SUMMARIES = {"dimension": Summary("pattern dimension", "$d$", _1)}


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
    figsize=(8.5, 6.0),
    report=report_capacity_collapse,
    resources=_capacity_collapse_resources,
    warmup={"alphas": "0.3", "dimension": 6, "n_samples": 20, "n_trajectories": 4, "n_targets": 2, "n_times": 4},
    variables=_CAPACITY_COLLAPSE_VARIABLES,
    summaries=_CAPACITY_COLLAPSE_SUMMARIES,
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


_RETRIEVAL_VARIABLES = {
    "noise": Quantity("cue noise per component", r"$\epsilon$", _1),
    "times": Quantity("VE time of the cue noise", "$t$", "VE time"),
    "beta": Quantity("Hopfield inverse temperature", r"$\beta$", _1),
    "success_{dynamics}": Quantity("fraction retrieved, {dynamics}", "", _1),
    "overlap_{dynamics}": Quantity("mean overlap with the target, {dynamics}", "$m$", _1),
    "overlap_cue": Quantity("mean overlap of the cue with the target", "$m$", _1),
}

_RETRIEVAL_SUMMARIES = {"n_cues": Summary("cues per noise level", "", "count")}


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
    variables=_RETRIEVAL_VARIABLES,
    summaries=_RETRIEVAL_SUMMARIES,
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
