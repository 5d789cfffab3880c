"""Figures of the Hopfield and bridge experiments: ``plot_*(result, fig)`` draw into a Figure.

None calls ``pyplot.show``.
"""

from __future__ import annotations

import numpy as np

from statmech import figures as fg

__all__ = [
    "plot_capacity",
    "plot_classical",
    "plot_rem_condensation",
    "plot_bridge",
    "plot_capacity_collapse",
    "plot_retrieval",
]


def _arr(result, name):
    return np.asarray(result.arrays[name][1])


_SERIES_STYLE = {  # (method, criterion) -> marker, colour, label
    (0, 0): ("o", "C0", "full dynamics, fixed point"),
    (1, 0): ("s", "C1", "REM level, fixed point"),
    (0, 1): ("^", "C2", "full dynamics, signal"),
    (1, 1): ("D", "C3", "REM level, signal"),
}


def plot_capacity(result, fig):
    """Thresholds against 1/N down to 0: both simulations, their fits and bands, finite-N and REM theory.

    One column per ensemble. Top: the retrieved fraction against ``alpha``
    per N (full dynamics: markers; REM level: lines; fixed-point criterion).
    Bottom: ``alpha_{1/2}(N)`` against ``1/N`` for each simulation and
    criterion (2 s.e.), the annealed finite-N theory (dotted), each series'
    Akaike-best fit with its 2 s.e. band continued to ``1/N = 0``, where the
    extrapolation carries its total error, and ``alpha_1`` of the REM theory.
    Binary runs with ``limit_betas`` add a panel of ``alpha_1(beta)`` towards
    ``ln 2`` (typical pattern) and ``alpha_1/2 -> ln 2 / 2`` (all patterns,
    Demircigil et al.), with the exact ``beta = inf`` thresholds at finite N.
    """
    ens = [str(e) for e in result.coords["ensemble"]]
    inv_n = np.asarray(result.coords["inv_n"])
    limits = np.asarray(result.coords["limit_beta"])
    n_cols = len(ens) + (1 if limits.shape[0] else 0)
    grid = fig.add_gridspec(2, n_cols, height_ratios=[1.0, 1.4])
    a = {name: _arr(result, name) for name in result.arrays}
    for e, name in enumerate(ens):
        theory = result.scalars[f"alpha_1_theory_{name}"]
        ax = fig.add_subplot(grid[0, e])
        rows = a["curve_ensemble"] == e
        sizes = np.unique(a["curve_size"][rows])
        for i, n in enumerate(sizes):
            for m, style in ((0, "o"), (1, "-")):
                sel = rows & (a["curve_size"] == n) & (a["curve_method"] == m)
                if sel.any():
                    ax.plot(a["curve_alpha"][sel], a["curve_probability"][sel], style, ms=2.5, lw=1,
                            color=f"C{i % 10}", label=f"N = {int(n)}" if m == int(np.max(a["curve_method"][rows
                                & (a["curve_size"] == n)])) else None)
        ax.axvline(theory, color="k", ls="--", lw=1)
        ax.set_xlabel(r"$\alpha = \ln P / N$")
        ax.set_ylabel("fraction retrieved")
        ax.set_title(f"{name}, beta = {result.attrs.get('beta')} (markers: full, lines: REM)", fontsize=8)
        ax.legend(frameon=False, fontsize=5, ncol=2)
        ax = fig.add_subplot(grid[1, e])
        for (m, c), (marker, color, label) in _SERIES_STYLE.items():
            sel = (a["threshold_ensemble"] == e) & (a["threshold_method"] == m) & (a["threshold_criterion"] == c)
            if not sel.any():
                continue
            x = 1.0 / a["threshold_size"][sel]
            ax.errorbar(x, a["alpha_half"][sel], yerr=2 * a["alpha_half_err"][sel], fmt=marker, ms=3, capsize=2,
                        color=color, label=label)
            order = np.argsort(x)
            ax.plot(x[order], a["alpha_half_theory"][sel][order], ":", color=color, lw=1)
            fit = np.flatnonzero((a["series_ensemble"] == e) & (a["series_method"] == m)
                                 & (a["series_criterion"] == c))
            for j in fit:
                curve, band = a["fit_curve"][j], a["fit_band"][j]
                ax.plot(inv_n[1:], curve[1:], "-", color=color, lw=1)
                ax.fill_between(inv_n[1:], curve[1:] - 2 * band[1:], curve[1:] + 2 * band[1:], color=color,
                                alpha=0.15, lw=0)
                ax.errorbar([0.0], [curve[0]], yerr=[2 * band[0]], fmt=marker, ms=5, capsize=3, color=color,
                            mec="k")
        ax.axhline(theory, color="k", ls="--", lw=1.2, label=rf"$\alpha_1$ = {theory:.4f} (REM theory)")
        shown = a["threshold_ensemble"] == e
        if shown.any():  # the data and the theory set the range; a very loose extrapolation runs off it
            lo = min(np.min(a["alpha_half"][shown] - 2 * a["alpha_half_err"][shown]), theory)
            hi = max(np.max(a["alpha_half"][shown] + 2 * a["alpha_half_err"][shown]), theory)
            pad = 0.08 * (hi - lo) + 0.005
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlim(-0.003, inv_n[-1])
        ax.set_xlabel("1/N")
        ax.set_ylabel(r"$\alpha_{1/2}(N)$")
        ax.set_title("dotted: finite-N theory; band: fit, 2 s.e.", fontsize=7)
        ax.legend(frameon=False, fontsize=5.5, loc="lower left")
    if limits.shape[0]:
        ax = fig.add_subplot(grid[:, -1])
        fine = np.geomspace(0.1, 50.0, 120)
        typical = np.log(2.0) - np.log1p(np.exp(-2.0 * fine))  # beta - ln cosh beta
        ln2 = result.scalars["ln2"]
        ax.semilogx(fine, typical, "k-", lw=1, label=r"typical: $\alpha_1 = \beta - \ln\cosh\beta$")
        ax.semilogx(fine, typical / 2, "k:", lw=1, label=r"all patterns: $\alpha_1 / 2$")
        ax.errorbar(limits, a["limit_alpha"], yerr=2 * a["limit_alpha_err"], fmt="D", ms=4, capsize=2, color="C3",
                    label="REM level (signal), extrapolated")
        ax.axhline(ln2, color="C0", ls="--", lw=1, label=r"$\ln 2$: typical pattern at $\beta = \infty$")
        ax.axhline(ln2 / 2, color="C2", ls="--", lw=1, label=r"$\ln 2 / 2$: all patterns (Demircigil et al.)")
        sizes = np.asarray(result.coords["infinite_beta_size"])
        ax.plot(np.full(sizes.shape, 40.0), a["infinite_beta_typical"], "_", color="C0", ms=8)
        ax.plot(np.full(sizes.shape, 40.0), a["infinite_beta_all"], "_", color="C2", ms=8,
                label=r"$\beta = \infty$ at finite N (exact; N = %d..%d)" % (sizes.min(), sizes.max()))
        ax.set_xlabel(r"$\beta$")
        ax.set_ylabel(r"$\alpha = \ln P / N$")
        ax.set_title(r"binary patterns: $\beta \to \infty$", fontsize=9)
        ax.legend(frameon=False, fontsize=5.5, loc="lower right")
    fig.suptitle("Modern Hopfield exponential capacity: streamed full dynamics and REM-level criteria against "
                 "the REM theory", fontsize=10)
    if fig.get_layout_engine() is None:  # the CLI draws into a constrained-layout figure
        fig.tight_layout()
    return fig


def plot_classical(result, fig):
    """Classical final overlap and retrieval fraction vs P/N, the finite-size extrapolation of
    alpha_{1/2}, and the modern network's retrieval fraction far beyond 0.138."""
    sizes = np.asarray(result.coords["size"])
    alphas = np.asarray(result.coords["alpha"])
    sc = result.scalars
    half = _arr(result, "alpha_half")
    has_half = np.isfinite(half).any()
    axes = fig.subplots(1, 4 if has_half else 3)
    ax1, ax2, ax4 = axes[0], axes[1], axes[-1]
    m, se, prob = _arr(result, "overlap"), _arr(result, "overlap_se"), _arr(result, "probability")
    ags = sc.get("alpha_c_ags", 0.138)
    ags_label = rf"classical $\alpha_c$ = {ags:g} (AGS, $N \to \infty$)"
    load = ("load", r"$\alpha = P/N$", fg.DIMENSIONLESS)
    for i, n in enumerate(sizes):
        ax1.errorbar(alphas, m[i], yerr=2 * se[i], fmt="o-", ms=3, capsize=2, lw=1,
                     label=f"$N$ = {n}")
        fg.explain(ax2.plot(alphas, prob[i], "o-", ms=3, lw=1), f"$N$ = {n}")
    fg.mark(ax1, ags, ags_label, **fg.LIMIT)
    fg.explain(fg.mark(ax2, ags, "_ags", **fg.LIMIT), ags_label)
    fg.legend(ax1, fontsize=7.5, loc="lower left")  # names the sizes of both classical panels
    fg.label_axes(ax1, load, ("final overlap", "$m$", fg.DIMENSIONLESS))
    fg.label_axes(ax2, load, ("fraction retrieved", r"$P(m \geq 0.9)$", fg.DIMENSIONLESS))
    ax1.set_title(r"classical: final overlap ($\pm$ 2 s.e.)", fontsize=9)
    ax2.set_title("classical: retrieval probability", fontsize=9)
    if has_half:
        ax3 = axes[2]
        x_n = 1 / np.sqrt(sizes)
        half_err = _arr(result, "alpha_half_err")
        ax3.errorbar(x_n, half, yerr=2 * half_err, fmt="o", ms=4, capsize=2, color="C0",
                     label=r"$\alpha_{1/2}(N)$: half retrieved ($\pm$ 2 s.e.)")
        if "alpha_c_extrapolated" in sc:
            xs, fit, band = np.asarray(result.coords["inv_sqrt_n"]), _arr(result, "fit_curve"), _arr(result, "fit_band")
            a0, err = sc["alpha_c_extrapolated"], sc["alpha_c_extrapolated_err"]
            fg.fit_band(ax3, xs[1:], fit[1:], fit[1:] - 2 * band[1:], fit[1:] + 2 * band[1:], color="C0",
                        label=f"best form {sc['fit_form']} " rf"($\chi^2$ = {sc['fit_chi2']:.1f} / {sc['fit_dof']})"
                        ", band 2 s.e.")
            ax3.errorbar([0.0], [a0], yerr=[2 * err], fmt="D", ms=5, capsize=3, color="C1",
                         label=rf"$\alpha_c$ = {a0:.4f} $\pm$ {err:.4f} (Akaike average, total error)")
        fg.mark(ax3, ags, ags_label, axis="y", **fg.LIMIT)
        fg.label_axes(ax3, ("finite size", r"$N^{-1/2}$", fg.DIMENSIONLESS),
                      ("threshold load", r"$\alpha_{1/2}$", fg.DIMENSIONLESS))
        ax3.set_xlim(left=0)
        ax3.set_title(r"classical: threshold extrapolated to $N \to \infty$", fontsize=9)
        finite = np.isfinite(half)  # the fit leaves the other corner free
        rising = bool(finite.sum() < 2 or half[finite][0] > half[finite][-1])  # small N (large x) on the right
        lo, hi = ax3.get_ylim()
        ax3.set_ylim(*((lo, hi + 0.7 * (hi - lo)) if rising else (lo - 0.7 * (hi - lo), hi)))
        fg.legend(ax3, fontsize=7.5, loc="upper left" if rising else "lower left")
    loads = np.asarray(result.coords["load"])
    n_mod = result.attrs.get("modern_size")
    ax4.plot(loads, _arr(result, "modern_probability"), "s-", ms=3, lw=1, color="C3",
             label=f"modern, binary patterns, $N$ = {n_mod}")
    if "modern_alpha_1_theory" in sc and n_mod:
        a1 = sc["modern_alpha_1_theory"]
        fg.mark(ax4, np.exp(a1 * n_mod) / n_mod, rf"REM theory $P = e^{{\alpha_1 N}}$, "
                rf"$\alpha_1$ = {a1:.3f}", **fg.LIMIT)
    fg.mark(ax4, ags, ags_label, color="0.5", ls="-.")
    fg.log_axis(ax4, "x")
    fg.label_axes(ax4, load, ("fraction retrieved", "", fg.DIMENSIONLESS))
    ax4.set_title(rf"modern ($\beta$ = {result.attrs.get('modern_beta')}): far beyond 0.138",
                  fontsize=9)
    fg.legend(ax4, fontsize=7.5)
    fg.title(fig, "Hopfield capacity: classical (Hebbian, asynchronous sign dynamics) against "
                  "modern (exponential in $N$)")
    return fig


def plot_rem_condensation(result, fig):
    """E[Y] vs beta~/beta_c: sphere data and sampled REM per M, with eq. 39."""
    ax = fig.add_subplot(1, 1, 1)
    ms = np.asarray(result.coords["M"])
    x = np.asarray(result.coords["reduced_beta"])
    yd, sd, yr = (_arr(result, k) for k in ("y_data", "y_data_se", "y_rem"))
    rem_entry = "lines: sampled Gaussian REM, same $N$"
    for i, m in enumerate(ms):
        ax.errorbar(x, yd[i], yerr=2 * sd[i], fmt="o", color=f"C{i}", label=f"$M$ = {m} ($N = 2^{{{m}}}$)",
                    **{**fg.DATA, "ms": 3.5})
        fg.explain(ax.plot(x, yr[i], color=f"C{i}", **{**fg.THEORY, "lw": 1.1}), rem_entry)
    ax.plot(x, _arr(result, "y_theory"), label=r"$1 - \beta_c/\tilde\beta$, $N \to \infty$ (eq. 39)",
            **fg.LIMIT)
    fg.mark(ax, 1.0, r"$\tilde\beta = \beta_c$")
    fg.label_axes(ax, ("reduced inverse temperature", r"$\tilde\beta/\beta_c = t_c(x)/t$",
                       fg.DIMENSIONLESS), ("participation ratio", r"$E[Y]$", fg.DIMENSIONLESS))
    fg.style_legend(ax, [("markers: sphere data, $\\pm$ 2 s.e.", {"fmt": "o", "color": "0.3"}),
                         (rem_entry, {**fg.THEORY, "lw": 1.1, "color": "0.3"})], loc="lower right")
    ax.set_ylim(-0.03, 1.3)  # E[Y] <= 1; the room above holds the legend
    fg.legend(ax, loc="upper left", ncol=2 if len(ms) > 3 else 1)
    fg.title(fig, "REM condensation of the diffusion posterior on sphere data, $N = 2^M$ points "
                  "(Ambrogioni eq. 38–39)")
    return fig


def plot_bridge(result, fig):
    """Identity errors vs time (log scale) and the two participation ratios."""
    ax1, ax2 = fig.subplots(1, 2)
    t = np.asarray(result.coords["time"])
    cases = [str(c) for c in result.coords["case"]]
    den, fe = _arr(result, "denoiser_error"), _arr(result, "free_energy_error")
    eps = np.finfo(float).eps
    floor = 1e-19  # errors below (a few exact zeros, tiny weights) are drawn at it
    top = max(float(np.nanmax(np.concatenate([den, fe]))), eps) * 1e3  # room for the legend
    den_entry = "denoiser = Hopfield update"
    fe_entry = r"$\tilde F$ = Hopfield energy + $C$"
    zero_entry = r"error below $10^{-19}$ or exactly 0"
    dif_entry = "markers: diffusion posterior"
    hop_entry = r"lines: Hopfield at $\beta = s^2/\Delta$"
    any_zero = False
    for k, c in enumerate(cases):
        colour = f"C{k}"
        for err, style, entry in ((den[k], "o-", den_entry), (fe[k], "s--", fe_entry)):
            fg.explain(ax1.plot(t, np.where(err >= floor, err, np.nan), style, ms=3.5, lw=1.1,
                                color=colour), entry)
            zero = err < floor
            if zero.any():
                any_zero = True
                fg.explain(ax1.plot(t[zero], np.full(zero.sum(), floor), "v", ms=4, color=colour,
                                    mfc="none"), zero_entry)
        fg.explain(ax2.plot(t, _arr(result, "participation_diffusion")[k], "o", ms=4.5,
                            color=colour), dif_entry)
        fg.explain(ax2.plot(t, _arr(result, "participation_hopfield")[k], "-", lw=1.1,
                            color=colour), hop_entry)
    eps_entry = r"machine $\epsilon$ = 2.2$\times 10^{-16}$"
    fg.explain(fg.mark(ax1, eps, "_eps", axis="y", color="k"), eps_entry)
    styles = [(den_entry, {"marker": "o", "ls": "-"}), (fe_entry, {"marker": "s", "ls": "--"}),
              (eps_entry, {**fg.MARK, "color": "k"})]
    if any_zero:
        styles.append((zero_entry, {"marker": "v", "ls": "none", "mfc": "none"}))
    fg.log_axis(ax1, "x")
    fg.log_axis(ax1, "y")
    ax1.set_ylim(floor / 3, top)
    time_axis = ("diffusion time", "$t$", "units of each process")
    fg.label_axes(ax1, time_axis, ("relative error of the identity", "", fg.DIMENSIONLESS))
    ax1.set_title("identities hold to round-off", fontsize=9)
    fg.style_legend(ax1, styles, loc="upper right")
    fg.log_axis(ax2, "x")
    fg.label_axes(ax2, time_axis, ("participation ratio", r"$Y$", fg.DIMENSIONLESS))
    ax2.set_title("the same posterior weights", fontsize=9)
    fg.legend(ax2, styles=[(_case_label(c), {"color": f"C{k}", "lw": 4}) for k, c in enumerate(cases)]
              + [(dif_entry, {"marker": "o", "ls": "none"}), (hop_entry, {"ls": "-"})],
              loc="center left")
    fg.title(fig, r"Bridge: the diffusion posterior is a modern Hopfield network at $\beta = s^2/\Delta$")
    return fig


def _case_label(case: str) -> str:
    """``"random-ve"`` -> ``"random patterns, VE"``, ``"digits-ou"`` -> ``"digit patterns, OU"``."""
    data, _, process = case.partition("-")
    data = {"digits": "digit"}.get(data, data)
    return f"{data} patterns, {process.upper()}" if process else case


def plot_capacity_collapse(result, fig):
    """Collapse time and Hopfield retrieval time against alpha: theory curves and simulations."""
    ax = fig.add_subplot(1, 1, 1)
    a = np.asarray(result.coords["alpha"])
    fine = np.asarray(result.coords["alpha_fine"])
    ax.plot(fine, _arr(result, "curve_collapse"), "C0-", label=r"$t_C(\alpha)$: REM theory, $d \to \infty$")
    ax.plot(fine, _arr(result, "curve_hopfield"), "C1-",
            label=r"$t_H(\alpha)$: $\alpha_1(\beta_H(t)) = \alpha$, $d \to \infty$")
    ax.plot(a, _arr(result, "t_hopfield_finite"), "C1:", marker="x", label=r"$t_H$: finite-$d$ theory")
    ax.errorbar(a, _arr(result, "t_collapse_excess"), yerr=2 * _arr(result, "t_collapse_excess_se"),
                fmt="C0o", capsize=2, label=r"$t_C$ from $f^e$ (simulation, $\pm$ 2 s.e.)")
    ax.errorbar(a, _arr(result, "t_collapse_nn"), yerr=2 * _arr(result, "t_collapse_nn_se"), fmt="C2s",
                capsize=2, label=r"mean $\hat t_C$, nearest training point (simulation, $\pm$ 2 s.e.)")
    ax.plot(a, _arr(result, "t_hopfield_sim"), "C1D", label=r"$t_H$: Hopfield retrieval (simulation)")
    fg.label_axes(ax, ("load", r"$\alpha = \ln n / d$", "nats per dimension"),
                  ("OU time", "$t$", "OU time units"))
    fg.log_axis(ax, "y")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi * (hi / lo) ** 0.6)  # the curves fall with alpha: room on top for the legend
    fg.legend(ax, loc="upper center", ncol=2, fontsize=7.5)
    fg.title(fig, "Memorisation against capacity: diffusion collapse time and Hopfield retrieval "
                  f"time, spherical patterns, d = {result.scalars.get('dimension')}")
    return fig


def plot_retrieval(result, fig):
    """Success rate and overlap vs cue noise for the three retrieval dynamics."""
    ax1, ax2 = fig.subplots(1, 2)
    eps = np.asarray(result.coords["noise"])
    n_cues = result.scalars.get("n_cues")
    for key, label, mk in (("deterministic", "Hopfield fixed point", "o"),
                           ("stochastic", "Hopfield Langevin", "s"),
                           ("diffusion", "diffusion backward SDE", "^")):
        p = _arr(result, f"success_{key}")
        err = None
        if n_cues:  # binomial 2 s.e., clipped to [0, 1]
            half = 2 * np.sqrt(p * (1 - p) / n_cues)
            err = np.vstack([np.minimum(half, p), np.minimum(half, 1 - p)])
        ax1.errorbar(eps, p, yerr=err, fmt=mk + "-", ms=4, capsize=2, lw=1,
                     label=label + (r", $\pm$ 2 s.e." if n_cues else ""))
        ax2.plot(eps, _arr(result, f"overlap_{key}"), mk + "-", ms=4, lw=1, label=label)
    ax2.plot(eps, _arr(result, "overlap_cue"), "k:", label="the cue itself (cosine)")
    noise = ("cue noise per component", r"$\varepsilon$", "units of a pattern component")
    fg.label_axes(ax1, noise, ("success rate: nearest pattern is the target", "", fg.DIMENSIONLESS))
    fg.label_axes(ax2, noise, ("overlap with the target", "$m$", fg.DIMENSIONLESS))
    fg.legend(ax1)
    fg.legend(ax2)
    fg.title(fig, f"Retrieval of {result.attrs.get('patterns')} patterns from cues "
                  r"$\xi + \varepsilon z$: Hopfield at $\beta = 1/\varepsilon^2$ against diffusion "
                  r"from $t = \varepsilon^2$" + (f" ({n_cues} cues per point)" if n_cues else ""))
    return fig
