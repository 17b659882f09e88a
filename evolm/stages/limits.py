"""What a model can take: its positions, so every stage refuses a length past them before any work.

A Llama model has `max_position_embeddings` positions; a sequence longer than that trains on
rotary angles the model never saw (pre-training at 4096 tokens on a 1024-position preset gave a
NaN validation loss), and a cutoff past it is recorded as if it had been used. The positions come
from the preset for pre-training and from the parent's `config.json` for every later stage (read
as JSON: no weights are loaded before the options are checked).
"""

from __future__ import annotations

import json
from pathlib import Path

from evolm.errors import BadInput
from evolm.options import out_of_range


def checkpoint_positions(path: Path) -> int:
    """The positions of the model in a checkpoint directory (its config.json)."""
    config = Path(path) / "config.json"
    try:
        positions = json.loads(config.read_text(encoding="utf-8")).get("max_position_embeddings")
    except (OSError, ValueError, AttributeError):
        raise BadInput(f"{config} is missing or not a model config; the checkpoint {path} is incomplete.") from None
    if not isinstance(positions, int) or positions < 1:
        raise BadInput(f"{config} gives no max_position_embeddings; the checkpoint {path} is not a causal LM evolm can train.")
    return positions


def check_length(flag: str, value: int, positions: int, model: str) -> None:
    """Refuse a per-sequence length past the model's positions (`model` names it: "the 1M preset")."""
    if value > positions:
        raise out_of_range(flag, value, f"between 1 and {positions}, the positions of {model}")
