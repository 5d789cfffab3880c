"""The README's kernel, diffusion and Hopfield examples run unchanged and print what it shows."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _examples():
    """(python source, expected output) pairs of the sections this test covers."""
    text = (ROOT / "README.md").read_text()
    start = text.index("## The kernels")
    end = text.index("## Runs, scans and the archive")
    blocks = re.findall(r"```python\n(.*?)```\n\n```\n(.*?)```", text[start:end], flags=re.S)
    assert len(blocks) >= 3, "the README's kernel examples moved or lost their output"
    return blocks


@pytest.mark.slow
@pytest.mark.parametrize("index", range(3))
def test_readme_example_prints_what_the_readme_shows(index):
    source, expected = _examples()[index]
    env = dict(os.environ, MPLBACKEND="Agg")
    run = subprocess.run([sys.executable, "-c", source], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == expected.split(), run.stdout
