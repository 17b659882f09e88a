"""`evolm data ...`: synthetic data, tokenizers, token shards, SFT/RL splits, benchmark sets."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from evolm.cli.common import ConfigOption, JsonOption, OverwriteOption, ResumeOption, count, emit
from evolm.errors import BadInput

app = typer.Typer(
    help="Data: synth (embedded default data), tokenizer, prepare (token shards), split (SFT/RL), benchmarks.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command()
def synth(
    out: Path = typer.Option(..., "--out", help="Directory to create."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives byte-identical files."),
    scale: str = typer.Option("tiny", "--scale", help="tiny (seconds, for tests), small (mini study), full."),
    overwrite: bool = OverwriteOption,
    as_json: bool = JsonOption,
    config: Optional[Path] = ConfigOption,
) -> None:
    """Generate the embedded default data: general and math text, an SFT/RL pool, ID/OOD test sets, cloze sets."""
    from evolm.console import log
    from evolm.stages.data import synth as synth_stage

    summary = synth_stage.run(out, seed=seed, scale=scale, overwrite=overwrite, log=log)
    emit(out, summary, as_json)


@app.command()
def tokenizer(
    text: Optional[List[Path]] = typer.Argument(None, metavar="TEXT", help="Text files or folders (.jsonl with a text field, .parquet, .txt)."),
    out: Path = typer.Option(..., "--out", help="Tokenizer directory to create."),
    vocab_size: Optional[str] = typer.Option(None, "--vocab-size", help="Vocabulary size of the trained BPE (e.g. 4096 or 32K)."),
    adopt: Optional[str] = typer.Option(None, "--from", help="Adopt an existing tokenizer (local path or hub name) instead of training."),
    text_field: str = typer.Option("text", "--text-field", help="Field or column holding the text."),
    overwrite: bool = OverwriteOption,
    as_json: bool = JsonOption,
    config: Optional[Path] = ConfigOption,
) -> None:
    """Train a byte-level BPE tokenizer on TEXT files, or adopt one with --from (the paper uses Llama-2's)."""
    from evolm.stages.data.tokenizer import make_tokenizer

    if adopt is None and not text:
        raise BadInput("Give TEXT files to train on, or --from NAME to adopt an existing tokenizer.")
    if adopt is not None and text:
        raise BadInput("Give either TEXT files to train on or --from NAME, not both.")
    if adopt is None and vocab_size is None:
        raise BadInput("Training a tokenizer needs --vocab-size.")
    if adopt is not None and vocab_size is not None:
        raise BadInput("--vocab-size is for training a tokenizer; one adopted with --from keeps its own vocabulary.")
    size = count(vocab_size, "vocabulary size") if vocab_size is not None else None
    record = make_tokenizer(out, sources=[str(t) for t in text or []], vocab_size=size, adopt=adopt,
                            text_field=text_field, overwrite=overwrite)
    emit(out, record, as_json)


@app.command()
def prepare(
    source: str = typer.Argument(..., metavar="SOURCE", help="Local .jsonl/.parquet/.txt file or folder, or a hub dataset name."),
    tokenizer: Path = typer.Option(..., "--tokenizer", help="Tokenizer directory (from `evolm data tokenizer`) or a checkpoint."),
    out: Path = typer.Option(..., "--out", help="Shard directory to create."),
    max_tokens: Optional[str] = typer.Option(None, "--max-tokens", help="Stop after this many training tokens (e.g. 2M, 80B)."),
    subset: Optional[List[str]] = typer.Option(
        None, "--subset", help="Hub dataset subset: a config name (sample-350BT, finemath-3plus) or a folder of the "
        "dataset (sample/350BT); repeatable: the subsets' documents interleaved into one shard set."),
    split: str = typer.Option("train", "--split", help="Hub dataset split."),
    revision: Optional[str] = typer.Option(
        None, "--revision", help="Hub dataset branch, tag or commit to read (default: main as it is now); shards.json "
        "records the commit read where the hub says."),
    text_field: str = typer.Option("text", "--text-field", help="Field or column holding the text."),
    val_fraction: float = typer.Option(0.01, "--val-fraction", help="Share of documents held out for validation: every n-th document, n = round(1 / share) (0.01: every 100th)."),
    overwrite: bool = OverwriteOption,
    resume: bool = ResumeOption,
    as_json: bool = JsonOption,
    config: Optional[Path] = ConfigOption,
) -> None:
    """Tokenize documents into packed token shards (EOS after each document, no BOS) with a validation split."""
    from evolm.stages.data.prepare import prepare as run_prepare
    from evolm.textsource import resolve_source

    cap = count(max_tokens, "--max-tokens") if max_tokens is not None else None
    resolved = resolve_source(source, text_field=text_field, subset=subset, split=split, revision=revision)
    result = run_prepare(resolved, tokenizer, out, max_tokens=cap, val_fraction=val_fraction, overwrite=overwrite,
                         resume=resume)
    splits = result.manifest["splits"]
    emit(out, {"reused": result.reused, "fingerprint": result.manifest["fingerprint"],
               "train_tokens": splits["train"]["tokens"], "val_tokens": splits["val"]["tokens"],
               "train_documents": splits["train"]["documents"], "val_documents": splits["val"]["documents"]}, as_json)


@app.command("split")
def split_command(
    pool: Path = typer.Argument(..., metavar="POOL", help="Problem pool (.jsonl or .parquet with problem and gt_solution)."),
    sft: str = typer.Option(..., "--sft", help="SFT examples: the first N of the pool (e.g. 100K)."),
    rl: str = typer.Option(..., "--rl", help="RL examples: the last M of the pool."),
    out: Path = typer.Option(..., "--out", help="Directory to create with sft.jsonl, rl.jsonl and split.json."),
    overwrite: bool = OverwriteOption,
    as_json: bool = JsonOption,
    config: Optional[Path] = ConfigOption,
) -> None:
    """Split a pool the paper's way: SFT = first N, RL = last M, refusing any overlap."""
    from evolm.stages.data.split import split_pool

    manifest = split_pool(pool, count(sft, "--sft"), count(rl, "--rl"), out, overwrite=overwrite)
    emit(out, manifest, as_json)


@app.command()
def benchmarks(
    out: Path = typer.Option(..., "--out", help="Directory to create with one jsonl per task."),
    from_dir: Optional[Path] = typer.Option(None, "--from", help="Copy and validate a local folder instead of downloading."),
    overwrite: bool = OverwriteOption,
    as_json: bool = JsonOption,
    config: Optional[Path] = ConfigOption,
) -> None:
    """Materialize the paper's downstream test sets (GSM8K-Platinum, MATH 1-5, CRUXEval, BoardgameQA, TabMWP, StrategyQA)."""
    from evolm.eval.benchmarks import materialize

    manifest = materialize(out, from_dir=from_dir, overwrite=overwrite)
    emit(out, manifest, as_json)
