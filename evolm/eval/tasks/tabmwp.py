"""TabMWP (and SynthTable): a number (`$34.35`, `1,200`, `3/4`) or a short text (`nonlinear`).

Two numbers are equal when they agree to 1e-6 relative (the answers carry at most cents); texts
are compared case-, space- and punctuation-insensitively.
"""

from __future__ import annotations

import re
from fractions import Fraction

from evolm.eval import math_grader
from evolm.eval.tasks.base import TaskSpec, answer_region

FAMILY = "tabmwp"
NAME = "evolm.tabmwp/1: answer region; numbers to 1e-6 relative, else normalized text"
GOLD_HINT = "expected a non-empty gt_answer"
TASKS = (TaskSpec("TabMWP", "ood", "ood", "hub"), TaskSpec("SynthTable", "ood", "synth-ood", "synth"))

_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)(/\d+)?$")


def number(answer: str) -> float | None:
    text = math_grader.normalize(answer)
    text = re.sub(r"\\frac\{(-?\d+)\}\{(\d+)\}", r"\1/\2", text)
    text = text.replace(",", "").strip()
    text = re.sub(r"(?<=\d)[a-z ]+$", "", text)  # trailing units: 12 dollars, 5 cm
    if not _NUMBER.match(text):
        return None
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return None


def _text(answer: str) -> str:
    return re.sub(r"[\s.,;:!?'\"$]+", "", answer.lower())


def gold(row: dict) -> str | None:
    answer = row.get("gt_answer")
    return answer.strip() if isinstance(answer, str) and answer.strip() else None


def extract(completion: str) -> str | None:
    region = answer_region(completion, math_grader.extract_answer)
    return region.strip() if region is not None and region.strip() else None


def equivalent(predicted: str, gold: str) -> bool:
    a, b = number(predicted), number(gold)
    if a is not None and b is not None:
        return abs(a - b) <= 1e-6 * max(1.0, abs(b))
    if (a is None) != (b is None):
        return False
    return _text(predicted) == _text(gold)
