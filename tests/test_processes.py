"""Collectives evolm adds over its processes, with two real CPU processes (gloo, torchrun)."""

import subprocess
import sys

import pytest
from conftest import torchrun

# each process writes its own file: two processes printing to one pipe interleave their lines
AGREE = """
import sys

import pytest
from pathlib import Path
import torch.distributed as dist
from evolm.training.processes import all_agree, smallest_on_any_process
dist.init_process_group("gloo")
rank = dist.get_rank()
answers = (all_agree(True), all_agree(rank == 0), all_agree(False), smallest_on_any_process(8 if rank == 0 else 2))
Path(sys.argv[1], f"rank{rank}.txt").write_text(" ".join(map(str, answers)))
dist.destroy_process_group()
"""


@pytest.mark.many_processes
def test_all_agree_is_true_only_where_every_process_says_so_and_the_smallest_choice_wins(tmp_path):
    """(The smallest: each process picks its micro batch from its own GPU's free memory; all run the least.)"""
    script = tmp_path / "agree.py"
    script.write_text(AGREE)
    done = subprocess.run([sys.executable, *torchrun(), str(script), str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [(tmp_path / f"rank{r}.txt").read_text() for r in (0, 1)] == ["True False False 2"] * 2


def test_all_agree_without_a_process_group_is_the_process_own_answer():
    from evolm.training.processes import all_agree, smallest_on_any_process

    assert all_agree(True) is True and all_agree(False) is False and smallest_on_any_process(8) == 8


def test_an_fsdp_config_in_one_process_is_said_to_run_unsharded(monkeypatch):
    """accelerate runs an FSDP config in one process as NO without a word; evolm warns."""
    from types import SimpleNamespace

    from accelerate.utils import DistributedType

    from evolm.training.processes import warn_if_not_as_launched

    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")  # what `accelerate launch` sets for the FSDP configs
    one = SimpleNamespace(distributed_type=DistributedType.NO, device=SimpleNamespace(type="cpu"))
    assert warn_if_not_as_launched(one) == ("the launch config asks for FSDP, but accelerate runs this as NO (one process "
                                            "has nothing to shard): every process holds the whole model")
    assert warn_if_not_as_launched(SimpleNamespace(distributed_type=DistributedType.FSDP, device=one.device)) is None


def test_a_cuda_build_of_torch_without_a_gpu_still_shards_an_fsdp_config(monkeypatch):
    """PyPI's default torch is a CUDA build: on a machine without a GPU its `current_accelerator()`
    still names CUDA (the build's accelerator). evolm asks whether an accelerator is there, so such a
    machine shards as a CPU-only build does; one with a usable accelerator keeps accelerate's choice."""
    from types import SimpleNamespace

    import torch
    from accelerate.state import PartialState
    from accelerate.utils import DistributedType

    from evolm.training.processes import shard_as_launched

    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    monkeypatch.setenv("FSDP_VERSION", "2")
    monkeypatch.setitem(PartialState._shared_state, "distributed_type", DistributedType.MULTI_CPU)  # restored after
    monkeypatch.setattr(torch.accelerator, "current_accelerator", lambda check_available=False: torch.device("cuda"))
    for available, expected in ((False, DistributedType.FSDP), (True, DistributedType.MULTI_CPU)):
        monkeypatch.setattr(torch.accelerator, "is_available", lambda: available)
        state = SimpleNamespace(distributed_type=DistributedType.MULTI_CPU)
        shard_as_launched(state)
        assert state.distributed_type == expected


def test_every_training_loop_waits_as_long_for_its_processes(monkeypatch, tmp_path):
    """Pre-training, CPT and PPO start their process group with the Trainer's 1800 s (SFT and GRPO's
    through TrainingArguments), not accelerate's 600 s for NCCL: the other ranks wait in a broadcast
    while the main one writes a 4B checkpoint."""
    import types

    import pytest

    from evolm.training import causal_lm
    from evolm.training.processes import PROCESS_GROUP_TIMEOUT, placement

    assert PROCESS_GROUP_TIMEOUT.total_seconds() == 1800
    for cuda, deepspeed in ((True, ""), (False, ""), (False, "true")):  # PPO's Accelerator (evolm.stages.rl)
        monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", deepspeed)
        assert [h.timeout for h in placement(cuda)["kwargs_handlers"]] == [PROCESS_GROUP_TIMEOUT]

    class Made(Exception):
        pass

    def accelerator(**kwargs):
        raise Made(kwargs)

    monkeypatch.setattr("accelerate.Accelerator", accelerator)
    with pytest.raises(Made) as made:
        causal_lm.train(None, None, types.SimpleNamespace(export_at=()), tmp_path, run_record={}, val_sets={},
                        flops_per_token=1.0)
    assert [h.timeout for h in made.value.args[0]["kwargs_handlers"]] == [PROCESS_GROUP_TIMEOUT]



# A launcher that starts one process as torchrun does (in a session of its own), prints its pid and waits;
# the process runs what `evolm` runs first in every process, says so and waits.
LAUNCHER = """
import os, subprocess, sys, time
env = dict(os.environ, WORLD_SIZE=sys.argv[2], LOCAL_RANK="0", TORCHELASTIC_RUN_ID="test")
worker = subprocess.Popen([sys.executable, "-c", sys.argv[1]], env=env, start_new_session=True)
print(worker.pid, flush=True)
time.sleep(120)
"""
WORKER = """
import time
from evolm.training.processes import start_processes
start_processes()
print("ready", flush=True)
time.sleep(120)
"""


def _gone(pid: int, within: float) -> bool:
    import os
    import time

    deadline = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
            if open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z":
                return True  # ended, not yet reaped by whoever adopted it
        except (ProcessLookupError, FileNotFoundError):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("processes", ["2", "1"])  # one launched process too (accelerate launch of a config)
def test_a_launched_process_dies_with_its_launcher(processes):
    """Its launcher killed outright (as a killed `evolm study run` has its children killed), a launched
    process ends too, instead of training on into the folder a rerun resumes."""
    import os
    import signal

    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, WORKER, processes], stdout=subprocess.PIPE, text=True)
    worker = int(launcher.stdout.readline())
    try:
        assert launcher.stdout.readline().strip() == "ready"
        os.kill(launcher.pid, signal.SIGKILL)
        launcher.wait()
        assert _gone(worker, within=20), "the launched process outlived its launcher"
    finally:
        for pid in (worker, launcher.pid):
            if not _gone(pid, within=0):
                os.kill(pid, signal.SIGKILL)


def test_a_state_saved_under_fsdp_is_refused_without_it_and_the_reverse(tmp_path):
    """accelerate saves an FSDP model as pytorch_model_fsdp_0/ and loads it only under FSDP (a run without
    it looks for model.safetensors, after its run folder exists): refused first, in one sentence."""
    import types

    from accelerate.utils import DistributedType

    from evolm.errors import BadInput
    from evolm.training.causal_lm import check_state_layout

    sharded, plain = tmp_path / "fsdp-state", tmp_path / "plain-state"
    (sharded / "pytorch_model_fsdp_0").mkdir(parents=True)
    plain.mkdir()
    (plain / "model.safetensors").write_bytes(b"")
    fsdp, single = (types.SimpleNamespace(distributed_type=t) for t in (DistributedType.FSDP, DistributedType.NO))
    check_state_layout(sharded, fsdp)
    check_state_layout(plain, single)
    with pytest.raises(BadInput, match="was saved under FSDP and loads only under it"):
        check_state_layout(sharded, single)
    with pytest.raises(BadInput, match="was saved without FSDP and loads only without it"):
        check_state_layout(plain, fsdp)
