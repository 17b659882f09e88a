"""The data a checkpoint's lineage was pre-trained on, found through its manifest.

Used by CPT (to measure forgetting on the pre-training domain) and by evaluation (validation loss
of any later checkpoint on that same split).
"""

from __future__ import annotations

from pathlib import Path

from evolm.checkpoint import Checkpoint
from evolm.console import log
from evolm.manifest import DataSource


def pretraining_data(checkpoint: Checkpoint) -> list[DataSource]:
    """The data records of the lineage's pre-training run (carried forward by later stages)."""
    if checkpoint.stage == "pretrain":
        return checkpoint.manifest.data
    return checkpoint.manifest.pretraining_data


def pretraining_shards(checkpoint: Checkpoint, skip: list[Path] = ()) -> Path | None:
    """The shard folder of the lineage's pre-training data, when it is still on disk, the same shards
    (content fingerprint) with the same tokenizer."""
    from evolm.shards import TokenShards

    for record in pretraining_data(checkpoint):
        if not record.path:
            continue
        path = Path(record.path)
        if any(path.resolve() == Path(p).resolve() for p in skip):
            continue
        if (path / "shards.json").is_file():
            shards = TokenShards(path)
            if shards.tokenizer_sha256 != checkpoint.manifest.tokenizer.sha256:
                continue
            if record.fingerprint and shards.fingerprint != record.fingerprint:
                # prepared again in place (another source or split): its "val" may hold what was trained on
                log(f"warning: {path} holds other shards than {checkpoint.signature}'s pre-training read (prepared "
                    "again since); no validation loss on the pre-training data.")
                continue
            return path
    return None
