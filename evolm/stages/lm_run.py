"""What pretrain and cpt share around the trainer: options, run directory, the final checkpoint.

A run trains in `OUT.partial/` (metrics.jsonl, run.json, state/, and tb/ or wandb/ with
`--report-to`) and, once finished, writes the checkpoint `OUT` atomically (HF model + tokenizer +
metrics + tracker logs + manifest) and removes the partial directory. `--resume` continues from
`OUT.partial/state/`. With `--export-at`, the weights at chosen token counts are also written,
through the same writer, as the evaluable checkpoints `OUT@COUNT`, marked incomplete.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from evolm.checkpoint import MANIFEST, Checkpoint, build_manifest, is_checkpoint, write_checkpoint
from evolm.manifest import Compute, DataSource, device_hours, ModelRecord, Outcome, Schedule, TokenizerRecord
from evolm.console import log
from evolm.errors import BadInput
from evolm.fsutil import check_output_dir, release_output, write_json
from evolm.lineage_data import pretraining_shards
from evolm.mixture import MixturePlan
from evolm.options import VAL_TOKENS, check_ranges, check_warmup, given, option, out_of_range
from evolm.presets import Preset
from evolm.tokenizer import portable_tokenizer_config
from evolm.stages.limits import check_length
from evolm.training.batching import split_batch
from evolm.training.options import LOG_EVERY, REPORT_TO, SEED
from evolm.training.processes import from_main, fsdp_checkpoints_activations, is_main_process, launch_requested
from evolm.training.rundir import METRICS, mark_written, partial_dir, remove_written
from evolm.training.tracking import Tracking
from evolm.units import format_count, format_count_exact, parse_counts

if TYPE_CHECKING:  # the trainer imports torch; the CLI imports this module for Overrides, and stays light
    from evolm.training.causal_lm import TrainConfig


@dataclass
class Overrides:
    """The training options of pretrain and cpt (`evolm pretrain/cpt --help` shows this help);
    None means the preset's (the paper's) default."""

    seq_len: int | None = option(None, "Tokens per sequence (preset default: 2048 for the paper's models).", minimum=1)
    global_batch: int | None = option(None, "Sequences per optimizer step across all processes (preset default).",
                                      minimum=1)
    micro_batch: int | None = option(
        None, "Sequences per forward pass on one process (gradient accumulation fills the rest).", minimum=1)
    lr: float | None = option(None, "Peak learning rate (preset default).", above=0)
    min_lr: float | None = option(None, "Final learning rate of the cosine (default lr/10).", minimum=0)
    warmup: float = option(0.1, "Linear warmup: a fraction of the steps (<1) or a number of steps.", minimum=0)
    weight_decay: float = option(0.1, "AdamW weight decay.", minimum=0)
    grad_clip: float = option(1.0, "Clip the gradient norm of each step to this value.", above=0)
    seed: int = SEED()
    eval_every: int = option(0, "Steps between validation passes (0: only at the end).", minimum=0)
    val_tokens: int = option(VAL_TOKENS, "Validation tokens per pass and source (a count: 64K, 1M).", count=True, minimum=1)
    save_every: int = option(0, "Steps between resume states in OUT.partial/state (0: never).", minimum=0)
    log_every: int = LOG_EVERY()
    peak_flops: float | None = option(None, "Peak FLOP/s of one device for MFU (default: the published dense bf16 peak of a known GPU, e.g. 989e12 for H100/H200 SXM; else measured by a matmul).", above=0)
    report_to: str = REPORT_TO()
    compile: bool | None = option(
        None, "torch.compile the model's training forward on CUDA (never on CPUs, where it does not pay). Default: on "
        "for runs of at least 1,000 steps outside the FSDP configs (on an H200 the 1B preset ran 1.2x faster after "
        "about 60 s of compilation).", negatable=True)
    activation_checkpointing: bool = option(
        False, "Recompute each layer's activations in the backward pass instead of keeping them: less memory for "
        "large presets and long sequences, about a third more compute.", negatable=True)
    schedule: str = option(
        "cosine", "Learning-rate schedule: cosine (linear warmup, then cosine to --min-lr: the paper's) or wsd "
        "(warmup-stable-decay: linear warmup, constant, then --decay down to --min-lr).")
    decay: str | None = option(
        None, "With --schedule wsd: the decay phase, a share of the steps (20%, the default) or a token count (200K).")
    decay_shape: str = option("linear", "With --schedule wsd: the decay's shape: linear, cosine or 1-sqrt.")
    export_at: tuple[int, ...] | None = option(
        None, "Token counts at which to also save the weights as evaluable checkpoints, comma-separated (500K,1M), "
        "each below the budget and taken at the first step that reaches it: OUT@COUNT (e.g. runs/pt@500K; '@' and "
        "the count need no quoting in shells), marked incomplete in its manifest.", counts=True)

    def check(self) -> None:
        """Every option on its own (its declared range) and the relations that need no model: run
        first, before any output exists. `train_config` adds the checks against the model and budget."""
        check_ranges(self)
        check_warmup(self.warmup)
        if self.lr is not None and self.min_lr is not None and self.min_lr > self.lr:
            raise out_of_range("--min-lr", self.min_lr, f"at most --lr {self.lr:g}")
        if self.schedule not in SCHEDULES:
            raise BadInput(f"--schedule must be {' or '.join(SCHEDULES)}, not {self.schedule!r}.")
        if self.decay_shape not in DECAY_SHAPES:
            raise BadInput(f"--decay-shape must be {', '.join(DECAY_SHAPES)}, not {self.decay_shape!r}.")
        if self.schedule != "wsd" and (self.decay is not None or self.decay_shape != "linear"):
            raise BadInput("--decay and --decay-shape shape the WSD schedule; add --schedule wsd.")
        if self.decay is not None:
            decay_share(self.decay)  # a share or a count, refused here if neither


def schedule_options(o: Overrides) -> dict:
    """The schedule options a manifest keeps beside the step counts they gave: those counts depend on
    the budget, so the report could not tell runs of two budgets at `--warmup 0.02` and 0.1 (or two
    `--decay`s) apart by them. A cosine run's warmup only where not the default, so that a default
    run keeps the settings of runs made before it was recorded. A WSD run's warmup is not recorded:
    its budget branches take the stable run's warmup in steps, whatever their own option says."""
    if o.schedule == "wsd":
        return {"decay": decay_setting(o.decay or DEFAULT_DECAY)}
    return {} if o.warmup == Overrides.__dataclass_fields__["warmup"].default else {"warmup": o.warmup}


SCHEDULES = ("cosine", "wsd")
DECAY_SHAPES = ("linear", "cosine", "1-sqrt")  # transformers.get_wsd_schedule's decay types
DEFAULT_DECAY = "20%"


def decay_setting(text: str) -> str | int:
    """--decay as a manifest records it, one spelling per value ("20%" for 20% and 20.0%; tokens as a count)."""
    share, tokens = decay_share(text)
    return f"{100 * share:g}%" if share is not None else tokens


def decay_share(text: str) -> tuple[float | None, int | None]:
    """--decay as (share of the steps, None) for '20%', or (None, tokens) for a count ('200K')."""
    value = str(text).strip()
    if value.endswith("%"):
        try:
            share = float(value[:-1]) / 100
        except ValueError:
            share = -1.0
        if not 0 < share <= 1:
            raise BadInput(f"--decay {text} must be a share between 0% and 100% or a token count (200K).")
        return share, None
    from evolm.units import parse_count

    tokens = int(parse_count(value, what="--decay"))
    if tokens <= 0:
        raise BadInput(f"--decay {text} must be a positive share or token count.")
    return None, tokens


def decay_steps(o: "Overrides", steps: int, warmup: int, tokens_per_step: int) -> int:
    """The WSD decay phase in steps (0 for the cosine schedule), after the warmup."""
    if o.schedule != "wsd":
        return 0
    share, tokens = decay_share(o.decay or DEFAULT_DECAY)
    decay = round(share * steps) if share is not None else -(-tokens // tokens_per_step)
    # at least 2: transformers' WSD lowers the rate from the second decay step on, so a decay of one step
    # trains at the stable rate throughout, and the run would be recorded as decayed
    if not 2 <= decay <= steps - warmup:
        raise BadInput(f"--decay {o.decay or DEFAULT_DECAY} gives {decay} decay steps; it must be 2 to {steps - warmup} "
                       f"(the run's {steps} steps less {warmup} of warmup; one decay step would not lower the rate).")
    return decay


def check_shards_tokenizer(shards, data: Path, tokenizer_sha256: str, eos_id: int, whose: str) -> None:
    """Refuse shards tokenized otherwise than the model will read them: another tokenizer (its
    fingerprint), or documents ended with another EOS (EOS_ID, from tokenizer_config.json, outside the
    fingerprint: training on them would teach another document boundary than generation stops at)."""
    if shards.tokenizer_sha256 != tokenizer_sha256:
        raise BadInput(f"Shards {data} were built with a different tokenizer than {whose}; re-run `evolm data prepare` "
                       "with that tokenizer.")
    if eos_id != shards.eos_id:
        raise BadInput(f"Shards {data} end their documents with token {shards.eos_id}, but the EOS of {whose} "
                       f"is token {eos_id}; prepare the shards again with that tokenizer.")


def quiet_transformers() -> None:
    """transformers' own tqdm bars (loading / writing weights) would interleave with our progress."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def micro_batch_cap(preset: Preset) -> int:
    """The largest default micro batch: what a preset's activations comfortably fit."""
    return 8 if preset.hidden <= 1024 else 4 if preset.hidden <= 2048 else 2


def _micro_batch_from_memory(preset: Preset, seq_len: int, per_rank: int, world: int, checkpointing: bool,
                             vocab: int | None) -> int | None:
    """On CUDA: the micro batch the device's free memory holds (logged, with a warning when even one
    sequence does not fit); None elsewhere. `vocab`: the tokenizer's (the logits and both embedding
    matrices grow with it: a 128K-token vocabulary on the 1B preset needs 1.4x the memory a sequence of
    the preset's 32K does), else the preset's."""
    from evolm.training.memory import activation_bytes, free_device_memory, plan_micro_batch

    free = free_device_memory()
    if free is None:
        return None
    per_sequence = activation_bytes(layers=preset.layers, hidden=preset.hidden, intermediate=preset.intermediate,
                                    kv_dim=preset.kv_dim, vocab=vocab or preset.vocab, seq_len=seq_len,
                                    checkpointing=checkpointing)
    shards = world if launch_requested("FSDP") else 1
    plan = plan_micro_batch(per_rank, per_sequence=per_sequence, params=preset.params(vocab), free=free, shards=shards)
    log(plan.describe())
    if not plan.fits:
        log("warning: by this estimate even one sequence may not fit; --activation-checkpointing, FSDP "
            "(configs/accelerate/fsdp-*.yaml) or a shorter --seq-len use less memory.")
    return plan.micro


def sequences_per_step(global_batch: int | None, preset: Preset) -> int:
    """The global batch a pre-training or CPT run splits over its processes: --global-batch, else the
    preset's (also what a study checks against its launch before any work, evolm.study.launch)."""
    return given(global_batch, preset.global_batch)


def train_config(preset: Preset, budgets: list[int], o: Overrides, world: int = 1, *, positions: int | None = None,
                 model: str | None = None, vocab: int | None = None) -> TrainConfig:
    """The trainer's settings: the options (already checked by the stage with `Overrides.check`),
    the preset's defaults for those not given, checked against the model's `positions` (default:
    the preset's) and the token budget of each source; `vocab`: the tokenizer's, for the default
    micro batch on a GPU."""
    from evolm.training.causal_lm import TrainConfig, compile_by_default

    # accelerate's DeepSpeed wiring needs a data loader to prepare and steps the engine at each micro batch
    # (this loop accumulates by hand): a ZeRO config failed with a traceback, or would step 4x per step
    if launch_requested("DEEPSPEED"):
        raise BadInput("Pre-training and CPT do not run under a DeepSpeed launch config; shard them with FSDP "
                       "(configs/accelerate/fsdp-1B.yaml, fsdp-4B.yaml) or run plain data parallel (torchrun). "
                       "The ZeRO configs are for sft and rl.")
    seq_len = given(o.seq_len, preset.seq_len)
    check_length("--seq-len", seq_len, positions or preset.positions, model or f"the {preset.name} preset")
    global_batch = sequences_per_step(o.global_batch, preset)
    tokens_per_step = seq_len * global_batch
    # Steps from whole sequences per source, as the mixture draws them (MixturePlan: budget // seq_len
    # each): the summed budget can hold one sequence more than its sources do (15K + 5.5K at 64).
    sequences = sum(b // seq_len for b in budgets)
    steps = sequences // global_batch
    if steps < 1:
        per_source = f" ({sequences} whole sequences of {seq_len} from its sources)" if len(budgets) > 1 else ""
        raise BadInput(f"The token budget {sum(budgets):,}{per_source} is smaller than one global batch "
                       f"({global_batch} x {seq_len} = {tokens_per_step:,} tokens).")
    lr = given(o.lr, preset.peak_lr)
    min_lr = given(o.min_lr, lr / 10 if o.lr is not None else preset.min_lr)
    if min_lr > lr:  # a given --min-lr against the preset's peak (both given: Overrides.check)
        raise out_of_range("--min-lr", min_lr, f"at most the peak learning rate {lr:g}")
    warmup = round(o.warmup * steps) if o.warmup < 1 else int(o.warmup)
    if warmup >= steps:  # the learning rate would rise all run and never decay, while the manifest said it had (a
        # one-step run warmed up over its step trained at LR 0: step 0 of a warmup is 0)
        raise out_of_range("--warmup", o.warmup, f"fewer than the run's {steps} steps (or a fraction of them below 1)"
                           if o.warmup >= 1 else f"a share that leaves steps to decay over ({o.warmup:g} of the run's "
                           f"{steps} steps is {warmup})")
    # An FSDP config's own activation checkpointing (fsdp-4B.yaml) counts as checkpointing: for the memory
    # plan below and in the manifest; the trainer then leaves the model's own off (causal_lm.train).
    checkpointing = o.activation_checkpointing or fsdp_checkpoints_activations()
    # The default micro batch: on a GPU what its free memory holds (evolm.training.memory), else the
    # largest power-of-two divisor of the per-process batch up to the preset's cap.
    micro = o.micro_batch
    if micro is None and global_batch % world == 0:
        micro = _micro_batch_from_memory(preset, seq_len, global_batch // world, world, checkpointing, vocab)
    split = split_batch(global_batch, world, micro, cap=micro_batch_cap(preset), powers_of_two=True)
    config = TrainConfig(
        seq_len=seq_len, global_batch=global_batch, micro_batch=split.micro,
        lr=lr, min_lr=min_lr, warmup_steps=min(warmup, steps), total_steps=steps, weight_decay=o.weight_decay,
        schedule=o.schedule, decay_steps=decay_steps(o, steps, min(warmup, steps), tokens_per_step),
        decay_shape=o.decay_shape if o.schedule == "wsd" else "linear",
        grad_clip=o.grad_clip, seed=o.seed, eval_every=o.eval_every, val_tokens=o.val_tokens,
        save_every=o.save_every, log_every=o.log_every, peak_flops=o.peak_flops,
        compile=o.compile if o.compile is not None else compile_by_default(steps), activation_checkpointing=checkpointing,
        export_at=tuple(sorted(set(parse_counts(o.export_at, what="--export-at")))),  # text too, from Python callers
    )
    _check_export_at(config)
    return config


def _check_export_at(config: TrainConfig) -> None:
    """Each --export-at count must land on a step before the last (the last step's weights are OUT
    itself), and no two on the same step (they would be the same weights twice)."""
    last = (config.total_steps - 1) * config.tokens_per_step
    for count in config.export_at:
        if count <= 0 or count > last:
            raise BadInput(f"--export-at {format_count(count)} must be positive and reached before the run's last step "
                           f"(at most {last:,} of its {config.total_steps * config.tokens_per_step:,} tokens).")
    steps = config.export_steps()
    if len(steps) < len(config.export_at):
        twice = sorted(c for c in config.export_at if steps.get(config.export_step(c)) != c)
        raise BadInput(f"--export-at {format_count(twice[0])} lands on the same step as another count "
                       f"({config.tokens_per_step:,} tokens per step); keep one of them.")


def export_dir(out: Path, count: int) -> Path:
    """`OUT@COUNT`, the mid-run export of `count` tokens beside OUT: `runs/pt-1M@500K`. The count is
    written exactly (1.234567M, never a rounded 1.235M), so each count has its own directory."""
    out = Path(out)
    return out.with_name(f"{out.name}@{format_count_exact(count)}")


EXPORTED = "exports"
"""`OUT.partial/exports/COUNT.json`: the hash of the manifest of each export the run wrote, so that a
resumed run keeps its own exports and not another run's left at OUT@COUNT (an earlier run's, with
other settings, replaced by this one with --overwrite)."""


def exported_by_this_run(out: Path, count: int) -> bool:
    """Whether OUT@COUNT is the export the interrupted run at OUT.partial wrote: by its record, or for a run
    interrupted before evolm kept them (no record at all), by time: written after the run began (an
    earlier run's export is older than this run's folder)."""
    from evolm.fsutil import sha256_file
    from evolm.training.rundir import RUN

    path, partial = export_dir(out, count), partial_dir(out)
    if not is_checkpoint(path):
        return False
    record = partial / EXPORTED / f"{count}.json"
    try:
        if record.is_file():
            return json.loads(record.read_text()).get("manifest_sha256") == sha256_file(path / MANIFEST)
        started = partial / RUN
        return not (partial / EXPORTED).exists() and started.is_file() and \
            (path / MANIFEST).stat().st_mtime >= started.stat().st_mtime
    except OSError:  # gone as it was read: the main process removed what a finished run left (finish_cleanup)
        return False


def check_exports(out: Path, config: TrainConfig, *, resume: bool, overwrite: bool) -> None:
    """Before any work: refuse to replace an existing export without --overwrite. A resumed run keeps
    the exports it already wrote, and only those (`exported_by_this_run`)."""
    for count in config.export_at:
        path = export_dir(out, count)
        if resume and exported_by_this_run(out, count):
            continue
        if resume and path.exists() and not overwrite:
            raise BadInput(f"{path} was not written by the run resumed at {partial_dir(out)}; pass --overwrite to "
                           "replace it with this run's export.")
        check_output_dir(path, overwrite=overwrite, marker=MANIFEST, what="evolm checkpoint")


@dataclass
class RunSpec:
    stage: str
    knobs: dict
    preset: Preset
    vocab: int
    tokenizer_dir: Path
    tokenizer_sha256: str
    plan: MixturePlan
    config: TrainConfig
    val_sets: dict
    data_records: list = field(default_factory=list)
    parent: Checkpoint | None = None
    extra: dict = field(default_factory=dict)
    report_to: str = "none"
    branch_points: dict = field(default_factory=dict)  # step -> state folder (a WSD run's --branch-at)
    start_from: Path | None = None  # a branch's starting state (--branch-from)
    schedule_notes: dict = field(default_factory=dict)  # extra schedule settings: options (schedule_options), a branch's origin
    # Called with OUT once it is written, before OUT.partial goes: a run stopped here leaves OUT.partial,
    # marked done, beside its new OUT (a --branch-at run publishes its branch states here, a branch hands
    # over its state; the next command for OUT does it then: evolm.stages.outputs.finish_cleanup).
    on_saved: Callable[[Path], None] | None = None


def run_and_save(spec: RunSpec, model, out: Path, *, resume: bool, overwrite: bool) -> Checkpoint:
    """Train in OUT.partial, then write the checkpoint OUT (main process); every process returns it."""
    out = Path(out)
    partial = partial_dir(out)
    record = {"stage": spec.stage, "knobs": spec.knobs, "tokenizer": spec.tokenizer_sha256,
              "data": [d.to_json() for d in spec.data_records],
              "parent": spec.parent.manifest_sha256 if spec.parent else None}
    tracking = Tracking(spec.report_to, partial, out.name)
    warn_short_val_sets(spec.val_sets, spec.config.seq_len)
    from evolm.training.causal_lm import MidRunExports, train

    exports = MidRunExports(
        write=lambda count, snapshot: _save_export(spec, snapshot, export_dir(out, count), count, partial, tracking),
        written=lambda count: resume and exported_by_this_run(out, count),
    )
    result = train(
        model, spec.plan, spec.config, partial, run_record=record, val_sets=spec.val_sets,
        flops_per_token=spec.preset.flops_per_token(spec.config.seq_len, spec.vocab), resume=resume,
        description=f"{spec.stage} {spec.preset.name}", tracking=tracking, exports=exports,
        branch_points=spec.branch_points, start_from=spec.start_from,
    )
    return from_main(lambda: _save(spec, result, out, partial, tracking))


def _manifest(spec: RunSpec, result, tracking: dict, **settings):
    """The manifest of the run as `result` leaves it: the end of the schedule, or a mid-run export
    (`result.completed` False, `settings` saying where it was taken)."""
    data = [replace(record, tokens_drawn=drawn) for record, drawn in zip(spec.data_records, result.tokens_drawn)]
    # export_at only where used: it does not change the optimization, so a run without exports keeps
    # the settings of runs made before the option existed (the report compares settings across a sweep).
    # Likewise the WSD fields only for a WSD run: a cosine run's settings stay as they were.
    wsd = spec.config.schedule == "wsd"
    config = {k: v for k, v in vars(spec.config).items()
              if (k != "export_at" or v) and (wsd or k not in ("schedule", "decay_steps", "decay_shape"))}
    c = spec.config
    if wsd:
        config["stable_steps"] = c.total_steps - c.warmup_steps - c.decay_steps
        kind = f"WSD: linear warmup, constant, {c.decay_shape} decay to min_lr"
    else:
        kind = "linear warmup + cosine to min_lr"
    return build_manifest(
        spec.stage, spec.knobs, parent=spec.parent,
        # seq_len as trained (--seq-len), not the preset's default: evaluation scores validation loss at it
        model=ModelRecord(spec.preset.name, spec.preset.params(spec.vocab), spec.vocab,
                          {**spec.preset.describe(spec.vocab), "seq_len": c.seq_len}),
        tokenizer=TokenizerRecord(spec.tokenizer_sha256),
        data=data,
        schedule=Schedule(kind=kind, completed=result.completed, steps_done=result.steps, tokens_done=result.tokens,
                          settings={**config, "micro_batch": result.micro_batch or c.micro_batch, "optimizer": "AdamW",
                                    "compiled": result.compiled,
                                    "decayed": result.completed, **spec.schedule_notes, **settings}),
        seed=spec.config.seed,
        compute=Compute(wall_time_s=round(result.wall_time_s, 3), tokens_per_s=round(result.tokens_per_s, 1),
                        mfu=round(result.mfu, 5) if result.mfu is not None else None, peak_flops=result.peak_flops,
                        processes=result.processes, parallelism=result.parallelism, peak_memory_gib=result.peak_memory_gib,
                        **_ledger(spec, result)),
        outcome=Outcome(final_train_loss=result.final_loss, val_loss=result.val_loss),
        tracking=tracking,
        **spec.extra,
    )


def _ledger(spec: RunSpec, result) -> dict:
    """The compute ledger's fields: this run's own tokens (a budget branch shares its stable run's
    first tokens and counts only the steps past the state it starts from), at the preset's FLOPs per token (the count MFU uses)."""
    shared = spec.schedule_notes.get("branch_of", {}).get("shared_tokens", 0)
    trained = result.tokens - shared
    return {"trained_tokens": trained, "flops": spec.preset.flops_per_token(spec.config.seq_len, spec.vocab) * trained,
            "device_hours": device_hours(result.wall_time_s, result.processes)}


def _write_weights(spec: RunSpec, result, partial: Path, tmp: Path) -> None:
    """The HF model directory: weights, config, tokenizer, and the metrics logged so far (none yet
    for an export taken before the first --log-every row)."""
    result.model.save_pretrained(tmp, state_dict=result.state_dict)
    _copy_tokenizer(spec.tokenizer_dir, tmp)
    if (partial / METRICS).is_file():
        shutil.copy2(partial / METRICS, tmp / METRICS)


def _save_export(spec: RunSpec, result, path: Path, count: int, partial: Path, tracking: Tracking) -> Checkpoint:
    """A mid-run export `OUT@COUNT` (the paper's finding 9: an intermediate checkpoint understates a
    run whose learning rate decayed at that budget). It is written like the final checkpoint, with
    the run's own knobs and parent, so `evolm eval` and `evolm report` take it as is; its schedule
    says it did not complete, how far it went, and the learning rate it had reached (mid-cosine,
    not min_lr). The tracker's logs stay with the run (`tracking.logs` is not copied here)."""
    manifest = _manifest(spec, result, {"report_to": tracking.report_to},
                         export_count=count, lr_at_export=result.lr)
    checkpoint = write_checkpoint(path, manifest, lambda tmp: _write_weights(spec, result, partial, tmp), overwrite=True)
    (partial / EXPORTED).mkdir(exist_ok=True)
    write_json(partial / EXPORTED / f"{count}.json", {"export": str(path), "manifest_sha256": checkpoint.manifest_sha256})
    log(f"exported step {result.steps} ({result.tokens:,} tokens, lr {result.lr:.3g}) to {path}")
    return checkpoint


def _save(spec: RunSpec, result, out: Path, partial: Path, tracking: Tracking) -> Checkpoint:
    manifest = _manifest(spec, result, tracking.manifest())

    def write_files(tmp: Path) -> None:
        _write_weights(spec, result, partial, tmp)
        tracking.copy_logs(tmp)

    checkpoint = write_checkpoint(out, manifest, write_files, overwrite=True)
    mark_written(partial, checkpoint.manifest_sha256)  # a rerun finishes what follows if this run is stopped now
    if spec.on_saved is not None:
        spec.on_saved(out)
    remove_written(partial)
    release_output(out)  # the run's hold on OUT, taken when it created OUT.partial
    log(f"{spec.stage} done: {checkpoint.signature}, {result.tokens:,} tokens in {result.wall_time_s:.1f}s "
        f"({result.tokens_per_s:,.0f} tokens/s), final loss {result.final_loss:.4f}, "
        + ", ".join(f"val {k} {v:.4f}" for k, v in result.val_loss.items()))
    return checkpoint


_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")


def _copy_tokenizer(source: Path, target: Path) -> None:
    for name in _TOKENIZER_FILES:
        if (Path(source) / name).is_file():
            shutil.copy2(Path(source) / name, target / name)
    portable_tokenizer_config(target)  # a tokenizer folder made by an earlier evolm


def data_record(name: str, shards, budget: int, plan: MixturePlan, index: int) -> DataSource:
    return DataSource(name, path=str(Path(shards.root).resolve()), fingerprint=shards.fingerprint,
                      tokens_requested=budget, epochs=round(plan.epochs(index), 4), source=shards.source)


def warn_short_val_sets(val_sets: dict, seq_len: int) -> None:
    """A validation split shorter than one sequence gives no loss (NaN, written as null in the
    manifest): say why before the run, not after it."""
    for name, reader in val_sets.items():
        if len(reader) < seq_len + 1:
            log(f"warning: the {name} validation split holds {len(reader):,} tokens, fewer than one sequence of "
                f"--seq-len {seq_len} plus 1; its validation loss will be recorded as null.")


def warn_repeats(plan: MixturePlan) -> None:
    for i, source in enumerate(plan.sources):
        if plan.epochs(i) > 1:
            log(f"warning: {source.name} budget {source.budget:,} tokens exceeds the {plan.windows[i] * plan.seq_len:,} "
                f"tokens in {source.path}; the data repeats ({plan.epochs(i):.2f} passes).")


def note_whole_steps(plan: MixturePlan, config: TrainConfig) -> None:
    """Say what a budget trains when it is not a whole number of global batches: the run trains whole
    steps only (`train_config`), and is still named by its budget (the manifest records both)."""
    budget = sum(source.budget for source in plan.sources)
    trained = config.total_steps * config.tokens_per_step
    if trained < budget and is_main_process():
        log(f"note: the budget of {budget:,} tokens trains as {config.total_steps:,} whole steps of "
            f"{config.tokens_per_step:,}: {trained:,} tokens ({budget - trained:,} fewer, less than one global batch"
            + (" and part of a sequence a source" if len(plan.sources) > 1 else "") + ").")


def pretraining_val_set(checkpoint: Checkpoint, skip: list[Path] = ()) -> dict:
    """The validation split of the data the lineage was pre-trained on, when it is still on disk.

    CPT reports it as `val_loss/pretrain` so forgetting of the general domain is measured in every
    run, with or without replay.
    """
    from evolm.shards import TokenShards

    path = pretraining_shards(checkpoint, skip)
    return {} if path is None else {"pretrain": TokenShards(path).split("val")}
