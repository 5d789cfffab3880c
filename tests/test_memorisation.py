"""Memorisation ratio d1/d2 (diffusion.memorisation) against a direct computation; files; figure."""

import h5py
import numpy as np
import pytest

from naive import memorisation_ratio_reference
from diffusion.memorisation import memorisation, plot_memorisation


def _samples(seed=0, n=400, m=120, d=16):
    rng = np.random.default_rng(seed)
    train = rng.standard_normal((n, d))
    samples = rng.standard_normal((m, d))
    samples[:30] = train[:30]  # copies: ratio 0
    samples[30:60] = train[30:60] + 0.05 * rng.standard_normal((30, d))  # near copies: ratio ~ 0.05
    return samples, train


def test_ratio_and_fraction_agree_with_direct_computation():
    samples, train = _samples()
    result = memorisation(samples, train)
    ref = memorisation_ratio_reference(samples, train)
    # Both are float64 sums of 16 squares then a sqrt: a few ulps.
    np.testing.assert_allclose(result.ratio, ref, rtol=1e-14, atol=0)
    assert (result.ratio[:30] == 0).all() and (result.d1[:30] == 0).all()
    np.testing.assert_array_equal(result.nearest[:60], np.arange(60))
    assert result.memorised.sum() == (ref < 1 / 3).sum() >= 60
    assert result.fraction.estimate == result.memorised.mean()
    assert result.fraction.low < result.fraction.estimate < result.fraction.high
    strict = memorisation(samples, train, threshold=0.01)
    assert strict.memorised.sum() == (ref < 0.01).sum() == 30
    assert "samples memorised" in result.summary()


def test_duplicated_training_point_copied_has_ratio_zero():
    train = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [5.0, 5.0]])
    result = memorisation(np.array([[1.0, 1.0], [0.1, 0.0]]), train)
    np.testing.assert_array_equal(result.ratio, [0.0, 0.1 / np.sqrt(0.81 + 1.0)])
    assert result.nearest[0] == 1


def test_reads_npy_samples_and_a_streamed_hdf5_training_set(tmp_path):
    samples, train = _samples(seed=1)
    np.save(tmp_path / "samples.npy", samples)
    with h5py.File(tmp_path / "train.h5", "w") as f:
        f.create_dataset("images", data=train.astype(np.float32))
        f.create_dataset("labels", data=np.zeros(train.shape[0], np.int64))
    direct = memorisation(samples, train.astype(np.float32))
    for where in (tmp_path / "train.h5", f"{tmp_path / 'train.h5'}:/images"):
        result = memorisation(tmp_path / "samples.npy", where, chunk_size=50)
        np.testing.assert_array_equal(result.ratio, direct.ratio)
    with h5py.File(tmp_path / "two.h5", "w") as f:
        f.create_dataset("a", data=train)
        f.create_dataset("b", data=train)
    with pytest.raises(ValueError, match="holds 2-D datasets"):
        memorisation(samples, tmp_path / "two.h5")


def test_histogram_figure(tmp_path):
    samples, train = _samples(seed=2)
    fig = plot_memorisation({"model A": memorisation(samples, train),
                             "model B": memorisation(samples[60:], train)})
    fig.savefig(tmp_path / "mem.png")
    assert (tmp_path / "mem.png").stat().st_size > 0
    assert len(fig.axes) == 1 and len(fig.axes[0].get_legend().get_texts()) == 3


def test_bad_input(tmp_path):
    samples, train = _samples(seed=3)
    with pytest.raises(ValueError, match="samples and train must have the same dimension"):
        memorisation(samples[:, :5], train)
    with pytest.raises(ValueError, match="threshold must be <= 1.0"):
        memorisation(samples, train, threshold=2.0)
    with pytest.raises(ValueError, match="threshold must be > 0"):
        memorisation(samples, train, threshold=0.0)
    with pytest.raises(ValueError, match="at least 2 points"):
        memorisation(samples, train[:1])
    with pytest.raises(FileNotFoundError):
        memorisation(samples, tmp_path / "missing.h5")
    with pytest.raises(ValueError, match="samples must not contain NaN"):
        memorisation(np.full((2, 16), np.nan), train)
