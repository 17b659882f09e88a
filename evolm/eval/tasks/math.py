"""MATH (levels 1-5, MATH500) and the synthetic math levels: LaTeX answers through math-verify.

The extraction and the equivalence are `evolm.eval.math_grader`; the RL reward of a MATH-style
pool row is this family's verdict (`evolm.eval.tasks.base.reward`).
"""

from __future__ import annotations

from evolm.eval import math_grader
from evolm.eval.tasks.base import TaskSpec

FAMILY = "math"
NAME = math_grader.GRADER
GOLD_HINT = "expected a non-empty gt_answer or a \\boxed{} in gt_solution"
TASKS = (
    *(TaskSpec(f"MATHLevel{n}", "id", "id", "hub") for n in (1, 2, 3, 4)),
    TaskSpec("MATHHard", "id", "id", "hub"),
    TaskSpec("MATH500", "id", "id", "hub", listed=False),  # a test file of the paper, not in its tables
    *(TaskSpec(f"SynthMathLevel{n}", "id", "synth-id", "synth") for n in (1, 2, 3)),
)


def gold(row: dict) -> str | None:
    return math_grader.gold_answer(row)


def extract(completion: str) -> str | None:
    return math_grader.extract_answer(completion)


def equivalent(predicted: str, gold: str) -> bool:
    return math_grader.answers_match(predicted, gold)
