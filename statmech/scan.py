"""Moved to :mod:`statmech.runs` (scan files, executors, the scan runner); this module keeps the old import path working.

- the scan-file language: :mod:`statmech.runs.scanfile`;
- running scans and single points: :mod:`statmech.runs.scanner`;
- where points run (this process, a process pool, dask): :mod:`statmech.runs.executors`;
- progress display: :mod:`statmech.runs.progress`; threads: :mod:`statmech.runs.threads`.
"""

from statmech.runs.executors import Task, execute
from statmech.runs.progress import Progress
from statmech.runs.scanfile import Scan, ScanError, ScanPoint, load_scan, parse_scan, point_seed
from statmech.runs.scanner import ScanReport, run_point, run_scan
from statmech.runs.threads import WORKER_ENV

__all__ = [
    "WORKER_ENV",
    "ScanError",
    "ScanPoint",
    "Scan",
    "ScanReport",
    "Progress",
    "Task",
    "point_seed",
    "parse_scan",
    "load_scan",
    "run_scan",
    "run_point",
    "execute",
]
