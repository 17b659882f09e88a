"""Elementary arithmetic facts, worded the way the math text states them and the math cloze asks.

One definition serves both sides, so the cloze query "Seven plus five equals" is always the
prefix of a sentence the math text really contains ("Seven plus five equals twelve.").
"""

from __future__ import annotations

import dataclasses
import random

from evolm.synth.text import number_words

KINDS = ("plus", "minus", "times", "divided", "half", "double")


@dataclasses.dataclass(frozen=True)
class ArithFact:
    kind: str
    a: int
    b: int
    result: int

    def query(self, words: bool) -> str:
        """The sentence up to the answer: 'Seven plus five equals' or '7 + 5 ='."""
        a, b = (number_words(self.a), number_words(self.b)) if words else (self.a, self.b)
        if self.kind == "half":
            return f"Half of {a} is" if words else f"{self.a} / 2 ="
        if self.kind == "double":
            return f"Double {a} is" if words else f"2 * {self.a} ="
        op_words = {"plus": "plus", "minus": "minus", "times": "times", "divided": "divided by"}
        op_sym = {"plus": "+", "minus": "-", "times": "*", "divided": "/"}
        if words:
            return f"{str(a).capitalize()} {op_words[self.kind]} {b} equals"
        return f"{a} {op_sym[self.kind]} {b} ="

    def answer(self, words: bool) -> str:
        return number_words(self.result) if words else str(self.result)

    def sentence(self, words: bool) -> str:
        end = "." if words else ""
        return f"{self.query(words)} {self.answer(words)}{end}"


def random_fact(rng: random.Random, kind: str | None = None) -> ArithFact:
    kind = kind or rng.choice(KINDS)
    if kind == "plus":
        a, b = rng.randint(0, 20), rng.randint(0, 20)
        return ArithFact(kind, a, b, a + b)
    if kind == "minus":
        a = rng.randint(1, 30)
        b = rng.randint(0, a)
        return ArithFact(kind, a, b, a - b)
    if kind == "times":
        a, b = rng.randint(1, 12), rng.randint(1, 12)
        return ArithFact(kind, a, b, a * b)
    if kind == "divided":
        a, b = rng.randint(1, 12), rng.randint(1, 12)
        return ArithFact(kind, a * b, a, b)
    if kind == "half":
        n = 2 * rng.randint(1, 50)
        return ArithFact(kind, n, 2, n // 2)
    n = rng.randint(1, 50)
    return ArithFact("double", n, 2, 2 * n)


def distractors(rng: random.Random, fact: ArithFact, n: int = 3) -> list[int]:
    """Wrong results near the right one (off by one or two, or a confusable operation)."""
    r = fact.result
    cands = [r - 2, r - 1, r + 1, r + 2, r + 10, r - 10, fact.a + fact.b, abs(fact.a - fact.b),
             fact.a * fact.b if fact.kind != "divided" else fact.a // max(1, fact.b) + 1]
    cands = [c for c in dict.fromkeys(cands) if c >= 0 and c != r]
    rng.shuffle(cands)
    return cands[:n]
