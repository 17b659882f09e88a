"""One run, one or many processes: which one is the main process, and its result for all.

Under torchrun / accelerate launch every process runs the same stage function; the main process
alone writes the checkpoint, and every process returns it (the CLI decides who prints).
"""

from __future__ import annotations

import glob
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Callable, TypeVar

from evolm.console import debug_requested
from evolm.errors import BadInput

T = TypeVar("T")

# How long a process waits in a collective for the others: transformers' Trainer default (`ddp_timeout`),
# for every stage. accelerate's own default for NCCL is 600 s, and ranks wait in a broadcast while the
# main one writes a checkpoint (16 GB of 4B weights, fsynced, can take longer on a shared file system).
PROCESS_GROUP_TIMEOUT = timedelta(seconds=1800)


def process_group_kwargs(**extra):
    """accelerate's handler that starts the process group with PROCESS_GROUP_TIMEOUT (and `extra`)."""
    from accelerate.utils import InitProcessGroupKwargs

    return InitProcessGroupKwargs(timeout=PROCESS_GROUP_TIMEOUT, **extra)


def world_size() -> int:
    """Processes of this run as torchrun / accelerate launch announce them (1 when run directly)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def _group():
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def is_main_process() -> bool:
    dist = _group()
    return dist.get_rank() == 0 if dist is not None else int(os.environ.get("RANK", "0")) == 0


def from_main(work: Callable[[], T]) -> T:
    """Run `work` on the main process and return its result on every process (a collective: all
    must call it). An error on the main process is raised on every process, so none waits forever
    for a result that will not come."""
    dist = _group()
    if dist is None or dist.get_world_size() == 1:
        return work()
    payload: list = [None]
    failure = None
    if dist.get_rank() == 0:
        try:
            payload = [("ok", work())]
        except Exception as exc:  # noqa: BLE001 - re-raised below, here and on every other process
            failure = exc
            payload = [("bad input" if isinstance(exc, BadInput) else "error", f"{type(exc).__name__}: {exc}")]
    dist.broadcast_object_list(payload, src=0)
    if failure is not None:
        raise failure
    kind, value = payload[0]
    if kind == "ok":
        return value
    message = f"The main process failed: {value}"
    raise BadInput(message) if kind == "bad input" else RuntimeError(message)


# What `accelerate launch --config_file` asks for, as the environment it sets for each process.
_REQUESTED = {"FSDP": "ACCELERATE_USE_FSDP", "DEEPSPEED": "ACCELERATE_USE_DEEPSPEED"}


def launch_requested(kind: str) -> bool:
    """Whether `accelerate launch` was given a config of this kind ("FSDP" or "DEEPSPEED")."""
    return os.environ.get(_REQUESTED[kind], "").lower() == "true"


def fsdp_version_requested() -> int | None:
    """The FSDP version an FSDP launch config asks for (`accelerate launch` sets FSDP_VERSION from its
    `fsdp_version`, 1 when the config has none); None without an FSDP launch config."""
    return int(os.environ.get("FSDP_VERSION", "1")) if launch_requested("FSDP") else None


def fsdp_checkpoints_activations() -> bool:
    """Whether an FSDP launch config turns on FSDP's own activation checkpointing
    (`fsdp_activation_checkpointing: true`, as configs/accelerate/fsdp-4B.yaml): accelerate then wraps
    each decoder layer when it prepares the model, so the model's own checkpointing must stay off
    (transformers' Trainer refuses both at once)."""
    return launch_requested("FSDP") and os.environ.get("FSDP_ACTIVATION_CHECKPOINTING", "").lower() in ("true", "1")


def placement(cuda: bool) -> dict:
    """The `Accelerator` arguments that put a run where it was launched for.

    Without CUDA, `cpu=True` gives plain data parallel on gloo (or one process). DeepSpeed runs on
    CPUs too (its CPU accelerator), but only without `cpu=True`, and then accelerate finds no
    default backend for the CPU and counts one process while DeepSpeed's group has them all (each
    process would believe it is the main one): so gloo is named. Every process group waits
    PROCESS_GROUP_TIMEOUT for its collectives."""
    if cuda:
        return {"kwargs_handlers": [process_group_kwargs()]}
    if launch_requested("DEEPSPEED"):
        return {"kwargs_handlers": [process_group_kwargs(backend="gloo")]}
    return {"cpu": True, "kwargs_handlers": [process_group_kwargs()]}


def shard_as_launched(state) -> None:
    """Under an FSDP launch config on CPUs, have accelerate shard with FSDP2 as it does on GPUs
    (`state`: an Accelerator's `.state`, before anything is prepared).

    accelerate (1.16) turns FSDP on only for accelerator devices (AcceleratorState leaves MULTI_CPU out)
    and runs an FSDP config on CPUs as plain data parallel. torch's FSDP2 (`fully_shard`) runs on gloo,
    and accelerate's FSDP2 preparation, state saving and weight gathering run on CPUs once its state
    says FSDP: so the sharded path that GPU users depend on runs, and is tested, on a CPU. Only FSDP2
    configs (all shipped ones: FSDP1 wants a CUDA device) and many processes (accelerate runs one
    process as NO: there is nothing to shard)."""
    import torch
    from accelerate.state import PartialState
    from accelerate.utils import DistributedType, FullyShardedDataParallelPlugin

    if fsdp_version_requested() != 2 or state.distributed_type != DistributedType.MULTI_CPU:
        return
    if torch.accelerator.is_available():
        # another accelerator than CUDA (MPS, XPU): accelerate's barriers would then name its device,
        # not gloo's; such a machine keeps accelerate's own choice. (Asked of the machine, not of the
        # build: a CUDA build of torch on a machine without a GPU, PyPI's default, has no accelerator.)
        return
    state.distributed_type = DistributedType.FSDP
    state.fsdp_plugin = FullyShardedDataParallelPlugin()  # from the launch config's FSDP_* environment, as accelerate reads it
    # as accelerate's own FSDP set-up does: every later AcceleratorState() copies PartialState's type in
    PartialState._shared_state["distributed_type"] = DistributedType.FSDP


def sharded_state_for_trainers(cuda: bool) -> dict:
    """TrainingArguments that carry `shard_as_launched` into a transformers Trainer (TRL's SFT, GRPO,
    RLOO): under an FSDP launch config on CPUs with many processes, accelerate's state is configured
    here, before the arguments are built, and `use_configured_state` has the Trainer keep it (its own
    Accelerator would otherwise start over as plain data parallel). Empty everywhere else. Starts the
    process group (gloo), with the Trainer's default timeout (`ddp_timeout`, 1800 s)."""
    if cuda or world_size() <= 1 or not launch_requested("FSDP"):
        return {}
    from accelerate import Accelerator

    # accelerate's state is made through an Accelerator only; fp32, as evolm trains on CPUs
    # (device_settings): the Trainer's accelerator asks for the same, as a configured state requires
    state = Accelerator(cpu=True, mixed_precision="no", kwargs_handlers=[process_group_kwargs()]).state
    shard_as_launched(state)
    return {"accelerator_config": {"use_configured_state": True}} if state.distributed_type.name == "FSDP" else {}


def parallelism(accelerator) -> str:
    """How this run is spread over its processes, as accelerate runs it: NO, MULTI_CPU, MULTI_GPU
    (DDP), FSDP, DEEPSPEED."""
    return accelerator.distributed_type.name


def warn_if_not_as_launched(accelerator) -> str | None:
    """A warning when a launch config asked for FSDP or DeepSpeed and accelerate runs something else.

    Accelerate does so without a word: an FSDP config in one process, or an FSDP1 config on CPUs
    (`shard_as_launched` covers FSDP2 there), runs unsharded; a user checking a cluster config on a
    laptop would believe it sharded."""
    got = parallelism(accelerator)
    for wanted in _REQUESTED:
        if launch_requested(wanted) and got != wanted:
            why = "one process has nothing to shard" if got == "NO" else f"{wanted} is not available on {accelerator.device.type}"
            return (f"the launch config asks for {wanted}, but accelerate runs this as {got} ({why}): "
                    "every process holds the whole model")
    return None


def start_processes() -> None:
    """Ready a many-process run before its process group exists.

    Some modules capture the default process group when imported while one is alive: torch._dynamo
    (imported by every optimizer's first construction) and DeepSpeed's comm module (imported by
    accelerate), whose functions take `group=GroupMember.WORLD` as a default argument (torch 2.13,
    DeepSpeed 0.18). `destroy_process_group` then cannot free gloo's worker threads, and a worker
    still dropping its last collective's tensors when the interpreter finalizes aborts the process
    ("terminate called without an active exception") after its checkpoint is written: torchrun reports
    the run failed, about one run in five with two CPU processes. Imported before the group exists,
    they hold nothing. accelerate imports DeepSpeed whenever it is installed, and the first optimizer
    imports dynamo, so this costs no time."""
    import contextlib
    import sys

    if launched():  # one launched process too (accelerate launch of a config with --num_processes 1)
        die_with_launcher()
    if world_size() <= 1:
        return
    # stdout carries only the command's result (see cli.common.results_only_on_stdout); DeepSpeed
    # announces its accelerator there when imported.
    with contextlib.redirect_stdout(sys.stderr):
        import torch._dynamo  # noqa: F401 - imported for its side effect, before the group exists

        try:
            import deepspeed.comm  # noqa: F401 - as above; DeepSpeed is optional
        except Exception:  # noqa: BLE001 - absent or broken: accelerate will not import it either
            pass


def libc_prctl():
    """libc's prctl, or None where there is none (not Linux)."""
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


PR_SET_PDEATHSIG = 1


def launched() -> bool:
    """Whether torchrun (or accelerate launch, srun through torchrun, which run it) started this process."""
    return "TORCHELASTIC_RUN_ID" in os.environ or "LOCAL_RANK" in os.environ


def die_with_launcher() -> None:
    """A launched process ends when its launcher (torchrun, accelerate launch) does. torchrun starts each
    process in a session of its own and ends them when it is asked to stop, but a launcher killed outright
    (SIGKILL: as `evolm study run` has its children killed when it dies) left them training, writing into
    the folder a rerun then resumes or overwrites. Linux only; elsewhere nothing changes."""
    import signal

    prctl = libc_prctl()
    if prctl is None:
        return
    launcher = os.getppid()
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != launcher:  # the launcher died before the request was in place
        os.kill(os.getpid(), signal.SIGKILL)


def _gloo_threads_alive() -> bool:
    """Whether a gloo process group's work threads still run ("pt_gloo_runloop", as torch names them:
    they live exactly as long as a gloo group does). Linux only; elsewhere False."""
    for comm in glob.glob("/proc/self/task/*/comm"):
        try:
            if Path(comm).read_text().startswith("pt_gloo"):
                return True
        except OSError:  # that thread ended between the listing and the read
            continue
    return False


# DeepSpeed's optimizer state, one file a data-parallel rank (bf16_: its BF16 optimizer's, ZeRO stage 0)
ZERO_OPTIMIZER_FILE = re.compile(r"(?:bf16_)?zero_pp_rank_(\d+)_mp_rank_\d+_optim_states\.pt")


def check_zero_state_fits(state: Path, processes: int) -> None:
    """A DeepSpeed ZeRO state holds its optimizer state partitioned over the processes that saved it
    (`zero_pp_rank_R_mp_rank_00_optim_states.pt`, one R a process), and DeepSpeed loads it only on as
    many: refused here, before the run folder is touched, rather than DeepSpeed's exception once the
    model is built (measured: SFT under zero2-1B saved by 2 processes, resumed by 1). A run resumed on
    another node count, a Slurm job requeued onto a `nodes:` range's other size, meets this."""
    ranks = {match[1] for path in Path(state).rglob("*zero_pp_rank_*_optim_states.pt")
             if (match := ZERO_OPTIMIZER_FILE.fullmatch(path.name))}
    if ranks and len(ranks) != processes:
        raise BadInput(f"The state {state} was saved by {len(ranks)} processes under DeepSpeed ZeRO, whose partitioned "
                       f"optimizer state loads only on as many; this launch has {processes}. Resume it on {len(ranks)} "
                       "processes (or start over with --overwrite).")


def smallest_on_any_process(value: int) -> int:
    """The smallest of every process's `value` (a collective where a process group exists): a choice
    each process makes for itself must be the same on all."""
    dist = _group()
    if dist is None or dist.get_world_size() == 1:
        return value
    import torch

    device = f"cuda:{torch.cuda.current_device()}" if dist.get_backend() == "nccl" else "cpu"
    least = torch.tensor([value], device=device)
    dist.all_reduce(least, op=dist.ReduceOp.MIN)
    return int(least.item())


def all_agree(ok: bool) -> bool:
    """Whether `ok` holds on every process (a collective where a process group exists), such as
    whether vLLM started on the model."""
    return bool(smallest_on_any_process(1 if ok else 0))


_AT_FINISH: list[Callable[[], None]] = []


def at_finish(release: Callable[[], None]) -> None:
    """Have `release()` run first in `finish_processes`, before evolm tears the process group down:
    for a library that owns process groups and tears them down itself. vLLM's colocated engine (PPO's
    rollouts) destroys its groups and the default one when it shuts down, which it would otherwise do
    at interpreter exit, after evolm's teardown, and fail there; earlier, while training or the
    checkpoint's broadcast still needs the group, it must not."""
    _AT_FINISH.append(release)


def finish_processes(exit_code: int, *, launched: bool) -> None:
    """Tear the process group down before the interpreter exits (see `start_processes`).

    Should some library still hold the group, so that gloo's worker threads outlive it (DeepSpeed's
    engine keeps its groups in module globals), a `launched` process (the CLI run as its program, by
    torchrun or accelerate launch) leaves without finalizing the interpreter, its outputs flushed and
    its exit code decided: a clean exit rather than an abort at finalization. atexit handlers do not
    run then; the stages finish their trackers and files before returning."""
    import gc
    import sys

    while _AT_FINISH:
        try:
            _AT_FINISH.pop()()
        except Exception:  # noqa: BLE001 - the command's outcome is already decided; nothing to report here
            pass
    if "torch.distributed" not in sys.modules:
        return
    dist = _group()
    if dist is not None:
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001 - as above
            pass
    gc.collect()
    if launched and world_size() > 1 and _gloo_threads_alive():
        if debug_requested():  # expected under DeepSpeed, which holds its groups for life
            print("debug: gloo's worker threads outlived the process group; leaving without interpreter "
                  "finalization", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)
