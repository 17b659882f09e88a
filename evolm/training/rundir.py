"""The directory of an unfinished run (`OUT.partial/`) and the record that guards `--resume`.

`run.json` holds everything that must not change between an interrupted run and its resumption
(stage, knobs, data, hyperparameters). A resume with any of them changed is refused, naming them.
It also records settings that may change on resume (`MAY_CHANGE`: the experiment tracker, which
does not touch the weights); a resume with another value updates the record and says so.

A run folder may hold no resume state (none saved yet, or `--save-every 0`): `--resume` then
starts again from step 0 and says so, and every message about the folder (an existing one, Ctrl-C)
says whether a rerun with `--resume` continues or starts over.

Once a run has written OUT it marks OUT.partial as done (`WRITTEN`, OUT's manifest hash) before it
hands over what it staged (a WSD run's branch states) and removes OUT.partial. A run stopped in that
stretch (a kill while it deletes gigabytes of optimizer states) leaves OUT finished and OUT.partial
behind; the next command for OUT finishes that cleanup (evolm.stages.outputs) instead of taking the
folder for an interrupted run, and a study does so for the nodes it finds done.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Iterator

from evolm import jsontext
from evolm.checkpoint import MANIFEST
from evolm.console import log
from evolm.errors import BadInput
from evolm.fsutil import (atomic_write_bytes, atomic_write_text, check_output_dir, claim_output, hold_output, make_dir,
                           sha256_bytes, write_json)
from evolm.jsonl import complete_prefix

RUN = "run.json"
METRICS = "metrics.jsonl"
STATE = "state"
"""The causal-LM trainer's resume states: `state/step-N/`, complete once its trainer.json is written."""
# Top-level record keys a resumed run may change (with their value when a record lacks them): they
# decide where the run reports, not what it trains.
MAY_CHANGE = {"report_to": "none"}
WRITTEN = "written.json"
"""In OUT.partial once OUT is written: OUT's manifest hash (what is left is the run's cleanup)."""


def partial_dir(out: Path) -> Path:
    return Path(out).with_name(Path(out).name + ".partial")


def mark_written(partial: Path, manifest_sha256: str) -> None:
    """Called once OUT is written, before the run's hand-over and the removal of OUT.partial (`remove_written`)."""
    if Path(partial).is_dir():
        write_json(Path(partial) / WRITTEN, {"manifest_sha256": manifest_sha256})


def cleanup_left(out: Path) -> bool:
    """Whether OUT.partial is what the run that wrote OUT left when it was stopped after writing it
    (marked with OUT's manifest hash), not an interrupted run (an --overwrite rerun's, beside the old OUT)."""
    try:
        marked = json.loads((partial_dir(out) / WRITTEN).read_text(encoding="utf-8"))["manifest_sha256"]
        return marked == sha256_bytes((Path(out) / MANIFEST).read_bytes())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def remove_written(partial: Path) -> None:
    """Remove the folder of a run that has written its checkpoint, its mark (`WRITTEN`) last: a run stopped
    while this deletes gigabytes of saved states still leaves the mark that `finish_cleanup` goes by."""
    partial = Path(partial)
    with contextlib.suppress(OSError):
        for child in partial.iterdir():
            if child.name != WRITTEN:
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
    shutil.rmtree(partial, ignore_errors=True)


def check_outputs(out: Path, *, resume: bool, overwrite: bool, inputs: dict[str, Path | None] | None = None) -> Path:
    """Refuse to clobber a finished checkpoint or an interrupted run unless told to, and an output that
    is one of the run's `inputs` (what each is: the path), holds one or lies in one (the final rename
    over OUT would delete a parent checkpoint or shards the run read); return OUT.partial. (A stage calls
    it through evolm.stages.outputs, which first finishes what a run that wrote OUT left when stopped.)"""
    claim_output(out)  # first: a second run with this --out is refused as that, before it checks or clears anything
    check_output_dir(out, overwrite=overwrite, marker=MANIFEST, what="evolm checkpoint", inputs=inputs)
    partial = partial_dir(out)
    if partial.exists() and not resume and not overwrite:
        if saved_step(partial):
            raise BadInput(f"An interrupted run exists at {partial}; pass --resume to continue it or --overwrite to start over.")
        raise BadInput(f"An interrupted run exists at {partial}, without a resume state (a rerun with --resume starts "
                       "again from step 0); pass --resume or --overwrite to start over.")
    if resume and not (partial / RUN).is_file():  # here, not only when the run folder opens: a stage's own
        # files written before that (a WSD run's branch index, a branch's origin) would stay behind a refusal
        raise BadInput(f"Nothing to resume: {partial} holds no interrupted run.")
    return partial


def latest_state(run_dir: Path) -> int:
    """The step of the causal-LM trainer's newest complete resume state in a run folder (0 when none)."""
    steps = [int(p.name[5:]) for p in (Path(run_dir) / STATE).glob("step-*")
             if p.name[5:].isdigit() and (p / "trainer.json").is_file()]
    return max(steps, default=0)


def saved_step(run_dir: Path) -> int:
    """The step a `--resume` of this run folder continues from (0: it starts over): the causal-LM
    trainer's newest state, or TRL's newest complete `checkpoint-N/` (with its trainer_state.json)."""
    trl = [int(p.name[11:]) for p in Path(run_dir).glob("checkpoint-*")
           if p.name[11:].isdigit() and (p / "trainer_state.json").is_file()]
    return max([latest_state(run_dir), *trl])


def nothing_saved(run_dir: Path) -> str:
    """The warning of a `--resume` that finds no state to continue from."""
    return (f"warning: {run_dir} holds no resume state (none was saved before the run stopped; --save-every sets how "
            "often), so the run starts again from step 0, and its metrics.jsonl with it")


@contextlib.contextmanager
def say_what_is_kept(out: Path) -> Iterator[None]:
    """Ctrl-C while a run is on: the interruption carries one sentence on what was kept, which the
    CLI prints with its exit code 130 (a rerun needs to know whether --resume continues or restarts)."""
    try:
        yield
    except KeyboardInterrupt:
        partial = partial_dir(out)
        if cleanup_left(out):
            kept = f"{out} was written before the stop; the next command for {out} removes {partial}, which its run left"
        elif not partial.is_dir():
            kept = f"nothing was kept (no {partial})"
        elif saved_step(partial):
            kept = f"{partial} kept, with a resume state at step {saved_step(partial)}: rerun with --resume to continue"
        else:
            kept = (f"{partial} kept, without a resume state (--save-every sets how often one is saved): a rerun with "
                    "--resume starts again from step 0")
        raise KeyboardInterrupt(kept) from None


def open_run_dir(run_dir: Path, record: dict, *, resume: bool, main: bool = True) -> None:
    """Check an interrupted run against `record` (resume), or start a fresh run directory."""
    run_dir = Path(run_dir)
    record_path = run_dir / RUN
    if main:  # the run has passed its checks: from here it writes OUT.partial, and no other run may
        hold_output(run_dir.with_name(run_dir.name.removesuffix(".partial")))
    if resume:
        if not record_path.is_file():
            raise BadInput(f"Nothing to resume: {run_dir} holds no interrupted run.")
        previous = json.loads(record_path.read_text())
        record = json.loads(jsontext.dumps(record, default=str))  # tuples -> lists, as they were stored
        changed = _changed({k: v for k, v in previous.items() if k not in MAY_CHANGE},
                           {k: v for k, v in record.items() if k not in MAY_CHANGE})
        if changed:
            micro = (previous.get("config") or {}).get("micro_batch") if "micro_batch" in changed else None
            # the micro batch a stage chose itself follows from the number of processes, which is not recorded
            hint = (f" (the micro batch follows from the global batch and the number of processes: resume on as "
                    f"many processes as the run had, or pass --micro-batch {micro})") if micro else ""
            raise BadInput(f"Cannot resume {run_dir}: the run was started with different settings ({', '.join(changed)}){hint}; "
                           "use the original settings, or --overwrite to start over.")
        moved = [k for k, default in MAY_CHANGE.items() if previous.get(k, default) != record.get(k, default)]
        if moved and main:
            log("note: resuming with " + ", ".join(f"{k} {record.get(k)} (was {previous.get(k)})" for k in moved))
            write_json(record_path, {**previous, **{k: record.get(k) for k in moved}})
        return
    if main:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        make_dir(run_dir)
        atomic_write_text(record_path, jsontext.dumps(record, indent=2, sort_keys=True, default=str))


def open_run_dir_once(run_dir: Path, record: dict, *, resume: bool, processes, tidy=None) -> None:
    """`open_run_dir` for a run of one or more processes (`processes`: accelerate's Accelerator or
    PartialState). Once every process has checked the outputs, the main process creates OUT.partial
    (on --resume every process checks the record, and the main one runs `tidy`). An error there is
    raised on every process, so none waits at a later barrier for a main process that has failed.
    """
    processes.wait_for_everyone()
    failure = None
    try:
        open_run_dir(run_dir, record, resume=resume, main=processes.is_main_process)
        if resume and tidy is not None and processes.is_main_process:
            tidy()
    except Exception as exc:  # noqa: BLE001 - re-raised below, on every process
        failure = exc
    if processes.num_processes > 1:
        import torch.distributed as dist

        verdicts = [None] * processes.num_processes
        dist.all_gather_object(verdicts, None if failure is None else str(failure))  # also the barrier
        if failure is None and any(verdicts):
            raise BadInput(f"Another process could not prepare {run_dir}: {next(v for v in verdicts if v)}")
    if failure is not None:
        raise failure


def _changed(previous: dict, record: dict) -> list[str]:
    """Names of the settings that differ; nested `config` keys are named one by one."""
    names = []
    for key in sorted(set(previous) | set(record)):
        old, new = previous.get(key), record.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and key == "config":
            names += [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        else:
            names.append(key)
    return names


def truncate_metrics(path: Path, step: int) -> None:
    """On resume, drop metric lines logged after the state we resume from (every line when it is
    step 0: the run starts over), a final summary line, and a line cut short by a kill, so
    `metrics.jsonl` holds each step once, as if the run had never stopped."""
    path = Path(path)
    if not path.is_file():
        return
    lines, _ = complete_prefix(path)
    kept = b"".join(line for line, row in lines if row.get("step", 0) <= step and not row.get("final"))
    atomic_write_bytes(path, kept)
