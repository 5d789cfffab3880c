"""Where and with what a run was computed: versions, host, git commit.

Every archived run carries these strings as attributes (schema in
:mod:`statmech.archive`), so a result read months later says which code made
it. Collected once per process and cached; on a cluster each worker reports its
own host.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

#: Order in which provenance keys are written.
PROVENANCE_KEYS = (
    "statmech_version",
    "numba_version",
    "numpy_version",
    "scipy_version",
    "h5py_version",
    "hdf5_version",
    "python_version",
    "platform",
    "host",
    "git_commit",
)


def utc_now() -> str:
    """Current time as ISO-8601 UTC with microseconds, e.g. ``2025-01-31T12:00:00.123456+00:00``."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit() -> str:
    """The commit of the statmech source tree, when it is a git checkout with commits.

    ``STATMECH_GIT_COMMIT`` overrides (for installs without ``.git``, e.g. CI
    artefacts); ``"unknown"`` otherwise.
    """
    env = os.environ.get("STATMECH_GIT_COMMIT")
    if env:
        return env
    source = Path(__file__).resolve().parent.parent
    if not (source / ".git").exists():
        return "unknown"
    try:
        out = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = out.stdout.strip()
    if out.returncode != 0 or not commit:
        return "unknown"
    try:
        dirty = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if dirty.returncode == 0 and dirty.stdout.strip():
            commit += "-dirty"
    except (OSError, subprocess.SubprocessError):
        pass
    return commit


@functools.lru_cache(maxsize=1)
def provenance() -> dict[str, str]:
    """Versions of statmech, numba, numpy, scipy, h5py, HDF5 and Python, the host and git commit.

    Returns
    -------
    dict
        ``key -> str`` for every key of :data:`PROVENANCE_KEYS`. Values are
        strings (``"unknown"`` / ``"not installed"`` when not determinable) so
        they can be stored as HDF5 attributes unchanged.
    """
    import h5py  # local: keeps `statmech --help` light

    import statmech

    info = {
        "statmech_version": getattr(statmech, "__version__", _version("statmech")),
        "numba_version": _version("numba"),
        "numpy_version": _version("numpy"),
        "scipy_version": _version("scipy"),
        "h5py_version": h5py.version.version,
        "hdf5_version": h5py.version.hdf5_version,
        "python_version": sys.version.split()[0],
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "git_commit": _git_commit(),
    }
    return {key: info[key] for key in PROVENANCE_KEYS}


__all__ = ["PROVENANCE_KEYS", "provenance", "utc_now"]
