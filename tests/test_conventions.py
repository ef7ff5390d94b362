"""Guardrails: tier direction, cupy/torch confinement, no pickle/eval, docstrings, file sizes."""
from __future__ import annotations

import ast
import re
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIERS = {"ops": 0, "layers": 1, "layergraph": 2}
PACKAGE_OF = {"ops": "layergraph.ops", "layers": "layergraph.layers", "layergraph": "layergraph"}


# Order inside layergraph/: a module may import its own subpackage and lower levels only.
LAYERGRAPH_LEVELS = {
    "rng": 0, "datasets": 0, "data": 0, "autodiff": 0, "atomic_write": 0,
    "graph": 1, "builders": 2, "plotting": 3, "runtime": 4, "networks": 5, "serialization": 6,
    "training": 7, "cli": 8, "demo": 8, "bench": 8, "__init__": 8, "__main__": 8,
}


def _sources(tier: str) -> list[pathlib.Path]:
    return sorted((ROOT / tier).rglob("*.py"))


def _imported_modules(path: pathlib.Path, tier: str) -> list[str]:
    """Absolute dotted names of everything a file imports (relative imports resolved)."""
    package = PACKAGE_OF[tier].split(".") + list(path.parent.relative_to(ROOT / tier).parts)
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
                names = [f"{mod}.{a.name}" for a in node.names] if not node.module else [mod]
                out += names
            else:
                out.append(node.module or "")
    return out


def _tier_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "layergraph":
        return None
    if len(parts) > 1 and parts[1] in ("ops", "layers"):
        return TIERS[parts[1]]
    return TIERS["layergraph"]


@pytest.mark.parametrize("tier", list(TIERS))
def test_imports_only_go_down_the_tiers(tier):
    bad = []
    for path in _sources(tier):
        for mod in _imported_modules(path, tier):
            t = _tier_of(mod)
            if t is not None and t > TIERS[tier]:
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def _layergraph_part(module: str) -> str | None:
    """The first component under ``layergraph`` ('runtime', 'rng', ...); None for other packages."""
    parts = module.split(".")
    if parts[0] != "layergraph" or (len(parts) > 1 and parts[1] in ("ops", "layers")):
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def test_layergraph_subpackages_import_only_lower_levels():
    bad = []
    for path in _sources("layergraph"):
        own = path.relative_to(ROOT / "layergraph").parts[0].removesuffix(".py")
        if own not in LAYERGRAPH_LEVELS:
            bad.append(f"{path.relative_to(ROOT)}: '{own}' is not in LAYERGRAPH_LEVELS")
            continue
        for mod in _imported_modules(path, "layergraph"):
            part = _layergraph_part(mod)
            if part is None or part == own or own == "__init__":
                continue
            if part not in LAYERGRAPH_LEVELS:
                bad.append(f"{path.relative_to(ROOT)} imports unknown layergraph.{part}")
            elif LAYERGRAPH_LEVELS[part] > LAYERGRAPH_LEVELS[own]:
                bad.append(f"{path.relative_to(ROOT)} ({own}) imports {mod} (higher level)")
    assert not bad, "imports against the order inside layergraph/:\n" + "\n".join(bad)


def test_layergraph_modules_stay_readable():
    big = {str(p.relative_to(ROOT)): n for p in _sources("layergraph")
           if (n := len(p.read_text().splitlines())) > 400}
    assert not big, f"layergraph modules over 400 lines (split by concept): {big}"


def test_every_subpackage_is_listed_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    missing = [f"layergraph.{p.parent.relative_to(ROOT / 'layergraph').as_posix().replace('/', '.')}"
               for p in (ROOT / "layergraph").rglob("__init__.py") if p.parent != ROOT / "layergraph"]
    missing = [m for m in missing if f'"{m}"' not in text]
    assert not missing, f"subpackages missing from [tool.setuptools] packages: {missing}"


def test_only_backend_imports_cupy_and_nothing_imports_torch():
    bad = []
    for tier in TIERS:
        for path in _sources(tier):
            for mod in _imported_modules(path, tier):
                top = mod.split(".")[0]
                if top == "torch":
                    bad.append(f"{path.relative_to(ROOT)} imports torch")
                if top == "cupy" and path != ROOT / "ops" / "_backend.py":
                    bad.append(f"{path.relative_to(ROOT)} imports cupy")
    assert not bad, "\n".join(bad)


def test_pandas_only_in_layergraph_tier():
    bad = [
        f"{p.relative_to(ROOT)}"
        for tier in ("ops", "layers")
        for p in _sources(tier)
        if any(m.split(".")[0] == "pandas" for m in _imported_modules(p, tier))
    ]
    assert not bad, "pandas imported below layergraph: " + ", ".join(bad)


def test_no_pickle_or_eval_in_package():
    bad = []
    for tier in TIERS:
        for path in _sources(tier):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                    if any(n.split(".")[0] in ("pickle", "cPickle", "dill", "marshal") for n in names):
                        bad.append(f"{path.relative_to(ROOT)}: imports pickle-like module")
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("eval", "exec"):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.func.id}()")
                if isinstance(node, ast.keyword) and node.arg == "allow_pickle":
                    if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                        bad.append(f"{path.relative_to(ROOT)}:{node.value.lineno}: allow_pickle")
    assert not bad, "\n".join(bad)


def test_no_assert_in_library_code():
    bad = [
        f"{p.relative_to(ROOT)}:{n.lineno}"
        for tier in TIERS
        for p in _sources(tier)
        for n in ast.walk(ast.parse(p.read_text()))
        if isinstance(n, ast.Assert)
    ]
    assert not bad, "assert in library code (raise MException/ValueError instead): " + ", ".join(bad)


def test_ops_files_stay_small():
    big = {p.name: len(p.read_text().splitlines()) for p in _sources("ops")}
    big = {k: v for k, v in big.items() if v > 400}
    assert not big, f"ops files over 400 lines (split by concept): {big}"


def test_every_public_export_has_a_docstring():
    import layergraph

    missing = [
        name
        for name in layergraph.__all__
        if callable(getattr(layergraph, name)) and not (getattr(layergraph, name).__doc__ or "").strip()
    ]
    assert not missing, f"exports without a docstring: {missing}"


def test_star_import_gives_the_matlab_api():
    ns: dict = {}
    exec("from layergraph import *", ns)  # noqa: S102 - test of the public namespace
    expected = """MException resnet3dLayers resnetLayers resnet3dNetwork resnetNetwork layerGraph addLayers
    removeLayers connectLayers disconnectLayers replaceLayer analyzeNetwork image3dInputLayer
    imageInputLayer convolution3dLayer convolution2dLayer batchNormalizationLayer reluLayer
    maxPooling3dLayer averagePooling3dLayer globalAveragePooling3dLayer additionLayer
    depthConcatenationLayer fullyConnectedLayer softmaxLayer classificationLayer regressionLayer
    trainingOptions trainNetwork assembleNetwork predict classify activations dlnetwork forward
    dlfeval dlgradient crossentropy mse sgdmupdate adamupdate rmspropupdate saveNetwork
    loadNetwork rng plot""".split()
    missing = [name for name in expected if name not in ns]
    assert not missing, f"missing from `from layergraph import *`: {missing}"


TUNING_SUFFIXES = ("_BYTES", "_ELEMENTS", "_POSITIONS", "_FILTERS", "_WASTE", "_PER_TILE")
FIGURES = re.compile(r"\bmeasured\b|\b\d+(\.\d+)?\s?(ms|us)\b|\b\d+(-\d+)?%|\b\d+\.\d+x\b",
                     re.IGNORECASE)


def _tuning_constants() -> list[tuple[pathlib.Path, str, str | None]]:
    """(file, name, the string right after it or None) for every module-level tuning constant
    of the ops (an UPPER_CASE number named ``*_BYTES``, ``*_ELEMENTS``, ...)."""
    found = []
    for path in _sources("ops"):
        body = ast.parse(path.read_text()).body
        for node, after in zip(body, body[1:] + [None]):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name) \
                    and node.targets[0].id.endswith(TUNING_SUFFIXES):
                doc = after.value.value if isinstance(after, ast.Expr) and isinstance(
                    after.value, ast.Constant) and isinstance(after.value.value, str) else None
                found.append((path, node.targets[0].id, doc))
    return found


def test_tuning_constants_say_what_they_control_and_link_their_figures():
    constants = _tuning_constants()
    assert len(constants) >= 14
    table = (ROOT / "docs" / "benchmarks.md").read_text()
    bad = [f"{p.relative_to(ROOT)}: {name}" for p, name, doc in constants
           if doc is None or "\n" in doc.strip() or "docs/benchmarks.md#tuning-constants" not in doc
           or f"`{name}`" not in table or FIGURES.search(doc)]
    assert not bad, ("each tuning constant: a one-line docstring saying what it controls, "
                     "linking docs/benchmarks.md#tuning-constants, and a row there:\n"
                     + "\n".join(bad))


def _docstrings(path: pathlib.Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for stmt in body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                        and isinstance(stmt.value.value, str):
                    out.append((stmt.lineno, stmt.value.value))
    return out


@pytest.mark.parametrize("folder", ["ops", "layers", "layergraph/runtime"])
def test_no_benchmark_figures_in_docstrings(folder):
    """Measurements live in docs/benchmarks.md, not in the code that they tuned."""
    bad = [f"{p.relative_to(ROOT)}:{line}: {FIGURES.search(text).group(0)!r}"
           for p in sorted((ROOT / folder).rglob("*.py")) for line, text in _docstrings(p)
           if FIGURES.search(text)]
    assert not bad, "benchmark figures in docstrings (move them to docs/benchmarks.md):\n" + \
        "\n".join(bad)
