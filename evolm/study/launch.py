"""How a study node's training command starts many processes: the study file's `launch:` section.

    launch:                                   # per stage (pretrain, cpt, sft, rl, rm), over a default
      default: {processes: 8}                 #   processes per node (one per GPU)
      pretrain: {processes: 8, config: configs/accelerate/fsdp-1B.yaml}   # an accelerate launch config

A node group may set its own `launch:` (and `slurm:`) over its stage's, e.g. FSDP for its 4B runs only.

One node, one process: `python -m evolm STAGE ...` as always. More processes: torch's own launcher
(`torch.distributed.run`, torchrun) or, with a `config`, `accelerate launch --config_file` (FSDP,
DeepSpeed ZeRO). Under `--executor slurm` the job's nodes are the stage's `slurm: nodes:` (default
1), and the launcher runs once per node through `srun`, each node's shell expanding its own
`$SLURM_NODEID`, the first node of the job hosting the rendezvous. Written here, not taken from a
library: submitit and Slurm's own tools start jobs but not torchrun or accelerate inside them, and
this is the one command line the README's multi-node recipe spells out by hand.

Evaluation commands stay one process (`evolm eval` runs on one device). How many processes a run
used is not part of a node's identity: the global batch is the global batch however many share it.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass

KINDS = ("default", "pretrain", "cpt", "sft", "rl", "rm")
KEYS = {"processes", "config"}  # what one stage's (or group's) settings hold; checked by evolm.study.spec


@dataclass(frozen=True)
class Launch:
    processes: int = 1
    """Processes per node (one per GPU)."""
    config: str | None = None
    """An `accelerate launch --config_file` (absolute path), or None for torchrun."""
    node_counts: tuple[int, ...] = (1,)
    """Every node count the job may get, least first (more than one for a `nodes:` range)."""

    @property
    def nodes(self) -> int:
        """The job's nodes: the least it may get."""
        return self.node_counts[0]

    @property
    def many(self) -> bool:
        return self.processes > 1 or self.nodes > 1 or self.config is not None

    @property
    def devices(self) -> int:
        return self.processes * self.nodes


def for_stage(launch: dict[str, dict], slurm: dict[str, dict], stage: str, *, on_slurm: bool,
              group_launch: dict | None = None, group_slurm: dict | None = None) -> Launch:
    """How a node of `stage` starts: the study's launch settings (a default, the stage's, its group's),
    and under Slurm its job's nodes."""
    settings = {**launch.get("default", {}), **launch.get(stage, {}), **(group_launch or {})}
    counts = (1,)
    if on_slurm:
        asked = {**slurm.get("default", {}), **slurm.get(stage, {}), **(group_slurm or {})}.get("nodes", 1)
        counts = node_counts(str(asked))
    # the launch reads the job's own count ($SLURM_NNODES); the plan's estimates count the least it may
    # get, the batch check every count
    return Launch(settings.get("processes", 1), settings.get("config"), counts)


def node_counts(asked: str) -> tuple[int, ...]:
    """The node counts sbatch may give a job for its `--nodes`: N; MIN-MAX, each count between; MIN-MAX:STEP,
    every STEP-th from MIN ("1-15:4" is 1, 5, 9, 13). Another size list after the colon: the least alone
    (spec.SLURM_NODES admits it; the batch check then tests that count only)."""
    span, _, step = asked.partition(":")
    least, _, most = span.partition("-")
    if not most:
        return (int(least),)
    if step and not step.isdigit():
        return (int(least),)
    return tuple(range(int(least), int(most) + 1, int(step or 1) or 1))


def for_node(study, node, *, on_slurm: bool) -> Launch:
    """`for_stage` for one node of a built plan: its stage's settings and its group's."""
    group = study.group(node.group)
    return for_stage(study.launch, study.slurm, node.stage, on_slurm=on_slurm, group_launch=group.launch,
                     group_slurm=group.slurm)


def check_batch(study, node, params: dict, *, on_slurm: bool) -> None:
    """A node's global batch divides over every process count its launch may start (processes a node x
    each node count its `nodes:` range allows), with its --micro-batch, if given, dividing each process's
    share: refused before any work, not when that node's turn comes, hours into a study. `params`: its
    training command as `evolm STAGE` parses it (evolm.cli.study.check_commands); the stage resolves
    the defaults (the preset's batch) as it will when it runs."""
    from evolm.errors import BadInput
    from evolm.training.batching import split_batch

    how = for_node(study, node, on_slurm=on_slurm)
    batch, unit = _step_batch(node.stage, params, node.model)
    micro = params.get("micro_batch")
    if batch is None or batch < 1 or (micro is not None and micro < 1):
        return  # an option out of its range: the stage's own check names it, with its range
    # one process and no config on the least node count is the plain command, on the job's first node only
    for nodes in how.node_counts if how.many else (1,):
        world = how.processes * nodes
        try:
            if node.stage == "rl":  # the stage's own split (its micro-batch cap, PPO's mini batches)
                from evolm.stages.rl import step_split

                step_split(params.get("prompts_per_step"), params.get("rollouts"), params.get("algo", "grpo"), node.model,
                           world, micro, params.get("ppo_mini_batches", 1))
            else:
                split_batch(batch, world, micro, unit=unit)
        except BadInput as exc:
            on = f" on {nodes} node(s)" if on_slurm else ""
            raise BadInput(f"Node {node.label} would train as {how.processes} process(es) a node{on}: "
                           f"{str(exc)[0].lower()}{str(exc)[1:].rstrip('.')}; change its launch or its batch.") from None


def check_one_process_gpus(study, node, gpus: int | None, *, on_slurm: bool, fix: str) -> None:
    """A node that trains through transformers' Trainer (SFT, RM, GRPO, RLOO) as one process where
    `gpus` GPUs are visible (a job's GPUs a node under Slurm, this machine's locally): the stage refuses
    that (its batch would be multiplied over them, evolm.training.trl_run.check_one_gpu_per_process)
    when its turn comes, hours into a study and after its ancestors trained; refused before any work
    instead. `fix`: the other way out, where it runs."""
    from evolm.errors import BadInput
    from evolm.training.trl_run import trains_through_trainer

    how = for_node(study, node, on_slurm=on_slurm)
    if gpus is None or gpus < 2 or how.processes != 1 or how.nodes != 1:
        return
    if trains_through_trainer(node.stage, node.options.get("algo")):
        raise BadInput(f"Node {node.label} would run `evolm {node.stage}` as one process on {gpus} GPUs, which the stage "
                       f"refuses (transformers' Trainer would train on all of them with {gpus} times the global batch); "
                       f"set its launch processes to {gpus}, one a GPU, or {fix}.")


def _step_batch(stage: str, params: dict, model: str | None) -> tuple[int | None, str]:
    """(the global batch, its unit) that `stage` splits over its processes, resolved by the stage's own
    rule; None where it cannot be known before the run (a model no preset names)."""
    if stage in ("pretrain", "cpt"):
        from evolm.presets import PRESETS
        from evolm.stages.lm_run import sequences_per_step

        preset = PRESETS.get(model)
        return (sequences_per_step(params.get("global_batch"), preset) if preset else None), "sequences"
    if stage in ("sft", "rm") and model:
        from evolm.stages.sft import examples_per_step

        return examples_per_step(params.get("global_batch"), model), "examples" if stage == "sft" else "pairs"
    if stage == "rl" and model:
        from evolm.stages.rl import completions_per_step

        return completions_per_step(params.get("prompts_per_step"), params.get("rollouts"), params.get("algo", "grpo"),
                                    model), "completions"
    return None, ""


def command(launch: Launch, evolm_args: list[str], *, on_slurm: bool, port: int | None = None) -> list[str]:
    """The command line that runs `evolm EVOLM_ARGS` as `launch` asks."""
    python = sys.executable
    if not launch.many:
        return [python, "-m", "evolm", *evolm_args]
    if not on_slurm:
        if launch.config is not None:  # port 0: a free one (two nodes launched at once with --jobs 2)
            return [python, "-m", "accelerate.commands.launch", "--config_file", launch.config, "--num_machines", "1",
                    "--num_processes", str(launch.processes), "--main_process_port", "0", "-m", "evolm", *evolm_args]
        return [python, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(launch.processes),
                "-m", "evolm", *evolm_args]
    port = port or slurm_port()
    # One srun task on each of the job's nodes; the command is one shell string so that each node's shell
    # expands its own $SLURM_NODEID (the batch script would expand it once, to 0, for all), the job's node
    # count (a `nodes:` range gets what Slurm gave) and the first node, which hosts the rendezvous.
    each = str(launch.processes)
    if launch.config is not None:
        head = shlex.join([python, "-m", "accelerate.commands.launch", "--config_file", launch.config])
        ranks = (f'--num_machines "$SLURM_NNODES" --num_processes "$((SLURM_NNODES * {each}))" --machine_rank "$SLURM_NODEID" '
                 f'--main_process_ip "$HEAD" --main_process_port {port}')
    else:
        head = shlex.join([python, "-m", "torch.distributed.run"])
        ranks = (f'--nnodes "$SLURM_NNODES" --nproc_per_node {each} --node_rank "$SLURM_NODEID" --master_addr "$HEAD" '
                 f'--master_port {port}')
    script = ('HEAD=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n1); exec '
              + head + " " + ranks + " " + shlex.join(["-m", "evolm", *evolm_args]))
    # srun itself runs in a shell of the job's (its first node), for two of the job's own values: its task
    # count, one a node, given outright (an sbatch `ntasks-per-node: 8` exports SLURM_NTASKS=16, which srun
    # would take for -n 16: eight launchers a node, all of one rank), and the CPUs of that one task: all the
    # job holds on a node (the least over its nodes, SLURM_JOB_CPUS_PER_NODE: "32(x2)" or "32,16"), which
    # its ranks share. srun no longer takes a task's CPUs from sbatch (Slurm 22.05), and the job's
    # cpus-per-task alone would be 1/N of them under `ntasks-per-node: N`. (Not checked on a cluster: a job
    # asking for `threads-per-core: 1` or `--hint=nomultithread` may count these in cores for srun.)
    cpus = ('CPUS=; for c in ${SLURM_JOB_CPUS_PER_NODE//,/ }; do c=${c%%(*}; '
            '{ [ -z "$CPUS" ] || [ "$c" -lt "$CPUS" ]; } && CPUS=$c; done; ')
    step = (cpus + 'exec srun --nodes="$SLURM_NNODES" --ntasks="$SLURM_NNODES" --ntasks-per-node=1 '
            '${CPUS:+--cpus-per-task="$CPUS"} --kill-on-bad-exit=1 bash -c ' + shlex.quote(script))
    return ["bash", "-c", step]


def slurm_port() -> int:
    """A rendezvous port for this job: jobs that share a node do not collide."""
    return 20000 + int(os.environ.get("SLURM_JOB_ID", "0")) % 20000
