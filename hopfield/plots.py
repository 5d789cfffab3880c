"""Figures of the Hopfield and bridge experiments: ``plot_*(result, fig)`` draw into a Figure.

None calls ``pyplot.show``.
"""

from __future__ import annotations

import numpy as np

from statmech import figures as fg

from hopfield.capacity import alpha_1_closed_form

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
_SHORT = {(0, 0): "full, fixed point", (1, 0): "REM, fixed point", (0, 1): "full, signal", (1, 1): "REM, signal"}
_INV_N_AXIS = ("finite size", "$1/N$", fg.DIMENSIONLESS)
_ALPHA_AXIS = ("load", r"$\alpha = \ln P / N$", fg.DIMENSIONLESS)
_FINITE_ENTRY = "dotted: annealed\nfinite-$N$ theory"
_FIT_ENTRY = "line and band: best finite-size\n" r"form, $\pm$ 2 s.e., to $1/N = 0$"
_FULL_ENTRY = "markers: full dynamics"
_REM_ENTRY = "lines: REM level"


def _ln2_marks(ax, sc):
    """Horizontal marks at ln 2 (typical pattern) and ln 2 / 2 (all patterns) at beta = inf, N -> inf."""
    fg.mark(ax, sc["ln2"], rf"$\ln 2$ = {sc['ln2']:.4f}: typical pattern, $\beta = \infty$", axis="y", **fg.LIMIT)
    fg.mark(ax, sc["ln2_half"], rf"$\ln 2 / 2$ = {sc['ln2_half']:.4f}: all patterns (Demircigil et al.)",
            axis="y", **{**fg.LIMIT, "color": "C2"})


def _capacity_curves(ax, a, e, norm, cmap, theory):
    """Retrieved fraction (fixed-point criterion) against alpha per N: full dynamics markers, REM lines."""
    rows = a["curve_ensemble"] == e
    for m, entry in ((1, _REM_ENTRY), (0, _FULL_ENTRY)):
        for n in np.unique(a["curve_size"][rows & (a["curve_method"] == m)]):
            sel = rows & (a["curve_method"] == m) & (a["curve_size"] == n)
            order = np.argsort(a["curve_alpha"][sel])
            style = {"ls": "-", "lw": 1.0} if m else {"marker": "o", "ls": "none", "ms": 2.5}
            fg.explain(ax.plot(a["curve_alpha"][sel][order], a["curve_probability"][sel][order],
                               color=cmap(norm(n)), **style), entry)
    fg.mark(ax, theory, rf"$\alpha_1$ = {theory:.4f}, REM theory ($N \to \infty$)", **fg.LIMIT)
    fg.label_axes(ax, _ALPHA_AXIS, ("fraction retrieved", "", fg.DIMENSIONLESS))
    ax.set_ylim(-0.04, 1.4)  # room on top for the legend


def _threshold_panel(ax, a, e, inv_n, theory):
    """alpha_{1/2}(N) against 1/N: both simulations and criteria, finite-N theory, fits to 1/N = 0."""
    for (m, c), (marker, color, label) in _SERIES_STYLE.items():
        sel = (a["threshold_ensemble"] == e) & (a["threshold_method"] == m) & (a["threshold_criterion"] == c)
        if not sel.any():
            continue
        x = 1.0 / a["threshold_size"][sel]
        order = np.argsort(x)
        fg.explain(ax.errorbar(x, a["alpha_half"][sel], yerr=2 * a["alpha_half_err"][sel], fmt=marker,
                               color=color, **fg.DATA), label)
        fg.explain(ax.plot(x[order], a["alpha_half_theory"][sel][order], color=color, **fg.FINITE), _FINITE_ENTRY)
        for j in np.flatnonzero((a["series_ensemble"] == e) & (a["series_method"] == m)
                                & (a["series_criterion"] == c)):
            curve, band = a["fit_curve"][j], a["fit_band"][j]
            line, shade = fg.fit_band(ax, inv_n, curve, curve - 2 * band, curve + 2 * band, color=color,
                                      label="_fit")
            fg.explain([line, shade], _FIT_ENTRY)
            ax.errorbar([0.0], [a["alpha_1_fit"][j]], yerr=[2 * a["alpha_1_fit_err"][j]], fmt=marker, color=color,
                        mec="k", label=rf"{_SHORT[m, c]}: {a['alpha_1_fit'][j]:.4f} $\pm$ "
                        rf"{a['alpha_1_fit_err'][j]:.4f}, $\chi^2$ = {a['fit_chi2'][j]:.1f}/{int(a['fit_dof'][j])}",
                        **{**fg.DATA, "ms": 5, "capsize": 0})  # a loose one's bar runs off: no cap to mislead
    fg.mark(ax, theory, rf"$\alpha_1$ = {theory:.4f}, REM theory", axis="y", **fg.LIMIT)
    fg.label_axes(ax, _INV_N_AXIS, ("threshold load", r"$\alpha_{1/2}(N)$", fg.DIMENSIONLESS))


def _limit_panels(ax_beta, ax_inf, result, a, beta):
    """Binary beta -> inf: alpha_1(beta) towards ln 2, alpha_1/2 towards ln 2 / 2; exact beta = inf at finite N."""
    sc = result.scalars
    limits = np.asarray(result.coords["limit_beta"])
    betas, alphas, errs = list(limits), list(a["limit_alpha"]), list(a["limit_alpha_err"])
    if "alpha_1_rem_signal_binary" in sc:  # the run's own beta
        betas.insert(0, beta)
        alphas.insert(0, sc["alpha_1_rem_signal_binary"])
        errs.insert(0, sc["alpha_1_rem_signal_binary_err"])
    fine = np.geomspace(0.1, 50.0, 160)
    typical = np.array([alpha_1_closed_form("binary", b) for b in fine])
    ax_beta.plot(fine, typical, color="C0", label=r"typical pattern: $\alpha_1 = \beta - \ln\cosh\beta$",
                 **fg.THEORY)
    ax_beta.plot(fine, typical / 2, color="C2", label=r"all patterns: $\alpha_1 / 2$", **fg.THEORY)
    ax_beta.errorbar(betas, alphas, yerr=2 * np.asarray(errs), fmt="D", color="C3",
                     label=r"REM level (signal), extrapolated to $N \to \infty$, $\pm$ 2 s.e.", **fg.DATA)
    _ln2_marks(ax_beta, sc)
    fg.log_axis(ax_beta, "x")
    fg.label_axes(ax_beta, ("inverse temperature", r"$\beta$", fg.DIMENSIONLESS), _ALPHA_AXIS)
    ax_beta.set_ylim(0.0, 1.3)  # the curves stay below ln 2: room on top for the legend
    ax_beta.set_title(r"binary patterns: $\beta \to \infty$", fontsize=9)
    fg.legend(ax_beta, loc="upper left", fontsize=7)
    x = 1.0 / np.asarray(result.coords["infinite_beta_size"], dtype=float)
    ax_inf.plot(x, a["infinite_beta_typical"], "o-", color="C0", ms=4, lw=1,
                label=r"typical pattern retrieved (exact, $\beta = \infty$)")
    ax_inf.plot(x, a["infinite_beta_all"], "s-", color="C2", ms=4, lw=1,
                label=r"all patterns retrieved (exact, $\beta = \infty$)")
    _ln2_marks(ax_inf, sc)
    fg.label_axes(ax_inf, _INV_N_AXIS, ("threshold load", r"$\alpha_{1/2}(N)$", fg.DIMENSIONLESS))
    ax_inf.set_ylim(0.2, 0.85)
    ax_inf.set_title(r"binary, $\beta = \infty$: exact thresholds at finite $N$", fontsize=9)
    fg.legend(ax_inf, loc="center", fontsize=7)


def plot_capacity(result, fig):
    """Thresholds against 1/N down to 0: both simulations, their fits and bands, finite-N and REM theory.

    One column per ensemble. Top: the retrieved fraction (fixed-point
    criterion) against ``alpha`` per N (colour bar; full dynamics: markers;
    REM level: lines). Bottom: ``alpha_{1/2}(N)`` against ``1/N`` for each
    simulation and criterion (2 s.e.), the annealed finite-N theory (dotted),
    each series' Akaike-best fit with its 2 s.e. band continued to
    ``1/N = 0``, where the extrapolation carries its total error (legend:
    ``alpha_1``, error, chi^2/dof), and ``alpha_1`` of the REM theory. Binary
    runs with ``limit_betas`` add a column: ``alpha_1(beta)`` towards ``ln 2``
    (typical pattern) and ``alpha_1 / 2`` towards ``ln 2 / 2`` (all patterns,
    Demircigil et al.) with the REM-level thresholds; below, the exact
    ``beta = inf`` thresholds at finite N against ``1/N``.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import BoundaryNorm

    ens = [str(e) for e in result.coords["ensemble"]]
    inv_n = np.asarray(result.coords["inv_n"])
    beta = result.attrs.get("beta")
    a = {name: _arr(result, name) for name in result.arrays}
    has_limits = np.asarray(result.coords["limit_beta"]).shape[0] > 0
    grid = fig.add_gridspec(2, len(ens) + has_limits, height_ratios=[1.0, 1.5])
    sizes = np.unique(np.concatenate([a["curve_size"], a["threshold_size"]])).astype(int)
    edges = np.concatenate([[sizes[0] - 1], 0.5 * (sizes[1:] + sizes[:-1]), [sizes[-1] + 1]])
    cmap, norm = colormaps["viridis"], BoundaryNorm(edges, 256)
    top, inv_max = [], 1.05 * max(inv_n[-1], 1.0 / sizes.min())
    for e, name in enumerate(ens):
        theory = result.scalars[f"alpha_1_theory_{name}"]
        ax = fig.add_subplot(grid[0, e])
        _capacity_curves(ax, a, e, norm, cmap, theory)
        ax.set_title(rf"{name} patterns, $\beta$ = {beta}: fixed point retrieved", fontsize=9)
        fg.legend(ax, styles=[(_FULL_ENTRY, {"marker": "o", "ls": "none", "color": "0.3"}),
                              (_REM_ENTRY, {"ls": "-", "color": "0.3"})], loc="upper right", fontsize=7)
        top.append(ax)
        ax = fig.add_subplot(grid[1, e])
        _threshold_panel(ax, a, e, inv_n, theory)
        ax.set_xlim(-0.04 * inv_max, inv_max)
        shown = a["threshold_ensemble"] == e
        lo = min(np.min(a["alpha_half"][shown] - 2 * a["alpha_half_err"][shown]), theory) if shown.any() else theory
        hi = max(np.max(a["alpha_half"][shown] + 2 * a["alpha_half_err"][shown]), theory) if shown.any() else theory
        pad = 0.05 * (hi - lo) + 0.005  # data and theory set the range (a loose extrapolation runs off it);
        ax.set_ylim(lo - pad - 0.4 * (hi - lo), hi + pad)  # room below, at small 1/N, for the legend
        ax.set_title(rf"{name}: threshold against $1/N$; at $1/N = 0$: $\alpha_1$", fontsize=9)
        fg.legend(ax, loc="lower left", fontsize=7)
    bar = fig.colorbar(ScalarMappable(norm, cmap), ax=top, ticks=sizes, pad=0.01, aspect=30)
    bar.set_label(fg.axis_label("dimension", "$N$"), fontsize=8)
    bar.ax.tick_params(labelsize=7)
    if has_limits:
        _limit_panels(fig.add_subplot(grid[0, -1]), fig.add_subplot(grid[1, -1]), result, a, beta)
        fig.axes[-1].set_xlim(-0.04 * inv_max, inv_max)
    fg.figure_legend(fig, [(label, {"fmt": marker, "color": color}) for marker, color, label in _SERIES_STYLE.values()]
                     + [(_FINITE_ENTRY, {**fg.FINITE, "color": "0.3"}), (_FIT_ENTRY, {"band": True, "color": "0.3"})])
    fg.title(fig, rf"Modern Hopfield exponential capacity at $\beta$ = {beta}: thresholds $\alpha_{{1/2}}(N)$ of the "
                  "streamed full dynamics and the REM-level criteria against $1/N$, extrapolated to $N \\to \\infty$ "
                  "and compared with the REM theory")
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
