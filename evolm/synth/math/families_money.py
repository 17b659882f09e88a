"""Money word-problem families: shopping, percentages, wages.

Each family is `f(rng, level) -> Problem`. Level 1 takes 1-2 steps with small numbers, level 2
takes 3-4 steps, level 3 takes 5 or more steps with larger numbers (the SynthMath levels mirror
the paper's MATH levels 1-3 in spirit: harder means longer chains). Values are drawn so every
intermediate result is a whole number.
"""

from __future__ import annotations

import random
from math import gcd

from evolm.synth.math.problem_kit import GOODS, STORES, Problem, choose, multiple_of
from evolm.synth.people import person


def _goods(rng: random.Random, n: int, scale: int = 1):
    """n different goods with a price each (scale > 1 for bigger level-3 numbers)."""
    items = rng.sample(GOODS, n)
    return [(s, p, rng.randint(lo, hi) * scale) for s, p, lo, hi in items]


def shopping(rng: random.Random, level: int) -> Problem:
    who = person(rng)
    store = rng.choice(STORES)
    buys = choose(rng, "buys", "orders", "picks up", "gets")
    if level == 1:
        (s1, p1, c1), (s2, p2, c2) = _goods(rng, 2)
        a = rng.randint(2, 9)
        kind = rng.randrange(3)
        if kind == 0:
            t = a * c1
            text = choose(rng,
                          f"{who.name} {buys} {a} {p1} at {store}. Each {s1} costs ${c1}. "
                          f"How much money does {who.name} spend?",
                          f"At {store}, {p1} cost ${c1} each. {who.name} {buys} {a} of them. "
                          f"How many dollars does {who.he} pay?")
            return Problem("shopping", 1, text, [f"{a} {p1} cost {a} * {c1} = ${t}."], t)
        if kind == 1:
            m = a * c1 + rng.randint(1, 20)
            t = m - c1
            text = (f"{who.name} has ${m}. {who.He} {buys} a {s1} for ${c1} at {store}. "
                    f"How much money does {who.he} have left?")
            return Problem("shopping", 1, text, [f"{who.name} has {m} - {c1} = ${t} left."], t)
        t1 = a * c1
        t = t1 + c2
        text = (f"{who.name} {buys} {a} {p1} that cost ${c1} each and one {s2} that costs "
                f"${c2}. How much does {who.he} spend {choose(rng, 'in all', 'in total', 'altogether')}?")
        return Problem("shopping", 1, text, [f"The {p1} cost {a} * {c1} = ${t1}.",
                                             f"In total {who.he} spends {t1} + {c2} = ${t}."], t)
    if level == 2:
        (s1, p1, c1), (s2, p2, c2) = _goods(rng, 2)
        a, b = rng.randint(2, 8), rng.randint(2, 8)
        t1, t2 = a * c1, b * c2
        sub = t1 + t2
        if rng.random() < 0.5:
            bill = _bill(sub + 1)
            text = choose(rng,
                          f"{who.name} {buys} {a} {p1} at ${c1} each and {b} {p2} at ${c2} each. "
                          f"{who.He} pays with a ${bill} bill. How much change does {who.he} get?",
                          f"At {store}, {p1} cost ${c1} each and {p2} cost ${c2} each. {who.name} "
                          f"takes {a} {p1} and {b} {p2} to the till and hands over ${bill}. How "
                          f"much change should {who.he} receive?")
            steps = [f"The {p1} cost {a} * {c1} = ${t1}.", f"The {p2} cost {b} * {c2} = ${t2}.",
                     f"Together they cost {t1} + {t2} = ${sub}.",
                     f"The change is {bill} - {sub} = ${bill - sub}."]
            return Problem("shopping", 2, text, steps, bill - sub)
        k = rng.randint(2, 4)
        coupon = rng.randint(1, max(1, min(9, sub // 3)))
        total = sub - coupon
        total -= total % k  # make the share whole: adjust the coupon instead of the prices
        coupon = sub - total
        share = total // k
        text = (f"{who.name} and {k - 1} {'friend' if k == 2 else 'friends'} buy "
                f"{a} {p1} for ${c1} each and {b} {p2} for ${c2} each. They use a coupon for "
                f"${coupon} off and split the rest of the cost equally. How much does each "
                f"person pay?")
        steps = [f"The {p1} cost {a} * {c1} = ${t1} and the {p2} cost {b} * {c2} = ${t2}.",
                 f"Before the coupon the total is {t1} + {t2} = ${sub}.",
                 f"After the coupon it is {sub} - {coupon} = ${total}.",
                 f"Split among {k} people, each pays {total} / {k} = ${share}."]
        return Problem("shopping", 2, text, steps, share)
    # level 3
    if rng.random() < 0.5:
        goods = _goods(rng, 3, scale=rng.choice((1, 2, 3)))
        pct = rng.choice((10, 20, 25, 50))
        while True:  # redraw quantities until the discount is a whole number of dollars
            qty = [rng.randint(3, 15) for _ in goods]
            costs = [q * c for q, (_, _, c) in zip(qty, goods)]
            sub = sum(costs)
            if sub * pct % 100 == 0:
                break
        disc = sub * pct // 100
        parts = [f"{q} {p} at ${c} each" for q, (_, p, c) in zip(qty, goods)]
        goods_txt = ", ".join(parts[:-1]) + " and " + parts[-1]
        after = sub - disc
        bill = _bill(after)
        text = (f"At {store}, {who.name} {buys} {goods_txt}. The store gives {pct}% off the "
                f"whole purchase. {who.He} pays with ${bill}. How much change does {who.he} get?")
        steps = [f"The {p} cost {q} * {c} = ${t}." for q, (_, p, c), t in zip(qty, goods, costs)]
        steps += [f"The total before the discount is {' + '.join(map(str, costs))} = ${sub}.",
                  f"The discount is {pct}% of {sub}, which is {sub} * {pct} / 100 = ${disc}.",
                  f"After the discount {who.he} pays {sub} - {disc} = ${after}.",
                  f"The change is {bill} - {after} = ${bill - after}."]
        return Problem("shopping", 3, text, steps, bill - after)
    (s1, p1, c1), (s2, p2, c2) = _goods(rng, 2, scale=2)
    a, weeks = rng.randint(2, 6), rng.randint(3, 12)
    weekly_items = a * c1
    weekly = weekly_items + c2
    spent = weekly * weeks
    start = spent + rng.randint(5, 300)
    text = choose(rng,
                  f"{who.name} starts with ${start}. Every week for {weeks} weeks, {who.he} {buys} "
                  f"{a} {p1} at ${c1} each and one {s2} for ${c2}. How much money does {who.he} have "
                  f"left after the {weeks} weeks?",
                  f"{who.name} has ${start} in savings. Each week {who.he} spends money on {a} "
                  f"{p1}, which cost ${c1} apiece, and a {s2}, which costs ${c2}. After {weeks} "
                  f"weeks, how much of the savings is left?")
    steps = [f"Each week the {p1} cost {a} * {c1} = ${weekly_items}.",
             f"With the {s2}, each week costs {weekly_items} + {c2} = ${weekly}.",
             f"Over {weeks} weeks {who.he} spends {weekly} * {weeks} = ${spent}.",
             f"{who.He} started with ${start}.",
             f"{who.He} has {start} - {spent} = ${start - spent} left."]
    return Problem("shopping", 3, text, steps, start - spent)


PERCENTS = (10, 20, 25, 30, 40, 50, 60, 75, 80)


def percentages(rng: random.Random, level: int) -> Problem:
    who = person(rng)
    if level == 1:
        pct = rng.choice(PERCENTS)
        group, doers, others = rng.choice((
            ("students in a class", "walk to school", "do not walk to school"),
            ("people at a party", "drink tea", "do not drink tea"),
            ("trees in an orchard", "are apple trees", "are not apple trees"),
            ("players in a club", "are left-handed", "are not left-handed"),
            ("books on a shelf", "are novels", "are not novels"),
            ("cars in a car park", "are red", "are not red"),
            ("seats in a theatre", "are taken", "are empty"),
            ("eggs in a crate", "are brown", "are not brown"),
        ))
        n = multiple_of(rng, 100 // gcd(pct, 100), 20, 400)
        part = n * pct // 100
        noun = group.split(" ")[0]
        if rng.random() < 0.5:
            text = f"There are {n} {group}. {pct}% of them {doers}. How many {noun} {doers}?"
            return Problem("percentages", 1, text, [f"{pct}% of {n} is {n} * {pct} / 100 = {part}."], part)
        text = f"There are {n} {group}. {pct}% of them {doers}. How many {noun} {others}?"
        return Problem("percentages", 1, text, [f"{pct}% of {n} is {n} * {pct} / 100 = {part}.",
                                                f"So {n} - {part} = {n - part} {others}."], n - part)
    if level == 2:
        s, p, lo, hi = rng.choice(GOODS)
        pct = rng.choice(PERCENTS)
        price = multiple_of(rng, 100 // gcd(pct, 100), lo * 2, hi * 4)
        k = rng.randint(2, 6)
        off = price * pct // 100
        sale = price - off
        total = sale * k
        text = choose(rng,
                      f"A {s} normally costs ${price}. This week everything is {pct}% off. "
                      f"{who.name} buys {k} {p}. How much does {who.he} pay?",
                      f"The regular price of a {s} is ${price}. During a sale the price is cut "
                      f"by {pct}%. How much do {k} {p} cost at the sale price?")
        steps = [f"The discount is {price} * {pct} / 100 = ${off}.",
                 f"The sale price is {price} - {off} = ${sale}.",
                 f"{k} {p} cost {sale} * {k} = ${total}."]
        return Problem("percentages", 2, text, steps, total)
    # level 3: markup, then a sale, then profit on many items
    s, p, lo, hi = rng.choice(GOODS)
    for _ in range(200):
        up = rng.choice((20, 25, 40, 50, 60, 100))
        down = rng.choice((10, 20, 25))
        cost = rng.randint(2, 60) * 10
        marked = cost + cost * up // 100
        sale = marked - marked * down // 100
        if cost * up % 100 or marked * down % 100 or sale <= cost:
            continue
        n = rng.randint(10, 120)
        text = choose(rng,
                      f"A shop buys {p} for ${cost} each and marks the price up by {up}%. In a sale, "
                      f"the marked price is reduced by {down}%. The shop sells {n} {p} at the sale "
                      f"price. What is the shop's total profit in dollars?",
                      f"A store pays ${cost} for each {s}. It sets its price {up}% higher than that, "
                      f"and later offers {down}% off the set price. If it sells {n} {p} during the "
                      f"offer, how much profit does it make?")
        steps = [f"The markup is {cost} * {up} / 100 = ${cost * up // 100}.",
                 f"The marked price is {cost} + {cost * up // 100} = ${marked}.",
                 f"The sale takes off {marked} * {down} / 100 = ${marked * down // 100}.",
                 f"The sale price is {marked} - {marked * down // 100} = ${sale}.",
                 f"The profit on each {s} is {sale} - {cost} = ${sale - cost}.",
                 f"On {n} {p} the profit is {sale - cost} * {n} = ${(sale - cost) * n}."]
        return Problem("percentages", 3, text, steps, (sale - cost) * n)
    raise RuntimeError("no percentage problem found")  # pragma: no cover


def wages(rng: random.Random, level: int) -> Problem:
    who = person(rng)
    job = choose(rng, "at a cafe", "in a bookshop", "at the library", "on a farm",
                 "at a bakery", "as a tutor", "at the garden centre", "at a bike shop")
    if level == 1:
        rate, hours = rng.randint(8, 20), rng.randint(2, 9)
        if rng.random() < 0.5:
            text = (f"{who.name} works {job} and earns ${rate} an hour. How much does "
                    f"{who.he} earn for {hours} hours of work?")
            return Problem("wages", 1, text, [f"{who.He} earns {rate} * {hours} = ${rate * hours}."],
                           rate * hours)
        days = rng.randint(2, 6)
        text = (f"{who.name} works {job} for {hours} hours a day, {days} days a week, and "
                f"earns ${rate} an hour. How much does {who.he} earn in a week?")
        return Problem("wages", 1, text, [f"{who.He} works {hours} * {days} = {hours * days} hours.",
                                          f"{who.He} earns {hours * days} * {rate} = ${hours * days * rate}."],
                       hours * days * rate)
    if level == 2:
        rate, hours, days = rng.randint(9, 25), rng.randint(3, 8), rng.randint(3, 6)
        pay = rate * hours * days
        spend = rng.randint(10, pay - 1)
        thing = choose(rng, "a new bike helmet", "books", "a concert ticket", "groceries",
                       "a gift for a friend", "running shoes")
        text = (f"{who.name} works {job} {hours} hours a day for {days} days and earns ${rate} "
                f"per hour. {who.He} spends ${spend} on {thing}. How much of {who.his} pay "
                f"is left?")
        steps = [f"{who.He} works {hours} * {days} = {hours * days} hours.",
                 f"{who.He} earns {hours * days} * {rate} = ${pay}.",
                 f"After spending, {pay} - {spend} = ${pay - spend} is left."]
        return Problem("wages", 2, text, steps, pay - spend)
    rate = rng.randint(6, 20) * 2  # even, so time-and-a-half is whole
    base_hours = rng.choice((35, 38, 40))
    worked = base_hours + rng.randint(2, 12)
    weeks = rng.randint(2, 6)
    over = worked - base_hours
    over_rate = rate * 3 // 2
    regular = base_hours * rate
    overtime = over * over_rate
    week = regular + overtime
    text = choose(rng,
                  f"{who.name} works {job} and is paid ${rate} an hour for the first {base_hours} "
                  f"hours each week and time and a half for every hour after that. {who.He} works "
                  f"{worked} hours every week for {weeks} weeks. How much does {who.he} earn in total?",
                  f"{who.name} earns ${rate} per hour {job}. Any hours beyond {base_hours} in a week "
                  f"are overtime, paid at 1.5 times the normal rate. If {who.he} works {worked} hours "
                  f"a week for {weeks} weeks, what are {who.his} total earnings?")
    steps = [f"Regular pay each week is {base_hours} * {rate} = ${regular}.",
             f"{who.He} works {worked} - {base_hours} = {over} overtime hours a week.",
             f"The overtime rate is {rate} * 3 / 2 = ${over_rate} an hour.",
             f"Overtime pay each week is {over} * {over_rate} = ${overtime}.",
             f"Each week {who.he} earns {regular} + {overtime} = ${week}.",
             f"Over {weeks} weeks {who.he} earns {week} * {weeks} = ${week * weeks}."]
    return Problem("wages", 3, text, steps, week * weeks)


def _bill(amount: int) -> int:
    """The smallest usual bill or round sum that covers the amount."""
    for bill in (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000):
        if bill >= amount:
            return bill
    return -(-amount // 1000) * 1000


FAMILIES = {"shopping": shopping, "percentages": percentages, "wages": wages}
