"""The checkpoint manifest (`evolm.json`) as typed records: the one place that knows its keys.

Stages fill a `Manifest`, `evolm.checkpoint` writes and reads it, the CLI and the report read its
fields. On disk it is plain JSON (`to_json`), readable with no evolm installed; `from_json` reads
every schema version evolm has written, upgrading older ones in memory (`upgrade`), so a renamed
field is one edit here instead of a silent "–" in a report.

Schema versions:
    1  flat: wall time, tokens/s, MFU and provenance at the top level; losses and post-training
       records (template, reward, KL, generation) as loose top-level keys.
    2  grouped: `compute`, `provenance`, `outcome`, `posttraining`; `schedule` split into its typed
       progress fields and the hyperparameter `settings`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from evolm.fsutil import canonical_json, sha256_bytes

SCHEMA = "evolm.checkpoint"
SCHEMA_VERSION = 2


@dataclass
class ParentRef:
    """The checkpoint a stage started from."""

    path: str
    """Where the parent was when this checkpoint was made."""
    manifest_sha256: str
    """Sha256 of the parent's evolm.json bytes: changes if the parent is replaced."""
    signature: str
    """The parent's paper-style signature."""


@dataclass
class LineageEntry:
    """One ancestor (or the checkpoint itself) in the flattened lineage."""

    stage: str
    knobs: dict
    """The stage's lineage knobs (see evolm.stagespec)"""
    signature: str = ""
    manifest_sha256: str = ""
    path: str = ""

    @classmethod
    def of(cls, entry: "LineageEntry | dict") -> "LineageEntry":
        """An entry, or one from its JSON mapping (as manifests and hand-made lineages hold them)."""
        return entry if isinstance(entry, cls) else _build(cls, entry)


@dataclass
class ModelRecord:
    """The model that was trained."""

    preset: str
    """The model preset (evolm presets), e.g. 1M or 1B."""
    params: int | None = None
    """Parameter count."""
    vocab_size: int | None = None
    shape: dict = field(default_factory=dict)
    """Hidden size, layers, heads, seq_len, ... (Preset.describe)"""

    @property
    def seq_len(self) -> int | None:
        """The pre-training sequence length the model was trained at."""
        return self.shape.get("seq_len")


@dataclass
class TokenizerRecord:
    """The tokenizer the model reads (every stage of a lineage shares it)."""

    sha256: str
    """Fingerprint of the tokenizer files (evolm.tokenizer.tokenizer_fingerprint)"""


@dataclass
class DataSource:
    """One data source a stage consumed: token shards (pre-training, CPT) or pool rows (SFT, RL).
    Fields that do not apply to the source's kind are None and left out of the JSON."""

    name: str
    """What the source is to the stage: pretrain, domain, replay, sft, rl, ..."""
    path: str | None = None
    """Token shards folder."""
    fingerprint: str | None = None
    """The shards' content fingerprint."""
    source: str | None = None
    """Where the shards' text came from."""
    tokens_requested: int | None = None
    """The budget asked for."""
    tokens_drawn: int | None = None
    """The tokens the run actually drew from this source."""
    pool: str | None = None
    """The problem pool file (a reward model's: the samples or problems file)."""
    pool_sha256: str | None = None
    """The sha256 of the pool file."""
    pool_size: int | None = None
    """Rows in the pool."""
    rows: list[int] | None = None
    """[start, end) rows of the pool."""
    examples: int | None = None
    """Examples taken (the end of `rows` minus its start)."""
    split: str | None = None
    """The `evolm data split` folder the rows came through."""
    split_sha256: str | None = None
    """The sha256 of its split.json."""
    split_part: str | None = None
    """The part of the split: sft or rl."""
    epochs: float | None = None
    """Passes over the source."""
    prompts_used: int | None = None
    """RL: prompts kept after the length and gold-answer checks. SFT: examples trained on, where TRL
    left out some whose prompt alone fills --max-length (None: every example taken)."""

    def to_json(self) -> dict:
        return _plain(self)


@dataclass
class Schedule:
    """How far the optimization went, and with what settings."""

    kind: str = ""
    """E.g. "linear warmup + cosine to min_lr"."""
    completed: bool = False
    """The schedule ran to its end (an exported mid-run state would say False)"""
    steps_done: int | None = None
    tokens_done: int | None = None
    """Tokens consumed (pre-training and CPT)"""
    settings: dict = field(default_factory=dict)
    """Hyperparameters: lr, batch, warmup, optimizer, seed, ..."""


@dataclass
class Compute:
    """What the training cost and how fast it ran."""

    wall_time_s: float | None = None
    """Training wall time."""
    tokens_per_s: float | None = None
    mfu: float | None = None
    """Model FLOPs utilization against peak_flops."""
    peak_flops: float | None = None
    """Peak FLOP/s of one device (given or measured)"""
    processes: int | None = None
    """Training processes (DDP / FSDP / ZeRO ranks)"""
    parallelism: str | None = None
    """How accelerate spread them: NO, MULTI_CPU, MULTI_GPU (DDP), FSDP, DEEPSPEED."""
    flops: float | None = None
    """Training FLOPs (the compute ledger): pre-training and CPT 6 x parameters x tokens plus attention
    (the preset's count, as MFU uses); SFT 6 x parameters x trained tokens; RL 2 x parameters x
    generated tokens plus 6 x parameters x trained tokens (prompts and completions)."""
    trained_tokens: int | None = None
    """Tokens that went through the forward and backward passes (non-padding)."""
    generated_tokens: int | None = None
    """RL: completion tokens sampled for the rollouts."""
    device_hours: float | None = None
    """Wall time x processes (one device each), in hours."""
    peak_memory_gib: float | None = None
    """Pre-training and CPT on CUDA: the most device memory the main process's tensors held
    (torch.cuda.max_memory_allocated), in GiB, against which the micro batch plan can be checked."""



def device_hours(wall_time_s: float, processes: int) -> float:
    """`Compute.device_hours`: wall time x processes (one device each), in hours."""
    return round(wall_time_s * processes / 3600, 6)


def shared_flops(compute: Compute, schedule: Schedule) -> float:
    """The FLOPs of the tokens a WSD budget branch shares with its stable run (0 for any other run):
    not its own compute, but part of what made its model (a lineage's cumulative FLOPs count them)."""
    shared = (schedule.settings.get("branch_of") or {}).get("shared_tokens", 0)
    if not (shared and compute.flops and compute.trained_tokens):
        return 0.0
    return compute.flops / compute.trained_tokens * shared  # the same FLOPs per token as the branch's own

@dataclass
class Provenance:
    """When and with what the checkpoint was made."""

    created: str = ""
    """UTC time, ISO 8601."""
    versions: dict = field(default_factory=dict)
    """Evolm, python and library versions."""
    git_commit: str | None = None
    """The evolm source commit ('-dirty' with local changes)"""
    hardware: dict = field(default_factory=dict)
    """Machine, cpu_count, accelerator, ..."""


@dataclass
class Outcome:
    """What training measured at its end."""

    final_train_loss: float | None = None
    """Pre-training / CPT: the last step's loss."""
    val_loss: dict | None = None
    """Source name -> validation loss (pretrain, domain, replay, ...)"""
    loss: dict | None = None
    """SFT: first / last logged loss and TRL's training loss."""
    rewards: dict | None = None
    """RL: first / last / mean logged reward."""
    reward_model: dict | None = None
    """A reward model (`evolm rm`): its accuracy on held-out pairs (held_out_pairs, held_out_accuracy)."""
    warnings: list[str] | None = None
    """Signs the stage did nothing: weights equal to the parent's, a reward without variance."""


@dataclass
class PostTraining:
    """What SFT and RL add: the chat template, the lineage's pre-training data, the RL reward."""

    template: dict | None = None
    """Name, chat_template, format."""
    reward: dict | None = None
    """RL: the grader definition(s), values, function."""
    kl: dict | None = None
    """RL: {"enabled", "coef", "form"}: whether a KL term to the parent acted, its coefficient, and how it
    enters (a per-token reward penalty, or a term of the loss)."""
    generation: dict | None = None
    """RL: rollout backend, rollouts per prompt, temperature, lengths."""
    lora: dict | None = None
    """SFT with --lora: rank, alpha, merged."""
    critic: dict | None = None
    """RL with PPO: the critic's learning rate, GAE gamma and lambda, value clip."""
    objective: dict | None = None
    """RL with GRPO or RLOO: TRL's settings of the policy loss (loss type, advantage scaling, clip,
    iterations per generation, truncated completions) and of sampling (top_k, top_p), as passed."""


@dataclass
class FileRecord:
    """One hashed file of the checkpoint; a loader checks the size, or the hash with full verification."""

    sha256: str
    bytes: int


@dataclass
class Manifest:
    """The whole manifest: the lineage, what was trained on what, how, and what it cost."""

    stage: str
    """Pretrain | cpt | sft | rl | import (evolm.stagespec)"""
    signature: str
    """Paper-style lineage name, e.g. 1B-160BT-8+42BT-100Kep1."""
    knobs: dict
    """This stage's lineage knobs."""
    parent: ParentRef | None = None
    """The checkpoint this stage started from (None for pre-training from scratch)."""
    lineage: list[LineageEntry] = field(default_factory=list)
    """Every ancestor, oldest first."""
    model: ModelRecord | None = None
    tokenizer: TokenizerRecord | None = None
    data: list[DataSource] = field(default_factory=list)
    """Every data source with what was actually consumed."""
    pretraining_data: list[DataSource] = field(default_factory=list)
    """After pre-training: the lineage's pre-training data."""
    replay: dict | None = None
    """CPT: replay budget and share of the stream and of the parent's budget."""
    budget_spec: str | None = None
    """Pre-training: the budget as the user wrote it (80B, 20x)"""
    schedule: Schedule = field(default_factory=Schedule)
    seed: int | None = None
    """The seed of initialization, data order and sampling."""
    compute: Compute = field(default_factory=Compute)
    outcome: Outcome = field(default_factory=Outcome)
    posttraining: PostTraining | None = None
    tracking: dict | None = None
    """Experiment tracker and where its logs are."""
    provenance: Provenance = field(default_factory=Provenance)
    files: dict[str, FileRecord] = field(default_factory=dict)
    """Every hashed file of the checkpoint."""
    content_sha256: str | None = None
    """Sha256 of this manifest's own content (`content_hash`): a loader refuses a manifest edited
    after it was written (a changed seed or date). None in manifests written before it existed."""
    schema: str = SCHEMA
    schema_version: int = SCHEMA_VERSION
    """Which layout the JSON follows (see the module docstring); older ones are upgraded on read."""
    extra: dict = field(default_factory=dict)
    """Keys this evolm does not know (kept, rewritten as they were)"""

    def to_json(self) -> dict:
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "extra"}
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Manifest":
        """Read a manifest of any known schema version (older ones are upgraded first)."""
        data = upgrade(dict(data))
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and k != "extra"}
        values["parent"] = _build(ParentRef, values.get("parent"))
        values["lineage"] = [_build(LineageEntry, e) for e in values.get("lineage") or []]
        values["model"] = _build(ModelRecord, values.get("model"))
        values["tokenizer"] = _build(TokenizerRecord, values.get("tokenizer"))
        values["schedule"] = _build(Schedule, values.get("schedule")) or Schedule()
        values["compute"] = _build(Compute, values.get("compute")) or Compute()
        values["outcome"] = _build(Outcome, values.get("outcome")) or Outcome()
        values["posttraining"] = _build(PostTraining, values.get("posttraining"))
        values["provenance"] = _build(Provenance, values.get("provenance")) or Provenance()
        values["files"] = {k: _build(FileRecord, v) for k, v in (values.get("files") or {}).items()}
        values["data"] = [_build(DataSource, d) for d in values.get("data") or []]
        values["pretraining_data"] = [_build(DataSource, d) for d in values.get("pretraining_data") or []]
        values["extra"] = {k: v for k, v in data.items() if k not in known}
        return cls(**values)


class ManifestError(ValueError):
    """Bytes that are not a manifest this evolm can read (the message says why, in one phrase)."""


def parse(data: bytes) -> Manifest:
    """A manifest from the bytes of an evolm.json; ManifestError says what is wrong with them."""
    try:
        raw = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        raise ManifestError("not an evolm checkpoint manifest")
    version = raw.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:  # true is an int to Python
        raise ManifestError(f"schema_version {json.dumps(version)}, which no evolm writes (1 to {SCHEMA_VERSION})")
    if version > SCHEMA_VERSION:
        raise ManifestError(f"manifest schema {version}, newer than this evolm understands ({SCHEMA_VERSION}); upgrade evolm")
    for key, kind in (("stage", str), ("signature", str), ("knobs", dict)):
        if not isinstance(raw.get(key), kind):
            raise ManifestError(f"no {key}")
    try:
        return Manifest.from_json(raw)
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"a malformed record ({exc})") from None


def content_hash(raw: dict) -> str:
    """The sha256 of a manifest's JSON mapping without its `content_sha256` key, in canonical form
    (sorted keys, fixed separators), so the pretty-printed file and the parsed mapping hash alike."""
    body = {k: v for k, v in raw.items() if k != "content_sha256"}
    return sha256_bytes(canonical_json(body).encode())


def _plain(value: Any) -> Any:
    if isinstance(value, DataSource):
        return {k: v for k, v in asdict(value).items() if v is not None}
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _build(cls, data):
    """A record from its JSON mapping; unknown keys are dropped, missing ones take their defaults."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__} record must be a mapping, not {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


# Schema 1 -> 2: which flat keys moved where.
_V1_COMPUTE = ("wall_time_s", "tokens_per_s", "mfu", "peak_flops")
_V1_PROVENANCE = ("created", "versions", "git_commit", "hardware")
_V1_OUTCOME = ("final_train_loss", "val_loss", "loss", "rewards")
_V1_POSTTRAINING = ("template", "reward", "kl", "generation", "lora")
_V1_SCHEDULE_PROGRESS = ("kind", "completed", "steps_done", "tokens_done")


def upgrade(data: dict) -> dict:
    """A manifest mapping brought to SCHEMA_VERSION (a no-op for current ones)."""
    version = data.get("schema_version", 1)
    if version > SCHEMA_VERSION:
        raise ValueError(f"manifest schema {version} is newer than this evolm understands ({SCHEMA_VERSION})")
    if version == 1:
        data = _upgrade_v1(data)
    return data


def _upgrade_v1(data: dict) -> dict:
    data = dict(data)
    compute = {k: data.pop(k) for k in _V1_COMPUTE if k in data}
    schedule = dict(data.pop("schedule", None) or {})
    progress = {k: schedule.pop(k) for k in _V1_SCHEDULE_PROGRESS if k in schedule}
    if "processes" in schedule:
        compute["processes"] = schedule.pop("processes")
    data["compute"] = compute
    data["schedule"] = {**progress, "settings": schedule}
    data["provenance"] = {k: data.pop(k) for k in _V1_PROVENANCE if k in data}
    data["outcome"] = {k: data.pop(k) for k in _V1_OUTCOME if k in data}
    posttraining = {k: data.pop(k) for k in _V1_POSTTRAINING if k in data}
    data.pop("template_name", None)  # v1 SFT wrote the template's name twice
    data["posttraining"] = posttraining or None
    data["schema_version"] = SCHEMA_VERSION
    return data
