"""Tests of statmech.meanfield against closed forms, SciPy and independent references.

Curie–Weiss, m = tanh((m + h)/T), closed forms used below (derived here):

* T_c = 1 (the slope of tanh(m/T) at 0 is 1/T).
* chi = dm/dh = J/(1 - J), J = sech^2(m/T)/T, at h = 0; above T_c (m = 0)
  chi = 1/(T - 1) exactly, so gamma_+ = 1 with no correction to scaling.
* Below T_c, with s = 1 - T and x = m/T: T = tanh(x)/x = 1 - x^2/3 + 2x^4/15
  - ..., hence m^2 = 3s - (12/5) s^2 + O(s^3), m = sqrt(3s)(1 - 0.4 s + ...),
  and the local exponent d ln m / d ln s = 1/2 - 0.4 s + O(s^2).
  1 - J = (m^2 - s)/T = 2s(1 + O(s)), so chi = (1/(2s))(1 + O(s)).
* At T = 1: h = artanh(m) - m = m^3/3 + m^5/5 + ..., local exponent
  d ln h / d ln m = 3 + (6/5) m^2 + O(m^4).

Fit windows: |tau| in [1e-4, 1e-2] for beta and gamma, where the local
exponents differ from 1/2 and 1 by at most 0.4e-2 and O(1e-2) relative
(< 1 % < 2 %); m in [1e-3, 1e-1] for delta, where the local exponent exceeds
3 by at most 1.2e-2 (0.4 % < 2 %).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

import naive

from statmech.meanfield import (
    Branches,
    CriticalExponents,
    FixedPoint,
    branch_exponents,
    critical_exponents,
    curie_weiss,
    fit_power_law,
    follow_branches,
    jacobian,
    locate_critical_points,
    ordered_and_disordered,
    solve,
    susceptibility,
)

CW = curie_weiss()

# Four deltas in 2-D at (±1, 0), (0, ±1) (PHYSICS.md §3, Ambrogioni Fig. 3):
# g(x, T) = sum_mu softmax_mu(a_mu . x / T) a_mu; J = Cov_w(a) / T.
A4 = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])


def four_g(x, T):
    z = A4 @ x / T
    w = np.exp(z - np.max(z.real))
    w = w / w.sum()
    return A4.T @ w


def four_jac(x, T):
    z = A4 @ x / T
    w = np.exp(z - z.max())
    w /= w.sum()
    gm = A4.T @ w
    return ((A4.T * w) @ A4 - np.outer(gm, gm)) / T


def atanh_minus_x(m):
    """artanh(m) - m by its series (no cancellation for small m)."""
    m = np.asarray(m, dtype=float)
    return sum(m ** (2 * k + 1) / (2 * k + 1) for k in range(1, 40))


# ---------------------------------------------------------------------------
# Jacobians and the Curie–Weiss convenience.
# ---------------------------------------------------------------------------


def test_curie_weiss_model():
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(CW.g(x, 0.7), np.tanh(x / 0.7), rtol=1e-15)
    np.testing.assert_allclose(CW.jac(x, 0.7), np.diag(1 / np.cosh(x / 0.7) ** 2 / 0.7),
                               rtol=1e-15)
    assert (CW.t_c, CW.beta, CW.gamma, CW.delta) == (1.0, 0.5, 1.0, 3.0)


@pytest.mark.parametrize("x", [[0.3, -0.2], [1.5, 0.7], [0.0, 0.0]])
def test_jacobian_schemes_against_analytic(x):
    want = four_jac(np.array(x), 0.4)
    # Complex step: no subtraction, exact to round-off.
    np.testing.assert_allclose(jacobian(four_g, x, 0.4, jac="complex-step"), want, atol=1e-14)
    # Central differences: truncation eps^(2/3) |g'''| ~ 4e-11 |g'''|, with
    # |g'''| <= 1/T^3 ~ 16 here; round-off eps/eps^(1/3) ~ 4e-11.
    np.testing.assert_allclose(jacobian(four_g, x, 0.4), want, atol=1e-8)
    np.testing.assert_array_equal(jacobian(four_g, x, 0.4, jac=four_jac), want)


# ---------------------------------------------------------------------------
# Solver and susceptibility.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("T", [0.3, 0.9, 0.999])
@pytest.mark.parametrize("jac", [None, "complex-step", "analytic"])
def test_solve_curie_weiss_against_brentq(T, jac):
    jac = CW.jac if jac == "analytic" else jac
    for sign in (1.0, -1.0):
        fp = solve(CW.g, [sign], T, jac=jac)
        assert isinstance(fp, FixedPoint)
        # The root is well conditioned (1 - J >= 2e-3 at T = 0.999): 1e-13.
        assert abs(fp.m[0] - naive.curie_weiss_root(T, sign=sign)) < 1e-13
        assert fp.stable and fp.residual < 1e-15
    fp0 = solve(CW.g, [0.0], T, jac=jac)
    assert fp0.m[0] == 0.0 and not fp0.stable  # J = 1/T > 1 at m = 0
    np.testing.assert_allclose(fp0.spectral_radius, 1 / T, rtol=1e-9)


def test_solve_with_field():
    fp = solve(CW.g, [0.0], 1.5, h=0.2, jac=CW.jac)
    assert abs(fp.m[0] - naive.curie_weiss_root(1.5, h=0.2, sign=0)) < 1e-14
    np.testing.assert_array_equal(fp.h, [0.2])


@pytest.mark.parametrize("T,sign", [(0.5, 1), (0.9, -1), (0.99, 1), (1.2, 0), (2.0, 0)])
@pytest.mark.parametrize("jac", [None, "analytic"])
def test_susceptibility_closed_form_and_finite_differences(T, sign, jac):
    jac = CW.jac if jac == "analytic" else jac
    m = naive.curie_weiss_root(T, sign=sign) if sign else 0.0
    chi = susceptibility(CW.g, [m], T, jac=jac)[0, 0]
    J = 1 / np.cosh(m / T) ** 2 / T
    closed = J / (1 - J)
    # Analytic J: round-off only. Central-difference J: 1e-10 relative error
    # on J, amplified by 1/(1 - J) <= 50 here.
    rtol = 1e-12 if jac is not None else 1e-8
    np.testing.assert_allclose(chi, closed, rtol=rtol)
    if sign == 0:
        np.testing.assert_allclose(chi, 1 / (T - 1), rtol=rtol)
    # Independent reference: central differences of m(h) solved by brentq,
    # Richardson-extrapolated. Near T_c the third derivative of m(h) is large
    # (plain central differences with dh = 1e-5 are 3e-5 off at T = 0.99);
    # the extrapolation removes the dh^2 term, leaving O(dh^4) and round-off
    # 1e-16/dh = 2e-10 absolute.
    def central(dh):
        return (naive.curie_weiss_root(T, h=dh, sign=sign) - naive.curie_weiss_root(T, h=-dh, sign=sign)) / (2 * dh)

    fd = (4 * central(5e-7) - central(1e-6)) / 3
    np.testing.assert_allclose(chi, fd, rtol=1e-7)


def test_susceptibility_matrix_four_deltas_against_finite_differences():
    T = 0.3
    m = solve(four_g, [1.0, 0.0], T, jac=four_jac).m
    chi = susceptibility(four_g, m, T, jac=four_jac)
    dh = 1e-6
    fd = np.empty((2, 2))
    for j in range(2):
        e = np.zeros(2)
        e[j] = dh
        fd[:, j] = (solve(four_g, m, T, h=e, jac=four_jac).m
                    - solve(four_g, m, T, h=-e, jac=four_jac).m) / (2 * dh)
    # Truncation O(dh^2) and round-off 1e-16/1e-6 = 1e-10 on O(0.1) entries.
    np.testing.assert_allclose(chi, fd, atol=1e-8)


# ---------------------------------------------------------------------------
# Branches, critical point, exponents.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("direction", [-1, 1])
def test_curie_weiss_pitchfork_branches(direction):
    T = np.linspace(0.3, 1.7, 57)[::direction]  # contains 1.0 only up to round-off: not on grid
    T = T[np.abs(T - 1) > 1e-3]
    br = follow_branches(CW.g, T, [[1.0], [-1.0], [0.0]], jac=CW.jac)
    assert isinstance(br, Branches) and br.n_branches == 3
    n = br.exists.sum(axis=0)
    np.testing.assert_array_equal(n, np.where(br.params < 1, 3, 1))
    for b in range(3):
        ex = br.exists[b]
        # Every branch is a solution; the nonzero ones equal the brentq root.
        for i in np.flatnonzero(ex):
            m = br.m[b, i, 0]
            want = 0.0 if abs(m) < 1e-6 else naive.curie_weiss_root(br.params[i], sign=np.sign(m))
            assert abs(m - want) < 1e-13
        assert np.isnan(br.m[b, ~ex]).all() and not br.stable[b, ~ex].any()
    zero = int(np.flatnonzero(br.exists.all(axis=1))[0])
    np.testing.assert_array_equal(br.stable[zero], br.params > 1)
    np.testing.assert_allclose(br.leading_eigenvalue[zero], 1 / br.params, rtol=1e-12)
    others = [b for b in range(3) if b != zero]
    assert br.stable[others][br.exists[others]].all()
    # +m and -m branches are mirror images.
    np.testing.assert_allclose(np.nansum(br.m[others], axis=0), 0.0, atol=1e-14)
    cps = locate_critical_points(CW.g, br, jac=CW.jac)
    assert len(cps) == 1 and cps[0].branch == zero
    assert abs(cps[0].param - 1.0) < 1e-12  # Brent on 1/T - 1 = 0
    assert {cps[0].branches_before, cps[0].branches_after} == {1, 3}
    assert min(cps[0].bracket) < 1 < max(cps[0].bracket)


def _curie_weiss_scan():
    s = np.logspace(-5, -1, 81)
    T = np.sort(np.concatenate([1 - s, 1 + s]))[::-1]
    br = follow_branches(CW.g, T, [[1.0], [-1.0], [0.0]], jac=CW.jac)
    t_c = locate_critical_points(CW.g, br, jac=CW.jac)[0].param
    zero = int(np.flatnonzero(br.exists.all(axis=1))[0])
    pos = int(np.flatnonzero(np.nanmax(br.m[:, :, 0], axis=1) > 0)[0])
    m = np.where(br.exists[pos], br.m[pos, :, 0], 0.0)
    chi = np.where(br.params < t_c, np.where(br.exists[pos], br.chi[pos, :, 0, 0], 0.0),
                   br.chi[zero, :, 0, 0])
    h = np.logspace(-12, -2, 61)
    m_h = np.array([solve(CW.g, [1.0], t_c, h=x, jac=CW.jac).m[0] for x in h])
    return br, t_c, m, chi, h, m_h


def test_critical_isotherm_solution():
    _, t_c, _, _, h, m_h = _curie_weiss_scan()
    # m(h) at T_c against h = artanh(m) - m (series, no cancellation). The
    # solver's residual m - tanh(m + h) is at best a few ulps of m, which
    # moves the implied h by the same amount: bound 4 eps m (plus 1e-12 h).
    err = np.abs(atanh_minus_x(m_h) - h)
    assert (err <= 1e-12 * h + 4 * np.finfo(float).eps * m_h).all(), err / h


def test_curie_weiss_exponents_within_two_percent():
    br, t_c, m, chi, h, m_h = _curie_weiss_scan()
    assert abs(t_c - 1.0) < 1e-12
    ex = critical_exponents(br.params, m, chi, t_c, field=h, m_field=m_h)
    assert isinstance(ex, CriticalExponents)
    theory = {"beta": 0.5, "gamma_minus": 1.0, "gamma_plus": 1.0, "delta": 3.0}
    for key, want in theory.items():
        fit = getattr(ex, key)
        # 2 % (the target); the window bounds corrections to scaling
        # below 1 % (module docstring), so this can only fail on a real error.
        assert abs(fit.exponent - want) < 0.02 * want, (key, fit)
        assert fit.stderr < 0.005 * want
        assert fit.n_points >= 20
    # Amplitudes: m ~ sqrt(3 |tau|), chi_- ~ 1/(2|tau|), chi_+ = 1/tau exactly.
    np.testing.assert_allclose(ex.beta.amplitude, np.sqrt(3), rtol=0.02)
    np.testing.assert_allclose(ex.gamma_minus.amplitude, 0.5, rtol=0.03)
    np.testing.assert_allclose(ex.gamma_plus.amplitude, 1.0, rtol=1e-9)
    np.testing.assert_allclose(ex.delta.amplitude, 1 / 3, rtol=0.02)
    # Power of the test: a window reaching |tau| = 0.5 picks up the
    # corrections (local exponent 1/2 - 0.4 s) and is visibly off.
    wide = critical_exponents(br.params, m, chi, t_c, window=(1e-2, 1e-1))
    assert wide.beta.exponent < ex.beta.exponent - 5 * ex.beta.stderr


def test_branch_exponents_pick_the_branches_themselves():
    """branch_exponents gives what the hand-picked branches give, on a grid followed either way."""
    br, t_c, m, chi, h, m_h = _curie_weiss_scan()
    picked = ordered_and_disordered(br, t_c)
    assert picked.ordered_side == "below"
    np.testing.assert_array_equal(picked.m[br.params < t_c], m[br.params < t_c])
    np.testing.assert_array_equal(picked.chi, chi)
    by_hand = critical_exponents(br.params, m, chi, t_c, field=h, m_field=m_h)
    auto = branch_exponents(br, t_c, field=h, m_field=m_h)
    for key in ("beta", "gamma_minus", "gamma_plus", "delta"):
        assert getattr(auto, key) == getattr(by_hand, key), key
    # Followed from high to low T (branches born at t_c): the same exponents.
    down = follow_branches(CW.g, br.params[::-1], [[1.0], [-1.0], [0.0]], jac=CW.jac)
    again = branch_exponents(down, t_c)
    assert again.beta.exponent == pytest.approx(auto.beta.exponent, rel=1e-9)
    assert again.gamma_plus.exponent == pytest.approx(auto.gamma_plus.exponent, rel=1e-9)
    with pytest.raises(ValueError, match="inside the grid"):
        ordered_and_disordered(br, 5.0)
    with pytest.raises(ValueError, match="component must be"):
        ordered_and_disordered(br, t_c, component=1)


def test_two_independent_curie_weiss_nine_branches():
    starts = [[a, b] for a in (-1.0, 0.0, 1.0) for b in (-1.0, 0.0, 1.0)]
    br = follow_branches(CW.g, np.linspace(1.5, 0.4, 12), starts, jac=CW.jac)
    below = br.params < 1
    np.testing.assert_array_equal(br.exists.sum(axis=0), np.where(below, 9, 1))
    i = br.params.shape[0] - 1  # T = 0.4
    m_star = naive.curie_weiss_root(0.4)
    got = sorted(tuple(np.round(br.m[b, i] / m_star).astype(int)) for b in range(br.n_branches))
    assert got == sorted((a, b) for a in (-1, 0, 1) for b in (-1, 0, 1))
    for b in range(br.n_branches):
        both_nonzero = bool(np.all(np.abs(br.m[b, i]) > 0.5))
        assert br.stable[b, i] == both_nonzero  # each zero component has J = 1/T > 1


def test_four_deltas_branches():
    T = np.linspace(0.8, 0.2, 30)
    starts = np.vstack([A4, 0.5 * np.array([[1, 1], [1, -1], [-1, 1], [-1, -1.0]]), [[0, 0]]])
    br = follow_branches(four_g, T, starts, jac=four_jac)
    np.testing.assert_array_equal(br.exists.sum(axis=0), np.where(br.params < 0.5, 9, 1))
    cps = locate_critical_points(four_g, br, jac=four_jac)
    assert len(cps) == 1 and abs(cps[0].param - 0.5) < 1e-12  # J(0) = I/(2T)
    i = np.flatnonzero(np.isclose(br.params, T[20]))[0]
    Ti = br.params[i]
    # 1-D reductions (derived): axial m = (u, 0) with u = tanh(u/(2T));
    # diagonal m = (u, u) with u = tanh(u/T)/2. Solved by brentq.
    u_ax = optimize.brentq(lambda u: u - np.tanh(u / (2 * Ti)), 1e-9, 1.0, xtol=1e-15)
    u_dg = optimize.brentq(lambda u: u - 0.5 * np.tanh(u / Ti), 1e-9, 1.0, xtol=1e-15)
    rng = np.random.default_rng(0)
    n_axial = n_diag = 0
    for b in range(br.n_branches):
        if not br.exists[b, i] or np.all(np.abs(br.m[b, i]) < 1e-8):
            continue
        m = br.m[b, i]
        if np.min(np.abs(m)) < 1e-8:
            n_axial += 1
            assert abs(np.max(np.abs(m)) - u_ax) < 1e-12
        else:
            n_diag += 1
            np.testing.assert_allclose(np.abs(m), u_dg, atol=1e-12)
        # Stability reference: iterate m <- g(m) from a small random kick.
        x = m + 1e-7 * rng.normal(size=2)
        for _ in range(300):
            x = four_g(x, Ti)
        returned = np.max(np.abs(x - m)) < 1e-10
        assert br.stable[b, i] == returned
    assert (n_axial, n_diag) == (4, 4)
    # Axial states (retrieval) are stable, diagonal ones saddles.
    assert br.stable[:, i].sum() == 4


def test_fit_power_law_against_linregress():
    rng = np.random.default_rng(3)
    x = np.logspace(-3, 0, 40)
    y = 2.5 * x**0.7 * np.exp(0.05 * rng.normal(size=40))
    fit = fit_power_law(x, y, window=(1e-3, 0.5))
    sel = x <= 0.5
    ref = stats.linregress(np.log(x[sel]), np.log(y[sel]))
    np.testing.assert_allclose(fit.exponent, ref.slope, rtol=1e-12)
    np.testing.assert_allclose(fit.stderr, ref.stderr, rtol=1e-10)
    np.testing.assert_allclose(np.log(fit.amplitude), ref.intercept, rtol=1e-10, atol=1e-12)
    assert fit.n_points == sel.sum() and fit.window == (1e-3, 0.5)
    # The slope is within 4 standard errors of the truth (0.7).
    assert abs(fit.exponent - 0.7) < 4 * fit.stderr


# ---------------------------------------------------------------------------
# Bad input.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: solve("tanh", [1.0], 0.5), TypeError, "g must be callable"),
        (lambda: solve(CW.g, [1.0], np.nan), ValueError, "param must not be NaN"),
        (lambda: solve(CW.g, [1.0], np.inf), ValueError, "param must be finite"),
        (lambda: solve(CW.g, [1.0], 1j), TypeError, "param must be a real number"),
        (lambda: solve(CW.g, [], 0.5), ValueError, "m0 must not be empty"),
        (lambda: solve(CW.g, [[1.0]], 0.5), ValueError, "m0 must be 1-D"),
        (lambda: solve(CW.g, [np.nan], 0.5), ValueError, "m0 must not contain NaN"),
        (lambda: solve(CW.g, np.array([1j]), 0.5), TypeError, "m0 must hold real numbers"),
        (lambda: solve(CW.g, np.array([None]), 0.5), TypeError, "m0 must hold real numbers"),
        (lambda: solve(CW.g, [1.0], 0.5, h=[0.1, 0.2]), ValueError, "h must be a scalar or"),
        (lambda: solve(CW.g, [1.0], 0.5, h=np.nan), ValueError, "h must not be NaN"),
        (lambda: solve(CW.g, [1.0], 0.5, jac="forward"), ValueError, "jac must be a callable"),
        (lambda: solve(CW.g, [1.0], 0.5, args=[1]), TypeError, "args must be a tuple"),
        (lambda: solve(CW.g, [1.0], 0.5, tol=0.0), ValueError, "tol must be > 0"),
        (lambda: solve(lambda x, p: x[:0], [1.0], 0.5), ValueError, "must return a real array"),
        (lambda: solve(lambda x: x, [1.0], 0.5), TypeError, "g could not be called"),
        (lambda: solve(lambda x, p: np.log(x - 2), [1.0], 0.5), ValueError, "not finite"),
        (lambda: solve(CW.g, [1.0], 0.5, jac=lambda x, p: np.eye(2)), ValueError,
         "jac\\(x, p\\) must return shape"),
        (lambda: solve(lambda x, p: x + 1.0, [0.0], 1.0), RuntimeError, "no fixed point"),
        (lambda: solve(CW.g, [1.0], 0.0), ValueError, "T must be > 0 for Curie"),
        (lambda: solve(CW.g, [1.0], -1.0), ValueError, "T must be > 0 for Curie"),
        (lambda: susceptibility(CW.g, [0.3], 0.5), ValueError, "must be a fixed point"),
        (lambda: susceptibility(CW.g, [0.0], 1.0, jac=CW.jac), ValueError, "chi diverges"),
        (lambda: jacobian(CW.g, [np.inf], 0.5), ValueError, r"x must not contain \+inf"),
        (lambda: follow_branches(CW.g, [1.0, 0.5, 0.7], [[1.0]]), ValueError, "strictly monotone"),
        (lambda: follow_branches(CW.g, [], [[1.0]]), ValueError, "params must not be empty"),
        (lambda: follow_branches(CW.g, [0.5], [1.0]), ValueError, "starts must be 2-D"),
        (lambda: follow_branches(CW.g, [0.5], np.zeros((0, 1))), ValueError,
         "starts must not be empty"),
        (lambda: follow_branches(CW.g, [0.5], [[1.0]], merge_tol=-1.0), ValueError,
         "merge_tol must be > 0"),
        (lambda: locate_critical_points(CW.g, "branches"), TypeError,
         "branches must be a Branches"),
        (lambda: fit_power_law([1.0, 2.0, 3.0], [1.0, 2.0]), ValueError, "same shape"),
        (lambda: fit_power_law([1.0, 2.0], [1.0, 2.0]), ValueError, "at least 3 are needed"),
        (lambda: fit_power_law([-1.0, 2.0, 3.0], [1.0, 2.0, 3.0]), ValueError, "x must be > 0"),
        (lambda: fit_power_law([1.0, 2.0, 3.0], [0.0, 2.0, 3.0]), ValueError, "nonzero"),
        (lambda: fit_power_law([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]), ValueError, "2 distinct"),
        (lambda: fit_power_law([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], window=(2.0, 1.0)),
         ValueError, "low < high"),
        (lambda: fit_power_law([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], window=1.0), TypeError,
         "window must be a pair"),
        (lambda: critical_exponents([0.9, 1.1], [0.1, 0.0], [1.0], 1.0), ValueError,
         "same shape"),
        (lambda: critical_exponents([0.9, 1.1], [0.1, 0.0], [1.0, 2.0], 0.0), ValueError,
         "t_c must be nonzero"),
        (lambda: critical_exponents([0.9, 1.1], [0.1, 0.0], [1.0, 2.0], 1.0,
                                    ordered_side="left"), ValueError, "ordered_side"),
        (lambda: critical_exponents([0.9, 1.1], [0.1, 0.0], [1.0, 2.0], 1.0), ValueError,
         "cannot fit beta"),
        (lambda: critical_exponents([0.9, 1.1], [0.1, 0.0], [1.0, 2.0], 1.0, field=[1.0]),
         ValueError, "both field and m_field"),
        (lambda: critical_exponents([0.9, 1.1], [np.nan, 0.0], [1.0, 2.0], 1.0), ValueError,
         "m must not contain NaN"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_integer_input_is_converted():
    fp = solve(CW.g, np.array([1]), 2)  # ints: m0 and param
    assert fp.m.dtype == np.float64 and abs(fp.m[0]) < 1e-12  # T = 2: m = 0 only
