"""The statmech-level experiments `rem` and `curie-weiss` against direct computation and theory."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from statmech.experiments import curie_weiss, rem
from statmech.registry import get_experiment

LN2 = math.log(2.0)


def test_registered_under_their_entry_point_names():
    assert get_experiment("rem").func is rem
    assert get_experiment("curie-weiss").func is curie_weiss
    assert get_experiment("rem").warmup  # compiled once before a scan fans out


def test_rem_is_sampled_rem_reduced_and_compared_with_theory():
    from statmech.rem import sampled_rem

    M, samples = 12, 24
    betas = np.linspace(0.2, 4.0, 20)
    seed = np.random.SeedSequence(3, spawn_key=(7,))
    out = rem(seed=seed, M=M, samples=samples, beta_min=0.2, beta_max=4.0, n_beta=20)
    direct = sampled_rem(
        2**M, betas, n_samples=samples, seed=np.random.SeedSequence(3, spawn_key=(7,))
    )
    np.testing.assert_array_equal(out.coords["beta"], betas)
    np.testing.assert_array_equal(out.arrays["participation"][1], direct.participation)
    np.testing.assert_array_equal(out.arrays["log_z"][1], direct.log_z)
    # reductions: NumPy reference of the sample means and standard errors
    f = -direct.log_z / (betas * M)
    np.testing.assert_allclose(
        out.arrays["mean_participation"][1], direct.participation.mean(0), rtol=1e-15
    )
    np.testing.assert_allclose(
        out.arrays["sem_participation"][1],
        direct.participation.std(0, ddof=1) / math.sqrt(samples),
        rtol=1e-13,
    )
    np.testing.assert_allclose(out.arrays["free_energy"][1], f.mean(0), rtol=1e-15)
    # theory written out independently (PHYSICS.md §4, Derrida 1981 eq. 11)
    beta_c = 2.0 * math.sqrt(LN2)
    np.testing.assert_allclose(
        out.arrays["theory_participation"][1], np.maximum(0.0, 1.0 - beta_c / betas), rtol=1e-15
    )
    np.testing.assert_allclose(
        out.arrays["theory_free_energy"][1],
        np.where(betas <= beta_c, -LN2 / betas - betas / 4.0, -math.sqrt(LN2)),
        rtol=1e-14,
    )
    assert out.scalars["beta_c_theory"] == pytest.approx(beta_c, rel=1e-15)
    assert out.scalars["ground_state_per_M"] == pytest.approx(
        direct.min_energy.mean() / M, rel=1e-15
    )


def test_rem_high_temperature_free_energy_agrees_with_the_annealed_value():
    # For beta well below beta_c, E[ln Z] = ln E[Z] - Var Z / (2 E[Z]^2) + ..., with
    # ln E[Z] = M ln 2 + beta^2 M / 4 exactly (the theory) and Var Z / E[Z]^2 =
    # (exp(beta^2 M / 2) - 1) / 2^M. Tolerance: 4 standard errors of the sample mean
    # plus that (second-order) bias, doubled, in free-energy units (divided by beta M).
    M, samples = 14, 64
    out = rem(
        seed=np.random.SeedSequence(11), M=M, samples=samples, beta_min=0.1, beta_max=0.8, n_beta=8
    )
    beta = out.coords["beta"]
    bias = (np.expm1(beta**2 * M / 2.0) / 2.0**M) / (beta * M)
    deviation = np.abs(out.arrays["free_energy"][1] - out.arrays["theory_free_energy"][1])
    assert (deviation <= 4.0 * out.arrays["sem_free_energy"][1] + bias).all(), deviation
    # and E[Y] there is tiny: Y ~ e^{beta^2 M/2} / 2^M at high temperature (annealed estimate), x3 margin
    assert (out.arrays["mean_participation"][1] <= 3.0 * np.exp(beta**2 * M / 2.0) / 2.0**M).all()


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"M": 0}, "M must be >= 1"),
        ({"samples": 0}, "samples must be >= 1"),
        ({"n_beta": 1}, "n_beta must be >= 2"),
        ({"beta_min": -1.0}, "beta_min must be > 0"),
        ({"beta_min": 2.0, "beta_max": 1.0}, "beta_max must be > beta_min"),
        ({"beta_max": float("nan")}, "beta_max must not be NaN"),
    ],
)
def test_rem_refuses_bad_parameters(kwargs, fragment):
    params = dict(M=4, samples=2, beta_min=0.5, beta_max=2.0, n_beta=4)
    params.update(kwargs)
    with pytest.raises(ValueError, match=fragment):
        rem(seed=np.random.SeedSequence(0), **params)


def test_curie_weiss_finds_the_critical_point_and_mean_field_exponents():
    spec = get_experiment("curie-weiss")
    out = spec.run({}, seed=0)
    s = out.scalars
    # T_c is where the leading Jacobian eigenvalue sech^2(0)/T crosses 1: exactly 1 (brentq xtol 1e-13)
    assert abs(s["T_c"] - 1.0) < 1e-10
    # chi = 1/(T - 1) exactly above T_c (m = 0): only round-off, amplified by 1/(1 - J) <= 1e4
    np.testing.assert_allclose(
        out.arrays["chi_above"][1], out.arrays["chi_above_theory"][1], rtol=1e-9
    )
    tau_max = spec.defaults()["tau_max"]
    m_max = out.arrays["m_field"][1].max()
    # Corrections to scaling: m^2 = 3 tau (1 - tau)^2 (1 + O(tau)) gives an effective beta
    # 1/2 - O(tau), chi below likewise 1 + O(tau); h = m^3/3 + m^5/5 + ... gives delta = 3 + O(m^2).
    assert abs(s["beta_exponent"] - 0.5) <= tau_max
    assert abs(s["gamma_minus"] - 1.0) <= tau_max
    assert abs(s["gamma_plus"] - 1.0) <= 1e-9
    assert abs(s["delta_exponent"] - 3.0) <= m_max**2
    assert s["n_branches"] == 3
    stable = out.arrays["stable"][1]
    T = out.coords["T"]
    m = out.arrays["m"][1]
    # below T_c the two ordered branches are the stable ones, m = 0 is unstable
    low = T < 0.9
    zero = int(np.nanargmin(np.nanmax(np.abs(m), axis=1)))
    assert not stable[zero, low].any() and stable[zero, T > 1.1].all()


def test_curie_weiss_refuses_grids_that_miss_the_critical_point():
    with pytest.raises(ValueError, match="straddle T_c"):
        get_experiment("curie-weiss").run({"T_min": 1.1, "T_max": 2.0})
    with pytest.raises(ValueError, match="tau_min < tau_max"):
        get_experiment("curie-weiss").run({"tau_min": 0.1, "tau_max": 0.01})


@pytest.mark.slow
def test_rem_scan_is_identical_on_one_and_two_workers(tmp_path):
    from statmech.archive import open_archive
    from statmech.scan import parse_scan, run_scan

    scan = parse_scan(
        textwrap.dedent("""
        experiment = "rem"
        seeds = [0, 1]
        [fixed]
        samples = 4
        n_beta = 12
        [grid]
        M = [10, 17]
    """),
        "rem.toml",
    )
    run_scan(scan, tmp_path / "one.h5", jobs=1)  # in this process: Numba may use both cores
    run_scan(scan, tmp_path / "two.h5", jobs=2)  # two workers of one Numba thread each
    with open_archive(tmp_path / "one.h5") as a, open_archive(tmp_path / "two.h5") as b:
        assert sorted(a.run_ids) == sorted(b.run_ids) and len(a) == 4
        for rid in a.run_ids:
            ra, rb = a.load(rid), b.load(rid)
            for name in ra.arrays:
                np.testing.assert_array_equal(ra.arrays[name][1], rb.arrays[name][1])


# -- resource estimates and reports of every registered experiment (issue 9, items 6 and 7) -------------------


def _registered():
    from statmech.registry import available_experiments

    return [name for name in available_experiments() if not name.startswith("toy")]


def test_every_registered_experiment_estimates_its_resources_and_reports():
    from statmech.runs.resources import Resources

    names = _registered()
    assert len(names) >= 12
    for name in names:
        spec = get_experiment(name)
        assert spec.resources is not None and spec.report is not None, name
        for params in ({}, spec.warmup or {}):
            estimate = spec.estimate(params)
            assert isinstance(estimate, Resources) and estimate.memory >= 0, name
            assert estimate.seconds is not None and estimate.seconds >= 0, name
            assert estimate.memory_driver and estimate.time_driver, name
        assert spec.estimate(spec.warmup or {}).peak_memory < 2**30, name  # warm-ups are tiny


@pytest.mark.parametrize(
    "name, params",
    [
        ("collapse", {"dims": "64,128", "n_data": 5000, "n_samples": 200, "n_times": 6, "n_finite": 0}),
        ("speciation", {"dims": "64", "n_pairs": 2000, "n_x": 3, "dt": 0.1}),
        ("pitchfork", {"n_grid": 150, "n_points": 50}),
        ("rem-condensation", {"sizes": "8,11", "dimension": 256, "n_samples": 2, "n_beta": 5}),
        ("classical-capacity", {"sizes": "300,400", "n_alpha": 3, "n_sets": 1, "n_targets": 4}),
    ],
)
def test_memory_estimates_bound_the_measured_peak(name, params):
    # tracemalloc sees NumPy's allocations. An estimate is meant to refuse what cannot fit, so it
    # must not fall far below the peak; and not be so far above it that it refuses what fits.
    import tracemalloc

    spec = get_experiment(name)
    spec.run(spec.warmup or {}, seed=0)  # compile first: Numba's own allocations are not the run's
    estimate = spec.estimate(params)
    tracemalloc.start()
    try:
        spec.run(params, seed=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert estimate.memory >= 0.8 * peak, (estimate.memory, peak)
    assert estimate.memory <= 10 * peak + 64e6, (estimate.memory, peak)


def test_a_huge_gaussian_mixture_is_refused_before_allocating():
    import time

    from statmech.memory import InsufficientMemoryError

    diffusion = pytest.importorskip("diffusion")
    start = time.monotonic()
    with pytest.raises(InsufficientMemoryError, match=r"gaussian_mixture\(n=1000000000, d=1000000\) would need"):
        diffusion.gaussian_mixture(10**9, 10**6)
    assert time.monotonic() - start < 5  # a bare MemoryError after 25 s before
    with pytest.raises(MemoryError):
        diffusion.gaussian_mixture(10**9, 10**6)
    with pytest.raises(ValueError):  # callers that refuse bad sizes with ValueError see it too
        diffusion.gaussian_mixture(10**9, 10**6)


def test_reports_of_the_statmech_experiments():
    rem_report = get_experiment("rem").report(get_experiment("rem").run({"M": 8, "samples": 4, "n_beta": 5}))
    assert "beta_c = 2 sqrt(ln 2) = 1.6651" in rem_report and len(rem_report.splitlines()) == 9
    assert "largest deviation from the exact finite-N mean" in rem_report
    cw = get_experiment("curie-weiss")
    text = cw.report(cw.run({}))
    assert "T_c" in text and "delta" in text
