"""`--schedule wsd`: the warmup-stable-decay learning rate at every step (also across a resume in the
middle of the decay), its manifest record, and its refusals."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from evolm.checkpoint import load_checkpoint
from evolm.training.causal_lm import TrainConfig, lr_scheduler

from conftest import SMALL, kill_when


def reference(step, *, lr, min_lr, warmup, stable, decay, shape):
    """The WSD learning rate of step `step` (0-based), written from the definition."""
    floor = min_lr / lr
    if step < warmup:
        return lr * (floor + (1 - floor) * step / warmup)
    if step < warmup + stable:
        return lr
    if step >= warmup + stable + decay:
        return min_lr
    p = (step - warmup - stable) / decay
    factor = {"linear": 1 - p, "cosine": 0.5 * (1 + math.cos(math.pi * p)), "1-sqrt": 1 - math.sqrt(p)}[shape]
    return lr * (floor + (1 - floor) * factor)


@pytest.mark.parametrize("shape", ["linear", "cosine", "1-sqrt"])
def test_the_wsd_curve_is_the_formula_at_every_step(shape):
    config = TrainConfig(seq_len=8, global_batch=1, micro_batch=1, lr=1e-3, min_lr=1e-4, warmup_steps=5, total_steps=40,
                         schedule="wsd", decay_steps=10, decay_shape=shape)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=config.lr)
    scheduler = lr_scheduler(optimizer, config)
    for step in range(41):
        expected = reference(step, lr=1e-3, min_lr=1e-4, warmup=5, stable=25, decay=10, shape=shape)
        assert scheduler.get_last_lr()[0] == pytest.approx(expected, rel=1e-9), step
        optimizer.step()
        scheduler.step()


def _metrics(path):
    return [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]


def _run(*args):
    return subprocess.Popen([sys.executable, "-m", "evolm", *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_a_wsd_run_logs_the_curve_and_resumes_mid_decay_to_the_same_weights(shards, tmp_path, cli):
    # 20K tokens at 512 per step: 39 steps; warmup 10% (4), decay 25% (10 steps from step 29); states every 10
    args = ("pretrain", *SMALL, "--tokens", "20K", "--data", shards / "general", "--schedule", "wsd", "--decay", "25%",
            "--decay-shape", "cosine", "--save-every", "10", "--log-every", "1")
    assert cli(*args, "--out", tmp_path / "straight").code == 0
    logged = [(r["step"], r["lr"]) for r in _metrics(tmp_path / "straight") if "lr" in r]
    assert len(logged) == 39
    for step, lr in logged:  # the logged lr is the one step `step` trained with (0-based step - 1)
        assert lr == pytest.approx(reference(step - 1, lr=3e-3, min_lr=3e-4, warmup=4, stable=25, decay=10, shape="cosine"))
    manifest = load_checkpoint(tmp_path / "straight").manifest
    settings = manifest.schedule.settings
    assert manifest.schedule.kind == "WSD: linear warmup, constant, cosine decay to min_lr"
    assert (settings["schedule"], settings["warmup_steps"], settings["stable_steps"], settings["decay_steps"]) == ("wsd", 4, 25, 10)
    assert settings["decayed"] is True and settings["decay_shape"] == "cosine" and settings["decay"] == "25%"
    # killed after the state of step 30 (mid-decay), resumed: the same curve and the same weights
    state = tmp_path / "killed.partial" / "state" / "step-00000030"
    kill_when(_run(*args, "--out", tmp_path / "killed"), state)
    resumed = cli(*args, "--out", tmp_path / "killed", "--resume")
    assert resumed.code == 0 and "resuming at step" in resumed.err, resumed.err
    assert [(r["step"], r["lr"]) for r in _metrics(tmp_path / "killed") if "lr" in r] == logged
    assert [r.get("loss") for r in _metrics(tmp_path / "straight")] == [r.get("loss") for r in _metrics(tmp_path / "killed")]
    a, b = load_file(tmp_path / "straight" / "model.safetensors"), load_file(tmp_path / "killed" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_schedule_options_a_manifest_records():
    """The warmup and decay options, which the budget-dependent step counts cannot tell apart across
    budgets: a cosine run's warmup where not the default; a WSD run's decay, never its warmup (a
    budget branch takes the stable run's warmup in steps)."""
    from evolm.stages.lm_run import Overrides, schedule_options

    assert schedule_options(Overrides()) == {}
    assert schedule_options(Overrides(warmup=0.02)) == {"warmup": 0.02}
    assert schedule_options(Overrides(schedule="wsd")) == {"decay": "20%"}
    assert schedule_options(Overrides(schedule="wsd", decay="200K", warmup=5)) == {"decay": 200_000}
    assert schedule_options(Overrides(schedule="wsd", decay="20.0%")) == {"decay": "20%"}


def test_a_cosine_run_records_no_wsd_fields(base):
    settings = load_checkpoint(base).manifest.schedule.settings
    assert "schedule" not in settings and "decay_steps" not in settings and settings["decayed"] is True
    assert "warmup" not in settings and "decay" not in settings  # the default warmup is not recorded


@pytest.mark.parametrize("args, message", [
    (("--schedule", "step"), "--schedule must be cosine or wsd"),
    (("--decay", "20%"), "add --schedule wsd"),
    (("--schedule", "wsd", "--decay", "150%"), "between 0% and 100%"),
    (("--schedule", "wsd", "--decay-shape", "exp"), "--decay-shape must be linear, cosine, 1-sqrt"),
    (("--schedule", "wsd", "--decay", "1M"), "decay steps; it must be 2 to"),
    (("--schedule", "wsd", "--decay", "512"), "gives 1 decay steps; it must be 2 to"),  # one step of 8 x 64 never decays
])
def test_bad_schedules_exit_2_before_any_work(args, message, shards, tmp_path, cli):
    result = cli("pretrain", *SMALL, "--tokens", "20K", "--data", shards / "general", *args, "--out", tmp_path / "x")
    assert result.code == 2 and message in result.err, result.err
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.partial").exists()


WSD = ("--schedule", "wsd", "--decay", "25%", "--log-every", "1")


def test_a_budget_branch_equals_a_stand_alone_wsd_run_of_that_budget(shards, tmp_path, cli):
    # stable run: 40K tokens, 78 steps, warmup 8, decay 20. The 20K budget (39 steps, decay 10) branches at step 29.
    data = ("--data", shards / "general")
    stable = cli("pretrain", *SMALL, "--tokens", "40K", *data, *WSD, "--branch-at", "20K", "--out", tmp_path / "stable")
    assert stable.code == 0, stable.err
    index = json.loads((tmp_path / "stable.branches" / "branches.json").read_text())
    assert index["budgets"]["20K"]["step"] == 29 and (tmp_path / "stable.branches" / "20K" / "trainer.json").is_file()
    branch = cli("pretrain", *SMALL, "--tokens", "20K", *data, *WSD, "--branch-from", tmp_path / "stable", "--out", tmp_path / "branch")
    assert branch.code == 0, branch.err
    alone = cli("pretrain", *SMALL, "--tokens", "20K", *data, *WSD, "--warmup", "8", "--out", tmp_path / "alone")
    assert alone.code == 0, alone.err
    a, b = load_file(tmp_path / "alone" / "model.safetensors"), load_file(tmp_path / "branch" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # bitwise
    logged = [r["step"] for r in _metrics(tmp_path / "branch") if "lr" in r]
    assert logged[0] == 30 and logged[-1] == 39  # only the decay was trained here
    alone_lr = {r["step"]: r["lr"] for r in _metrics(tmp_path / "alone") if "lr" in r}
    assert all(r["lr"] == alone_lr[r["step"]] for r in _metrics(tmp_path / "branch") if "lr" in r)
    manifest = load_checkpoint(tmp_path / "branch").manifest
    assert manifest.schedule.settings["branch_of"] == {"stable_run": str((tmp_path / "stable").resolve()), "shared_steps": 29,
                                                       "shared_tokens": 29 * 512}
    assert manifest.schedule.completed and manifest.schedule.settings["decayed"] and manifest.schedule.tokens_done == 39 * 512
    assert manifest.signature == load_checkpoint(tmp_path / "alone").manifest.signature  # the same experiment
    # ... with the same settings, as the report compares them: the branch decays as its stable run said
    from evolm.report.collect import Run

    alone_run = load_checkpoint(tmp_path / "alone")
    as_run = lambda c: Run(c.path, c.manifest, c.manifest_sha256)  # noqa: E731
    assert as_run(load_checkpoint(tmp_path / "branch")).training_settings() == as_run(alone_run).training_settings()
    assert manifest.schedule.settings["decay"] == "25%"
    # the compute ledger: a branch counts only the decay it trained; the stable run its whole budget
    assert manifest.compute.trained_tokens == (39 - 29) * 512
    stable_compute = load_checkpoint(tmp_path / "stable").manifest.compute
    assert stable_compute.trained_tokens == 78 * 512
    assert manifest.compute.flops / manifest.compute.trained_tokens == pytest.approx(
        stable_compute.flops / stable_compute.trained_tokens)

    # A budget the stable run saved no state for (added later) continues its stable phase from the latest state
    # saved before its own decay starts, and equals its stand-alone run too: 24K (46 steps, decay 12 from step
    # 34) from 20K's state at step 29; and, larger than the stable run's, 48K (93 steps, decay 23 from step 70)
    # from the state where the stable run's own decay began (step 58), which it saves for this beside --branch-at's.
    # Such a branch hands the state where its own decay starts to the stable run's states, so 52K (101 steps,
    # decay 25 from step 76), added after 48K, continues from 48K's state at step 70, not the stable run's at 58.
    # 52K's stand-alone run checks 48K's stretch too (48K's own is left out: its decay is the others' kind).
    assert index["budgets"]["40K"]["step"] == 58 and (tmp_path / "stable.branches" / "40K" / "trainer.json").is_file()
    for budget, steps, decay, shared, state in [("24K", 46, 12, 29, "20K"), ("48K", 93, 23, 58, "40K"), ("52K", 101, 25, 70, "48K")]:
        later = cli("pretrain", *SMALL, "--tokens", budget, *data, *WSD, "--branch-from", tmp_path / "stable",
                    "--out", tmp_path / f"later{budget}")
        assert later.code == 0, later.err
        assert (f"saved no state at step {steps - decay}" in later.err
                and f"continues its stable phase from step {shared} ({state}'s state)" in later.err), later.err
        if budget != "48K":
            alone = cli("pretrain", *SMALL, "--tokens", budget, *data, *WSD, "--warmup", "8", "--out", tmp_path / f"alone{budget}")
            assert alone.code == 0, alone.err
            a, b = (load_file(tmp_path / f"{kind}{budget}" / "model.safetensors") for kind in ("alone", "later"))
            assert all(torch.equal(a[k], b[k]) for k in a)
        manifest = load_checkpoint(tmp_path / f"later{budget}").manifest
        assert manifest.schedule.settings["branch_of"]["shared_steps"] == shared and manifest.schedule.settings["decay_steps"] == decay
        assert manifest.compute.trained_tokens == (steps - shared) * 512
        assert "and saves its state there for budgets added later" in later.err
        entry = json.loads((tmp_path / "stable.branches" / "branches.json").read_text())["budgets"][budget]
        assert entry == {"step": steps - decay, "tokens": (steps - decay) * 512, "state": budget,
                         "by": str((tmp_path / f"later{budget}").resolve())}
        assert (tmp_path / "stable.branches" / budget / "trainer.json").is_file()
    # a branch rerun or resumed starts where it did (find_branch leaves out the state it saved itself)
    from evolm.stages.branches import _latest_saved

    folder = tmp_path / "stable.branches"
    index = json.loads((folder / "branches.json").read_text())
    assert _latest_saved(folder, index, 70, skip=tmp_path / "later48K")["step"] == 58
    assert _latest_saved(folder, index, 70, skip=tmp_path / "another48K")["step"] == 70


def test_a_branch_hands_its_state_only_to_the_stable_run_it_branched_from(tmp_path):
    """The state where a branch's decay starts goes to its stable run's states once the branch has finished,
    under the index's lock: not to a stable run rerun since (another run_id), nor over a state that run
    holds at that step or of that name, nor while a rerun of it trains; the staging folder goes either way."""
    from evolm.stages import branches

    stable = tmp_path / "stable"
    folder = branches.branches_dir(stable)
    folder.mkdir()
    index = {"run_id": "first", "config": {"seq_len": 64, "global_batch": 8}, "budgets": {}}
    (folder / "branches.json").write_text(json.dumps(index))

    def staged(out, name="48K", step=70):
        state = branches.staging_dir(out) / name
        (branches.staging_dir(out) / ".tmp-48K").mkdir(parents=True)  # a save a kill cut short: never handed over
        state.mkdir(parents=True)
        (state / "trainer.json").write_text(json.dumps({"step": step}))
        (state / "model.safetensors").write_text(str(out))
        return out

    for run_id in ("rerun", None):
        branches.contribute(stable, staged(tmp_path / "b1"), name="48K", stable_run_id=run_id)
        assert not branches.staging_dir(tmp_path / "b1").exists() and not (folder / "48K").exists()
    (tmp_path / "stable.partial").mkdir()  # a rerun of the stable run in progress
    branches.contribute(stable, staged(tmp_path / "b1"), name="48K", stable_run_id="first")
    assert not (folder / "48K").exists()
    (tmp_path / "stable.partial").rmdir()
    branches.contribute(stable, staged(tmp_path / "b1"), name="48K", stable_run_id="first")
    assert (folder / "48K" / "model.safetensors").read_text() == str(tmp_path / "b1") and not (folder / ".tmp-48K").exists()
    assert json.loads((folder / "branches.json").read_text())["budgets"] == {
        "48K": {"step": 70, "tokens": 70 * 512, "state": "48K", "by": str((tmp_path / "b1").resolve())}}
    # another branch of the same budget (or this one again, --overwrite) keeps what is there
    branches.contribute(stable, staged(tmp_path / "b2"), name="48K", stable_run_id="first")
    assert (folder / "48K" / "model.safetensors").read_text() == str(tmp_path / "b1")
    assert not branches.staging_dir(tmp_path / "b2").exists()
    # the stable run a branch started from is remembered across its resume (a rerun since is another run)
    out = tmp_path / "b3"
    assert branches.remember_origin(out, {"stable_run": str(stable), "run_id": "first"}, resume=False, shared=12) == "first"
    assert branches.started_at(out) == 12
    # and the step it started from: resumed from its own state, it continues that start, whatever later state
    # another branch has handed the stable run since (which find_branch would now pick)
    assert branches.remember_origin(out, {"stable_run": str(stable), "run_id": "rerun"}, resume=True, shared=12) == "first"
    assert branches.started_at(out) == 12
    assert branches.remember_origin(out, {"stable_run": str(stable), "run_id": "rerun"}, resume=False, shared=17) == "rerun"
    assert branches.started_at(out) == 17


def test_branch_refusals(shards, tmp_path, cli):
    data = ("--data", shards / "general")
    no_wsd = cli("pretrain", *SMALL, "--tokens", "40K", *data, "--branch-at", "20K", "--out", tmp_path / "x")
    assert no_wsd.code == 2 and "--branch-at needs --schedule wsd" in no_wsd.err
    late = cli("pretrain", *SMALL, "--tokens", "40K", *data, *WSD, "--branch-at", "50K", "--out", tmp_path / "x")
    assert late.code == 2 and "whose decay starts inside this run's stable phase" in late.err
    # without warmup, a decay over the whole budget would branch from step 0, before any state is saved
    at_zero = cli("pretrain", *SMALL, "--tokens", "8K", *data, "--schedule", "wsd", "--warmup", "0", "--decay", "100%",
                  "--branch-at", "4096", "--out", tmp_path / "x")
    assert at_zero.code == 2 and "stable phase (steps 1 to" in at_zero.err, at_zero.err
    # --resume with nothing to resume: refused before the stable run writes its branch index beside OUT
    nothing = cli("pretrain", *SMALL, "--tokens", "30K", *data, *WSD, "--branch-at", "20K", "--out", tmp_path / "x", "--resume")
    assert nothing.code == 2 and "Nothing to resume" in nothing.err, nothing.err
    assert not [p.name for p in tmp_path.iterdir()]
    assert cli("pretrain", *SMALL, "--tokens", "30K", *data, *WSD, "--branch-at", "20K", "--out", tmp_path / "s").code == 0
    for args, message in [
        (("--tokens", "20K", *WSD, "--global-batch", "16", "--micro-batch", "4"), "global_batch is 16 here and 8 in"),
        (("--tokens", "20K", "--log-every", "1"), "A branch continues a WSD run: add --schedule wsd"),
        (("--tokens", "20K", "--schedule", "wsd", "--decay", "50%"), "A branch decays as its stable run said: --decay 25%"),
    ]:
        result = cli("pretrain", *[a for a in SMALL if a not in ()], *data, *args, "--branch-from", tmp_path / "s",
                     "--out", tmp_path / "b")
        assert result.code == 2 and message in result.err, (args, result.err)
        assert not (tmp_path / "b").exists()
    # a budget whose decay starts before any saved state (10K: step 14; 20K's is at 29) trains from step 0
    early = cli("pretrain", *SMALL, *data, "--tokens", "10K", *WSD, "--branch-from", tmp_path / "s", "--out", tmp_path / "b")
    assert early.code == 0 and "trains from step 0 with its warmup and decay" in early.err, early.err
    settings = load_checkpoint(tmp_path / "b").manifest.schedule.settings
    assert settings["branch_of"]["shared_steps"] == 0 and settings["warmup_steps"] == 6  # the stable run's (58 steps)


@pytest.mark.slow  # 16-23 s of a core (run with -m slow): the default suite stays under 10 minutes
def test_a_failed_overwrite_keeps_the_finished_runs_branch_states(shards, tmp_path, cli):
    """An --overwrite rerun stages its branch states in OUT.branches.partial (where --branch-from finds
    them while it trains) and moves them to OUT.branches only once it has written OUT: killed first,
    it leaves the finished run's checkpoint and its branch states as they were."""
    args = ("pretrain", *SMALL, "--tokens", "30K", "--data", shards / "general", *WSD, "--branch-at", "20K",
            "--save-every", "10", "--out", tmp_path / "stable")
    assert cli(*args).code == 0
    old_state = tmp_path / "stable.branches" / "20K" / "trainer.json"
    before = old_state.read_bytes()
    staged = tmp_path / "stable.branches.partial" / "20K" / "trainer.json"
    kill_when(_run(*args, "--seed", "1", "--overwrite"), staged)
    assert staged.is_file() and old_state.read_bytes() == before
    assert json.loads((tmp_path / "stable.branches" / "branches.json").read_text())["config"]["seed"] == 0
    # while the rerun is unfinished, --branch-from reads its states: they are seed 1's
    branch = cli("pretrain", *SMALL, "--tokens", "20K", "--data", shards / "general", *WSD, "--branch-from", tmp_path / "stable",
                 "--out", tmp_path / "branch")
    assert branch.code == 2 and "seed" in branch.err
    # a resume refused for changed settings leaves the index as the run wrote it
    index = (tmp_path / "stable.branches.partial" / "branches.json").read_bytes()
    changed = cli(*args, "--seed", "1", "--lr", "0.0123", "--overwrite", "--resume")
    assert changed.code == 2 and "different settings" in changed.err, changed.err
    assert (tmp_path / "stable.branches.partial" / "branches.json").read_bytes() == index
    # an accepted resume may add a budget it has not passed: the index lists it. One it has passed (12K's
    # decay starts at step 17; the run resumes at 20) gets a warning: its branch starts from an earlier state.
    more = tuple("20K,28K,12K" if a == "20K" else a for a in args)
    resumed = cli(*more, "--seed", "1", "--overwrite", "--resume")
    assert resumed.code == 0, resumed.err
    assert "the branch state for 12K (step 17) is one the interrupted run had passed (it resumes at step 20)" in resumed.err
    # (and the state where the run's own decay starts, named by its budget: a larger budget continues it)
    assert sorted(json.loads((tmp_path / "stable.branches" / "branches.json").read_text())["budgets"]) == ["12K", "20K", "28K", "30K"]
    passed = cli("pretrain", *SMALL, "--tokens", "12K", "--data", shards / "general", *WSD, "--seed", "1",
                 "--branch-from", tmp_path / "stable", "--out", tmp_path / "passed")
    assert passed.code == 0 and "trains from step 0" in passed.err, passed.err
    assert not (tmp_path / "stable.branches.partial").exists()
    assert json.loads((tmp_path / "stable.branches" / "branches.json").read_text())["config"]["seed"] == 1


def test_a_branch_started_as_its_stable_run_publishes_finds_the_states_or_says_so(shards, tmp_path, cli, monkeypatch):
    """A stable run moves its branch states from OUT.branches.partial to OUT.branches when it finishes. A
    branch that looked them up in the staging folder an instant before finds them where they went; one
    that had already resolved the staged path gets one sentence (exit 2) instead of a traceback."""
    from evolm.stages import branches

    data = ("--data", shards / "general")
    stable = tmp_path / "stable"
    assert cli("pretrain", *SMALL, "--tokens", "30K", *data, *WSD, "--branch-at", "20K", "--out", stable).code == 0

    def in_progress():  # the stable run as it was before publishing: OUT.partial and its staged states
        (tmp_path / "stable.partial").mkdir(exist_ok=True)
        branches.branches_dir(stable).rename(branches.staging_dir(stable))

    branch = ("pretrain", *SMALL, "--tokens", "20K", *data, *WSD, "--branch-from", stable)
    in_progress()
    real_current_dir = branches.current_dir

    def publishing_after_lookup(out):
        folder = real_current_dir(out)
        if branches.staging_dir(out).exists():
            branches.publish(out)  # the stable run finishes between the lookup and the read
        return folder

    monkeypatch.setattr(branches, "current_dir", publishing_after_lookup)
    from evolm.presets import get_preset
    from evolm.stages.lm_run import Overrides, train_config

    overrides = Overrides(seq_len=64, global_batch=8, micro_batch=4, schedule="wsd", decay="25%")
    branch_settings = (train_config(get_preset("1M"), [20_000], overrides), overrides)
    _, _, _, state = branches.find_branch(stable, 20_000, *branch_settings)
    assert state == branches.branches_dir(stable) / "20K" and (state / "trainer.json").is_file()
    monkeypatch.setattr(branches, "current_dir", real_current_dir)

    in_progress()
    real_find = branches.find_branch

    def publishing_after_find(stable_run, budget, config, overrides, out=None):
        found = real_find(stable_run, budget, config, overrides, out)
        branches.publish(stable_run)  # ... or between the lookup and the training loop's reading the state
        return found

    monkeypatch.setattr(branches, "find_branch", publishing_after_find)
    late = cli(*branch, "--out", tmp_path / "late")
    assert late.code == 2 and "moved while this branch started" in late.err and "Traceback" not in late.err
    assert not (tmp_path / "late").exists() and not (tmp_path / "late.partial").exists()
    monkeypatch.setattr(branches, "find_branch", real_find)
    (tmp_path / "stable.partial").rmdir()
    assert cli(*branch, "--out", tmp_path / "late").code == 0  # run again, it finds them published


def test_the_next_command_finishes_the_cleanup_of_a_run_stopped_after_writing_its_checkpoint(shards, tmp_path, cli, monkeypatch):
    """A run stopped after it wrote OUT (Ctrl-C here), before its hand-over and the removal of OUT.partial,
    leaves OUT.partial marked with OUT's manifest hash: the next command for OUT (a rerun, refused because
    OUT exists) publishes a stable run's branch states, hands a branch's state to its stable run and
    removes OUT.partial; an interrupted --overwrite rerun's folder beside the old OUT is not taken for one."""
    from evolm.fsutil import write_json
    from evolm.stages import branches

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    data = ("--data", shards / "general")
    stable = ("pretrain", *SMALL, "--tokens", "16K", *data, *WSD, "--branch-at", "8K", "--out", tmp_path / "stable")
    with monkeypatch.context() as patched:
        patched.setattr(branches, "publish", stopped)
        cut = cli(*stable)
    assert cut.code == 130 and f"{tmp_path / 'stable'} was written before the stop" in cut.err, cut.err
    assert (tmp_path / "stable.partial" / "written.json").is_file() and not (tmp_path / "stable.branches").exists()

    # a budget above the stable run's (20K: its decay starts at step 29, after the stable run's own) stages its state
    # where its decay starts, for budgets added later, and hands it over once written: to the stable run's
    # staged states here, the stable run being finished though not yet cleaned up
    def branch(budget):
        return ("pretrain", *SMALL, "--tokens", budget, *data, *WSD, "--branch-from", tmp_path / "stable",
                "--out", tmp_path / f"b{budget}")

    assert cli(*branch("20K")).code == 0
    assert (tmp_path / "stable.branches.partial" / "20K" / "trainer.json").is_file()
    again = cli(*stable)
    assert again.code == 2 and "already exists" in again.err and "finished its cleanup" in again.err, again.err
    assert not (tmp_path / "stable.partial").exists() and not (tmp_path / "stable.branches.partial").exists()
    published = json.loads((tmp_path / "stable.branches" / "branches.json").read_text())["budgets"]
    assert sorted(published) == ["16K", "20K", "8K"]
    assert all((tmp_path / "stable.branches" / name / "trainer.json").is_file() for name in published)

    # a branch stopped before handing its state over (24K, from 20K's state): its next command does
    with monkeypatch.context() as patched:
        patched.setattr(branches, "contribute", stopped)
        assert cli(*branch("24K")).code == 130
    assert (tmp_path / "b24K.branches.partial" / "24K" / "trainer.json").is_file()
    again = cli(*branch("24K"))
    assert again.code == 2 and "finished its cleanup" in again.err, again.err
    entry = json.loads((tmp_path / "stable.branches" / "branches.json").read_text())["budgets"]["24K"]
    assert entry["by"] == str((tmp_path / "b24K").resolve()) and (tmp_path / "stable.branches" / "24K" / "trainer.json").is_file()
    assert not (tmp_path / "b24K.partial").exists() and not (tmp_path / "b24K.branches.partial").exists()

    # an --overwrite rerun interrupted beside the old OUT is a run to resume, not a cleanup: left as it is
    (tmp_path / "b24K.partial").mkdir()
    write_json(tmp_path / "b24K.partial" / "written.json", {"manifest_sha256": "another run's"})
    assert cli(*branch("24K")).code == 2 and (tmp_path / "b24K.partial" / "written.json").is_file()


def test_a_finished_runs_folder_loses_its_mark_last(tmp_path, monkeypatch):
    """OUT.partial of a run that has written OUT goes child by child, the mark that it is finished
    (`WRITTEN`) last: a run stopped while this deletes its saved states still leaves the mark."""
    import shutil

    from evolm.training import rundir

    partial = tmp_path / "out.partial"
    (partial / "state" / "step-00000010").mkdir(parents=True)
    (partial / "metrics.jsonl").write_text("{}")
    rundir.mark_written(partial, "sha")
    removed, real = [], shutil.rmtree
    monkeypatch.setattr(rundir.shutil, "rmtree", lambda path, **kw: removed.append(
        (Path(path).name, (partial / rundir.WRITTEN).is_file())) or real(path, **kw))
    rundir.remove_written(partial)
    assert removed == [("state", True), ("out.partial", True)] and not partial.exists()
