"""REM-level retrieval criterion (hopfield.criterion): exact overlap laws, the sampler, the decisions.

Statistical tests use fixed seeds; their thresholds (KS p-values, z-scores)
would fail on a wrong law or a biased sampler at these sample sizes, as the
deliberately wrong alternatives checked next to them show.
"""

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.special
import scipy.stats

import naive
from hopfield.capacity import _noise_moments, alpha_1, finite_size_alpha_1, success_window
from hopfield.criterion import (
    OverlapLaw,
    _SampleRunner,
    _multinomial,
    _multinomial_rows,
    binary_infinite_beta_thresholds,
    criterion_simulation,
    finite_size_signal_alpha,
    level_criteria,
    sample_overlaps,
)
from hopfield.patterns import random_patterns
from hopfield.threshold_series import rem_grid

ENSEMBLES = ["spherical", "gaussian", "binary"]


def _explicit_overlaps(ensemble, n, n_patterns, seed):
    """Overlaps of n_patterns - 1 explicit patterns with the first one, and that target's r_1."""
    xi = random_patterns(ensemble, n_patterns, n, seed=seed)
    q = xi[1:] @ xi[0] / n
    return q, float(xi[0] @ xi[0] / n)


# --------------------------------------------------------------------------
# Exact laws against explicit patterns
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n", [12, 40])
def test_spherical_overlaps_of_explicit_patterns_follow_the_beta_law(n):
    q, _ = _explicit_overlaps("spherical", n, 20001, seed=n)
    law = OverlapLaw("spherical", n)
    assert scipy.stats.kstest(q, law.cdf).pvalue > 1e-3
    # the law of dimension 1.25 N is rejected by the same data
    wrong = OverlapLaw("spherical", n + n // 4)
    assert scipy.stats.kstest(q, wrong.cdf).pvalue < 1e-3


@pytest.mark.parametrize("n,seed", [(12, 112), (40, 141)])
def test_gaussian_overlaps_are_normal_given_the_targets_norm(n, seed):
    q, r1 = _explicit_overlaps("gaussian", n, 20001, seed=seed)
    assert abs(r1 - 1) > 0.15  # seeds whose target norm is off by > 15 %: the conditioning matters
    assert scipy.stats.kstest(q, OverlapLaw("gaussian", n, r1).cdf).pvalue > 1e-3
    assert scipy.stats.kstest(q, OverlapLaw("gaussian", n, 1.0).cdf).pvalue < 1e-3


@pytest.mark.parametrize("n", [12, 40])
def test_binary_overlaps_count_binomial_disagreements(n):
    q, r1 = _explicit_overlaps("binary", n, 40001, seed=200 + n)
    assert r1 == 1.0
    law = OverlapLaw("binary", n)
    d = np.rint(n * (1 - q) / 2).astype(int)
    observed = np.bincount(d, minlength=n + 1)
    expected = law.probabilities * q.size
    keep = expected >= 5  # chi-square validity; merge the rest into one bin
    obs, exp = observed[keep], expected[keep]
    if not keep.all():
        obs, exp = np.append(obs, observed[~keep].sum()), np.append(exp, expected[~keep].sum())
    assert scipy.stats.chisquare(obs, exp).pvalue > 1e-3
    np.testing.assert_allclose(law.values[d], q, atol=1e-12)


@pytest.mark.parametrize("ensemble", ["spherical", "gaussian"])
def test_law_sampler_and_tail_sampler(ensemble):
    n = 30
    law = OverlapLaw(ensemble, n, 1.3 if ensemble == "gaussian" else 1.0)
    rng = np.random.default_rng(1)
    assert scipy.stats.kstest(law.sample(rng, 20000), law.cdf).pvalue > 1e-3
    sd = law.scale if ensemble == "gaussian" else 1 / math.sqrt(n)
    # cuts in every branch: below the mode (rejection from the whole law), near-flat, tangent exponential.
    for cut in (-0.5 * sd, 0.2 * sd, 1.5 * sd, 4 * sd):
        tail = law.sample_tail(rng, 20000, cut)
        assert tail.min() > cut
        mass = law.sf(cut)
        truncated = lambda x: (law.cdf(x) - (1 - mass)) / mass  # noqa: E731
        assert scipy.stats.kstest(tail, truncated).pvalue > 1e-3, cut
    assert sample_overlaps("binary", 20, 5, seed=1).shape == (5,)


@pytest.mark.parametrize("ensemble", ENSEMBLES)
@pytest.mark.parametrize("n", [16, 80])
def test_bulk_rule_and_tail_give_the_exact_moment_generating_function(ensemble, n):
    """sum_i p_i e^{kappa q_i} + E[e^{kappa q}; q > c] = M_0(kappa) (closed forms), ~1e-12."""
    law = OverlapLaw(ensemble, n)
    for fraction in (1e-3, 1e-9):
        cut = law.cutoff(fraction) if ensemble != "binary" else 1 - 2 * round(n * 0.2) / n
        q, p = law.bulk_rule(cut)
        for b in (0.25, 0.8, 1.2):
            kappa = b * n
            bulk = np.sum(p * np.exp(kappa * q))
            if ensemble == "binary":
                above = law.values > cut
                tail = np.sum(law.probabilities[above] * np.exp(kappa * law.values[above]))
            else:
                top = 1.0 if ensemble == "spherical" else cut + 40 * law.scale
                tail = scipy.integrate.quad(lambda x: math.exp(law.logpdf(x) + kappa * x), cut, top,
                                            epsabs=0, epsrel=1e-13, limit=200)[0]
            log_m0, _ = _noise_moments(ensemble, kappa, n, 1.0)
            assert math.log(bulk + tail) == pytest.approx(log_m0, abs=1e-10)


# --------------------------------------------------------------------------
# Decisions against the plain map iteration
# --------------------------------------------------------------------------


def _compare_with_map_iteration(n_cases, seed, max_levels):
    rng = np.random.default_rng(seed)
    verdicts = []
    for case in range(n_cases):
        ensemble = ENSEMBLES[case % 3]
        n = int(rng.integers(8, 32))
        beta = float(rng.choice([0.5, 0.8])) if ensemble == "gaussian" else float(rng.choice([0.5, 0.8, 2.0]))
        r1 = 1.0 if ensemble != "gaussian" else float(rng.standard_gamma(n / 2) * 2 / n)
        law = OverlapLaw(ensemble, n, r1)
        centre = finite_size_alpha_1(ensemble, min(beta, 0.9), n)
        n_levels = int(min(math.exp((centre + rng.uniform(-0.05, 0.05)) * n), max_levels))
        levels = law.sample(rng, n_levels)
        window = success_window(ensemble, beta)
        ok, signal, log_noise = level_criteria(levels, beta, n, signal_norm=r1, ensemble=ensemble)
        ref, _ = naive.line_map_retrieves(levels, beta, n, r1, window)
        assert ok == ref, (case, ensemble, n, beta)
        noise = scipy.special.logsumexp(beta * n * (levels - r1))
        assert log_noise == pytest.approx(noise, abs=1e-12 * max(1.0, abs(noise)))
        assert signal == (noise < 0)
        verdicts.append(ok)
    return verdicts


def test_level_criteria_against_iterating_the_map():
    """Same verdict as iterating m <- <q>/r_1 from 1 (tests/naive.py), both outcomes represented."""
    verdicts = _compare_with_map_iteration(12, 0, 3000)
    assert 2 <= sum(verdicts) <= 10  # both outcomes


@pytest.mark.slow
def test_level_criteria_against_iterating_the_map_many_cases():
    verdicts = _compare_with_map_iteration(60, 1, 20000)
    assert 8 < sum(verdicts) < 52


def test_multinomial_beyond_int64_has_the_right_moments():
    rng = np.random.default_rng(3)
    p = np.array([1e-22, 3e-18, 0.25, 0.75 - 1e-22 - 3e-18])
    n = 2**70
    draws = np.array([_multinomial(rng, n, p) for _ in range(4000)])
    mean = n * p
    # Poisson categories: mean 118 and 3.5e3; normal ones: relative sd ~ 1e-11.
    assert abs(draws[:, 0].mean() - mean[0]) < 5 * math.sqrt(mean[0] / 4000)
    assert draws[:, 0].var() == pytest.approx(mean[0], rel=0.1)
    assert abs(draws[:, 2].mean() - mean[2]) < 5 * math.sqrt(mean[2] * 0.75 / 4000)
    assert draws[:, 2].std() == pytest.approx(math.sqrt(mean[2] * 0.75), rel=0.1)


def test_exact_multinomial_has_the_multinomial_moments():
    """Conditional binomials (n <= 2^62): every row sums to n; means and covariances n p_i (d_ij - p_j).

    4000 draws of n = 1000: means within 4 standard errors, covariances
    within 15 % (their relative standard error is ~sqrt(2/4000) ~ 2 %).
    """
    rng = np.random.default_rng(4)
    p = np.array([0.2, 0.0, 0.3, 0.5])
    n = 1000
    draws = _multinomial_rows(rng, [n] * 4000, p)
    assert np.all(draws.sum(axis=1) == n) and np.all(draws[:, 1] == 0)
    cov = n * (np.diag(p) - np.outer(p, p))
    assert np.all(np.abs(draws.mean(axis=0) - n * p) < 4 * np.sqrt(np.diag(cov) / 4000) + 1e-12)
    np.testing.assert_allclose(np.cov(draws.T)[[0, 0, 2], [0, 2, 3]], cov[[0, 0, 2], [0, 2, 3]], rtol=0.15)


@pytest.mark.parametrize("n", [80, 112])
def test_bulk_nodes_next_to_the_cut_get_only_their_own_levels(n):
    """The sampler's categories of the production grid (Gaussian, beta = 0.8): counts of the top bulk nodes.

    Over the intervals below 2^62 levels and 20 samples, the three nodes
    next to the cut get a Poisson count of mean ``mu`` (the sum of n p_i):
    it must stay below ``mu + 6 sqrt(mu) + 6``. NumPy's multinomial put its
    round-off leftover (~1e-16 of the levels, thousands at n ~ 1e18) on the
    last node, the heaviest of the bulk, which made the production thresholds
    at N = 80, 112 jump off the theory.
    """
    beta = 0.8
    runner = _SampleRunner("gaussian", beta, n, rem_grid("gaussian", beta, n), 4096, np.random.SeedSequence(0))
    steps = [s for s in runner.steps if s <= 2**62]
    mu = 20 * float(np.sum(np.array(steps, dtype=np.float64))) * runner.categories[-3:].sum()
    top = 0.0
    for seed in range(20):
        counts = _multinomial_rows(np.random.default_rng(seed), steps, runner.categories)
        np.testing.assert_allclose(counts.sum(axis=1), steps, rtol=1e-15)  # float64 counts
        top += counts[:, -3:].sum()
    assert top < mu + 6 * math.sqrt(mu) + 6, (top, mu)


@pytest.mark.slow
def test_signal_criterion_at_large_n_against_drawing_the_top_levels():
    """Gaussian, beta = 0.8, N = 112, 3e17 to 2e21 levels (both count draws), against an independent reference.

    Reference per sample: r_1 ~ chi^2_N / N, then the ~20000 expected levels
    above z_0 sigma (Poisson count, drawn by inverting the normal tail) drawn
    one by one, and the levels below replaced by their mean, the closed form
    ``P e^{kappa^2 r_1 / (2N) - kappa r_1} Phi(z_0 - kappa sigma)``: below
    z_0 there are ~10^5 and more levels near the edge, so their sum's
    relative fluctuation is below 1 % (their mean is below the signal's
    threshold 1 at these loads). Per load the two fractions of 400 samples
    differ by less than 4 standard errors.
    """
    n, beta, samples = 112, 0.8, 400
    grid = rem_grid("gaussian", beta, n)  # the production grid: its nested intervals set the counts drawn
    at = np.searchsorted(grid, [0.36, 0.40, 0.44])
    alphas = grid[at]
    curve = criterion_simulation("gaussian", beta, n, grid, n_samples=samples, seed=5)
    rng = np.random.default_rng(6)
    kappa = beta * n
    reference = np.zeros((samples, alphas.shape[0]), dtype=bool)
    for s in range(samples):
        r1 = rng.chisquare(n) / n
        sigma = math.sqrt(r1 / n)
        for k, alpha in enumerate(alphas):
            p = math.exp(alpha * n)
            z0 = -scipy.special.ndtri(2e4 / p)
            count = rng.poisson(2e4)
            z = -scipy.special.ndtri(rng.random(count) * 2e4 / p)
            top = np.exp(kappa * (sigma * z - r1)).sum()
            bulk = p * math.exp(kappa**2 * r1 / (2 * n) - kappa * r1) * scipy.special.ndtr(z0 - kappa * sigma)
            reference[s, k] = top + bulk < 1.0
    p_ref = reference.mean(axis=0)
    p_sim = curve.signal_probability[at]
    se = np.sqrt((p_ref * (1 - p_ref) + p_sim * (1 - p_sim)) / samples) + 1e-3
    assert np.all(np.abs(p_sim - p_ref) < 4 * se), (p_sim, p_ref)
    assert p_ref.min() < 0.95  # the loads reach where the signal starts to fail


# --------------------------------------------------------------------------
# The sampler
# --------------------------------------------------------------------------


def test_criterion_simulation_depends_only_on_the_seed():
    alphas = [0.25, 0.3, 0.35]
    a = criterion_simulation("gaussian", 0.5, 24, alphas, n_samples=40, seed=7, tail_levels=64)
    b = criterion_simulation("gaussian", 0.5, 24, alphas, n_samples=40, seed=7, tail_levels=64, threads=3)
    np.testing.assert_array_equal(a.success, b.success)
    np.testing.assert_array_equal(a.log_noise, b.log_noise)
    np.testing.assert_array_equal(a.signal_norm, b.signal_norm)
    assert a.tail_fraction < 1  # the split path ran
    c = criterion_simulation("gaussian", 0.5, 24, alphas, n_samples=40, seed=8, tail_levels=64)
    assert not np.array_equal(a.log_noise, c.log_noise)


@pytest.mark.parametrize("ensemble", ["spherical", pytest.param("gaussian", marks=pytest.mark.slow)])
def test_split_levels_agree_with_drawing_every_level(ensemble):
    """Tail + Gauss-Legendre bulk (64 levels drawn) against all ~3000-8000 levels drawn.

    Per load, the two success fractions of 1500 samples each differ by less
    than 4 binomial standard errors; the log-noise distributions pass a
    two-sample KS test.
    """
    n, beta = 24, 0.5
    centre = finite_size_alpha_1(ensemble, beta, n)
    alphas = np.round(centre + np.array([-0.04, -0.01, 0.01, 0.04, 0.09]), 4)
    every = criterion_simulation(ensemble, beta, n, alphas, n_samples=1500, seed=1, tail_levels=10**6)
    split = criterion_simulation(ensemble, beta, n, alphas, n_samples=1500, seed=2, tail_levels=64)
    assert every.tail_fraction == 1 and split.tail_fraction < 0.05
    for name in ("probability", "signal_probability"):
        p1, p2 = getattr(every, name), getattr(split, name)
        pooled = 0.5 * (p1 + p2)
        se = np.sqrt(pooled * (1 - pooled) * 2 / 1500) + 1e-12
        assert np.all(np.abs(p1 - p2) < 4 * se + 1e-9), (name, p1, p2)
    assert scipy.stats.ks_2samp(every.log_noise[:, 2], split.log_noise[:, 2]).pvalue > 1e-3
    assert 0.05 < every.probability[1] and every.probability[-1] < 0.95  # a transition is inside


@pytest.mark.parametrize("ensemble,beta", [pytest.param("gaussian", 0.8, marks=pytest.mark.slow), ("binary", 0.5)])
def test_signal_criterion_equals_the_first_update_of_explicit_patterns(ensemble, beta):
    """P(w_1 > 1/2 at x = xi_1): REM level against the softmax over explicit patterns.

    Both estimate the same probability; 60 pattern sets x 24 targets against
    1500 REM samples, difference below 4 standard errors.
    """
    n = 16
    alphas = np.array([0.3, 0.45, 0.6]) if ensemble == "gaussian" else np.array([0.4, 0.5])
    rem = criterion_simulation(ensemble, beta, n, alphas, n_samples=1500, seed=3)
    for k, alpha in enumerate(alphas):
        n_patterns = int(round(math.exp(alpha * n)))
        hits = []
        for s in range(60):
            xi = random_patterns(ensemble, n_patterns, n, seed=1000 + s)
            hits.append(naive.first_step_log_weight(xi, np.arange(24), beta) > -math.log(2))
        p_full = np.mean(hits)
        p_rem = rem.signal_probability[k]
        se = math.sqrt(p_rem * (1 - p_rem) / 1500 + p_full * (1 - p_full) / (60 * 24)) + 1e-12
        assert abs(p_full - p_rem) < 4 * se + 1e-9, (alpha, p_full, p_rem)


def test_binary_thresholds_at_infinite_beta_against_direct_draws():
    """Typical pattern: no duplicate of the target; all patterns: no two equal (Demircigil et al.).

    2000 draws of P random 12-bit patterns at the integers around each
    crossing: the probabilities bracket 1/2 within 4 binomial standard errors
    (0.011); the limits are ln 2 and ln 2 / 2.
    """
    n = 12
    typical, every = binary_infinite_beta_thresholds(n)
    rng = np.random.default_rng(5)
    for alpha, event in ((typical, "typical"), (every, "all")):
        p_real = math.exp(alpha * n)
        fractions = []
        for p in (math.floor(p_real), math.ceil(p_real)):
            codes = rng.integers(0, 2**n, size=(2000, p))
            if event == "typical":
                ok = ~np.any(codes[:, 1:] == codes[:, :1], axis=1)
            else:
                ok = np.array([np.unique(row).size == p for row in codes])
            fractions.append(ok.mean())
        assert fractions[0] > 0.5 - 0.045 and fractions[1] < 0.5 + 0.045, (event, fractions)
    assert binary_infinite_beta_thresholds(400)[0] == pytest.approx(math.log(2), abs=1e-3)
    assert binary_infinite_beta_thresholds(400)[1] == pytest.approx(math.log(2) / 2, abs=1e-3)


@pytest.mark.parametrize("ensemble", ENSEMBLES)
def test_signal_threshold_theory_tends_to_alpha_1(ensemble):
    """Annealed w_1 = 1/2 threshold: exact for binary (ln M_0 = N ln cosh beta), O(1/N) otherwise."""
    for beta in (0.5, 0.8):
        far = finite_size_signal_alpha(ensemble, beta, 20000)
        assert far == pytest.approx(alpha_1(ensemble, beta), abs=3.0 / 20000)
    if ensemble == "binary":  # exact up to the P - 1 vs P term, ln(1 + e^{-N alpha_1}) / N = 1.4e-4 here
        value = finite_size_signal_alpha("binary", 0.5, 16)
        exact = alpha_1("binary", 0.5)
        assert value - exact == pytest.approx(math.log1p(math.exp(-16 * exact)) / 16, rel=1e-9)


def test_stratified_norms_are_unbiased():
    """Gaussian targets' norms in strata: each in its stratum, and the same probabilities as plain draws.

    600 samples each; per load the difference stays within 4 standard errors
    of the plain estimate (the stratified one has a smaller error).
    """
    n, beta = 24, 0.5
    alphas = np.round(finite_size_alpha_1("gaussian", beta, n) + np.array([-0.1, -0.03, 0.0, 0.04, 0.1]), 4)
    plain = criterion_simulation("gaussian", beta, n, alphas, n_samples=600, seed=8)
    strata = criterion_simulation("gaussian", beta, n, alphas, n_samples=600, seed=9, stratify=True)
    assert strata.stratified and not plain.stratified
    levels = scipy.stats.chi2.cdf(strata.signal_norm * n, n) * 600
    np.testing.assert_array_equal(np.floor(levels), np.arange(600))
    for name in ("probability", "signal_probability"):
        p1, p2 = getattr(plain, name), getattr(strata, name)
        se = np.sqrt(p1 * (1 - p1) / 600) + 1e-3
        assert np.all(np.abs(p1 - p2) < 4 * se), (name, p1, p2)
    with pytest.raises(ValueError, match="Gaussian"):
        criterion_simulation("binary", beta, n, alphas, n_samples=4, stratify=True)


def test_bad_input():
    with pytest.raises(ValueError, match="increasing"):
        criterion_simulation("binary", 0.5, 20, [0.3, 0.2])
    with pytest.raises(ValueError, match="alpha N"):
        criterion_simulation("binary", 0.5, 20000, [0.3])
    with pytest.raises(ValueError, match="n_features"):
        OverlapLaw("spherical", 2)
    with pytest.raises(ValueError, match="signal_norm"):
        OverlapLaw("binary", 10, 1.2)


# --------------------------------------------------------------------------
# Slow: against the full dynamics and the finite-N theory
# --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("ensemble", ENSEMBLES)
def test_full_dynamics_success_implies_line_success(ensemble):
    """Same patterns: the line reduction never fails where the full dynamics retrieves.

    The full dynamics can also fail where the line succeeds (it leaves the
    line: mixtures with a close pattern, and the orthogonal feedback); that
    shrinks with N. Measured here at N = 16 and 24 near the threshold.
    """
    from hopfield.streaming import stored_load_outcome

    beta = 0.5
    disagree = {}
    for n in (16, 24):
        window = success_window(ensemble, beta)
        alpha = finite_size_alpha_1(ensemble, beta, n)
        n_patterns = int(round(math.exp(alpha * n)))
        table = np.zeros((2, 2), dtype=int)
        for s in range(8):
            xi = random_patterns(ensemble, n_patterns, n, seed=50 + s)
            out = stored_load_outcome(xi, 32, beta, tol=1e-7, max_iter=1000)
            for t in range(32):
                q = xi @ xi[t] / n
                line, _, _ = level_criteria(np.delete(q, t), beta, n, signal_norm=q[t], ensemble=ensemble)
                full = out.nearest[t] == t and abs(out.overlap[t] - 1) < window
                table[int(line), int(full)] += 1
        assert table[0, 1] == 0, table
        disagree[n] = table[1, 0] / table.sum()
    assert disagree[24] <= disagree[16] + 0.03, disagree


@pytest.mark.slow
@pytest.mark.parametrize("ensemble", ["spherical", "binary"])
def test_rem_fixed_point_threshold_meets_the_annealed_map_at_large_n(ensemble):
    """At N = 64 the quenched noise is self-averaging: alpha_{1/2} = finite_size_alpha_1 to ~2e-3.

    The relative fluctuation of Z at the threshold is ~e^{-N(alpha + s(q_2b))/2}
    ~ 1e-4 here, so the REM-level transition sits at the annealed map's
    threshold; 2e-3 is the grid step.
    """
    n, beta = 64, 0.5
    centre = finite_size_alpha_1(ensemble, beta, n)
    alphas = np.round(centre + np.arange(-0.01, 0.0101, 0.002), 5)
    curve = criterion_simulation(ensemble, beta, n, alphas, n_samples=300, seed=4)
    prob = curve.probability
    assert prob[0] == 1.0 and prob[-1] == 0.0
    crossing = alphas[np.flatnonzero(prob < 0.5)[0]]
    assert abs(crossing - centre) <= 0.0021, (crossing, centre, prob)
