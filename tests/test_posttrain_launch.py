"""`evolm sft` and `evolm rl` launched as two processes (torch.distributed, gloo on CPU)."""

import json
import os
import subprocess
import sys

import pytest

from evolm.checkpoint import load_checkpoint


def _launch(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "evolm",
                           *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def _losses(path):
    return [json.loads(line)["loss"] for line in (path / "metrics.jsonl").read_text().splitlines() if '"loss"' in line]


def test_two_process_sft_matches_one(base, synth_tiny, tmp_path, cli):
    args = ("sft", base, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "32", "--epochs", "1",
            "--global-batch", "8", "--max-length", "256", "--log-every", "1")
    assert cli(*args, "--out", tmp_path / "one").code == 0
    _launch(*args, "--out", tmp_path / "two")
    one, two = _losses(tmp_path / "one"), _losses(tmp_path / "two")
    assert len(one) == len(two) == 4
    assert two == pytest.approx(one, abs=1e-4)
    schedule = load_checkpoint(tmp_path / "two").manifest["schedule"]
    assert schedule["processes"] == 2 and schedule["global_batch"] == 8 and schedule["micro_batch"] == 4


def test_two_process_rl_completes(sft_model, synth_tiny, tmp_path):
    _launch("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "8", "--epochs", "1",
            "--prompts-per-step", "4", "--rollouts", "2", "--max-completion-length", "24", "--out", tmp_path / "rl")
    ckpt = load_checkpoint(tmp_path / "rl")
    assert ckpt.manifest["schedule"]["processes"] == 2 and ckpt.manifest["schedule"]["steps_done"] == 2
    rewards = [json.loads(line)["reward"] for line in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()
               if '"reward"' in line]
    assert len(rewards) == 2 and all(0.0 <= r <= 1.0 for r in rewards)
