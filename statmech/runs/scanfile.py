"""The scan-file language: a TOML file describing the points of a parameter scan.

Scan file
---------
::

    experiment = "rem"            # a registered experiment (statmech experiments)
    description = "E[Y] vs M"     # optional
    seed = 0                      # scan seed (default 0); or seeds = [0, 1, 2]
    repetitions = 4               # runs per point and seed (default 1)

    [fixed]                       # parameters held fixed (others take defaults)
    samples = 64

    [grid]                        # cartesian product of these axes
    M = [10, 14, 18]
    beta_max = { start = 2.0, stop = 4.0, num = 3 }      # inclusive linspace
    # also { start = 1, stop = 9, step = 2 } (inclusive), { ..., num = 5, log = true }

    [zip]                         # lists varied together (same length);
    n = [1000, 2000]              # use [[zip]] tables for several groups
    d = [10, 20]

Points are the product of the grid axes and the zip groups, times the seeds,
times the repetitions. Errors name the file, the line and the key.

Seeds
-----
A point's seed depends only on the scan seed, the point's parameters and the
repetition index, never on the worker or the order of execution:
``SeedSequence(seed, spawn_key=(h0, h1, repetition))`` where ``(h0, h1)`` are
the two 32-bit halves of a BLAKE2b hash of the experiment name and the
canonical parameters. The same point in two scans with the same seed is the
same run (same ``run_id``), archived once.

Running a scan is :func:`statmech.runs.scanner.run_scan`.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from statmech.runs.registry import ExperimentSpec, RegistryError, get_experiment
from statmech.runs.schema import canonical_params, make_run_id

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["ScanError", "ScanPoint", "Scan", "point_seed", "parse_scan", "load_scan", "MAX_SEED"]

_TOP_KEYS = ("experiment", "description", "seed", "seeds", "repetitions", "fixed", "grid", "zip")
#: Largest seed a scan or a run accepts.
MAX_SEED = 2**63 - 1


class ScanError(ValueError):
    """A bad scan file or scan request; the message names the file, line and key."""


# -- points and seeds ------------------------------------------------------------------------


def point_seed(
    experiment: str, params: Mapping[str, Any], seed: int, repetition: int
) -> tuple[int, tuple[int, ...]]:
    """``(entropy, spawn_key)`` of a scan point's seed sequence (see the module docstring)."""
    digest = hashlib.blake2b(
        f"{experiment}\n{canonical_params(params)}".encode(), digest_size=8
    ).digest()
    h0 = int.from_bytes(digest[:4], "little")
    h1 = int.from_bytes(digest[4:], "little")
    return int(seed), (h0, h1, int(repetition))


@dataclass(frozen=True)
class ScanPoint:
    """One run of a scan.

    Attributes
    ----------
    index : int
        Position in the scan.
    params : dict
        Fully resolved parameters.
    varied : dict
        The values of the scanned axes only.
    seed : int
    spawn_key : tuple of int
    repetition : int
    run_id : str
    """

    index: int
    params: Mapping[str, Any]
    varied: Mapping[str, Any]
    seed: int
    spawn_key: tuple[int, ...]
    repetition: int
    run_id: str


@dataclass(frozen=True)
class Scan:
    """A parsed scan file.

    Attributes
    ----------
    experiment : str
    spec : ExperimentSpec
    fixed : dict
    axes : tuple of tuple
        ``((name, ...), [values...])`` per grid axis or zip group, each value
        a tuple with one entry per name.
    seeds : tuple of int
    repetitions : int
    points : tuple of ScanPoint
    description : str
    source : str
        File name (for messages).
    """

    experiment: str
    spec: ExperimentSpec
    fixed: Mapping[str, Any]
    axes: tuple
    seeds: tuple[int, ...]
    repetitions: int
    points: tuple[ScanPoint, ...]
    description: str = ""
    source: str = "<scan>"

    @property
    def axis_names(self) -> list[str]:
        return [name for names, _ in self.axes for name in names]


class _Locator:
    """Finds the line of a key in TOML text (tomllib gives lines only for syntax errors)."""

    _header = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")

    def __init__(self, text: str, source: str):
        self.source = source
        self.lines = text.splitlines()

    def line(self, table: str | None, key: str | None, occurrence: int = 0) -> int | None:
        current, count = None, -1
        key_re = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=") if key else None
        for number, raw in enumerate(self.lines, start=1):
            m = self._header.match(raw)
            if m:
                current = m.group(2).strip().strip("\"'")
                if current == table:
                    count += 1
                    if key is None and count == occurrence:
                        return number
                continue
            if (
                key_re
                and key_re.match(raw)
                and current == table
                and (table is None or count == occurrence)
            ):
                return number
        # inline tables (grid = { M = [...] }): any line mentioning the key
        if key:
            loose = re.compile(r"(^|[{,\s])[\"']?" + re.escape(key) + r"[\"']?\s*=")
            for number, raw in enumerate(self.lines, start=1):
                if loose.search(raw):
                    return number
        return None

    def error(
        self, message: str, table: str | None = None, key: str | None = None, occurrence: int = 0
    ) -> ScanError:
        line = self.line(table, key, occurrence) if (key or table) else None
        where = f"{self.source}:{line}" if line else self.source
        label = ""
        if table and key:
            label = f"[{table}] {key}: "
        elif key:
            label = f"{key}: "
        elif table:
            label = f"[{table}]: "
        return ScanError(f"{where}: {label}{message}")


def _expand_values(value, param, loc: _Locator, table: str, occurrence: int = 0) -> list:
    """A list, or a range table, to a list of coerced values."""
    name = param.name
    if isinstance(value, dict):
        allowed = {"start", "stop", "num", "step", "log", "values"}
        extra = sorted(set(value) - allowed)
        if extra:
            raise loc.error(
                f"unknown range key(s) {extra}; a range is {{start, stop, num}} or {{start, stop, step}} "
                "(optionally log = true), or {values = [...]}",
                table,
                name,
                occurrence,
            )
        if "values" in value:
            value = value["values"]
        else:
            try:
                start, stop = value["start"], value["stop"]
            except KeyError as exc:
                raise loc.error(
                    f"a range needs 'start' and 'stop' (missing {exc.args[0]!r})",
                    table,
                    name,
                    occurrence,
                ) from None
            for k in ("start", "stop", "step"):
                if k in value and (
                    isinstance(value[k], bool) or not isinstance(value[k], (int, float))
                ):
                    raise loc.error(
                        f"range '{k}' must be a number, got {value[k]!r}", table, name, occurrence
                    )
            if ("num" in value) == ("step" in value):
                raise loc.error(
                    "a range needs exactly one of 'num' or 'step'", table, name, occurrence
                )
            log = value.get("log", False)
            if not isinstance(log, bool):
                raise loc.error(
                    f"range 'log' must be true or false, got {log!r}", table, name, occurrence
                )
            if "num" in value:
                num = value["num"]
                if isinstance(num, bool) or not isinstance(num, int) or num < 0:
                    raise loc.error(
                        f"range 'num' must be an integer >= 0, got {num!r}", table, name, occurrence
                    )
                if log:
                    if start <= 0 or stop <= 0:
                        raise loc.error(
                            "a log range needs start > 0 and stop > 0", table, name, occurrence
                        )
                    raw = np.geomspace(start, stop, num) if num else np.empty(0)
                else:
                    raw = np.linspace(start, stop, num)
            else:
                step = value["step"]
                if log:
                    raise loc.error(
                        "log = true goes with 'num', not 'step'", table, name, occurrence
                    )
                if step == 0 or (stop - start) * step < 0:
                    raise loc.error(
                        f"step {step} never goes from {start} to {stop}", table, name, occurrence
                    )
                count = int(math.floor((stop - start) / step * (1 + 1e-12) + 1e-9)) + 1
                raw = start + step * np.arange(count)
            if param.type is int:
                values = []
                for x in raw:
                    if abs(x - round(x)) > 1e-9 * max(1.0, abs(x)):
                        raise loc.error(
                            f"parameter {name!r} is an int but the range gives {float(x)!r}",
                            table,
                            name,
                            occurrence,
                        )
                    values.append(int(round(x)))
                value = values
            else:
                # round off linspace/arange noise: 0.30000000000000004 -> 0.3
                value = [float(f"{x:.12g}") for x in raw]
    if not isinstance(value, list):
        raise loc.error(
            f"expected a list of values or a range table, got {value!r}", table, name, occurrence
        )
    out = []
    for i, item in enumerate(value):
        try:
            out.append(param.coerce(item))
        except (TypeError, ValueError) as exc:
            raise loc.error(f"item {i}: {exc}", table, name, occurrence) from None
    if table == "grid":
        seen = set()
        for item in out:
            if item in seen:
                raise loc.error(f"the value {item!r} is listed twice", table, name, occurrence)
            seen.add(item)
    return out


def parse_scan(text: str, source: str = "<scan>") -> Scan:
    """Parse scan-file text; raise :class:`ScanError` naming the line and key of any problem."""
    loc = _Locator(text, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            bare = msg[: m.start()].strip()
            raise ScanError(f"{source}:{m.group(1)}:{m.group(2)}: invalid TOML: {bare}") from None
        if "(at end of document)" in msg:
            bare = msg.replace("(at end of document)", "").strip()
            last = max(1, len(text.rstrip().splitlines()))
            raise ScanError(f"{source}:{last}: invalid TOML: {bare} (at end of file)") from None
        raise ScanError(f"{source}: invalid TOML: {msg}") from None

    for key in data:
        if key not in _TOP_KEYS:
            raise loc.error(f"unknown key (expected one of {', '.join(_TOP_KEYS)})", None, key)
    if "experiment" not in data:
        raise ScanError(
            f"{source}: missing required key 'experiment' (a name from `statmech experiments`)"
        )
    name = data["experiment"]
    if not isinstance(name, str):
        raise loc.error(f"must be a string, got {name!r}", None, "experiment")
    try:
        spec = get_experiment(name)
    except RegistryError as exc:
        raise loc.error(str(exc), None, "experiment") from None
    description = data.get("description", "")
    if not isinstance(description, str):
        raise loc.error("must be a string", None, "description")

    # seeds
    if "seed" in data and "seeds" in data:
        raise loc.error("give either 'seed' or 'seeds', not both", None, "seeds")
    if "seeds" in data:
        seeds = data["seeds"]
        if not isinstance(seeds, list):
            raise loc.error(f"must be a list of integers, got {seeds!r}", None, "seeds")
        if not seeds:
            raise loc.error("is empty: the scan has zero points", None, "seeds")
    else:
        seeds = [data.get("seed", 0)]
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEED:
            key = "seeds" if "seeds" in data else "seed"
            raise loc.error(f"seeds are integers in [0, 2**63), got {s!r}", None, key)
    if len(set(seeds)) != len(seeds):
        raise loc.error("a seed is listed twice", None, "seeds")
    repetitions = data.get("repetitions", 1)
    if isinstance(repetitions, bool) or not isinstance(repetitions, int) or repetitions < 1:
        raise loc.error(f"must be an integer >= 1, got {repetitions!r}", None, "repetitions")

    where_set: dict[str, str] = {}

    def claim(param_name: str, table: str, occurrence: int = 0):
        try:
            param = spec.parameter(param_name)
        except ValueError as exc:
            raise loc.error(str(exc), table, param_name, occurrence) from None
        if param_name in where_set:
            raise loc.error(
                f"parameter {param_name!r} is also set in [{where_set[param_name]}]",
                table,
                param_name,
                occurrence,
            )
        where_set[param_name] = table
        return param

    fixed_raw = data.get("fixed", {})
    if not isinstance(fixed_raw, dict):
        raise loc.error("must be a table [fixed] of parameter = value", None, "fixed")
    fixed = {}
    for key, value in fixed_raw.items():
        param = claim(key, "fixed")
        try:
            fixed[key] = param.coerce(value)
        except (TypeError, ValueError) as exc:
            raise loc.error(str(exc), "fixed", key) from None

    axes = []
    grid_raw = data.get("grid", {})
    if not isinstance(grid_raw, dict):
        raise loc.error("must be a table [grid] of parameter = [values]", None, "grid")
    for key, value in grid_raw.items():
        param = claim(key, "grid")
        values = _expand_values(value, param, loc, "grid")
        if not values:
            raise loc.error("gives no values: the scan has zero points", "grid", key)
        axes.append(((key,), [(v,) for v in values]))

    zip_raw = data.get("zip", [])
    zip_tables = [zip_raw] if isinstance(zip_raw, dict) else zip_raw
    if not isinstance(zip_tables, list) or not all(isinstance(t, dict) for t in zip_tables):
        raise loc.error(
            "must be a table [zip] (or tables [[zip]]) of parameter = [values]", None, "zip"
        )
    for occurrence, table in enumerate(zip_tables):
        if not table:
            raise loc.error("is empty", "zip", None, occurrence)
        names, columns = [], []
        for key, value in table.items():
            param = claim(key, "zip", occurrence)
            columns.append(_expand_values(value, param, loc, "zip", occurrence))
            names.append(key)
        lengths = {n: len(c) for n, c in zip(names, columns)}
        if len(set(lengths.values())) > 1:
            raise loc.error(
                f"zipped lists must have the same length, got {lengths}",
                "zip",
                names[0],
                occurrence,
            )
        if not columns[0]:
            raise loc.error(
                "gives no values: the scan has zero points", "zip", names[0], occurrence
            )
        rows = list(zip(*columns))
        if len(set(rows)) != len(rows):
            raise loc.error(f"zipped rows repeat: {names} = {rows}", "zip", names[0], occurrence)
        axes.append((tuple(names), [tuple(row) for row in zip(*columns)]))

    points = []
    seen_ids = set()
    for combo in itertools.product(*[values for _, values in axes]):
        varied = {}
        for (names, _), row in zip(axes, combo):
            varied.update(zip(names, row))
        params = spec.resolve({**fixed, **varied})
        for seed in seeds:
            for rep in range(repetitions):
                entropy, key = point_seed(spec.name, params, seed, rep)
                run_id = make_run_id(spec.name, params, entropy, key)
                if run_id in seen_ids:
                    continue
                seen_ids.add(run_id)
                points.append(ScanPoint(len(points), params, varied, entropy, key, rep, run_id))
    if not points:
        raise ScanError(f"{source}: the scan has zero points")
    return Scan(
        experiment=spec.name,
        spec=spec,
        fixed=fixed,
        axes=tuple((names, values) for names, values in axes),
        seeds=tuple(seeds),
        repetitions=repetitions,
        points=tuple(points),
        description=description,
        source=source,
    )


def load_scan(path) -> Scan:
    """Read and parse a scan file (see the module docstring for the format)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScanError(f"no such scan file: {path}") from None
    except IsADirectoryError:
        raise ScanError(f"{path} is a directory, not a scan file") from None
    except PermissionError:
        raise ScanError(f"cannot read {path}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise ScanError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_scan(text, str(path))
