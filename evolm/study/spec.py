"""The study file: a YAML grid of evolm runs, read and checked before anything runs.

    study: mini-study                 # a name (also the default output folder, runs/<name>)
    out: runs/mini-study              # where every node's checkpoint goes
    data:                             # the data every node reads, as @general @math @pool @benchmarks
      synth: {scale: small, seed: 0}  #   evolm data synth + tokenizer + shards (or prepared: {general:
      vocab: 4096                     #   DIR, math: DIR, pool: FILE, benchmarks: DIR})
    evals:                            # named evaluations: `evolm eval` options
      upstream: {suite: upstream, limit: 1000}
    nodes:                            # groups of nodes, each one evolm training command per grid point
      - name: pt
        stage: pretrain
        grid: {model: 1M, tokens: [250K, 1M]}       # axes: a product of the lists
        with: {data: "@general", global-batch: 4}   # the same for every point
        eval: [upstream]
      - name: cpt
        stage: cpt
        from: {pt: {tokens: 1M}}                    # parents: a group, a group with a selector (matched
                                                    # on the node's and its ancestors' options), or a list
        branches:                                   # explicit points (each combined with the grid)
          - {domain: "@math:500K"}
          - {domain: "@math:400K", replay: "@general:100K"}
        eval: [upstream, {downstream: {samples: 4}}]  # a named evaluation, or one with overrides
      - name: rm                      # a reward model (evolm rm), for finding 8:
        stage: rm
        from: {sft: {seed: 0}}                      #   the policy whose weights it starts from
        policies: [{sft: {}}]                       #   nodes that draw its training samples (selectors)
        draw: sampled                               #   how they draw them: a named evaluation (K >= 2)
        problems: "@pool[4000:5500]"                #   on these rows, which no node may train on
        score: [sampled]                            #   then every node evaluated with these is scored
        with: {epochs: 2}
    slurm:                            # with `evolm study run --executor slurm`: sbatch resources
      default: {time: "04:00:00"}     #   for every job, then per stage (pretrain, cpt, sft, rl,
      pretrain: {gpus-per-node: 8, nodes: 2}   #   data, report); keys are sbatch's long options
    launch:                           # processes per node for a stage's training (evolm.study.launch):
      pretrain: {processes: 8, config: configs/accelerate/fsdp-1B.yaml}   # torchrun, or accelerate launch
A node group may also set `launch:` and `slurm:` of its own, over its stage's (its 4B runs on more nodes).

Keys of grid, branches and with are the stage command's options without their dashes
(`global-batch: 4` is `--global-batch 4`; `true` is a bare flag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from evolm.errors import BadInput
from evolm.fsutil import expand_home, read_yaml
from evolm.study import launch

STAGES = ("pretrain", "cpt", "sft", "rl", "rm")
TRAINING_STAGES = STAGES[:4]  # what a node may start from (an rm node's checkpoint is a reward model)
DATA_REFS = ("general", "math", "pool", "benchmarks")
SLURM_NODES = re.compile(r"[1-9]\d*(-[1-9]\d*)?(:[0-9,-]+)?")  # sbatch's N, MIN-MAX, or either :SIZES
REF = re.compile(r"@(" + "|".join(DATA_REFS) + r")\b")
# an @word where a data reference can stand (a value's start, or after a separator): not an export's
# folder (`runs/pt@500K`), whose @ follows its name
ANY_REF = re.compile(r"(?<![\w./@-])@([A-Za-z][\w-]*)")
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# Options the runner sets itself: a node's output, its parent, and what restarts or replaces runs.
RESERVED = {"out", "resume", "overwrite", "json", "config"}
# sbatch options a study file may set per stage (the executor sets job name, output, dependencies).
SLURM_KEYS = {"partition", "account", "qos", "time", "nodes", "ntasks-per-node", "gpus", "gpus-per-node", "cpus-per-task",
              "mem", "mem-per-cpu", "constraint", "exclusive"}
SLURM_JOBS = ("default", *STAGES, "data", "report")
# `problems:` of an rm node: a data reference or a file, and a half-open range of its rows
ROWS = re.compile(r"^(?P<file>.+)\[(?P<start>\d+):(?P<end>\d+)\]$")
RM_KEYS = {"policies", "draw", "problems", "score"}
# options of an rm node's draw evaluation that its policies' sampling does not take: the task is the
# held-out rows (all of them), and neither a validation loss nor a reward model is wanted there
NOT_DRAWN = {"suite", "limit", "tasks", "benchmarks", "val-data", "reward-model"}


@dataclass
class Group:
    name: str
    stage: str
    parents: list[tuple[str, dict]]  # (group, selector: option -> value as text)
    points: list[dict]  # one options dict per node of each parent
    evals: list[tuple[str, dict]]  # (named evaluation, overrides)
    axes: list[str] = field(default_factory=list)  # the grid's and branches' keys: what names a node's folder
    launch: dict = field(default_factory=dict)  # this group's launch settings, over its stage's (evolm.study.launch)
    slurm: dict = field(default_factory=dict)  # this group's sbatch options, over its stage's
    reward: "RewardSettings | None" = None  # an rm group's samples and what it scores


@dataclass
class RewardSettings:
    """What an rm node trains on and what it scores (finding 8)."""

    policies: list[tuple[str, dict]]  # (group, selector): the nodes that draw the training samples
    draw: tuple[str, dict]  # (named evaluation, overrides): how they draw them
    problems: tuple[str, int, int]  # (file or data reference, first row, end row): problems no node trains on
    score: list[str]  # named evaluations: every node evaluated with one gets its samples scored


@dataclass
class Study:
    name: str
    out: Path
    data: dict
    evals: dict[str, dict]
    groups: list[Group] = field(default_factory=list)
    source: Path | None = None
    slurm: dict[str, dict] = field(default_factory=dict)  # job kind -> sbatch options
    launch: dict[str, dict] = field(default_factory=dict)  # stage (or default) -> processes per node, launch config

    def group(self, name: str) -> Group:
        return next(g for g in self.groups if g.name == name)


def load(path: Path) -> Study:
    return parse(expand_home(read_yaml(path, "Study file")), Path(path))


def _mapping(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInput(f"{where} must be a mapping, not {type(value).__name__}.")
    return value


def _only(value: dict, keys: set[str], where: str) -> None:
    unknown = sorted(set(value) - keys)
    if unknown:
        raise BadInput(f"{where} has unknown key {unknown[0]!r} (known: {', '.join(sorted(keys))}).")


def _text(value) -> str:
    """An option value as the command line gets it (YAML reads 4 as int, true as bool)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _options(value, where: str) -> dict:
    options = _mapping(value, where)
    for key, setting in options.items():
        if str(key) in RESERVED:
            raise BadInput(f"{where} sets {key!r}, which the study runner sets itself.")
        if isinstance(setting, (dict, list)):
            raise BadInput(f"{where}: option {key!r} must be one value, not a {type(setting).__name__}.")
        unknown = [ref for ref in ANY_REF.findall(str(setting)) if ref not in DATA_REFS]
        if unknown:  # else the node's command fails when its turn comes, after its ancestors trained
            raise BadInput(f"{where}: option {key!r} names @{unknown[0]}, which is no data reference; the study's "
                           f"data are {', '.join('@' + r for r in DATA_REFS)}.")
    return {str(k): setting for k, setting in options.items()}


def parse(raw, path: Path | None = None) -> Study:
    where = f"Study file {path}" if path else "The study"
    top = _mapping(raw, where)
    _only(top, {"study", "out", "data", "evals", "nodes", "slurm", "launch"}, where)
    name = top.get("study")
    if not isinstance(name, str) or not NAME.match(name):
        raise BadInput(f"{where} needs `study: NAME` (lowercase letters, digits, - and _).")
    data = _data(_mapping(top.get("data"), f"{where}: data"), where)
    evals = {}
    for eval_name, options in _mapping(top.get("evals"), f"{where}: evals").items():
        evals[str(eval_name)] = _options(options, f"{where}: evals.{eval_name}")
        if "suite" not in evals[str(eval_name)]:
            raise BadInput(f"{where}: evals.{eval_name} needs a suite (e.g. suite: upstream).")
    nodes = top.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise BadInput(f"{where} needs `nodes:`, a list of node groups.")
    out = top.get("out")
    if out is not None and not (isinstance(out, str) and out.strip()):
        raise BadInput(f"{where}: out: must be a folder's path, not {out!r}.")
    study = Study(name, Path(out or f"runs/{name}"), data, evals, source=path,
                  slurm=_slurm(_mapping(top.get("slurm"), f"{where}: slurm"), where),
                  launch=_launch(_mapping(top.get("launch"), f"{where}: launch"), where))
    for i, entry in enumerate(nodes):
        study.groups.append(_group(_mapping(entry, f"{where}: nodes[{i}]"), study, f"{where}: nodes[{i}]"))
    return study


def _data(data: dict, where: str) -> dict:
    _only(data, {"synth", "prepared", "vocab"}, f"{where}: data")
    if ("synth" in data) == ("prepared" in data):
        raise BadInput(f"{where}: data needs exactly one of synth: {{scale, seed}} or prepared: {{general, math, pool, benchmarks}}.")
    if "synth" in data:
        synth = _mapping(data["synth"], f"{where}: data.synth")
        _only(synth, {"scale", "seed"}, f"{where}: data.synth")
        from evolm.stages.data.synth import SCALES
        from evolm.tokenizer import MIN_VOCAB

        scale, vocab = str(synth.get("scale", "small")), _integer(data.get("vocab", 4096), f"{where}: data.vocab")
        if scale not in SCALES:  # checked here, not when `evolm data synth` fails after the study has begun
            raise BadInput(f"{where}: data.synth.scale must be one of {', '.join(SCALES)}, not {scale!r}.")
        if vocab < MIN_VOCAB:
            raise BadInput(f"{where}: data.vocab {vocab} is too small; byte-level BPE needs at least {MIN_VOCAB}.")
        return {"synth": {"scale": scale, "seed": _integer(synth.get("seed", 0), f"{where}: data.synth.seed")}, "vocab": vocab}
    if "vocab" in data:  # it sized the tokenizer synth: data trains; prepared shards were tokenized already
        raise BadInput(f"{where}: data.vocab applies to synth: data (the tokenizer the study trains); prepared shards "
                       "carry their own tokenizer.")
    prepared = _mapping(data["prepared"], f"{where}: data.prepared")
    if "tokenizer" in prepared:  # accepted and never used before: pre-training reads the shards' own
        raise BadInput(f"{where}: data.prepared.tokenizer is not used: the runs read the tokenizer each shard folder "
                       "names (`evolm data prepare --tokenizer`).")
    _only(prepared, set(DATA_REFS), f"{where}: data.prepared")
    missing = sorted(set(DATA_REFS) - set(prepared))
    if missing:
        raise BadInput(f"{where}: data.prepared needs {', '.join(missing)}.")
    # resolved for the commands; as written for node identities (evolm.study.plan), which then survive
    # a move of the project or another mount point of it
    return {"prepared": {k: str(Path(str(v)).resolve()) for k, v in prepared.items()},
            "written": {k: str(v) for k, v in prepared.items()}}


def _slurm(slurm: dict, where: str) -> dict[str, dict]:
    """The study's sbatch options per job kind."""
    _only(slurm, set(SLURM_JOBS), f"{where}: slurm")
    return {kind: _sbatch_options(options, f"{where}: slurm.{kind}") for kind, options in slurm.items()}


def _launch(section: dict, where: str) -> dict[str, dict]:
    """The study's `launch:` section (evolm.study.launch), checked: kind -> {processes, config}."""
    _only(section, set(launch.KINDS), f"{where}: launch")
    return {kind: _launch_settings(settings, f"{where}: launch.{kind}") for kind, settings in section.items()}


def _launch_settings(settings, where: str) -> dict:
    """One stage's (or one node group's) launch settings, checked: {processes, config}."""
    if not isinstance(settings, dict):  # not _mapping: an empty entry (`sft:`) is a mistake here
        raise BadInput(f"{where} must be a mapping, not {type(settings).__name__}.")
    _only(settings, launch.KEYS, where)
    checked = {}
    if "processes" in settings:
        processes = settings["processes"]
        if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
            raise BadInput(f"{where}.processes must be a whole number of at least 1, not {processes!r}.")
        checked["processes"] = processes
    if "config" in settings and settings["config"] is None:
        checked["config"] = None  # none: torchrun, though the default names a config
    elif settings.get("config") is not None:
        config = Path(str(settings["config"])).resolve()
        if not config.is_file():
            raise BadInput(f"{where}.config {settings['config']} is not a file (an accelerate launch "
                           "config, e.g. configs/accelerate/fsdp-1B.yaml).")
        checked["config"] = str(config)
    return checked


def _sbatch_options(options, where: str) -> dict:
    """One job kind's (or one node group's) sbatch options, checked."""
    options = _mapping(options, where)
    _only(options, SLURM_KEYS, where)
    for key, value in options.items():
        if isinstance(value, (dict, list)) or value is None:
            raise BadInput(f"{where}.{key} must be one value, not {value!r}.")
        # the launch reads the node count (evolm.study.launch): sbatch's N or MIN-MAX, either with :SIZES
        if key == "nodes" and (isinstance(value, bool) or not SLURM_NODES.fullmatch(str(value))
                               or not launch.node_counts(str(value))):  # a range backwards ("4-2") holds none
            raise BadInput(f"{where}.nodes must be a positive whole number or a range (2-4), not {value!r}.")
    return {str(k): v for k, v in options.items()}


def _integer(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{where} must be a whole number, not {value!r}.")
    return value


def _group(entry: dict, study: Study, where: str) -> Group:
    _only(entry, {"name", "stage", "from", "grid", "branches", "with", "eval", "launch", "slurm"} | RM_KEYS, where)
    name, stage = entry.get("name"), entry.get("stage")
    if not isinstance(name, str) or not NAME.match(name):
        raise BadInput(f"{where} needs `name:` (lowercase letters, digits, - and _).")
    if any(g.name == name for g in study.groups):
        raise BadInput(f"{where}: the name {name!r} is used twice.")
    where = f"{where} ({name})"
    if stage not in STAGES:
        raise BadInput(f"{where}: stage must be one of {', '.join(STAGES)}, not {stage!r}.")
    parents = _parents(entry.get("from"), study, stage, where)
    extra = sorted(RM_KEYS & set(entry))
    if stage != "rm" and extra:
        raise BadInput(f"{where}: {extra[0]}: is for an rm node (a reward model's samples and scores), not a {stage} node.")
    reward = _reward(entry, study, where) if stage == "rm" else None
    grid = _mapping(entry.get("grid"), f"{where}: grid")
    axes = {str(k): (v if isinstance(v, list) else [v]) for k, v in grid.items()}
    for key, values in axes.items():
        if not values:
            raise BadInput(f"{where}: grid axis {key!r} is an empty list.")
    for values in zip(*[v + v[-1:] * (max(map(len, axes.values())) - len(v)) for v in axes.values()]):
        _options(dict(zip(axes, values)), f"{where}: grid")
    branches = entry.get("branches") or [{}]
    if not isinstance(branches, list):
        raise BadInput(f"{where}: branches must be a list of option mappings.")
    fixed = _options(entry.get("with"), f"{where}: with")
    points = []
    for branch in branches:
        branch = _options(branch, f"{where}: branches")
        # a grid axis is the option's values: also set in a branch or in with:, the grid's silently won (a
        # grid's tokens over two branches' tokens made one point of the two). A branch over with: is what
        # a branch is for.
        clash = sorted(set(axes) & (set(branch) | set(fixed)))
        if clash:
            raise BadInput(f"{where}: {clash[0]!r} is a grid axis and set in {'branches' if clash[0] in branch else 'with'}: "
                           "too; set it in one of them.")
        for combo in _product(axes):
            point = {**fixed, **branch, **combo}
            if point not in points:
                points.append(point)
    evals = _named_evals(entry.get("eval") or [], study, f"{where}: eval")
    if stage == "rm" and evals:
        raise BadInput(f"{where}: an rm node is not evaluated as a policy; its score: names the evaluations it scores.")
    declared = list(dict.fromkeys([*axes, *(k for b in branches for k in (b or {}))]))
    group_launch = _launch_settings(entry["launch"], f"{where}: launch") if "launch" in entry else {}
    group_slurm = _sbatch_options(entry["slurm"], f"{where}: slurm") if "slurm" in entry else {}
    return Group(name, stage, parents, points, evals, [str(k) for k in declared], launch=group_launch, slurm=group_slurm,
                 reward=reward)


def _named_evals(items, study: Study, where: str) -> list[tuple[str, dict]]:
    """`eval:` items (a name, or {name: overrides}) as (named evaluation, overrides)."""
    evals = []
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, str):
            item = {item: {}}
        for eval_name, overrides in _mapping(item, where).items():
            if eval_name not in study.evals:
                raise BadInput(f"{where} {eval_name!r} is not declared under evals: ({', '.join(study.evals) or 'none'}).")
            evals.append((str(eval_name), _options(overrides, f"{where}.{eval_name}")))
    return evals


def _reward(entry: dict, study: Study, where: str) -> RewardSettings:
    """An rm group's policies, draw, problems and score, checked."""
    missing = [k for k in ("policies", "draw", "problems") if not entry.get(k)]
    if missing:
        raise BadInput(f"{where}: an rm node needs {', '.join(missing)}: (see evolm.study.spec: the nodes that draw its "
                       "samples, the named evaluation they draw with, and the rows of problems they draw on).")
    policies = _selectors(entry["policies"], study, f"{where}: policies")
    draw = _named_evals(entry["draw"], study, f"{where}: draw")
    if len(draw) != 1:
        raise BadInput(f"{where}: draw: names one evaluation, not {len(draw)}.")
    from evolm.options import PAPER_SAMPLES

    samples = draw[0][1].get("samples", study.evals[draw[0][0]].get("samples", PAPER_SAMPLES))
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 2:
        raise BadInput(f"{where}: draw: {draw[0][0]} must draw at least 2 samples per problem (samples: K), or no problem "
                       "gives a (correct, incorrect) pair.")
    match = ROWS.match(str(entry["problems"]))
    if match is None or int(match["start"]) >= int(match["end"]):
        raise BadInput(f"{where}: problems: must be a problem file and a range of its rows, e.g. \"@pool[4000:5500]\", "
                       f"not {entry['problems']!r}.")
    score = entry.get("score") or []
    score = score if isinstance(score, list) else [score]
    unknown = [str(s) for s in score if str(s) not in study.evals]
    if unknown:
        raise BadInput(f"{where}: score: {unknown[0]!r} is not declared under evals: ({', '.join(study.evals)}).")
    return RewardSettings(policies, draw[0], (match["file"], int(match["start"]), int(match["end"])), [str(s) for s in score])


def _product(axes: dict[str, list]) -> list[dict]:
    combos: list[dict] = [{}]
    for key, values in axes.items():
        combos = [{**c, key: v} for c in combos for v in values]
    return combos


def _parents(value, study: Study, stage: str, where: str) -> list[tuple[str, dict]]:
    if stage == "pretrain":
        if value:
            raise BadInput(f"{where}: a pretrain node starts from scratch; it takes no from:.")
        return []
    if not value:
        raise BadInput(f"{where}: a {stage} node needs from: (the group it starts from).")
    return _selectors(value, study, f"{where}: from")


def _selectors(value, study: Study, where: str) -> list[tuple[str, dict]]:
    """A group, a group with a selector, or a list of them, each a group declared above, as (group, selector)."""
    items = value if isinstance(value, list) else [value]
    chosen = []
    for item in items:
        selected = {item: {}} if isinstance(item, str) else _mapping(item, where)
        for group, selector in selected.items():
            declared = next((g for g in study.groups if g.name == group), None)
            if declared is None:
                raise BadInput(f"{where}: {group!r} is not a group declared above it.")
            if declared.stage not in TRAINING_STAGES:
                raise BadInput(f"{where}: {group!r} is a reward model ({declared.stage} node); nothing starts from it or samples with it.")
            chosen.append((str(group), {str(k): _text(v) for k, v in _mapping(selector, f"{where}.{group}").items()}))
    return chosen
