"""Pattern ensembles and the memory guard (hopfield.patterns)."""

import math

import numpy as np
import pytest

from hopfield.patterns import (
    as_patterns,
    check_memory,
    patterns_for_alpha,
    random_patterns,
)


def test_spherical_rows_have_norm_sqrt_n():
    xi = random_patterns("spherical", 50, 17, seed=1)
    np.testing.assert_allclose(np.linalg.norm(xi, axis=1), math.sqrt(17), rtol=1e-14)


def test_binary_entries_are_pm_one_and_balanced():
    xi = random_patterns("binary", 400, 50, seed=2)
    assert set(np.unique(xi)) == {-1.0, 1.0}
    # mean of 20000 fair +-1 entries: standard error 1/sqrt(20000) = 0.007; 5 s.e.
    assert abs(xi.mean()) < 5 / math.sqrt(xi.size)


def test_gaussian_moments():
    xi = random_patterns("gaussian", 2000, 20, seed=3)
    n = xi.size
    # mean: s.e. 1/sqrt(n); variance: s.e. sqrt(2/n); 5 s.e. each.
    assert abs(xi.mean()) < 5 / math.sqrt(n)
    assert abs(xi.var() - 1) < 5 * math.sqrt(2 / n)


@pytest.mark.parametrize("ensemble", ["spherical", "gaussian", "binary"])
def test_prefixes_are_draws_and_seed_determines_everything(ensemble):
    big = random_patterns(ensemble, 9000, 8, seed=11)
    small = random_patterns(ensemble, 5000, 8, seed=11)
    np.testing.assert_array_equal(big[:5000], small)
    other = random_patterns(ensemble, 5000, 8, seed=12)
    assert not np.array_equal(small, other)


def test_float32_storage():
    xi = random_patterns("gaussian", 10, 4, seed=0, dtype=np.float32)
    assert xi.dtype == np.float32
    np.testing.assert_array_equal(xi, random_patterns("gaussian", 10, 4, seed=0).astype(np.float32))


def test_memory_guard_refuses_and_says_how_much():
    with pytest.raises(ValueError, match=r"would need .*bytes"):
        patterns_for_alpha(5.0, 100)
    with pytest.raises(ValueError, match="memory_limit"):
        random_patterns("gaussian", 1000, 1000, memory_limit=1000)
    assert check_memory(10, 10, memory_limit=800) == 800
    assert patterns_for_alpha(0.0, 10) == 1
    assert patterns_for_alpha(math.log(50) / 3, 3) == 50


@pytest.mark.parametrize(
    "call, exc",
    [
        (lambda: random_patterns("cubic", 3, 3), ValueError),
        (lambda: random_patterns(3, 3, 3), TypeError),
        (lambda: random_patterns("binary", 0, 3), ValueError),
        (lambda: random_patterns("binary", 3, -1), ValueError),
        (lambda: random_patterns("binary", 2.5, 3), TypeError),
        (lambda: patterns_for_alpha(-0.1, 3), ValueError),
        (lambda: patterns_for_alpha(float("nan"), 3), ValueError),
        (lambda: as_patterns(np.zeros((0, 3))), ValueError),
        (lambda: as_patterns(np.array([[1.0, np.nan]])), ValueError),
        (lambda: as_patterns(np.array([[1.0, np.inf]])), ValueError),
        (lambda: as_patterns(np.ones((2, 2), dtype=complex)), TypeError),
        (lambda: as_patterns(np.array([[1, 2]], dtype=object)), TypeError),
        (lambda: as_patterns(np.ones(3)), ValueError),
    ],
)
def test_bad_input(call, exc):
    with pytest.raises(exc):
        call()


def test_integer_patterns_are_converted():
    arr = as_patterns(np.array([[1, -1], [1, 1]]))
    assert arr.dtype == np.float64
