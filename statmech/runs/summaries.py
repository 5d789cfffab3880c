"""Tables and summaries of archived runs, and the figure of a summary.

:class:`RunTable` lists runs with their parameters (``Archive.runs``,
``statmech ls``); :func:`collect_scalar` gathers one scalar summary over runs
on the grid of the scanned parameters, averaging repetitions into a
:class:`ScalarSummary` (``Archive.collect``); :func:`plot_scalars` draws
summaries against a parameter, one line per value of the parameters that vary
independently of it (``statmech plot --experiment``). Which parameters vary
*with* a chosen one (zipped axes) and which vary on their own is decided once,
by :func:`independent_parameters`.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from statmech.runs.schema import STATUS_COMPLETE, RunInfo

__all__ = [
    "RunTable",
    "ScalarSummary",
    "parse_value",
    "matches",
    "select",
    "known_keys",
    "independent_parameters",
    "collect_scalar",
    "default_scalars",
    "plot_scalars",
    "format_value",
]

#: Keys every run answers to besides its parameters (``RunInfo.get``).
RUN_KEYS = ("run_id", "experiment", "status", "seed", "started", "finished", "error")

_MISSING = object()


def matches(value, wanted) -> bool:
    """Whether a run's ``value`` matches ``wanted``: a value (numbers to 1e-12 relative, text
    parsed as by the command line), a list of accepted values, or a predicate."""
    if isinstance(wanted, (list, tuple, set, frozenset)):
        return any(matches(value, w) for w in wanted)
    if callable(wanted):
        return bool(wanted(value))
    if isinstance(wanted, str) and not isinstance(value, str):
        wanted = parse_value(wanted)
    if isinstance(value, bool) or isinstance(wanted, bool):
        return (
            bool(value) == bool(wanted)
            and not isinstance(value, str)
            and not isinstance(wanted, str)
        )
    if isinstance(value, (int, float)) and isinstance(wanted, (int, float)):
        return (
            math.isclose(float(value), float(wanted), rel_tol=1e-12, abs_tol=0.0) or value == wanted
        )
    return value == wanted


def parse_value(text: str):
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True, else the string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text



class RunTable:
    """Runs with their parameters, as a small table (rows are :class:`RunInfo`).

    ``len(table)``, iteration and indexing give :class:`RunInfo` objects;
    :meth:`column` gives one parameter (or run_id/status/seed...) over rows;
    :meth:`records` gives plain dicts; :meth:`to_pandas` a DataFrame (needs
    pandas); ``str(table)`` a text table.
    """

    def __init__(self, rows: list[RunInfo]):
        self.rows = list(rows)

    def __len__(self):
        return len(self.rows)

    def __iter__(self) -> Iterator[RunInfo]:
        return iter(self.rows)

    def __getitem__(self, index):
        return self.rows[index]

    @property
    def parameter_names(self) -> list[str]:
        names: list[str] = []
        for row in self.rows:
            names.extend(k for k in row.params if k not in names)
        return names

    @property
    def varying(self) -> list[str]:
        """Parameters that take more than one value among the rows."""
        out = []
        for name in self.parameter_names:
            values = {json.dumps(row.params.get(name), sort_keys=True) for row in self.rows}
            if len(values) > 1:
                out.append(name)
        return out

    @property
    def columns(self) -> list[str]:
        return ["run_id", "experiment", "status", "seed", "spawn_key"] + self.parameter_names

    def column(self, name: str) -> list:
        if name == "spawn_key":
            return [row.spawn_key for row in self.rows]
        return [row.get(name) for row in self.rows]

    def records(self) -> list[dict]:
        out = []
        for row in self.rows:
            rec = {
                "run_id": row.run_id,
                "experiment": row.experiment,
                "status": row.status,
                "seed": row.seed,
                "spawn_key": row.spawn_key,
            }
            rec.update(row.params)
            out.append(rec)
        return out

    def to_pandas(self):
        """A pandas DataFrame indexed by run_id (pandas is optional)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("RunTable.to_pandas needs pandas (pip install pandas)") from None
        return pd.DataFrame.from_records(self.records(), index="run_id")

    def format(self, columns: list[str] | None = None) -> str:
        if columns is None:
            params = self.varying if len(self.rows) > 1 else self.parameter_names
            columns = ["run_id", "experiment", "status", "seed"] + params
        header = list(columns)
        body = []
        for row in self.rows:
            cells = []
            for col in columns:
                value = row.get(col, "")
                cells.append(f"{value:.6g}" if isinstance(value, float) else str(value))
            body.append(cells)
        widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in body]
        return "\n".join(lines)

    def __str__(self):
        return self.format()

    def __repr__(self):
        return f"<RunTable: {len(self.rows)} runs>"


@dataclass(frozen=True)
class ScalarSummary:
    """One scalar summary collected across runs, on the grid of scanned parameters.

    Attributes
    ----------
    name : str
        The scalar.
    by : tuple of str
        Parameter names indexing the grid, in order.
    coords : dict
        ``parameter -> sorted 1-D array`` of its values.
    mean, std, sem : ndarray
        Shape ``tuple(len(coords[b]) for b in by)``: mean over repetitions
        (runs differing only in seed), sample standard deviation (ddof=1; NaN
        with fewer than 2 runs) and standard error ``std / sqrt(count)``. NaN
        where no run exists.
    count : ndarray of int
        Runs per grid point.
    values : dict
        ``tuple of parameter values -> list of (run_id, value)``.
    """

    name: str
    by: tuple[str, ...]
    coords: Mapping[str, np.ndarray]
    mean: np.ndarray
    std: np.ndarray
    sem: np.ndarray
    count: np.ndarray
    values: Mapping[tuple, list]

    def to_xarray(self):
        """An ``xarray.Dataset`` with variables mean/std/sem/count (needs xarray)."""
        try:
            import xarray as xr
        except ImportError:
            raise ImportError("ScalarSummary.to_xarray needs xarray (pip install xarray)") from None
        dims = list(self.by)
        return xr.Dataset(
            {k: (dims, getattr(self, k)) for k in ("mean", "std", "sem", "count")},
            coords={k: np.asarray(v) for k, v in self.coords.items()},
            attrs={"scalar": self.name},
        )


def known_keys(rows: Iterable[RunInfo]) -> list[str]:
    """Parameter names of these runs, then the keys every run has (``run_id``, ``status``...)."""
    names: list[str] = []
    for row in rows:
        names.extend(k for k in row.params if k not in names)
    return names + [k for k in RUN_KEYS if k not in names]


def select(rows: Iterable[RunInfo], experiment: str | None = None, where: Mapping[str, Any] | None = None,
           status: str | None = None) -> list[RunInfo]:
    """The rows of ``experiment`` with ``status`` whose values match every ``where`` condition.

    A ``where`` key that no row has (a typo) raises ``ValueError`` listing the
    known keys; rows lacking a key another row has are left out.
    """
    rows = list(rows)
    conditions = dict(where or {})
    if conditions:
        known = known_keys(rows)
        unknown = [k for k in conditions if k not in known]
        if unknown:
            raise ValueError(
                f"no run has {'parameter' if len(unknown) == 1 else 'parameters'} "
                f"{', '.join(repr(k) for k in unknown)}; known keys: {', '.join(known) or 'none (no runs)'}"
            )
    out = []
    for info in rows:
        if experiment is not None and info.experiment != experiment:
            continue
        if status is not None and info.status != status:
            continue
        if all((value := info.get(key, _MISSING)) is not _MISSING and matches(value, wanted)
               for key, wanted in conditions.items()):
            out.append(info)
    return out


def independent_parameters(rows: Sequence[RunInfo], by: Sequence[str]) -> list[str]:
    """Parameters that vary among ``rows`` other than ``by`` and not as a function of ``by``.

    A parameter zipped with ``by`` (one value for each value of ``by``) is not
    independent; one that takes two values for the same ``by`` values is.
    """
    table = RunTable(rows)
    out = []
    for name in table.varying:
        if name in by:
            continue
        seen: dict[tuple, str] = {}
        for r in rows:
            key = tuple(json.dumps(r.params.get(b)) for b in by)
            value = json.dumps(r.params.get(name), sort_keys=True)
            if seen.setdefault(key, value) != value:
                out.append(name)
                break
    return out


def collect_scalar(rows: Sequence[RunInfo], scalar: str, by: Iterable[str] | None = None, *,
                   label: str = "") -> ScalarSummary:
    """One scalar summary over complete runs, on the grid of ``by`` (default: the varying parameters).

    Runs that differ only in their seed are repetitions and are averaged.
    Raises ``ValueError`` if no run has the scalar, the runs mix experiments,
    or another parameter varies independently of ``by``. ``label`` names the
    source in messages.
    """
    table = RunTable([r for r in rows if r.status == STATUS_COMPLETE])
    rows = [r for r in table if scalar in r.scalars]
    if not rows:
        have = sorted({k for r in table for k in r.scalars})
        raise ValueError(
            f"no complete run{label} has scalar {scalar!r}" + (f"; scalars present: {have}" if have else "")
        )
    experiments = sorted({r.experiment for r in rows})
    if len(experiments) > 1:
        raise ValueError(f"runs of several experiments {experiments} have {scalar!r}; pass experiment=")
    table = RunTable(rows)
    by = tuple(table.varying if by is None else by)
    missing = [b for b in by if b not in table.parameter_names]
    if missing:
        raise ValueError(f"by= names unknown parameters {missing}; parameters: {table.parameter_names}")
    others = independent_parameters(rows, by)
    if others:
        raise ValueError(
            f"runs also differ in {others}; add them to by= or select with where= (e.g. where={{{others[0]!r}: ...}})"
        )
    coords = {}
    for b in by:
        uniq = sorted(set(table.column(b)), key=lambda v: (isinstance(v, str), v))
        coords[b] = np.asarray(uniq)
    shape = tuple(len(coords[b]) for b in by)
    values: dict[tuple, list] = {}
    for r in rows:
        key = tuple(r.params[b] for b in by)
        values.setdefault(key, []).append((r.run_id, r.scalars[scalar]))
    mean = np.full(shape, np.nan)
    std = np.full(shape, np.nan)
    count = np.zeros(shape, dtype=np.int64)
    for key, items in values.items():
        index = tuple(int(np.flatnonzero(coords[b] == v)[0]) for b, v in zip(by, key))
        x = np.asarray([float(v) for _, v in items])
        count[index] = x.size
        mean[index] = x.mean()
        if x.size > 1:
            std[index] = x.std(ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sem = std / np.sqrt(np.where(count > 0, count, np.nan))
    return ScalarSummary(scalar, by, coords, mean, std, sem, count, values)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def default_scalars(table: RunTable, limit: int = 6) -> list[str]:
    """Numeric scalars that differ between runs (theory constants are left out), at most ``limit``."""
    if not len(table):
        return []
    return [
        k for k, v in table[0].scalars.items()
        if _is_number(v) and all(_is_number(r.scalars.get(k)) for r in table)
        and len({r.scalars[k] for r in table}) > 1
    ][:limit]


def plot_scalars(table: RunTable, scalars: Sequence[str], x: str | None = None, *, title: str = ""):
    """A matplotlib Figure of ``scalars`` (mean ± s.e. over seeds) against parameter ``x``.

    ``x`` defaults to the first varying numeric parameter; parameters varying
    independently of ``x`` give one line each. Raises ``ValueError`` saying
    what is missing.
    """
    from matplotlib.figure import Figure

    rows = list(table)
    varying = table.varying
    numeric = [v for v in varying if all(_is_number(value) for value in table.column(v))]
    x = x or (numeric[0] if numeric else None)
    if x is None:
        raise ValueError("the runs vary no numeric parameter; plot one run by RUN_ID")
    if x not in varying:
        raise ValueError(f"--x {x!r} does not vary among the selected runs (varying: {varying})")
    if not scalars:
        raise ValueError("the runs have no numeric scalar summaries to plot")
    series = independent_parameters(rows, [x])
    ncols = min(len(scalars), 3)
    nrows = math.ceil(len(scalars) / 3)
    fig = Figure(figsize=(5 * ncols, 3.8 * nrows), layout="constrained")
    for i, name in enumerate(scalars):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        summary = collect_scalar(rows, name, by=[x] + series)
        xs = summary.coords[x]
        combos = list(itertools.product(*[range(len(summary.coords[s])) for s in series]))
        for combo in combos:
            index = (slice(None),) + combo
            if not (summary.count[index] > 0).any():
                continue
            label = ", ".join(f"{s}={format_value(summary.coords[s][j])}" for s, j in zip(series, combo))
            ax.errorbar(xs, summary.mean[index], yerr=summary.sem[index], marker="o", capsize=2,
                        label=label or None)
        if series:
            ax.legend(fontsize=7)
        ax.set_xlabel(x)
        ax.set_ylabel(name)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def format_value(value) -> str:
    """A parameter or scalar value for display: floats to 6 significant digits."""
    return f"{value:.6g}" if isinstance(value, (float, np.floating)) else str(value)
