r"""Finite-size analysis of retrieval thresholds: ``alpha_{1/2}(N)``, fits with chi^2, extrapolation.

For each size N a simulation gives the fraction of targets retrieved on a
grid of loads; ``alpha_{1/2}(N)`` is where that fraction crosses 1/2
(:func:`half_threshold`, with a bootstrap error). The ``N -> inf`` limit
comes from weighted least-squares fits of finite-size forms

.. math::  \alpha_{1/2}(N) = \alpha_\infty + \sum_i c_i f_i(N) + g(N),

(``g`` a term with a known coefficient, e.g. ``-ln N / N``), each reported
with its chi^2 and degrees of freedom (:func:`fit_form`). The extrapolated
value and its **total error** (:func:`extrapolate`): the forms averaged
with Akaike weights, the weighted statistical error added in quadrature to
the weighted spread of the forms' limits (the spread between fit forms).

Forms (``hopfield.capacity`` module docstring, item 6; ours):

- :data:`FIXED_POINT_FORMS`, the retrieval (fixed-point) threshold: the
  saddle-node expansion of the finite-N map gives ``alpha_1 - (1 + ln(N beta
  (1 - q_beta)^2)) / N``, i.e. ``(a - ln N)/N``; higher orders ``b / N^2``;
  and a free ``ln N`` coefficient as a check.
- :data:`SIGNAL_FORMS`, the signal-to-noise threshold ``w_1 = 1/2``: ``alpha_s
  = [beta N r_1 - ln M_0(beta N)] / N`` has a plain ``1/N`` expansion (the
  Laplace prefactors of ``M_0`` cancel).
- :data:`CLASSICAL_FORMS`, the Hebbian network (``alpha = P/N``): powers
  ``N^{-1/2}`` (the width of the retrieval transition), ``N^{-1}``, and
  ``N^{-1/3}``, ``N^{-2/3}`` as alternatives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.stats

from statmech._validation import as_float_array, as_int

from hopfield.capacity import _half_crossing


# --------------------------------------------------------------------------
# Per-size thresholds
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeThresholds:
    """``alpha_{1/2}(N)`` per size with its standard error.

    Attributes
    ----------
    n_features : ndarray of int64, shape (L,)
    alpha_half : ndarray, shape (L,)
    alpha_half_err : ndarray, shape (L,)
    label : str
        What was measured (e.g. ``"full dynamics"``, ``"REM level"``).
    unbracketed : tuple of int
        Sizes whose load grid did not bracket the crossing (left out).
    """

    n_features: np.ndarray
    alpha_half: np.ndarray
    alpha_half_err: np.ndarray
    label: str = ""
    unbracketed: tuple = ()


def half_threshold(alphas, successes, trials, *, n_boot=400, seed=0, paired=False):
    """Load where the fraction retrieved crosses 1/2, with a bootstrap standard error.

    Parameters
    ----------
    alphas : array_like, shape (K,)
        Increasing loads.
    successes : array_like, shape (S, K)
        Targets retrieved per independent unit ``s`` (a pattern set, or one
        REM sample) and load.
    trials : array_like, shape (K,)
        Targets tried per unit and load (1 for REM samples).
    n_boot : int
        Bootstrap resamples: units with replacement, then, within a unit of
        more than one trial, binomial resampling of its fraction.
    seed : int or SeedSequence
    paired : bool
        The units are ordered strata (one sample each, e.g. stratified target
        norms): resample within consecutive pairs instead (the collapsed-strata
        estimate of a stratified mean's variance, slightly conservative).

    Returns
    -------
    (float, float)
        The crossing (linear interpolation between the two loads around it)
        and its error: the bootstrap standard deviation, plus in quadrature
        ``|p_0 - p_1| step / sqrt(12)`` for the position inside the grid step
        around the crossing (a full uniform step for a jump from 1 to 0
        within one step, less for a transition resolved by the grid), and the
        distance to the crossing of a parabola through three grid points (the
        bending of the curve inside the step).
        ``(nan, nan)`` when the grid does not bracket the crossing (the
        fraction starts below 1/2 or never falls below it).
    """
    alphas = as_float_array(alphas, "alphas", ndim=1, dtype=np.float64)
    successes = np.asarray(successes, dtype=np.float64)
    trials = np.asarray(trials, dtype=np.float64)
    if successes.ndim != 2 or successes.shape[1] != alphas.shape[0]:
        raise ValueError(f"successes must have shape (S, {alphas.shape[0]}), got {successes.shape}")
    n_boot = as_int(n_boot, "n_boot", minimum=2)
    n_units = successes.shape[0]
    prob = successes.sum(axis=0) / (trials * n_units)
    if prob[0] < 0.5 or prob.min() >= 0.5:
        return math.nan, math.nan
    mid = _half_crossing(alphas, prob)
    rng = np.random.default_rng(np.random.SeedSequence(seed) if isinstance(seed, tuple) else seed)
    boots = np.empty(n_boot)
    frac = successes / trials
    binomial = bool(np.any(trials > 1))
    pairs = np.arange(0, n_units - n_units % 2, 2)
    for b in range(n_boot):
        if paired:
            pick = (pairs[:, None] + rng.integers(0, 2, (pairs.shape[0], 2))).ravel()
            if n_units % 2:
                pick = np.append(pick, n_units - 1)
        else:
            pick = rng.integers(0, n_units, n_units)
        if binomial:
            resampled = rng.binomial(trials.astype(np.int64), np.clip(frac[pick], 0, 1)).sum(axis=0)
        else:
            resampled = successes[pick].sum(axis=0)
        boots[b] = _half_crossing(alphas, resampled / (trials * n_units))
    k = int(np.flatnonzero(prob < 0.5)[0])
    floor = abs(prob[k - 1] - prob[k]) * (alphas[k] - alphas[k - 1]) / math.sqrt(12.0)
    curvature = _quadratic_crossing(alphas, prob, k) - mid
    return float(mid), float(math.sqrt(np.var(boots, ddof=1) + floor**2 + curvature**2))


def _quadratic_crossing(alphas, prob, k):
    """Where the parabola through the loads ``k - 1, k`` and the next nearest grid point crosses 1/2.

    Its distance to the linear interpolation estimates the interpolation
    error of a curve that bends inside the step (0 on a straight stretch).
    """
    if alphas.shape[0] < 3:
        return _half_crossing(alphas, prob)
    third = k - 2 if k + 1 >= alphas.shape[0] or (k >= 2 and alphas[k] - alphas[k - 2] <= alphas[k + 1] - alphas[k - 1]) else k + 1
    idx = np.sort(np.array([k - 1, k, third]))
    coef = np.polyfit(alphas[idx], prob[idx] - 0.5, 2)
    roots = np.roots(coef) if abs(coef[0]) > 1e-300 else np.array([-coef[2] / coef[1]])
    roots = roots[np.isreal(roots)].real
    inside = roots[(roots >= alphas[k - 1]) & (roots <= alphas[k])]
    return float(inside[0]) if inside.size else _half_crossing(alphas, prob)


def size_thresholds(curves, *, label="", n_boot=400, seed=0) -> SizeThresholds:
    """:func:`half_threshold` for each curve (a ``CapacityCurve``, a ``CriterionCurve`` or a dict).

    A curve exposes ``n_features``, ``alphas`` and either ``successes`` and
    ``trials`` (pattern sets) or ``success`` (one REM sample per row; with
    ``stratified`` true, rows are ordered strata: paired bootstrap).
    """
    rows = []
    skipped = []
    for i, curve in enumerate(curves):
        get = curve.get if isinstance(curve, dict) else lambda name, default=None, c=curve: getattr(c, name, default)
        success = get("success")
        if success is not None:
            successes = np.asarray(success, dtype=np.float64)
            trials = np.ones(successes.shape[1])
        else:
            successes, trials = get("successes"), get("trials")
        value, err = half_threshold(get("alphas"), successes, trials, n_boot=n_boot, seed=(seed, i),
                                    paired=bool(get("stratified", False)))
        if math.isnan(value):
            skipped.append(int(get("n_features")))
            continue
        rows.append((int(get("n_features")), value, err))
    if not rows:
        return SizeThresholds(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), label, tuple(skipped))
    rows.sort()
    n, value, err = (np.array(col) for col in zip(*rows))
    return SizeThresholds(n.astype(np.int64), value, err, label, tuple(sorted(skipped)))


# --------------------------------------------------------------------------
# Fit forms
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FitForm:
    """``alpha(N) = limit + sum_i c_i basis_i(N) + fixed(N)``.

    Attributes
    ----------
    name : str
    basis : tuple of (str, callable)
        Free terms: a label and ``f(N)`` (array in, array out).
    fixed : callable or None
        A term with a known coefficient (``-ln N / N`` for the fixed point).
    """

    name: str
    basis: tuple
    fixed: Callable | None = None

    @property
    def n_params(self) -> int:
        return 1 + len(self.basis)

    def evaluate(self, n, limit, coefficients):
        n = np.asarray(n, dtype=np.float64)
        out = limit + sum(c * f(n) for c, (_, f) in zip(coefficients, self.basis))
        return out + (self.fixed(n) if self.fixed is not None else 0.0)


def _inv(n):
    return 1.0 / n


def _inv2(n):
    return 1.0 / n**2


def _inv3(n):
    return 1.0 / n**3


def _log_over_n(n):
    return np.log(n) / n


def _minus_log_over_n(n):
    return -np.log(n) / n


def _inv_sqrt(n):
    return n**-0.5


def _inv_third(n):
    return n ** (-1.0 / 3.0)


def _inv_two_thirds(n):
    return n ** (-2.0 / 3.0)


FIXED_POINT_FORMS = (
    FitForm("(a - ln N)/N", (("a", _inv),), _minus_log_over_n),
    FitForm("(a - ln N)/N + b/N^2", (("a", _inv), ("b", _inv2)), _minus_log_over_n),
    FitForm("(a - ln N)/N + b/N^2 + c/N^3", (("a", _inv), ("b", _inv2), ("c", _inv3)), _minus_log_over_n),
    FitForm("(a + c ln N)/N", (("a", _inv), ("c", _log_over_n))),
    FitForm("(a + c ln N)/N + b/N^2", (("a", _inv), ("c", _log_over_n), ("b", _inv2))),
)

SIGNAL_FORMS = (
    FitForm("a/N", (("a", _inv),)),
    FitForm("a/N + b/N^2", (("a", _inv), ("b", _inv2))),
    FitForm("a/N + b/N^2 + c/N^3", (("a", _inv), ("b", _inv2), ("c", _inv3))),
    FitForm("(a + c ln N)/N", (("a", _inv), ("c", _log_over_n))),
)

CLASSICAL_FORMS = (
    FitForm("a/sqrt(N)", (("a", _inv_sqrt),)),
    FitForm("a/sqrt(N) + b/N", (("a", _inv_sqrt), ("b", _inv))),
    FitForm("a N^(-1/3)", (("a", _inv_third),)),
    FitForm("a N^(-2/3)", (("a", _inv_two_thirds),)),
)


@dataclass(frozen=True)
class FitResult:
    """Weighted least-squares fit of one form.

    Attributes
    ----------
    form : FitForm
    limit, limit_err : float
        ``alpha_inf`` and its standard error (from the inverse normal matrix).
    coefficients : ndarray
        The ``c_i`` of the form's basis.
    chi2 : float
    dof : int
        Sizes minus parameters.
    p_value : float
        ``P(chi^2_dof > chi2)`` (1 when ``dof = 0``).
    covariance : ndarray, shape (k, k)
        Covariance of ``(limit, c_1, ...)``.
    """

    form: FitForm
    limit: float
    limit_err: float
    coefficients: np.ndarray
    chi2: float
    dof: int
    p_value: float
    covariance: np.ndarray | None = None

    def predict(self, n):
        """The fitted ``alpha(N)``."""
        return self.form.evaluate(n, self.limit, self.coefficients)

    def predict_err(self, n):
        """Standard error of :meth:`predict` from the parameters' covariance (the fit's band)."""
        n = np.atleast_1d(np.asarray(n, dtype=np.float64))
        design = np.column_stack([np.ones_like(n)] + [f(n) for _, f in self.form.basis])
        return np.sqrt(np.einsum("ij,jk,ik->i", design, self.covariance, design))


def fit_form(thresholds: SizeThresholds, form: FitForm, *, min_n=None) -> FitResult:
    """Fit ``form`` to ``alpha_{1/2}(N)`` (sizes ``>= min_n``), weights ``1/err^2``."""
    keep = np.ones(thresholds.n_features.shape[0], dtype=bool)
    if min_n is not None:
        keep = thresholds.n_features >= min_n
    n = thresholds.n_features[keep].astype(np.float64)
    y = thresholds.alpha_half[keep].copy()
    err = thresholds.alpha_half_err[keep]
    if n.shape[0] < form.n_params:
        raise ValueError(f"form {form.name!r} has {form.n_params} parameters, got {n.shape[0]} sizes")
    if not np.all(err > 0):
        raise ValueError("every alpha_half_err must be > 0 to weight the fit")
    if form.fixed is not None:
        y = y - form.fixed(n)
    design = np.column_stack([np.ones_like(n)] + [f(n) for _, f in form.basis])
    weights = 1.0 / err**2
    normal = design.T @ (design * weights[:, None])
    cov = np.linalg.inv(normal)
    coef = cov @ (design.T @ (weights * y))
    resid = y - design @ coef
    chi2 = float(np.sum(weights * resid**2))
    dof = int(n.shape[0] - form.n_params)
    p_value = float(scipy.stats.chi2.sf(chi2, dof)) if dof > 0 else 1.0
    return FitResult(form, float(coef[0]), float(math.sqrt(cov[0, 0])), coef[1:].copy(), chi2, dof, p_value, cov)


@dataclass(frozen=True)
class Extrapolation:
    """``alpha_inf`` from several finite-size forms, with the total error.

    The forms are averaged with Akaike weights ``w_f ∝ exp(-(chi2_f + 2 k_f)
    / 2)`` (``k_f`` parameters): a form pays for each extra parameter unless
    it lowers chi^2 by more than 2, and a form the data reject gets no
    weight. Then ``limit = sum_f w_f limit_f``; the statistical error
    ``stat_err^2 = sum_f w_f err_f^2``; the spread between fit forms
    ``spread^2 = sum_f w_f (limit_f - limit)^2``; ``total_err^2 = stat_err^2
    + spread^2`` (Burnham & Anderson, *Model selection and multimodel
    inference*, 2002, eq. 4.9). Unlike the largest difference between forms,
    this does not let a form whose limit the data hardly constrain set the
    error.

    Attributes
    ----------
    fits : tuple of FitResult
        Every form fitted.
    weights : ndarray
        Akaike weight of each fit.
    best : FitResult
        The fit of largest weight.
    limit, stat_err, spread, total_err : float
    accepted : tuple of str
        Forms with ``chi^2`` p-value at least ``p_min`` (for reports).
    """

    fits: tuple
    weights: np.ndarray
    best: FitResult
    limit: float
    stat_err: float
    spread: float
    total_err: float
    accepted: tuple = field(default=())


def extrapolate(thresholds: SizeThresholds, forms, *, p_min=0.01, min_n=None) -> Extrapolation:
    """Fit every form and average them into ``alpha_inf`` with a total error (:class:`Extrapolation`).

    Forms with as many parameters as sizes (no degree of freedom) are skipped.
    """
    n_sizes = int(np.sum(thresholds.n_features >= (min_n or 0)))
    fits = tuple(fit_form(thresholds, f, min_n=min_n) for f in forms if f.n_params < n_sizes)
    if not fits:
        raise ValueError(f"need more sizes than parameters of some form, got {n_sizes} sizes")
    aic = np.array([f.chi2 + 2.0 * f.form.n_params for f in fits])
    weights = np.exp(-0.5 * (aic - aic.min()))
    weights /= weights.sum()
    limits = np.array([f.limit for f in fits])
    errs = np.array([f.limit_err for f in fits])
    limit = float(np.sum(weights * limits))
    stat = float(math.sqrt(np.sum(weights * errs**2)))
    spread = float(math.sqrt(np.sum(weights * (limits - limit) ** 2)))
    best = fits[int(np.argmax(weights))]
    accepted = tuple(f.form.name for f in fits if f.p_value >= p_min)
    return Extrapolation(fits, weights, best, limit, stat, spread, math.hypot(stat, spread), accepted)


__all__ = [
    "SizeThresholds",
    "half_threshold",
    "size_thresholds",
    "FitForm",
    "FitResult",
    "fit_form",
    "Extrapolation",
    "extrapolate",
    "FIXED_POINT_FORMS",
    "SIGNAL_FORMS",
    "CLASSICAL_FORMS",
]
