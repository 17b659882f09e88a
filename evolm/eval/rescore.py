"""Scoring a finished evaluation's samples with another reward model, instead of generating them again.

A reward model changes only the `rm_scores` of each record, never the completions: they depend on
the model, the task file, the decoding, the backend and the seeds, all in the evaluation's identity.
So when a task's previous result differs from the planned evaluation only in its reward model (none
before, or another one), its per-sample records are kept, scored with the new reward model (or
stripped of the old one's scores) and re-tagged with the new evaluation's hash. In the paper's
protocol that is 16 samples per problem that a policy would otherwise draw again to add RM@k; in
the miniature study it turns F8's re-evaluation of every sampled run into minutes of scoring.
"""

from __future__ import annotations

from pathlib import Path

from evolm.console import Progress, log
from evolm.eval.identity import run_hash
from evolm.fsutil import atomic_write_text
from evolm.jsonl import complete_prefix, dumps


def only_reward_model_differs(previous: dict, key: dict) -> bool:
    """`previous` (a result's stored identity) is `key` but for the reward model."""
    if not isinstance(previous, dict) or previous.get("reward_model") == key.get("reward_model"):
        return False
    return run_hash({**previous, "reward_model": key.get("reward_model")}) == run_hash(key)


def rescore(previous: dict | None, samples_path: Path, key: dict, run: str, problems: dict[str, str], get_scorer,
            *, out: Path | None = None) -> int:
    """Re-tag the records of the task's previous result (as stored, or None) as evaluation `run`, scored by
    `get_scorer()` (None: without reward-model scores), when only the reward model changed; the number of
    records kept, written to `out` (default: over `samples_path`). `problems`: problem text by id (what the
    reward model reads beside each completion). The reward model is loaded only when there is something to score."""
    if previous is None or not only_reward_model_differs(previous.get("identity"), key) or not samples_path.is_file():
        return 0
    lines, _ = complete_prefix(samples_path)
    records = [r for _, r in lines if isinstance(r, dict) and r.get("run") == previous.get("run") and r.get("id") in problems]
    if not records:
        return 0
    scorer = get_scorer()
    what = "scoring them with the reward model" if scorer is not None else "dropping their reward-model scores"
    task = samples_path.name.removesuffix(".samples.jsonl")
    log(f"{task}: only the reward model changed; keeping the {len(records)} finished problems' samples "
        f"and {what}, instead of generating them again")
    with Progress(f"score {task}", len(records), unit="problems") as progress:
        for record in records:
            record.pop("rm_scores", None)
            if scorer is not None:
                record["rm_scores"] = scorer.score(problems[record["id"]], record["completions"])
            record["run"] = run
            progress.update(1)
    # one atomic write: an interrupted scoring leaves the previous records as they were
    atomic_write_text(out or samples_path, "".join(dumps(r, sort_keys=False) + "\n" for r in records))
    return len(records)
