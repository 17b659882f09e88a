"""Typer options derived from the stages' option dataclasses (`evolm.options`), so no option is
written twice: a command declares its own arguments (parent, --out, ...) and names the dataclasses
whose fields become its remaining options; the command receives built dataclass instances.

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

from evolm.options import from_values, option_fields


def _parameters(cls) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(cls)
    params = []
    for f in option_fields(cls):
        meta = f.metadata
        flag = meta.get("flag") or "--" + f.name.replace("_", "-")
        if meta.get("negatable"):
            flag = f"{flag}/--no-{flag[2:]}"
        annotation = Optional[str] if meta.get("count") else hints[f.name]
        default = f.default
        if meta.get("count") and isinstance(default, int):
            default = str(default)
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                        default=typer.Option(default, flag, help=meta["help"])))
    return params


def with_options(**classes):
    """Decorator: add the fields of each named options dataclass as options of the command; the
    command is called with its own parameters plus one built instance per name."""

    def wrap(func):
        signature = inspect.signature(func)
        hints = typing.get_type_hints(func)
        own = [p for name, p in signature.parameters.items() if name not in classes]
        derived = [p for cls in classes.values() for p in _parameters(cls)]
        names = [p.name for p in own + derived]
        if len(set(names)) != len(names):
            raise TypeError(f"{func.__name__}: an option is declared twice ({sorted(n for n in names if names.count(n) > 1)})")
        # Typer shows options in signature order: the command's required ones first, then the
        # derived stage options, then the command's generic ones (--resume, --json, --config...).
        required = [p for p in own if p.default is inspect.Parameter.empty
                    or getattr(p.default, "default", None) is ...]
        rest = [p for p in own if p not in required]
        parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in required + derived + rest]

        @functools.wraps(func)
        def command(**values):
            built = {}
            for name, cls in classes.items():
                built[name] = from_values(cls, {f.name: values.pop(f.name) for f in option_fields(cls)})
            return func(**values, **built)

        command.__signature__ = signature.replace(parameters=parameters)
        command.__annotations__ = {**{p.name: hints.get(p.name, p.annotation) for p in own},
                                   **{p.name: p.annotation for p in derived}}
        return command

    return wrap
