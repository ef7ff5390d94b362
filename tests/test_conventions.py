"""Guardrails: tier direction, cupy/torch confinement, no pickle/eval, docstrings, file sizes."""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIERS = {"ops": 0, "layers": 1, "layergraph": 2}
PACKAGE_OF = {"ops": "layergraph.ops", "layers": "layergraph.layers", "layergraph": "layergraph"}


def _sources(tier: str) -> list[pathlib.Path]:
    return sorted((ROOT / tier).glob("*.py"))


def _imported_modules(path: pathlib.Path, tier: str) -> list[str]:
    """Absolute dotted names of everything a file imports (relative imports resolved)."""
    package = PACKAGE_OF[tier].split(".")
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
    loadNetwork rng""".split()
    missing = [name for name in expected if name not in ns]
    assert not missing, f"missing from `from layergraph import *`: {missing}"
