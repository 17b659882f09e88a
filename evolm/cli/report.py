"""`evolm report` (tables, plots, runs.csv from a runs folder) and `evolm ls` (what is in it)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from evolm import jsontext
from evolm.cli.common import ConfigOption, JsonOption, OverwriteOption, TableJsonOption, echo_result, emit


def report(
    runs_dir: List[Path] = typer.Argument(..., metavar="RUNS_DIR", help="Folders holding checkpoints (any depth) and their eval results: one, or several (checkpoint folders too), reported together."),
    out: Path = typer.Option(..., "--out", help="Report folder to create: report.md, report.html, runs.csv, runs.json, plots/."),
    overwrite: bool = OverwriteOption, as_json: bool = JsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """Turn folders of checkpoints and eval results into the paper's tables and plots."""
    from evolm.report.build import build_report

    summary = build_report(runs_dir, out, overwrite=overwrite)
    from evolm.console import log

    log(f"report: {summary['checkpoints']} checkpoints, {summary['tables']} tables, {summary['plots']} plots, "
        f"{summary['warnings']} warnings -> {out}/report.md")
    emit(out, summary, as_json)


def ls(
    runs_dir: Path = typer.Argument(..., metavar="RUNS_DIR", help="Folder holding checkpoints (any depth)."),
    as_json: bool = TableJsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """List checkpoints: signature, stage, completion, evaluations, path (unfinished runs too)."""
    from evolm.console import log
    from evolm.report.collect import with_settings
    from evolm.report.listing import list_runs

    entries, warnings = list_runs(runs_dir)
    for warning in warnings:
        log(f"warning: {warning}")
    if as_json:
        echo_result(jsontext.dumps({"checkpoints": entries}, indent=None))
        return
    names = [with_settings(e["signature"] or "(in progress)", e["settings"]) for e in entries]
    width = max(map(len, names), default=0)
    for e, name in zip(entries, names):
        state = "in progress" if e.get("in_progress") else ("complete" if e["completed"] else "INCOMPLETE")
        echo_result(f"{name:<{width}}  {(e['stage'] or '-'):<8}  {state:<11}  "
                   f"{','.join(e['evals']) or '-':<30}  {e['path']}")
