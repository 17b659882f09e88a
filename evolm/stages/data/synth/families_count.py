"""Counting and measuring word-problem families: rates, ages, sharing, areas, running totals,
linear equations, fractions of a quantity, averages.

Same contract as `families_money.py`: `f(rng, level) -> Problem`, whole-number answers, steps
written from the same variables as the answer.
"""

from __future__ import annotations

import random

from .problem_kit import COUNTABLES, GOODS, Problem, choose, fraction, multiple_of, people, person

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
    text = (f"A {v} travels for {_hours(t1)} at {s1} {unit} per hour and then for {_hours(t2)} at "
            f"{s2} {unit} per hour. What is its average speed for the whole trip, in {unit} "
            f"per hour?")
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
        text = (f"{a.name} is {k} years older than {b.name}, and {c.name} is twice as old as "
                f"{a.name}. {b.name} is {age_b}. How old will {c.name} be in {n} years?")
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
    text = (f"In {n} years, {a.name} will be {future} years old. {b.name} is {k} years younger "
            f"than {a.name}. {c.name} is {m} times as old as {b.name}, and {d.name} is {j} years "
            f"older than {c.name}. What is the total of their four ages now?")
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
    text = (f"A school has {classes} classes with {size} students in each. On the day of a "
            f"trip, {absent} students are absent. Each bus holds {cap} students and costs "
            f"${price} to hire. How much does the school pay for buses?")
    steps = [f"There are {classes} * {size} = {classes * size} students.",
             f"{classes * size} - {absent} = {going} students go on the trip.",
             f"{going} / {cap} = {q} with remainder {r}.",
             f"So {q} full buses are not enough and {q} + 1 = {buses} buses are needed.",
             f"The cost is {buses} * {price} = ${buses * price}."]
    return Problem("sharing", 3, text, steps, buses * price)


def geometry(rng: random.Random, level: int) -> Problem:
    what = choose(rng, "garden", "room", "playground", "field", "patio", "classroom floor")
    if level == 1:
        length, width = rng.randint(3, 20), rng.randint(2, 15)
        kind = rng.randrange(3)
        if kind == 0:
            text = f"A rectangular {what} is {length} metres long and {width} metres wide. What is its area in square metres?"
            return Problem("geometry", 1, text, [f"Area = length * width = {length} * {width} = {length * width}."], length * width)
        if kind == 1:
            text = f"A square {what} has sides of {length} metres. What is its perimeter in metres?"
            return Problem("geometry", 1, text, [f"Perimeter = 4 * side = 4 * {length} = {4 * length}."], 4 * length)
        text = f"A rectangular {what} is {length} metres by {width} metres. What is its perimeter in metres?"
        return Problem("geometry", 1, text, [f"Length plus width is {length} + {width} = {length + width}.",
                                             f"Perimeter = 2 * {length + width} = {2 * (length + width)}."],
                       2 * (length + width))
    if level == 2:
        length, width, price = rng.randint(5, 40), rng.randint(4, 30), rng.randint(2, 15)
        if rng.random() < 0.5:
            per = 2 * (length + width)
            text = (f"A rectangular {what} is {length} metres long and {width} metres wide. "
                    f"Fencing costs ${price} per metre. How much does it cost to fence all the "
                    f"way around it?")
            steps = [f"Length plus width is {length} + {width} = {length + width} metres.",
                     f"The perimeter is 2 * {length + width} = {per} metres.",
                     f"The fence costs {per} * {price} = ${per * price}."]
            return Problem("geometry", 2, text, steps, per * price)
        l2, w2 = rng.randint(3, 20), rng.randint(3, 20)
        a1, a2 = length * width, l2 * w2
        text = (f"A house has two rooms. One is {length} metres by {width} metres and the other "
                f"is {l2} metres by {w2} metres. Carpet costs ${price} per square metre. How much "
                f"does it cost to carpet both rooms?")
        steps = [f"The first room is {length} * {width} = {a1} square metres.",
                 f"The second room is {l2} * {w2} = {a2} square metres.",
                 f"Together they are {a1} + {a2} = {a1 + a2} square metres.",
                 f"The carpet costs {a1 + a2} * {price} = ${(a1 + a2) * price}."]
        return Problem("geometry", 2, text, steps, (a1 + a2) * price)
    for _ in range(500):
        length, width, side = rng.randint(10, 60), rng.randint(8, 50), rng.randint(2, 8)
        cover = rng.choice((5, 10, 20, 25, 50))
        grass = length * width - side * side
        if side < width and grass % cover == 0:
            break
    else:  # pragma: no cover
        raise RuntimeError("no geometry problem found")
    price = rng.randint(3, 30)
    bags = grass // cover
    text = (f"A rectangular lawn is {length} metres long and {width} metres wide. A square pond "
            f"with sides of {side} metres sits in the middle, and grass seed is sown everywhere "
            f"else. One bag of seed covers {cover} square metres and costs ${price}. How much "
            f"does the seed cost?")
    steps = [f"The whole lawn is {length} * {width} = {length * width} square metres.",
             f"The pond is {side} * {side} = {side * side} square metres.",
             f"The grass covers {length * width} - {side * side} = {grass} square metres.",
             f"That needs {grass} / {cover} = {bags} bags of seed.",
             f"The seed costs {bags} * {price} = ${bags * price}."]
    return Problem("geometry", 3, text, steps, bags * price)


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
        text = (f"On Monday {who.name} {verb} {mon} {things}. On Tuesday {who.he} {verb} {more} "
                f"more than on Monday. On Wednesday {who.he} {verb} half as many as on Tuesday. "
                f"How many {things} did {who.he} {_base(verb)} over the three days?")
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
    text = (f"{who.name} saves ${weekly} every week for {weeks} weeks. {who.He} spends ${cost} "
            f"on a new bike and gives {words} of what is left to {who.his} brother. Then "
            f"{who.his} aunt gives {who.him} ${gift}. How much money does {who.name} have now?")
    steps = [f"{who.He} saves {weekly} * {weeks} = ${saved}.",
             f"After the bike {who.he} has {saved} - {cost} = ${rest}.",
             f"{words.capitalize()} of {rest} is {rest} * {num} / {den} = ${given}.",
             f"{who.He} keeps {rest} - {given} = ${left}.",
             f"With the gift {who.he} has {left} + {gift} = ${left + gift}."]
    return Problem("totals", 3, text, steps, left + gift)


def _base(past_verb: str) -> str:
    return {"collected": "collect", "picked": "pick", "sold": "sell", "found": "find",
            "made": "make", "counted": "count"}[past_verb]


def equations(rng: random.Random, level: int) -> Problem:
    if level == 1:
        x = rng.randint(2, 60)
        kind = rng.randrange(3)
        if kind == 0:
            a = rng.randint(2, 50)
            text = choose(rng, f"I think of a number. If I add {a} to it, I get {x + a}. What is my number?",
                          f"A number plus {a} equals {x + a}. What is the number?")
            return Problem("equations", 1, text, [f"The number is {x + a} - {a} = {x}."], x)
        if kind == 1:
            k = rng.randint(2, 12)
            x = rng.randint(2, 30)
            text = choose(rng, f"{k} times a number is {k * x}. What is the number?",
                          f"When a number is multiplied by {k}, the result is {k * x}. Find the number.")
            return Problem("equations", 1, text, [f"The number is {k * x} / {k} = {x}."], x)
        a = rng.randint(2, 40)
        text = f"If you take {a} away from a number, you get {x}. What is the number?"
        return Problem("equations", 1, text, [f"The number is {x} + {a} = {x + a}."], x + a)
    if level == 2:
        k, x, a = rng.randint(2, 12), rng.randint(2, 40), rng.randint(1, 60)
        b = k * x + a
        if rng.random() < 0.5:
            text = (f"If you multiply a number by {k} and then add {a}, the result is {b}. "
                    f"What is the number?")
            steps = [f"Undo the addition: {b} - {a} = {k * x}.",
                     f"Undo the multiplication: {k * x} / {k} = {x}.",
                     f"Check: {k} * {x} + {a} = {b}."]
            return Problem("equations", 2, text, steps, x)
        who = person(rng)
        s, p, _, _ = rng.choice(GOODS)
        extra, the_extra = rng.choice((("a delivery fee", "the delivery fee"),
                                       ("gift wrapping", "the gift wrapping"),
                                       ("a reusable tote", "the tote")))
        text = (f"{who.name} buys {k} {p}, all the same price, and pays ${a} for {extra}. "
                f"{who.He} spends ${b} in total. How much does one {s} cost?")
        steps = [f"Without {the_extra}, the {p} cost {b} - {a} = ${k * x}.",
                 f"One {s} costs {k * x} / {k} = ${x}.", f"Check: {k} * {x} + {a} = {b}."]
        return Problem("equations", 2, text, steps, x)
    if rng.random() < 0.5:
        for _ in range(200):
            k1, k2 = rng.randint(3, 15), rng.randint(1, 12)
            x = rng.randint(2, 50)
            if k1 - k2 < 2:
                continue
            a = rng.randint(1, 80)
            b = k1 * x - a - k2 * x
            if b > 0:
                break
        else:  # pragma: no cover
            raise RuntimeError("no equation found")
        text = (f"{k1} times a number, minus {a}, is equal to {k2} times the same number plus "
                f"{b}. What is the number?")
        steps = [f"Write the equation: {k1}x - {a} = {k2}x + {b}.",
                 f"Subtract {k2}x from both sides: {k1 - k2}x - {a} = {b}.",
                 f"Add {a} to both sides: {k1 - k2}x = {b} + {a} = {a + b}.",
                 f"Divide by {k1 - k2}: x = {a + b} / {k1 - k2} = {x}.",
                 f"Check: {k1} * {x} - {a} = {k1 * x - a} and {k2} * {x} + {b} = {k2 * x + b}."]
        return Problem("equations", 3, text, steps, x)
    small, diff = rng.randint(5, 120), rng.randint(2, 60)
    large = small + diff
    s = small + large
    text = (f"Two numbers add up to {s}. One of them is {diff} more than the other. What is the "
            f"product of the two numbers?")
    steps = [f"If the smaller number is n, then n + (n + {diff}) = {s}.",
             f"So 2n = {s} - {diff} = {s - diff}.",
             f"The smaller number is {s - diff} / 2 = {small}.",
             f"The larger number is {small} + {diff} = {large}.",
             f"The product is {small} * {large} = {small * large}."]
    return Problem("equations", 3, text, steps, small * large)


def fractions(rng: random.Random, level: int) -> Problem:
    who, other = people(rng, 2)
    things = rng.choice(COUNTABLES)
    if level == 1:
        num, den, words = fraction(rng)
        total = multiple_of(rng, den, 6, 120)
        part = total * num // den
        if rng.random() < 0.5:
            text = (f"{who.name} has {total} {things}. {who.He} gives {words} of them to "
                    f"{other.name}. How many {things} does {who.he} give away?")
            return Problem("fractions", 1, text, [f"{words.capitalize()} of {total} is {total} * {num} / {den} = {part}."], part)
        text = (f"{who.name} has {total} {things} and gives {words} of them to {other.name}. "
                f"How many {things} does {who.name} have left?")
        return Problem("fractions", 1, text, [f"{who.He} gives away {total} * {num} / {den} = {part}.",
                                              f"{who.He} has {total} - {part} = {total - part} left."], total - part)
    n1, d1, w1 = fraction(rng)
    n2, d2, w2 = fraction(rng, simple=True)
    if level == 2:
        for _ in range(500):
            total = rng.randint(2, 60) * d1
            rem = total - total * n1 // d1
            if rem % d2 == 0:
                break
        else:  # pragma: no cover
            raise RuntimeError("no fractions problem found")
        used = total * n1 // d1
        rem = total - used
        gave = rem * n2 // d2
        text = (f"{who.name} had {total} {things}. {who.He} used {w1} of them, and then gave "
                f"{w2} of the remaining {things} to {other.name}. How many {things} does "
                f"{who.name} have now?")
        steps = [f"{who.He} used {total} * {n1} / {d1} = {used}.",
                 f"{total} - {used} = {rem} were left.",
                 f"{who.He} gave away {rem} * {n2} / {d2} = {gave}.",
                 f"{who.He} has {rem} - {gave} = {rem - gave} now."]
        return Problem("fractions", 2, text, steps, rem - gave)
    n3, d3, w3 = fraction(rng, simple=True)
    for _ in range(2000):
        total = rng.randint(2, 200) * d1
        used = total * n1 // d1
        rem = total - used
        if rem % d2:
            continue
        gave = rem * n2 // d2
        rem2 = rem - gave
        if rem2 % d3 == 0 and rem2 > 0:
            break
    else:  # pragma: no cover
        raise RuntimeError("no fractions problem found")
    sold = rem2 * n3 // d3
    bought = rng.randint(3, 50)
    final = rem2 - sold + bought
    text = (f"A shop had {total} {things}. It sold {w1} of them on Monday and {w2} of the rest on "
            f"Tuesday. On Wednesday it sold {w3} of what remained, and then a delivery brought "
            f"{bought} more. How many {things} does the shop have now?")
    steps = [f"Monday: {total} * {n1} / {d1} = {used} sold, leaving {total} - {used} = {rem}.",
             f"Tuesday: {rem} * {n2} / {d2} = {gave} sold.",
             f"That leaves {rem} - {gave} = {rem2}.",
             f"Wednesday: {rem2} * {n3} / {d3} = {sold} sold.",
             f"That leaves {rem2} - {sold} = {rem2 - sold}.",
             f"After the delivery: {rem2 - sold} + {bought} = {final}."]
    return Problem("fractions", 3, text, steps, final)


def averages(rng: random.Random, level: int) -> Problem:
    who = person(rng)
    what = choose(rng, "tests", "quizzes", "games", "spelling tests", "races")
    if level == 1:
        a = rng.randint(40, 100)
        b = a + 2 * rng.randint(-15, 15)
        b = min(max(b, 10), 120)
        if (a + b) % 2:
            b += 1
        text = f"{who.name} scored {a} and {b} points in two {what}. What was {who.his} average score?"
        return Problem("averages", 1, text, [f"The total is {a} + {b} = {a + b}.",
                                             f"The average is {a + b} / 2 = {(a + b) // 2}."], (a + b) // 2)
    if level == 2:
        while True:  # redraw until the needed score is a possible one (0-100)
            scores = [rng.randint(55, 100) for _ in range(4)]
            target = rng.randint(max(60, sum(scores) // 4 - 5), min(100, sum(scores) // 4 + 10))
            need = 5 * target - sum(scores)
            if 0 <= need <= 100:
                break
        text = (f"{who.name} scored {', '.join(map(str, scores[:3]))} and {scores[3]} on four "
                f"{what}. What score does {who.he} need on the fifth to have an average of "
                f"exactly {target}?")
        steps = [f"An average of {target} over 5 {what} needs a total of 5 * {target} = {5 * target}.",
                 f"So far {who.he} has {' + '.join(map(str, scores))} = {sum(scores)}.",
                 f"{who.He} needs {5 * target} - {sum(scores)} = {need}."]
        return Problem("averages", 2, text, steps, need)
    for _ in range(2000):
        n1, n2, n3 = rng.randint(5, 30), rng.randint(5, 30), rng.randint(2, 10)
        m1, m2, m3 = rng.randint(50, 95), rng.randint(50, 95), rng.randint(50, 95)
        total = n1 * m1 + n2 * m2 + n3 * m3
        if total % (n1 + n2 + n3) == 0:
            break
    else:  # pragma: no cover
        raise RuntimeError("no averages problem found")
    count = n1 + n2 + n3
    text = (f"In a class, {n1} students had an average score of {m1}, and {n2} other students "
            f"had an average of {m2}. Then {n3} new students joined with an average of {m3}. "
            f"What is the average score of all the students?")
    steps = [f"The first group scored {n1} * {m1} = {n1 * m1} in total.",
             f"The second group scored {n2} * {m2} = {n2 * m2}.",
             f"The new students scored {n3} * {m3} = {n3 * m3}.",
             f"All together: {n1 * m1} + {n2 * m2} + {n3 * m3} = {total}.",
             f"There are {n1} + {n2} + {n3} = {count} students.",
             f"The average is {total} / {count} = {total // count}."]
    return Problem("averages", 3, text, steps, total // count)


FAMILIES = {"rates": rates, "ages": ages, "sharing": sharing, "geometry": geometry,
            "totals": totals, "equations": equations, "fractions": fractions,
            "averages": averages}
