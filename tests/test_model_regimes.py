"""model-regimes from the command line (archive, figure, report with the three checks); phi_level_time; memorisation CLI."""

import h5py
import numpy as np
import pytest

from diffusion.datasets import load_digits
from diffusion.speciation import phi_level_time
from statmech.runs import open_archive
from statmech.runs.cli import main

SMALL = ["-p", "n_trajectories=120", "-p", "n_steps=60", "-p", "n_clone_times=6", "-p", "n_samples=300",
         "-p", "n_times=12", "-p", "n_boot=200", "-p", "bandwidths=0.05,0.2"]


def test_model_regimes_runs_from_the_cli_and_shows_the_three_behaviours(tmp_path, capsys):
    out, fig = tmp_path / "runs.h5", tmp_path / "regimes.png"
    assert main(["run", "model-regimes", *SMALL, "--seed", "2", "-o", str(out), "--plot", str(fig),
                 "--quiet"]) == 0
    report = capsys.readouterr().out
    assert "exact model collapses below t_C" in report and "-> NO" not in report
    assert fig.stat().st_size > 0
    with open_archive(out) as archive:
        (info,) = archive.runs()
        result = archive.load(info.run_id)
    sc = result.scalars
    assert sc["check_exact"] == sc["check_gaussian"] == sc["check_smoothed"] == 1
    models = [str(m) for m in result.coords["model"]]
    assert models == ["exact", "smoothed h=0.05", "smoothed h=0.2", "gaussian"]
    mem = np.asarray(result.arrays["mem_fraction"][1])
    # 120 end points: the exact score copies training points, the Gaussian model none.
    assert mem[0] > 0.95 and mem[-1] == 0.0 and mem[1] > mem[2]
    # phi reaches 0.775 near t_S = 1/2 log Lambda for the models with the data's classes.
    t_s_phi = np.asarray(result.arrays["t_s_phi"][1])
    assert abs(t_s_phi[0] / sc["t_s"] - 1.0) < 0.35


def test_phi_level_time_on_a_known_curve():
    """phi(t) = 1 - t/2 on t in [0.1, 1]: phi = 0.775 at t = 0.45 (linear in log t between grid points)."""
    times = np.array([0.1, 0.2, 0.4, 0.5, 0.8, 1.0])
    n = 4000
    rows = np.zeros((n, times.shape[0]), dtype=bool)
    for j, t in enumerate(times):
        rows[: int(round(n * (1 - t / 2))), j] = True
    ci = phi_level_time(times, rows, 0.775, n_boot=200, seed=1)
    phi = 1 - times / 2
    frac = (phi[2] - 0.775) / (phi[2] - phi[3])
    assert ci.estimate == pytest.approx(np.exp(np.log(0.4) + frac * np.log(0.5 / 0.4)), rel=1e-12)
    assert ci.low <= ci.estimate <= ci.high
    never = phi_level_time(times, np.ones_like(rows), 0.775, n_boot=20)
    assert np.isnan(never.estimate)
    with pytest.raises(ValueError, match="one column per clone time"):
        phi_level_time(times[:3], rows)


def test_memorisation_command(tmp_path, capsys):
    counts = load_digits(scale="counts").data
    rng = np.random.default_rng(0)
    samples = np.concatenate([counts[:50], rng.uniform(0, 16, (50, 64))])
    np.save(tmp_path / "samples.npy", samples)
    with h5py.File(tmp_path / "train.h5", "w") as f:
        f.create_dataset("images", data=counts.astype(np.uint8))
        f.create_dataset("labels", data=np.zeros(counts.shape[0], np.uint8))
    fig = tmp_path / "mem.png"
    assert main(["memorisation", str(tmp_path / "samples.npy"), "--train", str(tmp_path / "train.h5"),
                 "--plot", str(fig)]) == 0
    text = capsys.readouterr().out
    assert "50 of 100 samples memorised" in text and "exact copies (d1 = 0): 50" in text
    assert fig.stat().st_size > 0
    assert main(["memorisation", str(tmp_path / "samples.npy"), "--train", str(tmp_path / "none.h5")]) == 1
    assert "does not exist" in capsys.readouterr().err
    np.save(tmp_path / "bad.npy", samples[:, :10])
    assert main(["memorisation", str(tmp_path / "bad.npy"), "--train", str(tmp_path / "train.h5")]) == 1
    assert "same dimension" in capsys.readouterr().err


@pytest.mark.slow
def test_model_regimes_at_default_size_meets_the_physics_checks(tmp_path, capsys):
    """The experiment at its defaults (1000 trajectories, 200 steps): all three checks pass."""
    assert main(["run", "model-regimes", "--seed", "1", "-o", str(tmp_path / "r.h5"), "--quiet"]) == 0
    report = capsys.readouterr().out
    assert report.count("-> yes") == 3, report
