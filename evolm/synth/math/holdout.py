"""Which computations the in-domain test sets ask and the SFT/RL pool never shows.

A test problem that differs from every pool problem only in its words is recall, not skill: the
review of 2026-12-03 found the same operation on the same numbers in the pool for every
`SynthMathBasic1` and `SynthMathBasic2` problem, and the mini study's SFT models were right on
57% of those against 22% of the rest. So problems are split by what they compute, not by text.

A problem's computation is the sequence of equations its solution writes ("3 + 4 = 7"), read
back from the steps, so two wordings of one computation are one computation. Per seed, one in
four computations is held out:
- of the 254 one-operation equations on digits (the space of basic tiers 1 and 2, small enough
  to split exactly), a seeded quarter: 64;
- of every other computation (two steps or more, or larger numbers), those whose sha256 with the
  seed falls in one quarter.
Test problems have a held-out computation. Pool problems have none, and write no held-out
one-operation equation in any step either, so a level-3 problem's "7 * 9 = $63" cannot show the
pool a `SynthMathBasic1` answer. The math text (the CPT corpus) is not split: like FineMath, it
states arithmetic facts, every one of them.
"""

from __future__ import annotations

import hashlib
import re

from evolm.synth.math.families_basic import one_step_equations
from evolm.synth.math.problem_kit import Problem

SHARE = 4  # one computation in SHARE is held out
# "8 * 13 = $104", "115 * 2 / 5 = 46": operands and operators, an equals sign, the value.
EQUATION = re.compile(r"(\d+(?: [-+*/] \d+)+) = \$?(\d+)")


def equations(steps: list[str] | str) -> tuple[str, ...]:
    """The equations written in the steps (a list, or a solution's text), in order."""
    text = steps if isinstance(steps, str) else "\n".join(steps)
    return tuple(f"{lhs} = {value}" for lhs, value in EQUATION.findall(text))


def _digest(seed: int, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"evolm-synth/{int(seed)}/holdout/{key}".encode()).digest()[:8], "big")


class Holdout:
    """The held-out computations of one seed."""

    def __init__(self, seed: int):
        self.seed = seed
        self.space = one_step_equations()
        ranked = sorted(self.space, key=lambda e: (_digest(seed, e), e))
        self.one_step = frozenset(ranked[: round(len(ranked) / SHARE)])

    def held_out(self, computation: tuple[str, ...]) -> bool:
        if not computation:
            raise ValueError("a problem whose solution writes no equation has no computation to split by")
        if len(computation) == 1 and computation[0] in self.space:
            return computation[0] in self.one_step
        return _digest(self.seed, " ; ".join(computation)) % SHARE == 0

    def for_test(self, p: Problem) -> bool:
        return self.held_out(equations(p.steps))

    def for_pool(self, p: Problem) -> bool:
        computation = equations(p.steps)
        return not self.held_out(computation) and not any(e in self.one_step for e in computation)
