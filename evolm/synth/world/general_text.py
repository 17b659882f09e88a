"""General-domain documents (the FineWeb-Edu stand-in): encyclopedia entries, biographies, field
guides, travel stories, quizzes, notes and essays about the seeded world.

Facts come only from `fact_sentences` (so they are consistent everywhere); the sentences around
them come from `grammar` (open-ended, fact-free). Subjects are drawn with Zipf weights over the
world's popularity order, so a few facts recur constantly and most recur rarely: more pre-training
tokens keep adding facts a model can recall, which is what makes upstream cloze accuracy rise with
tokens as it does for real models on HellaSwag or ARC.
"""

from __future__ import annotations

import random
from typing import Callable, Iterator

from evolm.synth.rng import Zipf, make_rng
from evolm.synth.text import article, cap, plural
from evolm.synth.world import fact_sentences as fs
from evolm.synth.world.entities import World
from evolm.synth.world.grammar import Grammar


def pick(rng: random.Random, alternatives: list[str]) -> str:
    """The canonical wording half of the time, otherwise any wording."""
    return alternatives[0] if rng.random() < 0.5 else rng.choice(alternatives)


class GeneralText:
    """Produces an endless, seeded stream of documents about one world."""

    def __init__(self, world: World, seed: int, purpose: str = "general-text"):
        self.world = world
        self.rng = make_rng(seed, purpose)
        self.grammar = Grammar(make_rng(seed, "general-ranks"))
        self.country = Zipf(world.countries, 1.0)
        self.city = Zipf(world.cities, 1.0)
        self.person = Zipf(world.people, 1.0)
        self.animal = Zipf(world.animals, 1.0)
        self.plant = Zipf(world.plants, 1.0)
        self.element = Zipf(world.elements, 1.0)
        self.river = Zipf(world.rivers, 1.0)
        kinds: list[tuple[Callable, float]] = [
            (self.country_doc, 16), (self.city_doc, 11), (self.person_doc, 13),
            (self.animal_doc, 11), (self.plant_doc, 8), (self.element_doc, 6),
            (self.river_doc, 7), (self.story_doc, 10), (self.quiz_doc, 5), (self.notes_doc, 4),
            (self.compare_doc, 3), (self.essay_doc, 6),
        ]
        self.kinds = [k for k, _ in kinds]
        self.weights = [w for _, w in kinds]

    def documents(self) -> Iterator[str]:
        rng = self.rng
        while True:
            yield rng.choices(self.kinds, weights=self.weights)[0]()

    def sentence(self, tense: str = "present", subjects=None) -> str:
        return self.grammar.sentence(self.rng, tense, subjects)

    # -- building blocks ----------------------------------------------------------------------
    def _mix(self, facts: dict[str, list[str]], n_facts: int, subjects, tense: str,
             filler: float = 0.8, first: str | None = None) -> list[str]:
        """Some facts in random order, with filler sentences between them."""
        rng = self.rng
        keys = list(facts)
        rng.shuffle(keys)
        if first is not None and first in facts:
            keys.remove(first)
            keys.insert(0, first)
        out = []
        for key in keys[:n_facts]:
            out.append(pick(rng, facts[key]))
            while rng.random() < filler * 0.6:
                out.append(self.sentence(tense, subjects))
                filler *= 0.7
            filler = 0.8
        return out

    def _paragraphs(self, sentences: list[str]) -> str:
        """Join sentences into one to three paragraphs."""
        rng = self.rng
        if len(sentences) < 5 or rng.random() < 0.5:
            return " ".join(sentences)
        cut = rng.randint(2, len(sentences) - 2)
        return " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])

    def _title(self, text: str, title: str) -> str:
        return f"{title}\n\n{text}" if self.rng.random() < 0.3 else text

    # -- documents ---------------------------------------------------------------------------
    def country_doc(self) -> str:
        rng = self.rng
        c = self.country(rng)
        subjects = [(f"the people of {c.name}", True), (f"farmers in {c.name}", True),
                    (f"merchants from {c.capital.name}", True), (f"the {c.language} poets", True),
                    (f"every village in {c.name}", False)]
        opening = rng.choice([f"{c.name} is a country with {rng.choice(('a long', 'a rich', 'a quiet', 'a troubled', 'a proud'))} history.",
                              f"{c.name} is {article(c.climate)} {c.climate} country.", f"This article is about {c.name}."])
        body = self._mix(fs.country_facts(c), rng.randint(3, 8), subjects, "present")
        if rng.random() < 0.5:  # the capital is part of the story of the country
            body += self._mix(fs.city_facts(c.capital), rng.randint(1, 3), subjects, "present")
        return self._title(self._paragraphs([opening] + body), c.name)

    def city_doc(self) -> str:
        rng = self.rng
        y = self.city(rng)
        subjects = [(f"the people of {y.name}", True), (f"visitors to {y.name}", True),
                    (f"the old market of {y.name}", False), (f"the craftsmen of {y.name}", True)]
        body = self._mix(fs.city_facts(y), rng.randint(2, 4), subjects, "present", first="country")
        if rng.random() < 0.4:
            body += self._mix(fs.country_facts(y.country), rng.randint(1, 2), subjects, "present")
        return self._title(self._paragraphs(body), y.name)

    def person_doc(self) -> str:
        rng = self.rng
        p = self.person(rng)
        subjects = [(p.first, False), (p.name, False), (f"the young {p.role}", False),
                    (f"the friends of {p.first}", True)]
        body = self._mix(fs.person_facts(p), rng.randint(2, 4), subjects, "past", first="born")
        if rng.random() < 0.35:
            body += self._mix(fs.city_facts(p.birth_city), 1, subjects, "past")
        return self._title(self._paragraphs(body), p.name)

    def animal_doc(self) -> str:
        rng = self.rng
        a = self.animal(rng)
        pl = plural(a.name)
        subjects = [(f"the {a.name}", False), (pl, True), (f"young {pl}", True),
                    (f"a hungry {a.name}", False)]
        body = self._mix(fs.animal_facts(a), rng.randint(2, 5), subjects, "present")
        intro = rng.choice([f"The {a.name} is an animal of {a.country.name}.",
                            f"Field notes on the {a.name}.", f"The {a.name} is a {rng.choice(('shy', 'common', 'rare', 'curious', 'noisy', 'gentle'))} animal."])
        return self._paragraphs([intro] + body)

    def plant_doc(self) -> str:
        rng = self.rng
        p = self.plant(rng)
        subjects = [(f"the {p.name}", False), (plural(p.name), True),
                    (f"gardeners who grow the {p.name}", True)]
        body = self._mix(fs.plant_facts(p), rng.randint(2, 5), subjects, "present")
        return self._title(self._paragraphs(body), p.name.capitalize())

    def element_doc(self) -> str:
        rng = self.rng
        e = self.element(rng)
        subjects = [(e.name, False), (f"samples of {e.name}", True), ("chemists", True),
                    (f"the chemist {e.discoverer.last}", False)]
        body = self._mix(fs.element_facts(e), rng.randint(2, 5), subjects, "present")
        if rng.random() < 0.3:
            body += self._mix(fs.person_facts(e.discoverer), 1, subjects, "past")
        return self._title(self._paragraphs(body), e.name)

    def river_doc(self) -> str:
        rng = self.rng
        r = self.river(rng)
        subjects = [(f"the {r.name}", False), (f"boats on the {r.name}", True),
                    (f"the fishermen of the {r.name}", True)]
        body = self._mix(fs.river_facts(r), rng.randint(2, 4), subjects, "present")
        return self._title(self._paragraphs(body), f"The {r.name}")

    def story_doc(self) -> str:
        """A short narrative: a person travels between places; the places' facts come along."""
        rng = self.rng
        p = self.person(rng)
        dest = self.city(rng)
        subjects = [(p.first, False), (f"{p.first} and the other travellers", True),
                    ("the travellers", True), (f"the people of {dest.name}", True)]
        s = [pick(rng, fs.person_facts(p)["born"]),
             f"One {rng.choice(('spring', 'summer', 'autumn', 'winter'))}, {p.first} set out "
             f"for {dest.name}, a city in {dest.country.name}."]
        for _ in range(rng.randint(2, 6)):
            s.append(self.sentence("past", subjects))
        s += self._mix(fs.city_facts(dest), rng.randint(1, 2), subjects, "past", filler=0.3)
        if rng.random() < 0.5:
            s += self._mix(fs.country_facts(dest.country), 1, subjects, "past", filler=0.3)
        if rng.random() < 0.4:
            a = self.animal(rng)
            s.append(f"On the road, {p.first} saw {article(a.name)} {a.name}.")
            s.append(pick(rng, fs.animal_facts(a)[rng.choice(('habitat', 'food', 'colour'))]))
        s.append(self.sentence("past", subjects))
        return self._paragraphs(s)

    def quiz_doc(self) -> str:
        """Question and answer pairs, the way a revision sheet states facts."""
        rng = self.rng
        lines = [rng.choice(("Quiz", "Revision questions", "Test your knowledge",
                             "Questions and answers"))]
        seen = set()
        for _ in range(rng.randint(3, 7)):
            rel = rng.choice(fs.RELATIONS)
            ent = {"countries": self.country, "cities": self.city, "people": self.person,
                   "elements": self.element, "animals": self.animal, "plants": self.plant,
                   "rivers": self.river}[rel.entities](rng)
            q = _question(rel.name, rel.subject(ent))
            if q not in seen:
                seen.add(q)
                lines.append(f"Q: {q}\nA: {fs.canonical(rel.name, ent)}")
        return "\n\n".join(lines)

    def notes_doc(self) -> str:
        """Reference-card notes about a country."""
        rng = self.rng
        c = self.country(rng)
        rows = [("Capital", c.capital.name), ("Language", c.language),
                ("Main export", c.export), ("Climate", c.climate), ("Currency", c.currency),
                ("Longest river", c.river.name), ("Population", f"{c.population_m} million"),
                ("Founded", str(c.founded)), ("National animal", c.animal.name)]
        k = rng.randint(4, len(rows))
        chosen = rows[:2] + rng.sample(rows[2:], k - 2)
        text = f"{c.name}\n" + "\n".join(f"{key}: {value}" for key, value in chosen)
        return text + "\n\n" + pick(rng, fs.country_facts(c)["capital"])

    def compare_doc(self) -> str:
        rng = self.rng
        a = self.country(rng)
        b = self.country(rng)
        if a is b:
            return self.country_doc()
        key = rng.choice(("capital", "export", "climate", "language", "river"))
        fa, fb = fs.country_facts(a)[key], fs.country_facts(b)[key]
        subjects = [(f"the people of {a.name}", True), (f"the people of {b.name}", True)]
        s = [f"{a.name} and {b.name} are often compared.", pick(rng, fa), pick(rng, fb)]
        for _ in range(rng.randint(1, 4)):
            s.append(self.sentence("present", subjects))
        return self._paragraphs(s)

    def essay_doc(self) -> str:
        """A fact-free textbook paragraph on a general theme (pure grammar)."""
        rng = self.rng
        topic = self.grammar.abstract(rng)
        tense = rng.choice(("present", "past"))
        s = [rng.choice((f"This chapter is about {topic}.", f"What do we know about {topic}?",
                         f"{cap(topic)} has a long history.", f"On {topic}."))]
        for _ in range(rng.randint(4, 10)):
            s.append(self.sentence(tense))
        return self._paragraphs(s)


def _question(relation: str, subject: str) -> str:
    return {
        "capital": f"What is the capital of {subject}?",
        "export": f"What is the main export of {subject}?",
        "river": f"What is the longest river in {subject}?",
        "language": f"What language do the people of {subject} speak?",
        "climate": f"What is the climate of {subject} like?",
        "national_animal": f"What is the national animal of {subject}?",
        "city_country": f"In which country is {subject}?",
        "birth_city": f"Where was {subject} born?",
        "role": f"Who was {subject}?",
        "discoverer": f"Who first isolated {subject}?",
        "habitat": f"Where does the {subject} live?",
        "food": f"What does the {subject} eat?",
        "animal_colour": f"What colour is the {subject}?",
        "flower": f"What colour are the flowers of the {subject}?",
        "sea": f"Where does the {subject} flow?",
    }[relation]


def general_sentence_stream(world: World, seed: int, purpose: str) -> Iterator[str]:
    """Fresh sentences of the general text's kind (for the text-continuation cloze set)."""
    gen = GeneralText(world, seed, purpose)
    while True:
        for sentence in _split_sentences(next(gen.documents())):
            yield sentence


def _split_sentences(doc: str) -> list[str]:
    out = []
    for para in doc.split("\n"):
        start = 0
        for i, ch in enumerate(para):
            if ch in ".?" and (i + 1 == len(para) or para[i + 1] == " "):
                out.append(para[start:i + 1].strip())
                start = i + 1
        if para[start:].strip():
            out.append(para[start:].strip())
    return [s for s in out if s]
