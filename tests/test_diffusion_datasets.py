"""Data sets: generators against exact laws, the shipped digits, loaders and their errors."""

import math

import h5py
import numpy as np
import pytest

import naive
from diffusion.datasets import (
    curie_weiss,
    digits_path,
    gaussian_mixture,
    ising,
    load_array,
    load_digits,
    sphere,
    two_deltas,
)


def test_gaussian_mixture_moments():
    ds = gaussian_mixture(4000, 50, mu_tilde=1.5, sigma=0.5, seed=1, balanced=True)
    assert ds.centre @ ds.centre == pytest.approx(1.5**2 * 50)
    assert (ds.labels == 1).sum() == 2000
    resid = ds.data - ds.labels[:, None] * ds.centre
    # residual std 0.5: 5 s.e. over 2e5 entries
    assert resid.std() == pytest.approx(0.5, abs=5 * 0.5 / math.sqrt(2 * 2e5))
    assert abs(resid.mean()) < 5 * 0.5 / math.sqrt(2e5)


def test_two_deltas_and_sphere():
    ds = two_deltas(10, 3, radius=2.0, seed=0)
    np.testing.assert_allclose(np.linalg.norm(ds.data, axis=1), 2.0)
    np.testing.assert_allclose(ds.data, ds.labels[:, None] * ds.centre)
    sp = sphere(1000, 7, radius=3.0, seed=0)
    np.testing.assert_allclose(np.linalg.norm(sp.data, axis=1), 3.0, rtol=1e-14)
    # uniform on the sphere: E[x_1^2] = r^2/d, 5 s.e.
    assert (sp.data[:, 0] ** 2).mean() == pytest.approx(9 / 7, abs=5 * 9 / 7 * math.sqrt(2 / 1000))


def test_curie_weiss_matches_enumeration():
    d, beta, n = 6, 1.5, 40000
    ds = curie_weiss(n, d, beta, seed=2)
    law = naive.curie_weiss_magnetisation_law(d, beta)
    m = ds.data.sum(1)
    for value, p in law.items():
        freq = np.mean(m == value)
        assert freq == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / n))


def test_ising_heat_bath_matches_enumeration():
    # Curie-Weiss couplings W_jk = -J/d (ferromagnetic), T = 1: the law of sum(y) is known.
    d, n = 5, 4000
    W = -np.ones((d, d)) / d
    np.fill_diagonal(W, 0.0)
    ds = ising(n, W, temperature=1.0, sweeps=30, seed=3)
    # phi(y) ∝ exp(-(1/2T) sum_{j!=k} W_jk y_j y_k) = exp((M^2 - d)/(2 d)) with M = sum y
    law = naive.curie_weiss_magnetisation_law(d, 1.0)
    m = ds.data.sum(1)
    for value, p in law.items():
        assert np.mean(m == value) == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / n))


def test_digits_file_and_loader():
    assert digits_path().is_file()
    with h5py.File(digits_path(), "r") as f:
        assert f["images"].shape == (1797, 64)
        assert "CC BY 4.0" in f.attrs["licence"]
        assert "Alpaydin" in f.attrs["creators"]
    ds = load_digits()
    assert ds.data.shape == (1797, 64) and ds.labels.shape == (1797,)
    assert ds.data.min() == -1.0 and ds.data.max() == 1.0
    two = load_digits((1, 8), scale="counts")
    assert set(np.unique(two.labels)) == {1, 8}
    assert two.data.max() == 16.0
    assert two.n == (ds.labels == 1).sum() + (ds.labels == 8).sum()


def test_digits_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        load_digits(path=tmp_path / "nope.h5")
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        f["images"] = np.zeros((3, 10))
        f["labels"] = np.zeros(3)
    with pytest.raises(ValueError, match="must hold images"):
        load_digits(path=bad)
    with pytest.raises(ValueError, match="digits 0..9"):
        load_digits((1, 12))


def test_load_array_formats(tmp_path):
    arr = np.arange(12.0).reshape(4, 3)
    np.save(tmp_path / "a.npy", arr)
    np.savez(tmp_path / "b.npz", x=arr, y=arr[:, :2])
    with h5py.File(tmp_path / "c.h5", "w") as f:
        f.create_dataset("group/data", data=arr)
    np.testing.assert_array_equal(load_array(tmp_path / "a.npy"), arr)
    np.testing.assert_array_equal(load_array(tmp_path / "b.npz", "y"), arr[:, :2])
    np.testing.assert_array_equal(load_array(tmp_path / "c.h5", "group/data"), arr)
    np.testing.assert_array_equal(load_array(f"{tmp_path / 'c.h5'}:/group/data"), arr)
    assert load_array(tmp_path / "a.npy", dtype=np.float32).dtype == np.float32


def test_load_array_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_array(tmp_path / "missing.npy")
    np.save(tmp_path / "v.npy", np.arange(5.0))
    with pytest.raises(ValueError, match="2-D"):
        load_array(tmp_path / "v.npy")
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="NaN"):
        load_array(tmp_path / "nan.npy")
    np.savez(tmp_path / "two.npz", x=np.ones((2, 2)), y=np.ones((2, 2)))
    with pytest.raises(ValueError, match="pass key"):
        load_array(tmp_path / "two.npz")
    with pytest.raises(ValueError, match="no array"):
        load_array(tmp_path / "two.npz", "z")
    with h5py.File(tmp_path / "c.h5", "w") as f:
        f["d"] = np.ones((2, 2))
    with pytest.raises(ValueError, match="no dataset"):
        load_array(tmp_path / "c.h5", "nope")
    with pytest.raises(ValueError, match="give the dataset"):
        load_array(tmp_path / "c.h5")
    (tmp_path / "x.txt").write_text("1 2")
    with pytest.raises(ValueError, match="unknown data file type"):
        load_array(tmp_path / "x.txt")


def test_generator_bad_input():
    with pytest.raises(ValueError, match="n must be >= 1"):
        gaussian_mixture(0, 3)
    with pytest.raises(ValueError, match="d must be >= 1"):
        gaussian_mixture(5, -1)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_mixture(5, 3, sigma=np.nan)
    with pytest.raises(ValueError, match="symmetric"):
        ising(3, np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="square"):
        ising(3, np.ones((2, 3)))
