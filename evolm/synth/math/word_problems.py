"""The SFT/RL problem pool (the `mathaug` stand-in) and the in-domain SynthMath test levels.

The pool mixes all families and levels, like the paper's pool mixes GSM8K- and MATH-style
problems. Test sets draw from the same families at one level each. They are disjoint from the
pool by computation, not only by text (`holdout`): a test problem asks what no pool problem
computes, so an in-domain score is not recall of an SFT example in other words. Test sets are
also disjoint from each other by text.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Callable, Iterable

from evolm.synth.math import families_basic, families_count, families_money, families_number
from evolm.synth.math.holdout import Computation, Holdout, equations
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


def pool_rows(seed: int, n: int, holdout: Holdout) -> Iterable[dict]:
    """n distinct problems, levels mixed, none writing a held-out one-step equation; each one's
    computation is shown to `holdout`, so the test sets drawn after it skip them. A smaller n
    yields a prefix of a larger one."""
    rng = make_rng(seed, "pool")
    seen: set[str] = set()
    i = 0
    while i < n:
        kind, level = rng.choices(POOL_LADDER, weights=POOL_LADDER_WEIGHTS)[0]
        p = families_basic.basic(rng, level).check() if kind == "basic" else make_problem(rng, level)
        computation = equations(p.steps)
        if p.text in seen or not holdout.for_pool(computation):
            continue
        seen.add(p.text)
        holdout.show(computation)
        yield to_row(f"mathpool-{i:06d}", p)
        i += 1


def _fresh(draw: Callable[[], Problem], asks: Callable[[Computation], bool], exclude: set[str],
           what: str) -> Problem:
    """The first drawn problem whose computation the test may ask (`asks`, a `Holdout` rule) and
    whose text is not in `exclude` (which is updated, so that successive test sets stay disjoint by
    text too)."""
    for _ in range(100_000):
        p = draw()
        if p.text not in exclude and asks(equations(p.steps)):
            exclude.add(p.text)
            return p
    raise RuntimeError(f"could not find a fresh {what} problem with a held-out computation")


def test_rows(seed: int, level: int, n: int, holdout: Holdout, exclude: set[str]) -> list[dict]:
    """n problems of one level, families balanced, drawn after the pool (see `_fresh`)."""
    rng = make_rng(seed, f"synthmath-level{level}")
    families = balanced_schedule(rng, FAMILY_NAMES, n)
    return [to_row(f"SynthMathLevel{level}-{i:04d}",
                   _fresh(lambda: make_problem(rng, level, family), holdout.for_test, exclude,
                          f"level-{level} {family}"))
            for i, family in enumerate(families)]


# The held-out one-operation equations (63 for seed 0, 59-65 for other seeds) in the ten phrasings
# of tier 1 are about 630 texts, so a SynthMathBasic1 set is at most this long (the `full` scale's 1,000 rows elsewhere).
BASIC1_MAX_ROWS = 500


# The held-out two-step computations on digits pile up on small answers (drawn freely, 11% of a
# `small` set would be 2, measured): a model that always answered the commonest would score that,
# so no answer may be more than this share of the set.
BASIC3_MAX_ANSWER_SHARE = 0.08


def rows_per_computation(askable: list[Computation], n: int, answer_cap: int) -> int:
    """The fewest rows each computation may take so that n rows fit, each answer on at most
    `answer_cap` of them: a random draw that skips a capped answer or computation stops only where
    every answer is capped or all its computations are, so it fills sum over answers of
    min(answer_cap, k x their computations) rows (at the `full` scale an even ceil(1,000 / 148) = 7
    rows a computation fit 967 rows; 8 fit 1,048)."""
    if not askable:
        raise RuntimeError("the pool teaches no held-out two-step computation's steps: no basic tier-3 test can be drawn")
    by_answer = Counter(computation[-1].rsplit(" = ", 1)[1] for computation in askable)
    for k in range(-(-n // len(askable)), n + 1):
        if sum(min(answer_cap, k * m) for m in by_answer.values()) >= n:
            return k
    raise RuntimeError(f"{n} basic tier-3 rows cannot fit {len(by_answer)} answers on at most {answer_cap} rows each")


def basic_test_rows(seed: int, tier: int, n: int, holdout: Holdout, exclude: set[str]) -> list[dict]:
    """n basic problems of one tier (SynthMathBasic1/2/3; at most BASIC1_MAX_ROWS for tier 1),
    drawn after the pool as `test_rows` draws them. Tiers 1-2 ask held-out equations; tier 3
    composes equations the pool teaches (`Holdout.for_composition_test`), no answer more than
    BASIC3_MAX_ANSWER_SHARE of the set and its computations as evenly as the set's size allows."""
    rng = make_rng(seed, f"synthmath-basic{tier}")
    n = min(n, BASIC1_MAX_ROWS) if tier == 1 else n
    if tier < 3:
        return [to_row(f"SynthMathBasic{tier}-{i:04d}",
                       _fresh(lambda: families_basic.basic(rng, tier).check(), holdout.for_test, exclude,
                              f"basic tier-{tier}"))
                for i in range(n)]
    # Each computation on at most `per_computation` rows (data version 5): the wordings of one
    # computation are right or wrong together, so the set measures as many problems as it has
    # computations; drawn freely, the commonest computations took up to 14 of 500 rows while the
    # rarest (1 draw in 4,374) took none.
    cap = max(1, int(BASIC3_MAX_ANSWER_SHARE * n))
    per_computation = rows_per_computation(holdout.composition_tests(), n, cap)
    answers, computations = Counter(), Counter()

    def draw() -> Problem:
        for _ in range(100_000):
            p = families_basic.basic(rng, 3).check()
            if answers[p.answer] < cap:
                return p
        raise RuntimeError(f"could not draw a basic tier-3 problem whose answer is on fewer than {cap} rows")

    def asks(computation: Computation) -> bool:
        return holdout.for_composition_test(computation) and computations[computation] < per_computation

    rows = []
    for i in range(n):
        p = _fresh(draw, asks, exclude,
                   f"basic tier-3 (each answer on at most {cap} of {n} rows, each computation on {per_computation})")
        answers[p.answer] += 1
        computations[equations(p.steps)] += 1
        rows.append(to_row(f"SynthMathBasic3-{i:04d}", p))
    return rows
