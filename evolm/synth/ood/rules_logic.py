"""The logic behind SynthRules: literals, rule conditions, attribute tests and the solver.

Semantics (BoardgameQA's, made explicit): facts are what the game state says; a rule fires when
every condition is established (a negative condition "does not X" needs "does not X" to be stated
or derived: nothing is assumed false by default); when two fired rules conclude opposite things,
the conclusion of the preferred rule stands; a question is True if its statement is derived, False
if its negation is, and Uncertain otherwise. The solver re-derives everything from the facts until
nothing changes, so a conclusion defeated by a rule that fires later is withdrawn.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

VAR = "?"  # the "something" / "one of the animals" variable of general rules

RAINBOW = ("red", "orange", "yellow", "green", "blue", "indigo", "violet")
OTHER_COLOURS = ("black", "white", "brown", "grey", "pink", "beige")
CITIES = {
    "Frankfurt": "Germany", "Berlin": "Germany", "Hamburg": "Germany", "Munich": "Germany",
    "Paris": "France", "Lyon": "France", "Marseille": "France", "Rome": "Italy",
    "Milan": "Italy", "Venice": "Italy", "Turin": "Italy", "Madrid": "Spain",
    "Barcelona": "Spain", "Ankara": "Turkey", "Istanbul": "Turkey", "Izmir": "Turkey",
    "Toronto": "Canada", "Ottawa": "Canada", "Montreal": "Canada", "Lisbon": "Portugal",
    "Oslo": "Norway", "Cairo": "Egypt", "Tokyo": "Japan", "Kyoto": "Japan",
}
CATEGORIES = {
    "a sharp object": ("knife", "cutter", "pair of scissors", "sword"),
    "a leafy green vegetable": ("lettuce", "kale", "spinach", "arugula"),
    "a musical instrument": ("violin", "flute", "guitar", "drum", "trumpet"),
    "a device to connect to the internet": ("laptop", "smartphone", "tablet"),
    "something to sit on": ("chair", "sofa", "stool", "bench"),
    "a fruit": ("apple", "banana", "mango", "pear"),
    "something to drink": ("cup of coffee", "glass of milk", "bottle of water"),
}
ITEM_CATEGORY = {item: cat for cat, items in CATEGORIES.items() for item in items}


@dataclasses.dataclass(frozen=True)
class Lit:
    """`subj` relates to `obj` by relation number `rel` (pos) or explicitly does not (not pos)."""

    rel: int
    subj: str
    obj: str
    pos: bool

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.rel, self.subj, self.obj)

    def negated(self) -> "Lit":
        return Lit(self.rel, self.subj, self.obj, not self.pos)

    def bind(self, animal: str | None) -> "Lit":
        return Lit(self.rel, animal, self.obj, self.pos) if self.subj == VAR else self


@dataclasses.dataclass(frozen=True)
class Cond:
    """kind: 'lit' (lit), 'exists' (some animal does lit.rel to lit.obj) or 'attr'."""

    kind: str
    lit: Lit | None = None
    attr: str = ""
    subj: str = ""
    param: object = None


@dataclasses.dataclass
class Rule:
    conds: tuple[Cond, ...]
    concl: Lit
    text: str


def attr_holds(attr: str, subj: str, param, attrs: dict[str, dict]) -> bool:
    """Evaluate an attribute condition; missing information means 'not established'."""
    a = attrs.get(subj, {})
    try:
        if attr == "rainbow":
            return a["card"] in RAINBOW
        if attr == "color_letter":
            return a["card"][0] == param
        if attr == "richer":
            return a["money"] > attrs[param]["money"]
        if attr == "same_initial":
            return a["name"][0] == attrs[param]["name"][0]
        if attr == "in_country":
            return CITIES[a["city"]] == param
        if attr == "older":
            return a["age_months"] > 12 * param
        if attr == "younger":
            return a["age_months"] < 12 * param
        if attr == "has_cat":
            return ITEM_CATEGORY[a["item"]] == param
        if attr == "friends_more":
            return a["friends"] > param
        if attr == "friends_fewer":
            return a["friends"] < param
    except KeyError:
        return False
    raise ValueError(attr)


def _holds(c: Cond, animal: str | None, derived: set[Lit], animals: Iterable[str],
           attrs: dict) -> bool:
    if c.kind == "lit":
        return c.lit.bind(animal) in derived
    if c.kind == "exists":
        return any(Lit(c.lit.rel, a, c.lit.obj, True) in derived for a in animals)
    return attr_holds(c.attr, c.subj, c.param, attrs)


@dataclasses.dataclass
class Solution:
    derived: set
    consistent: bool  # False: a conflict without a preference, a rule against a fact, no fixpoint

    def answer(self, question: Lit) -> str:
        if question in self.derived:
            return "True"
        if question.negated() in self.derived:
            return "False"
        return "Uncertain"


def solve(animals: list[str], facts: Iterable[Lit], attrs: dict, rules: list[Rule],
          prefs: set[tuple[int, int]]) -> Solution:
    """Forward chaining with preferences; `prefs` holds (winner, loser) rule indices."""
    facts = set(facts)
    fact_pol = {f.key: f.pos for f in facts}
    derived = set(facts)
    for _ in range(40):
        fired: dict[tuple, list[tuple[bool, int]]] = {}
        for i, r in enumerate(rules):
            binds = animals if r.concl.subj == VAR or any(
                c.kind == "lit" and c.lit.subj == VAR for c in r.conds) else [None]
            for b in binds:
                if all(_holds(c, b, derived, animals, attrs) for c in r.conds):
                    concl = r.concl.bind(b)
                    fired.setdefault(concl.key, []).append((concl.pos, i))
        new = set(facts)
        consistent = True
        for key in sorted(fired, key=repr):
            pos = [i for p, i in fired[key] if p]
            neg = [i for p, i in fired[key] if not p]
            if key in fact_pol:  # a rule never overrides the stated game state
                if (pos if not fact_pol[key] else neg):
                    consistent = False
                continue
            if pos and neg:
                pos_wins = any(all((i, j) in prefs for j in neg) for i in pos)
                neg_wins = any(all((j, i) in prefs for i in pos) for j in neg)
                if pos_wins == neg_wins:
                    consistent = False
                    continue
                new.add(Lit(key[0], key[1], key[2], pos_wins))
            else:
                new.add(Lit(key[0], key[1], key[2], bool(pos)))
        if new == derived:
            return Solution(derived, consistent)
        derived = new
    return Solution(derived, False)
