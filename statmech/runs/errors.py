"""The archive's errors: each a user-facing message (the command line prints it without traceback)."""

from __future__ import annotations

import errno

__all__ = [
    "ArchiveError",
    "NotAnArchiveError",
    "ArchiveSchemaError",
    "ArchiveBusyError",
    "DiskFullError",
    "DamagedRunError",
    "is_disk_full",
]


class ArchiveError(Exception):
    """A user-facing archive problem (the command line prints it without traceback)."""


class NotAnArchiveError(ArchiveError):
    """The file is missing, not HDF5, or an HDF5 file that statmech did not write."""


class ArchiveSchemaError(ArchiveError):
    """The archive was written by a newer statmech (schema version too new)."""


class ArchiveBusyError(ArchiveError):
    """Another process holds the archive (statmech writer lock or HDF5 file lock)."""


class DiskFullError(ArchiveError):
    """Writing failed because the disk (or quota) is full."""


class DamagedRunError(ArchiveError):
    """A run's bytes in the archive are damaged: a checksum fails or HDF5 cannot read them.

    Attributes
    ----------
    run_id : str
    reason : str
        What is wrong (which checksum failed, or HDF5's own error).
    """

    def __init__(self, run_id: str, reason: str, path=None):
        self.run_id = run_id
        self.reason = reason
        where = f" in {path}" if path is not None else ""
        super().__init__(
            f"run {run_id}{where} is damaged: {reason} (`statmech check` lists every damaged run)"
        )


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (OSError from Python or from HDF5 via h5py) means "no space left"."""
    if isinstance(exc, DiskFullError):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return (
        "No space left on device" in text or "Disk quota exceeded" in text or "errno = 28" in text
    )
