"""Moved to :mod:`statmech.runs.provenance`; this module keeps the old import path working."""

from statmech.runs.provenance import PROVENANCE_KEYS, provenance, utc_now

__all__ = ["PROVENANCE_KEYS", "provenance", "utc_now"]
