"""Pattern ensembles for associative memories, and the memory guard for ``P = e^{alpha N}``.

Ensembles (PHYSICS.md §6; Lucibello & Mézard, PRL 132, 077301 (2024)), each
with ``|xi|^2 = N`` exactly or on average, so that overlaps ``q = xi.x / N``
are O(1) and the Hopfield inverse temperature ``beta`` is O(1):

- ``"spherical"``: uniform on the sphere of radius ``sqrt(N)``; the overlap of
  a random pattern with a fixed unit direction has density
  ``∝ (1 - q^2)^{(N-3)/2}``, entropy ``s(q) = 1/2 ln(1 - q^2)``;
- ``"gaussian"``: i.i.d. ``N(0, 1)`` entries, ``s(q) = -q^2 / 2``;
- ``"binary"``: i.i.d. ``±1`` entries, ``s(q) = H((1+q)/2) - ln 2``
  (overlap with another ``±1`` vector);
- real or correlated patterns: any user array, checked by :func:`as_patterns`
  (the digits data set comes through :mod:`hopfield.bridge`).

Random streams: rows are drawn in fixed blocks of :data:`BLOCK_ROWS`; block
``b`` uses ``SeedSequence(entropy, spawn_key=key + (b,))``. So the first
``P'`` rows of a draw of ``P > P'`` patterns are exactly the draw of ``P'``
patterns with the same seed (nested pattern sets for capacity scans), and the
result never depends on how the work is split.
"""

from __future__ import annotations

import math

import numpy as np

from statmech.memory import InsufficientMemoryError, available_memory
from statmech.memory import format_bytes as _format_bytes
from statmech._validation import (
    as_float,
    as_float_array,
    as_float_dtype,
    as_int,
    as_seed_sequence,
    child_seed,
)

#: Names of the random ensembles.
ENSEMBLES = ("spherical", "gaussian", "binary")
#: Rows per random block (one SeedSequence child per block).
BLOCK_ROWS = 4096
#: Fraction of the available memory a pattern matrix may take by default.
MEMORY_FRACTION = 0.5


def check_ensemble(ensemble) -> str:
    """Return ``ensemble`` if it names a random ensemble, else raise.

    Parameters
    ----------
    ensemble : str
        One of :data:`ENSEMBLES`.

    Returns
    -------
    str
    """
    if not isinstance(ensemble, str):
        raise TypeError(f"ensemble must be a string, one of {ENSEMBLES}, got {ensemble!r}")
    if ensemble not in ENSEMBLES:
        raise ValueError(f"ensemble must be one of {ENSEMBLES}, got {ensemble!r}")
    return ensemble


def check_memory(n_patterns, n_features, *, dtype=np.float64, memory_limit=None, what="patterns") -> int:
    """Refuse a ``P x N`` pattern matrix that would not fit in memory.

    Parameters
    ----------
    n_patterns : int or float
        ``P`` (a float such as ``exp(alpha N)`` is accepted: it may be huge).
    n_features : int
        ``N``.
    dtype : float64 or float32
    memory_limit : int, optional
        Bytes allowed; default :data:`MEMORY_FRACTION` of :func:`available_memory`.
    what : str
        Label in the error message.

    Returns
    -------
    int
        The number of bytes the matrix takes.

    Raises
    ------
    MemoryError-like ValueError
        Saying how much memory the matrix would need and how much is allowed.
    """
    itemsize = as_float_dtype(dtype).itemsize
    if memory_limit is None:
        memory_limit = int(MEMORY_FRACTION * available_memory())
    else:
        memory_limit = as_int(memory_limit, "memory_limit", minimum=1)
    needed = float(n_patterns) * float(n_features) * itemsize
    if not needed <= memory_limit:
        raise InsufficientMemoryError(
            f"{what}: P = {float(n_patterns):.4g} patterns of N = {n_features} {np.dtype(dtype).name} "
            f"entries would need {_format_bytes(needed)} ({needed:.4g} bytes), more than the "
            f"{_format_bytes(memory_limit)} allowed (memory_limit); lower alpha or N"
        )
    return int(needed)


def patterns_for_alpha(alpha, n_features, *, dtype=np.float64, memory_limit=None) -> int:
    """``P = round(exp(alpha N))`` (at least 1), refused if it cannot be allocated.

    Parameters
    ----------
    alpha : float
        Load ``alpha = ln(P) / N >= 0`` (exponential capacity convention,
        Lucibello & Mézard 2024).
    n_features : int
        ``N >= 1``.
    dtype, memory_limit
        As in :func:`check_memory`.

    Returns
    -------
    int
        ``P``.
    """
    alpha = as_float(alpha, "alpha", nonnegative=True)
    n_features = as_int(n_features, "n_features", minimum=1)
    log_p = alpha * n_features
    n_patterns = math.exp(log_p) if log_p < 700 else math.inf
    check_memory(n_patterns, n_features, dtype=dtype, memory_limit=memory_limit,
                 what=f"alpha = {alpha!r} at N = {n_features}")
    return max(1, int(round(n_patterns)))


def as_patterns(patterns, name: str = "patterns", *, dtype=None) -> np.ndarray:
    """Validate a user's pattern matrix (real or correlated data): ``(P, N)``, ``P >= 1``, finite.

    Integer input is converted to float64; float32 stays float32 unless
    ``dtype`` says otherwise.

    Parameters
    ----------
    patterns : array_like, shape (P, N)
    name : str
        Argument name used in error messages.
    dtype : {None, float64, float32}

    Returns
    -------
    ndarray, shape (P, N)

    Raises
    ------
    ValueError
        No patterns, no features, NaN or inf entries.
    TypeError
        Complex or object dtypes.
    """
    if np.ndim(patterns) == 2 and np.shape(patterns)[0] < 1:
        raise ValueError(f"{name} must hold at least one pattern (P >= 1), got shape {np.shape(patterns)}")
    arr = as_float_array(patterns, name, ndim=2, dtype=dtype)
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one feature (N >= 1), got shape {arr.shape}")
    return arr


def random_patterns(ensemble, n_patterns, n_features, *, seed=None, dtype=np.float64, memory_limit=None):
    """Draw ``P`` random patterns of dimension ``N`` from an ensemble.

    Physics: the i.i.d. pattern ensembles of PHYSICS.md §6 with
    ``E|xi|^2 = N`` (module docstring). Spherical rows are Gaussian rows
    rescaled to norm ``sqrt(N)`` exactly.

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    n_patterns : int
        ``P >= 1``.
    n_features : int
        ``N >= 1``.
    seed : None, int or numpy.random.SeedSequence
        Block ``b`` of :data:`BLOCK_ROWS` rows uses the child stream
        ``spawn_key + (b,)``: prefixes of a draw are draws (nested sets).
    dtype : float64 or float32
        Storage dtype (values are drawn in float64 and rounded).
    memory_limit : int, optional
        Bytes allowed (see :func:`check_memory`).

    Returns
    -------
    ndarray, shape (P, N)
    """
    ensemble = check_ensemble(ensemble)
    n_patterns = as_int(n_patterns, "n_patterns", minimum=1)
    n_features = as_int(n_features, "n_features", minimum=1)
    dtype = as_float_dtype(dtype)
    seq = as_seed_sequence(seed)
    check_memory(n_patterns, n_features, dtype=dtype, memory_limit=memory_limit)
    out = np.empty((n_patterns, n_features), dtype=dtype)
    buf = np.empty((min(BLOCK_ROWS, n_patterns), n_features))
    for block, start in enumerate(range(0, n_patterns, BLOCK_ROWS)):
        stop = min(start + BLOCK_ROWS, n_patterns)
        out[start:stop] = fill_pattern_block(ensemble, seq, block, buf[: stop - start])
    return out


def fill_pattern_block(ensemble, seed, block, out):
    """Fill ``out`` with the first rows of block ``block`` of a pattern draw (the one stream of patterns).

    Rows ``block * BLOCK_ROWS ...`` of :func:`random_patterns` with the same
    seed: the stream ``SeedSequence(entropy, spawn_key=key + (block,))``
    (PCG64) drawn in float64. A block drawn with fewer rows is the prefix of
    the full block, so patterns can be regenerated block by block and never
    stored (:mod:`hopfield.streaming`).

    Parameters
    ----------
    ensemble : {"spherical", "gaussian", "binary"}
    seed : numpy.random.SeedSequence
        The draw's seed (not the block's child).
    block : int
        Block index ``>= 0``.
    out : ndarray of float64, shape (R, N)
        ``R <= BLOCK_ROWS`` rows to fill, C-contiguous.

    Returns
    -------
    ndarray
        ``out``.
    """
    rng = np.random.Generator(np.random.PCG64(child_seed(seed, block)))
    if ensemble == "binary":
        out[...] = 2.0 * rng.integers(0, 2, size=out.shape) - 1.0
    else:
        rng.standard_normal(out=out)
        if ensemble == "spherical":
            out *= math.sqrt(out.shape[1]) / np.linalg.norm(out, axis=1, keepdims=True)
    return out


__all__ = [
    "ENSEMBLES",
    "BLOCK_ROWS",
    "MEMORY_FRACTION",
    "check_ensemble",
    "available_memory",
    "check_memory",
    "patterns_for_alpha",
    "as_patterns",
    "random_patterns",
    "fill_pattern_block",
]
