"""The data a checkpoint's lineage was pre-trained on, found through its manifest.

Used by CPT (to measure forgetting on the pre-training domain) and by evaluation (validation loss
of any later checkpoint on that same split).
"""

from __future__ import annotations

from pathlib import Path

from evolm.checkpoint import Checkpoint
from evolm.manifest import DataSource


def pretraining_data(checkpoint: Checkpoint) -> list[DataSource]:
    """The data records of the lineage's pre-training run (carried forward by later stages)."""
    if checkpoint.stage == "pretrain":
        return checkpoint.manifest.data
    return checkpoint.manifest.pretraining_data


def pretraining_shards(checkpoint: Checkpoint, skip: list[Path] = ()) -> Path | None:
    """The shard folder of the lineage's pre-training data, when it is still on disk with the same
    tokenizer."""
    from evolm.shards import TokenShards

    for record in pretraining_data(checkpoint):
        path = Path(record.path or "")
        if any(path.resolve() == Path(p).resolve() for p in skip):
            continue
        if (path / "shards.json").is_file():
            if TokenShards(path).tokenizer_sha256 == checkpoint.manifest.tokenizer.sha256:
                return path
    return None
