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
  four-deltas free-energy landscape (Ambrogioni Fig. 2–3).
"""

from __future__ import annotations

import math

import numpy as np

from statmech.runs.params import child_seed as _child
from statmech.runs.params import parse_list
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
from diffusion.datasets import gaussian_mixture, load_digits
from diffusion.equilibrium import four_deltas_landscape, two_deltas_pitchfork
from diffusion.processes import ou_process
from diffusion.sampler import backward_sample, backward_sample_two_gaussians
from diffusion.speciation import crossing_point, gm_phi, speciation_time, top_eigenvalue

__all__ = ["speciation", "collapse", "dataset_regimes", "pitchfork", "parse_list"]


# --------------------------------------------------------------------------
# Speciation.
# --------------------------------------------------------------------------


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
    warmup={"dims": "8", "n_pairs": 16, "n_x": 3, "dt": 0.1, "n_data": 50},
)
def speciation(*, seed, dims, n_pairs, x_min, x_max, n_x, mu_tilde, sigma, score, n_data, dt,
               t_end, t_min, method):
    """Cloning experiment on two Gaussians (dynamical-regimes Fig. 2, eq. 4 and 6).

    ``t_S = 1/2 log Lambda`` with ``Lambda = mu~^2 d + sigma^2`` (population
    covariance) or the top eigenvalue of the training set (empirical score).
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
        t_s[i] = speciation_time(lambdas[i], process)
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
    scalars = {}
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
        "lambda_top": (("d",), lambdas),
    }
    if score == "empirical":
        arrays["phi_c"] = (("d", "x"), phi_c)
    return ExperimentResult(
        arrays=arrays,
        coords={"d": np.array(dim_list), "x": xs, "x_fine": x_fine},
        scalars=scalars,
        attrs={"score": score, "process": process.describe(), "x_unit": "t/t_S"},
    )


# --------------------------------------------------------------------------
# Collapse.
# --------------------------------------------------------------------------


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
)
def collapse(*, seed, dims, n_data, n_samples, n_times, t_min, t_max, mu_tilde, sigma, criterion,
             level, n_finite):
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
    figsize=(10.0, 7.0),
    warmup={"classes": "1,8", "n_trajectories": 8, "n_clone_times": 2, "n_steps": 10,
            "n_samples": 20, "n_times": 4},
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
    figsize=(12.0, 7.0),
    warmup={"n_points": 20, "n_grid": 5, "landscape_times": "0.5"},
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
