"""`evolm sft`, `evolm rl` and `evolm rm`: post-training (and a reward model) on TRL."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from evolm.cli.common import CheckpointOutOption, ConfigOption, JsonOption, OverwriteOption, ResumeOption, count
from evolm.cli.options import with_options
from evolm.cli.train import emit_result
from evolm.stages.rl import RLOptions
from evolm.stages.rm import RMOptions
from evolm.stages.sft import SFTOptions
from evolm.training.rundir import say_what_is_kept

DATA = typer.Option(..., "--data", help="Problem pool (.jsonl or .parquet with problem and gt_solution), or a split folder from "
                                        "`evolm data split` (SFT uses its SFT part, RL its RL part).")


def _count(examples: Optional[str]) -> Optional[int]:
    return None if examples is None else count(examples, "--examples")


@with_options(options=SFTOptions)
def sft(
    parent: Path = typer.Argument(..., metavar="PARENT", help="Parent evolm checkpoint (pre-trained or CPT)."),
    data: Path = DATA,
    examples: Optional[str] = typer.Option(None, "--examples", help="Train on the first N examples of the pool or of the "
                                                                    "split's SFT part (e.g. 100K; default with a split: all of it)."),
    epochs: float = typer.Option(1.0, "--epochs", help="Passes over the N examples."),
    out: Path = CheckpointOutOption,
    options: SFTOptions = None,
    resume: bool = ResumeOption, overwrite: bool = OverwriteOption, as_json: bool = JsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """Supervised fine-tuning on the first N pool (or split SFT part) examples, loss on the response only (TRL SFTTrainer)."""
    from evolm.stages import sft as stage

    with say_what_is_kept(out):
        checkpoint = stage.run(parent=parent, data=data, examples=_count(examples), epochs=epochs, out=out,
                               options=options, resume=resume, overwrite=overwrite)
    emit_result(out, {"signature": checkpoint.signature, "stage": "sft", "loss": checkpoint.manifest.outcome.loss,
                      "steps": checkpoint.manifest.schedule.steps_done}, as_json)


@with_options(options=RLOptions)
def rl(
    parent: Path = typer.Argument(..., metavar="PARENT", help="Parent evolm checkpoint (usually an SFT one)."),
    data: Path = DATA,
    examples: Optional[str] = typer.Option(None, "--examples", help="Train on the last N examples of the pool or of the "
                                                                    "split's RL part (disjoint from SFT's first N; default with a split: all of it)."),
    epochs: float = typer.Option(1.0, "--epochs", help="Passes over the N prompts."),
    out: Path = CheckpointOutOption,
    options: RLOptions = None,
    resume: bool = ResumeOption, overwrite: bool = OverwriteOption, as_json: bool = JsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """RL with verifiable rewards (the evaluation's graders) on the last N pool (or split RL part) examples: GRPO (default) or RLOO through TRL, or PPO with a critic (--algo)."""
    from evolm.stages import rl as stage

    with say_what_is_kept(out):
        checkpoint = stage.run(parent=parent, data=data, examples=_count(examples), epochs=epochs, out=out,
                               options=options, resume=resume, overwrite=overwrite)
    m = checkpoint.manifest
    emit_result(out, {"signature": checkpoint.signature, "stage": "rl", "rewards": m.outcome.rewards,
                      "kl": m.posttraining.kl, "steps": m.schedule.steps_done}, as_json)


@with_options(options=RMOptions)
def rm(
    parent: Path = typer.Argument(..., metavar="PARENT", help="Parent evolm checkpoint whose weights the reward model starts from (an SFT one)."),
    samples: List[Path] = typer.Option(..., "--samples", help="Graded completions: an `eval/TASK.samples.jsonl` written by "
                                                                 "`evolm eval CKPT --samples K` (repeatable: several policies)."),
    problems: Path = typer.Option(..., "--problems", help="The task file (benchmark JSONL with id and problem) the samples "
                                                           "were drawn on: problems no run trains on."),
    epochs: float = typer.Option(2.0, "--epochs", help="Passes over the pairs."),
    out: Path = CheckpointOutOption,
    options: RMOptions = None,
    resume: bool = ResumeOption, overwrite: bool = OverwriteOption, as_json: bool = JsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """Train an outcome reward model on (correct, incorrect) pairs of graded samples (TRL RewardTrainer), for `evolm eval --reward-model`."""
    from evolm.stages import rm as stage

    with say_what_is_kept(out):
        checkpoint = stage.run(parent=parent, samples=list(samples), problems=problems, epochs=epochs, out=out,
                               options=options, resume=resume, overwrite=overwrite)
    m = checkpoint.manifest
    emit_result(out, {"signature": checkpoint.signature, "stage": "rm", "loss": m.outcome.loss,
                      "reward_model": m.outcome.reward_model, "steps": m.schedule.steps_done}, as_json)
