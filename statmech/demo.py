"""Moved to :mod:`statmech.runs.demo`; this import path keeps working."""

from statmech.runs.demo import REM_DEMO, main

__all__ = ["main", "REM_DEMO"]
