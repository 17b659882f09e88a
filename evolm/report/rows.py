"""One flat row per checkpoint: its lineage knobs and every metric its evaluations produced.

Metric columns: `up:<task>` (upstream accuracy), `upstream_avg`, `val_loss` (evaluation) and
`train_val_loss` (from the manifest), `<Task>:<metric>` per downstream task, and `<group>:<metric>`
for the unweighted group means (`id`, `ood`, or `synth-id`, `synth-ood` for the synthetic suites).
Metrics that depend on K are renamed `maj@K`, `pass@K`, `rm@K`; `samples_K` says which K.

Every metric with a standard error has a sibling column `<column>:se` (`up:<task>:se`,
`upstream_avg:se`, `<Task>:<metric>:se`, `<group>:<metric>:se`), so a comparison of two rows can say
whether its difference is more than noise (evolm.report.estimates). `tokens_done` and `completed`
tell an exported mid-run checkpoint (its `pretrain_tokens` is the run's planned budget;
`export_count` the count asked for with `--export-at`) from a run that finished its schedule;
`seed` tells replicates apart.

`_items` (not written to runs.csv / runs.json) holds, per metric column, the per-problem values
behind it: {task: (hash of the ordered problem ids, [value per problem])}, for paired comparisons.
`_settings` (not written either) holds the lineage's training settings but the seed
(`evolm.report.collect.lineage_settings`): rows that differ in them are not replicates. `settings`
names the ones that tell a row from rows of the same signature trained otherwise ("lr=0.01").
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

from evolm import stagespec
from evolm.eval.metrics import group_metrics
from evolm.eval.tasks.registry import BUILTIN
from evolm.report.collect import Run, labelled_settings, lineage_data, lineage_resolver, lineage_seeds

ITEMS = "_items"
SETTINGS = "_settings"
SEEDS = "_seeds"  # the lineage's seeds, oldest first ((stage, seed), ...): what tells replicates apart
# {average column: {task: that task's column}}: what each mean over tasks (upstream_avg, synth-id:pass@1)
# averaged, so that two means over different tasks are compared on the tasks they share
MEMBERS = "_members"
# the data each run of the lineage trained on (`collect.lineage_data`): replicates share it, whatever their seeds
DATA = "_data"
# the manifest hashes of the run's lineage, oldest first, its own last: replicates descending from the same
# ancestors are paired by them in a contrast (`estimates.lineage_seed_var`)
LINEAGE = "_lineage"
PRIVATE = (ITEMS, SETTINGS, SEEDS, MEMBERS, DATA, LINEAGE)  # columns the findings read that runs.csv / runs.json leave out


def swept_knobs() -> list[str]:
    """The lineage knob columns, from the stage specs: pretrain_tokens, cpt_domain_tokens, ..."""
    return [spec.column(knob) for spec, knob in stagespec.knob_columns()]


def generic(metric: str, k: int | None) -> str:
    if k and k > 1:
        metric = re.sub(rf"^(maj|rm|pass)@{k}$", r"\1@K", metric)
    return metric


def group_of(task: str, result: dict) -> str:
    """The report group of a task's result: the suite its declaration puts it in (recorded in the
    result; looked up for results written before it was recorded), else its domain."""
    if result.get("suite"):
        return result["suite"]
    spec = BUILTIN.specs.get(task)
    return spec.suite if spec is not None else result.get("domain", "id")


def build_row(run: Run, root: Path) -> dict:
    knobs = run.knobs()
    manifest = run.manifest
    model = manifest.model
    row: dict = {
        "path": str(run.path.relative_to(root)) if run.path.is_relative_to(root) else str(run.path),
        "signature": run.signature, "stage": run.stage, "parent": manifest.parent.signature if manifest.parent else None,
        "base": run.base_signature(),
        "manifest_sha256": run.manifest_sha256, "parent_sha256": run.parent_sha256, "preset": knobs.get("pretrain_preset") or (model.preset if model else None),
        "params": model.params if model else None, LINEAGE: tuple(e.manifest_sha256 for e in run.lineage),
    }
    for column in swept_knobs():
        row[column] = knobs.get(column)
    row.update(completed=run.completed, tokens_done=manifest.schedule.tokens_done,
               export_count=manifest.schedule.settings.get("export_count"), seed=_seed(run),
               wall_time_s=manifest.compute.wall_time_s, flops=run.compute_flops())
    val = manifest.outcome.val_loss or {}
    row["train_val_loss"] = val.get("pretrain", val.get("replay")) if isinstance(val, dict) else None
    items: dict[str, dict] = {}
    row[ITEMS] = items
    members: dict[str, dict[str, str]] = {}
    row[MEMBERS] = members
    if run.upstream:
        tasks = run.upstream.get("tasks") or {}
        for task, entry in tasks.items():
            row[f"up:{task}"] = entry.get("value")
            row[f"up:{task}:se"] = _number(entry.get("stderr"))
            _add_items(items, f"up:{task}", task, entry.get("items"), entry.get("metric"))
        _group_items(items, "upstream_avg", [f"up:{task}" for task in tasks])
        members["upstream_avg"] = {task: f"up:{task}" for task in tasks}
        row["upstream_avg"] = run.upstream.get("average")
        # The average is an unweighted mean of independent task scores: its SE is sqrt(sum se^2) / n,
        # as for the downstream groups (evolm.eval.metrics.group_metrics); unknown if any task lacks one.
        errors = [row[f"up:{task}:se"] for task in tasks]
        row["upstream_avg:se"] = (math.sqrt(sum(e * e for e in errors)) / len(errors)
                                  if errors and row["upstream_avg"] is not None and None not in errors else None)
        row["val_loss"] = (run.upstream.get("val") or {}).get("loss")
    # K per task: a run may sample only the tasks a finding reads (the mini study samples its in-domain
    # tasks for F6 and scores the others greedily); samples_K is the one K it sampled with, if one.
    task_k = {task: r.get("identity", {}).get("decoding", {}).get("samples") for task, r in run.downstream.items()}
    sampled = {k for k in task_k.values() if k}
    row["samples_K"] = sampled.pop() if len(sampled) == 1 else (None if sampled else (0 if task_k else None))
    # the temperature the samples were drawn at (the paper's 1), where one was used
    temperatures = {r.get("identity", {}).get("decoding", {}).get("temperature") for task, r in run.downstream.items()
                    if task_k[task]}
    row["samples_temperature"] = temperatures.pop() if len(temperatures) == 1 else None
    groups: dict[str, dict[str, dict]] = {}
    for task, result in sorted(run.downstream.items()):
        k = task_k[task]
        metrics = {generic(name, k): entry for name, entry in result.get("metrics", {}).items()}
        for name, entry in metrics.items():
            row[f"{task}:{name}"] = entry.get("value")
            row[f"{task}:{name}:se"] = _number(entry.get("stderr"))
        for name in result.get("metrics", {}):
            _add_items(items, f"{task}:{generic(name, k)}", task, result.get("items"), name)
        groups.setdefault(group_of(task, result), {})[task] = metrics
    for group, tasks in groups.items():
        for name, entry in group_metrics(tasks).items():
            row[f"{group}:{name}"] = entry["value"]
            row[f"{group}:{name}:se"] = entry["stderr"]
            _group_items(items, f"{group}:{name}", [f"{task}:{name}" for task in tasks])
            members[f"{group}:{name}"] = {task: f"{task}:{name}" for task in tasks}
        row[f"{group}:tasks"] = ",".join(sorted(tasks))
    return row


def add_settings(rows: list[dict], runs: list[Run]) -> None:
    """Each row's `_settings` (its lineage's training settings, `lineage_settings`) and `settings`: what
    tells it from rows of the same signature trained otherwise ("lr=0.01"; empty when none is)."""
    run_for = lineage_resolver(runs)  # one per report: an ancestor outside the folder is read once
    labelled, seeds = labelled_settings(runs, run_for), lineage_seeds(runs, run_for)
    for row in rows:
        row[SETTINGS], row["settings"] = labelled[row["manifest_sha256"]]
        row[SEEDS] = seeds[row["manifest_sha256"]]
    data = lineage_data(runs, run_for)
    alike: dict[tuple, set] = {}
    for row in rows:
        row[DATA] = data[row["manifest_sha256"]]
        alike.setdefault((row["signature"], row[SETTINGS]), set()).add(row[DATA])
    for row in rows:  # runs that would be replicates but for their data: named apart
        if len(alike[(row["signature"], row[SETTINGS])]) > 1:
            digest = hashlib.sha256(repr(row[DATA]).encode()).hexdigest()[:8]
            row["settings"] = ", ".join(part for part in (row["settings"], f"data {digest}") if part)


def _add_items(items: dict, column: str, task: str, stored: dict | None, metric: str | None) -> None:
    """{task: (ids hash, values, cluster labels or None)} (evolm.eval.metrics.item_scores)."""
    if stored and metric in stored and stored.get("ids_sha256"):
        items[column] = {task: (stored["ids_sha256"], stored[metric], stored.get("clusters"))}


def _group_items(items: dict, column: str, members: list[str]) -> None:
    """A mean over tasks pairs item by item only when every task has its per-problem values."""
    if members and all(m in items for m in members):
        items[column] = {task: vec for m in members for task, vec in items[m].items()}


def _seed(run: Run):
    """The run's seed: the manifest's, else the one in its schedule settings (as the sweep checks read it)."""
    return run.manifest.seed if run.manifest.seed is not None else run.manifest.schedule.settings.get("seed")


def _number(value) -> float | None:
    """A standard error as a float; lm-eval writes "N/A" where it computed none."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


def downstream_groups(row: dict) -> tuple[str | None, str | None]:
    """The (in-domain, out-of-domain) group names a row has results for: the paper's, else synthetic."""
    def pick(domain: str) -> str | None:
        for name in (domain, f"synth-{domain}"):
            if f"{name}:pass@1" in row or f"{name}:pass@K" in row:
                return name
        return None

    return pick("id"), pick("ood")
