"""Run what a study plan is missing, in dependency order, up to N nodes at once, on this machine.

Each node is its evolm commands run as child processes (`python -m evolm ...`), with their output in
`<out>/.study/logs/<node>.log`; `<out>/.study/events.jsonl` records every start and end, so what
ran is countable. A finished checkpoint is never trained again (its folder carries the node's
identity); an interrupted one is continued with --resume; evaluations reuse their finished results
(`evolm eval` is idempotent). A node that fails blocks its descendants only; the other branches go
on, and the run ends with a summary and exit code 1. Children die with the runner (Linux
PDEATHSIG), and a launched stage's processes with their launcher (evolm.training.processes.die_with_launcher),
so a killed runner leaves no training process behind to race its rerun.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from evolm.checkpoint import MANIFEST, PARTIAL_SUFFIX
from evolm.console import format_duration, log
from evolm.errors import BadInput
from evolm.fsutil import exclusive_lock, write_json
from evolm.study import launch
from evolm.study.eta import Eta
from evolm.study.plan import DONE, STATE_DIR, Node, Plan, draw_options, estimated_seconds
from evolm.study.spec import _text
from evolm.training.processes import PR_SET_PDEATHSIG, libc_prctl


# libc's prctl, looked up here: the child may not import between fork and exec (the runner has threads)
_PRCTL = libc_prctl()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)


@functools.cache
def switches() -> frozenset[str]:
    """The stage commands' `--x/--no-x` switches, by x. A study's `x: false` is passed as --no-x: left out,
    a switch takes its default, which for --compile is automatic (on for long CUDA runs), not off. A
    false plain flag is left out (its default is off). (`evolm eval` has no such switch.)"""
    from evolm.options import flag_of, option_fields
    from evolm.stages.lm_run import Overrides
    from evolm.stages.rl import RLOptions
    from evolm.stages.rm import RMOptions
    from evolm.stages.sft import SFTOptions

    return frozenset(flag_of(f)[len("--"):] for cls in (Overrides, SFTOptions, RLOptions, RMOptions)
                     for f in option_fields(cls) if f.metadata.get("negatable"))


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # node label -> the command that failed and its log
    blocked: list[str] = field(default_factory=list)
    report: Path | None = None


# an rm node's held-out problems, as a task its policies are evaluated on
HELD_OUT = "RewardModelProblems"

LOCK = "lock"  # in the state folder: held by the one `study run` or `--slurm` submission working on it


def busy_message(root: Path) -> str:
    return (f"Another `evolm study run` is working on {root} (it holds {root / STATE_DIR / LOCK}); "
            "wait for it to finish, or give this one another --out.")


def log_size(log_path: Path) -> int:
    try:
        return log_path.stat().st_size
    except OSError:
        return 0


def last_error(log_path: Path, since: int = 0) -> str:
    """The one-sentence error an evolm command printed last to its log ('error: ...'), without the prefix,
    written past byte `since` (where the command began: a node's log gathers every run of it); empty
    when there is none (a crash's traceback, a signal)."""
    try:
        with open(log_path, "rb") as handle:
            handle.seek(max(since, handle.seek(0, os.SEEK_END) - 8192))
            tail = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return next((line[len("error: "):].strip() for line in reversed(tail) if line.startswith("error: ")), "")


class Runner:
    def __init__(self, plan: Plan, *, jobs: int = 1, peak_flops: float | None = None, peak_on_cpu: bool = False,
                 report: bool = True, on_slurm: bool = False, reevaluate: bool = False):
        self.plan, self.jobs, self.report = plan, max(1, jobs), report
        # `study run --reevaluate`: a node's evaluation replaces results its study file's evaluation has
        # since changed (evolm eval --overwrite), which evolm eval otherwise refuses, failing the node
        self.reevaluate = reevaluate
        self.on_slurm = on_slurm  # a node's job under --executor slurm: its launch may span the job's nodes
        self.root = plan.root
        self.state_dir = self.root / STATE_DIR
        self.peak, self.peak_on_cpu = peak_flops, peak_on_cpu  # a matmul measured on the CPU (plan.MFU_CPU)
        self.started = time.monotonic()
        self.timings: dict[str, tuple[float | None, float]] = {}  # node id -> (training s or None, evaluation s)

    # --- commands -------------------------------------------------------------------------
    def _evolm(self, *args) -> list[str]:
        return [sys.executable, "-m", "evolm", *map(str, args)]

    def _flags(self, options: dict) -> list[str]:
        flags = []
        for key, value in options.items():
            if value is True:
                flags.append(f"--{key}")
            elif value is False:
                if key.replace("_", "-") in switches():
                    flags.append(f"--no-{key}")
            elif value is not None:
                flags += [f"--{key}", self.plan.resolve(value)]
        return flags

    def train_args(self, node: Node) -> list[str]:
        """The evolm arguments that train `node` (after `python -m evolm`)."""
        parent = [str(node.parent.path)] if node.parent is not None else []
        if node.reward is not None:  # an rm node: the samples its policies drew, on the held-out problems' file
            parent += [a for path in self.rm_samples(node) for a in ("--samples", str(path))]
            parent += ["--problems", str(self.samples_dir(node) / f"{HELD_OUT}.jsonl")]
        partial = node.path.parent / (node.path.name + PARTIAL_SUFFIX)
        # an interrupted run continues; a folder the run never got to record (no run.json) starts over
        resume = ["--resume"] if (partial / "run.json").is_file() else ["--overwrite"] if partial.exists() else []
        branch = ["--branch-from", node.after.path] if node.after is not None else []
        return [node.stage, *parent, *map(str, self._flags(node.options)), *map(str, branch), "--out", str(node.path), *resume]

    def train_command(self, node: Node) -> list[str]:
        """`train_args` as the study's launch: section starts them (one process, torchrun, accelerate launch, srun)."""
        how = launch.for_node(self.plan.study, node, on_slurm=self.on_slurm)
        return launch.command(how, self.train_args(node), on_slurm=self.on_slurm)

    def eval_commands_of(self, node: Node, options: dict, *more) -> list[list[str]]:
        extra = [] if "benchmarks" in options or "benchmarks" not in self.plan.data_paths else \
            ["--benchmarks", self.plan.data_paths["benchmarks"]]
        return [self._evolm("eval", target, *self._flags(options), *extra, *more) for target in [node.path, *node.exports()]]

    def eval_commands(self, node: Node) -> list[list[str]]:
        """A node's evaluations; an rm node's: the evaluations it scores, each made again with its reward
        model, which keeps their samples and only scores them (evolm.eval.rescore). --rescore: anything
        else that differs from the node's own evaluation is refused, never generated again."""
        if node.reward is not None:
            return [command for target in node.scores for name, options in target.evals if name in node.reward.score
                    for command in self.eval_commands_of(target, options, "--reward-model", node.path, "--rescore")]
        replace = ("--overwrite",) if self.reevaluate else ()
        return [command for _, options in node.evals for command in self.eval_commands_of(node, options, *replace)]

    # --- an rm node's samples -------------------------------------------------------------
    def samples_dir(self, node: Node) -> Path:
        from evolm.study.held_out import samples_dir

        return samples_dir(self.root, node)

    def draw_commands(self, node: Node) -> list[list[str]]:
        """One `evolm eval` per policy on the held-out problems, with the draw evaluation's decoding."""
        options = draw_options(self.plan.study, node.reward)
        folder = self.samples_dir(node)
        return [self._evolm("eval", policy.path, "--tasks", folder / f"{HELD_OUT}.task.yaml", "--suite", HELD_OUT,
                            *self._flags(options), "--out", folder / policy.label) for policy in node.policies]

    def rm_samples(self, node: Node) -> list[Path]:
        return [self.samples_dir(node) / policy.label / f"{HELD_OUT}.samples.jsonl" for policy in node.policies]

    def draw_samples(self, node: Node, logs: Path) -> str | None:
        """Write the held-out problems' task and let every policy draw on it; the failing command, or None."""
        from evolm.study.held_out import write_held_out

        try:
            write_held_out(self.plan, node, self.samples_dir(node), HELD_OUT)
        except BadInput as exc:
            return str(exc)
        return self._run_evals(node, "draw", self.draw_commands(node), logs, " (drawing the reward model's samples)")

    def _run_evals(self, node: Node, what: str, commands: list[list[str]], logs: Path, doing: str = "") -> str | None:
        """Run `evolm eval` commands in turn, each logged as a `what` event; the first that fails, or None."""
        for command in commands:
            self.event(node.id, what, "start", target=command[4])
            since = log_size(logs)
            code = self._run(command, logs)
            self.event(node.id, what, "end", code=code)
            if code != 0:
                reason = last_error(logs, since)
                # --reevaluate changes only a node's own evaluations (not an rm node's draws or --rescore)
                if "results of other settings" in reason and what == "eval" and not {"--overwrite", "--rescore"} & set(command):
                    reason += " `evolm study run --reevaluate` lets the study's evaluation replace them."
                return f"`evolm eval {command[4]}`{doing} exited {code} (log: {logs})" + (f": {reason}" if reason else "")
        return None

    def data_commands(self) -> list[list[str]]:
        if "synth" not in self.plan.study.data:
            return []
        synth, paths = self.plan.study.data["synth"], self.plan.data_paths
        text = Path(paths["benchmarks"]) / "text"
        return [
            self._evolm("data", "synth", "--out", paths["benchmarks"], "--scale", synth["scale"], "--seed", synth["seed"], "--overwrite"),
            self._evolm("data", "tokenizer", text / "general.jsonl", text / "math.jsonl", "--vocab-size",
                        self.plan.study.data["vocab"], "--out", paths["tokenizer"], "--overwrite"),
            self._evolm("data", "prepare", text / "general.jsonl", "--tokenizer", paths["tokenizer"], "--out", paths["general"], "--overwrite"),
            self._evolm("data", "prepare", text / "math.jsonl", "--tokenizer", paths["tokenizer"], "--out", paths["math"], "--overwrite"),
        ]

    # --- bookkeeping ----------------------------------------------------------------------
    def event(self, node: str, what: str, event: str, **extra) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"node": node, "what": what, "event": event, "time": round(time.time(), 3), **extra})
        with open(self.state_dir / "events.jsonl", "a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def _run(self, command: list[str], log_path: Path) -> int:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "a", encoding="utf-8") as out:
            out.write("$ " + " ".join(command) + "\n")
            out.flush()
            return subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
                                  env={**os.environ, "PYTHONUNBUFFERED": "1"}).returncode

    def run_node(self, node: Node) -> str | None:
        """Train (unless the checkpoint exists) and evaluate one node; the failing command, or None. One
        process at a time runs a node: the study's lock keeps a second `study run` off the folder, but not
        a Slurm job's `study node` beside a local `study run` (which would resume, or with --overwrite
        delete, the job's partial run), nor two jobs of one node."""
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(exclusive_lock(self.state_dir / "nodes" / f"{node.id}.lock",
                                                  f"another process is running node {node.label} (a Slurm job of "
                                                  "this study, or `evolm study node`); it was left to that one"))
            except BadInput as exc:
                return str(exc)
            return self._run_node(node)

    def _run_node(self, node: Node) -> str | None:
        logs = self.state_dir / "logs" / f"{node.label}.log"
        train_s = None
        finish_cleanup(node)
        if not (node.path / MANIFEST).is_file():
            if node.reward is not None:
                error = self.draw_samples(node, logs)
                if error is not None:
                    return error
            command = self.train_command(node)
            resumed = "--resume" in self.train_args(node)
            self.event(node.id, "train", "start", resume=resumed)
            start, since = time.monotonic(), log_size(logs)
            code = self._run(command, logs)
            train_s = None if resumed else time.monotonic() - start  # a resumed run trained only the rest
            self.event(node.id, "train", "end", code=code)
            if code != 0:
                reason = last_error(logs, since)
                return f"`evolm {node.stage}` exited {code} (log: {logs})" + (f": {reason}" if reason else "")
        start = time.monotonic()
        error = self._run_evals(node, "eval", self.eval_commands(node), logs)
        if error is not None:
            return error
        write_json(self.state_dir / f"{node.id}.json", {"node": node.label, "evals": node.eval_key()})
        self.timings[node.id] = (train_s, time.monotonic() - start)
        return None

    def prepare_data(self) -> str | None:
        if self.plan.data_done():
            return None
        log("study: preparing the data (evolm data synth, tokenizer, prepare)")
        logs = self.state_dir / "logs" / "data.log"
        self.event("data", "data", "start")
        trained_on = training_bytes(self.plan.data_paths)  # a newer generator's test sets: made in the runs' folder
        for command in self.data_commands():
            code = self._run(command, logs)
            if code != 0:
                self.event("data", "data", "end", code=code)
                return f"`{' '.join(command[3:6])}` exited {code} (log: {logs})"
        made = training_bytes(self.plan.data_paths)
        if trained_on is not None and made != trained_on:
            self.event("data", "data", "end", code=1)
            changed = ", ".join(k for k in trained_on if made is None or made.get(k) != trained_on[k])
            return (f"The data made again in {self.plan.data_paths['root']} differs from what its runs trained on ({changed}): "
                    "this evolm's generator changed the bytes training reads without a new evolm.synth.TRAINING_VERSION. "
                    "Run the study into another out: folder, and report it.")
        self.event("data", "data", "end", code=0)
        (self.state_dir / f"data-{self.plan.data_id}.done").write_text("done\n")
        return None

    # --- the loop -------------------------------------------------------------------------
    def run(self) -> Outcome:
        self.plan.check_data()
        # Two runners on one folder would train the same nodes into the same folders (the second
        # resuming, or with --overwrite deleting, the first one's partial output).
        with exclusive_lock(self.state_dir / LOCK, busy_message(self.root)):
            return self._run_locked()

    def _run_locked(self) -> Outcome:
        outcome = Outcome()
        failed_data = self.prepare_data()
        nodes = self.plan.nodes
        if failed_data:
            outcome.failed["data"] = failed_data
            outcome.blocked = [n.label for n in nodes]
            return outcome
        from evolm.study.held_out import check_held_out

        check_held_out(self.plan, missing_ok=False)  # rm nodes' rows, now that the study's pool exists
        state = {n.id: n.state(self.root) for n in nodes}
        finished = {i for i, s in state.items() if s == DONE}
        for node in nodes:
            if node.id in finished:  # the others' run_node does it
                finish_cleanup(node)
        outcome.done = [n.label for n in nodes if n.id in finished]
        todo = [n for n in nodes if n.id not in finished]
        blocked: set[str] = set()
        running: dict[Future, Node] = {}
        eta = Eta({n.id: (estimated_seconds(n, self.peak, launch.for_node(self.plan.study, n, on_slurm=False).devices,
                                            on_cpu=self.peak_on_cpu)
                          if self.peak else None) for n in nodes}, self.jobs)
        trained = {n.id for n in todo if (n.path / MANIFEST).is_file()}  # their evaluations are missing
        self._progress(len(finished), 0, len(todo), None)
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            while todo or running:
                for node in list(todo):
                    if len(running) >= self.jobs:
                        break
                    needs = node.needs()  # lineage, a branch's stable run, an rm node's policies and score targets
                    if any(n.id in blocked for n in needs):
                        blocked.add(node.id)
                        outcome.blocked.append(node.label)
                        todo.remove(node)
                    elif all(n.id in finished for n in needs):
                        todo.remove(node)
                        log(f"study: running {node.label} ({node.stage})")
                        running[pool.submit(self._timed, node)] = node
                if not running:
                    continue
                complete, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in complete:
                    node = running.pop(future)
                    error, seconds = future.result()
                    if error is None:
                        finished.add(node.id)
                        outcome.done.append(node.label)
                        eta.record(node, *self.timings.get(node.id, (None, None)))
                        log(f"study: {node.label} done in {seconds:.0f}s")
                    else:
                        blocked.add(node.id)
                        outcome.failed[node.label] = error
                        log(f"study: {node.label} FAILED: {error}")
                left = [n for n in todo] + list(running.values())
                self._progress(len(finished), len(running), len(left), eta.seconds(left, trained))
        if self.report and outcome.done:
            outcome.report = self.write_report()
            if outcome.report is None:  # the study's last step failed: its exit code says so, as a node's would
                outcome.failed["report"] = self.report_failure()
        return outcome

    def _timed(self, node: Node) -> tuple[str | None, float]:
        start = time.monotonic()
        error = self.run_node(node)
        return error, time.monotonic() - start

    def _progress(self, done: int, running: int, left: int, eta: float | None) -> None:
        when = f", ETA {format_duration(eta)}" if eta is not None else ""
        elapsed = time.monotonic() - self.started
        log(f"study: {done} done, {running} running, {left - running} waiting ({format_duration(elapsed)} elapsed{when})")

    def _report_log(self) -> Path:
        return self.state_dir / "logs" / "report.log"

    def report_failure(self) -> str:
        """Why the study failed when its report did (the run's summary, a Slurm report job's error)."""
        return f"evolm report failed (log: {self._report_log()})"

    def write_report(self) -> Path | None:
        """`evolm report` of this file's checkpoints: not of every folder in its out:, which may hold the
        nodes of an earlier version of the file (an option since changed), named here and left out."""
        out = self.root / "report"
        logs = self._report_log()
        strays = self.plan.strays()
        if strays:
            log(f"study: the report leaves out {len(strays)} checkpoint(s) in {self.root} that are no node of this file: "
                + ", ".join(p.name for p in strays[:5]) + (", ..." if len(strays) > 5 else ""))
        code = self._run(self._evolm("report", *self.plan.checkpoints(), "--out", out, "--overwrite"), logs)
        if code != 0:
            log(f"study: evolm report exited {code} (log: {logs})")
            return None
        return out


def finish_cleanup(node: Node) -> None:
    """A node whose run was stopped after it had written the checkpoint (a Slurm time limit while it
    deleted its optimizer states) left OUT.partial and, for a WSD run, its hand-over of branch states:
    done here, as a rerun of its command would do it (evolm.stages.outputs.finish_cleanup); left alone
    while another process holds OUT."""
    from evolm.fsutil import hold_output, release_output
    from evolm.stages import outputs
    from evolm.training import rundir

    if not rundir.cleanup_left(node.path):
        return
    try:
        hold_output(node.path)
    except BadInput:
        return
    try:
        outputs.finish_cleanup(node.path)
    finally:
        release_output(node.path)


def describe_options(options: dict) -> str:
    return " ".join(f"{k}={_text(v)}" for k, v in options.items())


def training_bytes(paths: dict[str, str]) -> dict[str, str] | None:
    """What the runs read from a synthetic study's data folder, by hash (the tokenizer's fingerprint,
    each token shards' and the pool's), or None before it is made. A newer generator that changes only
    test sets makes the data again in the same folder; these must come out as they were."""
    from evolm.fsutil import sha256_file
    from evolm.shards import MANIFEST as SHARDS_MANIFEST
    from evolm.shards import TokenShards
    from evolm.tokenizer import tokenizer_fingerprint

    files = {"tokenizer": Path(paths["tokenizer"]) / "tokenizer.json", "pool": Path(paths["pool"]),
             **{name: Path(paths[name]) / SHARDS_MANIFEST for name in ("general", "math")}}
    if not all(path.is_file() for path in files.values()):
        return None
    shards = {name: TokenShards(paths[name]).fingerprint for name in ("general", "math")}
    return {"tokenizer": tokenizer_fingerprint(paths["tokenizer"]), "pool": sha256_file(files["pool"]), **shards}
