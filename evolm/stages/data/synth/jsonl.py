"""Byte-stable JSONL writing: sorted keys, one row per line, '\\n' endings, hashed as written."""

from __future__ import annotations

import hashlib
import json
import pathlib
from typing import Iterable


class JsonlWriter:
    """Writes rows and keeps the row count, byte count and sha256 of exactly what was written."""

    def __init__(self, path: pathlib.Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = open(path, "wb")  # binary: no newline translation on any platform
        self._sha = hashlib.sha256()
        self.rows = 0
        self.bytes = 0

    def write(self, row: dict) -> int:
        data = (json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        self._file.write(data)
        self._sha.update(data)
        self.rows += 1
        self.bytes += len(data)
        return len(data)

    def close(self) -> dict:
        self._file.close()
        return {"rows": self.rows, "bytes": self.bytes, "sha256": self._sha.hexdigest()}

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc) -> None:
        if not self._file.closed:
            self._file.close()


def write_jsonl(path: pathlib.Path, rows: Iterable[dict]) -> dict:
    """Write all rows; return {"rows", "bytes", "sha256"}."""
    writer = JsonlWriter(path)
    try:
        for row in rows:
            writer.write(row)
    finally:
        info = writer.close()
    return info


def read_jsonl(path: pathlib.Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
