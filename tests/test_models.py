"""Score models (diffusion.models): closed forms, Tweedie conversions, wrappers, bad input."""

import numpy as np
import pytest

from naive import gaussian_denoiser_reference, smoothed_empirical_denoiser_reference
from diffusion.datasets import gaussian_mixture
from diffusion.models import (
    DenoiserFunction,
    EmpiricalModel,
    GaussianModel,
    Model,
    ScoreFunction,
    ScoreModel,
    SmoothedEmpiricalModel,
    TwoGaussiansModel,
    as_model,
)
from diffusion.processes import ou_process, ve_process
from diffusion.score import empirical_posterior, two_gaussians_score

OU = ou_process()
VE = ve_process(1.3)


def _setup(n=120, d=6, B=25, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n, d))
    x = rng.standard_normal((B, d))
    return data, x


@pytest.mark.parametrize("process", [OU, VE], ids=["ou", "ve"])
def test_exact_model_is_empirical_posterior_bit_for_bit(process):
    data, x = _setup()
    model = EmpiricalModel(data, process)
    post = empirical_posterior(data, x, 0.4, process)
    np.testing.assert_array_equal(model.denoise(x, 0.4), post.denoiser)
    np.testing.assert_array_equal(model.score(x, 0.4), post.score)
    assert isinstance(model, ScoreModel)


@pytest.mark.parametrize("process", [OU, VE], ids=["ou", "ve"])
@pytest.mark.parametrize("h", [0.0, 0.3, 2.0])
def test_smoothed_model_against_reference_scalar_and_per_row_times(process, h):
    data, x = _setup(seed=1)
    model = SmoothedEmpiricalModel(data, h, process)
    ref = smoothed_empirical_denoiser_reference(data, x, process.s(0.25), process.delta(0.25), h)
    # One Gibbs pass against the plain softmax: round-off of a weighted mean of
    # O(1) values, relative 1e-12 is ~5000 ulps of slack for the exp and the sums.
    np.testing.assert_allclose(model.denoise(x, 0.25), ref, rtol=1e-12, atol=1e-12)
    times = np.linspace(0.05, 2.0, x.shape[0])
    ref_rows = smoothed_empirical_denoiser_reference(data, x, process.s(times), process.delta(times), h)
    np.testing.assert_allclose(model.denoise(x, times), ref_rows, rtol=1e-11, atol=1e-11)


def test_smoothed_model_is_the_exact_model_at_the_shifted_delta():
    """VE: Delta + h^2 = sigma^2 (t + h^2/sigma^2), so D_h(x, t) = (Delta/Delta') D_0(x, t') + (h^2/Delta') x."""
    data, x = _setup(seed=2)
    h, t = 0.7, 0.3
    delta = VE.delta(t)
    delta_eff = delta + h**2
    t_shift = t + h**2 / VE.sigma**2
    exact_shifted = EmpiricalModel(data, VE).denoise(x, t_shift)
    smoothed = SmoothedEmpiricalModel(data, h, VE).denoise(x, t)
    np.testing.assert_allclose(smoothed, (delta / delta_eff) * exact_shifted + (h**2 / delta_eff) * x,
                               rtol=1e-12, atol=1e-13)


def test_smoothed_two_points_is_the_two_gaussians_population_model():
    """Two training points at +-m smoothed with h = sigma are the mixture (N(m, s^2) + N(-m, s^2))/2."""
    centre = np.array([0.8, -0.3, 1.1])
    data = np.stack([centre, -centre])
    x = np.random.default_rng(3).standard_normal((30, 3))
    for t in (0.05, 0.6, 3.0):
        np.testing.assert_allclose(SmoothedEmpiricalModel(data, 0.9, OU).denoise(x, t),
                                   TwoGaussiansModel(centre, 0.9, OU).denoise(x, t), rtol=1e-12, atol=1e-13)


def test_gaussian_model_against_closed_form_and_tweedie():
    rng = np.random.default_rng(4)
    data = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 5)) + 2.0
    model = GaussianModel.fit(data, OU)
    x = rng.standard_normal((20, 5))
    centred = data - data.mean(axis=0)
    cov = centred.T @ centred / data.shape[0]
    for t in (0.01, 0.5, 4.0):
        ref = gaussian_denoiser_reference(data.mean(axis=0), cov, x, OU.s(t), OU.delta(t))
        # Eigen-decomposition vs linear solve: condition number of s^2 C + Delta I times eps.
        np.testing.assert_allclose(model.denoise(x, t), ref, rtol=1e-10, atol=1e-10)
    times = np.linspace(0.01, 3.0, 20)
    ref = gaussian_denoiser_reference(data.mean(axis=0), cov, x, OU.s(times), OU.delta(times))
    np.testing.assert_allclose(model.denoise(x, times), ref, rtol=1e-10, atol=1e-10)
    # _score and _denoise are separate closed forms: Tweedie links them.
    s, delta = OU.s(times)[:, None], OU.delta(times)[:, None]
    np.testing.assert_allclose(model.score(x, times), (s * model.denoise(x, times) - x) / delta,
                               rtol=1e-9, atol=1e-9)


def test_gaussian_sample_has_the_marginal_moments():
    rng = np.random.default_rng(5)
    model = GaussianModel([1.0, -2.0], [[2.0, 0.6], [0.6, 0.5]], OU)
    draws = model.sample(200_000, 0.3, seed=rng)
    mean, cov = model.marginal(0.3)
    # Standard errors: sqrt(var/M) for the mean, ~sqrt(2/M) var for the covariance.
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=5 * np.sqrt(2.2 / 200_000))
    np.testing.assert_allclose(np.cov(draws.T), cov, atol=5 * np.sqrt(2 / 200_000) * 2.2)


def test_gaussian_model_of_singular_covariance_and_bad_covariance():
    data = np.random.default_rng(6).standard_normal((3, 5))  # n < d: rank-2 covariance
    model = GaussianModel.fit(data, VE)
    x = np.zeros((2, 5))
    assert np.isfinite(model.denoise(x, 1e-6)).all()
    with pytest.raises(ValueError, match="positive semi-definite"):
        GaussianModel([0, 0], [[1, 0], [0, -1]])
    with pytest.raises(ValueError, match="symmetric"):
        GaussianModel([0, 0], [[1, 0.5], [0, 1]])


@pytest.mark.parametrize("process", [OU, VE], ids=["ou", "ve"])
def test_two_gaussians_model_is_the_closed_form(process):
    mix = gaussian_mixture(10, 4, mu_tilde=0.7, sigma=0.5, seed=7)
    model = TwoGaussiansModel(mix.centre, 0.5, process)
    x = np.random.default_rng(8).standard_normal((15, 4))
    for t in (0.02, 0.4, 2.5):
        np.testing.assert_allclose(model.score(x, t), two_gaussians_score(x, t, mix.centre, 0.5, process),
                                   rtol=1e-13, atol=1e-13)
        s, delta = process.s(t), process.delta(t)
        np.testing.assert_allclose(model.denoise(x, t), (x + delta * model.score(x, t)) / s,
                                   rtol=1e-10, atol=1e-10)


def test_plain_functions_and_protocol_objects_are_models():
    data, x = _setup(seed=9)
    exact = EmpiricalModel(data, OU)
    as_denoiser = DenoiserFunction(lambda y, t: exact.denoise(y, t), OU, d=6)
    as_score = as_model(lambda y, t: exact.score(y, t), OU, output="score")
    times = np.linspace(0.1, 1.0, x.shape[0])
    np.testing.assert_array_equal(as_denoiser.denoise(x, times), exact.denoise(x, times))
    np.testing.assert_allclose(as_score.denoise(x, 0.5), exact.denoise(x, 0.5), rtol=1e-12, atol=1e-12)
    seen = []

    class Net:  # a user's model: only a denoise method and a process
        process = OU

        def denoise(self, y, t):
            seen.append(np.ndim(t))
            return 0.5 * y

    wrapped = as_model(Net())
    np.testing.assert_allclose(wrapped.score(x, 0.2), (OU.s(0.2) * 0.5 * x - x) / OU.delta(0.2))
    wrapped.denoise(x, times)
    assert seen == [0, 1]  # a scalar time as a float, per-row times as a (B,) array
    assert as_model(exact) is exact and isinstance(ScoreFunction(np.negative), Model)


def test_bad_model_output_names_time_and_row():
    x = np.ones((5, 3))

    def nan_in_row_3(y, t):
        out = y.copy()
        out[3, 1] = np.nan
        return out

    with pytest.raises(FloatingPointError, match=r"NaN at t=0.25 in row 3 \(of 5\)"):
        DenoiserFunction(nan_in_row_3).denoise(x, 0.25)
    with pytest.raises(FloatingPointError, match=r"inf at t=0.7 in row 0"):
        ScoreFunction(lambda y, t: np.full_like(y, np.inf)).score(x, np.array([0.7, 0.1, 0.1, 0.1, 0.1]))
    with pytest.raises(ValueError, match=r"shape \(5, 2\), expected \(5, 3\)"):
        DenoiserFunction(lambda y, t: y[:, :2]).denoise(x, 0.3)
    with pytest.raises(TypeError, match="must be callable"):
        DenoiserFunction(42)
    with pytest.raises(TypeError, match="model must be a diffusion.models.Model"):
        as_model(42)
    with pytest.raises(TypeError, match="plain function is ambiguous"):
        as_model(np.negative)
    with pytest.raises(ValueError, match="differs from the model's own"):
        as_model(EmpiricalModel(np.ones((2, 3)), OU), VE)


def test_bad_times_and_states():
    model = TwoGaussiansModel(np.ones(3), 0.5, OU)
    x = np.ones((4, 3))
    for bad in (0.0, -1.0, 800.0):
        with pytest.raises(ValueError, match="t must lie in the range of the ou process"):
            model.denoise(x, bad)
    with pytest.raises(ValueError, match="t must not contain NaN"):
        model.denoise(x, np.array([0.1, np.nan, 0.1, 0.1]))
    with pytest.raises(ValueError, match=r"\(row 2\)"):
        model.score(x, np.array([0.1, 0.2, 0.0, 0.1]))
    with pytest.raises(ValueError, match="one time per row of x"):
        model.denoise(x, np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="x and the model must have the same dimension"):
        model.denoise(np.ones((4, 2)), 0.1)
