"""The people of word problems and table questions: a given name with the pronouns it takes.

Word problems and TabMWP-style questions need ordinary names ("Mary buys 3 pens. How much does
she spend?"), unlike the invented names of the world. The names are real given names so that the
problems read like GSM8K's; each list fixes the seeded order of the draws.
"""

from __future__ import annotations

import dataclasses
import random

from evolm.synth.text import word_list

FEMALE_NAMES = word_list("""
Mary Emma Olivia Ava Sophia Mia Amelia Harper Evelyn Abigail Emily Ella Grace Chloe Lily Zoe Nora
Hannah Lucy Anna Sara Maria Julia Rosa Elena Nina Leah Maya Aisha Fatima Priya Mei Yuki Ingrid
Freya Clara Alice Rachel Naomi Ruth Helen Diana Laura Paula Carmen Lucia Sofia Irene Hazel Violet
Daisy Ivy Jade Ruby Tara Wendy Janet Karen Linda Betty Susan Joan Martha Nadia Olga Vera Kim
""")
MALE_NAMES = word_list("""
James John Robert Michael William David Joseph Thomas Charles Daniel Matthew Anthony Mark Paul
Steven Andrew Joshua Kevin Brian George Edward Ryan Jacob Gary Nicholas Eric Jonah Stephen Larry
Justin Scott Frank Brandon Gregory Samuel Benjamin Patrick Jack Dennis Jerry Tyler Aaron Henry
Adam Peter Nathan Zachary Kyle Noah Ethan Jeremy Carlos Luis Omar Ravi Kenji Hiro Lars Sven
Tomas Pedro Marco Leo Felix Hugo Oscar Ivan Ali Yusuf Chen Arjun
""")


@dataclasses.dataclass(frozen=True)
class Who:
    name: str
    he: str  # subject pronoun
    his: str  # possessive
    him: str  # object pronoun

    @property
    def He(self) -> str:
        return self.he.capitalize()

    @property
    def His(self) -> str:
        return self.his.capitalize()


def person(rng: random.Random, avoid: tuple[str, ...] = ()) -> Who:
    """One person, not named like anyone in `avoid`."""
    while True:
        if rng.random() < 0.5:
            who = Who(rng.choice(FEMALE_NAMES), "she", "her", "her")
        else:
            who = Who(rng.choice(MALE_NAMES), "he", "his", "him")
        if who.name not in avoid:
            return who


def people(rng: random.Random, n: int) -> list[Who]:
    """n people with different names."""
    out: list[Who] = []
    while len(out) < n:
        out.append(person(rng, tuple(p.name for p in out)))
    return out
