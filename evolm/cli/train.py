"""`evolm pretrain` and `evolm cpt`: the causal-LM trainer's commands."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from evolm.cli.common import CheckpointOutOption, ConfigOption, JsonOption, OverwriteOption, ResumeOption, emit
from evolm.cli.options import with_options
from evolm.stages.lm_run import Overrides
from evolm.training.rundir import say_what_is_kept
from evolm.units import parse_count, parse_counts


def emit_result(out: Path, payload, as_json: bool) -> None:
    """Every process of a run returns its checkpoint; only the main one prints it."""
    from evolm.training.processes import is_main_process

    if is_main_process():
        emit(out, payload, as_json)


@with_options(overrides=Overrides)
def pretrain(
    model: str = typer.Option(..., "--model", help="Model preset (see `evolm presets`)."),
    tokens: str = typer.Option(..., "--tokens", help="Token budget: 80B, 2M, or 20x (tokens per parameter)."),
    data: Path = typer.Option(..., "--data", help="Token shards from `evolm data prepare`."),
    out: Path = CheckpointOutOption,
    tokenizer: Optional[Path] = typer.Option(None, "--tokenizer", help="Tokenizer directory (default: the one the shards record)."),
    branch_at: Optional[str] = typer.Option(None, "--branch-at", help="With --schedule wsd: smaller budgets (250K,500K) whose decay can later branch off this run; it saves its state where each one's decay starts, and where its own does (for larger budgets), in OUT.branches/ (OUT.branches.partial/ until OUT is written)."),
    branch_from: Optional[Path] = typer.Option(None, "--branch-from", help="A WSD run made with --branch-at: train only the decay of budget --tokens from its saved state (the same model, data and settings; its warmup), or, for a budget it saved no state for (smaller or larger than its own), the rest of the stable phase too, from its latest state before that decay."),
    overrides: Overrides = None,
    resume: bool = ResumeOption, overwrite: bool = OverwriteOption, as_json: bool = JsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """Pre-train a preset from scratch on token shards (the paper's recipe; bf16 on CUDA, fp32 on CPU)."""
    from evolm.stages import pretrain as stage

    budget = parse_count(tokens, what="token budget", allow_per_param=True)
    with say_what_is_kept(out):
        checkpoint = stage.run(model=model, tokens=budget, data=data, out=out, tokenizer=tokenizer, overrides=overrides,
                               resume=resume, overwrite=overwrite, branch_from=branch_from,
                               branch_at=tuple(parse_counts(branch_at, what="--branch-at")) if branch_at else ())
    emit_result(out, _summary(checkpoint), as_json)


def _summary(checkpoint) -> dict:
    m = checkpoint.manifest
    return {"signature": checkpoint.signature, "stage": checkpoint.stage, "steps": m.schedule.steps_done,
            "tokens": m.schedule.tokens_done, "val_loss": m.outcome.val_loss, "wall_time_s": m.compute.wall_time_s,
            "tokens_per_s": m.compute.tokens_per_s, "mfu": m.compute.mfu}


@with_options(overrides=Overrides)
def cpt(
    parent: Path = typer.Argument(..., metavar="PARENT", help="Parent checkpoint (usually a pre-trained one)."),
    domain: List[str] = typer.Option(..., "--domain", help="Domain shards and budget, SHARDS:BUDGET (e.g. shards/math:42B); repeatable."),
    replay: Optional[List[str]] = typer.Option(None, "--replay", help="Replay shards and budget, SHARDS:BUDGET (e.g. shards/web:8B); repeatable."),
    out: Path = CheckpointOutOption,
    overrides: Overrides = None,
    resume: bool = ResumeOption, overwrite: bool = OverwriteOption, as_json: bool = JsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """Continue pre-training PARENT on a domain mixture with optional replay (weights only; fresh optimizer and schedule)."""
    from evolm.stages import cpt as stage

    with say_what_is_kept(out):
        checkpoint = stage.run(parent=parent, domain=list(domain), replay=list(replay or []), out=out,
                               overrides=overrides, resume=resume, overwrite=overwrite)
    emit_result(out, _summary(checkpoint), as_json)
