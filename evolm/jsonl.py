"""JSON Lines: the one reader and writer every evolm module uses.

Written by hand because the standard library has no JSONL type and `datasets`/`pyarrow` readers
neither name the broken line of a user's file nor keep the byte-exact hash of what was written,
which the synthetic data's seed-to-bytes contract and the benchmark files' byte-for-byte checks
need. Rows are written in binary with `\\n` endings so no platform translates them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Iterable, Iterator

from evolm import jsontext
from evolm.errors import BadInput


def dumps(row, *, sort_keys: bool = True, ensure_ascii: bool = False) -> str:
    """One JSONL line without its newline (a NaN is written as null and named, `evolm.jsontext`)."""
    return jsontext.dumps(row, ensure_ascii=ensure_ascii, sort_keys=sort_keys)


def read_jsonl(path: Path) -> Iterator[tuple[int, object]]:
    """Yield (line number, parsed value) for each non-blank line; a broken line (or a file that is not
    UTF-8 text at all, such as a parquet file) is named in BadInput."""
    with open(path, encoding="utf-8") as handle:
        number = 0
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BadInput(f"{path} line {number} is not valid JSON ({exc.msg}).") from None
        except UnicodeDecodeError:
            raise BadInput(f"{path} line {number + 1} is not UTF-8 text: not a JSON Lines file.") from None


def read_rows(path: Path) -> list:
    """Every row of a JSONL file, in order."""
    return [row for _, row in read_jsonl(path)]


def complete_prefix(path: Path) -> tuple[list[tuple[bytes, object]], int]:
    """The lines of an append-only log up to the first one a kill cut short or left unparsable:
    ([(raw line, parsed value)], bytes they span). Logs written with `append_jsonl` use this to
    drop a torn last line on resume."""
    lines: list[tuple[bytes, object]] = []
    good = 0
    with open(path, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                break
            lines.append((line, value))
            good += len(line)
    return lines, good


class JsonlWriter:
    """Writes rows and keeps the row count, byte count and sha256 of exactly what was written."""

    def __init__(self, path: Path, *, sort_keys: bool = True, ensure_ascii: bool = False):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._format = {"sort_keys": sort_keys, "ensure_ascii": ensure_ascii}
        self._file = open(path, "wb")
        self._sha = hashlib.sha256()
        self.rows = 0
        self.bytes = 0

    def write(self, row) -> int:
        data = (dumps(row, **self._format) + "\n").encode("utf-8")
        self._file.write(data)
        self._sha.update(data)
        self.rows += 1
        self.bytes += len(data)
        return len(data)

    def close(self) -> dict:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        return {"rows": self.rows, "bytes": self.bytes, "sha256": self._sha.hexdigest()}

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc) -> None:
        if not self._file.closed:
            self._file.close()


def write_jsonl(path: Path, rows: Iterable, *, sort_keys: bool = True, ensure_ascii: bool = False) -> dict:
    """Write all rows (replacing the file); return {"rows", "bytes", "sha256"}."""
    writer = JsonlWriter(path, sort_keys=sort_keys, ensure_ascii=ensure_ascii)
    try:
        for row in rows:
            writer.write(row)
    finally:
        info = writer.close()
    return info


def append_jsonl(path: Path, rows: Iterable, *, fsync: bool = True) -> None:
    """Append rows to a log; with `fsync` they are on disk when this returns (a kill keeps them)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as handle:
        for row in rows:
            handle.write((dumps(row, sort_keys=False) + "\n").encode("utf-8"))
        handle.flush()
        if fsync:
            os.fsync(handle.fileno())
