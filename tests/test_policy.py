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


def _probe():  # decorated (never compiled) to read each policy decorator's options
    return 0


@pytest.mark.parametrize("name", ["kernel", "pkernel", "ordered_kernel", "callable_kernel"])
def test_policy_never_assumes_no_nan_or_inf(name):
    """Each decorator, applied to a function, compiles with flags that keep NaN and inf."""
    from statmech import _numba

    dispatcher = getattr(_numba, name)(_probe)
    fastmath = dispatcher.targetoptions["fastmath"]
    assert fastmath is not True, f"{name}: fastmath=True assumes no NaN/inf"
    assert isinstance(fastmath, set) and fastmath.isdisjoint({"nnan", "ninf", "fast"}), (
        f"{name}: fastmath flags {sorted(fastmath)} include one that assumes no NaN/inf")
    assert dispatcher.targetoptions["error_model"] == "numpy"
    assert dispatcher.targetoptions.get("parallel", False) == (name == "pkernel")
    if name == "ordered_kernel":
        assert "reassoc" not in fastmath


_ALLOWED_PRIVATE = {"_validation", "_numba", "_fastexp"}


def test_no_private_statmech_names_outside_statmech():
    """diffusion and hopfield use statmech's public API (private modules: only the three policy ones)."""
    violations = []
    for path in _sources("diffusion", "hopfield"):
        text = path.read_text()
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                parts = node.module.split(".")
                if parts[0] != "statmech":
                    continue
                private_modules = [p for p in parts[1:] if p.startswith("_")]
                if any(p not in _ALLOWED_PRIVATE for p in private_modules):
                    violations.append(f"{where}:{node.lineno} imports from {node.module}")
                elif not private_modules:
                    for alias in node.names:
                        if alias.name.startswith("_"):
                            violations.append(f"{where}:{node.lineno} imports {node.module}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == "statmech" and any(
                            p.startswith("_") and p not in _ALLOWED_PRIVATE for p in parts[1:]):
                        violations.append(f"{where}:{node.lineno} imports {alias.name}")
        for match in re.finditer(r"\bstatmech(\.\w+)*\.(_\w+)", text):
            if match.group(2) not in _ALLOWED_PRIVATE and not match.group(2).startswith("__"):
                line = text.count("\n", 0, match.start()) + 1
                violations.append(f"{where}:{line} uses {match.group(0)}")
    assert not violations, "private statmech names used outside statmech:\n" + "\n".join(violations)


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
