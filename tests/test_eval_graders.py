"""Each grader family on tricky cases, and the graders on the paper's real test sets."""

import json

import pytest

from evolm.eval import math_grader
from evolm.eval.tasks import cruxeval, gsm8k, math, tabmwp, truth


@pytest.mark.parametrize("pred, gold, ok", [
    ("2\\sqrt{3}", "2\\sqrt{5}", False),  # the original pipeline cut both to 2
    ("\\frac 54", "5/4", True),
    ("\\sqrt{3}", "\\sqrt{3}", True),  # never matched itself when fed bare
    ("\\dfrac{1}{2}", "\\frac12", True),
    ("x = 5", "5", True),
    ("(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)", True),
    ("10", "11", False),
])
def test_math_equivalence(pred, gold, ok):
    assert math.equivalent(pred, gold) is ok


@pytest.mark.parametrize("pred, gold, ok", [
    ("1,000", "1000", True),
    ("$12", "12", True),
    ("12 dollars", "12", True),
    ("12.00", "12", True),
    ("\\$1,234.50", "1234.5", True),
    ("-3", "3", False),
    ("120", "12", False),
    ("4,5", "45", False),  # a comma that is not a thousands separator
    ("1{,}000", "1000", True),
    ("$12.50/hour", "12.5", True),  # units with / or ^
    ("12 ft^2", "12", True),
    ("1e6", "1", False),  # a digit in a unit only as a power
    ("5x^2", "5", False),  # an expression, not 5 of a unit
    ("3 m^2", "3", True),
    ("7 r 2", "7", False),
    ("\\frac{3}{4}", "0.75", True),  # not a plain number: falls back to math-verify
])
def test_gsm8k_numbers(pred, gold, ok):
    assert gsm8k.equivalent(pred, gold) is ok


def test_gsm8k_native_answer_form():
    assert gsm8k.extract("so she pays 3 * 4 = 12\n#### 1,012") == "1,012"
    assert gsm8k.gold({"gt_solution": "He has 5.\n#### 5", "gt_answer": None}) == "5"
    assert gsm8k.equivalent(gsm8k.extract("#### 1,012"), "1012")


@pytest.mark.parametrize("completion, label", [
    ("The answer is unknown.", "Uncertain"),  # not "no", so not False
    ("\\boxed{Uncertain}", "Uncertain"),
    ("It cannot be determined from the rules.\nThe answer is uncertain", "Uncertain"),
    ("The answer is no.", "False"),
    ("The answer is yes", "True"),
    ("\\boxed{False}", "False"),
    ("False", None),  # a bare line is no answer (test_a_completion_without_a_box_or_an_answer_is_line_has_no_answer)
    ("We know nothing about the noble cat. The answer is True", "True"),  # "know", "nothing", "noble" are not "no"
    ("First it looks true, but rule 2 overrides it, so the answer is false", "False"),
    # the first label after "answer is" is the answer, not a word of the explanation that follows it
    ("The answer is True because the dog does not attack, so there is no conflict.", "True"),
    ("The answer is yes, because no human can do that.", "True"),
    ("The answer is Uncertain, since we cannot tell whether the cat is true to its word.", "Uncertain"),
    ("The answer is False: no rule applies, so it is not true.", "False"),
    ("#### Step 1: the rules\nThe answer is True.", "True"),
    ("The answer is not true.", None),  # False or Uncertain: no answer
    ("The answer is that it isn't true.", None),
    ("The answer is neither true nor false.", "Uncertain"),
    ("The answer is: it can't be determined.", "Uncertain"),
    ("\\boxed{disproved}", "False"),  # BoardgameQA's own labels
    ("The answer is proved.", "True"),
    ("The answer is neither proved nor disproved, so Uncertain.", "Uncertain"),
    ("The answer is: it cannot be disproved.", "Uncertain"),
    ("The answer is not disproved.", None),
    ("The answer is: it isn’t true.", None),
    ("The answer is: it cannot be true.", None),
    ("I am not sure what to say about this long rambling text\nthat spans lines", None),
])
def test_truth_labels_by_whole_word(completion, label):
    assert truth.extract(completion) == label


@pytest.mark.parametrize("pred, gold, ok", [
    ("'abc'", '"abc"', True),
    ("[1, 2]", "[1,2]", True),
    ("(1,)", "(1, )", True),
    ("{'a': 1}", "{'a':1}", True),
    ("1", "1.0", True),
    ("True", "1", False),
    ("1", "'1'", False),
    ("[1, 2]", "(1, 2)", False),
    ("[1]", "[True]", False),  # a bool is only a bool inside containers too (Python's [1] == [True])
    ("{'a': [False]}", "{'a': [0]}", False),
    ("{(1,)}", "{(True,)}", False),  # set members and dict keys too
    ("{1: 'a'}", "{True: 'a'}", False),
    ("{'x': {1, 2}}", "{'x': {2, 1}}", True),
    ("[True, 2]", "[True, 2]", True),
    ("f(x)", "f(x)", True),  # not literals: compared as text
])
def test_cruxeval_literals(pred, gold, ok):
    assert cruxeval.equivalent(pred, gold) is ok


@pytest.mark.parametrize("pred, gold, ok", [
    ("$34.35", "34.35", True),
    ("34.350", "34.35", True),
    ("1,200", "1200", True),
    ("3/4", "0.75", True),
    ("\\frac{3}{4}", "3/4", True),
    ("Nonlinear.", "nonlinear", True),
    ("linear", "nonlinear", False),
    ("34.36", "34.35", False),
    ("\\text{nonlinear}", "nonlinear", True),  # models box words in \\text{}
    ("\\textbf{Friday}", "Friday", True),
    ("4,5", "45", False),
    ("12 cm^2", "12", True),
    ("$3/hour", "3", True),
    ("12 dollars and 50 cents", "12", False),
    ("5", "five", False),
    ("a red pen", "red pen", True),  # "Which costs more, a red pen or a mug?"
    ("The mug", "mug", True),
    ("area", "rea", False),  # a word, not an article
])
def test_tabmwp_numbers_or_text(pred, gold, ok):
    assert tabmwp.equivalent(pred, gold) is ok


@pytest.mark.parametrize("task, completion, gold, ok", [
    # a markdown heading "#### ..." is not GSM8K's answer line; "answer is" comes first
    (math, "## Step 1\n#### Step 2: solve\nSo x=5. The answer is 5.", "5", True),
    (gsm8k, "#### Step 1\nHe pays 12.\nThe answer is 12.", "12", True),
    (tabmwp, "#### Step 1\nThe answer is 34.35.", "34.35", True),
    (cruxeval, "#### Tracing f\nThe answer is 'abc'.", "'abc'", True),
    # markdown emphasis and display blocks after "answer is"
    (math, "The final answer is **5**.", "5", True),
    (gsm8k, "The final answer is **12**.", "12", True),
    (cruxeval, "The answer is **'abc'**.", "'abc'", True),
    (math, "The answer is:\n$$\n\\frac{1}{2}\n$$", "\\frac{1}{2}", True),
    (math, "The answer is:\n\\[ \\frac{1}{2} \\]", "\\frac{1}{2}", True),
    (math, "The answer is x_1 + x_2.", "x_1 + x_2", True),  # a subscript is not emphasis
    # "Enter all the solutions, separated by commas" (MATH-precalculus-528): in any order, never one number
    (math, "\\boxed{70, 110}", "70,110", True),
    (math, "\\boxed{70^\\circ, 110^\\circ}", "70,110", True),
    # but "70,110" also reads as one number: only its own order is its list, so "234, 1" is not 1,234
    (math, "\\boxed{110, 70}", "70,110", False),
    (math, "\\boxed{234, 1}", "1,234", False),
    (math, "\\boxed{7, 5, 3}", "3, 5, 7", True),  # an unambiguous list in any order
    (math, "The answer is x = 1,000.", "1000", True),
    # GSM8K's answer line as models write it; the later of it and "answer is" is the final answer
    (gsm8k, "#### 25%", "25", True),
    (gsm8k, "#### **7**", "7", True),
    (gsm8k, "#### 7 (apples)", "7", True),
    (gsm8k, "Let's see what the answer is: the total.\nSo 3 + 4 = 7\n#### 7", "7", True),
    (gsm8k, "#### 1. Setup\nThen we add.", "1", False),  # a numbered heading is not an answer
    # emphasis only around the whole answer: inside it, it is the answer's own
    (cruxeval, "The answer is '**a**'.", "'**a**'", True),
    (math, "The answer is *5*.", "5", True),
    (math, "\\boxed{3, 5}", "3, 5, 7", False),
    (math, "\\boxed{[-36104]}", "[-36,104]", False),  # the comma of an interval is not a thousands separator
    (math, "\\boxed{58500}", "58,500", True),  # one number written with a separator still is that number
    # "answer is" reads its sentence, not the rest of the line
    (tabmwp, "The answer is 34.35. She spends the rest on food.", "34.35", True),
    (cruxeval, "The answer is 'abc'. This is because f reverses it twice.", "'abc'", True),
    (math, "The answer is 5. I hope this helps.", "5", True),
    (math, "The answer is C. The others fail.", "C", True),
    (cruxeval, "The answer is 'Hello. World'. It joins them.", "'Hello. World'", True),  # not cut inside a quote
    (cruxeval, "The answer is ['A. B', 'C']. Done.", "['A. B', 'C']", True),
    (tabmwp, "The answer is 3.5 liters. Then we stop.", "3.5", True),  # 3.5 is not cut at its point
    (tabmwp, "The answer is \\text{Friday}. It has the most.", "Friday", True),
    (tabmwp, "The answer is Ms. Weston. She sold the most.", "Ms. Weston", True),  # a title is not a sentence end
    (math, "\\boxed{(1, 2)}", "(2, 1)", False),  # a tuple keeps its order
])
def test_final_answers_as_models_write_them(task, completion, gold, ok):
    extracted = task.extract(completion)
    assert (extracted is not None and task.equivalent(extracted, gold)) is ok, extracted


def test_a_completion_without_a_box_or_an_answer_is_line_has_no_answer():
    """The paper's protocol: the last \\boxed{}, else after the last "answer is"; nothing found is wrong.
    A bare line was an answer in these families until their grader versions truth/4, literal/3 and
    tabmwp/5, which read "Yes, the dog is not proved, so False" as True (its first label)."""
    assert truth.extract("Yes, the dog is not proved, so False") is None
    assert cruxeval.extract("'hello'") is None and tabmwp.extract("34.35") is None
    assert tabmwp.extract("The table shows\nmany things") is None
    assert cruxeval.extract("Let me think.\nThe answer is [1, 2].") == "[1, 2]"
    assert truth.extract("So the answer is False.") == "False" and truth.extract("\\boxed{Uncertain}") == "Uncertain"


def test_a_grader_never_hangs(monkeypatch):
    import time

    monkeypatch.setattr(math_grader, "TIMEOUT_S", 1)
    start = time.monotonic()
    assert math.equivalent("9^{9^{9^{9}}}", "1") is False
    assert time.monotonic() - start < 10
    assert cruxeval.equivalent("[" * 5000 + "]" * 5000, "[]") is False  # recursion limit, not a crash



@pytest.mark.parametrize("stem, grader", [
    ("GSM8KPlatinum", gsm8k), ("MATH500", math), ("MATHHard", math), ("MATHLevel1", math), ("MATHLevel2", math),
    ("MATHLevel3", math), ("MATHLevel4", math), ("CRUXEval", cruxeval), ("TabMWP", tabmwp),
    ("BoardgameQA500", truth), ("StrategyQA500", truth)])
def test_every_gold_answer_said_as_models_say_it_is_right(stem, grader, paper_benchmarks):
    """Each gold answer of the paper's test files, boxed or after "The answer is" with a sentence after it,
    grades right: the sentence cut must not cut an answer ("Ms. Weston", TabMWP) nor miss a letter ("A").
    (One MATH gold holds a line break, which no "answer is" line can say.)"""
    rows = [json.loads(line) for line in (paper_benchmarks / f"{stem}.jsonl").read_text().splitlines()]
    wrong = []
    for row in rows:
        gold = grader.gold(row)
        for said in (f"\\boxed{{{gold}}}", f"The answer is {gold}.", f"The answer is {gold}. That is all."):
            answer = grader.extract(said)
            if "\n" not in gold and not (answer is not None and grader.equivalent(answer, gold)):
                wrong.append((row["id"], said))
    assert not wrong, wrong[:5]
