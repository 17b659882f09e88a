"""Downstream metrics from per-problem verdicts: Pass@1, Maj@K, Pass@K, correct ratio, RM@K.

Every metric is a mean over problems, reported with its standard error (sample standard deviation
over problems / sqrt(n); cluster-robust over computations where a task says which rows ask the same
one, `Task.clusters`). Group scores (ID, OOD) are unweighted means of task scores, as in the
paper, with the standard error sqrt(sum of squared task errors) / number of tasks.

A result also keeps its per-problem values (`item_scores`): two models evaluated on the same
problems are compared item by item (evolm.report.estimates), which separates a model difference from
which problems happened to be drawn.
"""

from __future__ import annotations

import json
import math
from typing import Callable, Sequence

from evolm.fsutil import sha256_bytes


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased Pass@k (Chen et al., 2021): 1 - C(n-c, k) / C(n, k), the chance that k of the n
    samples drawn without replacement include a correct one. Computed as a product (no huge
    binomials)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def majority(answers: Sequence[str | None], same: Callable[[str, str], bool]) -> int | None:
    """Index of the majority answer's first occurrence, or None when no sample has an answer.

    Answers are clustered with the grader's own equivalence (so `1/2` and `\\frac{1}{2}` vote
    together): each answer joins the first earlier cluster it is equivalent to. The largest cluster
    wins; a tie goes to the cluster whose first member came first in sample order (deterministic,
    and independent of how answers happen to be spelled).
    """
    clusters: list[list[int]] = []
    for i, answer in enumerate(answers):
        if answer is None:
            continue
        for cluster in clusters:
            if same(answer, answers[cluster[0]]):
                cluster.append(i)
                break
        else:
            clusters.append([i])
    if not clusters:
        return None
    best = max(clusters, key=lambda cluster: (len(cluster), -cluster[0]))
    return best[0]


def mean_and_stderr(values: Sequence[float], clusters: Sequence | None = None) -> tuple[float | None, float | None]:
    """The mean and its standard error. With `clusters` (a label per value), the cluster-robust one:
    deviations summed within each cluster, sqrt(G / (G - 1) * sum over clusters of their square) / n,
    which with every value its own cluster is the usual sd / sqrt(n). Written here because the
    statistics libraries at hand (numpy, scipy) have no cluster-robust SE of a mean."""
    if not values:
        return None, None
    mean = sum(values) / len(values)
    labels = clusters if clusters is not None else range(len(values))
    sums: dict = {}
    for value, label in zip(values, labels, strict=True):
        sums[label] = sums.get(label, 0.0) + value - mean
    if len(sums) < 2:
        return mean, None
    return mean, math.sqrt(len(sums) / (len(sums) - 1) * sum(d * d for d in sums.values())) / len(values)


def unbiased_ks(n: int) -> list[int]:
    """The k reported for the unbiased estimator: powers of two below n, and n itself."""
    ks, k = [], 1
    while k < n:
        ks.append(k)
        k *= 2
    return ks + [n]


def problem_scores(record: dict) -> dict[str, float]:
    """Per-problem values whose means are the task's metrics (see `task_metrics`)."""
    correct = record["correct"]
    has_greedy = record.get("greedy", False)
    greedy = correct[0] if has_greedy else None
    samples = correct[1:] if has_greedy else correct
    scores: dict[str, float] = {}
    if greedy is not None:
        scores["pass@1"] = float(greedy)
    n, c = len(samples), sum(samples)
    if n:
        if not (n == 1 and greedy is not None):  # with one sample, "pass@1" stays the greedy one
            scores[f"pass@{n}"] = float(c > 0)
        for kk in unbiased_ks(n):
            scores[f"pass@{kk}_unbiased"] = pass_at_k(n, c, kk)
        winner = record.get("majority")
        scores[f"maj@{n}"] = float(winner is not None and samples[winner])
        scores["correct_ratio_all"] = c / n
        if c:
            scores["correct_ratio"] = c / n
        rm = record.get("rm_scores")
        if rm:
            sample_rm = rm[1:] if has_greedy else rm
            best = max(range(n), key=lambda i: (sample_rm[i], -i))
            scores[f"rm@{n}"] = float(samples[best])
            scores["rm_score"] = sum(sample_rm) / n
    scores["no_answer"] = sum(a is None for a in record["answers"]) / max(1, len(record["answers"]))
    return scores


def task_metrics(records: Sequence[dict], clusters: Sequence[str] | None = None) -> dict[str, dict]:
    """{metric: {"value", "stderr", "n"}} over problems; with `clusters` (a label per record: the
    computation it asks), cluster-robust standard errors and "clusters": how many the metric spans.

    `correct_ratio` averages only over problems with at least one correct sample (the paper's
    definition); `correct_ratio_all` over every problem.
    """
    per_metric: dict[str, list[float]] = {}
    labels: dict[str, list] = {}
    for i, record in enumerate(records):
        for name, value in problem_scores(record).items():
            per_metric.setdefault(name, []).append(value)
            labels.setdefault(name, []).append(clusters[i] if clusters is not None else i)
    result = {}
    for name in sorted(per_metric):
        mean, stderr = mean_and_stderr(per_metric[name], labels[name])
        result[name] = {"value": mean, "stderr": stderr, "n": len(per_metric[name])}
        if clusters is not None:
            result[name]["clusters"] = len(set(labels[name]))
    return result


def item_scores(ids: Sequence, scores: Sequence[dict[str, float]], clusters: Sequence[str] | None = None) -> dict:
    """{"ids_sha256": hash of the ordered problem ids, metric: [value per problem]} for every metric
    defined on all problems (the correct ratio, defined only where a sample is right, is left out);
    with `clusters`, "clusters": the label per problem, for cluster-robust paired contrasts."""
    names = set.intersection(*(set(s) for s in scores)) if scores else set()
    items: dict = {"ids_sha256": sha256_bytes(json.dumps([str(i) for i in ids]).encode())}
    items.update({name: [round(float(s[name]), 6) for s in scores] for name in sorted(names)})
    if clusters is not None:
        items["clusters"] = list(clusters)
    return items


def group_metrics(task_results: dict[str, dict]) -> dict[str, dict]:
    """Unweighted mean over tasks of every metric all of them report."""
    if not task_results:
        return {}
    common = set.intersection(*(set(m) for m in task_results.values()))
    group = {}
    for name in sorted(common):
        entries = [m[name] for m in task_results.values() if m[name]["value"] is not None]
        if len(entries) != len(task_results):
            continue
        value = sum(e["value"] for e in entries) / len(entries)
        errors = [e["stderr"] for e in entries]
        stderr = None if any(e is None for e in errors) else math.sqrt(sum(e * e for e in errors)) / len(entries)
        group[name] = {"value": value, "stderr": stderr, "tasks": len(entries)}
    return group
