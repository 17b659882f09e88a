"""Per-sample records of one task: appended as they are made, so an interrupted evaluation resumes.

Each line is one problem: prompt, completions, extracted answers, verdicts, the majority vote and
reward-model scores, tagged with the hash of the evaluation's identity (`run`). On a restart,
records of the same identity are kept and their problems are not generated again; records of
another identity (changed model, task file or settings) are discarded, which `evolm eval` allows
only with --overwrite (evolm.eval.existing refuses before). A line cut by a crash is dropped.
"""

from __future__ import annotations

import json
from pathlib import Path

from evolm.eval.metrics import majority
from evolm.fsutil import atomic_write_text
from evolm.jsonl import append_jsonl, complete_prefix, dumps
from evolm.eval.tasks.base import Task


def build_record(task: Task, row: dict, prompt: str, completions: list[str], greedy: bool, run: str) -> dict:
    gold = task.grader.gold(row)
    graded = [task.grade(c, gold) for c in completions]
    answers = [a for a, _ in graded]
    correct = [ok for _, ok in graded]
    samples = answers[1:] if greedy else answers
    return {
        "id": row["id"], "run": run, "prompt": prompt, "gold": gold, "greedy": greedy,
        "completions": completions, "answers": answers, "correct": correct,
        "majority": majority(samples, task.grader.equivalent) if samples else None,
    }


def pending_samples(samples_path: Path) -> Path:
    """Where an evaluation that replaces a finished result writes its records until it is complete
    (`<Task>.samples.pending.jsonl`), so that the finished result keeps its own meanwhile."""
    return samples_path.with_name(samples_path.name.removesuffix(".samples.jsonl") + ".samples.pending.jsonl")


def finish_replacement(result: dict | None, samples_path: Path) -> bool:
    """Complete a replacement stopped between its two last steps. An evaluation that replaces a finished
    result writes its new result first and then moves its records from the pending file over the old
    ones: a pending file of the very run the result names is committed, only not yet moved; it is moved
    here (True). In that order every stop leaves a state the next evaluation in the folder can tell:
    before the result is written, the old result and its samples are whole (the pending file resumes)."""
    pending = pending_samples(samples_path)
    if result is None or not result.get("run") or samples_run(pending) != result["run"]:
        return False
    pending.replace(samples_path)
    return True


def samples_run(path: Path) -> str | None:
    """The evaluation (run hash) a samples file's first record belongs to; None without one."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline()
        record = json.loads(first) if first.endswith(b"\n") else None
    except (OSError, ValueError):
        return None
    return record.get("run") if isinstance(record, dict) else None


class SampleLog:
    def __init__(self, path: Path, run: str, legacy: str | None = None):
        # legacy: the same evaluation's hash as an earlier evolm wrote it (evolm.eval.identity.legacy_run_hash)
        self.path, self.run, self.legacy = Path(path), run, legacy

    def load(self) -> dict[str, dict]:
        """Finished problems of this run, by id (empty when the file belongs to another run)."""
        if not self.path.is_file():
            return {}
        lines, good_bytes = complete_prefix(self.path)  # drops a half-written last line from a crash
        records: dict[str, dict] = {}
        for _, record in lines:
            if record.get("run") not in (self.run, self.legacy):
                self.path.unlink()
                return {}
            records[record["id"]] = record
        if any(r.get("run") != self.run for r in records.values()):  # records of the legacy hash: now this run's
            for record in records.values():
                record["run"] = self.run
            self.rewrite(records.values())
        elif good_bytes != self.path.stat().st_size:
            with open(self.path, "r+b") as handle:
                handle.truncate(good_bytes)
        return records

    def append(self, records: list[dict]) -> None:
        append_jsonl(self.path, records)

    def rewrite(self, records) -> None:
        """The file holding only `records` (written whole, then renamed over it)."""
        atomic_write_text(self.path, "".join(dumps(r, sort_keys=False) + "\n" for r in records))
