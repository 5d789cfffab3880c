"""Project habits that a grep can check: one Numba policy, import direction, __all__."""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("statmech", "hopfield", "diffusion")


def _sources(*packages):
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def test_numba_options_only_in_policy_module():
    """Kernels use statmech._numba's decorators; no stray njit/jit options elsewhere."""
    stray = []
    for path in _sources(*PACKAGES):
        if path.name == "_numba.py":
            continue
        text = path.read_text()
        for pattern in (r"@(numba\.)?n?jit\b", r"\bnjit\(", r"\bjit\(", r"fastmath\s*="):
            for match in re.finditer(pattern, text):
                line = text.count("\n", 0, match.start()) + 1
                stray.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert not stray, "Numba options outside statmech/_numba.py:\n" + "\n".join(stray)


def test_policy_never_assumes_no_nan_or_inf():
    from statmech import _numba

    assert _numba.FASTMATH.isdisjoint({"nnan", "ninf", "fast"})
    for name in ("kernel", "pkernel", "ordered_kernel", "callable_kernel"):
        options = getattr(_numba, name).targetoptions if hasattr(getattr(_numba, name), "targetoptions") else None
        if options is not None:
            assert options.get("fastmath") is not True


def _imported_top_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0], node.lineno


def test_import_direction():
    """statmech imports neither sibling; only hopfield.bridge (and what goes through it) imports diffusion."""
    violations = []
    for path in _sources("statmech"):
        for module, line in _imported_top_modules(path):
            if module in ("hopfield", "diffusion"):
                violations.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    for path in _sources("diffusion"):
        for module, line in _imported_top_modules(path):
            if module == "hopfield":
                violations.append(f"{path.relative_to(ROOT)}:{line} imports hopfield")
    for path in _sources("hopfield"):
        if path.name == "bridge.py":
            continue
        for module, line in _imported_top_modules(path):
            if module == "diffusion":
                violations.append(f"{path.relative_to(ROOT)}:{line} imports diffusion (only hopfield.bridge may)")
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_module_declares_all(package):
    missing = []
    for path in _sources(package):
        if path.name.startswith("_") and path.name != "__init__.py":
            continue
        tree = ast.parse(path.read_text())
        names = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                 for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                 if isinstance(t, ast.Name)}
        if "__all__" not in names:
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"modules without __all__: {missing}"
