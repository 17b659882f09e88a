"""TabMWP (and SynthTable): a number (`$34.35`, `1,200`, `3/4`) or a short text (`nonlinear`).

Two numbers are equal when they agree to 1e-6 relative (the answers carry at most cents); texts
are compared case-, space- and punctuation-insensitively, without a leading article.
"""

from __future__ import annotations

import re
from fractions import Fraction

from evolm.eval import math_grader
from evolm.eval.tasks.base import TaskSpec
from evolm.eval.tasks.hub import HubSource, HubTask, evolm_row

FAMILY = "tabmwp"
NAME = ("evolm.tabmwp/6: answer region (no bare line); numbers to 1e-6 relative, else normalized text (\\text{} unwrapped, "
        "a leading article dropped)")
GOLD_HINT = "expected a non-empty gt_answer"

_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)(/\d+)?$")


def number(answer: str) -> float | None:
    text = math_grader.normalize(answer)
    text = re.sub(r"\\frac\{(-?\d+)\}\{(\d+)\}", r"\1/\2", text)
    text = math_grader.plain_number(text)  # 12 dollars, 5 cm^2, 3/hour (not 3/4); 1,200 is 1200, 4,5 is not 45
    if text is None or not _NUMBER.match(text):
        return None
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return None


def _text(answer: str) -> str:
    """Case, spaces, punctuation and a leading article dropped: "Which costs more, a red pen or a mug?"
    is answered "a red pen" as readily as "red pen" (SynthTable's gold)."""
    text = re.sub(r"^(a|an|the)\s+", "", math_grader.unwrap_text(answer).strip().lower())
    return re.sub(r"[\s.,;:!?'\"$]+", "", text)  # \text{Friday} is Friday


def gold(row: dict) -> str | None:
    answer = row.get("gt_answer")
    return answer.strip() if isinstance(answer, str) and answer.strip() else None


def extract(completion: str) -> str | None:
    region = math_grader.extract_answer(completion)
    return region.strip() if region is not None and region.strip() else None


def equivalent(predicted: str, gold: str) -> bool:
    a, b = number(predicted), number(gold)
    if a is not None and b is not None:
        return abs(a - b) <= 1e-6 * max(1.0, abs(b))
    if (a is None) != (b is None):
        return False
    return _text(predicted) == _text(gold)


# The paper's test set, rebuilt from the hub (evolm/eval/tasks/hub.py loads it).
TABMWP_HEAD = "You are given a table with the following data:\n\n"
TABMWP_MID = "\n\nBased on the table, answer the following question:\n\n"


def tabmwp_to_row(record: dict) -> dict:
    """TabMWP test1k record + `idx` -> row (table text and question; no title, unit or choices)."""
    answer = str(record["answer"])
    problem = f"{TABMWP_HEAD}{record['table']}{TABMWP_MID}{record['question']}"
    return evolm_row(f"TabMWP-{int(record['idx'])}", problem, answer, answer)


TASKS = (
    TaskSpec("TabMWP", "ood", "ood", "hub", hub=HubTask(
        "TabMWP",
        (HubSource("Arietem/tabmwp", None, None, "c14d8162c9a668a01b55ab11e450863fecda81ce",
                   filename="problems_test1k.json"),),
        tabmwp_to_row, "CC BY-NC-SA 4.0", "approximate",
        "the test1k subset in file order; EvoLM's own source (a test.jsonl with idx) is not public, so "
        "the row order and ids are inferred, not verified", rows=1000, hub_rows=1000)),
    TaskSpec("SynthTableBasic", "ood", "synth-ood", "synth"),  # two or three rows: the basic math ladder tier as a table
    TaskSpec("SynthTable", "ood", "synth-ood", "synth"),
)
