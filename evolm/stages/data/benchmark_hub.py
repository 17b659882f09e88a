"""The paper's 11 downstream test sets, rebuilt from their public Hugging Face hub sources.

`fetch(stem, log)` loads a task's public source(s) with `datasets.load_dataset` (or, for TabMWP, one
raw JSON file with `huggingface_hub.hf_hub_download`), applies the EvoLM prompt wrapper with the
task's pure `to_row(record)` and returns the rows `{"id", "problem", "gt_solution", "gt_answer"}` in
the EvoLM files' order. Written with `write_jsonl` (`json.dumps(row)` per line, ASCII escapes, as the
authors wrote them), the result is meant to be byte-identical to the files the EvoLM authors
evaluated on (the project's `shared/benchmarks`). Any loading failure (offline, a removed dataset,
`datasets` not installed) raises `HubUnavailable`; a hub copy that no longer matches what EvoLM used
raises `HubMismatch` (a `HubUnavailable`), so callers can fall back to a local copy either way.

How the EvoLM files were made (the authors' data-preparation scripts, found in public code search:
`data/cooked/test/{GSM8KPlatinum,CRUXEval,BoardgameQA,StrategyQA,TabMWP,MATH,MATHHard}` builders)
and where each source lives now:

GSM8KPlatinum (1209; licence MIT): `madrylab/gsm8k-platinum`, config `main`, split `test`, fields
    `question`, `answer`. id = `GSM8KPlatinum-{row index:04d}`; problem = question, gt_solution =
    answer (gold after `#### `), gt_answer = null. The authors shuffled the rows without a seed, so
    the file order is pinned below (`_GSM8K_ORDER`).
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
    `output` (output prediction). Unseeded shuffle in the original: order pinned (`_CRUXEVAL_ORDER`).
BoardgameQA500 (500; CC BY 4.0): `tasksource/Boardgame-QA` (all 15 BoardgameQA variants, 15000 test
    rows), split `test`: `example`, `label` (proved/disproved/unknown -> True/False/Uncertain).
    id = `BoardgameQA-{row index:04d}` over all 15000 rows; rows whose wrapped problem has more than
    2048/1.3 whitespace words were dropped, then 500 drawn by an unseeded shuffle. The 500 drawn ids
    and their order are pinned (`_BOARDGAMEQA_IDS`); `pinned=False` draws a seeded sample instead.
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
    were drawn by an unseeded shuffle: their qids and order are pinned (`_STRATEGYQA_QIDS`).

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

Log = Callable[[str], None]

# The 11 EvoLM test files, in the paper's order (section 4).
STEMS: tuple[str, ...] = (
    "GSM8KPlatinum", "MATHLevel1", "MATHLevel2", "MATHLevel3", "MATHLevel4", "MATHHard", "MATH500",
    "CRUXEval", "BoardgameQA500", "TabMWP", "StrategyQA500",
)

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

_MATH_SOURCES = tuple(HubSource("EleutherAI/hendrycks_math", subject, "test") for subject in MATH_SUBJECTS) + (
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
            rows=1209, hub_rows=1209, pinned_ids=_ids("GSM8KPlatinum-", _GSM8K_ORDER.split(), 4)),
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
        rows=800, hub_rows=800, pinned_ids=_ids("CRUXEval-sample_", _CRUXEVAL_ORDER.split()))
    table["BoardgameQA500"] = HubTask(
        "BoardgameQA500",
        (HubSource("tasksource/Boardgame-QA", None, "test", "78e38c3c8df3b4f6de7ae8bd1fc6a8bd1f31be56"),),
        boardgameqa_to_row, "CC BY 4.0", "exact",
        "ids index all 15000 test rows; EvoLM's unseeded 500-row draw (after its length filter) is pinned",
        rows=500, hub_rows=15000, keep=boardgameqa_fits,
        pinned_ids=_ids("BoardgameQA-", _BOARDGAMEQA_IDS.split(), 4))
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
        rows=500, hub_rows=2290, pinned_ids=_ids("StrategyQA-", _STRATEGYQA_QIDS.split()))
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
            name = "hf://datasets/EleutherAI/hendrycks_math (7 subjects, test)"
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
    text = (str(exc).strip().splitlines() or [""])[0].rstrip(".")
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


def dumps_row(row: dict) -> str:
    """One jsonl line exactly as EvoLM wrote its files (default `json.dumps`: ASCII escapes)."""
    return json.dumps({key: row[key] for key in ("id", "problem", "gt_solution", "gt_answer")})


def write_jsonl(rows: Iterable[dict], path: Path) -> int:
    """Write rows as EvoLM did (one `dumps_row` per line, trailing newline); return the row count."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(dumps_row(row) + "\n")
            count += 1
    return count


# --------------------------------------------------------------------------------------------
# Pinned data: what EvoLM's files hold that the hub cannot tell (ids only, read from the files).
# --------------------------------------------------------------------------------------------

# HuggingFaceH4/MATH-500 writes these with \left( ... \right); the EvoLM copy does not.
_MATH500_ANSWERS = {
    "test/precalculus/807.json": "(3, \\frac{\\pi}{2})",
    "test/precalculus/541.json": "(\\frac{3}{2}, -13)",
}

# GSM8K-Platinum row indices, in EvoLM file order.
_GSM8K_ORDER = """
509 132 1087 785 772 903 141 929 776 1140 1144 1206 454 507 68 983 899 390 882 1100 953 397 452
104 837 988 531 634 603 187 723 768 815 759 256 249 607 364 513 754 194 498 981 279 55 154 1195
231 344 199 927 525 632 1071 730 205 649 934 616 757 133 521 761 592 1135 875 623 795 374 1093
110 503 51 532 1204 517 223 938 59 243 237 313 325 1113 734 76 204 25 970 646 75 1010 1118 686
892 1193 461 900 373 184 1053 641 836 661 98 1088 111 980 764 405 401 884 790 1122 386 519 855
332 756 474 89 946 628 535 272 1104 802 618 1021 735 1057 417 923 629 691 1033 715 495 296 951
843 326 81 180 781 1077 338 508 22 114 1164 682 796 852 887 858 885 678 288 483 574 878 704 842
810 53 747 630 807 823 760 868 369 582 193 945 881 1085 151 361 577 822 558 481 203 32 948 101
1032 835 812 642 982 1020 1165 1136 1170 551 1139 600 102 992 269 163 1128 380 423 33 867 894
1030 713 265 504 493 1169 21 1054 656 292 0 777 562 744 415 66 1063 685 1039 10 652 439 606 126
451 942 1137 450 696 182 284 366 571 246 365 573 1081 832 1101 225 6 1001 872 232 85 149 789 416
47 874 382 242 1082 456 1098 432 43 23 58 406 806 240 403 775 4 331 334 655 683 949 244 854 44
36 917 799 912 1129 228 865 1 505 732 172 5 746 548 718 774 1084 418 1027 1166 1200 800 90 657
195 161 901 1188 381 31 359 348 1119 429 34 1038 93 100 998 687 1028 427 468 877 280 181 1080
430 820 627 748 375 969 994 399 28 755 153 794 662 304 654 537 712 218 729 782 271 1094 411 214
278 506 206 42 266 127 847 523 224 740 235 217 312 612 37 1092 251 420 30 1177 1192 749 309 144
441 337 602 316 341 904 422 351 1059 84 1022 876 999 527 61 197 384 436 554 1156 676 931 372 851
555 259 191 636 674 976 1172 219 354 490 402 398 379 840 336 971 192 150 814 529 293 148 438 569
575 87 1008 539 96 580 512 873 167 310 699 893 239 476 1096 258 289 1133 1173 568 770 871 733
414 1064 49 737 937 383 695 943 480 866 920 675 502 908 29 1120 116 1171 453 1005 245 550 413
1009 27 212 598 73 703 62 987 990 780 283 1125 671 24 986 362 122 1178 659 105 1067 767 124 145
140 1124 978 1015 848 996 277 1143 690 1117 17 221 905 771 478 545 778 846 262 1186 360 1108 700
121 762 1167 435 954 962 961 38 611 119 460 538 736 190 1146 352 565 1185 171 985 1026 834 681
1154 1003 290 328 261 1196 710 926 752 443 614 1179 201 324 639 883 56 660 1004 424 482 340 108
1068 301 78 135 39 155 1065 801 856 457 238 1182 841 702 492 663 431 1190 134 1034 229 388 1114
583 932 349 257 20 7 902 1152 99 125 339 128 1075 80 166 833 921 1194 955 940 113 1035 979 809
597 67 64 241 138 307 1198 891 45 530 270 79 371 222 989 394 475 935 561 321 677 496 139 1112
1002 896 343 1023 1147 910 176 466 253 1116 473 1019 444 1031 758 617 1041 819 711 455 647 673
1050 370 136 1107 738 247 1201 645 544 697 818 291 1159 689 1052 542 906 1044 570 586 1036 211
933 320 378 991 624 928 86 308 791 849 803 816 254 1161 1126 263 208 1078 315 131 298 793 679
1083 1149 594 234 200 40 1127 129 559 367 169 593 956 518 46 1086 1058 487 701 534 720 465 250
303 1037 743 1191 118 845 888 825 264 408 226 1145 464 515 1130 526 442 588 220 779 609 576 1099
233 1160 591 314 552 1047 54 939 745 8 260 915 824 694 797 1103 1121 385 783 838 706 619 210 202
103 540 147 830 389 664 1197 440 914 693 274 91 227 472 236 637 356 426 813 112 327 1045 1105
950 556 494 1199 1017 463 967 670 831 581 995 608 557 826 1007 299 137 485 895 864 115 511 684
74 57 1056 1069 1062 965 805 585 489 786 811 1060 862 897 787 446 610 941 510 479 15 516 330 728
742 213 536 60 514 500 1006 936 1115 788 117 1131 922 412 1151 1158 82 547 1163 1016 1174 335
319 1018 1046 164 579 143 1109 109 300 741 753 859 567 716 1123 434 297 1138 146 821 827 120
1183 792 658 944 157 63 368 957 1095 106 751 522 165 196 18 92 596 993 725 318 1049 484 317 421
918 407 828 345 766 963 209 709 3 188 643 727 2 1012 14 88 276 491 1061 488 323 1141 477 964 185
604 1153 958 35 890 650 470 448 1079 178 449 1000 175 952 183 975 159 839 808 925 52 913 353 437
672 268 651 410 130 77 281 322 669 1208 255 1043 599 471 1184 26 1175 174 294 880 870 924 252
1090 560 1155 769 295 409 156 1162 1180 396 70 1089 1042 400 863 1076 966 977 784 692 566 501
622 578 707 653 267 428 41 1029 850 860 572 889 680 358 857 1024 215 19 1074 714 306 549 9 626
123 721 1189 404 1205 16 1040 804 392 798 1168 625 346 12 355 1014 959 595 633 698 528 329 886
974 189 1203 95 533 1048 179 387 984 919 158 469 829 635 357 377 631 1066 997 286 1013 1097 363
177 160 907 844 467 666 311 763 1207 665 248 198 1073 731 916 543 1102 1025 342 333 590 83 620
1148 546 930 947 152 287 94 168 72 462 898 497 207 107 162 347 1142 773 170 520 960 638 541 853
445 499 750 1157 564 1176 911 1150 640 1106 968 1187 419 275 719 13 285 1134 705 817 1091 97 615
1202 589 524 1051 1072 393 724 273 553 142 1111 50 879 584 668 861 458 71 613 722 667 433 395
708 621 447 216 648 302 305 1132 376 1181 601 69 48 726 717 1110 587 1070 644 230 563 869 459
425 486 11 688 972 282 65 1055 1011 605 973 391 765 173 350 909 186 739
"""

# CRUXEval sample numbers, in EvoLM file order.
_CRUXEVAL_ORDER = """
98 687 658 560 693 661 34 5 642 295 551 340 331 42 659 327 568 179 585 692 624 386 706 9 219 198
277 181 22 428 529 554 217 54 314 124 228 662 292 628 119 699 96 450 603 512 726 523 35 589 255
458 360 599 152 520 241 482 206 375 249 606 411 297 356 646 483 120 358 691 480 223 684 165 657
203 31 335 6 417 287 405 422 3 714 252 275 103 403 214 772 797 586 212 111 689 727 739 654 517
47 185 607 99 199 374 758 309 601 416 2 583 230 524 158 100 738 157 641 154 643 330 731 242 51
414 463 116 668 597 588 168 410 489 571 426 777 770 650 429 281 649 164 674 677 182 461 301 204
722 144 272 546 494 394 221 256 148 752 763 55 25 239 367 647 746 208 131 343 117 274 420 278
515 440 444 670 46 732 445 782 708 530 495 303 602 742 639 125 333 139 240 41 166 276 790 598
218 28 266 192 745 437 65 102 300 325 531 513 562 751 525 127 542 357 101 387 561 526 453 711 21
438 361 781 626 93 382 296 596 392 613 44 78 188 231 425 725 346 623 712 535 780 634 593 701 167
549 575 467 484 183 66 174 430 156 518 271 760 485 539 685 510 469 735 11 243 447 353 74 178 226
328 33 61 130 37 110 508 570 140 138 793 85 743 251 18 338 134 383 1 748 114 718 36 109 348 669
64 137 609 498 45 371 655 235 259 60 84 431 72 163 728 186 73 248 210 291 322 798 254 527 149
635 267 352 600 499 688 15 543 421 516 391 493 123 412 52 285 409 113 638 767 545 364 385 323 20
10 676 759 19 69 107 419 213 656 184 622 459 734 709 681 59 378 651 707 265 234 197 29 473 83
189 91 81 195 565 86 695 594 456 67 627 762 402 740 612 464 595 229 487 768 38 304 261 443 257
590 95 175 761 776 492 644 269 700 466 321 665 23 771 766 347 753 284 637 490 664 481 40 313 30
775 632 136 582 673 169 27 618 757 43 388 128 76 224 302 476 666 173 796 150 161 785 675 446 754
741 58 723 784 454 389 733 509 550 326 678 121 370 439 455 122 721 268 715 640 317 540 413 472
245 260 436 351 503 511 162 488 404 288 787 376 694 289 319 564 400 132 717 547 505 336 591 557
783 633 381 191 532 135 448 537 556 457 362 104 286 26 660 788 112 610 368 79 451 194 615 786
379 250 629 617 506 672 305 94 625 244 621 573 70 215 578 324 592 791 170 619 789 77 196 283 233
32 773 395 424 501 500 747 576 406 750 608 193 209 765 397 432 496 106 63 441 479 774 468 533
794 415 390 334 558 142 398 465 433 519 373 555 50 716 4 253 710 792 611 521 730 258 329 53 755
486 310 566 56 311 294 587 236 399 187 491 477 315 246 97 366 764 345 282 396 153 581 108 12 636
528 180 724 563 569 630 318 145 176 75 171 205 538 683 663 702 293 350 7 652 720 341 574 126 648
87 159 232 71 698 211 207 449 423 548 475 579 89 273 737 401 298 620 697 452 105 653 365 703 478
17 222 442 270 201 779 290 795 514 605 729 536 522 719 62 799 308 48 263 769 552 146 227 408 202
200 369 279 0 580 237 359 307 756 380 280 344 337 238 16 247 141 342 354 671 68 559 80 460 705
497 90 614 749 504 427 190 631 686 377 616 216 553 744 572 645 462 8 57 92 690 49 220 372 435
682 88 129 393 160 679 115 584 172 39 332 471 667 534 778 704 713 434 474 225 502 680 407 349
736 262 577 133 696 418 544 13 177 312 384 82 541 320 264 567 355 306 339 316 155 147 118 299
604 507 470 24 363 151 143 14
"""

# The 500 BoardgameQA test-row indices EvoLM drew, in file order.
_BOARDGAMEQA_IDS = """
5692 13972 2376 1965 11391 5005 1535 3212 1172 6667 13064 1527 10187 12974 4372 2535 4253 11799
14507 12867 10423 14278 12218 1880 13019 12583 1928 1720 13141 5807 11358 4736 12640 1756 7190
5175 3210 8952 12698 2455 192 5839 6015 12746 10468 4592 3866 8852 11832 14748 3484 6798 14577
337 5002 3748 40 8130 2505 13702 7736 6003 12506 14340 5155 665 9577 4153 12271 9022 8882 5828
14830 2570 4971 7331 9552 9622 7003 8662 482 8218 145 3884 1576 6740 14237 6561 9253 7472 854
6559 234 3479 8866 8660 4647 2561 2355 6167 14787 10846 3817 5669 9898 1389 914 13680 10661
12901 13549 12123 11591 11045 8707 9331 12914 12741 8461 5203 12330 12945 10103 11492 5620 8353
1213 9629 3560 11749 6173 2153 9952 3780 3293 7935 12111 12797 13023 6648 8030 12924 7382 11966
5836 7157 8475 2249 5884 7572 3111 4353 8345 10125 7786 11459 8017 13776 12324 14301 8608 11253
12128 9847 4953 13348 12484 3026 13985 4364 409 5619 1750 11912 9977 6026 14678 6646 6867 2318
3226 11163 12834 14549 208 9416 7877 14634 14676 9863 6502 5990 7482 8155 989 9265 1997 2375
13955 3979 1456 7029 5124 7461 8939 4943 2491 5282 7518 834 6792 13728 7294 11737 6064 804 6346
1809 6725 1132 6851 2326 14252 2566 5519 11279 13213 12666 3601 10674 11936 146 4244 5484 11800
12147 4700 2642 6175 5167 9591 4281 8180 5194 4749 9981 4422 3891 10909 5144 7373 134 4412 3517
13156 4992 10876 14636 13439 8561 14604 4910 7207 14598 2911 7340 81 7205 12730 3988 5891 7274
14014 10523 3678 13783 3582 3079 5553 9976 2126 8243 8004 6965 7266 8304 10673 12165 4826 1459
9969 9074 10074 13237 13063 5120 12084 8047 92 7049 13727 14242 11010 13406 9350 8593 5651 9786
9670 6490 2705 3544 2599 13979 6295 10981 11061 11653 3387 1792 12953 11786 6789 11008 1840 6888
7735 4980 6029 10657 5868 11418 577 6597 4972 10840 4885 7060 1801 13767 6308 1632 5475 11619
7826 10584 4147 11901 5710 12852 8446 10066 5934 14615 8271 1324 3460 10896 14427 3075 6544 3743
1288 14115 13693 6491 9942 11001 863 3169 14371 14143 4152 9927 8582 4378 4071 7932 1596 6763
4468 7167 385 8640 8065 4464 6038 13508 13081 8746 2892 9222 9559 13526 8985 11880 8850 10538
6528 5789 14950 2652 12471 8379 1675 14407 2093 12648 2774 7940 3015 8874 612 10923 14974 380
1581 3420 3864 12700 545 8813 14779 6784 4186 13200 7796 6626 12890 11624 12125 9502 9917 14803
10026 11920 14859 8529 11032 6773 8950 5063 186 8964 13489 5487 8519 716 1927 10030 153 4431
3939 9234 11097 7428 8726 1724 5317 6425 2520 7285 5847 1507 11743 9965 14327 14322 5405 4597
1546 2634 9310 11162 1694 11957 744 2383 11896 1950 1423 7173 10303 3069 11838 818 5159 13290
3716 7102 5093 14267 10908 1041 12396 4764 3850 12176 10763 7487
"""

# The 500 StrategyQA qids EvoLM drew, in file order.
_STRATEGYQA_QIDS = """
2ed0dd0664d4583389bc 1b29d402c3e17cb3b435 bf739e062c0321178c7a ee3000c7feb6bfb4ef2f
e39e7996cb59f6c932e0 7dc74fd9b62e514750c2 dd3cb87f907f758229ec 2f49d601ea00411ef3d5
947a089ce6992869815a 5f1b1891c28dd8ef8bcf a1493f4a007aa2d7ca24 07e2a845709bbcb30b65
4eeb74e13e58996f2d72 bf4bc8f3c5953306874d 4464ad7e6a0b908632ac 955a55c2c64209b0ab7d
08db047c63681c02184f e1f6fead3b0070fe2142 1061271843722fb7a225 289c2f15051024b8b27f
13f14adc86f66c7d620a 976710eb9fff4ed94fd8 420837c63ba49f76d2a7 e91ba24305ae9f8850ed
34630e83060d07bec4e0 30eb3ccd28d647d504bb 35a5b27d84294ebf1fe0 d9f255a491a0e4048210
8ab0f34f407608dbd2b3 73627f72e83c519d8a0e f286dde2dc9fae70eba9 361f7e0cd93f9826b7f6
95e6f7de4cb6713fb167 af531b69039676567cb9 20ca635da854c332424e 35b27eb99d85b7dc674c
cac049d9ec0b86a7f911 e4115d4b10cb3447c7a2 fd5f22b8ed969a08eea5 be3458c61d6f0deee9d8
614b682ff2b6ddd9ecba c3fa97b16ea3e91e22d8 f086e8628fde91ab151c f81316ea85357f58284b
6cc5056659f843124e0b d1142162a82aab83611e 300927fd135e8d94af16 2206eb47fc70f106a91d
3570d57f16a40488ff42 26aefc40b2d04ca6b78b 1a015715a9ffcfb67c8e e6391d901dcc8a269c79
506c7e618094c78b7614 97ffbaa790ff9df718ec 53115231af1cbf1ad33a 20693ee66ad7ca890e08
1aa02d78c5add228c611 65d216ee031d7c2a376f c681171e816f3117df0b 0e01a6c3811c737f4d78
d5cd4b71ec956f0e1272 02435ed89673ef2eb808 43302ebc930b722c112b 557b6230413fc65f6a16
8f936e225ee1fe225f66 6693c842968f27dd04ce 8a26ff980663f11b0c6e 697789a9ee6a5b2f4e0f
60fe2d35b5abf0f0652a debac3970a4fc11774fd 0a4fa11abccd8dd84dc8 ba8d04adf8848e0d28a7
f3a7a8fe3a00f075e871 106bf37e9d8b5293775c 373634846d34dafefcff 5b941af0d08dc0ea0485
9d2f5beb0ffe85faf16d 9bb59488a227a5f5cd62 018306d2af9359be2d8c 7e05efd9ff2438d9ed68
b6e0094f030a326e510a dfdc7f7197f90ec78844 0a8bb20dbdb99d68127e 46f53b9e0008ad1110ed
8d3ddaee20ad48edc066 38a0f2619ec98ba7fbd5 088e22a7b1b40fd2d95b 30cca3728fe936ff1bae
7daa137a9509cb6c211a b0ee9781a2840b582d9d 9a87e2e0f53e5d8689f2 79595ffe6b93c5e84056
af2d3c137bd3f5230012 a2dd0493fc87bb64e1fa 4e598d222fe1001cf4f8 0eb259222f89112e1486
22f35192d8d58cfb6ba9 08271060e7c75ea1e8b8 71e9bed5efda19d9c4ce ea627ac7d9ba306324d3
3a61dcbed7e358b3aee8 2847095b289d1f4b48fd 3799fbe219d3a3eb0482 86f441f4f66b4b5eb375
5c03103b5a70117cbdf0 7776349dede20a0d6405 75bcf0203ee31aeeddd5 60e2540a5e07213eeca1
7b82cd99c7c68aa1b022 63830fb94ef200092420 93eafc413d86df9c0755 c4d0ceb86bb1e8faba5c
b76f30e808b1bfdbee2b cb19ebb5cbaa71bc32d6 f46ccce500df67cd8f56 2787ada17c12601bcd0c
3ca0a58b1697a63521b6 2e95e20da8a6cfacaa83 21ebbfdbb95747f3763f 265d1ccd0e1d6b813f9b
3d08da50b6599ea99f94 14a58de5d05e976c09cb 6497da19a2bb3f0dfcbb 557e389d7efe47c5bc4d
a03a7cdebe516f521fbc 1eeb5b135e7120037e70 0fe3edf35bd1a1e662a9 f79592a376f1793f29cb
9a84fdc02e3eddb2d395 e43424acbaf3f64feefd a6a54c5e011a51952ff9 dab785cc72fbb866c986
c69a3eeea9743e782831 33858996585a4d2ab95e 0dad98b7dde01ed9f144 99f1b07917c2df314619
9642838ebb5c1c382ade 6d4b524b0f555ce5a7ae 3540bb4c468f7b513aab a3f23831cabcf29b0cc9
3a0a8c5869df571f0b93 18d50392cc241326112b 806a13f37055bd21fddc 69030830a83aa7209cf7
f486ba373c1b13c27667 01254b50648f4fb08b51 e87406dacc533ee3a3af 6330413d518d44e68b94
56464972cc1e47ef8a66 a9238d2bba6ea325fb41 c47897304b87477d7622 07bcc6301dae2a7b038f
b2c1c69dbfc82dc9da50 3763c0523e44d02ff1e3 ac55fc84d16659a1f0df 042101b10af2b128df10
0bc39f6d0566896a2139 48da75d87c66754ccc2e 1857d2f86cc49c8eb728 5ce7ac7909c8331097b5
012786196d9ab6df3425 16c08e5f354b035c41a5 10353348b0d7077924be 4773d577873ff9e04a88
1e97ab50309873ca1789 be42f2f3008b22766d2b 34ef40fff88e669f154f c419fd25e9ed4501c9ea
e684937aefb2df3eebcf ca93c9ed9f7914eaa963 d949f30354c842f5562a 01430717f590ad3f4e74
20744bd481b4245333fa 2c402ed761b9bd7aa205 07ba78b177df5d2a30c3 7398e6bc3daa29b454c9
6f1f8afdf44cf088997d 3b3765fab920695e5387 0aa6769cb88143b3dba1 2915baf6fba0c1b5100f
703db4629ff46d82a205 6ad52c1f34bebab2cbba b742c50188a483291945 b651b1d70b88ae98bc25
d0ad95f36e42f85cc94d d2b83ee517ac51dc5dcc 399d5e61740a8a93dbe7 1eb4bd98ec77e32e511e
0b7787655f4a9d600dfc ba04b5ebc2edd682c4dd 425324eb79a7fc1916ef 307c7850922085972bd1
f95956c13e22f073310a 5d4ae0455b8641ff0c03 02f5a6e6eedc57dfa22d 06985ebcd197732ef1f6
8ce466f6f1430a309edf 2cc610b9b07a0ac0f378 746b563db21efc4cfa92 261863cb4eeef4df279d
9b00b215a02a7e4a8aa1 e1f93419cb9a2f1d06ca d435a2f25dfb1e78a841 8cc7153ec5a527748adc
e56fdbdf08cdc8694536 673be9f6d35f74ae8e91 f1c38036ed44c2422c7b 3413c919d24c59eadde3
5170cfed313d2de67942 f315b85273989097eb91 31328c97391c0e047f44 57e6b3d22162e254f7f0
ca1bbc7b71d286760acd 382571a1ab13a99b1f74 91ec6f3b34115feccada 9b205f7f5667ab195540
ce2336a5272765f263c4 1f550df826ae448ff082 bcf47774877e8bdd07a4 45ed5c1d56e942bee839
e4945001c03fa74e1cc9 643a517d0d0f0d2944a3 caddf0bcf06640844a4c bc429593abdbd062e8d2
a1be20a22026cc661660 5416d6ace8e5bef7e467 b893d680c3d0b3003e80 a61431fb7fe82f6b2ee0
06724dc213e0dae715f5 760a0d26a50972656345 0f3ab70fd0a59071bb06 b9e623a3ea2aa739facf
43e4aea70f7e53d1d807 d424e393a4daff536f57 45c4f7aad64b5fdd76e9 c234a28480510591980d
913c1014198f2e584dc7 c32b7909c41d4af5933d 363cf9e4f1ab45e05a4b b9d5010aaef9115f77e7
7bee5f4847890e925f3e a505361d75535d674ebd 3b1834a6dd331eb1d791 6523b3b72884557b38e8
2ee33d6353893e4bd69c ed08e2d4bbe5bbf1b01d 66dd7cd84b014a6d1f60 9fee16a5e703c2fdcd33
af6afbc6da7065d522ee e2e70b3a5a5221852041 9eb2815f7551d7ea8b25 777828272c5e0915f4d1
4752f67ef92a9195ee36 cc542edc9006be8d52a5 9fb41cefb010f47033f3 6042b48035952d0e1a61
a77402c5a20c3a5a8676 d7482b2dc4028be17b36 6e47423b2fdc8bc3130c 000275e7aa81e30885e7
0d88c13d582a6c3c6f94 076f905ae36408b5ee69 e2d24b9e3cb4133c68b0 b3c5d591c696cda63e48
f03fe75dde01742e5a03 6d62de0fed9d8151b413 249673d73deb8d6c28f9 cf23e1cddf4e7f714ba3
d354d1594bf431bf9ee8 787aedef693b5860aac5 e681e7f094a45ab8f72d c565654d56d2c1bb3532
41e98899dde8ec95e2d1 3fe8e6070086a6cb0a8c 0e29451fbb512170bddd 987260ffef60cb2c5439
8c0614f44911693572b5 7ddaf76fa5a53f4b642c fee20d28322885672ccf 74936a1e1f16a8e97d68
cf95bbecccc040a95dbb cee57fee546c1d7df94b 4de177ae8c827fd0ffb1 a2a5a06a55c24bf2d408
4648058ffbc40905a042 5b0a4c75f55575ae7e83 48f842fbfb229d784bd4 2930044a09f13c95fb91
e201b35fd4c6f00aa5ae 8141eefa48407dfb759b 1a50ff1647077d670841 d06b92172f2854fa1f62
901156d5fcaf260eb4a7 4d20bb8dc217f39ee929 b77d2efee37741e44c32 36f063a2fc1338b5a21d
69e6a75f195a68d1bf7e c6adebffcdabb5ba7063 09348bfb96097f3b4a99 3a373a74e76c72176e39
3ac14678dd395d41639c cc266a3e29a3b8442b14 8f3bbafdb649f391fea3 ba691c1bb1c760b1edf8
3103007c7b0ca91df965 c72aa50ebf75e16dfac5 9d1e49ac4adff55b1b5c 67b18bca7559b657c66b
ccf67586446bcc4a86b3 55ce9ac27a4bd4e627dc 7cf376afb78c20dd6f18 3b3547ab6ae47d840f37
1ffcadc478d4f408b988 29551a9093ea19c1e7c3 425683ababbbc31c733c 7c74e1234d292f83fbba
e475171d9c62141a6835 e530682239bb5e59ebf0 c89862fb8a7e09c34f47 5897ec22db850f7b416e
dfe89f86d25ea26ab85d 5ffcf33878ad664f3a1b 11f0ae8346b66bc1d948 0e2f272f72871428cc90
52e1b2df624813a9d66b c4a4c8fb77384ecaa472 66a3c0af3141c7c7d215 3486b6b5c69878bb088d
8ec0f7fd908451102838 b9f5942431b6ae3ef7bd 4810297f474b0e97ed78 1c505cad07ffe97f4e41
9608fbb33f01b799a816 756f99fb69f47193fe35 4ceb5ba3fb64a5f89a59 703738f478e1ed466b59
d92862b94dffc52378e4 d8fd81e475df8c2f6972 b208e5d641fbf43bc647 519de84458db613f0364
7f79c8faf724cc8f0e72 6662006c915a62db5a89 52c712384f56ec6347ad be1c91b7d7c455b614bc
5c969a7fccde48210ec8 bbf5422e2b837a2e1ff6 2b2a1d9d526e9a99a8ca e48be839783682257024
fba624d8c01833419760 ca296dafd5943d07b01c 19e3882ec4a562b57d3c caad75c2382565a4668c
1e0f0676ee91a330262a 71ca1a8a75c5c582ab3f d808a0c72dbe605309ab ddf1a475bda7523ab5a9
3a7d825a0fcb4211742f 8be4778ed338c7308e19 b0ab236d19fec61c0111 f7d66ea2a1fcc7473f48
068379affae04debca2b fedce5dbd46bf58a4e53 8c3ca12decfff256eddb 3b9f0e80d5929f447166
081689c549d238e5f98a b528be028d2232b34887 ff2f4c5a037ca826fe2a 5694613473f2c2c557f7
3528723781a97a0e5a7e 3f7daff5574045d7b737 2b45a624da84a288d37e 1af3364389f69c57f600
8e073418da1eab499775 e29d4982a58b5e70410e e03ec826db49319eb034 85300febfe21ecdcc5b1
a0eb7bcaa09e2ede2c1e 55c54e04a9446aaf6b45 e8c54343164bb850727f 94f996bf88b05741bb07
e7ba17761073c7a1ec24 90ac2bf04314d357f0e5 91a3d81584c66d26d49a b35f58b61b53c487d1ab
f060444ce63ca139b8a1 49154ddff1b4e85dff26 0a32d7cfde6cec332fd6 71691ae5050e621c9b4c
c7d6bfa777382af6c5bb 5f267b7c20090236a2fb ec3eecce8a13f2742ee4 a2272d539335ff78b429
6c1f7619f21201712194 1f0e2597327ddd338fc2 cc41d3b2a3f1aab33adf 3d80646ef0844fac8da5
ab1cd501d3590b46c009 9e4811e253f8f28cb09f b418ba4e11aee26faabc 102db3a12d5a45bf7a2a
bd734e6cb6674e25dbe8 910d7db694573a1683dd c8bf91bdcde3eb7501e2 edb3d62aa83c9ec8bf4c
f3584715f2b8d7894a3a 4a0e604f174af36e3ace 44875993b96eb08c70b4 2780b837af5373ff2cb4
e1cce18241839245a516 818a301e9962bdf987a9 2b776be964150651f4b3 d6ab89d323e040b5a28a
ec6b6fdf9c72f77dac67 6c6d1853b7e97e66ef46 80e1855030cd5c8f136a 48cac3b98391f6da285f
a87b94672fd08c0a2f0e 1bbdd43172978e342b6a 9576ab36999e196b87bb bea6df46c8f218b4b5fb
86791c3eb5f380b56439 1b6fbe4fe4254a8e6f6e 75b9eafe50ef589e8f78 085b0b414514ce251e76
590e5edef4ccd793b6df da6af47f5a3bc2afb4fb 38a3e1117891b029cd6b b5b110367bb88821d9d0
3eb2a8cfa2616c47672e 6cd39b671b2a1d6fb161 0df67cbe1345f90555dd 5f89881767cac98c56d6
7571100f05bc56919c78 29c9d972bd56437185ee 5799a384a9ca6cc645a0 ef8cd9d65ecb85d74a19
918f19d38c16251343fc 77f814c0e9766c9cdb4d 84dd002838898869cfad cc072feedd07aee23d2a
115dd3102b245bdbc737 acbc6f68c37f4f9dc601 fa1e09fee5546d5b7b65 d825d90c0c4d555b3bea
e32511f311bfd294ebf1 704003c5c9786ae43746 2a62cf7622c2a406fa77 90e6d4060a0b911fe436
033f7214d9f1aeddb04e dcb503515e6282a1b30f 962d64c181ab75e0ace2 29d785535d6462d9e711
67079beff747978ed4c2 29bf9aa61ed4124cd84c 9390df61207ef77f8ba0 87afbace24750551d781
8c36b27e75cee7f0ec0c 95bd44fab517139182f2 54b08f028141c591badd 3b38e00d8d1da26f7f02
b2c86a150121834c668c 4668264df84fb7c25b39 6047d085ff9246481d12 1d923b8a2778448a9716
9205ac05975118d93717 d0cf00dae29efafa0865 157e11814d768fe69782 a18c59e77cc176f748b2
ae54adce616125cc6ddd 42c947475244ed02629e 1977a974cf1b946ea1e5 1127f625b634b9371ee1
ec71dcb7d6ace3e73ef9 efffc81b286925c40b89 610c03ac321041d868e2 80b883ce348170c85aed
0aba6ec3a1e6fa166b32 05ab64dd540d095d9c62 0cafe7ae4858b90c92ab 95b3654439ebaf17f4da
965b4af72fa11cbda5d1 c928aaf3842cb87e3642 4013c96b17809c27699c 59542ff1d7782e4cbd89
1f94fd775c243dc383fa 4ce7336b43da9f13fbd1 4957e0329698c05832c0 e87b63e92165b417d37f
79a254c885843d905da3 94357c05cd9525c7b35a 5165ea01d214c4e74188 aa08a6021227d95f0f10
a88bcb511bb3ad8f9af8 001f5aedc57159e1fd99 55fe694e6b5e5dc9def0 8a3be2ae0a7b67f7bc2f
378ccb7bc29c9ce4eea0 f79d13cdc96dd01af216 6a756a5734139bfce297 956ca4e81d4ec39ab11a
"""

TABLE: dict[str, HubTask] = _build_table()
