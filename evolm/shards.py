"""Packed token shards: the on-disk format that pre-training and CPT read.

A shard directory holds the concatenated token stream of many documents, each ending with EOS and
none starting with BOS (the paper's packing), as flat little-endian uint16/uint32 files,
split into `train` and `val`, plus `shards.json`:

    {"format": "evolm-shards", "version": 1, "source": ..., "tokenizer": {"sha256", "vocab_size",
     "eos_id", "path"}, "dtype": "uint16", "splits": {"train": {"tokens", "documents", "files":
     [{"name", "tokens", "sha256"}]}, "val": {...}}, "fingerprint": ..., "inputs_fingerprint": ...}

Trainers cut the stream into windows of seq_len + 1 tokens; `SplitReader.window` reads one.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evolm.errors import BadInput
from evolm.fsutil import canonical_json, sha256_bytes

MANIFEST = "shards.json"
FORMAT = "evolm-shards"
VERSION = 1
SPLITS = ("train", "val")
DEFAULT_SHARD_TOKENS = 100_000_000


@dataclass
class _OpenFile:
    name: str
    handle: object
    digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)
    tokens: int = 0


class ShardWriter:
    """Appends token arrays to per-split shard files, rolling to a new file every `shard_tokens`."""

    def __init__(self, root: Path, dtype: str, shard_tokens: int = DEFAULT_SHARD_TOKENS):
        self.root, self.dtype, self.shard_tokens = Path(root), np.dtype(dtype).newbyteorder("<"), shard_tokens
        self.files: dict[str, list[dict]] = {split: [] for split in SPLITS}
        self.documents = {split: 0 for split in SPLITS}
        self._open: dict[str, _OpenFile] = {}

    def write(self, split: str, tokens: np.ndarray, documents: int) -> None:
        self.documents[split] += documents
        tokens = tokens.astype(self.dtype, copy=False)
        while len(tokens):
            current = self._current(split)
            room = self.shard_tokens - current.tokens
            chunk, tokens = tokens[:room], tokens[room:]
            data = chunk.tobytes()
            current.handle.write(data)
            current.digest.update(data)
            current.tokens += len(chunk)
            if current.tokens >= self.shard_tokens:
                self._close(split)

    def tokens(self, split: str) -> int:
        done = sum(f["tokens"] for f in self.files[split])
        return done + (self._open[split].tokens if split in self._open else 0)

    def _current(self, split: str) -> _OpenFile:
        if split not in self._open:
            name = f"{split}-{len(self.files[split]):05d}.bin"
            self._open[split] = _OpenFile(name, open(self.root / name, "wb"))
        return self._open[split]

    def _close(self, split: str) -> None:
        current = self._open.pop(split)
        current.handle.close()
        self.files[split].append({"name": current.name, "tokens": current.tokens, "sha256": current.digest.hexdigest()})

    def state(self) -> dict:
        """What `restore` needs to continue this writer in another process: the files closed (with
        their hashes), the open ones' names and token counts (their bytes flushed to disk), the
        documents per split. Saved by a resumable `evolm data prepare`."""
        for current in self._open.values():
            current.handle.flush()
            os.fsync(current.handle.fileno())
        return {"files": self.files, "documents": self.documents,
                "open": {split: {"name": f.name, "tokens": f.tokens} for split, f in self._open.items()}}

    @classmethod
    def restore(cls, root: Path, dtype: str, shard_tokens: int, state: dict) -> "ShardWriter":
        """The writer `state` describes, over the files in `root`: an open file is cut back to the tokens
        it held then (a killed run wrote on after its last saved state) and its hash recomputed from
        its bytes (a hash object cannot be saved); files begun after the state are removed."""
        writer = cls(root, dtype, shard_tokens)
        writer.files = {split: list(state["files"][split]) for split in SPLITS}
        writer.documents = {split: state["documents"][split] for split in SPLITS}
        for split, record in state["open"].items():
            path, size = writer.root / record["name"], record["tokens"] * writer.dtype.itemsize
            if not path.is_file() or path.stat().st_size < size:
                raise BadInput(f"Cannot resume: {path} is missing or shorter than its saved state; use --overwrite to start over.")
            handle = open(path, "r+b")
            handle.truncate(size)
            current = _OpenFile(record["name"], handle, tokens=record["tokens"])
            for block in iter(lambda: handle.read(1 << 24), b""):
                current.digest.update(block)
            writer._open[split] = current
        for record in (f for split in SPLITS for f in writer.files[split]):
            path = writer.root / record["name"]
            if not path.is_file() or path.stat().st_size != record["tokens"] * writer.dtype.itemsize:
                raise BadInput(f"Cannot resume: {path} is missing or truncated; use --overwrite to start over.")
        kept = {f["name"] for split in SPLITS for f in writer.files[split]} | {f.name for f in writer._open.values()}
        for stray in writer.root.glob("*.bin"):
            if stray.name not in kept:
                stray.unlink()
        return writer

    def finish(self) -> dict:
        for split in list(self._open):
            self._close(split)
        return {
            split: {"tokens": sum(f["tokens"] for f in files), "documents": self.documents[split], "files": files}
            for split, files in self.files.items()
        }


def content_fingerprint(splits: dict, tokenizer_sha256: str) -> str:
    """Identity of the token stream itself: every file's hash plus the tokenizer's."""
    hashes = {split: [f["sha256"] for f in data["files"]] for split, data in splits.items()}
    return sha256_bytes(canonical_json({"splits": hashes, "tokenizer": tokenizer_sha256}).encode())


class SplitReader:
    """One split as a single logical array over its files.

    Each window is read with its file opened for that read, not through memory maps held open: Python's
    mmap keeps a file descriptor per map, so mapping every file of a paper-scale split (FineWeb-Edu at
    160B tokens is 1,600 files of 100M tokens; CPT with replay adds FineMath's) ran past the usual limit
    of 1,024 open files in every process. An open and a read cost about 30 us a window here, against
    about 18 us from a held map: under 20 ms for a 1B step of 512 windows."""

    def __init__(self, root: Path, dtype: np.dtype, files: list[dict]):
        self.dtype = dtype
        self.paths = [root / f["name"] for f in files if f["tokens"]]
        self.offsets = np.cumsum([0] + [f["tokens"] for f in files if f["tokens"]])
        self.tokens = int(self.offsets[-1])

    def __len__(self) -> int:
        return self.tokens

    def _read(self, index: int, start: int, count: int) -> np.ndarray:
        with open(self.paths[index], "rb") as handle:
            handle.seek(start * self.dtype.itemsize)
            data = handle.read(count * self.dtype.itemsize)
        if len(data) != count * self.dtype.itemsize:
            raise BadInput(f"Shard {self.paths[index]} is shorter than its manifest says; re-run `evolm data prepare`.")
        return np.frombuffer(data, dtype=self.dtype)

    def window(self, start: int, length: int) -> np.ndarray:
        """Tokens [start, start + length) of the stream, crossing file boundaries if needed."""
        if start < 0 or start + length > self.tokens:
            raise IndexError(f"window [{start}, {start + length}) outside a split of {self.tokens} tokens")
        pieces = []
        index = int(np.searchsorted(self.offsets, start, side="right")) - 1
        while length > 0:
            local = start - int(self.offsets[index])
            take = min(length, int(self.offsets[index + 1]) - start)
            pieces.append(self._read(index, local, take))
            start, length, index = start + take, length - take, index + 1
        return np.concatenate(pieces) if len(pieces) > 1 else pieces[0].copy()


class TokenShards:
    """A shard directory opened for reading, with its manifest checked."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        path = self.root / MANIFEST
        if not path.is_file():
            raise BadInput(f"{self.root} is not a token-shard directory (no {MANIFEST}); make one with `evolm data prepare`.")
        try:
            self.manifest = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path} is not valid JSON ({exc.msg}).") from None
        if self.manifest.get("format") != FORMAT:
            raise BadInput(f"{path} is not an evolm shard manifest.")
        self.dtype = np.dtype(self.manifest["dtype"]).newbyteorder("<")
        for split, data in self.manifest["splits"].items():
            for record in data["files"]:
                file = self.root / record["name"]
                if not file.is_file() or file.stat().st_size != record["tokens"] * self.dtype.itemsize:
                    raise BadInput(f"Shard {file} is missing or truncated; re-run `evolm data prepare`.")

    @property
    def tokenizer_sha256(self) -> str:
        return self.manifest["tokenizer"]["sha256"]

    @property
    def eos_id(self) -> int:
        return self.manifest["tokenizer"]["eos_id"]

    @property
    def tokenizer_path(self) -> str:
        """Where the tokenizer the shards were made with was (the default tokenizer of a run on them)."""
        return self.manifest["tokenizer"]["path"]

    @property
    def vocab_size(self) -> int:
        return self.manifest["tokenizer"]["vocab_size"]

    @property
    def source(self) -> str | None:
        """Where the shards' text came from."""
        return self.manifest.get("source")

    @property
    def fingerprint(self) -> str:
        return self.manifest["fingerprint"]

    def split(self, name: str) -> SplitReader:
        if name not in self.manifest["splits"]:
            raise BadInput(f"{self.root} has no {name!r} split.")
        return SplitReader(self.root, self.dtype, self.manifest["splits"][name]["files"])
