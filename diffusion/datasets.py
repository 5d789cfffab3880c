"""Data sets: synthetic generators, the shipped handwritten digits, loaders for user arrays.

Generators (PHYSICS.md §3–5, dynamical-regimes Methods):

- :func:`gaussian_mixture`: two classes ``N(±m, sigma^2 I)``, ``|m|^2 = mu~^2 d``;
- :func:`two_deltas`: points at ``±m``;
- :func:`sphere`: uniform on the sphere of radius ``r``;
- :func:`curie_weiss`: exact i.i.d. binary samples of the Curie–Weiss model;
- :func:`ising`: heat-bath (Gibbs) samples of a binary Ising model with
  couplings ``W`` (the "diffused Ising" data of Ambrogioni §5).

Real data: :func:`load_digits` reads ``data/digits.h5`` (the 8x8 UCI
handwritten digits, 1797 x 64, CC BY 4.0; provenance in the file's
attributes and in ``data/make_digits.py``).

User data: :func:`load_array` reads a 2-D array from ``.npy``, ``.npz``
(``key``) or an HDF5 dataset (``path.h5:/group/dataset`` or ``key``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from statmech.memory import check_memory
from statmech._numba import kernel
from statmech._validation import as_float, as_float_array, as_generator, as_int

__all__ = [
    "LabelledData",
    "gaussian_mixture",
    "two_deltas",
    "sphere",
    "curie_weiss",
    "ising",
    "load_digits",
    "load_array",
    "digits_path",
    "as_labels",
]


@dataclass(frozen=True)
class LabelledData:
    """A data set with optional class labels.

    Attributes
    ----------
    data : ndarray (n, d), float64
    labels : ndarray (n,) of int64, or None
    centre : ndarray (d,) or None
        Class direction ``m`` (two-class generators): class = sign of ``x.m``.
    name : str
    attrs : dict
        Parameters and provenance.
    """

    data: np.ndarray
    labels: np.ndarray | None = None
    centre: np.ndarray | None = None
    name: str = ""
    attrs: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.data.shape[0]

    @property
    def d(self) -> int:
        return self.data.shape[1]


def as_labels(labels, n: int, name: str = "labels") -> np.ndarray:
    """Validate class labels: 1-D integers (or integral floats) of length ``n``.

    Parameters
    ----------
    labels : array_like, shape (n,)
    n : int
        Number of data rows.
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    arr = np.asarray(labels)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} must have one entry per data row ({n}), got {arr.shape[0]}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must be integers, got non-integral values")
    return np.ascontiguousarray(arr.astype(np.int64))


def _balanced_signs(n, balanced, rng):
    if balanced:
        signs = np.where(np.arange(n) < (n + 1) // 2, 1, -1)
        rng.shuffle(signs)
        return signs.astype(np.int64)
    return np.where(rng.random(n) < 0.5, 1, -1).astype(np.int64)


def gaussian_mixture(n, d, mu_tilde=1.0, sigma=1.0, *, seed=None, balanced=False) -> LabelledData:
    """Two Gaussian classes ``N(±m, sigma^2 I)`` with ``m = mu~ (1, ..., 1)``, ``|m|^2 = mu~^2 d``.

    The Gaussian-mixture model of the dynamical-regimes paper (Methods; its
    code uses the same all-ones direction); its theory is
    :mod:`diffusion.gm_theory`. Labels are ``±1``.

    Parameters
    ----------
    n, d : int, ``>= 1``
    mu_tilde : float, ``>= 0``
    sigma : float, ``>= 0``
    seed : int, SeedSequence, Generator or None
    balanced : bool
        Exactly ``ceil(n/2)`` points in class +1 (in random order) instead
        of independent fair signs.

    Returns
    -------
    LabelledData
        With ``centre = m``.
    """
    n = as_int(n, "n", minimum=1)
    d = as_int(d, "d", minimum=1)
    mu_tilde = as_float(mu_tilde, "mu_tilde", nonnegative=True)
    sigma = as_float(sigma, "sigma", nonnegative=True)
    # peak: the centres, the normal draw and their sum, n x d float64 each
    check_memory(3.0 * n * d * 8, f"gaussian_mixture(n={n}, d={d})", hint="lower n or d")
    rng = as_generator(seed)
    centre = np.full(d, mu_tilde)
    labels = _balanced_signs(n, balanced, rng)
    data = labels[:, None] * centre[None, :] + sigma * rng.standard_normal((n, d))
    return LabelledData(data=data, labels=labels, centre=centre, name="gaussian-mixture",
                        attrs={"mu_tilde": mu_tilde, "sigma": sigma})


def two_deltas(n, d=1, radius=1.0, *, seed=None, balanced=False) -> LabelledData:
    """``n`` points at ``±m``, ``m = radius (1, ..., 1)/sqrt(d)`` (Ambrogioni §3.1).

    Parameters
    ----------
    n : int, ``>= 1``
    d : int, ``>= 1``
    radius : float, ``> 0``
    seed : int, SeedSequence, Generator or None
    balanced : bool
        Exactly ``ceil(n/2)`` points at ``+m`` instead of fair signs.

    Returns
    -------
    LabelledData
    """
    n = as_int(n, "n", minimum=1)
    d = as_int(d, "d", minimum=1)
    radius = as_float(radius, "radius", positive=True)
    rng = as_generator(seed)
    centre = np.full(d, radius / math.sqrt(d))
    labels = _balanced_signs(n, balanced, rng)
    data = labels[:, None] * centre[None, :]
    return LabelledData(data=np.ascontiguousarray(data), labels=labels, centre=centre,
                        name="two-deltas", attrs={"radius": radius})


def sphere(n, d, radius=1.0, *, seed=None) -> LabelledData:
    """``n`` points uniform on the sphere of radius ``r`` in R^d (normalised Gaussians).

    With ``r = nu sqrt(M/(2d))`` and ``n = 2^M`` it is the REM data of
    Ambrogioni §8 (PHYSICS.md §4).

    Parameters
    ----------
    n, d : int, ``>= 1``
    radius : float, ``> 0``
    seed : int, SeedSequence, Generator or None

    Returns
    -------
    LabelledData
    """
    n = as_int(n, "n", minimum=1)
    d = as_int(d, "d", minimum=1)
    radius = as_float(radius, "radius", positive=True)
    # peak: the normal draw and the scaled copy, n x d float64 each
    check_memory(2.0 * n * d * 8, f"sphere(n={n}, d={d})", hint="lower n or d")
    rng = as_generator(seed)
    g = rng.standard_normal((n, d))
    norms = np.linalg.norm(g, axis=1)
    while (norms == 0).any():  # probability zero, but never divide by 0
        bad = norms == 0
        g[bad] = rng.standard_normal((int(bad.sum()), d))
        norms = np.linalg.norm(g, axis=1)
    return LabelledData(data=radius * g / norms[:, None], name="sphere", attrs={"radius": radius})


def curie_weiss(n, d, beta, *, seed=None) -> LabelledData:
    """Exact i.i.d. samples of the Curie–Weiss model ``P(y) ∝ exp(beta (sum_i y_i)^2 / (2d))``.

    ``y in {-1, 1}^d``. The magnetisation ``M = sum_i y_i = 2k - d`` has the
    exact law ``P(k) ∝ C(d, k) exp(beta (2k - d)^2 / (2d))``; ``k`` is drawn
    from it and the ``k`` up spins are placed uniformly at random, so no
    Markov chain (and no burn-in) is involved. Ferromagnetic for
    ``beta > 1`` (large ``d``).

    Parameters
    ----------
    n, d : int, ``>= 1``
    beta : float, ``>= 0``
    seed : int, SeedSequence, Generator or None

    Returns
    -------
    LabelledData
        Labels: the sign of ``M`` (0 for ``M = 0``).
    """
    n = as_int(n, "n", minimum=1)
    d = as_int(d, "d", minimum=1)
    beta = as_float(beta, "beta", nonnegative=True)
    rng = as_generator(seed)
    k = np.arange(d + 1)
    from scipy.special import gammaln

    logw = (gammaln(d + 1) - gammaln(k + 1) - gammaln(d - k + 1)
            + beta * (2.0 * k - d) ** 2 / (2.0 * d))
    p = np.exp(logw - logw.max())
    p /= p.sum()
    ups = rng.choice(d + 1, size=n, p=p)
    data = -np.ones((n, d))
    for i in range(n):
        data[i, rng.permutation(d)[: ups[i]]] = 1.0
    labels = np.sign(2 * ups - d).astype(np.int64)
    return LabelledData(data=data, labels=labels, name="curie-weiss", attrs={"beta": beta})


@kernel
def _heat_bath_sweeps(spins, couplings, inv_temperature, uniforms):
    """Heat-bath sweeps in place: ``y_j = +1`` with probability ``1/(1 + exp(2 h_j / T))``.

    ``h_j = sum_{k != j} W_jk y_k``; energy ``(1/2T) sum_{j != k} W_jk y_j y_k``.
    ``uniforms`` has shape (sweeps, n, d).
    """
    n_sweeps, n, d = uniforms.shape
    for sweep in range(n_sweeps):
        for i in range(n):
            for j in range(d):
                field = 0.0
                for k in range(d):
                    if k != j:
                        field += couplings[j, k] * spins[i, k]
                # P(y_j = +1) / P(y_j = -1) = exp(-2 field / T)
                p_up = 1.0 / (1.0 + math.exp(2.0 * field * inv_temperature))
                spins[i, j] = 1.0 if uniforms[sweep, i, j] < p_up else -1.0


def ising(n, couplings, temperature=1.0, *, sweeps=200, seed=None) -> LabelledData:
    """Binary samples of ``phi(y) ∝ exp(-(1/2T) sum_{j != k} y_j y_k W_jk)`` by heat-bath sweeps.

    The "diffused Ising" data of Ambrogioni §5 (PHYSICS.md §3). Each of the
    ``n`` chains starts from uniform random spins and makes ``sweeps`` full
    sequential heat-bath sweeps (uniforms drawn with NumPy, one sweep at a
    time).

    Parameters
    ----------
    n : int, ``>= 1``
        Chains (samples).
    couplings : array_like, shape (d, d)
        Symmetric ``W``; ``W_jk < 0`` is ferromagnetic.
    temperature : float, ``> 0``
    sweeps : int, ``>= 1``
    seed : int, SeedSequence, Generator or None

    Returns
    -------
    LabelledData
    """
    n = as_int(n, "n", minimum=1)
    couplings = as_float_array(couplings, "couplings", ndim=2, dtype=np.float64)
    if couplings.shape[0] != couplings.shape[1]:
        raise ValueError(f"couplings must be square (d x d), got shape {couplings.shape}")
    scale = max(1.0, float(np.abs(couplings).max()))
    if not np.allclose(couplings, couplings.T, rtol=0, atol=1e-12 * scale):
        raise ValueError("couplings must be symmetric")
    temperature = as_float(temperature, "temperature", positive=True)
    sweeps = as_int(sweeps, "sweeps", minimum=1)
    rng = as_generator(seed)
    d = couplings.shape[0]
    spins = np.where(rng.random((n, d)) < 0.5, 1.0, -1.0)
    uniforms = np.empty((1, n, d))
    for _ in range(sweeps):
        rng.random(out=uniforms)
        _heat_bath_sweeps(spins, couplings, 1.0 / temperature, uniforms)
    return LabelledData(data=spins, name="ising",
                        attrs={"temperature": temperature, "sweeps": sweeps})


# --------------------------------------------------------------------------
# Files.
# --------------------------------------------------------------------------


def digits_path() -> Path:
    """Path of the shipped ``data/digits.h5`` (next to the package in the repository).

    Returns
    -------
    pathlib.Path
    """
    return Path(__file__).resolve().parent.parent / "data" / "digits.h5"


def load_digits(classes=None, *, path=None, scale="symmetric") -> LabelledData:
    """The 8x8 UCI handwritten digits shipped as ``data/digits.h5`` (1797 x 64).

    E. Alpaydin and C. Kaynak (1998), UCI Machine Learning Repository,
    CC BY 4.0; the file's attributes hold the provenance and licence.

    Parameters
    ----------
    classes : sequence of int, optional
        Keep only these digits (e.g. ``(1, 8)`` for the two-class
        experiments). Default: all ten.
    path : str or Path, optional
        Another copy of the file.
    scale : {"symmetric", "unit", "counts"}
        Pixels mapped to ``[-1, 1]`` (``count/8 - 1``, the usual diffusion
        convention, default), to ``[0, 1]`` (``count/16``), or left as the
        counts 0..16.

    Returns
    -------
    LabelledData
        ``labels`` are the digits; ``attrs`` the file attributes.
    """
    import h5py

    path = digits_path() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"the digits data set is missing: {path} does not exist. It ships with the "
            "repository under data/; rebuild it with data/make_digits.py"
        )
    with h5py.File(path, "r") as f:
        for key in ("images", "labels"):
            if key not in f:
                raise ValueError(
                    f"{path} has no dataset {key!r}; rebuild it with data/make_digits.py")
        images = f["images"][()]
        labels = f["labels"][()]
        attrs = {key: (value.decode() if isinstance(value, bytes) else value)
                 for key, value in f.attrs.items()}
    if images.ndim != 2 or images.shape[1] != 64 or labels.shape != (images.shape[0],):
        raise ValueError(
            f"{path} must hold images (n, 64) and labels (n,), got {images.shape} and "
            f"{labels.shape}"
        )
    if scale not in ("symmetric", "unit", "counts"):
        raise ValueError(f"scale must be 'symmetric', 'unit' or 'counts', got {scale!r}")
    data = images.astype(np.float64)
    if scale == "unit":
        data /= 16.0
    elif scale == "symmetric":
        data = data / 8.0 - 1.0
    labels = labels.astype(np.int64)
    if classes is not None:
        wanted = np.asarray(classes)
        if wanted.ndim != 1 or wanted.size == 0 or wanted.dtype.kind not in "iu":
            raise ValueError(f"classes must be a non-empty sequence of digits, got {classes!r}")
        bad = wanted[(wanted < 0) | (wanted > 9)]
        if bad.size:
            raise ValueError(f"classes must be digits 0..9, got {int(bad[0])}")
        keep = np.isin(labels, wanted)
        data, labels = data[keep], labels[keep]
    attrs = dict(attrs, scale=scale)
    return LabelledData(data=np.ascontiguousarray(data), labels=labels, name="digits", attrs=attrs)


def load_array(path, key=None, *, dtype=np.float64) -> np.ndarray:
    """Load a user's 2-D data array (n x d) from ``.npy``, ``.npz`` or an HDF5 dataset.

    Parameters
    ----------
    path : str or Path
        ``file.npy``; ``file.npz`` (with ``key``, or holding one array);
        ``file.h5`` / ``.hdf5`` with ``key`` the dataset path, or written
        as ``"file.h5:/group/dataset"``.
    key : str, optional
        Array name in an ``.npz`` or dataset path in an HDF5 file.
    dtype : float64 or float32

    Returns
    -------
    ndarray (n, d), finite, C-contiguous.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        Unknown suffix, missing key, or an array that is not 2-D, is empty
        or holds NaN/inf.
    """
    text = str(path)
    if key is None and ":" in text and not Path(text).exists():
        text, key = text.rsplit(":", 1)
    file = Path(text)
    if not file.is_file():
        raise FileNotFoundError(f"data file {file} does not exist")
    suffix = file.suffix.lower()
    if suffix == ".npy":
        if key is not None:
            raise ValueError(f"a .npy file holds one array; key must be None, got {key!r}")
        arr = np.load(file, allow_pickle=False)
    elif suffix == ".npz":
        with np.load(file, allow_pickle=False) as archive:
            names = list(archive.keys())
            if key is None:
                if len(names) != 1:
                    raise ValueError(f"{file} holds arrays {names}; pass key= to choose one")
                key = names[0]
            if key not in names:
                raise ValueError(f"{file} has no array {key!r}; it holds {names}")
            arr = archive[key]
    elif suffix in (".h5", ".hdf5", ".he5"):
        import h5py

        if key is None:
            raise ValueError(
                f"give the dataset inside {file} as key= or as 'file.h5:/group/dataset'")
        with h5py.File(file, "r") as f:
            if key not in f or not isinstance(f[key], h5py.Dataset):
                raise ValueError(f"{file} has no dataset {key!r}")
            arr = f[key][()]
    else:
        raise ValueError(f"unknown data file type {suffix!r} for {file}; use .npy, .npz or .h5")
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise ValueError(f"the data in {file} must be a 2-D array (n x d), got shape {arr.shape}")
    return as_float_array(arr, f"data in {file}", ndim=2, dtype=dtype)
