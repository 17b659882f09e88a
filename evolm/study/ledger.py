"""The compute ledger of a study: what each node's training cost, read from its checkpoint's manifest
(`compute`: FLOPs, trained and generated tokens, wall time, device-hours, tokens/s, MFU), summed by
stage, along each lineage (a node's own FLOPs plus its ancestors': the compute behind that model),
and over the study. Nodes not trained yet carry the plan's estimate instead, marked as such and
kept out of the measured totals.

Evaluation is counted apart (`eval_flops`: 2 x parameters x the tokens each `evolm eval` result of
the node and its exports says it processed): it is spent on a model, not part of what made it. An rm
node's are its policies' draws (the samples it is trained on); its scoring of other nodes is counted
in their results.
"""

from __future__ import annotations

from dataclasses import dataclass

from evolm.checkpoint import MANIFEST
from evolm.manifest import shared_flops
from evolm.study.plan import Node, Plan


@dataclass
class Entry:
    node: Node
    measured: bool  # the checkpoint exists: its manifest's numbers; else the plan's estimate
    flops: float | None
    lineage_flops: float | None  # own + ancestors' (None when any of them is unknown)
    wall_time_s: float | None = None
    device_hours: float | None = None
    tokens_per_s: float | None = None
    mfu: float | None = None
    trained_tokens: int | None = None
    generated_tokens: int | None = None
    eval_flops: float = 0.0

    def row(self) -> dict:
        return {"id": self.node.id, "name": self.node.label, "stage": self.node.stage, "measured": self.measured,
                "parent": self.node.parent.label if self.node.parent else None, "flops": self.flops,
                "lineage_flops": self.lineage_flops, "wall_time_s": self.wall_time_s, "device_hours": self.device_hours,
                "tokens_per_s": self.tokens_per_s, "mfu": self.mfu, "trained_tokens": self.trained_tokens,
                "generated_tokens": self.generated_tokens, "eval_flops": self.eval_flops}


def _entry(node: Node, parent: Entry | None) -> Entry:
    from evolm.checkpoint import CheckpointError, load_checkpoint

    manifest = None
    if (node.path / MANIFEST).is_file():
        try:
            manifest = load_checkpoint(node.path, verify="none").manifest
        except CheckpointError:
            manifest = None  # unreadable: counted as not trained (its plan estimate)
    if manifest is None:
        own, entry = node.flops, None
    else:
        c = manifest.compute
        own = c.flops
        entry = dict(wall_time_s=c.wall_time_s, device_hours=c.device_hours, tokens_per_s=c.tokens_per_s, mfu=c.mfu,
                     trained_tokens=c.trained_tokens, generated_tokens=c.generated_tokens)
    above = 0.0 if parent is None else parent.lineage_flops
    if manifest is not None and above is not None:
        above += shared_flops(manifest.compute, manifest.schedule)  # a WSD branch's model holds its stable run's first tokens
    lineage = None if own is None or above is None else own + above
    return Entry(node, manifest is not None, own, lineage, **(entry or {}), eval_flops=eval_flops(node))


def eval_flops(node: Node) -> float:
    """The FLOPs the node's evaluation results (its own and its exports') record."""
    import json

    from evolm.study.held_out import samples_dir

    folders = [target / "eval" for target in [node.path, *node.exports()]]
    if node.reward is not None:
        folders = [samples_dir(node.path.parent, node) / policy.label for policy in node.policies]
    total = 0.0
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            try:
                result = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            total += (result.get("compute") or {}).get("flops") or 0.0 if isinstance(result, dict) else 0.0
    return total


def build(plan: Plan) -> list[Entry]:
    """One entry per node, parents first (the plan's order)."""
    entries: dict[str, Entry] = {}
    for node in plan.nodes:
        entries[node.id] = _entry(node, entries.get(node.parent.id) if node.parent else None)
    return list(entries.values())


def totals(entries: list[Entry]) -> dict:
    """Measured sums by stage and over the study, and what the plan estimates for the rest."""
    def add(rows: list[Entry]) -> dict:
        return {"nodes": len(rows), "flops": sum(e.flops or 0 for e in rows),
                "wall_time_s": round(sum(e.wall_time_s or 0 for e in rows), 3),
                "device_hours": round(sum(e.device_hours or 0 for e in rows), 6),
                "trained_tokens": sum(e.trained_tokens or 0 for e in rows),
                "generated_tokens": sum(e.generated_tokens or 0 for e in rows),
                "eval_flops": sum(e.eval_flops for e in rows)}

    measured = [e for e in entries if e.measured]
    stages = list(dict.fromkeys(e.node.stage for e in entries))
    return {"measured": add(measured),
            "by_stage": {s: add([e for e in measured if e.node.stage == s]) for s in stages},
            "planned_remaining_flops": sum(e.flops or 0 for e in entries if not e.measured)}
