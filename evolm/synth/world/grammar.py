"""A small English grammar over the lexicon: noun phrases, clauses, and sentences.

The general-domain text needs sentences that are grammatical, varied and open-ended (a model has
to keep learning word co-occurrences, agreement and clause structure for millions of tokens), but
that never assert a fact about the world: world facts come only from `entities.py` through
`general_text.py`, so nothing here can contradict them. Word choice is Zipf-weighted over a seeded
ranking of each word list.
"""

from __future__ import annotations

import random

from evolm.synth import text as tx
from evolm.synth.rng import Zipf, shuffled
from evolm.synth.world import lexicon as lx

SEASONS = ("spring", "summer", "autumn", "winter", "rainy season", "dry season", "harvest")
PERIODS = ("century", "decade", "year", "war", "reign", "festival", "journey", "season")
MODALS = ("can", "could", "should", "must", "might", "would", "will", "may")
CONJUNCTIONS = ("because", "although", "when", "while", "after", "before", "since", "until",
                "and", "but", "so", "as", "whenever", "once")
FRAMES = ("It is said that", "Many people believe that", "Some historians argue that",
          "Old records show that", "Travellers often report that", "It is well known that",
          "Few people remember that", "The old stories tell that", "Teachers explain that",
          "Visitors are often surprised that", "Scholars still debate whether",
          "Nobody is quite sure whether")
PREPOSITIONS = ("in", "near", "beside", "behind", "across", "along", "inside", "outside", "above",
                "below", "towards", "around", "through", "beyond", "under", "past")
QUANT_SING = ("the", "the", "the", "a", "this", "that", "every", "each", "one", "another")
QUANT_PLUR = ("the", "the", "some", "many", "several", "few", "two", "three", "these", "those",
              "most", "all the", "a few")


class Grammar:
    """Generates sentences; the word ranks are seeded once, each call takes the caller's rng."""

    def __init__(self, rank_rng: random.Random, exponent: float = 0.9):
        self.thing = Zipf(shuffled(rank_rng, lx.THINGS), exponent)
        self.person = Zipf(shuffled(rank_rng, lx.PEOPLE), exponent)
        self.place = Zipf(shuffled(rank_rng, lx.PLACES), exponent)
        self.abstract = Zipf(shuffled(rank_rng, lx.ABSTRACTS), exponent)
        self.adj = Zipf(shuffled(rank_rng, lx.ADJECTIVES), exponent)
        self.verb = Zipf(shuffled(rank_rng, lx.VERBS), exponent)
        self.intrans = Zipf(shuffled(rank_rng, lx.INTRANSITIVE), exponent)
        self.adverb = Zipf(shuffled(rank_rng, lx.ADVERBS), exponent)
        self.goods = Zipf(shuffled(rank_rng, lx.GOODS), exponent)
        self.colour = Zipf(shuffled(rank_rng, lx.COLOURS), exponent)

    # -- noun phrases -------------------------------------------------------------------
    def noun_phrase(self, rng: random.Random, plural: bool | None = None,
                    kind: str | None = None) -> tuple[str, bool]:
        """('the old wooden bridges', True). kind: thing, person, place or abstract."""
        if kind is None:
            kind = rng.choice(("thing", "thing", "thing", "person", "person", "place", "abstract"))
        if kind == "abstract":
            noun, plural = self.abstract(rng), False
            det = rng.choice(("", "", "the", "their", "much", "little"))
        else:
            noun = {"thing": self.thing, "person": self.person, "place": self.place}[kind](rng)
            if plural is None:
                plural = rng.random() < 0.4
            if plural:
                noun = tx.plural(noun)
                det = rng.choice(QUANT_PLUR)
            else:
                det = rng.choice(QUANT_SING)
        r = rng.random()
        if r < 0.45:
            noun = f"{self.adj(rng)} {noun}"
        elif r < 0.55:
            noun = f"{self.adj(rng)}, {self.adj(rng)} {noun}"
        elif r < 0.62 and kind != "abstract":
            noun = f"{self.colour(rng)} {noun}"
        if det == "a":
            det = tx.article(noun)
        if kind != "abstract" and rng.random() < 0.12:
            noun += f" of {self.goods(rng)}"
        return (f"{det} {noun}" if det else noun), plural

    def prep_phrase(self, rng: random.Random) -> str:
        np, _ = self.noun_phrase(rng, kind=rng.choice(("place", "place", "thing")))
        return f"{rng.choice(PREPOSITIONS)} {np}"

    def time_phrase(self, rng: random.Random, tense: str = "past") -> str:
        if tense != "past":  # only phrases that agree with the present tense
            return rng.choice((f"Every {rng.choice(SEASONS)}", "In most years",
                               f"During the {self.adj(rng)} {rng.choice(SEASONS)}", "Today",
                               "Nowadays", f"Each {rng.choice(('morning', 'evening', 'week'))}",
                               "These days", "Even now"))
        r = rng.randrange(8)
        if r == 0:
            return f"In {rng.randint(900, 1990)}"
        if r == 1:
            return f"Every {rng.choice(SEASONS)}"
        if r == 2:
            return f"During the {self.adj(rng)} {rng.choice(SEASONS)}"
        if r == 3:
            return f"At the end of the {rng.choice(PERIODS)}"
        if r == 4:
            return rng.choice(("Long ago", "Years later", "In those days", "Today", "At first",
                               "For many years", "Since then", "In the past", "Later that day"))
        if r == 5:
            return f"After the {rng.choice(PERIODS)}"
        if r == 6:
            return f"Before the {self.adj(rng)} {rng.choice(PERIODS)}"
        adj = self.adj(rng)
        det = tx.article(adj) if rng.random() < 0.7 else "one"
        return f"On {det} {adj} {rng.choice(('morning', 'evening', 'night', 'afternoon', 'day'))}"

    # -- clauses -----------------------------------------------------------------------
    def verb_phrase(self, rng: random.Random, plural: bool, tense: str) -> str:
        r = rng.random()
        if r < 0.5:
            verb = self.verb(rng)
            obj, _ = self.noun_phrase(rng)
            head = self._inflect(verb, plural, tense)
            vp = f"{head} {obj}"
        elif r < 0.66:
            verb = self.intrans(rng)
            vp = self._inflect(verb, plural, tense)
        elif r < 0.78:
            be = ("were" if plural else "was") if tense == "past" else ("are" if plural else "is")
            adj = self.adj(rng)
            if rng.random() < 0.4:
                adj = f"{adj} and {self.adj(rng)}"
            vp = f"{be} {rng.choice(('', '', 'very ', 'rather ', 'often ', 'never ', 'still '))}{adj}"
        elif r < 0.9:
            obj, _ = self.noun_phrase(rng)
            modal = rng.choice(MODALS)
            if tense == "past" and modal in ("can", "will", "may"):
                modal = {"can": "could", "will": "would", "may": "might"}[modal]
            vp = f"{modal} {self.verb(rng)} {obj}"
        else:
            verb = self.verb(rng)
            obj, _ = self.noun_phrase(rng)
            if tense == "past":
                vp = f"used to {verb} {obj}"
            else:
                be = "are" if plural else "is"
                vp = f"{be} {tx.gerund(verb)} {obj}"
        if rng.random() < 0.35:
            vp += " " + self.prep_phrase(rng)
        if rng.random() < 0.2:
            vp += " " + self.adverb(rng)
        return vp

    @staticmethod
    def _inflect(verb: str, plural: bool, tense: str) -> str:
        if tense == "past":
            return tx.past(verb)
        return verb if plural else tx.third_person(verb)

    def clause(self, rng: random.Random, tense: str,
               subjects: list[tuple[str, bool]] | None = None) -> str:
        if subjects and rng.random() < 0.5:
            subj, plural = rng.choice(subjects)
        else:
            subj, plural = self.noun_phrase(rng, kind=rng.choice(("person", "person", "thing",
                                                                 "place")))
        if rng.random() < 0.12:  # relative clause on the subject
            subj = f"{subj} that {self.verb_phrase(rng, plural, tense)}"
        return f"{subj} {self.verb_phrase(rng, plural, tense)}"

    def sentence(self, rng: random.Random, tense: str = "past",
                 subjects: list[tuple[str, bool]] | None = None) -> str:
        """One sentence, capitalised and punctuated."""
        r = rng.random()
        if r < 0.34:
            s = self.clause(rng, tense, subjects)
        elif r < 0.52:
            s = f"{self.clause(rng, tense, subjects)} {rng.choice(CONJUNCTIONS)} " \
                f"{self.clause(rng, tense, subjects)}"
        elif r < 0.64:
            s = f"{self.time_phrase(rng, tense)}, {self.clause(rng, tense, subjects)}"
        elif r < 0.72:
            s = f"{tx.cap(self.adverb(rng))}, {self.clause(rng, tense, subjects)}"
        elif r < 0.80:
            s = f"{rng.choice(FRAMES)} {self.clause(rng, tense, subjects)}"
        elif r < 0.86:
            a, _ = self.noun_phrase(rng, kind="thing")
            b, _ = self.noun_phrase(rng, kind="thing")
            c, _ = self.noun_phrase(rng, kind="thing")
            who, plural = (rng.choice(subjects) if subjects else
                           self.noun_phrase(rng, kind="person"))
            verb = self._inflect(self.verb(rng), plural, tense)
            s = f"{who} {verb} {a}, {b} and {c}"
        elif r < 0.92:
            speaker, _ = self.noun_phrase(rng, plural=False, kind="person")
            s = f"\"{tx.cap(self.clause(rng, tense, subjects))},\" said {speaker}"
        elif r < 0.96:
            who, plural = self.noun_phrase(rng, kind="person")
            aux = "did" if tense == "past" else ("do" if plural else "does")
            obj, _ = self.noun_phrase(rng, kind="thing")
            return f"{rng.choice(('Why', 'How', 'When', 'Where'))} {aux} {who} " \
                   f"{self.verb(rng)} {obj}?"
        else:
            s = f"{self.clause(rng, tense, subjects)}; {self.clause(rng, tense, subjects)}"
        return tx.cap(s) + "."
