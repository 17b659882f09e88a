"""The paper's downstream test sets, validated, in one folder (`evolm data benchmarks`), and the
cache that `evolm eval` fills from the hub when no `--benchmarks` folder is given.

Either copied from a local folder (such as the repository's `tests/data/benchmarks`) after checking
every line, or built from the public hub sources (`evolm.eval.tasks.hub`). The output holds one
`{id, problem, gt_solution, gt_answer}` jsonl per task, named by the task, and `benchmarks.json`
with each file's rows and sha256 (the task version that evaluation results record). Which files
there are, their domains and their gold answers come from the task declarations.
"""

from __future__ import annotations

import os
from pathlib import Path

from evolm.console import log
from evolm.errors import BadInput
from evolm.eval.tasks.base import Grader
from evolm.eval.tasks.registry import FAMILIES, paper_tasks
from evolm.fsutil import atomic_dir, sha256_file, write_json
from evolm.jsonl import read_jsonl

FIELDS = ("id", "problem", "gt_solution", "gt_answer")
MANIFEST = "benchmarks.json"


def validate_file(path: Path, grader: Grader, fields: tuple[str, ...] = FIELDS) -> int:
    """Check one benchmark file line by line (`fields` present, a problem, an id not seen before, a gold
    answer); return its row count or raise BadInput naming the line."""
    seen: set[str] = set()
    rows = 0
    for number, row in read_jsonl(path):
        where = f"{path} line {number}"
        if not isinstance(row, dict):
            raise BadInput(f"{where} is not a JSON object.")
        missing = [f for f in fields if f not in row]
        if missing:
            raise BadInput(f"{where} lacks the field(s) {', '.join(missing)}.")
        if not isinstance(row["problem"], str) or not row["problem"].strip():
            raise BadInput(f"{where} has an empty problem.")
        if not isinstance(row["id"], str) or row["id"] in seen:
            raise BadInput(f"{where} has a missing or repeated id {row['id']!r}.")
        seen.add(row["id"])
        if grader.gold(row) is None:
            raise BadInput(f"{where} has no gold answer ({grader.GOLD_HINT}).")
        rows += 1
    if rows == 0:
        raise BadInput(f"{path} holds no rows.")
    return rows


def materialize(out: Path, *, from_dir: Path | None = None, overwrite: bool = False) -> dict:
    """Write all paper tasks into `out` from a local folder or the hub; return the manifest."""
    specs = paper_tasks()
    if from_dir is not None:
        from_dir = Path(from_dir)
        if not from_dir.is_dir():
            raise BadInput(f"Benchmarks folder {from_dir} " + ("is a file, not a folder." if from_dir.exists() else "does not exist."))
        missing = [s.name for s in specs if not (from_dir / f"{s.name}.jsonl").is_file()]
        if missing:
            raise BadInput(f"Benchmarks folder {from_dir} lacks {', '.join(f'{s}.jsonl' for s in missing)}.")
        for spec in specs:  # validate everything before writing anything
            validate_file(from_dir / f"{spec.name}.jsonl", FAMILIES[spec.family])
    files = {}
    with atomic_dir(out, overwrite=overwrite, marker=MANIFEST, what="benchmark folder from `evolm data benchmarks`",
                    inputs={"the benchmarks folder": from_dir}) as tmp:
        for spec in specs:
            target = tmp / f"{spec.name}.jsonl"
            if from_dir is not None:
                target.write_bytes((from_dir / f"{spec.name}.jsonl").read_bytes())
                source = str(from_dir.resolve())
            else:
                source = _fetch_from_hub(spec.name, target)
            rows = validate_file(target, FAMILIES[spec.family])
            if from_dir is not None:
                _warn_if_not_the_papers_size(spec.name, rows)
            files[spec.name] = {"file": target.name, "rows": rows, "sha256": sha256_file(target), "domain": spec.domain,
                                "source": source}
            log(f"{spec.name}: {rows} rows ({spec.domain})")
        manifest = {"format": "evolm-benchmarks", "version": 1, "tasks": files}
        write_json(tmp / MANIFEST, manifest)
    return manifest


def _warn_if_not_the_papers_size(stem: str, rows: int) -> None:
    """A local copy with another number of rows than the paper's file (a sample, a truncated
    download) is kept, as a user may mean it, but said: its results do not compare with the paper's."""
    from evolm.eval.tasks import hub

    expected = hub.task_for(stem).rows
    if rows != expected:
        log(f"warning: {stem}.jsonl has {rows} rows; the paper's {stem} has {expected}, so results on it do not compare with the paper's.")


def _fetch_from_hub(stem: str, target: Path) -> str:
    from evolm.eval.tasks import hub

    try:
        rows = hub.fetch(stem, log=log)
    except hub.HubUnavailable as exc:
        raise BadInput(f"{exc} Use --from with a local copy of the test sets instead.") from None
    hub.write_jsonl(rows, target)  # ASCII-escaped like the published files
    return hub.source_name(stem)


def cache_dir() -> Path:
    """Where `evolm eval` keeps the paper's test sets it fetched (EVOLM_CACHE, default ~/.cache/evolm)."""
    return Path(os.environ.get("EVOLM_CACHE") or Path.home() / ".cache" / "evolm") / "benchmarks"


def default_benchmarks(downstream: list[str], registry) -> Path | None:
    """The folder to evaluate `downstream` tasks from when no --benchmarks is given: the paper's test
    sets, fetched from the hub once into the cache (pinned subsets, as `evolm data benchmarks`
    writes them), when any of those tasks is one of them; else none."""
    if not any(registry.specs[name].source == "hub" for name in downstream):
        return None
    cache = cache_dir()
    if not (cache / MANIFEST).is_file():
        if cache.is_dir() and any(cache.iterdir()):  # not a folder evolm wrote: refused, not replaced
            raise BadInput(f"The benchmark cache {cache} holds files but no {MANIFEST}; empty it, set EVOLM_CACHE to "
                           "another folder, or pass --benchmarks DIR.")
        log(f"fetching the paper's test sets from the hub into {cache} (once)")
        try:
            materialize(cache, overwrite=True)
        except BadInput as exc:  # unreachable, or what it served did not validate: say which
            raise BadInput(f"The paper's test sets are not in {cache} and the hub could not provide them "
                           f"({str(exc).splitlines()[0].rstrip('.')}); "
                           "pass --benchmarks DIR (a folder made by `evolm data benchmarks --from ...`).") from None
    return cache
