"""Figures of the Hopfield and bridge experiments: ``plot_*(result, fig)`` draw into a Figure.

None calls ``pyplot.show``.
"""

from __future__ import annotations

import numpy as np

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
    """Classical final overlap and retrieval fraction vs P/N; modern network far beyond."""
    sizes = np.asarray(result.coords["size"])
    alphas = np.asarray(result.coords["alpha"])
    ax1, ax2, ax3 = fig.subplots(1, 3)
    m, se, prob = _arr(result, "overlap"), _arr(result, "overlap_se"), _arr(result, "probability")
    for i, n in enumerate(sizes):
        ax1.errorbar(alphas, m[i], yerr=2 * se[i], fmt="o-", ms=3, capsize=2, label=f"N = {n}")
        ax2.plot(alphas, prob[i], "o-", ms=3, label=f"N = {n}")
    for ax in (ax1, ax2):
        ax.axvline(0.138, color="k", ls="--", lw=1, label="0.138 (AGS)")
        ax.set_xlabel(r"$\alpha = P/N$")
        ax.legend(frameon=False, fontsize=6)
    ax1.set_ylabel("final overlap m")
    ax2.set_ylabel("fraction with m >= 0.9")
    half, half_err = _arr(result, "alpha_half"), _arr(result, "alpha_half_err")
    ax3.errorbar(1 / np.sqrt(sizes), half, yerr=2 * half_err, fmt="o", ms=3, capsize=2,
                 label=r"$\alpha_{1/2}(N)$ (2 s.e.)")
    if "alpha_c_extrapolated" in result.scalars:
        xs, fit, band = np.asarray(result.coords["inv_sqrt_n"]), _arr(result, "fit_curve"), _arr(result, "fit_band")
        ax3.plot(xs[1:], fit[1:], "-", color="C1", label=f"fit: {result.scalars['fit_form']}")
        ax3.fill_between(xs[1:], fit[1:] - 2 * band[1:], fit[1:] + 2 * band[1:], color="C1", alpha=0.15, lw=0)
        ax3.errorbar([0.0], [fit[0]], yerr=[2 * band[0]], fmt="D", color="C1", capsize=3,
                     label=f"alpha_c = {fit[0]:.4f} ± {band[0]:.4f}")
    ax3.axhline(0.138, color="k", ls="--", lw=1)
    loads = np.asarray(result.coords["load"])
    ax3.set_xlabel(r"$N^{-1/2}$")
    ax3.set_ylabel(r"classical $\alpha_{1/2}$")
    inset = ax3.inset_axes([0.55, 0.12, 0.4, 0.35])
    inset.semilogx(loads, _arr(result, "modern_probability"), "s-", ms=2, color="C3")
    inset.set_title(f"modern, N={result.attrs.get('modern_size')}: vs P/N", fontsize=6)
    inset.tick_params(labelsize=5)
    ax3.legend(frameon=False, fontsize=6, loc="upper left")
    fig.suptitle("Classical Hopfield capacity (Hebbian, async sign dynamics)", fontsize=10)
    if fig.get_layout_engine() is None:  # the CLI draws into a constrained-layout figure
        fig.tight_layout()
    return fig


def plot_rem_condensation(result, fig):
    """E[Y] vs beta~/beta_c: sphere data and sampled REM per M, with eq. 39."""
    ax = fig.add_subplot(1, 1, 1)
    ms = np.asarray(result.coords["M"])
    x = np.asarray(result.coords["reduced_beta"])
    yd, sd, yr, sr = (_arr(result, k) for k in ("y_data", "y_data_se", "y_rem", "y_rem_se"))
    for i, m in enumerate(ms):
        ax.errorbar(x, yd[i], yerr=2 * sd[i], fmt="o", ms=3, color=f"C{i}", capsize=2, label=f"sphere data, M={m}")
        ax.plot(x, yr[i], "-", color=f"C{i}", lw=1, label=f"sampled REM, M={m}")
    ax.plot(x, _arr(result, "y_theory"), "k--", lw=1.5, label=r"$1 - \beta_c/\tilde\beta$ (eq. 39)")
    ax.axvline(1.0, color="grey", lw=1)
    ax.set_xlabel(r"$\tilde\beta/\beta_c = t_c(x)/t$")
    ax.set_ylabel(r"$E[Y]$")
    ax.set_title("REM condensation of the diffusion posterior (Ambrogioni eq. 38-39)", fontsize=10)
    ax.legend(frameon=False, fontsize=6, ncol=2)
    return fig


def plot_bridge(result, fig):
    """Identity errors vs time (log scale) and the two participation ratios."""
    ax1, ax2 = fig.subplots(1, 2)
    t = np.asarray(result.coords["time"])
    cases = list(result.coords["case"])
    tiny = 1e-18
    for k, c in enumerate(cases):
        ax1.semilogy(t, _arr(result, "denoiser_error")[k] + tiny, "o-", ms=3, color=f"C{k}", label=f"denoiser {c}")
        ax1.semilogy(t, _arr(result, "free_energy_error")[k] + tiny, "s--", ms=3, color=f"C{k}", label=f"F~ {c}")
        ax2.plot(t, _arr(result, "participation_diffusion")[k], "o", ms=4, color=f"C{k}", label=f"diffusion {c}")
        ax2.plot(t, _arr(result, "participation_hopfield")[k], "-", color=f"C{k}", label=f"Hopfield {c}")
    ax1.set_xscale("log")
    ax1.axhline(np.finfo(float).eps, color="k", lw=1, ls=":")
    ax1.set_xlabel("t")
    ax1.set_ylabel("relative error")
    ax1.legend(frameon=False, fontsize=5)
    ax2.set_xscale("log")
    ax2.set_xlabel("t")
    ax2.set_ylabel("participation ratio")
    ax2.legend(frameon=False, fontsize=5)
    fig.suptitle("Bridge identities: diffusion posterior = modern Hopfield at beta = s^2/Delta", fontsize=10)
    if fig.get_layout_engine() is None:  # the CLI draws into a constrained-layout figure
        fig.tight_layout()
    return fig


def plot_capacity_collapse(result, fig):
    """Collapse time and Hopfield retrieval time against alpha: theory curves and simulations."""
    ax = fig.add_subplot(1, 1, 1)
    a = np.asarray(result.coords["alpha"])
    fine = np.asarray(result.coords["alpha_fine"])
    ax.plot(fine, _arr(result, "curve_collapse"), "C0-", label=r"$t_C(\alpha)$ theory (REM)")
    ax.plot(fine, _arr(result, "curve_hopfield"), "C1-", label=r"$t_H(\alpha)$: $\alpha_1(\beta_H(t))=\alpha$")
    ax.plot(a, _arr(result, "t_hopfield_finite"), "C1:", marker="x", label=r"$t_H$ finite-d theory")
    ax.errorbar(a, _arr(result, "t_collapse_excess"), yerr=2 * _arr(result, "t_collapse_excess_se"), fmt="C0o",
                capsize=2, label=r"$t_C$ from $f^e$ (sim)")
    ax.errorbar(a, _arr(result, "t_collapse_nn"), yerr=2 * _arr(result, "t_collapse_nn_se"), fmt="C2s",
                capsize=2, label=r"mean $\hat t_C$ nearest neighbour (sim)")
    ax.plot(a, _arr(result, "t_hopfield_sim"), "C1D", label=r"$t_H$ Hopfield retrieval (sim)")
    ax.set_xlabel(r"$\alpha = \ln n / d$")
    ax.set_ylabel("OU time t")
    ax.set_yscale("log")
    ax.set_title(f"Memorisation vs capacity, spherical patterns, d = {result.scalars.get('dimension')}",
                 fontsize=10)
    ax.legend(frameon=False, fontsize=7)
    return fig


def plot_retrieval(result, fig):
    """Success rate and overlap vs cue noise for the three retrieval dynamics."""
    ax1, ax2 = fig.subplots(1, 2)
    eps = np.asarray(result.coords["noise"])
    for key, label, mk in (("deterministic", "Hopfield fixed point", "o"),
                           ("stochastic", "Hopfield Langevin", "s"),
                           ("diffusion", "diffusion backward SDE", "^")):
        ax1.plot(eps, _arr(result, f"success_{key}"), mk + "-", label=label)
        ax2.plot(eps, _arr(result, f"overlap_{key}"), mk + "-", label=label)
    ax2.plot(eps, _arr(result, "overlap_cue"), "k:", label="cue cosine")
    ax1.set_xlabel("cue noise per component")
    ax1.set_ylabel("nearest pattern = target")
    ax2.set_xlabel("cue noise per component")
    ax2.set_ylabel("overlap with target")
    ax1.legend(frameon=False, fontsize=7)
    ax2.legend(frameon=False, fontsize=7)
    fig.suptitle(f"Retrieval from the same cues ({result.attrs.get('patterns')}), matched beta = 1/eps^2",
                 fontsize=10)
    if fig.get_layout_engine() is None:  # the CLI draws into a constrained-layout figure
        fig.tight_layout()
    return fig
