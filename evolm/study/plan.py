"""A study file expanded into a DAG of nodes, each one evolm command (plus its evaluations).

A node's identity is a hash of its stage, its options (data references as written, `@math:500K`,
not as paths) and its parent's identity, so a prefix shared by many runs is one node; its output
folder carries the identity (`<out>/<group>-<values>-<id8>`), so a rerun finds what is finished and
a changed option makes a new node, and new nodes below it, and nothing else. Why by hand: Marin's
executor and Snakemake key steps the same way, but neither can join evolm's environment for this
(Marin needs Ray and its own stack; Snakemake's rules are file patterns, not evolm's lineage).

State: `done` (checkpoint written and its evaluations recorded for the current settings),
`partial` (an interrupted run `<out>.partial`, or a checkpoint whose evaluations are missing),
`to run`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from evolm.checkpoint import MANIFEST, PARTIAL_SUFFIX
from evolm.errors import BadInput
from evolm.stages.data.synth import generator_version
from evolm.study.spec import NOT_DRAWN, REF, Group, RewardSettings, Study, _text
from evolm.units import PerParam, parse_count, parse_counts

STATE_DIR = ".study"
DONE, PARTIAL, TO_RUN = "done", "partial", "to run"
# Rough planning figures, not measurements of a given run: tokens per SFT example and RL prompt of
# the synthetic pool (its problems and solutions are 40-120 tokens), and the fraction of a
# device's peak each kind of stage reaches. Against a GPU's peak (published, measured or given):
# guesses (SFT pads and RL generates token by token, far below pre-training), not yet measured.
TOKENS_PER_EXAMPLE = 100
MFU_GUESS = {"pretrain": 0.30, "cpt": 0.30, "sft": 0.10, "rl": 0.02, "rm": 0.10}
# Against a matmul measured on the CPU: measured, over the mini study from nothing (2026-12-05, 2-core
# CPU, 1M and 4M presets), its training seconds against these FLOP estimates (the guesses above had
# put 99 minutes on its 39). RL's is high for a generating stage because its FLOP estimate counts
# every completion to the length cap.
MFU_CPU = {"pretrain": 0.25, "cpt": 0.23, "sft": 0.15, "rl": 0.12, "rm": 0.10}


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Node:
    id: str
    group: str
    stage: str
    options: dict  # option -> value as written in the file
    parent: "Node | None"
    path: Path
    evals: list[tuple[str, dict]]  # (name, evolm eval options) after the overrides
    model: str | None  # the preset, inherited down the lineage
    flops: float | None = None
    flops_exact: bool = False
    children: list["Node"] = field(default_factory=list)
    after: "Node | None" = None  # a WSD budget branch: the stable run it branches from (runs first; not its lineage)
    reward: RewardSettings | None = None  # an rm node's: how its samples are drawn
    policies: list["Node"] = field(default_factory=list)  # an rm node's: the nodes that draw its samples
    scores: list["Node"] = field(default_factory=list)  # an rm node's: the nodes whose evaluations it scores
    # The synthetic data's id where its test sets are newer than the bytes the node trained on
    # (evolm.synth.VERSION past TRAINING_VERSION), or the prepared paths its evaluations read (@benchmarks,
    # and any reference in their options): part of the evaluations' key, so the study evaluates a finished
    # run again on new test sets. None otherwise, which keeps the keys studies recorded.
    test_data: str | None = None
    earlier_ids: dict[str, str] = field(default_factory=dict)  # rule -> its id under that earlier rule (EARLIER_RULES)

    @property
    def label(self) -> str:
        return self.path.name

    def exports(self) -> list[Path]:
        """Mid-run exports the command writes beside its checkpoint (`--export-at`), named as the
        stage names them (evolm.stages.lm_run.export_dir: 0.5M is written @500K)."""
        from evolm.stages.lm_run import export_dir

        counts = self.options.get("export-at")
        if counts is None:
            return []
        return [export_dir(self.path, c) for c in parse_counts(_text(counts), what=f"{self.group}: export-at")]

    def lineage_options(self) -> dict:
        """The options of this node and its ancestors (the nearest wins): what a `from:` selector
        matches, so `{cpt: {model: 1B, tokens: 160B}}` picks the CPT runs of that base."""
        inherited = self.parent.lineage_options() if self.parent is not None else {}
        return {**inherited, **self.options}

    def needs(self) -> list["Node"]:
        """What must be finished (trained and evaluated) before this node starts: its parent, a budget
        branch's stable run, an rm node's policies and the nodes it scores."""
        needed: dict[str, Node] = {}
        for node in (self.parent, self.after, *self.policies, *self.scores):
            if node is not None:
                needed.setdefault(node.id, node)
        return list(needed.values())

    def eval_key(self) -> str:
        if self.reward is not None:  # an rm node's evaluation is the scoring of others': which, and with what
            key = [self.evals, self.reward.score, [(n.id, n.evals) for n in self.scores]]
        else:
            key = self.evals
        # a node with nothing to evaluate keeps its key (under Slurm a changed key is a job)
        reads_tests = bool(self.evals) or (self.reward is not None and bool(self.reward.score))
        return _hash([key, self.test_data] if self.test_data is not None and reads_tests else key)

    def state(self, root: Path) -> str:
        if (self.path / MANIFEST).is_file():
            return DONE if recorded_evals(root, self) == self.eval_key() else PARTIAL
        partial = self.path.parent / (self.path.name + PARTIAL_SUFFIX)
        return PARTIAL if partial.exists() else TO_RUN


def recorded(root: Path, node_id: str, field_: str) -> str | None:
    """A field of the record the runner writes once a node's evaluations are done (`.study/<id>.json`:
    its folder's name, "node", and its evaluations' key, "evals"); None before."""
    try:
        value = json.loads((root / STATE_DIR / f"{node_id}.json").read_text())[field_]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def recorded_evals(root: Path, node: Node) -> str | None:
    return recorded(root, node.id, "evals")


@dataclass
class Plan:
    study: Study
    data_id: str
    data_paths: dict[str, str]
    nodes: list[Node]  # parents before children

    @property
    def root(self) -> Path:
        return self.study.out

    def data_done(self) -> bool:
        """Whether the data of this generator's version is made (its folder is that of the training bytes')."""
        return "synth" not in self.study.data or (self.root / STATE_DIR / f"data-{self.data_id}.done").is_file()

    def checkpoints(self) -> list[Path]:
        """The checkpoints this file's nodes have written: their folders and mid-run exports (what the
        study's report covers)."""
        return [p for n in self.nodes for p in (n.path, *n.exports()) if (p / MANIFEST).is_file()]

    def strays(self) -> list[Path]:
        """Checkpoints in the study's out: folder that are no node of this file (nodes of an earlier
        version of it, whose options have since changed, or runs put there by hand)."""
        if not self.root.is_dir():
            return []
        ours = {p.resolve() for n in self.nodes for p in (n.path, *n.exports())}
        return sorted(p for p in self.root.iterdir() if (p / MANIFEST).is_file() and p.resolve() not in ours)

    def check_data(self) -> None:
        """Prepared data must exist before anything runs or is submitted (a plan needs none)."""
        for key, value in self.study.data.get("prepared", {}).items():
            if not Path(value).exists():
                raise BadInput(f"The study's data.prepared.{key} {value} does not exist.")

    def resolve(self, value) -> str:
        """An option value with its data references (@math) replaced by paths."""
        return REF.sub(lambda m: self.data_paths[m.group(1)], _text(value))


def build(study: Study) -> Plan:
    data_id = _hash(_data_identity(study.data))[:12]
    # The runs, and the data folder they read, are keyed by the data they train on: a newer generator
    # that rewrites only test sets makes the data again in the same folder (the training bytes the same,
    # so an interrupted run still resumes on its paths) and keeps every run, whose evaluations are then
    # due again (evolm eval's rules decide what they may replace).
    training_data_id = _hash(_data_identity(study.data, training=True))[:12]
    data_paths = _data_paths(study, training_data_id)
    test_data = data_id if data_id != training_data_id else None
    nodes: list[Node] = []
    by_group: dict[str, list[Node]] = {}
    for group in study.groups:
        made = []
        # The folder name shows the declared axes' values (never which of them vary: adding a value to an
        # axis must not rename the folders of nodes already finished).
        varying = group.axes
        links = _reward_links(study, group, by_group, nodes) if group.reward is not None else {}
        for parent in _parents_of(group, by_group):
            base = len(made)
            points, stable_of = wsd_sweep(group, started=lambda point: _node(
                study, group, point, parent, training_data_id, varying, test_data=test_data).state(study.out) != TO_RUN)
            for i, point in enumerate(points):  # stable runs come before their branches
                after = made[base + stable_of[i]] if i in stable_of else None
                made.append(_node(study, group, point, parent, training_data_id, varying, after=after, test_data=test_data,
                                  **links))
        by_group[group.name] = made
        for node in made:
            same = next((n for n in nodes if n.id == node.id), None)
            if same is not None:
                raise BadInput(f"Group {group.name}'s node {node.label} is the same run as {same.label} (the same options "
                               "from the same parent); declare it once.")
            if node.parent is not None:
                node.parent.children.append(node)
            nodes.append(node)
    _check_scoring(nodes)
    return Plan(study, data_id, data_paths, nodes)


def _check_scoring(nodes: list[Node]) -> None:
    """One reward model's scores per evaluation: two rm nodes scoring the same evaluation of a node
    would replace each other's (and race on its samples file when they run at once), and a node
    declared below an rm node (it runs after it) would be left unscored while the report reads its
    neighbours' scores."""
    scorer: dict[tuple[str, str], str] = {}
    for i, node in enumerate(nodes):
        if node.reward is None:
            continue
        later = next(((n, name) for n in nodes[i + 1:] for name, _ in n.evals if name in node.reward.score), None)
        if later is not None:
            raise BadInput(f"Group {node.group} scores the {later[1]} evaluation, but {later[0].label} (declared below it) is "
                           f"evaluated with it too and would be left unscored; declare the rm group below every node it scores.")
        for target in node.scores:
            for name, _ in target.evals:
                if name in node.reward.score:
                    other = scorer.setdefault((target.id, name), node.label)
                    if other != node.label:
                        raise BadInput(f"Nodes {other} and {node.label} would both score {target.label}'s {name} evaluation "
                                       "(one reward model's scores per evaluation); give each rm node its own score: evaluations.")


def draw_options(study: Study, reward: RewardSettings) -> dict:
    """An rm node's draw: its named evaluation's options that sampling takes (not spec.NOT_DRAWN)."""
    name, overrides = reward.draw
    return {k: v for k, v in {**study.evals[name], **overrides}.items() if k not in NOT_DRAWN}


def _reward_links(study: Study, group: Group, by_group: dict[str, list[Node]], above: list[Node]) -> dict:
    """An rm group's links: the policies that draw its samples, and the nodes above it evaluated with
    one of the evaluations it scores."""
    policies = _parents_of(Group(group.name, group.stage, group.reward.policies, [], []), by_group)
    scores = [n for n in above if any(name in group.reward.score for name, _ in n.evals)]
    if group.reward.score and not scores:
        raise BadInput(f"Group {group.name}: no node above it is evaluated with {', '.join(group.reward.score)}; nothing to score.")
    return {"policies": policies, "scores": scores}


def _data_identity(data: dict, *, training: bool = False) -> dict:
    """What makes the study's data what it is. Prepared data: its paths as written (each node's
    identity takes those of the references it reads: `_node`). Synthetic data: the scale, seed and
    vocabulary, and the generator's version, since a newer evolm may write other bytes for the same
    seed: its study makes its data again, and
    trains again instead of reusing runs made on the old data where the bytes training reads changed
    (`training`: the version of those, evolm.synth.TRAINING_VERSION)."""
    identity = {k: v for k, v in data.items() if k != "prepared"}
    if "synth" in data:
        identity["generator"] = generator_version(training=training)
    return identity


def _data_paths(study: Study, data_id: str) -> dict[str, str]:
    if "prepared" in study.data:
        return dict(study.data["prepared"])
    base = study.out / f"data-{data_id[:8]}"
    return {"general": str(base / "shards" / "general"), "math": str(base / "shards" / "math"),
            "pool": str(base / "data" / "pool" / "mathpool.jsonl"), "benchmarks": str(base / "data"),
            "tokenizer": str(base / "tokenizer"), "root": str(base)}


def _parents_of(group: Group, by_group: dict[str, list[Node]]) -> list[Node | None]:
    if not group.parents:
        return [None]
    chosen: list[Node] = []
    for name, selector in group.parents:
        matches = [n for n in by_group[name] if all(_text(n.lineage_options().get(k)) == v for k, v in selector.items())]
        if not matches:
            raise BadInput(f"Group {group.name}: from {name} {selector or ''} matches no node.")
        chosen += [n for n in matches if n not in chosen]
    return chosen


def _slug(point: dict) -> str:
    text = "-".join(re.sub(r"[^A-Za-z0-9.]+", "", _text(v).replace("@", "")) for v in point.values())
    return text[:40].strip("-.")


def wsd_sweep(group: Group, started=lambda point: False) -> tuple[list[dict], dict[int, int]]:
    """A pre-training budget sweep declared with `schedule: wsd` as one stable run per set of other
    options (the largest budget, with `branch-at` the smaller ones) and one decay branch per other
    budget (`--branch-from` that run): (the points, stable runs first; branch index -> its stable
    run's index). Other groups, and points alone in their set, are left as they are.

    A smaller budget's stable run that has been trained (or started) already, `started(point)`, stays
    the stable run: budgets added above it later are branches of it too, which continue its stable
    phase from where its own decay began (evolm.stages.branches). So growing a sweep upwards trains
    no stable phase again; the new budgets keep its warmup in steps, as every branch does, where a file
    run afresh would make its largest budget the stable run, with a warmup of that budget's share."""
    points = list(group.points)
    if group.stage != "pretrain" or not any(_text(p.get("schedule")) == "wsd" for p in points):
        return points, {}
    sets: dict[str, list[dict]] = {}
    for point in points:
        key = json.dumps({k: _text(v) for k, v in point.items() if k != "tokens"}, sort_keys=True)
        sets.setdefault(key, []).append(point)
    ordered, stable_of = [], {}
    for members in sets.values():
        if len(members) < 2 or _text(members[0].get("schedule")) != "wsd" or any("tokens" not in m for m in members):
            ordered += members
            continue
        if any(k in m for m in members for k in ("branch-at", "branch-from")):
            raise BadInput(f"Group {group.name}: a wsd budget sweep is planned as one stable run and its branches; "
                           "leave branch-at and branch-from to the planner.")
        members = sorted(members, key=lambda m: parse_count(_text(m["tokens"]), what=f"{group.name}: tokens"))

        def stable_point(i: int) -> dict:  # members[i] as the stable run, saving the states of those below it
            return {**members[i], "branch-at": ",".join(_text(m["tokens"]) for m in members[:i])}

        # the largest budget whose stable run exists (one with a budget below it), else the largest of all
        # (which is also the choice where the largest's own stable run exists: it is not asked)
        stable = next((i for i in range(len(members) - 2, 0, -1) if started(stable_point(i))), len(members) - 1)
        at = len(ordered)
        ordered.append(stable_point(stable))
        for member in members[:stable] + members[stable + 1:]:
            stable_of[len(ordered)] = at
            ordered.append(member)
    return ordered, stable_of


# Options that change how a run goes, not the checkpoint it makes (how often it logs or saves its
# state, how it fits in memory, what it reports to): as for `--resume`, where a run may change them
# (evolm.training.causal_lm.RESUMABLE_CHANGES), they are not part of a node's identity, so that
# editing them in a study file retrains nothing. --export-at is: its exports are nodes' outputs.
# The micro batch only where a resume may change it (pre-training and CPT); SFT and RL resume with the
# one they started with, so there it makes another run.
OPERATIONAL = frozenset({"save-every", "log-every", "eval-every", "peak-flops", "compile", "activation-checkpointing",
                         "report-to"})
# A WSD stable run's branch-at (the planner's: the smaller budgets of its sweep) only adds the states
# their branches start from, not to the checkpoint: a budget added later is a new branch of the same
# stable run, which starts from an earlier budget's state (evolm.stages.branches.find_branch).
OPERATIONAL_BY_STAGE = {"pretrain": OPERATIONAL | {"micro-batch", "branch-at"}, "cpt": OPERATIONAL | {"micro-batch"}}


def operational(stage: str, option: str) -> bool:
    return option.replace("_", "-") in OPERATIONAL_BY_STAGE.get(stage, OPERATIONAL)


def identity_options(stage: str, point: dict) -> dict:
    """The options that make a node's checkpoint, as text: not the operational ones, nor a false flag
    or null (the runner passes neither, so the command is that of an absent option)."""
    return {k: _text(v) for k, v in point.items() if not operational(stage, k) and v is not False and v is not None}


# The rules by which earlier evolm versions keyed a node, newest first: a node made under one is found by
# the id it had then (folder_of), so that a change of rule retrains nothing. "branch-at": until
# 2026-12-07 a WSD stable run's branch-at list was part of its identity (adding a budget re-keyed the
# sweep; a list grown since is found by its subsets, _earlier_id);
# "paths": before 2026-12-06, also prepared data was keyed by every path (data_id, their hash).
EARLIER_RULES = ("branch-at", "paths")


def _identity(study: Study, group: Group, point: dict, parent: Node | None, data_id: str, after: Node | None,
              policies: list[Node], rule: str | None = None) -> dict:
    """The node's identity under today's rule (None) or an earlier one (EARLIER_RULES), whose ids of
    the nodes it builds on are theirs under that rule too."""
    def id_of(node: Node) -> str:
        return node.id if rule is None else node.earlier_ids[rule]

    options = identity_options(group.stage, point)
    if rule is not None and "branch-at" in point:
        options["branch-at"] = _text(point["branch-at"])
    identity = {"stage": group.stage, "options": options, "parent": id_of(parent) if parent else None,
                **({"branch_of": id_of(after)} if after is not None else {})}
    if rule is None and "branch-at" in point:
        # that it saves branch states at all, not where: a run made alone (no states) that a smaller
        # budget turns into a sweep's stable run is trained again with them
        identity["stable_run"] = True
    if group.reward is not None:  # an rm node: its samples make it, so who draws them, how and on what (not what it scores)
        identity["samples"] = {"policies": [id_of(p) for p in policies], "draw": draw_options(study, group.reward),
                               "problems": list(group.reward.problems)}
    # Prepared data: the paths of the references the node reads (its ancestors' are in their ids), so that
    # pointing @benchmarks at newer test sets, or @pool at another file, retrains no node that does not read
    # them; what its evaluations read (@benchmarks, a val-data: "@general"...) is in their key instead.
    written = study.data.get("written")
    identity["data"] = data_id if written is None or rule == "paths" else {ref: written[ref] for ref in _refs(identity)}
    return identity


def _earlier_id(study: Study, group: Group, point: dict, parent: Node | None, data_id: str, after: Node | None,
                policies: list[Node], rule: str) -> str:
    """The node's id under an earlier rule. A stable run's then held its branch-at list, which may have
    grown since (a budget added after an upgrade): the list's subsets are tried, largest first, for
    the one a folder in out: is named by (the whole list where none is)."""
    def id_with(budgets: str) -> str:
        return _hash(_identity(study, group, {**point, "branch-at": budgets}, parent, data_id, after, policies, rule))[:16]

    budgets = _text(point["branch-at"]).split(",") if "branch-at" in point else []
    if not budgets or not study.out.is_dir():
        return _hash(_identity(study, group, point, parent, data_id, after, policies, rule))[:16]
    names = {p.name.removesuffix(PARTIAL_SUFFIX) for p in study.out.iterdir() if p.is_dir()}
    sizes = range(len(budgets), 0, -1) if len(budgets) <= 10 else [len(budgets)]  # 2^10 ids at most
    candidates = [id_with(",".join(c)) for size in sizes for c in itertools.combinations(budgets, size)]
    # the runner's record under the whole id first, then a folder named by it alone (as folder_of finds one)
    for candidate in candidates:
        if recorded(study.out, candidate, "node") in names:
            return candidate
    for candidate in candidates:
        if sum(n.endswith(f"-{candidate[:8]}") for n in names) == 1:
            return candidate
    return candidates[0]


def _node(study: Study, group: Group, point: dict, parent: Node | None, data_id: str, varying: list[str],
          after: Node | None = None, policies: list[Node] | None = None, scores: list[Node] | None = None,
          test_data: str | None = None) -> Node:
    policies = list(policies or [])
    identity = _identity(study, group, point, parent, data_id, after, policies)
    earlier_ids = {rule: _earlier_id(study, group, point, parent, data_id, after, policies, rule) for rule in EARLIER_RULES}
    evals = [(n, {**study.evals[n], **overrides}) for n, overrides in group.evals]
    written = study.data.get("written")
    if written is not None:
        test_data = _hash({ref: written[ref] for ref in {"benchmarks", *_refs(evals)}})[:12]
    node_id = _hash(identity)[:16]
    # nor in its folder's name, which the runner finds it by
    shown = {k: point[k] for k in varying if k in point and not operational(group.stage, k)}
    name = "-".join(p for p in (group.name, _slug(shown), node_id[:8]) if p)
    model = _text(point["model"]) if "model" in point else (parent.model if parent else None)
    node = Node(node_id, group.name, group.stage, point, parent, folder_of(study.out, name, node_id, earlier_ids.values()),
                evals, model, after=after, reward=group.reward, policies=policies, scores=list(scores or []),
                test_data=test_data, earlier_ids=earlier_ids)
    node.flops, node.flops_exact = estimate_flops(node, study)
    return node


def _refs(value) -> list[str]:
    """The data references (@general, @pool...) anywhere in `value`, sorted."""
    return sorted(set(REF.findall(json.dumps(value, sort_keys=True, default=str))))


def folder_of(out: Path, name: str, node_id: str, earlier_ids=()) -> Path:
    """A node's folder: `out/name`, or the folder an earlier version of the study file named it
    (a renamed group, an axis moved between grid: and with:), found by the id its name ends with,
    so that such an edit retrains nothing: the folder its evaluations were last recorded for, or one
    whose name ends with its id, or with an id an earlier evolm gave it (`earlier_ids`, EARLIER_RULES)."""
    path = out / name
    if path.exists() or path.with_name(name + PARTIAL_SUFFIX).exists() or not out.is_dir():
        return path
    known = recorded(out, node_id, "node")
    if known is not None and (out / known).is_dir():
        return out / known
    names = {p.name.removesuffix(PARTIAL_SUFFIX) for p in out.iterdir() if p.is_dir()}
    for key in dict.fromkeys((node_id, *earlier_ids)):
        earlier = [n for n in names if n.endswith(f"-{key[:8]}")]
        if len(earlier) == 1:
            return out / earlier[0]
    return path


def estimate_flops(node: Node, study: Study) -> tuple[float | None, bool]:
    """(training FLOPs, exact): 6 x params x tokens plus attention for pretrain / cpt (the
    preset's own count, evolm.presets.Preset.flops_per_token); rough figures for SFT and RL."""
    from evolm.presets import get_preset

    if node.model is None:
        return None, False
    try:
        preset = get_preset(node.model)
    except BadInput:
        return None, False
    vocab = study.data.get("vocab")
    params = preset.params(vocab)

    def number(key: str, default, kind=float, of: Node | None = None):
        text = _text((of or node).options.get(key, default))
        try:
            value = parse_count(text, what=f"{node.group}: {key}", allow_per_param=True) if kind is None else kind(text)
        except (ValueError, BadInput):
            raise BadInput(f"Group {node.group}: {key} {text!r} is not a number evolm {node.stage} takes.") from None
        return value.resolve(params) if isinstance(value, PerParam) else value

    seq_len = number("seq-len", 0, int) or None
    if node.stage == "pretrain":
        tokens = number("tokens", 0, None)
        if node.after is not None:  # a budget branch trains from the stable run's latest state before its decay
            from evolm.stages.branches import tokens_to_train
            from evolm.stages.lm_run import DEFAULT_DECAY, decay_share

            trained = tokens_to_train(node.after.path, int(tokens))  # once the stable run has saved its states
            if trained is not None:
                return preset.flops_per_token(seq_len, vocab) * trained, True
            share, count = decay_share(_text(node.options.get("decay", DEFAULT_DECAY)))  # before: its decay, about
            decay = tokens * share if share is not None else count
            stable = number("tokens", 0, None, of=node.after)
            if tokens > stable:  # above the stable run's budget: also the stable phase past where its decay began
                decay = tokens - stable * (1 - share) if share is not None else tokens - stable + count
            return preset.flops_per_token(seq_len, vocab) * decay, False
        return preset.flops_per_token(seq_len, vocab) * tokens, True
    if node.stage == "cpt":
        tokens = 0
        for key in ("domain", "replay"):
            if key in node.options:  # SHARDS:BUDGET
                budget = _text(node.options[key]).rsplit(":", 1)[-1]
                try:
                    tokens += parse_count(budget, what=f"{node.group}: {key}")
                except ValueError:
                    raise BadInput(f"Group {node.group}: {key} must be SHARDS:BUDGET (@math:42B), not {node.options[key]!r}.") from None
        return preset.flops_per_token(seq_len, vocab) * tokens, True
    if node.stage == "rm":  # its pairs are known only once its policies have drawn and been graded
        return None, False
    examples = number("examples", 1000, None)
    epochs = number("epochs", 1)
    if node.stage == "sft":
        return 6.0 * params * examples * epochs * TOKENS_PER_EXAMPLE, False
    from evolm.stages.rl import rollouts_per_prompt

    rollouts = rollouts_per_prompt(number("rollouts", 0, int) or None, _text(node.options.get("algo", "grpo")))
    generated = examples * epochs * rollouts * preset.rl.max_completion_length
    return 2.0 * params * generated + 6.0 * params * (generated + examples * epochs * rollouts * TOKENS_PER_EXAMPLE), False


def estimated_seconds(node: Node, peak_flops: float, devices: int = 1, *, on_cpu: bool = False) -> float | None:
    """Training time at `peak_flops` per device, over the `devices` its launch trains on (evolm.study.launch);
    `on_cpu`: the peak is a matmul measured on the CPU (MFU_CPU), else a GPU's (MFU_GUESS)."""
    mfu = (MFU_CPU if on_cpu else MFU_GUESS)[node.stage]
    return None if node.flops is None else node.flops / (peak_flops * devices * mfu)
