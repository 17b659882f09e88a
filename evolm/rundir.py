"""The directory of an unfinished run (`OUT.partial/`) and the record that guards `--resume`.

`run.json` holds everything that must not change between an interrupted run and its resumption
(stage, knobs, data, hyperparameters). A resume with any of them changed is refused, naming them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from evolm.errors import BadInput
from evolm.fsutil import check_output_dir

RUN = "run.json"
METRICS = "metrics.jsonl"


def partial_dir(out: Path) -> Path:
    return Path(out).with_name(Path(out).name + ".partial")


def check_outputs(out: Path, *, resume: bool, overwrite: bool) -> Path:
    """Refuse to clobber a finished checkpoint or an interrupted run unless told to; return OUT.partial."""
    check_output_dir(out, overwrite=overwrite)
    partial = partial_dir(out)
    if partial.exists() and not resume and not overwrite:
        raise BadInput(f"An interrupted run exists at {partial}; pass --resume to continue it or --overwrite to start over.")
    return partial


def open_run_dir(run_dir: Path, record: dict, *, resume: bool, main: bool = True) -> None:
    """Check an interrupted run against `record` (resume), or start a fresh run directory."""
    run_dir = Path(run_dir)
    record_path = run_dir / RUN
    if resume:
        if not record_path.is_file():
            raise BadInput(f"Nothing to resume: {run_dir} holds no interrupted run.")
        previous = json.loads(record_path.read_text())
        record = json.loads(json.dumps(record))  # tuples -> lists, as they were stored
        changed = _changed(previous, record)
        if changed:
            raise BadInput(f"Cannot resume {run_dir}: the run was started with different settings ({', '.join(changed)}); "
                           "use the original settings, or --overwrite to start over.")
        return
    if main:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)
        record_path.write_text(json.dumps(record, indent=2, sort_keys=True, default=str))


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
    """On resume, drop metric lines logged after the state we resume from, a final summary line,
    and a line cut short by a kill, so `metrics.jsonl` reads as if the run had never stopped."""
    path = Path(path)
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if row.get("step", 0) <= step and not row.get("final"):
            kept.append(line)
    path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
