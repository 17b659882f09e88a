"""The SFT/RL problem pool (the `mathaug` stand-in) and the in-domain SynthMath test levels.

The pool mixes all families and levels, like the paper's pool mixes GSM8K- and MATH-style
problems. Test sets draw from the same families at one level each and skip any problem text
already in the pool (or in another test set): no test problem is a training problem. Their
computations are not held out: the same operation on the same numbers, in other words, is in the
pool for most basic-tier test problems (the tier-1 space is about 2,500 texts over 254 operations),
as the README's "The difficulty ladder" measures.
"""

from __future__ import annotations

import random
from typing import Callable, Iterable

from evolm.synth.math import families_basic, families_count, families_money, families_number
from evolm.synth.math.problem_kit import Problem
from evolm.synth.rng import balanced_schedule, make_rng

FAMILIES: dict[str, Callable[[random.Random, int], Problem]] = {
    **families_money.FAMILIES, **families_count.FAMILIES, **families_number.FAMILIES}
FAMILY_NAMES = tuple(FAMILIES)
# The pool's mix of the difficulty ladder: basic tiers 1-3 (`families_basic`), then levels 1-3.
# Easy problems are the most common, as in mathaug. The basic tiers are what a 1M-4M model can
# learn from a few thousand examples, so they are 60% of the pool: with 15% bare operations a 1M
# model was right on 11% of them after 2,000 examples x 3 epochs (it had seen ~900 of them), while
# 9,600 drill examples took it to 92% (examples/rl-reward.sh). The levels keep the paper-shaped
# problems in the pool.
POOL_LADDER = (("basic", 1), ("basic", 2), ("basic", 3), ("level", 1), ("level", 2), ("level", 3))
POOL_LADDER_WEIGHTS = (0.25, 0.20, 0.15, 0.18, 0.12, 0.10)


def make_problem(rng: random.Random, level: int, family: str | None = None) -> Problem:
    name = family or rng.choice(FAMILY_NAMES)
    return FAMILIES[name](rng, level).check()


def to_row(row_id: str, p: Problem) -> dict:
    return {"id": row_id, "problem": p.text, "gt_solution": p.solution(), "gt_answer": str(p.answer)}


def pool_rows(seed: int, n: int, exclude: Iterable[str] = ()) -> Iterable[dict]:
    """n distinct problems, levels mixed, none of whose text is in `exclude` (the basic test
    sets, drawn first because the bare-operation space is small); a smaller n yields a prefix of
    a larger one."""
    rng = make_rng(seed, "pool")
    seen: set[str] = set(exclude)
    i = 0
    while i < n:
        kind, level = rng.choices(POOL_LADDER, weights=POOL_LADDER_WEIGHTS)[0]
        p = families_basic.basic(rng, level).check() if kind == "basic" else make_problem(rng, level)
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


def basic_test_rows(seed: int, tier: int, n: int, exclude: set[str]) -> list[dict]:
    """n basic problems of one tier (SynthMathBasic1/2/3), none of whose text is in `exclude`
    (which is updated, as for `test_rows`). The space of tier-1 texts is small (about 2,500), so
    these sets are drawn before the pool, which then skips their texts."""
    rng = make_rng(seed, f"synthmath-basic{tier}")
    rows = []
    for i in range(n):
        for _ in range(10_000):
            p = families_basic.basic(rng, tier).check()
            if p.text not in exclude:
                break
        else:  # pragma: no cover
            raise RuntimeError(f"could not find a fresh basic tier-{tier} problem")
        exclude.add(p.text)
        rows.append(to_row(f"SynthMathBasic{tier}-{i:04d}", p))
    return rows
