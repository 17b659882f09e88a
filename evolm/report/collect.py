"""Find every checkpoint and evaluation result under a runs folder, as flat rows.

A checkpoint is a directory with an `evolm.json` manifest; unfinished runs (`*.partial`) and
temporary directories are skipped. Evaluation results are JSON files whose schema is
`evolm.eval.downstream/*` or `evolm.eval.upstream/*`, anywhere under the folder (in `CKPT/eval/`
or an `--out` folder); each is matched to its checkpoint by manifest hash, so a result made before
a checkpoint was overwritten is ignored with a warning. Of two results of one task for one
checkpoint the newer is used, with a warning when their settings differ.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evolm import stagespec
from evolm.checkpoint import MANIFEST, PARTIAL_SUFFIX, Checkpoint
from evolm.errors import BadInput
from evolm.manifest import LineageEntry, ManifestError
from evolm.manifest import parse as parse_manifest
from evolm.options import SAMPLING_ONLY

MAX_RESULT_BYTES = 20_000_000

# Schedule fields that follow from the lineage knobs or do not change the optimization (an --export-at
# export records where it was taken; the report's "did not complete its schedule" warning names it).
DERIVED_SETTINGS = {"total_steps", "steps_done", "tokens_done", "warmup_steps", "completed", "micro_batch", "gradient_accumulation",
                    "processes", "save_every", "log_every", "eval_every", "peak_flops", "val_tokens", "compile", "compiled",
                    "activation_checkpointing", "defaults_from", "kind",
                    "export_at", "export_count", "lr_at_export", "decayed", "decay_steps", "stable_steps", "branch_of"}


@dataclass
class Run(Checkpoint):
    """A checkpoint read from its manifest (files are not verified: the report needs no weights),
    with the evaluation results found for it."""

    upstream: dict | None = None  # the upstream.json result
    downstream: dict[str, dict] = field(default_factory=dict)  # task -> downstream result

    @property
    def parent_sha256(self) -> str | None:
        parent = self.manifest.parent
        return parent.manifest_sha256 if parent is not None else None

    @property
    def completed(self) -> bool:
        return bool(self.manifest.schedule.completed)

    def knobs(self) -> dict:
        """The lineage's knobs, flattened: pretrain_tokens, cpt_domain_tokens, sft_epochs, ..."""
        flat: dict = {}
        for entry in self.lineage:
            spec = stagespec.STAGES.get(entry.stage)
            for knob in spec.knobs if spec is not None else ():
                if knob.name in entry.knobs:
                    flat[spec.column(knob)] = entry.knobs[knob.name]
        return flat

    def base_signature(self) -> str:
        """The signature up to the last pre-training or CPT stage (the 'base' of a post-trained run)."""
        bases = [e.signature for e in self.lineage if stagespec.kind_of(e.stage) == "base"]
        return bases[-1] if bases else self.signature

    def compute_flops(self) -> float | None:
        """This run's own training FLOPs: the manifest's compute ledger (every stage); for checkpoints
        made before it existed, 6 x parameters x tokens for pre-training and CPT, None for post-training."""
        if self.manifest.compute.flops is not None:
            return self.manifest.compute.flops
        tokens = self.manifest.schedule.tokens_done
        params = self.manifest.model.params if self.manifest.model is not None else None
        if stagespec.kind_of(self.stage) == "base" and tokens and params:
            return 6.0 * params * tokens
        return None

    def training_settings(self) -> dict:
        """The settings this run trained with that its lineage knobs do not capture (learning rate,
        schedule, batch, seed...): what two runs of the same knobs can still differ in."""
        schedule = self.manifest.schedule
        # Floats to 10 significant digits: a default min_lr of lr/10 (0.00030000000000000003) is the
        # --min-lr 0.0003 a user would type.
        settings = {k: float(f"{v:.10g}") if isinstance(v, float) else v
                    for k, v in schedule.settings.items() if k not in DERIVED_SETTINGS}
        if stagespec.kind_of(self.stage) == "base" and "schedule" not in settings:
            settings["schedule"] = "cosine"  # pre-training and CPT manifests name only the WSD schedule
        if settings.get("schedule") == "wsd" and "decay" not in settings:
            # WSD manifests written before the option was recorded: the share its steps give (a budget
            # branch's decay is its stable run's share of its own steps, to the rounding of a step)
            steps, decay = schedule.settings.get("total_steps"), schedule.settings.get("decay_steps")
            if steps and decay:
                settings["decay"] = f"{round(100 * decay / steps):g}%"
        settings["seed"] = self.manifest.seed if self.manifest.seed is not None else schedule.settings.get("seed")
        return settings

    @property
    def is_export(self) -> bool:
        """A mid-run export (`--export-at`): its FLOPs are part of the run it was taken from."""
        return self.manifest.schedule.settings.get("export_count") is not None


def lineage_settings(runs: list[Run], run_for=None) -> dict[str, tuple]:
    """Per run (by manifest hash): its own and its ancestors' training settings but the seed, oldest
    first, as (stage, settings as JSON, or None for an ancestor neither in the folder nor, unchanged,
    where its lineage entry says it was). Runs with equal
    knobs are replicates only when these are equal too: an SFT run on a base pre-trained at another
    learning rate is another condition, though its signature is the same. `run_for`: a
    `lineage_resolver(runs)` shared with `lineage_seeds`, so that an ancestor outside the folder is read once."""
    run_for = run_for or lineage_resolver(runs)

    def settings(entry: LineageEntry, ancestor: bool) -> tuple:
        run = run_for(entry)
        if run is None:
            return (entry.stage, None)
        own = {k: v for k, v in run.training_settings().items() if k != "seed"}
        if ancestor and not run.completed:  # trained from a mid-run export, not from the finished run
            own["exported_at"] = run.manifest.schedule.tokens_done
        return (entry.stage, json.dumps(own, sort_keys=True, default=str))

    chains = {}
    for run in runs:
        lineage = run.lineage  # ancestors, oldest first, then the run itself
        chains[run.manifest_sha256] = tuple(settings(e, i < len(lineage) - 1) for i, e in enumerate(lineage))
    return chains


def lineage_seeds(runs: list[Run], run_for=None) -> dict[str, tuple]:
    """Per run (by manifest hash): the seed of each run of its lineage, oldest first, as (stage, seed;
    None for an ancestor not found). Replicates of an RL run may share the RL seed and differ in
    their SFT parents' seeds: the report names the seeds that differ."""
    run_for = run_for or lineage_resolver(runs)

    def seed(entry: LineageEntry):
        run = run_for(entry)
        return None if run is None else run.training_settings().get("seed")

    return {run.manifest_sha256: tuple((e.stage, seed(e)) for e in run.lineage) for run in runs}


def lineage_data(runs: list[Run], run_for=None) -> dict[str, tuple]:
    """Per run (by manifest hash): what each run of its lineage trained on, oldest first, as (stage,
    ((source, the shards' content fingerprint or the pool's hash), ...); None for an ancestor not
    found). Not a pool's rows, which the examples knob sets. Runs of equal knobs and settings on other
    data (two data versions; the miniature and the pre-training study's data in one report) are other
    conditions, not seed replicates."""
    run_for = run_for or lineage_resolver(runs)

    def sources(entry: LineageEntry) -> tuple | None:
        run = run_for(entry)
        return None if run is None else tuple((s.name, s.fingerprint or s.pool_sha256) for s in run.manifest.data or ())

    return {run.manifest_sha256: tuple((e.stage, sources(e)) for e in run.lineage) for run in runs}


def lineage_resolver(runs: list[Run]):
    """A lineage entry's run: one of RUNS, else the ancestor outside the folder (`_ancestor`, read
    once per resolver), else None."""
    run_of: dict[str, Run | None] = {run.manifest_sha256: run for run in runs}

    def run_for(entry: LineageEntry) -> Run | None:
        if entry.manifest_sha256 not in run_of:
            run_of[entry.manifest_sha256] = _ancestor(entry)
        return run_of[entry.manifest_sha256]

    return run_for


def _ancestor(entry: LineageEntry) -> Run | None:
    """An ancestor outside the runs folder, read from the path its lineage entry recorded when its
    manifest is still there unchanged (the same hash): only its settings are read. None otherwise."""
    try:
        data = (Path(entry.path) / MANIFEST).read_bytes() if entry.path else None
    except OSError:
        return None
    if data is None or hashlib.sha256(data).hexdigest() != entry.manifest_sha256:
        return None
    try:
        return Run(Path(entry.path), parse_manifest(data), entry.manifest_sha256)
    except ManifestError:
        return None


def labelled_settings(runs: list[Run], run_for=None) -> dict[str, tuple[tuple, str]]:
    """Per run (by manifest hash): its `lineage_settings` and the label that tells it from runs of the
    same signature trained otherwise ("lr=0.01"; empty when none is)."""
    chains = lineage_settings(runs, run_for)
    same: dict[str, list[Run]] = {}
    for run in runs:
        same.setdefault(run.signature, []).append(run)
    out = {}
    for group in same.values():
        shas = [run.manifest_sha256 for run in group]
        out.update((sha, (chains[sha], label)) for sha, label in zip(shas, settings_labels([chains[sha] for sha in shas])))
    return out


def settings_labels(chains: list[tuple]) -> list[str]:
    """For runs that share knobs, what tells their `lineage_settings` apart: per run, the settings
    whose values differ among them ("lr=0.01"), prefixed by the stage when it is an ancestor's
    ("pretrain lr=0.01"). Empty labels where the chains are equal or not of one lineage shape."""
    labels: list[list[str]] = [[] for _ in chains]
    if len(set(chains)) < 2 or len({tuple(stage for stage, _ in chain) for chain in chains}) != 1:
        return ["" for _ in chains]
    last = len(chains[0]) - 1
    for i, (stage, _) in enumerate(chains[0]):
        prefix = "" if i == last else f"{stage} "
        known = [(label, json.loads(chain[i][1])) for label, chain in zip(labels, chains) if chain[i][1] is not None]
        if len(known) < len(chains):  # an ancestor not in the folder: its settings cannot be compared
            for label, chain in zip(labels, chains):
                if chain[i][1] is None:
                    label.append(f"{stage} settings unknown")
        for key in sorted({k for _, d in known for k in d}):
            if len({json.dumps(d.get(key), sort_keys=True, default=str) for _, d in known}) < 2:
                continue
            for label, d in known:
                if d.get(key) is not None:  # a setting older evolm versions did not record is left out
                    label.append(f"{prefix}{key}={_value_text(d[key])}")
    return [", ".join(label) for label in labels]


def with_settings(name: str, label: str | None) -> str:
    """A run's name with the settings label that tells it from runs of its signature trained
    otherwise: "1M-500KT [lr=0.01]"; the name alone when there is none."""
    return " ".join(part for part in (str(name), f"[{label}]" if label else "") if part)


def _value_text(value) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"  # as compared (training_settings): two values never print alike
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _skipped(path: Path, root: Path) -> bool:
    return any(part.endswith(PARTIAL_SUFFIX) or part.startswith(".") for part in path.relative_to(root).parts[:-1])


def collect(runs_dirs: Path | Sequence[Path]) -> tuple[list[Run], list[str]]:
    """(checkpoints sorted by lineage, warnings) below one folder or several (a checkpoint's own folder
    is one too: a study reports its nodes' folders, not others in its out: folder). Exits 2 when a
    folder does not exist or none holds a checkpoint."""
    roots = _outermost([Path(runs_dirs)] if isinstance(runs_dirs, (str, Path)) else [Path(r) for r in runs_dirs])
    for root in roots:
        if not root.is_dir():
            raise BadInput(f"Runs folder {root} does not exist.")
    warnings: list[str] = []
    runs: dict[str, Run] = {}
    for root in roots:
        for manifest_path in sorted(root.rglob(MANIFEST)):
            if _skipped(manifest_path, root):
                continue
            data = manifest_path.read_bytes()
            try:
                manifest = parse_manifest(data)
            except ManifestError as exc:
                warnings.append(f"skipped {manifest_path}: corrupt manifest ({str(exc).splitlines()[0]})")
                continue
            sha = hashlib.sha256(data).hexdigest()
            if sha in runs:  # a copied folder: one checkpoint, listed and reported once
                warnings.append(f"{manifest_path.parent} is a copy of {runs[sha].path} (the same manifest): counted once, as {runs[sha].path}")
                continue
            runs[sha] = Run(manifest_path.parent, manifest, sha)
    if not runs:
        where = roots[0] if len(roots) == 1 else f"None of the {len(roots)} folders"
        raise BadInput(f"{where} holds no evolm checkpoint (no readable {MANIFEST} below it).")
    for root in roots:
        _attach_results(root, runs, warnings)
    order = sorted(runs.values(), key=lambda r: ([_entry_key(e) for e in r.lineage], str(r.path)))
    return order, warnings


def _outermost(paths: list[Path]) -> list[Path]:
    """The folders to walk: each once, and none inside another one given (its files are walked there)."""
    given: dict[Path, Path] = {}
    for path in paths:
        given.setdefault(path.resolve(), path)  # the first spelling of each folder
    return [p for r, p in given.items() if not any(r != q and r.is_relative_to(q) for q in given)]


def common_root(paths: Sequence[Path]) -> Path:
    """The folder a report names and gives its checkpoints' paths relative to: the one given, or the
    deepest folder holding all of those given."""
    resolved = [Path(p).resolve() for p in paths]
    return resolved[0] if len(resolved) == 1 else Path(os.path.commonpath(resolved))


def _entry_key(entry: LineageEntry) -> tuple:
    """Lineage order with numbers compared as numbers (250K before 1M)."""
    numbers = tuple(float(v) for _, v in sorted(entry.knobs.items()) if isinstance(v, (int, float)))
    return (entry.stage, numbers, entry.signature)


def _attach_results(root: Path, runs: dict[str, Run], warnings: list[str]) -> None:
    by_path = {str(run.path.resolve()): run for run in runs.values()}
    for path in sorted(root.rglob("*.json")):
        if path.name == MANIFEST or path.stat().st_size > MAX_RESULT_BYTES or _skipped(path, root):
            continue
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            if path.parent.name == "eval":  # where `evolm eval` writes: a result the report would silently lose
                warnings.append(f"skipped {path}: not a readable JSON result ({str(exc).splitlines()[0]})")
            continue
        schema = result.get("schema", "") if isinstance(result, dict) else ""
        if not schema.startswith(("evolm.eval.downstream/", "evolm.eval.upstream/")):
            continue
        model = result.get("identity", {}).get("model", {})
        run = runs.get(model.get("manifest_sha256", ""))
        if run is None:
            if model.get("path") in by_path:
                warnings.append(f"ignored {path}: it evaluated an earlier version of {model['path']}")
            continue
        upstream = schema.startswith("evolm.eval.upstream/")
        task = "upstream" if upstream else result.get("task")
        previous = run.upstream if upstream else run.downstream.get(task)
        if previous is not None and settings_of(previous) != settings_of(result):
            warnings.append(f"{run.path} has {task} results of different settings in two folders ({path} is one); "
                            "the report uses the newer")
        if previous is None or result.get("created", "") >= previous.get("created", ""):
            if upstream:
                run.upstream = result
            else:
                run.downstream[task] = result


def without_sampling(settings: dict) -> dict:
    """`settings_of` minus the decoding settings only the sampled metrics depend on."""
    decoding = settings.get("decoding")
    if not isinstance(decoding, dict):
        return settings
    return {**settings, "decoding": {k: v for k, v in decoding.items() if k not in SAMPLING_ONLY}}


def settings_of(result: dict) -> dict:
    """The settings of one evaluation result: its identity without the model (task file, decoding,
    grader, backend, reward model; upstream: task versions, limit, validation loss), plus the
    problem limit downstream results keep beside their identity."""
    settings = {k: v for k, v in (result.get("identity") or {}).items() if k != "model"}
    val, measured = settings.get("val"), result.get("val")
    if isinstance(val, dict) and isinstance(measured, dict) and measured.get("fingerprint"):
        # The path says where the validation shards were, the fingerprint what they hold: two copies of
        # one dataset (each study folder prepares its own) are the same setting.
        settings["val"] = {**{k: v for k, v in val.items() if k != "shards"}, "fingerprint": measured["fingerprint"]}
    if "limit" in result:
        settings["limit"] = result["limit"]
    return settings
