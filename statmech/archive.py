"""Moved to :mod:`statmech.runs` (schema, reader, writer, summaries); this module keeps the old import path working.

- layout and codec: :mod:`statmech.runs.schema`;
- reading, tables and summaries: :mod:`statmech.runs.reader`, :mod:`statmech.runs.summaries`;
- the crash-safe writer: :mod:`statmech.runs.writer` (and its log, :mod:`statmech.runs.staging`);
- errors: :mod:`statmech.runs.errors`.
"""

from statmech.runs.errors import (
    ArchiveBusyError,
    ArchiveError,
    ArchiveSchemaError,
    DamagedRunError,
    DiskFullError,
    NotAnArchiveError,
    is_disk_full,
)
from statmech.runs.reader import Archive, open_archive
from statmech.runs.schema import (
    FORMAT,
    SCHEMA_VERSION,
    STATUS_COMPLETE,
    STATUS_DAMAGED,
    STATUS_FAILED,
    RunInfo,
    RunRecord,
    canonical_params,
    make_run_id,
    read_info,
    read_record,
    read_result,
    write_run,
)
from statmech.runs.summaries import RunTable, ScalarSummary
from statmech.runs.writer import ArchiveWriter

__all__ = [
    "FORMAT",
    "SCHEMA_VERSION",
    "STATUS_COMPLETE",
    "STATUS_FAILED",
    "STATUS_DAMAGED",
    "ArchiveError",
    "NotAnArchiveError",
    "ArchiveSchemaError",
    "ArchiveBusyError",
    "DiskFullError",
    "DamagedRunError",
    "is_disk_full",
    "canonical_params",
    "make_run_id",
    "RunRecord",
    "RunInfo",
    "RunTable",
    "ScalarSummary",
    "Archive",
    "ArchiveWriter",
    "open_archive",
    "write_run",
    "read_info",
    "read_result",
    "read_record",
]
