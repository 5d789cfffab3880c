"""Equilibrium view: magnetisation, pitchfork, exponents, four-deltas landscape."""

import math

import numpy as np
import pytest

from diffusion.equilibrium import (
    FOUR_DELTAS,
    four_deltas_landscape,
    two_deltas_magnetisation,
    two_deltas_pitchfork,
)
from diffusion.processes import ve_process
from diffusion.score import empirical_posterior


def test_magnetisation_is_the_empirical_denoiser_of_two_deltas():
    x = np.linspace(-2, 2, 11)[:, None]
    post = empirical_posterior(np.array([[1.0], [-1.0]]), x, 0.7, ve_process(1.3))
    np.testing.assert_allclose(two_deltas_magnetisation(x[:, 0], 0.7, 1.3), post.denoiser[:, 0],
                               rtol=1e-12, atol=1e-14)


@pytest.fixture(scope="module")
def fork():
    return two_deltas_pitchfork(sigma=1.25, n_points=120)


def test_pitchfork_critical_time_and_branches(fork):
    # t_c = 1/sigma^2 (Ambrogioni eq. 27); Brent refinement to 1e-13.
    assert fork.t_c == pytest.approx(1 / 1.25**2, abs=1e-10)
    below = fork.t < fork.t_c
    # Three branches below t_c (two stable, m = 0 unstable), one above.
    assert (fork.exists[:, below].sum(0) == 3).all()
    assert (fork.exists[:, ~below].sum(0) == 1).all()
    stable_m = np.where(fork.exists & fork.stable, fork.m, np.nan)
    # the stable ordered branch solves m = tanh(m/(t sigma^2)) exactly
    for b in range(fork.m.shape[0]):
        ok = fork.exists[b] & fork.stable[b] & below
        m = fork.m[b, ok]
        np.testing.assert_allclose(m, np.tanh(m / (fork.t[ok] * 1.25**2)), atol=1e-12)
    assert np.nanmax(np.abs(stable_m[:, ~below])) < 1e-12


def test_susceptibility_closed_form_above_tc(fork):
    # chi = 1/(T - 1), T = t sigma^2, on the m = 0 branch above t_c (statmech.meanfield.curie_weiss).
    above = fork.t > fork.t_c * 1.01
    b = int(np.flatnonzero(fork.exists[:, above].all(1))[0])
    np.testing.assert_allclose(fork.chi[b, above], 1 / (fork.t[above] * 1.25**2 - 1), rtol=1e-8)


def test_mean_field_exponents(fork):
    # Fits in |tau| in [1e-4, 1e-2]: corrections to scaling are O(|tau|) <= 1e-2 relative
    # for beta and gamma, O(m^2) <= 1e-2 for delta.
    assert fork.beta == pytest.approx(0.5, abs=0.01)
    assert fork.gamma_minus == pytest.approx(1.0, abs=0.02)
    assert fork.gamma_plus == pytest.approx(1.0, abs=0.02)
    assert fork.delta == pytest.approx(3.0, abs=0.03)


def test_four_deltas_landscape_formula():
    land = four_deltas_landscape([0.3, 2.0], sigma=1.0, n_grid=21)
    x, y = np.meshgrid(land.x, land.y)
    for k, t in enumerate(land.t):
        pts = FOUR_DELTAS
        e = (x[..., None] * pts[:, 0] + y[..., None] * pts[:, 1] - 0.5) / t
        f = -t * (np.log(np.exp(e).sum(-1)) - math.log(4))
        np.testing.assert_allclose(land.free_energy_reg[k], f + 0.5 * (x**2 + y**2), rtol=1e-12,
                                   atol=1e-12)
    # Symmetry breaking: at t = 0.3 the origin is not the minimum; at t = 2 it is.
    centre = 10
    assert land.free_energy_reg[0].min() < land.free_energy_reg[0][centre, centre] - 1e-3
    assert land.free_energy_reg[1].min() == pytest.approx(land.free_energy_reg[1][centre, centre])


def test_bad_input():
    with pytest.raises(ValueError, match="t_min"):
        two_deltas_pitchfork(sigma=1.0, t_min=1.5, t_max=2.0)
    with pytest.raises(ValueError, match="times"):
        four_deltas_landscape([0.0])
    with pytest.raises(ValueError, match="sigma"):
        two_deltas_magnetisation(1.0, 1.0, sigma=0.0)
