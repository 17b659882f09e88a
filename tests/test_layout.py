"""The imports point one way: cli -> study -> stages -> training -> core, cli -> eval -> core,
cli -> report -> core; stages may use eval's graders; eval and the report import no training code;
core knows no stage, evaluation, report or CLI; synth is standard library plus core JSONL; the study
runner drives evolm through its commands and names what the stages name (export folders)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "evolm"
LAYERS = ("cli", "study", "stages", "training", "eval", "report", "synth")
# layer -> the evolm layers it must not import
FORBIDDEN = {
    "core": {"cli", "study", "stages", "training", "eval", "report", "synth"},
    "synth": {"cli", "study", "stages", "training", "eval", "report"},
    "training": {"cli", "study", "stages", "eval", "report", "synth"},
    "eval": {"cli", "study", "stages", "training", "report", "synth"},
    "report": {"cli", "study", "stages", "training", "synth"},
    "stages": {"cli", "study", "report"},
    "study": {"cli", "report", "eval", "synth"},
    "cli": set(),
}


def _layer(module: str) -> str:
    if module == "evolm.__main__":  # `python -m evolm` is the CLI's entry point
        return "cli"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "core"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names if node.module == "evolm"}
    return {n for n in names if n == "evolm" or n.startswith("evolm.")}


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_imports_point_one_way(path):
    module = "evolm." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    layer = _layer(module)
    bad = sorted(name for name in _imports(path) if _layer(name) in FORBIDDEN[layer] and _layer(name) != layer)
    assert not bad, f"{module} ({layer}) imports {bad}"


def test_synth_uses_only_the_standard_library_and_core_jsonl():
    for path in (PACKAGE / "synth").rglob("*.py"):
        outside = {n for n in _imports(path) if not n.startswith("evolm.synth") and n not in ("evolm", "evolm.jsonl")}
        assert not outside, (path, outside)
