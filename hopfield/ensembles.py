"""Overlap ensembles: the entropy of the overlap of a random pattern with a fixed state.

PHYSICS.md §6; Lucibello & Mézard, PRL 132, 077301 (2024). For ``P =
e^{alpha N}`` random patterns of an ensemble of :mod:`hopfield.patterns`,
the number of patterns whose overlap ``q = xi.x / N`` with a fixed state is
near ``q`` is ``exp(N (alpha + s(q)))``, with the overlap entropy

- spherical: ``s(q) = 1/2 ln(1 - q^2)`` (density ``∝ (1 - q^2)^{(N-3)/2}``);
- Gaussian: ``s(q) = -q^2 / 2``;
- binary: ``s(q) = H((1 + q)/2) - ln 2`` (nats).

The overlaps are independent, so ``sum_nu exp(beta N q_nu)`` is a random
energy model with energies ``e = -q`` and level entropy ``Sigma(e) = alpha +
s(-e)``: :func:`overlap_rem` builds it as a :class:`statmech.rem.GeneralREM`
(the general solver stays free of Hopfield physics; this module supplies
it). :mod:`hopfield.capacity` turns it into the retrieval threshold.
"""

from __future__ import annotations

import math

import numpy as np

from statmech._validation import as_float, as_float_array
from statmech.lse import LN2
from statmech.rem import GeneralREM

from hopfield.patterns import check_ensemble

__all__ = ["overlap_entropy", "overlap_rem", "dominant_overlap"]


# Level entropies and their slopes in the REM's energy e = -q (both even in q).


def _spherical_entropy(e):
    one_minus = 1.0 - e * e
    return 0.5 * math.log(one_minus) if one_minus > 0 else -math.inf


def _spherical_slope(e):
    one_minus = 1.0 - e * e
    return -e / one_minus if one_minus > 0 else -math.copysign(math.inf, e)


def _xlogx(p):
    return p * math.log(p) if p > 0 else 0.0


def _binary_entropy(e):
    # H((1 + q)/2) - ln 2 with q = -e, H in nats.
    p = 0.5 * (1.0 - e)
    return -_xlogx(p) - _xlogx(1.0 - p) - LN2


def _binary_slope(e):
    if abs(e) >= 1.0:
        return -math.copysign(math.inf, e)
    return -math.atanh(e)


#: Entropy, slope and support of the bounded ensembles (the Gaussian one is
#: the Gaussian REM of unit variance density).
_BOUNDED = {
    "spherical": (_spherical_entropy, _spherical_slope),
    "binary": (_binary_entropy, _binary_slope),
}


def overlap_rem(ensemble, alpha) -> GeneralREM:
    """The REM of the overlaps of ``P = e^{alpha N}`` random patterns with a fixed state.

    Energy ``e = -q``, level entropy ``Sigma(e) = alpha + s(-e)`` with the
    ensemble's overlap entropy (module docstring); solved by
    :class:`statmech.rem.GeneralREM`.

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    alpha : float
        Load ``ln(P)/N``, ``>= 0``.

    Returns
    -------
    GeneralREM
        Named ``"<ensemble> overlap"``.
    """
    ensemble = check_ensemble(ensemble)
    alpha = as_float(alpha, "alpha", nonnegative=True)
    if ensemble == "gaussian":
        return GeneralREM.gaussian(1.0, alpha, name="gaussian overlap")
    entropy, slope = _BOUNDED[ensemble]
    return GeneralREM(entropy, -1.0, 1.0, alpha, slope, f"{ensemble} overlap")


def overlap_entropy(ensemble, q):
    """Entropy per dimension ``s(q)`` of the overlap of a random pattern with a fixed state.

    spherical ``1/2 ln(1 - q^2)``; Gaussian ``-q^2/2``; binary ``H((1+q)/2) -
    ln 2`` (nats). PHYSICS.md §6; ``-inf`` outside the support ``[-1, 1]``.

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    q : float or array_like (K,)
        Overlaps.

    Returns
    -------
    float or ndarray (K,)
    """
    entropy = overlap_rem(ensemble, 1.0).entropy
    q = as_float_array(q, "q", ndim=(0, 1), dtype=np.float64, contiguous=False)
    out = np.array([float(entropy(-value)) for value in q.ravel()]).reshape(q.shape)
    return float(out) if out.ndim == 0 else out


def dominant_overlap(ensemble, b):
    """Annealed dominant overlap ``q*(b) = argmax_q [s(q) + b q]``.

    Gaussian ``b``; binary ``tanh b``; spherical ``(sqrt(1 + 4 b^2) - 1)/(2 b)``
    (the stationary points of ``s(q) + b q``; :mod:`hopfield.capacity`,
    module docstring, item 4).

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    b : float
        Field ``>= 0`` conjugate to ``q``.

    Returns
    -------
    float
    """
    ensemble = check_ensemble(ensemble)
    b = as_float(b, "b", nonnegative=True)
    if ensemble == "gaussian":
        return b
    if ensemble == "binary":
        return math.tanh(b)
    if b == 0:
        return 0.0
    return (math.sqrt(1.0 + 4.0 * b * b) - 1.0) / (2.0 * b)
