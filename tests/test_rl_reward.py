"""The RL reward is the evaluation verdict: on every row of every real test set in the repository,
a pool row naming the task's grader gets, for its own solution and for another row's, exactly the
verdict `evolm eval` records for the same completion; and those verdicts are right (own solutions
pass, other problems' solutions fail: GSM8K and MATH >= 99.5% / <= 1%)."""

import pytest

from evolm.eval import math_grader
from evolm.eval.records import build_record
from evolm.eval.tasks import truth
from evolm.eval.tasks.registry import paper_tasks, row_grader, task
from evolm.jsonl import read_rows
from evolm.stages.rl import reward_function


@pytest.mark.parametrize("stem", [spec.name for spec in paper_tasks()])
def test_reward_equals_the_evaluation_verdict(stem, paper_benchmarks):
    t = task(stem, paper_benchmarks)
    rows = read_rows(t.path)
    pool_rows = [dict(row, grader=stem) for row in rows]  # a pool row says which task family grades it
    graders = [row_grader(r) for r in pool_rows]
    assert {g.FAMILY for g in graders} == {t.grader.FAMILY}
    golds = [g.gold(r) for g, r in zip(graders, pool_rows)]
    own_pass = other_pass = other_count = 0
    # the out-of-domain files' solutions are bare answers ("Uncertain", "34.35"), which the paper's protocol
    # does not read as answers (nothing boxed, no "answer is"): they are graded as a model boxes them
    def said(solution: str) -> str:
        return solution if math_grader.extract_answer(solution) is not None else f"\\boxed{{{solution}}}"

    if t.grader.FAMILY in ("truth", "cruxeval", "tabmwp"):
        assert t.grader.extract(rows[0]["gt_solution"]) is None
    for i, row in enumerate(rows):
        j = (i + 1) % len(rows)
        own, other = said(row["gt_solution"]), said(rows[j]["gt_solution"])
        verdicts = build_record(t, row, "", [own, other], greedy=True, run="test")["correct"]
        rewards = reward_function([own, other], gold=[golds[i]] * 2, grader=[graders[i].FAMILY] * 2)
        assert rewards == [float(v) for v in verdicts], (row["id"], rewards, verdicts)
        own_pass += verdicts[0]
        if math_grader.normalize(golds[j]) != math_grader.normalize(golds[i]):  # another answer, not an equal one
            other_pass += verdicts[1]
            other_count += 1
    assert own_pass / len(rows) >= 0.995, own_pass / len(rows)
    if t.grader is not truth:  # two or three labels: another problem's answer is right by chance
        assert other_pass / other_count <= 0.01, other_pass / other_count


def test_the_reward_follows_the_row_grader():
    """GSM8K-style and MATH-style rows in one pool: each is graded by its own family."""
    completions = ["so it is \\boxed{12}", "#### 12 dollars", "\\boxed{\\frac{1}{2}}", "\\boxed{0.5}"]
    golds = ["12", "12", "0.5", "\\frac{1}{2}"]
    assert reward_function(completions, gold=golds, grader=["gsm8k", "gsm8k", "math", "math"]) == [1.0, 1.0, 1.0, 1.0]
    assert reward_function(["#### 12 dollars"], gold=["12"], grader=["math"]) == [0.0]  # the math grader keeps units
    assert reward_function(["so \\boxed{4}"], gold=["4"]) == [1.0]  # no grader column: MATH-style
    assert row_grader({"id": "x"}).FAMILY == "math" and row_grader({"grader": "TabMWP"}).FAMILY == "tabmwp"
