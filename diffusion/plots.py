"""Figures of the diffusion experiments: ``plot_*(result, fig)`` draw into a matplotlib Figure.

They follow the figures of the dynamical-regimes paper (Fig. 2–5) and
Ambrogioni (Fig. 2–3). None calls ``pyplot.show``.
"""

from __future__ import annotations

import numpy as np

from statmech import figures as fg

__all__ = ["plot_speciation", "plot_collapse", "plot_dataset_regimes", "plot_pitchfork",
           "plot_model_regimes"]

_MARKERS = "osv^Dp*"


def _arr(result, name):
    return np.asarray(result.arrays[name][1])


_OU_TIME = ("time", "$t$", "OU time units")


def plot_speciation(result, fig):
    """``phi(t)`` vs ``t/t_S`` per ``d`` (3 s.e. bars) with eq. 6 (dynamical-regimes Fig. 2)."""
    ax = fig.add_subplot(1, 1, 1)
    dims = np.asarray(result.coords["d"])
    x = np.asarray(result.coords["x"])
    x_fine = np.asarray(result.coords["x_fine"])
    phi, se, theory = _arr(result, "phi"), _arr(result, "phi_se"), _arr(result, "phi_theory")
    sc = result.scalars
    eq6 = "lines: eq. 6 at the same $d$"
    for i, d in enumerate(dims):
        colour = f"C{i}"
        fg.explain(ax.plot(x_fine, theory[i], color=colour, **fg.THEORY), eq6)
        ax.errorbar(x, phi[i], yerr=3 * se[i], fmt=_MARKERS[i % len(_MARKERS)], color=colour,
                    label=f"$d$ = {d}", **fg.DATA)
    if "t_s_convention" in result.attrs:  # t_S where the class separation is 1 (eq. 6's curves cross there)
        fg.mark(ax, 1.0, r"$t = t_S$: class separation $\kappa_t = 1$")
    else:  # runs archived before: eq. 4's t_S
        fg.mark(ax, 1.0, r"$t = t_S = \frac{1}{2}\log\Lambda$ (eq. 4)")
    if "phi_t_s_large_d" in sc:
        fg.mark(ax, sc["phi_t_s_large_d"], rf"$\phi(t_S) \to$ {sc['phi_t_s_large_d']:.3f}, "
                r"$d \to \infty$", axis="y", ls="--")
    if "crossing_x" in sc:
        cx, cse = sc["crossing_x"], sc["crossing_x_se"]
        ax.axvspan(cx - cse, cx + cse, color="k", alpha=fg.BAND_ALPHA * 0.6, lw=0,
                   label=rf"crossing of the $d$ curves: {cx:.3f} $\pm$ {cse:.3f}")
    fg.label_axes(ax, ("clone time", r"$t/t_S$", fg.DIMENSIONLESS),
                  ("same-class probability", r"$\phi(t)$", fg.DIMENSIONLESS))
    ax.set_ylim(0.45, 1.02)
    fg.legend(ax, styles=[("markers: cloning, $\\pm$ 3 s.e.", {"fmt": "o", "color": "0.3"}),
                          (eq6, {**fg.THEORY, "color": "0.3"})], outside=True)
    fg.title(fig, f"Speciation of two Gaussians ({result.attrs.get('score', '')} score): "
                  "probability that clones branched at $t$ end in the same class")
    return fig


def plot_collapse(result, fig):
    """``f^e(t)/alpha`` per ``d`` (3 s.e.), theory, finite-size prediction, ``t_C`` (Fig. 3)."""
    ax = fig.add_subplot(1, 1, 1)
    dims = np.asarray(result.coords["d"])
    t = np.asarray(result.coords["t"])
    f, se, th = (_arr(result, k) for k in ("f", "f_se", "f_theory"))
    alpha, tc, tc_se, tc_th = (_arr(result, k) for k in ("alpha", "t_c", "t_c_se", "t_c_theory"))
    finite = _arr(result, "f_finite") if "f_finite" in result.arrays else None
    criterion = result.attrs.get("criterion", "level")
    styles = [("markers: Monte Carlo $f^e$, $\\pm$ 3 s.e.", {"fmt": "o", "color": "0.3"}),
              ("solid: theory, $n, d \\to \\infty$ at fixed $\\alpha$", {**fg.THEORY, "color": "0.3"}),
              ("dotted: exact finite-size prediction", {**fg.FINITE, "color": "0.3"}),
              ("dashed: $t_C$ of eq. 10", {"ls": "--", "lw": 1.0, "color": "0.3"}),
              (f"band: $t_C$ from $f^e$ ({criterion}), $\\pm$ 1 s.e.", {"band": True})]
    has_finite = finite is not None and np.isfinite(finite).all(axis=1).any()
    if not has_finite:
        del styles[2]
    for i, d in enumerate(dims):
        colour = f"C{i}"
        ax.errorbar(t, f[i] / alpha[i], yerr=3 * se[i] / alpha[i],
                    fmt=_MARKERS[i % len(_MARKERS)], color=colour, label=f"$d$ = {d}",
                    **{**fg.DATA, "ms": 3})
        fg.explain(ax.plot(t, th[i] / alpha[i], color=colour, **fg.THEORY), styles[1][0])
        if has_finite and np.isfinite(finite[i]).all():
            fg.explain(ax.plot(t, finite[i] / alpha[i], color=colour, **fg.FINITE), styles[2][0])
        fg.explain(ax.axvline(tc_th[i], color=colour, ls="--", lw=1), styles[-2][0])
        fg.explain(ax.axvspan(tc[i] - tc_se[i], tc[i] + tc_se[i], color=colour, alpha=0.3, lw=0),
                   styles[-1][0])
    fg.guide(ax.axhline(0.0, color="grey", lw=0.8))
    fg.label_axes(ax, _OU_TIME, ("excess entropy per data entropy", r"$f^e(t)/\alpha$",
                                 fg.DIMENSIONLESS))
    ax.set_ylim(-0.05, 1.05)
    fg.style_legend(ax, styles, loc="lower right")
    fg.legend(ax, loc="upper left")
    n = int(round(np.exp(alpha[0] * dims[0])))
    fg.title(fig, f"Collapse of two Gaussians onto the n = {n} training points: "
                  r"excess entropy $f^e(t)$, $\alpha = \ln n/d$")
    return fig


def plot_dataset_regimes(result, fig):
    """Digits: ``phi``, ``phi_C``, ``t^_C`` histogram, ``f^e/alpha`` (Fig. 4–5)."""
    sc = result.scalars
    grid = fig.add_gridspec(2, 2)
    t_s_label = rf"$t_S = \frac{{1}}{{2}}\log\Lambda$ = {sc['t_s']:.2f}"
    t_c_label = rf"$t_C$ from $f^e$ = {sc['t_c']:.2f}"
    ax1 = fig.add_subplot(grid[0, 0])
    tcl = np.asarray(result.coords["t_clone"])
    ax1.errorbar(tcl, _arr(result, "phi"), yerr=3 * _arr(result, "phi_se"), fmt="o-", ms=3,
                 capsize=2, label=r"$\phi$: same class, $\pm$ 3 s.e.")
    ax1.errorbar(tcl, _arr(result, "phi_c"), yerr=3 * _arr(result, "phi_c_se"), fmt="s-", ms=3,
                 capsize=2, label=r"$\phi_C$: same training point, $\pm$ 3 s.e.")
    fg.mark(ax1, sc["t_s"], t_s_label, color="C2", ls="--")
    fg.mark(ax1, sc["t_c"], t_c_label, color="C3", ls="--")
    fg.log_axis(ax1, "x")
    fg.label_axes(ax1, ("clone time", "$t$", "OU time units"),
                  ("probability that clones agree", "", fg.DIMENSIONLESS))
    ax1.set_ylim(-0.02, 1.02)
    fg.legend(ax1, fontsize=7.5)
    ax2 = fig.add_subplot(grid[0, 1])
    centres = np.asarray(result.coords["t_bin"])
    width = centres[1] - centres[0] if centres.shape[0] > 1 else 1.0
    ax2.bar(centres, _arr(result, "t_hat_c_hist"), width=width, color="C1", alpha=0.6, ec="k",
            label="backward trajectories")
    fg.mark(ax2, sc["t_hat_c_mean"], rf"mean $\hat t_C$ = {sc['t_hat_c_mean']:.2f}",
            color="k", ls="--")
    counts = _arr(result, "t_hat_c_hist")
    if counts.any():  # the bins cover (0, t_end); show the occupied ones
        ax2.set_xlim(0.0, centres[np.flatnonzero(counts)[-1]] + 2 * width)
    fg.label_axes(ax2, ("last change of the nearest training point", r"$\hat t_C$",
                        "OU time units"), ("trajectories", "", "count"))
    fg.legend(ax2)
    ax3 = fig.add_subplot(grid[1, :])
    t = np.asarray(result.coords["t"])
    alpha = sc["alpha"]
    ax3.errorbar(t, _arr(result, "f") / alpha, yerr=3 * _arr(result, "f_se") / alpha, fmt="o-",
                 ms=3, capsize=2, label=r"Monte Carlo $f^e/\alpha$, $\pm$ 3 s.e.")
    fg.mark(ax3, sc["t_c"], t_c_label, color="C3", ls="--")
    fg.mark(ax3, sc["t_s"], t_s_label, color="C2", ls="--")
    fg.mark(ax3, sc["t_hat_c_mean"], r"mean $\hat t_C$", color="k")
    fg.guide(ax3.axhline(0.0, color="grey", lw=0.8))
    fg.log_axis(ax3, "x")
    fg.label_axes(ax3, _OU_TIME, ("excess entropy", r"$f^e(t)/\alpha$", fg.DIMENSIONLESS))
    fg.legend(ax3, loc="upper left")
    fg.title(fig, f"Speciation and collapse on the handwritten digits {result.attrs.get('classes', '')}: "
                  f"n = {sc['n']}, d = {sc['d']}, $\\Lambda$ = {sc['lambda_top']:.2f}")
    return fig


def plot_pitchfork(result, fig):
    """Two-deltas branches and susceptibility (Ambrogioni Fig. 2), four-deltas ``F~`` (Fig. 3)."""
    t = np.asarray(result.coords["t"])
    m, exists, stable, chi = (_arr(result, k) for k in ("m", "exists", "stable", "chi"))
    land = _arr(result, "free_energy_reg")
    sc = result.scalars
    sigma = sc["t_c_theory"] ** -0.5
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 0.9])
    ax, ax2 = top.subplots(1, 2)
    time_axis = ("VE time", "$t$", r"units of $1/\sigma^2$")
    t_c_label = rf"$t_c = 1/\sigma^2$, located at {sc['t_c']:.4f}"
    for b in range(m.shape[0]):
        for mask, style, entry in ((exists[b] & stable[b], "-", "stable fixed point"),
                                   (exists[b] & ~stable[b], "--", "unstable fixed point")):
            (line,) = ax.plot(t, np.where(mask, m[b], np.nan), "k" + style, lw=1.2,
                              label=entry if b == 0 else "_" + entry)
            if b:
                fg.explain(line, entry)
    fg.mark(ax, sc["t_c"], t_c_label, color="C3")
    fg.label_axes(ax, time_axis, ("magnetisation", r"$m = \tanh(m/t\sigma^2)$", fg.DIMENSIONLESS))
    fg.legend(ax, loc="lower right")
    ax.text(0.98, 0.97, "fitted exponents (mean field):\n"
            rf"$\beta$ = {sc['beta']:.4f} (1/2)" "\n"
            rf"$\gamma_-$ = {sc['gamma_minus']:.4f}, $\gamma_+$ = {sc['gamma_plus']:.4f} (1)" "\n"
            rf"$\delta$ = {sc['delta']:.4f} (3)", transform=ax.transAxes, ha="right", va="top",
            fontsize=8)
    ordered = (m > 1e-12) & exists & stable
    symmetric = (np.abs(m) <= 1e-12) & exists & stable & (t[None, :] > sc["t_c"])
    for mask, colour, label in ((ordered, "C0", r"ordered branch $m \neq 0$, $t < t_c$"),
                                (symmetric, "C2", r"symmetric branch $m = 0$, $t > t_c$")):
        b = int(np.argmax(mask.sum(axis=1)))  # the branch followed longest (not a birth point)
        if mask[b].any():
            keep = mask[b] & np.isfinite(chi[b])
            ax2.plot(t[keep], np.abs(chi[b][keep]), "o", ms=2.5, color=colour, label=label)
    T = t / sc["t_c"]
    below, above = (T > 0.6) & (T < 0.98), T > 1.02
    chi_theory = r"mean field: $1/\tau$ above (exact), $1/(2|\tau|)$ below ($\tau \to 0$)"
    ax2.plot(t[below], 0.5 / (1 - T[below]), label=chi_theory, **fg.LIMIT)
    fg.explain(ax2.plot(t[above], 1 / (T[above] - 1), **fg.LIMIT), chi_theory)
    fg.mark(ax2, sc["t_c"], t_c_label, color="C3")
    fg.log_axis(ax2, "y")
    finite = np.abs(chi[np.isfinite(chi) & (ordered | symmetric)])
    ax2.set_ylim(1e-2, 3 * finite.max() if finite.size else 10)
    fg.label_axes(ax2, time_axis, ("susceptibility", r"$\chi = \partial m/\partial h$",
                                   fg.DIMENSIONLESS))
    fg.legend(ax2, loc="lower right")
    top.suptitle(r"Two deltas at $\pm 1$: pitchfork of the magnetisation at $t_c = 1/\sigma^2$"
                 f" ($\\sigma$ = {sigma:g})", fontsize=10)
    x = np.asarray(result.coords["x"])
    y = np.asarray(result.coords["y"])
    tl = np.asarray(result.coords["t_landscape"])
    n_land = land.shape[0]
    lo, hi = float(np.nanmin(land)), float(np.nanmax(land))
    levels = lo + (hi - lo) * np.linspace(0.0, 1.0, 31) ** 2  # finer near the minima
    from matplotlib.colors import BoundaryNorm

    norm = BoundaryNorm(levels, 256)  # one colour scale for every panel and the colour bar
    axes = bottom.subplots(1, n_land, sharex=True, sharey=True, squeeze=False)[0]
    points = "data points $(\\pm 1, 0)$, $(0, \\pm 1)$"
    for k, axk in enumerate(axes):
        filled = axk.contourf(x, y, land[k], levels=levels, cmap="viridis", norm=norm)
        (pts,) = axk.plot([1, 0, -1, 0], [0, 1, 0, -1], "r+", ms=7, mew=1.5,
                          label=points if k == 0 else "_points")
        if k:
            fg.explain(pts, points)
        axk.set_aspect("equal")
        axk.set_title(rf"$t$ = {tl[k]:g} ($t/t_c$ = {tl[k] / sc['t_c']:.2f})", fontsize=9)
        fg.label_axes(axk, ("", "$x_1$", fg.DIMENSIONLESS), ("", "$x_2$", fg.DIMENSIONLESS))
    bar = bottom.colorbar(filled, ax=list(axes), shrink=0.9)
    bar.set_label(fg.axis_label("free energy", r"$\tilde F$", fg.DIMENSIONLESS))
    bar.set_ticks(np.round(lo + (hi - lo) * np.linspace(0, 1, 6) ** 2, 2))
    fg.legend(axes[0], loc="lower left", fontsize=7)
    bottom.suptitle(r"Four deltas: regularised free energy $\tilde F(x, t) = F + |x|^2/2$, "
                    "one minimum splitting into four as $t$ decreases", fontsize=10)
    fg.title(fig, "Symmetry breaking in the variance-exploding diffusion (Ambrogioni Fig. 2–3)")
    return fig


def plot_model_regimes(result, fig):
    """Score models (issue 11): ``phi`` and ``phi_C`` with 95 % bootstrap bands against the clone
    time, with ``t_S`` and ``t_C``; ``t^_C`` histograms; ``d1/d2`` histograms of the end points with
    the threshold and each model's memorised fraction (Clopper–Pearson interval)."""
    sc = result.scalars
    names = [str(m) for m in result.coords["model"]]
    colours = [f"C{i}" for i in range(len(names))]
    tcl = np.asarray(result.coords["t_clone"])
    has_t_c = bool(np.isfinite(sc["t_c"]))
    t_s_label = rf"$t_S = \frac{{1}}{{2}}\log\Lambda$ = {sc['t_s']:.2f}"
    t_c_label = rf"$t_C$ of the exact score (from $f^e$) = {sc['t_c']:.2f}"
    band = "band: 95% bootstrap interval"
    grid = fig.add_gridspec(2, 2)
    ax1, ax2 = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    fraction, low, high = (_arr(result, k) for k in ("mem_fraction", "mem_low", "mem_high"))
    labels = [f"{name}: memorised {fraction[i]:.3f} [{low[i]:.3f}, {high[i]:.3f}]"
              for i, name in enumerate(names)]
    on_top = {i: 2.0 + len(names) - i for i in range(len(names))}  # the exact model over the rest
    for key, ax, y in (
            ("phi", ax1, ("same-class probability", r"$\phi(t)$", fg.DIMENSIONLESS)),
            ("phi_c", ax2, ("same-point probability", r"$\phi_C(t)$", fg.DIMENSIONLESS))):
        values, low, high = (_arr(result, k) for k in (key, key + "_low", key + "_high"))
        for i, name in enumerate(names):
            ax.plot(tcl, values[i], marker=_MARKERS[i % len(_MARKERS)], ms=3, lw=1.2,
                    color=colours[i], label=labels[i], zorder=on_top[i])
            fg.explain(ax.fill_between(tcl, low[i], high[i], color=colours[i],
                                       alpha=fg.BAND_ALPHA, lw=0), band)
        fg.mark(ax, sc["t_s"], t_s_label, color="k", ls="--")
        if has_t_c:
            fg.mark(ax, sc["t_c"], t_c_label, color="0.45")
        fg.log_axis(ax, "x")
        fg.label_axes(ax, ("clone time", "$t$", "OU time units"), y)
        ax.set_ylim(-0.03, 1.03)
    level_label = rf"$\phi$ = {sc['phi_level']:.3f}: the models' $t_S$ read off here"
    fg.mark(ax1, sc["phi_level"], level_label, axis="y", color="0.6", ls="-.")
    ax3 = fig.add_subplot(grid[1, 0])
    t_hat = _arr(result, "t_hat_c")
    positive = t_hat[np.isfinite(t_hat) & (t_hat > 0)]
    lo = positive.min() if positive.size else 1e-3
    hi = max(positive.max() if positive.size else 1.0, 1.5 * lo)
    edges = np.geomspace(lo, hi * 1.01, 31)
    for i, name in enumerate(names):
        counts, _ = np.histogram(t_hat[i], bins=edges)
        ax3.stairs(counts, edges, color=colours[i], lw=1.4, label=labels[i], zorder=on_top[i])
    if has_t_c:
        fg.mark(ax3, sc["t_c"], t_c_label, color="0.45")
    fg.log_axis(ax3, "x")
    fg.label_axes(ax3, ("last change of the nearest point", r"$\hat t_C$", "OU time units"),
                  ("trajectories per bin", "", "count"))
    ax4 = fig.add_subplot(grid[1, 1])
    centres = np.asarray(result.coords["ratio_bin"])
    width = centres[1] - centres[0]
    ratio_edges = np.append(centres - 0.5 * width, centres[-1] + 0.5 * width)
    hist = _arr(result, "ratio_hist")
    for i in range(len(names)):
        ax4.stairs(hist[i], ratio_edges, color=colours[i], lw=1.4, label=labels[i], zorder=on_top[i])
    threshold_label = (rf"memorised: $d_1/d_2$ < {sc['threshold']:.3g}; $d_1$ ($d_2$): distance to the "
                       "nearest (second-nearest)\ntraining point; fractions with 95% Clopper–Pearson "
                       "intervals")
    fg.mark(ax4, sc["threshold"], threshold_label, color="k", ls="-", lw=1.0)
    ax4.set_xlim(0.0, 1.0)
    fg.label_axes(ax4, ("distance ratio of the end points", "$d_1/d_2$", fg.DIMENSIONLESS),
                  ("end points per bin", "", "count"))
    from matplotlib.patches import Patch

    handles = ax1.get_legend_handles_labels()[0]  # models (colour), then t_S, t_C, the phi level
    handles.insert(len(names), Patch(color="0.5", alpha=fg.BAND_ALPHA, label=band))
    handles += [line for line in ax4.get_lines() if line.get_label() == threshold_label]
    fg.figure_legend(fig, handles=handles, below=True, ncols=2)
    fg.title(fig, f"Exact, smoothed and Gaussian score models on the {result.attrs.get('data', '')}: "
                  f"n = {sc['n']}, d = {sc['d']}, $\\Lambda$ = {sc['lambda_top']:.2f}")
    return fig
