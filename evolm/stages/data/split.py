"""`evolm data split`: the paper's disjoint SFT/RL scheme over one problem pool.

SFT takes the first N examples of the pool and RL the last M; the two are disjoint as long as
N + M <= pool size, and we refuse anything else. `sft_range` / `rl_range` are the single definition
that `evolm sft` and `evolm rl` use too.
"""

from __future__ import annotations

import json
from pathlib import Path

from evolm.errors import BadInput
from evolm.fsutil import atomic_dir, read_jsonl, sha256_file, write_json

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
    """Read a jsonl problem pool, checking every row has `problem` and `gt_solution`."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"Pool {path} does not exist.")
    rows = []
    for number, row in read_jsonl(path):
        missing = [f for f in REQUIRED_FIELDS if not isinstance(row, dict) or not isinstance(row.get(f), str)]
        if missing:
            raise BadInput(f"{path} line {number} lacks the field(s) {', '.join(missing)} every pool example needs.")
        rows.append(row)
    if not rows:
        raise BadInput(f"Pool {path} is empty.")
    return rows


def split_pool(pool: Path, sft: int, rl: int, out: Path, *, overwrite: bool = False) -> dict:
    rows = read_pool(pool)
    sft_rows, rl_rows = sft_range(len(rows), sft), rl_range(len(rows), rl)
    check_disjoint(len(rows), sft_rows, rl_rows)
    manifest = {
        "format": "evolm-split",
        "version": 1,
        "pool": {"path": str(Path(pool).resolve()), "sha256": sha256_file(Path(pool)), "size": len(rows)},
        "sft": {"start": sft_rows[0], "end": sft_rows[1], "examples": sft, "file": "sft.jsonl"},
        "rl": {"start": rl_rows[0], "end": rl_rows[1], "examples": rl, "file": "rl.jsonl"},
    }
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for part, (start, end) in (("sft", sft_rows), ("rl", rl_rows)):
            with open(tmp / f"{part}.jsonl", "w", encoding="utf-8") as handle:
                for row in rows[start:end]:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        write_json(tmp / "split.json", manifest)
    return manifest
