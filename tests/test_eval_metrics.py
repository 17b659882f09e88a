"""Pass@k, Maj@K (with its documented tie-break), correct ratio, RM@K and group means."""

import math
from math import comb

import pytest

from evolm.eval.metrics import group_metrics, item_scores, majority, mean_and_stderr, pass_at_k, task_metrics


@pytest.mark.parametrize("n, c, k", [(16, 0, 1), (16, 1, 1), (16, 3, 4), (16, 8, 16), (10, 9, 5), (5, 2, 3), (100, 7, 10)])
def test_unbiased_pass_at_k_matches_the_closed_form(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))


def test_pass_at_1_is_the_correct_fraction_and_pass_at_n_is_any_correct():
    assert pass_at_k(16, 4, 1) == pytest.approx(0.25)
    assert pass_at_k(16, 1, 16) == 1.0 and pass_at_k(16, 0, 16) == 0.0


def same(a, b):
    return a.replace(" ", "") == b.replace(" ", "")


def test_majority_clusters_by_the_graders_equivalence():
    assert majority(["1/2", "3", "1 / 2", None, "3", "1/2"], same) == 0  # {1/2 x3} beats {3 x2}


def test_majority_tie_goes_to_the_answer_seen_first():
    assert majority(["7", "5", "5", "7"], same) == 0
    assert majority(["5", "7", "7", "5"], same) == 0
    assert majority([None, "9", "8"], same) == 1


def test_majority_of_no_answers_is_none():
    assert majority([None, None], same) is None


def record(correct, answers=None, greedy=True, majority_index=None, rm=None):
    r = {"correct": correct, "answers": answers or [("x" if ok else "y") for ok in correct], "greedy": greedy,
         "majority": majority_index}
    if rm is not None:
        r["rm_scores"] = rm
    return r


def test_task_metrics_on_known_records():
    records = [
        # greedy right; samples: 2 of 4 right, the majority (sample 0) right; the reward model
        # scores sample 1 highest, and it is wrong
        record([True, True, False, True, False], majority_index=0, rm=[0.0, 0.1, 0.95, 0.5, 0.2]),
        # greedy wrong; samples all wrong; one completion without an answer
        record([False, False, False, False, False], answers=["y", None, "y", "y", "y"], majority_index=1, rm=[0, 1, 2, 3, 4]),
    ]
    m = task_metrics(records)
    assert m["pass@1"]["value"] == 0.5
    assert m["pass@4"]["value"] == 0.5
    assert m["maj@4"]["value"] == 0.5
    assert m["correct_ratio"]["value"] == 0.5 and m["correct_ratio"]["n"] == 1  # over problems with a correct sample
    assert m["correct_ratio_all"]["value"] == 0.25
    assert m["pass@1_unbiased"]["value"] == pytest.approx(0.25)
    assert m["pass@2_unbiased"]["value"] == pytest.approx((1 - comb(2, 2) / comb(4, 2)) / 2)
    assert m["rm@4"]["value"] == 0.0
    assert m["rm_score"]["value"] == pytest.approx((0.1 + 0.95 + 0.5 + 0.2) / 8 + (1 + 2 + 3 + 4) / 8)
    assert m["no_answer"]["value"] == pytest.approx(0.1)
    assert m["pass@1"]["stderr"] == pytest.approx(0.5)


def test_rows_of_one_computation_are_one_cluster_in_the_standard_error():
    values = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    plain = mean_and_stderr(values)
    # every value its own cluster: the usual sd / sqrt(n)
    assert plain[1] == pytest.approx(math.sqrt(sum((v - 0.5) ** 2 for v in values) / 5 / 6))
    assert mean_and_stderr(values, list("abcdef")) == pytest.approx(plain)
    # two computations asked twice, right or wrong together, and two asked once: deviations summed per
    # cluster +1, -1, +0.5, -0.5, over G = 4 clusters
    mean, se = mean_and_stderr(values, ["a", "a", "b", "b", "c", "d"])
    assert mean == 0.5 and se == pytest.approx(math.sqrt(4 / 3 * (1 + 1 + 0.25 + 0.25)) / 6) and se > plain[1]
    assert mean_and_stderr([1.0, 0.0], ["a", "a"]) == (0.5, None)  # one cluster: no error estimate
    with pytest.raises(ValueError):  # a label short: refused, never a silently shorter sum
        mean_and_stderr(values, ["a"] * 5)
    # the metrics and the per-problem values carry the clusters through
    records = [record([v == 1.0]) for v in values]
    clusters = ["a", "a", "b", "b", "c", "d"]
    m = task_metrics(records, clusters)
    assert m["pass@1"]["stderr"] == pytest.approx(se) and m["pass@1"]["clusters"] == 4
    assert "clusters" not in task_metrics(records)["pass@1"]
    assert item_scores(list(range(6)), [{"pass@1": v} for v in values], clusters)["clusters"] == clusters


def test_group_means_are_unweighted_over_tasks():
    a = {"pass@1": {"value": 0.2, "stderr": 0.03, "n": 1000}}
    b = {"pass@1": {"value": 0.6, "stderr": 0.04, "n": 10}}
    g = group_metrics({"A": a, "B": b})
    assert g["pass@1"]["value"] == pytest.approx(0.4)
    assert g["pass@1"]["stderr"] == pytest.approx(0.025)


def test_a_task_clusters_rows_by_reference_solution_and_a_row_without_one_alone():
    from pathlib import Path

    from evolm.eval.tasks.base import Task, TaskSpec

    task = Task(TaskSpec("SynthMathBasic1", "id", "synth-id", "synth", cluster_by="solution"), Path("unused.jsonl"), None)
    rows = [{"id": "a", "gt_solution": "1 + 2 = 3."}, {"id": "b", "gt_solution": "1 + 2 = 3."},
            {"id": "c", "gt_solution": "2 + 2 = 4."}, {"id": "d"}, {"id": "e"}]
    labels = task.clusters(rows)
    assert labels[0] == labels[1] and len(set(labels)) == 4  # d and e are not one cluster
    plain = Task(TaskSpec("GSM8KPlatinum", "id", "id", "hub"), Path("unused.jsonl"), None)
    assert plain.clusters(rows) is None
