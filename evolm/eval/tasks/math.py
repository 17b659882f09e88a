"""MATH (levels 1-5, MATH500) and the synthetic math levels: LaTeX answers through math-verify.

The extraction and the equivalence are `evolm.eval.math_grader`, the code the RL reward uses.
"""

from __future__ import annotations

from evolm.eval import math_grader

NAME = math_grader.GRADER


def gold(row: dict) -> str | None:
    return math_grader.gold_answer(row)


def extract(completion: str) -> str | None:
    return math_grader.extract_answer(completion)


def equivalent(predicted: str, gold: str) -> bool:
    return math_grader.answers_match(predicted, gold)
