"""Pieces every subcommand shares: `--config FILE.yaml`, `--json` output, count options, the training
commands' `--out` and `--resume`."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from evolm import jsontext
from evolm.errors import BadInput
from evolm.fsutil import expand_home, read_yaml
from evolm.units import parse_count


def expand_home_in_options(argv: list[str]) -> list[str]:
    """`--option=~/path` with the home folder in place of the tilde."""
    def expanded(arg):
        option, equals, value = arg.partition("=")
        return option + equals + expand_home(value) if option.startswith("--") and equals else arg

    return [expanded(a) if isinstance(a, str) else a for a in argv]


def _load_config(ctx: typer.Context, param: typer.CallbackParam, value: Optional[Path]) -> Optional[Path]:
    """Eager callback: a YAML file's keys become the command's defaults, so the CLI still wins."""
    if value is None:
        return value
    path = Path(value)
    data = read_yaml(path, "Config file") or {}
    if not isinstance(data, dict):
        raise BadInput(f"Config file {path} must be a mapping of option names to values.")
    # Keys are option names (`json`, `from`), or the parameter names behind them (`as_json`, `adopt`).
    known = {}
    for param in ctx.command.params:
        if param.name != "config":
            for alias in (param.name, *(o.lstrip("-").replace("-", "_") for o in param.opts if o.startswith("--"))):
                known.setdefault(alias, param)
    defaults = {}
    for key, setting in data.items():
        param = known.get(str(key).lstrip("-").replace("-", "_"))
        if param is None:
            raise BadInput(f"Config file {path} sets {key!r}, which `{ctx.command_path}` does not accept.")
        if isinstance(setting, bool) and not getattr(param, "is_flag", False):
            # YAML reads `seed: true` as a bool, which click would take as 1
            raise BadInput(f"Config file {path} sets {key!r} to {str(setting).lower()}, where it expects a value, not a switch.")
        if isinstance(setting, list) and not param.multiple and param.nargs == 1:
            # A YAML list for an option of one value (`export_at: [500K, 1M]`): its command-line form,
            # where click would otherwise pass the list's repr.
            setting = ",".join(map(str, setting))
        elif (param.multiple or param.nargs == -1) and not isinstance(setting, list):
            setting = [setting]  # one value for a repeatable option or argument (`subset: finemath-3plus`)
        defaults[param.name] = expand_home(setting)
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return path


ConfigOption = typer.Option(
    None, "--config", help="YAML file of option values (keys are option names); command-line options win.",
    callback=_load_config, is_eager=True, exists=False, dir_okay=False,
)
JsonOption = typer.Option(False, "--json", help="Print the result as one JSON object instead of the output path.")
# The listing commands' (presets, ls, study plan, study ledger), which print a table, not a path.
TableJsonOption = typer.Option(False, "--json", help="Print the result as one JSON object instead of the table.")
OverwriteOption = typer.Option(False, "--overwrite", help="Replace OUT if it is an earlier output of this command (only once the new output is complete; a folder of anything else is refused).")
# The training commands' (pretrain, cpt, sft, rl); their training options come from the stages' dataclasses.
CheckpointOutOption = typer.Option(..., "--out", help="Checkpoint directory to create.")
ResumeOption = typer.Option(False, "--resume", help="Continue the interrupted run in OUT.partial.")


_RESULT_STREAM = None  # the real stdout while a command runs (see `results_only_on_stdout`)


@contextmanager
def results_only_on_stdout():
    """While a command runs, Python's stdout is stderr and only `echo_result` reaches the real stdout.

    Libraries print progress and notices on stdout (lm-eval's "Passed argument batch_size = ..."),
    which would break `$(evolm ...)` pipelines and `--json`; no library option silences all of them,
    so the command's callback runs with stdout pointed at stderr."""
    global _RESULT_STREAM
    saved = sys.stdout
    _RESULT_STREAM, sys.stdout = saved, sys.stderr
    try:
        yield
    finally:
        sys.stdout, _RESULT_STREAM = saved, None


def echo_result(text: str) -> None:
    """One line of the command's result, on the real stdout."""
    typer.echo(text, file=_RESULT_STREAM or sys.stdout)


def emit(path: Path | str, payload: dict, as_json: bool) -> None:
    """The command's result on stdout: the output path, or a JSON object with --json."""
    if as_json:
        echo_result(jsontext.dumps({"path": str(path), **payload}, indent=None, sort_keys=True, default=str))
    else:
        echo_result(str(path))


def count(value: str, what: str) -> int:
    return int(parse_count(value, what=what))
