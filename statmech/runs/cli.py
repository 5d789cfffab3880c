"""The ``statmech`` command line: list, run, scan, inspect, check and plot archived experiments.

Every subcommand has ``--help`` with an example. Every argument is checked
before any computation starts (paths, figure formats, intervals, ``--where``
keys, and each point's memory estimate against the memory available). User
mistakes print one message on stderr and exit with status 1 (2 for
command-line syntax, 130 after Ctrl-C), never a traceback; ``--debug`` shows
tracebacks. The commands are thin: the work is in :mod:`statmech.runs`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

__all__ = ["main", "build_parser", "UserError"]


class UserError(Exception):
    """A mistake in what the user asked for: printed without traceback."""


def _err(message: str) -> None:
    print(f"statmech: error: {message}", file=sys.stderr)


def _note(message: str) -> None:
    print(f"statmech: {message}", file=sys.stderr, flush=True)


def _version() -> str:
    import statmech

    return getattr(statmech, "__version__", "unknown")


# -- checks before any computation ---------------------------------------------------------------------


def _parse_assignments(items, flag: str) -> dict:
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"{flag} expects key=value, got {item!r}")
        if key in out:
            raise UserError(f"{flag} sets {key!r} twice")
        out[key] = value
    return out


def _where(args) -> dict:
    from statmech.runs.summaries import parse_value

    return {k: parse_value(v) for k, v in _parse_assignments(getattr(args, "where", None), "--where").items()}


def _check_output(path: str, what: str) -> Path:
    """An output file we can create or replace: its folder exists and takes new files, it is not a folder.

    The folder is probed by creating (and deleting) a file in it, which also
    catches read-only mounts and full disks that permission bits do not show.
    """
    import tempfile

    out = Path(path)
    folder = out.absolute().parent
    if out.is_dir():
        raise UserError(f"{what} {out} is a directory")
    if not folder.is_dir():
        raise UserError(f"cannot write {what} {out}: directory {folder} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".statmech-probe-"):
            pass
    except OSError as exc:
        raise UserError(f"cannot write {what} {out}: directory {folder} does not take new files "
                        f"({exc.strerror or exc})") from None
    if out.exists() and not os.access(out, os.W_OK):
        raise UserError(f"cannot write {what} {out}: the file is not writable")
    return out


def _check_figure(path: str) -> Path:
    """A figure path with a format matplotlib can write, in a writable folder."""
    from matplotlib.backend_bases import FigureCanvasBase

    out = _check_output(path, "figure")
    formats = FigureCanvasBase.get_supported_filetypes()
    ext = out.suffix.lstrip(".").lower()
    if not ext:
        raise UserError(f"figure {out} needs an extension giving its format: one of {', '.join(sorted(formats))}")
    if ext not in formats:
        raise UserError(f"cannot save figure {out}: format {ext!r} is not supported; use one of "
                        f"{', '.join(sorted(formats))}")
    return out


def _number(kind, check, expected: str, label: str = ""):
    """An argparse type: ``kind(text)`` that passes ``check``, else a message saying what was expected."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not check(value):
            raise argparse.ArgumentTypeError(f"{label}must be {expected}, got {text!r}")
        return value

    return parse


#: ``--publish-interval``: a finite number of seconds >= 0.
_interval = _number(float, lambda v: math.isfinite(v) and v >= 0, "finite and >= 0 seconds")
#: ``--jobs``: an integer >= 1.
_jobs = _number(int, lambda v: v >= 1, "an integer >= 1")
#: ``--seed``: an integer in [0, 2**63).
_seed_type = _number(int, lambda v: 0 <= v < 2**63, "an integer in [0, 2**63)", "seed ")


def _estimate_point(spec, resolved):
    """Check a point's memory before anything is allocated; return its estimate (or None)."""
    from statmech.memory import InsufficientMemoryError

    try:
        return spec.check_resources(resolved)
    except InsufficientMemoryError as exc:
        raise UserError(str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise UserError(f"experiment {spec.name!r} rejected its input: {type(exc).__name__}: {exc}") from None


# -- output --------------------------------------------------------------------------------------------


def _save_figure(fig, path: Path) -> None:
    try:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    except (ValueError, OSError) as exc:
        raise UserError(f"cannot save figure {path}: {exc}") from None
    print(f"figure written to {path}")


def _plot_result(spec, result, path: Path, title: str = "") -> None:
    from matplotlib.figure import Figure

    if spec is None or spec.plot is None:
        name = spec.name if spec is not None else "this experiment"
        raise UserError(f"{name} has no plot function; use `statmech show` or read the archive")
    fig = Figure(figsize=spec.figsize, layout="constrained")
    returned = spec.plot(result, fig)
    fig = returned if returned is not None and hasattr(returned, "savefig") else fig
    if title:
        fig.suptitle(title, fontsize=9)
    _save_figure(fig, path)


def _print_result(spec, record, out=None) -> None:
    """The run's identity, then its report (headline numbers next to theory) or its scalars."""
    from statmech.runs.summaries import format_value

    out = sys.stdout if out is None else out
    print(f"run {record.run_id}  {record.experiment}  seed {record.seed}  status {record.status}", file=out)
    if record.result is None:
        return
    if spec is not None and spec.report is not None:
        print(spec.report(record.result), file=out)
    else:
        for name, value in record.result.scalars.items():
            print(f"  {name} = {format_value(value)}", file=out)


def _spec_or_none(name):
    from statmech.runs.registry import RegistryError, get_experiment

    try:
        return get_experiment(name)
    except RegistryError:
        return None


def _open(path):
    from statmech.runs.reader import open_archive

    return open_archive(path)


# -- subcommands ---------------------------------------------------------------------------------------


def cmd_experiments(args) -> int:
    from statmech.runs.registry import describe_experiments, get_experiment

    if args.name:
        spec = get_experiment(args.name)
        print(f"{spec.name}: {spec.description}")
        print(f"  from {spec.source or '(registered in this process)'}")
        print("  parameters:")
        for p in spec.parameters:
            print(f"    {p.describe()}")
        estimate = spec.estimate()
        if estimate is not None:
            print(f"  with the defaults: {estimate.describe()}")
        if spec.plot is not None:
            print("  has a plot (statmech run ... --plot fig.png)")
        return EXIT_OK
    rows = describe_experiments()
    if not rows:
        print("no experiments registered")
        return EXIT_OK
    for name, path, spec, error in rows:
        if spec is None:
            print(f"{name}  [not available: {error}]")
            continue
        print(f"{name}: {spec.description}")
        for p in spec.parameters:
            print(f"    {p.describe()}")
    return EXIT_OK


def cmd_run(args) -> int:
    from statmech.runs.progress import Progress
    from statmech.runs.registry import get_experiment
    from statmech.runs.resources import LONG_SECONDS
    from statmech.runs.scanner import run_point
    from statmech.runs.schema import make_run_id
    from statmech.runs.writer import ArchiveWriter

    spec = get_experiment(args.experiment)
    params = _parse_assignments(args.param, "-p")
    try:
        resolved = spec.resolve(params)
    except (TypeError, ValueError) as exc:
        raise UserError(str(exc)) from None
    plot_path = _check_figure(args.plot) if args.plot else None
    if args.output:
        _check_output(args.output, "archive")
    estimate = _estimate_point(spec, resolved)
    seconds = None if estimate is None else estimate.seconds
    run_id = make_run_id(spec.name, resolved, args.seed, ())
    record = None
    writer = ArchiveWriter(args.output) if args.output else None
    try:
        if writer is not None and writer.has_complete(run_id):
            record = writer.read(run_id)
            _note(f"run {run_id} (same experiment, parameters and seed) is already in {args.output}; not recomputed")
        else:
            if seconds is not None and seconds >= LONG_SECONDS:
                _note(f"{spec.name}: estimated {estimate.describe()}; rough; Ctrl-C stops it")
            bar = Progress(1, label="run", estimate=seconds, mode="off" if args.quiet else None)
            try:
                with bar.ticking():
                    record = run_point(spec, resolved, args.seed, progress=bar.callback(run_id),
                                       check_memory=False)
                bar.update(1, key=run_id)
            except (ValueError, TypeError) as exc:
                raise UserError(f"experiment {spec.name!r} rejected its input: {type(exc).__name__}: {exc}") from None
            finally:
                bar.close()
            if writer is not None:
                writer.add(record, publish=True)
                print(f"archived as run {record.run_id} in {args.output}")
    finally:
        if writer is not None:
            writer.close()
    _print_result(spec, record)
    if plot_path is not None:
        _plot_result(spec, record.result, plot_path, title=f"{spec.name} {record.run_id}")
    return EXIT_OK


def _scan_outputs(scan, output: Path, plot_path, show_reports: bool) -> None:
    """Print each scan point's report and draw its figure, from the archive."""
    from statmech.runs.summaries import format_value

    spec = scan.spec
    if not (plot_path or (show_reports and spec.report is not None)):
        return
    with _open(output) as arc:
        for k, point in enumerate(scan.points):
            try:
                result = arc.load(point.run_id)
            except Exception:  # failed or missing point: already reported above
                continue
            varied = " ".join(f"{key}={format_value(v)}" for key, v in point.varied.items())
            if show_reports and spec.report is not None:
                print(f"\n== run {point.run_id} {varied}".rstrip())
                print(spec.report(result))
            if plot_path:
                path = plot_path if len(scan.points) == 1 else plot_path.with_name(
                    f"{plot_path.stem}-{k}{plot_path.suffix}")
                _plot_result(spec, result, path, title=f"{spec.name} {point.run_id} {varied}".strip())


def cmd_scan(args) -> int:
    from statmech.memory import format_bytes
    from statmech.runs.resources import format_seconds
    from statmech.runs.scanfile import load_scan
    from statmech.runs.scanner import check_scan, run_scan
    from statmech.runs.summaries import format_value

    scan = load_scan(args.scan)
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if args.dry_run:
        estimate = check_scan(scan, jobs=jobs)
        print(f"{scan.source}: experiment {scan.experiment}, {len(scan.points)} runs")
        for p in scan.points:
            varied = " ".join(f"{k}={format_value(v)}" for k, v in p.varied.items())
            print(f"  {p.run_id}  seed {p.seed} rep {p.repetition}  {varied}")
        if not math.isnan(estimate.peak_memory):
            print(f"largest point: peak memory ~{format_bytes(estimate.peak_memory)}")
        if estimate.seconds is not None:
            print(f"estimated ~{format_seconds(estimate.wall_seconds(estimate.jobs))} of computing on "
                  f"{estimate.jobs} worker(s) (rough)")
        return EXIT_OK
    output = _check_output(args.output, "archive")
    plot_path = _check_figure(args.plot) if args.plot else None

    # run_scan turns Ctrl-C and SIGTERM (e.g. a batch system's time limit) into a clean stop
    report = run_scan(
        scan,
        output,
        jobs=jobs,
        scheduler=args.scheduler,
        resume=args.resume,
        publish_interval=args.publish_interval,
        on_note=_note,
        progress=False if args.quiet else None,
    )
    jobs = report.jobs
    where = (
        f"with dask scheduler {args.scheduler}"
        if args.scheduler
        else ("in this process" if jobs == 1 else f"on {jobs} worker processes")
    )
    complete = report.computed - len(report.failed)
    print(
        f"{scan.experiment}: {report.total} points, {complete} computed {where}, "
        f"{report.skipped} already archived, {len(report.failed)} failed; "
        f"{report.elapsed:.2f} s (warm-up {report.warmup_seconds:.2f} s); archive {output}"
    )
    if report.interrupted:
        _note(
            f"interrupted: finished runs are kept in {output}; "
            f"`statmech scan {args.scan} -o {output} --resume` computes the {report.remaining} remaining points"
        )
        return EXIT_INTERRUPTED
    if report.failed:
        for run_id, params, error in report.failed[:10]:
            _err(f"run {run_id} {json.dumps(params)} failed: {error}")
        _err(f"{len(report.failed)} points failed (archived with status 'failed'; --resume retries them)")
        return EXIT_ERROR
    _scan_outputs(scan, output, plot_path, show_reports=not args.quiet)
    return EXIT_OK


def _verify(arc, ids, quiet: bool = False) -> dict:
    from statmech.runs.progress import Progress

    bar = Progress(len(ids), label="runs checked", mode="off" if quiet else None)
    with bar.ticking():
        problems = arc.verify(ids, progress=lambda done, total: bar.set_partial("check", done / total))
    bar.close()
    return problems


def cmd_ls(args) -> int:
    with _open(args.archive) as arc:
        try:
            table = arc.runs(experiment=args.experiment, where=_where(args), status=args.status)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        problems = _verify(arc, [r.run_id for r in table]) if args.verify else {}
        bad = {rid: why for rid, why in problems.items() if why}
        bad.update({r.run_id: r.error for r in table if r.status == "damaged"})
        if args.json:
            records = table.records()
            for rec in records:
                if rec["run_id"] in bad:
                    rec["status"], rec["damage"] = "damaged", bad[rec["run_id"]]
            print(json.dumps(records, indent=1, default=list))
        elif len(table):
            text = table.format()
            for rid in bad:
                text = text.replace(f"{rid}  ", f"{rid}* ", 1)
            print(text)
        n_failed = sum(r.status == "failed" for r in table)
        summary = f"{len(table)} of {len(arc)} runs" + (f" ({n_failed} failed)" if n_failed else "")
        if bad:
            summary += f"; {len(bad)} damaged (*): " + "; ".join(f"{rid}: {why}" for rid, why in bad.items())
        elif args.verify:
            summary += "; all verified"
        print(summary, file=sys.stderr if args.json else sys.stdout)
        if arc.pending:
            _note(
                f"{arc.pending} finished runs are staged but not yet in the archive (a scan is running or was "
                "interrupted; `statmech scan SCAN.toml --resume` publishes them)"
            )
    return EXIT_ERROR if bad and args.verify else EXIT_OK


def cmd_check(args) -> int:
    with _open(args.archive) as arc:
        ids = arc.run_ids
        problems = _verify(arc, ids)
        bad = {rid: why for rid, why in problems.items() if why}
        for rid, why in bad.items():
            print(f"{rid}  damaged: {why}")
        version = f"schema {arc.schema_version}"
        unchecked = sum(1 for rid in ids if not bad.get(rid) and arc.run_schema(rid) == 1)
        tail = f" ({unchecked} runs of schema 1 carry no checksums: read completely instead)" if unchecked else ""
        if bad:
            print(f"{arc.path}: {len(bad)} of {len(ids)} runs damaged ({version}){tail}")
            return EXIT_ERROR
        print(f"{arc.path}: all {len(ids)} runs sound ({version}){tail}")
    return EXIT_OK


def cmd_show(args) -> int:
    from statmech.runs.summaries import format_value

    with _open(args.archive) as arc:
        try:
            info = arc.info(args.run_id)
        except KeyError as exc:
            raise UserError(exc.args[0]) from None
        print(f"run {info.run_id}")
        print(f"  experiment  {info.experiment}")
        print(f"  status      {info.status}" + (f"  ({info.error.splitlines()[0]})" if info.error else ""))
        print(f"  seed        {info.seed}  spawn key {list(info.spawn_key)}")
        print(f"  started     {info.started}")
        print(f"  finished    {info.finished}")
        print("  parameters")
        for k, v in info.params.items():
            print(f"    {k} = {format_value(v)}")
        if info.scalars:
            print("  scalars")
            for k, v in info.scalars.items():
                print(f"    {k} = {format_value(v)}")
        if info.status == "complete":
            result = arc.load(info.run_id)
            if result.arrays:
                print("  arrays")
                for name, (dims, arr) in result.arrays.items():
                    shape = ", ".join(f"{d}={n}" for d, n in zip(dims, arr.shape))
                    print(f"    {name}({shape}) {arr.dtype}")
            if result.coords:
                print("  coordinates")
                for name, values in result.coords.items():
                    lo, hi = (values[0], values[-1]) if len(values) else ("", "")
                    print(f"    {name}: {len(values)} values {format_value(lo)} .. {format_value(hi)}")
        if info.attrs:
            print("  metadata")
            for k, v in info.attrs.items():
                print(f"    {k} = {v}")
        print("  provenance")
        for k, v in info.provenance.items():
            print(f"    {k} = {v}")
    return EXIT_OK


def cmd_plot(args) -> int:
    from statmech.runs.summaries import default_scalars, format_value, plot_scalars

    out = _check_figure(args.output)
    if bool(args.run_id) == bool(args.experiment):
        raise UserError("give either a RUN_ID or --experiment NAME")
    with _open(args.archive) as arc:
        if args.run_id:
            try:
                info = arc.info(args.run_id)
            except KeyError as exc:
                raise UserError(exc.args[0]) from None
            if info.status != "complete":
                raise UserError(f"run {info.run_id} has status {info.status!r}; nothing to plot")
            spec = _spec_or_none(info.experiment)
            if spec is None:
                raise UserError(f"experiment {info.experiment!r} cannot be loaded here, so its plot is unavailable")
            params = " ".join(f"{k}={format_value(v)}" for k, v in info.params.items())
            _plot_result(spec, arc.load(info.run_id), out, title=f"{info.experiment} {info.run_id}: {params}")
            return EXIT_OK
        where = _where(args)
        try:
            table = arc.runs(experiment=args.experiment, where=where, status="complete")
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if not len(table):
            raise UserError(f"no complete runs of {args.experiment!r} in {args.archive}"
                            + (f" matching {where}" if where else ""))
        if len(table) == 1:
            info = table[0]
            _plot_result(_spec_or_none(args.experiment), arc.load(info.run_id), out,
                         title=f"{info.experiment} {info.run_id}")
            return EXIT_OK
        try:
            fig = plot_scalars(
                table, args.scalar or default_scalars(table), args.x,
                title=f"{args.experiment}: {len(table)} runs from {args.archive} (mean ± s.e. over seeds)",
            )
        except ValueError as exc:
            raise UserError(f"{args.experiment}: {exc}") from None
        _save_figure(fig, out)
    return EXIT_OK


def cmd_demo(args) -> int:
    from statmech.runs import demo

    result = demo.main()
    return int(result) if isinstance(result, int) else EXIT_OK


# -- parser --------------------------------------------------------------------------------------------


def _add_parser(sub, name, help, example, description=None):
    return sub.add_parser(
        name,
        help=help,
        description=description or help,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="statmech",
        description="Run, scan and archive statmech experiments (HDF5 archive, one file, many runs).",
        epilog=(
            "examples:\n"
            "  statmech experiments\n"
            "  statmech run rem -p M=12 --seed 1 -o runs.h5 --plot rem.png\n"
            "  statmech scan data/scans/rem-over-M.toml -o runs.h5 --jobs 2\n"
            "  statmech ls runs.h5 --where M=12\n"
            "  statmech check runs.h5\n"
            "\n`statmech COMMAND --help` explains each command."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"statmech {_version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _add_parser(sub, "experiments", "list registered experiments with their parameters and defaults",
                    "statmech experiments curie-weiss")
    p.add_argument("name", nargs="?", help="show only this experiment (with its resource estimate)")
    p.set_defaults(func=cmd_experiments)

    p = _add_parser(sub, "run", "run one experiment point (optionally archive it and plot it)",
                    "statmech run rem -p M=12 -p samples=32 --seed 1 -o runs.h5 --plot rem.png")
    p.add_argument("experiment", help="experiment name (see `statmech experiments`)")
    p.add_argument("-p", "--param", action="append", metavar="KEY=VALUE", help="set a parameter (repeatable)")
    p.add_argument("--seed", type=_seed_type, default=0, help="seed, an integer >= 0 (default 0)")
    p.add_argument("-o", "--output", metavar="RUNS.h5", help="append the run to this HDF5 archive")
    p.add_argument("--plot", metavar="FIG.png", help="draw the experiment's figure into this file")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_run)

    p = _add_parser(
        sub, "scan", "run a parameter scan described by a TOML file into an archive",
        "statmech scan data/scans/rem-over-M.toml -o runs.h5 --jobs 2\n"
        "  statmech scan scan.toml -o runs.h5 --scheduler tcp://10.0.0.1:8786   # dask cluster\n"
        "  statmech scan scan.toml -o runs.h5 --resume          # after an interruption",
        description=(
            "Run every point of a scan file (experiment, [fixed], [grid], [zip], seed(s), repetitions)\n"
            "and archive each finished run. Ctrl-C stops cleanly, keeping finished runs; --resume\n"
            "computes only the points not yet archived."
        ),
    )
    p.add_argument("scan", metavar="SCAN.toml", help="scan file")
    p.add_argument("-o", "--output", default="runs.h5", metavar="RUNS.h5", help="HDF5 archive (default runs.h5)")
    p.add_argument("--jobs", "-j", type=_jobs, default=None,
                   help="worker processes (default: number of CPUs; 1 runs in this process)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask.distributed scheduler address or scheduler-file.json, or 'local' (needs statmech[dask])")
    p.add_argument("--resume", action="store_true", help="skip points already in the archive")
    p.add_argument("--plot", metavar="FIG.png",
                   help="draw each point's figure (FIG.png for one point, FIG-0.png, FIG-1.png... for several)")
    p.add_argument("--quiet", action="store_true", help="no progress display and no per-run reports")
    p.add_argument("--dry-run", action="store_true", help="list the points (and the time estimate) and exit")
    p.add_argument("--publish-interval", type=_interval, default=0.0, metavar="SECONDS",
                   help="minimum seconds between archive updates (default 0: as often as cheap)")
    p.set_defaults(func=cmd_scan)

    p = _add_parser(sub, "ls", "list the runs of an archive with their parameters",
                    "statmech ls runs.h5 --experiment rem --where M=12")
    p.add_argument("archive", metavar="RUNS.h5")
    p.add_argument("--where", action="append", metavar="KEY=VALUE",
                   help="keep runs with this parameter value (repeatable)")
    p.add_argument("--experiment", help="keep runs of this experiment")
    p.add_argument("--status", choices=("complete", "failed", "damaged"), help="keep runs with this status")
    p.add_argument("--json", action="store_true", help="print JSON records")
    p.add_argument("--verify", action="store_true",
                   help="also read every listed run and check its checksums; damaged runs are marked * "
                        "(exit status 1 if any)")
    p.set_defaults(func=cmd_ls)

    p = _add_parser(sub, "show", "show one run: parameters, seed, scalars, arrays, provenance",
                    "statmech show runs.h5 3f2a9c01d4e5b6a7")
    p.add_argument("archive", metavar="RUNS.h5")
    p.add_argument("run_id", metavar="RUN_ID", help="run id (a unique prefix is enough)")
    p.set_defaults(func=cmd_show)

    p = _add_parser(sub, "check", "verify every run of an archive (checksums); exit status 1 if any is damaged",
                    "statmech check runs.h5")
    p.add_argument("archive", metavar="RUNS.h5")
    p.set_defaults(func=cmd_check)

    p = _add_parser(
        sub, "plot", "plot one run, or scalar summaries of an experiment's runs against a parameter",
        "statmech plot runs.h5 3f2a9c01 -o run.png\n"
        "  statmech plot runs.h5 --experiment rem --scalar y_max -o rem-scan.png",
    )
    p.add_argument("archive", metavar="RUNS.h5")
    p.add_argument("run_id", nargs="?", metavar="RUN_ID", help="run to plot with its experiment's figure")
    p.add_argument("--experiment", help="plot the scalar summaries of this experiment's runs")
    p.add_argument("--scalar", action="append", help="scalar to plot (repeatable; default: all numeric, up to 6)")
    p.add_argument("--x", help="parameter on the x axis (default: the first varying numeric one)")
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="select runs (repeatable)")
    p.add_argument("-o", "--output", required=True, metavar="FIG.png", help="figure file")
    p.set_defaults(func=cmd_plot)

    p = _add_parser(sub, "demo", "run the statmech demonstration", "statmech demo")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``statmech`` command; returns the exit status (and exits with it when run as a script)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    from statmech.runs.errors import ArchiveError, is_disk_full
    from statmech.runs.registry import RegistryError
    from statmech.runs.scanfile import ScanError

    try:
        return args.func(args)
    except (UserError, ScanError, ArchiveError, RegistryError) as exc:
        if args.debug:
            raise
        _err(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    except MemoryError as exc:
        if args.debug:
            raise
        _err(f"out of memory{': ' + str(exc) if str(exc) else ''}; lower the sizes")
        return EXIT_ERROR
    except OSError as exc:
        if args.debug:
            raise
        if is_disk_full(exc):
            _err(
                f"disk full{': ' + str(exc.filename) if getattr(exc, 'filename', None) else ''}; nothing was "
                "half-written; free some space and try again (scans: --resume)"
            )
        elif getattr(exc, "filename", None):
            _err(f"{exc.filename}: {exc.strerror or exc}")
        else:
            _err(str(exc))
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
