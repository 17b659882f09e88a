"""`evolm study plan|run FILE`: a grid of runs from one YAML file (evolm.study)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

from evolm import jsontext
from evolm.cli.common import ConfigOption, JsonOption, TableJsonOption, echo_result
from evolm.errors import BadInput
from evolm.options import listed

app = typer.Typer(help="A grid of runs as one YAML file: plan it, run what is missing, account for its compute.", no_args_is_help=True,
                  rich_markup_mode=None)
FileArgument = typer.Argument(..., metavar="FILE", help="The study file (YAML; see examples/mini-study.yaml).")
PeakOption = typer.Option(None, "--peak-flops", help="FLOP/s of one device for time estimates (default: the published dense bf16 peak of a known GPU, "
                          "e.g. 989e12 for H100/H200 SXM; else a matmul measured here).")
OutOption = typer.Option(None, "--out", help="Where the study's nodes go, instead of the file's out:.")
ReevaluateOption = typer.Option(False, "--reevaluate", help="Let nodes' evaluations replace results that the study file's "
                                "evaluations have since changed (evolm eval --overwrite); without it such a node fails, "
                                "its results kept.")


def _plan(file: Path, out: Optional[Path], *, on_slurm: bool = False):
    """The study file's plan, with its output folder replaced by --out when given; `on_slurm`: its nodes
    launch as Slurm jobs (their `slurm: nodes:` count in the batch check)."""
    from evolm.study import plan as planning
    from evolm.study.spec import load

    study = load(file)
    if out is not None:
        study.out = Path(out)
    built = planning.build(study)
    check_commands(built, on_slurm=on_slurm)
    from evolm.study.held_out import check_held_out

    check_held_out(built, missing_ok=True)  # rm nodes' rows; a pool the study makes itself is checked once made
    return built


def check_commands(built, *, on_slurm: bool = False) -> None:
    """Every node's training and evaluation command line parses with its command (known options,
    values of their types, required ones given). A typo in a study file would otherwise surface only
    when that node's turn came, after the data and its ancestors were made. (The stage's own checks
    of its options' values and relations, and what needs the model or the data, such as a --seq-len
    past the model's positions, still run when the node starts.) The node's own evaluations, as
    parsed, are then checked for results they would share (`_check_shared_results`), and its training
    batch against its launch's process counts (evolm.study.launch.check_batch)."""
    import typer.main
    from typer.exceptions import TyperException

    from evolm.cli.main import app
    from evolm.study.runner import Runner

    commands = typer.main.get_command(app).commands
    runner = Runner(built, report=False)

    def context(node, args):
        name, rest = args[0], list(map(str, args[1:]))
        try:
            return commands[name].make_context(f"evolm {name}", rest)
        except TyperException as exc:
            raise BadInput(f"Node {node.label}'s `evolm {name}` command does not parse: "
                           f"{exc.format_message().rstrip('.')}.") from None

    def parse_eval(node, args) -> dict:
        """As `context` (its parsed values); then what `evolm eval` refuses before any work for the suite's tasks (an rm node's
        --rescore of an upstream-only evaluation would fail only after its reward model was trained)."""
        from evolm.cli.evaluate import decoding_given
        from evolm.eval.run import refuse_dropped_options

        ctx = context(node, args)
        params = ctx.params
        tasks = _tasks_of(built, params)
        if tasks is not None:
            try:
                refuse_dropped_options(params["suite"], tasks[1], params.get("reward_model"), params.get("vllm_memory"),
                                       params.get("vllm_dtype"), decoding_given(ctx))
            except BadInput as exc:
                raise BadInput(f"Node {node.label}'s `evolm eval` command: {exc}") from None
        return params

    from evolm.checkpoint import MANIFEST
    from evolm.study.launch import check_batch, check_one_process_gpus
    from evolm.training.trl_run import visible_gpus

    gpus = None if on_slurm else visible_gpus()  # what the nodes run here see; under Slurm, the jobs': SlurmExecutor.check_gpus
    for node in built.nodes:
        params = context(node, runner.train_args(node)).params
        if not (node.path / MANIFEST).is_file():  # a trained node trains no more (the runner's own test), whatever its launch says
            check_batch(built.study, node, params, on_slurm=on_slurm)
            check_one_process_gpus(built.study, node, gpus, on_slurm=False,
                                   fix="make one GPU visible to the study (CUDA_VISIBLE_DEVICES=0)")
        if node.reward is not None:
            for command in runner.eval_commands(node) + runner.draw_commands(node):
                parse_eval(node, command[3:])
            continue
        evaluated = []  # (named evaluation, its options as `evolm eval` parses them on the node itself)
        for name, options in node.evals:
            node_and_exports = [parse_eval(node, command[3:]) for command in runner.eval_commands_of(node, options)]
            evaluated.append((name, node_and_exports[0]))
        _check_shared_results(built, node, evaluated)


def _peak(value: Optional[float]) -> tuple[float, str, bool]:
    """(peak FLOP/s, where it came from, whether it is a matmul measured on the CPU: the time estimates'
    efficiencies then are the ones measured there, plan.MFU_CPU)."""
    if value is not None:
        if not math.isfinite(value) or value <= 0:  # NaN passed `<= 0`, and wrote NaN estimates into --json
            raise BadInput(f"--peak-flops must be a positive number of FLOP/s, not {value:g}.")
        return value, "given", False
    import torch

    from evolm.training.flops import device_peak

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return (*device_peak(device, torch.bfloat16 if device.type == "cuda" else torch.float32), device.type == "cpu")


def _seconds(value: Optional[float]) -> str:
    from evolm.console import format_duration

    return "?" if value is None else format_duration(value)


@app.command("plan")
def plan(file: Path = FileArgument, peak_flops: Optional[float] = PeakOption, out: Optional[Path] = OutOption,
         as_json: bool = TableJsonOption, config: Optional[Path] = ConfigOption) -> None:
    """List every node: identity, stage, options, parent, state (done / partial / to run), FLOPs and time."""
    from evolm.study import launch
    from evolm.study import plan as planning
    from evolm.study.runner import describe_options

    built = _plan(file, out)
    peak, source, on_cpu = _peak(peak_flops)
    nodes = []
    for node in built.nodes:
        # the devices of its launch on a cluster (processes per node x the job's nodes): `launch:` and `slurm:`
        devices = launch.for_node(built.study, node, on_slurm=True).devices
        nodes.append({"id": node.id, "name": node.label, "group": node.group, "stage": node.stage, "options": node.options,
                      "parent": node.parent.label if node.parent else None,
                      "branch_of": node.after.label if node.after else None, "state": node.state(built.root),
                      "path": str(node.path), "flops": node.flops, "flops_exact": node.flops_exact,
                      "devices": devices, "estimated_s": planning.estimated_seconds(node, peak, devices, on_cpu=on_cpu),
                      "evals": [n for n, _ in node.evals], "policies": [p.label for p in node.policies],
                      "scores": [t.label for t in node.scores]})
    summary = {"study": built.study.name, "out": str(built.root), "nodes": nodes, "peak_flops": peak, "peak_source": source, "peak_on_cpu": on_cpu,
               "data_done": built.data_done(),
               "by_stage": {s: sum(1 for n in nodes if n["stage"] == s) for s in planning.MFU_GUESS},
               "total_flops": sum(n["flops"] or 0 for n in nodes),
               "not_in_file": [str(p) for p in built.strays()]}
    if as_json:
        echo_result(jsontext.dumps(summary, default=str))
        return
    for n, node in zip(nodes, built.nodes):
        flops = "?" if n["flops"] is None else ("" if n["flops_exact"] else "~") + f"{n['flops']:.2e}"
        time_text = _seconds(n["estimated_s"]) + (f" on {n['devices']}" if n["devices"] > 1 else "")
        echo_result(f"{n['state']:<7} {n['id'][:8]}  {n['stage']:<8} {n['name']:<40} {flops:>10} {time_text:>6}  "
                    f"{describe_options(node.options)}" + (f"  <- {n['parent']}" if n["parent"] else "")
                    + (f"  (budget branch of {n['branch_of']})" if n["branch_of"] else "")
                    + (f"  (samples of {len(n['policies'])} policies; scores {len(n['scores'])} nodes)" if n["policies"] else ""))
    counts = ", ".join(f"{v} {k}" for k, v in summary["by_stage"].items() if v)
    to_run = [n for n in nodes if n["state"] != planning.DONE]
    echo_result(f"{len(nodes)} nodes ({counts}); {len(to_run)} to run or finish; {summary['total_flops']:.3g} training FLOPs "
                f"in all; times at {peak:.3g} FLOP/s per device ({source}) on the devices of each node's launch (`on N`: "
                f"processes x Slurm nodes) and a rough MFU per stage (~: SFT/RL FLOPs are estimates)")
    if summary["not_in_file"]:
        echo_result(f"not in this file: {len(summary['not_in_file'])} checkpoint(s) in {built.root} that the study's "
                    f"report leaves out: {', '.join(Path(p).name for p in summary['not_in_file'])}")


@app.command("ledger")
def ledger(file: Path = FileArgument, out: Optional[Path] = OutOption, as_json: bool = TableJsonOption,
           config: Optional[Path] = ConfigOption) -> None:
    """What the study's training cost: FLOPs, wall time, device-hours per node, stage, lineage and in all."""
    from evolm.study import ledger as accounts

    built = _plan(file, out)
    entries = accounts.build(built)
    summary = {"study": built.study.name, "out": str(built.root), "nodes": [e.row() for e in entries],
               **accounts.totals(entries)}
    if as_json:
        echo_result(jsontext.dumps(summary))
        return

    def flops(value, measured=True) -> str:
        return "?" if value is None else ("" if measured else "~") + f"{value:.3g}"

    echo_result(f"{'node':<40} {'stage':<8} {'FLOPs':>9} {'lineage':>9} {'wall':>6} {'dev-h':>8} {'tok/s':>8} {'MFU':>6} {'eval':>9}")
    for e in entries:
        measured = e.measured
        echo_result(f"{e.node.label:<40} {e.node.stage:<8} {flops(e.flops, measured):>9} {flops(e.lineage_flops, measured):>9} "
                    f"{_seconds(e.wall_time_s) if measured else '-':>6} "
                    f"{f'{e.device_hours:.4f}' if e.device_hours is not None else '-':>8} "
                    f"{f'{e.tokens_per_s:,.0f}' if e.tokens_per_s else '-':>8} {f'{100 * e.mfu:.1f}%' if e.mfu else '-':>6} "
                    f"{f'{e.eval_flops:.3g}' if e.eval_flops else '-':>9}")
    for stage, t in summary["by_stage"].items():
        if t["nodes"]:
            echo_result(f"{stage}: {t['nodes']} nodes, {t['flops']:.3g} FLOPs, {_seconds(t['wall_time_s'])}, "
                        f"{t['device_hours']:.4f} device-hours")
    m = summary["measured"]
    echo_result(f"study: {m['nodes']} of {len(entries)} nodes trained, {m['flops']:.3g} FLOPs, {_seconds(m['wall_time_s'])} "
                f"of training, {m['device_hours']:.4f} device-hours; evaluation {m['eval_flops']:.3g} FLOPs; "
                f"~{summary['planned_remaining_flops']:.3g} training FLOPs planned for the rest (~: the plan's estimates)")


def _check_shared_results(built, node, evaluated: list[tuple[str, dict]]) -> None:
    """Two evaluations of one node that write the same result file (`<Task>.json` for a task both
    evaluate; `upstream.json` for upstream tasks or validation loss) with other settings would each
    be refused over the other's results at run time (a folder holds one result per task), or replace
    each other under --reevaluate: refused here, naming both. Settings are compared as `evolm eval`
    parses them (`evaluated`); pairs where one result holds the other (evolm.eval.contains: samples
    or a reward model's scores added) pass, as they do at run time. An evaluation whose tasks cannot
    be listed yet (task files, or a benchmarks folder other than the synthetic data the study makes,
    not made yet) is left to run time."""
    from evolm.eval.contains import holds

    writers: dict[str, tuple[int, str, dict]] = {}
    for index, (name, params) in enumerate(evaluated):  # by position: one evaluation may be listed twice
        tasks = _tasks_of(built, params)
        if tasks is None:
            continue
        upstream, downstream = tasks
        files = {f"{t}.json": _task_identity(params) for t in downstream}
        if upstream or params.get("val_data"):
            files["upstream.json"] = {"upstream tasks": upstream, **{k: None if params.get(k) is None else str(params[k])
                                                                     for k in ("limit", "val_data", "val_tokens")}}
        for file, wanted in files.items():
            first, other, theirs = writers.setdefault(file, (index, name, wanted))
            if "backend" not in wanted or "backend" not in theirs:  # `auto` may be either, on the machine that runs it
                wanted, theirs = ({k: v for k, v in d.items() if k != "backend"} for d in (wanted, theirs))
            if first == index or holds(wanted, theirs) or holds(theirs, wanted):
                continue
            mine, other_settings = _flat(wanted), _flat(theirs)
            keys = sorted(k.replace("_", "-") for k, v in mine.items() if v != other_settings.get(k))
            which = (f" lists evaluation {name!r} twice, and both" if other == name
                     else f"'s evaluations {other!r} and {name!r} both")
            raise BadInput(f"Node {node.label}{which} write {file} with "
                           f"other settings ({', '.join(keys)}); an evaluation folder holds one result per task: "
                           "give them other tasks, or the same settings.")


def _tasks_of(built, params: dict) -> tuple[list[str], list[str]] | None:
    """(upstream, downstream) tasks of an `evolm eval` command as parsed; None where they cannot be listed
    yet (task files, or a benchmarks folder other than the synthetic data the study makes, not made yet)."""
    from evolm.eval.suites import expand
    from evolm.eval.tasks.registry import registry_for

    folder = Path(params["benchmarks"]) if params.get("benchmarks") else None
    # the synthetic data a study makes itself, not made yet: its tasks are the built-in ones
    to_make = (folder is not None and not folder.is_dir() and "synth" in built.study.data
               and str(folder) == built.data_paths.get("benchmarks"))
    try:
        if folder is not None and not folder.is_dir() and not to_make:
            raise BadInput(f"{folder} is not made yet")
        return expand(params["suite"], folder, registry_for(None if to_make else folder, params.get("tasks") or ()),
                      synth=True if to_make else None)
    except (BadInput, OSError):
        return None


def _task_identity(params: dict) -> dict:
    """A downstream result's identity as far as `evolm eval`'s options make it (evolm.eval.downstream.identity_key):
    the decoding as `evolm eval` builds it, the reward model, the limit, and the backend unless `auto`
    (which one runs depends on the machine)."""
    from evolm.cli.evaluate import decoding_of

    out = {"decoding": decoding_of(params).key(), "reward_model": params.get("reward_model"), "limit": params.get("limit")}
    if params.get("backend") not in (None, "auto"):
        out["backend"] = params["backend"]
    if params.get("vllm_dtype"):  # in the identity where it is not vLLM's default on the machine that runs it
        out["vllm_dtype"] = params["vllm_dtype"]
    return out


def _flat(identity: dict) -> dict:
    return {k2: v2 for k, v in identity.items() for k2, v2 in (v.items() if isinstance(v, dict) else [(k, v)])}


@app.command("run")
def run(
    file: Path = FileArgument,
    jobs: int = typer.Option(1, "--jobs", help="Nodes run at once (1 on a 2-core CPU: torch processes side by side slow each other)."),
    peak_flops: Optional[float] = PeakOption,
    report: bool = typer.Option(True, "--report/--no-report", help="Write <out>/report at the end."),
    executor: str = typer.Option("local", "--executor", help="local (child processes here) | slurm (one sbatch job per node, "
                                 "afterok dependencies, resources from the file's slurm: section)."),
    wait: bool = typer.Option(False, "--wait", help="With --executor slurm: return once every submitted job has left the queue."),
    reevaluate: bool = ReevaluateOption,
    out: Optional[Path] = OutOption,
    as_json: bool = JsonOption,
    config: Optional[Path] = ConfigOption,
) -> None:
    """Run what is missing in dependency order (interrupted nodes resume); a failed node blocks only its descendants."""
    from evolm.console import log
    from evolm.study.runner import Runner

    if jobs < 1:
        raise BadInput(f"--jobs must be at least 1, not {jobs}.")
    if executor not in ("local", "slurm"):
        raise BadInput(f"--executor must be local or slurm, not {executor!r}.")
    if wait and executor != "slurm":
        raise BadInput("--wait is for --executor slurm (the local runner always waits).")
    given = [name for name, set_ in (("--jobs", jobs != 1), ("--peak-flops", peak_flops is not None)) if set_]
    if executor == "slurm" and given:
        # Slurm runs the jobs its dependencies allow, and a node's time is its own job's --time: neither applies
        raise BadInput(f"{listed(given)} {'is' if len(given) == 1 else 'are'} for the local executor; with "
                       "--executor slurm, Slurm schedules the jobs and the file's slurm: section sets each job's "
                       "resources and time.")
    built = _plan(file, out, on_slurm=executor == "slurm")
    if executor == "slurm":
        _run_on_slurm(built, file, report=report, wait=wait, as_json=as_json, reevaluate=reevaluate)
        return
    peak, _, on_cpu = _peak(peak_flops)
    outcome = Runner(built, jobs=jobs, peak_flops=peak, peak_on_cpu=on_cpu, report=report,
                     reevaluate=reevaluate).run()
    log(f"study: {len(outcome.done)} done, {len(outcome.failed)} failed, {len(outcome.blocked)} blocked")
    for label, error in outcome.failed.items():
        log(f"  failed: {label}: {error}")
    for label in outcome.blocked:
        log(f"  blocked: {label}")
    payload = {"study": built.study.name, "out": str(built.root), "done": outcome.done, "failed": outcome.failed,
               "blocked": outcome.blocked, "report": str(outcome.report) if outcome.report else None}
    if as_json:
        echo_result(jsontext.dumps(payload))
    else:
        echo_result(str(outcome.report or built.root))
    if outcome.failed:
        raise typer.Exit(1)


def _run_on_slurm(built, file: Path, *, report: bool, wait: bool, as_json: bool, reevaluate: bool = False) -> None:
    from evolm.console import log
    from evolm.study import plan as planning
    from evolm.study.slurm import SlurmExecutor, check_slurm

    check_slurm()
    executor = SlurmExecutor(built, file, report=report, reevaluate=reevaluate)
    out = executor.submit()
    log(f"study: {len(out.submitted)} jobs submitted, {len(out.waiting)} already queued or running, {len(out.done)} nodes done"
        + (f"; report job {out.report_job}" if out.report_job else ""))
    payload = {"study": built.study.name, "out": str(built.root), "executor": "slurm", "done": out.done,
               "submitted": out.submitted, "waiting": out.waiting, "report_job": out.report_job}
    if wait:
        jobs = [*out.submitted.values(), *out.waiting.values(), *([out.report_job] if out.report_job else [])]
        log(f"study: waiting for {len(jobs)} Slurm jobs")
        executor.wait(jobs)
        states = {n.label: n.state(built.root) for n in built.nodes}
        payload["finished"] = [label for label, state in states.items() if state == planning.DONE]
        payload["unfinished"] = [label for label, state in states.items() if state != planning.DONE]
        log(f"study: {len(payload['finished'])} of {len(states)} nodes done" +
            (f"; not finished: {', '.join(payload['unfinished'])} (logs: {built.root / planning.STATE_DIR / 'logs'})"
             if payload["unfinished"] else ""))
    echo_result(jsontext.dumps(payload) if as_json else str(built.root))
    if wait and payload["unfinished"]:
        raise typer.Exit(1)


@app.command("node")
def node(
    file: Path = FileArgument,
    what: str = typer.Argument(..., metavar="ID", help="A node's id (or a unique prefix, or its folder name), `data`, or `report` (of the nodes that have finished)."),
    reevaluate: bool = ReevaluateOption,
    out: Optional[Path] = OutOption,
    config: Optional[Path] = ConfigOption,
) -> None:
    """Run one node of the study (train or resume, then evaluate), its data preparation or its report: what each Slurm job runs."""
    from evolm.study.slurm import run_one

    code = run_one(_plan(file, out, on_slurm=True), what, reevaluate=reevaluate)
    if code:
        raise typer.Exit(code)
