"""The Gaussian-mixture theory (diffusion.gm_theory): the speciation time convention and the moved names."""

import math

import numpy as np
import pytest

from diffusion import collapse, gm_theory, score, speciation
from diffusion.gm_theory import _gm_kappa, gm_phi, gm_speciation_time
from diffusion.processes import ou_process, ve_process
from diffusion.speciation import speciation_time


@pytest.mark.parametrize("process", [ou_process(), ou_process(0.5), ve_process(2.0)])
@pytest.mark.parametrize("mu_tilde,sigma", [(1.0, 1.0), (0.7, 1.3), (1.2, 0.0)])
def test_speciation_time_is_where_kappa_is_one(process, mu_tilde, sigma):
    for d in (16, 64, 1024):
        t_s = gm_speciation_time(d, mu_tilde, sigma, process)
        assert _gm_kappa(t_s, mu_tilde, sigma, d, process) == pytest.approx(1.0, rel=1e-12)


def test_phi_curves_cross_at_the_speciation_time():
    """gm_phi depends on t only through kappa: at t = t_S every d gives the same phi."""
    for sigma in (1.0, 1.5):
        values = [gm_phi(gm_speciation_time(d, 1.0, sigma), 1.0, sigma, d) for d in (8, 64, 512)]
        np.testing.assert_allclose(values, values[0], rtol=1e-9)
        # Away from t_S the curves do not cross: larger d is steeper.
        before = [gm_phi(0.8 * gm_speciation_time(d, 1.0, sigma), 1.0, sigma, d) for d in (8, 512)]
        assert before[1] > before[0] + 1e-3


def test_speciation_time_conventions():
    # mu~ = sigma = T = 1: the papers' 1/2 log d; eq. 4 (top eigenvalue d + 1) is 1/2 log(d + 1).
    for d in (64, 256, 1024):
        assert gm_speciation_time(d) == pytest.approx(0.5 * math.log(d), rel=1e-15)
        assert speciation_time(d + 1.0) - gm_speciation_time(d) == pytest.approx(
            0.5 * math.log1p(1.0 / d), rel=1e-12)
    assert gm_speciation_time(10, 1.0, 2.0, ve_process(0.5)) == pytest.approx((10 - 4) / 0.25)


def test_no_speciation_is_an_error():
    with pytest.raises(ValueError, match="no speciation"):
        gm_speciation_time(4, 0.5, 1.0)  # mu~^2 d = 1 = sigma^2
    with pytest.raises(ValueError, match="Lambda must exceed the stationary variance T = 1.0"):
        speciation_time(0.5)
    with pytest.raises(ValueError, match="Lambda must exceed"):
        speciation_time(1.5, ou_process(2.0))
    assert speciation_time(0.5, ve_process()) == pytest.approx(0.5)


def test_old_import_paths_give_the_moved_functions():
    for module, names in ((collapse, ("gm_collapse_time", "gm_excess_entropy",
                                      "gm_excess_entropy_annealed", "gm_excess_entropy_finite")),
                          (speciation, ("gm_phi", "gm_potential")),
                          (score, ("two_gaussians_score", "two_gaussians_log_density"))):
        for name in names:
            assert getattr(module, name) is getattr(gm_theory, name)
    with pytest.raises(AttributeError, match="no attribute 'gm_nothing'"):
        collapse.gm_nothing  # noqa: B018


def test_package_names_are_not_shadowed_by_the_module():
    """``diffusion.gaussian_mixture`` stays the data-set generator (the theory module is gm_theory)."""
    import diffusion
    from diffusion import datasets

    assert diffusion.gaussian_mixture is datasets.gaussian_mixture
    assert diffusion.gm_phi is gm_theory.gm_phi
