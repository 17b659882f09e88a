"""GSM8K-Platinum: numeric answers, written `1,000`, `$12`, `12 dollars` or `#### 12`.

Extraction is the math grader's (last \\boxed{}, else `#### N`, else "answer is"). Equivalence
compares the first number of each answer once thousands separators, currency and trailing units
are gone, and falls back to math-verify for anything that is not a plain number (`\\frac{3}{4}`).
"""

from __future__ import annotations

import re
from fractions import Fraction

from evolm.eval import math_grader
from evolm.eval.tasks.base import TaskSpec

FAMILY = "gsm8k"
GOLD_HINT = "expected '#### N' in gt_solution or a non-empty gt_answer"
TASKS = (TaskSpec("GSM8KPlatinum", "id", "id", "hub"),)
NAME = "evolm.gsm8k/1: math extraction; one number without , $ % or trailing units; else math-verify"

_NUMBER = re.compile(r"^(-?\d+(?:\.\d+)?)([a-z]*)$")  # after normalize(): no spaces, lower case


def gold(row: dict) -> str | None:
    return math_grader.gold_answer(row)


def extract(completion: str) -> str | None:
    return math_grader.extract_answer(completion)


def number(answer: str) -> Fraction | None:
    """The answer as an exact number when it is one number with optional $, commas, % and units."""
    text = math_grader.normalize(answer).replace("{,}", "").replace(",", "")
    match = _NUMBER.match(text)
    return Fraction(match.group(1)) if match else None


def equivalent(predicted: str, gold: str) -> bool:
    a, b = number(predicted), number(gold)
    if a is not None and b is not None:
        return a == b
    return math_grader.answers_match(predicted, gold)
