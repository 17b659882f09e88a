"""The CLI conventions of the design: results on stdout, exit 2 with one sentence, --config, --debug."""

import subprocess
import sys

import pytest

from evolm import __version__


def test_help_lists_data_and_its_subcommands(cli):
    result = cli("--help")
    assert result.code == 0 and "data" in result.out and "presets" in result.out
    data_help = cli("data", "--help")
    for sub in ("synth", "tokenizer", "prepare", "split", "benchmarks"):
        assert sub in data_help.out


def test_version(cli):
    result = cli("--version")
    assert result.code == 0 and result.out.strip() == f"evolm {__version__}"


def test_python_dash_m_works():
    done = subprocess.run([sys.executable, "-m", "evolm", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and __version__ in done.stdout


def test_bad_input_is_one_sentence_and_exit_2(cli, tmp_path):
    result = cli("data", "split", tmp_path / "missing.jsonl", "--sft", "10", "--rl", "10", "--out", tmp_path / "o")
    assert result.code == 2
    assert result.out == ""
    assert result.err.strip() == f"error: Pool {tmp_path / 'missing.jsonl'} does not exist."
    assert "Traceback" not in result.err
    assert not (tmp_path / "o").exists()


def test_unknown_unit_exits_2(cli, tmp_path):
    result = cli("data", "split", tmp_path / "p.jsonl", "--sft", "80X", "--rl", "1", "--out", tmp_path / "o")
    assert result.code == 2 and "Invalid --sft '80X'" in result.err


@pytest.mark.parametrize("where", ["before the command", "after its options"])
def test_debug_shows_the_traceback(tmp_path, where):
    args = ["data", "split", str(tmp_path / "x.jsonl"), "--sft", "1", "--rl", "1", "--out", str(tmp_path / "o")]
    args = ["--debug", *args] if where == "before the command" else [*args, "--debug"]
    done = subprocess.run([sys.executable, "-m", "evolm", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" in done.stderr and "does not exist" in done.stderr


def test_usage_errors_exit_2(cli):
    assert cli("data", "synth").code == 2  # --out missing
    assert cli("no-such-command").code == 2


def _pool(path, n):
    import json

    with open(path, "w") as handle:
        for i in range(n):
            handle.write(json.dumps({"id": str(i), "problem": f"p{i}", "gt_solution": f"s \\boxed{{{i}}}"}) + "\n")


def test_config_file_sets_options_and_the_command_line_wins(cli, tmp_path):
    _pool(tmp_path / "pool.jsonl", 10)
    config = tmp_path / "split.yaml"
    config.write_text(f"sft: 3\nrl: 4\nout: {tmp_path / 'from-config'}\n")
    result = cli("data", "split", tmp_path / "pool.jsonl", "--config", config, "--json")
    assert result.code == 0, result.err
    import json

    payload = json.loads(result.out)
    assert payload["sft"]["examples"] == 3 and payload["rl"]["examples"] == 4
    assert (tmp_path / "from-config" / "sft.jsonl").is_file()
    result = cli("data", "split", tmp_path / "pool.jsonl", "--config", config, "--rl", "2", "--out", tmp_path / "cli-wins")
    assert result.code == 0 and result.out.strip() == str(tmp_path / "cli-wins")
    assert len((tmp_path / "cli-wins" / "rl.jsonl").read_text().splitlines()) == 2


def test_a_tilde_in_a_config_file_or_after_an_equals_sign_is_the_home_folder(cli, tmp_path, monkeypatch):
    """The shell reads `~` only at the start of a word: a config's `out: ~/x` or `--out=~/x` made a folder
    named `~` in the working directory."""
    _pool(tmp_path / "pool.jsonl", 10)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "split.yaml").write_text("sft: 3\nrl: 4\nout: ~/from-config\n")
    assert cli("data", "split", "pool.jsonl", "--config", "split.yaml").code == 0
    assert cli("data", "split", "pool.jsonl", "--sft", "3", "--rl", "4", "--out=~/from-option").code == 0
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["from-config", "from-option"]
    assert not (tmp_path / "~").exists()


def test_every_command_takes_a_config_file():
    """The design's rule: every option is also settable from a YAML `--config` (`evolm ls` and the study
    commands had none)."""
    from typer.main import get_command

    from evolm.cli.main import app

    def leaves(command, path):
        subs = getattr(command, "commands", None)
        if not subs:
            return [(path, command)]
        return [leaf for name, sub in subs.items() for leaf in leaves(sub, f"{path} {name}")]

    commands = leaves(get_command(app), "evolm")
    assert len(commands) >= 17 and "evolm ls" in dict(commands) and "evolm study node" in dict(commands)
    missing = [path for path, command in commands if not any("--config" in p.opts for p in command.params)]
    assert missing == []


def test_a_config_file_sets_the_study_commands_options(cli, tmp_path):
    import json
    from pathlib import Path

    study = Path(__file__).resolve().parent.parent / "examples" / "quickstart.yaml"
    (tmp_path / "plan.yaml").write_text("json: true\npeak_flops: 1e12\n")
    planned = cli("study", "plan", study, "--out", tmp_path / "q", "--config", tmp_path / "plan.yaml")
    assert planned.code == 0, planned.err
    summary = json.loads(planned.out)
    assert summary["peak_flops"] == 1e12 and summary["peak_source"] == "given"
    (tmp_path / "bad.yaml").write_text("jobs: 2\n")
    refused = cli("study", "plan", study, "--config", tmp_path / "bad.yaml")
    assert refused.code == 2 and "'jobs'" in refused.err


def test_config_file_errors(cli, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("sft: 3\nlearning_rate: 1\n")
    result = cli("data", "split", tmp_path / "pool.jsonl", "--config", config, "--out", tmp_path / "o")
    assert result.code == 2 and "'learning_rate'" in result.err
    result = cli("data", "split", tmp_path / "pool.jsonl", "--config", tmp_path / "none.yaml", "--out", tmp_path / "o")
    assert result.code == 2 and "does not exist" in result.err


def test_a_folder_given_for_a_file_and_a_file_for_a_folder_are_named_so(cli, tmp_path):
    folder, file = tmp_path / "folder", tmp_path / "file"
    folder.mkdir()
    file.write_text("")
    study = cli("study", "plan", folder)
    assert study.code == 2 and f"Study file {folder} is a folder, not a file." in study.err
    bench = cli("data", "benchmarks", "--from", file, "--out", tmp_path / "b")
    assert bench.code == 2 and f"Benchmarks folder {file} is a file, not a folder." in bench.err
