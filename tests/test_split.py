import json

import pytest

from evolm.errors import BadInput
from evolm.stages.data.split import rl_range, sft_range


def _pool(path, n):
    with open(path, "w") as handle:
        for i in range(n):
            handle.write(json.dumps({"id": f"p{i}", "problem": f"What is {i}+0?", "gt_solution": f"\\boxed{{{i}}}"}) + "\n")
    return path


def test_sft_first_rl_last(cli, tmp_path):
    pool = _pool(tmp_path / "pool.jsonl", 10)
    result = cli("data", "split", pool, "--sft", "4", "--rl", "3", "--out", tmp_path / "s", "--json")
    assert result.code == 0, result.err
    ids = lambda name: [json.loads(l)["id"] for l in (tmp_path / "s" / name).read_text().splitlines()]  # noqa: E731
    assert ids("sft.jsonl") == ["p0", "p1", "p2", "p3"]
    assert ids("rl.jsonl") == ["p7", "p8", "p9"]
    manifest = json.loads((tmp_path / "s" / "split.json").read_text())
    assert manifest["sft"]["start"] == 0 and manifest["rl"]["start"] == 7 and manifest["pool"]["size"] == 10


def test_overlap_is_refused(cli, tmp_path):
    pool = _pool(tmp_path / "pool.jsonl", 10)
    result = cli("data", "split", pool, "--sft", "6", "--rl", "5", "--out", tmp_path / "s")
    assert result.code == 2 and "overlap by 1 examples" in result.err
    assert not (tmp_path / "s").exists()
    too_big = cli("data", "split", pool, "--sft", "11", "--rl", "0", "--out", tmp_path / "s")
    assert too_big.code == 2 and "larger than the pool (10 examples)" in too_big.err


def test_pool_rows_need_problem_and_solution(cli, tmp_path):
    pool = tmp_path / "pool.jsonl"
    pool.write_text(json.dumps({"problem": "x", "gt_solution": "y"}) + "\n" + json.dumps({"problem": "x"}) + "\n")
    result = cli("data", "split", pool, "--sft", "1", "--rl", "1", "--out", tmp_path / "s")
    assert result.code == 2 and "line 2 lacks the field(s) gt_solution" in result.err


def test_ranges_are_the_single_definition():
    assert sft_range(500_000, 100_000) == (0, 100_000)
    assert rl_range(500_000, 100_000) == (400_000, 500_000)
    with pytest.raises(BadInput):
        rl_range(10, 11)


def test_existing_output_is_untouched_without_overwrite(cli, tmp_path):
    pool = _pool(tmp_path / "pool.jsonl", 10)
    assert cli("data", "split", pool, "--sft", "2", "--rl", "2", "--out", tmp_path / "s").code == 0
    before = (tmp_path / "s" / "sft.jsonl").read_text()
    result = cli("data", "split", pool, "--sft", "5", "--rl", "2", "--out", tmp_path / "s")
    assert result.code == 2 and "--overwrite" in result.err
    assert (tmp_path / "s" / "sft.jsonl").read_text() == before
    assert cli("data", "split", pool, "--sft", "5", "--rl", "2", "--out", tmp_path / "s", "--overwrite").code == 0
    assert len((tmp_path / "s" / "sft.jsonl").read_text().splitlines()) == 5
