"""statmech: shared Numba kernels for the statistical mechanics of diffusion and memory.

Layers
------
- :mod:`statmech.lse`        log-sum-exp and softmax over an axis, ``log cosh``;
- :mod:`statmech.gibbs`      Gibbs averages over patterns with energies linear in the state:
  the one Gibbs pass (``gibbs_pass`` on a ``GibbsWorkspace``);
- :mod:`statmech.rem`        random energy model: the streaming engine (sampled, quenched);
- :mod:`statmech.rem_theory` its theory: Derrida's closed forms, exact finite-N ``E[Y]``,
  ``E[Y^2]``, the general solver (also importable from :mod:`statmech.rem`);
- :mod:`statmech.langevin`   SDE / probability-flow integrators and their method table;
- :mod:`statmech.meanfield`  self-consistency solvers, branches, susceptibility, exponents;
- :mod:`statmech.runs`       the run system: experiments, scans, the HDF5 archive and the
  command line (``statmech.registry``, ``statmech.archive``, ``statmech.scan`` and
  ``statmech.cli`` remain as aliases of its modules).

``statmech`` never imports :mod:`hopfield` or :mod:`diffusion`. Names below
are imported lazily on first use, so ``import statmech`` (and every CLI call)
does not pay for compiling Numba until a kernel is needed.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Run-system names resolve through statmech.runs (itself lazy), which says where each lives.
_EXPORTS = {
    "logsumexp": "statmech.lse",
    "softmax": "statmech.lse",
    "log_cosh": "statmech.lse",
    "GibbsAverage": "statmech.gibbs",
    "GibbsAccumulator": "statmech.gibbs",
    "GibbsWorkspace": "statmech.gibbs",
    "gibbs_average": "statmech.gibbs",
    "gibbs_workspace": "statmech.gibbs",
    "gibbs_pass": "statmech.gibbs",
    "REMResult": "statmech.rem",
    "sampled_rem": "statmech.rem",
    "quenched_rem": "statmech.rem",
    "rem_levels": "statmech.rem",
    "GeneralREM": "statmech.rem_theory",
    "ParticipationMoments": "statmech.rem_theory",
    "rem_critical_beta": "statmech.rem_theory",
    "rem_log_partition": "statmech.rem_theory",
    "rem_free_energy": "statmech.rem_theory",
    "rem_mean_participation": "statmech.rem_theory",
    "rem_participation_moments": "statmech.rem_theory",
    "integrate": "statmech.langevin",
    "LangevinResult": "statmech.langevin",
    "METHOD_TABLE": "statmech.langevin",
    "solve": "statmech.meanfield",
    "susceptibility": "statmech.meanfield",
    "follow_branches": "statmech.meanfield",
    "critical_exponents": "statmech.meanfield",
    "branch_exponents": "statmech.meanfield",
    "curie_weiss": "statmech.meanfield",
    "open_archive": "statmech.runs",
    "Archive": "statmech.runs",
    "ArchiveError": "statmech.runs",
    "DamagedRunError": "statmech.runs",
    "RunTable": "statmech.runs",
    "ScalarSummary": "statmech.runs",
    "experiment": "statmech.runs",
    "Parameter": "statmech.runs",
    "ExperimentResult": "statmech.runs",
    "Resources": "statmech.runs",
    "get_experiment": "statmech.runs",
    "available_experiments": "statmech.runs",
    "load_scan": "statmech.runs",
    "run_scan": "statmech.runs",
    "run_point": "statmech.runs",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'statmech' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
