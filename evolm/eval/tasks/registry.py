"""Every downstream task, built from the declarations of the grader families, plus a user's own.

The families' `TASKS` declare the paper's test sets and the synthetic stand-ins; a user adds a
test set without code through a task YAML (like lm-eval's task files):

    # my_algebra.task.yaml (beside my_algebra.jsonl, rows {id, problem, gt_solution, gt_answer})
    name: MyAlgebra
    grader: math          # a family: math | gsm8k | cruxeval | truth | tabmwp
    domain: id            # id (in-domain) | ood
    suite: my-id          # optional: the suite (and report group) it joins; default custom-<domain>
    file: my_algebra.jsonl   # optional: default <name>.jsonl beside the YAML

A YAML may also hold `tasks: [ {...}, {...} ]`. It is passed with `evolm eval --tasks FILE`, or
found in the `--benchmarks` folder (any `*.task.yaml` there or in its `benchmarks/` subfolder).
A task's file is the declared one, else `<name>.jsonl` in the `--benchmarks` folder (a folder from
`evolm data benchmarks` or `evolm data synth`, whose test files sit in `benchmarks/`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Iterable

from evolm.errors import BadInput
from evolm.eval.tasks import cruxeval, gsm8k, math, tabmwp, truth
from evolm.eval.tasks.base import DOMAINS, Task, TaskSpec

FAMILIES: dict[str, ModuleType] = {m.FAMILY: m for m in (gsm8k, math, cruxeval, truth, tabmwp)}
TASK_YAML = "*.task.yaml"
_YAML_KEYS = {"name", "grader", "domain", "suite", "file"}


class Registry:
    """Named tasks and the suites they form, in declaration order."""

    def __init__(self, specs: Iterable[TaskSpec]):
        self.specs: dict[str, TaskSpec] = {}
        for spec in specs:
            if spec.family not in FAMILIES:
                raise ValueError(f"task {spec.name}: unknown grader family {spec.family!r}")
            if spec.name in self.specs and self.specs[spec.name] != spec:
                raise BadInput(f"Task {spec.name} is declared twice, differently.")
            self.specs[spec.name] = spec

    def __contains__(self, name: str) -> bool:
        return name in self.specs

    def names(self) -> list[str]:
        return list(self.specs)

    def suites(self) -> dict[str, list[str]]:
        """suite name -> the listed tasks of that suite, in order."""
        suites: dict[str, list[str]] = {}
        for spec in self.specs.values():
            if spec.listed:
                suites.setdefault(spec.suite, []).append(spec.name)
        return suites

    def with_specs(self, specs: Iterable[TaskSpec]) -> "Registry":
        return Registry([*self.specs.values(), *specs])

    def task(self, name: str, benchmarks: Path | None) -> Task:
        if name not in self.specs:
            raise BadInput(f"Unknown task {name!r}; known tasks: {', '.join(self.specs)}.")
        spec = self.specs[name]
        path = spec.file if spec.file is not None else task_file(name, benchmarks)
        if not Path(path).is_file():
            raise BadInput(f"Task {name}'s file {path} does not exist.")
        return Task(spec, Path(path), FAMILIES[spec.family])


def _declared() -> list[TaskSpec]:
    return [replace(spec, family=family.FAMILY) for family in FAMILIES.values() for spec in family.TASKS]


BUILTIN = Registry(_declared())


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


def read_task_yaml(path: Path) -> list[TaskSpec]:
    """The tasks a user's task YAML declares; any mistake is one BadInput sentence naming the file."""
    from evolm.fsutil import read_yaml

    path = Path(path)
    data = read_yaml(path, "Task file")
    entries = data.get("tasks") if isinstance(data, dict) and "tasks" in data else [data]
    if not isinstance(entries, list) or not entries:
        raise BadInput(f"Task file {path} declares no task (expected name, grader and domain, or a `tasks:` list).")
    specs = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise BadInput(f"Task file {path} has an entry that is not a mapping: {entry!r}.")
        unknown = sorted(set(entry) - _YAML_KEYS)
        missing = [k for k in ("name", "grader", "domain") if not entry.get(k)]
        if unknown or missing:
            what = f"unknown key(s) {', '.join(unknown)}" if unknown else f"no {', '.join(missing)}"
            raise BadInput(f"Task file {path} has an entry with {what} (keys: {', '.join(sorted(_YAML_KEYS))}).")
        name, family, domain = str(entry["name"]), str(entry["grader"]), str(entry["domain"])
        if family not in FAMILIES:
            raise BadInput(f"Task file {path}: grader {family!r} is not one of {', '.join(FAMILIES)}.")
        if domain not in DOMAINS:
            raise BadInput(f"Task file {path}: domain {domain!r} is not one of {', '.join(DOMAINS)}.")
        if name in BUILTIN:
            raise BadInput(f"Task file {path} declares {name}, which is a built-in task; choose another name.")
        file = path.parent / str(entry.get("file") or f"{name}.jsonl")
        if not file.is_file():
            raise BadInput(f"Task file {path}: the test file {file} of task {name} does not exist.")
        specs.append(TaskSpec(name, domain, str(entry.get("suite") or f"custom-{domain}"), "file", file=file,
                              family=family))
    return specs


def registry_for(benchmarks: Path | None, task_files: Iterable[Path] = ()) -> Registry:
    """The built-in tasks plus those declared in `task_files` and in the benchmarks folder."""
    found: list[Path] = []
    if benchmarks is not None and Path(benchmarks).is_dir():
        for folder in (Path(benchmarks), Path(benchmarks) / "benchmarks"):
            found += sorted(folder.glob(TASK_YAML))
    paths = list(dict.fromkeys([*map(Path, task_files), *found]))
    if not paths:
        return BUILTIN
    return BUILTIN.with_specs(spec for path in paths for spec in read_task_yaml(path))


def task(name: str, benchmarks: Path | None, task_files: Iterable[Path] = ()) -> Task:
    return registry_for(benchmarks, task_files).task(name, benchmarks)


def family_of(name: str) -> ModuleType:
    """A grader family by its FAMILY name (a pool row's `grader`), or by a built-in task's name."""
    if name in FAMILIES:
        return FAMILIES[name]
    if name in BUILTIN:
        return FAMILIES[BUILTIN.specs[name].family]
    raise BadInput(f"Unknown grader {name!r}; graders: {', '.join(FAMILIES)} (or a task name: {', '.join(BUILTIN.names())}).")


# A pool row without a `grader` field is a MATH-style problem (the paper's SFT/RL pool and the
# synthetic one end their solutions in \boxed{}).
DEFAULT_POOL_GRADER = "math"


def row_grader(row: dict) -> ModuleType:
    """The grader family of an SFT/RL pool row: its `grader` field (a family or a task name),
    else MATH-style. The RL reward of the row is this family's evaluation verdict."""
    name = row.get("grader")
    if name is not None and not isinstance(name, str):
        raise BadInput(f"Pool row {row.get('id')!r} has a grader that is not a name: {name!r}.")
    return family_of(name or DEFAULT_POOL_GRADER)


def paper_tasks() -> list[TaskSpec]:
    """The paper's test files that `evolm data benchmarks` writes (every hub-sourced task)."""
    return [spec for spec in BUILTIN.specs.values() if spec.source == "hub"]
