"""Experiments: specs, tiny runs with named dims, figures drawn."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from diffusion import experiments  # noqa: E402
from statmech.registry import ExperimentResult, get_experiment  # noqa: E402

SMALL = {
    "speciation": {"dims": "8,16", "n_pairs": 64, "n_x": 5, "dt": 0.05},
    "collapse": {"dims": "8,16", "n_data": 300, "n_samples": 40, "n_times": 8, "n_finite": 50},
    "dataset-regimes": {"n_trajectories": 16, "n_clone_times": 3, "n_steps": 30,
                        "n_samples": 40, "n_times": 6, "method": "euler_maruyama"},
    "pitchfork": {"n_points": 60, "n_grid": 15, "landscape_times": "0.3,1.0"},
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_experiment_runs_small_and_plots(name):
    spec = get_experiment(name)
    func = getattr(experiments, {"dataset-regimes": "dataset_regimes"}.get(name, name))
    assert func.spec.name == name and func.spec.plot is not None
    result = spec.run(SMALL[name], seed=3)
    assert isinstance(result, ExperimentResult)
    for array_name, (dims, arr) in result.arrays.items():
        assert len(dims) == np.ndim(arr), array_name
    fig = plt.figure()
    spec.plot(result, fig)
    assert fig.axes
    plt.close(fig)
    report = spec.report(result)  # what `statmech run NAME` prints
    assert isinstance(report, str) and len(report.splitlines()) >= 3


def test_collapse_report_gives_t_c_per_d_next_to_both_theories():
    spec = get_experiment("collapse")
    result = spec.run(SMALL["collapse"], seed=3)
    report = spec.report(result)
    arr = {k: v for k, (_, v) in result.arrays.items()}
    for i, d in enumerate(result.coords["d"]):
        line = next(row for row in report.splitlines() if row.split() and row.split()[0] == str(d))
        for value in (arr["t_c"][i], arr["t_c_se"][i], arr["t_c_finite"][i], arr["t_c_theory"][i]):
            assert f"{value:.3f}" in line, (line, value)


def test_progress_is_reported_per_dimension():
    calls = []
    get_experiment("collapse").run(SMALL["collapse"], seed=3, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]


def test_speciation_is_reproducible_from_the_seed():
    spec = get_experiment("speciation")
    a = spec.run(SMALL["speciation"], seed=5)
    b = spec.run(SMALL["speciation"], seed=5)
    np.testing.assert_array_equal(a.arrays["phi"][1], b.arrays["phi"][1])


def test_parse_list_errors():
    with pytest.raises(ValueError, match="comma-separated"):
        experiments.parse_list("64,abc", "dims")
    with pytest.raises(ValueError, match="empty"):
        experiments.parse_list("", "dims")
