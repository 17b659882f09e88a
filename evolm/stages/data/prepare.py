"""`evolm data prepare`: documents -> packed token shards with a held-out validation split.

Documents are tokenized in batches with the Rust tokenizer's `encode_batch`, which spreads each
batch over all cores; each document gets EOS appended and no BOS. Every `val_every`-th document
(starting with the first) goes to the validation split. `max_tokens` caps the training split,
cutting the last document so the prefix is exact. A re-run with the same inputs is a no-op.

The shards are written in OUT.partial/, which saves its progress every SAVE_SECONDS: an interrupted
preparation (Ctrl-C, a killed job) continues with --resume, skipping the documents already read
without tokenizing them (a hub source streams them again), and ends with the same bytes as one run.
"""

from __future__ import annotations

import itertools
import json
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from evolm import shards
from evolm.console import Progress, log
from evolm.errors import BadInput
from evolm.fsutil import canonical_json, check_output_dir, claim_output, release_output, replace_dir, sha256_bytes, write_json
from evolm.textsource import ReadPosition, TextSource, text_inputs
from evolm.tokenizer import load_fast_tokenizer, token_dtype, tokenizer_fingerprint
from evolm.training.rundir import RUN, open_run_dir, partial_dir

BATCH_DOCUMENTS = 512
PROGRESS = "progress.json"
"""In OUT.partial: where an unfinished preparation is (documents read, the shard writer's state)."""
SAVE_SECONDS = 30.0
"""How often an unfinished preparation saves its progress: a resume repeats at most this much work."""


@dataclass
class PrepareResult:
    path: Path
    manifest: dict
    reused: bool


def prepare(source: TextSource, tokenizer_dir: Path, out: Path, **options) -> PrepareResult:
    """Tokenize `source` into a shard folder `out` (`_prepare`), as the one run writing it: a second
    preparation of OUT is refused while this one runs, from before its checks to the end."""
    claim_output(out)
    try:
        return _prepare(source, tokenizer_dir, out, **options)
    finally:
        release_output(out)


def _prepare(
    source: TextSource,
    tokenizer_dir: Path,
    out: Path,
    *,
    max_tokens: int | None = None,
    val_fraction: float = 0.01,
    shard_tokens: int = shards.DEFAULT_SHARD_TOKENS,
    overwrite: bool = False,
    resume: bool = False,
) -> PrepareResult:
    if not 0 < val_fraction <= 0.5:
        raise BadInput(f"--val-fraction must be in (0, 0.5], got {val_fraction}.")
    if max_tokens is not None and max_tokens <= 0:
        raise BadInput("--max-tokens must be positive.")
    tokenizer_dir = Path(tokenizer_dir)
    tokenizer = load_fast_tokenizer(tokenizer_dir)
    # A document's text is text: `<|endoftext|>` or `</s>` written in it (web pages hold `</s>` as
    # strike-through HTML) is not a document boundary. The tokenizer would match its special tokens in
    # the text even without add_special_tokens; each document's one EOS is appended by id.
    tokenizer.backend.encode_special_tokens = True
    tok_sha = tokenizer_fingerprint(tokenizer_dir)
    val_every = max(2, round(1 / val_fraction))
    if abs(1 / val_every - val_fraction) > 0.1 * val_fraction:  # 0.4 is every 2nd document, 0.3 every 3rd
        log(f"note: --val-fraction {val_fraction:g} holds out 1 document in {val_every} ({1 / val_every:.1%})")
    # The EOS token lives in tokenizer_config.json, outside the tokenizer's fingerprint, and every
    # document ends with it: shards packed with another EOS are other shards.
    settings = {"source": source.fingerprint(), "tokenizer": tok_sha, "eos_token": tokenizer.eos_token, "max_tokens": max_tokens,
                "val_every": val_every, "shard_tokens": shard_tokens, "format_version": shards.VERSION,
                "special_tokens_in_text": "as text"}
    inputs_fingerprint = sha256_bytes(canonical_json(settings).encode())

    out = Path(out)
    existing = _existing_manifest(out)
    if existing is not None and existing.get("inputs_fingerprint") == inputs_fingerprint and not overwrite:
        log(f"{out} already holds these shards (same source, tokenizer and settings); nothing to do.")
        _say_if_the_hub_moved(source, existing)
        return PrepareResult(out, existing, reused=True)
    if existing is not None and not overwrite:
        raise BadInput(f"{out} holds shards prepared with other settings (source, tokenizer, --max-tokens, --val-fraction, "
                       "or an earlier evolm's rules); pass --overwrite to replace them.")
    check_output_dir(out, overwrite=overwrite, marker=shards.MANIFEST, what="folder of shards from `evolm data prepare`",
                     inputs={"the tokenizer": tokenizer_dir, **text_inputs([source])})
    partial = partial_dir(out)
    saved = _saved_progress(partial)
    if partial.exists() and not resume and not overwrite:
        raise BadInput(f"An interrupted preparation exists at {partial} ({_kept(saved)}); pass --resume to continue it "
                       "or --overwrite to start over.")
    if resume and not partial.exists():
        raise BadInput(f"Nothing to resume: there is no {partial}.")
    if resume and saved is None:
        log(f"warning: {partial} holds no saved progress (saved every {SAVE_SECONDS:.0f} s), so the preparation starts "
            "again from the first document")
    continuing = resume and saved is not None
    open_run_dir(partial, {"stage": "data prepare", **settings}, resume=continuing)  # refuses changed settings
    snapshot = source.snapshot()  # the hub commit, asked before reading: what the documents come from
    if continuing:
        snapshot = resumed_snapshot(partial, source, saved["snapshot"], snapshot)

    dtype = token_dtype(tokenizer.vocab_size)
    # the documents are read at the commit recorded (a --revision branch or tag too, by its sha), not at
    # whatever the branch holds a moment later
    reading = replace(source, revision=snapshot["commit"]) if snapshot.get("commit") else source
    try:
        if continuing:
            writer = shards.ShardWriter.restore(partial, dtype, shard_tokens, saved["writer"])
            start = (saved["documents_read"], saved["documents_placed"], saved.get("stream"))
            log(f"resuming {partial} at {writer.tokens('train'):,} training tokens ({start[0]:,} documents read)")
        else:
            writer, start = shards.ShardWriter(partial, dtype, shard_tokens), (0, 0, None)
        remaining = None if max_tokens is None else max_tokens - writer.tokens("train")
        checkpoints = _Checkpoints(partial, writer, snapshot)
        with Progress(f"prepare {source.spec}", total=remaining, unit="tokens") as progress:
            if remaining is None or remaining > 0:
                try:
                    _tokenize_into(reading, tokenizer.backend, tokenizer.eos_id, writer, val_every, max_tokens, progress,
                                   start, checkpoints.save)
                except BadInput:
                    if not source.is_hub:  # a local file's bad row: mending it changes the source's fingerprint, so
                        shutil.rmtree(partial, ignore_errors=True)  # a resume would be refused; nothing is kept
                    raise
        splits = writer.finish()
    except KeyboardInterrupt:
        raise KeyboardInterrupt(_after_stop(partial)) from None
    except BadInput:
        _after_stop(partial)
        raise
    except BaseException:
        # a stream that failed mid-way (the hub's connection, after datasets' own retries): what a rerun has
        log(f"prepare stopped: {_after_stop(partial)}")
        raise
    if splits["train"]["documents"] == 0 or splits["val"]["documents"] == 0:
        shutil.rmtree(partial, ignore_errors=True)  # the source itself is short: a resume would only end here again
        raise BadInput(
            f"Source {source.spec} has {splits['train']['documents'] + splits['val']['documents']} non-empty "
            "documents: too few to hold out a validation split."
            if splits["train"]["documents"] + splits["val"]["documents"] else f"Source {source.spec} contains no text."
        )
    manifest = {
        "format": shards.FORMAT,
        "version": shards.VERSION,
        "source": {**source.describe(), **snapshot},
        "tokenizer": {"sha256": tok_sha, "path": str(tokenizer_dir.resolve()), "vocab_size": tokenizer.vocab_size,
                      "eos_id": tokenizer.eos_id, "eos_token": tokenizer.eos_token},
        "dtype": dtype,
        "val_every": val_every,
        "max_tokens": max_tokens,
        "splits": splits,
        "fingerprint": shards.content_fingerprint(splits, tok_sha),
        "inputs_fingerprint": inputs_fingerprint,
    }
    for record in (PROGRESS, RUN):
        (partial / record).unlink(missing_ok=True)
    write_json(partial / shards.MANIFEST, manifest)  # last: its presence means complete
    replace_dir(partial, out)
    return PrepareResult(out, manifest, reused=False)


class _Checkpoints:
    """Saves, at most every SAVE_SECONDS and only between batches (where the writer's files and the
    count of documents read agree), where the preparation is: a resume skips the documents read
    (without tokenizing them) and continues the files."""

    def __init__(self, partial: Path, writer: shards.ShardWriter, snapshot: dict):
        self.partial, self.writer, self.snapshot = partial, writer, snapshot
        self.last = time.monotonic()

    def save(self, read: int, placed: int, position: ReadPosition) -> None:
        if time.monotonic() - self.last < SAVE_SECONDS:
            return
        stream = position.state()  # a hub stream's position, which a resume continues from (not reading again)
        write_json(self.partial / PROGRESS, {"documents_read": read, "documents_placed": placed, "snapshot": self.snapshot,
                                             "train_tokens": self.writer.tokens("train"), "writer": self.writer.state(),
                                             **({"stream": stream} if stream is not None else {})})
        self.last = time.monotonic()


def resumed_snapshot(partial: Path, source: TextSource, then: dict, now: dict) -> dict:
    """The hub snapshot a resume reads (`then`: the one the interrupted run recorded, `now`: what the hub
    says now), or the refusal where the documents a resume skips may not be the ones read."""
    if then != now:
        was, serves = then.get("commit"), now.get("commit")
        says = f"it serves commit {serves} now" if serves else "it does not say which commit it serves now"
        if was is None:
            raise BadInput(f"Cannot resume {partial}: the hub did not say which commit of the dataset the interrupted run "
                           f"read, and {says}, so the documents a resume skips may not be the ones read; use --overwrite "
                           "to start over (and --revision to pin a commit).")
        # A dataset's branch moves with any commit (a README edit), which must not cost a days-long
        # preparation its progress: the resume reads the commit the interrupted run read, by its sha.
        log(f"the hub: {says} of {source.spec}; the resume reads commit {was}, as the interrupted run did")
        return then
    if source.is_hub and not now.get("commit") and not _full_sha(source.revision):
        # the hub named no commit either time (its API failed while streaming worked): the saved position may
        # point into other files now
        raise BadInput(f"Cannot resume {partial}: the hub said neither then nor now which commit of {source.spec} it "
                       "serves, so the documents a resume skips may not be the ones read; rerun when the hub answers, "
                       "or use --overwrite to start over (and --revision SHA to pin a commit).")
    return now


def _full_sha(revision: str | None) -> bool:
    """Whether a --revision is a commit's full sha (which cannot move), not a branch or tag."""
    return bool(revision) and len(revision) == 40 and all(c in "0123456789abcdef" for c in revision.lower())


def _saved_progress(partial: Path) -> dict | None:
    path = partial / PROGRESS
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except json.JSONDecodeError:  # written atomically, so only a hand-edited file; nothing to continue from
        return None


def _kept(saved: dict | None) -> str:
    return "no progress saved" if saved is None else f"{saved['train_tokens']:,} training tokens saved"


def _after_stop(partial: Path) -> str:
    """A stopped preparation keeps its folder only where it saved progress; says which."""
    saved = _saved_progress(partial)
    if saved is None:
        shutil.rmtree(partial, ignore_errors=True)
        return f"nothing was kept (no progress was saved yet; it is saved every {SAVE_SECONDS:.0f} s)"
    return f"{partial} kept ({_kept(saved)}): rerun with --resume to continue"


def _say_if_the_hub_moved(source: TextSource, manifest: dict) -> None:
    """An unpinned hub source is keyed by its name, not its commit (a key that asked the hub would make
    shards unusable offline), so shards of an older snapshot are reused: say so where the hub now serves
    another commit, and how to read it."""
    held = manifest.get("source", {}).get("commit")
    now = source.snapshot().get("commit") if held and source.is_hub and not source.revision else None
    if now and now != held:
        log(f"note: these shards hold commit {held} of {source.hub_name}, and the hub serves commit {now} now; "
            "pass --overwrite to prepare them from it (or --revision to pin one).")


def _existing_manifest(out: Path) -> dict | None:
    path = out / shards.MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None


def _tokenize_into(source, backend, eos_id, writer, val_every, max_tokens, progress, start, save) -> None:
    """Tokenize the source's documents from `start` = (documents read, non-empty documents placed, the
    hub stream's saved position or None) on."""
    read, index, stream = start
    position = ReadPosition(read, stream)
    batch: list[str] = []
    for text in source.documents(position):
        read += 1
        if not text:
            continue
        batch.append(text)
        if len(batch) == BATCH_DOCUMENTS:
            index = _write_batch(batch, index, backend, eos_id, writer, val_every, max_tokens, progress)
            batch = []
            if max_tokens is not None and writer.tokens("train") >= max_tokens:
                return
            save(read, index, position)
    if batch:
        _write_batch(batch, index, backend, eos_id, writer, val_every, max_tokens, progress)


def _write_batch(batch, index, backend, eos_id, writer, val_every, max_tokens, progress) -> int:
    # encode_batch_fast skips character offsets, which we never use: ~25% faster than encode_batch.
    encode = getattr(backend, "encode_batch_fast", backend.encode_batch)
    encodings = encode(batch, add_special_tokens=False)
    end = len(batch)
    if max_tokens is not None:  # the documents read up to the one that fills the cap: no validation document past it
        room, filled = max_tokens - writer.tokens("train"), 0
        for i in (i for i in range(len(batch)) if (index + i) % val_every != 0):
            filled += len(encodings[i].ids) + 1
            if filled >= room:
                end = i + 1
                break
    for split in shards.SPLITS:
        chosen = [enc.ids for i, enc in enumerate(encodings[:end]) if ((index + i) % val_every == 0) == (split == "val")]
        if split == "train" and max_tokens is not None:
            chosen = _cap(chosen, max_tokens - writer.tokens("train"))
        if not chosen:
            continue
        lengths = [len(ids) + 1 for ids in chosen]
        stream = np.fromiter(itertools.chain.from_iterable(ids + [eos_id] for ids in chosen), dtype=np.int64, count=sum(lengths))
        if split == "train" and max_tokens is not None:
            stream = stream[:max_tokens - writer.tokens("train")]
        writer.write(split, stream, documents=len(chosen))
        if split == "train":
            progress.update(len(stream), docs=writer.documents["train"])
    return index + len(batch)


def _cap(chosen: list, room: int) -> list:
    """Keep only the documents needed to fill `room` more training tokens."""
    kept, total = [], 0
    for ids in chosen:
        if total >= room:
            break
        kept.append(ids)
        total += len(ids) + 1
    return kept
