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
- Basic tier 3 asks the other kind of generalisation (data version 4): two steps on digits, each a
  one-step equation some pool solution writes, in a sequence no pool solution writes. The facts are
  taught; the problem is new, as a GSM8K test problem is new while its arithmetic is not. The
  1,025 such two-step computations (`two_step_equations`) are split like the one-step ones: a
  seeded quarter of those whose steps the pool may write, a first step with its commuted
  twin (+, *), is held out, and no pool solution writes one as consecutive steps (at the `full` scale the
  pool otherwise writes nearly all of them). Not a half, though that would double the test's
  distinct computations (148 to 290 for seed 0): what a 1M model composes depends on how many
  compositions it was shown, and with half held out of the pool and the math text, the mini
  study's SFT models after math CPT scored 22-31% in-domain instead of 67-70% (measured
  2026-12-05). Tiers 1-2 ask for facts never shown, which a 1M model
  does not compute (measured: 0-4 of the 63 held-out equations after SFT, 33-106 of the other
  191), so on them every post-trained model of the miniature study scored at the floor whatever
  its CPT or epochs.
The math text (the CPT corpus) is not split by facts: like FineMath, it states arithmetic facts, all
of them, one-step equations on digits held out of the pool included. But it writes no other test
computation, whole or as consecutive steps (data version 6, `for_text`): until then its worked
examples and drills wrote whole level-1 and level-2 test computations in other words (46 and 14 of
500 rows at the `small` scale with two steps or more, 27 of them the gold solution verbatim; 28 of
the 142 one-step level-1 rows on larger numbers), so CPT would have shown the CPT branch
those test problems.
"""

from __future__ import annotations

import re

from evolm.synth.math.families_basic import one_step_equations, two_step_equations
from evolm.synth.rng import derive_seed

SHARE = 4  # a quarter of each operation's one-step equations, and of the two-step computations on taught facts, is held out
# "8 * 13 = $104", "115 * 2 / 5 = 46": operands and operators, an equals sign, the value.
EQUATION = re.compile(r"(\d+(?: [-+*/] \d+)+) = \$?(\d+)")
Computation = tuple[str, ...]


def equations(steps: list[str] | str) -> Computation:
    """The equations written in the steps (a list, or a solution's text), in order."""
    text = steps if isinstance(steps, str) else "\n".join(steps)
    return tuple(f"{lhs} = {value}" for lhs, value in EQUATION.findall(text))


def writes_any(computation: Computation, runs: frozenset, lengths) -> bool:
    """Whether consecutive steps of the computation are one of `runs`, computations whose lengths
    are among `lengths` (given, as callers check many computations against one set)."""
    return any(computation[i:i + n] in runs for n in lengths for i in range(len(computation) - n + 1))


def _twins(equation: str) -> frozenset[str]:
    """The equation with its commuted form, for + and * (one unit of the split)."""
    a, op, b, _, value = equation.split()
    return frozenset({equation, f"{b} {op} {a} = {value}"} if op in "+*" else {equation})


def _held_share(seed: int, purpose: str, units: set[frozenset]) -> list[frozenset]:
    """A seeded quarter of the units: ranked by a hash of the seed and the unit, ties by the unit."""
    ranked = sorted(units, key=lambda u: (derive_seed(seed, purpose + " | ".join(map(str, sorted(u)))), sorted(u)))
    return ranked[: round(len(units) / SHARE)]


class Holdout:
    """The computations one seed's test sets may ask, given the pool drawn so far (`show`)."""

    def __init__(self, seed: int):
        self.space = one_step_equations()
        held: set[str] = set()
        for op in "+-*/":
            for unit in _held_share(seed, "holdout/", {_twins(e) for e in self.space if e.split()[1] == op}):
                held |= unit
        self.one_step = frozenset(held)
        # Two-step computations on facts the pool may write, the first step's twin in one unit.
        eligible = [c for c in two_step_equations() if not set(c) & self.one_step]
        units = {frozenset((first, c[1]) for first in _twins(c[0])) for c in eligible}
        self.two_step = frozenset(c for unit in _held_share(seed, "holdout2/", units) for c in unit)
        self.shown: set[Computation] = set()  # every run of consecutive equations the pool writes

    def for_pool(self, computation: Computation) -> bool:
        return not any(e in self.one_step for e in computation) and not writes_any(computation, self.two_step, (2,))

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

    def for_composition_test(self, computation: Computation) -> bool:
        """A held-out two-step computation whose steps the pool writes (each a run `show` recorded)."""
        return computation in self.two_step and all((e,) in self.shown for e in computation)

    def for_text(self, asked: set[Computation]) -> frozenset[Computation]:
        """What the math text must not write as consecutive steps: the held-out two-step
        computations and every computation the test sets ask (`asked`), but the one-step facts on
        digits, which it states as FineMath would."""
        return self.two_step | {c for c in asked if len(c) > 1 or c[0] not in self.space}

    def composition_tests(self) -> list[Computation]:
        """Every computation `for_composition_test` accepts now, sorted."""
        return sorted(c for c in self.two_step if self.for_composition_test(c))
