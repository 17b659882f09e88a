"""What SFT and RL share: the problem pool, the parent, TRL wiring, metrics, the final checkpoint.

Both run TRL trainers in `OUT.partial/` (TRL's own checkpoints there make `--resume` work), log one
JSON line per logged step to `metrics.jsonl`, and write the checkpoint `OUT` atomically at the end:
the HF model, the tokenizer with the paper's chat template, the metrics and the manifest.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from evolm.checkpoint import Checkpoint, build_manifest, load_checkpoint, write_checkpoint
from evolm.console import Progress, log
from evolm.errors import BadInput
from evolm.fsutil import sha256_file
from evolm.rundir import METRICS
from evolm.stages.data.split import read_pool



@dataclass
class Pool:
    path: Path
    sha256: str
    rows: list[dict]

    def describe(self, start: int, end: int) -> dict:
        return {"pool": str(self.path.resolve()), "pool_sha256": self.sha256, "pool_size": len(self.rows),
                "rows": [start, end], "examples": end - start}


def load_pool(path: Path) -> Pool:
    """A local jsonl pool (`evolm data split` semantics: SFT = first N, RL = last N rows)."""
    path = Path(path)
    return Pool(path, sha256_file(path) if path.is_file() else "", read_pool(path))


def load_parent(path: Path) -> Checkpoint:
    parent = load_checkpoint(path)
    if "model" not in parent.manifest or "preset" not in parent.manifest.get("model", {}):
        raise BadInput(f"{path} is an evolm checkpoint without a model record; it cannot be trained further.")
    return parent


def start_run_dir(run_dir: Path, record: dict, *, resume: bool) -> None:
    """Create OUT.partial once for all processes (`open_run_dir_once`); on --resume, the main
    process removes what the kill left half-written.

    TRL would start the process group only when the trainer is built, after each process has already
    looked at the outputs, so start it here, with the timeout TrainingArguments would give it
    (`ddp_timeout`, 1800 s): the trainer rebuilds accelerate's state later but keeps this group.
    """
    from datetime import timedelta

    import torch
    from accelerate import PartialState

    from evolm.rundir import open_run_dir_once, truncate_metrics

    def tidy() -> None:
        drop_incomplete_checkpoints(run_dir)
        last = last_trl_checkpoint(run_dir)
        if last:
            truncate_metrics(run_dir / METRICS, last)

    # cpu=True as in device_settings(): without it accelerate would not see the other CPU processes.
    state = PartialState(cpu=not torch.cuda.is_available(), timeout=timedelta(seconds=1800))
    open_run_dir_once(run_dir, record, resume=resume, processes=state, tidy=tidy)


def lineage_examples(checkpoint: Checkpoint, stage: str) -> list[dict]:
    """The knobs of every `stage` run in a checkpoint's lineage, itself included."""
    return [entry["knobs"] for entry in checkpoint.lineage if entry["stage"] == stage]


def device_settings() -> dict:
    """TrainingArguments for this machine: bf16 on CUDA, fp32 on CPU (TRL defaults to bf16=True).

    TRL also turns gradient checkpointing on by default: worth its ~30% recompute for GPU memory,
    pure cost for the small models a CPU trains.
    """
    import torch

    cuda = torch.cuda.is_available()
    # Every parameter takes part in each forward, so DDP need not search for unused ones.
    return {"bf16": cuda, "fp16": False, "use_cpu": not cuda, "gradient_checkpointing": cuda, "ddp_find_unused_parameters": False}


def batch_split(global_batch: int, micro_batch: int | None, world: int, cap: int) -> tuple[int, int]:
    """(per-device micro batch, gradient accumulation steps) that make the global batch exactly."""
    if global_batch <= 0 or global_batch % world:
        raise BadInput(f"The global batch {global_batch} does not divide over {world} processes.")
    per_rank = global_batch // world
    micro = micro_batch or next(m for m in range(min(cap, per_rank), 0, -1) if per_rank % m == 0)
    if per_rank % micro:
        raise BadInput(f"The micro batch {micro} does not divide the {per_rank} examples per process and step.")
    return micro, per_rank // micro


def metrics_callback(run_dir: Path, description: str, total_steps: int | None):
    """A TrainerCallback: one JSON line per log to metrics.jsonl and a progress display (main process)."""
    from transformers import TrainerCallback

    class _Metrics(TrainerCallback):
        def __init__(self):
            self.progress = None

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.progress = Progress(description, total=state.max_steps or total_steps, unit="steps").__enter__()
                self.progress.update(state.global_step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs:
                return
            row = {"step": state.global_step, "epoch": round(state.epoch or 0, 4),
                   **{k: v for k, v in logs.items() if isinstance(v, (int, float))}}
            with open(run_dir / METRICS, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")
            shown = {k: f"{v:.4g}" for k, v in row.items() if k in ("loss", "reward", "learning_rate", "kl")}
            if self.progress is not None:
                self.progress.update(state.global_step - self.progress.done, **shown)

        def on_train_end(self, args, state, control, **kwargs):
            if self.progress is not None:
                self.progress.__exit__(None, None, None)

    return _Metrics()


def quiet_trainer(trainer) -> None:
    """Trainer prints its logs to stdout when tqdm is off; stdout is for our result only."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def train(trainer, run_dir: Path, *, resume: bool):
    """Run a TRL trainer quietly, from its last checkpoint in `run_dir` when resuming (after
    `start_run_dir` tidied it)."""
    quiet_trainer(trainer)
    last = last_trl_checkpoint(run_dir) if resume else 0
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


def last_trl_checkpoint(run_dir: Path) -> int:
    steps = [int(p.name.split("-")[-1]) for p in Path(run_dir).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    return max(steps, default=0)


def gathered_weights(trainer) -> dict:
    """The model's full weights. Collective: every process must call it, because ZeRO-3 and FSDP
    shard the parameters and only a gather across processes rebuilds them (the 4B preset's
    zero3-4B.yaml sets zero3_save_16bit_model for this). Without sharding it is the state dict."""
    return trainer.accelerator.get_state_dict(trainer.model_wrapped)


def write_posttrained(out: Path, manifest: dict, model, tokenizer, run_dir: Path, state_dict: dict | None = None) -> Checkpoint:
    def write_files(tmp: Path) -> None:
        model.save_pretrained(tmp, state_dict=state_dict)
        tokenizer.save_pretrained(tmp)
        if (run_dir / METRICS).is_file():
            shutil.copy2(run_dir / METRICS, tmp / METRICS)

    checkpoint = write_checkpoint(out, manifest, write_files, overwrite=True)
    shutil.rmtree(run_dir, ignore_errors=True)
    return checkpoint


def posttrain_manifest(stage: str, knobs: dict, parent: Checkpoint, tokenizer_sha: str, **fields) -> dict:
    from evolm.lineage_data import pretraining_data
    from evolm.template import CHAT_TEMPLATE, TEMPLATE_NAME

    return build_manifest(
        stage, knobs, parent=parent,
        model=parent.manifest["model"],
        tokenizer={"sha256": tokenizer_sha},
        template={"name": TEMPLATE_NAME, "chat_template": CHAT_TEMPLATE,
                  "format": "Human: {problem}\\nAssistant: {solution}<eos>"},
        pretraining_data=pretraining_data(parent),
        **fields,
    )


def done_message(stage: str, checkpoint: Checkpoint, extra: str) -> None:
    log(f"{stage} done: {checkpoint.signature}, {extra}")
