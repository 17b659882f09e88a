"""`evolm data split`: the paper's disjoint SFT/RL scheme over one problem pool.

SFT takes the first N examples of the pool and RL the last M; the two are disjoint as long as
N + M <= pool size, and we refuse anything else. `sft_range` / `rl_range` are the single definition
that `evolm sft` and `evolm rl` use too.

A split folder holds `sft.jsonl`, `rl.jsonl` and `split.json` (which pool, and which of its rows
each part took). `evolm sft --data` and `evolm rl --data` accept it as well as the pool file:
`select_examples` places the examples of either in the pool's own row numbers, so RL's overlap check
against the lineage's SFT rows works whichever form each stage was given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from evolm.console import log
from evolm.errors import BadInput
from evolm.fsutil import atomic_dir, sha256_file, write_json
from evolm.jsonl import read_jsonl, write_jsonl
from evolm.options import out_of_range

REQUIRED_FIELDS = ("problem", "gt_solution")


def sft_range(pool_size: int, n: int) -> tuple[int, int]:
    """Row range [start, end) of the first n examples."""
    _check_size(pool_size, n, "SFT")
    return 0, n


def rl_range(pool_size: int, m: int) -> tuple[int, int]:
    """Row range [start, end) of the last m examples."""
    _check_size(pool_size, m, "RL")
    return pool_size - m, pool_size


def _check_size(pool_size: int, n: int, what: str) -> None:
    if n < 0:
        raise BadInput(f"The {what} size must not be negative.")
    if n > pool_size:
        raise BadInput(f"The {what} size {n} is larger than the pool ({pool_size} examples).")


def check_disjoint(pool_size: int, sft: tuple[int, int], rl: tuple[int, int]) -> None:
    if max(sft[0], rl[0]) < min(sft[1], rl[1]):
        overlap = min(sft[1], rl[1]) - max(sft[0], rl[0])
        raise BadInput(
            f"SFT rows [{sft[0]}, {sft[1]}) and RL rows [{rl[0]}, {rl[1]}) overlap by {overlap} examples "
            f"in a pool of {pool_size}; SFT + RL must not exceed the pool size."
        )


def read_pool(path: Path) -> list[dict]:
    """Read a problem pool, .jsonl or .parquet (as the hub keeps datasets), in its row order, checking
    every row has `problem` and `gt_solution`."""
    path = Path(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.jsonl")) + sorted(p.name for p in path.glob("*.parquet"))
        raise BadInput(f"Pool {path} is a folder; give the pool's .jsonl or .parquet file"
                       + (f" ({', '.join(str(path / name) for name in inside[:3])})." if inside else "."))
    if not path.is_file():
        raise BadInput(f"Pool {path} does not exist.")
    rows = []
    for number, row in (_parquet_rows(path) if path.suffix == ".parquet" else read_jsonl(path)):
        missing = [f for f in REQUIRED_FIELDS if not isinstance(row, dict) or not isinstance(row.get(f), str)]
        if missing:
            where = "row" if path.suffix == ".parquet" else "line"
            raise BadInput(f"{path} {where} {number} lacks the field(s) {', '.join(missing)} every pool example needs.")
        rows.append(row)
    if not rows:
        raise BadInput(f"Pool {path} is empty.")
    return rows


def _parquet_rows(path: Path):
    """(row number from 1, row) of a parquet pool, read in record batches."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise BadInput(f"{path} is not a readable parquet file ({exc}).") from None
    number = 0
    for batch in parquet.iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            number += 1
            yield number, _as_json(row)


def _as_json(value):
    """A parquet row as JSON values: its other columns (timestamps, bytes) as text, so that the split's
    .jsonl files can hold them."""
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def split_pool(pool: Path, sft: int, rl: int, out: Path, *, overwrite: bool = False) -> dict:
    if sft == 0 and rl == 0:  # a split with neither part is no split; refused before the pool is read
        raise BadInput("--sft 0 and --rl 0 would write a split with both parts empty; give at least one of them 1 or more.")
    for flag, size in (("--sft", sft), ("--rl", rl)):
        if size < 0:
            raise out_of_range(flag, size, "0 or more")
    rows = read_pool(pool)
    sft_rows, rl_rows = sft_range(len(rows), sft), rl_range(len(rows), rl)
    check_disjoint(len(rows), sft_rows, rl_rows)
    shared = shared_problems(rows[sft_rows[0]:sft_rows[1]], rows[rl_rows[0]:rl_rows[1]])
    if shared:
        log(f"warning: {shared} of the RL part's {rl} problems are also in the SFT part (the same problem text in "
            f"other rows of {pool}); RL then trains on problems SFT has seen.")
    manifest = {
        "format": "evolm-split",
        "version": 1,
        "pool": {"path": str(Path(pool).resolve()), "sha256": sha256_file(Path(pool)), "size": len(rows)},
        "sft": {"start": sft_rows[0], "end": sft_rows[1], "examples": sft, "file": "sft.jsonl"},
        "rl": {"start": rl_rows[0], "end": rl_rows[1], "examples": rl, "file": "rl.jsonl"},
    }
    with atomic_dir(out, overwrite=overwrite, marker=SPLIT_MANIFEST, what="split from `evolm data split`",
                    inputs={"the pool": Path(pool)}) as tmp:
        for part, (start, end) in (("sft", sft_rows), ("rl", rl_rows)):
            write_jsonl(tmp / f"{part}.jsonl", rows[start:end], sort_keys=False)
        write_json(tmp / SPLIT_MANIFEST, manifest)
    return manifest


def shared_problems(sft_rows: list[dict], rl_rows: list[dict]) -> int:
    """RL rows whose problem text is also an SFT row's: disjoint row ranges do not make disjoint
    problems when the pool repeats some."""
    seen = {row.get("problem") for row in sft_rows}
    return sum(row.get("problem") in seen for row in rl_rows)


SPLIT_MANIFEST = "split.json"
PARTS = ("sft", "rl")


@dataclass
class Selection:
    """The examples one SFT or RL run trains on, placed in their pool's rows."""

    rows: list[dict]
    start: int
    """First pool row (inclusive)."""
    end: int
    """Last pool row (exclusive)."""
    pool_sha256: str
    pool_size: int
    record: dict
    """The manifest's data entry: pool, rows, examples (and the split folder with its hash)."""
    source_end: int
    """End of the pool rows this selection may draw from: the pool's size, or the split part's end."""
    available: int
    """How many examples the source offers: the pool's size, or the split part's size."""


def read_split(path: Path) -> tuple[dict, str]:
    """A split folder's manifest and its sha256, checked."""
    path = Path(path)
    manifest_path = path / SPLIT_MANIFEST
    if not manifest_path.is_file():
        raise BadInput(f"{path} is a folder without {SPLIT_MANIFEST}; --data takes a pool .jsonl or .parquet file or a split "
                       "folder from `evolm data split`.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInput(f"{manifest_path} is not valid JSON ({exc.msg}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != "evolm-split":
        raise BadInput(f"{manifest_path} is not the manifest of an `evolm data split` folder.")
    if manifest.get("version", 0) > 1:
        raise BadInput(f"{manifest_path} is a split of format version {manifest['version']}, newer than this evolm reads (1).")
    return manifest, sha256_file(manifest_path)


def select_examples(data: Path, part: str, n: int | None) -> Selection:
    """The examples of `part` ("sft": the first n, "rl": the last n) of a pool file or a split
    folder (of its `part` part; n None: all of it)."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}")
    data = Path(data)
    if data.is_dir():
        return _from_split(data, part, n)
    if n is None:
        raise BadInput(f"--examples is needed with a pool file ({data}); only a split folder knows its own sizes.")
    rows = read_pool(data)
    start, end = (sft_range if part == "sft" else rl_range)(len(rows), n)
    sha = sha256_file(data)
    record = {"pool": str(data.resolve()), "pool_sha256": sha, "pool_size": len(rows), "rows": [start, end],
              "examples": end - start}
    return Selection(rows[start:end], start, end, sha, len(rows), record, source_end=len(rows), available=len(rows))


def _from_split(folder: Path, part: str, n: int | None) -> Selection:
    manifest, sha = read_split(folder)
    entry, pool = manifest[part], manifest["pool"]
    rows = read_pool(folder / entry["file"])
    if len(rows) != entry["end"] - entry["start"]:
        raise BadInput(f"{folder / entry['file']} has {len(rows)} examples but {folder / SPLIT_MANIFEST} lists "
                       f"{entry['end'] - entry['start']}; the split folder was altered, re-run `evolm data split`.")
    n = len(rows) if n is None else n
    if n < 0:
        raise BadInput(f"The {part.upper()} size must not be negative.")
    if n > len(rows):
        raise BadInput(f"The {part.upper()} size {n} is larger than the {part.upper()} part of the split {folder} "
                       f"({len(rows)} examples).")
    # SFT: the first n of its part; RL: the last n of its part (the pool's rule, inside the part).
    local = (0, n) if part == "sft" else (len(rows) - n, len(rows))
    start, end = entry["start"] + local[0], entry["start"] + local[1]
    record = {"pool": pool["path"], "pool_sha256": pool["sha256"], "pool_size": pool["size"], "rows": [start, end],
              "examples": n, "split": str(folder.resolve()), "split_sha256": sha, "split_part": part}
    return Selection(rows[local[0]:local[1]], start, end, pool["sha256"], pool["size"], record,
                     source_end=entry["end"], available=len(rows))
