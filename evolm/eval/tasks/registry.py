"""Task names, suites, and where their files are.

A task's name is its benchmark file's stem. The paper's tasks live in a folder made by
`evolm data benchmarks`; the synthetic ones in a folder made by `evolm data synth` (its
`benchmarks/` subfolder). `--benchmarks DIR` may name either kind of folder.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from evolm.errors import BadInput
from evolm.eval.tasks import cruxeval, gsm8k, math, tabmwp, truth
from evolm.eval.tasks.base import Task

# stem -> (domain, grader family); the paper's section 4 and the synthetic stand-ins.
TASKS: dict[str, tuple[str, ModuleType]] = {
    "GSM8KPlatinum": ("id", gsm8k),
    "MATHLevel1": ("id", math),
    "MATHLevel2": ("id", math),
    "MATHLevel3": ("id", math),
    "MATHLevel4": ("id", math),
    "MATHHard": ("id", math),
    "MATH500": ("id", math),
    "CRUXEval": ("ood", cruxeval),
    "BoardgameQA500": ("ood", truth),
    "TabMWP": ("ood", tabmwp),
    "StrategyQA500": ("ood", truth),
    "SynthMathLevel1": ("id", math),
    "SynthMathLevel2": ("id", math),
    "SynthMathLevel3": ("id", math),
    "SynthCode": ("ood", cruxeval),
    "SynthRules": ("ood", truth),
    "SynthTable": ("ood", tabmwp),
    "SynthFacts": ("ood", truth),
}

DOWNSTREAM_SUITES: dict[str, list[str]] = {
    "id": ["GSM8KPlatinum", "MATHLevel1", "MATHLevel2", "MATHLevel3", "MATHLevel4", "MATHHard"],
    "ood": ["CRUXEval", "BoardgameQA500", "TabMWP", "StrategyQA500"],
    "synth-id": ["SynthMathLevel1", "SynthMathLevel2", "SynthMathLevel3"],
    "synth-ood": ["SynthCode", "SynthRules", "SynthTable", "SynthFacts"],
}
DOWNSTREAM_SUITES["downstream"] = DOWNSTREAM_SUITES["id"] + DOWNSTREAM_SUITES["ood"]
DOWNSTREAM_SUITES["synth"] = DOWNSTREAM_SUITES["synth-id"] + DOWNSTREAM_SUITES["synth-ood"]


def task_file(name: str, benchmarks: Path | None) -> Path:
    """The test file of task `name` in a benchmarks folder or a synth data folder."""
    if benchmarks is None:
        raise BadInput(f"Task {name} needs --benchmarks DIR (a folder from `evolm data benchmarks` or `evolm data synth`).")
    benchmarks = Path(benchmarks)
    if not benchmarks.is_dir():
        raise BadInput(f"Benchmarks folder {benchmarks} does not exist.")
    for candidate in (benchmarks / f"{name}.jsonl", benchmarks / "benchmarks" / f"{name}.jsonl"):
        if candidate.is_file():
            return candidate
    raise BadInput(f"Benchmarks folder {benchmarks} has no {name}.jsonl.")


def task(name: str, benchmarks: Path | None) -> Task:
    if name not in TASKS:
        raise BadInput(f"Unknown task {name!r}; known tasks: {', '.join(TASKS)}.")
    domain, grader = TASKS[name]
    return Task(name, domain, task_file(name, benchmarks), grader)
