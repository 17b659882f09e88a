"""The paper's 11 downstream test sets, rebuilt from their public Hugging Face hub sources.

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

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from evolm import jsonl
from evolm.eval.tasks.registry import paper_tasks

Log = Callable[[str], None]

# The 11 EvoLM test files: every task its family declares with source "hub".
STEMS: tuple[str, ...] = tuple(spec.name for spec in paper_tasks())

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


# --------------------------------------------------------------------------------------------
# to_row: one hub record -> one EvoLM row. Pure functions; records from several sources or with a
# row index are prepared by `fetch` (the `idx` field = the record's position in its hub split).
# --------------------------------------------------------------------------------------------

def _row(id_: str, problem: str, solution, answer) -> dict:
    return {"id": id_, "problem": problem, "gt_solution": solution, "gt_answer": answer}


def gsm8k_to_row(record: dict) -> dict:
    """madrylab/gsm8k-platinum record + `idx` -> row; the gold answer follows `#### ` in gt_solution."""
    return _row(f"GSM8KPlatinum-{int(record['idx']):04d}", record["question"], record["answer"], None)


def math_id(unique_id: str, prefix: str) -> str:
    """`test/algebra/10.json` -> `<prefix>-algebra-10` (the original MATH path, as EvoLM named it)."""
    return f"{prefix}-{unique_id.replace('test/', '').replace('/', '-').replace('.json', '')}"


def _math_level_to_row(prefix: str) -> Callable[[dict], dict]:
    def to_row(record: dict) -> dict:
        """Joined MATH record (`unique_id`, original `problem`, `solution`) -> row; gold = last \\boxed{}."""
        return _row(math_id(record["unique_id"], prefix), record["problem"], record["solution"], None)

    to_row.__name__ = f"math_to_row_{prefix}"
    return to_row


math_to_row = _math_level_to_row("MATH")
math_hard_to_row = _math_level_to_row("MATHHard")


def math500_to_row(record: dict) -> dict:
    """HuggingFaceH4/MATH-500 record -> row, with EvoLM's two rewritten gold answers."""
    uid = record["unique_id"]
    answer = _MATH500_ANSWERS.get(uid, record["answer"])
    return _row(math_id(uid, "MATH500"), record["problem"], record["solution"], answer)


CRUXEVAL_HEAD = "You are given the following function:\n\n"
CRUXEVAL_MID = ("\n\nYou are also given the following input (the order of the input is the same as the "
                "order of the input variables in the function):\n\n")
CRUXEVAL_TAIL = "\n\nWith the given function and input, what would be the output?"


def cruxeval_to_row(record: dict) -> dict:
    """cruxeval-org/cruxeval record -> output-prediction row; gold = `output` (a Python literal)."""
    problem = f"{CRUXEVAL_HEAD}{record['code']}{CRUXEVAL_MID}{record['input']}{CRUXEVAL_TAIL}"
    return _row(f"CRUXEval-{record['id']}", problem, record["output"], record["output"])


BOARDGAMEQA_HEAD = 'Solve the following problem. Your final answer should be "True", "False", or "Uncertain".\n\n'
BOARDGAMEQA_LABELS = {"proved": "True", "disproved": "False", "unknown": "Uncertain"}


def boardgameqa_to_row(record: dict) -> dict:
    """tasksource/Boardgame-QA record + `idx` -> row; gold True / False / Uncertain."""
    label = record["label"]
    if label not in BOARDGAMEQA_LABELS:
        raise HubMismatch(f"BoardgameQA row {record.get('idx')} has the unknown label {label!r}.")
    answer = BOARDGAMEQA_LABELS[label]
    return _row(f"BoardgameQA-{int(record['idx']):04d}", BOARDGAMEQA_HEAD + record["example"], answer, answer)


def boardgameqa_fits(record: dict) -> bool:
    """EvoLM's length filter: drop problems longer than 2048 tokens by the 1.3-tokens-per-word estimate."""
    return len((BOARDGAMEQA_HEAD + record["example"]).split()) * 1.3 <= 2048


TABMWP_HEAD = "You are given a table with the following data:\n\n"
TABMWP_MID = "\n\nBased on the table, answer the following question:\n\n"


def tabmwp_to_row(record: dict) -> dict:
    """TabMWP test1k record + `idx` -> row (table text and question; no title, unit or choices)."""
    answer = str(record["answer"])
    problem = f"{TABMWP_HEAD}{record['table']}{TABMWP_MID}{record['question']}"
    return _row(f"TabMWP-{int(record['idx'])}", problem, answer, answer)


STRATEGYQA_HEAD = "You are given the following facts:\n"
STRATEGYQA_ASK = ('\nBased on the facts above, answer the following question. Your final answer should be '
                  'either "True" or "False".\n')


def strategyqa_to_row(record: dict) -> dict:
    """StrategyQA (strategyQA_train.json) record -> row with numbered facts; gold True / False."""
    facts = "".join(f"{i + 1}. {fact}\n" for i, fact in enumerate(record["facts"]))
    answer = str(record["answer"])
    return _row(f"StrategyQA-{record['qid']}", STRATEGYQA_HEAD + facts + STRATEGYQA_ASK + record["question"],
                answer, answer)


# --------------------------------------------------------------------------------------------
# MATH: join the original text (EleutherAI) with the original file names (PRM800K unique_id).
# --------------------------------------------------------------------------------------------

MATH_SUBJECTS = ("algebra", "counting_and_probability", "geometry", "intermediate_algebra",
                 "number_theory", "prealgebra", "precalculus")


def _squash(text: str) -> str:
    return " ".join(text.split())


def join_math(parts: list[list[dict]]) -> list[dict]:
    """Records of the 7 EleutherAI subject test splits, then of the PRM800K splits -> joined records.

    Each joined record is `{unique_id, problem, solution, level, type}` with the original MATH text
    and its original path; raises HubMismatch if a test problem has no `test/...` unique_id.
    """
    texts, id_parts = parts[:len(MATH_SUBJECTS)], parts[len(MATH_SUBJECTS):]
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for record in (r for part in id_parts for r in part):
        uid = str(record.get("unique_id") or "")
        if uid.startswith("test/"):
            exact.setdefault(record["problem"], uid)
            loose.setdefault(_squash(record["problem"]), uid)
    joined, unmatched, seen = [], [], set()
    for subject, part in zip(MATH_SUBJECTS, texts):
        for record in part:
            uid = exact.get(record["problem"]) or loose.get(_squash(record["problem"]))
            if uid is None or uid.split("/")[1] != subject or uid in seen:
                unmatched.append(record["problem"][:60])
                continue
            seen.add(uid)
            joined.append({"unique_id": uid, "problem": record["problem"], "solution": record["solution"],
                           "level": record["level"], "type": record.get("type")})
    if unmatched:
        raise HubMismatch(f"{len(unmatched)} MATH test problems could not be matched to an original file "
                          f"name (first: {unmatched[0]!r}).")
    return joined


def _level(n: int) -> Callable[[dict], bool]:
    def keep(record: dict) -> bool:
        return record["level"] == f"Level {n}"

    return keep


# --------------------------------------------------------------------------------------------
# The table.
# --------------------------------------------------------------------------------------------

# EleutherAI revision: the first commit with parquet files and no loading script ("Delete loading script").
_MATH_SOURCES = tuple(
    HubSource("EleutherAI/hendrycks_math", subject, "test", "0bd4da3ba883718272d0e821efdf10b63c2ed3bf")
    for subject in MATH_SUBJECTS
) + (
    HubSource("nlile/hendrycks-MATH-benchmark", None, "train", "465bcdb36f5962aa3512891498966df785fc3c18"),
    HubSource("nlile/hendrycks-MATH-benchmark", None, "test", "465bcdb36f5962aa3512891498966df785fc3c18"),
)
_MATH_NOTE = ("original MATH text from EleutherAI/hendrycks_math joined on the problem text with the "
              "original file names (unique_id) of nlile/hendrycks-MATH-benchmark; sorted by id as EvoLM did")


def _ids(prefix: str, items: Iterable[str], width: int = 0) -> tuple[str, ...]:
    return tuple(f"{prefix}{int(x):0{width}d}" if width else f"{prefix}{x}" for x in items)


def _build_table() -> dict[str, HubTask]:
    levels = {f"MATHLevel{n}": (n, rows) for n, rows in ((1, 437), (2, 894), (3, 1131), (4, 1214))}
    table = {
        "GSM8KPlatinum": HubTask(
            "GSM8KPlatinum", (HubSource("madrylab/gsm8k-platinum", "main", "test"),), gsm8k_to_row, "MIT",
            "exact", "ids are row indices of the hub split; EvoLM's shuffled order is pinned",
            rows=1209, hub_rows=1209, pinned_ids=_ids("GSM8KPlatinum-", _GSM8K_ORDER, 4)),
    }
    for stem, (n, rows) in levels.items():
        table[stem] = HubTask(stem, _MATH_SOURCES, math_to_row, "MIT", "exact", _MATH_NOTE, rows=rows,
                              hub_rows=5000, keep=_level(n), sort_by_id=True, assemble=join_math)
    table["MATHHard"] = HubTask("MATHHard", _MATH_SOURCES, math_hard_to_row, "MIT", "exact",
                                _MATH_NOTE + " (level 5)", rows=1324, hub_rows=5000, keep=_level(5),
                                sort_by_id=True, assemble=join_math)
    table["MATH500"] = HubTask(
        "MATH500", (HubSource("HuggingFaceH4/MATH-500", None, "test"),), math500_to_row, "MIT", "exact",
        "PRM800K's 500-problem test split in hub order; two gold answers as EvoLM wrote them",
        rows=500, hub_rows=500)
    table["CRUXEval"] = HubTask(
        "CRUXEval", (HubSource("cruxeval-org/cruxeval", None, "test"),), cruxeval_to_row, "MIT", "exact",
        "output prediction over all 800 samples; EvoLM's shuffled order is pinned",
        rows=800, hub_rows=800, pinned_ids=_ids("CRUXEval-sample_", _CRUXEVAL_ORDER))
    table["BoardgameQA500"] = HubTask(
        "BoardgameQA500",
        (HubSource("tasksource/Boardgame-QA", None, "test", "78e38c3c8df3b4f6de7ae8bd1fc6a8bd1f31be56"),),
        boardgameqa_to_row, "CC BY 4.0", "exact",
        "ids index all 15000 test rows; EvoLM's unseeded 500-row draw (after its length filter) is pinned",
        rows=500, hub_rows=15000, keep=boardgameqa_fits,
        pinned_ids=_ids("BoardgameQA-", _BOARDGAMEQA_IDS, 4))
    table["TabMWP"] = HubTask(
        "TabMWP",
        (HubSource("Arietem/tabmwp", None, None, "c14d8162c9a668a01b55ab11e450863fecda81ce",
                   filename="problems_test1k.json"),),
        tabmwp_to_row, "CC BY-NC-SA 4.0", "approximate",
        "the test1k subset in file order; EvoLM's own source (a test.jsonl with idx) is not public, so "
        "the row order and ids are inferred, not verified", rows=1000, hub_rows=1000)
    table["StrategyQA500"] = HubTask(
        "StrategyQA500", (HubSource("havens2/strategyQA_train", None, "train"),), strategyqa_to_row, "MIT",
        "exact", "the original strategyQA_train.json; EvoLM's unseeded 500-question draw is pinned",
        rows=500, hub_rows=2290, pinned_ids=_ids("StrategyQA-", _STRATEGYQA_QIDS))
    return {stem: table[stem] for stem in STEMS}


# --------------------------------------------------------------------------------------------
# Loading.
# --------------------------------------------------------------------------------------------

def source_name(stem: str) -> str:
    """Where a task's rows come from, for manifests: the hub source(s), joined by ' + '."""
    task = task_for(stem)
    names: list[str] = []
    for source in task.sources:
        name = source.describe()
        if task.assemble is join_math and source.path == "EleutherAI/hendrycks_math":
            name = "hf://datasets/EleutherAI/hendrycks_math (7 subjects, test)" + name[name.rfind(")") + 1:]
        if name not in names:
            names.append(name)
    return " + ".join(names)


def task_for(stem: str) -> HubTask:
    try:
        return TABLE[stem]
    except KeyError:
        raise ValueError(f"Unknown benchmark {stem!r}; expected one of {', '.join(STEMS)}.") from None


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
        return task.assemble(parts)
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

# HuggingFaceH4/MATH-500 writes these with \left( ... \right); the EvoLM copy does not.
_MATH500_ANSWERS = {
    "test/precalculus/807.json": "(3, \\frac{\\pi}{2})",
    "test/precalculus/541.json": "(\\frac{3}{2}, -13)",
}

# Row indices / ids in EvoLM file order, kept beside this module (ids only, no benchmark content).
_PINS = json.loads((Path(__file__).with_name("benchmark_pins.json")).read_text(encoding="utf-8"))
_GSM8K_ORDER = _PINS["GSM8KPlatinum"]
_CRUXEVAL_ORDER = _PINS["CRUXEval"]
_BOARDGAMEQA_IDS = _PINS["BoardgameQA500"]
_STRATEGYQA_QIDS = _PINS["StrategyQA500"]

TABLE: dict[str, HubTask] = _build_table()
