"""Figures of the diffusion experiments: ``plot_*(result, fig)`` draw into a matplotlib Figure.

They follow the figures of the dynamical-regimes paper (Fig. 2–5) and
Ambrogioni (Fig. 2–3). None calls ``pyplot.show``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_speciation", "plot_collapse", "plot_dataset_regimes", "plot_pitchfork",
           "plot_model_regimes"]

_MARKERS = "osv^Dp*"


def _arr(result, name):
    return np.asarray(result.arrays[name][1])


def plot_speciation(result, fig):
    """``phi(t)`` vs ``t/t_S`` per ``d`` (3 s.e. bars) with eq. 6 (dynamical-regimes Fig. 2)."""
    ax = fig.add_subplot(1, 1, 1)
    dims = np.asarray(result.coords["d"])
    x = np.asarray(result.coords["x"])
    x_fine = np.asarray(result.coords["x_fine"])
    phi, se, theory = _arr(result, "phi"), _arr(result, "phi_se"), _arr(result, "phi_theory")
    for i, d in enumerate(dims):
        colour = f"C{i}"
        ax.plot(x_fine, theory[i], color=colour, lw=1.5)
        ax.errorbar(x, phi[i], yerr=3 * se[i], fmt=_MARKERS[i % len(_MARKERS)], color=colour,
                    ms=4, capsize=2, label=f"d = {d}")
    ax.axvline(1.0, color="grey", ls="--", lw=1)
    ax.axhline(0.775, color="grey", ls="--", lw=1)
    if "crossing_x" in result.scalars:
        cx, cse = result.scalars["crossing_x"], result.scalars["crossing_x_se"]
        ax.axvspan(cx - cse, cx + cse, color="k", alpha=0.12,
                   label=f"crossing {cx:.3f} ± {cse:.3f}")
    ax.set_xlabel(r"$t/t_S$")
    ax.set_ylabel(r"$\phi(t)$")
    ax.set_ylim(0.45, 1.02)
    ax.set_title(f"Speciation, two Gaussians ({result.attrs.get('score', '')} score); lines: eq. 6")
    ax.legend(frameon=False, fontsize=8)
    return fig


def plot_collapse(result, fig):
    """``f^e(t)/alpha`` per ``d`` (3 s.e.), theory, finite-size prediction, ``t_C`` (Fig. 3)."""
    ax = fig.add_subplot(1, 1, 1)
    dims = np.asarray(result.coords["d"])
    t = np.asarray(result.coords["t"])
    f, se, th = (_arr(result, k) for k in ("f", "f_se", "f_theory"))
    alpha, tc, tc_se, tc_th = (_arr(result, k) for k in ("alpha", "t_c", "t_c_se", "t_c_theory"))
    finite = _arr(result, "f_finite") if "f_finite" in result.arrays else None
    for i, d in enumerate(dims):
        colour = f"C{i}"
        ax.errorbar(t, f[i] / alpha[i], yerr=3 * se[i] / alpha[i], fmt=_MARKERS[i % len(_MARKERS)],
                    color=colour, ms=3, capsize=1.5, label=f"d = {d}: $f^e$")
        ax.plot(t, th[i] / alpha[i], color=colour, lw=1.5)
        if finite is not None and np.isfinite(finite[i]).all():
            ax.plot(t, finite[i] / alpha[i], color=colour, lw=1, ls=":")
        ax.axvline(tc_th[i], color=colour, ls="--", lw=1)
        ax.axvspan(tc[i] - tc_se[i], tc[i] + tc_se[i], color=colour, alpha=0.3)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("t")
    ax.set_ylabel(r"$f^e(t)/\alpha$")
    ax.set_ylim(-0.05, 1.05)
    criterion = result.attrs.get("criterion", "level")
    ax.set_title("Collapse: lines theory, dotted exact finite size, dashed eq. 10 $t_C$, "
                 f"bands $t_C$ from $f^e$ ({criterion})", fontsize=8)
    ax.legend(frameon=False, fontsize=8)
    return fig


def plot_dataset_regimes(result, fig):
    """Digits: ``phi``, ``phi_C``, ``t^_C`` histogram, ``f^e/alpha`` (Fig. 4–5)."""
    sc = result.scalars
    ax1 = fig.add_subplot(2, 2, 1)
    tcl = np.asarray(result.coords["t_clone"])
    ax1.errorbar(tcl, _arr(result, "phi"), yerr=3 * _arr(result, "phi_se"), fmt="o-", ms=3,
                 label=r"$\phi$ (same class)")
    ax1.errorbar(tcl, _arr(result, "phi_c"), yerr=3 * _arr(result, "phi_c_se"), fmt="s-", ms=3,
                 label=r"$\phi_C$ (same point)")
    ax1.axvline(sc["t_s"], color="C2", ls="--", lw=1, label=f"$t_S$ = {sc['t_s']:.2f}")
    ax1.axvline(sc["t_c"], color="C3", ls="--", lw=1, label=f"$t_C$ = {sc['t_c']:.2f}")
    ax1.set_xscale("log")
    ax1.set_xlabel("clone time t")
    ax1.set_ylim(-0.02, 1.02)
    ax1.legend(frameon=False, fontsize=7)
    ax2 = fig.add_subplot(2, 2, 2)
    centres = np.asarray(result.coords["t_bin"])
    width = centres[1] - centres[0] if centres.shape[0] > 1 else 1.0
    ax2.bar(centres, _arr(result, "t_hat_c_hist"), width=width, color="C1", alpha=0.6, ec="k")
    ax2.axvline(sc["t_hat_c_mean"], color="k", ls="--", lw=1,
                label=rf"mean $\hat t_C$ = {sc['t_hat_c_mean']:.2f}")
    ax2.set_xlabel(r"$\hat t_C$")
    ax2.set_ylabel("trajectories")
    ax2.legend(frameon=False, fontsize=7)
    ax3 = fig.add_subplot(2, 1, 2)
    t = np.asarray(result.coords["t"])
    alpha = sc["alpha"]
    ax3.errorbar(t, _arr(result, "f") / alpha, yerr=3 * _arr(result, "f_se") / alpha, fmt="o-",
                 ms=3, label=r"$f^e/\alpha$")
    ax3.axvline(sc["t_c"], color="C3", ls="--", lw=1, label=r"$t_C$ from $f^e$")
    ax3.axvline(sc["t_s"], color="C2", ls="--", lw=1, label=r"$t_S = \frac{1}{2}\log\Lambda$")
    ax3.axvline(sc["t_hat_c_mean"], color="k", ls=":", lw=1, label=r"mean $\hat t_C$")
    ax3.axhline(0.0, color="grey", lw=0.8)
    ax3.set_xscale("log")
    ax3.set_xlabel("t")
    ax3.set_ylabel(r"$f^e(t)/\alpha$")
    ax3.legend(frameon=False, fontsize=7)
    fig.suptitle(f"Digits {result.attrs.get('classes', '')}: n={sc['n']}, d={sc['d']}, "
                 f"$\\Lambda$={sc['lambda_top']:.2f}", fontsize=9)
    return fig


def plot_pitchfork(result, fig):
    """Two-deltas branches and susceptibility (Ambrogioni Fig. 2), four-deltas ``F~`` (Fig. 3)."""
    t = np.asarray(result.coords["t"])
    m, exists, stable, chi = (_arr(result, k) for k in ("m", "exists", "stable", "chi"))
    land = _arr(result, "free_energy_reg")
    n_land = land.shape[0]
    ax = fig.add_subplot(2, max(2, n_land), 1)
    for b in range(m.shape[0]):
        for mask, style in ((exists[b] & stable[b], "-"), (exists[b] & ~stable[b], "--")):
            ax.plot(t, np.where(mask, m[b], np.nan), "k" + style, lw=1.2)
    ax.axvline(result.scalars["t_c"], color="C3", ls=":", lw=1)
    ax.set_xlabel("t")
    ax.set_ylabel("m")
    sc = result.scalars
    ax.set_title(rf"$m=\tanh(m/t\sigma^2)$, $t_c$={sc['t_c']:.4f}; "
                 rf"$\beta$={sc['beta']:.3f}, $\delta$={sc['delta']:.3f}", fontsize=7)
    ax2 = fig.add_subplot(2, max(2, n_land), 2)
    for b in range(m.shape[0]):
        mask = exists[b] & stable[b] & np.isfinite(chi[b])
        ax2.semilogy(t[mask], np.abs(chi[b][mask]), ".", ms=2)
    ax2.axvline(sc["t_c"], color="C3", ls=":", lw=1)
    ax2.set_xlabel("t")
    ax2.set_ylabel(r"$\chi$ (stable branches)")
    ax2.set_title(rf"$\gamma_-$={sc['gamma_minus']:.3f}, $\gamma_+$={sc['gamma_plus']:.3f}",
                  fontsize=7)
    x = np.asarray(result.coords["x"])
    y = np.asarray(result.coords["y"])
    tl = np.asarray(result.coords["t_landscape"])
    for k in range(n_land):
        axk = fig.add_subplot(2, max(2, n_land), max(2, n_land) + k + 1)
        axk.contourf(x, y, -land[k], levels=30, cmap="viridis")
        axk.plot([1, 0, -1, 0], [0, 1, 0, -1], "r+", ms=6)
        axk.set_aspect("equal")
        axk.set_title(rf"$-\tilde F$, t={tl[k]:g}", fontsize=7)
        axk.set_xticks([])
        axk.set_yticks([])
    if fig.get_layout_engine() is None:  # the CLI draws into a constrained-layout figure
        fig.tight_layout()
    return fig


def plot_model_regimes(result, fig):
    """Score models: ``phi``, ``phi_C`` with bands, ``t^_C`` histograms, ``d1/d2`` histograms (issue 11)."""
    sc = result.scalars
    names = [str(m) for m in result.coords["model"]]
    tcl = np.asarray(result.coords["t_clone"])
    colours = [f"C{i}" for i in range(len(names))]
    ax1 = fig.add_subplot(2, 2, 1)
    ax2 = fig.add_subplot(2, 2, 2)
    for key, ax, label in (("phi", ax1, r"$\phi(t)$ (same class)"),
                           ("phi_c", ax2, r"$\phi_C(t)$ (same training point)")):
        values, low, high = (_arr(result, k) for k in (key, key + "_low", key + "_high"))
        for i, name in enumerate(names):
            ax.plot(tcl, values[i], "o-", ms=3, color=colours[i], label=name)
            ax.fill_between(tcl, low[i], high[i], color=colours[i], alpha=0.2, lw=0)
        ax.axvline(sc["t_s"], color="k", ls="--", lw=1)
        if np.isfinite(sc["t_c"]):
            ax.axvline(sc["t_c"], color="grey", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("clone time t")
        ax.set_ylabel(label)
        ax.set_ylim(-0.02, 1.02)
    ax1.axhline(sc["phi_level"], color="k", lw=0.6)
    ax1.set_title(rf"dashed: $t_S=\frac{{1}}{{2}}\log\Lambda$ = {sc['t_s']:.2f}; "
                  rf"dotted: $t_C$ = {sc['t_c']:.2f}", fontsize=8)
    ax1.legend(frameon=False, fontsize=7)
    ax3 = fig.add_subplot(2, 2, 3)
    t_hat = _arr(result, "t_hat_c")
    finite = t_hat[np.isfinite(t_hat)]
    bins = np.geomspace(max(finite.min(), 1e-4), finite.max() * 1.01, 30) if finite.size else 10
    for i, name in enumerate(names):
        ax3.hist(t_hat[i], bins=bins, histtype="step", lw=1.4, color=colours[i], label=name)
    if np.isfinite(sc["t_c"]):
        ax3.axvline(sc["t_c"], color="grey", ls=":", lw=1)
    ax3.set_xscale("log")
    ax3.set_xlabel(r"$\hat t_C$ (last change of the nearest training point)")
    ax3.set_ylabel("trajectories")
    ax4 = fig.add_subplot(2, 2, 4)
    centres = np.asarray(result.coords["ratio_bin"])
    width = centres[1] - centres[0]
    hist = _arr(result, "ratio_hist")
    fraction, low, high = (_arr(result, k) for k in ("mem_fraction", "mem_low", "mem_high"))
    for i, name in enumerate(names):
        ax4.step(centres, hist[i], where="mid", color=colours[i],
                 label=f"{name}: {fraction[i]:.2f} [{low[i]:.2f}, {high[i]:.2f}]")
    ax4.axvline(sc["threshold"], color="k", ls="--", lw=1)
    ax4.set_xlim(0.0, 1.0 + 0.5 * width)
    ax4.set_xlabel(r"$d_1/d_2$ of the end points (memorised left of the dashed line)")
    ax4.set_ylabel("samples")
    ax4.legend(frameon=False, fontsize=7, title="memorised [95% CI]", title_fontsize=7)
    fig.suptitle(f"Score models: {result.attrs.get('data', '')}; n={sc['n']}, d={sc['d']}", fontsize=9)
    return fig
