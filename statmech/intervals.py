"""Confidence intervals: the percentile bootstrap over independent units, and the exact binomial.

Bootstrap (Efron and Tibshirani 1993, ch. 13): the rows of ``samples`` are
the independent units (trajectories, clone pairs, generated samples). A
resample draws ``N`` rows with replacement; the statistic of ``n_boot``
resamples gives the percentile interval ``[q_{(1-c)/2}, q_{(1+c)/2}]`` and the
bootstrap standard error. Rows are resampled whole, so statistics that
combine several columns of one unit (``phi`` at every clone time of one
trajectory, a crossing time read off a whole curve) keep their correlation.

Reproducible: the indices are drawn from ``seed`` in fixed batches of
:data:`BATCH` resamples, so a result depends on ``seed`` and ``n_boot``
only, and the built-in mean and any user statistic see the same resamples.

The exact binomial interval (Clopper and Pearson 1934) bounds a proportion
``x / n`` with coverage at least the nominal level for every ``p``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from statmech._validation import as_float, as_float_array, as_generator, as_int

__all__ = ["ConfidenceInterval", "bootstrap_ci", "binomial_ci", "BATCH"]

#: Resamples whose indices are drawn in one call (part of the random-number recipe).
BATCH = 16


@dataclass(frozen=True)
class ConfidenceInterval:
    """An estimate with its confidence interval.

    Attributes
    ----------
    estimate : float or ndarray
        The statistic of the full sample (or ``x / n``).
    low, high : float or ndarray
        Interval end points, same shape as ``estimate``.
    se : float or ndarray
        Bootstrap standard error (standard deviation of the resampled
        statistic); for the binomial, ``sqrt(p (1 - p) / n)``.
    confidence : float
        Nominal coverage, e.g. 0.95.
    n_boot : int
        Resamples used (0 for the binomial interval).
    method : str
        ``"percentile bootstrap"`` or ``"Clopper-Pearson"``.
    """

    estimate: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    se: float | np.ndarray
    confidence: float
    n_boot: int
    method: str


def _check_confidence(confidence) -> float:
    confidence = as_float(confidence, "confidence")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return confidence


def _as_result(values):
    values = np.asarray(values, dtype=np.float64)
    return float(values) if values.ndim == 0 else values


def bootstrap_ci(samples, statistic=None, *, n_boot=2000, confidence=0.95, seed=0) -> ConfidenceInterval:
    """Percentile-bootstrap interval of a statistic of independent rows.

    Parameters
    ----------
    samples : array_like, shape (N, ...)
        One row per independent unit, finite. ``N >= 2``.
    statistic : callable, optional
        ``statistic(rows)`` of an array shaped like ``samples`` (a resample
        of its rows), returning a float or an array. Default: the mean over
        rows (``rows.mean(axis=0)``), computed from resample counts without
        copying the rows. A statistic that returns NaN for a resample (a
        curve that does not cross) has those resamples left out of the
        interval; if more than half are, it raises.
    n_boot : int
        Resamples, ``>= 2``.
    confidence : float
        Nominal coverage in ``(0, 1)``.
    seed : int, SeedSequence or Generator

    Returns
    -------
    ConfidenceInterval
    """
    samples = as_float_array(samples, "samples", ndim=None, allow_nan=False)
    if samples.ndim == 0 or samples.shape[0] < 2:
        raise ValueError(f"samples must have at least 2 rows (independent units), got shape {samples.shape}")
    if statistic is not None and not callable(statistic):
        raise TypeError(f"statistic must be callable or None, got {type(statistic).__name__}")
    n_boot = as_int(n_boot, "n_boot", minimum=2)
    confidence = _check_confidence(confidence)
    rng = as_generator(seed)
    n = samples.shape[0]
    flat = samples.reshape(n, -1)
    estimate = flat.mean(axis=0).reshape(samples.shape[1:]) if statistic is None else np.asarray(
        statistic(samples), dtype=np.float64)
    boots = np.empty((n_boot,) + estimate.shape)
    for b0 in range(0, n_boot, BATCH):
        size = min(BATCH, n_boot - b0)
        indices = rng.integers(0, n, size=(size, n))
        for i in range(size):
            if statistic is None:
                counts = np.bincount(indices[i], minlength=n).astype(np.float64)
                boots[b0 + i] = (counts @ flat / n).reshape(estimate.shape)
            else:
                boots[b0 + i] = statistic(samples[indices[i]])
    defined = ~np.isnan(boots.reshape(n_boot, -1)).any(axis=1)
    if defined.sum() < n_boot / 2:
        raise ValueError(
            f"the statistic is NaN for {n_boot - int(defined.sum())} of {n_boot} resamples; "
            "it is not defined often enough for a bootstrap interval"
        )
    boots = boots[defined]
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(boots, [tail, 1.0 - tail], axis=0)
    return ConfidenceInterval(
        estimate=_as_result(estimate), low=_as_result(low), high=_as_result(high),
        se=_as_result(np.std(boots, axis=0, ddof=1)), confidence=confidence,
        n_boot=int(boots.shape[0]), method="percentile bootstrap",
    )


def binomial_ci(successes, trials, *, confidence=0.95) -> ConfidenceInterval:
    """Clopper–Pearson interval of a proportion ``successes / trials``.

    ``[B((1-c)/2; x, n-x+1), B((1+c)/2; x+1, n-x)]`` with ``B(q; a, b)`` the
    Beta quantile, 0 for ``x = 0`` and 1 for ``x = n`` (Clopper and Pearson
    1934). Coverage is at least ``confidence`` for every true proportion.
    ``successes`` may be an array (one interval per entry).
    """
    from scipy.stats import beta

    trials = as_int(trials, "trials", minimum=1)
    x = np.asarray(successes)
    if x.dtype.kind not in "iu":
        raise TypeError(f"successes must be integers, got dtype {x.dtype}")
    if (x < 0).any() or (x > trials).any():
        raise ValueError(f"successes must lie in [0, trials={trials}], got {x.min()}..{x.max()}")
    confidence = _check_confidence(confidence)
    tail = (1.0 - confidence) / 2.0
    xf = x.astype(np.float64)
    with np.errstate(invalid="ignore"):
        low = np.where(x == 0, 0.0, beta.ppf(tail, np.maximum(xf, 1), trials - xf + 1))
        high = np.where(x == trials, 1.0, beta.ppf(1.0 - tail, xf + 1, np.maximum(trials - xf, 1)))
    p = xf / trials
    return ConfidenceInterval(
        estimate=_as_result(p), low=_as_result(low), high=_as_result(high),
        se=_as_result(np.sqrt(p * (1.0 - p) / trials)), confidence=confidence, n_boot=0,
        method="Clopper-Pearson",
    )
