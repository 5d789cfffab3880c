"""Excess entropy with common random numbers vs the per-time reference; finite-size theory; t_C vs eq. 10."""

import math

import numba
import numpy as np
import pytest
from scipy import optimize

from diffusion.collapse import (
    collapse_time,
    draw_collapse_samples,
    excess_entropy,
    gm_collapse_time,
    gm_excess_entropy,
    gm_excess_entropy_annealed,
    gm_excess_entropy_finite,
)
import naive
from diffusion.datasets import gaussian_mixture
from diffusion.processes import ou_process, ve_process


@pytest.mark.parametrize("process", [ou_process(), ve_process(0.7)])
def test_common_random_numbers_equal_per_time_reference(process):
    ds = gaussian_mixture(500, 24, seed=3)
    times = np.array([0.02, 0.1, 0.4, 1.0, 3.0])
    res = excess_entropy(ds.data, times, process, n_samples=64, seed=5, block_rows=10)
    nu, z = draw_collapse_samples(500, 24, 64, 5)
    ref = naive.excess_entropy_values(ds.data, times, process, nu, z)
    # Same draws, same formula reorganised: round-off of |x - s a|^2/(2 Delta) ~ 1e4 * 1e-16
    # at the smallest time, divided by d.
    np.testing.assert_allclose(res.per_sample, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.f, ref.mean(0), rtol=1e-12, atol=1e-12)


def test_independent_of_block_size_and_threads():
    ds = gaussian_mixture(300, 16, seed=2)
    times = np.linspace(0.1, 2.0, 7)
    a = excess_entropy(ds.data, times, n_samples=50, seed=1, block_rows=7)
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        b = excess_entropy(ds.data, times, n_samples=50, seed=1, block_rows=50)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(a.per_sample, b.per_sample)
    # Several blocks and several products per block (products of 256 samples):
    # blocks 256 + 256 + 88 (block_rows=7 rounds up to 256), 512 + 88 (300
    # rounds up to 512: two products in the first block), and one block of 600.
    runs = [excess_entropy(ds.data, times, n_samples=600, seed=1, block_rows=rows)
            for rows in (7, 300, None)]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.per_sample, runs[0].per_sample)


def test_large_d_uses_max_pass_and_stays_finite():
    # d = 2000: |z|^2/2 ~ 1000 > 600 triggers the max pass; compare with the reference.
    ds = gaussian_mixture(50, 2000, seed=4)
    times = np.array([0.05, 1.0])
    res = excess_entropy(ds.data, times, n_samples=4, seed=2)
    nu, z = draw_collapse_samples(50, 2000, 4, 2)
    np.testing.assert_allclose(res.per_sample, naive.excess_entropy_values(ds.data, times, ou_process(), nu, z),
                               rtol=1e-11, atol=1e-12)


def test_pruned_chunks_leave_the_result_unchanged():
    # Two far clusters stored one after the other, n = 300 (chunks of 64, a ragged
    # last one, one chunk straddling both clusters). About half the chunks of each
    # sample are skipped at these times (every term below e^-40/n of the own term),
    # at t = 1.5 a few; the per-time reference sums every term.
    rng = np.random.default_rng(7)
    d = 12
    data = np.concatenate([rng.standard_normal((150, d)) + 6.0,
                           rng.standard_normal((150, d)) - 6.0])
    times = np.array([0.05, 0.3, 0.8, 1.5])
    res = excess_entropy(data, times, n_samples=40, seed=3, block_rows=9)
    nu, z = draw_collapse_samples(300, d, 40, 3)
    np.testing.assert_allclose(res.per_sample, naive.excess_entropy_values(data, times, ou_process(), nu, z),
                               rtol=1e-12, atol=1e-12)


def test_theory_root_is_eq10():
    for n, d, sigma in [(20000, 64, 1.0), (20000, 1024, 1.0), (1000, 32, 0.5)]:
        tc = gm_collapse_time(n, d, sigma)
        root = optimize.brentq(lambda t: gm_excess_entropy(t, n, d, sigma, clamp=False),
                               1e-6, 20.0, xtol=1e-14)
        assert root == pytest.approx(tc, rel=1e-10)
    assert gm_excess_entropy(50.0, 20000, 64) == pytest.approx(math.log(20000) / 64, rel=1e-12)


def test_f_is_nonnegative_and_tends_to_alpha():
    ds = gaussian_mixture(2000, 8, seed=1)
    res = excess_entropy(ds.data, np.array([1e-3, 8.0]), n_samples=400, seed=3)
    assert (res.per_sample > -1e-12).all()
    # At t = 8 every point looks alike: f^e -> alpha - (mixing entropy ~ 0 since classes merged)
    assert res.f[1] == pytest.approx(res.alpha, abs=4 * res.f_se[1] + 1e-3)
    # At t = 1e-3, Delta = 2e-3 while the closest pair of points is 0.12 apart (squared):
    # every other term is below exp(-0.12/(8 Delta)) ~ 5e-4 relative, times the rare
    # chance of sampling that pair: f^e ~ 0.
    assert abs(res.f[0]) < 1e-6


def test_finite_size_theory_equals_explicit_vectors():
    # The projection identity (3-D subspace + orthogonal chi2) against explicit d-vectors:
    # same draws, so agreement to round-off (1e-12 of values of order 1).
    times = np.array([0.05, 0.3, 1.0, 3.0])
    res = gm_excess_entropy_finite(times, 40, 7, 0.8, 1.3, n_samples=6, seed=11)
    ref = naive.gm_excess_entropy_explicit(times, 40, 7, 0.8, 1.3, 11, 6)
    np.testing.assert_allclose(res.per_sample, ref, rtol=1e-12, atol=1e-13)
    # The underflow-safe max pass (|z|^2/2 > 600 at d = 1500) gives the same as NumPy.
    big = gm_excess_entropy_finite(np.array([0.2, 2.0]), 5, 1500, n_samples=2, seed=3)
    np.testing.assert_allclose(big.per_sample, naive.gm_excess_entropy_explicit(
        np.array([0.2, 2.0]), 5, 1500, 1.0, 1.0, 3, 2), rtol=1e-11, atol=1e-13)


def test_finite_size_theory_does_not_depend_on_block_or_threads():
    times = np.linspace(0.1, 2.0, 7)
    a = gm_excess_entropy_finite(times, 300, 10, n_samples=37, seed=5)
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        b = gm_excess_entropy_finite(times, 300, 10, n_samples=37, seed=5, block_entries=1)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(a.per_sample, b.per_sample)


def test_simulation_matches_finite_size_theory_small():
    # f^e on 8 independent mixture data sets (n = 1000, d = 12, 500 samples each) against the
    # exact finite-size prediction (8000 samples). The MC error is the spread of the 8
    # data-set means (it includes the data-set-to-data-set fluctuation, which the per-sample
    # s.e. misses); 3 combined s.e. at each of 4 times.
    n, d = 1000, 12
    times = np.array([0.15, 0.35, 0.7, 1.5])
    means = np.array([excess_entropy(gaussian_mixture(n, d, seed=50 + r).data, times,
                                     n_samples=500, seed=60 + r).f for r in range(8)])
    mc, mc_se = means.mean(0), means.std(0, ddof=1) / math.sqrt(8)
    theory = gm_excess_entropy_finite(times, n, d, n_samples=8000, seed=1)
    assert np.all(np.abs(mc - theory.f) < 3 * np.hypot(mc_se, theory.f_se)), (mc, theory.f)


def test_median_criterion_is_the_half_weight_time():
    # Two samples: v = d f^e crosses log 2 at known times; the median of an odd number of
    # samples is the middle one.
    times = np.array([0.1, 0.2, 0.3, 0.4])
    per = np.array([[0.0, 0.1, 0.5, 0.9], [0.0, 0.3, 0.9, 1.5], [0.0, 0.0, 0.2, 0.6]]) / 4
    res = _result_from(per, times, d=4)
    ct = collapse_time(res, criterion="median", n_boot=0)
    # middle curve (first row): v crosses log 2 = 0.693 between 0.3 (0.5) and 0.4 (0.9)
    assert ct.t_c == pytest.approx(0.3 + 0.1 * (math.log(2) - 0.5) / 0.4, rel=1e-12)
    assert ct.criterion == "median" and ct.found
    with pytest.raises(ValueError, match="per-sample"):
        collapse_time(_result_from(per, times, d=4, keep=False), criterion="median")
    with pytest.raises(ValueError, match="criterion"):
        collapse_time(res, criterion="mean")


def _result_from(per, times, d, keep=True):
    from diffusion.collapse import ExcessEntropy
    return ExcessEntropy(times=times, f=per.mean(0), f_se=per.std(0, ddof=1), alpha=math.log(10) / d,
                         per_sample=per if keep else None, n=10, d=d, n_samples=per.shape[0],
                         seed_entropy=0, spawn_key=())


@pytest.mark.slow
def test_collapse_time_matches_finite_size_theory_at_n_20000():
    # n = 20000 from the mixture, d = 64 and 256, 2000 shared samples; exact finite-size
    # prediction from 2000 samples. (1) f^e at 25 times within 3.5 combined s.e. (25
    # correlated points: 3.5 sigma keeps the false-alarm rate below 1.2 %). (2) t_C by both
    # criteria within 3 combined bootstrap s.e. (3) Above t_C + 0.3 the annealed curve
    # agrees too (the sum over the other points is self-averaging there).
    n = 20000
    for d in (64, 256):
        tc = gm_collapse_time(n, d)
        times = np.linspace(tc - 0.3, tc + 0.9, 25)
        sim = excess_entropy(gaussian_mixture(n, d, seed=d).data, times, n_samples=2000, seed=d + 1)
        theory = gm_excess_entropy_finite(times, n, d, n_samples=2000, seed=d + 2)
        assert np.all(np.abs(sim.f - theory.f) < 3.5 * np.hypot(sim.f_se, theory.f_se))
        for criterion in ("level", "median"):
            a = collapse_time(sim, criterion=criterion, n_boot=200)
            b = collapse_time(theory, criterion=criterion, n_boot=200)
            assert a.found and b.found
            assert abs(a.t_c - b.t_c) < 3 * math.hypot(a.t_c_se, b.t_c_se), (d, criterion, a, b)
        high = times >= tc + 0.3
        ann, ann_se = gm_excess_entropy_annealed(times[high], n, d, n_samples=4000, seed=1)
        assert np.all(np.abs(sim.f[high] - ann) < 3.5 * np.hypot(sim.f_se[high], ann_se))


@pytest.mark.slow
def test_median_collapse_time_converges_to_eq10():
    # Finite-size scaling at fixed alpha = log(n)/d = 0.15, d = 32..64 (n = 122..14765),
    # exact finite-size prediction (4000 samples each). The median-criterion t_C minus
    # eq. 10 is fitted by a + b/d (the corrections to log(Z'/Z_nu) are O(1) in nats: log 2
    # for the n/2 points of the own class, and the quenched correction of the other
    # points' random energy model, which is critical at t_C; divided by d f'(t_C) they
    # shift t by O(1/d)). The limit a must be 0 within 3 s.e. (inflated by
    # sqrt(chi2/dof) when the fit is poorer than the bootstrap errors), and b > 0 (late:
    # the quenched sum is below the annealed one). For contrast, the level criterion
    # converges only like d^{-1/2}.
    alpha = 0.15
    dims = np.array([32, 40, 48, 56, 64])
    dev, se = [], []
    for d in dims:
        n = int(round(math.exp(alpha * d)))
        tc = gm_collapse_time(n, d)
        times = np.linspace(tc - 0.2, tc + 0.35, 45)
        ct = collapse_time(gm_excess_entropy_finite(times, n, d, n_samples=4000, seed=int(d)),
                           criterion="median", n_boot=300)
        assert ct.found
        dev.append(ct.t_c - tc)
        se.append(ct.t_c_se)
    dev, se = np.array(dev), np.array(se)
    design = np.stack([np.ones(dims.size), 1.0 / dims], axis=1)
    weights = 1.0 / se**2
    cov = np.linalg.inv(design.T @ (design * weights[:, None]))
    (a, b) = cov @ design.T @ (weights * dev)
    chi2 = float((((design @ np.array([a, b])) - dev) ** 2 * weights).sum())
    inflate = max(1.0, math.sqrt(chi2 / (dims.size - 2)))
    a_se = math.sqrt(cov[0, 0]) * inflate
    assert abs(a) < 3 * a_se, (a, a_se, dev, se)
    assert b > 3 * math.sqrt(cov[1, 1]) * inflate, (b, dev)
    assert a_se < 0.01  # resolves a limit offset of 0.03 (measured: a = -0.001 +- 0.008)


def test_bad_input():
    with pytest.raises(ValueError, match="empty"):
        excess_entropy(np.ones((5, 2)), np.array([]))
    with pytest.raises(ValueError, match="> 0"):
        excess_entropy(np.ones((5, 2)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="2-D"):
        excess_entropy(np.ones(5), np.array([1.0]))
    with pytest.raises(ValueError, match="n_samples"):
        excess_entropy(np.ones((5, 2)), np.array([1.0]), n_samples=1)
    with pytest.raises(ValueError, match="n must be"):
        gm_collapse_time(1, 10)
    with pytest.raises(TypeError):
        collapse_time("f")
    with pytest.raises(ValueError, match="d must be"):
        gm_excess_entropy_finite(np.array([1.0]), 100, 3)
    with pytest.raises(ValueError, match="sigma"):
        gm_excess_entropy_finite(np.array([1.0]), 100, 8, sigma=0.0)
    with pytest.raises(ValueError, match="empty"):
        gm_excess_entropy_finite(np.array([]), 100, 8)
    with pytest.raises(ValueError, match="> 0"):
        gm_excess_entropy_finite(np.array([0.0]), 100, 8)
