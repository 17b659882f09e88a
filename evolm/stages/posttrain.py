"""What SFT and RL share: the parent, the final checkpoint and its manifest.

Both run TRL trainers in `OUT.partial/` (`evolm.training.trl_run`: TRL's own checkpoints there make
`--resume` work), log one JSON line per logged step to `metrics.jsonl`
(`evolm.training.metrics`), and write the checkpoint `OUT` atomically at the end: the HF model, the
tokenizer with the paper's chat template, the metrics, the tracker's logs and the manifest. Their
examples come from a pool file or a split folder (`evolm.stages.data.split.select_examples`).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from evolm.checkpoint import Checkpoint, build_manifest, check_policy, load_checkpoint, write_checkpoint
from evolm.fsutil import release_output
from evolm.console import log
from evolm.errors import BadInput
from evolm.manifest import Compute, DataSource, Manifest, device_hours, Outcome, PostTraining, Schedule
from evolm.options import out_of_range
from evolm.training.rundir import METRICS, mark_written, remove_written
from evolm.training.tracking import Tracking
from evolm.tokenizer import save_tokenizer

if TYPE_CHECKING:
    from evolm.stages.data.split import Selection


def check_amount(examples: int | None, epochs: float) -> None:
    """SFT's and RL's own arguments, checked with the options: before any output exists."""
    if not (math.isfinite(epochs) and epochs > 0):
        raise out_of_range("--epochs", epochs, "a finite number greater than 0")
    if examples is not None and examples < 1:
        raise out_of_range("--examples", examples, "at least 1")


def load_parent(path: Path) -> Checkpoint:
    parent = load_checkpoint(path)
    check_policy(parent, "trained further")
    if parent.manifest.model is None or not parent.manifest.model.preset:
        raise BadInput(f"{path} is an evolm checkpoint without a model record; it cannot be trained further.")
    return parent


def lineage_examples(checkpoint: Checkpoint, stage: str) -> list[dict]:
    """The knobs of every `stage` run in a checkpoint's lineage, itself included."""
    return [entry.knobs for entry in checkpoint.lineage if entry.stage == stage]


def check_disjoint(parent: Checkpoint, chosen: Selection, stage: str) -> None:
    """Refuse `stage` rows ("sft" or "rl") that a run of the other post-training stage in the lineage trained
    on (same pool, overlapping rows): SFT takes the first N of the pool and RL the last N, disjoint while
    they fit. RL after SFT is the paper's order; SFT after RL is checked alike.

    Rows are the pool's own row numbers whether a stage was given the pool file or a split folder
    (a split records which pool rows each part took), so any combination of the two is checked.
    """
    other = "rl" if stage == "sft" else "sft"
    start, end = chosen.start, chosen.end
    for knobs in lineage_examples(parent, other):
        if knobs.get("pool_sha256") != chosen.pool_sha256:
            log(f"warning: an {other.upper()} run in this lineage used another pool; overlap cannot be checked row by row.")
            continue
        used_start, used_end = knobs["rows"]
        if max(start, used_start) < min(end, used_end):
            fewer = (max(0, min(chosen.available, chosen.source_end - used_end)) if stage == "rl"
                     else max(0, used_start - start))
            raise BadInput(
                f"{stage.upper()} rows [{start}, {end}) overlap the rows [{used_start}, {used_end}) this lineage used for "
                f"{other.upper()} ({min(end, used_end) - max(start, used_start)} examples); choose fewer {stage.upper()} "
                f"examples (at most {fewer})."
            )


def write_posttrained(out: Path, manifest: Manifest, model, tokenizer, run_dir: Path, state_dict: dict | None = None,
                      tracking: Tracking | None = None) -> Checkpoint:
    def write_files(tmp: Path) -> None:
        model.save_pretrained(tmp, state_dict=state_dict)
        save_tokenizer(tokenizer, tmp)
        if (run_dir / METRICS).is_file():
            shutil.copy2(run_dir / METRICS, tmp / METRICS)
        if tracking is not None:
            tracking.copy_logs(tmp)

    checkpoint = write_checkpoint(out, manifest, write_files, overwrite=True)
    mark_written(run_dir, checkpoint.manifest_sha256)  # a rerun removes run_dir if this run is stopped now
    remove_written(run_dir)
    release_output(out)  # the run's hold on OUT, taken when it created OUT.partial
    return checkpoint


def posttrain_manifest(stage: str, knobs: dict, parent: Checkpoint, *, data: list[DataSource], schedule: Schedule,
                       seed: int, wall_time_s: float, processes: int, outcome: Outcome, tracking: dict | None,
                       trained_tokens: int | None, generated_tokens: int | None = None,
                       parallelism: str | None = None, template: dict | None = None, **posttraining) -> Manifest:
    """The manifest of an SFT or RL checkpoint: the parent's model and tokenizer, the chat template,
    the lineage's pre-training data, and the stage's own records (`posttraining`: reward, kl,
    generation, lora). `template`: `evolm.template.template_record` of the tokenizer it prompted with
    (default: evolm's, which SFT installs)."""
    from evolm.lineage_data import pretraining_data
    from evolm.template import RECORD

    template = template or dict(RECORD)
    return build_manifest(
        stage, knobs, parent=parent, model=parent.manifest.model, tokenizer=parent.manifest.tokenizer, data=data,
        pretraining_data=pretraining_data(parent), schedule=schedule, seed=seed,
        compute=Compute(wall_time_s=wall_time_s, processes=processes, parallelism=parallelism,
                        **posttrain_ledger(parent.manifest.model.params, trained_tokens, generated_tokens, wall_time_s,
                                           processes, gpu_peak())),
        outcome=outcome,
        posttraining=PostTraining(template=template, **posttraining), tracking=tracking,
    )


def posttrain_ledger(params: int, trained: int | None, generated: int | None, wall_time_s: float, processes: int,
                     peak: float | None = None) -> dict:
    """The compute ledger's fields of an SFT or RL run: 6 x parameters per trained token (forward and
    backward) plus, for RL, 2 x parameters per generated token (sampling is forward passes only); MFU
    against `peak` FLOP/s per device, when known."""
    flops = None if trained is None else 6.0 * params * trained + 2.0 * params * (generated or 0)
    speed = round(trained / wall_time_s, 1) if trained and wall_time_s else None
    mfu = round(flops / (wall_time_s * peak * processes), 5) if flops and wall_time_s and peak else None
    return {"flops": flops, "trained_tokens": trained, "generated_tokens": generated, "tokens_per_s": speed,
            "device_hours": device_hours(wall_time_s, processes), "mfu": mfu, "peak_flops": peak if mfu is not None else None}


def gpu_peak() -> float | None:
    """The published bf16 peak of this process's GPU (evolm.training.flops), None without a listed one.
    Unlike pre-training, SFT and RL measure no matmul on other devices: their FLOPs are estimates
    (padding, generation), and a CPU's MFU of them would say little."""
    import torch

    if not torch.cuda.is_available():
        return None
    from evolm.training.flops import published_peak

    return published_peak(torch.cuda.get_device_name())


def done_message(stage: str, checkpoint: Checkpoint, extra: str) -> None:
    log(f"{stage} done: {checkpoint.signature}, {extra}")
