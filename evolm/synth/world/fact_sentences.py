"""How world facts are worded: the canonical cloze form of each relation, and its paraphrases.

The cloze set asks "The capital of Varnia is" -> "Talos"; the general text must say exactly
"The capital of Varnia is Talos." often enough to be learnable, and also say it in other words so
the text is not a table in disguise. Keeping both in one place keeps them from drifting apart.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from evolm.synth.text import article, plural
from evolm.synth.world import lexicon as lx


@dataclasses.dataclass(frozen=True)
class Relation:
    """A fact type with a cloze form: `query.format(s=subject)` + " " + answer."""

    name: str
    entities: str  # attribute of World holding the subjects
    query: str
    subject: Callable  # entity -> subject string
    answer: Callable  # entity -> answer string
    values: Callable  # world -> every possible answer (the distractor pool), in a stable order


def _names(items) -> list[str]:
    return list(dict.fromkeys(items))


RELATIONS: tuple[Relation, ...] = (
    Relation("capital", "countries", "The capital of {s} is", lambda c: c.name,
             lambda c: c.capital.name, lambda w: _names(c.capital.name for c in w.countries)),
    Relation("export", "countries", "The main export of {s} is", lambda c: c.name,
             lambda c: c.export, lambda w: list(lx.GOODS)),
    Relation("river", "countries", "The longest river in {s} is the", lambda c: c.name,
             lambda c: c.river.name, lambda w: _names(r.name for r in w.rivers)),
    Relation("language", "countries", "The people of {s} speak", lambda c: c.name,
             lambda c: c.language, lambda w: _names(c.language for c in w.countries)),
    Relation("climate", "countries", "The climate of {s} is", lambda c: c.name,
             lambda c: c.climate, lambda w: list(lx.CLIMATES)),
    Relation("national_animal", "countries", "The national animal of {s} is the",
             lambda c: c.name, lambda c: c.animal.name,
             lambda w: _names(a.name for a in w.animals)),
    Relation("city_country", "cities", "{s} is a city in", lambda y: y.name,
             lambda y: y.country.name, lambda w: _names(c.name for c in w.countries)),
    Relation("birth_city", "people", "{s} was born in the city of", lambda p: p.name,
             lambda p: p.birth_city.name, lambda w: _names(y.name for y in w.cities)),
    Relation("role", "people", "{s} was a famous", lambda p: p.name, lambda p: p.role,
             lambda w: list(lx.ROLES)),
    Relation("discoverer", "elements", "{s} was first isolated by the chemist", lambda e: e.name,
             lambda e: e.discoverer.name,
             lambda w: _names(p.name for p in w.people if p.role == "chemist")),
    Relation("habitat", "animals", "The {s} lives in", lambda a: a.name, lambda a: a.habitat,
             lambda w: list(lx.HABITATS)),
    Relation("food", "animals", "The {s} feeds mainly on", lambda a: a.name, lambda a: a.food,
             lambda w: list(lx.FOODS)),
    Relation("animal_colour", "animals", "The colour of the {s} is", lambda a: a.name,
             lambda a: a.colour, lambda w: list(lx.COLOURS)),
    Relation("flower", "plants", "The flowers of the {s} are", lambda p: p.name,
             lambda p: p.flower, lambda w: list(lx.COLOURS)),
    Relation("sea", "rivers", "The {s} flows into the", lambda r: r.name, lambda r: r.sea,
             lambda w: list(w.seas)),
)
BY_NAME = {r.name: r for r in RELATIONS}


def canonical(relation: str, entity) -> str:
    """The cloze form as a full sentence: 'The capital of Varnia is Talos.'"""
    r = BY_NAME[relation]
    return f"{r.query.format(s=r.subject(entity))} {r.answer(entity)}."


def population_k(k: int) -> str:
    """'about 2.3 million' / 'about 640 thousand' from a count in thousands."""
    if k >= 1000:
        return f"about {k / 1000:.1f} million"
    return f"about {k} thousand"


# Paraphrases per fact. Each function returns the alternatives; the caller picks the canonical
# first one about half of the time (so the cloze form dominates but is not the only wording).

def country_facts(c) -> dict[str, list[str]]:
    n, cap_, r = c.name, c.capital.name, c.river.name
    nb1, nb2 = c.neighbours[0].name, c.neighbours[1].name
    return {
        "capital": [canonical("capital", c), f"{cap_} is the capital of {n}.",
                    f"{cap_}, the capital of {n}, is also its largest city.",
                    f"The government of {n} meets in {cap_}, the capital.",
                    f"Most visitors to {n} arrive first in {cap_}, its capital."],
        "river": [canonical("river", c), f"The {r} is the longest river in {n}.",
                  f"The {r}, the longest river in {n}, flows into the {c.river.sea}.",
                  f"No river in {n} is longer than the {r}."],
        "export": [canonical("export", c), f"{n} is best known abroad for its {c.export}.",
                   f"Merchants from {n} trade mainly in {c.export}, the country's main export.",
                   f"{c.export.capitalize()} is the main export of {n}."],
        "climate": [canonical("climate", c), f"{n} has {article(c.climate)} {c.climate} climate.",
                    f"The weather in {n} is {c.climate} for most of the year."],
        "language": [canonical("language", c), f"{c.language} is the language of {n}.",
                     f"The official language of {n} is {c.language}.",
                     f"Most people in {n} speak {c.language} at home."],
        "currency": [f"The currency of {n} is the {c.currency}.",
                     f"In {n}, people pay with the {c.currency}."],
        "founded": [f"{n} was founded in {c.founded}.",
                    f"The state of {n} dates from {c.founded}."],
        "population": [f"About {c.population_m} million people live in {n}.",
                       f"{n} has a population of about {c.population_m} million."],
        "neighbours": [f"{n} shares a border with {nb1} and {nb2}.",
                       f"{n} borders both {nb1} and {nb2}."],
        "national_animal": [canonical("national_animal", c),
                            f"The {c.animal.name} is the national animal of {n}."],
        "mountains": [f"The {c.mountains} stretch across {n}.",
                      f"The {r} rises in the {c.mountains}."],
    }


def city_facts(y) -> dict[str, list[str]]:
    n, c = y.name, y.country.name
    out = {
        "country": [canonical("city_country", y), f"The city of {n} lies in {c}.",
                    f"{n} is one of the cities of {c}."],
        "population": [f"{n} has {population_k(y.population_k)} inhabitants.",
                       f"{population_k(y.population_k).capitalize()} people live in {n}."],
        "known_for": [f"{n} is known for {y.known_for}.", f"{n} is famous for {y.known_for}."],
        "founded": [f"{n} was founded in {y.founded}.", f"The city of {n} dates from {y.founded}."],
    }
    if y.is_capital:
        out["capital"] = [f"{n} is the capital of {c}.", canonical("capital", y.country)]
    return out


def person_facts(p) -> dict[str, list[str]]:
    n, y = p.name, p.birth_city
    return {
        "born": [canonical("birth_city", p), f"{n} was born in {y.name} in {p.born}.",
                 f"{n} was born in {y.name}, a city in {y.country.name}."],
        "role": [canonical("role", p), f"{n} was {article(p.role)} {p.role} from {y.name}.",
                 f"{n} ({p.born}-{p.died}) was {article(p.role)} {p.role}."],
        "died": [f"{n} died in {p.died}.", f"{n} lived from {p.born} to {p.died}."],
        "work": [f"{n} is remembered for {p.work}.", f"{n} is best known for {p.work}."],
    }


def animal_facts(a) -> dict[str, list[str]]:
    n = a.name
    return {
        "habitat": [canonical("habitat", a), f"The {n} is found in {a.habitat}.",
                    f"Most {plural(n)} live in {a.habitat}."],
        "food": [canonical("food", a), f"The {n} eats mostly {a.food}.",
                 f"{plural(n).capitalize()} feed mainly on {a.food}."],
        "colour": [canonical("animal_colour", a), f"The {n} is {a.colour} in colour.",
                   f"Most {plural(n)} are {a.colour}."],
        "legs": [f"The {n} has {a.legs} legs.", f"Every {n} walks on {a.legs} legs."],
        "lifespan": [f"The {n} can live for {a.lifespan} years.",
                     f"{article(n).capitalize()} {n} may live as long as {a.lifespan} years."],
        "country": [f"The {n} is native to {a.country.name}.",
                    f"The {n} comes from {a.country.name}."],
    }


def plant_facts(p) -> dict[str, list[str]]:
    n = p.name
    return {
        "flower": [canonical("flower", p), f"The {n} has {p.flower} flowers.",
                   f"In spring the {n} opens {p.flower} flowers."],
        "climate": [f"The {n} grows best in {article(p.climate)} {p.climate} climate.",
                    f"The {n} prefers {article(p.climate)} {p.climate} climate."],
        "use": [f"The {n} is used for {p.use}.", f"People grow the {n} for {p.use}."],
        "height": [f"The {n} can grow {p.height_cm} centimetres tall.",
                   f"A full-grown {n} is about {p.height_cm} centimetres tall."],
        "country": [f"The {n} is native to {p.country.name}.",
                    f"The {n} first grew wild in {p.country.name}."],
        "described": [f"The {n} was first described by the botanist {p.described_by.name}.",
                      f"The botanist {p.described_by.name} first described the {n}."],
    }


def element_facts(e) -> dict[str, list[str]]:
    n = e.name
    return {
        "discoverer": [canonical("discoverer", e), f"The chemist {e.discoverer.name} first "
                       f"isolated {n} in {e.year}.", f"{n} was discovered by {e.discoverer.name}."],
        "symbol": [f"{n} is a chemical element with the symbol {e.symbol}.",
                   f"The chemical symbol of {n} is {e.symbol}."],
        "number": [f"The atomic number of {n} is {e.number}.",
                   f"{n} has atomic number {e.number}."],
        "year": [f"{n} was discovered in {e.year}.", f"{n} has been known since {e.year}."],
        "state": [f"At room temperature {n} is {article(e.state)} {e.state}.",
                  f"Pure {n} is {article(e.state)} {e.state}."],
        "colour": [f"Pure {n} is {e.colour}.", f"{n} has {article(e.colour)} {e.colour} colour."],
    }


def river_facts(r) -> dict[str, list[str]]:
    n = r.name
    return {
        "length": [f"The {n} is {r.length_km} kilometres long.",
                   f"The {n} runs for {r.length_km} kilometres."],
        "sea": [canonical("sea", r), f"The {n} empties into the {r.sea}."],
        "source": [f"The {n} rises in the {r.source}.", f"The source of the {n} is in the {r.source}."],
        "country": [f"The {n} flows through {r.country.name}.",
                    f"The {n} is the longest river in {r.country.name}."],
        "mapped": [f"The {n} was first mapped by the explorer {r.mapped_by.name}.",
                   f"The explorer {r.mapped_by.name} was the first to map the {n}."],
    }
