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
# The findings the full mini study showed in every run measured (README, "The miniature study"). F5 and F7
# change verdict between runs: 2026-12-05 (two threads per process) F5 too noisy (+8.5 +- 6.2), F7 shown (+14.7 +-
# 3.4); 2026-12-06 (this test: one thread, so other float sums and other trajectories, and RL's reward cut at the
# stop strings) F5 shown (+16.4 +- 6.4), F7 too noisy (in-domain +13.3 +- 4.8, out-of-domain +0.5 +- 1.0).
MINI_STUDY_SHOWN = ("F1", "F2", "F3", "F4")
pytestmark = pytest.mark.slow


def _env():
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def _by_signature(runs: Path) -> dict:
    """A study's checkpoints by signature (node folders carry hashes; signatures name the lineage)."""
    return {c.signature: c for c in (load_checkpoint(p) for p in runs.iterdir() if (p / "evolm.json").is_file())}


def test_quickstart(tmp_path):
    """The README's main command: the short miniature study (a study file), from data to report."""
    done = subprocess.run(["bash", str(REPO / "examples" / "quickstart.sh"), str(tmp_path / "runs")],
                          capture_output=True, text=True, env=_env(), timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    report = Path(done.stdout.strip().splitlines()[-1])
    md = (report / "report.md").read_text()
    for title in ("Upstream accuracy by pre-training budget", "Post-trained models by base", "Continued pre-training"):
        assert title in md
    runs = _by_signature(tmp_path / "runs")
    assert set(runs) == {"1M-500KT", "1M-500KT-2MT", "1M-500KT-600ep4", "1M-500KT-2MT-600ep4", "1M-500KT-2MT-600ep4-24ep1"}
    # SFT taught the answer format (a boxed answer on every in-domain problem, measured), and the report
    # showed finding 4 from the two SFT runs (measured on data version 6: 9.4% without CPT, 51.0% after
    # CPT on 2M math tokens, +41.6 +- 4.3 points (cluster-robust); on version 5 9.6% and 29.4%; on data
    # version 4, after 400K it was 9.0%, below the 11.0% without, too noisy).
    for name in ("1M-500KT-600ep4", "1M-500KT-2MT-600ep4", "1M-500KT-2MT-600ep4-24ep1"):
        samples = (runs[name].path / "eval" / "SynthMathBasic3.samples.jsonl").read_text().splitlines()
        boxed = sum("\\boxed{" in json.loads(line)["completions"][0] for line in samples)
        assert len(samples) == 500 and boxed >= 0.95 * len(samples), (name, boxed)
    f4 = json.loads((report / "findings.json").read_text())["findings"][3]
    assert f4["id"] == "F4" and f4["verdict"] == "shown" and f4["effect"]["value"] >= 2 * f4["effect"]["se"] > 0, f4
    assert "## Findings" in md and (report / "plots" / "compute.png").is_file()
    base = runs["1M-500KT"]
    rows = [json.loads(line) for line in (base.path / "metrics.jsonl").read_text().splitlines() if '"loss"' in line]
    # a fresh model starts near ln(vocab) = 8.3; the first logged row (step 50 of 488) is already below it
    assert rows[-1]["loss"] < rows[0]["loss"] and rows[-1]["loss"] < math.log(4096) - 1.5


def test_mini_study_shows_the_findings(tmp_path):
    """The full miniature study, its study file (about 2h20m): the findings it showed when measured (README,
    "The miniature study") still show, each by the report's own 2-SE rule."""
    done = subprocess.run([sys.executable, "-m", "evolm", "study", "run", str(REPO / "examples" / "mini-study.yaml"),
                           "--out", str(tmp_path / "runs")], capture_output=True, text=True, env=_env(), timeout=14400)
    assert done.returncode == 0, done.stderr[-3000:]
    report = Path(done.stdout.strip().splitlines()[-1])
    found = {f["id"]: f for f in json.loads((report / "findings.json").read_text())["findings"]}
    for finding in MINI_STUDY_SHOWN:
        assert found[finding]["verdict"] == "shown", found[finding]
        effect = found[finding]["effect"]
        assert effect["value"] >= 2 * effect["se"] > 0
    # F8 through the study's rm node: the reward model `evolm rm` trains tracks accuracy (measured: r +0.93
    # over 10 conditions); validation loss on general text tracked it about as strongly (+0.93), so the verdict was
    # "contradicted" (README, "Reward models"): the RM half is checked, not the verdict
    f8 = found["F8"]
    assert f8["verdict"] != "not tested" and f8["effect"]["value"] >= 2 * f8["effect"]["se"] > 0, f8


def test_pretraining_study_measures_f1_and_shows_f9(tmp_path):
    """examples/pretraining-study.yaml (about 4h45m): F1 and F9 at 1 to 16 tokens per parameter on the
    full synthetic data, which the mini study (0.1 to 1) does not reach, every budget pre-trained with two
    seeds. Measured: upstream rises +4.7 +- 0.6 points per doubling over the first interval and +3.2 +- 1.0
    over the last, so F1 (the bend) is too noisy, +1.4 +- 1.2 (with one run at 8M and 16M it was +2.2 +- 0.9,
    shown: the 8M seed-0 run was the high one); F9 +1.5 +- 0.6 at 4M, shown, and +2.0 +- 1.1 at 8M, too noisy.
    Downstream (math CPT, two seeds, then SFT, two seeds, on every base) is noted under F1, unjudged: a
    second pre-training run moved a budget's SFT accuracy by up to 47 points (README)."""
    done = subprocess.run([sys.executable, "-m", "evolm", "study", "run", str(REPO / "examples" / "pretraining-study.yaml"),
                           "--out", str(tmp_path / "runs")], capture_output=True, text=True, env=_env(), timeout=6 * 3600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = Path(done.stdout.strip().splitlines()[-1])
    found = {f["id"]: f for f in json.loads((report / "findings.json").read_text())["findings"]}
    f1 = found["F1"]
    assert f1["verdict"] != "contradicted", f1
    first = next(e for e in f1["tests"][0]["effects"] if e["name"].startswith("first-interval"))
    assert first["value"] >= 2 * first["se"] > 0, f1  # upstream rises with tokens
    at = {t["detail"].split(":")[0]: t["verdict"] for t in found["F9"]["tests"]}
    assert found["F9"]["verdict"] == "shown" and at["at 4M tokens (3.93 per parameter)"] == "shown", found["F9"]
    assert len(at) == 2 and "contradicted" not in at.values(), found["F9"]
    sft = {}
    for row in json.loads((report / "runs.json").read_text()):
        if row["stage"] == "sft":
            sft.setdefault(row["pretrain_tokens"], []).append(row["synth-id:pass@1"])
    assert {b: len(v) for b, v in sft.items()} == {1_000_000 * 2 ** i: 8 for i in range(5)}, sft
    [note] = found["F1"]["notes"]
    assert note.startswith("downstream (1M-1MT-2MT-1Kep4 x8 (pretrain seeds 0,1; cpt seeds 0,1; seeds 0,1), ") \
        and "16M minus 1M" in note, note


def test_calibration_script_reproduces_the_shipped_table(tmp_path):
    """examples/calibrate-ladder.sh (14-19 minutes) measures again the table DATASET.md shows.
    Seeded training on the same CPU reproduces it; other hardware may round differently, so each
    number must agree within 2 standard errors."""
    out = tmp_path / "calibration.json"
    done = subprocess.run(["bash", str(REPO / "examples" / "calibrate-ladder.sh"), str(tmp_path / "runs"), str(out)],
                          capture_output=True, text=True, env=_env(), timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    shipped = json.loads((REPO / "evolm" / "synth" / "calibration.json").read_text())
    fresh = json.loads(out.read_text())
    assert fresh["tasks"] == shipped["tasks"] and fresh["settings"] == shipped["settings"]
    for preset, stages in shipped["results"].items():
        for stage, tasks in stages.items():
            for task, entry in tasks.items():
                again = fresh["results"][preset][stage][task]
                assert abs(again["value"] - entry["value"]) <= 2 * max(entry["stderr"], again["stderr"], 0.01), (preset, stage, task)


def test_replay_reduces_forgetting(tmp_path):
    """Math CPT raises the general-domain loss less when 20% of it is general-text replay."""
    done = subprocess.run(["bash", str(REPO / "examples" / "cpt-replay.sh"), str(tmp_path / "runs"), "1M", "400K"],
                          capture_output=True, text=True, env=_env(), timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    base = load_checkpoint(tmp_path / "runs" / "base").manifest.outcome.val_loss["pretrain"]
    plain = load_checkpoint(tmp_path / "runs" / "cpt-no-replay").manifest.outcome.val_loss["pretrain"]
    mixed = load_checkpoint(tmp_path / "runs" / "cpt-replay").manifest.outcome.val_loss["replay"]
    assert mixed - base < plain - base


def test_ppo_raises_the_reward(tmp_path):
    """PPO with a critic on the same drills (one rollout per prompt, LR 1e-4). Since the reward cuts
    completions at the stop strings, the SFT model starts right on 0.746 of its samples, and 60 steps
    (480 samples) left the reward where it was (2026-12-06: -0.025 to +0.012 over three seeds); over
    240 steps (120 epochs, the example's since) it rose on three seeds: training reward +0.047, +0.017
    and +0.052 (first to last third), fresh samples 0.785, 0.785 and 0.793. Seed 0 repeats exactly on
    one CPU; the margins below are about half its rise."""
    runs = tmp_path / "runs"
    done = subprocess.run(["bash", str(REPO / "examples" / "rl-reward.sh"), str(runs)], capture_output=True, text=True,
                          env={**_env(), "ALGO": "ppo"}, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    rewards = [json.loads(line)["reward"] for line in (runs / "rl" / "metrics.jsonl").read_text().splitlines()
               if '"reward"' in line]
    third = len(rewards) // 3
    assert len(rewards) == 240 and sum(rewards[-third:]) / third > sum(rewards[:third]) / third + 0.02
    checks = {(line.split(" ", 1)[0], tuple(json.loads(line.split(" ", 1)[1])["rows"])): json.loads(line.split(" ", 1)[1])
              for line in (runs / "accuracy.txt").read_text().splitlines()}
    assert checks["rl", (2984, 3000)]["sampled"] > checks["sft", (2984, 3000)]["sampled"] + 0.02
    assert load_checkpoint(runs / "rl").manifest.schedule.settings["algo"] == "ppo"


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
