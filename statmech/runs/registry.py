"""Experiments: typed parameters, labelled results, and the registry that finds them.

An *experiment* is a plain function of keyword parameters and a ``seed`` that
returns an :class:`ExperimentResult`: named arrays with named dimensions
(and coordinates), plus scalar summaries. It is declared with
:func:`experiment`, which attaches an :class:`ExperimentSpec` (name, one-line
description, typed parameters with defaults and units, an optional plot
function and an optional warm-up point).

``statmech`` never imports :mod:`hopfield` or :mod:`diffusion`. Experiments
are found, by name, in three places (later ones win on a name clash):

1. the ``statmech.experiments`` entry-point group declared in
   ``pyproject.toml`` (``name = "package.module:function"``), so other
   packages can add their own;
2. the ``STATMECH_EXPERIMENTS`` environment variable,
   ``"name=module:function,name2=module2:function2"``, for plugins that are
   not installed packages (it is inherited by worker processes);
3. :func:`register`, for code that defines an experiment at run time (tests,
   notebooks).

Nothing is imported until an experiment is asked for by name; an entry that
cannot be imported yet (say ``diffusion`` is not installed) is still listed,
and :func:`get_experiment` says why it cannot be loaded.

The seed
--------
The experiment function receives ``seed`` as a :class:`numpy.random.SeedSequence`
(``statmech run --seed 5`` passes ``SeedSequence(5)``; a scan passes
``SeedSequence(scan_seed, spawn_key=...)`` derived from the point, see
:mod:`statmech.runs.scanfile`). ``np.random.default_rng(seed)`` and
``statmech._validation.as_generator(seed)`` accept it unchanged, and
``default_rng(SeedSequence(5))`` draws the same numbers as ``default_rng(5)``.

The plot function
-----------------
``plot(result, fig)`` draws an :class:`ExperimentResult` into the
:class:`matplotlib.figure.Figure` ``fig`` (adding its own axes/subplots) and
may return the figure. It must not call ``pyplot.show``; the command line
saves the figure.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import keyword
import math
import os
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Mapping

import numpy as np

from statmech._validation import as_seed_sequence
from statmech.runs.provenance import PROVENANCE_KEYS
from statmech.runs.progress import ProgressCallback
from statmech.runs.quantities import Quantity, Summary, check_declarations, describe
from statmech.runs.resources import Resources, check_point_memory
from statmech.runs.result import ExperimentResult
from statmech.runs.threads import single_threaded_blas

ENTRY_POINT_GROUP = "statmech.experiments"

#: Environment variable with extra ``name=module:function`` registrations.
ENV_VARIABLE = "STATMECH_EXPERIMENTS"

_PARAM_TYPES = (int, float, str, bool)

#: Figure size (inches) of ``statmech run/plot --plot`` unless an experiment asks for another.
DEFAULT_FIGSIZE = (7.0, 4.5)

#: Names a parameter cannot take: they are attributes of every archived run.
RESERVED_NAMES = frozenset(
    {
        "experiment",
        "params_json",
        "seed",
        "seed_entropy",
        "seed_spawn_key",
        "status",
        "error",
        "started",
        "finished",
        "run_id",
        "scalars_json",
        "nonfloat_scalars_json",
        "attrs_json",
        "provenance_json",
        "schema_version",
        "format",
        "description",
        "layout_json",
        "checksum_meta",
        "checksum_data",
    }
    | set(PROVENANCE_KEYS)
)

#: Prefixes a parameter name cannot start with (``scalar_<name>`` holds a scalar summary).
RESERVED_PREFIXES = ("_", "meta_", "scalar_")


class RegistryError(Exception):
    """Base class of registry errors (the command line prints them without traceback)."""


class UnknownExperimentError(RegistryError, ValueError):
    """No experiment is registered under this name."""


class ExperimentLoadError(RegistryError, ImportError):
    """An experiment is registered but its module or function cannot be loaded."""


@dataclass(frozen=True)
class Parameter:
    """One typed experiment parameter.

    Parameters
    ----------
    name : str
        A Python identifier, not starting with ``_`` and not one of
        :data:`RESERVED_NAMES` (it becomes an HDF5 attribute of the run).
    type : {int, float, str, bool}
    default : value of ``type``
    unit : str
        Physical unit or convention ("" if dimensionless), e.g. ``"OU time"``.
    help : str
        One line.
    choices : tuple, optional
        Allowed values (for strings).
    """

    name: str
    type: type
    default: Any
    unit: str = ""
    help: str = ""
    choices: tuple = ()

    def __post_init__(self):
        if (
            not isinstance(self.name, str)
            or not self.name.isidentifier()
            or keyword.iskeyword(self.name)
        ):
            raise ValueError(f"Parameter name must be a Python identifier, got {self.name!r}")
        if self.name.startswith(RESERVED_PREFIXES) or self.name in RESERVED_NAMES:
            raise ValueError(
                f"Parameter name {self.name!r} is reserved (names starting with "
                f"{' or '.join(repr(p) for p in RESERVED_PREFIXES)} and {sorted(RESERVED_NAMES)} "
                "are run attributes)"
            )
        if self.type not in _PARAM_TYPES:
            raise TypeError(
                f"Parameter {self.name!r}: type must be one of int, float, str, bool, got {self.type}"
            )
        object.__setattr__(self, "choices", tuple(self.choices))
        # The default must itself be a valid value.
        object.__setattr__(self, "default", self.coerce(self.default))

    def coerce(self, value):
        """Convert ``value`` (possibly a command-line string) to this parameter's type, or raise.

        Strings are parsed (``"3"`` -> 3 for an int, ``"yes"`` -> True for a
        bool); an integral float is accepted for an int (``2.0`` -> 2, but not
        ``2.5``); an int is accepted for a float; NaN and infinities are refused.
        Raises ``ValueError`` (bad value) or ``TypeError`` (wrong kind) naming
        the parameter.
        """
        kind = self.type
        if isinstance(value, str) and kind is not str:
            text = value.strip()
            try:
                if kind is bool:
                    lowered = text.lower()
                    if lowered in ("1", "true", "yes", "on"):
                        value = True
                    elif lowered in ("0", "false", "no", "off"):
                        value = False
                    else:
                        raise ValueError
                elif kind is int:
                    value = int(text)
                else:
                    value = float(text)
            except ValueError:
                raise ValueError(
                    f"parameter {self.name!r} expects {kind.__name__}, got {value!r}"
                ) from None
        if isinstance(value, np.generic):
            value = value.item()
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if (
            kind is bool
            and isinstance(value, int)
            and not isinstance(value, bool)
            and value in (0, 1)
        ):
            value = bool(value)
        if kind is bool:
            ok = isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind is float:
            ok = isinstance(value, float)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise TypeError(
                f"parameter {self.name!r} expects {kind.__name__}, got {value!r} ({type(value).__name__})"
            )
        if kind is float and not math.isfinite(value):
            raise ValueError(f"parameter {self.name!r} must be a finite number, got {value!r}")
        if self.choices and value not in self.choices:
            raise ValueError(
                f"parameter {self.name!r} must be one of {list(self.choices)}, got {value!r}"
            )
        return value

    def describe(self) -> str:
        """One line: ``name (type, default, unit): help``."""
        unit = f", {self.unit}" if self.unit else ""
        choices = f", one of {list(self.choices)}" if self.choices else ""
        return f"{self.name} ({self.type.__name__}, default {self.default!r}{unit}{choices}): {self.help}"


@dataclass(frozen=True)
class ExperimentSpec:
    """What the registry knows about an experiment.

    Attributes
    ----------
    name : str
        Registry name (``rem``, ``curie-weiss``...).
    func : callable
        ``func(*, seed, **params) -> ExperimentResult``.
    description : str
        One line.
    parameters : tuple of Parameter
    plot : callable, optional
        ``plot(result, fig)`` drawing into a matplotlib Figure.
    warmup : dict, optional
        Parameter overrides for a tiny run that compiles the experiment's
        Numba kernels; scans run it once in the parent process before
        fanning out, so workers load compiled code from the cache.
    source : str
        ``"module:function"`` the worker processes import it from ("" when
        defined where no other process can import it).
    report : callable, optional
        ``report(result) -> str``: a short text table of the run's headline
        numbers next to theory, printed by ``statmech run`` and ``statmech scan``.
    figsize : (float, float)
        Size in inches of the figure ``statmech run/plot --plot`` draws into
        (multi-panel plots ask for more room than the default).
    resources : callable, optional
        ``resources(**params) -> Resources``: peak memory and rough time of a
        run, estimated from its resolved parameters before it starts (see
        :mod:`statmech.runs.resources`).
    variables : dict
        ``name -> Quantity``: label, symbol and unit of each array and
        coordinate (names may be templates; see :mod:`statmech.runs.quantities`).
    summaries : dict
        ``name -> Summary``: label, symbol, unit, theory and error of each
        scalar summary.
    """

    name: str
    func: Callable[..., ExperimentResult]
    description: str
    parameters: tuple[Parameter, ...]
    plot: Callable[..., Any] | None = None
    warmup: Mapping[str, Any] | None = None
    source: str = ""
    report: Callable[[ExperimentResult], str] | None = None
    figsize: tuple[float, float] = DEFAULT_FIGSIZE
    resources: Callable[..., Resources] | None = None
    variables: Mapping[str, Quantity] = dataclasses.field(default_factory=dict)
    summaries: Mapping[str, Summary] = dataclasses.field(default_factory=dict)

    def quantity(self, name: str, *, fallback: bool = True) -> Quantity | None:
        """What output ``name`` is: declared, derived from a declared name, or (``fallback``) its name."""
        return describe(name, {**self.variables, **self.summaries}, fallback=fallback)

    def summary(self, name: str) -> Summary:
        """The declared :class:`Summary` of scalar ``name`` (a theory-less one from :meth:`quantity` if undeclared)."""
        found = describe(name, self.summaries, fallback=False)
        if isinstance(found, Summary):
            return found
        q = self.quantity(name)
        return Summary(q.label, q.symbol, q.unit)

    def label(self, result: ExperimentResult) -> ExperimentResult:
        """``result`` with a label (:class:`Quantity`) for every array, coordinate and scalar.

        Labels the result already carries are kept; the others come from the
        declarations (:meth:`quantity`).
        """
        names = [*result.arrays, *result.coords, *result.scalars]
        labels = {}
        for name in names:
            q = result.labels.get(name) or self.quantity(name)
            labels[name] = Quantity(q.label, q.symbol, q.unit)  # a Summary's theory stays in the spec
        return dataclasses.replace(result, labels=labels)

    @property
    def accepts_progress(self) -> bool:
        """Whether the function takes a ``progress(done, total)`` keyword."""
        return _accepts_keyword(self.func, "progress")

    def parameter(self, name: str) -> Parameter:
        """The :class:`Parameter` called ``name``, or ``ValueError`` listing the known ones."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise ValueError(
            f"experiment {self.name!r} has no parameter {name!r}; known: {', '.join(p.name for p in self.parameters)}"
        )

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.parameters}

    def resolve(self, params: Mapping[str, Any] | None = None) -> dict:
        """Defaults overridden by ``params``, each coerced to its type; unknown names raise."""
        out = self.defaults()
        for key, value in (params or {}).items():
            out[key] = self.parameter(key).coerce(value)
        return out

    def estimate(self, params: Mapping[str, Any] | None = None) -> Resources | None:
        """The :class:`Resources` of a run with ``params``, or ``None`` if the experiment declares none.

        Bad parameter values raise here (``ValueError``/``TypeError``), before
        anything is allocated.
        """
        resolved = self.resolve(params)
        if self.resources is None:
            return None
        estimate = self.resources(**resolved)
        if not isinstance(estimate, Resources):
            raise TypeError(
                f"experiment {self.name!r}: resources() returned {type(estimate).__name__}, not Resources"
            )
        return estimate

    def check_resources(self, params: Mapping[str, Any] | None = None, *, memory_limit=None) -> Resources | None:
        """Estimate a run and refuse it (``InsufficientMemoryError``) if it cannot fit in memory."""
        resolved = self.resolve(params)
        estimate = self.estimate(resolved)
        if estimate is not None:
            check_point_memory(self.name, resolved, estimate, memory_limit=memory_limit)
        return estimate

    def run(self, params: Mapping[str, Any] | None = None, seed=0, *,
            progress: ProgressCallback | None = None, check_memory: bool = True) -> ExperimentResult:
        """Run with ``params`` (defaults for the rest) and ``seed`` (int >= 0 or SeedSequence).

        The memory estimate is checked first (``check_memory``), and the run
        executes under the run system's thread policy
        (:mod:`statmech.runs.threads`: BLAS on one thread). ``progress(done,
        total)`` is passed on to experiments that report progress.
        """
        resolved = self.resolve(params)
        seed = _as_seed_sequence(seed)
        if check_memory:
            self.check_resources(resolved)
        extra = {"progress": progress} if progress is not None and self.accepts_progress else {}
        with single_threaded_blas():
            result = self.func(seed=seed, **resolved, **extra)
        if not isinstance(result, ExperimentResult):
            raise TypeError(
                f"experiment {self.name!r} returned {type(result).__name__}, not ExperimentResult"
            )
        return self.label(result)


def _accepts_keyword(func, name: str) -> bool:
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _as_seed_sequence(seed) -> np.random.SeedSequence:
    """A run's seed: an int >= 0 or a SeedSequence; ``None`` is refused (a run is reproducible)."""
    if seed is None:
        raise TypeError("seed must be a non-negative integer or a SeedSequence, got None "
                        "(a run records its seed, so it cannot draw fresh entropy)")
    return as_seed_sequence(seed)


def _dotted_path(func) -> str:
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", "")
    if not module or module == "__main__" or "<" in qualname:
        return ""
    return f"{module}:{qualname}"


def _check_figsize(figsize, name):
    """``(width, height)`` in inches, both finite and > 0, or ``ValueError``."""
    try:
        width, height = (float(v) for v in figsize)
    except (TypeError, ValueError):
        raise ValueError(f"experiment {name!r}: figsize must be (width, height) in inches, "
                         f"got {figsize!r}") from None
    if not (0 < width < math.inf and 0 < height < math.inf):
        raise ValueError(f"experiment {name!r}: figsize must be two positive numbers, "
                         f"got {figsize!r}")
    return (width, height)


def experiment(name: str, description: str, parameters, plot=None, warmup=None, report=None,
               figsize=DEFAULT_FIGSIZE, resources=None, variables=None, summaries=None):
    """Decorator declaring ``func(*, seed, **params) -> ExperimentResult`` as an experiment.

    Parameters
    ----------
    name : str
        Default registry name (the entry-point name wins if different).
    description : str
        One line shown by ``statmech experiments``.
    parameters : iterable of Parameter
    plot : callable, optional
        ``plot(result, fig)``, see the module docstring.
    warmup : dict, optional
        Parameter overrides for a tiny compile-only run (see
        :class:`ExperimentSpec`).
    report : callable, optional
        ``report(result) -> str``, headline numbers next to theory.
    figsize : (float, float)
        Figure size in inches for the CLI's ``--plot`` (default 7 x 4.5).
    resources : callable, optional
        ``resources(**params) -> Resources``, the estimate the run system
        checks before a run starts (see :mod:`statmech.runs.resources`).
        Every experiment that allocates more than a few MB should have one.
    variables : dict, optional
        ``name -> Quantity`` (label, symbol, unit) of its arrays and coordinates.
    summaries : dict, optional
        ``name -> Summary`` (label, symbol, unit, theory, error) of its scalar
        summaries. Both go with every result into the archive (CF
        ``long_name``/``units``) and label ``statmech plot``; names may be
        templates (:mod:`statmech.runs.quantities`).

    The spec is attached as ``func.spec``; registration happens through the
    ``statmech.experiments`` entry points (or :func:`register`), which point
    at the decorated function.
    """
    parameters = tuple(parameters)
    for p in parameters:
        if not isinstance(p, Parameter):
            raise TypeError(f"experiment {name!r}: parameters must be Parameter objects, got {p!r}")
    seen = [p.name for p in parameters]
    if len(set(seen)) != len(seen):
        raise ValueError(f"experiment {name!r} declares a parameter twice: {seen}")
    figsize = _check_figsize(figsize, name)
    if resources is not None and not callable(resources):
        raise TypeError(f"experiment {name!r}: resources must be callable, got {resources!r}")
    variables, summaries = check_declarations(f"experiment {name!r}", variables, summaries)

    def wrap(func):
        spec = ExperimentSpec(
            name=name,
            func=func,
            description=description,
            parameters=parameters,
            plot=plot,
            warmup=dict(warmup) if warmup else None,
            source=_dotted_path(func),
            report=report,
            figsize=figsize,
            resources=resources,
            variables=variables,
            summaries=summaries,
        )
        if warmup:
            spec.resolve(warmup)  # a typo in the warm-up point fails at import, not mid-scan
        func.spec = spec
        return func

    return wrap


# -- the registry ------------------------------------------------------------

_REGISTERED: dict[str, ExperimentSpec] = {}


def register(func_or_spec, name: str | None = None, *, replace: bool = False) -> ExperimentSpec:
    """Register an experiment at run time (tests, notebooks, plugins).

    Parameters
    ----------
    func_or_spec : function decorated with :func:`experiment`, or ExperimentSpec
    name : str, optional
        Registry name; defaults to the spec's name.
    replace : bool
        Allow replacing an experiment already registered with :func:`register`.

    Returns
    -------
    ExperimentSpec
        The registered spec. Processes other than this one (scan workers)
        find it only if its function lives in an importable module.
    """
    spec = (
        func_or_spec
        if isinstance(func_or_spec, ExperimentSpec)
        else getattr(func_or_spec, "spec", None)
    )
    if not isinstance(spec, ExperimentSpec):
        raise TypeError(
            f"register() expects a function decorated with statmech.registry.experiment, got {func_or_spec!r}"
        )
    name = name or spec.name
    if name in _REGISTERED and not replace:
        raise ValueError(
            f"experiment {name!r} is already registered; pass replace=True to replace it"
        )
    spec = dataclasses.replace(spec, name=name)
    _REGISTERED[name] = spec
    return spec


def unregister(name: str) -> None:
    """Forget an experiment registered with :func:`register` (no error if absent)."""
    _REGISTERED.pop(name, None)


def _env_entries() -> dict[str, str]:
    text = os.environ.get(ENV_VARIABLE, "").strip()
    out = {}
    if not text:
        return out
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, path = item.partition("=")
        if not sep or ":" not in path:
            raise RegistryError(
                f"{ENV_VARIABLE}: entries look like name=module:function, got {item!r}"
            )
        out[name.strip()] = path.strip()
    return out


def available_experiments() -> dict[str, str]:
    """``name -> "module:function"`` for every registered experiment (nothing imported).

    Experiments registered with :func:`register` in a non-importable place
    show as ``"<registered in this process>"``.
    """
    found = {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    found.update(_env_entries())
    for name, spec in _REGISTERED.items():
        found[name] = spec.source or "<registered in this process>"
    return dict(sorted(found.items()))


def load_experiment(path: str, name: str | None = None) -> ExperimentSpec:
    """Import ``"module:function"`` and return its spec (named ``name`` if given).

    Raises :class:`ExperimentLoadError` saying what failed.
    """
    label = f"experiment {name!r} ({path})" if name else f"experiment {path}"
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ExperimentLoadError(f"{label}: expected 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure is reported, not raised raw
        raise ExperimentLoadError(
            f"{label} is registered but cannot be loaded: importing {module_name!r} failed with "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    obj = module
    try:
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError:
        raise ExperimentLoadError(
            f"{label} is registered but cannot be loaded: module {module_name!r} has no {attr!r}"
        ) from None
    spec = obj if isinstance(obj, ExperimentSpec) else getattr(obj, "spec", None)
    if not isinstance(spec, ExperimentSpec):
        raise ExperimentLoadError(f"{label} is not decorated with statmech.registry.experiment")
    return dataclasses.replace(spec, name=name or spec.name, source=path)


def get_experiment(name: str) -> ExperimentSpec:
    """Load the experiment registered as ``name``.

    Raises
    ------
    UnknownExperimentError
        (a ``ValueError``) listing the known names.
    ExperimentLoadError
        (an ``ImportError``) when the experiment is registered but its module
        cannot be imported yet, saying which module and why.
    """
    if name in _REGISTERED:
        return _REGISTERED[name]
    known = available_experiments()
    if name not in known:
        raise UnknownExperimentError(
            f"unknown experiment {name!r}; known experiments: {', '.join(known) or 'none'}"
        )
    return load_experiment(known[name], name)


def describe_experiments() -> list[tuple[str, str, ExperimentSpec | None, str]]:
    """``(name, path, spec or None, error message or "")`` for every registered experiment."""
    rows = []
    for name, path in available_experiments().items():
        try:
            rows.append((name, path, get_experiment(name), ""))
        except RegistryError as exc:
            rows.append((name, path, None, str(exc)))
    return rows


__all__ = [
    "DEFAULT_FIGSIZE",
    "ENTRY_POINT_GROUP",
    "ENV_VARIABLE",
    "RESERVED_NAMES",
    "RESERVED_PREFIXES",
    "Parameter",
    "Quantity",
    "Summary",
    "ExperimentResult",
    "ExperimentSpec",
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
