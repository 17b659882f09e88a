"""`evolm pretrain` and `evolm cpt`: the causal-LM trainer's commands."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from evolm.cli.common import ConfigOption, JsonOption, OverwriteOption, emit
from evolm.units import parse_count


def emit_result(out: Path, payload, as_json: bool) -> None:
    """Every process of a run returns its checkpoint; only the main one prints it."""
    from evolm.training.processes import is_main_process

    if is_main_process():
        emit(out, payload, as_json)


def _overrides(options: dict):
    """The training knobs among a command's options (`locals()`), as the stage's Overrides."""
    import dataclasses

    from evolm.stages.lm_run import Overrides

    values = {f.name: options[f.name] for f in dataclasses.fields(Overrides)}
    if values["val_tokens"] is None:
        del values["val_tokens"]
    else:
        values["val_tokens"] = int(parse_count(values["val_tokens"], what="--val-tokens"))
    return Overrides(**values)


SEQ_LEN = typer.Option(None, "--seq-len", help="Tokens per sequence (preset default: 2048 for the paper's models).")
GLOBAL_BATCH = typer.Option(None, "--global-batch", help="Sequences per optimizer step across all processes.")
MICRO_BATCH = typer.Option(None, "--micro-batch", help="Sequences per forward pass on one process (gradient accumulation fills the rest).")
LR = typer.Option(None, "--lr", help="Peak learning rate (preset default).")
MIN_LR = typer.Option(None, "--min-lr", help="Final learning rate of the cosine (default lr/10).")
WARMUP = typer.Option(0.1, "--warmup", help="Linear warmup: a fraction of the steps (<1) or a number of steps.")
WEIGHT_DECAY = typer.Option(0.1, "--weight-decay")
GRAD_CLIP = typer.Option(1.0, "--grad-clip")
SEED = typer.Option(0, "--seed", help="Seed for initialization and data order.")
EVAL_EVERY = typer.Option(0, "--eval-every", help="Steps between validation passes (0: only at the end).")
VAL_TOKENS = typer.Option(None, "--val-tokens", help="Validation tokens per pass and source (default 64K).")
SAVE_EVERY = typer.Option(0, "--save-every", help="Steps between resume states in OUT.partial/state (0: never).")
LOG_EVERY = typer.Option(1, "--log-every", help="Steps between metrics.jsonl lines.")
PEAK_FLOPS = typer.Option(None, "--peak-flops", help="Peak FLOP/s of one device for MFU (default: measured by a matmul).")
RESUME = typer.Option(False, "--resume", help="Continue the interrupted run in OUT.partial.")
REPORT_TO = typer.Option(
    "none", "--report-to",
    help="Experiment tracker: tensorboard (logs in OUT/tb), wandb (OUT/wandb; WANDB_MODE=offline works without a network) "
         "or none. metrics.jsonl is written either way; --resume may pick another.",
)


def pretrain(
    model: str = typer.Option(..., "--model", help="Model preset (see `evolm presets`)."),
    tokens: str = typer.Option(..., "--tokens", help="Token budget: 80B, 2M, or 20x (tokens per parameter)."),
    data: Path = typer.Option(..., "--data", help="Token shards from `evolm data prepare`."),
    out: Path = typer.Option(..., "--out", help="Checkpoint directory to create."),
    tokenizer: Optional[Path] = typer.Option(None, "--tokenizer", help="Tokenizer directory (default: the one the shards record)."),
    seq_len: Optional[int] = SEQ_LEN, global_batch: Optional[int] = GLOBAL_BATCH, micro_batch: Optional[int] = MICRO_BATCH,
    lr: Optional[float] = LR, min_lr: Optional[float] = MIN_LR, warmup: float = WARMUP, weight_decay: float = WEIGHT_DECAY,
    grad_clip: float = GRAD_CLIP, seed: int = SEED, eval_every: int = EVAL_EVERY, val_tokens: Optional[str] = VAL_TOKENS,
    save_every: int = SAVE_EVERY, log_every: int = LOG_EVERY, peak_flops: Optional[float] = PEAK_FLOPS,
    report_to: str = REPORT_TO,
    resume: bool = RESUME, overwrite: bool = OverwriteOption, as_json: bool = JsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """Pre-train a preset from scratch on token shards (the paper's recipe; bf16 on CUDA, fp32 on CPU)."""
    from evolm.stages import pretrain as stage

    o = _overrides(locals())
    budget = parse_count(tokens, what="token budget", allow_per_param=True)
    checkpoint = stage.run(model=model, tokens=budget, data=data, out=out, tokenizer=tokenizer, overrides=o,
                           resume=resume, overwrite=overwrite)
    emit_result(out, _summary(checkpoint), as_json)


def _summary(checkpoint) -> dict:
    m = checkpoint.manifest
    return {"signature": checkpoint.signature, "stage": checkpoint.stage, "steps": m.schedule.steps_done,
            "tokens": m.schedule.tokens_done, "val_loss": m.outcome.val_loss, "wall_time_s": m.compute.wall_time_s,
            "tokens_per_s": m.compute.tokens_per_s, "mfu": m.compute.mfu}


def cpt(
    parent: Path = typer.Argument(..., help="Parent checkpoint (usually a pre-trained one)."),
    domain: List[str] = typer.Option(..., "--domain", help="Domain shards and budget, SHARDS:BUDGET (e.g. shards/math:42B); repeatable."),
    replay: Optional[List[str]] = typer.Option(None, "--replay", help="Replay shards and budget, SHARDS:BUDGET (e.g. shards/web:8B); repeatable."),
    out: Path = typer.Option(..., "--out", help="Checkpoint directory to create."),
    seq_len: Optional[int] = SEQ_LEN, global_batch: Optional[int] = GLOBAL_BATCH, micro_batch: Optional[int] = MICRO_BATCH,
    lr: Optional[float] = LR, min_lr: Optional[float] = MIN_LR, warmup: float = WARMUP, weight_decay: float = WEIGHT_DECAY,
    grad_clip: float = GRAD_CLIP, seed: int = SEED, eval_every: int = EVAL_EVERY, val_tokens: Optional[str] = VAL_TOKENS,
    save_every: int = SAVE_EVERY, log_every: int = LOG_EVERY, peak_flops: Optional[float] = PEAK_FLOPS,
    report_to: str = REPORT_TO,
    resume: bool = RESUME, overwrite: bool = OverwriteOption, as_json: bool = JsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """Continue pre-training PARENT on a domain mixture with optional replay (weights only; fresh optimizer and schedule)."""
    from evolm.stages import cpt as stage

    o = _overrides(locals())
    checkpoint = stage.run(parent=parent, domain=list(domain), replay=list(replay or []), out=out, overrides=o,
                           resume=resume, overwrite=overwrite)
    emit_result(out, _summary(checkpoint), as_json)
