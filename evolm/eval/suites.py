"""`--suite` names: which upstream (lm-eval) and downstream (generation) tasks a run evaluates.

    upstream     the paper's six lm-eval tasks; with a synth folder as --benchmarks, the synthetic
                 cloze sets instead (offline)
    cloze        the synthetic cloze sets
    id, ood      GSM8K-Platinum + MATH levels 1-5; CRUXEval, BoardgameQA, TabMWP, StrategyQA
    downstream   id + ood
    synth-id, synth-ood, synth    the synthetic in-domain / out-of-domain suites
    all          upstream + downstream (synth suites with a synth folder)
    NAME[,NAME]  any of the above, a user task YAML's suite, or single tasks (GSM8KPlatinum, hellaswag, ...)

The suites are built from the task declarations (`evolm.eval.tasks`), never listed here.
"""

from __future__ import annotations

import re
from pathlib import Path

from evolm.errors import BadInput
from evolm.eval.tasks import upstream_tasks
from evolm.eval.tasks.registry import BUILTIN, Registry

# Suites made of other suites: (downstream suites, upstream suite, its synth-folder variant).
COMPOSITES = {"downstream": ("id", "ood"), "synth": ("synth-id", "synth-ood")}


def suite_names(registry: Registry = BUILTIN) -> tuple[str, ...]:
    return ("upstream", "cloze", *registry.suites(), *COMPOSITES, "all")


def is_synth_folder(benchmarks: Path | None) -> bool:
    return benchmarks is not None and (Path(benchmarks) / "synth.json").is_file()


def _upstream_suite(synth: bool) -> list[str]:
    return [t.name for t in upstream_tasks.TASKS if t.suite == ("cloze" if synth else "upstream")]


def expand(suite: str, benchmarks: Path | None, registry: Registry = BUILTIN, *,
           synth: bool | None = None) -> tuple[list[str], list[str]]:
    """(upstream task names, downstream task names), each in order and without repeats. `synth`: whether
    the benchmarks folder is (or, for a study that has not made its data yet, will be) a synthetic one."""
    upstream: list[str] = []
    downstream: list[str] = []
    synth = is_synth_folder(benchmarks) if synth is None else synth
    suites = registry.suites()

    def members(name: str) -> list[str]:
        return [task for part in COMPOSITES.get(name, (name,)) for task in suites.get(part, [])]

    for name in [part.strip() for part in suite.split(",") if part.strip()]:
        if name == "upstream":
            upstream += _upstream_suite(synth)
        elif name == "cloze":
            upstream += _upstream_suite(True)
        elif name == "all":
            upstream += _upstream_suite(synth)
            downstream += members("synth" if synth else "downstream")
        elif name in suites or name in COMPOSITES:
            downstream += members(name)
        elif name in registry:
            downstream.append(name)
        elif name in upstream_tasks.BY_NAME:
            upstream.append(name)
        else:
            raise BadInput(f"Unknown suite or task {name!r}; suites: {', '.join(suite_names(registry))}; "
                           f"tasks: {', '.join([*registry.names(), *upstream_tasks.BY_NAME])}.")
    if not upstream and not downstream:
        raise BadInput("--suite names no task.")
    return list(dict.fromkeys(upstream)), list(dict.fromkeys(downstream))


def label(suite: str) -> str:
    """A file-name-safe label of a suite string (for the summary file)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "+", suite.strip()).strip("+") or "suite"
