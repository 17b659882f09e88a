"""Each stage's options are one dataclass: the CLI options, the --config keys and the help come from it."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from evolm.cli.main import app
from evolm.cli.options import with_options
from evolm.errors import BadInput
from evolm.options import flag_of, from_values, option, option_fields, shared_option
from evolm.stages.lm_run import Overrides
from evolm.stages.rl import RLOptions
from evolm.stages.sft import SFTOptions

COMMANDS = {"pretrain": Overrides, "cpt": Overrides, "sft": SFTOptions, "rl": RLOptions}


def _command(name: str):
    return typer.main.get_command(app).commands[name]


def _all_commands(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer's own click, not the click package)
            yield from _all_commands(command, path + (name,))
        else:
            yield " ".join(path + (name,)), command


@pytest.mark.parametrize("name, cls", COMMANDS.items())
def test_every_field_is_exactly_one_option_of_its_command_with_its_help(name, cls):
    params = _command(name).params
    for f in option_fields(cls):
        matching = [p for p in params if p.name == f.name]
        assert len(matching) == 1, f"{name}: {f.name}"
        param = matching[0]
        assert flag_of(f) in param.opts
        assert param.help == f.metadata["help"] and param.help
        default = str(f.default) if f.metadata["count"] else f.default
        assert param.default == default
        assert param.secondary_opts == ([f"--no-{flag_of(f)[2:]}"] if f.metadata["negatable"] else [])
    assert len(option_fields(cls)) == len(dataclasses.fields(cls))  # every field is an option


@pytest.mark.parametrize("name, cls", COMMANDS.items())
def test_help_lists_every_option_with_its_help(cli, name, cls):
    result = cli(name, "--help")
    assert result.code == 0
    # help wraps lines, at spaces or after a hyphen ("comma-" / "separated"): compare without whitespace
    text = "".join(result.out.split())
    for f in option_fields(cls):
        assert flag_of(f) in text and "".join(f.metadata["help"].split()) in text, f.name


def test_no_option_is_declared_twice_in_any_command():
    for path, command in _all_commands(typer.main.get_command(app)):
        names = [p.name for p in command.params]
        flags = [flag for p in command.params for flag in p.opts + p.secondary_opts]
        assert len(names) == len(set(names)), path
        assert len(flags) == len(set(flags)), path


def test_the_shared_command_options_are_the_same_object_in_each_command():
    """--out and --resume of the four training commands are one declaration each (evolm.cli.common)."""
    from evolm.cli import common

    for name in COMMANDS:
        params = {p.name: p for p in _command(name).params}
        assert params["out"].help == common.CheckpointOutOption.help
        assert params["resume"].help == common.ResumeOption.help
    kl = {p.name: p for p in _command("rl").params}["kl"]
    assert kl.opts == ["--kl"] and kl.secondary_opts == ["--no-kl"]


def test_declaring_an_option_twice_is_refused():
    @dataclasses.dataclass
    class Knobs:
        seed: int = option(0, "A seed.")

    def command(seed: int = typer.Option(0, "--seed"), knobs: Knobs = None) -> None: ...

    with pytest.raises(TypeError, match="declared twice"):
        with_options(knobs=Knobs)(command)

    def lacks_the_parameter(seed: int = 0) -> None: ...

    with pytest.raises(TypeError, match="no parameter knobs"):
        with_options(knobs=Knobs)(lacks_the_parameter)
    with pytest.raises(TypeError, match="help"):
        option(0, "")


def test_a_shared_option_makes_a_fresh_field_per_class():
    SEED = shared_option(3, "A seed.")

    @dataclasses.dataclass
    class A:
        seed: int = SEED()

    @dataclasses.dataclass
    class B:
        x: int = option(1, "An x.")
        seed: int = SEED()

    assert A().seed == B().seed == 3
    assert dataclasses.fields(A)[0] is not dataclasses.fields(B)[1]
    assert dataclasses.fields(B)[1].metadata["help"] == "A seed."


# -- what the CLI builds is what a Python caller builds --------------------------------------------

class _Stop(BadInput):
    pass


@pytest.fixture
def captured(monkeypatch):
    """Replace the four stages' run functions by one that records its arguments and stops (exit 2)."""
    from evolm.stages import cpt, pretrain, rl, sft

    calls = {}

    def fake(name):
        def run(**kwargs):
            calls[name] = kwargs
            raise _Stop("stopped before training")
        return run

    for module in (pretrain, cpt, sft, rl):
        monkeypatch.setattr(module, "run", fake(module.__name__.rsplit(".", 1)[1]))
    return calls


def _args(name, tmp_path):
    if name == "pretrain":
        return ["pretrain", "--model", "1M", "--tokens", "1M", "--data", tmp_path, "--out", tmp_path / "out"]
    if name == "cpt":
        return ["cpt", tmp_path, "--domain", f"{tmp_path}:1K", "--out", tmp_path / "out"]
    return [name, tmp_path, "--data", tmp_path, "--out", tmp_path / "out"]


def _options(calls, name):
    return calls[name]["overrides" if name in ("pretrain", "cpt") else "options"]


@pytest.mark.parametrize("name, cls, argv, values", [
    ("pretrain", Overrides, ["--lr", "1e-3", "--val-tokens", "8K", "--seq-len", "32", "--report-to", "tensorboard"],
     {"lr": 1e-3, "val_tokens": "8K", "seq_len": 32, "report_to": "tensorboard"}),
    ("cpt", Overrides, ["--min-lr", "0", "--warmup", "5", "--peak-flops", "1e12"],
     {"min_lr": 0.0, "warmup": 5.0, "peak_flops": 1e12}),
    ("sft", SFTOptions, ["--lr", "1e-4", "--lora", "--lora-rank", "4", "--seed", "3"],
     {"lr": 1e-4, "lora": True, "lora_rank": 4, "seed": 3}),
    ("rl", RLOptions, ["--kl", "--kl-coef", "0.01", "--rollouts", "3", "--max-completion-length", "64"],
     {"kl": True, "kl_coef": 0.01, "rollouts": 3, "max_completion_length": 64}),
])
def test_the_cli_builds_what_a_python_caller_builds(cli, captured, tmp_path, name, cls, argv, values):
    result = cli(*_args(name, tmp_path), *argv)
    assert result.code == 2 and "stopped before training" in result.err
    built = _options(captured, name)
    assert built == from_values(cls, values)
    assert from_values(cls, {}) == cls()
    direct = {k: int(v[:-1]) * 1000 if k == "val_tokens" else v for k, v in values.items()}
    assert built == cls(**direct)
    cli(*_args(name, tmp_path))
    assert _options(captured, name) == cls()  # no option given: the dataclass's defaults


def test_from_values_refuses_unknown_names_and_parses_counts():
    assert from_values(Overrides, {"val_tokens": "1.5K"}).val_tokens == 1500
    assert from_values(Overrides, {"val_tokens": 2048}).val_tokens == 2048
    with pytest.raises(BadInput, match="Unknown option.*learning_rate"):
        from_values(SFTOptions, {"learning_rate": 1.0})
    with pytest.raises(BadInput, match="Invalid --val-tokens '8X'"):
        from_values(Overrides, {"val_tokens": "8X"})


# -- --config YAML keys are the field names --------------------------------------------------------

def test_yaml_config_sets_derived_options_and_the_command_line_wins(cli, captured, tmp_path):
    config = tmp_path / "rl.yaml"
    config.write_text("kl: true\nkl_coef: 0.01\nrollouts: 3\nlr: 1e-5\nexamples: 7\n")
    assert cli(*_args("rl", tmp_path), "--config", config).code == 2
    o = captured["rl"]["options"]
    assert (o.kl, o.kl_coef, o.rollouts, o.lr) == (True, 0.01, 3, 1e-5) and captured["rl"]["examples"] == 7
    assert cli(*_args("rl", tmp_path), "--config", config, "--rollouts", "5", "--no-kl").code == 2
    o = captured["rl"]["options"]
    assert (o.kl, o.kl_coef, o.rollouts) == (False, 0.01, 5)

    config = tmp_path / "pretrain.yaml"
    config.write_text("lr: 0.001\nval_tokens: 8K\nseq-len: 32\n")
    assert cli(*_args("pretrain", tmp_path), "--config", config).code == 2
    o = captured["pretrain"]["overrides"]
    assert (o.lr, o.val_tokens, o.seq_len) == (0.001, 8000, 32)
    assert cli(*_args("pretrain", tmp_path), "--config", config, "--val-tokens", "2K").code == 2
    assert captured["pretrain"]["overrides"].val_tokens == 2000

    config = tmp_path / "sft.yaml"
    config.write_text("lora: true\nlora_alpha: 8\nweight_decay: 0.05\n")
    assert cli(*_args("sft", tmp_path), "--config", config).code == 2
    assert captured["sft"]["options"] == SFTOptions(lora=True, lora_alpha=8, weight_decay=0.05)


def test_bad_config_or_count_exits_2_before_anything_runs(cli, captured, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("kl_coeff: 0.1\n")
    result = cli(*_args("rl", tmp_path), "--config", config)
    assert result.code == 2 and "'kl_coeff'" in result.err and "rl" not in captured
    config.write_text("val_tokens: 8X\n")
    result = cli(*_args("pretrain", tmp_path), "--config", config)
    assert result.code == 2 and result.out == "" and "pretrain" not in captured
    assert result.err.strip().startswith("error: Invalid --val-tokens '8X'")
    result = cli(*_args("cpt", tmp_path), "--val-tokens", "lots")
    assert result.code == 2 and "Invalid --val-tokens 'lots'" in result.err and "cpt" not in captured
    assert not (tmp_path / "out").exists()


def test_config_keys_are_the_option_names_and_yaml_bools_are_not_numbers(cli, tmp_path):
    config = tmp_path / "synth.yaml"
    config.write_text("json: true\nscale: tiny\n")  # --json's key is json (its parameter is as_json)
    made = cli("data", "synth", "--out", tmp_path / "d", "--config", config)
    assert made.code == 0, made.err
    assert json.loads(made.out)["files"]
    config.write_text("seed: true\nscale: tiny\n")  # YAML's true is not seed 1
    refused = cli("data", "synth", "--out", tmp_path / "e", "--config", config)
    assert refused.code == 2 and "sets 'seed' to true, where it expects a value" in refused.err
    assert not (tmp_path / "e").exists()
    # one value for TEXT..., and --from by its option name: both reach the command (which refuses the pair)
    config = tmp_path / "tok.yaml"
    config.write_text(f"text: {tmp_path / 'd' / 'text' / 'math.jsonl'}\nfrom: gpt2\n")
    both = cli("data", "tokenizer", "--out", tmp_path / "t", "--config", config)
    assert both.code == 2 and "Give either TEXT files to train on or --from NAME, not both." in both.err
    config.write_bytes(b"scale: tiny\n\xff\xfe\x00binary")  # a binary file given by mistake: exit 1 before
    binary = cli("data", "synth", "--out", tmp_path / "f", "--config", config)
    assert binary.code == 2 and "is not UTF-8 text" in binary.err and not (tmp_path / "f").exists()


def test_the_cli_imports_no_training_library():
    """The option dataclasses live in the stage modules; importing them for the CLI must stay light."""
    code = "import sys, evolm.cli.main; print(sorted(m for m in ('torch', 'transformers', 'trl') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr



# -- every option's range is declared with it and checked before anything runs ---------------------

@pytest.mark.parametrize("cls", [Overrides, SFTOptions, RLOptions])
def test_every_numeric_option_declares_its_range(cls):
    """A number without a range is how `--micro-batch 0` once ran a job with the default (issue 13)."""
    import typing

    from evolm.options import allowed_range

    hints = typing.get_type_hints(cls)
    for f in option_fields(cls):
        types = set(typing.get_args(hints[f.name])) - {type(None)} or {hints[f.name]}
        if types <= {int, float}:
            assert allowed_range(f) is not None, f"{cls.__name__}.{f.name} declares no range"


def test_a_python_caller_gets_the_same_refusals_as_the_cli():
    with pytest.raises(BadInput, match=r"^--lr -1 is out of range: it must be greater than 0\.$"):
        SFTOptions(lr=-1.0).check()
    with pytest.raises(BadInput, match=r"^--temperature inf is out of range: it must be greater than 0\.$"):
        RLOptions(temperature=float("inf")).check()
    with pytest.raises(BadInput, match=r"^--micro-batch 'two' is out of range: it must be a number at least 1\.$"):
        Overrides(micro_batch="two").check()
    with pytest.raises(BadInput, match=r"^--seed -1 is out of range: it must be between 0 and 4294967295\.$"):
        Overrides(seed=-1).check()
    with pytest.raises(BadInput, match=r"^--warmup 1\.5 is out of range: it must be a fraction"):
        RLOptions(warmup=1.5).check()
    with pytest.raises(BadInput, match="Unknown RL algorithm 'a2c'"):
        RLOptions(algo="a2c").check()
    for cls in (Overrides, SFTOptions, RLOptions):
        cls().check()  # the defaults pass
    Overrides(warmup=5.0, seq_len=1, min_lr=0.0).check()


def test_options_of_a_feature_that_is_off_are_named_as_having_no_effect(capsys):
    RLOptions(kl_coef=0.1).check()
    assert "warning: --kl-coef 0.1 has no effect: the KL penalty is off" in capsys.readouterr().err
    SFTOptions(lora_rank=4, lora_alpha=8).check()
    assert "warning: --lora-rank and --lora-alpha have no effect: LoRA is off" in capsys.readouterr().err
    SFTOptions(lora_rank=4).check()
    assert "warning: --lora-rank has no effect: LoRA is off" in capsys.readouterr().err
    RLOptions(kl=True, kl_coef=0.1).check()
    SFTOptions(lora=True, lora_rank=4).check()
    assert "warning" not in capsys.readouterr().err
