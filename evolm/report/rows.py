"""One flat row per checkpoint: its lineage knobs and every metric its evaluations produced.

Metric columns: `up:<task>` (upstream accuracy), `upstream_avg`, `val_loss` (evaluation) and
`train_val_loss` (from the manifest), `<Task>:<metric>` per downstream task, and `<group>:<metric>`
for the unweighted group means (`id`, `ood`, or `synth-id`, `synth-ood` for the synthetic suites).
Metrics that depend on K are renamed `maj@K`, `pass@K`, `rm@K`; `samples_K` says which K.
"""

from __future__ import annotations

import re
from pathlib import Path

from evolm import stagespec
from evolm.eval.metrics import group_metrics
from evolm.eval.tasks.registry import BUILTIN
from evolm.report.collect import Run


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
        "manifest_sha256": run.manifest_sha256, "preset": knobs.get("pretrain_preset") or (model.preset if model else None),
        "params": model.params if model else None,
    }
    for column in swept_knobs():
        row[column] = knobs.get(column)
    row.update(completed=run.completed, wall_time_s=manifest.compute.wall_time_s, flops=run.compute_flops())
    val = manifest.outcome.val_loss or {}
    row["train_val_loss"] = val.get("pretrain", val.get("replay")) if isinstance(val, dict) else None
    if run.upstream:
        for task, entry in (run.upstream.get("tasks") or {}).items():
            row[f"up:{task}"] = entry.get("value")
        row["upstream_avg"] = run.upstream.get("average")
        row["val_loss"] = (run.upstream.get("val") or {}).get("loss")
    ks = {r.get("identity", {}).get("decoding", {}).get("samples") for r in run.downstream.values()}
    k = ks.pop() if len(ks) == 1 else None
    row["samples_K"] = k
    groups: dict[str, dict[str, dict]] = {}
    for task, result in sorted(run.downstream.items()):
        metrics = {generic(name, k): entry for name, entry in result.get("metrics", {}).items()}
        for name, entry in metrics.items():
            row[f"{task}:{name}"] = entry.get("value")
        groups.setdefault(group_of(task, result), {})[task] = metrics
    for group, members in groups.items():
        for name, entry in group_metrics(members).items():
            row[f"{group}:{name}"] = entry["value"]
        row[f"{group}:tasks"] = ",".join(sorted(members))
    return row


def downstream_groups(row: dict) -> tuple[str | None, str | None]:
    """The (in-domain, out-of-domain) group names a row has results for: the paper's, else synthetic."""
    def pick(domain: str) -> str | None:
        for name in (domain, f"synth-{domain}"):
            if f"{name}:pass@1" in row or f"{name}:pass@K" in row:
                return name
        return None

    return pick("id"), pick("ood")
