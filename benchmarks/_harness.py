"""Shared timing and table printing for the benchmark scripts.

The machine is shared and noisy: every benchmark times the kernel and its
reference (and, where there is one, the hardware bound such as the BLAS
products alone) in the same run, interleaved, and reports medians and ratios.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field


def median_time(func, *, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``func()`` in seconds over ``repeats`` calls."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(funcs: dict, *, repeats: int = 5, warmup: int = 1) -> dict:
    """Median times of several callables, timed round-robin so load drifts hit all alike."""
    for func in funcs.values():
        for _ in range(warmup):
            func()
    samples = {name: [] for name in funcs}
    for _ in range(repeats):
        for name, func in funcs.items():
            start = time.perf_counter()
            func()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(vals) for name, vals in samples.items()}


@dataclass
class Row:
    benchmark: str
    case: str
    seconds: float
    reference: str
    reference_seconds: float
    target: str = ""
    met: str = ""

    @property
    def ratio(self) -> float:
        return self.reference_seconds / self.seconds


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(format_row(row), flush=True)
        return row

    def print(self) -> None:
        print()
        print(header())
        for row in self.rows:
            print(format_row(row))


def header() -> str:
    return (
        f"{'benchmark':<22} {'case':<34} {'median s':>9} {'reference':<26} "
        f"{'ref s':>9} {'ref/ours':>9}  target -> met"
    )


def format_row(row: Row) -> str:
    return (
        f"{row.benchmark:<22} {row.case:<34} {row.seconds:9.4f} {row.reference:<26} "
        f"{row.reference_seconds:9.4f} {row.ratio:9.2f}  {row.target} -> {row.met}"
    )
