"""logsumexp and softmax against scipy.special, on awkward inputs."""

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from statmech import logsumexp, softmax

EPS64 = np.finfo(np.float64).eps


def _tolerance(values):
    """Absolute tolerance allowed beside rtol=1e-12.

    lse = m + log1p(s): when the result nearly cancels against the maximum m
    (e.g. m = -0.69, s = 1 gives lse ~ 0), any implementation, SciPy's
    included, has an absolute error of a few ulp of |m|, which no relative
    tolerance can cover. 4 ulp of the largest finite magnitude bounds it.
    """
    finite = np.abs(values[np.isfinite(values)])
    return 4 * EPS64 * (finite.max() if finite.size else 0.0)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, None])
def test_matches_scipy_on_every_axis(axis):
    a = np.random.default_rng(0).standard_normal((5, 7, 3)) * 300
    np.testing.assert_allclose(logsumexp(a, axis=axis), scipy.special.logsumexp(a, axis=axis), rtol=1e-12)
    np.testing.assert_allclose(softmax(a, axis=axis), scipy.special.softmax(a, axis=axis), rtol=1e-12, atol=1e-300)


def test_keepdims_shape():
    a = np.ones((4, 5, 6))
    assert logsumexp(a, axis=1, keepdims=True).shape == (4, 1, 6)
    assert logsumexp(a, axis=None, keepdims=True).shape == (1, 1, 1)


finite_or_neginf = st.one_of(
    st.floats(min_value=-1e308, max_value=1e308, allow_nan=False, allow_infinity=False),
    st.just(-np.inf),
    st.floats(min_value=-1e-300, max_value=1e-300),
)


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=12), elements=finite_or_neginf))
def test_logsumexp_matches_scipy_over_whole_float_range(a):
    ours = logsumexp(a, axis=-1)
    with np.errstate(over="ignore"):  # scipy's a - max(a) may overflow to -inf (harmlessly)
        ref = scipy.special.logsumexp(a, axis=-1)
    assert not np.any(np.isnan(ours))
    # scipy can overflow to +inf only if the true value exceeds the float range.
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=_tolerance(a))


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(-700, 700)), st.floats(-1e3, 1e3))
def test_shift_invariance(a, shift):
    # lse(a + c) = lse(a) + c; the tolerance covers rounding a + c (ulp of |a|+|c|).
    np.testing.assert_allclose(
        logsumexp(a + shift), logsumexp(a) + shift, rtol=1e-12, atol=8 * EPS64 * (np.abs(a).max() + abs(shift))
    )


def test_all_neginf_row_is_neginf_not_nan():
    a = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    out = logsumexp(a, axis=1)
    assert out[0] == -np.inf
    assert out[1] == 0.0


def test_single_element_and_posinf():
    assert logsumexp([3.5]) == 3.5
    assert logsumexp([1.0, np.inf, -np.inf]) == np.inf
    np.testing.assert_array_equal(softmax([1.0, np.inf, np.inf]), [0.0, 0.5, 0.5])


def test_float32_keeps_dtype_and_precision():
    a = np.random.default_rng(2).standard_normal((20, 50)).astype(np.float32) * 30
    out = logsumexp(a, axis=1)
    assert out.dtype == np.float32
    ref = scipy.special.logsumexp(a.astype(np.float64), axis=1)
    # computed in float64 and rounded once: within 1 float32 ulp.
    np.testing.assert_allclose(out, ref, rtol=np.finfo(np.float32).eps)
    w = softmax(a, axis=1)
    assert w.dtype == np.float32
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=4 * np.finfo(np.float32).eps)


def test_integer_input_is_converted():
    assert logsumexp(np.array([0, 0], dtype=np.int32)) == pytest.approx(np.log(2.0), rel=1e-15)


def test_softmax_sums_to_one_and_ignores_neginf():
    a = np.array([0.0, -np.inf, 1.0, -1000.0])
    w = softmax(a)
    assert w[1] == 0.0
    np.testing.assert_allclose(w.sum(), 1.0, rtol=1e-15)
    np.testing.assert_allclose(w, scipy.special.softmax(a), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.array([1.0, np.nan]), ValueError, "NaN"),
        (np.array([], dtype=float), ValueError, "empty"),
        (np.array([1 + 1j]), TypeError, "complex"),
        (np.array([object()], dtype=object), TypeError, "dtype object"),
        ("abc", TypeError, "real-valued"),
    ],
)
def test_bad_input(bad, error, match):
    with pytest.raises(error, match=match):
        logsumexp(bad)
    with pytest.raises(error, match=match):
        softmax(bad)


def test_bad_axis_and_undefined_softmax():
    with pytest.raises(ValueError, match="axis"):
        logsumexp(np.ones((2, 3)), axis=2)
    with pytest.raises(TypeError, match="axis"):
        logsumexp(np.ones((2, 3)), axis=1.5)
    with pytest.raises(ValueError, match="all -inf"):
        softmax(np.array([[0.0, 1.0], [-np.inf, -np.inf]]), axis=1)


def test_log_cosh_stable_and_exact():
    from statmech.lse import LN2, log_cosh

    u = np.array([0.0, 1e-8, -0.3, 2.0, -20.0, 400.0, 1e6])
    # Reference: log cosh = logaddexp(u, -u) - ln 2 (NumPy's stable two-term log-sum-exp).
    np.testing.assert_allclose(log_cosh(u), np.logaddexp(u, -u) - LN2, rtol=1e-15, atol=1e-16)
    # Absolute accuracy: a few ulps of max(|u|, ln 2) (u^2/2 itself is not resolved near 0).
    small = np.array([1e-3, 0.5, 3.0])
    error = np.abs(log_cosh(small) - np.log(np.cosh(small)))
    assert np.all(error <= 4 * np.finfo(float).eps * np.maximum(small, LN2)), error
    assert log_cosh(0.0) == 0.0 and np.isfinite(log_cosh(1e300))
