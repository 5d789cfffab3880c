"""Helpers experiments use on their parameters and seeds.

Scan and command-line parameters are scalars (int, float, str, bool), so a
list of sizes is a comma-separated string (``dims = "64,256,1024"``) that an
experiment parses with :func:`parse_list`; independent streams inside one run
come from :func:`child_seed`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["parse_list", "child_seed"]


def parse_list(text: str, name: str, kind=int) -> list:
    """Parse ``"64,256,1024"`` into ``[64, 256, 1024]`` (non-empty), or raise ``ValueError``."""
    try:
        values = [kind(item) for item in str(text).replace(" ", "").split(",") if item]
    except ValueError:
        raise ValueError(
            f"{name} must be a comma-separated list of {kind.__name__}, got {text!r}") from None
    if not values:
        raise ValueError(f"{name} must not be empty, got {text!r}")
    return values


def child_seed(seed: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The stream ``key`` under ``seed``: ``SeedSequence(entropy, spawn_key=seed.spawn_key + key)``.

    Unlike ``seed.spawn()``, it does not depend on how many children were
    spawned before, so a result never depends on the order of the work.
    """
    return np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + tuple(key))
