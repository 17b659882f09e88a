"""Stage options declared once: a dataclass field per option, with its help text and parsing.

Each stage's options are one dataclass whose fields are made with `option(...)`. From it come the
CLI options (`evolm.cli.options` turns each field into a `--flag` with the field's help), the
`--config` YAML keys (the same names) and the help text; a Python caller builds the same dataclass,
directly or with `from_values` from the same values the CLI and YAML give (counts as text).
A default of None means "the preset's default" (the paper's for the paper's sizes, see
`evolm.presets`), which the stage resolves.

An option that several stages have (the seed, `--report-to`, ...) is declared once with
`shared_option` and made a field of each class by calling it.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

from evolm.errors import BadInput
from evolm.units import parse_count, parse_counts


def option(default: Any, help: str, *, flag: str | None = None, count: bool = False, counts: bool = False,
           negatable: bool = False):
    """A dataclass field that is also a CLI option.

    flag: the CLI spelling (default `--field-name`); count: the value may be written as a count
    ("64K", "2M", parsed with `parse_count`; the option is text on the command line); counts: a
    comma-separated list of counts ("500K,1M", or a YAML list), a tuple of ints in the dataclass;
    negatable: a `--x/--no-x` switch for booleans (otherwise a boolean is a plain `--x` flag).
    """
    if not help:
        raise TypeError("an option needs its help text")
    return dataclasses.field(default=default, metadata={"help": help, "flag": flag, "count": count, "counts": counts,
                                                        "negatable": negatable})


def shared_option(default: Any, help: str, **kwargs) -> Callable[[], dataclasses.Field]:
    """One declaration of an option several options dataclasses have: `SEED = shared_option(0, "...")`,
    then `seed: int = SEED()` in each class (a dataclass field belongs to one class, so each call
    makes a fresh field with the same default, help and parsing)."""
    option(default, help, **kwargs)  # check the declaration where it is written
    return functools.partial(option, default, help, **kwargs)


def option_fields(cls) -> list[dataclasses.Field]:
    """The fields of an options dataclass that are options (declared with `option`)."""
    return [f for f in dataclasses.fields(cls) if "help" in f.metadata]


def flag_of(f: dataclasses.Field) -> str:
    """The CLI spelling of an option field: `seq_len` -> `--seq-len` unless the field names another."""
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def from_values(cls, values: dict):
    """An options dataclass from a mapping of field names (CLI or YAML values, counts as text).

    Fields not in `values` keep their defaults; an unknown name is bad input.
    """
    fields = option_fields(cls)
    unknown = sorted(set(values) - {f.name for f in fields})
    if unknown:
        raise BadInput(f"Unknown option(s) {', '.join(unknown)} for {cls.__name__}.")
    kwargs = {}
    for f in fields:
        if f.name not in values:
            continue
        value = values[f.name]
        if f.metadata.get("count") and isinstance(value, str):
            value = int(parse_count(value, what=flag_of(f)))
        if f.metadata.get("counts") and value is not None:
            value = parse_counts(value, what=flag_of(f))
        kwargs[f.name] = value
    return cls(**kwargs)
