"""`--export-at`: evaluable checkpoints part-way through a pre-training or CPT run (finding 9)."""

import json
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from evolm.checkpoint import load_checkpoint

from conftest import SMALL, kill_when

# 512 tokens per step (8 x 64): a 20K budget is 39 steps; 5K is reached at step 10 (5,120 tokens),
# 10240 exactly at step 20.
ARGS = (*SMALL, "--tokens", "20K", "--log-every", "1")


def _metrics(path):
    return [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]


def _weights(path):
    return load_file(path / "model.safetensors")


def _run(*args):
    return subprocess.Popen([sys.executable, "-m", "evolm", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, shards):
    """One pre-training run with two exports, and the same run without them."""
    from evolm.cli.main import main

    root = tmp_path_factory.mktemp("export")
    data = str(shards / "general")
    assert main(["pretrain", *ARGS, "--data", data, "--export-at", "5K,10240", "--out", str(root / "pt")]) == 0
    assert main(["pretrain", *ARGS, "--data", data, "--out", str(root / "plain")]) == 0
    return root


def test_export_is_an_incomplete_checkpoint_of_the_step_that_reached_the_count(runs):
    assert sorted(p.name for p in runs.iterdir()) == ["plain", "pt", "pt@10.24K", "pt@5K"]
    final = load_checkpoint(runs / "pt")
    export = load_checkpoint(runs / "pt@5K")  # every file hashed and checked
    schedule = export.manifest.schedule
    assert schedule.completed is False and final.manifest.schedule.completed is True
    assert schedule.steps_done == 10 and schedule.tokens_done == 10 * 512
    assert load_checkpoint(runs / "pt@10.24K").manifest.schedule.tokens_done == 10240
    # The run's own knobs and lineage: the report tells it from the final run by completed/tokens_done.
    assert export.stage == "pretrain" and export.manifest.knobs == {"preset": "tiny", "tokens": 20000}
    assert export.signature == final.signature == "tiny-20KT" and export.manifest.parent is None
    assert export.manifest.data[0].tokens_drawn == 5120 and export.manifest.data[0].tokens_requested == 20000
    # The learning rate at export is the one step 10 trained with: still near the peak, not the final min_lr.
    rows = {r["step"]: r for r in _metrics(runs / "pt") if "lr" in r}
    settings = schedule.settings
    assert settings["lr_at_export"] == rows[10]["lr"] > settings["min_lr"] * 5
    assert settings["export_count"] == 5000 and settings["total_steps"] == 39
    assert final.manifest.schedule.settings["export_at"] == [5000, 10240]
    assert "export_at" not in load_checkpoint(runs / "plain").manifest.schedule.settings  # recorded only where used
    assert [r["step"] for r in _metrics(runs / "pt@5K") if "loss" in r] == list(range(1, 11))
    assert export.manifest.outcome.final_train_loss == pytest.approx(rows[10]["loss"], abs=1e-6)
    assert 0 < export.manifest.outcome.val_loss["pretrain"] < 10
    assert export.manifest.outcome.val_loss["pretrain"] > final.manifest.outcome.val_loss["pretrain"]


def test_export_loads_in_transformers_and_differs_from_the_final_weights(runs):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(runs / "pt@5K")
    assert sum(p.numel() for p in model.parameters()) == load_checkpoint(runs / "pt@5K").manifest.model.params
    mid, final = _weights(runs / "pt@5K"), _weights(runs / "pt")
    assert mid.keys() == final.keys()
    assert all(not torch.equal(mid[k], final[k]) for k in mid if "norm" not in k)
    loaded = dict(model.named_parameters())
    assert torch.equal(loaded["model.embed_tokens.weight"], mid["model.embed_tokens.weight"])


def test_exporting_does_not_change_the_run(runs):
    """Writing an export reads the weights only: the final weights and losses are those of a run without exports."""
    a, b = _weights(runs / "pt"), _weights(runs / "plain")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert [r.get("loss") for r in _metrics(runs / "pt")] == [r.get("loss") for r in _metrics(runs / "plain")]


def test_eval_checkpoints_glob_evaluates_every_export_in_one_call(runs, synth_tiny, tmp_path, cli):
    import shutil

    for name in ("pt@5K", "pt@10.24K"):  # copies: the module's runs stay as they were for the other tests
        shutil.copytree(runs / name, tmp_path / name)
    # one cloze task (lm-eval's setup is most of an upstream evaluation's time here): the glob is what is tested
    result = cli("eval", "--checkpoints", str(tmp_path / "pt@*"), "--suite", "SynthClozeFacts", "--benchmarks", synth_tiny,
                 "--limit", "5", "--val-tokens", "4K")
    assert result.code == 0, result.err
    assert result.out.split() == [str(tmp_path / "pt@10.24K" / "eval"), str(tmp_path / "pt@5K" / "eval")]
    assert "evaluating" in result.err and "(2 of 2)" in result.err
    # the upstream evaluation accepts an export: its validation loss is the one the run measured there
    for name in ("pt@5K", "pt@10.24K"):
        up = json.loads((tmp_path / name / "eval" / "upstream.json").read_text())
        assert up["val"]["loss"] == pytest.approx(load_checkpoint(runs / name).manifest.outcome.val_loss["pretrain"], rel=0.05)
        assert 0.0 <= up["average"] <= 1.0


def test_eval_checkpoints_checks_every_match_before_it_evaluates_the_first(runs, synth_tiny, tmp_path, cli):
    """An altered file in the last match is refused before the first match is evaluated (for hours, on a GPU)."""
    for name in ("pt@5K", "pt@10.24K"):
        shutil.copytree(runs / name, tmp_path / name)
    (tmp_path / "pt@5K" / "config.json").write_text((tmp_path / "pt@5K" / "config.json").read_text() + " ")
    result = cli("eval", "--checkpoints", str(tmp_path / "pt@*"), "--suite", "upstream", "--benchmarks", synth_tiny,
                 "--limit", "5", "--val-tokens", "4K")
    assert result.code == 2 and "pt@5K" in result.err and "evaluating" not in result.err, result.err
    assert not (tmp_path / "pt@10.24K" / "eval").exists()


@pytest.mark.parametrize("args, message", [
    (("--checkpoints", "nothing-here-*"), "matches no checkpoint folder"),
    (("CKPT", "--checkpoints", "x*"), "drop the CKPT argument and --out"),
])
def test_eval_checkpoints_glob_refusals(args, message, runs, synth_tiny, cli):
    args = [str(runs / "pt@5K") if a == "CKPT" else a for a in args]
    result = cli("eval", *args, "--suite", "upstream", "--benchmarks", synth_tiny)
    assert result.code == 2 and message in result.err, result.err


def test_cpt_exports_with_its_parent_recorded(runs, shards, tmp_path, cli):
    result = cli("cpt", runs / "pt", "--domain", f"{shards / 'math'}:6K", "--seq-len", "64", "--global-batch", "8",
                 "--val-tokens", "4K", "--export-at", "2K", "--out", tmp_path / "cpt")
    assert result.code == 0, result.err
    export, parent = load_checkpoint(tmp_path / "cpt@2K"), load_checkpoint(runs / "pt")
    assert export.stage == "cpt" and export.manifest.parent.manifest_sha256 == parent.manifest_sha256
    assert export.signature == "tiny-20KT-6KT"
    assert export.manifest.schedule.completed is False
    assert (export.manifest.schedule.steps_done, export.manifest.schedule.tokens_done) == (4, 2048)


def test_cpt_from_an_export_counts_replay_against_the_tokens_the_export_saw(runs, shards, tmp_path, cli):
    """pt@5K is the 20K-token run at step 10 (5,120 tokens): 1K replay tokens are a fifth of what it was
    pre-trained on, not a twentieth (its knobs, the whole run's, say 20K)."""
    result = cli("cpt", runs / "pt@5K", "--domain", f"{shards / 'math'}:3K", "--replay", f"{shards / 'general'}:1K",
                 "--seq-len", "64", "--global-batch", "8", "--val-tokens", "4K", "--out", tmp_path / "cpt")
    assert result.code == 0, result.err
    parent = load_checkpoint(runs / "pt@5K").manifest
    assert (parent.knobs["tokens"], parent.schedule.tokens_done) == (20_000, 5120)
    assert load_checkpoint(tmp_path / "cpt").manifest.replay["share_of_parent_pretraining"] == pytest.approx(1000 / 5120)


def test_resume_keeps_the_exports_already_written(runs, shards, tmp_path, cli):
    args = ("pretrain", *ARGS, "--data", shards / "general", "--save-every", "12", "--export-at", "5K,10240")
    state = tmp_path / "pt.partial" / "state" / "step-00000012"
    kill_when(_run(*args, "--out", tmp_path / "pt"), state)
    assert state.is_dir() and not (tmp_path / "pt").exists()
    written = tmp_path / "pt@5K"
    manifest, inode = (written / "evolm.json").read_bytes(), written.stat().st_ino
    # Another run's export where this run's was (left by an earlier run with other settings): not taken as
    # this run's, and not replaced without --overwrite.
    written.rename(tmp_path / "mine")
    shutil.copytree(runs / "pt@5K", written)
    other = cli(*args, "--out", tmp_path / "pt", "--resume")
    assert other.code == 2 and f"{written} was not written by the run resumed at" in other.err and state.is_dir()
    # a run interrupted before evolm recorded its exports: an export older than the run's folder is another's,
    # and its own (written after it began) is kept, as the rest of this test checks
    shutil.rmtree(tmp_path / "pt.partial" / "exports")
    legacy = cli(*args, "--out", tmp_path / "pt", "--resume")
    assert legacy.code == 2 and f"{written} was not written by the run resumed at" in legacy.err
    shutil.rmtree(written)
    (tmp_path / "mine").rename(written)
    # An export behind the resumed state cannot be made any more: refused, and the run is kept.
    late = cli(*args[:-1], "2K,5K,10240", "--out", tmp_path / "pt", "--resume")
    assert late.code == 2 and "--export-at 2K falls on step 4, which the interrupted run had passed" in late.err
    assert state.is_dir() and not (tmp_path / "pt@2K").exists()
    resumed = cli(*args, "--out", tmp_path / "pt", "--resume")
    assert resumed.code == 0, resumed.err
    assert (written / "evolm.json").read_bytes() == manifest and written.stat().st_ino == inode  # kept, not rewritten
    for name in ("pt", "pt@5K", "pt@10.24K"):  # the same weights as the uninterrupted run's
        a, b = _weights(runs / name), _weights(tmp_path / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name


def test_bad_export_at_exits_2_and_creates_nothing(shards, tmp_path, cli):
    data = shards / "general"
    cases = {
        "20K": "reached before the run's last step (at most 19,456 of its 19,968 tokens)",
        "19.5K": "reached before the run's last step",  # below the budget, but on step 39, the last
        "0": "must be positive",
        "lots": "Invalid --export-at 'lots'",
        "1K,,2K": "expected counts separated by commas",
        "20x": "Invalid --export-at",
        "5K,5.1K": "lands on the same step as another count",
    }
    for value, message in cases.items():
        result = cli("pretrain", *ARGS, "--data", data, "--export-at", value, "--out", tmp_path / "pt")
        assert result.code == 2 and message in result.err, (value, result)
        assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    # An existing export is not replaced without --overwrite, and nothing starts.
    (tmp_path / "pt@5K").mkdir()
    taken = cli("pretrain", *ARGS, "--data", data, "--export-at", "5K", "--out", tmp_path / "pt")
    assert taken.code == 2 and "pt@5K already exists; pass --overwrite" in taken.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pt@5K"]
    # From --config as well (a YAML list or text).
    (tmp_path / "c.yaml").write_text("export_at: [5K, 30K]\n")
    config = cli("pretrain", *ARGS, "--data", data, "--config", tmp_path / "c.yaml", "--out", tmp_path / "pt")
    assert config.code == 2 and "--export-at 30K must be positive" in config.err
    (tmp_path / "c.yaml").write_text("export_at: 5K,lots\n")
    config = cli("pretrain", *ARGS, "--data", data, "--config", tmp_path / "c.yaml", "--out", tmp_path / "pt")
    assert config.code == 2 and "Invalid --export-at 'lots'" in config.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "pt@5K"]


def test_export_before_the_first_logged_step(shards, tmp_path, cli):
    """An export reached before the first --log-every row has no metrics to copy yet (it failed with
    FileNotFoundError on metrics.jsonl and lost the run): it is written without them."""
    result = cli("pretrain", *SMALL, "--tokens", "20K", "--log-every", "30", "--data", shards / "general",
                 "--export-at", "5K", "--out", tmp_path / "pt")
    assert result.code == 0, result.err
    export = load_checkpoint(tmp_path / "pt@5K")
    assert export.manifest.schedule.steps_done == 10 and not (tmp_path / "pt@5K" / "metrics.jsonl").exists()
    assert [r["step"] for r in _metrics(tmp_path / "pt") if "loss" in r][0] == 30
