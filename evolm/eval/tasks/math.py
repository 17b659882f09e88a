"""MATH (levels 1-5, MATH500) and the synthetic math levels: LaTeX answers through math-verify.

The extraction and the equivalence are `evolm.eval.math_grader`; the RL reward of a MATH-style
pool row is this family's verdict (`evolm.eval.tasks.base.reward`).
"""

from __future__ import annotations

from typing import Callable

from evolm.eval import math_grader
from evolm.eval.tasks.base import TaskSpec
from evolm.eval.tasks.hub import HubMismatch, HubSource, HubTask, evolm_row

FAMILY = "math"
NAME = math_grader.GRADER
GOLD_HINT = "expected a non-empty gt_answer or a \\boxed{} in gt_solution"


def gold(row: dict) -> str | None:
    return math_grader.gold_answer(row)


def extract(completion: str) -> str | None:
    return math_grader.extract_answer(completion)


def equivalent(predicted: str, gold: str) -> bool:
    return math_grader.answers_match(predicted, gold)


# --------------------------------------------------------------------------------------------
# The paper's MATH test sets, rebuilt from the hub (evolm/eval/tasks/hub.py loads them).
# --------------------------------------------------------------------------------------------

# HuggingFaceH4/MATH-500 writes these with \left( ... \right); the EvoLM copy does not.
_MATH500_ANSWERS = {
    "test/precalculus/807.json": "(3, \\frac{\\pi}{2})",
    "test/precalculus/541.json": "(\\frac{3}{2}, -13)",
}


def math_id(unique_id: str, prefix: str) -> str:
    """`test/algebra/10.json` -> `<prefix>-algebra-10` (the original MATH path, as EvoLM named it)."""
    return f"{prefix}-{unique_id.replace('test/', '').replace('/', '-').replace('.json', '')}"


def _math_level_to_row(prefix: str) -> Callable[[dict], dict]:
    def to_row(record: dict) -> dict:
        """Joined MATH record (`unique_id`, original `problem`, `solution`) -> row; gold = last \\boxed{}."""
        return evolm_row(math_id(record["unique_id"], prefix), record["problem"], record["solution"], None)

    to_row.__name__ = f"math_to_row_{prefix}"
    return to_row


math_to_row = _math_level_to_row("MATH")
math_hard_to_row = _math_level_to_row("MATHHard")


def math500_to_row(record: dict) -> dict:
    """HuggingFaceH4/MATH-500 record -> row, with EvoLM's two rewritten gold answers."""
    uid = record["unique_id"]
    answer = _MATH500_ANSWERS.get(uid, record["answer"])
    return evolm_row(math_id(uid, "MATH500"), record["problem"], record["solution"], answer)


MATH_SUBJECTS = ("algebra", "counting_and_probability", "geometry", "intermediate_algebra",
                 "number_theory", "prealgebra", "precalculus")


def _squash(text: str) -> str:
    return " ".join(text.split())


def join_math(parts: list[list[dict]]) -> list[dict]:
    """Records of the 7 EleutherAI subject test splits, then of the PRM800K splits -> joined records.

    Each joined record is `{unique_id, problem, solution, level, type}` with the original MATH text
    and its original path; raises HubMismatch if a test problem has no `test/...` unique_id.
    """
    texts, id_parts = parts[:len(MATH_SUBJECTS)], parts[len(MATH_SUBJECTS):]
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for record in (r for part in id_parts for r in part):
        uid = str(record.get("unique_id") or "")
        if uid.startswith("test/"):
            exact.setdefault(record["problem"], uid)
            loose.setdefault(_squash(record["problem"]), uid)
    joined, unmatched, seen = [], [], set()
    for subject, part in zip(MATH_SUBJECTS, texts):
        for record in part:
            uid = exact.get(record["problem"]) or loose.get(_squash(record["problem"]))
            if uid is None or uid.split("/")[1] != subject or uid in seen:
                unmatched.append(record["problem"][:60])
                continue
            seen.add(uid)
            joined.append({"unique_id": uid, "problem": record["problem"], "solution": record["solution"],
                           "level": record["level"], "type": record.get("type")})
    if unmatched:
        raise HubMismatch(f"{len(unmatched)} MATH test problems could not be matched to an original file "
                          f"name (first: {unmatched[0]!r}).")
    return joined


def _level(n: int) -> Callable[[dict], bool]:
    def keep(record: dict) -> bool:
        return record["level"] == f"Level {n}"

    return keep


# EleutherAI revision: the first commit with parquet files and no loading script ("Delete loading script").
_MATH_SOURCES = tuple(
    HubSource("EleutherAI/hendrycks_math", subject, "test", "0bd4da3ba883718272d0e821efdf10b63c2ed3bf")
    for subject in MATH_SUBJECTS
) + (
    HubSource("nlile/hendrycks-MATH-benchmark", None, "train", "465bcdb36f5962aa3512891498966df785fc3c18"),
    HubSource("nlile/hendrycks-MATH-benchmark", None, "test", "465bcdb36f5962aa3512891498966df785fc3c18"),
)
_MATH_NOTE = ("original MATH text from EleutherAI/hendrycks_math joined on the problem text with the "
              "original file names (unique_id) of nlile/hendrycks-MATH-benchmark; sorted by id as EvoLM did")
_MATH_SOURCE_NAMES = (
    f"hf://datasets/EleutherAI/hendrycks_math ({len(MATH_SUBJECTS)} subjects, test) @ {_MATH_SOURCES[0].revision[:12]}",
    *dict.fromkeys(source.describe() for source in _MATH_SOURCES[len(MATH_SUBJECTS):]),
)


def _math_level(stem: str, level: int, rows: int, to_row: Callable[[dict], dict], note: str = "") -> HubTask:
    return HubTask(stem, _MATH_SOURCES, to_row, "MIT", "exact", _MATH_NOTE + note, rows=rows, hub_rows=5000,
                   keep=_level(level), sort_by_id=True, assemble=join_math, source_names=_MATH_SOURCE_NAMES)


TASKS = (
    *(TaskSpec(f"MATHLevel{n}", "id", "id", "hub", hub=_math_level(f"MATHLevel{n}", n, rows, math_to_row))
      for n, rows in ((1, 437), (2, 894), (3, 1131), (4, 1214))),
    TaskSpec("MATHHard", "id", "id", "hub", hub=_math_level("MATHHard", 5, 1324, math_hard_to_row, " (level 5)")),
    TaskSpec("MATH500", "id", "id", "hub", listed=False, hub=HubTask(  # a test file of the paper, not in its tables
        "MATH500", (HubSource("HuggingFaceH4/MATH-500", None, "test"),), math500_to_row, "MIT", "exact",
        "PRM800K's 500-problem test split in hub order; two gold answers as EvoLM wrote them",
        rows=500, hub_rows=500)),
    # The synthetic ladder, easiest first: basic tiers 1-3 (a bare operation on digits, then one-
    # and two-step word problems on digits), then
    # the GSM8K-shaped levels 1-3.
    *(TaskSpec(f"SynthMathBasic{n}", "id", "synth-id", "synth", cluster_by="solution") for n in (1, 2, 3)),
    *(TaskSpec(f"SynthMathLevel{n}", "id", "synth-id", "synth") for n in (1, 2, 3)),
)
