"""The bottom of the difficulty ladder: one- and two-step word problems on single-digit numbers.

The GSM8K-shaped families (`families_money.py`, ...) start at two-digit multiplication over
several sentences, which a 1M-4M model trained on a million tokens never solves, so the miniature
study's post-training numbers sat at the floor. These families are what such a model can learn:
"What is 7 plus 8?" (tier 1: a bare one-operation question on digits 1-9), "Mary has 3 apples. She
gets 4 more. How many apples does she have now?" (tier 2: the same operation in a one-step word
problem) and a second operation on that result (tier 3). Solutions use the
pool's notation ("3 + 4 = 7.") and end in `\\boxed{}` like every pool problem, so the same SFT
teaches the format for every level. Same contract as the other families: the answer is computed
from the variables the steps are written from, and is a natural number.
"""

from __future__ import annotations

import random

from evolm.synth.math.problem_kit import COUNTABLES, Problem, choose
from evolm.synth.people import person

TIERS = (1, 2, 3)  # 1: a bare operation; 2: a one-step word problem; 3: two steps


def _add(rng, who, thing, a, b):
    text = choose(rng, f"{who.name} has {a} {thing}. {who.He} gets {b} more. How many {thing} does {who.he} have now?",
                  f"{who.name} had {a} {thing} and found {b} more. How many {thing} does {who.name} have?",
                  f"There are {a} {thing} in a box and {b} {thing} on the table. How many {thing} are there in all?")
    return text, f"{a} + {b} = {a + b}.", a + b


def _sub(rng, who, thing, a, b):
    a, b = max(a, b), min(a, b)
    text = choose(rng, f"{who.name} has {a} {thing}. {who.He} gives away {b}. How many {thing} does {who.he} have left?",
                  f"{who.name} had {a} {thing} and lost {b} of them. How many {thing} are left?",
                  f"There were {a} {thing} in a bag. {who.name} took out {b}. How many {thing} are still in the bag?")
    return text, f"{a} - {b} = {a - b}.", a - b


def _mul(rng, who, thing, a, b):
    text = choose(rng, f"{who.name} has {a} bags with {b} {thing} in each bag. How many {thing} does {who.he} have?",
                  f"There are {a} rows of {thing} with {b} {thing} in each row. How many {thing} are there?",
                  f"{who.name} buys {a} packs of {thing}. Each pack has {b} {thing}. How many {thing} does {who.he} buy?")
    return text, f"{a} * {b} = {a * b}.", a * b


def _div(rng, who, thing, a, b):
    total = a * b
    text = choose(rng, f"{who.name} shares {total} {thing} equally among {a} friends. How many {thing} does each friend get?",
                  f"{total} {thing} are put into {a} equal groups. How many {thing} are in each group?")
    return text, f"{total} / {a} = {b}.", b


ONE_STEP = {"add": _add, "sub": _sub, "mul": _mul, "div": _div}
SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
WORD = {"add": "plus", "sub": "minus", "mul": "times", "div": "divided by"}


def _bare(rng, op, a, b):
    """Tier 1: the operation with nothing around it, in words or symbols."""
    if op == "sub":
        a, b = max(a, b), min(a, b)
    if op == "div":
        a, b = a * b, a
    value = {"add": a + b, "sub": a - b, "mul": a * b, "div": a // b}[op]
    text = choose(rng, f"What is {a} {WORD[op]} {b}?", f"What is {a} {SYMBOL[op]} {b}?",
                  f"Calculate {a} {SYMBOL[op]} {b}.", f"How much is {a} {WORD[op]} {b}?",
                  f"Work out {a} {WORD[op]} {b}.", f"Find {a} {SYMBOL[op]} {b}.",
                  f"What do you get for {a} {WORD[op]} {b}?", f"Compute {a} {SYMBOL[op]} {b}.",
                  f"{a} {SYMBOL[op]} {b} = ?", f"Solve {a} {WORD[op]} {b}.")
    return text, f"{a} {SYMBOL[op]} {b} = {value}.", value


def one_step_equations() -> frozenset[str]:
    """Every equation a tier-1 or tier-2 problem can write ("3 + 4 = 7"), as its one step writes it
    without the full stop: the space `evolm.synth.math.holdout` splits exactly (254 equations)."""
    digits, factors = range(1, 10), range(2, 10)
    return frozenset(
        [f"{a} + {b} = {a + b}" for a in digits for b in digits]
        + [f"{a} - {b} = {a - b}" for a in digits for b in digits if a >= b]
        + [f"{a} * {b} = {a * b}" for a in factors for b in factors]
        + [f"{a * b} / {a} = {b}" for a in factors for b in factors])


def two_step_equations() -> frozenset[tuple[str, str]]:
    """Every computation a tier-3 problem can write whose two steps are both one-step equations
    (`one_step_equations`): an addition, subtraction or multiplication on digits, then an amount
    taken away or added, as `basic` draws them. The space `evolm.synth.math.holdout` splits for
    tier 3."""
    space = one_step_equations()
    firsts = [e for e in space if e.split()[1] in "+-*"]
    pairs = set()
    for first in firsts:
        value = int(first.split()[-1])
        seconds = [f"{value} - {c} = {value - c}" for c in range(1, min(9, value - 1) + 1)]
        seconds += [f"{value} + {c} = {value + c}" for c in range(1, 10)]
        pairs.update((first, second) for second in seconds if second in space)
    return frozenset(pairs)


def basic(rng: random.Random, tier: int) -> Problem:
    """A tier-1 (bare operation), tier-2 (one-step word problem) or tier-3 (two-step) problem on
    numbers 1-9."""
    if tier not in TIERS:
        raise ValueError(f"basic problems have tiers {TIERS}, not {tier!r}")
    who, thing = person(rng), rng.choice(COUNTABLES)
    # Tier 3 builds on a total someone has (not a share), so "then more are added" is unambiguous.
    op = rng.choice(tuple(ONE_STEP) if tier < 3 else ("add", "sub", "mul"))
    a, b = rng.randint(1, 9), rng.randint(1, 9)
    if op in ("mul", "div"):
        a, b = rng.randint(2, 9), rng.randint(2, 9)
    if tier == 1:
        text, step, value = _bare(rng, op, a, b)
        return Problem(f"bare-{op}", 0, text, [step], value)
    text, step, value = ONE_STEP[op](rng, who, thing, a, b)
    if tier == 2:
        return Problem(f"basic-{op}", 0, text, [step], value)
    # A second operation on the first result; the first question is dropped.
    stem = text[: text.rindex(". ") + 1]
    if value >= 2 and rng.random() < 0.5:
        # Uniform over the amounts that leave at least one: capping a 1-9 draw at value - 1 made 1
        # the answer of 15% of the tier, and SFT models learned to say it whatever the numbers.
        c = rng.randint(1, min(9, value - 1))
        question = f"Then {c} {thing} are taken away. How many {thing} are left?"
        steps, answer = [step, f"{value} - {c} = {value - c}."], value - c
    else:
        c = rng.randint(1, 9)
        question = f"Then {c} more {thing} are added. How many {thing} are there now?"
        steps, answer = [step, f"{value} + {c} = {value + c}."], value + c
    return Problem(f"basic-{op}-2", 0, f"{stem} {question}", steps, answer)
