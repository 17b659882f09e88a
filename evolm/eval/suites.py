"""`--suite` names: which upstream (lm-eval) and downstream (generation) tasks a run evaluates.

    upstream     the paper's six lm-eval tasks; with a synth folder as --benchmarks, the synthetic
                 cloze sets instead (offline)
    cloze        the synthetic cloze sets
    id, ood      GSM8K-Platinum + MATH levels 1-5; CRUXEval, BoardgameQA, TabMWP, StrategyQA
    downstream   id + ood
    synth-id, synth-ood, synth    the synthetic in-domain / out-of-domain suites
    all          upstream + downstream (synth suites with a synth folder)
    NAME[,NAME]  any of the above or single tasks (GSM8KPlatinum, MATHLevel3, hellaswag, ...)
"""

from __future__ import annotations

from pathlib import Path

from evolm.errors import BadInput
from evolm.eval.tasks.registry import DOWNSTREAM_SUITES, TASKS
from evolm.eval.upstream import CLOZE_TASKS, PAPER_TASKS

SUITE_NAMES = ("upstream", "cloze", *DOWNSTREAM_SUITES, "all")


def is_synth_folder(benchmarks: Path | None) -> bool:
    return benchmarks is not None and (Path(benchmarks) / "synth.json").is_file()


def expand(suite: str, benchmarks: Path | None) -> tuple[list[str], list[str]]:
    """(upstream task names, downstream task names), each in order and without repeats."""
    upstream: list[str] = []
    downstream: list[str] = []
    synth = is_synth_folder(benchmarks)
    for name in [part.strip() for part in suite.split(",") if part.strip()]:
        if name == "upstream":
            upstream += list(CLOZE_TASKS if synth else PAPER_TASKS)
        elif name == "cloze":
            upstream += list(CLOZE_TASKS)
        elif name == "all":
            upstream += list(CLOZE_TASKS if synth else PAPER_TASKS)
            downstream += DOWNSTREAM_SUITES["synth" if synth else "downstream"]
        elif name in DOWNSTREAM_SUITES:
            downstream += DOWNSTREAM_SUITES[name]
        elif name in TASKS:
            downstream.append(name)
        elif name in PAPER_TASKS or name in CLOZE_TASKS:
            upstream.append(name)
        else:
            raise BadInput(f"Unknown suite or task {name!r}; suites: {', '.join(SUITE_NAMES)}; "
                           f"tasks: {', '.join([*TASKS, *PAPER_TASKS, *CLOZE_TASKS])}.")
    if not upstream and not downstream:
        raise BadInput("--suite names no task.")
    return list(dict.fromkeys(upstream)), list(dict.fromkeys(downstream))


def label(suite: str) -> str:
    """A file-name-safe label of a suite string (for the summary file)."""
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "+", suite.strip()).strip("+") or "suite"
