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


def test_a_problem_in_both_parts_is_named_though_the_rows_are_disjoint(cli, tmp_path):
    pool = _pool(tmp_path / "pool.jsonl", 3)
    pool.write_text(pool.read_text() * 2)  # the same 3 problems twice: rows 0-2 and 3-5
    result = cli("data", "split", pool, "--sft", "3", "--rl", "3", "--out", tmp_path / "s")
    assert result.code == 0 and "warning: 3 of the RL part's 3 problems are also in the SFT part" in result.err
    clean = cli("data", "split", _pool(tmp_path / "distinct.jsonl", 6), "--sft", "3", "--rl", "3", "--out", tmp_path / "t")
    assert clean.code == 0 and "warning" not in clean.err


def test_pool_rows_need_problem_and_solution(cli, tmp_path):
    pool = tmp_path / "pool.jsonl"
    pool.write_text(json.dumps({"problem": "x", "gt_solution": "y"}) + "\n" + json.dumps({"problem": "x"}) + "\n")
    result = cli("data", "split", pool, "--sft", "1", "--rl", "1", "--out", tmp_path / "s")
    assert result.code == 2 and "line 2 lacks the field(s) gt_solution" in result.err


def test_a_parquet_pool_splits_like_its_jsonl_and_a_misnamed_one_is_refused_in_a_sentence(cli, tmp_path):
    """The hub keeps datasets as parquet (the paper's pool, `ZhentingNLP/mathaug-disjoint`): a parquet
    pool keeps its row order; parquet bytes given as .jsonl are bad input, not a traceback."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import datetime

    rows = [json.loads(line) for line in _pool(tmp_path / "pool.jsonl", 10).read_text().splitlines()]
    for row in rows:  # columns JSON has no type for: kept as text in the split's files
        row["added"], row["raw"] = datetime.datetime(2025, 1, 2), b"\x00\x01"
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "pool.parquet", row_group_size=3)
    result = cli("data", "split", tmp_path / "pool.parquet", "--sft", "4", "--rl", "3", "--out", tmp_path / "s")
    assert result.code == 0, result.err
    ids = lambda name: [json.loads(l)["id"] for l in (tmp_path / "s" / name).read_text().splitlines()]  # noqa: E731
    assert ids("sft.jsonl") == ["p0", "p1", "p2", "p3"] and ids("rl.jsonl") == ["p7", "p8", "p9"]
    pq.write_table(pa.Table.from_pylist([{"problem": "x"}]), tmp_path / "bad.parquet")
    bad = cli("data", "split", tmp_path / "bad.parquet", "--sft", "1", "--rl", "0", "--out", tmp_path / "b")
    assert bad.code == 2 and "row 1 lacks the field(s) gt_solution" in bad.err
    (tmp_path / "misnamed.jsonl").write_bytes((tmp_path / "pool.parquet").read_bytes())
    misnamed = cli("data", "split", tmp_path / "misnamed.jsonl", "--sft", "1", "--rl", "1", "--out", tmp_path / "m")
    assert misnamed.code == 2 and "is not UTF-8 text" in misnamed.err and misnamed.err.count("\n") == 1
    assert not (tmp_path / "m").exists() and not (tmp_path / "b").exists()


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


RL = ("--prompts-per-step", "4", "--rollouts", "2", "--max-completion-length", "24", "--epochs", "1")


def test_sft_and_rl_take_their_parts_of_a_split_folder(base, synth_tiny, tmp_path, cli):
    from evolm.checkpoint import load_checkpoint
    from evolm.fsutil import sha256_file

    pool = synth_tiny / "pool" / "mathpool.jsonl"
    split = tmp_path / "split"
    assert cli("data", "split", pool, "--sft", "16", "--rl", "8", "--out", split).code == 0
    sft = cli("sft", base, "--data", split, "--epochs", "1", "--global-batch", "8", "--max-length", "128",
              "--out", tmp_path / "sft")
    assert sft.code == 0, sft.err
    ckpt = load_checkpoint(tmp_path / "sft")
    assert ckpt.signature == "tiny-60KT-16ep1"  # all of the SFT part when --examples is not given
    data = ckpt.manifest.data[0]
    assert ckpt.manifest.knobs["rows"] == data.rows == [0, 16]  # the pool's own rows
    assert data.split == str(split.resolve()) and data.split_part == "sft"
    assert data.split_sha256 == sha256_file(split / "split.json")
    assert ckpt.manifest.knobs["pool_sha256"] == data.pool_sha256 == sha256_file(pool)

    rl = cli("rl", tmp_path / "sft", "--data", split, *RL, "--out", tmp_path / "rl")
    assert rl.code == 0, rl.err
    rl_ckpt = load_checkpoint(tmp_path / "rl")
    assert rl_ckpt.manifest.knobs["rows"] == [1992, 2000] and rl_ckpt.manifest.data[0].split_part == "rl"
    assert rl_ckpt.manifest.schedule.steps_done == 2

    # SFT took pool rows [0, 16) through the split; RL on the pool file itself must stay clear of them.
    overlap = cli("rl", tmp_path / "sft", "--data", pool, "--examples", "1990", *RL, "--out", tmp_path / "rl2")
    assert overlap.code == 2
    assert "RL rows [10, 2000) overlap the rows [0, 16) this lineage used for SFT (6 examples)" in overlap.err
    assert "(at most 1984)" in overlap.err
    assert not (tmp_path / "rl2").exists() and not (tmp_path / "rl2.partial").exists()


def test_rl_on_a_split_refuses_rows_sft_took_from_the_pool(sft_model, synth_tiny, tmp_path, cli):
    split = tmp_path / "split"
    assert cli("data", "split", synth_tiny / "pool" / "mathpool.jsonl", "--sft", "100", "--rl", "1700",
               "--out", split).code == 0
    result = cli("rl", sft_model, "--data", split, *RL, "--out", tmp_path / "rl")  # sft_model: pool rows [0, 400)
    assert result.code == 2
    assert "RL rows [300, 2000) overlap the rows [0, 400) this lineage used for SFT (100 examples)" in result.err
    assert "(at most 1600)" in result.err
    assert not (tmp_path / "rl").exists() and not (tmp_path / "rl.partial").exists()


def test_split_folder_bad_inputs(base, tmp_path, cli):
    pool = _pool(tmp_path / "pool.jsonl", 10)
    assert cli("data", "split", pool, "--sft", "4", "--rl", "3", "--out", tmp_path / "s").code == 0
    too_many = cli("sft", base, "--data", tmp_path / "s", "--examples", "5", "--out", tmp_path / "o")
    assert too_many.code == 2 and "larger than the SFT part of the split" in too_many.err and "(4 examples)" in too_many.err
    (tmp_path / "empty").mkdir()
    folder = cli("rl", base, "--data", tmp_path / "empty", "--out", tmp_path / "o")
    assert folder.code == 2 and "without split.json" in folder.err
    no_count = cli("sft", base, "--data", pool, "--out", tmp_path / "o")
    assert no_count.code == 2 and "--examples is needed with a pool file" in no_count.err
    (tmp_path / "s" / "rl.jsonl").write_text((tmp_path / "s" / "sft.jsonl").read_text())  # 4 rows where 3 were listed
    altered = cli("rl", base, "--data", tmp_path / "s", "--out", tmp_path / "o")
    assert altered.code == 2 and "was altered" in altered.err
    assert not (tmp_path / "o").exists() and not (tmp_path / "o.partial").exists()
