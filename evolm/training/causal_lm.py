"""The causal-LM trainer shared by pre-training and continued pre-training.

The paper's recipe (evolm-paper.md section 3): AdamW (0.9, 0.95), weight decay 0.1, clip 1.0,
linear warmup then cosine to min_lr, the token budget turned into steps of `global_batch`
sequences, gradient accumulation from the micro batch. accelerate does the wiring for one or many
processes (DDP under torchrun / accelerate launch, FSDP from its config files; not DeepSpeed), the
bf16 autocast on CUDA, the resume state (model, optimizer, RNG) and the experiment trackers; this
loop is written by hand only because the parts that matter here are exactly what generic trainers
hide: the global batch stays the global batch for any process count, each process reads its own
slice of a token-budget mixture, and state is saved atomically so a SIGKILL at any moment leaves a
complete state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from evolm.console import log
from evolm.errors import BadInput
from evolm.mixture import MixturePlan
from evolm.options import VAL_TOKENS
from evolm.shards import SplitReader
from evolm.training.batching import split_batch
from evolm.training.flops import device_peak
from evolm.training.memory import checkpoint_activations
from evolm.training.metrics import MetricsLog
from evolm.training.processes import (
    from_main, fsdp_checkpoints_activations, launch_requested, parallelism, process_group_kwargs, shard_as_launched,
    smallest_on_any_process, warn_if_not_as_launched,
)
from evolm.training.rundir import METRICS, STATE, latest_state, nothing_saved, open_run_dir_once, truncate_metrics
from evolm.training.tracking import Tracking
from evolm.units import format_count
from evolm.val_loss import validation_losses

# Settings that may change between an interrupted run and its resumption: none changes the weights
# (an export only reads them; one a resumed run has already passed is refused in `MidRunExports`).
# The micro batch too: on a GPU it is chosen from the memory free at the start (evolm.training.memory),
# which a resume may find different; it splits the same global batch, so only summation order changes.
RESUMABLE_CHANGES = ("save_every", "log_every", "eval_every", "val_tokens", "peak_flops", "export_at", "compile",
                     "activation_checkpointing", "micro_batch")
WSD_FIELDS = ("schedule", "decay_steps", "decay_shape")


@dataclass
class TrainConfig:
    seq_len: int
    global_batch: int
    """Sequences per optimizer step, across all processes."""
    micro_batch: int
    """Sequences per forward/backward on one process."""
    lr: float
    min_lr: float
    warmup_steps: int
    total_steps: int
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    seed: int = 0
    eval_every: int = 0
    """Steps between validation passes (0: only at the end)."""
    val_tokens: int = VAL_TOKENS
    """Validation tokens per source per pass."""
    save_every: int = 0
    """Steps between resume states (0: never)."""
    log_every: int = 1
    peak_flops: float | None = None
    """Peak FLOP/s of one device for MFU; measured once when None."""
    export_at: tuple[int, ...] = ()
    """Token counts at which the weights are also exported part-way (see `MidRunExports`)."""
    compile: bool = False
    """torch.compile the model where CUDA runs it (`compiled` in the result says whether it was)."""
    activation_checkpointing: bool = False
    """Recompute activations in the backward pass (the HF model's gradient checkpointing)."""
    schedule: str = "cosine"
    """cosine (warmup, cosine to min_lr) or wsd (warmup, constant, decay to min_lr over decay_steps)."""
    decay_steps: int = 0
    decay_shape: str = "linear"

    @property
    def tokens_per_step(self) -> int:
        return self.global_batch * self.seq_len

    def export_step(self, count: int) -> int:
        """The first optimizer step whose cumulative tokens reach `count`."""
        return -(-count // self.tokens_per_step)

    def export_steps(self) -> dict[int, int]:
        """Step -> token count of each mid-run export."""
        return {self.export_step(count): count for count in self.export_at}

    def comparable(self) -> dict:
        """The settings a resume must share; a cosine run's lack the WSD fields, as runs made before
        they existed do (so those resume as before)."""
        skip = RESUMABLE_CHANGES + (WSD_FIELDS if self.schedule == "cosine" else ())
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}


@dataclass
class TrainResult:
    steps: int
    tokens: int
    wall_time_s: float
    tokens_per_s: float
    mfu: float | None
    peak_flops: float
    final_loss: float
    val_loss: dict
    tokens_drawn: list[int]
    processes: int
    model: torch.nn.Module
    parallelism: str | None = None
    """How accelerate spread the processes (`evolm.training.processes.parallelism`)."""
    compiled: bool = False
    """Whether torch.compile ran (asked for with --compile, and CUDA present)."""
    state_dict: dict | None = None
    lr: float | None = None
    """The learning rate of the last step taken."""
    completed: bool = True
    """False for a mid-run export: the schedule had not reached its end."""
    peak_memory_gib: float | None = None
    """CUDA: the most memory this process's tensors held so far (None elsewhere)."""
    micro_batch: int | None = None
    """The micro batch every process ran (the smallest any of them chose)."""


@dataclass
class MidRunExports:
    """Who writes the mid-run exports of `config.export_at` (the paper's finding 9: an intermediate
    checkpoint of a long run understates a run whose learning rate fully decayed at that budget,
    which is only testable if the intermediate weights can be evaluated like any checkpoint).

    `write(count, result)` runs on the main process right after the first step whose cumulative
    tokens reach `count`, with the run as it stands then (`completed` False); `written(count)` says
    an export is already on disk, which a resumed run keeps instead of writing it again.
    """

    write: Callable[[int, TrainResult], object]
    written: Callable[[int], bool] = lambda count: False

    def pending(self, config: TrainConfig, start_step: int) -> dict[int, int]:
        """Step -> count of the exports still to write."""
        due = {}
        for step, count in config.export_steps().items():
            if self.written(count):
                continue
            if step <= start_step:  # an --export-at added on --resume, behind the state resumed from
                raise BadInput(f"--export-at {format_count(count)} falls on step {step}, which the interrupted run "
                               f"had passed (it resumes at step {start_step}); drop it, or --overwrite to start over.")
            due[step] = count
        return due


class _Clock:
    """Wall time across resumes, and the time spent in optimizer steps for the token rate (a
    process's first step, with its warm-up costs, is left out)."""

    def __init__(self, elapsed_before: float):
        self.elapsed_before, self.started = elapsed_before, time.monotonic()
        self.steps_timed, self.time_in_steps = 0, 0.0

    def add_step(self, seconds: float) -> None:
        self.steps_timed, self.time_in_steps = self.steps_timed + 1, self.time_in_steps + seconds

    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self.started

    def tokens_per_s(self, tokens_per_step: int, tokens: int) -> float:
        if self.steps_timed:
            return tokens_per_step * self.steps_timed / self.time_in_steps
        return tokens / max(self.elapsed(), 1e-9)


def train(
    model: torch.nn.Module,
    plan: MixturePlan,
    config: TrainConfig,
    run_dir: Path,
    *,
    run_record: dict,
    val_sets: dict[str, SplitReader],
    flops_per_token: float,
    resume: bool = False,
    description: str = "train",
    tracking: Tracking | None = None,
    exports: MidRunExports | None = None,
    branch_points: dict[int, Path] | None = None,
    start_from: Path | None = None,
) -> TrainResult:
    """`branch_points`: step -> folder where a WSD run saves its stable-phase state for a budget
    branch (`evolm pretrain --branch-at`); `start_from`: such a state, which a branch starts from
    (its step, weights, optimizer, scheduler and RNG) unless its own run has a state to resume."""
    from accelerate import Accelerator

    if config.export_at and exports is None:
        raise TypeError("train() needs `exports` to write the mid-run exports of config.export_at")
    cuda = torch.cuda.is_available()
    run_dir = Path(run_dir)
    tracking = tracking or Tracking("none", run_dir, run_dir.name)
    accelerator = Accelerator(mixed_precision="bf16" if cuda else "no", cpu=not cuda, kwargs_handlers=[process_group_kwargs()],
                              **tracking.accelerator_kwargs())
    shard_as_launched(accelerator.state)  # an FSDP config on CPUs: FSDP2 on gloo, not plain data parallel
    world, rank, main = accelerator.num_processes, accelerator.process_index, accelerator.is_main_process
    mismatch = warn_if_not_as_launched(accelerator)
    if mismatch and main:
        log(f"warning: {mismatch}")
    # Each process chose the micro batch from its own GPU's free memory (lm_run.train_config); under FSDP
    # ranks that disagree run different numbers of forwards, each a collective, and hang. The smallest
    # divides the per-process batch too (they are powers of two dividing it).
    agreed = smallest_on_any_process(config.micro_batch)
    if agreed != config.micro_batch:
        if main:
            log(f"the processes found different free memory: micro batch {agreed} on all (this one chose {config.micro_batch})")
        config = replace(config, micro_batch=agreed)
    per_rank, accum = _per_rank_and_accum(config, world)
    state_root = run_dir / STATE
    record = {"config": config.comparable(), **run_record, "report_to": tracking.report_to}
    branch_step, failure = None, None
    if start_from is not None:  # read before the run folder is made: a state that moved leaves nothing behind
        try:
            with _branch_state(start_from):
                branch_step = json.loads((Path(start_from) / "trainer.json").read_text())["step"]
                check_state_layout(Path(start_from), accelerator)
        except BadInput as exc:  # raised below, on every process together
            failure = exc
    if world > 1:  # each process looked up its branch's state itself: a state another branch handed over meanwhile
        first = -1 if failure else (branch_step or 0)
        least, most = smallest_on_any_process(first), -smallest_on_any_process(-first)
        if least < 0:
            raise failure or BadInput("Another process of this branch could not read the state it starts from; run it again.")
        if least != most:
            raise BadInput("The processes of this branch found different saved states to start from (another branch "
                           "handed its state to the stable run while they looked); run it again.")
    if failure:
        raise failure
    if resume and latest_state(run_dir):
        check_state_layout(state_root / state_name(latest_state(run_dir)), accelerator)
    open_run_dir_once(run_dir, record, resume=resume, processes=accelerator)
    start_step = latest_state(run_dir) if resume else 0
    branch_start = 0
    if branch_step is not None and not start_step:
        branch_start = start_step = branch_step
    passed = [(step, Path(folder).name) for step, folder in (branch_points or {}).items()
              if step <= start_step and not (Path(folder) / "trainer.json").is_file()]
    if passed and main:  # a --branch-at the resumed run has already passed (a budget a study added meanwhile)
        log(f"warning: the branch state for {', '.join(name for _, name in passed)} (step "
            f"{', '.join(str(step) for step, _ in passed)}) is one the interrupted run had passed (it resumes at step "
            f"{start_step}): it is not saved; once this run has finished, such a branch continues the stable "
            "phase from an earlier state (--overwrite starts over and saves it)")
    exports_due = exports.pending(config, start_step) if exports else {}

    if config.activation_checkpointing and not fsdp_checkpoints_activations():  # else FSDP wraps each layer itself
        checkpoint_activations(model)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, betas=(config.beta1, config.beta2), weight_decay=config.weight_decay,
        fused=True if cuda else None,
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    compiled = config.compile and compiles_here()
    # Only the training forward goes through torch.compile's wrapper. Its state dict names every weight
    # `_orig_mod.<name>` (a checkpoint saved from it loads as a freshly initialised model), and other
    # batch shapes recompile it; so the checkpoint, the exports and validation use the prepared model.
    forward = torch.compile(model) if compiled else model
    # The scheduler is not passed to prepare(): accelerate would step it once per process.
    scheduler = lr_scheduler(optimizer, config)
    accelerator.register_for_checkpointing(scheduler)
    elapsed_before = 0.0
    if start_step:
        state = Path(start_from) if branch_start else state_root / state_name(start_step)
        with _branch_state(start_from) if branch_start else contextlib.nullcontext():
            accelerator.load_state(str(state))
        # a branch counts its own time: the stable run's time is the stable run's
        elapsed_before = 0.0 if branch_start else json.loads((state / "trainer.json").read_text())["elapsed_s"]
    if resume and main:
        # Without a state the run starts over, so every logged line goes: each step is logged once.
        truncate_metrics(run_dir / METRICS, start_step)
        log(f"resuming at step {start_step}/{config.total_steps} from {state_root / state_name(start_step)}"
            if start_step else nothing_saved(run_dir))

    peak = config.peak_flops or device_peak(accelerator.device, torch.bfloat16 if cuda else torch.float32)[0]
    tracking.start_accelerate(accelerator, {**config.comparable(), **_flat(run_record)},
                              resume_step=start_step if resume else None)
    metrics = MetricsLog(run_dir, description, config.total_steps, main=main,
                         tracker=accelerator.log if tracking.enabled else None)
    device = accelerator.device
    loss_value, val, lr = float("nan"), {}, None
    clock = _Clock(elapsed_before)
    # The steps since the last logged row, for that row's token rate. A step's own time is no rate on a
    # GPU: it returns once its kernels are queued, and the logged step, whose loss read waits for the
    # device, absorbed the queued work of the steps before it (the 1B preset on an H200 logged 44.6K
    # tokens/s while running at 55K). Over the steps between two logged rows the waits cancel out.
    window = _Clock(0.0)

    def result_after(steps: int, loss: float, val_loss: dict, completed: bool) -> TrainResult:
        """The run after `steps` steps, its full weights on the main process (a collective: every process calls it)."""
        accelerator.wait_for_everyone()
        tokens = steps * config.tokens_per_step
        tps = clock.tokens_per_s(config.tokens_per_step, tokens)
        # A full state dict on the main process (a collective under FSDP, a plain copy otherwise).
        return TrainResult(
            steps=steps, tokens=tokens, wall_time_s=clock.elapsed(), tokens_per_s=tps,
            mfu=flops_per_token * tps / (peak * world), peak_flops=peak, final_loss=loss, val_loss=val_loss,
            tokens_drawn=plan.tokens_drawn(steps * config.global_batch), processes=world,
            model=accelerator.unwrap_model(model), state_dict=accelerator.get_state_dict(model), lr=lr,
            completed=completed, parallelism=parallelism(accelerator), compiled=compiled, micro_batch=config.micro_batch,
            peak_memory_gib=round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if cuda else None,
        )

    try:
        with metrics.start(start_step):
            for step in range(start_step, config.total_steps):
                step_start = time.perf_counter()
                first = step * config.global_batch + rank * per_rank
                batch = torch.from_numpy(plan.batch(first, first + per_rank))
                total_loss = torch.zeros((), device=device)
                model.train()
                for m in range(accum):
                    x = batch[m * config.micro_batch:(m + 1) * config.micro_batch].to(device, non_blocking=True)
                    sync = contextlib.nullcontext() if m == accum - 1 else accelerator.no_sync(model)
                    with sync:
                        # use_cache=False: otherwise transformers builds a KV cache in every training
                        # forward, which under FSDP makes torch.compile recompile once per layer (the
                        # cache's per-layer state is guarded) until its limit of 8, then run eager
                        logits = forward(input_ids=x[:, :-1], use_cache=False).logits
                        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), x[:, 1:].reshape(-1))
                        accelerator.backward(loss / accum)
                    total_loss += loss.detach()
                grad_norm = accelerator.clip_grad_norm_(model.parameters(), config.grad_clip)
                lr = scheduler.get_last_lr()[0]
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                done = step + 1
                evaluating = bool(config.eval_every) and done % config.eval_every == 0 and done < config.total_steps
                # a validation pass is logged at its own step (a later row's would carry another step's tokens)
                logged = done % config.log_every == 0 or done == config.total_steps or evaluating
                if logged:
                    loss_value = accelerator.reduce(total_loss / accum, "mean").item()
                    if not math.isfinite(loss_value):
                        raise RuntimeError(f"loss became {loss_value} at step {done}; lower the learning rate")
                step_time = time.perf_counter() - step_start
                if step > start_step:  # the first step includes warm-up costs
                    clock.add_step(step_time)
                    window.add_step(step_time)
                if evaluating:
                    val = validation_losses(model, val_sets, config, accelerator)
                if logged:
                    tps = (config.tokens_per_step * window.steps_timed / window.time_in_steps if window.steps_timed
                           else config.tokens_per_step / step_time)  # a first step logged on its own
                    window = _Clock(0.0)
                    row = {"step": done, "tokens": done * config.tokens_per_step, "loss": round(loss_value, 6), "lr": lr,
                           "grad_norm": round(float(grad_norm), 6), "tokens_per_s": round(tps, 1),
                           "mfu": round(flops_per_token * tps / (peak * world), 5),
                           "elapsed_s": round(clock.elapsed(), 3)}
                    row.update({f"val_loss/{k}": round(v, 6) for k, v in val.items()})
                    val = {}
                    metrics.write(row)
                if done in exports_due:
                    # Before the resume state of this step: a kill between the two redoes the export.
                    step_loss = accelerator.reduce(total_loss / accum, "mean").item()
                    at_export = result_after(done, step_loss, validation_losses(model, val_sets, config, accelerator),
                                             completed=False)
                    from_main(lambda: exports.write(exports_due[done], at_export))
                    del at_export  # the state dict: not held through the rest of the run
                if config.save_every and done % config.save_every == 0 and done < config.total_steps:
                    save_state(accelerator, state_root, done, clock.elapsed())
                if branch_points and done in branch_points:
                    save_state(accelerator, Path(branch_points[done]).parent, done, clock.elapsed(),
                                name=Path(branch_points[done]).name, keep_others=True)
        final_val = validation_losses(model, val_sets, config, accelerator)
        metrics.write({"step": config.total_steps, "tokens": config.total_steps * config.tokens_per_step,
                       **{f"val_loss/{k}": round(v, 6) for k, v in final_val.items()}, "final": True}, fsync=True)
        return result_after(config.total_steps, loss_value, final_val, completed=True)
    finally:
        tracking.finish_accelerate(accelerator)


# Measured on an H200 (benchmarks/gpu_check.sh, 2026-12-04): the 1B preset, 16 x 2048 tokens a step,
# ran 1.20x the eager rate compiled (66.9K against 55.9K tokens/s: a step 0.49 s instead of 0.59 s),
# after about 60 s of compilation, so compiling pays from about 600 steps on; the default asks for
# well past that. Under the FSDP configs it was not measured, and stays opt-in.
COMPILE_PAYS_FROM_STEPS = 1000


@contextlib.contextmanager
def _branch_state(folder: Path):
    """Reading a branch's starting state, which its stable run moves (OUT.branches.partial/ to
    OUT.branches/) when it finishes: a branch started in that instant gets one sentence, not a traceback."""
    try:
        yield
    except FileNotFoundError:
        if Path(folder).exists():
            raise
        raise BadInput(f"The branch state {folder} moved while this branch started (its stable run finished and "
                       "published it): run the branch again.") from None


def compiles_here() -> bool:
    """Whether --compile compiles: where CUDA runs the model. On CPUs compilation costs minutes and
    gains nothing at the sizes they train."""
    return torch.cuda.is_available()


def compile_by_default(steps: int) -> bool:
    """Whether a run compiles when neither --compile nor --no-compile is given: where it pays (CUDA,
    at least COMPILE_PAYS_FROM_STEPS steps, no FSDP launch config)."""
    return compiles_here() and steps >= COMPILE_PAYS_FROM_STEPS and not launch_requested("FSDP")


def lr_scheduler(optimizer, config: TrainConfig):
    """transformers' own schedules: cosine with a floor (the paper's), or warmup-stable-decay. (The
    WSD warmup rises from min_lr, not from 0 as the cosine one does: transformers' definition.)"""
    from transformers import get_cosine_with_min_lr_schedule_with_warmup, get_wsd_schedule

    if config.schedule == "wsd":
        return get_wsd_schedule(optimizer, config.warmup_steps, config.decay_steps, num_training_steps=config.total_steps,
                                decay_type=config.decay_shape, min_lr_ratio=config.min_lr / config.lr)
    return get_cosine_with_min_lr_schedule_with_warmup(optimizer, config.warmup_steps, config.total_steps,
                                                       min_lr_rate=config.min_lr / config.lr)


def _per_rank_and_accum(config: TrainConfig, world: int) -> tuple[int, int]:
    split = split_batch(config.global_batch, world, config.micro_batch)
    return split.per_rank, split.accum


def _flat(record: dict) -> dict:
    """The run record's scalar entries, for a tracker's run configuration."""
    return {k: v for k, v in record.items() if isinstance(v, (int, float, str, bool))}


def state_name(step: int) -> str:
    return f"step-{step:08d}"


def check_state_layout(state: Path, accelerator) -> None:
    """A state saved under FSDP holds the model and optimizer as FSDP wrote them (`pytorch_model_fsdp_0/`,
    sharded), which only an FSDP launch can load, and a state saved without FSDP only a launch without
    it: refused before the run folder is touched, rather than a missing-file traceback after it."""
    from accelerate.utils import DistributedType

    saved = any(Path(state).glob("pytorch_model_fsdp*"))
    now = accelerator.distributed_type == DistributedType.FSDP
    if saved != now:
        raise BadInput(f"The state {state} was saved {'under' if saved else 'without'} FSDP and loads only "
                       f"{'under' if saved else 'without'} it; launch this run as that one was launched"
                       f"{' (accelerate launch --config_file with its FSDP config)' if saved else ''}.")


def save_state(accelerator, state_root: Path, step: int, elapsed: float, *, name: str | None = None,
               keep_others: bool = False, extra: dict | None = None) -> None:
    """Write the resume state of `step` next to the old one, then switch atomically by rename.

    A kill before the rename leaves only a `.tmp-` directory (ignored and cleaned up later); after
    it, the new state is complete. Older states are deleted only once the new one is in place
    (`keep_others`: not at all, for the branch states of a WSD run, one per budget). `extra`: more
    of the loop's own state for trainer.json (PPO's token counts).
    """
    name = name or state_name(step)
    tmp = state_root / f".tmp-{name}"
    if accelerator.is_main_process:
        state_root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / "trainer.json").write_text(json.dumps({"step": step, "elapsed_s": elapsed, **(extra or {})}))
        _fsync_tree(tmp)
        shutil.rmtree(state_root / name, ignore_errors=True)  # a branch state written again by an --overwrite run
        os.replace(tmp, state_root / name)
        for old in [] if keep_others else state_root.iterdir():
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
