"""Seeded randomness that is stable across processes and machines.

Every generator gets its own `random.Random`, derived from (seed, purpose) through sha256, so
adding a draw in one file never shifts the numbers of another, and nothing depends on Python's
per-process `hash()` randomisation or on the iteration order of sets.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
from typing import Sequence, TypeVar

T = TypeVar("T")


def derive_seed(seed: int, purpose: str) -> int:
    """A 64-bit integer that depends only on the user's seed and a purpose string."""
    digest = hashlib.sha256(f"evolm-synth/{int(seed)}/{purpose}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def make_rng(seed: int, purpose: str) -> random.Random:
    """An independent random stream for one purpose ("general-text", "pool", ...)."""
    return random.Random(derive_seed(seed, purpose))


class Zipf:
    """Draws items with probability proportional to 1 / rank**exponent (rank = list position).

    Natural text and natural fact mentions follow roughly this law: a few words and entities are
    everywhere, most are rare. That long tail is what lets a small model keep improving (and
    keep gaining cloze accuracy) as it sees more tokens.
    """

    __slots__ = ("items", "cum", "total", "last")

    def __init__(self, items: Sequence[T], exponent: float = 1.0):
        if not items:
            raise ValueError("Zipf needs at least one item")
        self.items = list(items)
        self.cum = list(itertools.accumulate(1.0 / (r + 1) ** exponent for r in range(len(items))))
        self.total = self.cum[-1]
        self.last = len(self.items) - 1

    def __call__(self, rng: random.Random) -> T:
        i = bisect.bisect(self.cum, rng.random() * self.total)
        return self.items[i if i <= self.last else self.last]


def shuffled(rng: random.Random, items: Sequence[T]) -> list[T]:
    """A shuffled copy (the seeded rank order used by `Zipf`)."""
    out = list(items)
    rng.shuffle(out)
    return out


def balanced_schedule(rng: random.Random, labels: Sequence[T], n: int) -> list[T]:
    """n labels, as equal in count as n allows, in a seeded random order."""
    out = [labels[i % len(labels)] for i in range(n)]
    rng.shuffle(out)
    return out
