"""Grade completions produced elsewhere (`{id, completions: [...]}` per line) without a model.

So old generations, for instance the original pipeline's, can be re-graded with the exact graders
and metrics of `evolm eval`. With `greedy_first`, the first completion of each line is the greedy
one (Pass@1); the rest are samples.
"""

from __future__ import annotations

from pathlib import Path

from evolm.errors import BadInput
from evolm.eval import existing
from evolm.eval.identity import run_hash
from evolm.eval.metrics import task_metrics
from evolm.eval.records import build_record
from evolm.eval.tasks.base import Task
from evolm.provenance import stamp
from evolm.fsutil import atomic_write_text, make_dir, sha256_file, write_json
from evolm.jsonl import dumps, read_jsonl

RESULT_SCHEMA = "evolm.eval.graded/1"


def read_responses(path: Path, task: Task) -> list[tuple[dict, list[str]]]:
    """(test row, completions) for each response line, in the response file's order."""
    if not Path(path).is_file():
        raise BadInput(f"Responses file {path} does not exist.")
    task.check()
    rows = {row["id"]: row for row in task.rows()}
    pairs, seen = [], set()
    for number, line in read_jsonl(path):
        where = f"{path} line {number}"
        if not isinstance(line, dict) or not isinstance(line.get("id"), str):
            raise BadInput(f"{where} has no string id.")
        completions = line.get("completions")
        if not isinstance(completions, list) or not completions or not all(isinstance(c, str) for c in completions):
            raise BadInput(f"{where} needs 'completions': a non-empty list of strings.")
        if line["id"] not in rows:
            raise BadInput(f"{where} has id {line['id']!r}, which {task.path.name} does not contain.")
        if line["id"] in seen:
            raise BadInput(f"{where} repeats id {line['id']!r}.")
        if pairs and len(completions) != len(pairs[0][1]):  # pass@K and maj@K are over one K
            raise BadInput(f"{where} has {len(completions)} completions, and the first line {len(pairs[0][1])}; "
                           "every problem needs as many.")
        seen.add(line["id"])
        pairs.append((rows[line["id"]], completions))
    if not pairs:
        raise BadInput(f"Responses file {path} holds no responses.")
    return pairs


def grade_responses(path: Path, task: Task, out: Path, *, greedy_first: bool, overwrite: bool = False) -> dict:
    pairs = read_responses(path, task)
    key = {"responses": {"path": str(Path(path).resolve()), "sha256": sha256_file(path)},
           "task": {"name": task.name, "sha256": task.sha256()}, "grader": task.grader.NAME, "greedy_first": greedy_first}
    run = run_hash(key)
    # A grading of other responses or settings is not replaced silently (see evolm.eval.existing).
    existing.check([existing.Planned(task.name, out / f"{task.name}.graded.json", run, key)], overwrite=overwrite)
    records = [build_record(task, row, "", completions, greedy_first, run) for row, completions in pairs]
    for record in records:
        del record["prompt"]  # the prompt is not known for completions made elsewhere
    make_dir(out)
    samples = out / f"{task.name}.graded.jsonl"
    atomic_write_text(samples, "".join(dumps(r, sort_keys=False) + "\n" for r in records))
    result = {"schema": RESULT_SCHEMA, "run": run, "task": task.name, "domain": task.domain, "suite": task.suite, "problems": len(records),
              "metrics": task_metrics(records, task.clusters([row for row, _ in pairs])), "identity": key, "samples_file": samples.name, **stamp()}
    write_json(out / f"{task.name}.graded.json", result)
    return result
