"""Shared pieces for math word problems: the Problem record, goods and prices, fractions.

Each family (`families_money.py`, `families_count.py`, `families_number.py`) computes its answer
and writes every solution step from the same variables, so a step's arithmetic and the boxed
answer cannot disagree. Answers are non-negative integers, so graders compare them exactly. The
people in the problems come from `evolm.synth.people`.
"""

from __future__ import annotations

import dataclasses
import random


@dataclasses.dataclass
class Problem:
    family: str
    level: int  # 0: basic, 1-2 steps on digits 1-9; 1: 1-2 steps; 2: 3-4 steps; 3: 5+ steps or larger numbers
    text: str
    steps: list[str]
    answer: int

    def solution(self) -> str:
        """Step-by-step solution; the last line ends with \\boxed{answer}."""
        return "\n".join(self.steps + [f"The final answer is \\boxed{{{self.answer}}}"])

    def check(self) -> "Problem":
        if not isinstance(self.answer, int) or self.answer < 0:
            raise AssertionError(f"{self.family}: answer {self.answer!r} is not a natural number")
        want = {0: (1, 2), 1: (1, 2), 2: (3, 4), 3: (5, 99)}[self.level]
        if not want[0] <= len(self.steps) <= want[1]:
            raise AssertionError(f"{self.family} level {self.level}: {len(self.steps)} steps")
        return self


# (singular, plural, lowest price, highest price) in whole dollars.
GOODS = (
    ("notebook", "notebooks", 2, 6), ("pencil", "pencils", 1, 3), ("book", "books", 5, 20),
    ("toy car", "toy cars", 3, 12), ("sandwich", "sandwiches", 4, 9),
    ("ticket", "tickets", 5, 15), ("shirt", "shirts", 10, 30), ("pen", "pens", 1, 4),
    ("mug", "mugs", 4, 10), ("puzzle", "puzzles", 8, 20), ("plant", "plants", 5, 15),
    ("loaf of bread", "loaves of bread", 2, 5), ("box of crayons", "boxes of crayons", 2, 6),
    ("bottle of juice", "bottles of juice", 2, 4), ("pair of socks", "pairs of socks", 3, 8),
    ("comic book", "comic books", 2, 7), ("jar of honey", "jars of honey", 5, 12),
    ("scarf", "scarves", 8, 25), ("bag of rice", "bags of rice", 3, 8),
    ("cupcake", "cupcakes", 2, 5), ("kite", "kites", 6, 18), ("board game", "board games", 12, 35),
    ("lamp", "lamps", 15, 40), ("backpack", "backpacks", 20, 45), ("hat", "hats", 7, 22),
    ("bunch of flowers", "bunches of flowers", 4, 12), ("pizza", "pizzas", 8, 16),
    ("melon", "melons", 2, 6), ("basket of berries", "baskets of berries", 3, 9),
    ("ball", "balls", 3, 10), ("candle", "candles", 2, 8), ("pair of gloves", "pairs of gloves", 6, 16),
)
STORES = ("the market", "a bookshop", "the school store", "a grocery store", "the mall",
          "a bakery", "the corner shop", "a toy store", "a garden centre", "the fair",
          "a craft shop", "the farmers' market", "a gift shop", "the museum shop")
# Countable things people collect, bake, pick or sort.
COUNTABLES = ("apples", "stickers", "marbles", "cookies", "cards", "shells", "stamps", "beads",
              "pencils", "oranges", "flowers", "eggs", "books", "coins", "toy cars", "crayons",
              "muffins", "pebbles", "buttons", "balloons", "candies", "feathers", "postcards",
              "photos", "seeds", "tomatoes", "potatoes", "blocks", "ribbons", "peaches")

# Unit fractions and a few others, spelled out: (numerator, denominator, words).
FRACTIONS = ((1, 2, "half"), (1, 3, "a third"), (1, 4, "a quarter"), (1, 5, "a fifth"),
             (2, 3, "two thirds"), (3, 4, "three quarters"), (2, 5, "two fifths"),
             (1, 6, "a sixth"), (1, 8, "an eighth"), (3, 5, "three fifths"), (1, 10, "a tenth"))


def fraction(rng: random.Random, simple: bool = False) -> tuple[int, int, str]:
    pool = FRACTIONS[:4] if simple else FRACTIONS
    return rng.choice(pool)


def multiple_of(rng: random.Random, d: int, lo: int, hi: int) -> int:
    """A random multiple of d in [lo, hi] (at least d)."""
    k_lo = max(1, -(-lo // d))
    k_hi = max(k_lo, hi // d)
    return d * rng.randint(k_lo, k_hi)


def choose(rng: random.Random, *phrasings: str) -> str:
    return rng.choice(phrasings)
