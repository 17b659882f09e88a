"""The checkpoint contract: a Hugging Face model directory plus `evolm.json`, its manifest.

Every stage writes its output through `write_checkpoint` and reads its parent through
`load_checkpoint`; nothing else in evolm touches a checkpoint's files directly. The manifest is
written last, so its presence means the directory is complete; it lists every file with its sha256
so a loader notices missing or altered files, and the hash of its own content so a loader notices
an edited manifest (a changed seed or date would otherwise pass: no file hash covers it). `eval/`
(results added later by `evolm eval`) and `state/` (resume state of an unfinished run) are not
part of the hashed contents.

The lineage signature in the paper's style (`1B-160BT-8+42BT-100Kep1-100Kep8`) is computed from the
flattened lineage each manifest carries: the knobs of every ancestor, oldest first, then its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from evolm import stagespec
from evolm.errors import BadInput
from evolm.fsutil import atomic_dir, sha256_bytes, sha256_file, write_json
from evolm.manifest import FileRecord, LineageEntry, Manifest, ManifestError, ParentRef, Provenance, content_hash
from evolm.manifest import parse as parse_manifest
from evolm.provenance import stamp

MANIFEST = "evolm.json"
# Mutable parts of a checkpoint directory that are not covered by the file hashes.
UNHASHED_DIRS = ("eval", "state")
# An unfinished run of checkpoint OUT trains in the sibling OUT.partial/ (see evolm.training.rundir).
PARTIAL_SUFFIX = ".partial"


class CheckpointError(BadInput):
    """A directory is not a valid evolm checkpoint (missing, incomplete or altered)."""


def stage_segment(stage: str, knobs: dict) -> str:
    """One '-'-separated part of the signature for one stage's knobs (its stage spec's segment)."""
    return stagespec.get(stage).segment(knobs)


def compute_signature(lineage: list[LineageEntry]) -> str:
    """The paper-style name of a model from its lineage entries (oldest first, itself last)."""
    return "-".join(stage_segment(entry.stage, entry.knobs) for entry in map(LineageEntry.of, lineage))


@dataclass
class Checkpoint:
    path: Path
    manifest: Manifest
    manifest_sha256: str

    @property
    def stage(self) -> str:
        return self.manifest.stage

    @property
    def signature(self) -> str:
        return self.manifest.signature

    @property
    def lineage(self) -> list[LineageEntry]:
        """Every ancestor's entry, oldest first, then this checkpoint's own."""
        return list(self.manifest.lineage) + [self.lineage_entry()]

    def lineage_entry(self) -> LineageEntry:
        # absolute: a path as typed means nothing to a command run from another folder (the report finds
        # ancestors outside its runs folder through these)
        return LineageEntry(self.stage, self.manifest.knobs, self.signature, self.manifest_sha256, str(Path(self.path).resolve()))


def build_manifest(stage: str, knobs: dict, *, parent: Checkpoint | None = None, **fields) -> Manifest:
    """A manifest for a new checkpoint: schema, lineage and signature from the parent, provenance.

    `fields` are the stage's own records, as `Manifest` fields (model, tokenizer, data, schedule,
    compute, outcome, ...).
    """
    stagespec.get(stage)  # an unknown stage is a programming error
    lineage = parent.lineage if parent is not None else []
    signature = compute_signature(lineage + [LineageEntry(stage, knobs)])
    parent_ref = None if parent is None else ParentRef(str(Path(parent.path).resolve()), parent.manifest_sha256, parent.signature)
    return Manifest(stage=stage, signature=signature, knobs=knobs, parent=parent_ref, lineage=lineage,
                    provenance=Provenance(**stamp()), **fields)


def write_checkpoint(
    out: Path, manifest: Manifest, write_files: Callable[[Path], None], *, overwrite: bool = False
) -> Checkpoint:
    """Build a checkpoint atomically: `write_files(tmp)` writes the HF files, then the manifest last."""
    out = Path(out)
    with atomic_dir(out, overwrite=overwrite, marker=MANIFEST, what="evolm checkpoint") as tmp:
        write_files(tmp)
        manifest = replace(manifest, files=hash_files(tmp), content_sha256=None)
        write_json(tmp / MANIFEST, manifest.to_json())
        # The content hash is taken of the manifest as a loader will parse it back from disk (how
        # JSON writes numbers is then no concern), and written into it in a second pass.
        raw = json.loads((tmp / MANIFEST).read_bytes())
        manifest = replace(manifest, content_sha256=content_hash(raw))
        write_json(tmp / MANIFEST, {**raw, "content_sha256": manifest.content_sha256})
    data = (out / MANIFEST).read_bytes()
    return Checkpoint(out, manifest, sha256_bytes(data))


def model_files(root: Path) -> list[Path]:
    """Every file of a model directory but `eval/`, `state/`, hidden files and the manifest, sorted:
    what a checkpoint's manifest lists."""
    found = []
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if not (rel.parts[0] in UNHASHED_DIRS or rel.name == MANIFEST or rel.name.startswith(".")):
            found.append(path)
    return found


def hash_files(root: Path) -> dict[str, FileRecord]:
    """Sha256 and size of every `model_files` file: what a checkpoint's manifest lists, and what
    identifies a plain HF directory."""
    return {path.relative_to(root).as_posix(): FileRecord(sha256_file(path), path.stat().st_size) for path in model_files(root)}


def is_checkpoint(path: Path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def check_policy(checkpoint: "Checkpoint", use: str) -> None:
    """Refuse a reward model (`evolm rm`: a score head, no language-model head) where a policy is
    needed: `use` is what would have been done with it ("evaluated", "trained further")."""
    if stagespec.kind_of(checkpoint.stage) == "reward":
        raise BadInput(f"{checkpoint.path} is a reward model (evolm rm), not a policy: it cannot be {use} as one; "
                       "pass it to `evolm eval --reward-model`.")


def load_checkpoint(path: Path, *, verify: str = "full") -> Checkpoint:
    """Read and check a checkpoint. verify: 'full' (sha256 of every file), 'size', or 'none'."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"Checkpoint {path} does not exist or is not a directory.")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise CheckpointError(f"{path} is not an evolm checkpoint: it has no {MANIFEST} (incomplete or foreign directory).")
    data = manifest_path.read_bytes()
    try:
        manifest = parse_manifest(data)
    except ManifestError as exc:
        raise CheckpointError(f"{manifest_path} is not a readable evolm manifest: {exc}.") from None
    checkpoint = Checkpoint(path, manifest, sha256_bytes(data))
    try:
        expected = compute_signature(checkpoint.lineage)
    except (ValueError, KeyError, TypeError) as exc:  # a stage or knobs this evolm does not know
        raise CheckpointError(f"{manifest_path} has a lineage this evolm cannot read ({type(exc).__name__}: {exc}); it "
                              "was written by a newer evolm, or edited.") from None
    if manifest.signature != expected:
        raise CheckpointError(f"{manifest_path} is inconsistent: its signature {manifest.signature!r} does not match its lineage ({expected}).")
    # Manifests written before the content hash existed have none and are taken as they are.
    if manifest.content_sha256 is not None and manifest.content_sha256 != content_hash(json.loads(data)):
        raise CheckpointError(f"{manifest_path} was edited after the checkpoint was written (its content hash differs).")
    if verify != "none":
        _verify_files(path, manifest.files, full=(verify == "full"))
    return checkpoint


def _verify_files(root: Path, files: dict[str, FileRecord], *, full: bool) -> None:
    # A file the manifest does not list changes what transformers loads without changing anything it
    # lists (a special_tokens_map.json or added_tokens.json changes the tokenizer): refused, as an edit is.
    extra = [rel for rel in (path.relative_to(root).as_posix() for path in model_files(root)) if rel not in files]
    if extra:
        more = f" and {len(extra) - 3} more" if len(extra) > 3 else ""
        raise CheckpointError(f"Checkpoint {root} holds {', '.join(extra[:3])}{more}, which its manifest does not list: a "
                              "model or tokenizer loaded from it may not be the one recorded; move such files out of it.")
    for rel, record in files.items():
        target = root / rel
        if not target.is_file():
            raise CheckpointError(f"Checkpoint {root} is missing {rel}, which its manifest lists.")
        if target.stat().st_size != record.bytes or (full and sha256_file(target) != record.sha256):
            raise CheckpointError(f"Checkpoint {root} has an altered file {rel} (its hash differs from the manifest).")


def verify_lineage(checkpoint: Checkpoint, *, verify: str = "size") -> list[dict]:
    """Walk the parent chain on disk and check each parent's manifest hash against the child's record.

    Returns one entry per ancestor with `status` 'ok' or 'missing' (a parent directory that was moved
    or deleted is not an error: the flattened lineage in the manifest still names it). A parent
    whose manifest hash differs from the one recorded raises CheckpointError.
    """
    report = []
    current = checkpoint
    while current.manifest.parent is not None:
        parent_ref = current.manifest.parent
        parent_path = Path(parent_ref.path)
        if not is_checkpoint(parent_path):
            report.append({"path": str(parent_path), "signature": parent_ref.signature, "status": "missing"})
            break
        parent = load_checkpoint(parent_path, verify=verify)
        if parent.manifest_sha256 != parent_ref.manifest_sha256:
            raise CheckpointError(
                f"Parent {parent_path} of {current.path} has changed since the child was trained (manifest hash differs)."
            )
        report.append({"path": str(parent_path), "signature": parent.signature, "status": "ok"})
        current = parent
    return report
