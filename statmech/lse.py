"""Log-sum-exp and softmax over an axis, in float64 and float32.

For a row ``x_1..x_K`` with maximum ``m`` attained first at index ``i``:

.. math::

    \\operatorname{lse}(x) = m + \\operatorname{log1p}\\Big(\\sum_{j \\ne i} e^{x_j - m}\\Big),
    \\qquad \\operatorname{softmax}(x)_j = \\frac{e^{x_j - m}}{1 + \\sum_{j' \\ne i} e^{x_{j'} - m}}.

Subtracting the maximum keeps every exponent ``<= 0`` (no overflow), and
counting the maximal term exactly as 1 inside ``log1p`` keeps full relative
accuracy when the other terms are small. Conventions at the edges:

- a row of ``-inf`` (no states) has ``lse = -inf``; its softmax is undefined
  and raises ``ValueError`` rather than returning NaN;
- a row containing ``+inf`` has ``lse = +inf``; its softmax puts equal weight
  on the ``+inf`` entries (the symmetric limit);
- NaN input is refused.

The arithmetic is done in float64 (float32 input is widened per element and
the result rounded back), so float32 results are correctly rounded to within
an ulp or two.
"""

from __future__ import annotations

import math

import numpy as np

from statmech._fastexp import exp_nonpositive
from statmech._numba import kernel
from statmech._validation import as_axis, as_float_array

#: ``ln 2``: the entropy of a bit, and ``lse(0, 0)``.
LN2 = math.log(2.0)


@kernel
def _row_argmax(row):
    """Index of the first maximum of ``row`` (``-inf`` rows give 0)."""
    best = row[0]
    index = 0
    for j in range(1, row.shape[0]):
        if row[j] > best:
            best = row[j]
            index = j
    return index


@kernel
def _logsumexp_rows(values, out):
    """``out[r] = lse(values[r, :])`` for a C-contiguous 2-D array."""
    n_rows, n_cols = values.shape
    for r in range(n_rows):
        row = values[r]
        i = _row_argmax(row)
        top = np.float64(row[i])
        if top == -np.inf or top == np.inf:
            out[r] = top
            continue
        rest = 0.0
        for j in range(i):
            rest += exp_nonpositive(np.float64(row[j]) - top)
        for j in range(i + 1, n_cols):
            rest += exp_nonpositive(np.float64(row[j]) - top)
        out[r] = top + math.log1p(rest)


@kernel
def _softmax_rows(values, out):
    """``out[r, :] = softmax(values[r, :])``; returns the first all ``-inf`` row or -1."""
    n_rows, n_cols = values.shape
    for r in range(n_rows):
        row = values[r]
        i = _row_argmax(row)
        top = np.float64(row[i])
        if top == -np.inf:
            return r
        if top == np.inf:
            count = 0
            for j in range(n_cols):
                if row[j] == np.inf:
                    count += 1
            for j in range(n_cols):
                out[r, j] = 1.0 / count if row[j] == np.inf else 0.0
            continue
        total = 0.0
        for j in range(n_cols):
            w = exp_nonpositive(np.float64(row[j]) - top)
            out[r, j] = w
            total += w
        inverse = 1.0 / total
        for j in range(n_cols):
            out[r, j] = out[r, j] * inverse
    return -1


def _as_rows(a, axis):
    """Move ``axis`` last and flatten the rest: returns (rows, shape without axis)."""
    values = as_float_array(a, "a", allow_posinf=True, allow_neginf=True, contiguous=False)
    if axis is None:
        return np.ascontiguousarray(values.reshape(1, -1)), None, values
    axis = as_axis(axis, values.ndim)
    moved = np.moveaxis(values, axis, -1)
    kept_shape = moved.shape[:-1]
    return np.ascontiguousarray(moved.reshape(-1, moved.shape[-1])), (axis, kept_shape), values


def logsumexp(a, axis=-1, *, keepdims=False):
    """Log-sum-exp ``log sum_j exp(a_j)`` along ``axis``, stable for any input.

    Implements ``lse(x) = m + log1p(sum_{j != i} exp(x_j - m))`` (module
    docstring), the log-partition function of a system whose negative
    energies times beta are ``a``: ``log Z = lse(-beta E)``.

    Parameters
    ----------
    a : array_like of float
        Non-empty array; ``-inf`` and ``+inf`` are allowed, NaN is not.
        Integers are converted to float64; float32 stays float32.
    axis : int or None, default -1
        Axis to reduce; ``None`` reduces over all elements.
    keepdims : bool, default False
        Keep the reduced axis with length 1.

    Returns
    -------
    numpy.ndarray or float
        Same dtype as ``a`` (float32 or float64). ``-inf`` for rows that are
        all ``-inf``, never NaN. Matches ``scipy.special.logsumexp`` to
        ``1e-12`` relative in float64.

    Raises
    ------
    TypeError
        Complex, object or string input.
    ValueError
        Empty input, NaN, or an axis out of range.
    """
    rows, layout, values = _as_rows(a, axis)
    out = np.empty(rows.shape[0], dtype=np.float64)
    _logsumexp_rows(rows, out)
    out = out.astype(values.dtype, copy=False)
    if layout is None:
        result = out.reshape((1,) * values.ndim) if keepdims else out[0]
        return result if keepdims else values.dtype.type(result)
    axis, kept_shape = layout
    result = out.reshape(kept_shape)
    if keepdims:
        result = np.expand_dims(result, axis)
    return result if result.ndim else values.dtype.type(result)


def softmax(a, axis=-1):
    """Gibbs weights ``exp(a_j) / sum_k exp(a_k)`` along ``axis``.

    With ``a = -beta E`` these are the Boltzmann probabilities ``p_j``; see
    the module docstring for the edge conventions.

    Parameters
    ----------
    a : array_like of float
        Non-empty; ``-inf`` entries get weight 0; NaN is refused.
    axis : int or None, default -1

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``a``; each slice sums to 1.

    Raises
    ------
    ValueError
        NaN input, empty input, or a slice that is all ``-inf`` (no state to
        put weight on: the softmax is undefined there).
    """
    rows, layout, values = _as_rows(a, axis)
    out = np.empty(rows.shape, dtype=np.float64)
    bad_row = _softmax_rows(rows, out)
    if bad_row >= 0:
        raise ValueError(
            f"a has a slice along axis {axis} that is all -inf (flattened slice {bad_row}); "
            "its softmax is undefined"
        )
    out = out.astype(values.dtype, copy=False)
    if layout is None:
        return out.reshape(values.shape)
    axis, kept_shape = layout
    return np.moveaxis(out.reshape(kept_shape + (rows.shape[1],)), -1, axis)


def log_cosh(u):
    """``log cosh(u) = |u| + log1p(e^{-2|u|}) - ln 2``, stable for any real ``u``.

    The two-term log-sum-exp ``lse(u, -u) - ln 2`` with the largest term
    taken out: no overflow for large ``|u|``; the error is a few ulps of
    ``max(|u|, ln 2)`` (absolute, so relative accuracy is lost as ``u -> 0``
    where ``log cosh u ~ u^2/2``: enough for the sums it enters). Plain
    NumPy (no argument checks): for the closed forms that use it (the
    Gaussian-mixture density, potential and annealed ``f^e``).

    Parameters
    ----------
    u : float or ndarray
        Real argument(s).

    Returns
    -------
    float or ndarray
        ``log cosh(u)``, same shape as ``u``.
    """
    a = np.abs(u)
    return a + np.log1p(np.exp(-2.0 * a)) - LN2


__all__ = ["LN2", "logsumexp", "softmax", "log_cosh"]
