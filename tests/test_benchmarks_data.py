"""`evolm data benchmarks --from`: validate and copy the paper's 11 test files."""

import json
import shutil

from evolm.eval.tasks.registry import paper_tasks

PAPER_TASKS = [spec.name for spec in paper_tasks()]


def test_copies_and_validates_all_files(cli, paper_benchmarks, tmp_path):
    result = cli("data", "benchmarks", "--from", paper_benchmarks, "--out", tmp_path / "b", "--json")
    assert result.code == 0, result.err
    tasks = json.loads(result.out)["tasks"]
    assert set(tasks) == set(PAPER_TASKS) and len(tasks) == 11
    assert tasks["GSM8KPlatinum"]["rows"] == 1209 and tasks["CRUXEval"]["rows"] == 800
    for stem in PAPER_TASKS:
        assert (tmp_path / "b" / f"{stem}.jsonl").read_bytes() == (paper_benchmarks / f"{stem}.jsonl").read_bytes()
    assert tasks["CRUXEval"]["domain"] == "ood" and tasks["MATHHard"]["domain"] == "id"
    assert "warning" not in result.err


def test_a_copy_of_another_size_than_the_papers_is_said_so(cli, paper_benchmarks, tmp_path):
    local = _copy(paper_benchmarks, tmp_path)
    lines = (local / "MATH500.jsonl").read_text().splitlines()
    (local / "MATH500.jsonl").write_text("\n".join(lines[:5]) + "\n")  # a sample, or a truncated download
    result = cli("data", "benchmarks", "--from", local, "--out", tmp_path / "b")
    assert result.code == 0, result.err
    assert "warning: MATH500.jsonl has 5 rows; the paper's MATH500 has 500" in result.err


def _copy(paper_benchmarks, tmp_path):
    local = tmp_path / "local"
    shutil.copytree(paper_benchmarks, local)
    return local


def test_broken_json_line_is_named(cli, paper_benchmarks, tmp_path):
    local = _copy(paper_benchmarks, tmp_path)
    lines = (local / "TabMWP.jsonl").read_text().splitlines()
    lines[6] = lines[6][:-5]
    (local / "TabMWP.jsonl").write_text("\n".join(lines) + "\n")
    result = cli("data", "benchmarks", "--from", local, "--out", tmp_path / "b")
    assert result.code == 2
    assert f"{local / 'TabMWP.jsonl'} line 7 is not valid JSON" in result.err
    assert not (tmp_path / "b").exists()


def test_missing_field_is_named(cli, paper_benchmarks, tmp_path):
    local = _copy(paper_benchmarks, tmp_path)
    lines = (local / "StrategyQA500.jsonl").read_text().splitlines()
    row = json.loads(lines[41])
    del row["gt_solution"]
    lines[41] = json.dumps(row)
    (local / "StrategyQA500.jsonl").write_text("\n".join(lines) + "\n")
    result = cli("data", "benchmarks", "--from", local, "--out", tmp_path / "b")
    assert result.code == 2 and "StrategyQA500.jsonl line 42 lacks the field(s) gt_solution" in result.err
    assert not (tmp_path / "b").exists()


def test_missing_file_and_folder(cli, paper_benchmarks, tmp_path):
    local = _copy(paper_benchmarks, tmp_path)
    (local / "MATHLevel3.jsonl").unlink()
    result = cli("data", "benchmarks", "--from", local, "--out", tmp_path / "b")
    assert result.code == 2 and "lacks MATHLevel3.jsonl" in result.err
    result = cli("data", "benchmarks", "--from", tmp_path / "nowhere", "--out", tmp_path / "b")
    assert result.code == 2 and "does not exist" in result.err
