"""Reading an archive: :func:`open_archive` and the read-only :class:`Archive`.

The archive is opened once, read-only. Writers replace the file atomically
instead of modifying it (:mod:`statmech.runs.writer`), so an open
:class:`Archive` is a consistent snapshot (``reopen`` shows newer runs) and is
never blocked by a running scan.

Every run read is checked (:mod:`statmech.runs.schema`): listing a run verifies
its attributes' checksum, loading it verifies its data's. A run that fails is
listed with status ``"damaged"``; :meth:`Archive.info`, :meth:`Archive.load`
and :meth:`Archive.collect` on it raise
:class:`~statmech.runs.errors.DamagedRunError` naming the run and what is
wrong; :meth:`Archive.verify` checks every run (``statmech check``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from statmech.runs.errors import ArchiveBusyError, ArchiveError, DamagedRunError, NotAnArchiveError
from statmech.runs.result import ExperimentResult
from statmech.runs.schema import (
    STATUS_COMPLETE,
    STATUS_DAMAGED,
    RunInfo,
    check_root,
    read_info,
    read_result,
    run_schema,
    verify_run,
)
from statmech.runs.shared import METADATA_GROUP
from statmech.runs.staging import legacy_files, staged_records
from statmech.runs.summaries import RunTable, ScalarSummary, collect_scalar, select

__all__ = ["Archive", "open_archive", "open_h5", "staging_dir"]


def staging_dir(path: Path) -> Path:
    """``<archive>.staging``: where finished runs wait to be published."""
    return path.with_name(path.name + ".staging")


def open_h5(path: Path, mode: str = "r"):
    """``h5py.File(path, mode)`` with errors turned into :class:`ArchiveError` messages."""
    import h5py

    if not path.exists():
        pending = len(legacy_files(staging_dir(path))) + sum(1 for _ in staged_records(staging_dir(path), decode=False))
        hint = (
            f" ({pending} finished runs of an interrupted scan are staged in {staging_dir(path)}; "
            "`statmech scan SCAN.toml --resume -o ...` publishes them)"
            if pending and mode == "r"
            else ""
        )
        raise NotAnArchiveError(f"no such file: {path}{hint}")
    if path.is_dir():
        raise NotAnArchiveError(f"{path} is a directory, not an archive file")
    if not os.access(path, os.R_OK):
        raise NotAnArchiveError(f"cannot read {path}: permission denied")
    try:
        return h5py.File(path, mode)
    except OSError as exc:
        text = str(exc)
        if "signature" in text or "not an HDF5" in text.lower() or "truncated" in text:
            raise NotAnArchiveError(f"{path} is not an HDF5 file ({text})") from None
        if "lock" in text.lower():
            raise ArchiveBusyError(
                f"{path} is locked by another process that has it open for writing (HDF5 file lock). "
                "statmech writers never keep the live archive open, so this is another program; "
                "wait for it to finish, or read a copy of the file"
            ) from None
        raise NotAnArchiveError(f"cannot open {path} as HDF5: {text}") from None


def _damaged_info(group, run_id: str, reason: str) -> RunInfo:
    try:
        experiment = group.attrs["experiment"]
        experiment = experiment.decode() if isinstance(experiment, bytes) else str(experiment)
    except Exception:  # noqa: BLE001 - best effort: the attributes are damaged
        experiment = "?"
    return RunInfo(run_id=run_id, experiment=experiment, status=STATUS_DAMAGED, params={}, seed=0,
                   spawn_key=(), started="", finished="", error=reason)


class Archive:
    """Read-only view of a statmech archive (see :func:`open_archive`).

    The file is opened once, read-only; since writers replace the file
    atomically instead of modifying it, the view is a consistent snapshot of
    the archive as it was when opened (call :meth:`reopen` to see newer runs).
    """

    def __init__(self, path):
        self.path = Path(path)
        self._file = None
        self.reopen()

    def reopen(self) -> "Archive":
        """Close and open the file again (picks up runs published since)."""
        self.close()
        f = open_h5(self.path, "r")
        try:
            self.schema_version = check_root(f, self.path)
            self.created = _text(f.attrs.get("created", ""))
            self.creator = _text(f.attrs.get("creator", ""))
        except BaseException:
            f.close()
            raise
        self._file = f
        self._infos: dict[str, RunInfo] | None = None
        self._shared_reads: dict = {}  # what runs share (schema 6), read once: see statmech.runs.schema
        return self

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        with contextlib.suppress(Exception):
            self.close()

    def __len__(self):
        return len(self.run_ids)

    def __contains__(self, run_id):
        return run_id in self._all_infos()

    def __repr__(self):
        return f"<statmech Archive {str(self.path)!r}: {len(self)} runs, schema {self.schema_version}>"

    @property
    def file(self):
        """The underlying read-only ``h5py.File``."""
        if self._file is None:
            raise ArchiveError(f"archive {self.path} is closed")
        return self._file

    @property
    def run_ids(self) -> list[str]:
        return list(self._all_infos())

    @property
    def damaged_ids(self) -> list[str]:
        """Runs whose attributes cannot be read or fail their checksum (data are checked by :meth:`verify`)."""
        return [rid for rid, info in self._all_infos().items() if info.status == STATUS_DAMAGED]

    @property
    def pending(self) -> int:
        """Finished runs staged next to the archive but not yet published (a running or interrupted scan)."""
        staging = staging_dir(self.path)
        staged = {run_id for _, run_id, _ in staged_records(staging, decode=False)}
        staged |= {p.name.split(".")[0] for p in legacy_files(staging)}
        done = {rid for rid, info in self._all_infos().items() if info.status == STATUS_COMPLETE}
        return len(staged - done)

    def _runs_group(self):
        try:
            return self.file["runs"]
        except Exception as exc:  # noqa: BLE001
            raise ArchiveError(f"{self.path}: the list of runs cannot be read ({type(exc).__name__}: {exc})") from None

    def _all_infos(self) -> dict[str, RunInfo]:
        if self._infos is None:
            runs = self._runs_group()
            try:
                names = list(runs.keys())
            except Exception as exc:  # noqa: BLE001 - the group's index itself is damaged
                raise ArchiveError(
                    f"{self.path}: the list of runs cannot be read ({type(exc).__name__}: {exc})"
                ) from None
            infos = {}
            for run_id in names:
                try:
                    group = runs[run_id]
                except Exception as exc:  # noqa: BLE001
                    infos[run_id] = RunInfo(run_id, "?", STATUS_DAMAGED, {}, 0, (), "", "",
                                            error=f"its group cannot be opened ({type(exc).__name__}: {exc})")
                    continue
                try:
                    infos[run_id] = read_info(group, cache=self._shared_reads)
                except DamagedRunError as exc:
                    infos[run_id] = _damaged_info(group, run_id, exc.reason)
            self._infos = dict(sorted(infos.items(), key=lambda kv: (kv[1].finished, kv[0])))
        return self._infos

    def _group(self, run_id: str):
        runs = self._runs_group()
        if run_id not in self._all_infos():
            matches = [r for r in self._all_infos() if r.startswith(run_id)] if run_id else []
            if len(matches) == 1:
                run_id = matches[0]
            else:
                hint = f"; {len(matches)} runs start with {run_id!r}" if matches else ""
                raise KeyError(f"no run {run_id!r} in {self.path}{hint}")
        try:
            return runs[run_id]
        except Exception as exc:  # noqa: BLE001
            raise DamagedRunError(run_id, f"its group cannot be opened ({type(exc).__name__}: {exc})",
                                  self.path) from None

    def runs(
        self,
        experiment: str | None = None,
        where: Mapping[str, Any] | None = None,
        status: str | None = None,
        **params,
    ) -> RunTable:
        """Runs as a :class:`RunTable`, filtered.

        Parameters
        ----------
        experiment : str, optional
        where : dict, optional
            ``parameter -> value`` (numbers compare to 1e-12 relative), a list
            of accepted values, or a predicate. Keys may also be ``run_id``,
            ``status``, ``seed``. Runs lacking a parameter are excluded; a key
            that no run has raises ``ValueError`` listing the known keys.
        status : str, optional
            ``"complete"``, ``"failed"`` or ``"damaged"``.
        **params
            Same as ``where`` (``runs(M=10)``).
        """
        conditions = dict(where or {})
        conditions.update(params)
        return RunTable(select(self._all_infos().values(), experiment, conditions, status))

    def info(self, run_id: str) -> RunInfo:
        """Attributes of one run (``run_id`` may be a unique prefix); a damaged run raises :class:`DamagedRunError`."""
        return read_info(self._group(run_id), cache=self._shared_reads)

    def load(self, run_id: str) -> ExperimentResult:
        """The arrays, coordinates, scalars and attrs of one complete run (checksums verified)."""
        group = self._group(run_id)
        info = read_info(group, cache=self._shared_reads)
        if info.status != STATUS_COMPLETE:
            raise ArchiveError(
                f"run {info.run_id} has status {info.status!r} ({info.error}); it holds no result"
            )
        return read_result(group, cache=self._shared_reads)

    def run_schema(self, run_id: str) -> int:
        """The schema a run was written with (1, 2 or 3; 0 if its attributes cannot be read)."""
        try:
            return run_schema(self._group(run_id))
        except Exception:  # noqa: BLE001 - a damaged run: verify() says what is wrong
            return 0

    def attributes(self, run_id: str) -> dict:
        """Every HDF5 attribute of the run group (schema 6: and of its shared ``metadata`` group:
        ``provenance_json``, ``attrs_json``, ``layout_json``), decoded."""
        group = self._group(run_id)
        try:
            out = {k: _text(v) for k, v in group.attrs.items()}
            if "layout_json" not in out and METADATA_GROUP in group:
                out.update({k: _text(v) for k, v in group[METADATA_GROUP].attrs.items() if k != "kind"})
            return out
        except Exception as exc:  # noqa: BLE001
            raise DamagedRunError(group.name.rsplit("/", 1)[-1],
                                  f"its attributes cannot be read ({type(exc).__name__}: {exc})", self.path) from None

    def collect(
        self,
        scalar: str,
        *,
        experiment: str | None = None,
        by: Iterable[str] | None = None,
        where: Mapping[str, Any] | None = None,
        skip_damaged: bool = False,
    ) -> ScalarSummary:
        """Collect scalar summary ``scalar`` over complete runs, on the grid of ``by`` parameters.

        ``by`` defaults to the parameters that vary among the selected runs.
        Runs that differ only in their seed are repetitions and are averaged.
        Parameters varied together with ``by`` (zipped axes) are allowed.
        Raises ``ValueError`` if the selection mixes experiments or varies
        another parameter independently of ``by``, and
        :class:`DamagedRunError` if a run that could belong to the selection
        is damaged (unless ``skip_damaged``).
        """
        infos = list(self._all_infos().values())
        if not skip_damaged:
            for info in infos:
                if info.status == STATUS_DAMAGED and (experiment is None or info.experiment in (experiment, "?")):
                    raise DamagedRunError(info.run_id, info.error + "; pass skip_damaged=True to leave it out",
                                          self.path)
        rows = select(infos, experiment, where, STATUS_COMPLETE)
        label = (f" of {experiment!r}" if experiment else "") + f" in {self.path}"
        return collect_scalar(rows, scalar, by, label=label)

    def verify(self, run_ids: Iterable[str] | None = None,
               progress: Callable[[float, float], None] | None = None) -> dict[str, str]:
        """Read every run (or ``run_ids``) completely and check its checksums.

        Returns ``run_id -> ""`` for a sound run, or what is wrong with it.
        """
        ids = list(self._all_infos()) if run_ids is None else list(run_ids)
        out = {}
        for k, run_id in enumerate(ids):
            info = self._all_infos().get(run_id)
            if info is not None and info.status == STATUS_DAMAGED:
                out[run_id] = info.error
            else:
                try:
                    out[run_id] = verify_run(self._group(run_id), self._shared_reads)
                except DamagedRunError as exc:
                    out[run_id] = exc.reason
            if progress is not None:
                progress(k + 1, len(ids))
        return out

    def to_xarray(self, run_id: str):
        """``xarray.open_dataset(path, engine="h5netcdf", group="runs/<run_id>")`` (needs xarray + h5netcdf)."""
        import xarray as xr

        group = self._group(run_id)
        return xr.open_dataset(self.path, engine="h5netcdf", group=group.name.lstrip("/"))


def _text(value):
    if isinstance(value, bytes):
        return value.decode()
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


def open_archive(path) -> Archive:
    """Open a statmech HDF5 archive read-only.

    Raises :class:`NotAnArchiveError` for a missing file, a non-HDF5 file or an
    HDF5 file statmech did not write; :class:`ArchiveSchemaError` for an
    archive written by a newer statmech; :class:`ArchiveBusyError` when a
    foreign program holds the file open for writing. Works while a statmech
    scan is writing the same archive (it sees the runs published so far).
    """
    return Archive(path)
