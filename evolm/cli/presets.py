"""`evolm presets`: every model preset with its shape, parameter count and training defaults."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer

from evolm import jsontext
from evolm.cli.common import ConfigOption, TableJsonOption, count, echo_result
from evolm.errors import BadInput
from evolm.presets import PRESETS
from evolm.units import format_count


def presets(
    vocab: Optional[str] = typer.Option(None, "--vocab", help="Count parameters at this vocabulary instead of each preset's default (e.g. 4096 or 32K, as `evolm data tokenizer --vocab-size`)."),
    as_json: bool = TableJsonOption,
    config: Optional[Path] = ConfigOption,
) -> None:
    """List model presets (the paper's 0.5B/1B/4B, the authors' 125M/250M/2B, CPU presets 1M/4M/16M,
    and tiny for pipeline checks) with their pre-training, SFT and RL defaults (rl_lengths: max prompt
    + max completion tokens)."""
    vocab = count(vocab, "--vocab") if vocab is not None else None
    if vocab is not None and vocab <= 0:
        raise BadInput("--vocab must be positive.")
    rows = [{**preset.describe(vocab), "sft": asdict(preset.sft), "rl": asdict(preset.rl)} for preset in PRESETS.values()]
    if as_json:
        echo_result(jsontext.dumps({"presets": rows}, indent=2))
        return
    headers = ("preset", "params", "hidden", "interm", "layers", "heads", "kv", "vocab", "seq", "batch", "peak_lr", "defaults",
               "sft_lr", "sft_batch", "rl_lr", "rl_prompts", "rl_lengths", "post_defaults")
    lines = [headers] + [
        (row["name"], _params(row["params"]), row["hidden"], row["intermediate"], row["layers"], row["heads"],
         row["kv_heads"], row["vocab"], row["seq_len"], row["global_batch"], f"{row['peak_lr']:g}", row["defaults_from"],
         f"{row['sft']['lr']:g}", row["sft"]["global_batch"], f"{row['rl']['lr']:g}", row["rl"]["prompts_per_step"],
         f"{row['rl']['max_prompt_length']}+{row['rl']['max_completion_length']}", _post_defaults(row))
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(headers))]
    for line in lines:
        echo_result("  ".join(str(cell).rjust(width) for cell, width in zip(line, widths)))


def _post_defaults(row: dict) -> str:
    """Where the SFT and RL defaults come from: paper / evolm (sft/rl when they differ)."""
    sft, rl = row["sft"]["defaults_from"], row["rl"]["defaults_from"]
    return sft if sft == rl else f"{sft}/{rl}"


def _params(params: int) -> str:
    """0.501B / 1.001B / 4.000B as the paper writes them; smaller models as 1.02M, 125M."""
    return f"{params / 1e9:.3f}B" if params >= 4e8 else format_count(params, precision=2)
