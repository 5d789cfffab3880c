"""The registered Hopfield/bridge experiments run at tiny sizes and draw their figures."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from statmech.registry import ExperimentResult, get_experiment  # noqa: E402

# The last three compile the classical, Langevin and diffusion kernels (~20-90 s
# on a loaded 2-core machine with a fresh Numba cache): slow suite.
NAMES = ["hopfield-capacity", "rem-condensation", "bridge"] + [
    pytest.param(name, marks=pytest.mark.slow) for name in ("classical-capacity", "capacity-collapse", "retrieval")
]


# Arrays documented to hold NaN: the classical alpha_{1/2}(N) (and its error) where the retrieved
# fraction does not cross 1/2 on the load grid, and its fitted curve with fewer than three sizes.
# Everything else must be finite.
MAY_BE_NAN = {("classical-capacity", "alpha_half"), ("classical-capacity", "alpha_half_err"),
              ("classical-capacity", "fit_curve"), ("classical-capacity", "fit_band")}


@pytest.mark.parametrize("name", NAMES)
def test_experiment_warmup_runs_and_plots(name):
    spec = get_experiment(name)
    result = spec.run(spec.warmup, seed=1)
    assert isinstance(result, ExperimentResult)
    for key, (dims, arr) in result.arrays.items():
        values = np.asarray(arr, dtype=float)
        assert not np.isinf(values).any(), f"{name}: {key} holds ±inf"
        if (name, key) not in MAY_BE_NAN:
            assert not np.isnan(values).any(), f"{name}: {key} holds NaN"
    fig = plt.figure()
    spec.plot(result, fig)
    assert fig.axes
    plt.close(fig)
    report = spec.report(result)  # what `statmech run NAME` prints
    assert isinstance(report, str) and len(report.splitlines()) >= 3


def test_capacity_report_and_progress():
    spec = get_experiment("hopfield-capacity")
    calls = []
    result = spec.run(spec.warmup, seed=1, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(k, 5) for k in range(1, 6)]  # one step per size of each method (2 full, 3 REM)
    report = spec.report(result)
    assert f"alpha_1 (REM theory) = {result.scalars['alpha_1_theory_spherical']:.4f}" in report
    # both simulations' thresholds are reported next to the finite-N theory
    assert "full" in report and " rem " in report


def test_same_seed_same_result():
    spec = get_experiment("hopfield-capacity")
    a = spec.run(spec.warmup, seed=3)
    b = spec.run(spec.warmup, seed=3)
    np.testing.assert_array_equal(a.arrays["curve_probability"][1], b.arrays["curve_probability"][1])


@pytest.mark.slow  # compiles the collapse, sampler and retrieval kernels
def test_capacity_collapse_reports_progress_per_stage():
    spec = get_experiment("capacity-collapse")
    calls = []
    spec.run({**spec.warmup, "alphas": "0.3,0.4"}, seed=1,
             progress=lambda done, total: calls.append((done, total)))
    assert calls == [(k, 6) for k in range(1, 7)]  # three stages per load
