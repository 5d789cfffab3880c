"""Random energy model: kernels against SciPy, sampling against theory, the general solver.

References used here:
- ``_reference``: plain NumPy/SciPy (``scipy.special.logsumexp`` per beta and
  2 beta, participation from the shifted Boltzmann weights);
- closed forms: Derrida 1981 / Mézard–Parisi–Virasoro (PHYSICS.md §4);
- exact finite-N moments: ``E[Z]``, ``Var[Z]`` and ``E[min_j E_j]`` (the latter
  by quadrature of the extreme-value distribution).
"""

import math
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import naive
from statmech.rem import (
    BLOCK_SIZE,
    GeneralREM,
    quenched_rem,
    rem_critical_beta,
    rem_free_energy,
    rem_levels,
    rem_log_partition,
    rem_mean_participation,
    rem_participation_moments,
    sampled_rem,
)

EPS = np.finfo(np.float64).eps
LN2 = math.log(2.0)
BETA_C = 2.0 * math.sqrt(LN2)


# ---------------------------------------------------------------------------
# Tolerances against the plain NumPy/SciPy reference (naive.rem_reference)
# ---------------------------------------------------------------------------


def _log_z_atol(energies, betas):
    """Absolute tolerance on ``log Z`` beside ``rtol=1e-12``.

    Any implementation rounds ``beta E`` (or ``beta (E - E_min)``), an absolute
    error of ~ulp(beta max|E|) in the exponent, which passes unchanged into
    ``log Z``; 16 such ulp cover both sides' rounding and the final addition.
    """
    return 16 * EPS * np.max(betas) * 2 * np.max(np.abs(energies))


def _assert_matches_reference(result, energies, betas, y_rtol=1e-12):
    log_z, log_z2, y, e_min = naive.rem_reference(energies, betas)
    atol = _log_z_atol(energies, betas)
    shape = result.log_z.shape
    np.testing.assert_allclose(result.log_z, log_z.reshape(shape), rtol=1e-12, atol=atol)
    np.testing.assert_allclose(result.log_z_2beta, log_z2.reshape(shape), rtol=1e-12, atol=atol)
    # Y is a ratio of sums of terms in (0, 1]; each term carries at most
    # RESTART (32) ulp from the recurrence plus the exp error, and summation adds
    # ~sqrt(N) ulp: far below 1e-12 relative.
    np.testing.assert_allclose(result.participation, y.reshape(shape), rtol=y_rtol)
    np.testing.assert_array_equal(result.min_energy, e_min.reshape(result.min_energy.shape))


# ---------------------------------------------------------------------------
# Kernels against the reference
# ---------------------------------------------------------------------------

GRIDS = {
    "uniform64": np.linspace(0.05, 5.0, 64),
    "uniform_long": np.linspace(0.01, 8.0, 257),
    "geometric": np.geomspace(0.01, 8.0, 23),
    "descending": np.linspace(4.0, 0.1, 9),
    "unsorted": np.array([2.0, 0.3, 7.5, 1.1]),
    "single": np.array([1.7]),
    "two": np.array([0.5, 3.0]),
}


@pytest.mark.parametrize("grid", list(GRIDS))
def test_quenched_matches_scipy_across_blocks(grid):
    betas = GRIDS[grid]
    rng = np.random.default_rng(1)
    # A full block and a ragged second one: exercises the block merge.
    rows = 2 if betas.size <= 64 else 1  # keeps the SciPy reference under a few seconds
    energies = rng.standard_normal((rows, BLOCK_SIZE + 123)) * 3.0 + 5.0
    _assert_matches_reference(quenched_rem(energies, betas), energies, betas)


def test_quenched_1d_drops_the_sample_axis():
    energies = np.array([0.3, -1.2, 2.0, -1.2])
    res = quenched_rem(energies, [1.0, 2.0])
    assert res.log_z.shape == (2,) and res.participation.shape == (2,)
    assert res.min_energy.shape == ()
    assert res.n_levels == 4 and res.n_samples == 1
    _assert_matches_reference(res, energies, [1.0, 2.0])


def test_integer_energies_are_converted():
    res = quenched_rem(np.array([[3, 1, 4, 1, 5]]), np.array([1, 2]))
    _assert_matches_reference(res, np.array([[3.0, 1, 4, 1, 5]]), np.array([1.0, 2.0]))


def test_single_level_and_degenerate_levels():
    # One level: Z = exp(-beta E), Y = 1. n equal levels: Y = 1/n exactly.
    one = quenched_rem([[2.5]], [0.5, 1.0])
    np.testing.assert_array_equal(one.log_z, [[-1.25, -2.5]])
    np.testing.assert_array_equal(one.participation, [[1.0, 1.0]])
    many = quenched_rem(np.full((1, 1000), -3.0), [0.5, 1.0, 1.5])
    np.testing.assert_allclose(many.participation, 1e-3, rtol=1e-13)
    expected = math.log(1000) + 3.0 * np.array([[0.5, 1.0, 1.5]])
    np.testing.assert_allclose(many.log_z, expected, rtol=1e-14)


def test_normalised_log_z_and_free_energy_density():
    energies = np.random.default_rng(2).standard_normal(1024) * 4
    res = quenched_rem(energies, [0.7, 2.0])
    np.testing.assert_allclose(res.log_z_normalised, res.log_z - math.log(1024), rtol=0, atol=0)
    np.testing.assert_allclose(res.free_energy_density, -res.log_z / (res.betas * 10.0), rtol=1e-15)
    with pytest.raises(ValueError, match="n_levels >= 2"):
        quenched_rem([1.0], [1.0]).free_energy_density


def test_sampled_equals_quenched_on_its_levels_and_matches_scipy():
    n, betas = BLOCK_SIZE + 1000, np.linspace(0.2, 4.0, 40)
    res = sampled_rem(n, betas, n_samples=3, seed=11)
    levels = rem_levels(n, n_samples=3, seed=11)
    again = quenched_rem(levels, betas)
    # Same blocks, same kernel, same merge order: bit for bit.
    for name in ("log_z", "log_z_2beta", "participation", "min_energy"):
        np.testing.assert_array_equal(getattr(res, name), getattr(again, name))
    _assert_matches_reference(res, levels, betas)
    assert res.variance == pytest.approx(math.log2(n) / 2)
    assert res.n_levels == n and res.n_samples == 3 and res.block_size == BLOCK_SIZE


def test_sampled_non_uniform_grid_matches_scipy():
    betas = np.array([3.0, 0.25, 1.0, 2.2])
    res = sampled_rem(5000, betas, n_samples=2, variance=7.0, seed=5)
    _assert_matches_reference(res, rem_levels(5000, n_samples=2, variance=7.0, seed=5), betas)


def test_results_depend_only_on_the_seed_not_on_threads():
    betas = np.linspace(0.5, 3.0, 17)
    n = 3 * BLOCK_SIZE + 77
    one = sampled_rem(n, betas, n_samples=3, seed=3, threads=1)
    two = sampled_rem(n, betas, n_samples=3, seed=3, threads=2)
    five = sampled_rem(n, betas, n_samples=3, seed=3, threads=5)
    for other in (two, five):
        np.testing.assert_array_equal(one.log_z, other.log_z)
        np.testing.assert_array_equal(one.participation, other.participation)
        np.testing.assert_array_equal(one.min_energy, other.min_energy)
    levels = rem_levels(n, n_samples=3, seed=3)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        serial = quenched_rem(levels, betas)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        parallel = quenched_rem(levels, betas)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(serial.log_z, parallel.log_z)
    np.testing.assert_array_equal(serial.participation, one.participation)
    np.testing.assert_array_equal(quenched_rem(levels, betas, threads=3).log_z, one.log_z)


def test_progress_reports_every_block_and_changes_nothing():
    betas = np.linspace(0.5, 3.0, 5)
    n = 3 * BLOCK_SIZE + 77  # 4 blocks per sample
    calls = []
    with_progress = sampled_rem(n, betas, n_samples=5, seed=4, threads=2,
                                progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (20, 20) and all(t == 20 for _, t in calls)
    assert [d for d, _ in calls] == sorted({d for d, _ in calls})  # strictly increasing
    plain = sampled_rem(n, betas, n_samples=5, seed=4, threads=2)
    np.testing.assert_array_equal(with_progress.log_z, plain.log_z)


def test_seed_is_recorded_and_reproduces_the_run():
    betas = [1.0, 2.0]
    res = sampled_rem(1000, betas, n_samples=2, seed=None)
    seq = np.random.SeedSequence(res.seed_entropy, spawn_key=res.seed_spawn_key)
    np.testing.assert_array_equal(sampled_rem(1000, betas, n_samples=2, seed=seq).log_z, res.log_z)
    a = sampled_rem(1000, betas, n_samples=2, seed=1)
    b = sampled_rem(1000, betas, n_samples=2, seed=2)
    assert not np.array_equal(a.log_z, b.log_z)
    assert not np.array_equal(a.log_z[0], a.log_z[1])  # samples are distinct streams


def test_levels_are_iid_gaussian_with_the_given_variance():
    variance = 3.0
    levels = rem_levels(2 * BLOCK_SIZE, n_samples=2, variance=variance, seed=9)
    z = levels.ravel() / math.sqrt(variance)
    # KS against N(0,1) on 262144 draws: a p-value below 1e-4 would reject.
    assert scipy.stats.kstest(z, "norm").pvalue > 1e-4
    # Blocks and samples come from distinct streams: their correlation is
    # N(0, 1/B); 5 standard errors.
    bound = 5 / math.sqrt(BLOCK_SIZE)
    assert abs(np.corrcoef(levels[0, :BLOCK_SIZE], levels[0, BLOCK_SIZE:])[0, 1]) < bound
    assert abs(np.corrcoef(levels[0], levels[1])[0, 1]) < bound
    # Default variance is M/2 with M = log2 N, for N not a power of two too.
    default = rem_levels(3000, n_samples=1, seed=9)
    assert abs(default.var() / (math.log2(3000) / 2) - 1) < 5 * math.sqrt(2 / 3000)


def test_mean_ground_state_matches_extreme_value_quadrature():
    m, s = 12, 400
    res = sampled_rem(2**m, [1.0], n_samples=s, seed=21)
    expected = naive.rem_expected_minimum(2**m, math.sqrt(m / 2))
    se = res.min_energy.std(ddof=1) / math.sqrt(s)
    # 4 standard errors: a false alarm has probability ~6e-5.
    assert abs(res.min_energy.mean() - expected) < 4 * se


def test_high_temperature_log_z_matches_annealed_expansion():
    # For beta sigma small, Z self-averages: E ln Z = ln E Z - Var Z / (2 (E Z)^2)
    # + O(N^-2), with ln E Z = ln N + beta^2 sigma^2 / 2 and
    # Var Z / (E Z)^2 = (exp(beta^2 sigma^2) - 1) / N (exact Gaussian moments).
    m, s = 16, 100
    n, variance = 2**m, m / 2
    betas = np.array([0.1, 0.2, 0.3])
    res = sampled_rem(n, betas, n_samples=s, seed=8)
    x = betas**2 * variance
    expected = math.log(n) + x / 2 - np.expm1(x) / (2 * n)
    se = res.log_z.std(axis=0, ddof=1) / math.sqrt(s)
    # The neglected O(N^-2) term is ~1e-10, far below the standard error.
    assert np.all(np.abs(res.log_z.mean(axis=0) - expected) < 4 * se)


# ---------------------------------------------------------------------------
# Hypothesis: awkward energies
# ---------------------------------------------------------------------------

_AWKWARD = st.one_of(
    st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False),
    st.floats(-1e-300, 1e-300, allow_nan=False, allow_infinity=False),
    st.floats(-50, 50, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=150, deadline=None)
@given(
    energies=hnp.arrays(
        np.float64, st.tuples(st.integers(1, 3), st.integers(1, 40)), elements=_AWKWARD
    ),
    betas=hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(1e-3, 1.0)),
    uniform=st.booleans(),
)
def test_quenched_matches_scipy_on_awkward_energies(energies, betas, uniform):
    if uniform:
        betas = np.linspace(betas.min(), betas.min() + 1.0, betas.size)
    _assert_matches_reference(quenched_rem(energies, betas), energies, betas)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_levels=0), ValueError, "n_levels must be >= 1, got 0"),
        (dict(n_levels=-5), ValueError, "n_levels must be >= 1"),
        (dict(n_levels=10.0), TypeError, "n_levels must be an integer"),
        (dict(n_levels=2.5), TypeError, "n_levels must be an integer"),
        (dict(n_levels=True), TypeError, "n_levels must be an integer"),
        (dict(betas=[1.0, 0.0]), ValueError, "betas must be > 0"),
        (dict(betas=-1.0), ValueError, "betas must be > 0"),
        (dict(betas=[1.0, np.nan]), ValueError, "betas must not contain NaN"),
        (dict(betas=[np.inf]), ValueError, "betas must not contain \\+inf"),
        (dict(betas=[]), ValueError, "betas must not be empty"),
        (dict(betas=[[1.0]]), ValueError, "betas must be 1-D"),
        (dict(betas=[1 + 1j]), TypeError, "betas must hold real numbers"),
        (dict(betas=np.array([1.0], dtype=object)), TypeError, "betas must hold real numbers"),
        (dict(n_samples=0), ValueError, "n_samples must be >= 1"),
        (dict(variance=-1.0), ValueError, "variance must be >= 0"),
        (dict(variance=np.nan), ValueError, "variance must not be NaN"),
        (dict(variance=np.inf), ValueError, "variance must be finite"),
        (dict(variance=1e300, betas=[1e200]), ValueError, "overflow float64"),
        (dict(seed=-1), ValueError, "seed must be >= 0"),
        (dict(seed=1.5), TypeError, "seed must be"),
        (dict(threads=0), ValueError, "threads must be >= 1"),
        (dict(progress=3), TypeError, "progress must be callable"),
    ],
)
def test_sampled_rem_rejects_bad_input(kwargs, error, match):
    args = dict(n_levels=100, betas=[1.0])
    args.update(kwargs)
    n_levels, betas = args.pop("n_levels"), args.pop("betas")
    with pytest.raises(error, match=match):
        sampled_rem(n_levels, betas, **args)


@pytest.mark.parametrize(
    "energies, betas, error, match",
    [
        ([1.0, np.nan], [1.0], ValueError, "energies must not contain NaN"),
        ([1.0, np.inf], [1.0], ValueError, "energies must not contain \\+inf"),
        ([1.0, -np.inf], [1.0], ValueError, "energies must not contain -inf"),
        ([], [1.0], ValueError, "energies must not be empty"),
        (np.empty((3, 0)), [1.0], ValueError, "energies must not be empty"),
        (np.empty((0, 3)), [1.0], ValueError, "energies must not be empty"),
        (np.ones((2, 2, 2)), [1.0], ValueError, "energies must be 1-D or 2-D"),
        ([1 + 2j, 3.0], [1.0], TypeError, "energies must hold real numbers"),
        (np.array([1.0, "a"], dtype=object), [1.0], TypeError, "energies must hold real numbers"),
        ("abc", [1.0], TypeError, "energies must be a real-valued array"),
        ([1.0, 2.0], [0.0], ValueError, "betas must be > 0"),
        ([1.0, 2.0], [[1.0, 2.0]], ValueError, "betas must be 1-D"),
        ([1e300, -1e300], [1e8], ValueError, "overflow float64"),
        ([1e308, -1e308], [1e-300], ValueError, "overflow float64 in E_j - E_min"),
    ],
)
def test_quenched_rem_rejects_bad_input(energies, betas, error, match):
    with pytest.raises(error, match=match):
        quenched_rem(energies, betas)


def test_quenched_rem_rejects_bad_threads():
    with pytest.raises(ValueError, match="threads must be >= 1, got 0"):
        quenched_rem([1.0], [1.0], threads=0)
    with pytest.raises(TypeError, match="threads must be an integer"):
        quenched_rem([1.0], [1.0], threads=1.5)


# ---------------------------------------------------------------------------
# Gaussian REM theory
# ---------------------------------------------------------------------------


def test_critical_beta_closed_form():
    assert rem_critical_beta() == BETA_C
    np.testing.assert_allclose(rem_critical_beta(n_levels=2**20), BETA_C, rtol=1e-15)
    np.testing.assert_allclose(rem_critical_beta(n_levels=1000), BETA_C, rtol=1e-15)
    # General variance: beta_c = sqrt(2 ln N) / sigma.
    np.testing.assert_allclose(
        rem_critical_beta(n_levels=1000, variance=3.0),
        math.sqrt(2 * math.log(1000) / 3.0),
        rtol=1e-15,
    )


def test_free_energy_closed_form_both_sides():
    beta = np.array([0.3, 1.0, BETA_C, 2.0, 5.0])
    high = beta <= BETA_C
    # Derrida 1981, eq. 11 (per M, variance M/2, unnormalised Z).
    derrida = np.where(high, -LN2 / beta - beta / 4, -math.sqrt(LN2))
    np.testing.assert_allclose(rem_free_energy(beta), derrida, rtol=1e-15)
    # ln 2 / beta nearly cancels f at small beta: allow 2 ulp of |ln 2 / beta| ~ 1e-15 absolute.
    np.testing.assert_allclose(
        rem_free_energy(beta, normalised=True), derrida + LN2 / beta, rtol=1e-15, atol=1e-15
    )
    np.testing.assert_allclose(rem_log_partition(beta), -beta * derrida, rtol=1e-15)
    assert isinstance(rem_free_energy(2.0), float)
    # Continuous with a continuous first derivative (-energy) at beta_c: a
    # third-order (entropy-crisis) transition.
    h = 1e-6
    left, right = rem_log_partition(BETA_C - h), rem_log_partition(BETA_C + h)
    assert abs(right - left - 2 * h * math.sqrt(LN2)) < 1e-11
    # Scaling of the variance: beta^2 v / 2 with v = variance / M.
    np.testing.assert_allclose(
        rem_log_partition(0.5, n_levels=2**10, variance=20.0), LN2 + 0.25 * 2.0 / 2, rtol=1e-15
    )


def test_mean_participation_closed_form():
    np.testing.assert_array_equal(rem_mean_participation([1.0, BETA_C]), [0.0, 0.0])
    assert rem_mean_participation(2 * BETA_C) == pytest.approx(0.5, rel=1e-15)
    assert rem_mean_participation(3.0, beta_c=1.0) == pytest.approx(2 / 3, rel=1e-15)
    assert rem_mean_participation(3.0, beta_c=np.inf) == 0.0


@pytest.mark.parametrize(
    "func, kwargs, error, match",
    [
        (rem_free_energy, dict(beta=0.0), ValueError, "beta must be > 0"),
        (rem_free_energy, dict(beta=[1.0, -2.0]), ValueError, "beta must be > 0"),
        (rem_free_energy, dict(beta=np.nan), ValueError, "beta must not be NaN"),
        (rem_free_energy, dict(beta=[]), ValueError, "beta must not be empty"),
        (rem_free_energy, dict(beta=1j), TypeError, "beta must be a real number"),
        (rem_log_partition, dict(beta=1.0, n_levels=1), ValueError, "n_levels must be >= 2"),
        (rem_log_partition, dict(beta=1.0, variance=2.0), ValueError, "needs n_levels"),
        (rem_critical_beta, dict(n_levels=8, variance=0.0), ValueError, "variance must be > 0"),
        (rem_critical_beta, dict(n_levels=8.0), TypeError, "n_levels must be an integer"),
        (rem_mean_participation, dict(beta=1.0, beta_c=-1.0), ValueError, "beta_c must be > 0"),
    ],
)
def test_theory_rejects_bad_input(func, kwargs, error, match):
    with pytest.raises(error, match=match):
        func(**kwargs)


# ---------------------------------------------------------------------------
# General REM solver
# ---------------------------------------------------------------------------

BETAS_BOTH_SIDES = np.array([0.2, 0.9, 1.5, 1.66, 1.67, 2.5, 6.0])
SOLVER_RTOL = 1e-14  # bisection to the last ulp; analytic slopes


def test_general_solver_reproduces_the_gaussian_rem():
    rem = GeneralREM.gaussian()
    assert rem.critical_beta() == pytest.approx(BETA_C, rel=SOLVER_RTOL)
    assert rem.lowest_level == pytest.approx(-math.sqrt(LN2), rel=SOLVER_RTOL)
    b = BETAS_BOTH_SIDES
    np.testing.assert_allclose(rem.log_partition(b), rem_log_partition(b), rtol=SOLVER_RTOL)
    np.testing.assert_allclose(rem.free_energy(b), rem_free_energy(b), rtol=SOLVER_RTOL)
    expected_e = np.maximum(-BETAS_BOTH_SIDES / 2, -math.sqrt(LN2))
    np.testing.assert_allclose(rem.dominant_level(BETAS_BOTH_SIDES), expected_e, rtol=SOLVER_RTOL)
    np.testing.assert_allclose(
        rem.annealed_log_partition(b), LN2 + b**2 / 4, rtol=SOLVER_RTOL
    )
    np.testing.assert_allclose(
        rem.mean_participation(b), rem_mean_participation(b), rtol=SOLVER_RTOL
    )
    complexity = rem.complexity(BETAS_BOTH_SIDES)
    np.testing.assert_allclose(complexity, np.maximum(LN2 - BETAS_BOTH_SIDES**2 / 4, 0), atol=1e-15)
    # Other variance density: beta_c = sqrt(2 a / v).
    other = GeneralREM.gaussian(2.0, log_count=1.5)
    assert other.critical_beta() == pytest.approx(math.sqrt(1.5), rel=SOLVER_RTOL)


def test_general_solver_with_numeric_slope():
    # No slope given: a fourth-order central difference. For a quadratic s it
    # is exact up to rounding, ~eps |s| / h = 1e-13 with h = 1e-3; the
    # free energy is quadratic in the error of e*, hence near eps.
    rem = GeneralREM(lambda e: LN2 - e * e)
    assert rem.critical_beta() == pytest.approx(BETA_C, rel=1e-11)
    b = BETAS_BOTH_SIDES
    np.testing.assert_allclose(rem.log_partition(b), rem_log_partition(b), rtol=1e-13)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(entropy=3.0), TypeError, "entropy must be callable"),
        (dict(entropy=lambda e: -e * e, slope=1.0), TypeError, "slope must be None or callable"),
        (dict(entropy=lambda e: -e * e, lower=1.0, upper=-1.0), ValueError, "lower must be <"),
        (dict(entropy=lambda e: -e * e, lower=np.nan), ValueError, "lower must not be NaN"),
        (dict(entropy=lambda e: -e * e, log_count=np.inf), ValueError, "log_count must be finite"),
        (dict(entropy=lambda e: -e * e, log_count=-0.1), ValueError, "no level is populated"),
        (dict(entropy=lambda e: 0.0 * e + 1.0), ValueError, "no end found"),
        (dict(entropy=lambda e: math.nan), ValueError, "NaN"),
    ],
)
def test_general_solver_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        GeneralREM(**kwargs)


def test_general_solver_rejects_bad_beta():
    rem = GeneralREM.gaussian()
    for bad in (0.0, -1.0, np.nan, [1.0, 0.0]):
        with pytest.raises(ValueError, match="beta"):
            rem.log_partition(bad)


# ---------------------------------------------------------------------------
# Slow: convergence to theory, and memory at N = 2^30
# ---------------------------------------------------------------------------


def _errors(deviations):
    """Mean-over-beta |mean-over-samples deviation| and a per-sample linearisation.

    With ``d_s(beta)`` the deviation of sample ``s``, the error is
    ``mean_beta |mean_s d_s(beta)|``. Where the bias dwarfs the noise that equals
    ``mean_s L_s`` with ``L_s = mean_beta sign(mean d(beta)) d_s(beta)``, a mean
    of i.i.d. per-sample numbers whose standard error is ``sd(L)/sqrt(S)``.
    """
    mean = deviations.mean(axis=0)
    return np.mean(np.abs(mean)), (deviations * np.sign(mean)).mean(axis=1)


@pytest.mark.slow
def test_sampled_rem_approaches_theory_as_m_grows():
    """Errors of E[Y] and of ln Z / M against theory shrink over M = 12, 16, 20.

    Finite-size bias (why the errors are large and shrink slowly): near and
    below T_c the lowest levels decide; their extreme-value statistics put the
    effective condensation slope at lambda_N ~ (sqrt(2 ln N) - (ln ln N +
    ln 4 pi) / (2 sqrt(2 ln N))) / sigma < beta_c, so E[Y] - (1 - beta_c/beta) ~
    (beta_c - lambda_N) / beta and phi_N - phi ~ -beta (sqrt(ln 2) - |E[E_min]|/M)
    both decay only like ln M / M and are O(0.1) at these sizes. The test
    therefore asserts the *decrease*, each step by more than 2 standard errors
    of the paired per-sample difference (the three sizes share each sample's
    leading random numbers: block 0 of sample s is the same stream for every
    N), and bounds the frozen-phase errors at M = 20 by those leading-order
    biases plus 3 standard errors.
    """
    betas = np.linspace(0.5, 4.0, 36)
    s = 1000
    theory_y = rem_mean_participation(betas)
    theory_phi = rem_log_partition(betas)
    # E[Y] is resolved (its SE is small against the bias) around the transition.
    window = betas <= 2.0
    err_y, lin_y, err_phi, lin_phi, runs = {}, {}, {}, {}, {}
    for m in (12, 16, 20):
        res = sampled_rem(2**m, betas, n_samples=s, seed=2024)
        runs[m] = res
        err_y[m], lin_y[m] = _errors(res.participation[:, window] - theory_y[window])
        err_phi[m], lin_phi[m] = _errors(res.log_z / m - theory_phi)
    for small, large in ((12, 16), (16, 20)):
        for err, lin in ((err_y, lin_y), (err_phi, lin_phi)):
            paired = lin[small] - lin[large]
            se = paired.std(ddof=1) / math.sqrt(s)
            assert err[small] - err[large] > 2 * se, (small, large, err, se)
    # Frozen side at M = 20 within the leading finite-size bias + 3 SE.
    m, res = 20, runs[20]
    n, sigma = 2**m, math.sqrt(m / 2)
    frozen = betas >= 2.5
    ln_n = math.log(n)
    root = math.sqrt(2 * ln_n)
    lam = (root - (math.log(ln_n) + math.log(4 * math.pi)) / (2 * root)) / sigma
    y = res.participation[:, frozen]
    se_y = y.std(axis=0, ddof=1) / math.sqrt(s)
    bias_y = (BETA_C - lam) / betas[frozen]
    assert np.all(np.abs(y.mean(axis=0) - theory_y[frozen]) <= bias_y + 3 * se_y)
    phi = res.log_z[:, frozen] / m
    se_phi = phi.std(axis=0, ddof=1) / math.sqrt(s)
    bias = betas[frozen] * (math.sqrt(LN2) + naive.rem_expected_minimum(n, sigma) / m)
    assert np.all(np.abs(phi.mean(axis=0) - theory_phi[frozen]) <= bias + 3 * se_phi)


# Peak RSS is read from /proc/self/status (VmHWM, in KiB), which starts afresh in
# the new process; getrusage's ru_maxrss would inherit pytest's own peak across
# fork and exec and could hide any growth.
_MEMORY_PROBE = textwrap.dedent(
    """
    import sys
    from statmech.rem import quenched_rem, rem_levels, sampled_rem
    n = int(sys.argv[1])
    if sys.argv[2] == "stored":  # positive control: the levels held in memory
        res = quenched_rem(rem_levels(n, seed=7), [1.0, 2.0])
    else:
        res = sampled_rem(n, [1.0, 2.0], n_samples=1, seed=7)
    with open("/proc/self/status") as status:
        hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(hwm, res.min_energy[0], res.log_z[0, 0])
    """
)


def _peak_rss_kib(n_levels, mode="streamed"):
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(n_levels), mode],
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    ).stdout.split()
    return int(out[0]), float(out[1]), float(out[2])


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc for VmHWM")
def test_memory_does_not_grow_with_n():
    """N = 2^30 levels (8 GiB if stored) run in the same peak RSS as N = 2^20."""
    small, _, _ = _peak_rss_kib(2**20)
    large, e_min, log_z = _peak_rss_kib(2**30)
    # Per-thread block buffers are 0.5 MiB; allow 32 MiB of allocator noise,
    # against the 8192 MiB that storing the levels would take.
    assert large - small < 32 * 1024, (small, large)
    # The probe does see memory that grows with N: storing 2^23 levels (64 MiB).
    stored, _, _ = _peak_rss_kib(2**23, "stored")
    assert stored - small > 48 * 1024, (small, stored)
    # And the huge run is physically sane: its ground state lies within 6
    # Gumbel standard deviations (pi/sqrt(6) / sqrt(2 ln N) sigma) of the exact mean.
    m = 30
    sigma = math.sqrt(m / 2)
    sd = math.pi / math.sqrt(6) / math.sqrt(2 * m * LN2) * sigma
    assert abs(e_min - naive.rem_expected_minimum(2**m, sigma)) < 6 * sd
    assert log_z >= -e_min  # Z >= exp(-beta E_min) at beta = 1


# ---------------------------------------------------------------------------
# Exact finite-N participation moments
# ---------------------------------------------------------------------------


def test_participation_moments_one_and_two_levels():
    # N = 1: Y = 1. N = 2: Y = p^2 + (1 - p)^2 with p = sigmoid(beta (E_2 - E_1)),
    # E_2 - E_1 ~ N(0, 2 v): an independent one-dimensional quadrature.
    betas = np.array([0.3, 1.0, 4.0, 12.0])
    one = rem_participation_moments(betas, 1, variance=0.7)
    np.testing.assert_allclose(one.mean, 1.0, rtol=1e-13)
    np.testing.assert_allclose(one.second_moment, 1.0, rtol=1e-13)
    two = rem_participation_moments(betas, 2, variance=0.5)
    sd = 1.0  # sqrt(2 v)
    for k, beta in enumerate(betas):
        def y(diff, power, beta=beta):
            p = scipy.special.expit(beta * diff)
            return (p * p + (1 - p) ** 2) ** power * scipy.stats.norm.pdf(diff, scale=sd)

        for power, got in ((1, two.mean[k]), (2, two.second_moment[k])):
            want = scipy.integrate.quad(y, -np.inf, np.inf, args=(power,), epsabs=1e-15,
                                        epsrel=1e-13)[0]
            assert got == pytest.approx(want, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("m", [4, 6])
def test_participation_moments_against_sampled_rem(m):
    """Brute force: 20000 standard REMs of 2^M levels (the engine), E[Y] and E[Y^2] within 4 s.e."""
    betas = np.array([0.5, 1.5, 3.0, 6.0])
    samples = 20000
    res = sampled_rem(2**m, betas, n_samples=samples, seed=77 + m)
    theory = rem_participation_moments(betas, 2**m)
    y = res.participation
    # Standard errors from the theory's own spread (std of Y, and of Y^2 from the sample).
    se_mean = theory.std / math.sqrt(samples)
    se_second = (y * y).std(axis=0, ddof=1) / math.sqrt(samples)
    assert np.all(np.abs(y.mean(axis=0) - theory.mean) < 4 * se_mean), (y.mean(0), theory.mean)
    assert np.all(np.abs((y * y).mean(axis=0) - theory.second_moment) < 4 * se_second)
    # The M -> infinity formula is far off at these sizes: the finite-N curve is needed.
    frozen = betas > BETA_C
    assert np.all(np.abs(theory.mean - rem_mean_participation(betas))[frozen] > 10 * se_mean[frozen])


def test_participation_moments_tend_to_derrida():
    """Large M: E[Y] -> 1 - beta_c/beta, with the extreme-value shift of beta_c.

    At finite N the lowest levels form a Poisson process of density
    exp(beta_N x), beta_N = beta_c (1 - ln(4 pi ln N)/(4 ln N)) (the slope of
    the level density at the typical minimum), so E[Y] ~ 1 - beta_N/beta up to
    smaller corrections; below beta_c, E[Y] -> 0.
    """
    betas = np.array([0.8, 3.0, 5.0])
    limit = rem_mean_participation(betas)
    gaps, shifted = [], []
    for m in (16, 64, 256):
        mean = rem_participation_moments(betas, 2**m).mean
        ln_n = m * LN2
        beta_n = BETA_C * (1 - math.log(4 * math.pi * ln_n) / (4 * ln_n))
        gaps.append(np.abs(mean - limit))
        shifted.append(np.abs(mean[1:] - (1 - beta_n / betas[1:])))
    gaps, shifted = np.array(gaps), np.array(shifted)
    assert np.all(np.diff(gaps, axis=0) < 0)  # converging at every beta
    assert gaps[-1, 0] < 1e-30  # liquid side: E[Y] ~ e^{beta^2 v}/N -> 0
    # Frozen side (measured gaps at M = 16, 64, 256: 0.059, 0.020, 0.0060 at
    # beta = 3): slow, like 1/ln N. The extreme-value shift accounts for most
    # of it: what is left is under a fifth of the gap and shrinks faster.
    assert np.all(gaps[-1, 1:] < 1e-2)
    assert np.all(shifted[1:] < 0.2 * gaps[1:, 1:])
    assert np.all(np.diff(shifted, axis=0) < 0)


def test_participation_moments_bad_input():
    with pytest.raises(ValueError, match="beta must be > 0"):
        rem_participation_moments(0.0, 8)
    with pytest.raises(ValueError, match="n_levels must be >= 1"):
        rem_participation_moments(1.0, 0)
    with pytest.raises(ValueError, match="variance must be > 0"):
        rem_participation_moments(1.0, 8, variance=0.0)
    with pytest.raises(ValueError, match=r"n_levels must be <= 2\^512"):
        rem_participation_moments(1.0, 2**600)
