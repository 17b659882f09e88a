"""The examples, end to end (slow: run with `pytest -m slow`)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evolm.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _env():
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def test_quickstart(tmp_path):
    """The README's main command: the short miniature study, from data to report."""
    done = subprocess.run(["bash", str(REPO / "examples" / "quickstart.sh"), str(tmp_path / "runs")],
                          capture_output=True, text=True, env=_env(), timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    report = Path(done.stdout.strip().splitlines()[-1])
    md = (report / "report.md").read_text()
    for title in ("Upstream accuracy by pre-training budget", "Post-trained models by base", "Continued pre-training"):
        assert title in md
    rl = load_checkpoint(tmp_path / "runs" / "cpt-replay-sft-rl")
    assert rl.signature == "1M-200KT-20+80KT-400ep1-24ep1"
    assert (rl.path / "eval" / "SynthMathLevel1.json").is_file() and (rl.path / "eval" / "upstream.json").is_file()
    base = load_checkpoint(tmp_path / "runs" / "pt-200K")
    rows = [json.loads(line) for line in (base.path / "metrics.jsonl").read_text().splitlines() if '"loss"' in line]
    # a fresh model starts near ln(vocab) = 8.3; the first logged row (step 20 of 48) is already below it
    assert rows[-1]["loss"] < rows[0]["loss"] and rows[-1]["loss"] < math.log(4096) - 1.5


def test_replay_reduces_forgetting(tmp_path):
    """Math CPT raises the general-domain loss less when 20% of it is general-text replay."""
    done = subprocess.run(["bash", str(REPO / "examples" / "cpt-replay.sh"), str(tmp_path / "runs"), "1M", "400K"],
                          capture_output=True, text=True, env=_env(), timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    base = load_checkpoint(tmp_path / "runs" / "base").manifest.outcome.val_loss["pretrain"]
    plain = load_checkpoint(tmp_path / "runs" / "cpt-no-replay").manifest.outcome.val_loss["pretrain"]
    mixed = load_checkpoint(tmp_path / "runs" / "cpt-replay").manifest.outcome.val_loss["replay"]
    assert mixed - base < plain - base


def test_rl_raises_the_reward(tmp_path):
    """GRPO raises the mean reward over the run, and fresh samples on its prompts confirm it."""
    runs = tmp_path / "runs"
    done = subprocess.run(["bash", str(REPO / "examples" / "rl-reward.sh"), str(runs)],
                          capture_output=True, text=True, env=_env(), timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    rewards = [json.loads(line)["reward"] for line in (runs / "rl" / "metrics.jsonl").read_text().splitlines()
               if '"reward"' in line]
    third = len(rewards) // 3
    assert len(rewards) == 60
    assert sum(rewards[-third:]) / third > sum(rewards[:third]) / third + 0.05
    checks = {}
    for line in (runs / "accuracy.txt").read_text().splitlines():
        name, result = line.split(" ", 1)
        result = json.loads(result)
        checks[name, tuple(result["rows"])] = result
    rl_rows = (2984, 3000)
    assert checks["rl", rl_rows]["sampled"] > checks["sft", rl_rows]["sampled"] + 0.05
    manifest = load_checkpoint(runs / "rl").manifest
    assert manifest.schedule.steps_done == 60 and manifest.outcome.rewards["mean"] > 0
