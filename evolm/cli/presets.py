"""`evolm presets`: every model preset with its shape and parameter count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from evolm.cli.common import ConfigOption, JsonOption
from evolm.errors import BadInput
from evolm.presets import PRESETS
from evolm.units import format_count


def presets(
    vocab: Optional[int] = typer.Option(None, "--vocab", help="Count parameters at this vocabulary instead of each preset's default."),
    as_json: bool = JsonOption,
    config: Optional[Path] = ConfigOption,
) -> None:
    """List model presets (the paper's 0.5B/1B/4B, the authors' 125M/250M/2B, CPU presets 1M/4M/16M)."""
    if vocab is not None and vocab <= 0:
        raise BadInput("--vocab must be positive.")
    rows = [preset.describe(vocab) for preset in PRESETS.values()]
    if as_json:
        typer.echo(json.dumps({"presets": rows}, indent=2))
        return
    headers = ("preset", "params", "hidden", "interm", "layers", "heads", "kv", "vocab", "seq", "batch", "peak_lr", "defaults")
    lines = [headers] + [
        (row["name"], _params(row["params"]), row["hidden"], row["intermediate"], row["layers"], row["heads"],
         row["kv_heads"], row["vocab"], row["seq_len"], row["global_batch"], f"{row['peak_lr']:g}", row["defaults_from"])
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(headers))]
    for line in lines:
        typer.echo("  ".join(str(cell).rjust(width) for cell, width in zip(line, widths)))


def _params(params: int) -> str:
    """0.501B / 1.001B / 4.000B as the paper writes them; smaller models as 1.02M, 125M."""
    return f"{params / 1e9:.3f}B" if params >= 4e8 else format_count(params, precision=2)
