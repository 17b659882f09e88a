"""CRUXEval output prediction (and SynthCode): answers are Python literals.

`'abc'` and `"abc"`, `[1, 2]` and `[1,2]`, `(1,)` and `(1, )` are equal; so are `1` and `1.0`
(Python's own ==). Literals are parsed with `ast.literal_eval` (never `eval`), with a size cap so
a runaway completion cannot stall the grader; text that is not a literal is compared verbatim.
"""

from __future__ import annotations

import ast
import re

from evolm.eval import math_grader
from evolm.eval.tasks.base import TaskSpec
from evolm.eval.tasks.hub import HubSource, HubTask, evolm_row, pinned_ids

FAMILY = "cruxeval"
NAME = "evolm.literal/3: answer region (no bare line); ast.literal_eval equality (a bool equals only a bool, at any depth), else stripped-string equality"
MAX_CHARS = 10_000
GOLD_HINT = "expected a non-empty gt_answer"

_NOT_PARSED = object()


def _literal(text: str):
    text = text.strip()
    if len(text) > MAX_CHARS:
        return _NOT_PARSED
    text = re.sub(r"^`+|`+$", "", text).strip()  # `'abc'` in markdown code quotes
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_PARSED


def gold(row: dict) -> str | None:
    answer = row.get("gt_answer")
    return answer if isinstance(answer, str) and answer.strip() else None


def extract(completion: str) -> str | None:
    region = math_grader.extract_answer(completion)
    return region.strip() if region is not None and region.strip() else None


def equivalent(predicted: str, gold: str) -> bool:
    a, b = _literal(predicted), _literal(gold)
    if a is _NOT_PARSED or b is _NOT_PARSED:
        return predicted.strip() == gold.strip()
    try:
        return _same_literal(a, b)
    except Exception:  # noqa: BLE001 - exotic comparisons (and a runaway depth) are unequal, never a crash
        return False


def _same_literal(a, b) -> bool:
    """Python's ==, except that a bool equals only a bool, at any depth, set members and dict keys
    included (Python's `[True] == [1]` and `{True: 1} == {1: 1}`, but `[True]` is not the answer `[1]`)."""
    return _tagged(a) == _tagged(b)


def _tagged(value):
    """A literal with each bool told apart from the numbers (and a list from a tuple), hashable, so that
    == on it is Python's == on the literal otherwise (1 == 1.0, dicts and sets in any order)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_tagged(x) for x in value))
    if isinstance(value, dict):
        return ("dict", frozenset((_tagged(k), _tagged(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(_tagged(x) for x in value))
    return ("value", value)


# The paper's test set, rebuilt from the hub (evolm/eval/tasks/hub.py loads it).
CRUXEVAL_HEAD = "You are given the following function:\n\n"
CRUXEVAL_MID = ("\n\nYou are also given the following input (the order of the input is the same as the "
                "order of the input variables in the function):\n\n")
CRUXEVAL_TAIL = "\n\nWith the given function and input, what would be the output?"


def cruxeval_to_row(record: dict) -> dict:
    """cruxeval-org/cruxeval record -> output-prediction row; gold = `output` (a Python literal)."""
    problem = f"{CRUXEVAL_HEAD}{record['code']}{CRUXEVAL_MID}{record['input']}{CRUXEVAL_TAIL}"
    return evolm_row(f"CRUXEval-{record['id']}", problem, record["output"], record["output"])


TASKS = (
    TaskSpec("CRUXEval", "ood", "ood", "hub", hub=HubTask(
        "CRUXEval", (HubSource("cruxeval-org/cruxeval", None, "test"),), cruxeval_to_row, "MIT", "exact",
        "output prediction over all 800 samples; EvoLM's shuffled order is pinned",
        rows=800, hub_rows=800, pinned_ids=pinned_ids("CRUXEval", "CRUXEval-sample_"))),
    TaskSpec("SynthCodeBasic", "ood", "synth-ood", "synth"),  # one-line functions: the basic math ladder tier as code
    TaskSpec("SynthCode", "ood", "synth-ood", "synth"),
)
