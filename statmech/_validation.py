"""Argument checks shared by every public function.

Each check raises :class:`TypeError` (wrong kind of object) or
:class:`ValueError` (right kind, bad value) whose message names the argument,
the value received and what was expected. Public functions call these before
any kernel runs, so bad input never reaches compiled code and never comes back
as a silent NaN.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from statmech._numba import kernel

_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


@kernel
def _has_nonfinite(flat):
    """True if ``flat`` holds NaN or +-inf: ``x * 0`` is 0 for finite x, NaN otherwise.

    One vectorised pass with no temporary array (``np.isfinite(a).all()``
    allocates a boolean copy: ~18 ms on 5M entries, more than a Gibbs pass).
    """
    total = 0.0
    for i in range(flat.shape[0]):
        total += flat[i] * 0.0
    return total != 0.0


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def as_float_array(
    value,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    dtype=None,
    allow_nan: bool = False,
    allow_posinf: bool = False,
    allow_neginf: bool = False,
    allow_empty: bool = False,
    contiguous: bool = True,
) -> np.ndarray:
    """Return ``value`` as a float64 or float32 NumPy array, or raise.

    Integers and booleans are converted to float64. float32 input stays
    float32 unless ``dtype`` says otherwise. Complex, object, string and
    other dtypes raise :class:`TypeError`.

    Parameters
    ----------
    value : array_like
    name : str
        Argument name used in error messages.
    ndim : int or tuple of int, optional
        Allowed number(s) of dimensions.
    dtype : {None, numpy.float64, numpy.float32}
        Force this dtype. ``None`` keeps float32/float64 and converts the rest
        to float64.
    allow_nan, allow_posinf, allow_neginf : bool
        Which non-finite values are accepted.
    allow_empty : bool
        Whether an array with zero elements is accepted.
    contiguous : bool
        Return a C-contiguous array.

    Returns
    -------
    ndarray
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a real-valued array, got {_describe(value)}")
    try:
        arr = np.asarray(value)
    except ValueError as exc:  # ragged nested sequences
        raise ValueError(f"{name} must be a rectangular array of numbers ({exc})") from None
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (float or integer), got dtype {arr.dtype}"
        )
    if dtype is not None:
        target = np.dtype(dtype)
        if target not in _FLOAT_DTYPES:
            raise TypeError(f"dtype must be float64 or float32, got {target}")
    elif arr.dtype in _FLOAT_DTYPES:
        target = arr.dtype
    else:
        target = np.dtype(np.float64)
    arr = arr.astype(target, copy=False)
    if contiguous:
        arr = np.ascontiguousarray(arr)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{k}-D" for k in allowed)
            raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not (allow_nan and allow_posinf and allow_neginf) and arr.size and _has_nonfinite(arr.reshape(-1)):
        if not allow_nan and np.isnan(arr).any():
            raise ValueError(f"{name} must not contain NaN ({int(np.isnan(arr).sum())} found)")
        if not allow_posinf and np.isposinf(arr).any():
            raise ValueError(f"{name} must not contain +inf")
        if not allow_neginf and np.isneginf(arr).any():
            raise ValueError(f"{name} must not contain -inf")
    return arr


def as_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """Return ``dtype`` as ``np.dtype(float64)`` or ``np.dtype(float32)``, or raise ``TypeError``.

    Parameters
    ----------
    dtype : dtype-like
    name : str
        Argument name used in error messages.

    Returns
    -------
    numpy.dtype
    """
    try:
        target = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name} must be float64 or float32, got {dtype!r}") from exc
    if target not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must be float64 or float32, got {target}")
    return target


def as_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as a Python int within ``[minimum, maximum]``, or raise.

    Booleans and floats are refused (``TypeError``); NumPy integers are accepted.

    Parameters
    ----------
    value : int
    name : str
        Argument name used in error messages.
    minimum, maximum : int, optional
        Inclusive bounds.

    Returns
    -------
    int
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    out = operator.index(value)
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {out}")
    if maximum is not None and out > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {out}")
    return out


def as_float(
    value,
    name: str,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    finite: bool = True,
    lower: float | None = None,
    upper: float | None = None,
) -> float:
    """Return ``value`` as a Python float, checked, or raise.

    Parameters
    ----------
    value : real number or 0-d array
    name : str
        Argument name used in error messages.
    positive : bool
        Demand ``> 0``.
    nonnegative : bool
        Demand ``>= 0``.
    finite : bool
        Refuse ``±inf`` (NaN is always refused).
    lower, upper : float, optional
        Inclusive bounds.

    Returns
    -------
    float
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        else:
            raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    out = float(value)
    if np.isnan(out):
        raise ValueError(f"{name} must not be NaN")
    if finite and not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}")
    if positive and not out > 0:
        raise ValueError(f"{name} must be > 0, got {out}")
    if nonnegative and not out >= 0:
        raise ValueError(f"{name} must be >= 0, got {out}")
    if lower is not None and out < lower:
        raise ValueError(f"{name} must be >= {lower}, got {out}")
    if upper is not None and out > upper:
        raise ValueError(f"{name} must be <= {upper}, got {out}")
    return out


def as_positive_array(value, name: str, *, ndim=1, dtype=np.float64, allow_zero: bool = False,
                      allow_empty: bool = False, contiguous: bool = True) -> np.ndarray:
    """A finite array whose entries are all ``> 0`` (inverse temperatures, times), or raise.

    Parameters
    ----------
    value : array_like
    name : str
        Argument name used in error messages.
    ndim : int, tuple of int or None
        Allowed number(s) of dimensions (``None``: any, scalars included).
    dtype : numpy float dtype
    allow_zero : bool
        Accept ``0`` (entries ``>= 0``).
    allow_empty : bool
        Accept an array with no entries.
    contiguous : bool
        Return a C-contiguous array.

    Returns
    -------
    ndarray
    """
    arr = as_float_array(value, name, ndim=ndim, dtype=dtype, allow_empty=allow_empty,
                         contiguous=contiguous)
    bad = arr < 0 if allow_zero else arr <= 0
    if bad.any():
        raise ValueError(
            f"{name} must be {'>= 0' if allow_zero else '> 0'} everywhere, got {arr[bad].ravel()[0]}")
    return arr


def as_beta(value, name: str = "beta", *, size: int | None = None) -> np.ndarray:
    """Inverse temperature(s): a scalar or a 1-D array, all finite and ``> 0``.

    Parameters
    ----------
    value : float or array_like (K,)
    name : str
        Argument name used in error messages.
    size : int, optional
        Required length (a scalar is broadcast to it).

    Returns
    -------
    ndarray of float64, shape (size,) or (K,)
    """
    if np.ndim(value) == 0:
        scalar = as_float(value, name, positive=True)
        return np.full(1 if size is None else size, scalar)
    arr = as_positive_array(value, name, ndim=1)
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have length {size} (one per state), got {arr.shape[0]}")
    return np.ascontiguousarray(arr)


def as_seed_sequence(seed, name: str = "seed") -> np.random.SeedSequence:
    """Normalise ``seed`` (None, int >= 0, or SeedSequence) to a SeedSequence.

    Parameters
    ----------
    seed : None, int or numpy.random.SeedSequence
    name : str
        Argument name used in error messages.

    Returns
    -------
    numpy.random.SeedSequence
        ``seed`` itself if it is one; fresh entropy for ``None``.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{name} must be a non-negative integer, a numpy SeedSequence or None, got {_describe(seed)}"
        )
    if seed < 0:
        raise ValueError(f"{name} must be >= 0, got {seed}")
    return np.random.SeedSequence(int(seed))


def child_seed(seed, *key) -> np.random.SeedSequence:
    """The child stream ``key`` of ``seed``: ``SeedSequence(entropy, spawn_key=spawn_key + key)``.

    The one way the package derives independent streams from a seed (per
    block, per sample, per point of a scan): a child is a function of the
    seed and its key alone, whatever the order in which children are made
    (unlike ``SeedSequence.spawn``, which counts).

    Parameters
    ----------
    seed : None, int >= 0 or SeedSequence
        The parent (normalised by :func:`as_seed_sequence`).
    *key : int
        Non-negative integers appended to the parent's spawn key.

    Returns
    -------
    numpy.random.SeedSequence
    """
    parent = as_seed_sequence(seed)
    for i, part in enumerate(key):
        as_int(part, f"key[{i}]", minimum=0)
    return np.random.SeedSequence(parent.entropy, spawn_key=tuple(parent.spawn_key) + tuple(
        int(part) for part in key), pool_size=parent.pool_size)


def as_generator(seed, name: str = "seed") -> np.random.Generator:
    """Normalise ``seed`` (None, int, SeedSequence or Generator) to a Generator.

    Parameters
    ----------
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
    name : str
        Argument name used in error messages.

    Returns
    -------
    numpy.random.Generator
        ``seed`` itself if it is one.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(as_seed_sequence(seed, name))


def parse_list(text, name: str, kind=int) -> list:
    """Parse a comma-separated parameter such as ``"64,256,1024"`` into ``[64, 256, 1024]``.

    The one parser of list-valued experiment parameters (which the registry
    keeps as strings). Spaces are ignored, empty items skipped.

    Parameters
    ----------
    text : str
        Comma-separated values.
    name : str
        Argument name used in error messages.
    kind : type
        Type of the items (``int``, ``float`` or ``str``).

    Returns
    -------
    list
        Non-empty.

    Raises
    ------
    ValueError
        An item that ``kind`` cannot read, or no item at all.
    """
    try:
        values = [kind(item) for item in str(text).replace(" ", "").split(",") if item]
    except ValueError:
        raise ValueError(
            f"{name} must be a comma-separated list of {kind.__name__}, got {text!r}") from None
    if not values:
        raise ValueError(f"{name} must not be empty, got {text!r}")
    return values


def check_same(value_a, value_b, name_a: str, name_b: str, what: str = "dimension") -> None:
    """Raise ``ValueError`` if two sizes that must agree do not.

    Parameters
    ----------
    value_a, value_b
        The sizes.
    name_a, name_b : str
        Their argument names.
    what : str
        What the sizes are (for the message).

    Returns
    -------
    None
    """
    if value_a != value_b:
        raise ValueError(f"{name_a} and {name_b} must have the same {what}, got {value_a} and {value_b}")


def as_axis(axis, ndim: int, name: str = "axis") -> int:
    """Normalise an axis index for an array of ``ndim`` dimensions.

    Parameters
    ----------
    axis : int
        In ``[-ndim, ndim)``.
    ndim : int
    name : str
        Argument name used in error messages.

    Returns
    -------
    int
        In ``[0, ndim)``.
    """
    axis = as_int(axis, name)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name} must be in [{-ndim}, {ndim - 1}] for a {ndim}-D array, got {axis}")
    return axis % ndim


__all__ = [
    "as_float_array",
    "as_float_dtype",
    "as_int",
    "as_float",
    "as_positive_array",
    "as_beta",
    "as_seed_sequence",
    "child_seed",
    "as_generator",
    "check_same",
    "as_axis",
    "parse_list",
]
