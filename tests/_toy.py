"""Tiny experiments for the registry/archive/scan/CLI tests.

Worker processes find them through ``STATMECH_EXPERIMENTS="toy=_toy:toy,..."``
with this folder on ``PYTHONPATH`` (see :func:`toy_env` in the tests).
"""

from __future__ import annotations

import os
import time

import numpy as np

from statmech.registry import ExperimentResult, Parameter, Resources, experiment


def _plot_toy(result, fig):
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(result.coords["k"], result.arrays["y"][1][:, 0], marker="o")
    ax.set_xlabel("k")
    ax.set_ylabel("y")
    return fig


@experiment(
    name="toy",
    description="Gaussian draws and their powers: a fast test experiment.",
    parameters=[
        Parameter("n", int, 16, "", "number of draws"),
        Parameter("scale", float, 1.0, "", "standard deviation of the draws"),
        Parameter("delay", float, 0.0, "s", "sleep before returning (to make runs slow)"),
        Parameter("fail", bool, False, "", "raise ValueError (to test failed runs)"),
        Parameter("label", str, "a", "", "a string parameter", choices=("a", "b", "c")),
        Parameter("marker", str, "", "", "touch MARKER.<pid> as the run starts (to kill it mid-point)"),
        Parameter("steps", int, 1, "", "report progress in this many steps over the delay"),
    ],
    plot=_plot_toy,
    warmup={"n": 2},
    resources=lambda *, n, steps, **_: Resources(
        memory=8.0 * 5 * n, memory_driver=f"5 arrays of n={n} draws", seconds=1e-7 * n,
        time_driver="n draws"),
)
def toy(*, seed, n, scale, delay, fail, label, marker, steps, progress=None):
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if fail:
        raise ValueError("asked to fail")
    if marker:
        open(f"{marker}.{os.getpid()}", "w").close()
    for step in range(steps):
        if delay > 0:
            time.sleep(delay / steps)
        if progress is not None:
            progress(step + 1, steps)
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal(n)
    k = np.arange(1, 4)
    y = x[None, :] ** k[:, None]
    return ExperimentResult(
        arrays={"x": (("sample",), x), "y": (("k", "sample"), y), "positive": (("sample",), x > 0)},
        coords={"k": k},
        scalars={
            "mean": float(x.mean()),
            "second_moment": float(np.mean(x**2)),
            "n_draws": n,
            "tag": label,
        },
        attrs={"note": "toy", "scale_used": scale},
    )


@experiment(
    name="toy-threads",
    description="Reports the Numba thread count and NUMBA_NUM_THREADS seen by the process running it.",
    parameters=[Parameter("i", int, 0, "", "point index")],
)
def threads(*, seed, i):
    import numba

    return ExperimentResult(
        scalars={
            "numba_threads": int(numba.get_num_threads()),
            "env_threads": os.environ.get("NUMBA_NUM_THREADS", ""),
            "pid": os.getpid(),
        }
    )


# -- helpers shared by the test files ------------------------------------------------

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
TOY_REGISTRY = "toy=_toy:toy,toy-threads=_toy:threads"


def toy_env(**extra) -> dict:
    """Environment for a subprocess that can find the toy experiments."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (TESTS_DIR, env.get("PYTHONPATH", "")) if p)
    env["STATMECH_EXPERIMENTS"] = TOY_REGISTRY
    env.pop("MPLBACKEND", None)  # the CLI must not need it
    env.update(extra)
    return env


def cli(*args, env=None, cwd=None, timeout=120, input=None):
    """Run ``python -m statmech.cli ARGS`` and return the CompletedProcess (text)."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "statmech.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=toy_env() if env is None else env,
        cwd=cwd,
        timeout=timeout,
        input=input,
    )
