"""True / False / Uncertain answers (BoardgameQA, StrategyQA, SynthRules, SynthFacts).

Detection is by whole word, never by substring: the original pipeline read "unknown" as "no" and
so as False (evolm-paper.md, section 6). Synonyms: yes -> True, no -> False, unknown /
undetermined / cannot be determined -> Uncertain. Inside the answer region (the last \\boxed{},
else after the last "answer is", else a one-line completion) the last label wins.
"""

from __future__ import annotations

import re

from evolm.eval import math_grader
from evolm.eval.tasks.base import TaskSpec, answer_region

FAMILY = "truth"
NAME = "evolm.truth/1: whole-word True/False/Uncertain (yes/no/unknown) in the answer region; last wins"
GOLD_HINT = "expected gt_answer True, False or Uncertain (or yes / no / unknown)"
TASKS = (
    TaskSpec("BoardgameQA500", "ood", "ood", "hub"), TaskSpec("StrategyQA500", "ood", "ood", "hub"),
    TaskSpec("SynthRules", "ood", "synth-ood", "synth"), TaskSpec("SynthFacts", "ood", "synth-ood", "synth"),
)

_LABELS = re.compile(
    r"\b(true|false|uncertain|yes|no|unknown|undetermined|cannot be determined|can ?not be determined)\b", re.IGNORECASE
)
_CANONICAL = {"true": "True", "yes": "True", "false": "False", "no": "False"}


def label(text: str) -> str | None:
    """The last True/False/Uncertain label said in `text`, by whole word."""
    found = _LABELS.findall(text)
    if not found:
        return None
    return _CANONICAL.get(found[-1].lower(), "Uncertain")


def gold(row: dict) -> str | None:
    answer = row.get("gt_answer")
    return label(answer) if isinstance(answer, str) else None


def extract(completion: str) -> str | None:
    region = answer_region(completion, math_grader.extract_answer)
    return label(region) if region is not None else None


def equivalent(predicted: str, gold: str) -> bool:
    return predicted == gold
