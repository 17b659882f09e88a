"""GSM8K-Platinum: numeric answers, written `1,000`, `$12`, `12 dollars` or `#### 12`.

Extraction is the math grader's (last \\boxed{}, else the later of "answer is" and a `#### N` line). Equivalence
compares the first number of each answer once thousands separators, currency and trailing units
are gone, and falls back to math-verify for anything that is not a plain number (`\\frac{3}{4}`).
"""

from __future__ import annotations

import re
from fractions import Fraction

from evolm.eval import math_grader
from evolm.eval.tasks.base import TaskSpec
from evolm.eval.tasks.hub import HubSource, HubTask, evolm_row, pinned_ids

FAMILY = "gsm8k"
GOLD_HINT = "expected '#### N' in gt_solution or a non-empty gt_answer"
NAME = "evolm.gsm8k/4: math extraction; one number without thousands separators, $, % or trailing units; else math-verify"

_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")  # once math_grader.plain_number dropped units and separators


def gold(row: dict) -> str | None:
    return math_grader.gold_answer(row)


def extract(completion: str) -> str | None:
    return math_grader.extract_answer(completion)


def number(answer: str) -> Fraction | None:
    """The answer as an exact number when it is one number with optional $, commas, % and units."""
    text = math_grader.plain_number(math_grader.normalize(answer).replace("{,}", ","))  # `4,5` is not 45
    return Fraction(text) if text and _NUMBER.match(text) else None


def equivalent(predicted: str, gold: str) -> bool:
    a, b = number(predicted), number(gold)
    if a is not None and b is not None:
        return a == b
    return math_grader.answers_match(predicted, gold)


# The paper's test set, rebuilt from the hub (evolm/eval/tasks/hub.py loads it).
def gsm8k_to_row(record: dict) -> dict:
    """madrylab/gsm8k-platinum record + `idx` -> row; the gold answer follows `#### ` in gt_solution."""
    return evolm_row(f"GSM8KPlatinum-{int(record['idx']):04d}", record["question"], record["answer"], None)


TASKS = (TaskSpec("GSM8KPlatinum", "id", "id", "hub", hub=HubTask(
    "GSM8KPlatinum", (HubSource("madrylab/gsm8k-platinum", "main", "test"),), gsm8k_to_row, "MIT",
    "exact", "ids are row indices of the hub split; EvoLM's shuffled order is pinned",
    rows=1209, hub_rows=1209, pinned_ids=pinned_ids("GSM8KPlatinum", "GSM8KPlatinum-", 4))),)
