"""Confidence intervals (statmech.intervals): coverage at the nominal rate on known answers."""

import numpy as np
import pytest
from scipy.stats import binom

from statmech.intervals import binomial_ci, bootstrap_ci


def _coverage_of_mean(n_rep, n, p, n_boot, seed):
    rng = np.random.default_rng(seed)
    hits = 0
    for rep in range(n_rep):
        x = (rng.random(n) < p).astype(np.float64)
        ci = bootstrap_ci(x, n_boot=n_boot, seed=rep)
        hits += ci.low <= p <= ci.high
    return hits / n_rep


def test_bootstrap_of_a_proportion_covers_at_the_nominal_rate():
    """phi-like case: the mean of N = 300 Bernoulli(0.3) indicators, 300 repetitions.

    The percentile interval of a mean is first-order accurate; at N = 300 its
    true coverage is within a few 0.1 % of 95 %. Three standard errors of the
    observed rate: 3 sqrt(0.95 * 0.05 / 300) = 0.038.
    """
    rate = _coverage_of_mean(300, 300, 0.3, 400, seed=1)
    assert abs(rate - 0.95) < 0.038


@pytest.mark.slow
def test_bootstrap_coverage_of_mean_and_median_at_scale():
    """2000 repetitions each (3 s.e. = 0.015): a proportion, and the median of an exponential (t^_C-like)."""
    assert abs(_coverage_of_mean(2000, 500, 0.2, 1000, seed=2) - 0.95) < 0.015
    rng = np.random.default_rng(3)
    hits = 0
    true_median = np.log(2.0)
    for rep in range(2000):
        x = rng.exponential(size=301)
        ci = bootstrap_ci(x, lambda rows: np.median(rows, axis=0), n_boot=1000, seed=rep)
        hits += ci.low <= true_median <= ci.high
    assert abs(hits / 2000 - 0.95) < 0.015


def test_bootstrap_rows_are_units_and_statistics_see_the_same_resamples():
    rng = np.random.default_rng(4)
    base = rng.random((200, 1)) < 0.5
    samples = np.hstack([base, base ^ (rng.random((200, 1)) < 0.1)]).astype(np.float64)
    fast = bootstrap_ci(samples, n_boot=300, seed=9)
    generic = bootstrap_ci(samples, lambda rows: rows.mean(axis=0), n_boot=300, seed=9)
    np.testing.assert_allclose(fast.low, generic.low, rtol=1e-12)
    np.testing.assert_allclose(fast.se, generic.se, rtol=1e-12)
    np.testing.assert_allclose(fast.estimate, samples.mean(axis=0))
    assert fast.low.shape == (2,) and (fast.low <= fast.estimate).all() and (fast.estimate <= fast.high).all()
    # Whole rows are resampled: the difference of the two correlated columns has
    # s.e. sqrt(0.1/200) = 0.022, not the sqrt(2 * 0.25/200) = 0.05 of independent columns.
    diff = bootstrap_ci(samples, lambda rows: rows[:, 0].mean() - rows[:, 1].mean(), n_boot=300, seed=9)
    assert diff.se < 0.6 * np.hypot(*fast.se)
    again = bootstrap_ci(samples, n_boot=300, seed=9)
    np.testing.assert_array_equal(again.low, fast.low)


def test_bootstrap_leaves_out_undefined_resamples_and_refuses_mostly_undefined():
    x = np.arange(10.0)
    ci = bootstrap_ci(x, lambda r: np.nan if r[0] == 0 else r.mean(), n_boot=200, seed=0)
    assert 150 < ci.n_boot < 200
    with pytest.raises(ValueError, match="NaN for"):
        bootstrap_ci(x, lambda r: np.nan, n_boot=50)


def test_clopper_pearson_coverage_is_at_least_nominal_everywhere():
    """Exact coverage sum_x Binom(x; n, p) 1[p in CI(x)] over a grid of p (no simulation)."""
    n = 60
    ci = binomial_ci(np.arange(n + 1), n, confidence=0.9)
    for p in np.linspace(0.001, 0.999, 97):
        inside = (ci.low <= p) & (p <= ci.high)
        assert binom.pmf(np.arange(n + 1), n, p)[inside].sum() >= 0.9 - 1e-12
    assert ci.low[0] == 0.0 and ci.high[-1] == 1.0
    # Known value: x = 0 of n gives the upper bound 1 - (alpha/2)^(1/n).
    np.testing.assert_allclose(ci.high[0], 1 - 0.05 ** (1 / n), rtol=1e-10)


def test_bad_input():
    with pytest.raises(ValueError, match="at least 2 rows"):
        bootstrap_ci([1.0])
    with pytest.raises(ValueError, match="confidence must lie strictly between 0 and 1"):
        bootstrap_ci([1.0, 2.0], confidence=1.0)
    with pytest.raises(TypeError, match="statistic must be callable"):
        bootstrap_ci([1.0, 2.0], statistic=3)
    with pytest.raises(ValueError, match="samples must not contain NaN"):
        bootstrap_ci([1.0, np.nan])
    with pytest.raises(ValueError, match="successes must lie in"):
        binomial_ci(5, 4)
    with pytest.raises(TypeError, match="successes must be integers"):
        binomial_ci(0.5, 4)
