"""Counting word-problem families: rates (speed and work), ages, sharing, running totals.

Same contract as `families_money.py`: `f(rng, level) -> Problem`, whole-number answers, steps
written from the same variables as the answer.
"""

from __future__ import annotations

import random

from evolm.synth.math.problem_kit import COUNTABLES, Problem, choose, fraction
from evolm.synth.people import people, person

VEHICLES = ("train", "bus", "car", "boat", "truck", "plane", "ferry", "van")
MOVERS = (("walks", "walk"), ("cycles", "cycle"), ("runs", "run"), ("rides", "ride"),
          ("drives", "drive"), ("rows", "row"), ("skates", "skate"))
MACHINES = (("machine", "toys"), ("printer", "pages"), ("bakery oven", "loaves"),
            ("robot", "boxes"), ("loom", "scarves"), ("factory line", "bottles"),
            ("press", "books"), ("pump", "litres of water"))


def rates(rng: random.Random, level: int) -> Problem:
    unit = choose(rng, "kilometres", "miles")
    if level == 1:
        kind = rng.randrange(3)
        s, t = rng.randint(3, 80), rng.randint(2, 9)
        if kind == 0:
            v = rng.choice(VEHICLES)
            text = f"A {v} travels at {s} {unit} per hour. How far does it travel in {t} hours?"
            return Problem("rates", 1, text, [f"Distance is speed times time: {s} * {t} = {s * t} {unit}."], s * t)
        if kind == 1:
            who = person(rng)
            moves, _ = rng.choice(MOVERS)
            s = rng.randint(3, 30)
            text = (f"{who.name} {moves} {s * t} {unit} in {t} hours at a steady pace. How many "
                    f"{unit} does {who.he} cover each hour?")
            return Problem("rates", 1, text, [f"Speed is distance divided by time: {s * t} / {t} = {s} {unit} per hour."], s)
        m, things = rng.choice(MACHINES)
        r, minutes = rng.randint(2, 30), rng.randint(2, 12)
        extra = rng.randint(1, 40)
        text = (f"A {m} makes {r} {things} every minute. It has already made {extra} {things}. "
                f"How many {things} will it have made after {minutes} more minutes?")
        return Problem("rates", 1, text, [f"In {minutes} minutes it makes {r} * {minutes} = {r * minutes} {things}.",
                                          f"In all that is {extra} + {r * minutes} = {extra + r * minutes} {things}."],
                       extra + r * minutes)
    if level == 2:
        if rng.random() < 0.5:
            v = rng.choice(VEHICLES)
            s1, t1, t2 = rng.randint(20, 90), rng.randint(1, 5), rng.randint(1, 5)
            s2 = rng.choice([s for s in range(20, 91) if s != s1])
            d1, d2 = s1 * t1, s2 * t2
            text = (f"A {v} travels at {s1} {unit} per hour for {_hours(t1)}, then at {s2} {unit} "
                    f"per hour for {_hours(t2)}. How many {unit} does it travel in total?")
            steps = [f"First part: {s1} * {t1} = {d1} {unit}.", f"Second part: {s2} * {t2} = {d2} {unit}.",
                     f"Total: {d1} + {d2} = {d1 + d2} {unit}."]
            return Problem("rates", 2, text, steps, d1 + d2)
        a, b = people(rng, 2)
        ra, rb = rng.randint(2, 9), rng.randint(2, 9)
        together, alone = rng.randint(2, 6), rng.randint(1, 5)
        things = choose(rng, "fences", "walls", "tables", "benches", "doors")
        text = (f"{a.name} paints {ra} {things} a day and {b.name} paints {rb} {things} a day. "
                f"They work together for {together} days, and then {a.name} works alone for "
                f"{alone} more days. How many {things} are painted in all?")
        steps = [f"Together they paint {ra} + {rb} = {ra + rb} {things} a day.",
                 f"In {together} days they paint {ra + rb} * {together} = {(ra + rb) * together}.",
                 f"Alone {a.name} paints {ra} * {alone} = {ra * alone}.",
                 f"In all {(ra + rb) * together} + {ra * alone} = {(ra + rb) * together + ra * alone} {things}."]
        return Problem("rates", 2, text, steps, (ra + rb) * together + ra * alone)
    # level 3: average speed over two legs, drawn so the average is whole
    v = rng.choice(VEHICLES)
    for _ in range(500):
        s1, t1, s2, t2 = rng.randint(20, 120), rng.randint(1, 6), rng.randint(20, 120), rng.randint(1, 6)
        d = s1 * t1 + s2 * t2
        if d % (t1 + t2) == 0 and s1 != s2:
            break
    else:  # pragma: no cover
        s1, t1, s2, t2 = 40, 2, 70, 1
        d = 150
    text = choose(rng,
                  f"A {v} travels for {_hours(t1)} at {s1} {unit} per hour and then for {_hours(t2)} at "
                  f"{s2} {unit} per hour. What is its average speed for the whole trip, in {unit} "
                  f"per hour?",
                  f"On a journey, a {v} goes {s1} {unit} per hour for {_hours(t1)} and then {s2} "
                  f"{unit} per hour for the next {_hours(t2)}. Find its average speed over the "
                  f"whole journey in {unit} per hour.")
    steps = [f"First part: {s1} * {t1} = {s1 * t1} {unit}.",
             f"Second part: {s2} * {t2} = {s2 * t2} {unit}.",
             f"Total distance: {s1 * t1} + {s2 * t2} = {d} {unit}.",
             f"Total time: {t1} + {t2} = {t1 + t2} hours.",
             f"Average speed: {d} / {t1 + t2} = {d // (t1 + t2)} {unit} per hour."]
    return Problem("rates", 3, text, steps, d // (t1 + t2))


def _hours(n: int) -> str:
    return "1 hour" if n == 1 else f"{n} hours"


def ages(rng: random.Random, level: int) -> Problem:
    if level == 1:
        a, b = people(rng, 2)
        age_b = rng.randint(3, 40)
        k = rng.randint(2, 30)
        kind = rng.randrange(3)
        if kind == 0:
            text = f"{b.name} is {age_b} years old. {a.name} is {k} years older than {b.name}. How old is {a.name}?"
            return Problem("ages", 1, text, [f"{a.name} is {age_b} + {k} = {age_b + k} years old."], age_b + k)
        if kind == 1:
            m = rng.randint(2, 4)
            age_b = rng.randint(2, 15)
            text = f"{a.name} is {m} times as old as {b.name}. If {b.name} is {age_b}, how old is {a.name}?"
            return Problem("ages", 1, text, [f"{a.name} is {m} * {age_b} = {m * age_b} years old."], m * age_b)
        text = (f"{b.name} is {age_b} years old and {a.name} is {k} years older. What is the sum "
                f"of their ages?")
        return Problem("ages", 1, text, [f"{a.name} is {age_b} + {k} = {age_b + k} years old.",
                                         f"The sum is {age_b} + {age_b + k} = {2 * age_b + k}."], 2 * age_b + k)
    if level == 2:
        a, b, c = people(rng, 3)
        age_b, k, n = rng.randint(3, 30), rng.randint(1, 15), rng.randint(2, 20)
        age_a = age_b + k
        age_c = 2 * age_a
        text = choose(rng,
                      f"{a.name} is {k} years older than {b.name}, and {c.name} is twice as old as "
                      f"{a.name}. {b.name} is {age_b}. How old will {c.name} be in {n} years?",
                      f"{b.name} is {age_b} years old. {a.name} was born {k} years before {b.name}. "
                      f"{c.name}'s age is double {a.name}'s age. What will {c.name}'s age be "
                      f"{n} years from now?",
                      f"{c.name} is twice as old as {a.name}, who is {k} years older than "
                      f"{b.name}. If {b.name} is {age_b} now, how old will {c.name} be in {n} years?")
        steps = [f"{a.name} is {age_b} + {k} = {age_a}.", f"{c.name} is 2 * {age_a} = {age_c}.",
                 f"In {n} years {c.name} will be {age_c} + {n} = {age_c + n}."]
        return Problem("ages", 2, text, steps, age_c + n)
    a, b, c, d = people(rng, 4)
    for _ in range(200):
        n, future = rng.randint(2, 15), rng.randint(20, 70)
        age_a = future - n
        k = rng.randint(1, 15)
        age_b = age_a - k
        m = rng.randint(2, 3)
        j = rng.randint(1, 25)
        if age_b < 2:
            continue
        age_c = m * age_b
        age_d = age_c + j
        break
    else:  # pragma: no cover - the bounds make this practically unreachable
        raise RuntimeError("no ages problem found")
    total = age_a + age_b + age_c + age_d
    text = choose(rng,
                  f"In {n} years, {a.name} will be {future} years old. {b.name} is {k} years younger "
                  f"than {a.name}. {c.name} is {m} times as old as {b.name}, and {d.name} is {j} years "
                  f"older than {c.name}. What is the total of their four ages now?",
                  f"{a.name} will turn {future} in {n} years. {b.name} is {k} years younger than "
                  f"{a.name}, {c.name} is {m} times {b.name}'s age, and {d.name} is {j} years older "
                  f"than {c.name}. Find the sum of the ages of all four today.")
    steps = [f"{a.name} is {future} - {n} = {age_a} now.", f"{b.name} is {age_a} - {k} = {age_b}.",
             f"{c.name} is {m} * {age_b} = {age_c}.", f"{d.name} is {age_c} + {j} = {age_d}.",
             f"The total is {age_a} + {age_b} + {age_c} + {age_d} = {total}."]
    return Problem("ages", 3, text, steps, total)


def sharing(rng: random.Random, level: int) -> Problem:
    who = person(rng)
    things = rng.choice(COUNTABLES)
    if level == 1:
        k, each = rng.randint(2, 9), rng.randint(2, 12)
        if rng.random() < 0.5:
            text = (f"{who.name} has {k * each} {things} and shares them equally among {k} "
                    f"friends. How many {things} does each friend get?")
            return Problem("sharing", 1, text, [f"Each friend gets {k * each} / {k} = {each} {things}."], each)
        keep = rng.randint(1, 15)
        text = (f"{who.name} has {k * each + keep} {things}. {who.He} keeps {keep} and shares the "
                f"rest equally among {k} friends. How many does each friend get?")
        return Problem("sharing", 1, text, [f"{who.He} shares {k * each + keep} - {keep} = {k * each} {things}.",
                                            f"Each friend gets {k * each} / {k} = {each}."], each)
    if level == 2:
        trays, per = rng.randint(2, 8), rng.randint(6, 24)
        k = rng.randint(2, 8)
        total = trays * per
        eat = total % k + k * rng.randint(0, 2)
        if eat >= total:
            eat = total % k
        rest = total - eat
        baked = choose(rng, "cookies", "muffins", "rolls", "cupcakes")
        text = (f"{who.name} bakes {trays} trays of {baked} with {per} on each tray. {who.He} "
                f"keeps {eat} for the family and packs the rest into bags of {k}. How many bags "
                f"does {who.he} fill?")
        steps = [f"{who.He} bakes {trays} * {per} = {total} {baked}.",
                 f"After keeping {eat}, {total} - {eat} = {rest} are left.",
                 f"That fills {rest} / {k} = {rest // k} bags."]
        return Problem("sharing", 2, text, steps, rest // k)
    classes, size = rng.randint(3, 12), rng.randint(18, 32)
    absent = rng.randint(1, 12)
    cap = rng.choice((20, 25, 30, 40, 45, 50))
    going = classes * size - absent
    q, r = divmod(going, cap)
    if r == 0:
        absent += 1
        going -= 1
        q, r = divmod(going, cap)
    buses = q + 1
    price = rng.randint(60, 250)
    text = choose(rng,
                  f"A school has {classes} classes with {size} students in each. On the day of a "
                  f"trip, {absent} students are absent. Each bus holds {cap} students and costs "
                  f"${price} to hire. How much does the school pay for buses?",
                  f"There are {classes} classes of {size} students going on a field trip, but "
                  f"{absent} students stay home sick. A bus seats {cap} students and renting one "
                  f"costs ${price}. What is the total cost of the buses needed?")
    steps = [f"There are {classes} * {size} = {classes * size} students.",
             f"{classes * size} - {absent} = {going} students go on the trip.",
             f"{going} / {cap} = {q} with remainder {r}.",
             f"So {q} full buses are not enough and {q} + 1 = {buses} buses are needed.",
             f"The cost is {buses} * {price} = ${buses * price}."]
    return Problem("sharing", 3, text, steps, buses * price)


def totals(rng: random.Random, level: int) -> Problem:
    who = person(rng)
    things = rng.choice(COUNTABLES)
    verb = choose(rng, "collected", "picked", "sold", "found", "made", "counted")
    if level == 1:
        a, b = rng.randint(3, 60), rng.randint(3, 60)
        if rng.random() < 0.5:
            text = (f"{who.name} {verb} {a} {things} on Monday and {b} {things} on Tuesday. How "
                    f"many {things} did {who.he} {_base(verb)} in all?")
            return Problem("totals", 1, text, [f"{a} + {b} = {a + b} {things}."], a + b)
        text = (f"{who.name} {verb} {a} {things} in the morning and twice as many in the "
                f"afternoon. How many {things} did {who.he} {_base(verb)} that day?")
        return Problem("totals", 1, text, [f"In the afternoon: 2 * {a} = {2 * a}.",
                                           f"In all: {a} + {2 * a} = {3 * a}."], 3 * a)
    if level == 2:
        mon = rng.randint(5, 40) * 2
        more = rng.randint(2, 30) * 2
        tue = mon + more
        wed = tue // 2
        text = choose(rng,
                      f"On Monday {who.name} {verb} {mon} {things}. On Tuesday {who.he} {verb} {more} "
                      f"more than on Monday. On Wednesday {who.he} {verb} half as many as on Tuesday. "
                      f"How many {things} did {who.he} {_base(verb)} over the three days?",
                      f"{who.name} {verb} {mon} {things} on the first day, {more} more than that on "
                      f"the second day, and half of the second day's amount on the third day. What "
                      f"is the total for the three days?")
        steps = [f"Tuesday: {mon} + {more} = {tue}.", f"Wednesday: {tue} / 2 = {wed}.",
                 f"Total: {mon} + {tue} + {wed} = {mon + tue + wed}."]
        return Problem("totals", 2, text, steps, mon + tue + wed)
    weekly, weeks = rng.randint(5, 40), rng.randint(4, 20)
    saved = weekly * weeks
    cost = rng.randint(10, saved - 10)
    rest = saved - cost
    num, den, words = fraction(rng, simple=True)
    rest -= rest % den
    cost = saved - rest
    given = rest * num // den
    left = rest - given
    gift = rng.randint(5, 60)
    thing = choose(rng, "a new bike", "a tablet", "a guitar", "a tent", "a pair of skates")
    text = choose(rng,
                  f"{who.name} saves ${weekly} every week for {weeks} weeks. {who.He} spends ${cost} "
                  f"on {thing} and gives {words} of what is left to {who.his} brother. Then "
                  f"{who.his} aunt gives {who.him} ${gift}. How much money does {who.name} have now?",
                  f"For {weeks} weeks, {who.name} puts ${weekly} a week into a jar. {who.He} takes "
                  f"${cost} out to buy {thing}, then donates {words} of the remaining money to a "
                  f"charity. Later {who.he} receives ${gift} as a gift. How many dollars does "
                  f"{who.he} have?")
    steps = [f"{who.He} saves {weekly} * {weeks} = ${saved}.",
             f"After buying {thing} {who.he} has {saved} - {cost} = ${rest}.",
             f"{words.capitalize()} of {rest} is {rest} * {num} / {den} = ${given}.",
             f"{who.He} keeps {rest} - {given} = ${left}.",
             f"With the gift {who.he} has {left} + {gift} = ${left + gift}."]
    return Problem("totals", 3, text, steps, left + gift)


def _base(past_verb: str) -> str:
    return {"collected": "collect", "picked": "pick", "sold": "sell", "found": "find",
            "made": "make", "counted": "count"}[past_verb]


FAMILIES = {"rates": rates, "ages": ages, "sharing": sharing, "totals": totals}
