"""Memorisation of generated samples: nearest-neighbour distance ratio against the training set.

PHYSICS.md §8 (Yoon et al. 2023; the criterion of DiffMemorize). For a
generated sample ``x`` let ``d_1 <= d_2`` be its Euclidean distances to the
nearest and second-nearest training points. The sample counts as memorised
when ``d_1 / d_2 < threshold`` (default 1/3): it sits much closer to one
training point than to any other. The fraction of memorised samples comes
with an exact binomial (Clopper–Pearson) interval, the samples being
independent draws of the model.

The distances come from :func:`statmech.knn.knn` (exact, float64 sums in a
fixed order, so a copied training point has ``d_1 = 0`` exactly). The
training set may be an array, an ``.npy``/``.npz`` file or an HDF5 dataset
larger than memory (streamed in chunks). A sample with ``d_1 = 0`` has
ratio 0, also when the training set holds duplicates of that point
(``d_2 = 0``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from statmech._validation import as_float, as_float_array, check_same
from statmech.intervals import ConfidenceInterval, binomial_ci
from statmech.knn import knn

from diffusion.datasets import load_array

__all__ = ["Memorisation", "memorisation", "memorisation_command", "open_training_set",
           "plot_memorisation", "DEFAULT_THRESHOLD"]

#: Yoon et al. (2023): memorised when the nearest training point is 3x closer than the second.
DEFAULT_THRESHOLD = 1.0 / 3.0


@dataclass(frozen=True)
class Memorisation:
    """Nearest-neighbour distances of samples to a training set and the memorised fraction.

    Attributes
    ----------
    d1, d2 : ndarray (M,), float64
        Distances to the nearest and second-nearest training points.
    nearest : ndarray (M,), int64
        Index of the nearest training point (lowest index on ties).
    ratio : ndarray (M,)
        ``d1 / d2`` (0 where ``d1 = 0``).
    threshold : float
    memorised : ndarray (M,), bool
        ``ratio < threshold``.
    fraction : ConfidenceInterval
        Fraction memorised, with its Clopper–Pearson interval.
    n_train : int
    """

    d1: np.ndarray
    d2: np.ndarray
    nearest: np.ndarray
    ratio: np.ndarray
    threshold: float
    memorised: np.ndarray
    fraction: ConfidenceInterval
    n_train: int

    @property
    def n_samples(self) -> int:
        return self.ratio.shape[0]

    def summary(self) -> str:
        """One line: fraction memorised, its interval, and the median ratio."""
        f = self.fraction
        return (f"{int(self.memorised.sum())} of {self.n_samples} samples memorised "
                f"(d1/d2 < {self.threshold:.4g}): {f.estimate:.4f}, {f.confidence:.0%} CI "
                f"[{f.low:.4f}, {f.high:.4f}]; median d1/d2 = {np.median(self.ratio):.4f}")


@contextlib.contextmanager
def open_training_set(train, key=None):
    """Yield the training set as an array or an open ``h5py.Dataset`` (streamed, not loaded).

    ``train`` is an array, an ``h5py.Dataset``, or a path: ``.npy``, ``.npz``
    (with ``key``), or HDF5 as ``file.h5`` with ``key``, ``"file.h5:/group/name"``,
    or ``file.h5`` holding exactly one 2-D dataset.
    """
    if not isinstance(train, (str, Path)):
        yield train
        return
    text = str(train)
    if key is None and ":" in text and not Path(text).exists():
        text, key = text.rsplit(":", 1)
    path = Path(text)
    if path.suffix.lower() not in (".h5", ".hdf5", ".he5"):
        yield load_array(path, key)
        return
    import h5py

    if not path.is_file():
        raise FileNotFoundError(f"training file {path} does not exist")
    with h5py.File(path, "r") as f:
        if key is None:
            found = []
            f.visititems(lambda name, obj: found.append(name)
                         if isinstance(obj, h5py.Dataset) and obj.ndim == 2 else None)
            if len(found) != 1:
                raise ValueError(f"{path} holds 2-D datasets {found}; name one as "
                                 f"'{path}:/name' or with key=")
            key = found[0]
        if key not in f or not isinstance(f[key], h5py.Dataset):
            raise ValueError(f"{path} has no dataset {key!r}")
        yield f[key]


def _load_samples(samples, key):
    if isinstance(samples, (str, Path)):
        return load_array(samples, key)
    return as_float_array(samples, "samples", ndim=2)


def memorisation(samples, train, *, threshold=DEFAULT_THRESHOLD, confidence=0.95, samples_key=None,
                 train_key=None, chunk_size=None, candidate_dtype=None) -> Memorisation:
    """Memorisation ratio ``d_1/d_2`` of each sample and the fraction below ``threshold``.

    PHYSICS.md §8, after Yoon et al. 2023 (DiffMemorize ``calc_knn``).

    Parameters
    ----------
    samples : array_like (M, d) or path
        Generated samples (``.npy``, ``.npz``, ``file.h5:/dataset``).
    train : array_like (n, d), h5py.Dataset or path
        Training set, ``n >= 2``; an HDF5 dataset is streamed in chunks
        (:func:`open_training_set`).
    threshold : float in (0, 1]
        Memorised when ``d_1/d_2 < threshold`` (default 1/3).
    confidence : float
        Level of the Clopper–Pearson interval of the fraction.
    samples_key, train_key : str, optional
        Array names inside ``.npz`` / HDF5 files.
    chunk_size, candidate_dtype
        Passed to :func:`statmech.knn.knn` (memory and speed only).

    Returns
    -------
    Memorisation
    """
    threshold = as_float(threshold, "threshold", positive=True, upper=1.0)
    samples = _load_samples(samples, samples_key)
    with open_training_set(train, train_key) as source:
        shape = tuple(getattr(source, "shape", np.shape(source)))
        if len(shape) == 2:
            check_same(samples.shape[1], shape[1], "samples", "train", "dimension d (columns)")
        if len(shape) == 2 and shape[0] < 2:
            raise ValueError(f"train must hold at least 2 points for d_2, got {shape[0]}")
        found = knn(samples, source, 2, chunk_size=chunk_size, candidate_dtype=candidate_dtype)
        n_train = shape[0]
    d1, d2 = found.distances[:, 0], found.distances[:, 1]
    ratio = np.divide(d1, d2, out=np.zeros_like(d1), where=d1 > 0)
    memorised = ratio < threshold
    fraction = binomial_ci(int(memorised.sum()), memorised.shape[0], confidence=confidence)
    return Memorisation(d1=d1, d2=d2, nearest=found.indices[:, 0].copy(), ratio=ratio,
                        threshold=threshold, memorised=memorised, fraction=fraction,
                        n_train=int(n_train))


def plot_memorisation(result: Memorisation, fig=None, *, label=None, bins=50, title=None):
    """Histogram of ``d_1/d_2`` with the threshold and the memorised fraction (matplotlib Figure).

    ``result`` may be one :class:`Memorisation` or a dict ``{label: result}``
    drawn on the same axes. Drawn in the conventions of :mod:`statmech.figures`
    (title, axis units, legend); ``title`` replaces the default title.
    Returns the figure (never calls ``pyplot.show``).
    """
    from statmech import figures as fg

    if fig is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    results = result if isinstance(result, dict) else {label or "samples": result}
    for res in results.values():
        if not isinstance(res, Memorisation):
            raise TypeError(f"result must be a Memorisation, got {type(res).__name__}")
    ax = fig.add_subplot(1, 1, 1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    tallest = 1
    for i, (name, res) in enumerate(results.items()):
        f = res.fraction
        counts, _ = np.histogram(np.clip(res.ratio, 0.0, 1.0), bins=edges)
        tallest = max(tallest, int(counts.max()))
        ax.stairs(counts, edges, color=f"C{i}", lw=1.5,
                  label=f"{name}: memorised {f.estimate:.3f} [{f.low:.3f}, {f.high:.3f}]")
    first = next(iter(results.values()))
    fg.mark(ax, first.threshold, rf"threshold $d_1/d_2$ = {first.threshold:.3g} "
            f"(fractions with {first.fraction.confidence:.0%} Clopper–Pearson intervals)",
            color="k", ls="--")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, tallest * (1.15 + 0.1 * (len(results) + 1)))  # room for the legend above the bars
    fg.label_axes(ax, ("distance ratio, nearest over second-nearest training point", "$d_1/d_2$",
                       fg.DIMENSIONLESS), ("samples per bin", "", "count"))
    fg.legend(ax, loc="upper center")
    fg.title(fig, title or f"Memorisation of generated samples against {first.n_train} training "
                           "points: nearest-neighbour distance ratio")
    return fig


def _source_name(source) -> str:
    """A file's name without its folders (``samples.npy``, ``file.h5:/key``), an array as its shape."""
    if isinstance(source, (str, Path)):
        path, sep, key = str(source).partition(":/")
        return Path(path).name + sep + key
    return "array " + " x ".join(str(n) for n in np.shape(source))


def memorisation_command(samples, train, *, threshold=DEFAULT_THRESHOLD, confidence=0.95,
                         samples_key=None, train_key=None, chunk_size=None, plot=False):
    """What ``statmech memorisation`` prints and draws: ``(lines, figure or None)``.

    Parameters as for :func:`memorisation`; ``plot`` asks for the histogram figure.
    """
    result = memorisation(samples, train, threshold=threshold, confidence=confidence,
                          samples_key=samples_key, train_key=train_key, chunk_size=chunk_size)
    q = np.quantile(result.ratio, [0.05, 0.25, 0.5, 0.75, 0.95])
    lines = [
        f"samples: {samples} ({result.n_samples} samples)",
        f"training set: {train} ({result.n_train} points)",
        result.summary(),
        "d1/d2 quantiles 5/25/50/75/95 %: " + " ".join(f"{v:.4f}" for v in q),
        f"d1 (distance to the nearest training point): median {np.median(result.d1):.4g}, "
        f"min {result.d1.min():.4g}; exact copies (d1 = 0): {int((result.d1 == 0).sum())}",
    ]
    fig = None
    if plot:
        from statmech import figures as fg

        fig = plot_memorisation(result, label=str(Path(str(samples)).name))
        fg.footer(fig, f"statmech memorisation {_source_name(samples)} --train {_source_name(train)}")
    return lines, fig
