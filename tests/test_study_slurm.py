"""`evolm study run --executor slurm` against a real Slurm: the one-node cluster that
`benchmarks/local-slurm.sh` starts on this machine (`.ci/run` starts it before the tests)."""

import json
import shutil
import subprocess

import pytest

from test_study import grid, study, write

pytestmark = pytest.mark.skipif(
    shutil.which("sbatch") is None or subprocess.run(["sinfo", "-h"], capture_output=True).returncode != 0,
    reason="needs a running Slurm: bash benchmarks/local-slurm.sh")


def _submissions(root):
    return [json.loads(line) for line in (root / ".study" / "submissions.log").read_text().splitlines()]


def _events(root):
    return [json.loads(line) for line in (root / ".study" / "events.jsonl").read_text().splitlines()]


# With two processes (slow-marked, 44 s of both cores on 2026-12-06; `-m slow` runs it) the pre-training
# job trains through srun: the default suite keeps the chain in one process a job, beside the other tests.
@pytest.mark.parametrize("processes", [1, pytest.param(2, marks=[pytest.mark.slow, pytest.mark.many_processes])])
def test_a_chain_runs_as_slurm_jobs_in_dependency_order_and_a_rerun_submits_nothing(processes, tmp_path, shards, synth_tiny, cli):
    """pretrain -> sft -> its evaluation: two node jobs chained with afterok (the evaluation runs in the SFT node's
    job, after its training), then the report job after both. With `processes` 2 the pre-training trains as
    two processes (`launch:`), started through srun in its job as on a multi-node allocation."""
    from evolm.checkpoint import load_checkpoint

    nodes = grid(sft_epochs=(1,))[:2]
    nodes[1]["slurm"] = {"mem": "2G"}  # the group's own sbatch options, over its stage's
    launch = {"launch": {"pretrain": {"processes": 2}}} if processes == 2 else {}
    data = study(tmp_path, shards, synth_tiny, nodes, slurm={"default": {"time": "00:20:00", "nodes": 1}, "sft": {"cpus-per-task": 1}},
                 **launch)
    file = write(tmp_path, data)
    result = cli("study", "run", file, "--executor", "slurm", "--wait", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    root = tmp_path / "runs"
    assert len(summary["submitted"]) == 2 and summary["unfinished"] == [] and len(summary["finished"]) == 2
    jobs = {s["name"].split("-")[0]: s for s in _submissions(root)}
    pt, sft, report = jobs["pt"], jobs["sft"], jobs["report"]
    assert pt["after"] == [] and sft["after"] == [pt["job"]]
    assert "--dependency=afterok:" + pt["job"] in sft["command"] and "--time=00:20:00" in sft["command"]
    assert "--cpus-per-task=1" in sft["command"] and "--cpus-per-task" not in pt["command"]
    assert "--mem=2G" in sft["command"] and "--mem" not in pt["command"]
    assert sorted(report["after"]) == sorted([pt["job"], sft["job"]]) and "afterany:" in report["command"]
    # the report job (one process) takes the default's time but not its node count; every job appends to its log
    assert "--nodes=1" in pt["command"] and "--nodes" not in report["command"] and "--time=00:20:00" in report["command"]
    assert all("--open-mode=append" in job["command"] for job in (pt, sft, report))
    # a training node's job requeues itself before its time limit (tests/test_study.py); the report job does not
    assert "--signal=B:USR1@300" in pt["command"] and "--signal" not in report["command"]
    # each node ran once, in order: the SFT job started only after the pre-training job ended, and evaluated after training
    events = _events(root)
    starts = [e for e in events if e["what"] == "train" and e["event"] == "start"]
    ends = {e["node"]: e["time"] for e in events if e["what"] == "train" and e["event"] == "end"}
    assert len(starts) == 2 and ends[starts[0]["node"]] <= starts[1]["time"]
    evaluated = next(e for e in events if e["what"] == "eval" and e["event"] == "start")
    assert evaluated["node"] == starts[1]["node"] and evaluated["time"] >= ends[starts[1]["node"]]
    path = next(p for p in root.iterdir() if p.name.startswith("sft-") and p.is_dir())
    assert (path / "evolm.json").is_file() and (path / "eval" / "SynthMathBasic1.json").is_file()
    assert (root / "report" / "report.md").is_file()  # the report job ran after the others
    trained = next(p for p in root.iterdir() if p.name.startswith("pt-") and p.is_dir())
    assert load_checkpoint(trained).manifest.compute.processes == processes
    assert ("srun --nodes=" in (root / ".study" / "logs" / f"{trained.name}.log").read_text()) == (processes == 2)
    # a rerun submits nothing: every node is done
    again = cli("study", "run", file, "--executor", "slurm", "--json")
    assert again.code == 0, again.err
    assert json.loads(again.out)["submitted"] == {} and json.loads(again.out)["report_job"] is None
    assert len(_submissions(root)) == 3


@pytest.mark.slow  # about 25 s; the default suite keeps the chain test
def test_a_failed_job_cancels_its_dependents_only(tmp_path, shards, synth_tiny, cli):
    nodes = grid(sft_epochs=(1,))[:2]
    nodes[0]["branches"] = [{}, {"lr": -1}]  # that pre-training exits 2; Slurm cancels the SFT job waiting on it
    file = write(tmp_path, study(tmp_path, shards, synth_tiny, nodes))
    result = cli("study", "run", file, "--executor", "slurm", "--wait", "--no-report", "--json")
    assert result.code == 1
    summary = json.loads(result.out)
    assert len(summary["submitted"]) == 4 and len(summary["finished"]) == 2 and len(summary["unfinished"]) == 2
    bad = [n for n in summary["unfinished"] if n.startswith("pt-")]
    assert len(bad) == 1 and "not finished: " in result.err
    root = tmp_path / "runs"
    trained = [e["node"] for e in _events(root) if e["what"] == "train" and e["event"] == "start"]
    assert len(trained) == 3  # both pre-training runs and the good SFT; the blocked SFT never started
