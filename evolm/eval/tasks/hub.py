"""The paper's 11 downstream test sets, rebuilt from their public Hugging Face hub sources.

The loading machinery lives here; each task's recipe (its `HubTask`: sources, pinned subset and
order, the `to_row` prompt wrapper) is declared with the task in its grader family's module
(`gsm8k`, `math`, `cruxeval`, `truth`, `tabmwp`), and `TABLE` is built from those declarations.

`fetch(stem, log)` loads a task's public source(s) with `datasets.load_dataset` (or, for TabMWP, one
raw JSON file with `huggingface_hub.hf_hub_download`), applies the EvoLM prompt wrapper with the
task's pure `to_row(record)` and returns the rows `{"id", "problem", "gt_solution", "gt_answer"}` in
the EvoLM files' order. Written with `write_jsonl` (`json.dumps(row)` per line, ASCII escapes, as the
authors wrote them), the result is meant to be byte-identical to the files the EvoLM authors
evaluated on (a copy ships in the repository's `tests/data/benchmarks`). Any loading failure (offline, a removed dataset,
`datasets` not installed) raises `HubUnavailable`; a hub copy that no longer matches what EvoLM used
raises `HubMismatch` (a `HubUnavailable`), so callers can fall back to a local copy either way.

How the EvoLM files were made (the authors' data-preparation scripts, found in public code search:
`data/cooked/test/{GSM8KPlatinum,CRUXEval,BoardgameQA,StrategyQA,TabMWP,MATH,MATHHard}` builders)
and where each source lives now:

GSM8KPlatinum (1209; licence MIT): `madrylab/gsm8k-platinum`, config `main`, split `test`, fields
    `question`, `answer`. id = `GSM8KPlatinum-{row index:04d}`; problem = question, gt_solution =
    answer (gold after `#### `), gt_answer = null. The authors shuffled the rows without a seed, so
    the file order is pinned (`benchmark_pins.json`).
MATHLevel1..4, MATHHard (437/894/1131/1214/1324 = the 5000 MATH test problems; MIT): the authors
    read the original MATH release (`MATH/test/<subject>/<n>.json`) in sorted path order; id =
    `MATH-<subject>-<n>` (`MATHHard-...` for level 5), where `<n>` is the original file number;
    problem / gt_solution = the original problem / solution text, gt_answer = null. No single hub
    copy carries both the original text and the file numbers, so two are joined on the exact
    problem text: `EleutherAI/hendrycks_math` (one config per subject, split `test`: `problem`,
    `level`, `type`, `solution`, the original text) and `nlile/hendrycks-MATH-benchmark` (the
    PRM800K re-split, splits `train` + `test`, whose `unique_id` is the original path, e.g.
    `test/algebra/10.json`). PRM800K edited 12 of the 500 MATH-500 solutions (e.g. `\\frac12` ->
    `\\frac{1}{2}`) and the EvoLM MATH-level files keep the original text, so the solution text
    must come from the EleutherAI copy, not from the PRM800K one.
MATH500 (500; MIT, from PRM800K/MATH): `HuggingFaceH4/MATH-500`, split `test`: `problem`,
    `solution`, `answer`, `unique_id`. id = `MATH500-<subject>-<n>`, gt_answer = answer, hub order.
    The EvoLM copy differs from the hub in two gold answers, written without `\\left( \\right)`
    (`_MATH500_ANSWERS`); they are applied so the rows match.
CRUXEval (800; MIT): `cruxeval-org/cruxeval`, split `test`: `id` (`sample_N`), `code`, `input`,
    `output` (output prediction). Unseeded shuffle in the original: order pinned (`benchmark_pins.json`).
BoardgameQA500 (500; CC BY 4.0): `tasksource/Boardgame-QA` (all 15 BoardgameQA variants, 15000 test
    rows), split `test`: `example`, `label` (proved/disproved/unknown -> True/False/Uncertain).
    id = `BoardgameQA-{row index:04d}` over all 15000 rows; rows whose wrapped problem has more than
    2048/1.3 whitespace words were dropped, then 500 drawn by an unseeded shuffle. The 500 drawn ids
    and their order are pinned (`benchmark_pins.json`); `pinned=False` draws a seeded sample instead.
TabMWP (1000; CC BY-NC-SA 4.0): the 1000-problem `test1k` subset of TabMWP (PromptPG release,
    `problems_test1k.json`: `question`, `table`, `answer`, ...), read from the hub mirror
    `Arietem/tabmwp` at the revision that still holds that file. id = `TabMWP-{position}`. APPROXIMATE:
    the authors converted a `test.jsonl` with an `idx` field from an unnamed source (most likely the
    ToRA / Qwen2.5-Math evaluation copy of test1k); that it is test1k in file order is inferred from
    the 1000 rows and sequential ids, not verified against the hub file.
StrategyQA500 (500; MIT): the original `strategyQA_train.json` (2290 questions with `qid`, `facts`,
    `question`, `answer`), on the hub as `havens2/strategyQA_train`, split `train` (other copies:
    `wics/strategy-qa`, a loading script; `ChilleD/StrategyQA`, the same rows split 1603/687). id =
    `StrategyQA-{qid}`; problem = numbered facts + instruction + question; gt = str(answer). The 500
    were drawn by an unseeded shuffle: their qids and order are pinned (`benchmark_pins.json`).

The pinned id lists were read from the EvoLM files; they hold ids only, no benchmark content.
Licences: GSM8K-Platinum MIT; MATH / MATH-500 MIT; CRUXEval MIT; BoardgameQA CC BY 4.0; TabMWP
CC BY-NC-SA 4.0 (non-commercial); StrategyQA MIT. Mirrors (`nlile/...`, `Arietem/...`, `havens2/...`)
redistribute these under the original licences.
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from evolm import jsonl

Log = Callable[[str], None]


# Seed for `pinned=False` subsets (BoardgameQA500, StrategyQA500); the EvoLM draw itself was unseeded.
SUBSET_SEED = 0


class HubUnavailable(Exception):
    """A test set could not be loaded from the Hugging Face hub; the message is one sentence."""


class HubMismatch(HubUnavailable):
    """The hub copy loaded, but no longer matches the rows EvoLM evaluated on."""


@dataclass(frozen=True)
class HubSource:
    """One hub dataset split (or, with `filename`, one raw JSON file in a dataset repo)."""

    path: str
    name: str | None = None
    split: str | None = None
    revision: str | None = None
    filename: str | None = None

    def describe(self) -> str:
        parts = [p for p in (self.name, self.split, self.filename) if p]
        where = f"hf://datasets/{self.path}" + (f" ({', '.join(parts)})" if parts else "")
        return where + (f" @ {self.revision[:12]}" if self.revision else "")


@dataclass(frozen=True)
class HubTask:
    """How one EvoLM test file is rebuilt from the hub."""

    stem: str
    sources: tuple[HubSource, ...]
    to_row: Callable[[dict], dict]
    licence: str
    fidelity: str  # "exact": every field, id and the order reproduce the EvoLM file; "approximate": see note
    note: str
    rows: int  # rows in the EvoLM file
    hub_rows: int | None = None  # records the (joined) hub source holds; checked when pinned
    keep: Callable[[dict], bool] | None = None  # which hub records belong to the task
    pinned_ids: tuple[str, ...] | None = None  # the EvoLM subset and order
    sort_by_id: bool = False
    assemble: Callable[[list[list[dict]]], list[dict]] | None = None  # combine several sources
    source_names: tuple[str, ...] | None = None  # how manifests name the sources (default: each described)


# --------------------------------------------------------------------------------------------
# to_row: one hub record -> one EvoLM row. Pure functions, each in its grader family's module with
# the task's HubTask (evolm/eval/tasks/<family>.py); records from several sources or with a row
# index are prepared by `fetch` (the `idx` field = the record's position in its hub split).
# --------------------------------------------------------------------------------------------

def evolm_row(id_: str, problem: str, solution, answer) -> dict:
    """A row in the EvoLM file format."""
    return {"id": id_, "problem": problem, "gt_solution": solution, "gt_answer": answer}


# --------------------------------------------------------------------------------------------
# Loading.
# --------------------------------------------------------------------------------------------

def source_name(stem: str) -> str:
    """Where a task's rows come from, for manifests: the hub source(s), joined by ' + '."""
    task = task_for(stem)
    return " + ".join(task.source_names or dict.fromkeys(source.describe() for source in task.sources))


def task_for(stem: str) -> HubTask:
    try:
        return _table()[stem]
    except KeyError:
        raise ValueError(f"Unknown benchmark {stem!r}; expected one of {', '.join(_table())}.") from None


def _load_records(source: HubSource) -> list[dict]:
    """Load one hub source as a list of plain dicts (the one place that touches the network)."""
    if source.filename:
        from huggingface_hub import hf_hub_download

        path = hf_hub_download(repo_id=source.path, filename=source.filename, repo_type="dataset",
                               revision=source.revision)
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if isinstance(data, dict):  # PromptPG layout: {pid: problem}, in file order
            return [dict(value, pid=key) for key, value in data.items()]
        return [dict(value) for value in data]
    import datasets

    dataset = datasets.load_dataset(source.path, source.name, split=source.split, revision=source.revision)
    return [dict(record) for record in dataset]


def _first_line(exc: BaseException, limit: int = 160) -> str:
    """`Type: first sentence of the message`, short enough to sit inside one sentence of ours."""
    text = (str(exc).strip().splitlines() or [""])[0].split(". ")[0].rstrip(".")
    text = text if len(text) <= limit else text[:limit - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _load(task: HubTask, log: Log) -> list[dict]:
    parts = []
    for source in task.sources:
        log(f"{task.stem}: loading {source.describe()}")
        try:
            records = _load_records(source)
        except HubUnavailable:
            raise
        except ImportError as exc:
            raise HubUnavailable(f"Cannot load {source.describe()} because a package is missing "
                                 f"({_first_line(exc)}); install `datasets`.") from exc
        except Exception as exc:  # offline, removed or renamed dataset, bad revision, ...
            raise HubUnavailable(f"Could not load {source.describe()} from the Hugging Face hub "
                                 f"({_first_line(exc)}).") from exc
        parts.append([dict(record, idx=i) if "idx" not in record else record for i, record in enumerate(records)])
    if task.assemble is not None:
        try:
            return task.assemble(parts)
        except (KeyError, TypeError, ValueError) as exc:  # the hub schema changed under us (HubMismatch is none)
            raise HubMismatch(f"{source_name(task.stem)} no longer has the fields EvoLM used ({_first_line(exc)}).") from exc
    return [record for part in parts for record in part]


def rows_from_records(stem: str, records: Sequence[dict], *, pinned: bool = True) -> list[dict]:
    """Turn loaded hub records into the task's rows: filter, wrap, then select and order them."""
    task = task_for(stem)
    where = source_name(stem)
    if pinned and task.hub_rows is not None and len(records) != task.hub_rows:
        raise HubMismatch(f"{where} holds {len(records)} records where EvoLM's copy held {task.hub_rows}.")
    rows = [task.to_row(r) for r in records if task.keep is None or task.keep(r)]
    if task.sort_by_id:
        rows.sort(key=lambda row: row["id"])
    if pinned and task.pinned_ids is not None:
        by_id = {row["id"]: row for row in rows}
        missing = [i for i in task.pinned_ids if i not in by_id]
        if missing:
            raise HubMismatch(f"{len(missing)} of the {len(task.pinned_ids)} EvoLM {stem} ids are not in "
                              f"{where} (first: {missing[0]}).")
        rows = [by_id[i] for i in task.pinned_ids]
    elif task.pinned_ids is not None and len(rows) > task.rows:  # a fresh, seeded draw of the same size
        rows = random.Random(SUBSET_SEED).sample(rows, task.rows)
    if pinned and len(rows) != task.rows:
        raise HubMismatch(f"{where} gives {len(rows)} {stem} rows where EvoLM's file has {task.rows}.")
    return rows


def fetch(stem: str, log: Log | None = None, *, pinned: bool = True) -> list[dict]:
    """Load one EvoLM test set from its public hub source(s) and return its rows in file order.

    `pinned=True` (default) reproduces the EvoLM subset and order (and checks the hub copy still has
    the expected size); `pinned=False` keeps the hub order and draws subsets with `SUBSET_SEED`.
    Raises HubUnavailable (or its subclass HubMismatch) with a one-sentence message.
    """
    task = task_for(stem)
    log = log or (lambda message: None)
    records = _load(task, log)
    try:
        rows = rows_from_records(stem, records, pinned=pinned)
    except (KeyError, TypeError, ValueError) as exc:  # the hub schema changed under us
        raise HubMismatch(f"{source_name(stem)} no longer has the fields EvoLM used ({_first_line(exc)}).") from exc
    log(f"{stem}: {len(rows)} rows from {source_name(stem)}")
    return rows


def evolm_order(row: dict) -> dict:
    """A row with EvoLM's fields in EvoLM's key order."""
    return {key: row[key] for key in ("id", "problem", "gt_solution", "gt_answer")}


def dumps_row(row: dict) -> str:
    """One jsonl line exactly as EvoLM wrote its files (default `json.dumps`: ASCII escapes)."""
    return jsonl.dumps(evolm_order(row), sort_keys=False, ensure_ascii=True)


def write_jsonl(rows: Iterable[dict], path: Path) -> int:
    """Write rows as EvoLM did (default `json.dumps` per line: EvoLM's key order, ASCII escapes);
    return the row count."""
    return jsonl.write_jsonl(path, (evolm_order(r) for r in rows), sort_keys=False, ensure_ascii=True)["rows"]


# --------------------------------------------------------------------------------------------
# Pinned data: what EvoLM's files hold that the hub cannot tell (ids only, read from the files).
# --------------------------------------------------------------------------------------------

# Row indices / ids in EvoLM file order, kept beside this module (ids only, no benchmark content).
_PINS = json.loads((Path(__file__).with_name("benchmark_pins.json")).read_text(encoding="utf-8"))


def pinned_ids(stem: str, prefix: str, width: int = 0) -> tuple[str, ...]:
    """The ids of a task's EvoLM rows in EvoLM's order, from the pinned row indices or ids."""
    return tuple(f"{prefix}{int(x):0{width}d}" if width else f"{prefix}{x}" for x in _PINS[stem])


# --------------------------------------------------------------------------------------------
# The table: every hub-sourced task's recipe, as its grader family declares it.
# --------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _table() -> dict[str, HubTask]:
    from evolm.eval.tasks.registry import paper_tasks  # the families import this module: resolve lazily

    return {spec.name: spec.hub for spec in paper_tasks()}


def __getattr__(name: str):
    """`TABLE` (stem -> HubTask) and `STEMS` (the 11 EvoLM test files), built on first use from
    the declarations in the grader family modules."""
    if name == "TABLE":
        return _table()
    if name == "STEMS":
        return tuple(_table())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
