import os
import sys
import tempfile

import pytest
from hypothesis import settings

# Tests never reuse a stale Numba cache from another checkout.
os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="statmech-numba-"))
os.environ.setdefault("MPLBACKEND", "Agg")

# tests/naive.py (plain NumPy references) is importable as `naive`.
sys.path.insert(0, os.path.dirname(__file__))

# Deterministic property tests: the same examples on every run and machine.
settings.register_profile("statmech", derandomize=True, deadline=None, database=None)
settings.load_profile("statmech")


@pytest.fixture
def toy_registry(monkeypatch):
    """Register the toy experiments of tests/_toy.py (for run-system tests)."""
    import _toy

    monkeypatch.setenv("STATMECH_EXPERIMENTS", _toy.TOY_REGISTRY)
