"""Stage options declared once: a dataclass field per option, with its help text and parsing.

Each stage's options are one dataclass whose fields are made with `option(...)`. From it come the
CLI options (`evolm.cli.options` turns each field into a `--flag` with the field's help), the
`--config` YAML keys (the same names) and the help text; a Python caller builds the same dataclass.
A default of None means "the preset's default" (the paper's for the paper's sizes, see
`evolm.presets`), which the stage resolves.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from evolm.errors import BadInput
from evolm.units import parse_count


def option(default: Any, help: str, *, flag: str | None = None, count: str | None = None, negatable: bool = False):
    """A dataclass field that is also a CLI option.

    flag: the CLI spelling (default `--field-name`); count: parse the value with `parse_count`
    ("64K", "2M"), naming it `count` in errors; negatable: a `--x/--no-x` switch for booleans.
    """
    return dataclasses.field(default=default, metadata={"help": help, "flag": flag, "count": count, "negatable": negatable})


def option_fields(cls) -> list[dataclasses.Field]:
    """The fields of an options dataclass that are options (declared with `option`)."""
    return [f for f in dataclasses.fields(cls) if "help" in f.metadata]


def from_values(cls, values: dict):
    """An options dataclass from a mapping of field names (CLI or YAML values, counts as text)."""
    kwargs = {}
    for f in option_fields(cls):
        if f.name not in values:
            continue
        value = values[f.name]
        if f.metadata.get("count") and isinstance(value, str):
            value = int(parse_count(value, what=f.metadata["count"]))
        kwargs[f.name] = value
    unknown = sorted(set(values) - {f.name for f in option_fields(cls)})
    if unknown:
        raise BadInput(f"Unknown option(s) {', '.join(unknown)} for {cls.__name__}.")
    return cls(**kwargs)
