"""Token and example counts as people write them: `80B`, `1.5M`, `100K`, `2T`, `20x`.

`20x` means 20 tokens per model parameter (the Chinchilla convention) and can only be resolved
once the model's parameter count is known; `parse_count` returns a `PerParam` for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from evolm.errors import BadInput

SUFFIXES = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
_COUNT = re.compile(r"^(?P<num>\d+(?:\.\d+)?)(?P<suffix>[KMBTkmbt]?)$")
_PER_PARAM = re.compile(r"^(?P<num>\d+(?:\.\d+)?)x$")


@dataclass(frozen=True)
class PerParam:
    """A budget given as tokens per parameter (`20x`)."""

    ratio: Decimal

    def resolve(self, params: int) -> int:
        return int(self.ratio * params)

    def __str__(self) -> str:
        return f"{self.ratio.normalize():f}x"


def parse_count(text: str | int, *, what: str = "count", allow_per_param: bool = False) -> int | PerParam:
    """Parse `80B`, `1.5M`, `100K`, `2T`, `12345` (and `20x` when allowed) into an int or PerParam."""
    if isinstance(text, bool):
        raise BadInput(f"Invalid {what} {text!r}: expected a number such as 100K, 1.5M or 80B.")
    if isinstance(text, int):
        if text < 0:
            raise BadInput(f"Invalid {what} {text}: it must not be negative.")
        return text
    raw = str(text).strip().replace("_", "")
    per_param = _PER_PARAM.match(raw)
    if per_param:
        if not allow_per_param:
            raise BadInput(f"Invalid {what} {text!r}: tokens-per-parameter budgets (20x) are not accepted here.")
        ratio = Decimal(per_param["num"])
        if ratio <= 0:
            raise BadInput(f"Invalid {what} {text!r}: the tokens-per-parameter ratio must be positive.")
        return PerParam(ratio)
    match = _COUNT.match(raw)
    if not match:
        hint = " (per-parameter budgets use a lowercase x, e.g. 20x)" if raw[-1:] == "X" else ""
        raise BadInput(
            f"Invalid {what} {text!r}: expected a non-negative number with an optional K, M, B or T suffix "
            f"such as 100K, 1.5M or 80B{hint}."
        )
    try:
        value = Decimal(match["num"]) * SUFFIXES[match["suffix"].upper()]
    except InvalidOperation:  # pragma: no cover - the regex only admits valid decimals
        raise BadInput(f"Invalid {what} {text!r}.") from None
    if value != value.to_integral_value():
        raise BadInput(f"Invalid {what} {text!r}: it must be a whole number.")
    return int(value)


def parse_counts(value, *, what: str = "counts") -> tuple[int, ...]:
    """A list of counts: `500K,1M` as on the command line, a YAML list, or a single number."""
    if value is None:
        return ()
    items = str(value).split(",") if isinstance(value, str) else value if isinstance(value, (list, tuple)) else [value]
    counts = []
    for item in items:
        text = item.strip() if isinstance(item, str) else item
        if text == "":
            raise BadInput(f"Invalid {what} {value!r}: expected counts separated by commas, such as 500K,1M.")
        counts.append(int(parse_count(text, what=what)))
    return tuple(counts)


def resolve_count(value: int | PerParam, params: int | None) -> int:
    """Turn a parsed budget into an int, using the model's parameter count for `20x`."""
    if isinstance(value, PerParam):
        if params is None:
            raise BadInput(f"The budget {value} needs a model to resolve tokens per parameter.")
        return value.resolve(params)
    return value


def format_count(value: int | float, *, precision: int = 3) -> str:
    """Short human form: 160e9 -> '160B', 1_500_000 -> '1.5M', 100_000 -> '100K', 512 -> '512'."""
    for suffix in ("T", "B", "M", "K"):
        scale = SUFFIXES[suffix]
        if abs(value) >= scale:
            return f"{trim_number(value / scale, precision)}{suffix}"
    return trim_number(value, precision)


def format_count_exact(value: int) -> str:
    """The shortest `format_count` form that reads back as exactly `value`: 1_500_000 -> '1.5M',
    1_234_567 -> '1.234567M' (where a name must identify the count, as in a directory name)."""
    for precision in range(3, 13):
        text = format_count(value, precision=precision)
        if parse_count(text) == value:
            return text
    return str(int(value))


def trim_number(number: float, precision: int) -> str:
    text = f"{number:.{precision}f}".rstrip("0").rstrip(".")
    return text or "0"
