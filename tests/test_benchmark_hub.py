"""evolm.eval.tasks.hub: the EvoLM test sets rebuilt from their public hub sources, checked offline.

Each test turns the local EvoLM files back into the hub records they were made from (undoing the
prompt wrappers) and checks that `to_row` and `fetch` (with the loader faked) give the files back
byte for byte; loading failures must surface as HubUnavailable.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evolm.eval.tasks import cruxeval, hub, tabmwp, truth
from evolm.eval.tasks import math as math_family
from evolm.eval.tasks.registry import paper_tasks


# The paper's real test sets ship with the tests (tests/data/benchmarks).
BENCHMARKS = Path(__file__).resolve().parent / "data" / "benchmarks"
MATH_LEVELS = {"MATHLevel1": 1, "MATHLevel2": 2, "MATHLevel3": 3, "MATHLevel4": 4, "MATHHard": 5}
_CACHE: dict[str, list[str]] = {}


def _lines(stem: str) -> list[str]:
    if stem not in _CACHE:
        _CACHE[stem] = (BENCHMARKS / f"{stem}.jsonl").read_text(encoding="utf-8").splitlines()
    return _CACHE[stem]


def _rows(stem: str) -> list[dict]:
    return [json.loads(line) for line in _lines(stem)]


def _after(text: str, head: str) -> str:
    assert text.startswith(head), text[:80]
    return text[len(head):]


def _last_boxed(text: str) -> str:
    start = text.rindex("\\boxed")
    open_at = text.index("{", start)
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_at + 1:i]
    raise AssertionError("unbalanced \\boxed")


# ---- local row -> the hub record it was made from -------------------------------------------

def _math_uid(row_id: str) -> str:
    subject, number = row_id.split("-", 1)[1].rsplit("-", 1)
    return f"test/{subject}/{number}.json"


def record_gsm8k(row: dict) -> dict:
    return {"idx": int(row["id"].rsplit("-", 1)[1]), "question": row["problem"], "answer": row["gt_solution"],
            "cleaning_status": "consensus"}


def record_math(row: dict) -> dict:
    return {"unique_id": _math_uid(row["id"]), "problem": row["problem"], "solution": row["gt_solution"]}


def record_math500(row: dict) -> dict:
    uid = _math_uid(row["id"])
    # the hub keeps \left( \right) in the two answers EvoLM rewrote; elsewhere it is the file's answer
    answer = _last_boxed(row["gt_solution"]) if uid in math_family._MATH500_ANSWERS else row["gt_answer"]
    return {"problem": row["problem"], "solution": row["gt_solution"], "answer": answer,
            "subject": uid.split("/")[1], "level": 3, "unique_id": uid}


def record_cruxeval(row: dict) -> dict:
    body = _after(row["problem"], cruxeval.CRUXEVAL_HEAD)
    assert body.endswith(cruxeval.CRUXEVAL_TAIL)
    code, input_ = body[:-len(cruxeval.CRUXEVAL_TAIL)].split(cruxeval.CRUXEVAL_MID)
    return {"id": row["id"].split("-", 1)[1], "code": code, "input": input_, "output": row["gt_answer"]}


def record_boardgameqa(row: dict) -> dict:
    label = {v: k for k, v in truth.BOARDGAMEQA_LABELS.items()}[row["gt_answer"]]
    return {"idx": int(row["id"].rsplit("-", 1)[1]), "example": _after(row["problem"], truth.BOARDGAMEQA_HEAD),
            "label": label, "proof": "", "config": "Main-depth1"}


def record_tabmwp(row: dict) -> dict:
    table, question = _after(row["problem"], tabmwp.TABMWP_HEAD).split(tabmwp.TABMWP_MID)
    return {"idx": int(row["id"].rsplit("-", 1)[1]), "table": table, "question": question,
            "answer": row["gt_answer"], "choices": None, "unit": None, "table_title": "t"}


def record_strategyqa(row: dict) -> dict:
    facts_block, question = _after(row["problem"], truth.STRATEGYQA_HEAD).split(truth.STRATEGYQA_ASK)
    lines = facts_block.split("\n")
    assert lines[-1] == ""
    facts = [re.sub(r"^\d+\. ", "", line, count=1) for line in lines[:-1]]
    return {"qid": row["id"].split("-", 1)[1], "term": "", "description": "", "question": question,
            "answer": {"True": True, "False": False}[row["gt_answer"]], "facts": facts, "decomposition": []}


RECORD = {"GSM8KPlatinum": record_gsm8k, "MATH500": record_math500, "CRUXEval": record_cruxeval,
          "BoardgameQA500": record_boardgameqa, "TabMWP": record_tabmwp, "StrategyQA500": record_strategyqa,
          **{stem: record_math for stem in MATH_LEVELS}}


# ---- the table ------------------------------------------------------------------------------

def test_table_covers_the_eleven_tasks():
    expected = ["GSM8KPlatinum", "MATHLevel1", "MATHLevel2", "MATHLevel3", "MATHLevel4", "MATHHard", "MATH500",
                "CRUXEval", "BoardgameQA500", "TabMWP", "StrategyQA500"]
    assert list(hub.TABLE) == list(hub.STEMS) and set(hub.STEMS) == set(expected) and len(hub.STEMS) == 11
    assert [spec.name for spec in paper_tasks()] == list(hub.STEMS)  # a recipe for every hub-sourced task
    for stem, task in hub.TABLE.items():
        assert task.stem == stem and task.sources and task.licence and task.fidelity in {"exact", "approximate"}
        assert callable(task.to_row) and task.rows > 0
        assert hub.source_name(stem).startswith("hf://datasets/")
        for source in task.sources:
            assert source.revision is None or re.fullmatch(r"[0-9a-f]{40}", source.revision)
            assert source.split or source.filename
        if task.pinned_ids is not None:
            assert len(task.pinned_ids) == len(set(task.pinned_ids)) == task.rows
    with pytest.raises(ValueError):
        hub.task_for("GSM8K")


@pytest.mark.parametrize("stem", hub.STEMS)
def test_row_counts_and_pins_match_the_files(stem):
    task = hub.TABLE[stem]
    ids = [row["id"] for row in _rows(stem)]
    assert len(ids) == task.rows
    if task.pinned_ids is not None:
        assert list(task.pinned_ids) == ids


# ---- to_row reproduces every line -------------------------------------------------------------

@pytest.mark.parametrize("stem", hub.STEMS)
def test_to_row_reproduces_every_line(stem):
    task = hub.TABLE[stem]
    lines = _lines(stem)
    for line in lines:
        row = json.loads(line)
        assert hub.dumps_row(task.to_row(RECORD[stem](row))) == line, row["id"]


def test_math500_answer_overrides_are_exercised():
    rows = {row["id"]: row for row in _rows("MATH500")}
    for uid, answer in math_family._MATH500_ANSWERS.items():
        row = rows[math_family.math_id(uid, "MATH500")]
        assert row["gt_answer"] == answer != _last_boxed(row["gt_solution"])


# ---- fetch end to end, with a fake hub built from the files -----------------------------------

def _fake_hub() -> dict[hub.HubSource, list[dict]]:
    """Every hub source, rebuilt from the local files in hub order (no `idx`: fetch must add it)."""
    rng = random.Random(7)
    plain = lambda recs: [{k: v for k, v in r.items() if k != "idx"} for r in recs]  # noqa: E731
    fake: dict[hub.HubSource, list[dict]] = {}

    gsm = sorted((record_gsm8k(r) for r in _rows("GSM8KPlatinum")), key=lambda r: r["idx"])
    assert [r["idx"] for r in gsm] == list(range(len(gsm)))
    fake[hub.TABLE["GSM8KPlatinum"].sources[0]] = plain(gsm)

    # MATH: EleutherAI per subject (original text, shuffled) + PRM800K ids (other text, decoys)
    math500 = {record_math500(r)["unique_id"]: r for r in _rows("MATH500")}
    by_subject: dict[str, list[dict]] = {s: [] for s in math_family.MATH_SUBJECTS}
    prm_train, prm_test = [], []
    for stem, level in MATH_LEVELS.items():
        for row in _rows(stem):
            rec = record_math(row)
            subject = rec["unique_id"].split("/")[1]
            by_subject[subject].append({"problem": rec["problem"], "level": f"Level {level}",
                                        "type": subject.replace("_", " ").title(), "solution": rec["solution"]})
            prm = {"problem": rec["problem"], "solution": "PRM800K-edited " + rec["solution"], "answer": "x",
                   "subject": subject, "level": level, "unique_id": rec["unique_id"]}
            if rec["unique_id"] in math500:
                prm_test.append(dict(prm, solution=math500[rec["unique_id"]]["gt_solution"]))
            else:
                prm_train.append(prm)
                if rng.random() < 0.02:  # a train problem with the same text must not steal the id
                    prm_train.append(dict(prm, unique_id=f"train/{subject}/9{len(prm_train)}.json"))
    for source in hub.TABLE["MATHLevel1"].sources:
        if source.path == "EleutherAI/hendrycks_math":
            records = list(by_subject[source.name])
            rng.shuffle(records)
            fake[source] = records
        else:
            fake[source] = prm_train if source.split == "train" else prm_test
    fake[hub.TABLE["MATH500"].sources[0]] = [record_math500(r) for r in _rows("MATH500")]

    crux = sorted((record_cruxeval(r) for r in _rows("CRUXEval")), key=lambda r: int(r["id"].split("_")[1]))
    fake[hub.TABLE["CRUXEval"].sources[0]] = crux

    drawn = {r["idx"]: r for r in (record_boardgameqa(row) for row in _rows("BoardgameQA500"))}
    board = []
    for idx in range(15000):
        if idx in drawn:
            board.append(drawn[idx])
        else:  # fillers; every 97th is too long for EvoLM's length filter
            words = 1700 if idx % 97 == 0 else 12
            board.append({"example": " ".join(["word"] * words), "label": rng.choice(list(truth.BOARDGAMEQA_LABELS)),
                          "proof": "", "config": "x"})
    fake[hub.TABLE["BoardgameQA500"].sources[0]] = plain(board)

    tab = sorted((record_tabmwp(r) for r in _rows("TabMWP")), key=lambda r: r["idx"])
    fake[hub.TABLE["TabMWP"].sources[0]] = [dict(r, pid=str(1000 + i)) for i, r in enumerate(plain(tab))]

    strategy = [record_strategyqa(r) for r in _rows("StrategyQA500")]
    while len(strategy) < 2290:
        strategy.append({"qid": f"{rng.getrandbits(80):020x}", "term": "", "description": "", "question": "Q?",
                         "answer": rng.random() < 0.5, "facts": ["A fact."], "decomposition": []})
    rng.shuffle(strategy)
    fake[hub.TABLE["StrategyQA500"].sources[0]] = strategy
    return fake


@pytest.fixture(scope="module")
def fake_hub():
    return _fake_hub()


@pytest.fixture
def hub_from(monkeypatch, fake_hub):
    calls: list[hub.HubSource] = []

    def load(source):
        calls.append(source)
        return [dict(r) for r in fake_hub[source]]

    monkeypatch.setattr(hub, "_load_records", load)
    return calls


@pytest.mark.parametrize("stem", hub.STEMS)
def test_fetch_rebuilds_each_file_byte_for_byte(stem, hub_from, tmp_path):
    messages: list[str] = []
    rows = hub.fetch(stem, log=messages.append)
    assert [hub.dumps_row(row) for row in rows] == _lines(stem)
    assert hub.write_jsonl(rows, tmp_path / f"{stem}.jsonl") == len(rows)
    assert (tmp_path / f"{stem}.jsonl").read_bytes() == (BENCHMARKS / f"{stem}.jsonl").read_bytes()
    assert set(hub_from) == set(hub.TABLE[stem].sources)
    assert messages and messages[-1].startswith(f"{stem}: {len(rows)} rows")


def test_fetch_unpinned_keeps_hub_order_and_draws_a_seeded_subset(hub_from):
    gsm = hub.fetch("GSM8KPlatinum", pinned=False)
    assert [row["id"] for row in gsm] == [f"GSM8KPlatinum-{i:04d}" for i in range(1209)]
    first, second = hub.fetch("BoardgameQA500", pinned=False), hub.fetch("BoardgameQA500", pinned=False)
    assert len(first) == 500 and first == second
    assert all(len(row["problem"].split()) * 1.3 <= 2048 for row in first)
    assert len(hub.fetch("StrategyQA500", pinned=False)) == 500


def test_fetch_reports_a_changed_hub_copy(monkeypatch, fake_hub):
    source = hub.TABLE["StrategyQA500"].sources[0]
    pinned = hub.TABLE["StrategyQA500"].pinned_ids[3].split("-", 1)[1]
    changed = [dict(r, qid="0" * 20) if r["qid"] == pinned else r for r in fake_hub[source]]
    monkeypatch.setattr(hub, "_load_records", lambda s: changed)
    with pytest.raises(hub.HubMismatch, match=pinned):
        hub.fetch("StrategyQA500")
    monkeypatch.setattr(hub, "_load_records", lambda s: changed[:-1])
    with pytest.raises(hub.HubMismatch, match="2289 records"):
        hub.fetch("StrategyQA500")
    monkeypatch.setattr(hub, "_load_records", lambda s: [{"qid": "a", "question": "q"}] * 2290)
    with pytest.raises(hub.HubUnavailable, match="fields"):
        hub.fetch("StrategyQA500")


def test_math_join_needs_every_test_problem_named():
    parts = [[{"problem": "P1", "level": "Level 1", "type": "Algebra", "solution": "\\boxed{1}"}]] + [[]] * 6
    named = [[{"problem": "P1", "unique_id": "test/algebra/7.json"}], []]
    joined = math_family.join_math(parts + named)
    assert joined == [{"unique_id": "test/algebra/7.json", "problem": "P1", "solution": "\\boxed{1}",
                       "level": "Level 1", "type": "Algebra"}]
    assert math_family.math_to_row(joined[0])["id"] == "MATH-algebra-7"
    assert math_family.math_hard_to_row(joined[0])["id"] == "MATHHard-algebra-7"
    with pytest.raises(hub.HubMismatch, match="could not be matched"):
        math_family.join_math(parts + [[{"problem": "P1", "unique_id": "train/algebra/7.json"}], []])


def test_a_math_source_whose_fields_changed_is_a_hub_mismatch_not_a_traceback(monkeypatch):
    """MATH's sources are joined (join_math) before any row is made: a renamed field there is one sentence too."""
    monkeypatch.setattr(hub, "_load_records", lambda source: [{"question": "P1", "level": "Level 1"}])
    with pytest.raises(hub.HubMismatch, match="no longer has the fields EvoLM used"):
        hub.fetch("MATHLevel1")


# ---- failures surface as HubUnavailable --------------------------------------------------------

def _one_sentence(message: str) -> bool:
    return message.endswith(".") and "\n" not in message


def test_a_failing_loader_becomes_hub_unavailable(monkeypatch):
    def offline(source):
        raise ConnectionError("Couldn't reach 'madrylab/gsm8k-platinum' on the Hub (LocalEntryNotFoundError)\nmore")

    monkeypatch.setattr(hub, "_load_records", offline)
    with pytest.raises(hub.HubUnavailable) as caught:
        hub.fetch("GSM8KPlatinum")
    assert not isinstance(caught.value, hub.HubMismatch)
    assert isinstance(caught.value.__cause__, ConnectionError)
    assert "madrylab/gsm8k-platinum" in str(caught.value) and _one_sentence(str(caught.value))


def test_load_dataset_errors_are_wrapped(monkeypatch):
    import datasets

    seen = []

    def load_dataset(path, name=None, split=None, revision=None, **kwargs):
        seen.append((path, name, split, revision))
        raise FileNotFoundError(f"Dataset '{path}' doesn't exist on the Hub or cannot be accessed.")

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    with pytest.raises(hub.HubUnavailable, match="tasksource/Boardgame-QA") as caught:
        hub.fetch("BoardgameQA500")
    assert seen == [("tasksource/Boardgame-QA", None, "test", hub.TABLE["BoardgameQA500"].sources[0].revision)]
    assert _one_sentence(str(caught.value))


def test_missing_datasets_package_is_hub_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` raise ImportError
    with pytest.raises(hub.HubUnavailable, match="install"):
        hub.fetch("CRUXEval")


def test_offline_environment_fails_fast_with_hub_unavailable(tmp_path):
    """A real run with the hub switched off and an empty cache: both loaders must fail quickly."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(tmp_path / "hf"),
               HF_DATASETS_CACHE=str(tmp_path / "hf" / "datasets"), HF_HUB_CACHE=str(tmp_path / "hf" / "hub"))
    env.pop("HF_ENDPOINT", None)
    script = (
        "from evolm.eval.tasks import hub as h\n"
        "for stem in ('CRUXEval', 'TabMWP'):\n"
        "    try:\n"
        "        h.fetch(stem)\n"
        "    except h.HubUnavailable as exc:\n"
        "        print('UNAVAILABLE', stem, exc)\n"
    )
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("UNAVAILABLE")]
    assert [line.split()[1] for line in lines] == ["CRUXEval", "TabMWP"], done.stdout + done.stderr[-2000:]
    assert time.monotonic() - start < 120
