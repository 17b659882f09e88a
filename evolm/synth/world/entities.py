"""The seeded WORLD: one consistent knowledge base shared by the general text, the fact cloze set
and the StrategyQA-like fact questions.

Every fact any file states comes from here, so documents never contradict each other and a cloze
item's gold answer is exactly what the pre-training text said. The world depends on the seed only,
not on the scale, so tiny/small/full runs with one seed describe the same world. List order is
popularity rank: documents pick their subjects with Zipf weights over these lists, so early
entities are mentioned often and late ones rarely.
"""

from __future__ import annotations

import dataclasses
import random

from evolm.synth.rng import make_rng, shuffled
from evolm.synth.world import lexicon as lx
from evolm.synth.world.names import NameMaker, demonym

N_COUNTRIES = 48
CITIES_PER_COUNTRY = 4  # the capital plus three others
N_PEOPLE = 260
N_ANIMALS = 120
N_PLANTS = 100
N_ELEMENTS = 40
N_SEAS = 10
N_MOUNTAINS = 24


@dataclasses.dataclass(eq=False)
class Country:
    name: str
    language: str = ""
    capital: "City" = None
    cities: list = dataclasses.field(default_factory=list)
    river: "River" = None
    export: str = ""
    climate: str = ""
    currency: str = ""
    founded: int = 0
    population_m: int = 0  # millions
    neighbours: list = dataclasses.field(default_factory=list)
    animal: "Animal" = None  # national animal
    mountains: str = ""


@dataclasses.dataclass(eq=False)
class City:
    name: str
    country: Country
    population_k: int  # thousands
    known_for: str
    founded: int
    is_capital: bool = False


@dataclasses.dataclass(eq=False)
class River:
    name: str
    country: Country
    length_km: int
    sea: str
    source: str  # mountain range
    mapped_by: "Person" = None


@dataclasses.dataclass(eq=False)
class Person:
    first: str
    last: str
    role: str
    birth_city: City
    born: int
    died: int
    work: str = ""  # what they are known for, phrased for "known for ..."

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclasses.dataclass(eq=False)
class Animal:
    name: str  # lowercase common noun: "the tolvek"
    habitat: str
    food: str
    colour: str
    legs: int
    lifespan: int
    country: Country


@dataclasses.dataclass(eq=False)
class Plant:
    name: str
    flower: str  # flower colour
    climate: str
    use: str
    height_cm: int
    country: Country
    described_by: Person = None


@dataclasses.dataclass(eq=False)
class Element:
    name: str
    symbol: str
    number: int
    state: str
    colour: str
    discoverer: Person
    year: int


@dataclasses.dataclass(eq=False)
class World:
    seed: int
    countries: list
    cities: list
    rivers: list
    people: list
    animals: list
    plants: list
    elements: list
    seas: list
    mountains: list

    def stats(self) -> dict:
        return {k: len(getattr(self, k)) for k in
                ("countries", "cities", "rivers", "people", "animals", "plants", "elements")}


def build_world(seed: int) -> World:
    """Generate the whole knowledge base from the seed (about 1,100 named entities)."""
    rng = make_rng(seed, "world")
    names = NameMaker(make_rng(seed, "world-names"))

    seas = [f"{names.make('sea', (1, 2), max_len=8)} Sea" for _ in range(N_SEAS)]
    mountains = [f"{names.make('mountains', (1, 2), max_len=9)} Mountains" for _ in range(N_MOUNTAINS)]

    countries: list[Country] = []
    languages: set[str] = set()
    for _ in range(N_COUNTRIES):
        c = Country(names.make("country", (1, 2), max_len=9))
        lang = demonym(c.name)
        while lang in languages:  # two names with one stem would share a language name
            lang = lang + "i"
        languages.add(lang)
        c.language = lang
        c.export = rng.choice(lx.GOODS)
        c.climate = rng.choice(lx.CLIMATES)
        c.currency = names.make("currency", (1, 2), capital=False)
        c.founded = rng.randint(610, 1890)
        c.population_m = rng.randint(1, 95)
        c.mountains = rng.choice(mountains)
        countries.append(c)

    cities: list[City] = []
    for c in countries:
        sizes = sorted((rng.randint(20, 900) for _ in range(CITIES_PER_COUNTRY)), reverse=True)
        sizes[0] += rng.randint(400, 2500)  # the capital is always the largest city
        for i, size in enumerate(sizes):
            city = City(names.make("city", (1, 2), max_len=9), c, size, rng.choice(lx.CRAFTS),
                        rng.randint(c.founded - 600, c.founded + 100), is_capital=(i == 0))
            c.cities.append(city)
            cities.append(city)
        c.capital = c.cities[0]

    for c in countries:
        others = [o for o in countries if o is not c]
        c.neighbours = rng.sample(others, 2)

    rivers = []
    for c in countries:
        r = River(names.make("river", (1, 2), max_len=8), c, rng.randint(9, 420) * 10, rng.choice(seas),
                  c.mountains)
        c.river = r
        rivers.append(r)

    people: list[Person] = []
    roles = [lx.ROLES[i % len(lx.ROLES)] for i in range(N_PEOPLE)]
    rng.shuffle(roles)
    for role in roles:
        city = rng.choice(cities)
        born = rng.randint(1500, 1950)
        p = Person(names.make("given", (1, 2), max_len=7), names.make("family", (1, 2), max_len=9), role, city, born,
                   born + rng.randint(35, 92))
        people.append(p)

    animals = []
    for _ in range(N_ANIMALS):
        animals.append(Animal(names.make("animal", (1, 2), capital=False, max_len=8), rng.choice(lx.HABITATS),
                              rng.choice(lx.FOODS), rng.choice(lx.COLOURS),
                              rng.choice((2, 4, 4, 4, 6, 8)), rng.randint(2, 60),
                              rng.choice(countries)))
    for c in countries:
        c.animal = rng.choice(animals)

    botanists = [p for p in people if p.role == "botanist"]
    plants = []
    for _ in range(N_PLANTS):
        plants.append(Plant(names.make("plant", (1, 1), capital=False, max_len=10), rng.choice(lx.COLOURS),
                            rng.choice(lx.CLIMATES), rng.choice(lx.PLANT_USES),
                            rng.randint(5, 400), rng.choice(countries), rng.choice(botanists)))

    chemists = [p for p in people if p.role == "chemist"]
    elements = []
    numbers = shuffled(rng, range(1, N_ELEMENTS + 1))
    symbols: set[str] = set()
    for i in range(N_ELEMENTS):
        name = names.make("element", (1, 2), max_len=9)
        symbol = _symbol(name, symbols)
        who = rng.choice(chemists)
        year = rng.randint(who.born + 20, max(who.born + 21, who.died - 1))
        elements.append(Element(name, symbol, numbers[i], rng.choice(lx.ELEMENT_STATES),
                                rng.choice(lx.COLOURS), who, year))

    explorers = [p for p in people if p.role == "explorer"]
    for r in rivers:
        r.mapped_by = rng.choice(explorers)

    _assign_work(rng, people, elements, plants, rivers)

    # Popularity order: shuffle each list so rank (and hence mention frequency) is seeded.
    return World(seed, shuffled(rng, countries), shuffled(rng, cities), shuffled(rng, rivers),
                 shuffled(rng, people), shuffled(rng, animals), shuffled(rng, plants),
                 shuffled(rng, elements), seas, mountains)


def _symbol(name: str, used: set[str]) -> str:
    """A chemical symbol: first letter plus a later letter, unique in the world."""
    for ch in name[1:]:
        sym = name[0].upper() + ch.lower()
        if sym not in used:
            used.add(sym)
            return sym
    sym = name[:1].upper() + str(len(used))
    used.add(sym)
    return sym


def _assign_work(rng: random.Random, people, elements, plants, rivers) -> None:
    """One 'known for' phrase per person, consistent with the discoveries assigned above."""
    found = {}
    for e in elements:
        found.setdefault(id(e.discoverer), f"the discovery of {e.name}")
    for p in plants:
        found.setdefault(id(p.described_by), f"the first description of the {p.name}")
    for r in rivers:
        found.setdefault(id(r.mapped_by), f"mapping the {r.name} river")
    for p in people:
        if id(p) in found:
            p.work = found[id(p)]
            continue
        adj = rng.choice(lx.ADJECTIVES)
        noun = rng.choice(lx.THINGS)
        p.work = {
            "poet": f"the poem The {adj.capitalize()} {noun.capitalize()}",
            "painter": f"the painting The {adj.capitalize()} {noun.capitalize()}",
            "composer": f"the song of the {adj} {noun}",
            "architect": f"the {adj} tower of {p.birth_city.name}",
            "astronomer": f"a catalogue of {rng.randint(3, 90) * 10} stars",
            "mathematician": f"a book on the {rng.choice(('prime numbers', 'circles', 'triangles', 'fractions', 'square roots', 'angles'))}",
            "physician": f"a cure for the {adj} fever",
            "historian": f"a history of {p.birth_city.country.name}",
            "engineer": f"the {adj} bridge of {p.birth_city.name}",
        }.get(p.role, f"a study of {rng.choice(lx.ABSTRACTS)}")
