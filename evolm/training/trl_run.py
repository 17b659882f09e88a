"""The wiring of TRL's trainers (SFTTrainer, GRPOTrainer) for `evolm sft` and `evolm rl`.

Both train in `OUT.partial/`, where TRL's own checkpoints make `--resume` work; this module creates
that folder once for all processes, picks the device settings, runs the trainer quietly (stdout
carries only the command's result) and gathers the final weights.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from pathlib import Path

from evolm.console import log
from evolm.training.metrics import logged_mean_loss
from evolm.training.rundir import METRICS, nothing_saved, open_run_dir_once, truncate_metrics


def start_run_dir(run_dir: Path, record: dict, *, resume: bool) -> None:
    """Create OUT.partial once for all processes (`open_run_dir_once`); on --resume, the main
    process removes what the kill left half-written.

    The stages start the process group (`process_group`) and build their TRL config first (its checks
    then come before any output); a caller that has not gets the group started here.
    """
    from evolm.training.processes import check_zero_state_fits

    def tidy() -> None:
        drop_incomplete_checkpoints(run_dir)
        last = last_trl_checkpoint(run_dir)
        # Without a checkpoint TRL starts over, so every logged line goes: each step is logged once.
        truncate_metrics(run_dir / METRICS, last)
        log(f"resuming at step {last} from {Path(run_dir) / f'checkpoint-{last}'}" if last else nothing_saved(run_dir))

    state = process_group()
    last_whole = last_trl_checkpoint(run_dir, whole=True) if resume else 0
    if last_whole:  # the checkpoint TRL will resume from, before anything is changed
        check_zero_state_fits(Path(run_dir) / f"checkpoint-{last_whole}", state.num_processes)
    open_run_dir_once(run_dir, record, resume=resume, processes=state, tidy=tidy)


def process_group():
    """accelerate's PartialState, which starts the process group of a launched run (none for one
    process), with the timeout TrainingArguments would give it (`ddp_timeout`, 1800 s). Started before
    anything the processes must agree on (`processes.all_agree` is a collective only once a group
    exists): the TRL config built later keeps it, and so does the trainer, which rebuilds accelerate's
    state (except where `sharded_state_for_trainers` configured it for the trainer to keep)."""
    import torch
    from accelerate import PartialState

    from evolm.training.processes import PROCESS_GROUP_TIMEOUT

    # cpu=True as in device_settings(): without it accelerate would not see the other CPU processes.
    return PartialState(cpu=not torch.cuda.is_available(), timeout=PROCESS_GROUP_TIMEOUT)


def trains_through_trainer(stage: str, algo: str | None = None) -> bool:
    """Whether `evolm STAGE` trains through transformers' Trainer (TRL's SFT, reward and GRPO/RLOO
    trainers), which `check_one_gpu_per_process` guards; evolm's PPO and language-model loop place the
    model on one device themselves."""
    return stage in ("sft", "rm") or (stage == "rl" and (algo or "grpo") != "ppo")


def visible_gpus() -> int:
    """The GPUs this process sees (CUDA_VISIBLE_DEVICES applies), as transformers' Trainer counts them."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def check_one_gpu_per_process(stage: str) -> None:
    """Refuse one process on a machine with several GPUs: transformers' Trainer then wraps the model in
    DataParallel over all of them and multiplies the batch by their number, so the run would train with
    that many times the recorded global batch and as many times fewer steps (the paper's pitfall of a
    silently multiplied batch). Launched (torchrun, accelerate launch), each process has one GPU."""
    from evolm.errors import BadInput
    from evolm.training.processes import world_size

    gpus = visible_gpus()
    if world_size() == 1 and gpus > 1:
        raise BadInput(f"`evolm {stage}` in one process would train on all {gpus} GPUs with {gpus} times the global batch; "
                       f"launch one process per GPU (torchrun --nproc-per-node {gpus} -m evolm {stage} ...) or choose "
                       "one with CUDA_VISIBLE_DEVICES.")


def saving(save_every: int) -> dict:
    """TrainingArguments for the resume states: every `save_every` steps (0: none), and only the newest
    kept, as the causal-LM trainer and PPO keep theirs (TRL's default keeps them all: a 1B SFT run
    saving every 500 steps would pile up about 12 GB of weights and Adam state per save)."""
    return {"save_strategy": "steps" if save_every else "no", "save_steps": save_every or 500, "save_total_limit": 1}


def device_settings() -> dict:
    """TrainingArguments for this machine: bf16 on CUDA, fp32 on CPU (TRL defaults to bf16=True).

    TRL also turns gradient checkpointing on by default: worth its ~30% recompute for GPU memory,
    pure cost for the small models a CPU trains.
    """
    import torch

    from evolm.training.processes import fsdp_checkpoints_activations, sharded_state_for_trainers

    cuda = torch.cuda.is_available()
    # Under an FSDP config that checkpoints activations itself, the Trainer's own checkpointing stays off:
    # transformers refuses both at once (after the run folder exists).
    checkpointing = cuda and not fsdp_checkpoints_activations()
    # Every parameter takes part in each forward, so DDP need not search for unused ones.
    return {"bf16": cuda, "fp16": False, "use_cpu": not cuda, checkpointing_argument(): checkpointing,
            "ddp_find_unused_parameters": False, **sharded_state_for_trainers(cuda)}


def checkpointing_argument() -> str:
    """The TrainingArguments field that turns activation checkpointing on in the installed transformers:
    `activation_checkpointing` since it was renamed (5.2x; the old `gradient_checkpointing` then warns
    on every run and goes in v6), `gradient_checkpointing` before (5.17 has no other)."""
    import dataclasses

    from transformers import TrainingArguments

    names = {field.name for field in dataclasses.fields(TrainingArguments)}
    return "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"


def quiet_trainer(trainer) -> None:
    """Trainer prints its logs to stdout when tqdm is off; stdout is for our result only."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def epoch_seeded(trainer_class):
    """`trainer_class` (TRL's GRPO or RLOO trainer) with a prompt order that is a function of the seed and
    the epoch alone. TRL (1.16) draws every epoch's order from one generator seeded once, and its
    `RepeatSampler` has no `set_epoch`: a resumed run seeds a new generator, so past its first epoch it
    replays epoch 0's order while skipping the steps done, training some prompts twice and others not
    at all. transformers' Trainer calls `set_epoch` (through accelerate's data loader) before each
    epoch; ours reseeds with seed + epoch there, so an uninterrupted run's first epoch is TRL's."""
    from trl.trainer.utils import RepeatSampler

    class EpochSeededSampler(RepeatSampler):
        def set_epoch(self, epoch: int) -> None:
            if self.shuffle and self.seed is not None:
                self.generator.manual_seed(self.seed + epoch)

    class EpochSeeded(trainer_class):
        def _get_train_sampler(self, dataset=None):
            sampler = super()._get_train_sampler(dataset)
            if type(sampler) is RepeatSampler:  # the class only: it adds a method, no state
                sampler.__class__ = EpochSeededSampler
            return sampler

    return EpochSeeded


# In each TRL checkpoint: the training seconds up to it. transformers' train_runtime and train_loss
# cover one train() call, so a resumed run's would count only its last part.
ELAPSED = "evolm_elapsed.json"


def train(trainer, run_dir: Path, *, resume: bool):
    """Run a TRL trainer quietly, from its last checkpoint in `run_dir` when resuming (after
    `start_run_dir` tidied it). Its TrainOutput's train_runtime and training_loss are the whole
    run's, across resumes."""
    quiet_trainer(trainer)
    from evolm.training.processes import warn_if_not_as_launched

    mismatch = warn_if_not_as_launched(trainer.accelerator)
    if mismatch and trainer.accelerator.is_main_process:
        log(f"warning: {mismatch}")
    last = last_trl_checkpoint(run_dir) if resume else 0
    if last:
        rewind_tensorboard(trainer, last)
    before = _elapsed_at(Path(run_dir) / f"checkpoint-{last}") if last else 0.0
    trainer.add_callback(_elapsed_callback(before, time.monotonic()))
    metrics = [cb for cb in trainer.callback_handler.callbacks if hasattr(cb, "resumed_after")]  # metrics_callback's
    for callback in metrics:
        callback.resumed_after(before if last else None)
    try:
        result = _train_quietly(trainer, last)
    except BaseException as exc:  # transformers calls no on_train_end then: the progress display would stay up
        for callback in metrics:
            callback.close(type(exc), exc, exc.__traceback__)
        raise
    if not last:
        return result
    runtime = before + result.metrics.get("train_runtime", 0.0)
    return result._replace(training_loss=logged_mean_loss(trainer.state.log_history, result.training_loss),
                           metrics={**result.metrics, "train_runtime": runtime})


def rewind_tensorboard(trainer, last: int) -> None:
    """A resumed run's TensorBoard drops what the killed run logged after step `last` (as metrics.jsonl
    does, and the causal-LM trainer's tracker): transformers' callback opens its writer without
    `purge_step`, so the steps logged twice showed two values each. Replaced, on the main process, by
    one given a writer that purges them."""
    from transformers.integrations import TensorBoardCallback

    for callback in list(trainer.callback_handler.callbacks):
        if isinstance(callback, TensorBoardCallback) and callback.tb_writer is None and trainer.is_world_process_zero():
            from torch.utils.tensorboard import SummaryWriter

            trainer.remove_callback(callback)
            trainer.add_callback(TensorBoardCallback(tb_writer=SummaryWriter(log_dir=callback.logging_dir,
                                                                             purge_step=last + 1)))


def _elapsed_at(checkpoint: Path) -> float:
    try:
        return float(json.loads((checkpoint / ELAPSED).read_text(encoding="utf-8"))["elapsed_s"])
    except (OSError, ValueError, KeyError, TypeError):
        log(f"warning: {checkpoint} does not record the time trained before it; the manifest's wall time counts from the resume")
        return 0.0


def _elapsed_callback(before: float, started: float):
    from transformers import TrainerCallback

    from evolm.fsutil import write_json

    class ElapsedCallback(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):  # called once the checkpoint folder is written
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if state.is_world_process_zero and folder.is_dir():
                write_json(folder / ELAPSED, {"elapsed_s": before + time.monotonic() - started})

    return ElapsedCallback()


def _train_quietly(trainer, last: int):
    with warnings.catch_warnings():
        # TRL (1.16) reads the model's `is_gradient_checkpointing` and, where checkpointing is on (CUDA),
        # turns it off and on again around every generation through `gradient_checkpointing_disable` /
        # `_enable`, names transformers 5.2x deprecated: FutureWarnings on each RL run that are TRL's to
        # mend, nothing a user can act on. (catch_warnings restores the filters as they were on entry.)
        warnings.filterwarnings("ignore", message=r"`(is_)?gradient_checkpointing(_enable|_disable)?` is deprecated",
                                category=FutureWarning)
        return trainer.train(resume_from_checkpoint=True if last else None)


def drop_incomplete_checkpoints(run_dir: Path) -> None:
    """Remove TRL checkpoints a kill interrupted while they were being written.

    transformers writes a checkpoint in place and its trainer_state.json last, and resumes from the
    highest-numbered folder whatever its state; a folder without a readable trainer_state.json is
    therefore incomplete and must not be resumed from.
    """
    for folder in Path(run_dir).glob("checkpoint-*"):
        try:
            json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log(f"removing {folder}: an interrupted, incomplete checkpoint")
            shutil.rmtree(folder)


def last_trl_checkpoint(run_dir: Path, *, whole: bool = False) -> int:
    """The highest checkpoint step in `run_dir` (0: none); `whole`: of those with their trainer_state.json
    written (what remains once `drop_incomplete_checkpoints` has run)."""
    steps = [int(p.name.split("-")[-1]) for p in Path(run_dir).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()
             and (not whole or (p / "trainer_state.json").is_file())]
    return max(steps, default=0)


def gathered_weights(trainer) -> dict:
    """The model's full weights. Collective: every process must call it, because ZeRO-3 and FSDP
    shard the parameters and only a gather across processes rebuilds them (the 4B preset's
    zero3-4B.yaml sets zero3_save_16bit_model for this). Without sharding it is the state dict."""
    return trainer.accelerator.get_state_dict(trainer.model_wrapped)
