"""Build ``data/digits.h5`` from scikit-learn's copy of the UCI handwritten digits.

Provenance
----------
The 8x8 "Optical Recognition of Handwritten Digits" test set (1797 images,
64 pixels each holding the count 0..16 of "on" pixels in a 4x4 block of a
32x32 bitmap, 10 classes), by E. Alpaydin and C. Kaynak (1998), from the UCI
Machine Learning Repository, licensed CC BY 4.0. scikit-learn ships it as
``sklearn/datasets/data/digits.csv.gz`` (64 pixel columns, then the label).

This script is run once by hand; scikit-learn is NOT a dependency of the
project. ``digits.h5`` was made on 2026-11-22 with::

    pip download scikit-learn==1.9.1 --no-deps -d /tmp/skl
    cd /tmp/skl && unzip scikit_learn-1.9.1-*.whl sklearn/datasets/data/digits.csv.gz
    python data/make_digits.py /tmp/skl/sklearn/datasets/data/digits.csv.gz

(with scikit-learn installed, ``python data/make_digits.py`` finds the file
itself). The SHA-256 of the source file is stored in the attributes.

Layout of ``digits.h5``
-----------------------
- ``images``: (1797, 64) uint8, pixel counts 0..16, row-major 8x8;
- ``labels``: (1797,) uint8, the digit 0..9;
- file attributes: ``title``, ``source``, ``creators``, ``licence``,
  ``licence_url``, ``citation``, ``shipped_by``, ``source_sha256``,
  ``n_samples``, ``n_features``, ``made_by``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "digits.h5"

ATTRS = {
    "title": "Optical Recognition of Handwritten Digits (8x8 test set)",
    "source": "UCI Machine Learning Repository, "
    "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
    "creators": "E. Alpaydin and C. Kaynak (Bogazici University), 1998",
    "licence": "CC BY 4.0",
    "licence_url": "https://creativecommons.org/licenses/by/4.0/",
    "citation": "E. Alpaydin, C. Kaynak (1998), Optical Recognition of Handwritten Digits, "
    "UCI Machine Learning Repository, doi:10.24432/C50P49",
    "shipped_by": "scikit-learn 1.9.1, sklearn/datasets/data/digits.csv.gz (the UCI test set)",
    "made_by": "data/make_digits.py",
}


def _find_source() -> Path:
    try:
        import sklearn  # noqa: F401  (only used to locate the file)
    except ImportError:
        raise SystemExit(
            "give the path of sklearn/datasets/data/digits.csv.gz, or install scikit-learn"
        ) from None
    return Path(sklearn.__file__).parent / "datasets" / "data" / "digits.csv.gz"


def main(argv: list[str]) -> None:
    source = Path(argv[1]) if len(argv) > 1 else _find_source()
    raw = source.read_bytes()
    table = np.loadtxt(io.StringIO(gzip.decompress(raw).decode("ascii")), delimiter=",")
    if table.shape != (1797, 65):
        raise SystemExit(f"expected a 1797 x 65 table, got {table.shape}")
    images = table[:, :64]
    labels = table[:, 64]
    if not (np.all(images == np.round(images)) and images.min() >= 0 and images.max() <= 16):
        raise SystemExit("pixels must be integers in 0..16")
    if not set(np.unique(labels)) <= set(range(10)):
        raise SystemExit("labels must be digits 0..9")
    with h5py.File(OUTPUT, "w") as f:
        f.create_dataset("images", data=images.astype(np.uint8), compression="gzip")
        f.create_dataset("labels", data=labels.astype(np.uint8))
        for key, value in ATTRS.items():
            f.attrs[key] = value
        f.attrs["source_sha256"] = hashlib.sha256(raw).hexdigest()
        f.attrs["n_samples"] = images.shape[0]
        f.attrs["n_features"] = images.shape[1]
    print(f"wrote {OUTPUT}: {images.shape[0]} images, labels {np.bincount(labels.astype(int))}")


if __name__ == "__main__":
    main(sys.argv)
