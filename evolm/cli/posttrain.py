"""`evolm sft` and `evolm rl`: post-training on TRL."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from evolm.cli.common import ConfigOption, JsonOption, OverwriteOption, count
from evolm.cli.train import REPORT_TO, emit_result

SAVE_EVERY = typer.Option(0, "--save-every", help="Steps between TRL checkpoints in OUT.partial (0: never).")
RESUME = typer.Option(False, "--resume", help="Continue the interrupted run in OUT.partial.")
DATA = typer.Option(..., "--data", help="Problem pool (.jsonl with problem and gt_solution), or a split folder from "
                                        "`evolm data split` (SFT uses its SFT part, RL its RL part).")


def _count(examples: Optional[str]) -> Optional[int]:
    return None if examples is None else count(examples, "--examples")


def sft(
    parent: Path = typer.Argument(..., help="Parent evolm checkpoint (pre-trained or CPT)."),
    data: Path = DATA,
    examples: Optional[str] = typer.Option(None, "--examples", help="Train on the first N examples of the pool or of the "
                                                                    "split's SFT part (e.g. 100K; default with a split: all of it)."),
    epochs: float = typer.Option(1.0, "--epochs", help="Passes over the N examples."),
    out: Path = typer.Option(..., "--out", help="Checkpoint directory to create."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Peak learning rate (paper: 1e-5 for 1B, 7.5e-6 for 4B)."),
    global_batch: Optional[int] = typer.Option(None, "--global-batch", help="Examples per optimizer step (paper: 128 for 1B, 256 for 4B)."),
    micro_batch: Optional[int] = typer.Option(None, "--micro-batch", help="Examples per forward pass on one process."),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="Token cutoff per example (default 2048 or the model's context)."),
    warmup: float = typer.Option(0.1, "--warmup", help="Warmup: a fraction of the steps (<1) or a number of steps."),
    weight_decay: float = typer.Option(0.0, "--weight-decay"),
    seed: int = typer.Option(0, "--seed"),
    lora: bool = typer.Option(False, "--lora", help="Train a PEFT LoRA adapter and merge it into a plain HF model at the end."),
    lora_rank: int = typer.Option(16, "--lora-rank"),
    lora_alpha: int = typer.Option(32, "--lora-alpha"),
    save_every: int = SAVE_EVERY,
    log_every: int = typer.Option(1, "--log-every", help="Steps between metrics.jsonl lines."),
    report_to: str = REPORT_TO,
    resume: bool = RESUME, overwrite: bool = OverwriteOption, as_json: bool = JsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """Supervised fine-tuning on the first N pool (or split SFT part) examples, loss on the response only (TRL SFTTrainer)."""
    from evolm.stages import sft as stage

    options = stage.SFTOptions(lr=lr, global_batch=global_batch, micro_batch=micro_batch, max_length=max_length,
                               warmup=warmup, weight_decay=weight_decay, seed=seed, lora=lora, lora_rank=lora_rank,
                               lora_alpha=lora_alpha, save_every=save_every, log_every=log_every, report_to=report_to)
    checkpoint = stage.run(parent=parent, data=data, examples=_count(examples), epochs=epochs, out=out,
                           options=options, resume=resume, overwrite=overwrite)
    emit_result(out, {"signature": checkpoint.signature, "stage": "sft", "loss": checkpoint.manifest.outcome.loss,
                      "steps": checkpoint.manifest.schedule.steps_done}, as_json)


def rl(
    parent: Path = typer.Argument(..., help="Parent evolm checkpoint (usually an SFT one)."),
    data: Path = DATA,
    examples: Optional[str] = typer.Option(None, "--examples", help="Train on the last N examples of the pool or of the "
                                                                    "split's RL part (disjoint from SFT's first N; default with a split: all of it)."),
    epochs: float = typer.Option(1.0, "--epochs", help="Passes over the N prompts."),
    out: Path = typer.Option(..., "--out", help="Checkpoint directory to create."),
    algo: str = typer.Option("grpo", "--algo", help="grpo. The paper's PPO (with a critic) is not offered: the installed TRL has no PPO trainer."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Actor learning rate (paper: 2e-6 for 1B, 1e-6 for 4B)."),
    prompts_per_step: Optional[int] = typer.Option(None, "--prompts-per-step", help="Prompts per optimizer step (paper: 1024 for 1B, 2048 for 4B)."),
    rollouts: int = typer.Option(4, "--rollouts", help="Completions sampled per prompt (GRPO needs >= 2)."),
    temperature: float = typer.Option(1.0, "--temperature", help="Sampling temperature of the rollouts."),
    max_prompt_length: Optional[int] = typer.Option(None, "--max-prompt-length", help="Prompts longer than this many tokens are skipped (paper: 1024)."),
    max_completion_length: Optional[int] = typer.Option(None, "--max-completion-length", help="Tokens per completion (paper: 1024)."),
    micro_batch: Optional[int] = typer.Option(None, "--micro-batch", help="Completions per forward pass on one process."),
    kl: bool = typer.Option(False, "--kl/--no-kl", help="KL penalty to the parent (reference) model; off by default, as it effectively was in the paper."),
    kl_coef: float = typer.Option(1e-4, "--kl-coef", help="KL coefficient when --kl is on (the paper's configs: 1e-4)."),
    warmup: float = typer.Option(0.1, "--warmup", help="Warmup: a fraction of the steps (<1) or a number of steps; constant after."),
    seed: int = typer.Option(0, "--seed"),
    save_every: int = SAVE_EVERY,
    log_every: int = typer.Option(1, "--log-every", help="Steps between metrics.jsonl lines."),
    report_to: str = REPORT_TO,
    resume: bool = RESUME, overwrite: bool = OverwriteOption, as_json: bool = JsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """RL with verifiable rewards (the evaluation's graders) on the last N pool (or split RL part) examples, GRPO via TRL."""
    from evolm.stages import rl as stage

    options = stage.RLOptions(algo=algo, lr=lr, prompts_per_step=prompts_per_step, rollouts=rollouts, temperature=temperature,
                              max_prompt_length=max_prompt_length, max_completion_length=max_completion_length,
                              micro_batch=micro_batch, kl=kl, kl_coef=kl_coef, warmup=warmup, seed=seed,
                              save_every=save_every, log_every=log_every, report_to=report_to)
    checkpoint = stage.run(parent=parent, data=data, examples=_count(examples), epochs=epochs, out=out,
                           options=options, resume=resume, overwrite=overwrite)
    m = checkpoint.manifest
    emit_result(out, {"signature": checkpoint.signature, "stage": "rl", "rewards": m.outcome.rewards,
                      "kl": m.posttraining.kl, "steps": m.schedule.steps_done}, as_json)
