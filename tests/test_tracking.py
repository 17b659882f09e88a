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


def test_a_resumed_runs_rate_and_eta_count_only_the_steps_this_process_ran(monkeypatch):
    """Resumed at step 900 of 1,000, one step a second: 1 step/s and about 99 s left (the steps before
    the resume were counted as this process's: 878 steps/s, ETA 0s)."""
    from evolm import console

    clock = [100.0]
    monkeypatch.setattr(console.time, "monotonic", lambda: clock[0])
    progress = console.Progress("pretrain", total=1000, unit="steps", initial=900)
    clock[0] += 1.0
    progress.update(1)
    assert progress.done == 901
    assert "1 steps/s" in progress.status() and "ETA 1m39s" in progress.line(), progress.line()


def test_a_trl_run_that_fails_closes_its_progress_display(tmp_path, monkeypatch):
    """transformers calls no on_train_end when training raises (Ctrl-C, out of memory): the display the
    metrics callback opened stayed up, on a terminal with the cursor hidden and the bar redrawn over the
    error."""
    from types import SimpleNamespace

    from evolm.training import processes, trl_run
    from evolm.training.metrics import metrics_callback

    callback = metrics_callback(tmp_path, "sft tiny", 10)
    callback.on_train_begin(None, SimpleNamespace(is_world_process_zero=True, global_step=0, max_steps=10), None)
    closed = []
    monkeypatch.setattr(callback.log.progress, "__exit__", lambda *exc: closed.append(exc[0]))

    def interrupted(trainer, last):
        raise KeyboardInterrupt

    monkeypatch.setattr(processes, "warn_if_not_as_launched", lambda accelerator: None)
    monkeypatch.setattr(trl_run, "_train_quietly", interrupted)
    trainer = SimpleNamespace(accelerator=None, callback_handler=SimpleNamespace(callbacks=[callback]),
                              add_callback=lambda c: None, remove_callback=lambda c: None)
    with pytest.raises(KeyboardInterrupt):
        trl_run.train(trainer, tmp_path, resume=False)
    assert closed == [KeyboardInterrupt] and callback.log is None


def test_a_resumed_trl_run_drops_the_tensorboard_steps_logged_after_its_checkpoint(tmp_path, monkeypatch):
    """A run killed at step 10 with its last checkpoint at 6 had logged steps 7-10: resumed, it logs them
    again, and TensorBoard showed two values for each (transformers opens its writer without purge_step)."""
    from types import SimpleNamespace

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter
    from transformers.integrations import TensorBoardCallback

    from evolm.training.trl_run import rewind_tensorboard

    killed = SummaryWriter(log_dir=str(tmp_path))
    for step in range(1, 11):
        killed.add_scalar("train/loss", 1.0, step)
    killed.close()
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", str(tmp_path))
    callbacks = [TensorBoardCallback()]
    trainer = SimpleNamespace(callback_handler=SimpleNamespace(callbacks=callbacks), is_world_process_zero=lambda: True,
                              remove_callback=callbacks.remove, add_callback=callbacks.append)
    rewind_tensorboard(trainer, 6)
    resumed = callbacks[0].tb_writer
    for step in range(7, 13):
        resumed.add_scalar("train/loss", 0.5, step)
    resumed.close()
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    scalars = events.Scalars("train/loss")
    assert [e.step for e in scalars] == list(range(1, 13)) and {e.value for e in scalars if e.step > 6} == {0.5}
