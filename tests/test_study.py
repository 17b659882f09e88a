"""`evolm study`: the study file's checks, node identities (a shared prefix is one node; a changed option
reruns exactly what depends on it), and the local runner (skips finished nodes, resumes after a kill,
a failure blocks only its descendants)."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from evolm.study import plan as planning
from evolm.study.runner import Runner
from evolm.study.spec import parse

PT = {"data": "@general", "seq-len": 64, "global-batch": 8, "micro-batch": 4, "val-tokens": "4K"}


# The nodes' preset: two layers (conftest.SMALL says why), the study machinery being what these tests check.
MODEL = "tiny"


def study(tmp_path, shards, synth_tiny, nodes, **top):
    return {"study": "t", "out": str(tmp_path / "runs"),
            "data": {"prepared": {"general": str(shards / "general"), "math": str(shards / "math"),
                                  "pool": str(synth_tiny / "pool" / "mathpool.jsonl"), "benchmarks": str(synth_tiny)}},
            "evals": {"down": {"suite": "SynthMathBasic1", "limit": 2, "samples": 0, "max-new-tokens": 8}}, "nodes": nodes, **top}


def grid(sft_epochs=(1, 2), *, sft_lr=None, pt_tokens=("8K",)):
    sft_with = {"data": "@pool", "global-batch": 8, "max-length": 128, **({"lr": sft_lr} if sft_lr else {})}
    return [
        {"name": "pt", "stage": "pretrain", "grid": {"model": MODEL, "tokens": list(pt_tokens)}, "with": dict(PT)},
        {"name": "sft", "stage": "sft", "from": "pt", "grid": {"examples": 40, "epochs": list(sft_epochs)}, "with": sft_with,
         "eval": ["down"]},
        {"name": "rl", "stage": "rl", "from": {"sft": {"epochs": sft_epochs[0]}}, "grid": {"examples": 8, "epochs": 1},
         "with": {"data": "@pool", "rollouts": 2, "max-completion-length": 16}},
    ]


def write(tmp_path, data, name="study.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_shared_prefix_is_one_node_and_a_changed_option_changes_only_its_descendants(tmp_path, shards, synth_tiny):
    first = planning.build(parse(study(tmp_path, shards, synth_tiny, grid())))
    assert [n.stage for n in first.nodes] == ["pretrain", "sft", "sft", "rl"]
    pt, sft1, sft2, rl = first.nodes
    assert sft1.parent is pt and sft2.parent is pt and rl.parent is sft1  # one pre-training run under both SFT runs
    assert pt.flops_exact and pt.flops == pytest.approx(pt.flops)
    assert len({n.path for n in first.nodes}) == 4 and all(n.id[:8] in n.path.name for n in first.nodes)
    changed = planning.build(parse(study(tmp_path, shards, synth_tiny, grid(sft_epochs=(3, 2)))))
    before, after = {n.id for n in first.nodes}, {n.id for n in changed.nodes}
    # epochs 1 -> 3: that SFT node and the RL under it are new; the base and the other SFT node are not
    assert len(after - before) == 2 and {n.stage for n in changed.nodes if n.id not in before} == {"sft", "rl"}


def test_a_tilde_in_a_study_file_is_the_home_folder(tmp_path, shards, synth_tiny, monkeypatch):
    """`out: ~/runs` and `~/` data paths made a folder named `~` in the working directory."""
    from evolm.study.spec import load

    monkeypatch.setenv("HOME", str(tmp_path))
    data = study(tmp_path, shards, synth_tiny, grid())
    data["out"] = "~/runs"
    data["data"]["prepared"]["pool"] = "~/pool.jsonl"
    loaded = load(write(tmp_path, data))
    assert loaded.out == tmp_path / "runs" and "~" not in str(loaded.data) and str(tmp_path / "pool.jsonl") in str(loaded.data)


def test_options_that_do_not_change_the_checkpoint_leave_every_node_id_as_it_was(tmp_path, shards, synth_tiny):
    nodes = grid()
    first = planning.build(parse(study(tmp_path, shards, synth_tiny, nodes)))
    nodes[0]["with"].update({"micro-batch": 2, "log-every": 7, "save-every": 20, "compile": False})
    nodes[1]["with"].update({"log-every": 3, "report-to": "tensorboard", "lora": False})
    nodes[2]["with"]["kl"] = False  # a false flag is an absent one: the runner passes neither
    edited = planning.build(parse(study(tmp_path, shards, synth_tiny, nodes)))
    assert [n.id for n in edited.nodes] == [n.id for n in first.nodes]
    # but the commands say them: `compile: false` is --no-compile (absent, it is automatic: on for long CUDA
    # runs); a false plain flag, whose default is off, is left out
    runner = Runner(edited, report=False)
    assert "--no-compile" in runner.train_args(edited.nodes[0]) and "--no-kl" in runner.train_args(edited.nodes[3])
    assert not any("lora" in a for a in runner.train_args(edited.nodes[1]))
    nodes[2]["with"]["kl"] = True  # one that does change it
    assert [n.id == m.id for n, m in zip(planning.build(parse(study(tmp_path, shards, synth_tiny, nodes))).nodes,
                                         first.nodes)] == [True, True, True, False]
    # as an axis, nor in the folder the runner finds a node by
    nodes = grid()
    nodes[0]["grid"]["log-every"] = 7
    axis = planning.build(parse(study(tmp_path, shards, synth_tiny, nodes)))
    assert [(n.id, n.path) for n in axis.nodes] == [(n.id, n.path) for n in first.nodes]
    # SFT and RL resume only with the micro batch they started with: there it makes another run
    nodes = grid()
    nodes[1]["with"]["micro-batch"] = 2
    assert [n.id == m.id for n, m in zip(planning.build(parse(study(tmp_path, shards, synth_tiny, nodes))).nodes,
                                         first.nodes)] == [True, False, False, False]


def test_a_slurm_submission_refuses_prepared_data_that_is_not_there_before_any_job(tmp_path, shards, synth_tiny, monkeypatch):
    """As the local runner does: a typo in data.prepared is one sentence, not jobs that fail once they start."""
    from evolm.errors import BadInput
    from evolm.study import slurm

    data = study(tmp_path, shards, synth_tiny, grid())
    data["data"]["prepared"]["pool"] = str(tmp_path / "no-such-pool.jsonl")
    calls = []
    monkeypatch.setattr(slurm.subprocess, "run", lambda args, **_: calls.append(args))
    monkeypatch.setattr(slurm, "live_jobs", lambda: {})
    with pytest.raises(BadInput, match="data.prepared.pool .*no-such-pool.jsonl does not exist"):
        slurm.SlurmExecutor(planning.build(parse(data)), write(tmp_path, {}), report=False).submit()
    assert calls == [] and not (tmp_path / "runs").exists()


def test_a_slurm_submission_refuses_more_processes_a_node_than_gpus_before_any_job(tmp_path, shards, synth_tiny, monkeypatch, capsys):
    """Ranks past a node's last GPU fail at their first CUDA call, after the job has queued: refused first.
    Fewer processes than GPUs is said (GPUs idle) and submitted; counts come from gpus-per-node (a100:8
    too) or gpus over a fixed node count, and a node range leaves the count to Slurm."""
    from evolm.errors import BadInput
    from evolm.study import slurm

    assert [slurm.gpus_per_node(o) for o in ({"gpus-per-node": 8}, {"gpus-per-node": "a100:4"}, {"gpus": 16, "nodes": 2},
                                             {"gpus": 16, "nodes": "2-4"}, {"gpus": 3, "nodes": 2}, {"nodes": 2})] == \
        [8, 4, 8, None, None, None]
    calls = []
    monkeypatch.setattr(slurm.subprocess, "run", lambda args, **_: calls.append(args))
    monkeypatch.setattr(slurm, "live_jobs", lambda: {})
    data = study(tmp_path, shards, synth_tiny, grid(), launch={"default": {"processes": 8}},
                 slurm={"default": {"nodes": 2}, "sft": {"gpus": 8}})
    with pytest.raises(BadInput, match=r"Node group sft starts 8 processes a node on 4 GPU\(s\) a node .*processes to 4"):
        slurm.SlurmExecutor(planning.build(parse(data)), write(tmp_path, {}), report=False).submit()
    assert calls == [] and not (tmp_path / "runs").exists()
    data["slurm"]["sft"] = {"gpus-per-node": "h100:16"}
    executor = slurm.SlurmExecutor(planning.build(parse(data)), write(tmp_path, {}), report=False)
    capsys.readouterr()
    executor.check_gpus()
    assert "node group sft starts 8 process(es) a node on 16 GPUs a node; 8 stay idle" in capsys.readouterr().err


def test_one_trainer_process_on_several_gpus_is_refused_before_any_work(tmp_path, shards, synth_tiny, monkeypatch, cli):
    """`evolm sft`, `evolm rm` and GRPO/RLOO refuse to run as one process where several GPUs are visible
    (transformers' Trainer would multiply the batch over them): a study says so before any work, here
    (this machine's GPUs) and under Slurm (the jobs' GPUs a node), not when the node's turn comes. Pre-training
    and PPO place the model on one device themselves: one process on many GPUs only leaves GPUs idle."""
    from evolm.errors import BadInput
    from evolm.study import slurm
    from evolm.training import trl_run

    monkeypatch.setattr(trl_run, "visible_gpus", lambda: 4)
    data = study(tmp_path, shards, synth_tiny, grid())
    refused = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert refused.code == 2 and not (tmp_path / "runs").exists()
    assert "would run `evolm sft` as one process on 4 GPUs, which the stage refuses" in refused.err
    assert "set its launch processes to 4, one a GPU, or make one GPU visible to the study (CUDA_VISIBLE_DEVICES=0)" in refused.err
    # SFT as four processes; GRPO (the rl node) still one
    data = study(tmp_path, shards, synth_tiny, grid(), launch={"sft": {"processes": 4}})
    refused = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert refused.code == 2 and "would run `evolm rl` as one process on 4 GPUs" in refused.err
    # PPO places its model itself; pre-training too
    nodes = grid()
    nodes[2]["with"] = {**nodes[2]["with"], "algo": "ppo"}
    data = study(tmp_path, shards, synth_tiny, nodes, launch={"sft": {"processes": 4}})
    assert cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11").code == 0
    monkeypatch.setattr(trl_run, "visible_gpus", lambda: 1)
    assert cli("study", "plan", write(tmp_path, study(tmp_path, shards, synth_tiny, grid())), "--peak-flops", "1e11").code == 0

    # under Slurm, the GPUs each job asks for a node (the submitting machine's do not count)
    monkeypatch.setattr(trl_run, "visible_gpus", lambda: 0)
    calls = []
    monkeypatch.setattr(slurm.subprocess, "run", lambda args, **_: calls.append(args))
    monkeypatch.setattr(slurm, "live_jobs", lambda: {})
    data = study(tmp_path, shards, synth_tiny, grid(), slurm={"default": {"gpus-per-node": 8}})
    with pytest.raises(BadInput, match=r"would run `evolm sft` as one process on 8 GPUs.*processes to 8, one a GPU, or ask "
                                       r"for one GPU a node for its jobs \(gpus-per-node: 1"):
        slurm.SlurmExecutor(planning.build(parse(data)), write(tmp_path, {}), report=False).submit()
    assert calls == [] and not (tmp_path / "runs").exists()
    data = study(tmp_path, shards, synth_tiny, grid(), slurm={"default": {"gpus-per-node": 1}})
    slurm.SlurmExecutor(planning.build(parse(data)), write(tmp_path, {}), report=False).check_gpus()


def test_an_sbatch_that_does_not_answer_is_one_sentence_saying_the_job_may_be_queued(tmp_path, shards, synth_tiny, monkeypatch):
    """sbatch past its 120 s may have queued the job all the same: the user is told to look before a rerun
    (which would submit it again), not shown a traceback."""
    import subprocess

    from evolm.errors import BadInput
    from evolm.study import slurm

    def slow(args, **kwargs):
        raise subprocess.TimeoutExpired(args, kwargs.get("timeout"))

    monkeypatch.setattr(slurm.subprocess, "run", slow)
    monkeypatch.setattr(slurm, "live_jobs", lambda: {})
    executor = slurm.SlurmExecutor(planning.build(parse(study(tmp_path, shards, synth_tiny, grid()))), write(tmp_path, {}))
    with pytest.raises(BadInput, match="sbatch did not answer within 120 s for the x job, which may have been queued"):
        executor.sbatch("x", "pretrain", ["true"], [])


def test_a_job_requeues_itself_when_slurm_signals_its_time_limit_only_where_its_training_got_further(tmp_path):
    """A training node's job script runs the node's command in the background and, on the USR1 Slurm sends
    it before the time limit (sbatch --signal=B:USR1@...), requeues its own job (same id: its dependents
    keep waiting) where the training got further since the job started: a newer saved state, or the
    checkpoint written; not where it did not (it would start over from the same point for ever), nor for a
    node that only evaluated. It ends with the command's exit status. Run by sh, scontrol a stand-in (on the
    local Slurm, by hand: a job signalled so was requeued, restarted with SLURM_RESTART_COUNT 1, completed)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from evolm.study.slurm import requeued_at_time_limit

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text('#!/bin/sh\necho "$@" >> "$ASKED"\n')
    (bin_dir / "scontrol").chmod(0o755)
    cases = {  # name: (what the node's command does, whether its job is requeued)
        "saves a newer state": ("state/step-9", True), "writes its checkpoint": ("evolm.json", True),
        "saves nothing": (None, False), "only evaluates": (None, False), "not signalled": (None, False)}
    jobs, targets = {}, {}
    for name, (writes, _) in cases.items():
        out = tmp_path / name / "pt x"
        (out.parent / "pt x.partial" / "state" / "step-5").mkdir(parents=True)
        (out.parent / "pt x.partial" / "state" / "step-5" / "trainer.json").write_text("{}")
        if name == "only evaluates":
            out.mkdir()
            (out / "evolm.json").write_text("{}")
        target = {"state/step-9": out.parent / "pt x.partial" / "state" / "step-9" / "trainer.json",
                  "evolm.json": out / "evolm.json"}.get(writes)
        make = (f"p = pathlib.Path({str(target)!r}); p.parent.mkdir(parents=True, exist_ok=True); p.write_text('{{}}'); "
                if target else "")
        command = [sys.executable, "-c", f"import pathlib, time; {make}time.sleep(2); raise SystemExit(3)"]
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SLURM_JOB_ID": "4242", "ASKED": str(out.parent / "asked")}
        jobs[name] = subprocess.Popen(["/bin/sh", "-c", requeued_at_time_limit(command, out)], env=env, stderr=subprocess.PIPE,
                                      text=True)
        targets[name] = target
    # the signal comes once each command has written what it writes (a loaded machine took over the fixed
    # 1.2 s this waited before, and the job was signalled before its checkpoint existed)
    deadline = time.monotonic() + 20
    while any(t is not None and not t.exists() for t in targets.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    for name, job in jobs.items():
        if name != "not signalled":
            job.send_signal(signal.SIGUSR1)
    for name, (_, requeued) in cases.items():
        assert jobs[name].wait(timeout=30) == 3, name  # the command's own status, signalled or not
        said = jobs[name].stderr.read()
        asked = tmp_path / name / "asked"
        assert (asked.read_text().split() if asked.is_file() else []) == (["requeue", "4242"] if requeued else []), (name, said)
        assert ("not requeued at the time limit: the training got no further" in said) is (name in ("saves nothing", "only evaluates"))


def test_prepared_data_keys_a_node_by_the_paths_it_reads(tmp_path, shards, synth_tiny):
    """Newer test sets (another @benchmarks folder) retrain nothing and evaluate the evaluated nodes again;
    another @pool file retrains the SFT and RL nodes that read it, not the pre-training under them."""
    first = planning.build(parse(study(tmp_path, shards, synth_tiny, grid())))
    data = study(tmp_path, shards, synth_tiny, grid())
    data["data"]["prepared"]["benchmarks"] = str(tmp_path / "newer-benchmarks")
    tests = planning.build(parse(data))
    assert [n.id for n in tests.nodes] == [n.id for n in first.nodes]
    assert [n.eval_key() == m.eval_key() for n, m in zip(tests.nodes, first.nodes)] == [True, False, False, True]  # the SFT nodes
    data = study(tmp_path, shards, synth_tiny, grid())
    data["data"]["prepared"]["pool"] = str(tmp_path / "other-pool.jsonl")
    pool = planning.build(parse(data))
    assert [n.id == m.id for n, m in zip(pool.nodes, first.nodes)] == [True, False, False, False]
    # what only an evaluation reads is in the evaluations' key too (a validation loss on @math)
    data = study(tmp_path, shards, synth_tiny, grid())
    data["evals"]["down"]["val-data"] = "@math"
    before = planning.build(parse(data))
    data["data"]["prepared"]["math"] = str(tmp_path / "other-math")
    after = planning.build(parse(data))
    assert [n.id for n in after.nodes] == [n.id for n in before.nodes]
    assert [n.eval_key() == m.eval_key() for n, m in zip(after.nodes, before.nodes)] == [True, False, False, True]


def test_a_study_made_before_prepared_data_was_keyed_by_reference_finds_its_nodes(tmp_path, shards, synth_tiny):
    """Nodes made under the earlier ids (every prepared path in each) are found in their folders, not trained
    again; once their evaluations are recorded under the new id, by that record."""
    from evolm.study.plan import STATE_DIR

    plan = planning.build(parse(study(tmp_path, shards, synth_tiny, grid())))
    pt = plan.nodes[0]
    # the id every node of this file had before: the one the earlier code computed (as written then, below)
    written = plan.study.data["written"]
    legacy = {"stage": "pretrain", "options": planning.identity_options("pretrain", pt.options), "parent": None,
              "data": planning._hash(planning._data_identity(plan.study.data, training=True))[:12]}
    assert pt.earlier_ids["paths"] == planning._hash(legacy)[:16] != pt.id and set(written) >= {"general", "benchmarks"}
    old = plan.root / f"pt-{MODEL}-8K-{pt.earlier_ids['paths'][:8]}"
    old.mkdir(parents=True)
    again = planning.build(parse(study(tmp_path, shards, synth_tiny, grid())))
    assert again.nodes[0].path == old and again.nodes[1].parent.path == old
    # recorded under its new id, it is found by that record whatever its name
    old.rename(plan.root / "renamed")
    (plan.root / STATE_DIR).mkdir()
    (plan.root / STATE_DIR / f"{pt.id}.json").write_text(json.dumps({"node": "renamed", "evals": "x"}))
    assert planning.build(parse(study(tmp_path, shards, synth_tiny, grid()))).nodes[0].path == plan.root / "renamed"


def test_a_failed_report_fails_the_study_run(tmp_path, shards, synth_tiny, monkeypatch):
    """The report is the study's last step: its failure is the run's (exit 1, named in the summary), not a
    warning under an exit code 0 and the output folder printed where the report's path would be."""
    plan = planning.build(parse(study(tmp_path, shards, synth_tiny, grid())))
    monkeypatch.setattr(planning.Node, "state", lambda self, root: planning.DONE)  # every node finished
    monkeypatch.setattr(Runner, "_run", lambda self, command, log_path: 1)  # and `evolm report` fails
    outcome = Runner(plan, report=True).run()
    assert len(outcome.done) == 4 and outcome.report is None
    assert list(outcome.failed) == ["report"] and "report.log" in outcome.failed["report"]


def test_a_node_another_process_is_running_is_left_to_it(tmp_path, shards, synth_tiny):
    """A Slurm job's `study node` holds its node's lock: a local `study run` beside it (its own lock is
    another) starts nothing for that node, which would resume or overwrite the job's partial run."""
    import fcntl

    plan = planning.build(parse(study(tmp_path, shards, synth_tiny, grid())))
    node = plan.nodes[0]
    lock = plan.root / ".study" / "nodes" / f"{node.id}.lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "a") as job:
        fcntl.flock(job, fcntl.LOCK_EX)
        error = Runner(plan, report=False).run_node(node)
    assert error is not None and f"another process is running node {node.label}" in error
    assert _trained(plan.root) == [] and not node.path.exists() and not node.path.with_name(node.path.name + ".partial").exists()


def test_a_branch_sets_an_option_over_with(tmp_path, shards, synth_tiny):
    nodes = grid()[:1]
    nodes[0]["with"]["lr"] = 0.003
    nodes[0]["branches"] = [{}, {"lr": 0.001}]
    plan = planning.build(parse(study(tmp_path, shards, synth_tiny, nodes)))
    assert [n.options["lr"] for n in plan.nodes] == [0.003, 0.001]


def test_a_failed_sbatch_keeps_the_jobs_already_submitted_so_a_rerun_submits_only_the_rest(tmp_path, shards, synth_tiny,
                                                                                            monkeypatch):
    from evolm.errors import BadInput
    from evolm.study import slurm

    queue, calls = {}, []

    def fake_run(args, **_):
        calls.append(args)
        if len(calls) == 3 and not queue.get("fixed"):
            return subprocess.CompletedProcess(args, 1, "", "sbatch: error: QOSMaxSubmitJobPerUserLimit")
        job = str(100 + len(calls))
        queue[job] = "PENDING"
        return subprocess.CompletedProcess(args, 0, f"{job}\n", "")

    monkeypatch.setattr(slurm.subprocess, "run", fake_run)
    monkeypatch.setattr(slurm, "live_jobs", lambda: {k: v for k, v in queue.items() if k != "fixed"})
    plan = planning.build(parse(study(tmp_path, shards, synth_tiny, grid())))
    executor = slurm.SlurmExecutor(plan, write(tmp_path, {}), report=False)
    with pytest.raises(BadInput, match="QOSMaxSubmitJobPerUserLimit"):
        executor.submit()
    queue["fixed"] = True
    again = executor.submit()
    assert sorted(again.waiting.values()) == ["101", "102"] and len(again.submitted) == 2  # nothing twice
    # `study run --executor slurm --reevaluate`: each node's job runs `study node ... --reevaluate` (not the data job)
    wraps = [a for a in calls[-1] if a.startswith("--wrap=")]
    assert wraps and "--reevaluate" not in wraps[0]
    reevaluating = slurm.SlurmExecutor(plan, write(tmp_path, {}), report=False, reevaluate=True)
    assert reevaluating._node_command("data")[-1] != "--reevaluate"
    assert reevaluating._node_command(plan.nodes[1].id)[-1] == "--reevaluate"


def test_a_second_runner_on_the_same_folder_is_refused_before_any_work(tmp_path, shards, synth_tiny, cli):
    file = write(tmp_path, study(tmp_path, shards, synth_tiny, grid()))
    lock = tmp_path / "runs" / ".study" / "lock"
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
                               "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)", str(lock)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = cli("study", "run", file)
        assert refused.code == 2 and "Another `evolm study run` is working on" in refused.err
        assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [".study"]
    finally:
        holder.kill()
        holder.wait()


def test_a_renamed_group_finds_its_nodes_folders(tmp_path, shards, synth_tiny):
    first = planning.build(parse(study(tmp_path, shards, synth_tiny, grid())))
    pt, sft = first.nodes[0], first.nodes[1]
    pt.path.mkdir(parents=True)  # trained under the first names
    sft.path.with_name(sft.path.name + ".partial").mkdir()
    nodes = grid()
    nodes[0]["name"], nodes[1]["name"] = "base", "tuned"  # not part of the identity, only of the folder name
    nodes[1]["from"] = "base"
    nodes[2]["from"] = {"tuned": {"epochs": 1}}
    renamed = planning.build(parse(study(tmp_path, shards, synth_tiny, nodes)))
    assert [n.id for n in renamed.nodes] == [n.id for n in first.nodes]
    assert renamed.nodes[0].path == pt.path and renamed.nodes[1].path == sft.path  # found by their ids
    assert renamed.nodes[2].path.name.startswith("tuned-")  # never made: the new name


def test_a_moved_project_keeps_its_node_ids(tmp_path, shards, synth_tiny, monkeypatch):
    # prepared data given relative to the project: its ids do not depend on where the project lies
    data = study(tmp_path, shards, synth_tiny, grid())
    data["data"]["prepared"] = {k: f"data/{k}" for k in data["data"]["prepared"]}
    plans = []
    for place in ("here", "moved"):
        (tmp_path / place).mkdir()
        monkeypatch.chdir(tmp_path / place)
        plans.append(planning.build(parse(data)))
    assert [n.id for n in plans[0].nodes] == [n.id for n in plans[1].nodes]
    assert plans[1].data_paths["general"] == str(tmp_path / "moved" / "data" / "general")


def test_synthetic_data_of_another_generator_version_is_another_study(tmp_path, shards, synth_tiny, monkeypatch):
    """A newer evolm whose `evolm data synth` writes other bytes for the same scale and seed makes its
    data again. Where the bytes training reads changed (TRAINING_VERSION) it trains again in a new data
    folder, not reusing runs made on the old data; where only test sets changed it remakes them in the
    same folder and keeps every run (the study evaluates them again, which evolm eval checks)."""
    import evolm.synth

    data = study(tmp_path, shards, synth_tiny, grid())
    data["data"] = {"synth": {"scale": "tiny", "seed": 0}}
    old = planning.build(parse(data))
    monkeypatch.setattr(evolm.synth, "VERSION", evolm.synth.VERSION + 1)  # new test sets only
    tests_only = planning.build(parse(data))
    assert old.data_id != tests_only.data_id and old.data_paths == tests_only.data_paths
    assert [n.id for n in old.nodes] == [n.id for n in tests_only.nodes]
    assert [n.path for n in old.nodes] == [n.path for n in tests_only.nodes]
    # ... whose evaluations are due again (the runner passes the new folder's test sets); while both versions
    # agree, the evaluations keep the keys the studies before this split recorded
    evaluated = [(a, b) for a, b in zip(old.nodes, tests_only.nodes) if a.evals]
    assert evaluated and all(a.eval_key() != b.eval_key() for a, b in evaluated)
    assert all(a.eval_key() == b.eval_key() for a, b in zip(old.nodes, tests_only.nodes) if not a.evals)
    assert all(n.test_data is None for n in old.nodes) and old.nodes[1].eval_key() == planning._hash(old.nodes[1].evals)
    monkeypatch.setattr(evolm.synth, "TRAINING_VERSION", evolm.synth.TRAINING_VERSION + 1)  # new training bytes
    new = planning.build(parse(data))
    assert not {n.id for n in old.nodes} & {n.id for n in new.nodes} and all(n.test_data is None for n in new.nodes)
    assert new.data_paths["root"] != old.data_paths["root"]


@pytest.mark.slow  # about 70 s: the data made three times, a pre-training, four evaluations
def test_new_test_sets_evaluate_the_finished_runs_again_and_train_nothing(tmp_path, cli, monkeypatch):
    """End to end: a synthetic study run, then newer generators (VERSION up, TRAINING_VERSION not). The
    first writes the same test sets: the runner makes the data again in the same folder, trains nothing
    and evaluates again, reusing every result. The second changed one test set: it is refused until
    --reevaluate replaces it, and a rerun then does nothing. A third, whose remade training bytes differ
    from the folder's, is stopped before any run."""
    import evolm.synth

    data = {"study": "v", "out": str(tmp_path / "runs"), "data": {"synth": {"scale": "tiny", "seed": 0}, "vocab": 1024},
            "evals": {"up": {"suite": "upstream", "limit": 5, "val-tokens": "1K"}},
            "nodes": [{"name": "pt", "stage": "pretrain", "grid": {"model": MODEL, "tokens": "8K"}, "with": dict(PT),
                       "eval": ["up"]}]}
    file = write(tmp_path, data)
    root = tmp_path / "runs"
    run = ("study", "run", file, "--peak-flops", "1e11", "--no-report", "--json")
    assert cli(*run).code == 0
    old = planning.build(parse(data))
    result_path = old.nodes[0].path / "eval" / "upstream.json"
    before = json.loads(result_path.read_text())["identity"]

    def started(what):
        return len([e for e in _events(root) if e["what"] == what and e["event"] == "start"])

    monkeypatch.setattr(evolm.synth, "VERSION", evolm.synth.VERSION + 1)
    same = cli(*run)
    assert same.code == 0, same.err
    assert started("data") == 2  # made again
    assert len(_trained(root)) == 1 and started("eval") == 2 and json.loads(result_path.read_text())["identity"] == before

    monkeypatch.setattr(evolm.synth, "VERSION", evolm.synth.VERSION + 1)
    new = planning.build(parse(data))
    # this generator's data, made ahead of the run in the same folder, with one test set changed
    assert new.data_paths == old.data_paths and not new.data_done()
    changed = Path(new.data_paths["benchmarks"]) / "cloze" / "SynthClozeFacts.jsonl"
    rows = changed.read_text().splitlines()
    changed.write_text("\n".join(rows[1:] + rows[:1]) + "\n")
    (root / ".study" / f"data-{new.data_id}.done").write_text("done\n")
    refused = cli(*run)
    assert refused.code == 1 and len(_trained(root)) == 1
    (message,) = json.loads(refused.out)["failed"].values()
    assert "tasks.SynthClozeFacts" in message and "--reevaluate" in message, message
    assert cli(*run, "--reevaluate").code == 0
    assert json.loads(result_path.read_text())["identity"]["tasks"]["SynthClozeFacts"] == \
        hashlib.sha256(changed.read_bytes()).hexdigest()
    done = started("eval")
    assert cli(*run).code == 0 and len(_trained(root)) == 1 and started("eval") == done  # nothing again

    # a generator that changed the bytes training reads without a new TRAINING_VERSION is caught when it
    # makes the data again: here the folder's pool is not what the generator writes
    monkeypatch.setattr(evolm.synth, "VERSION", evolm.synth.VERSION + 1)
    pool = Path(old.data_paths["pool"])
    pool.write_text(pool.read_text() + pool.read_text().splitlines()[0] + "\n")
    caught = cli(*run)
    assert caught.code == 1 and len(_trained(root)) == 1
    assert "differs from what its runs trained on (pool)" in json.loads(caught.out)["failed"]["data"]


def test_pretraining_flops_are_6nd_plus_attention(tmp_path, shards, synth_tiny):
    from evolm.presets import get_preset

    node = planning.build(parse(study(tmp_path, shards, synth_tiny, grid(pt_tokens=("1M",))))).nodes[0]
    preset = get_preset(MODEL)
    n = preset.non_embedding_params() + preset.vocab * preset.hidden  # the output head counts, the lookup does not
    assert node.flops == pytest.approx(6 * n * 1_000_000 + 6 * preset.layers * 64 * preset.hidden * 1_000_000)
    # attention over the whole matrix (PaLM; how OLMo-core and nanochat count for MFU) is twice the causal half
    assert preset.flops_per_token(64, causal=False) - preset.flops_per_token(64) == 6 * preset.layers * 64 * preset.hidden
    big = get_preset("1B")
    assert big.flops_per_token(2048, causal=False) / big.flops_per_token(2048) == pytest.approx(1.0898, abs=1e-4)


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(colour=1), "unknown key 'colour'"),
    (lambda s: s["nodes"][1].pop("from"), "needs from:"),
    (lambda s: s["nodes"][1].update({"from": "later"}), "'later' is not a group declared above it"),
    (lambda s: s["nodes"][2].update({"from": {"sft": {"epochs": 9}}}), "matches no node"),
    (lambda s: s["nodes"][0].update({"stage": "train"}), "stage must be one of"),
    (lambda s: s["nodes"][0]["with"].update({"out": "x"}), "sets 'out', which the study runner sets itself"),
    (lambda s: s["nodes"][1].update({"eval": ["nope"]}), "eval 'nope' is not declared"),
    (lambda s: s["nodes"].append(dict(s["nodes"][1], name="sft-again")), "is the same run as"),
    (lambda s: s.update(launch={"pretrain": {"processes": 0}}), "launch.pretrain.processes must be a whole number"),
    (lambda s: s.update(launch={"eval": {"processes": 2}}), "launch has unknown key 'eval'"),
    (lambda s: s.update(launch={"sft": {"config": "no/such.yaml"}}), "launch.sft.config no/such.yaml is not a file"),
    (lambda s: s["nodes"][0].update(launch={"processes": "eight"}), "(pt): launch.processes must be a whole number"),
    (lambda s: s["nodes"][0].update(slurm={"gpu": 8}), "(pt): slurm has unknown key 'gpu'"),
    (lambda s: s.update(slurm={"pretrain": {"nodes": 0}}), "slurm.pretrain.nodes must be a positive whole number or a range"),
    # a grid axis in one place: the grid's value silently over a branch's made one point of two (a branch over
    # with: is what a branch is for: test_a_branch_sets_an_option_over_with)
    (lambda s: s["nodes"][0].update(branches=[{"tokens": "16K"}, {"tokens": "32K"}]), "'tokens' is a grid axis and set in branches: too"),
    (lambda s: s["nodes"][0]["with"].update({"model": "4M"}), "'model' is a grid axis and set in with: too"),
    (lambda s: s.update(out=5), "out: must be a folder's path, not 5"),
    (lambda s: s.update(data={"synth": {"scale": "medium"}}), "data.synth.scale must be one of tiny, small, full, not 'medium'"),
    (lambda s: s.update(data={"synth": {"scale": "tiny"}, "vocab": 0}), "data.vocab 0 is too small"),
    # each node's command lines parse, before the data or any ancestor is made
    (lambda s: s["nodes"][2]["with"].update({"rollout": 2}), "`evolm rl` command does not parse: No such option: --rollout"),
    (lambda s: s["nodes"][0]["with"].update({"global-batch": "eight"}), "Invalid value for '--global-batch'"),
    (lambda s: s["evals"]["down"].update({"frobnicate": 1}), "`evolm eval` command does not parse: No such option: --frobnicate"),
    # two evaluations of one node that would write one result file with other settings
    (lambda s: (s["evals"].update(longer=dict(s["evals"]["down"], **{"max-new-tokens": 16})),
                s["nodes"][1].update({"eval": ["down", "longer"]})),
     "evaluations 'down' and 'longer' both write SynthMathBasic1.json with other settings (max-new-tokens)"),
    (lambda s: (s["evals"].update(bf16=dict(s["evals"]["down"], **{"vllm-dtype": "bfloat16"})),
                s["nodes"][1].update({"eval": ["down", "bf16"]})),
     "evaluations 'down' and 'bf16' both write SynthMathBasic1.json with other settings (vllm-dtype)"),
    (lambda s: (s["evals"].update(up={"suite": "upstream", "vllm-memory": 0.5, "samples": 4}), s["nodes"][1].update({"eval": ["up"]})),
     "`evolm eval` command: --suite upstream has no generation task (lm-eval scores its tasks); --vllm-memory and --samples do not apply"),
    (lambda s: (s["evals"].update(up={"suite": "upstream", "limit": 4}, val={"suite": "SynthMathBasic1", "val-data": "@general"}),
                s["nodes"][1].update({"eval": ["up", "val"]})),
     "evaluations 'up' and 'val' both write upstream.json with other settings (limit, upstream tasks, val-data)"),
    # one evaluation listed twice, once with its own settings
    (lambda s: s["nodes"][1].update({"eval": ["down", {"down": {"max-new-tokens": 16}}]}),
     "lists evaluation 'down' twice, and both write SynthMathBasic1.json with other settings (max-new-tokens)"),
    # a misspelled data reference, which would fail only at its node's turn (an export's folder `x@500K` is no reference)
    (lambda s: s["nodes"][1]["with"].update({"data": "@pools"}), "option 'data' names @pools, which is no data reference"),
    (lambda s: s.update(slurm={"pretrain": {"nodes": "4-2"}}), "slurm.pretrain.nodes must be a positive whole number or a range"),
    # settings under data: that nothing used
    (lambda s: s["data"].update(vocab=8192), "data.vocab applies to synth: data"),
    (lambda s: s["data"]["prepared"].update(tokenizer="tok"), "data.prepared.tokenizer is not used"),
])
def test_bad_study_files_exit_2_in_one_sentence_before_any_work(change, message, tmp_path, shards, synth_tiny, cli):
    data = study(tmp_path, shards, synth_tiny, grid())
    change(data)
    result = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert result.code == 2 and message in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1 and not (tmp_path / "runs").exists()


def test_yaml_that_would_change_a_study_files_meaning_is_refused_or_read_as_written(tmp_path, cli):
    """A key given twice in one mapping (YAML kept the last: a second `seed:` dropped the first point) is
    refused; a time written with colons stays text (YAML 1.1 read `12:00:00` as 43200, which sbatch reads as
    minutes: 30 days)."""
    from evolm.fsutil import read_yaml

    twice = tmp_path / "twice.yaml"
    twice.write_text("study: s\nnodes:\n  - name: pt\n    stage: pretrain\n    grid: {seed: 0, seed: 1}\n")
    refused = cli("study", "plan", twice)
    assert refused.code == 2 and "gives 'seed' twice in one mapping (line 5); keep one" in refused.err
    times = tmp_path / "times.yaml"
    times.write_text("a: 12:00:00\nb: 60\nc: 1.5\nbase: &b {x: 1}\nover:\n  <<: *b\n  x: 2\n")
    assert read_yaml(times, "Study file") == {"a": "12:00:00", "b": 60, "c": 1.5, "base": {"x": 1}, "over": {"x": 2}}


def _events(root):
    path = root / ".study" / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _trained(root):
    return [e["node"] for e in _events(root) if e["what"] == "train" and e["event"] == "start"]


def test_run_trains_each_node_once_and_a_rerun_trains_nothing(tmp_path, shards, synth_tiny, cli):
    file = write(tmp_path, study(tmp_path, shards, synth_tiny, grid(sft_epochs=(1,))))
    root = tmp_path / "runs"
    # a checkpoint in the out: folder that is no node of this file (one of an earlier version of it) is named
    # and left out of the study's report
    from fake_runs import make_run

    make_run(root, "pt-of-an-earlier-file", "pretrain", {"preset": "1M", "tokens": 8000})
    result = cli("study", "run", file, "--peak-flops", "1e11", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert len(summary["done"]) == 3 and summary["failed"] == {} and (root / "report" / "report.md").is_file()
    assert "the report leaves out 1 checkpoint(s)" in result.err and "pt-of-an-earlier-file" in result.err
    reported = json.loads((root / "report" / "runs.json").read_text())
    assert len(reported) == 3 and not any("earlier" in r["path"] for r in reported)
    listed = cli("study", "plan", file, "--peak-flops", "1e11")
    assert "not in this file: 1 checkpoint(s)" in listed.out and "pt-of-an-earlier-file" in listed.out, listed.out
    shutil.rmtree(root / "pt-of-an-earlier-file")
    assert len(_trained(root)) == 3
    # the progress line after the first node (split on the whole prefix: a node label ending in "1" also reads "1 done")
    progress = "study: 1 done, 0 running, 2 waiting"
    assert progress in result.err and "ETA" in result.err.split(progress)[1].splitlines()[0]
    _check_the_ledger(cli, file, root)
    sft = next(p for p in root.iterdir() if p.name.startswith("sft-"))
    assert (sft / "eval" / "SynthMathBasic1.json").is_file()
    plan = cli("study", "plan", file, "--peak-flops", "1e11", "--json")
    assert {n["state"] for n in json.loads(plan.out)["nodes"]} == {"done"}
    # a trained node (its checkpoint written) trains no more: a launch changed since, whose processes its
    # global batch of 8 would not divide over, is not held against it
    launched = yaml.safe_load(file.read_text())
    launched["launch"] = {"pretrain": {"processes": 3}}
    assert cli("study", "plan", write(tmp_path, launched, "launched.yaml"), "--peak-flops", "1e11").code == 0
    launched["out"] = str(tmp_path / "elsewhere")  # where it is not trained, the same launch is refused
    refused = cli("study", "plan", write(tmp_path, launched, "launched.yaml"), "--peak-flops", "1e11")
    assert refused.code == 2 and "does not divide over 3 processes" in refused.err, refused.err
    # a node's run stopped after it had written its checkpoint (before removing OUT.partial) left its
    # partial folder, marked with the manifest's hash: the rerun removes it (evolm.stages.outputs.finish_cleanup)
    from evolm.checkpoint import MANIFEST
    from evolm.fsutil import sha256_bytes
    from evolm.training.rundir import WRITTEN

    left = sft.with_name(sft.name + ".partial")
    left.mkdir()
    (left / WRITTEN).write_text(json.dumps({"manifest_sha256": sha256_bytes((sft / MANIFEST).read_bytes())}))
    assert cli("study", "run", file, "--peak-flops", "1e11", "--no-report").code == 0
    assert len(_trained(root)) == 3  # nothing trained again
    assert not left.exists()

    # The file's evaluation changed for a trained node: evolm eval refuses to replace its results, so the node
    # fails (its results kept, the reason named) until --reevaluate lets the study's evaluation replace them.
    data = yaml.safe_load(file.read_text())
    data["evals"]["down"]["max-new-tokens"] = 6
    file.write_text(yaml.safe_dump(data))
    result_path = sft / "eval" / "SynthMathBasic1.json"
    refused = cli("study", "run", file, "--peak-flops", "1e11", "--no-report", "--json")
    assert refused.code == 1
    (message,) = json.loads(refused.out)["failed"].values()
    assert "decoding.max_new_tokens 8, now 6" in message and "--reevaluate" in message, message
    assert json.loads(result_path.read_text())["identity"]["decoding"]["max_new_tokens"] == 8
    replaced = cli("study", "run", file, "--peak-flops", "1e11", "--no-report", "--reevaluate")
    assert replaced.code == 0, replaced.err
    assert json.loads(result_path.read_text())["identity"]["decoding"]["max_new_tokens"] == 6
    assert len(_trained(root)) == 3  # and nothing was trained again
    # (that samples added beside the greedy completion need no --reevaluate is evolm eval's rule, which the
    # study's evaluation goes through: tests/test_eval.py, test_samples_added_to_a_greedy_result_...)


def _check_the_ledger(cli, file, root):
    """`evolm study ledger`: its totals are the sums of the nodes' manifests, by stage and in all, and a
    lineage's FLOPs are its nodes' own added up."""
    from evolm.checkpoint import load_checkpoint

    result = cli("study", "ledger", file, "--json")
    assert result.code == 0, result.err
    ledger = json.loads(result.out)
    manifests = {p.name: load_checkpoint(p).manifest for p in root.iterdir() if (p / "evolm.json").is_file()}
    assert len(manifests) == 3 and all(n["measured"] for n in ledger["nodes"])
    assert ledger["measured"]["flops"] == pytest.approx(sum(m.compute.flops for m in manifests.values()))
    assert ledger["measured"]["device_hours"] == pytest.approx(sum(m.compute.device_hours for m in manifests.values()), abs=1e-5)
    for stage in ("pretrain", "sft", "rl"):
        assert ledger["by_stage"][stage]["flops"] == sum(m.compute.flops for m in manifests.values() if m.stage == stage) > 0
    assert ledger["by_stage"]["rl"]["generated_tokens"] == manifests[next(n for n in manifests if n.startswith("rl-"))].compute.generated_tokens > 0
    rl = next(n for n in ledger["nodes"] if n["stage"] == "rl")
    assert rl["lineage_flops"] == pytest.approx(sum(m.compute.flops for m in manifests.values()))  # pt -> sft -> rl
    # evaluation is counted apart: 2 x parameters x the tokens each result says it processed
    sft = next(n for n in ledger["nodes"] if n["stage"] == "sft")
    result = json.loads((root / sft["name"] / "eval" / "SynthMathBasic1.json").read_text())["compute"]
    assert result["processed_tokens"] > 0 and result["flops"] == 2.0 * result["params"] * result["processed_tokens"]
    assert sft["eval_flops"] == pytest.approx(result["flops"]) and ledger["measured"]["eval_flops"] >= sft["eval_flops"]
    assert all(n["eval_flops"] == 0 for n in ledger["nodes"] if n["stage"] != "sft")  # only SFT is evaluated here
    text = cli("study", "ledger", file)
    assert text.code == 0 and "study: 3 of 3 nodes trained" in text.out
    # the report counts the same compute (every stage) and plots accuracy against each lineage's FLOPs
    report = (root / "report" / "report.md").read_text()
    assert f"total compute: {ledger['measured']['flops']:.3g} training FLOPs over 3 runs (pretrain, sft, rl;" in report
    assert (root / "report" / "plots" / "compute.png").is_file() and "compute.png" in report
    rows = {r["stage"]: r for r in json.loads((root / "report" / "runs.json").read_text())}
    assert rows["rl"]["lineage_flops"] == pytest.approx(rl["lineage_flops"])


def test_a_failed_node_blocks_only_its_descendants(tmp_path, shards, synth_tiny, cli, monkeypatch):
    # below each pre-training a CPT run, unevaluated
    cpt_with = {"domain": "@math:2K", **{k: v for k, v in PT.items() if k != "data"}}
    nodes = [grid()[0], {"name": "cpt", "stage": "cpt", "from": "pt", "with": cpt_with}]
    nodes[0]["branches"] = [{}, {"lr": -1}]  # the lr -1 pre-training is refused (exit 2); the CPT under it is blocked
    file = write(tmp_path, study(tmp_path, shards, synth_tiny, nodes))
    # The refused run is started for real (it exits 2 before torch is imported, with its reason in the log); the
    # others are said to succeed without training: what is tested is the runner's scheduling, and
    # test_run_trains_each_node_once_... trains real nodes through it (this test took 23 s so).
    from evolm.study.runner import Runner

    real_run = Runner._run

    def run(self, command, log_path):
        refused_lr = "--lr" in command and command[command.index("--lr") + 1] == "-1"
        return real_run(self, command, log_path) if refused_lr or command[3] not in ("pretrain", "cpt") else 0

    monkeypatch.setattr(Runner, "_run", run)
    plan = planning.build(parse(yaml.safe_load(file.read_text())))
    result = cli("study", "run", file, "--peak-flops", "1e11", "--no-report", "--json")
    assert result.code == 1
    summary = json.loads(result.out)
    failed = [n for n in plan.nodes if n.label in summary["failed"]]
    assert len(failed) == 1 and failed[0].stage == "pretrain" and failed[0].options["lr"] == -1
    assert "exited 2" in summary["failed"][failed[0].label] and "--lr" in summary["failed"][failed[0].label]  # its reason
    assert summary["blocked"] == [n.label for n in plan.nodes if n.parent in failed] and len(summary["blocked"]) == 1
    good = [n.label for n in plan.nodes if n not in failed and n.label not in summary["blocked"]]
    assert sorted(summary["done"]) == sorted(good) and len(good) == 2  # the other pre-training run and its CPT run
    assert "failed: " in result.err and "blocked: " in result.err


@pytest.mark.slow
def test_a_killed_run_finishes_on_rerun_with_no_finished_node_trained_twice(tmp_path, shards, synth_tiny):
    data = study(tmp_path, shards, synth_tiny, grid(sft_epochs=(1,), pt_tokens=("16K", "200K"))[:2])
    data["nodes"][0]["with"] = dict(PT, **{"save-every": 2})
    file = write(tmp_path, data)
    root = tmp_path / "runs"
    command = [sys.executable, "-m", "evolm", "study", "run", str(file), "--peak-flops", "1e11", "--no-report"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    runner = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 240
    # the first node finished, the second is training (its run folder exists) and has saved a state
    while time.monotonic() < deadline and not (len(_trained(root)) >= 2 and any(p.name.endswith(".partial") for p in root.glob("*"))):
        time.sleep(0.2)
    time.sleep(4)
    os.killpg(runner.pid, signal.SIGKILL)
    runner.wait()
    before = _events(root)
    finished = {e["node"] for e in before if e["what"] == "train" and e["event"] == "end" and e.get("code") == 0}
    started = {e["node"] for e in before if e["what"] == "train" and e["event"] == "start"}
    assert len(finished) >= 1 and len(_trained(root)) == 2
    assert subprocess.run(command, env=env, capture_output=True, text=True).returncode == 0
    events = _events(root)[len(before):]
    again = [e for e in events if e["what"] == "train" and e["event"] == "start"]
    # nothing finished is trained again; the node killed mid-run is started once more, with --resume
    assert not {e["node"] for e in again} & finished
    assert all(e["resume"] for e in again if e["node"] in started) and any(e["node"] in started for e in again)
    ends = [e["node"] for e in _events(root) if e["what"] == "train" and e["event"] == "end" and e.get("code") == 0]
    assert len(ends) == len(set(ends)) == 4


def test_a_wsd_budget_sweep_is_one_stable_run_and_a_decay_branch_per_smaller_budget(tmp_path, shards, synth_tiny, cli):
    nodes = [{"name": "pt", "stage": "pretrain", "grid": {"model": MODEL, "tokens": ["8K", "16K"]},
              "with": {**PT, "schedule": "wsd"}}]
    file = write(tmp_path, study(tmp_path, shards, synth_tiny, nodes))
    plan = planning.build(parse(yaml.safe_load(file.read_text())))
    stable, branch = plan.nodes
    assert stable.options["branch-at"] == "8K" and stable.after is None and "branch-at" not in branch.options
    assert branch.after is stable and branch.parent is None and branch.flops < stable.flops / 4  # only its decay
    # the 16K run alone saves no branch states: the sweep's stable run is another node
    alone = [{**nodes[0], "grid": {"model": MODEL, "tokens": ["16K"]}}]
    assert planning.build(parse(study(tmp_path, shards, synth_tiny, alone))).nodes[0].id != stable.id
    result = cli("study", "run", file, "--no-report", "--json")
    assert result.code == 0, result.err
    root = tmp_path / "runs"
    trained = [e for e in _events(root) if e["what"] == "train" and e["event"] == "start"]
    assert [e["node"] for e in trained] == [stable.id, branch.id]  # the stable run first
    from evolm.checkpoint import load_checkpoint

    manifest = load_checkpoint(branch.path).manifest
    shared = manifest.schedule.settings["branch_of"]["shared_tokens"]
    assert manifest.schedule.settings["branch_of"]["stable_run"] == str(stable.path.resolve())
    assert manifest.schedule.settings["decayed"] and manifest.compute.trained_tokens == manifest.schedule.tokens_done - shared
    ledger = json.loads(cli("study", "ledger", file, "--json").out)
    row = next(n for n in ledger["nodes"] if n["id"] == branch.id)
    # the branch's lineage holds the stable run's shared tokens too: its FLOPs are those of all its tokens
    assert row["lineage_flops"] == pytest.approx(row["flops"] / manifest.compute.trained_tokens * manifest.schedule.tokens_done)
    assert cli("report", root, "--out", tmp_path / "report").code == 0  # the report counts the branch's lineage alike
    reported = {r["manifest_sha256"]: r for r in json.loads((tmp_path / "report" / "runs.json").read_text())}
    assert reported[load_checkpoint(branch.path).manifest_sha256]["lineage_flops"] == pytest.approx(row["lineage_flops"])
    assert cli("study", "run", file, "--no-report").code == 0 and len(_trained(root)) == 2

    # A budget added later is one more branch of the same stable run (branch-at is not part of its identity):
    # only it is to run, with --branch-from the stable run, which starts it from the latest state saved
    # before its decay (tests/test_wsd.py, test_a_budget_branch_equals_a_stand_alone_wsd_run_of_that_budget)
    nodes[0]["grid"]["tokens"] = ["8K", "12K", "16K"]
    file = write(tmp_path, study(tmp_path, shards, synth_tiny, nodes))
    wider = planning.build(parse(yaml.safe_load(file.read_text())))
    assert [n.id for n in wider.nodes if n.id in (stable.id, branch.id)] == [stable.id, branch.id]
    (added,) = [n for n in wider.nodes if n.id not in (stable.id, branch.id)]
    assert added.after.id == stable.id and wider.nodes[0].options["branch-at"] == "8K,12K"
    assert [n.state(root) for n in wider.nodes] == [planning.DONE, planning.DONE, planning.TO_RUN]
    # its FLOPs, as the plan estimates them from the stable run's states: 11 steps (12 to 23) against the 8K
    # branch's 3 (12 to 15)
    assert added.flops_exact and added.flops == pytest.approx(wider.nodes[1].flops * 11 / 3)
    from evolm.stages.branches import tokens_to_train

    # a 7K branch (13 steps, its decay from step 10) has no state before its decay (8K's is at 12): all 13 steps
    assert tokens_to_train(stable.path, 7000) == 13 * 512
    args = Runner(wider, report=False).train_args(added)
    assert args[args.index("--branch-from") + 1] == str(stable.path) and args[args.index("--tokens") + 1] == "12K"
    # A budget added *above* the sweep's (24K) after its stable run (16K) has trained is a branch of that
    # run too: it continues the stable phase from the state the stable run saved where its own decay began
    # (evolm.stages.branches), so the stable run and its branches keep their ids and only 24K is to run.
    nodes[0]["grid"]["tokens"] = ["8K", "16K", "24K"]
    taller = planning.build(parse(study(tmp_path, shards, synth_tiny, nodes)))
    assert [n.id for n in taller.nodes[:2]] == [stable.id, branch.id] and taller.nodes[0].options["branch-at"] == "8K"
    (above,) = taller.nodes[2:]
    assert above.after.id == stable.id and above.options["tokens"] == "24K" and above.state(root) == planning.TO_RUN
    index = json.loads((root / stable.path.name).with_name(stable.path.name + ".branches").joinpath("branches.json").read_text())
    own = index["budgets"]["16K"]["step"]  # 31 steps of 512 tokens, its decay (the default 20%) from step 25
    assert own == 25 and tokens_to_train(stable.path, 24_000) == (46 - own) * 512  # 46 steps, from step 25
    assert above.flops_exact and above.flops == pytest.approx(wider.nodes[1].flops * (46 - own) / 3)
    # until the stable run has finished (its states not yet published) the estimate is from the budgets: 24K
    # less the 16K run's tokens before its decay (80%), 11,200 tokens, against the 10,752 it will train
    from evolm.stages.branches import branches_dir

    branches_dir(stable.path).rename(tmp_path / "states-aside")
    unfinished = planning.build(parse(study(tmp_path, shards, synth_tiny, nodes))).nodes[2]
    (tmp_path / "states-aside").rename(branches_dir(stable.path))
    assert not unfinished.flops_exact and unfinished.flops == pytest.approx(wider.nodes[1].flops / (3 * 512) * 11_200)
    listed = cli("study", "plan", write(tmp_path, study(tmp_path, shards, synth_tiny, nodes), "taller.yaml"))
    line = next(t for t in listed.out.splitlines() if above.id[:8] in t)
    assert line.startswith("to run") and f"(budget branch of {stable.label})" in line, listed.out
    args = Runner(taller, report=False).train_args(above)
    assert args[args.index("--branch-from") + 1] == str(stable.path) and args[args.index("--tokens") + 1] == "24K"
    # the same file run afresh (another out:) makes its largest budget the stable run
    afresh = planning.build(parse({**study(tmp_path, shards, synth_tiny, nodes), "out": str(tmp_path / "elsewhere")}))
    assert afresh.nodes[0].options["tokens"] == "24K" and afresh.nodes[0].options["branch-at"] == "8K,16K"

    # a sweep made before this rule (the branch-at list in the stable run's id) is found in its folders, not
    # trained again, also where a budget was added since: the stable run made with "8K" under the 3-budget file
    made_before = stable.earlier_ids["branch-at"]
    assert made_before != stable.id and made_before != wider.nodes[0].earlier_ids["branch-at"]
    old = root / f"pt-{MODEL}-16K-{made_before[:8]}"
    stable.path.rename(old)
    assert planning.build(parse(yaml.safe_load(file.read_text()))).nodes[0].path == old


def test_a_launch_section_keeps_the_nodes_identity(tmp_path, shards, synth_tiny):
    """`launch: {pretrain: {processes: 2}}` is how a node trains, not what: the node is the same node as without
    it (the global batch is the global batch; the slow test below trains it both ways to the same weights)."""
    nodes = grid()[:1]
    nodes[0]["with"]["export-at"] = "3K"
    plain = planning.build(parse(study(tmp_path, shards, synth_tiny, nodes)))
    launched = planning.build(parse(study(tmp_path, shards, synth_tiny, nodes, launch={"pretrain": {"processes": 2}})))
    assert [n.id for n in launched.nodes] == [n.id for n in plain.nodes]


def test_a_batch_that_does_not_divide_over_a_launchs_processes_is_refused_before_any_work(tmp_path, shards, synth_tiny, cli,
                                                                                           monkeypatch):
    """Each node's global batch, as its stage resolves it (given, or the preset's), must divide over every process
    count its launch may start: locally its processes, under Slurm also each node count a `nodes:` range allows.
    Refused before any work (exit 2, nothing written), not when that node's turn comes."""
    from evolm.errors import BadInput
    from evolm.study import launch, slurm
    from evolm.study.plan import build

    # SFT's global batch of 8 examples (grid()) over 3 processes
    data = study(tmp_path, shards, synth_tiny, grid(), launch={"sft": {"processes": 3}})
    refused = cli("study", "run", write(tmp_path, data), "--no-report")
    assert refused.code == 2 and not (tmp_path / "runs").exists()
    assert "would train as 3 process(es) a node: the global batch of 8 examples does not divide over 3 processes" in refused.err
    # RL's batch is its prompts per step (the tiny preset's 8) x rollouts (2 here): 16 completions, fine over 4 processes
    data = study(tmp_path, shards, synth_tiny, grid(), launch={"sft": {"processes": 4}, "rl": {"processes": 4}})
    assert cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11").code == 0
    # the preset's default where none is given: PPO's one rollout a prompt, 8 completions over 16 processes
    nodes = grid()
    nodes[2]["with"] = {**nodes[2]["with"], "algo": "ppo", "rollouts": 1}
    data = study(tmp_path, shards, synth_tiny, nodes, launch={"rl": {"processes": 16}})
    refused = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert refused.code == 2 and "the global batch of 8 completions does not divide over 16 processes" in refused.err
    # PPO's --ppo-mini-batches divides each process's micro batches, as the stage splits them (up to 32 completions a
    # micro batch): 4 completions a process on 2 are one micro batch, which 2 mini batches cannot share
    nodes[2]["with"] = {**nodes[2]["with"], "ppo-mini-batches": 2}
    refused = cli("study", "plan", write(tmp_path, study(tmp_path, shards, synth_tiny, nodes, launch={"rl": {"processes": 2}})),
                  "--peak-flops", "1e11")
    assert refused.code == 2 and ("would train as 2 process(es) a node: --ppo-mini-batches 2 must divide the 1 micro batches "
                                  "of 4 completions each process runs a step") in refused.err
    nodes[2]["with"]["micro-batch"] = 2
    assert cli("study", "plan", write(tmp_path, study(tmp_path, shards, synth_tiny, nodes, launch={"rl": {"processes": 2}})),
               "--peak-flops", "1e11").code == 0
    # a given --micro-batch must divide each process's share: pre-training's 8 sequences over 2 processes, micro 4 fits
    plan = build(parse(study(tmp_path, shards, synth_tiny, grid())))
    pt = plan.nodes[0]
    launch.check_batch(plan.study, pt, {"global_batch": 8, "micro_batch": 4}, on_slurm=False)
    with pytest.raises(BadInput, match="the micro batch 4 does not divide the 2 sequences each of 4 process"):
        launch.check_batch(parse(study(tmp_path, shards, synth_tiny, grid(), launch={"pretrain": {"processes": 4}})), pt,
                           {"global_batch": 8, "micro_batch": 4}, on_slurm=False)
    # under Slurm, each node count of a range: 2 processes a node fit 8 sequences on 1, 2 or 4 nodes, not on 3
    ranged = parse(study(tmp_path, shards, synth_tiny, grid(), launch={"pretrain": {"processes": 2}},
                         slurm={"pretrain": {"nodes": "1-2"}}))
    launch.check_batch(ranged, pt, {"global_batch": 8}, on_slurm=True)
    ranged = parse(study(tmp_path, shards, synth_tiny, grid(), launch={"pretrain": {"processes": 2}},
                         slurm={"pretrain": {"nodes": "2-3"}}))
    with pytest.raises(BadInput, match=r"2 process\(es\) a node on 3 node\(s\): the global batch of 8 sequences does "
                                       "not divide over 6 processes"):
        launch.check_batch(ranged, pt, {"global_batch": 8}, on_slurm=True)
    launch.check_batch(ranged, pt, {"global_batch": 8}, on_slurm=False)  # run here, the job's nodes do not apply
    # sbatch's MIN-MAX:STEP gives every STEP-th count ("2-4:2": 2 or 4 nodes, never 3)
    assert launch.node_counts("2-4:2") == (2, 4) and launch.node_counts("1-15:4") == (1, 5, 9, 13)
    assert launch.node_counts("3") == (3,) and launch.node_counts("2-4") == (2, 3, 4)
    stepped = parse(study(tmp_path, shards, synth_tiny, grid(), launch={"pretrain": {"processes": 2}},
                          slurm={"pretrain": {"nodes": "2-4:2"}}))
    launch.check_batch(stepped, pt, {"global_batch": 8}, on_slurm=True)
    # one process a node from one node up is the plain command, on the job's first node whatever it gets
    plain = parse(study(tmp_path, shards, synth_tiny, grid(), slurm={"pretrain": {"nodes": "1-3"}}))
    launch.check_batch(plain, pt, {"global_batch": 8}, on_slurm=True)
    # an option out of its range is left to the stage's own check, which names its range
    launch.check_batch(ranged, pt, {"global_batch": 8, "micro_batch": 0}, on_slurm=True)
    # (a trained node is not refused for a launch changed since: test_run_trains_each_node_once_..., which has one)
    # the Slurm executor checks with its nodes, before any job
    monkeypatch.setattr(slurm, "check_slurm", lambda: None)
    calls = []
    monkeypatch.setattr(slurm.subprocess, "run", lambda args, **_: calls.append(args))
    nodes = grid()
    del nodes[0]["with"]["micro-batch"]  # 8 sequences on 2 x 2 processes then fit; on 2 x 3 they do not
    data = study(tmp_path, shards, synth_tiny, nodes, launch={"pretrain": {"processes": 2}}, slurm={"pretrain": {"nodes": "2-3"}})
    refused = cli("study", "run", write(tmp_path, data), "--executor", "slurm")
    assert refused.code == 2 and "on 3 node(s)" in refused.err and calls == [] and not (tmp_path / "runs").exists()


@pytest.mark.many_processes
@pytest.mark.slow  # 18-23 s of both cores (2026-12-06): the default suite keeps the identity check above
def test_launch_starts_a_stages_training_as_many_processes_and_keeps_the_nodes_identity(tmp_path, shards, synth_tiny, cli):
    """`launch: {pretrain: {processes: 2}}`: the pre-training node trains under torchrun as two processes
    (its manifest says so); the node is the same node as without it (the global batch is the global batch),
    and so are its losses and weights: those of the same command in one process, its mid-run export too
    (gathered and written once, by the main process)."""
    import torch
    from safetensors.torch import load_file

    from evolm.checkpoint import load_checkpoint

    nodes = grid()[:1]
    nodes[0]["with"]["export-at"] = "3K"
    plain = planning.build(parse(study(tmp_path, shards, synth_tiny, nodes)))
    data = study(tmp_path, shards, synth_tiny, nodes, launch={"pretrain": {"processes": 2}})
    assert [n.id for n in planning.build(parse(data)).nodes] == [n.id for n in plain.nodes]
    result = cli("study", "run", write(tmp_path, data), "--no-report")
    assert result.code == 0, result.err
    (node,) = plain.nodes
    assert load_checkpoint(node.path).manifest.compute.processes == 2
    log_text = (tmp_path / "runs" / ".study" / "logs" / f"{node.label}.log").read_text()
    assert "torch.distributed.run --standalone --nproc_per_node 2 -m evolm pretrain" in log_text
    # every process returns the checkpoint, only the main one prints it; both freed gloo's threads before exiting
    assert log_text.splitlines().count(str(node.path)) == 1 and "worker threads outlived the process group" not in log_text
    args = Runner(plain, report=False).train_args(node)
    one = tmp_path / "one"
    assert cli(*args[:args.index("--out")], "--out", one).code == 0

    def losses(path):
        rows = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
        return [r[key] for r in rows for key in ("loss", "val_loss/pretrain") if key in r]

    assert len(losses(one)) > 1 and losses(node.path) == pytest.approx(losses(one), abs=1e-4)
    export = load_checkpoint(node.exports()[0]).manifest
    assert (export.schedule.steps_done, export.schedule.completed, export.compute.processes) == (6, False, 2)
    for a, b in ((one, node.path), (Path(f"{one}@3K"), node.exports()[0])):
        a, b = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
        assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_the_launch_command_on_slurm_gives_each_node_its_rank(tmp_path):
    """Under --executor slurm, a stage on 2 nodes: one srun task per node, whose shell expands its own
    $SLURM_NODEID (quoted for bash -c, not expanded by the job's script) and finds the first node; with a
    launch config, accelerate launch with 2 machines x 8 processes."""
    from evolm.study import launch
    from evolm.study.spec import _launch

    config = tmp_path / "fsdp.yaml"
    config.write_text("distributed_type: FSDP\n")
    settings = _launch({"default": {"processes": 8}, "pretrain": {"config": str(config)}}, "test")
    slurm = {"default": {"nodes": 2}, "sft": {"nodes": 1}}
    pt = launch.for_stage(settings, slurm, "pretrain", on_slurm=True)
    assert (pt.processes, pt.nodes, pt.config) == (8, 2, str(config.resolve()))
    command = launch.command(pt, ["pretrain", "--out", "runs/x y"], on_slurm=True, port=29511)
    assert command[:2] == ["bash", "-c"]
    # srun, in the job's shell: one task a node however the job's tasks were asked for, with the job's CPUs a task
    import shlex
    import subprocess

    def run_shown(text, env):  # the arguments the shell would start its program with (shown, not started)
        shown = subprocess.run(["/bin/bash", "-c", 'exec() { printf "%s\\0" "$@"; }; ' + text], capture_output=True,
                               text=True, env={"PATH": "/nonexistent", **env}).stdout
        return shown.split("\0")[:-1]

    step = run_shown(command[2], {"SLURM_NNODES": "2", "SLURM_NTASKS": "16", "SLURM_CPUS_PER_TASK": "12",
                                  "SLURM_JOB_CPUS_PER_NODE": "96(x2)"})
    assert step[:6] == ["srun", "--nodes=2", "--ntasks=2", "--ntasks-per-node=1", "--cpus-per-task=96", "--kill-on-bad-exit=1"]
    # the one task a node gets all the CPUs the job holds there (the least over its nodes), not the job's
    # cpus-per-task, 1/8 of them under ntasks-per-node 8; without the variable, srun's default
    for held, given in (("96,48", "48"), ("32,64(x3)", "32"), ("2", "2")):
        assert run_shown(command[2], {"SLURM_NNODES": "2", "SLURM_JOB_CPUS_PER_NODE": held})[4] == f"--cpus-per-task={given}"
    assert "--cpus-per-task" not in " ".join(run_shown(command[2], {"SLURM_NNODES": "2"}))
    assert step[-3:-1] == ["bash", "-c"]
    script = step[-1]
    assert script.startswith('HEAD=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n1); exec ')
    assert '--num_machines "$SLURM_NNODES" --num_processes "$((SLURM_NNODES * 8))" --machine_rank "$SLURM_NODEID"' in script
    assert '--main_process_ip "$HEAD" --main_process_port 29511 -m evolm pretrain --out \'runs/x y\'' in script
    sft = launch.for_stage(settings, slurm, "sft", on_slurm=True)
    torchrun = launch.command(sft, ["sft"], on_slurm=True, port=29511)[-1]
    assert 'torch.distributed.run --nnodes "$SLURM_NNODES" --nproc_per_node 8 --node_rank "$SLURM_NODEID"' in torchrun
    # the shell expands it per node: what the script starts on node 1 of a 2-node job
    shown = shlex.join(run_shown(script, {"SLURM_NNODES": "2", "SLURM_NODEID": "1", "SLURM_JOB_NODELIST": "n1"}))
    assert "--num_machines 2 --num_processes 16 --machine_rank 1" in shown
    # sbatch's node ranges: the plan counts the least the job may get
    assert launch.for_stage(settings, {"pretrain": {"nodes": "2-4"}}, "pretrain", on_slurm=True).nodes == 2
    # a stage may turn a default config off (torchrun); locally, a config launch takes a free port
    off = launch.for_stage(_launch({"default": {"config": str(config), "processes": 2}, "sft": {"config": None}}, "t"),
                           {}, "sft", on_slurm=False)
    assert off.config is None and "torch.distributed.run" in launch.command(off, ["sft"], on_slurm=False)
    local = launch.command(launch.for_stage(settings, slurm, "pretrain", on_slurm=False), ["pretrain"], on_slurm=False)
    assert local[local.index("--main_process_port") + 1] == "0" and local[local.index("--num_processes") + 1] == "8"
    # a node group's own settings win over its stage's: its 4B runs on 4 nodes with another config
    group = launch.for_stage(settings, slurm, "pretrain", on_slurm=True, group_launch={"processes": 4},
                             group_slurm={"nodes": 4})
    assert (group.processes, group.nodes, group.config) == (4, 4, str(config.resolve()))
    # locally the job's nodes do not apply; one process is the plain command
    assert launch.for_stage(settings, slurm, "pretrain", on_slurm=False).nodes == 1
    assert launch.command(launch.Launch(), ["sft"], on_slurm=True)[1:] == ["-m", "evolm", "sft"]


def test_the_paper_grid_plans_69_nodes_with_each_nodes_launch(cli, monkeypatch):
    """examples/paper-grid.yaml (for GPU clusters) parses, its launch configs exist, and each node's time
    is over its devices: 8 GPUs per job, 32 for the 4B pre-training (its group's 4 nodes)."""
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(repo)  # the study file names configs/accelerate/... from the checkout, as the README runs it
    result = cli("study", "plan", "examples/paper-grid.yaml", "--peak-flops", "989e12", "--json")
    assert result.code == 0, result.err
    nodes = json.loads(result.out)["nodes"]
    assert len(nodes) == 69
    devices = {n["name"]: n["devices"] for n in nodes}
    assert {d for name, d in devices.items() if name.startswith("pt-4b-")} == {32}
    assert {d for name, d in devices.items() if not name.startswith("pt-4b-")} == {8}
    one = next(n for n in nodes if n["name"].startswith("pt-4b-4B-80B"))
    assert one["estimated_s"] == pytest.approx(one["flops"] / (989e12 * 32 * planning.MFU_GUESS["pretrain"]))
    for bad in ("nan", "inf", "0"):  # NaN passed the check and wrote NaN into --json, which strict parsers refuse
        refused = cli("study", "plan", "examples/paper-grid.yaml", "--peak-flops", bad, "--json")
        assert refused.code == 2 and "--peak-flops must be a positive number of FLOP/s" in refused.err, (bad, refused.err)


def test_the_pretraining_study_plans_five_budgets_a_doubling_apart_and_exports_at_two_of_them(cli):
    """examples/pretraining-study.yaml (F1 and F9 past one token per parameter; run end to end under -m slow)
    parses: the 1M preset at 1M to 16M tokens, each budget twice the last, and the 16M run exported at budgets
    that finished runs of their own have, so F9 compares both exports; on the full synthetic data; a second
    pre-training seed on every budget. Its CPT runs, two seeds on every base, reuse a seed-0 run
    trained before the second seed was added (a branch without a seed, not `seed: 0`, which would be a new
    node); two SFT seeds on each."""
    from pathlib import Path

    import yaml

    from evolm.units import parse_count, parse_counts

    file = Path(__file__).resolve().parent.parent / "examples" / "pretraining-study.yaml"
    assert yaml.safe_load(file.read_text())["data"]["synth"]["scale"] == "full"
    result = cli("study", "plan", file, "--peak-flops", "1e11", "--json")
    assert result.code == 0, result.err
    every = json.loads(result.out)["nodes"]
    nodes = [n for n in every if n["stage"] == "pretrain"]
    assert {n["options"]["model"] for n in nodes} == {"1M"}
    runs = sorted((parse_count(n["options"]["tokens"]), n["options"].get("seed", 0)) for n in nodes)
    budgets = [1_000_000 * 2 ** i for i in range(5)]
    # a second pre-training seed on every budget
    assert runs == sorted((b, seed) for b in budgets for seed in (0, 1))
    exports = [n["options"]["export-at"] for n in nodes if "export-at" in n["options"]]
    assert len(exports) == 1 and set(parse_counts(exports[0])) == {4_000_000, 8_000_000} < set(budgets)
    cpts = [n for n in every if n["stage"] == "cpt"]
    base = {n["name"]: (parse_count(n["options"]["tokens"]), n["options"].get("seed", 0)) for n in nodes}
    assert sorted((*base[n["parent"]], n["options"].get("seed", 0)) for n in cpts) == [(*r, s) for r in runs for s in (0, 1)]
    # seed 0 left out, as first trained
    assert not any(n["options"].get("seed", None) == 0 for n in [*nodes, *cpts])
    sfts = [n for n in every if n["stage"] == "sft"]
    assert len(sfts) == 40 and {n["parent"] for n in sfts} == {n["name"] for n in cpts}


def test_time_estimates_against_a_matmul_measured_on_the_cpu_use_the_cpus_measured_efficiencies(tmp_path, shards, synth_tiny, cli,
                                                                                               monkeypatch):
    """Without --peak-flops on a CPU the peak is a measured matmul, and each stage's share of it is the one
    measured there (plan.MFU_CPU); a peak given (or a GPU's) keeps the GPU guesses (plan.MFU_GUESS)."""
    file = write(tmp_path, study(tmp_path, shards, synth_tiny, grid(sft_epochs=(1,))))
    measured = json.loads(cli("study", "plan", file, "--json").out)
    assert measured["peak_on_cpu"] and measured["peak_source"] == "measured matmul (torch.float32) on cpu", measured
    given = json.loads(cli("study", "plan", file, "--peak-flops", repr(measured["peak_flops"]), "--json").out)
    assert given["peak_source"] == "given" and not given["peak_on_cpu"] and {n["stage"] for n in given["nodes"]} == {"pretrain", "sft", "rl"}
    for on_cpu, as_given in zip(measured["nodes"], given["nodes"]):
        stage = on_cpu["stage"]
        assert on_cpu["estimated_s"] == pytest.approx(as_given["estimated_s"] * planning.MFU_GUESS[stage] / planning.MFU_CPU[stage])
    # on a GPU, listed or not, the peak is the GPU's (here as if CUDA were present: no matmul is run)
    import torch

    from evolm.cli import study as study_cli
    from evolm.training import flops

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for found in ((989e12, "published bf16 peak of NVIDIA H100"), (3e14, "measured matmul (torch.bfloat16) on cuda")):
        monkeypatch.setattr(flops, "device_peak", lambda device, dtype, found=found: found)
        assert study_cli._peak(None) == (*found, False)


def test_a_failed_nodes_reason_is_the_last_error_its_own_command_printed(tmp_path):
    """A node's log gathers every run of it: the reason given is read from where the failing command began."""
    from evolm.study.runner import last_error, log_size

    log = tmp_path / "node.log"
    assert last_error(log) == "" and log_size(log) == 0
    log.write_text("$ evolm eval a\nerror: an old refusal.\n")
    since = log_size(log)
    with open(log, "a") as handle:
        handle.write("$ evolm eval a\nTraceback (most recent call last):\nRuntimeError: boom\n")
    assert last_error(log) == "an old refusal." and last_error(log, since) == ""
    with open(log, "a") as handle:
        handle.write("error: this run's refusal.\n")
    assert last_error(log, since) == "this run's refusal."


def test_evaluations_of_one_node_that_share_a_result_pass_when_one_holds_the_other(tmp_path, shards, synth_tiny, cli):
    """check_shared_results compares settings as `evolm eval` parses them: a greedy and a sampled evaluation of
    one task (the sampled result holds the greedy one), or a value spelled otherwise, are no conflict."""
    data = study(tmp_path, shards, synth_tiny, grid(sft_epochs=(1,))[:2])
    data["evals"].update(sampled=dict(data["evals"]["down"], samples=2, temperature=1),
                         spelled=dict(data["evals"]["down"], **{"repetition-penalty": "1.10", "batch-size": 3}))
    data["nodes"][1]["eval"] = ["down", "sampled", "spelled"]
    assert cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11").code == 0
    data["evals"]["spelled"]["seed"] = 5  # the greedy completion does not depend on it either
    assert cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11").code == 0
    data["evals"]["sampled"]["seed"] = 5  # but two sampled results of other seeds differ
    data["evals"]["other"] = dict(data["evals"]["sampled"], seed=6)
    data["nodes"][1]["eval"] = ["sampled", "other"]
    refused = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert refused.code == 2 and "'sampled' and 'other' both write SynthMathBasic1.json with other settings (seed)" in refused.err


def test_a_synthetic_study_is_checked_for_shared_results_before_its_data_exists(tmp_path, shards, synth_tiny, cli):
    """The plan-time shared-result check lists the tasks of the synthetic data the study will make (not made yet)."""
    data = study(tmp_path, shards, synth_tiny, grid(sft_epochs=(1,))[:2])
    data["data"] = {"synth": {"scale": "tiny", "seed": 0}}
    data["evals"]["longer"] = dict(data["evals"]["down"], **{"max-new-tokens": 16})
    data["nodes"][1]["eval"] = ["down", "longer"]
    refused = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert refused.code == 2 and "both write SynthMathBasic1.json with other settings (max-new-tokens)" in refused.err
    assert not (tmp_path / "runs").exists()
