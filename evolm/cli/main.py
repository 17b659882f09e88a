"""The `evolm` entry point: builds the app and turns errors into exit codes.

Exit codes: 0 success; 2 bad input or usage (one sentence on stderr, traceback only with --debug or
EVOLM_DEBUG=1); 1 anything else.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from typing import Optional

import typer
from typer.exceptions import TyperException

import evolm
from evolm import stagespec
from evolm.cli import data, evaluate, posttrain, presets, report, study, train
from evolm.cli.common import expand_home_in_options, results_only_on_stdout
from evolm.console import debug_requested, stderr
from evolm.errors import BadInput

app = typer.Typer(
    name="evolm",
    help="Reproduce the EvoLM study: data -> pretrain -> cpt -> sft -> rl -> eval -> report, through self-describing checkpoints.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(data.app, name="data")
app.command("presets")(presets.presets)
# The training stages' commands, in the stage specs' order, each listed by its spec's description
# (`evolm.stagespec`); the command functions hold the stage-specific arguments.
STAGE_COMMANDS = {"pretrain": train.pretrain, "cpt": train.cpt, "sft": posttrain.sft, "rl": posttrain.rl,
                  "rm": posttrain.rm}
for _spec in stagespec.STAGES.values():
    if _spec.name in STAGE_COMMANDS:
        app.command(_spec.name, short_help=_spec.description[:1].upper() + _spec.description[1:] + ".")(
            STAGE_COMMANDS[_spec.name])
app.command("eval")(evaluate.evaluate)
app.command("report")(report.report)
app.command("ls")(report.ls)
app.add_typer(study.app, name="study")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"evolm {evolm.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors (also EVOLM_DEBUG=1)."),
) -> None:
    """evolm: the EvoLM study (arXiv 2506.16029) as one CLI."""


def _interrupted(exc: KeyboardInterrupt) -> None:
    """The line Ctrl-C leaves: a training command's interruption says what was kept
    (`evolm.training.rundir.say_what_is_kept`)."""
    stderr.print(f"interrupted; {exc}" if str(exc) else "interrupted", markup=False)


def _guard_stdout(command) -> None:
    """Every subcommand's callback runs under `results_only_on_stdout` (help and usage, printed
    while click parses, keep the real stdout). A Ctrl-C is reported here: typer turns it into a
    silent exit 130 once the callback returns to it."""
    for sub in getattr(command, "commands", {}).values():
        _guard_stdout(sub)
    callback = command.callback
    if callback is None or getattr(callback, "_stdout_guarded", False):
        return

    @functools.wraps(callback)
    def guarded(*args, **kwargs):
        try:
            with results_only_on_stdout():
                return callback(*args, **kwargs)
        except KeyboardInterrupt as exc:
            _interrupted(exc)
            raise

    guarded._stdout_guarded = True
    command.callback = guarded


def main(argv: list[str] | None = None) -> int:
    from evolm.training.processes import finish_processes, start_processes

    start_processes()
    code = 1
    try:
        code = _run(argv)
        return code
    except SystemExit as exc:  # a library's sys.exit: its code is the process's
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        raise
    finally:
        from evolm.fsutil import release_all

        release_all()  # a failed run's hold on its --out: a rerun in this process or another may take it
        # under torchrun / accelerate launch: a clean teardown, not an abort at exit; `argv` given
        # means an in-process caller (tests, scripts), whose process must go on
        finish_processes(code, launched=argv is None)


def _run(argv: list[str] | None) -> int:
    argv = expand_home_in_options(list(sys.argv[1:] if argv is None else argv))
    if not sys.stderr.isatty():
        # Libraries' tqdm bars (datasets, TRL, lm-eval) flood logs and CI output; evolm's own progress
        # prints plain lines there. tqdm reads this once, at import, so it is set before any import.
        os.environ.setdefault("TQDM_DISABLE", "1")
    debug = "--debug" in argv or debug_requested()
    if "--debug" in argv:  # anywhere, as the error line's advice suggests: it is the root command's option
        argv = ["--debug", *(a for a in argv if a != "--debug")]
    command = typer.main.get_command(app)
    _guard_stdout(command)
    try:
        result = command.main(args=argv, prog_name="evolm", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        stderr.print("aborted", markup=False)
        return 130
    except TyperException as exc:  # typer's own click: usage errors (exit 2) and the like
        if hasattr(exc, "show"):
            exc.show(file=sys.stderr)
        else:
            stderr.print(f"error: {exc.format_message()}", markup=False)
        return exc.exit_code
    except BadInput as exc:
        if debug:
            traceback.print_exc()
        stderr.print(f"error: {exc}", markup=False)
        return 2
    except KeyboardInterrupt as exc:  # outside a command's callback (inside it, typer exits 130 after `guarded` reported it)
        _interrupted(exc)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: report, don't dump
        if debug:
            traceback.print_exc()
            stderr.print(f"error: {type(exc).__name__}: {exc}", markup=False)
        else:
            stderr.print(f"error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", markup=False)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
