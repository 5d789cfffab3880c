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

from statmech._validation import as_float, as_int
from statmech.lse import LN2
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
    fig.set_size_inches(10, 4)
    beta = result.coords["beta"]
    beta_c = result.scalars["beta_c_theory"]
    m = result.attrs.get("M", "")
    ax1 = fig.add_subplot(1, 2, 1)
    y, y_err = result.arrays["mean_participation"][1], result.arrays["sem_participation"][1]
    ax1.fill_between(beta, y - 2 * y_err, y + 2 * y_err, alpha=0.3, label="sampled ± 2 s.e.")
    ax1.plot(beta, y, marker=".", label=f"sampled, M = {m}")
    ax1.plot(beta, result.arrays["theory_participation"][1], "k--", label="M → ∞: 1 − β_c/β")
    ax1.axvline(beta_c, color="grey", lw=0.8)
    ax1.set_xlabel("β")
    ax1.set_ylabel("E[Y] (participation ratio)")
    ax1.legend(fontsize=8)
    ax2 = fig.add_subplot(1, 2, 2)
    f, f_err = result.arrays["free_energy"][1], result.arrays["sem_free_energy"][1]
    ax2.errorbar(beta, f, yerr=2 * f_err, marker=".", lw=1, label="sampled −E[ln Z]/(βM)")
    ax2.plot(beta, result.arrays["theory_free_energy"][1], "k--", label="Derrida (M → ∞)")
    ax2.axvline(beta_c, color="grey", lw=0.8)
    ax2.set_xlabel("β")
    ax2.set_ylabel("free energy per M")
    ax2.legend(fontsize=8)
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


def _plot_curie_weiss(result: ExperimentResult, fig):
    fig.set_size_inches(12, 4)
    T = result.coords["T"]
    t_c = result.scalars["T_c"]
    ax1 = fig.add_subplot(1, 3, 1)
    m = result.arrays["m"][1]
    stable = result.arrays["stable"][1]
    for b in range(m.shape[0]):
        ax1.plot(T, np.where(stable[b], m[b], np.nan), "C0-", lw=1.5)
        ax1.plot(T, np.where(~stable[b], m[b], np.nan), "C3:", lw=1)
    ax1.axvline(t_c, color="grey", lw=0.8)
    ax1.set_xlabel("T = t σ²")
    ax1.set_ylabel("m (solid: stable, dotted: unstable)")
    ax2 = fig.add_subplot(1, 3, 2)
    tau = result.coords["tau"]
    ax2.loglog(
        tau,
        result.arrays["m_below"][1],
        "o",
        ms=3,
        label=f"|m|, β = {result.scalars['beta_exponent']:.4f}",
    )
    ax2.loglog(
        tau,
        result.arrays["chi_below"][1],
        "s",
        ms=3,
        label=f"χ below, γ = {result.scalars['gamma_minus']:.4f}",
    )
    ax2.loglog(
        tau,
        result.arrays["chi_above"][1],
        "^",
        ms=3,
        label=f"χ above, γ = {result.scalars['gamma_plus']:.4f}",
    )
    ax2.set_xlabel("|τ| = |T − T_c|")
    ax2.legend(fontsize=7)
    ax3 = fig.add_subplot(1, 3, 3)
    ax3.loglog(
        result.arrays["m_field"][1],
        result.coords["field"],
        "o",
        ms=3,
        label=f"h ~ m^δ, δ = {result.scalars['delta_exponent']:.4f}",
    )
    ax3.set_xlabel("m at T_c")
    ax3.set_ylabel("h")
    ax3.legend(fontsize=7)
    return fig


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
    figsize=(13.0, 4.2),
    report=_report_curie_weiss,
    resources=_curie_weiss_resources,
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
            "n_branches": int(branches.n_branches),
        },
        attrs={"ordered_branch": ordered, "disordered_branch": disordered, "seed_used": 0},
    )


__all__ = ["rem", "curie_weiss"]
