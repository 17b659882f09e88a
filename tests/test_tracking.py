"""`--report-to tensorboard|wandb|none`: the trackers write into the checkpoint; metrics.jsonl stays."""

import json
import os
import subprocess
import sys

import pytest

from evolm.checkpoint import load_checkpoint

from conftest import SMALL

POOL = ("pool", "mathpool.jsonl")
SFT = ("--examples", "16", "--epochs", "1", "--global-batch", "8", "--max-length", "128")


def _scalars(folder):
    """TensorBoard's own reader over the event files of `folder`: tag -> [(step, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def _metrics(path):
    return [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]


def test_pretrain_reports_to_tensorboard(shards, tmp_path, cli):
    out = tmp_path / "pt"
    result = cli("pretrain", *SMALL, "--tokens", "4K", "--data", shards / "general", "--report-to", "tensorboard",
                 "--out", out)
    assert result.code == 0, result.err
    assert result.out.strip() == str(out)
    scalars = _scalars(out / "tb")
    rows = [r for r in _metrics(out) if "loss" in r]
    assert [step for step, _ in scalars["train/loss"]] == [r["step"] for r in rows] == list(range(1, 8))  # 4K // 512 tokens per step
    assert [v for _, v in scalars["train/loss"]] == pytest.approx([r["loss"] for r in rows], rel=1e-6)
    assert "train/lr" in scalars and "val_loss/pretrain" in scalars
    ckpt = load_checkpoint(out)  # the event files are part of the hashed checkpoint
    assert ckpt.manifest.tracking == {"report_to": "tensorboard", "logs": "tb"}
    assert any(name.startswith("tb/") for name in ckpt.manifest.files)


def test_sft_reports_to_tensorboard(base, synth_tiny, tmp_path, cli):
    out = tmp_path / "sft"
    result = cli("sft", base, "--data", synth_tiny.joinpath(*POOL), *SFT, "--report-to", "tensorboard", "--out", out)
    assert result.code == 0, result.err
    scalars = _scalars(out / "tb")
    rows = [r for r in _metrics(out) if "loss" in r]
    assert [step for step, _ in scalars["train/loss"]] == [r["step"] for r in rows] == [1, 2]
    assert "lr" in rows[0] and "learning_rate" not in rows[0]  # one vocabulary in every stage's metrics.jsonl
    assert load_checkpoint(out).manifest.tracking == {"report_to": "tensorboard", "logs": "tb"}


def test_wandb_offline_run_lands_in_the_checkpoint(base, shards, synth_tiny, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for stage, args in (("pretrain", (*SMALL, "--tokens", "2K", "--data", shards / "general")),
                        ("sft", (base, "--data", synth_tiny.joinpath(*POOL), *SFT))):
        out = tmp_path / stage
        result = cli(stage, *args, "--report-to", "wandb", "--out", out)
        assert result.code == 0, result.err
        assert result.out.strip() == str(out)  # W&B does not write to stdout
        runs = list((out / "wandb").glob("offline-run-*"))
        assert len(runs) == 1 and list(runs[0].glob("run-*.wandb")), stage
        assert not [p for p in (out / "wandb").rglob("*") if p.is_symlink()]
        assert load_checkpoint(out).manifest.tracking == {"report_to": "wandb", "logs": "wandb"}
        assert not (tmp_path / f"{stage}.partial").exists()


def test_none_writes_no_tracker_folder(base):
    ckpt = load_checkpoint(base)
    assert ckpt.manifest.tracking == {"report_to": "none"}
    assert not (base / "tb").exists() and not (base / "wandb").exists()


def test_missing_tracker_package_is_refused_before_any_work(shards, base, synth_tiny, tmp_path, cli, monkeypatch):
    from evolm.training import tracking

    monkeypatch.setattr(tracking, "_installed", lambda package: False)
    pretrain = cli("pretrain", *SMALL, "--tokens", "2K", "--data", shards / "general", "--report-to", "wandb",
                   "--out", tmp_path / "pt")
    assert pretrain.code == 2 and "--report-to wandb needs the wandb package" in pretrain.err
    sft = cli("sft", base, "--data", synth_tiny.joinpath(*POOL), *SFT, "--report-to", "tensorboard", "--out", tmp_path / "s")
    assert sft.code == 2 and "needs the tensorboard package" in sft.err
    unknown = cli("rl", base, "--data", synth_tiny.joinpath(*POOL), "--examples", "4", "--report-to", "mlflow",
                  "--out", tmp_path / "r")
    assert unknown.code == 2 and "Unknown --report-to 'mlflow'" in unknown.err
    assert not list(tmp_path.iterdir())


def test_wandb_without_a_login_is_refused_before_any_work(base, synth_tiny, tmp_path, cli, monkeypatch):
    # W&B reads its settings once per process (and other tests here start W&B runs): asked in a process of
    # its own, with no key anywhere (environment, .netrc, settings file) and then with `wandb offline`'s setting
    for name in ("WANDB_API_KEY", "WANDB_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HOME", "WANDB_CONFIG_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "home"))
    monkeypatch.setenv("NETRC", str(tmp_path / "home" / ".netrc"))
    (tmp_path / "home").mkdir()

    def ready() -> str:
        done = subprocess.run([sys.executable, "-c", "from evolm.training.tracking import _wandb_ready; print(_wandb_ready())"],
                              capture_output=True, text=True, timeout=120, env=os.environ.copy())
        return done.stdout.strip() or done.stderr

    assert ready() == "False"
    (tmp_path / "home" / "settings").write_text("[default]\nmode = offline\n")
    assert ready() == "True"
    # and the command refuses before any work when W&B cannot start
    from evolm.training import tracking

    monkeypatch.setattr(tracking, "_wandb_ready", lambda: False)
    sft = cli("sft", base, "--data", synth_tiny.joinpath(*POOL), *SFT, "--report-to", "wandb", "--out", tmp_path / "s")
    assert sft.code == 2 and "--report-to wandb needs a W&B login" in sft.err
    assert not (tmp_path / "s").exists() and not (tmp_path / "s.partial").exists()


def test_resume_may_change_the_tracker_but_nothing_else(tmp_path):
    from evolm.errors import BadInput
    from evolm.training.rundir import RUN, open_run_dir

    record = {"stage": "pretrain", "config": {"lr": 1e-3}, "report_to": "none"}
    open_run_dir(tmp_path / "run", record, resume=False)
    open_run_dir(tmp_path / "run", {**record, "report_to": "tensorboard"}, resume=True)
    assert json.loads((tmp_path / "run" / RUN).read_text())["report_to"] == "tensorboard"
    with pytest.raises(BadInput, match=r"different settings \(lr\)"):
        open_run_dir(tmp_path / "run", {**record, "config": {"lr": 2e-3}}, resume=True)
