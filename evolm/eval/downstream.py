"""Downstream evaluation of one model on a list of tasks: generate, grade, score, write.

For each task: reuse a finished result of the same identity (model, task file hash, decoding,
grader, backend, reward model, limit); keep its samples when only the reward model changed
(evolm.eval.rescore); otherwise resume from the per-sample records, generate the
chunks with missing problems (each chunk is on disk before the next starts), grade them, and
write `<Task>.json` (metrics + provenance) beside `<Task>.samples.jsonl`.

Chunks are cut from the full problem list, never from the problems left to do: a chunk's batches,
and so their sampling seeds (`generate.prompt_seed`, from a batch's first prompt), are then the
same in a fresh run and in a resumed one, and a resumed samples file is byte for byte the file of an
uninterrupted run. A chunk a kill cut short is generated again whole; only its missing records are
appended (those on disk are its first ones, in order, since each chunk is appended in order).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from evolm.console import Progress, log
from evolm.eval import compute
from evolm.eval.generate import Decoding, render_prompts
from evolm.eval.identity import legacy_run_hash, read_result, run_hash, same_run
from evolm.eval.metrics import group_metrics, item_scores, problem_scores, task_metrics
from evolm.eval.contains import adds_samples, answered_by, what_it_adds
from evolm.eval.records import SampleLog, build_record, pending_samples, samples_run
from evolm.eval.rescore import rescore
from evolm.eval.tasks.base import Task
from evolm.provenance import stamp
from evolm.fsutil import write_json

RESULT_SCHEMA = "evolm.eval.downstream/1"


class Generator:
    """The model side, loaded on first use: a run whose results all exist loads no model."""

    def __init__(self, make_backend: Callable[[], object], make_reward_model: Callable[[], object] | None,
                 backend_name: str, reward_model: dict | None, *, tokenizer=None, params: int | None = None,
                 dtype: str | None = None):
        self._make_backend, self._make_rm = make_backend, make_reward_model
        self.dtype = dtype  # a compute dtype asked for that is not the backend's default here (--vllm-dtype), else None
        self.backend_name, self.reward_model = backend_name, reward_model
        self.tokenizer, self.params = tokenizer, params  # what the compute ledger counts with
        self._backend = self._rm = None

    @property
    def backend(self):
        if self._backend is None:
            self._backend = self._make_backend()
        return self._backend

    def close(self) -> None:
        """Release the backend's engine (vLLM's holds most of a GPU) once its model is evaluated."""
        close = getattr(self._backend, "close", None)
        if callable(close):
            close()
        self._backend = None

    @property
    def scorer(self):
        if self._make_rm is not None and self._rm is None:
            self._rm = self._make_rm()
        return self._rm


def identity_key(model: dict, task: Task, decoding: Decoding, generator: Generator) -> dict:
    """What makes an evaluation's completions and grades what they are. A compute dtype asked for against
    the backend's default (`--vllm-dtype float32` on a GPU, where vLLM serves bf16) is part of it, since its
    completions are others; the default is not, which keeps the identity of every result made before
    (the default differs between a CPU, float32, and a GPU, bf16: `hardware` in the result says which)."""
    return {"model": model, "task": {"name": task.name, "sha256": task.sha256()}, "decoding": decoding.key(),
            "grader": task.grader.NAME, "backend": generator.backend_name, "reward_model": generator.reward_model,
            **({"dtype": generator.dtype} if generator.dtype else {})}


def evaluate_task(task: Task, model: dict, decoding: Decoding, generator: Generator, out_dir: Path,
                  *, limit: int | None, chunk: int = 16) -> dict:
    key = identity_key(model, task, decoding, generator)
    run = run_hash(key)
    result_path = out_dir / f"{task.name}.json"
    stored = read_result(result_path)  # the task's result in this folder, of whatever evaluation
    samples_path = out_dir / f"{task.name}.samples.jsonl"
    if stored is not None and stored.get("limit") == limit and same_run(stored, run):
        log(f"{task.name}: reusing the finished result in {result_path}")
        return stored
    if stored is not None and stored.get("limit") == limit and answered_by(stored, key):
        log(f"{task.name}: reusing the finished result in {result_path} (it also holds {what_it_adds(stored, key)})")
        return stored
    if stored is not None and not same_run(stored, run) and adds_samples(key, stored.get("identity")):
        log(f"{task.name}: the finished result in {result_path} is this evaluation's greedy half; generating it "
            "again with the samples, and replacing it")
    rows = task.rows(limit)
    # A finished result this evaluation replaces keeps its samples until the new ones are complete: the
    # new records (those rescored from it included) go to a side file, renamed over them just after the
    # new result is written, so that an interruption leaves the old result whole and a rerun resumes (and
    # a stop between the two steps is completed by the next evaluation here, in evolm.eval.existing.check).
    pending = pending_samples(samples_path)
    replacing = samples_run(pending) == run  # an interrupted replacement of this evaluation: resumed
    if not replacing:
        if pending.is_file():  # another's (evolm.eval.existing refused it, unless --overwrite)
            pending.unlink()
        replacing = stored is not None and not same_run(stored, run) and samples_run(samples_path) == stored.get("run")
        if replacing:
            # every record of the finished evaluation is kept, not only those within this --limit (they serve any limit)
            every = rows if limit is None else task.rows(None)
            rescore(stored, samples_path, key, run, {row["id"]: row["problem"] for row in every}, lambda: generator.scorer,
                    out=pending)
    samples = SampleLog(pending if replacing else samples_path, run, legacy_run_hash(key))
    done = samples.load()
    # A record is this evaluation's only if it was generated in the chunk this evaluation cuts around it:
    # the transformers backend's samples depend on the batches a chunk forms (generate.prompt_seed). A
    # --limit cuts its last chunk short ([8, 10] where the whole file has [8, 12]), and --batch-size sets
    # the chunk size; records of another cut are generated again (records without one are older, kept).
    chunks = [rows[start:start + chunk] for start in range(0, len(rows), chunk)]
    spans = {row["id"]: [start, start + len(part)] for start, part in zip(range(0, len(rows), chunk), chunks) for row in part}
    other_cut = [i for i, record in done.items() if i in spans and record.get("chunk", spans[i]) != spans[i]]
    if other_cut:
        log(f"{task.name}: generating {len(other_cut)} problems again, whose records were cut into other chunks "
            "(another --limit or --batch-size)")
        for i in other_cut:
            del done[i]
        samples.rewrite(done.values())
    todo = sum(row["id"] not in done for row in rows)
    if done and todo:
        log(f"{task.name}: resuming, {len(rows) - todo} of {len(rows)} problems already done")
    started = time.monotonic()
    with Progress(f"eval {task.name}", len(rows), unit="problems") as progress:
        progress.update(len(rows) - todo)
        for part in chunks:
            if all(row["id"] in done for row in part):
                continue
            prompts = render_prompts(generator.backend.tokenizer, [row["problem"] for row in part])
            completions = generator.backend.generate_prompts(prompts, decoding)  # the whole chunk: same batches, same seeds
            missing = [(row, prompt, comps) for row, prompt, comps in zip(part, prompts, completions) if row["id"] not in done]
            records = [build_record(task, row, prompt, comps, decoding.greedy, run) | {"chunk": spans[row["id"]]}
                       for row, prompt, comps in missing]
            if generator.scorer is not None:
                for (row, _, _), record in zip(missing, records):
                    record["rm_scores"] = generator.scorer.score(row["problem"], record["completions"])
            samples.append(records)
            for record in records:
                done[record["id"]] = record
            progress.update(len(records))
    ordered = [done[row["id"]] for row in rows]
    clusters = task.clusters(rows)  # the computation each row asks, where the task knows (a synthetic basic tier)
    result = {
        "schema": RESULT_SCHEMA, "run": run, "task": task.name, "domain": task.domain, "suite": task.suite, "limit": limit,
        "problems": len(ordered), "metrics": task_metrics(ordered, clusters), "identity": key,
        "items": item_scores([r["id"] for r in ordered], [problem_scores(r) for r in ordered], clusters),
        "samples_file": samples_path.name, "wall_time_s": round(time.monotonic() - started, 2),
        "compute": compute.record(compute.downstream_tokens(ordered, generator.tokenizer) if generator.tokenizer else None,
                                  generator.params), **stamp(),
    }
    write_json(result_path, result)  # first: a stop before the move below is completed by existing.check
    if samples.path != samples_path:
        samples.path.replace(samples_path)
    return result


def suite_summary(results: dict[str, dict]) -> dict:
    """Per task metrics and the ID / OOD group means (unweighted over tasks, as the paper)."""
    groups = {}
    for domain in ("id", "ood"):
        members = {name: r["metrics"] for name, r in results.items() if r["domain"] == domain}
        if members:
            groups[domain] = {"tasks": sorted(members), "metrics": group_metrics(members)}
    # each task's own decoding: a result that answered this evaluation may hold more than was asked
    # (samples beside the greedy completion, evolm.eval.contains), and its metrics are of what it holds
    return {"tasks": {name: {"domain": r["domain"], "problems": r["problems"], "metrics": r["metrics"], "file": f"{name}.json",
                             "decoding": (r.get("identity") or {}).get("decoding")}
                      for name, r in results.items()}, "groups": groups}

