"""SynthFacts: StrategyQA-style True/False questions that need 1-2 hops over numbered facts.

The facts are true statements about the seeded WORLD (the same facts the general text states),
so a model could also know them from pre-training, but everything needed is given in the prompt,
as in the paper's StrategyQA files. Each kind aims at the label the balanced schedule asks for,
then computes the answer from the world's own values; a mismatch is discarded.
"""

from __future__ import annotations

import random

from evolm.synth.rng import balanced_schedule, make_rng
from evolm.synth.text import article, plural
from evolm.synth.world import fact_sentences as fs
from evolm.synth.world import lexicon as lx
from evolm.synth.world.entities import World

PROMPT = ("You are given the following facts:\n{facts}\n\nBased on the facts above, answer the "
          "following question. Your final answer should be either \"True\" or \"False\".\n{question}")


def _other(rng: random.Random, pool, not_this):
    return rng.choice([x for x in pool if x != not_this])


def capital_export(rng, w: World, want: bool):
    c = rng.choice(w.countries)
    g = c.export if want else _other(rng, lx.GOODS, c.export)
    return ([f"{c.capital.name} is the capital of {c.name}.", fs.canonical("export", c)],
            f"Is {g} the main export of the country whose capital is {c.capital.name}?", g == c.export)


def born_country(rng, w: World, want: bool):
    p = rng.choice(w.people)
    c = p.birth_city.country if want else _other(rng, w.countries, p.birth_city.country)
    return ([fs.canonical("birth_city", p), fs.canonical("city_country", p.birth_city)],
            f"Was {p.name} born in {c.name}?", c is p.birth_city.country)


def discoverer_country(rng, w: World, want: bool):
    e = rng.choice(w.elements)
    p = e.discoverer
    c = p.birth_city.country if want else _other(rng, w.countries, p.birth_city.country)
    return ([fs.canonical("discoverer", e), fs.canonical("birth_city", p),
             fs.canonical("city_country", p.birth_city)],
            f"Was {e.name} first isolated by someone born in {c.name}?",
            c is p.birth_city.country)


def river_length(rng, w: World, want: bool):
    while True:
        c = rng.choice(w.countries)
        r2 = rng.choice(w.rivers)
        r1 = c.river
        if r1 is not r2 and r1.length_km != r2.length_km and (r1.length_km > r2.length_km) == want:
            break
    return ([fs.canonical("river", c), f"The {r1.name} is {r1.length_km} kilometres long.",
             f"The {r2.name} is {r2.length_km} kilometres long."],
            f"Is the longest river in {c.name} longer than the {r2.name}?", r1.length_km > r2.length_km)


def animal_climate(rng, w: World, want: bool):
    a = rng.choice(w.animals)
    clim = a.country.climate if want else _other(rng, lx.CLIMATES, a.country.climate)
    return ([f"The {a.name} is native to {a.country.name}.", fs.canonical("climate", a.country)],
            f"Is the {a.name} native to a country with {article(clim)} {clim} climate?",
            clim == a.country.climate)


def alive_at_discovery(rng, w: World, want: bool):
    while True:
        p = rng.choice(w.people)
        e = rng.choice(w.elements)
        if (p.born <= e.year <= p.died) == want:
            break
    return ([f"{p.name} lived from {p.born} to {p.died}.", f"{e.name} was discovered in {e.year}."],
            f"Was {p.name} alive when {e.name} was discovered?", p.born <= e.year <= p.died)


def legs(rng, w: World, want: bool):
    a = rng.choice(w.animals)
    k = rng.randint(2, 9)
    total = k * a.legs
    m = total - rng.randint(1, 6) if want else total + rng.randint(0, 6)
    return ([f"The {a.name} has {a.legs} legs."],
            f"Do {k} {plural(a.name)} have more than {m} legs in total?", k * a.legs > m)


def capital_population(rng, w: World, want: bool):
    while True:
        c = rng.choice(w.countries)
        y = rng.choice(w.cities)
        if y is not c.capital and y.population_k != c.capital.population_k and \
                (c.capital.population_k > y.population_k) == want:
            break
    return ([fs.canonical("capital", c),
             f"{c.capital.name} has {fs.population_k(c.capital.population_k)} inhabitants.",
             f"{y.name} has {fs.population_k(y.population_k)} inhabitants."],
            f"Does the capital of {c.name} have more inhabitants than {y.name}?",
            c.capital.population_k > y.population_k)


def city_language(rng, w: World, want: bool):
    y = rng.choice(w.cities)
    c = y.country
    lang = c.language if want else _other(rng, [x.language for x in w.countries], c.language)
    return ([fs.canonical("language", c), fs.canonical("city_country", y)],
            f"Do the people of {y.name} speak {lang}?", lang == c.language)


def plant_in_country(rng, w: World, want: bool):
    while True:
        p = rng.choice(w.plants)
        c = rng.choice(w.countries)
        if (p.climate == c.climate) == want:
            break
    return ([f"The {p.name} grows best in {article(p.climate)} {p.climate} climate.",
             fs.canonical("climate", c)],
            f"Does {c.name} have the climate in which the {p.name} grows best?", p.climate == c.climate)


KINDS = (capital_export, born_country, discoverer_country, river_length, animal_climate,
         alive_at_discovery, legs, capital_population, city_language, plant_in_country)


def _distractor(rng: random.Random, w: World) -> str:
    rel = rng.choice(fs.RELATIONS)
    return fs.canonical(rel.name, rng.choice(getattr(w, rel.entities)))


def synth_facts_rows(world: World, seed: int, n: int) -> list[dict]:
    rng = make_rng(seed, "synth-facts")
    labels = balanced_schedule(rng, (True, False), n)
    rows, seen = [], set()
    while len(rows) < n:
        want = labels[len(rows)]
        facts, question, answer = rng.choice(KINDS)(rng, world, want)
        if answer != want:  # pragma: no cover - each kind aims at `want`; the world decides
            continue
        if rng.random() < 0.3:  # an irrelevant (true) fact, as StrategyQA's lists sometimes have
            facts.insert(rng.randint(0, len(facts)), _distractor(rng, world))
        problem = PROMPT.format(facts="\n".join(f"{j + 1}. {f}" for j, f in enumerate(facts)),
                                question=question)
        if problem in seen:
            continue
        seen.add(problem)
        label = "True" if answer else "False"
        rows.append({"id": f"SynthFacts-{len(rows):04d}", "problem": problem,
                     "gt_solution": label, "gt_answer": label})
    return rows
