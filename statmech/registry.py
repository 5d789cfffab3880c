"""Moved to :mod:`statmech.runs.registry` (and :mod:`statmech.runs.result`); this module keeps the old import path working.

``from statmech.registry import experiment, Parameter, ExperimentResult`` is
how experiment modules declare themselves, and it keeps working.
"""

from statmech.runs.registry import (
    DEFAULT_FIGSIZE,
    ENTRY_POINT_GROUP,
    ENV_VARIABLE,
    RESERVED_NAMES,
    ExperimentLoadError,
    ExperimentSpec,
    Parameter,
    RegistryError,
    UnknownExperimentError,
    available_experiments,
    describe_experiments,
    experiment,
    get_experiment,
    load_experiment,
    register,
    unregister,
)
from statmech.runs.resources import Resources
from statmech.runs.result import ExperimentResult

__all__ = [
    "DEFAULT_FIGSIZE",
    "ENTRY_POINT_GROUP",
    "ENV_VARIABLE",
    "RESERVED_NAMES",
    "Parameter",
    "ExperimentResult",
    "ExperimentSpec",
    "Resources",
    "RegistryError",
    "UnknownExperimentError",
    "ExperimentLoadError",
    "experiment",
    "register",
    "unregister",
    "load_experiment",
    "available_experiments",
    "get_experiment",
    "describe_experiments",
]
