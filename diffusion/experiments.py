"""Experiments of the diffusion side (registered through ``pyproject.toml`` entry points).

Each is a function of plain keyword parameters and a ``seed``
(:class:`numpy.random.SeedSequence`) returning a
:class:`statmech.registry.ExperimentResult` with named dimensions and
coordinates; its figure is drawn by the matching function of
:mod:`diffusion.plots`. Defaults are the paper-scale settings; every size is
a parameter, so tests run them small.

- ``speciation``: Gaussian-mixture ``phi(t)`` against ``t/t_S`` for several
  ``d`` by cloning, next to eq. 6, and the finite-size crossing
  (dynamical-regimes Fig. 2);
- ``collapse``: ``f^e(t)/alpha`` for ``n`` data and several ``d``, next to
  the theory, with ``t_C`` (dynamical-regimes Fig. 3);
- ``dataset-regimes``: ``Lambda``, ``t_S``, ``f^e``, ``t_C``, ``phi``,
  ``phi_C`` and the ``t^_C`` histogram on the handwritten digits
  (dynamical-regimes Fig. 4–5);
- ``pitchfork``: two-deltas pitchfork, susceptibility, exponents, and the
  four-deltas free-energy landscape (Ambrogioni Fig. 2–3);
- ``model-regimes``: the exact, smoothed (several ``h``) and Gaussian score
  models through the same protocols on the digits (or a user's data set):
  ``t_S`` from the ``phi`` crossing against ``1/2 log Lambda``, the ``t^_C``
  distribution, the memorisation fraction of the end points (PHYSICS.md §8).
"""

from __future__ import annotations

import math

import numpy as np

from statmech._validation import child_seed as _child
from statmech._validation import parse_list
from statmech.intervals import bootstrap_ci
from statmech.runs.quantities import DIMENSIONLESS as _1
from statmech.runs.quantities import Quantity, Summary
from statmech.runs.registry import ExperimentResult, Parameter, experiment
from statmech.runs.resources import Resources

from diffusion import plots
from diffusion.collapse import (
    collapse_time,
    excess_entropy,
    gm_collapse_time,
    gm_excess_entropy,
    gm_excess_entropy_finite,
)
from diffusion.datasets import gaussian_mixture, load_array, load_digits
from diffusion.memorisation import DEFAULT_THRESHOLD, memorisation
from diffusion.models import EmpiricalModel, GaussianModel, SmoothedEmpiricalModel
from diffusion.equilibrium import four_deltas_landscape, two_deltas_pitchfork
from diffusion.processes import ou_process
from diffusion.sampler import backward_sample, backward_sample_two_gaussians
from diffusion.gm_theory import gm_phi, gm_speciation_time
from diffusion.speciation import PHI_CROSSING, crossing_point, phi_level_time, speciation_time, top_eigenvalue

__all__ = ["speciation", "collapse", "dataset_regimes", "pitchfork", "model_regimes", "parse_list",
           "report_speciation", "report_collapse", "report_dataset_regimes", "report_pitchfork",
           "report_model_regimes"]


#: Rough costs (seconds) measured on the 2-core EPYC: one backward step of one trajectory in one
#: dimension (closed-form score), one flop of the exact-score products, one exponential weight.
_STEP_DIM_SECONDS = 3e-8
_FLOP_SECONDS = 1e-10
_EXP_SECONDS = 3e-9
#: The exact-score Gibbs pass keeps about 2^21 weights per chunk; excess_entropy 2^23 overlaps per block.
_GIBBS_CHUNK = 1 << 21
_OVERLAP_BLOCK = 1 << 23


def _steps(t_end, t_min, dt) -> int:
    return max(1, int(round((t_end - t_min) / dt))) if dt > 0 and t_end > t_min else 1


def _mixture_bytes(n, d) -> float:
    """Peak of ``gaussian_mixture(n, d)``: the centres, the normal draw and their sum."""
    return 3.0 * 8 * max(n, 0) * max(d, 0)


def _at_one(xs, values):
    """The value at the grid point nearest to x = 1."""
    return values[int(np.argmin(np.abs(np.asarray(xs) - 1.0)))]


# --------------------------------------------------------------------------
# Speciation.
# --------------------------------------------------------------------------


def _speciation_resources(*, dims, n_pairs, x_min, x_max, n_x, mu_tilde, sigma, score, n_data, dt, t_end,
                          t_min, method):
    dim_list = parse_list(dims, "dims")
    d_max, steps, pairs = max(dim_list), _steps(t_end, t_min, dt), 2 * max(n_pairs, 0)
    memory = 8.0 * 10 * pairs * d_max
    driver = f"10 arrays of 2 n_pairs x max(dims) = {pairs} x {d_max} numbers"
    if score == "empirical":
        memory += _mixture_bytes(n_data, d_max) + 8.0 * 3 * _GIBBS_CHUNK
        driver += f" and the n_data x max(dims) = {n_data} x {d_max} training set"
        seconds = sum(steps * pairs * n_data * (4 * _FLOP_SECONDS * d + _EXP_SECONDS) for d in dim_list)
        time_driver = "steps x 2 n_pairs x n_data x d (exact empirical score)"
    else:
        seconds = sum(steps * pairs * d * _STEP_DIM_SECONDS for d in dim_list)
        time_driver = "steps x 2 n_pairs x d, summed over dims"
    return Resources(memory, driver, seconds, f"{time_driver}; steps = (t_end - t_min)/dt = {steps}")


def report_speciation(result) -> str:
    """Text table: phi(t) near t_S and at the grid ends against eq. 6, per d; the crossing."""
    xs = result.coords["x"]
    arr = {name: value for name, (_, value) in result.arrays.items()}
    picks = sorted({0, int(np.argmin(np.abs(xs - 1.0))), len(xs) - 1})
    head = "".join(f" {f'phi(x={xs[k]:.2f}) sim':>20} {'eq. 6':>6}" for k in picks)
    lines = [f"Speciation, two Gaussians, {result.attrs['score']} score: cloned phi against x = t/t_S, next to eq. 6"
             f" (t_S where kappa_t = 1)",
             f"{'d':>6} {'Lambda':>9} {'t_S':>7}{head}"]
    for i, d in enumerate(result.coords["d"]):
        cells = "".join(f" {arr['phi'][i, k]:12.3f} ± {arr['phi_se'][i, k]:5.3f} {arr['phi_theory_at_x'][i, k]:6.3f}"
                        for k in picks)
        lines.append(f"{int(d):6d} {arr['lambda_top'][i]:9.2f} {arr['t_s'][i]:7.3f}{cells}")
    sc = result.scalars
    if "crossing_x" in sc:
        lines.append(f"curves of different d cross at t/t_S = {sc['crossing_x']:.3f} ± {sc['crossing_x_se']:.3f} "
                     f"(theory: 1 as d -> infinity), phi = {sc['crossing_phi']:.3f}")
    elif "crossing_error" in sc:
        lines.append(f"crossing not located: {sc['crossing_error']}")
    return "\n".join(lines)



_SPECIATION_VARIABLES = {
    "d": Quantity("dimension", "$d$", _1),
    "x": Quantity("clone time over speciation time", "$t/t_S$", _1),
    "x_fine": Quantity("time over speciation time", "$t/t_S$", _1),
    "phi": Quantity("probability that clones end in the same class", r"$\phi$", _1),
    "phi_theory": Quantity("same-class probability, eq. 6", r"$\phi$", _1),
    "phi_theory_at_x": Quantity("same-class probability at the clone times, eq. 6", r"$\phi$", _1),
    "phi_c": Quantity("probability that clones end at the same training point", r"$\phi_C$", _1),
    "t_s": Quantity("speciation time where the class separation is 1", "$t_S$", "OU time"),
    "t_s_eq4": Quantity("speciation time of eq. 4, 1/2 log Λ", "$t_S$", "OU time"),
    "lambda_top": Quantity("top eigenvalue of the data covariance", r"$\Lambda$", _1),
}

_SPECIATION_SUMMARIES = {
    "phi_t_s_large_d": Summary("same-class probability at t_S, d → ∞ (eq. 6)", r"$\phi(t_S)$", _1),
    "crossing_x": Summary("clone time where the φ curves of different d cross", "$t/t_S$", _1, theory=1.0,
                          theory_label="d → ∞: t_S", error="crossing_x_se"),
    "crossing_phi": Summary("same-class probability where the curves cross", r"$\phi$", _1,
                            theory="phi_t_s_large_d", theory_label="eq. 6 at t_S, d → ∞"),
    "crossing_error": Summary("why the crossing was not located"),
}


@experiment(
    name="speciation",
    description="Gaussian-mixture speciation: cloned phi(t) vs t/t_S for several d, next to eq. 6",
    parameters=[
        Parameter("dims", str, "64,256,1024", "", "dimensions d, comma-separated"),
        Parameter("n_pairs", int, 10000, "", "clone pairs per clone time"),
        Parameter("x_min", float, 0.5, "t/t_S", "first clone time"),
        Parameter("x_max", float, 1.5, "t/t_S", "last clone time"),
        Parameter("n_x", int, 11, "", "clone times per d"),
        Parameter("mu_tilde", float, 1.0, "", "|m|^2 = mu_tilde^2 d"),
        Parameter("sigma", float, 1.0, "", "class standard deviation"),
        Parameter("score", str, "population", "",
                  "exact population score or empirical score of n_data points",
                  choices=("population", "empirical")),
        Parameter("n_data", int, 20000, "", "training points (score='empirical')"),
        Parameter("dt", float, 0.01, "OU time", "step of the uniform grid"),
        Parameter("t_end", float, 8.0, "OU time", "start of the backward dynamics"),
        Parameter("t_min", float, 0.01, "OU time", "end of the backward dynamics"),
        Parameter("method", str, "euler_maruyama", "", "integrator",
                  choices=("euler_maruyama", "heun", "exponential")),
    ],
    plot=plots.plot_speciation,
    figsize=(9.5, 5.0),
    warmup={"dims": "8", "n_pairs": 16, "n_x": 3, "dt": 0.1, "n_data": 50},
    report=report_speciation,
    resources=_speciation_resources,
    variables=_SPECIATION_VARIABLES,
    summaries=_SPECIATION_SUMMARIES,
)
def speciation(*, seed, dims, n_pairs, x_min, x_max, n_x, mu_tilde, sigma, score, n_data, dt,
               t_end, t_min, method, progress=None):
    """Cloning experiment on two Gaussians (dynamical-regimes Fig. 2, eq. 4 and 6).

    Convention: ``t_S`` is the mixture's speciation time
    :func:`diffusion.gm_theory.gm_speciation_time`, where the class separation
    ``kappa_t`` equals 1 (``1/2 log d`` at ``mu~ = sigma = 1``, the scale of the
    papers' plots), for both scores, so the curves of eq. 6 cross exactly at
    ``t/t_S = 1``. Eq. 4's ``1/2 log Lambda`` (``Lambda`` the top eigenvalue of
    the population covariance, ``mu~^2 d + sigma^2``, or of the training set
    for the empirical score) is stored beside it as ``t_s_eq4``; it is larger by
    ``1/2 log(1 + sigma^2/(mu~^2 d))``, a ``1/d`` difference.
    Clone times are ``x t_S`` on a grid of ``n_x`` values of ``x``.
    """
    dim_list = parse_list(dims, "dims")
    if not 0 < x_min < x_max:
        raise ValueError(f"need 0 < x_min < x_max, got {x_min}, {x_max}")
    process = ou_process()
    xs = np.linspace(x_min, x_max, n_x)
    phi = np.empty((len(dim_list), n_x))
    phi_se = np.empty_like(phi)
    phi_c = np.full_like(phi, -1.0)
    t_s = np.empty(len(dim_list))
    t_s_eq4 = np.empty(len(dim_list))
    lambdas = np.empty(len(dim_list))
    x_fine = np.linspace(max(0.05, x_min - 0.25), x_max + 0.25, 201)
    theory = np.empty((len(dim_list), x_fine.shape[0]))
    for i, d in enumerate(dim_list):
        if score == "empirical":
            ds = gaussian_mixture(n_data, d, mu_tilde, sigma, seed=_child(seed, i, 0),
                                  balanced=True)
            lambdas[i] = top_eigenvalue(ds.data).value
        else:
            lambdas[i] = mu_tilde**2 * d + sigma**2
        t_s_eq4[i] = speciation_time(lambdas[i], process)
        t_s[i] = gm_speciation_time(d, mu_tilde, sigma, process)
        clone = xs * t_s[i]
        if clone.max() >= t_end or clone.min() <= t_min:
            raise ValueError(f"clone times {clone.min():.3g}..{clone.max():.3g} must lie inside "
                             f"(t_min, t_end) = ({t_min}, {t_end}) for d={d}")
        n_steps = max(1, int(round((t_end - t_min) / dt)))
        times = process.time_grid(t_min, t_end, n_steps, include=clone)
        if score == "empirical":
            run = backward_sample(ds.data, process, times, n_trajectories=n_pairs,
                                  centre=ds.centre, clone_times=clone, method=method,
                                  seed=_child(seed, i, 1))
            phi_c[i] = run.cloning.phi_c
        else:
            run = backward_sample_two_gaussians(np.full(d, mu_tilde), sigma, process, times,
                                                n_trajectories=n_pairs, clone_times=clone,
                                                method=method, seed=_child(seed, i, 1))
        order = np.argsort(run.cloning.clone_times)
        phi[i] = run.cloning.phi[order]
        phi_se[i] = run.cloning.phi_se[order]
        theory[i] = gm_phi(x_fine * t_s[i], mu_tilde, sigma, d, process)
        if progress is not None:
            progress(i + 1, len(dim_list))
    scalars = {}
    if mu_tilde > 0:
        # d -> infinity at t = t_S: kappa -> 1 in eq. 6, the value the curves cross at
        big = 10**12
        t_big = speciation_time(mu_tilde**2 * big + sigma**2, process)
        scalars["phi_t_s_large_d"] = float(gm_phi(t_big, mu_tilde, sigma, big, process))
    if len(dim_list) >= 2:
        try:
            cross = crossing_point(xs, phi, phi_se, seed=0)
            scalars.update(crossing_x=cross.x, crossing_x_se=cross.x_se, crossing_phi=cross.phi)
        except ValueError as exc:
            scalars.update(crossing_error=str(exc))
    arrays = {
        "phi": (("d", "x"), phi),
        "phi_se": (("d", "x"), phi_se),
        "phi_theory": (("d", "x_fine"), theory),
        "phi_theory_at_x": (("d", "x"), np.array([gm_phi(xs * ts, mu_tilde, sigma, d, process)
                                                    for ts, d in zip(t_s, dim_list)])),
        "t_s": (("d",), t_s),
        "t_s_eq4": (("d",), t_s_eq4),
        "lambda_top": (("d",), lambdas),
    }
    if score == "empirical":
        arrays["phi_c"] = (("d", "x"), phi_c)
    return ExperimentResult(
        arrays=arrays,
        coords={"d": np.array(dim_list), "x": xs, "x_fine": x_fine},
        scalars=scalars,
        attrs={"score": score, "process": process.describe(), "x_unit": "t/t_S",
               "t_s_convention": "kappa_t = 1 (gm_speciation_time; 1/2 log d at mu_tilde = sigma = 1)"},
    )


# --------------------------------------------------------------------------
# Collapse.
# --------------------------------------------------------------------------


def _collapse_resources(*, dims, n_data, n_samples, n_times, t_min, t_max, mu_tilde, sigma, criterion, level,
                        n_finite):
    dim_list = parse_list(dims, "dims")
    d_max, n = max(dim_list), max(n_data, 1)
    block = max(1, min(max(n_samples, 1), _OVERLAP_BLOCK // n))
    memory = _mixture_bytes(n, d_max) + 8.0 * 2 * block * (n + d_max) + 8.0 * 5 * max(n_finite, 0) * n / 50
    seconds = sum(max(n_samples, 0) * n * max(n_times, 0) * (_EXP_SECONDS + 2 * _FLOP_SECONDS * d / max(n_times, 1))
                  + max(n_finite, 0) * n * max(n_times, 0) * _EXP_SECONDS for d in dim_list)
    return Resources(
        memory,
        f"the n_data x max(dims) = {n_data} x {d_max} data set and blocks of n_samples x n_data overlaps",
        seconds,
        "(n_samples + n_finite) x n_data x n_times weights, summed over dims",
    )


def report_collapse(result) -> str:
    """Text table: t_C per d (simulated, exact finite-size theory with z, eq. 10)."""
    arr = {name: value for name, (_, value) in result.arrays.items()}
    lines = [f"Collapse, two Gaussians, criterion {result.attrs['criterion']}: t_C (OU time) per d",
             f"{'d':>6} {'alpha':>7} {'t_C simulated':>16} {'finite-size theory':>20} {'z':>6} "
             f"{'eq. 10 (n, d -> inf)':>21}"]
    for i, d in enumerate(result.coords["d"]):
        if np.isfinite(arr["t_c_finite"][i]):
            finite = f"{arr['t_c_finite'][i]:10.3f} ± {arr['t_c_finite_se'][i]:5.3f}"
            se = math.hypot(arr["t_c_se"][i], arr["t_c_finite_se"][i])
            z = f"{(arr['t_c'][i] - arr['t_c_finite'][i]) / se:6.2f}" if se > 0 else f"{'-':>6}"
        else:
            finite, z = f"{'(n_finite = 0)':>18}", f"{'-':>6}"
        lines.append(f"{int(d):6d} {arr['alpha'][i]:7.3f} {arr['t_c'][i]:8.3f} ± {arr['t_c_se'][i]:5.3f} "
                     f"{finite:>20} {z} {arr['t_c_theory'][i]:21.3f}")
    lines.append("z: (simulated - finite-size theory) / combined standard error; eq. 10 is the limit "
                 "n, d -> infinity at fixed alpha = log(n)/d")
    return "\n".join(lines)


_COLLAPSE_VARIABLES = {
    "d": Quantity("dimension", "$d$", _1),
    "t": Quantity("time", "$t$", "OU time"),
    "f": Quantity("excess entropy, Monte Carlo", "$f^e$", "nats per dimension"),
    "f_theory": Quantity("excess entropy, n, d → ∞ at fixed α", "$f^e$", "nats per dimension"),
    "f_finite": Quantity("excess entropy, exact finite-size prediction", "$f^e$", "nats per dimension"),
    "alpha": Quantity("data entropy per dimension ln(n)/d", r"$\alpha$", "nats per dimension"),
    "t_c": Quantity("collapse time from f^e", "$t_C$", "OU time"),
    "t_c_theory": Quantity("collapse time, eq. 10 (n, d → ∞)", "$t_C$", "OU time"),
    "t_c_finite": Quantity("collapse time, exact finite-size prediction", "$t_C$", "OU time"),
}

_COLLAPSE_SUMMARIES = {
    "level": Summary("threshold of the 'level' criterion, in units of α", r"$f^e/\alpha$", _1),
}


@experiment(
    name="collapse",
    description="Gaussian-mixture collapse: f^e(t)/alpha for n data and several d, with t_C",
    parameters=[
        Parameter("dims", str, "64,256,1024", "", "dimensions d, comma-separated"),
        Parameter("n_data", int, 20000, "", "training points n"),
        Parameter("n_samples", int, 2000, "", "Monte Carlo samples M (shared by all times)"),
        Parameter("n_times", int, 50, "", "time points"),
        Parameter("t_min", float, 0.05, "OU time", "smallest time"),
        Parameter("t_max", float, 6.0, "OU time", "largest time"),
        Parameter("mu_tilde", float, 1.0, "", "|m|^2 = mu_tilde^2 d"),
        Parameter("sigma", float, 1.0, "", "class standard deviation"),
        Parameter("criterion", str, "median", "", "t_C criterion of collapse_time",
                  choices=("median", "level")),
        Parameter("level", float, 0.05, "alpha", "f^e threshold of the 'level' criterion"),
        Parameter("n_finite", int, 2000, "",
                  "samples of the exact finite-size prediction (0: skip it)"),
    ],
    plot=plots.plot_collapse,
    warmup={"dims": "8", "n_data": 50, "n_samples": 20, "n_times": 4, "n_finite": 10},
    report=report_collapse,
    resources=_collapse_resources,
    variables=_COLLAPSE_VARIABLES,
    summaries=_COLLAPSE_SUMMARIES,
)
def collapse(*, seed, dims, n_data, n_samples, n_times, t_min, t_max, mu_tilde, sigma, criterion,
             level, n_finite, progress=None):
    """Excess entropy on two Gaussians (dynamical-regimes Fig. 3, eq. 5 and 10).

    For each ``d``: the Monte Carlo ``f^e(t)`` of one data set and its
    ``t_C`` (:func:`diffusion.collapse.collapse_time`), the large-size
    theory (``f(t)`` and eq. 10), and the exact finite-size prediction of the
    same estimator (:func:`diffusion.collapse.gm_excess_entropy_finite`,
    ``f_finite`` and ``t_c_finite``), which the simulation must match size
    for size.
    """
    dim_list = parse_list(dims, "dims")
    if not 0 < t_min < t_max:
        raise ValueError(f"need 0 < t_min < t_max, got {t_min}, {t_max}")
    if n_finite != 0 and n_finite < 2:
        raise ValueError(f"n_finite must be 0 (skip) or >= 2, got {n_finite}")
    if n_finite and min(dim_list) < 4:
        raise ValueError(f"the finite-size prediction needs d >= 4, got dims={dims!r}; "
                         "use n_finite=0 to skip it")
    times = np.linspace(t_min, t_max, n_times)
    D = len(dim_list)
    arrays = {key: np.full((D, n_times), np.nan) for key in
              ("f", "f_se", "f_theory", "f_finite", "f_finite_se")}
    per_d = {key: np.full(D, np.nan) for key in
             ("alpha", "t_c", "t_c_se", "t_c_theory", "t_c_finite", "t_c_finite_se")}
    for i, d in enumerate(dim_list):
        ds = gaussian_mixture(n_data, d, mu_tilde, sigma, seed=_child(seed, i, 0))
        ee = excess_entropy(ds.data, times, n_samples=n_samples, seed=_child(seed, i, 1))
        ct = collapse_time(ee, criterion=criterion, level=level, seed=i)
        arrays["f"][i], arrays["f_se"][i] = ee.f, ee.f_se
        arrays["f_theory"][i] = gm_excess_entropy(times, n_data, d, sigma)
        per_d["alpha"][i], per_d["t_c"][i], per_d["t_c_se"][i] = ee.alpha, ct.t_c, ct.t_c_se
        per_d["t_c_theory"][i] = gm_collapse_time(n_data, d, sigma)
        if n_finite:
            fin = gm_excess_entropy_finite(times, n_data, d, mu_tilde, sigma, n_samples=n_finite,
                                           seed=_child(seed, i, 2))
            cf = collapse_time(fin, criterion=criterion, level=level, seed=i)
            arrays["f_finite"][i], arrays["f_finite_se"][i] = fin.f, fin.f_se
            per_d["t_c_finite"][i], per_d["t_c_finite_se"][i] = cf.t_c, cf.t_c_se
        if progress is not None:
            progress(i + 1, D)
    return ExperimentResult(
        arrays={**{key: (("d", "t"), value) for key, value in arrays.items()},
                **{key: (("d",), value) for key, value in per_d.items()}},
        coords={"d": np.array(dim_list), "t": times},
        scalars={"level": level},
        attrs={"process": "OU, T=1", "f_unit": "nats per dimension", "criterion": criterion},
    )


# --------------------------------------------------------------------------
# Real data.
# --------------------------------------------------------------------------

#: The digits data set: 1797 images of 8 x 8 pixels.
_DIGITS = (1797, 64)


def _dataset_regimes_resources(*, classes, n_trajectories, n_clone_times, n_steps, t_min, t_end, n_samples,
                               n_times, criterion, level, method):
    n, d = _DIGITS
    memory = 8.0 * (3 * n * d + 2 * max(n_samples, 1) * n + 8 * max(n_trajectories, 0) * d
                    + 2 * max(n_trajectories, 0) * max(n_steps, 0))
    seconds = (max(n_samples, 0) * n * max(n_times, 0) * _EXP_SECONDS
               + max(n_steps, 0) * 2 * max(n_trajectories, 0) * n * (4 * _FLOP_SECONDS * d + _EXP_SECONDS))
    return Resources(memory, f"n_samples x 1797 overlaps and n_trajectories = {n_trajectories} trajectories",
                     seconds, "n_samples x n_times and n_steps x n_trajectories passes over the 1797 digits")


def report_dataset_regimes(result) -> str:
    """Text: Lambda, t_S, alpha, t_C and the mean nearest-neighbour collapse time on the digits."""
    sc = result.scalars
    return "\n".join([
        f"Dynamical regimes on the handwritten digits (classes {result.attrs['classes']}): n = {sc['n']}, d = {sc['d']}",
        f"  top eigenvalue Lambda = {sc['lambda_top']:.3f}, speciation time t_S = 1/2 log Lambda = {sc['t_s']:.3f}",
        f"  alpha = log(n)/d = {sc['alpha']:.4f}; collapse time from f^e: t_C = {sc['t_c']:.3f} ± {sc['t_c_se']:.3f}",
        f"  mean nearest-neighbour collapse time t^_C = {sc['t_hat_c_mean']:.3f} ± {sc['t_hat_c_se']:.3f} "
        "(t_C < t_S: memorisation sets in after speciation, going backward)",
    ])


_DATASET_VARIABLES = {
    "t": Quantity("time", "$t$", "OU time"),
    "t_clone": Quantity("clone time", "$t$", "OU time"),
    "trajectory": Quantity("backward trajectory", "", _1),
    "t_bin": Quantity("centre of a bin of nearest-neighbour collapse times", r"$\hat t_C$", "OU time"),
    "f": Quantity("excess entropy, Monte Carlo", "$f^e$", "nats per dimension"),
    "phi": Quantity("probability that clones end in the same class", r"$\phi$", _1),
    "phi_c": Quantity("probability that clones end at the same training point", r"$\phi_C$", _1),
    "t_hat_c": Quantity("last change of a trajectory's nearest training point", r"$\hat t_C$", "OU time"),
    "t_hat_c_hist": Quantity("trajectories per bin", "", "count"),
}

_DATASET_SUMMARIES = {
    "lambda_top": Summary("top eigenvalue of the data covariance", r"$\Lambda$", _1),
    "t_s": Summary("speciation time 1/2 log Λ", "$t_S$", "OU time"),
    "alpha": Summary("data entropy per dimension ln(n)/d", r"$\alpha$", "nats per dimension"),
    "t_c": Summary("collapse time from f^e", "$t_C$", "OU time", error="t_c_se"),
    "t_hat_c_mean": Summary("mean nearest-neighbour collapse time", r"$\hat t_C$", "OU time",
                            error="t_hat_c_se"),
    "t_hat_c_se": Summary("standard error of the mean nearest-neighbour collapse time", "", "OU time"),
    "n": Summary("training points", "$n$", "count"),
    "d": Summary("dimension", "$d$", _1),
    "level": Summary("threshold of the 'level' criterion, in units of α", r"$f^e/\alpha$", _1),
}


@experiment(
    name="dataset-regimes",
    description="Speciation and collapse on the digits: Lambda, t_S, f^e, t_C, phi, phi_C",
    parameters=[
        Parameter("classes", str, "1,8", "", "digits kept, comma-separated (all ten: 0..9)"),
        Parameter("n_trajectories", int, 2000, "", "backward trajectories (= clone pairs)"),
        Parameter("n_clone_times", int, 12, "", "clone times"),
        Parameter("n_steps", int, 400, "", "steps of the log-spaced grid"),
        Parameter("t_min", float, 1e-3, "OU time", "end of the backward dynamics"),
        Parameter("t_end", float, 5.0, "OU time", "start of the backward dynamics"),
        Parameter("n_samples", int, 4000, "", "Monte Carlo samples of f^e"),
        Parameter("n_times", int, 60, "", "time points of f^e"),
        Parameter("criterion", str, "median", "", "t_C criterion of collapse_time",
                  choices=("median", "level")),
        Parameter("level", float, 0.05, "alpha", "f^e threshold of the 'level' criterion"),
        Parameter("method", str, "exponential", "", "integrator",
                  choices=("euler_maruyama", "heun", "exponential")),
    ],
    plot=plots.plot_dataset_regimes,
    report=report_dataset_regimes,
    resources=_dataset_regimes_resources,
    figsize=(10.0, 7.0),
    warmup={"classes": "1,8", "n_trajectories": 8, "n_clone_times": 2, "n_steps": 10,
            "n_samples": 20, "n_times": 4},
    variables=_DATASET_VARIABLES,
    summaries=_DATASET_SUMMARIES,
)
def dataset_regimes(*, seed, classes, n_trajectories, n_clone_times, n_steps, t_min, t_end,
                    n_samples, n_times, criterion, level, method):
    """Speciation and collapse on real data (dynamical-regimes Fig. 4–5, Table 1)."""
    wanted = parse_list(classes, "classes")
    ds = load_digits(wanted)
    process = ou_process()
    top = top_eigenvalue(ds.data)
    t_s = speciation_time(top.value, process)
    f_times = np.geomspace(max(t_min, 0.01), t_end, n_times)
    ee = excess_entropy(ds.data, f_times, n_samples=n_samples, seed=_child(seed, 0))
    ct = collapse_time(ee, criterion=criterion, level=level)
    clone = np.geomspace(max(t_min * 20, 0.02), 0.8 * t_end, n_clone_times)
    times = process.time_grid(t_min, t_end, n_steps, spacing="log", include=clone)
    run = backward_sample(ds.data, process, times, n_trajectories=n_trajectories, labels=ds.labels,
                          clone_times=clone, method=method, seed=_child(seed, 1))
    order = np.argsort(run.cloning.clone_times)
    bins = np.linspace(0.0, t_end, 41)
    hist, _ = np.histogram(run.t_collapse, bins=bins)
    return ExperimentResult(
        arrays={
            "f": (("t",), ee.f), "f_se": (("t",), ee.f_se),
            "phi": (("t_clone",), run.cloning.phi[order]),
            "phi_se": (("t_clone",), run.cloning.phi_se[order]),
            "phi_c": (("t_clone",), run.cloning.phi_c[order]),
            "phi_c_se": (("t_clone",), run.cloning.phi_c_se[order]),
            "t_hat_c": (("trajectory",), run.t_collapse),
            "t_hat_c_hist": (("t_bin",), hist),
        },
        coords={"t": f_times, "t_clone": run.cloning.clone_times[order],
                "trajectory": np.arange(n_trajectories), "t_bin": 0.5 * (bins[1:] + bins[:-1])},
        scalars={
            "lambda_top": top.value, "t_s": t_s, "alpha": ee.alpha, "t_c": ct.t_c,
            "t_c_se": ct.t_c_se, "t_hat_c_mean": float(run.t_collapse.mean()),
            "t_hat_c_se": float(run.t_collapse.std(ddof=1) / math.sqrt(n_trajectories)),
            "n": ds.n, "d": ds.d, "level": level,
        },
        attrs={"data": "UCI handwritten digits 8x8 (CC BY 4.0), pixels in [-1, 1]",
               "classes": classes, "process": process.describe(), "criterion": criterion},
    )


# --------------------------------------------------------------------------
# Pitchfork and landscape.
# --------------------------------------------------------------------------


def _pitchfork_resources(*, sigma, t_min, t_max, n_points, landscape_times, n_grid):
    times = len(parse_list(landscape_times, "landscape_times", float))
    cells = times * max(n_grid, 0) ** 2
    return Resources(8.0 * 10 * cells + 8.0 * 40 * max(n_points, 0),
                     f"10 arrays of landscape times x n_grid^2 = {times} x {n_grid}^2 numbers",
                     0.2 + 2e-6 * 3 * max(n_points, 0) + 1e-6 * cells,
                     "n_points branch solves and landscape times x n_grid^2 cells")


def report_pitchfork(result) -> str:
    """Text table: the critical time and exponents of the two-deltas pitchfork against mean-field theory."""
    sc = result.scalars
    lines = [f"Two-deltas pitchfork ({result.attrs['process']}): m = tanh(m / (t sigma^2))",
             f"{'quantity':>14} {'measured':>22} {'theory':>8}",
             f"{'t_c':>14} {sc['t_c']:22.6f} {sc['t_c_theory']:8.3f}"]
    for label, key, theory in (("beta", "beta", 0.5), ("gamma (t<t_c)", "gamma_minus", 1.0),
                               ("gamma (t>t_c)", "gamma_plus", 1.0), ("delta", "delta", 3.0)):
        lines.append(f"{label:>14} {sc[key]:13.4f} ± {sc[key + '_se']:.4f} {theory:8.3f}")
    return "\n".join(lines)


_PITCHFORK_VARIABLES = {
    "t": Quantity("VE time", "$t$", "VE time"),
    "branch": Quantity("fixed-point branch", "", _1),
    "t_landscape": Quantity("VE time of the landscape", "$t$", "VE time"),
    "x": Quantity("first coordinate", "$x_1$", _1),
    "y": Quantity("second coordinate", "$x_2$", _1),
    "m": Quantity("magnetisation", "$m$", _1),
    "exists": Quantity("branch exists (1) or not (0)", "", _1),
    "stable": Quantity("fixed point is stable (1) or not (0)", "", _1),
    "chi": Quantity("susceptibility", r"$\chi = \partial m/\partial h$", _1),
    "free_energy_reg": Quantity("regularised free energy F + |x|^2/2", r"$\tilde F$", _1),
}

_PITCHFORK_SUMMARIES = {
    "t_c": Summary("critical time, located", "$t_c$", "VE time", theory="t_c_theory",
                   theory_label="mean field 1/σ²"),
    "t_c_theory": Summary("critical time, mean field 1/σ²", "$t_c$", "VE time"),
    "beta": Summary("order-parameter exponent, fitted", r"$\beta$", _1, theory=0.5,
                    theory_label="mean field", error="beta_se"),
    "gamma_minus": Summary("susceptibility exponent below t_c, fitted", r"$\gamma_-$", _1, theory=1.0,
                           theory_label="mean field", error="gamma_minus_se"),
    "gamma_plus": Summary("susceptibility exponent above t_c, fitted", r"$\gamma_+$", _1, theory=1.0,
                          theory_label="mean field", error="gamma_plus_se"),
    "delta": Summary("critical-isotherm exponent, fitted", r"$\delta$", _1, theory=3.0,
                     theory_label="mean field", error="delta_se"),
}


@experiment(
    name="pitchfork",
    description="Two-deltas pitchfork, susceptibility, exponents; four-deltas landscape",
    parameters=[
        Parameter("sigma", float, 1.0, "", "VE noise amplitude"),
        Parameter("t_min", float, 0.05, "VE time", "smallest time of the branch plot"),
        Parameter("t_max", float, 2.0, "VE time", "largest time of the branch plot"),
        Parameter("n_points", int, 400, "", "grid points of the branch plot"),
        Parameter("landscape_times", str, "0.15,0.3,0.5,1.0", "VE time", "times of the landscapes"),
        Parameter("n_grid", int, 121, "", "grid points per axis of the landscapes"),
    ],
    plot=plots.plot_pitchfork,
    report=report_pitchfork,
    resources=_pitchfork_resources,
    figsize=(12.0, 7.0),
    warmup={"n_points": 20, "n_grid": 5, "landscape_times": "0.5"},
    variables=_PITCHFORK_VARIABLES,
    summaries=_PITCHFORK_SUMMARIES,
)
def pitchfork(*, seed, sigma, t_min, t_max, n_points, landscape_times, n_grid):
    """Ambrogioni Fig. 2–3: ``m = tanh(m/(t sigma^2))``, four-deltas ``F~``. Deterministic."""
    pf = two_deltas_pitchfork(sigma, t_min=t_min, t_max=t_max, n_points=n_points)
    land = four_deltas_landscape(parse_list(landscape_times, "landscape_times", float),
                                 sigma=sigma, n_grid=n_grid)
    return ExperimentResult(
        arrays={
            "m": (("branch", "t"), pf.m), "exists": (("branch", "t"), pf.exists),
            "stable": (("branch", "t"), pf.stable), "chi": (("branch", "t"), pf.chi),
            "free_energy_reg": (("t_landscape", "y", "x"), land.free_energy_reg),
        },
        coords={"t": pf.t, "branch": np.arange(pf.m.shape[0]), "t_landscape": land.t,
                "x": land.x, "y": land.y},
        scalars={
            "t_c": pf.t_c, "t_c_theory": 1.0 / sigma**2,
            "beta": pf.beta, "beta_se": pf.beta_se, "gamma_minus": pf.gamma_minus,
            "gamma_minus_se": pf.gamma_minus_se, "gamma_plus": pf.gamma_plus,
            "gamma_plus_se": pf.gamma_plus_se, "delta": pf.delta, "delta_se": pf.delta_se,
        },
        attrs={"process": f"VE, sigma={sigma:g}"},
    )


# --------------------------------------------------------------------------
# Score models against the theory: exact, smoothed, Gaussian.
# --------------------------------------------------------------------------

#: Bins of the d1/d2 histograms.
_RATIO_BINS = 40


def _regimes_data(data, classes, labels):
    """``(points, labels or None, description)`` of the experiment's data set."""
    if data == "digits":
        ds = load_digits(parse_list(classes, "classes"))
        return ds.data, ds.labels, f"UCI handwritten digits {classes} (8x8, pixels in [-1, 1])"
    points = load_array(data)
    if not labels:
        return points, None, f"{data} (classes: sign along the top principal direction)"
    values = np.load(labels, allow_pickle=False)
    if values.shape != (points.shape[0],) or values.dtype.kind not in "iu":
        raise ValueError(f"labels {labels} must hold {points.shape[0]} integers, got {values.dtype} "
                         f"{values.shape}")
    return points, values.astype(np.int64), f"{data} with labels {labels}"


def _model_regimes_resources(*, data, classes, labels, bandwidths, n_trajectories, n_clone_times,
                             n_steps, t_min, t_end, n_samples, n_times, threshold, n_boot, method):
    n, d = _DIGITS if data == "digits" else (20000, 784)
    models = 2 + len(parse_list(bandwidths, "bandwidths", float))
    rows = max(n_trajectories, 0) * (1 + max(n_clone_times, 0))
    memory = 8.0 * (3 * n * d + 8 * rows * d + 2 * max(n_samples, 1) * n + 2 * rows * n_steps)
    # Clones join one clone time at a time (half of them active on average); the posterior
    # over the data is cold for most of the run, so the products dominate (measured: 63 s of
    # CPU at the defaults on the digits, against 71 s here).
    seconds = models * max(n_steps, 0) * 0.5 * rows * n * 4 * _FLOP_SECONDS * d
    seconds += max(n_samples, 0) * n * max(n_times, 0) * _EXP_SECONDS
    return Resources(memory, f"{rows} trajectories and clones x d, the n x d data set", seconds,
                     f"{models} models x n_steps x (trajectories + clones)/2 x n x d products")


def report_model_regimes(result) -> str:
    """Table per model: t_S at phi = 0.775, median t^_C, memorised fraction; the three checks."""
    sc = result.scalars
    arr = {name: np.asarray(value) for name, (_, value) in result.arrays.items()}
    names = [str(m) for m in result.coords["model"]]
    lines = [
        f"Score models on {result.attrs['data']}: n = {sc['n']}, d = {sc['d']}, "
        f"t_min = {sc['t_min']:g}, {sc['n_trajectories']} trajectories",
        f"  speciation: 1/2 log Lambda = {sc['t_s']:.3f} (Lambda = {sc['lambda_top']:.3f}); "
        f"collapse of the exact score: t_C = {sc['t_c']:.3f} ± {sc['t_c_se']:.3f} (from f^e)",
        f"  {'model':<20} {'t at phi=0.775 [95% CI]':>26} {'/ t_S':>6} {'median t^_C [95% CI]':>24} "
        f"{'memorised [95% CI]':>24}",
    ]
    for i, name in enumerate(names):
        lines.append(
            f"  {name:<20} {arr['t_s_phi'][i]:8.3f} [{arr['t_s_phi_low'][i]:.3f}, {arr['t_s_phi_high'][i]:.3f}]"
            f" {arr['t_s_phi'][i] / sc['t_s']:6.2f} {arr['t_hat_c_median'][i]:8.3f} "
            f"[{arr['t_hat_c_low'][i]:.3f}, {arr['t_hat_c_high'][i]:.3f}] "
            f"{arr['mem_fraction'][i]:8.3f} [{arr['mem_low'][i]:.3f}, {arr['mem_high'][i]:.3f}]")
    exact, gauss = 0, len(names) - 1
    smoothed = arr["mem_fraction"][1:-1]
    lines += [
        "  checks:",
        f"    exact model collapses below t_C: memorised {arr['mem_fraction'][exact]:.3f}, median t^_C "
        f"{arr['t_hat_c_median'][exact]:.3f} vs t_C {sc['t_c']:.3f} "
        f"-> {'yes' if sc['check_exact'] else 'NO'}",
        f"    Gaussian model never memorises: memorised {arr['mem_fraction'][gauss]:.3f} "
        f"(CI up to {arr['mem_high'][gauss]:.3f}) -> {'yes' if sc['check_gaussian'] else 'NO'}",
        f"    smoothed model moves from memorising to generalising as h grows: memorised "
        + ", ".join(f"{v:.3f}" for v in smoothed)
        + f" -> {'yes' if sc['check_smoothed'] else 'NO'}",
    ]
    return "\n".join(lines)


_MODEL_REGIMES_VARIABLES = {
    "model": Quantity("score model", "", _1),
    "t_clone": Quantity("clone time", "$t$", "OU time"),
    "trajectory": Quantity("backward trajectory", "", _1),
    "ratio_bin": Quantity("centre of a bin of nearest-neighbour distance ratios", "$d_1/d_2$", _1),
    "phi": Quantity("probability that clones end in the same class", r"$\phi$", _1),
    "phi_low": Quantity("same-class probability, lower end of the 95% bootstrap interval", r"$\phi$", _1),
    "phi_high": Quantity("same-class probability, upper end of the 95% bootstrap interval", r"$\phi$", _1),
    "phi_c": Quantity("probability that clones end at the same training point", r"$\phi_C$", _1),
    "phi_c_low": Quantity("same-point probability, lower end of the 95% bootstrap interval", r"$\phi_C$", _1),
    "phi_c_high": Quantity("same-point probability, upper end of the 95% bootstrap interval", r"$\phi_C$", _1),
    "t_s_phi": Quantity("clone time where φ reaches 0.775 (speciation time from φ)", "$t_S$", "OU time"),
    "t_s_phi_low": Quantity("speciation time from φ, lower end of the 95% bootstrap interval", "$t_S$",
                            "OU time"),
    "t_s_phi_high": Quantity("speciation time from φ, upper end of the 95% bootstrap interval", "$t_S$",
                             "OU time"),
    "t_hat_c": Quantity("last change of a trajectory's nearest training point", r"$\hat t_C$", "OU time"),
    "t_hat_c_median": Quantity("median nearest-neighbour collapse time", r"$\hat t_C$", "OU time"),
    "t_hat_c_low": Quantity("median nearest-neighbour collapse time, lower end of the 95% bootstrap "
                            "interval", r"$\hat t_C$", "OU time"),
    "t_hat_c_high": Quantity("median nearest-neighbour collapse time, upper end of the 95% bootstrap "
                             "interval", r"$\hat t_C$", "OU time"),
    "ratio": Quantity("nearest over second-nearest training-point distance of an end point", "$d_1/d_2$", _1),
    "ratio_hist": Quantity("end points per bin of d1/d2", "", "count"),
    "mem_fraction": Quantity("fraction of end points memorised (d1/d2 below the threshold)", "", _1),
    "mem_low": Quantity("memorised fraction, lower end of the 95% Clopper–Pearson interval", "", _1),
    "mem_high": Quantity("memorised fraction, upper end of the 95% Clopper–Pearson interval", "", _1),
}

_MODEL_REGIMES_SUMMARIES = {
    "lambda_top": Summary("top eigenvalue of the data covariance", r"$\Lambda$", _1),
    "t_s": Summary("speciation time 1/2 log Λ", "$t_S$", "OU time"),
    "t_c": Summary("collapse time of the exact score, from f^e", "$t_C$", "OU time", error="t_c_se"),
    "n": Summary("training points", "$n$", "count"),
    "d": Summary("dimension", "$d$", _1),
    "t_min": Summary("end of the backward dynamics before the final step to t = 0", r"$t_{\min}$",
                     "OU time"),
    "n_trajectories": Summary("backward trajectories (= clone pairs) per model", "", "count"),
    "threshold": Summary("memorisation threshold on d1/d2", "$d_1/d_2$", _1),
    "phi_level": Summary("level of φ that defines the speciation time from φ", r"$\phi$", _1),
    "t_s_phi_exact": Summary("speciation time of the exact model, where its φ reaches 0.775", "$t_S$",
                             "OU time", theory="t_s", theory_label="1/2 log Λ"),
    "t_hat_c_median_exact": Summary("median nearest-neighbour collapse time of the exact model",
                                    r"$\hat t_C$", "OU time", theory="t_c", theory_label="t_C from f^e"),
    "check_exact": Summary("exact model memorises when run below t_C (1 yes, 0 no)", "", _1, theory=1.0,
                           theory_label="PHYSICS.md §8: collapse below t_C"),
    "check_gaussian": Summary("Gaussian model never memorises (1 yes, 0 no)", "", _1, theory=1.0,
                              theory_label="optimal linear denoiser generalises"),
    "check_smoothed": Summary("smoothed model's memorised fraction falls as h grows (1 yes, 0 no)", "", _1,
                              theory=1.0, theory_label="smoothing interpolates exact → Gaussian"),
}


@experiment(
    name="model-regimes",
    description="Exact, smoothed and Gaussian score models on the digits: t_S, t^_C, memorisation",
    parameters=[
        Parameter("data", str, "digits", "", "'digits' or a user's array (.npy, .npz, file.h5:/name)"),
        Parameter("classes", str, "1,8", "", "digits kept (data='digits'), comma-separated"),
        Parameter("labels", str, "", "", "a .npy of integer labels for a user's data set "
                  "(default: sign along the top principal direction)"),
        Parameter("bandwidths", str, "0.05,0.1,0.2,0.4", "data units",
                  "bandwidths h of the smoothed empirical models"),
        Parameter("n_trajectories", int, 1000, "", "backward trajectories (= clone pairs) per model"),
        Parameter("n_clone_times", int, 12, "", "clone times"),
        Parameter("n_steps", int, 200, "", "steps of the log-spaced grid"),
        Parameter("t_min", float, 1e-3, "OU time", "end of the backward dynamics (then a final step to t = 0)"),
        Parameter("t_end", float, 5.0, "OU time", "start of the backward dynamics"),
        Parameter("n_samples", int, 2000, "", "Monte Carlo samples of f^e for t_C (0: skip)"),
        Parameter("n_times", int, 40, "", "time points of f^e"),
        Parameter("threshold", float, DEFAULT_THRESHOLD, "", "memorised when d1/d2 < threshold"),
        Parameter("n_boot", int, 1000, "", "bootstrap resamples of the intervals"),
        Parameter("method", str, "exponential", "", "integrator",
                  choices=("euler_maruyama", "heun", "exponential")),
    ],
    plot=plots.plot_model_regimes,
    report=report_model_regimes,
    resources=_model_regimes_resources,
    figsize=(11.0, 8.0),
    warmup={"bandwidths": "0.1", "n_trajectories": 8, "n_clone_times": 2, "n_steps": 8,
            "n_samples": 20, "n_times": 4, "n_boot": 10},
    variables=_MODEL_REGIMES_VARIABLES,
    summaries=_MODEL_REGIMES_SUMMARIES,
)
def model_regimes(*, seed, data, classes, labels, bandwidths, n_trajectories, n_clone_times, n_steps,
                  t_min, t_end, n_samples, n_times, threshold, n_boot, method, progress=None):
    """Score models through the papers' protocols (PHYSICS.md §5, §8; issue 11).

    Every model runs the same backward dynamics from the same noise (common
    random numbers: one seed for all), with clones, ``mu*(t)`` against the
    training set, and a final step to ``t = 0``. Per model: the clone time
    where ``phi`` reaches 0.775 (against ``t_S = 1/2 log Lambda``), the
    median ``t^_C`` (against ``t_C`` from the exact model's excess entropy)
    and the fraction of end points with ``d1/d2 < threshold``, each with a
    bootstrap (or Clopper–Pearson) interval.
    """
    points, point_labels, description = _regimes_data(data, classes, labels)
    process = ou_process()
    top = top_eigenvalue(points)
    t_s = speciation_time(top.value, process)
    if point_labels is None:
        centre, mean = top.vector, points.mean(axis=0)
        classify = {"classifier": lambda x: (x - mean) @ centre > 0}
    else:
        classify = {"labels": point_labels}
    if n_samples > 0:
        f_times = np.geomspace(max(t_min, 0.01), t_end, n_times)
        ct = collapse_time(excess_entropy(points, f_times, n_samples=n_samples, seed=_child(seed, 0)))
        t_c, t_c_se = ct.t_c, ct.t_c_se
    else:
        t_c = t_c_se = math.nan
    h_list = parse_list(bandwidths, "bandwidths", float)
    models = [("exact", EmpiricalModel(points, process))]
    models += [(f"smoothed h={h:g}", SmoothedEmpiricalModel(points, h, process)) for h in h_list]
    models.append(("gaussian", GaussianModel.fit(points, process)))
    clone = np.geomspace(max(t_min * 20, 0.02), 0.8 * t_end, n_clone_times)
    times = process.time_grid(t_min, t_end, n_steps, spacing="log", include=clone)
    keys = ("phi", "phi_low", "phi_high", "phi_c", "phi_c_low", "phi_c_high")
    curves = {key: np.empty((len(models), n_clone_times)) for key in keys}
    per_model = {key: np.empty(len(models)) for key in (
        "t_s_phi", "t_s_phi_low", "t_s_phi_high", "t_hat_c_median", "t_hat_c_low", "t_hat_c_high",
        "mem_fraction", "mem_low", "mem_high")}
    t_hat = np.empty((len(models), n_trajectories))
    ratios = np.empty((len(models), n_trajectories))
    edges = np.linspace(0.0, 1.0, _RATIO_BINS + 1)
    ratio_hist = np.empty((len(models), _RATIO_BINS), dtype=np.int64)
    for i, (name, model) in enumerate(models):
        run = backward_sample(points, process, times, model=model, n_trajectories=n_trajectories,
                              clone_times=clone, method=method, final_step=True, n_boot=n_boot,
                              seed=_child(seed, 1), **classify)
        order = np.argsort(run.cloning.clone_times)
        cl = run.cloning
        for key, ci, value in (("phi", cl.phi_ci, cl.phi), ("phi_c", cl.phi_c_ci, cl.phi_c)):
            curves[key][i] = value[order]
            curves[key + "_low"][i] = ci.low[order]
            curves[key + "_high"][i] = ci.high[order]
        crossing = phi_level_time(cl.clone_times, cl.same_class, PHI_CROSSING, n_boot=n_boot,
                                  seed=_child(seed, 2, i))
        median = bootstrap_ci(run.t_collapse, lambda rows: np.median(rows, axis=0), n_boot=n_boot,
                              seed=_child(seed, 3, i))
        mem = memorisation(run.x, points, threshold=threshold)
        for key, value in (("t_s_phi", crossing.estimate), ("t_s_phi_low", crossing.low),
                           ("t_s_phi_high", crossing.high), ("t_hat_c_median", median.estimate),
                           ("t_hat_c_low", median.low), ("t_hat_c_high", median.high),
                           ("mem_fraction", mem.fraction.estimate), ("mem_low", mem.fraction.low),
                           ("mem_high", mem.fraction.high)):
            per_model[key][i] = value
        t_hat[i] = run.t_collapse
        ratios[i] = mem.ratio
        ratio_hist[i] = np.histogram(np.clip(mem.ratio, 0.0, 1.0), bins=edges)[0]
        if progress is not None:
            progress(i + 1, len(models))
    smoothed = per_model["mem_fraction"][1:-1]
    checks = {
        # The exact score memorises when run below t_C; its nearest point settles near t_C.
        "check_exact": bool(per_model["mem_fraction"][0] > 0.9 and t_min < t_c),
        # The optimal linear denoiser generalises: its interval reaches (almost) no memorised sample.
        "check_gaussian": bool(per_model["mem_low"][-1] < 0.05),
        # Smoothing moves the model from memorising to generalising: the fraction falls with h.
        "check_smoothed": bool(smoothed.size == 0 or (np.all(np.diff(smoothed) <= 0.02)
                                                      and smoothed[0] > smoothed[-1])),
    }
    arrays = {key: (("model", "t_clone"), value) for key, value in curves.items()}
    arrays.update({key: (("model",), value) for key, value in per_model.items()})
    arrays.update({"t_hat_c": (("model", "trajectory"), t_hat),
                   "ratio": (("model", "trajectory"), ratios),
                   "ratio_hist": (("model", "ratio_bin"), ratio_hist)})
    return ExperimentResult(
        arrays=arrays,
        coords={"model": np.array([name for name, _ in models]), "t_clone": np.sort(clone),
                "trajectory": np.arange(n_trajectories),
                "ratio_bin": 0.5 * (edges[1:] + edges[:-1])},
        scalars={"lambda_top": top.value, "t_s": t_s, "t_c": t_c, "t_c_se": t_c_se,
                 "n": points.shape[0], "d": points.shape[1], "t_min": t_min,
                 "n_trajectories": n_trajectories, "threshold": threshold, "phi_level": PHI_CROSSING,
                 "t_s_phi_exact": float(per_model["t_s_phi"][0]),
                 "t_hat_c_median_exact": float(per_model["t_hat_c_median"][0]),
                 **{key: int(value) for key, value in checks.items()}},
        attrs={"data": description, "process": process.describe(), "bandwidths": bandwidths,
               "models": "; ".join(model.describe() for _, model in models)},
    )
