"""Threshold series ``alpha_{1/2}(N)`` over sizes, from the full dynamics or the REM-level criteria.

One function per method runs the simulation at every size on a load grid
placed around the finite-N theory (only to spend the work where the
transition is: the crossings are measured, and a grid that does not bracket
one is reported, never filled in), then :mod:`hopfield.finite_size` turns
the curves into ``alpha_{1/2}(N)`` with errors and extrapolates them.

Methods (issue 14):

- ``"full"``: the retrieval dynamics with streamed patterns
  (:func:`hopfield.capacity.capacity_simulation` with ``streamed=True`` and
  the opt-in early exit of failed queries); criteria: the fixed point
  (retrieval) and, where the grid reaches it, the first-step signal.
- ``"rem"``: the REM-level simulation (:func:`hopfield.criterion.criterion_simulation`);
  criteria: the fixed point along the target's line and the signal
  ``w_1 > 1/2``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from statmech._validation import as_float, as_int, as_seed_sequence, child_seed

from hopfield.capacity import alpha_1, capacity_simulation, finite_size_alpha_1
from hopfield.criterion import criterion_simulation, finite_size_signal_alpha
from hopfield.finite_size import FIXED_POINT_FORMS, SIGNAL_FORMS, Extrapolation, SizeThresholds, extrapolate
from hopfield.finite_size import size_thresholds
from hopfield.patterns import check_ensemble

METHODS = ("full", "rem")
CRITERIA = ("fixed point", "signal")


def fixed_point_centre(ensemble, beta, n_features) -> float:
    """Where the full-dynamics grid is centred: the annealed map's threshold (``alpha_1`` for Gaussian ``beta >= 1``)."""
    if ensemble == "gaussian" and beta >= 1:
        return alpha_1(ensemble, beta)
    return finite_size_alpha_1(ensemble, beta, n_features)


def full_grid(ensemble, beta, n_features) -> np.ndarray:
    """Loads of the full dynamics: ``-0.08 .. +0.05`` by 0.01 around the centre (Gaussian ``-0.12 .. +0.08`` by 0.02).

    The Gaussian transition is broad at these sizes (the target's own norm
    spreads the per-pattern threshold by ``alpha_1 sqrt(2/N)``).
    """
    centre = fixed_point_centre(ensemble, beta, n_features)
    offsets = np.arange(-0.12, 0.0801, 0.02) if ensemble == "gaussian" else np.arange(-0.08, 0.0501, 0.01)
    return np.round(np.clip(centre + offsets, 1e-4, None), 4)


def rem_grid(ensemble, beta, n_features) -> np.ndarray:
    """Loads of the REM-level criteria: around the fixed-point and the signal thresholds, one nested grid.

    Centres :func:`hopfield.capacity.finite_size_alpha_1` and
    :func:`hopfield.criterion.finite_size_signal_alpha`. Spherical and binary:
    two fine windows (sharp transitions); Gaussian: one wide window over both
    (the target's norm spreads them). ``beta >= 1.5``: the signal window only
    (the fixed point's success window is then tiny).
    """
    n = n_features
    signal = finite_size_signal_alpha(ensemble, beta, n)
    if ensemble == "gaussian":
        width = 0.15 + 1.2 / n**0.5
        fixed = finite_size_alpha_1(ensemble, min(beta, 0.95), n)
        grid = np.arange(fixed - width, signal + 0.6 * width, width / 80)
    else:
        width = 0.03 + 1.5 / n
        step = max(5e-4, width / 100)
        parts = [np.arange(signal - 0.4 * width, signal + 0.4 * width, step)]
        if beta < 1.5:
            fixed = finite_size_alpha_1(ensemble, beta, n)
            parts.insert(0, np.arange(fixed - width, fixed + 0.6 * width, step))
        grid = np.concatenate(parts)
    grid = np.unique(np.round(grid, 5))
    return grid[grid > 0]


@dataclass(frozen=True)
class ThresholdSeries:
    """``alpha_{1/2}(N)`` of one criterion over sizes, with the finite-N theory and the extrapolation.

    Attributes
    ----------
    ensemble, method, criterion : str
    beta : float
    thresholds : SizeThresholds
    finite_theory : ndarray, shape (L,)
        The annealed finite-N threshold at each size of ``thresholds``
        (:func:`hopfield.capacity.finite_size_alpha_1` for the fixed point,
        :func:`hopfield.criterion.finite_size_signal_alpha` for the signal).
    extrapolation : Extrapolation or None
        ``N -> inf`` (None with fewer than 3 sizes).
    theory : float
        ``alpha_1(beta)`` of the REM theory.
    """

    ensemble: str
    method: str
    criterion: str
    beta: float
    thresholds: SizeThresholds
    finite_theory: np.ndarray
    extrapolation: Extrapolation | None
    theory: float


@dataclass(frozen=True)
class SeriesRun:
    """The curves of one method over sizes, and the series of each criterion.

    Attributes
    ----------
    curves : list
        One ``CapacityCurve`` (full) or ``CriterionCurve`` (rem) per size.
    seconds : ndarray, shape (L,)
        Wall time of each size.
    series : dict
        Criterion name -> :class:`ThresholdSeries`.
    """

    curves: list
    seconds: np.ndarray
    series: dict


def finite_theory(criterion, ensemble, beta, n_features) -> float:
    """The annealed finite-N threshold of a criterion (see :class:`ThresholdSeries`)."""
    if criterion == "fixed point":
        return fixed_point_centre(ensemble, beta, n_features)
    return finite_size_signal_alpha(ensemble, beta, n_features)


def series_from_curves(curves, method, ensemble, beta, *, seed=0) -> dict:
    """:class:`ThresholdSeries` of both criteria from the curves of one method."""
    out = {}
    for criterion in CRITERIA:
        rows = []
        for c in curves:
            if method == "rem":
                field = c.success if criterion == "fixed point" else c.signal
                rows.append({"n_features": c.n_features, "alphas": c.alphas, "success": field,
                             "stratified": c.stratified})
            else:
                field = c.successes if criterion == "fixed point" else c.signal_successes
                rows.append({"n_features": c.n_features, "alphas": c.alphas, "successes": field,
                             "trials": c.trials})
        th = size_thresholds(rows, label=f"{method} {criterion}", seed=seed)
        theory_n = np.array([finite_theory(criterion, ensemble, beta, int(n)) for n in th.n_features])
        forms = FIXED_POINT_FORMS if criterion == "fixed point" else SIGNAL_FORMS
        ex = extrapolate(th, forms) if th.n_features.shape[0] >= 3 else None
        out[criterion] = ThresholdSeries(ensemble, method, criterion, beta, th, theory_n, ex, alpha_1(ensemble, beta))
    return out


def run_series(method, ensemble, beta, sizes, *, seed=None, n_targets=64, n_sets=4, n_samples=1500,
               tail_levels=None, progress=None) -> SeriesRun:
    """Simulate one method at every size and extract both criteria's threshold series.

    Parameters
    ----------
    method : {"full", "rem"}
    ensemble : {"spherical", "gaussian", "binary"}
    beta : float
    sizes : sequence of int
    seed : None, int or SeedSequence
        Size ``i`` uses the child ``spawn_key + (i,)``.
    n_targets, n_sets : int
        Full dynamics: queries per pattern set, pattern sets per size.
    n_samples : int
        REM level: samples per size (Gaussian: strata of the target's norm).
    tail_levels : int, optional
        REM level: levels drawn one by one (default of the sampler).
    progress : callable, optional
        ``progress(done, total)`` after each size.

    Returns
    -------
    SeriesRun
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    ensemble = check_ensemble(ensemble)
    beta = as_float(beta, "beta", positive=True)
    sizes = [as_int(n, "sizes", minimum=3) for n in sizes]
    seq = as_seed_sequence(seed)
    curves, seconds = [], []
    for i, n in enumerate(sizes):
        child = child_seed(seq, i)
        start = time.perf_counter()
        if method == "full":
            curves.append(capacity_simulation(ensemble, beta, n, full_grid(ensemble, beta, n), n_targets=n_targets,
                                              n_sets=n_sets, seed=child, tol=1e-6, max_iter=1000, streamed=True,
                                              early_exit=True))
        else:
            kwargs = {} if tail_levels is None else {"tail_levels": tail_levels}
            curves.append(criterion_simulation(ensemble, beta, n, rem_grid(ensemble, beta, n), n_samples=n_samples,
                                               seed=child, stratify=ensemble == "gaussian", **kwargs))
        seconds.append(time.perf_counter() - start)
        if progress is not None:
            progress(i + 1, len(sizes))
    return SeriesRun(curves, np.array(seconds), series_from_curves(curves, method, ensemble, beta))


__all__ = [
    "METHODS",
    "CRITERIA",
    "fixed_point_centre",
    "full_grid",
    "rem_grid",
    "finite_theory",
    "ThresholdSeries",
    "SeriesRun",
    "series_from_curves",
    "run_series",
]
