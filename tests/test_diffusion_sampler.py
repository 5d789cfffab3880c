"""Backward sampler: NumPy reference, reproducibility, nearest-neighbour tracking, cloning, theory."""

import math

import numba
import numpy as np
import pytest

import naive
from diffusion.datasets import gaussian_mixture
from diffusion.processes import ou_process, ve_process
from diffusion.sampler import backward_sample, backward_sample_two_gaussians
from diffusion.speciation import gm_phi, speciation_time


@pytest.fixture(scope="module")
def small():
    ds = gaussian_mixture(60, 5, seed=4)
    return ds


@pytest.mark.parametrize("process,ode", [(ou_process(), False), (ve_process(1.2), False),
                                         (ou_process(), True)])
def test_matches_numpy_reference(small, process, ode):
    times = process.time_grid(0.05, 3.0, 40, spacing="log")
    res = backward_sample(small.data, process, times, n_trajectories=9, seed=11, group_size=9,
                          record_nearest=True, ode=ode)
    x_ref, path_ref = naive.backward_sampler(small.data, process, times, 9, 11, ode=ode)
    # Same random numbers, same arithmetic up to round-off (chunked log-sum-exp, fast exp):
    # differences ~1e-14 per step, amplified at most by the step Jacobian over 40 steps.
    np.testing.assert_allclose(res.x, x_ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(res.nearest_path, path_ref)
    np.testing.assert_array_equal(res.nearest, path_ref[-1])


@pytest.mark.parametrize("method,ode", [("euler_maruyama", False), ("heun", False),
                                        ("exponential", False), ("euler_maruyama", True)])
def test_x0_equal_to_own_draw_is_bit_identical(small, method, ode):
    # x0 replaces the draw, which is still made: same noise, so the same numbers to the bit
    # (three groups, the last one short; clones, nearest-neighbour path, snapshots).
    p = ou_process()
    times = p.time_grid(0.02, 3.0, 30, spacing="log", include=[1.0, 0.3])
    kw = dict(centre=small.centre, clone_times=[1.0, 0.3], snapshot_times=[times[0], 0.3],
              record_nearest=True, method=method, ode=ode, seed=5, group_size=4)
    a = backward_sample(small.data, p, times, n_trajectories=10, **kw)
    x0 = naive.sampler_initial_states(small.data, p, times, 10, 5, 4)
    b = backward_sample(small.data, p, times, x0=x0, **kw)
    np.testing.assert_array_equal(a.snapshots[0], x0)
    for name in ("x", "nearest", "t_collapse", "classes", "nearest_path", "snapshots"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
    for name in ("phi", "phi_c"):
        np.testing.assert_array_equal(getattr(b.cloning, name), getattr(a.cloning, name))


@pytest.mark.parametrize("process", [ou_process(), ve_process(1.2)])
def test_x0_matches_numpy_reference_from_given_states(small, process):
    # States far from the sampler's own draw (so a sampler that ignored x0 fails), started
    # at the first grid time t_start = 0.8 < t_end; same noise as the reference.
    times = process.time_grid(0.05, 0.8, 40, spacing="log")
    x0 = 0.5 * small.data[:9] + np.linspace(-2.0, 2.0, 9 * 5).reshape(9, 5)
    res = backward_sample(small.data, process, times, x0=x0, seed=11, group_size=9,
                          record_nearest=True, snapshot_times=[0.8])
    x_ref, path_ref = naive.backward_sampler(small.data, process, times, 9, 11, x0=x0)
    assert res.x.shape == (9, 5)  # n_trajectories defaults to x0.shape[0]
    np.testing.assert_array_equal(res.snapshots[0], x0)
    np.testing.assert_allclose(res.x, x_ref, rtol=1e-9, atol=1e-9)  # round-off, as above
    np.testing.assert_array_equal(res.nearest_path, path_ref)


@pytest.mark.parametrize("ode", [False, True])
def test_x0_from_forward_marginal_gives_marginal_at_t_min(ode):
    # Data {a, -a}, |a| = 6; x0 ~ N(s a, Delta I) at t_start = 0.5 < t_end, the forward
    # marginal of the component a (4.6 standard deviations from the other side: its
    # posterior weight is < 1e-5 for all but ~0.05 of the 20000 starts). The exact backward
    # dynamics then ends in N(s a, Delta I) at t_min: own draws would put half near -a.
    p = ou_process()
    a = np.array([4.0, -4.0, 2.0])
    t_start, t_min, B = 0.5, 0.01, 20000
    times = p.time_grid(t_min, t_start, 100, spacing="log")
    z = np.random.default_rng(6).standard_normal((B, 3))
    x0 = p.s(t_start) * a + math.sqrt(p.delta(t_start)) * z
    res = backward_sample(np.stack([a, -a]), p, times, x0=x0, method="heun", ode=ode, seed=7)
    assert (res.nearest == 0).all()
    s, delta = p.s(t_min), p.delta(t_min)
    # Heun's own bias on this grid, from its exact moment recursion: < 0.2 s.e. of the
    # variance (delta sqrt(2/B), 1 %), so the tolerances below are statistical only.
    A, b, v = naive.heun_delta_moments(p, times, ode)
    assert abs(A * p.s(t_start) + b - s) * np.abs(a).max() < 0.2 * math.sqrt(delta / B)
    assert abs(A * A * p.delta(t_start) + v - delta) < 0.2 * delta * math.sqrt(2 / B)
    # mean: 4 s.e. sqrt(delta/B); covariance entries: 4 s.e. delta sqrt((1 + [i = j])/B).
    np.testing.assert_allclose(res.x.mean(0), s * a, rtol=0, atol=4 * math.sqrt(delta / B))
    se_cov = delta * np.sqrt((1 + np.eye(3)) / B)
    assert np.all(np.abs(np.cov(res.x.T) - delta * np.eye(3)) < 4 * se_cov)


def test_t_collapse_is_last_change_of_nearest_path(small):
    p = ou_process()
    times = p.time_grid(0.01, 3.0, 60, spacing="log")
    res = backward_sample(small.data, p, times, n_trajectories=20, seed=2, record_nearest=True)
    for i in range(20):
        changes = np.flatnonzero(res.nearest_path[1:, i] != res.nearest_path[:-1, i])
        expected = times[changes[-1] + 1] if changes.size else times[0]
        assert res.t_collapse[i] == expected


@pytest.mark.parametrize("with_x0", [False, True])
def test_reproducible_and_independent_of_batch_chunk_and_threads(small, with_x0):
    p = ou_process()
    times = p.time_grid(0.02, 3.0, 30, spacing="log", include=[1.0, 0.3])
    kw = dict(n_trajectories=40, centre=small.centre, clone_times=[1.0, 0.3], seed=7, group_size=8)
    if with_x0:
        kw["x0"] = np.random.default_rng(3).standard_normal((40, 5))
    a = backward_sample(small.data, p, times, batch_size=8, chunk_size=7, **kw)
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        b = backward_sample(small.data, p, times, batch_size=40, **kw)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_allclose(a.x, b.x, rtol=1e-10, atol=1e-10)  # chunked sums: round-off only
    np.testing.assert_array_equal(a.nearest, b.nearest)
    np.testing.assert_array_equal(a.cloning.phi, b.cloning.phi)
    np.testing.assert_array_equal(a.cloning.phi_c, b.cloning.phi_c)
    c = backward_sample(small.data, p, times, batch_size=16, **kw)
    np.testing.assert_array_equal(c.t_collapse, b.t_collapse)


def test_late_clones_end_on_the_same_point_and_classes(small):
    p = ou_process()
    times = p.time_grid(0.005, 3.0, 80, spacing="log", include=[0.006, 2.9])
    res = backward_sample(small.data, p, times, n_trajectories=64, labels=small.labels,
                          clone_times=[0.006, 2.9], seed=3)
    late = int(np.argmin(res.cloning.clone_times))
    # Cloned one step before t_min (Delta ~ 0.01 << squared distance between points ~ 10):
    # both copies stay on the same point.
    assert res.cloning.phi_c[late] == 1.0
    assert res.cloning.phi[late] == 1.0
    # End points sit on training points: |x - s a| ~ sqrt(d Delta(t_min)) ~ 0.2.
    gap = np.linalg.norm(res.x - p.s(0.005) * small.data[res.nearest], axis=1)
    assert gap.max() < 6 * math.sqrt(5 * p.delta(0.005))
    np.testing.assert_array_equal(res.classes, small.labels[res.nearest])


def test_population_phi_matches_eq6():
    # Exact population score, d = 32, 2000 pairs: phi within 3 binomial s.e. of eq. 6.
    # The Euler step dt = 0.02 biases phi by O(dt) ~ 1e-3 << s.e. ~ 1e-2.
    d = 32
    p = ou_process()
    ts = speciation_time(d + 1.0)
    clone = np.array([0.8, 1.0, 1.2]) * ts
    times = p.time_grid(0.02, 5.0, 249, include=clone)
    res = backward_sample_two_gaussians(np.ones(d), 1.0, p, times, n_trajectories=2000,
                                        clone_times=clone, seed=21)
    order = np.argsort(res.cloning.clone_times)
    theory = gm_phi(np.sort(clone), 1.0, 1.0, d, p)
    se = np.sqrt(theory * (1 - theory) / 2000)
    assert np.all(np.abs(res.cloning.phi[order] - theory) < 3 * se)


def test_single_gaussian_moments_at_t_min():
    # centre = 0: N(0, sigma^2 I). At t_min the law is N(0, s^2 sigma^2 + Delta).
    p = ou_process()
    d, B, sigma = 4, 20000, 1.5
    times = p.time_grid(0.01, 4.0, 200, spacing="log")
    res = backward_sample_two_gaussians(np.zeros(d), sigma, p, times, n_trajectories=B, seed=8,
                                        method="exponential")
    var = p.s(0.01) ** 2 * sigma**2 + p.delta(0.01)
    # mean: 4 s.e. sqrt(var/B); covariance entries: 4 s.e. ~ var sqrt(2/B) (diagonal).
    np.testing.assert_allclose(res.x.mean(0), 0.0, atol=4 * math.sqrt(var / B))
    cov = np.cov(res.x.T)
    np.testing.assert_allclose(cov, var * np.eye(d), atol=4 * var * math.sqrt(2 / B) + 0.01 * var)


def test_probability_flow_ode_is_exact_scaling_for_gaussian():
    # For N(0, v I) the ODE maps x(t0) to x(t) sqrt(Gamma_t / Gamma_t0) exactly; Heun is O(h^2).
    p = ou_process()
    times = p.time_grid(0.05, 3.0, 400, spacing="log")
    res = backward_sample_two_gaussians(np.zeros(3), 0.5, p, times, n_trajectories=16, ode=True,
                                        method="heun", seed=1, snapshot_times=[times[0]])
    gamma = lambda t: p.delta(t) + 0.25 * p.s(t) ** 2  # noqa: E731
    expected = res.snapshots[0] * math.sqrt(gamma(0.05) / gamma(3.0))
    np.testing.assert_allclose(res.x, expected, rtol=1e-4)


@pytest.mark.slow
def test_float32_runs_and_agrees_in_distribution(small):
    p = ou_process()
    times = p.time_grid(0.01, 3.0, 50, spacing="log")
    res = backward_sample(small.data.astype(np.float32), p, times, n_trajectories=32, seed=5,
                          dtype=np.float32, labels=small.labels)
    assert res.x.dtype == np.float32
    gap = np.linalg.norm(res.x - p.s(0.01) * small.data[res.nearest], axis=1)
    assert gap.max() < 6 * math.sqrt(5 * p.delta(0.01))


def test_bad_input(small):
    p = ou_process()
    times = p.time_grid(0.01, 3.0, 10)
    data = small.data
    with pytest.raises(ValueError, match="empty"):
        backward_sample(data, p, np.array([]))
    with pytest.raises(ValueError, match="decreasing"):
        backward_sample(data, p, times[::-1])
    with pytest.raises(ValueError, match="> 0"):
        backward_sample(data, p, np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="2-D"):
        backward_sample(data[0], p, times)
    with pytest.raises(ValueError, match="NaN"):
        backward_sample(np.full_like(data, np.nan), p, times)
    with pytest.raises(ValueError, match="labels"):
        backward_sample(data, p, times, labels=np.zeros(3, int))
    with pytest.raises(ValueError, match="on the time grid"):
        backward_sample(data, p, times, clone_times=[1.2345])
    with pytest.raises(ValueError, match="n_trajectories"):
        backward_sample(data, p, times, n_trajectories=0)
    with pytest.raises(ValueError, match="method"):
        backward_sample(data, p, times, method="rk4")
    with pytest.raises(ValueError, match="multiple of group_size"):
        backward_sample(data, p, times, batch_size=10, group_size=4)
    with pytest.raises(ValueError, match="not both"):
        backward_sample(data, p, times, labels=small.labels, centre=small.centre)
    with pytest.raises(ValueError, match="dimension"):
        backward_sample(data, p, times, centre=np.ones(3))


def test_bad_x0(small):
    p = ou_process()
    times = p.time_grid(0.01, 3.0, 10)
    data = small.data  # d = 5
    x0 = np.zeros((6, 5))
    with pytest.raises(ValueError, match=r"x0 must be 2-D, got shape \(5,\)"):
        backward_sample(data, p, times, x0=x0[0])
    with pytest.raises(ValueError, match=r"x0 must be 2-D, got shape \(1, 6, 5\)"):
        backward_sample(data, p, times, x0=x0[None])
    with pytest.raises(ValueError, match=r"x0 and data must have the same dimension d .*4 and 5"):
        backward_sample(data, p, times, x0=x0[:, :4])
    with pytest.raises(ValueError, match=r"n_trajectories must equal the number of rows of x0 \(6\)"
                                         r".*got 7"):
        backward_sample(data, p, times, x0=x0, n_trajectories=7)
    with pytest.raises(ValueError, match="x0 must not contain NaN"):
        backward_sample(data, p, times, x0=np.where(np.eye(6, 5) > 0, np.nan, 0.0))
    with pytest.raises(ValueError, match=r"x0 must not contain \+inf"):
        backward_sample(data, p, times, x0=np.full((6, 5), np.inf))
    with pytest.raises(ValueError, match="x0 must not be empty"):
        backward_sample(data, p, times, x0=np.zeros((0, 5)))
    with pytest.raises(TypeError, match="x0 must hold real numbers"):
        backward_sample(data, p, times, x0=np.full((6, 5), "a"))
    with pytest.raises(TypeError, match="n_trajectories must be an integer"):
        backward_sample(data, p, times, x0=x0, n_trajectories=6.0)
    # dtype policy: x0 follows the working dtype.
    assert backward_sample(data, p, times, x0=x0.astype(np.float32)).x.dtype == np.float64


@pytest.mark.slow
def test_empirical_phi_matches_eq6_with_many_data():
    # Exact empirical score of n = 2000 points from the mixture in d = 16:
    # t_C = 0.24 << t_S = 1.42, so around t_S P_t^e = P_t and phi follows eq. 6.
    # 3000 pairs; tolerance 3 binomial s.e. (theory value) per clone time.
    d, n, pairs = 16, 2000, 3000
    p = ou_process()
    ds = gaussian_mixture(n, d, seed=12, balanced=True)
    ts = speciation_time(d + 1.0)
    clone = np.array([0.7, 1.0, 1.3]) * ts
    times = p.time_grid(0.01, 5.0, 300, spacing="log", include=clone)
    res = backward_sample(ds.data, p, times, n_trajectories=pairs, centre=ds.centre,
                          clone_times=clone, seed=13, method="exponential")
    order = np.argsort(res.cloning.clone_times)
    theory = gm_phi(np.sort(clone), 1.0, 1.0, d, p)
    se = np.sqrt(theory * (1 - theory) / pairs)
    assert np.all(np.abs(res.cloning.phi[order] - theory) < 3 * se), (res.cloning.phi[order], theory)


@pytest.mark.slow
def test_empirical_sampler_reproduces_data_mean_and_covariance():
    # Training points from an anisotropic Gaussian; with the exact empirical score the
    # end points are (noised) training points drawn uniformly: their mean and covariance
    # are those of the data, within sampling error (4 s.e.) plus Delta(t_min) on the diagonal.
    rng = np.random.default_rng(5)
    d, n, B = 3, 400, 4000
    data = rng.standard_normal((n, d)) @ np.array([[1.0, 0.3, 0.0], [0.0, 0.7, 0.2], [0, 0, 0.4]])
    p = ou_process()
    times = p.time_grid(1e-3, 4.0, 200, spacing="log")
    res = backward_sample(data, p, times, n_trajectories=B, seed=9, method="exponential")
    s, delta = p.s(1e-3), p.delta(1e-3)
    mean, cov = data.mean(0), np.cov(data.T, ddof=0)
    scale = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(res.x.mean(0), s * mean, atol=4 * scale.max() / math.sqrt(B))
    target = s * s * cov + delta * np.eye(d)
    np.testing.assert_allclose(np.cov(res.x.T), target, atol=4 * scale.max() ** 2 * math.sqrt(2 / B))
