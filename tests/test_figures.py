"""Figures: every registered experiment's figure meets the rules of issue 12.

The rules and their checker live in ``tests/_figure_rules.py``; the shared
conventions every plot function uses in :mod:`statmech.figures`. Each
experiment runs at a small size (below), is drawn by
:func:`statmech.figures.render` exactly as the command line draws it, and
every violation is reported at once, by axes. The checker itself is tested
on figures with one known defect each, so a rule that stops firing fails.
"""

import functools
import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from _figure_rules import check_figure  # noqa: E402
from statmech import figures as fg  # noqa: E402
from statmech.registry import (  # noqa: E402
    ExperimentResult,
    ExperimentSpec,
    available_experiments,
    get_experiment,
)

RUN_ID = "0123456789abcdef"

#: Small sizes that still draw every panel with real content; an experiment not
#: listed here (a new one) runs at its warm-up point, else at its defaults.
SMALL = {
    "rem": {"M": 8, "samples": 8, "n_beta": 12},
    "curie-weiss": {"n_T": 21, "n_tau": 12, "n_h": 12},
    "speciation": {"dims": "8,16", "n_pairs": 64, "n_x": 5, "dt": 0.05},
    "collapse": {"dims": "8,16", "n_data": 300, "n_samples": 40, "n_times": 10, "n_finite": 40},
    "dataset-regimes": {"n_trajectories": 16, "n_clone_times": 4, "n_steps": 30, "n_samples": 40,
                        "n_times": 8, "method": "euler_maruyama"},
    "pitchfork": {"n_points": 60, "n_grid": 21, "landscape_times": "0.3,1.0"},
    # two ensembles, four sizes per method (fits of both simulations) and one limit beta: every panel
    "hopfield-capacity": {"ensembles": "spherical,binary", "full_sizes": "8,10,12,14", "rem_sizes": "8,10,12,16",
                          "n_targets": 8, "n_sets": 1, "n_samples": 40, "limit_betas": "2", "limit_samples": 20},
    # three sizes with a threshold inside the load grid: the extrapolation panel and its band
    "classical-capacity": {"sizes": "100,200,400", "alpha_min": 0.06, "alpha_max": 0.3,
                           "n_alpha": 7, "n_sets": 2, "n_targets": 4, "modern_size": 10},
    "rem-condensation": {"sizes": "4,6", "dimension": 64, "n_samples": 4, "n_beta": 7},
    "bridge": {"n_patterns": 50, "dimension": 8, "n_states": 4, "n_times": 5},
    "retrieval": {"patterns": "spherical", "n_patterns": 50, "dimension": 8,
                  "noise_levels": "0.5,1.0,2.0", "n_cues": 8, "n_steps": 20},
    # two bandwidths (memorising and generalising) and four clone times: every curve has a shape
    "model-regimes": {"bandwidths": "0.05,0.3", "n_trajectories": 24, "n_clone_times": 4, "n_steps": 20,
                      "n_samples": 40, "n_times": 6, "n_boot": 50},
}

#: Its theory curves cost ~15 s even with warm kernels.
SLOW = {"capacity-collapse"}

#: Figures another open issue redraws; each must still FAIL the rules (if it passes,
#: the entry is stale and the test says so).
PENDING = {}


def _experiments():
    return [pytest.param(name, id=name, marks=[pytest.mark.slow] if name in SLOW else [])
            for name in available_experiments()]


@functools.lru_cache(maxsize=None)
def _small_run(name):
    """``(spec, resolved parameters, result)`` of one small run of ``name`` (shared by the tests)."""
    spec = get_experiment(name)
    params = spec.resolve(SMALL.get(name, spec.warmup or {}))
    return spec, params, spec.run(params, seed=1)


@pytest.mark.parametrize("name", _experiments())
def test_every_experiment_figure_meets_the_rules(name):
    spec, _, result = _small_run(name)
    assert spec.plot is not None, f"experiment {name!r} has no plot function"
    fig = fg.render(spec, result, run_id=RUN_ID)
    violations = check_figure(fig, run_id=RUN_ID)
    if name in PENDING:
        assert violations, f"{name} now meets the figure rules: remove it from PENDING"
        pytest.xfail(f"{PENDING[name]}; {len(violations)} violations, e.g. {violations[0]}")
    assert not violations, f"{name} figure breaks the rules:\n  " + "\n  ".join(violations)


@pytest.mark.parametrize("name", _experiments())
def test_every_output_is_declared_with_a_unit(name):
    """Every array, coordinate and scalar has a declared (or derived) label and unit, and every
    summary's theory and error resolve for a real run."""
    spec, params, result = _small_run(name)
    missing = [n for n in (*result.arrays, *result.coords, *result.scalars)
               if spec.quantity(n, fallback=False) is None]
    assert not missing, (f"{name}: declare these outputs in @experiment(variables=..., summaries=...): "
                         f"{missing}")
    for n, q in result.labels.items():
        assert q.label and q.unit, (name, n, q)
    for n, value in result.scalars.items():
        summary = spec.summary(n)
        if isinstance(summary.theory, str):
            assert summary.theory in result.scalars, f"{name}: {n}'s theory {summary.theory!r} is no scalar"
        if summary.theory is not None:
            assert np.isfinite(summary.theory_value(result.scalars, params)), (name, n)
        if summary.error:
            assert summary.error in result.scalars, f"{name}: {n}'s error {summary.error!r} is no scalar"


def test_memorisation_command_figure_meets_the_rules(tmp_path):
    """`statmech memorisation --plot` draws its histogram by the same rules."""
    from diffusion.datasets import load_digits
    from diffusion.memorisation import memorisation_command

    train = load_digits().data
    rng = np.random.default_rng(0)
    samples = np.concatenate([train[:40] + 0.01 * rng.standard_normal((40, train.shape[1])),
                              rng.uniform(-1.0, 1.0, (40, train.shape[1]))])
    np.save(tmp_path / "samples.npy", samples)
    np.save(tmp_path / "train.npy", train)
    lines, fig = memorisation_command(tmp_path / "samples.npy", tmp_path / "train.npy", plot=True)
    assert "40 of 80 samples memorised" in lines[2]
    violations = check_figure(fig)
    assert not violations, "memorisation figure breaks the rules:\n  " + "\n  ".join(violations)
    footers = [t.get_text() for t in fig.texts if t.get_gid() == "footer"]
    assert len(footers) == 1 and footers[0].startswith("statmech memorisation")


# -- the checker fires on each defect ------------------------------------------------------


def _good_figure(fig):
    ax = fig.add_subplot(1, 1, 1)
    x = np.linspace(0.1, 2.0, 20)
    ax.errorbar(x, x**2, yerr=0.1, fmt="o", label="measured", **fg.DATA)
    ax.plot(x, x**2, label="theory", **fg.LIMIT)
    fg.mark(ax, 1.0, "critical point")
    fg.guide(ax.axhline(0.0, color="grey"))
    fg.label_axes(ax, ("time", "$t$", "OU time units"), ("energy", "$E$", fg.DIMENSIONLESS))
    fg.legend(ax, loc="upper left")
    fg.title(fig, "A parabola against its theory")
    return fig


def _draw(plot):
    spec = ExperimentSpec(name="toy", func=lambda **kw: None, description="", parameters=(),
                          plot=lambda result, fig: plot(fig), figsize=(6.0, 4.0))
    fig = fg.render(spec, ExperimentResult(), run_id=RUN_ID)
    return check_figure(fig, run_id=RUN_ID)


def test_the_good_figure_passes():
    assert _draw(_good_figure) == []


def _run_id_in_title(fig):
    _good_figure(fig)
    fig.suptitle(f"toy {RUN_ID}: a=1 b=2")


def _no_title(fig):
    _good_figure(fig)
    fig.suptitle("")


def _no_unit(fig):
    _good_figure(fig)
    fig.axes[0].set_xlabel("t")


def _no_ylabel(fig):
    _good_figure(fig)
    fig.axes[0].set_ylabel("")


def _unlabelled_mark(fig):
    _good_figure(fig)
    fig.axes[0].axvline(1.5)


def _no_legend(fig):
    _good_figure(fig)
    fig.axes[0].get_legend().remove()


def _empty_panel(fig):
    _good_figure(fig)
    fig.axes[0].set_position([0.1, 0.1, 0.35, 0.8])
    empty = fig.add_axes([0.6, 0.1, 0.35, 0.8])
    fg.label_axes(empty, ("x", "", fg.DIMENSIONLESS), ("y", "", fg.DIMENSIONLESS))


def _nan_panel(fig):
    _good_figure(fig)
    fig.axes[0].lines[0].set_ydata(np.full(20, np.nan))
    for artist in (*fig.axes[0].lines[1:], *fig.axes[0].collections):
        artist.remove()


def _unused_slot(fig):
    fig.set_layout_engine("none")
    axes = [fig.add_subplot(2, 2, k) for k in (1, 3, 4)]
    for ax in axes:
        ax.plot([0, 1], [0, 1])
        fg.label_axes(ax, ("x", "", fg.DIMENSIONLESS), ("y", "", fg.DIMENSIONLESS))
    fg.title(fig, "Three of four slots")


def _colour_map_without_bar(fig):
    ax = fig.add_subplot(1, 1, 1)
    ax.contourf(np.arange(5), np.arange(5), np.arange(25.0).reshape(5, 5))
    fg.label_axes(ax, ("x", "", fg.DIMENSIONLESS), ("y", "", fg.DIMENSIONLESS))
    fg.title(fig, "A map")


def _axis_off(fig):
    _colour_map_without_bar(fig)
    ax = fig.axes[0]
    fig.colorbar(ax.collections[0], ax=ax, label="z (dimensionless)")
    ax.set_axis_off()


def _one_decade_log_axis(fig):
    _good_figure(fig)
    ax = fig.axes[0]
    ax.set_yscale("log")
    ax.set_ylim(0.2, 0.9)
    from matplotlib.ticker import LogFormatterSciNotation, NullFormatter

    ax.yaxis.set_major_formatter(LogFormatterSciNotation())
    ax.yaxis.set_minor_formatter(NullFormatter())


def _tiny_legend(fig):
    _good_figure(fig)
    fg.legend(fig.axes[0], loc="upper left", fontsize=5)


def _legend_on_data(fig):
    _good_figure(fig)
    ax = fig.axes[0]
    ax.plot(np.linspace(0.1, 2.0, 40), np.full(40, 2.0), "s", label="level")
    fg.legend(ax, loc="center")


def _title_off_canvas(fig):
    _good_figure(fig)
    fig.suptitle("A title far too long for its figure, " * 6)


def _overlapping_panels(fig):
    fig.set_layout_engine("none")
    for rect in ([0.1, 0.1, 0.5, 0.7], [0.4, 0.2, 0.5, 0.7]):
        ax = fig.add_axes(rect)
        ax.plot([0, 1], [0, 1])
        fg.label_axes(ax, ("x", "", fg.DIMENSIONLESS), ("y", "", fg.DIMENSIONLESS))
    fg.title(fig, "Two panels on top of each other")


DEFECTS = {
    _run_id_in_title: "title holds the run ID",
    _no_title: "no title",
    _no_unit: "has no unit in parentheses",
    _no_ylabel: "no y label",
    _unlabelled_mark: "is not named by any legend entry",
    _no_legend: "labelled artists but no legend",
    _empty_panel: "empty (no finite data drawn)",
    _nan_panel: "empty (no finite data drawn)",
    _unused_slot: "empty region covers",
    _colour_map_without_bar: "has no colour bar",
    _axis_off: "axis switched off",
    _one_decade_log_axis: "log y axis shows",
    _tiny_legend: "smaller than",
    _legend_on_data: "a legend covers",
    _title_off_canvas: "runs off the canvas",
    _overlapping_panels: "overlap",
}


@pytest.mark.parametrize("plot", list(DEFECTS), ids=[f.__name__[1:] for f in DEFECTS])
def test_the_checker_reports_each_defect(plot):
    violations = _draw(plot)
    assert any(DEFECTS[plot] in v for v in violations), violations


# -- the shared conventions ---------------------------------------------------------------


def test_axis_label_needs_a_unit_and_a_name():
    assert fg.axis_label("inverse temperature", r"$\beta$", "1/energy") == \
        r"inverse temperature $\beta$ (1/energy)"
    assert fg.axis_label("", "$m$") == "$m$ (dimensionless)"
    with pytest.raises(ValueError, match="unit"):
        fg.axis_label("time", "$t$", "")
    with pytest.raises(ValueError, match="name or a symbol"):
        fg.axis_label("", "", "s")


def test_render_puts_the_run_id_in_the_footer_only():
    spec = ExperimentSpec(name="toy", func=lambda **kw: None, description="", parameters=(),
                          plot=lambda result, fig: _good_figure(fig), figsize=(5.0, 3.0))
    fig = fg.render(spec, ExperimentResult(), run_id=RUN_ID, note="runs.h5")
    footers = [t.get_text() for t in fig.texts if t.get_gid() == "footer"]
    assert footers == [f"toy run {RUN_ID}  runs.h5"]
    assert RUN_ID not in fig.get_suptitle()


@pytest.mark.parametrize("lo, hi, expected", [
    (1e-4, 1e-2, ["$10^{-4}$", "$10^{-3}$", "$10^{-2}$"]),   # decades only
    (0.02, 0.9, ["$2\\times 10^{-2}$", "$5\\times 10^{-2}$", "$10^{-1}$", "$2\\times 10^{-1}$",
                 "$5\\times 10^{-1}$"]),                       # under three decades: 2 and 5 too
])
def test_log_axis_labels(lo, hi, expected):
    fig = Figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([lo, hi], [1, 2])
    fg.log_axis(ax, "x")
    ax.set_xlim(lo, hi)
    FigureCanvasAgg(fig).draw()
    labels = (*ax.xaxis.get_majorticklabels(), *ax.xaxis.get_minorticklabels())
    shown = [t.get_text() for t in labels
             if t.get_text() and lo * (1 - 1e-9) <= t.get_position()[0] <= hi * (1 + 1e-9)]
    assert sorted(shown, key=lambda s: s) == sorted(expected, key=lambda s: s)


def test_power_law_fit_band_pivots_at_the_window_centre():
    fig = Figure()
    ax = fig.add_subplot(1, 1, 1)
    line, band = fg.power_law_fit(ax, (1e-4, 1e-2), 2.0, 0.5, 0.01, label="fit", n_points=51)
    x, y = line.get_data()
    np.testing.assert_allclose(y, 2.0 * x**0.5, rtol=1e-12)
    verts = band.get_paths()[0].vertices
    mid = np.argmin(np.abs(np.log(x) - math.log(1e-3)))
    # band half-width in log y is 2 s.e. x |ln x - ln x_mid|: zero at the centre
    assert math.isclose(x[mid], 1e-3, rel_tol=1e-9)
    lower = verts[1:52, 1]
    np.testing.assert_allclose(np.log(y / lower), 2 * 0.01 * np.abs(np.log(x / 1e-3)), atol=1e-12)
    assert band.get_gid() == "legend:fit"


# -- the summary figure of `statmech plot --experiment` -----------------------------------


def test_summary_figure_draws_declared_labels_and_theory(tmp_path, toy_registry):
    from statmech.runs.reader import open_archive
    from statmech.runs.scanfile import parse_scan
    from statmech.runs.scanner import run_scan
    from statmech.runs.summaries import default_scalars, plot_scalars

    scan = parse_scan('experiment = "toy"\nseeds = [1, 2, 3]\n[grid]\nscale = [0.5, 1.0, 2.0]\n[fixed]\nn = 40\n')
    run_scan(scan, tmp_path / "runs.h5", jobs=1, progress=False)
    spec = get_experiment("toy")
    with open_archive(tmp_path / "runs.h5") as arc:
        table = arc.runs(experiment="toy")
    names = default_scalars(table, spec=spec)
    assert names == ["mean", "second_moment"]  # n_draws and tag do not vary
    fig = plot_scalars(table, names, "scale", spec=spec, title="Toy draws against their scale",
                       note="9 runs from runs.h5")
    assert check_figure(fig) == []
    axes = [ax for ax in fig.get_axes() if ax.get_visible()]
    assert len(axes) == 2  # only the panels it needs
    mean_ax, moment_ax = axes
    assert mean_ax.get_ylabel() == r"$\bar x$ (dimensionless)" and mean_ax.get_title() == "sample mean"
    assert mean_ax.get_xlabel() == "standard deviation of the draws scale (dimensionless)"
    theory = {line.get_label(): line for line in moment_ax.get_lines()}["scale$^2$"]
    np.testing.assert_allclose(theory.get_ydata(), [0.25, 1.0, 4.0])  # theory(scale) = scale^2
    flat = {line.get_label(): line for line in mean_ax.get_lines()}["population mean"]
    np.testing.assert_array_equal(flat.get_ydata(), [0.0, 0.0, 0.0])
