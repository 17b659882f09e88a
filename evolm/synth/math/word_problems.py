"""The SFT/RL problem pool (the `mathaug` stand-in) and the in-domain SynthMath test levels.

The pool mixes all families and levels, like the paper's pool mixes GSM8K- and MATH-style
problems. Test sets draw from the same families at one level each and skip any problem text
already in the pool (or in another test set), so in-domain evaluation is never on training data.
"""

from __future__ import annotations

import random
from typing import Callable, Iterable

from evolm.synth.math import families_count, families_money, families_number
from evolm.synth.math.problem_kit import Problem
from evolm.synth.rng import balanced_schedule, make_rng

FAMILIES: dict[str, Callable[[random.Random, int], Problem]] = {
    **families_money.FAMILIES, **families_count.FAMILIES, **families_number.FAMILIES}
FAMILY_NAMES = tuple(FAMILIES)
POOL_LEVEL_WEIGHTS = (0.40, 0.35, 0.25)  # easy problems are the most common, as in mathaug


def make_problem(rng: random.Random, level: int, family: str | None = None) -> Problem:
    name = family or rng.choice(FAMILY_NAMES)
    return FAMILIES[name](rng, level).check()


def to_row(row_id: str, p: Problem) -> dict:
    return {"id": row_id, "problem": p.text, "gt_solution": p.solution(), "gt_answer": str(p.answer)}


def pool_rows(seed: int, n: int) -> Iterable[dict]:
    """n distinct problems, levels mixed; a smaller n yields a prefix of a larger one."""
    rng = make_rng(seed, "pool")
    seen: set[str] = set()
    i = 0
    while i < n:
        level = rng.choices((1, 2, 3), weights=POOL_LEVEL_WEIGHTS)[0]
        p = make_problem(rng, level)
        if p.text in seen:
            continue
        seen.add(p.text)
        yield to_row(f"mathpool-{i:06d}", p)
        i += 1


def test_rows(seed: int, level: int, n: int, exclude: set[str]) -> list[dict]:
    """n problems of one level, families balanced, none of whose text is in `exclude`.

    `exclude` is updated with the texts used, so successive levels stay disjoint too.
    """
    rng = make_rng(seed, f"synthmath-level{level}")
    families = balanced_schedule(rng, FAMILY_NAMES, n)
    rows = []
    for i, family in enumerate(families):
        for _ in range(1000):
            p = make_problem(rng, level, family)
            if p.text not in exclude:
                break
        else:  # pragma: no cover - the problem space is far larger than any pool
            raise RuntimeError(f"could not find a fresh level-{level} {family} problem")
        exclude.add(p.text)
        rows.append(to_row(f"SynthMathLevel{level}-{i:04d}", p))
    return rows
