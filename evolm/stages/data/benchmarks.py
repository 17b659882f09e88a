"""`evolm data benchmarks`: the paper's downstream test sets, validated, in one folder.

Either copied from a local folder (such as the project's `shared/benchmarks`) after checking every
line, or built from the public hub sources (`benchmark_hub`). The output holds one
`{id, problem, gt_solution, gt_answer}` jsonl per task, named by the task, and `benchmarks.json`
with each file's rows and sha256 (the task version that evaluation results record).
"""

from __future__ import annotations

from pathlib import Path

from evolm.console import log
from evolm.errors import BadInput
from evolm.fsutil import atomic_dir, read_jsonl, sha256_file, write_json

# stem -> (domain, how the gold answer is found); the paper's section 4.
PAPER_TASKS: dict[str, tuple[str, str]] = {
    "GSM8KPlatinum": ("id", "gsm8k"),
    "MATHLevel1": ("id", "boxed"),
    "MATHLevel2": ("id", "boxed"),
    "MATHLevel3": ("id", "boxed"),
    "MATHLevel4": ("id", "boxed"),
    "MATHHard": ("id", "boxed"),
    "MATH500": ("id", "answer"),
    "CRUXEval": ("ood", "answer"),
    "BoardgameQA500": ("ood", "answer"),
    "TabMWP": ("ood", "answer"),
    "StrategyQA500": ("ood", "answer"),
}
FIELDS = ("id", "problem", "gt_solution", "gt_answer")


def validate_file(path: Path, gold: str = "answer") -> int:
    """Check one benchmark file line by line; return its row count or raise BadInput naming the line."""
    seen: set[str] = set()
    rows = 0
    for number, row in read_jsonl(path):
        where = f"{path} line {number}"
        if not isinstance(row, dict):
            raise BadInput(f"{where} is not a JSON object.")
        missing = [f for f in FIELDS if f not in row]
        if missing:
            raise BadInput(f"{where} lacks the field(s) {', '.join(missing)}.")
        if not isinstance(row["problem"], str) or not row["problem"].strip():
            raise BadInput(f"{where} has an empty problem.")
        if not isinstance(row["id"], str) or row["id"] in seen:
            raise BadInput(f"{where} has a missing or repeated id {row['id']!r}.")
        seen.add(row["id"])
        if not _has_gold(row, gold):
            raise BadInput(f"{where} has no gold answer ({_GOLD_HINT[gold]}).")
        rows += 1
    if rows == 0:
        raise BadInput(f"{path} holds no rows.")
    return rows


_GOLD_HINT = {"gsm8k": "expected '#### N' in gt_solution", "boxed": "expected \\boxed{} in gt_solution",
              "answer": "expected a non-empty gt_answer"}


def _has_gold(row: dict, gold: str) -> bool:
    solution, answer = row.get("gt_solution") or "", row.get("gt_answer")
    if gold == "gsm8k":
        return "####" in solution or bool(answer)
    if gold == "boxed":
        return "\\boxed" in solution or bool(answer)
    return isinstance(answer, str) and answer.strip() != ""


def materialize(out: Path, *, from_dir: Path | None = None, overwrite: bool = False) -> dict:
    """Write all paper tasks into `out` from a local folder or the hub; return the manifest."""
    if from_dir is not None:
        from_dir = Path(from_dir)
        if not from_dir.is_dir():
            raise BadInput(f"Benchmarks folder {from_dir} does not exist.")
        missing = [s for s in PAPER_TASKS if not (from_dir / f"{s}.jsonl").is_file()]
        if missing:
            raise BadInput(f"Benchmarks folder {from_dir} lacks {', '.join(f'{s}.jsonl' for s in missing)}.")
        for stem, (_, gold) in PAPER_TASKS.items():  # validate everything before writing anything
            validate_file(from_dir / f"{stem}.jsonl", gold)
    files = {}
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for stem, (domain, gold) in PAPER_TASKS.items():
            target = tmp / f"{stem}.jsonl"
            if from_dir is not None:
                target.write_bytes((from_dir / f"{stem}.jsonl").read_bytes())
                source = str(from_dir.resolve())
            else:
                source = _fetch_from_hub(stem, target)
            rows = validate_file(target, gold)
            files[stem] = {"file": target.name, "rows": rows, "sha256": sha256_file(target), "domain": domain, "source": source}
            log(f"{stem}: {rows} rows ({domain})")
        manifest = {"format": "evolm-benchmarks", "version": 1, "tasks": files}
        write_json(tmp / "benchmarks.json", manifest)
    return manifest


def _fetch_from_hub(stem: str, target: Path) -> str:
    from evolm.stages.data import benchmark_hub

    try:
        rows = benchmark_hub.fetch(stem, log=log)
    except benchmark_hub.HubUnavailable as exc:
        raise BadInput(f"{exc} Use --from with a local copy of the test sets instead.") from None
    benchmark_hub.write_jsonl(rows, target)  # ASCII-escaped like the published files
    return benchmark_hub.source_name(stem)
