"""Every sampler protocol on every score model (diffusion.sampler with diffusion.models)."""

import numpy as np
import pytest

from diffusion.datasets import gaussian_mixture
from diffusion.models import (
    DenoiserFunction,
    EmpiricalModel,
    GaussianModel,
    ScoreFunction,
    SmoothedEmpiricalModel,
    TwoGaussiansModel,
)
from diffusion.processes import ou_process, ve_process
from diffusion.sampler import backward_sample, backward_sample_two_gaussians

P = ou_process()
FIELDS = ("x", "nearest", "t_collapse", "classes", "nearest_path", "snapshots")


@pytest.fixture(scope="module")
def small():
    return gaussian_mixture(40, 4, seed=3)


def _same(a, b, fields=FIELDS):
    for name in fields:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    if a.cloning is not None:
        for name in ("phi", "phi_c"):
            np.testing.assert_array_equal(getattr(a.cloning, name), getattr(b.cloning, name),
                                          err_msg=name)


@pytest.mark.parametrize("method,ode,dtype", [("euler_maruyama", False, np.float64),
                                              ("heun", False, np.float64),
                                              ("exponential", False, np.float64),
                                              ("euler_maruyama", True, np.float32),
                                              ("exponential", False, np.float32)])
def test_exact_model_reproduces_backward_sample_bit_for_bit(small, method, ode, dtype):
    times = P.time_grid(0.02, 3.0, 25, spacing="log", include=[1.0, 0.2])
    kw = dict(labels=small.labels, clone_times=[1.0, 0.2], snapshot_times=[0.2], record_nearest=True,
              method=method, ode=ode, seed=4, group_size=8, n_trajectories=20, dtype=dtype)
    today = backward_sample(small.data, P, times, **kw)
    generic = backward_sample(small.data, P, times, model=EmpiricalModel(small.data, P), **kw)
    without_data = backward_sample(None, None, times, model=EmpiricalModel(small.data, P), **kw)
    _same(generic, today)
    _same(without_data, today)
    assert generic.model.startswith("exact empirical model")


@pytest.mark.parametrize("method,ode", [("euler_maruyama", False), ("heun", True), ("exponential", False)])
def test_two_gaussians_model_reproduces_its_sampler_bit_for_bit(method, ode):
    centre = np.full(3, 0.8)
    times = P.time_grid(0.02, 3.0, 25, include=[0.5])
    kw = dict(n_trajectories=24, clone_times=[0.5], method=method, ode=ode, seed=6, group_size=8)
    today = backward_sample_two_gaussians(centre, 0.6, P, times, **kw)
    generic = backward_sample(None, None, times, model=TwoGaussiansModel(centre, 0.6, P), **kw)
    _same(generic, today, ("x", "classes", "snapshots"))
    np.testing.assert_array_equal(generic.cloning.phi, today.cloning.phi)


@pytest.mark.parametrize("h,method", [(0.0, "euler_maruyama"), (0.0, "heun"), (0.0, "exponential"),
                                      (0.4, "euler_maruyama"), (0.4, "heun")])
def test_python_path_agrees_with_compiled_path(small, h, method):
    """The empirical and smoothed models as plain functions (Python drift, k-NN tracking).

    (Exponential Euler at h > 0 is left out: a plain function's linear part is
    ``-(c2/Delta - k) y``, the compiled smoothed drift's ``-(c2/Delta' - k) y``;
    two different schemes of the same SDE.)
    """
    times = P.time_grid(0.05, 2.0, 20, spacing="log", include=[0.5])
    compiled_model = SmoothedEmpiricalModel(small.data, h, P)
    wrapped = DenoiserFunction(compiled_model.denoise, P)
    # Pure-noise start: a plain function's "marginal" is the noised training set, the
    # smoothed model's own marginal is wider by s^2 h^2.
    kw = dict(labels=small.labels, clone_times=[0.5], record_nearest=True, method=method, seed=9,
              n_trajectories=16, group_size=8, init="gaussian")
    compiled = backward_sample(small.data, P, times, model=compiled_model, **kw)
    python = backward_sample(small.data, P, times, model=wrapped, **kw)
    # Same noise, the same score computed in two orders of operations (round-off ~1e-15
    # per step, grown by the step Jacobian over 20 steps); the same nearest points.
    np.testing.assert_allclose(python.x, compiled.x, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(python.nearest_path, compiled.nearest_path)
    np.testing.assert_array_equal(python.t_collapse, compiled.t_collapse)
    np.testing.assert_array_equal(python.cloning.phi, compiled.cloning.phi)
    np.testing.assert_array_equal(python.cloning.phi_c, compiled.cloning.phi_c)


def test_plain_numpy_callable_runs_every_protocol(small):
    """A user's score function (plain NumPy) through SDE/ODE, every integrator, cloning, phi, phi_C, t^_C."""
    data = small.data
    mean, var = data.mean(axis=0), data.var(axis=0)

    def score(x, t):  # the diagonal Gaussian fitted to the data, written by hand
        s, delta = np.exp(-t), -np.expm1(-2 * t)
        return -(x - s * mean) / (s * s * var + delta)

    model = ScoreFunction(score, P)
    times = P.time_grid(0.02, 3.0, 15, spacing="log", include=[1.0, 0.3])
    for method in ("euler_maruyama", "heun", "exponential"):
        for ode in (False, True):
            res = backward_sample(data, P, times, model=model, method=method, ode=ode,
                                  labels=small.labels, clone_times=[1.0, 0.3], n_trajectories=16,
                                  group_size=8, seed=1, n_boot=50)
            assert res.x.shape == (16, 4) and np.isfinite(res.x).all()
            assert res.nearest.shape == (16,) and res.t_collapse.shape == (16,)
            assert res.cloning.phi.shape == res.cloning.phi_c.shape == (2,)
            assert res.cloning.phi_ci.low.shape == (2,) and res.t_collapse_ci is not None
    by_sign = backward_sample(data, P, times, model=model, centre=small.centre, n_trajectories=8,
                              group_size=8, seed=1, clone_times=[0.3])
    by_user = backward_sample(data, P, times, model=model, classifier=lambda x: x @ small.centre > 0,
                              n_trajectories=8, group_size=8, seed=1, clone_times=[0.3])
    np.testing.assert_array_equal(by_user.classes == 1, by_sign.classes == 1)
    np.testing.assert_array_equal(by_user.cloning.phi, by_sign.cloning.phi)
    no_data = backward_sample(None, P, times, model=ScoreFunction(score, P, d=4), init="gaussian",
                              n_trajectories=8, group_size=8, seed=1, centre=small.centre)
    assert no_data.nearest is None and no_data.t_collapse is None and no_data.classes.shape == (8,)


def test_final_step_returns_the_denoiser_output(small):
    times = P.time_grid(0.05, 2.0, 12)
    model = SmoothedEmpiricalModel(small.data, 0.3, P)
    kw = dict(model=model, n_trajectories=8, group_size=8, seed=2, snapshot_times=[0.05])
    plain = backward_sample(small.data, P, times, **kw)
    final = backward_sample(small.data, P, times, final_step=True, **kw)
    np.testing.assert_array_equal(final.snapshots[-1], plain.x)
    np.testing.assert_array_equal(final.x, model.denoise(plain.x, 0.05))
    dist = ((final.x[:, None, :] - small.data[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(final.nearest, dist.argmin(axis=1))
    assert final.final_step and not plain.final_step


@pytest.mark.parametrize("process", [P, ve_process(1.5)], ids=["ou", "ve"])
def test_gaussian_fit_init_has_the_noised_data_moments(small, process):
    """init='gaussian-fit' draws N(s m, s^2 C + Delta I) with the training set's m and C."""
    data = np.random.default_rng(0).standard_normal((500, 3)) @ np.array(
        [[1.0, 0.5, 0.0], [0.0, 0.6, 0.2], [0.0, 0.0, 0.3]]) + 1.0
    times = process.time_grid(0.1, 0.6, 2)
    res = backward_sample(data, process, times, n_trajectories=20000, seed=3, init="gaussian-fit",
                          snapshot_times=[0.6], n_boot=0, group_size=1000)
    mean, cov = GaussianModel.fit(data, process).marginal(0.6)
    x = res.snapshots[0]
    # 5 standard errors of a mean (sqrt(var/M)) and of a covariance entry (~sqrt(2/M) var).
    scale = np.sqrt(np.diag(cov)).max()
    np.testing.assert_allclose(x.mean(axis=0), mean, atol=5 * scale / np.sqrt(20000))
    np.testing.assert_allclose(np.cov(x.T), cov, atol=5 * np.sqrt(2 / 20000) * scale**2)


def test_bad_input(small):
    times = P.time_grid(0.05, 1.0, 6)

    def nan_late(x, t):
        out = np.zeros_like(x)
        if t < 0.3:
            out[2] = np.nan
        return out

    with pytest.raises(FloatingPointError, match=r"NaN at t=0\.2.* in row 2"):
        backward_sample(small.data, P, times, model=DenoiserFunction(nan_late, P),
                        n_trajectories=4, group_size=4, seed=0)
    with pytest.raises(TypeError, match="model must be a diffusion.models.Model"):
        backward_sample(small.data, P, times, model=3)
    with pytest.raises(TypeError, match="plain function is ambiguous"):
        backward_sample(small.data, P, times, model=lambda x, t: x)
    with pytest.raises(ValueError, match="data and the model must have the same dimension"):
        backward_sample(small.data[:, :3], P, times, model=TwoGaussiansModel(np.ones(4), 1.0, P))
    with pytest.raises(ValueError, match="labels name the class of each training point"):
        backward_sample(None, P, times, model=TwoGaussiansModel(np.ones(4), 1.0, P),
                        labels=small.labels)
    with pytest.raises(ValueError, match="init='marginal' draws from the noised training set"):
        backward_sample(None, P, times, model=DenoiserFunction(lambda x, t: x, P, d=4))
    with pytest.raises(ValueError, match="dimension d is unknown"):
        backward_sample(None, P, times, model=DenoiserFunction(lambda x, t: x, P), init="gaussian")
    with pytest.raises(ValueError, match="t must lie in the range of the ou process"):
        backward_sample(small.data, P, np.array([800.0, 1.0]))
    with pytest.raises(ValueError, match="init must be one of"):
        backward_sample(small.data, P, times, init="noise")
    with pytest.raises(TypeError, match="classifier must be callable"):
        backward_sample(small.data, P, times, classifier="sign")
    with pytest.raises(ValueError, match="classifier must return one class per end point"):
        backward_sample(small.data, P, times, classifier=lambda x: x, n_trajectories=4, group_size=4)
    with pytest.raises(ValueError, match="data must be the training set of the empirical model"):
        backward_sample(small.data[:10], P, times, model=EmpiricalModel(small.data, P))
    with pytest.raises(ValueError, match="differs from the model's own"):
        backward_sample(small.data, ve_process(), times, model=EmpiricalModel(small.data, P))
