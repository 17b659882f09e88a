"""Errors the CLI turns into exit codes.

`BadInput` is for anything the user can fix (a missing path, an unknown unit, an existing output
directory): the CLI prints its message as one sentence and exits with code 2, without a traceback.
Everything else is a bug or an environment failure and exits with code 1.
"""


class BadInput(Exception):
    """The user's input is wrong; the message is one sentence that says what to change."""


def causes(exc: BaseException):
    """The exception and each one it was raised from or during, nearest first (once each: a cycle ends
    it). Libraries wrap the error that says what happened (a hub lookup, a missing file) in their own."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def first_line(exc: BaseException) -> str:
    """An exception's message for one sentence of ours: its first line, or its type where it has none."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
