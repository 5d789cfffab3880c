"""statmech-level experiments: the sampled REM and Curie–Weiss mean field against theory.

Registered as ``rem`` and ``curie-weiss`` (entry points in ``pyproject.toml``);
run them with ``statmech run rem -p M=14`` or scan them with the files in
``data/scans/``. Each is a plain function of its parameters and a seed
returning an :class:`~statmech.registry.ExperimentResult`, with a plot
function drawing into a matplotlib Figure.
"""

from __future__ import annotations

import math

import numpy as np

from statmech import figures as fg
from statmech._validation import as_float, as_int
from statmech.lse import LN2
from statmech.runs.quantities import DIMENSIONLESS as _1
from statmech.runs.quantities import Quantity, Summary
from statmech.runs.registry import ExperimentResult, Parameter, experiment
from statmech.runs.resources import Resources

#: Seconds per REM level drawn, and per level and inverse temperature reduced (measured in-process
#: on the 2-core EPYC, where sampled_rem runs two threads; one-thread workers take about twice as long).
_REM_LEVEL_SECONDS = 5e-9
_REM_LEVEL_BETA_SECONDS = 5e-10


def _rem_resources(*, M, samples, beta_min, beta_max, n_beta):
    """Levels are streamed in blocks per thread; what stays is per sample and inverse temperature."""
    from statmech.rem import BLOCK_SIZE

    samples, n_beta = max(samples, 0), max(n_beta, 0)
    levels = 2.0 ** min(max(M, 0), 1000)
    return Resources(
        memory=8.0 * (4 * 4 * BLOCK_SIZE + 10 * samples * n_beta),
        memory_driver=f"10 arrays of samples x n_beta = {samples} x {n_beta} numbers (the 2^M levels are streamed)",
        seconds=samples * levels * (_REM_LEVEL_SECONDS + _REM_LEVEL_BETA_SECONDS * n_beta),
        time_driver=f"2^M x samples = 2^{M} x {samples} levels, each reduced at n_beta = {n_beta} temperatures",
    )


def _curie_weiss_resources(*, T_min, T_max, n_T, tau_min, tau_max, n_tau, h_min, h_max, n_h):
    points = max(n_T, 0) + 2 * max(n_tau, 0) + max(n_h, 0)
    return Resources(memory=8.0 * 3 * 8 * points, memory_driver=f"3 branches at n_T + 2 n_tau = {points} points",
                     seconds=0.1 + 2e-3 * points, time_driver="n_T + 2 n_tau + n_h solves")


# -- rem ---------------------------------------------------------------------------------------------------


def _plot_rem(result: ExperimentResult, fig):
    """Sampled ``E[Y]`` and free energy per ``M`` over ``beta``, against Derrida's ``M -> inf`` theory."""
    beta = result.coords["beta"]
    beta_c = result.scalars["beta_c_theory"]
    m = result.attrs.get("M", "")
    n_samples = np.shape(result.arrays["participation"][1])[0]
    beta_axis = ("inverse temperature", r"$\beta$", "1/energy")
    beta_c_label = rf"$\beta_c = 2\sqrt{{\ln 2}}$ = {beta_c:.3f}"
    sampled = rf"sampled, $M$ = {m}: mean $\pm$ 2 s.e."
    ax1 = fig.add_subplot(1, 2, 1)
    y, y_err = result.arrays["mean_participation"][1], result.arrays["sem_participation"][1]
    fg.explain(ax1.fill_between(beta, y - 2 * y_err, y + 2 * y_err, color="C0",
                                alpha=fg.BAND_ALPHA, lw=0), sampled)
    ax1.plot(beta, y, "o-", color="C0", ms=3, lw=1, label=sampled)
    if "theory_participation_finite" in result.arrays:  # absent from runs archived before it existed
        ax1.plot(beta, result.arrays["theory_participation_finite"][1], color="C3",
                 label=rf"exact mean at $N = 2^{{{m}}}$ levels", **{**fg.FINITE, "lw": 1.8})
    ax1.plot(beta, result.arrays["theory_participation"][1], label=r"$M \to \infty$: $1 - \beta_c/\beta$",
             **fg.LIMIT)
    fg.mark(ax1, beta_c, beta_c_label)
    fg.label_axes(ax1, beta_axis, ("participation ratio", r"$E[Y]$", fg.DIMENSIONLESS))
    fg.legend(ax1, loc="upper left")
    ax2 = fig.add_subplot(1, 2, 2)
    f, f_err = result.arrays["free_energy"][1], result.arrays["sem_free_energy"][1]
    ax2.errorbar(beta, f, yerr=2 * f_err, fmt="o", color="C0", **{**fg.DATA, "ms": 3},
                 label=rf"sampled $-E[\ln Z]/(\beta M)$, $M$ = {m}: $\pm$ 2 s.e.")
    ax2.plot(beta, result.arrays["theory_free_energy"][1], label=r"Derrida, $M \to \infty$",
             **fg.LIMIT)
    fg.mark(ax2, beta_c, beta_c_label)
    fg.label_axes(ax2, beta_axis, ("free energy per bit", r"$f/M$", "energy"))
    fg.legend(ax2, loc="lower right")
    fg.title(fig, rf"Random energy model, $N = 2^{{{m}}}$ levels, {n_samples} disorder samples: "
                  r"condensation at $\beta_c$")
    return fig


def _report_rem(result) -> str:
    """Text table: sampled E[Y] and free energy against theory (``statmech run/scan``)."""
    beta = result.coords["beta"]
    arr = {name: value for name, (_, value) in result.arrays.items()}
    lines = [
        f"Random energy model: N = 2^{result.attrs['M']} levels, variance M/2, "
        f"{arr['participation'].shape[0]} samples; beta_c = 2 sqrt(ln 2) = {result.scalars['beta_c_theory']:.4f}",
        f"{'beta':>6} {'E[Y] sampled':>18} {'E[Y] exact N':>13} {'1 - beta_c/beta':>16}"
        f" {'f/M sampled':>20} {'f/M Derrida':>12}",
    ]
    finite = arr.get("theory_participation_finite")  # absent from runs archived before it existed
    for k in range(beta.shape[0]):
        exact = f"{finite[k]:13.4f}" if finite is not None else f"{'-':>13}"
        lines.append(
            f"{beta[k]:6.2f} {arr['mean_participation'][k]:10.4f} ± {arr['sem_participation'][k]:.4f}"
            f" {exact} {arr['theory_participation'][k]:16.4f}"
            f" {arr['free_energy'][k]:12.4f} ± {arr['sem_free_energy'][k]:.4f} {arr['theory_free_energy'][k]:12.4f}"
        )
    if "max_participation_z_finite" in result.scalars:
        lines.append(
            f"E[Y]: largest deviation from the exact finite-N mean "
            f"{result.scalars['max_participation_deviation_finite']:.4f} "
            f"(largest |z| {result.scalars['max_participation_z_finite']:.2f} with the exact s.e.); from the M -> inf curve "
            f"{result.scalars['max_participation_deviation']:.4f} (finite-size bias, not error)"
        )
    lines.append(
        f"ground state per M: {result.scalars['ground_state_per_M']:.4f} "
        f"(M -> inf: -sqrt(ln 2) = {result.scalars['ground_state_theory']:.4f}; finite-M corrections ~ log(M)/M)"
    )
    return "\n".join(lines)


def _report_curie_weiss(result) -> str:
    """Text table: T_c and fitted exponents against mean-field theory."""
    s = result.scalars
    lines = [
        "Curie–Weiss m = tanh(m/T): branches followed through the pitchfork, exponents fitted near T_c",
        f"{'quantity':>14} {'measured':>24} {'theory':>8}",
        f"{'T_c':>14} {s['T_c']:24.10f} {s['T_c_theory']:8.3f}",
    ]
    for label, key, err, theory in (
        ("beta", "beta_exponent", "beta_stderr", "beta_theory"),
        ("gamma (T<T_c)", "gamma_minus", "gamma_minus_stderr", "gamma_theory"),
        ("gamma (T>T_c)", "gamma_plus", "gamma_plus_stderr", "gamma_theory"),
        ("delta", "delta_exponent", "delta_stderr", "delta_theory"),
    ):
        lines.append(f"{label:>14} {s[key]:15.4f} ± {s[err]:.4f} {s[theory]:8.3f}")
    return "\n".join(lines)


def _exact_participation_at_beta_max(*, M, beta_max, **_):
    """Exact finite-N ``E[Y]`` at ``beta_max``: the theory of ``participation_at_beta_max``."""
    from statmech.rem_theory import rem_participation_moments

    return float(rem_participation_moments(np.array([beta_max]), 2**M).mean[0])


_REM_VARIABLES = {
    "beta": Quantity("inverse temperature", r"$\beta$", "1/energy"),
    "participation": Quantity("participation ratio of one sample", "$Y$", _1),
    "log_z": Quantity("log partition function of one sample", r"$\ln Z$", _1),
    "min_energy": Quantity("lowest energy level of one sample", r"$E_{\min}$", "energy"),
    "mean_participation": Quantity("mean participation ratio, sampled", "$E[Y]$", _1),
    "sem_participation": Quantity("standard error of the sampled mean participation ratio", "", _1),
    "theory_participation": Quantity("mean participation ratio, M → ∞ (1 - β_c/β)", "$E[Y]$", _1),
    "theory_participation_finite": Quantity("mean participation ratio, exact at N = 2^M", "$E[Y]$", _1),
    "theory_participation_finite_std": Quantity("standard deviation of one sample's participation ratio, "
                                                "exact at N = 2^M", r"$\sigma_Y$", _1),
    "free_energy": Quantity("free energy per bit, sampled", "$f/M$", "energy"),
    "sem_free_energy": Quantity("standard error of the sampled free energy per bit", "", "energy"),
    "theory_free_energy": Quantity("free energy per bit, Derrida M → ∞", "$f/M$", "energy"),
}

_REM_SUMMARIES = {
    "beta_c_theory": Summary("critical inverse temperature, M → ∞", r"$\beta_c$", "1/energy"),
    "participation_at_beta_max": Summary(
        "mean participation ratio at the largest β", r"$E[Y](\beta_{\max})$", _1,
        theory=_exact_participation_at_beta_max, theory_label="exact at N = 2^M"),
    "participation_theory_at_beta_max": Summary(
        "mean participation ratio at the largest β, M → ∞", r"$1 - \beta_c/\beta_{\max}$", _1),
    "max_participation_deviation": Summary(
        "largest deviation of the sampled E[Y] from 1 - β_c/β (finite-size bias)", r"$\max|\Delta E[Y]|$", _1),
    "max_participation_deviation_finite": Summary(
        "largest deviation of the sampled E[Y] from its exact finite-N value", r"$\max|\Delta E[Y]|$", _1),
    "max_participation_z_finite": Summary(
        "largest |z| of the sampled E[Y] against its exact finite-N value", r"$\max|z|$", _1),
    "max_free_energy_deviation": Summary(
        "largest deviation of the sampled f/M from Derrida's", r"$\max|\Delta f/M|$", "energy"),
    "ground_state_per_M": Summary("ground-state energy per bit", r"$E_{\min}/M$", "energy",
                                  theory="ground_state_theory", theory_label="M → ∞: -√(ln 2)"),
    "ground_state_theory": Summary("ground-state energy per bit, M → ∞", r"$-\sqrt{\ln 2}$", "energy"),
}


@experiment(
    name="rem",
    description="Sampled Gaussian REM (N = 2^M levels): E[Y] and free energy against Derrida's theory over a beta grid.",
    parameters=[
        Parameter("M", int, 16, "bits", "system size: N = 2^M levels, E_j ~ N(0, M/2)"),
        Parameter("samples", int, 32, "", "independent disorder samples"),
        Parameter("beta_min", float, 0.25, "1/energy", "smallest inverse temperature"),
        Parameter("beta_max", float, 5.0, "1/energy", "largest inverse temperature"),
        Parameter("n_beta", int, 40, "", "points of the uniform beta grid"),
    ],
    plot=_plot_rem,
    figsize=(11.0, 4.5),
    report=_report_rem,
    warmup={"M": 4, "samples": 1, "n_beta": 4},
    resources=_rem_resources,
    variables=_REM_VARIABLES,
    summaries=_REM_SUMMARIES,
)
def rem(*, seed, M, samples, beta_min, beta_max, n_beta, progress=None):
    """Sample ``samples`` standard REMs of ``2^M`` levels and compare with theory.

    Physics (PHYSICS.md §4; Derrida 1981): ``Z = sum_j exp(-beta E_j)`` with
    ``E_j ~ N(0, M/2)``; the participation ratio ``Y = Z(2 beta)/Z(beta)^2``
    has ``E[Y] -> max(0, 1 - beta_c/beta)``, ``beta_c = 2 sqrt(ln 2)``, and the
    free energy per ``M``, ``-E[ln Z]/(beta M)``, tends to ``-ln 2/beta -
    beta/4`` above ``T_c`` and ``-sqrt(ln 2)`` below (Derrida eq. 11). Uses
    :func:`statmech.rem.sampled_rem` (levels streamed, never stored).

    Returns arrays over ``beta`` (sample means, standard errors and theory),
    per-sample ``participation``/``log_z`` and ``min_energy``, and scalars:
    the largest deviations from theory in units of the standard error and
    the ground-state energy per ``M`` against ``-sqrt(ln 2)``.
    """
    from statmech.rem import sampled_rem
    from statmech.rem_theory import (rem_critical_beta, rem_free_energy, rem_mean_participation,
                                     rem_participation_moments)

    M = as_int(M, "M", minimum=1, maximum=40)
    samples = as_int(samples, "samples", minimum=1)
    n_beta = as_int(n_beta, "n_beta", minimum=2)
    beta_min = as_float(beta_min, "beta_min", positive=True)
    beta_max = as_float(beta_max, "beta_max", positive=True)
    if not beta_max > beta_min:
        raise ValueError(
            f"beta_max must be > beta_min, got beta_min={beta_min}, beta_max={beta_max}"
        )
    n_levels = 2**M
    betas = np.linspace(beta_min, beta_max, n_beta)
    res = sampled_rem(n_levels, betas, n_samples=samples, seed=seed, progress=progress)

    per_sample_f = -res.log_z / (betas * M)
    n = samples
    root_n = math.sqrt(n)
    mean_y = res.participation.mean(axis=0)
    mean_f = per_sample_f.mean(axis=0)
    # sample standard errors (NaN with one sample: no error estimate)
    sem_y = res.participation.std(axis=0, ddof=1) / root_n if n > 1 else np.full(n_beta, np.nan)
    sem_f = per_sample_f.std(axis=0, ddof=1) / root_n if n > 1 else np.full(n_beta, np.nan)
    beta_c = rem_critical_beta()
    theory_y = rem_mean_participation(betas, beta_c)
    theory_f = rem_free_energy(betas, n_levels=n_levels)
    finite = rem_participation_moments(betas, n_levels)
    finite_y = finite.mean
    # spread of one sample's Y; the sample mean's s.e. is this / sqrt(samples)
    finite_y_std = np.sqrt(np.maximum(finite.second_moment - finite_y**2, 0.0))
    z_finite = (mean_y - finite_y) / (finite_y_std / root_n)
    ground = res.min_energy / M
    return ExperimentResult(
        arrays={
            "participation": (("sample", "beta"), res.participation),
            "log_z": (("sample", "beta"), res.log_z),
            "min_energy": (("sample",), res.min_energy),
            "mean_participation": (("beta",), mean_y),
            "sem_participation": (("beta",), sem_y),
            "theory_participation": (("beta",), theory_y),
            "theory_participation_finite": (("beta",), finite_y),
            "theory_participation_finite_std": (("beta",), finite_y_std),
            "free_energy": (("beta",), mean_f),
            "sem_free_energy": (("beta",), sem_f),
            "theory_free_energy": (("beta",), theory_f),
        },
        coords={"beta": betas},
        scalars={
            "beta_c_theory": beta_c,
            "participation_at_beta_max": float(mean_y[-1]),
            "participation_theory_at_beta_max": float(theory_y[-1]),
            "max_participation_deviation": float(np.max(np.abs(mean_y - theory_y))),
            "max_participation_deviation_finite": float(np.max(np.abs(mean_y - finite_y))),
            "max_participation_z_finite": float(np.max(np.abs(z_finite))),
            "max_free_energy_deviation": float(np.max(np.abs(mean_f - theory_f))),
            "ground_state_per_M": float(ground.mean()),
            "ground_state_theory": -math.sqrt(LN2),
        },
        attrs={
            "M": M,
            "n_levels": n_levels,
            "variance": res.variance,
            "block_size": res.block_size,
        },
    )


# -- curie-weiss ------------------------------------------------------------------------------------------------


def _power_law_panel(ax, s, x, series, theory, window, x_axis, y_axis):
    """Log–log points, their fitted power laws with bands, and the mean-field asymptotes.

    ``series``: ``(y, label, colour, symbol, exponent key, s.e. key, theory key, sign,
    correction)``; the fitted curve is ``amplitude x^(sign exponent)`` (amplitude key:
    exponent key's prefix + ``_amplitude``). ``theory``: ``(x, y, legend entry)``;
    several curves may share an entry.
    """
    for y, label, colour, symbol, key, err, theory_key, sign, correction in series:
        ax.plot(x, y, "o", ms=3.5, color=colour, label=label)
        amp = key.replace("_exponent", "") + "_amplitude"
        if amp not in s:  # archives written before the amplitudes were stored: points only
            continue
        offset = s[key] - s[theory_key]
        why = (f"{offset:+.4f} from {s[theory_key]:g}: {correction} correction to scaling"
               if abs(offset) > max(2 * s[err], 5e-5) else f"matches {s[theory_key]:g}")
        fg.power_law_fit(ax, window, s[amp], sign * s[key], s[err], color=colour,
                         label=f"fit: {symbol} = {s[key]:.4f} $\\pm$ {s[err]:.4f} (fit s.e.)\n{why}")
    seen = set()
    for xs, ys, entry in theory:
        (line,) = ax.plot(xs, ys, label=entry if entry not in seen else "_" + entry, **fg.LIMIT)
        if entry in seen:
            fg.explain(line, entry)
        seen.add(entry)
    fg.log_axis(ax, "x")
    fg.log_axis(ax, "y")
    fg.label_axes(ax, x_axis, y_axis)
    # headroom above the data for the legend, on the side the power laws leave empty
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi * (hi / lo) ** 0.7)
    rising = series[0][0][-1] > series[0][0][0]
    fg.legend(ax, fontsize=7.5, loc="upper left" if rising else "upper right")


def _plot_curie_weiss(result: ExperimentResult, fig):
    """Branches of ``m = tanh(m/T)``; ``|m|``, ``chi`` and ``h`` near ``T_c`` with fits and theory."""
    s = result.scalars
    T = result.coords["T"]
    tau = result.coords["tau"]
    axes = fig.subplots(2, 2)
    ax = axes[0, 0]
    m = result.arrays["m"][1]
    stable = result.arrays["stable"][1]
    for b in range(m.shape[0]):
        for mask, style, entry in ((stable[b], "C0-", "stable fixed point"),
                                   (~stable[b], "C3:", "unstable fixed point")):
            (line,) = ax.plot(T, np.where(mask, m[b], np.nan), style, lw=1.5,
                              label=entry if b == 0 else "_" + entry)
            if b:
                fg.explain(line, entry)
    fg.mark(ax, s["T_c"], rf"$T_c$ = {s['T_c']:.6f} (theory 1)")
    fg.label_axes(ax, ("temperature", r"$T = t\sigma^2$", fg.DIMENSIONLESS),
                  ("magnetisation", r"$m$", fg.DIMENSIONLESS))
    fg.legend(ax, loc="upper right")
    tau_axis = ("reduced temperature", r"$|\tau| = |T - T_c|$", fg.DIMENSIONLESS)
    window = (tau.min(), tau.max())
    tau_corr = r"$O(|\tau|)$"
    _power_law_panel(
        axes[0, 1], s, tau,
        [(result.arrays["m_below"][1], r"$|m|$, $T < T_c$", "C0", r"$\beta$", "beta_exponent",
          "beta_stderr", "beta_theory", 1.0, tau_corr)],
        [(tau, np.sqrt(3 * tau), r"mean field $|m| \simeq \sqrt{3|\tau|}$, $\beta = 1/2$")],
        window, tau_axis, ("order parameter", r"$|m|$", fg.DIMENSIONLESS))
    chi_theory = r"mean field $1/(2|\tau|)$ below, $1/\tau$ above, $\gamma = 1$"
    _power_law_panel(
        axes[1, 0], s, tau,
        [(result.arrays["chi_below"][1], r"$\chi$, $T < T_c$", "C1", r"$\gamma_-$", "gamma_minus",
          "gamma_minus_stderr", "gamma_theory", -1.0, tau_corr),
         (result.arrays["chi_above"][1], r"$\chi$, $T > T_c$", "C2", r"$\gamma_+$", "gamma_plus",
          "gamma_plus_stderr", "gamma_theory", -1.0, tau_corr)],
        [(tau, 0.5 / tau, chi_theory), (tau, 1.0 / tau, chi_theory)],
        window, tau_axis, ("susceptibility", r"$\chi = \partial m/\partial h$", fg.DIMENSIONLESS))
    m_field = result.arrays["m_field"][1]
    _power_law_panel(
        axes[1, 1], s, m_field,
        [(result.coords["field"], r"$h$ at $T = T_c$", "C4", r"$\delta$", "delta_exponent",
          "delta_stderr", "delta_theory", 1.0, r"$O(m^2)$")],
        [(m_field, m_field**3 / 3, r"mean field $h \simeq m^3/3$, $\delta = 3$")],
        (m_field.min(), m_field.max()), ("order parameter", r"$m(T_c)$", fg.DIMENSIONLESS),
        ("field", r"$h$", fg.DIMENSIONLESS))
    fg.title(fig, r"Curie–Weiss mean field, two deltas at $\pm 1$: pitchfork and critical exponents")
    return fig


_CW_VARIABLES = {
    "T": Quantity("temperature", r"$T = t\sigma^2$", _1),
    "tau": Quantity("reduced temperature", r"$|\tau| = |T - T_c|$", _1),
    "field": Quantity("field", "$h$", _1),
    "m": Quantity("magnetisation", "$m$", _1),
    "stable": Quantity("fixed point is stable (1) or not (0)", "", _1),
    "chi": Quantity("susceptibility", r"$\chi = \partial m/\partial h$", _1),
    "leading_eigenvalue": Quantity("leading eigenvalue of the fixed-point Jacobian", r"$\lambda_1$", _1),
    "m_below": Quantity("order parameter below T_c", "$|m|$", _1),
    "chi_below": Quantity("susceptibility below T_c", r"$\chi$", _1),
    "chi_above": Quantity("susceptibility above T_c", r"$\chi$", _1),
    "chi_above_theory": Quantity("susceptibility above T_c, mean field 1/τ", r"$\chi$", _1),
    "m_field": Quantity("magnetisation at T_c in the field h", "$m(T_c)$", _1),
}

_CW_SUMMARIES = {
    "T_c": Summary("critical temperature, located", "$T_c$", _1, theory="T_c_theory",
                   theory_label="mean field"),
    "T_c_theory": Summary("critical temperature, mean field", "$T_c$", _1),
    "beta_exponent": Summary("order-parameter exponent, fitted", r"$\beta$", _1, theory="beta_theory",
                             theory_label="mean field", error="beta_stderr"),
    "beta_stderr": Summary("fit standard error of the exponent β", r"$\sigma_\beta$", _1),
    "beta_theory": Summary("order-parameter exponent, mean field", r"$\beta$", _1),
    "gamma_minus": Summary("susceptibility exponent below T_c, fitted", r"$\gamma_-$", _1,
                           theory="gamma_theory", theory_label="mean field", error="gamma_minus_stderr"),
    "gamma_plus": Summary("susceptibility exponent above T_c, fitted", r"$\gamma_+$", _1,
                          theory="gamma_theory", theory_label="mean field", error="gamma_plus_stderr"),
    "gamma_theory": Summary("susceptibility exponent, mean field", r"$\gamma$", _1),
    "delta_exponent": Summary("critical-isotherm exponent, fitted", r"$\delta$", _1, theory="delta_theory",
                              theory_label="mean field", error="delta_stderr"),
    "delta_stderr": Summary("fit standard error of the exponent δ", r"$\sigma_\delta$", _1),
    "delta_theory": Summary("critical-isotherm exponent, mean field", r"$\delta$", _1),
    "beta_amplitude": Summary("amplitude of the fit |m| = A |τ|^β", "$A$", _1),
    "gamma_minus_amplitude": Summary("amplitude of the fit χ = A |τ|^-γ below T_c", "$A$", _1),
    "gamma_plus_amplitude": Summary("amplitude of the fit χ = A τ^-γ above T_c", "$A$", _1),
    "delta_amplitude": Summary("amplitude of the fit h = A m^δ", "$A$", _1),
    "n_branches": Summary("fixed-point branches followed", "", "count"),
}


@experiment(
    name="curie-weiss",
    description="Curie–Weiss / two deltas at ±1: branches of m = tanh((m+h)/T), T_c and critical exponents vs mean-field theory.",
    parameters=[
        Parameter("T_min", float, 0.5, "T = t sigma^2", "lowest temperature of the branch plot"),
        Parameter("T_max", float, 1.5, "T = t sigma^2", "highest temperature of the branch plot"),
        Parameter("n_T", int, 41, "", "points of the coarse temperature grid"),
        Parameter("tau_min", float, 1e-4, "", "smallest |T - T_c| of the exponent fits"),
        Parameter("tau_max", float, 1e-2, "", "largest |T - T_c| of the exponent fits"),
        Parameter("n_tau", int, 24, "", "log-spaced points per side in the fit window"),
        Parameter("h_min", float, 1e-10, "", "smallest field of the critical isotherm"),
        Parameter("h_max", float, 1e-3, "", "largest field of the critical isotherm"),
        Parameter("n_h", int, 24, "", "fields on the critical isotherm"),
    ],
    plot=_plot_curie_weiss,
    figsize=(10.5, 8.0),
    report=_report_curie_weiss,
    resources=_curie_weiss_resources,
    variables=_CW_VARIABLES,
    summaries=_CW_SUMMARIES,
)
def curie_weiss(*, seed, T_min, T_max, n_T, tau_min, tau_max, n_tau, h_min, h_max, n_h):
    """Follow the fixed points of ``m = tanh((m + h)/T)`` and fit the critical exponents.

    Physics (PHYSICS.md §3; Ambrogioni 2023 §5): two deltas at ±1 in the VE
    diffusion, ``T = t sigma^2``. Mean-field theory: ``T_c = 1``, ``m ~
    (-tau)^(1/2)``, ``chi ~ |tau|^-1`` on both sides, ``h ~ m^3`` at ``T_c``.
    Uses :mod:`statmech.meanfield` (branch following, critical point from the
    leading Jacobian eigenvalue crossing 1, log–log fits). Deterministic: the
    seed is not used.

    Scalars: ``T_c`` (located) and the fitted exponents with their standard
    errors, next to the theory values.
    """
    from statmech import meanfield as mf

    T_min = as_float(T_min, "T_min", positive=True)
    T_max = as_float(T_max, "T_max", positive=True)
    if not (T_min < 1.0 < T_max):
        raise ValueError(
            f"the grid must straddle T_c = 1: need T_min < 1 < T_max, got {T_min}, {T_max}"
        )
    n_T = as_int(n_T, "n_T", minimum=3)
    tau_min = as_float(tau_min, "tau_min", positive=True)
    tau_max = as_float(tau_max, "tau_max", positive=True)
    if not tau_min < tau_max < min(1.0 - T_min, T_max - 1.0):
        raise ValueError(
            f"need 0 < tau_min < tau_max < min(1 - T_min, T_max - 1), got {tau_min}, {tau_max}"
        )
    n_tau = as_int(n_tau, "n_tau", minimum=3)
    h_min = as_float(h_min, "h_min", positive=True)
    h_max = as_float(h_max, "h_max", positive=True)
    if not h_min < h_max:
        raise ValueError(f"need h_min < h_max, got {h_min}, {h_max}")
    n_h = as_int(n_h, "n_h", minimum=3)

    model = mf.curie_weiss()
    tau = np.geomspace(tau_min, tau_max, n_tau)
    T = np.unique(np.concatenate([np.linspace(T_min, T_max, n_T), 1.0 - tau, 1.0 + tau]))
    T = T[np.abs(T - 1.0) > 0.5 * tau_min]  # keep the exact critical point off the grid
    starts = np.array([[1.0], [-1.0], [0.0]])
    branches = mf.follow_branches(model.g, T, starts, jac=model.jac)
    critical = mf.locate_critical_points(model.g, branches, jac=model.jac)
    if not critical:
        raise RuntimeError("no critical point found on the temperature grid")
    t_c = critical[0].param

    # ordered branch: m > 0 at the lowest temperature; disordered: m = 0 at the highest
    first = [
        b for b in range(branches.n_branches) if branches.exists[b, 0] and branches.m[b, 0, 0] > 0
    ]
    last = [
        b
        for b in range(branches.n_branches)
        if branches.exists[b, -1] and abs(branches.m[b, -1, 0]) < 1e-12
    ]
    if not first or not last:
        raise RuntimeError("could not identify the ordered and disordered branches")
    ordered, disordered = first[0], last[0]
    chi = branches.chi[:, :, 0, 0]
    below = np.array([np.flatnonzero(np.isclose(T, 1.0 - x, rtol=0, atol=1e-15))[0] for x in tau])
    above = np.array([np.flatnonzero(np.isclose(T, 1.0 + x, rtol=0, atol=1e-15))[0] for x in tau])
    control = np.concatenate([T[below], T[above]])
    m_fit = np.concatenate([np.abs(branches.m[ordered, below, 0]), np.zeros(n_tau)])
    chi_fit = np.concatenate([chi[ordered, below], chi[disordered, above]])

    field = np.geomspace(h_min, h_max, n_h)
    m_field = np.array([mf.solve(model.g, [1.0], t_c, h=[h], jac=model.jac).m[0] for h in field])
    # tau is measured from the located T_c; window in |tau| and in m covers the data
    exps = mf.critical_exponents(
        control,
        m_fit,
        chi_fit,
        t_c,
        field=field,
        m_field=m_field,
        window=(0.5 * tau_min, 2.0 * tau_max),
        field_window=(0.5 * m_field.min(), 2.0 * m_field.max()),
    )
    m_arr = branches.m[:, :, 0]
    return ExperimentResult(
        arrays={
            "m": (("branch", "T"), m_arr),
            "stable": (("branch", "T"), branches.stable),
            "chi": (("branch", "T"), chi),
            "leading_eigenvalue": (("branch", "T"), branches.leading_eigenvalue),
            "m_below": (("tau",), np.abs(branches.m[ordered, below, 0])),
            "chi_below": (("tau",), chi[ordered, below]),
            "chi_above": (("tau",), chi[disordered, above]),
            "chi_above_theory": (("tau",), 1.0 / (T[above] - 1.0)),
            "m_field": (("field",), m_field),
        },
        coords={"T": T, "tau": tau, "field": field},
        scalars={
            "T_c": t_c,
            "T_c_theory": model.t_c,
            "beta_exponent": exps.beta.exponent,
            "beta_stderr": exps.beta.stderr,
            "beta_theory": model.beta,
            "gamma_minus": exps.gamma_minus.exponent,
            "gamma_minus_stderr": exps.gamma_minus.stderr,
            "gamma_plus": exps.gamma_plus.exponent,
            "gamma_plus_stderr": exps.gamma_plus.stderr,
            "gamma_theory": model.gamma,
            "delta_exponent": exps.delta.exponent,
            "delta_stderr": exps.delta.stderr,
            "delta_theory": model.delta,
            "beta_amplitude": exps.beta.amplitude,
            "gamma_minus_amplitude": exps.gamma_minus.amplitude,
            "gamma_plus_amplitude": exps.gamma_plus.amplitude,
            "delta_amplitude": exps.delta.amplitude,
            "n_branches": int(branches.n_branches),
        },
        attrs={"ordered_branch": ordered, "disordered_branch": disordered, "seed_used": 0},
    )


__all__ = ["rem", "curie_weiss"]
