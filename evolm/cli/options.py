"""Typer options derived from the stages' option dataclasses (`evolm.options`), so no option is
written twice: a command declares its own arguments (parent, --out, ...) and names the dataclasses
whose fields become its remaining options; the command receives built dataclass instances.

    @with_options(options=SFTOptions)
    def sft(parent: Path = ..., out: Path = ..., options: SFTOptions = None, resume: bool = ...): ...

Each field becomes `--field-name` (or the field's `flag`) with the field's help and default, in
the place of the named parameter (which is how `--help` orders them); `--config` YAML keys are the
field names, as for the command's own options.

Typer reads a command's parameters from its signature and type hints, so the wrapper here carries
a synthesized `__signature__` and `__annotations__` (typer has no API for adding options from a
dataclass; this is the small piece written by hand).
"""

from __future__ import annotations

import functools
import inspect
import typing
from typing import Optional

import typer

from evolm.options import flag_of, from_values, option_fields


def _parameters(cls) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(cls)
    params = []
    for f in option_fields(cls):
        meta = f.metadata
        flag = flag_of(f)
        if meta.get("negatable"):
            flag = f"{flag}/--no-{flag[2:]}"
        # A count (or a list of counts) is text on the command line ("64K", "500K,1M"); `from_values` parses it.
        annotation = Optional[str] if meta.get("count") or meta.get("counts") else hints[f.name]
        default = f.default
        if meta.get("count") and isinstance(default, int):
            default = str(default)
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                        default=typer.Option(default, flag, help=meta["help"])))
    return params


def _flags(param: inspect.Parameter) -> list[str]:
    decls = getattr(param.default, "param_decls", None) or ()
    return [flag for decl in decls for flag in decl.split("/") if flag.startswith("-")]


def with_options(**classes):
    """Decorator: add the fields of each named options dataclass as options of the command, where
    the parameter of that name stands in its signature; the command is called with its own
    parameters plus one built instance per name."""

    def wrap(func):
        signature = inspect.signature(func, eval_str=True)
        missing = sorted(set(classes) - set(signature.parameters))
        if missing:
            raise TypeError(f"{func.__name__} has no parameter {', '.join(missing)} to receive the options")
        parameters = []
        for name, p in signature.parameters.items():
            if name in classes:
                parameters += _parameters(classes[name])
            else:
                parameters.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY))
        names = [p.name for p in parameters]
        flags = [flag for p in parameters for flag in _flags(p)]
        twice = sorted({n for n in names + flags if (names + flags).count(n) > 1})
        if twice:
            raise TypeError(f"{func.__name__}: an option is declared twice ({', '.join(twice)})")

        @functools.wraps(func)
        def command(**values):
            # Built here, before the command runs: a bad count ("--val-tokens 8X") exits 2 before any output.
            built = {name: from_values(cls, {f.name: values.pop(f.name) for f in option_fields(cls)})
                     for name, cls in classes.items()}
            return func(**values, **built)

        command.__signature__ = signature.replace(parameters=parameters)
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return command

    return wrap
