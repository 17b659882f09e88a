"""Paths a user can get wrong: one sentence and exit 2, nothing written (issue 13, item 11)."""

import os

import pytest


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs a /proc file system")
def test_an_output_under_proc_is_refused_with_one_sentence(tmp_path, cli):
    result = cli("data", "synth", "--out", "/proc/evolm-synth-test", "--scale", "tiny")
    assert result.code == 2 and result.err.startswith("error: Cannot create /proc/evolm-synth-test:"), result.err
    assert "Traceback" not in result.err and not os.path.exists("/proc/evolm-synth-test")


def test_a_pool_folder_names_the_files_inside(tmp_path, cli, synth_tiny):
    folder = synth_tiny / "pool"
    out = tmp_path / "split"
    result = cli("data", "split", folder, "--sft", "10", "--rl", "10", "--out", out)
    assert result.code == 2 and f"Pool {folder} is a folder; give the pool's .jsonl file ({folder / 'mathpool.jsonl'})" in result.err
    assert not out.exists()
