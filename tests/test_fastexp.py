"""The vectorisable exp used by every log-sum-exp loop, against numpy.exp."""

import numpy as np
import pytest

from statmech._fastexp import exp_nonpositive, exp_nonpositive_f32
from statmech._numba import kernel


@kernel
def _apply64(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive(x[i])


@kernel
def _apply32(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive_f32(x[i])


def test_float64_within_two_ulp_of_numpy_on_whole_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([-rng.uniform(0, 745, 200_000), -rng.uniform(0, 1, 50_000), [0.0, -0.0, -1e-300]])
    out = np.empty_like(x)
    _apply64(x, out)
    ref = np.exp(x)
    normal = ref > np.finfo(np.float64).tiny
    # numpy.exp is itself within ~1 ulp of the true value; 2 ulp bounds both errors.
    rel = np.abs(out[normal] - ref[normal]) / ref[normal]
    assert rel.max() <= 2 * np.finfo(np.float64).eps
    # Subnormal results: the absolute error is at most one subnormal step per scaling.
    assert np.abs(out[~normal] - ref[~normal]).max() <= 2 * 5e-324


def test_float64_edges():
    x = np.array([0.0, -np.inf, -746.0, -800.0, -1e308])  # all but the first underflow to 0
    out = np.empty_like(x)
    _apply64(x, out)
    assert out[0] == 1.0
    assert np.all(out[1:] == 0.0)


def test_float32_within_two_ulp_of_exact():
    rng = np.random.default_rng(1)
    x = (-rng.uniform(0, 104, 200_000)).astype(np.float32)
    out = np.empty_like(x)
    _apply32(x, out)
    ref = np.exp(x.astype(np.float64))  # exact to float32 precision
    normal = ref > np.finfo(np.float32).tiny
    rel = np.abs(out[normal] - ref[normal]) / ref[normal]
    assert rel.max() <= 2 * np.finfo(np.float32).eps
    assert np.abs(out[~normal] - ref[~normal]).max() <= 2 * 1.5e-45  # graceful underflow
    assert out.dtype == np.float32


@pytest.mark.parametrize("value, expected", [(0.0, 1.0), (-np.inf, 0.0), (-200.0, 0.0)])
def test_float32_edges(value, expected):
    out = np.empty(1, dtype=np.float32)
    _apply32(np.array([value], dtype=np.float32), out)
    assert out[0] == expected
