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


def plot_capacity(result, fig):
    """Retrieval fraction vs alpha per ensemble and N; alpha_{1/2}(N) vs finite-N and REM theory."""
    ens = list(result.coords["ensemble"])
    sizes = np.asarray(result.coords["size"])
    alpha, prob = _arr(result, "alpha"), _arr(result, "probability")
    half, err, fin = _arr(result, "alpha_half"), _arr(result, "alpha_half_err"), _arr(result, "alpha_finite_theory")
    axes = fig.subplots(2, len(ens), squeeze=False)
    for e, name in enumerate(ens):
        ax = axes[0, e]
        for i, n in enumerate(sizes):
            ax.plot(alpha[e, i], prob[e, i], "o-", ms=3, color=f"C{i}", label=f"N = {n}")
            ax.axvline(fin[e, i], color=f"C{i}", ls=":", lw=1)
        theory = result.scalars[f"alpha_1_theory_{name}"]
        ax.axvline(theory, color="k", ls="--", lw=1.2, label=r"$\alpha_1$ (REM)")
        ax.set_xlabel(r"$\alpha = \ln P / N$")
        ax.set_ylabel("fraction retrieved")
        ax.set_title(f"{name}, beta = {result.attrs.get('beta')}", fontsize=9)
        ax.legend(frameon=False, fontsize=6)
        ax = axes[1, e]
        x = 1.0 / sizes
        ax.errorbar(x, half[e], yerr=2 * err[e], fmt="o", ms=4, capsize=2, label=r"sim $\alpha_{1/2}(N)$ (2 s.e.)")
        ax.plot(x, fin[e], "s--", ms=3, label="finite-N theory")
        sim = result.scalars[f"alpha_1_sim_{name}"]
        se = result.scalars[f"alpha_1_sim_err_{name}"]
        ax.errorbar([0], [sim], yerr=[2 * se], fmt="D", color="C3", capsize=3, label="extrapolated")
        ax.axhline(theory, color="k", ls="--", lw=1.2, label=r"$\alpha_1$ theory")
        ax.set_xlabel("1/N")
        ax.set_ylabel(r"threshold $\alpha$")
        ax.legend(frameon=False, fontsize=6)
    fig.suptitle("Modern Hopfield: exponential capacity, simulation vs auxiliary-REM theory", fontsize=10)
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
    half = _arr(result, "alpha_half")
    ax3.plot(1 / np.sqrt(sizes), half, "o", label=r"$\alpha_{1/2}(N)$")
    if "alpha_c_extrapolated" in result.scalars:
        a0, slope = result.scalars["alpha_c_extrapolated"], result.scalars["finite_size_slope"]
        xs = np.linspace(0, 1 / np.sqrt(sizes.min()), 20)
        ax3.plot(xs, a0 + slope * xs, "-", label=f"fit: {a0:.3f} + c/sqrt(N)")
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
