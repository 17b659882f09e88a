"""`evolm study run --executor slurm`: each node of the plan as one Slurm job, chained with
`afterok` dependencies, submitted through Slurm's own `sbatch` (and watched with `squeue`).

A job runs `evolm study node FILE ID`, which decides at run time what the node still needs (train,
resume an interrupted run, evaluate), as the local runner does: a preempted and requeued job
(`--requeue`) continues where it stopped. Submitted job ids are kept in `<out>/.study/slurm.json`,
so a rerun submits nothing for a finished node nor for one whose job is still queued or running
(its children wait on that job), and resubmits a node whose job ended without finishing it. A
failed job's dependents are cancelled by Slurm (`--kill-on-invalid-dep=yes`): a failure blocks
only its descendants. The report is a last job that runs after all the others (`afterany`).

Why sbatch and not submitit: submitit pickles a Python callable for each job and unpickles it on
the compute node; a job here is one evolm command line, which sbatch runs as it is, and which a
user can read in the job's script and rerun by hand.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from evolm.checkpoint import MANIFEST
from evolm.console import log
from evolm.errors import BadInput
from evolm.fsutil import exclusive_lock, write_json
from evolm.study.plan import DONE, STATE_DIR, Node, Plan
from evolm.study.runner import LOCK, busy_message
from evolm.training.rundir import partial_dir

RECORD = "slurm.json"
LIVE = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "RESIZING", "SUSPENDED", "REQUEUE_HOLD",
        "REQUEUE_FED", "SIGNALING", "STAGE_OUT"}


@dataclass
class Submitted:
    done: list[str] = field(default_factory=list)  # nodes already finished: nothing submitted
    submitted: dict[str, str] = field(default_factory=dict)  # node label -> new job id
    waiting: dict[str, str] = field(default_factory=dict)  # node label -> a job of an earlier submission, still live
    report_job: str | None = None


def check_slurm() -> None:
    if shutil.which("sbatch") is None or shutil.which("squeue") is None:
        raise BadInput("--executor slurm needs Slurm's sbatch and squeue on PATH (on this machine: "
                       "bash benchmarks/local-slurm.sh starts a one-node Slurm).")


def live_jobs() -> dict[str, str]:
    """Job id -> state of every job of this user's that Slurm still holds (in hidden partitions too: a job
    missing here counts as ended, and its node would be submitted again)."""
    import getpass

    done = subprocess.run(["squeue", "-h", "-a", "-u", getpass.getuser(), "-o", "%i %T"], capture_output=True, text=True,
                          timeout=60)
    if done.returncode != 0:
        raise BadInput(f"squeue failed: {done.stderr.strip() or done.returncode}; is Slurm running?")
    return dict(line.split()[:2] for line in done.stdout.splitlines() if line.strip())


# sbatch options that size a job in nodes and GPUs (the training stages' business)
NODE_AND_GPU_COUNTS = {"nodes", "ntasks-per-node", "gpus", "gpus-per-node"}


def gpus_per_node(options: dict) -> int | None:
    """The GPUs a job's sbatch options ask for on each node (`gpus-per-node: 8` or `a100:8`, `gpus: 16`
    over `nodes: 2`); None where they name none, or leave the count to Slurm (a node range)."""
    def count(text: str) -> int | None:
        last = str(text).split(":")[-1]
        return int(last) if last.isdigit() else None

    if options.get("gpus-per-node") is not None:
        return count(options["gpus-per-node"])
    if options.get("gpus") is not None:
        total, nodes = count(options["gpus"]), str(options.get("nodes", 1))
        return total // int(nodes) if total is not None and nodes.isdigit() and total % int(nodes) == 0 else None
    return None


# A job that reaches its time limit ends TIMEOUT: not requeued, and its dependents cancelled with it. Slurm
# signals a training node's job script this long before (sbatch --signal=B:USR1@...), which then requeues
# the job itself: the same job id, so its dependents keep waiting, and the node resumes from its last
# saved state. A node longer than the partition's limit trains through as many requeues as it takes, as
# long as each job gets further: one whose training saved no newer state (a save-every longer than a time
# limit of training, a limit under this margin) or that only evaluated is not requeued, or it would start
# over from the same point for ever; it ends TIMEOUT, as before. The data and report jobs are not signalled.
REQUEUE_BEFORE_LIMIT_S = 300
PAST_ANY_STEP = 999_999_999_999  # the progress of a training whose checkpoint is written


def requeued_at_time_limit(command: list[str], out: Path) -> str:
    """A training node's job script (sh): `command` in the background (a shell runs its traps only between
    commands), and on USR1 a requeue of the job where its training got further since the job started: a
    newer saved state in OUT.partial, or OUT written (its evaluations then run in the requeued job)."""
    checkpoint = shlex.quote(str(Path(out) / MANIFEST))
    saved = shlex.join([sys.executable, "-c", "import sys; from evolm.training.rundir import saved_step; "
                        "print(saved_step(sys.argv[1]))", str(partial_dir(out))])
    # how far the training is: its saved step, or past any step once the checkpoint is written
    progress = f"progress() {{ if [ -f {checkpoint} ]; then echo {PAST_ANY_STEP}; else {saved} 2>/dev/null || echo 0; fi; }}; "
    requeue = (f'woke=1; if [ "$(progress)" -gt "${{at_start:-{PAST_ANY_STEP}}}" ]; then scontrol requeue "$SLURM_JOB_ID"; else '
               'echo "evolm: not requeued at the time limit: the training got no further in this job (no newer saved state); '
               'lower save-every" >&2; fi')
    # `wait` returns early (above 128) when the trap ran; the child's own status ends the script, also
    # where it exited while the trap ran (then the shell reaped it, and kill -0 could not tell)
    return (progress + "trap " + shlex.quote(requeue) + " USR1; at_start=$(progress); " + shlex.join(command)
            + ' & child=$!; while :; do woke=; wait $child; status=$?; [ -n "$woke" ] && [ $status -gt 128 ] || exit $status; done')


class SlurmExecutor:
    def __init__(self, plan: Plan, study_file: Path, *, report: bool = True, reevaluate: bool = False):
        self.plan, self.report, self.reevaluate = plan, report, reevaluate
        self.file = Path(study_file).resolve()
        self.root = plan.root.resolve()
        self.state_dir = self.root / STATE_DIR
        self.logs = self.state_dir / "logs"

    # --- records --------------------------------------------------------------------------
    def _record(self) -> dict:
        try:
            return json.loads((self.state_dir / RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    # --- jobs -----------------------------------------------------------------------------
    def _options(self, kind: str, group: dict | None = None) -> dict:
        """A job's sbatch options: the study's default, then the job kind's, then a node group's own. The
        data and report jobs, one process on a CPU each, take no node or GPU counts from the default (a
        `default: {nodes: 4, gpus-per-node: 8}` would hold four GPU nodes for a tokenizer); their own
        sections may ask."""
        default = self.plan.study.slurm.get("default", {})
        if kind in ("data", "report"):
            default = {k: v for k, v in default.items() if k not in NODE_AND_GPU_COUNTS}
        return {**default, **self.plan.study.slurm.get(kind, {}), **(group or {})}

    def _resources(self, kind: str, group: dict | None = None) -> list[str]:
        """sbatch flags (`_options`)."""
        flags = []
        for key, value in self._options(kind, group).items():
            if value is True:
                flags.append(f"--{key}")
            elif value is not False:
                flags.append(f"--{key}={value}")
        return flags

    def sbatch(self, name: str, kind: str, command: list[str], after: list[str], condition: str = "afterok",
               group: dict | None = None, out: Path | None = None) -> str:
        """Submit one job; its id (`group`: the node group's own sbatch options; `out`: a training node's
        checkpoint folder, whose job requeues itself at its time limit, `requeued_at_time_limit`)."""
        self.logs.mkdir(parents=True, exist_ok=True)  # Slurm does not create the folder of --output
        args = ["sbatch", "--parsable", f"--job-name=evolm-{name}", f"--chdir={Path.cwd()}",
                # a requeued job (preempted) writes on after its earlier output instead of over it
                f"--output={self.logs / (name + '.slurm.out')}", "--open-mode=append", "--requeue", "--kill-on-invalid-dep=yes",
                *([f"--signal=B:USR1@{REQUEUE_BEFORE_LIMIT_S}"] if out is not None else []), *self._resources(kind, group)]
        if after:
            args.append(f"--dependency={condition}:{':'.join(after)}")
        args.append("--wrap=" + (requeued_at_time_limit(command, out) if out is not None else shlex.join(command)))
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:  # it may have queued the job all the same: a blind rerun would submit it twice
            raise BadInput(f"sbatch did not answer within 120 s for the {name} job, which may have been queued all the "
                           "same; check squeue for it before running the study again.") from None
        if done.returncode != 0:
            raise BadInput(f"sbatch refused the {name} job: {done.stderr.strip() or done.returncode}.")
        job = done.stdout.strip().split(";")[0]
        with open(self.state_dir / "submissions.log", "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"name": name, "job": job, "after": after, "time": round(time.time(), 3),
                                     "command": shlex.join(args)}) + "\n")
        return job

    def check_gpus(self) -> None:
        """Each training job's processes a node against the GPUs it asks for a node: more processes than
        GPUs is refused before any job (ranks past the last GPU fail at their first CUDA call, after the
        job has waited in the queue), and so is one process of a stage that refuses several GPUs
        (`launch.check_one_process_gpus`); fewer leaves GPUs idle, which is said once."""
        from evolm.study import launch

        idle = set()
        for node in self.plan.nodes:
            if node.state(self.plan.root) == DONE:  # submitted no more (trained elsewhere, say)
                continue
            group = self.plan.study.group(node.group)
            gpus = gpus_per_node(self._options(node.stage, group.slurm))
            launch.check_one_process_gpus(self.plan.study, node, gpus, on_slurm=True,
                                          fix="ask for one GPU a node for its jobs (gpus-per-node: 1 in its slurm options)")
            processes = launch.for_node(self.plan.study, node, on_slurm=True).processes
            if gpus is None or gpus == processes:
                continue
            if processes > gpus:
                raise BadInput(f"Node group {node.group} starts {processes} processes a node on {gpus} GPU(s) a node "
                               f"(its slurm options); set its launch processes to {gpus}, one a GPU.")
            idle.add((node.group, processes, gpus))
        for name, processes, gpus in sorted(idle):
            log(f"study: node group {name} starts {processes} process(es) a node on {gpus} GPUs a node; "
                f"{gpus - processes} stay idle (launch processes: {gpus} uses them all).")

    def _node_command(self, what: str) -> list[str]:
        return [sys.executable, "-m", "evolm", "study", "node", str(self.file), what, "--out", str(self.root),
                *(["--reevaluate"] if self.reevaluate and what != "data" else [])]

    def submit(self) -> Submitted:
        self.plan.check_data()  # as the local runner: refused before any job, not when the first one fails
        self.check_gpus()
        live_jobs()  # Slurm unreachable: refused before the folder is made
        with exclusive_lock(self.state_dir / LOCK, busy_message(self.plan.root)):  # one submitter: no job twice
            return self._submit()

    def _submit(self) -> Submitted:
        record, live = self._record(), live_jobs()  # the queue as it is once the lock is held
        jobs: dict[str, str] = {}  # node id (or "data") -> the job its children wait on
        out = Submitted()

        def still_live(key: str) -> str | None:
            job = record.get(key, {}).get("job")
            return job if job is not None and live.get(job) in LIVE else None

        if not self.plan.data_done():
            job = still_live("data") or self.sbatch("data", "data", self._node_command("data"), [])
            jobs["data"] = record.setdefault("data", {})["job"] = job
            write_json(self.state_dir / RECORD, record)
        for node in self.plan.nodes:
            if node.state(self.plan.root) == DONE:
                out.done.append(node.label)
                continue
            job = still_live(node.id)
            if job is not None:
                out.waiting[node.label] = job
            else:
                needs = [n.id for n in node.needs()] + ["data"]
                after = [jobs[k] for k in needs if k in jobs]
                job = self.sbatch(node.label, node.stage, self._node_command(node.id), after,
                                  group=self.plan.study.group(node.group).slurm, out=node.path)
                out.submitted[node.label] = job
                log(f"study: submitted {node.label} as job {job}" + (f" (after {', '.join(after)})" if after else ""))
            jobs[node.id] = job
            record[node.id] = {"job": job, "label": node.label}
            # after every submission: if a later sbatch fails, a rerun finds this job live, not submits it again
            write_json(self.state_dir / RECORD, record)
        if self.report and (out.submitted or out.waiting):
            # `evolm study node FILE report`: the nodes' checkpoints as they are once the others have ended
            out.report_job = self.sbatch("report", "report", self._node_command("report"), sorted(set(jobs.values())),
                                         condition="afterany")
        return out

    def wait(self, jobs: list[str], poll_s: float = 2.0) -> None:
        """Until Slurm holds none of these jobs (finished, failed or cancelled)."""
        pending = set(jobs)
        while pending:
            pending &= {job for job, state in live_jobs().items() if state in LIVE}
            if pending:
                time.sleep(poll_s)


def run_one(plan: Plan, what: str, *, reevaluate: bool = False) -> int:
    """What a job runs: the data preparation ("data"), one node (by id, or a unique id prefix) or the
    report of the nodes that finished ("report")."""
    from evolm.study.runner import Runner

    runner = Runner(plan, report=False, on_slurm=True, reevaluate=reevaluate)
    if what == "data":
        plan.check_data()
        error = runner.prepare_data()
    elif what == "report":
        if not plan.checkpoints():
            raise BadInput("No node of this study has finished; there is nothing to report.")
        error = None if runner.write_report() else runner.report_failure()
    else:
        node = _find(plan, what)
        for need in node.needs():
            if need.state(plan.root) != DONE:
                raise BadInput(f"Node {node.label} needs {need.label}, which is not finished; run it first.")
        if not plan.data_done():
            raise BadInput("The study's data is not prepared yet; run `evolm study node FILE data` first.")
        error = runner.run_node(node)
    if error:
        log(f"study: {what} FAILED: {error}")
        return 1
    return 0


def _find(plan: Plan, what: str) -> Node:
    matches = [n for n in plan.nodes if n.id.startswith(what) or n.label == what]
    if len(matches) != 1:
        raise BadInput(f"No single node of this study is {what!r} ({len(matches)} match); `evolm study plan FILE` lists them.")
    return matches[0]
