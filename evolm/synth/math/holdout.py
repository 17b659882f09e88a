"""Which computations the in-domain test sets may ask: none that the SFT/RL pool shows.

A test problem that differs from a pool problem only in its words is recall, not skill: the review
of 2026-12-03 found the same operation on the same numbers in the pool for every `SynthMathBasic1`
and `SynthMathBasic2` problem, and the mini study's SFT models were right on 57% of those against
22% of the rest. So test sets are disjoint from the pool by what they compute, not only by text.

A problem's computation is the sequence of equations its solution writes ("3 + 4 = 7"), read back
from the steps, so two wordings of one computation are one computation.
- The one-operation equations on digits (basic tiers 1 and 2: 254 of them) are a space the pool
  would cover whole, so a seeded quarter of each operation is held out (63 equations for seed 0; an addition
  or multiplication together with its commuted twin, so "8 + 3" is not asked while the pool shows
  "3 + 8"). No pool solution writes a held-out one in any step, and basic tiers 1 and 2 ask only
  those.
- Every other test computation (two steps or more, or larger numbers) is one the pool does not
  write, whole or as consecutive steps of a longer solution: a level-1 test problem's "13 * 6 = $78"
  is not asked when a pool problem's second step is "13 * 6 = $78".
The math text (the CPT corpus) is not split: like FineMath, it states arithmetic facts, all of them.
"""

from __future__ import annotations

import re

from evolm.synth.math.families_basic import one_step_equations
from evolm.synth.rng import derive_seed

SHARE = 4  # a quarter of each operation's one-step equations is held out
# "8 * 13 = $104", "115 * 2 / 5 = 46": operands and operators, an equals sign, the value.
EQUATION = re.compile(r"(\d+(?: [-+*/] \d+)+) = \$?(\d+)")
Computation = tuple[str, ...]


def equations(steps: list[str] | str) -> Computation:
    """The equations written in the steps (a list, or a solution's text), in order."""
    text = steps if isinstance(steps, str) else "\n".join(steps)
    return tuple(f"{lhs} = {value}" for lhs, value in EQUATION.findall(text))


def _twins(equation: str) -> frozenset[str]:
    """The equation with its commuted form, for + and * (one unit of the split)."""
    a, op, b, _, value = equation.split()
    return frozenset({equation, f"{b} {op} {a} = {value}"} if op in "+*" else {equation})


class Holdout:
    """The computations one seed's test sets may ask, given the pool drawn so far (`show`)."""

    def __init__(self, seed: int):
        self.space = one_step_equations()
        held: set[str] = set()
        for op in "+-*/":
            units = {_twins(e) for e in self.space if e.split()[1] == op}
            ranked = sorted(units, key=lambda u: (derive_seed(seed, "holdout/" + " | ".join(sorted(u))), sorted(u)))
            for unit in ranked[: round(len(units) / SHARE)]:
                held |= unit
        self.one_step = frozenset(held)
        self.shown: set[Computation] = set()  # every run of consecutive equations the pool writes

    def for_pool(self, computation: Computation) -> bool:
        return not any(e in self.one_step for e in computation)

    def show(self, computation: Computation) -> None:
        """Record a pool problem's computation: its parts are not test computations."""
        n = len(computation)
        self.shown.update(computation[i:j] for i in range(n) for j in range(i + 1, n + 1))

    def for_test(self, computation: Computation) -> bool:
        if not computation:
            raise ValueError("a problem whose solution writes no equation has no computation to split by")
        if len(computation) == 1 and computation[0] in self.space:
            return computation[0] in self.one_step
        return computation not in self.shown
