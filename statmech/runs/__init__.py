"""The run system: experiments, runs, scans, the HDF5 archive and the command line.

One module per job:

- :mod:`~statmech.runs.result`     the labelled result of a run (:class:`ExperimentResult`);
- :mod:`~statmech.runs.quantities` labels, symbols, units and theories of an experiment's outputs;
- :mod:`~statmech.runs.registry`   typed parameters, the ``@experiment`` decorator, the registry;
- :mod:`~statmech.runs.resources`  an experiment's memory/time estimate, checked before it runs;
- :mod:`~statmech.runs.provenance` versions, host and commit recorded with every run;
- :mod:`~statmech.runs.schema`     the archive's layout and codec (run <-> HDF5 group);
- :mod:`~statmech.runs.shared`     what runs share, stored once per archive and hard-linked into runs;
- :mod:`~statmech.runs.checksums`  the runs' checksums and the content keys of shared objects;
- :mod:`~statmech.runs.hdf5_encoding` the HDF5 writes (objects made once, storage rules);
- :mod:`~statmech.runs.hdf5_links` compact link storage of run groups (HDF5 settings h5py lacks);
- :mod:`~statmech.runs.errors`     the archive's errors;
- :mod:`~statmech.runs.reader`     :func:`open_archive`, the read-only :class:`Archive`;
- :mod:`~statmech.runs.summaries`  run tables, scalar summaries across runs, their figure;
- :mod:`~statmech.runs.staging`    the log finished runs are appended to first;
- :mod:`~statmech.runs.writer`     the single crash-safe writer (atomic publishing);
- :mod:`~statmech.runs.scanfile`   the TOML scan-file language;
- :mod:`~statmech.runs.executors`  where points run: this process, a process pool, dask;
- :mod:`~statmech.runs.scanner`    :func:`run_scan` and :func:`run_point`;
- :mod:`~statmech.runs.lifetime`   workers that die with their scan; clean stop on signals;
- :mod:`~statmech.runs.threads`    the threading policy (BLAS on one thread in every run);
- :mod:`~statmech.runs.progress`   progress bars and log lines, fed by experiments and executors;
- :mod:`~statmech.runs.params`     helpers experiments use on list parameters and seeds;
- :mod:`~statmech.runs.cli`        the ``statmech`` command; :mod:`~statmech.runs.demo` its demo.

The old paths (``statmech.registry``, ``statmech.archive``, ``statmech.scan``,
``statmech.cli``, ``statmech.provenance``, ``statmech.demo``) re-export these
names. Names below are imported lazily on first use.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ExperimentResult": "statmech.runs.result",
    "experiment": "statmech.runs.registry",
    "Parameter": "statmech.runs.registry",
    "Quantity": "statmech.runs.quantities",
    "Summary": "statmech.runs.quantities",
    "ExperimentSpec": "statmech.runs.registry",
    "get_experiment": "statmech.runs.registry",
    "available_experiments": "statmech.runs.registry",
    "register": "statmech.runs.registry",
    "Resources": "statmech.runs.resources",
    "open_archive": "statmech.runs.reader",
    "Archive": "statmech.runs.reader",
    "ArchiveError": "statmech.runs.errors",
    "DamagedRunError": "statmech.runs.errors",
    "RunTable": "statmech.runs.summaries",
    "ScalarSummary": "statmech.runs.summaries",
    "ArchiveWriter": "statmech.runs.writer",
    "load_scan": "statmech.runs.scanfile",
    "parse_scan": "statmech.runs.scanfile",
    "run_scan": "statmech.runs.scanner",
    "run_point": "statmech.runs.scanner",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'statmech.runs' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
