"""Stage options declared once: a dataclass field per option, with its help text and parsing.

Each stage's options are one dataclass whose fields are made with `option(...)`. From it come the
CLI options (`evolm.cli.options` turns each field into a `--flag` with the field's help), the
`--config` YAML keys (the same names) and the help text; a Python caller builds the same dataclass,
directly or with `from_values` from the same values the CLI and YAML give (counts as text).
A default of None means "the preset's default" (the paper's for the paper's sizes, see
`evolm.presets`), which the stage resolves.

An option that several stages have (the seed, `--report-to`, ...) is declared once with
`shared_option` and made a field of each class by calling it.

An option's range is declared with it (`minimum`, `above`, `maximum`) and checked by `check_ranges`,
which each stage runs before anything else, so a value no library would take (`--lr -1`) or one
that would silently fall back to a default (`--micro-batch 0`) is refused in one sentence before
any output exists. Relations between options, or with the model (its positions), are each stage's
own checks, made right after.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable

from evolm.errors import BadInput
from evolm.units import parse_count, parse_counts


# K sampled completions per problem in the paper: `evolm eval --samples`'s default, which a study's
# evaluations fall back on (evolm.study.spec), kept in core where both may read it
PAPER_SAMPLES = 16

# Validation tokens scored per split: the trainer's validation loss and `evolm eval`'s, one default so
# that a checkpoint's two losses are measured on the same windows (the CLI's "64K" once meant 64,000)
VAL_TOKENS = 65_536

# Decoding settings that change only the sampled completions (Maj@K, Pass@K, correct ratio), not the
# greedy one pass@1 is read from: the report compares results that differ only in these on pass@1,
# and a sampled evaluation holds the greedy-only one whatever these are (evolm.eval.contains)
SAMPLING_ONLY = ("samples", "temperature", "top_p", "seed")


def option(default: Any, help: str, *, flag: str | None = None, count: bool = False, counts: bool = False,
           negatable: bool = False, minimum: float | None = None, above: float | None = None,
           maximum: float | None = None):
    """A dataclass field that is also a CLI option.

    flag: the CLI spelling (default `--field-name`); count: the value may be written as a count
    ("64K", "2M", parsed with `parse_count`; the option is text on the command line); counts: a
    comma-separated list of counts ("500K,1M", or a YAML list), a tuple of ints in the dataclass;
    negatable: a `--x/--no-x` switch for booleans (otherwise a boolean is a plain `--x` flag);
    minimum / above / maximum: the allowed range of a number (`above` excludes its bound), checked
    by `check_ranges`; None (the preset's default) is always allowed.
    """
    if not help:
        raise TypeError("an option needs its help text")
    return dataclasses.field(default=default, metadata={"help": help, "flag": flag, "count": count, "counts": counts,
                                                        "negatable": negatable, "minimum": minimum, "above": above,
                                                        "maximum": maximum})


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


def allowed_range(f: dataclasses.Field) -> str | None:
    """The declared range of a numeric option in words ("at least 1", "greater than 0"), or None."""
    low, above, high = f.metadata.get("minimum"), f.metadata.get("above"), f.metadata.get("maximum")
    if low is not None and high is not None:
        return f"between {_number(low)} and {_number(high)}"
    if above is not None:
        return f"greater than {_number(above)}" + (f" and at most {_number(high)}" if high is not None else "")
    if low is not None:
        return f"at least {_number(low)}"
    if high is not None:
        return f"at most {_number(high)}"
    return None


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def listed(names: list[str]) -> str:
    """Option names in a sentence: "--a", "--a and --b", "--a, --b and --c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def out_of_range(flag: str, value: Any, allowed: str) -> BadInput:
    """The one sentence of every refused option value: the option, the value, what is allowed."""
    shown = _number(value) if isinstance(value, (int, float)) else value
    return BadInput(f"{flag} {shown} is out of range: it must be {allowed}.")


def default_of(options, name: str) -> Any:
    """The declared default of one field of an options dataclass."""
    return next(f.default for f in dataclasses.fields(options) if f.name == name)


def check_ranges(options) -> None:
    """Refuse the first option of `options` (a stage's options dataclass) outside its declared range."""
    for f in option_fields(type(options)):
        allowed = allowed_range(f)
        value = getattr(options, f.name)
        if allowed is None or value is None:
            continue
        for item in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise out_of_range(flag_of(f), repr(item), f"a number {allowed}")
            low, above, high = f.metadata.get("minimum"), f.metadata.get("above"), f.metadata.get("maximum")
            # A NaN or an infinity (`--lr nan`) is in no range; `not x >= low` also refuses NaN.
            if (not math.isfinite(item) or (low is not None and not item >= low) or (above is not None and not item > above)
                    or (high is not None and not item <= high)):
                raise out_of_range(flag_of(f), item, allowed)


def given(value: Any, default: Any) -> Any:
    """The option's value, or `default` when it was not given (None). Never `value or default`:
    that turns an explicit 0 into the default without a word."""
    return default if value is None else value


def check_warmup(value: float, flag: str = "--warmup") -> None:
    """A warmup is a fraction of the steps (below 1) or a whole number of steps; 2.5 steps would be
    cut to 2 without a word, so it is refused."""
    if not math.isfinite(value) or value < 0 or (value >= 1 and value != int(value)):
        raise out_of_range(flag, value, "a fraction of the steps below 1 or a whole number of steps")


def trainer_steps(examples: int, global_batch: int, epochs: float) -> int:
    """The optimizer steps transformers' Trainer takes (SFT, the reward model, GRPO, RLOO):
    ceil(epochs x the epoch's steps), an epoch's last step a partial batch."""
    return math.ceil(epochs * math.ceil(examples / global_batch))


def trainer_warmup_steps(value: float, steps: int, flag: str = "--warmup") -> int:
    """The warmup steps of a run of `steps` by transformers' rule (`TrainingArguments.get_warmup_steps`,
    which SFT, the reward model, GRPO and RLOO get through it; PPO's loop takes it too): a fraction rounds
    up. Refused where they would fill the run: the learning rate would rise all run and never reach its
    peak (nor decay), while the manifest named the schedule (pre-training and CPT refuse the same)."""
    warmup = math.ceil(value * steps) if value < 1 else int(value)
    if warmup >= steps > 1:
        raise out_of_range(flag, value, f"fewer than the run's {steps} steps (or a fraction of them below 1)" if value >= 1
                           else f"a share that leaves steps after it ({value:g} of the run's {steps} steps is {warmup})")
    return warmup
