"""Results already in an evaluation's output folder: reused, resumed, or replaced only with --overwrite.

Decision (issue 13): a results folder holds one result per task (`<Task>.json`, `upstream.json`),
the one `evolm report` reads for its checkpoint. A rerun with other settings (model files, task
file, decoding, grader, backend, reward model, limit) would replace it, so that is refused, before
any work, unless --overwrite is given; an evaluation that holds the finished one replaces nothing that is
lost, so it needs none: adding a reward model (its samples are kept and scored, evolm.eval.rescore), or
samples beside a greedy-only result (evolm.eval.contains). Keeping results of several settings side by side in one
folder was the other choice; it would leave the report to pick one result per task and table for
every checkpoint, and a user to learn which. Both can still be kept: evaluate into another folder
with --out (the report reads results anywhere under the runs folder and warns when the settings
it compares differ). The same settings reuse the finished result or resume its per-sample records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from evolm.errors import BadInput
from evolm.eval.contains import answered_by, holds
from evolm.eval.identity import LOCATIONS, legacy_run_hash, read_result, same_run
from evolm.eval.rescore import only_reward_model_differs
from evolm.eval.records import finish_replacement, pending_samples
from evolm.jsonl import complete_prefix


@dataclass
class Planned:
    """One result an evaluation is about to write."""

    name: str  # the task, or "upstream"
    result: Path  # <Task>.json or upstream.json
    run: str  # the hash of its identity (evolm.eval.identity.run_hash)
    identity: dict
    limit: int | None = None  # downstream records its limit beside the identity (same samples serve any limit)
    samples: Path | None = None  # <Task>.samples.jsonl: the records an interrupted run left


def check(planned: list[Planned], *, overwrite: bool, rescore: bool = False) -> None:
    """Refuse (BadInput) when a planned result would replace one of other settings, unless `overwrite`;
    with `rescore`, unless every planned result is a finished one but for its reward model."""
    # A finished replacement whose records were not yet moved is completed first (no change to anything
    # finished): every evaluation passes here before it reads a result or its samples (evolm.eval.run).
    for plan in planned:
        if plan.samples is not None and plan.result.exists():
            finish_replacement(read_result(plan.result), plan.samples)
    if rescore:
        for plan in planned:
            reason = _not_rescorable(plan)
            if reason:
                raise BadInput(f"{reason}; --rescore changes only the reward model's scores of a finished evaluation.")
        return
    conflicts = [reason for reason in map(_conflict, planned) if reason]
    if conflicts and not overwrite:
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        raise BadInput(f"{conflicts[0]}{more}; pass --overwrite to replace them, or --out DIR to keep both.")


def finished(plan: Planned) -> bool:
    """Nothing to generate for the planned result: it is in its folder already (for the same limit), as
    this evaluation would write it, within one that holds it, or but for the reward model, with all its
    samples kept (they are rescored, evolm.eval.rescore)."""
    previous = read_result(plan.result) if plan.result.exists() else None
    if previous is None or previous.get("limit") != plan.limit:
        return False
    return same_run(previous, plan.run) or answered_by(previous, plan.identity) or _not_rescorable(plan) is None


def rescorable(planned: list[Planned]) -> bool:
    """Whether --rescore can keep every planned result's samples and only score them."""
    return not any(_not_rescorable(plan) for plan in planned)


def _conflict(plan: Planned) -> str | None:
    if plan.result.exists():
        previous = read_result(plan.result)
        if previous is None:
            return f"{plan.result} is not a readable {plan.name} result"
        if same_run(previous, plan.run) and previous.get("limit") == plan.limit:
            return None
        # one that holds the planned one answers it; a result the planned one holds is replaced: nothing is lost
        # (evolm.eval.contains), unless an interrupted replacement of other settings left its records aside
        if previous.get("limit") == plan.limit and answered_by(previous, plan.identity):
            return None
        if previous.get("limit") == plan.limit and holds(plan.identity, previous.get("identity")):
            return _interrupted(plan, pending_samples(plan.samples)) if plan.samples is not None else None
        return _other_settings(previous, plan)
    if plan.samples is not None:
        return _interrupted(plan, plan.samples) or _interrupted(plan, pending_samples(plan.samples))
    return None


def _interrupted(plan: Planned, path: Path) -> str | None:
    """Why records in `path` (a samples file) of another, interrupted evaluation stand in the way, or None."""
    if not path.is_file():
        return None
    lines, _ = complete_prefix(path)
    runs = (plan.run, legacy_run_hash(plan.identity))  # records an earlier evolm wrote of the same evaluation
    if any(isinstance(record, dict) and record.get("run") not in runs for _, record in lines):
        return f"{path} holds samples of an interrupted {plan.name} evaluation with other settings"
    return None


def _not_rescorable(plan: Planned) -> str | None:
    """Why --rescore cannot keep this result's samples and only score them, or None."""
    previous = read_result(plan.result)
    if previous is None:
        return f"{plan.result} is no finished {plan.name} evaluation"
    if previous.get("limit") != plan.limit or not (same_run(previous, plan.run) or
                                                   only_reward_model_differs(previous.get("identity") or {}, plan.identity)):
        return _other_settings(previous, plan, but_reward_model=True)
    if plan.samples is not None and not same_run(previous, plan.run):
        lines, _ = complete_prefix(plan.samples) if plan.samples.is_file() else ([], 0)
        kept = sum(isinstance(r, dict) and r.get("run") == previous.get("run") for _, r in lines)
        if kept < (previous.get("problems") or 0):
            return f"{plan.samples} holds {kept} of the {previous.get('problems')} problems' samples that {plan.result} was made from"
    return None


def _other_settings(previous: dict, plan: Planned, *, but_reward_model: bool = False) -> str:
    """'RESULT holds TASK results of other settings (the first three differences)'; `but_reward_model`:
    leaving out the reward model's (the one difference --rescore allows)."""
    differences = describe(previous.get("identity") or {}, plan.identity)
    if but_reward_model:
        differences = [d for d in differences if not d.startswith("reward_model")]
    if previous.get("limit") != plan.limit:
        differences.append(f"limit {previous.get('limit')}, now {plan.limit}")
    return f"{plan.result} holds {plan.name} results of other settings ({'; '.join(differences[:3]) or 'another evolm version'})"


def describe(old: dict, new: dict, prefix: str = "") -> list[str]:
    """'decoding.samples 2, now 4' for each leaf that differs between two identity mappings; not where a
    model or data lies (a copied checkpoint keeps its results: evolm.eval.identity.LOCATIONS)."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b or key in LOCATIONS:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += describe(a, b, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key} {_short(a)}, now {_short(b)}")
    return out


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 24 else text[:12] + "..."
