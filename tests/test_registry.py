"""The experiment registry: typed parameters, results, entry points and run-time registration."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from statmech import registry
from statmech.registry import (
    ExperimentLoadError,
    ExperimentResult,
    Parameter,
    RegistryError,
    UnknownExperimentError,
    available_experiments,
    experiment,
    get_experiment,
    load_experiment,
    register,
    unregister,
)

import _toy

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


# -- Parameter ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, given, expected",
    [
        (int, "12", 12),
        (int, 3.0, 3),
        (int, np.int32(4), 4),
        (float, "0.25", 0.25),
        (float, 2, 2.0),
        (float, np.float32(0.5), 0.5),
        (bool, "yes", True),
        (bool, "0", False),
        (bool, 1, True),
        (str, "b", "b"),
    ],
)
def test_parameter_coerces_command_line_and_numeric_values(kind, given, expected):
    p = Parameter("x", kind, expected)
    got = p.coerce(given)
    assert got == expected and type(got) is kind


@pytest.mark.parametrize(
    "kind, given, exc, fragment",
    [
        (int, "1.5", ValueError, "expects int"),
        (int, 2.5, TypeError, "expects int"),
        (int, True, TypeError, "expects int"),
        (float, "abc", ValueError, "expects float"),
        (float, "nan", ValueError, "finite"),
        (float, math.inf, ValueError, "finite"),
        (float, 1 + 2j, TypeError, "expects float"),
        (bool, "maybe", ValueError, "expects bool"),
        (bool, 2, TypeError, "expects bool"),
        (str, 3, TypeError, "expects str"),
    ],
)
def test_parameter_refuses_wrong_values_naming_the_parameter(kind, given, exc, fragment):
    p = Parameter("alpha", kind, {int: 1, float: 1.0, bool: False, str: "s"}[kind])
    with pytest.raises(exc, match=fragment) as info:
        p.coerce(given)
    assert "'alpha'" in str(info.value)


def test_parameter_choices_and_definition_checks():
    p = Parameter("mode", str, "a", choices=("a", "b"))
    assert p.coerce("b") == "b"
    with pytest.raises(ValueError, match=r"one of \['a', 'b'\]"):
        p.coerce("c")
    with pytest.raises(ValueError, match="reserved"):
        Parameter("seed", int, 0)
    with pytest.raises(ValueError, match="reserved"):
        Parameter("host", str, "")
    with pytest.raises(ValueError, match="reserved"):
        Parameter("_hidden", int, 0)
    with pytest.raises(ValueError, match="identifier"):
        Parameter("two words", int, 0)
    with pytest.raises(TypeError, match="type must be"):
        Parameter("x", list, [])
    with pytest.raises(TypeError, match="expects int"):
        Parameter("x", int, 0.5)  # the default must be a valid value
    assert Parameter("x", float, 1).default == 1.0


# -- ExperimentResult ----------------------------------------------------------------------------


def test_result_checks_dims_coords_dtypes_and_names():
    ok = ExperimentResult(arrays={"a": (("i", "j"), np.zeros((2, 3)))}, coords={"j": np.arange(3)})
    assert ok.dims() == {"i": 2, "j": 3}
    with pytest.raises(ValueError, match="2 axes but 1"):
        ExperimentResult(arrays={"a": (("i",), np.zeros((2, 3)))})
    with pytest.raises(ValueError, match="coordinate has length 4"):
        ExperimentResult(arrays={"a": (("i",), np.zeros(3))}, coords={"i": np.arange(4)})
    with pytest.raises(TypeError, match="real numbers"):
        ExperimentResult(arrays={"a": (("i",), np.zeros(3, complex))})
    with pytest.raises(TypeError, match="real numbers"):
        ExperimentResult(arrays={"a": (("i",), np.array([None, 1], dtype=object))})
    with pytest.raises(ValueError, match="used twice"):
        ExperimentResult(arrays={"i": (("i",), np.zeros(3))})
    with pytest.raises(ValueError, match="used twice"):
        ExperimentResult(arrays={"a": (("i",), np.zeros(3))}, scalars={"a": 1.0})
    with pytest.raises(TypeError, match="scalars"):
        ExperimentResult(scalars={"v": [1, 2]})
    with pytest.raises(ValueError, match="repeats"):
        ExperimentResult(arrays={"a": (("i", "i"), np.zeros((2, 2)))})
    with pytest.raises(TypeError, match="tuple"):
        ExperimentResult(arrays={"a": np.zeros(3)})


# -- registry ----------------------------------------------------------------------------------------


def test_every_pyproject_entry_point_is_listed_without_importing_it():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][
        "statmech.experiments"
    ]
    listed = available_experiments()
    for name, path in declared.items():
        assert listed[name] == path
    assert {"rem", "curie-weiss", "speciation", "hopfield-capacity", "retrieval"} <= set(listed)


def test_unknown_experiment_lists_known_names():
    with pytest.raises(
        UnknownExperimentError, match="unknown experiment 'nope'.*curie-weiss"
    ) as info:
        get_experiment("nope")
    assert isinstance(info.value, ValueError)


def test_unloadable_experiment_says_which_module_and_why(monkeypatch):
    monkeypatch.setenv(
        "STATMECH_EXPERIMENTS", "ghost=statmech_no_such_module:exp, half=_toy:missing"
    )
    assert available_experiments()["ghost"] == "statmech_no_such_module:exp"
    with pytest.raises(
        ExperimentLoadError, match="'ghost'.*statmech_no_such_module.*ModuleNotFoundError"
    ):
        get_experiment("ghost")
    with pytest.raises(ExperimentLoadError, match="has no 'missing'"):
        get_experiment("half")


def test_env_registry_is_validated(monkeypatch):
    monkeypatch.setenv("STATMECH_EXPERIMENTS", "justaname")
    with pytest.raises(RegistryError, match="name=module:function"):
        available_experiments()


def test_env_registered_experiment_loads_with_its_dotted_path(monkeypatch):
    monkeypatch.setenv("STATMECH_EXPERIMENTS", _toy.TOY_REGISTRY)
    spec = get_experiment("toy")
    assert spec.name == "toy" and spec.source == "_toy:toy"
    assert [p.name for p in spec.parameters] == ["n", "scale", "delay", "fail", "label", "marker", "steps"]


def test_load_experiment_refuses_undecorated_functions():
    with pytest.raises(ExperimentLoadError, match="not decorated"):
        load_experiment("_toy:toy_env")
    with pytest.raises(ExperimentLoadError, match="module:function"):
        load_experiment("no_colon")


def test_register_unregister_and_replace():
    @experiment("local", "a local experiment", [Parameter("k", int, 2)])
    def local(*, seed, k):
        return ExperimentResult(scalars={"k2": k * k})

    try:
        spec = register(local)
        assert get_experiment("local") is spec
        assert (
            available_experiments()["local"] == "<registered in this process>"
        )  # not importable elsewhere
        with pytest.raises(ValueError, match="already registered"):
            register(local)
        register(local, replace=True)
        register(local, name="other")
        assert get_experiment("other").name == "other"
        assert get_experiment("other").run({"k": 3}).scalars["k2"] == 9
    finally:
        unregister("local")
        unregister("other")
    with pytest.raises(UnknownExperimentError):
        get_experiment("local")
    with pytest.raises(TypeError, match="decorated"):
        register(lambda: None)


def test_decorator_checks_parameters_and_warmup():
    with pytest.raises(ValueError, match="twice"):
        experiment("d", "", [Parameter("a", int, 1), Parameter("a", int, 2)])
    with pytest.raises(TypeError, match="Parameter objects"):
        experiment("d", "", ["a"])
    with pytest.raises(ValueError, match="no parameter 'b'"):
        experiment("d", "", [Parameter("a", int, 1)], warmup={"b": 1})(lambda *, seed, a: None)
    with pytest.raises(ValueError, match=r"figsize must be two positive numbers, got \(0, 3\)"):
        experiment("d", "", [], figsize=(0, 3))
    with pytest.raises(ValueError, match="figsize must be"):
        experiment("d", "", [], figsize="big")


def test_cli_figure_has_the_size_the_experiment_asks_for(tmp_path):
    from statmech.runs import cli

    seen = []

    def plot(result, fig):
        seen.append(tuple(fig.get_size_inches()))
        fig.add_subplot(1, 1, 1).plot([0, 1])

    wide = experiment("w", "", [], plot=plot, figsize=(9, 3))(lambda *, seed: None).spec
    plain = experiment("p", "", [], plot=plot)(lambda *, seed: None).spec
    cli._plot_result(wide, None, tmp_path / "w.png")
    cli._plot_result(plain, None, tmp_path / "p.png")
    assert seen == [(9.0, 3.0), registry.DEFAULT_FIGSIZE]


def test_run_resolves_parameters_and_normalises_the_seed():
    spec = _toy.toy.spec
    a = spec.run({"n": "5"}, seed=3)
    b = spec.run({"n": 5}, seed=np.random.SeedSequence(3))
    np.testing.assert_array_equal(a.arrays["x"][1], b.arrays["x"][1])
    # default_rng(SeedSequence(3)) draws what default_rng(3) draws
    np.testing.assert_array_equal(a.arrays["x"][1], np.random.default_rng(3).standard_normal(5))
    with pytest.raises(ValueError, match="no parameter 'm'"):
        spec.run({"m": 1})
    with pytest.raises(ValueError, match=">= 0"):
        spec.run({}, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        spec.run({}, seed=1.5)

    bad = registry.ExperimentSpec("bad", lambda *, seed: {"not": "a result"}, "", ())
    with pytest.raises(TypeError, match="not ExperimentResult"):
        bad.run()


def test_resources_progress_and_reserved_prefixes():
    from statmech.memory import InsufficientMemoryError
    from statmech.registry import Resources

    with pytest.raises(ValueError, match="reserved"):
        Parameter("scalar_x", int, 1)
    with pytest.raises(TypeError, match="resources must be callable"):
        experiment("r", "", [], resources=3)

    def estimate(*, k):
        return Resources(memory=8.0 * k, memory_driver=f"k = {k} numbers", seconds=1e-3 * k, time_driver="k")

    calls = []

    @experiment("r", "", [Parameter("k", int, 10)], resources=estimate)
    def with_progress(*, seed, k, progress=None):
        for i in range(k):
            progress(i + 1, k)
        return ExperimentResult(scalars={"k": k})

    spec = with_progress.spec
    assert spec.accepts_progress
    assert spec.estimate({"k": 4}).memory == 32.0 and spec.estimate().seconds == 1e-2
    spec.run({"k": 3}, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(InsufficientMemoryError, match=r"experiment 'r' would need .*the memory is k = 10 numbers"):
        spec.check_resources({}, memory_limit=1000)
    bad = experiment("b", "", [], resources=lambda: 5)(lambda *, seed: ExperimentResult()).spec
    with pytest.raises(TypeError, match="returned int, not Resources"):
        bad.estimate()
    plain = experiment("p", "", [])(lambda *, seed: ExperimentResult()).spec
    assert not plain.accepts_progress and plain.estimate() is None
    plain.run({}, progress=lambda done, total: None)  # not passed to a function that does not take it
    with pytest.raises(ValueError, match="memory must be a number of bytes >= 0"):
        Resources(memory=float("nan"), memory_driver="")
