"""EDM rho time grid (diffusion.edm) against Karras et al. eq. 5."""

import numpy as np
import pytest

from diffusion.edm import edm_times, noise_level, time_at_noise_level
from diffusion.processes import ou_process, ve_process


def test_ve_unit_sigma_grid_is_karras_eq5_in_sigma_squared():
    """VE with sigma_VE = 1: t = sigma^2, so the grid is eq. 5 squared (sigma_min 0.002, sigma_max 80)."""
    process = ve_process(1.0)
    K, rho = 17, 7.0
    times = edm_times(0.002**2, 80.0**2, K, process, rho=rho)
    i = np.arange(K + 1)
    sigma = (80.0 ** (1 / rho) + i / K * (0.002 ** (1 / rho) - 80.0 ** (1 / rho))) ** rho
    np.testing.assert_allclose(times, sigma**2, rtol=1e-12)
    assert times[0] == 80.0**2 and times[-1] == 0.002**2


@pytest.mark.parametrize("process", [ou_process(), ou_process(0.5), ve_process(2.0)], ids=str)
def test_noise_levels_of_the_grid_are_uniform_in_sigma_to_the_one_over_rho(process):
    times = edm_times(1e-3, 4.0, 40, process)
    roots = noise_level(times, process) ** (1 / 7.0)
    np.testing.assert_allclose(np.diff(roots), np.full(40, np.diff(roots).mean()), rtol=1e-9)
    assert (np.diff(times) < 0).all()
    np.testing.assert_allclose(time_at_noise_level(noise_level(times, process), process), times, rtol=1e-12)


def test_time_grid_edm_spacing_merges_clone_times():
    process = ou_process()
    grid = process.time_grid(1e-3, 5.0, 30, spacing="edm", include=[0.6])
    plain = edm_times(1e-3, 5.0, 30, process)
    assert 0.6 in grid and grid.shape[0] == 32 and (np.diff(grid) < 0).all()
    np.testing.assert_array_equal(np.setdiff1d(grid, [0.6]), np.sort(plain))


def test_ou_noise_level_closed_form():
    process = ou_process(1.0)
    t = np.array([0.01, 0.5, 3.0])
    np.testing.assert_allclose(noise_level(t, process), np.sqrt(np.expm1(2 * t)), rtol=1e-14)


def test_bad_input():
    with pytest.raises(ValueError, match="t_min must be < t_end"):
        edm_times(1.0, 0.5, 10)
    with pytest.raises(ValueError, match="t_min must be > 0"):
        edm_times(0.0, 0.5, 10)
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        edm_times(0.1, 0.5, 0)
    with pytest.raises(ValueError, match="rho must be > 0"):
        edm_times(0.1, 0.5, 4, rho=0)
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        time_at_noise_level(-1.0)
