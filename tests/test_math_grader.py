"""The math grader shared by the RL reward and evaluation."""

import json
import random

import pytest

from evolm.eval.math_grader import answers_match, extract_answer, gold_answer, last_boxed
from evolm.eval.tasks import base, math


def grade(completion, gold):
    return base.grade(math, completion, gold)


def reward(completion, gold):
    return base.reward(math, completion, gold)


@pytest.mark.parametrize(
    "text, answer",
    [("so \\boxed{\\frac{1}{2}} done", "\\frac{1}{2}"), ("\\boxed{1} then \\boxed{2}", "2"),
     ("\\boxed{\\{1,2\\}}", "\\{1,2\\}"), ("The answer is 42.", "42"), ("blah\n#### 1,000", "1,000"),
     ("\\boxed 5", "5"), ("no answer here", None), ("\\fbox{x^2}", "x^2")],
)
def test_extraction(text, answer):
    assert extract_answer(text) == answer


@pytest.mark.parametrize(
    "pred, gold, correct",
    [("2\\sqrt{3}", "2\\sqrt{5}", False), ("2\\sqrt{3}", "2\\sqrt{3}", True), ("\\sqrt{3}", "\\sqrt{3}", True),
     ("\\frac 54", "5/4", True), ("1,000", "1000", True), ("\\$18.90", "18.90", True), ("0.5", "\\frac{1}{2}", True),
     ("x = 5", "5", True), ("7", "8", False), ("\\text{(C)}", "\\text{(C)}", True), ("(1, 2)", "(2, 1)", False)],
)
def test_answers_match(pred, gold, correct):
    assert answers_match(pred, gold) is correct


def test_reward_is_binary_and_needs_an_answer():
    assert reward("so the result is \\boxed{12}", "12") == 1.0
    assert reward("so the result is \\boxed{13}", "12") == 0.0
    assert reward("I do not know", "12") == 0.0
    assert grade("\\boxed{2\\sqrt{3}}", "2\\sqrt{3}") == ("2\\sqrt{3}", True)
    assert last_boxed("\\boxed{a{b}c") is None


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("stem", ["GSM8KPlatinum", "MATHLevel1", "MATHLevel2", "MATHLevel3", "MATHLevel4", "MATHHard"])
def test_reward_on_the_papers_test_sets(stem, paper_benchmarks):
    """Own gold solution -> 1 for >= 99%; another problem's solution -> 1 for <= 1% (equal golds aside)."""
    rows = _rows(paper_benchmarks / f"{stem}.jsonl")
    sample = random.Random(0).sample(range(len(rows)), 120)
    golds = [gold_answer(r) for r in rows]
    own = sum(reward(rows[i]["gt_solution"], golds[i]) for i in sample) / len(sample)
    pairs = [(i, (i + len(rows) // 2) % len(rows)) for i in sample]
    pairs = [(i, j) for i, j in pairs if not answers_match(golds[j], golds[i])]
    other = sum(reward(rows[j]["gt_solution"], golds[i]) for i, j in pairs) / len(pairs)
    assert own >= 0.99 and other <= 0.01, (own, other)
