"""Number and shape word-problem families: areas and perimeters, linear equations, fractions of
a quantity, averages.

Same contract as `families_money.py`: `f(rng, level) -> Problem`, whole-number answers, steps
written from the same variables as the answer. Where a level needs divisible numbers (an exact
average, a fraction of what is left) values are redrawn until they divide, never rounded.
"""

from __future__ import annotations

import random

from evolm.synth.math.problem_kit import COUNTABLES, GOODS, Problem, choose, fraction, multiple_of
from evolm.synth.people import people, person


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
    if rng.random() < 0.5:
        whole, hole, cover_word, unit = "lawn", "pond", "grass", "bags"
        text = (f"A rectangular lawn is {length} metres long and {width} metres wide. A square pond "
                f"with sides of {side} metres sits in the middle, and grass seed is sown everywhere "
                f"else. One bag of seed covers {cover} square metres and costs ${price}. How much "
                f"does the seed cost?")
    else:
        whole, hole, cover_word, unit = "park", "fountain", "turf", "rolls"
        text = (f"A park is a rectangle {length} metres by {width} metres. Inside it is a square "
                f"fountain {side} metres on each side. The rest of the park is to be covered with "
                f"turf, sold in rolls that cover {cover} square metres for ${price} each. What "
                f"does the turf cost?")
    steps = [f"The whole {whole} is {length} * {width} = {length * width} square metres.",
             f"The {hole} is {side} * {side} = {side * side} square metres.",
             f"The {cover_word} covers {length * width} - {side * side} = {grass} square metres.",
             f"That needs {grass} / {cover} = {bags} {unit}.",
             f"The cost is {bags} * {price} = ${bags * price}."]
    return Problem("geometry", 3, text, steps, bags * price)


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
        text = choose(rng,
                      f"{k1} times a number, minus {a}, is equal to {k2} times the same number plus "
                      f"{b}. What is the number?",
                      f"Solve for x: {k1}x - {a} = {k2}x + {b}.",
                      f"If you multiply a number by {k1} and subtract {a}, you get the same result as "
                      f"multiplying it by {k2} and adding {b}. Find the number.")
        steps = [f"Write the equation: {k1}x - {a} = {k2}x + {b}.",
                 f"Subtract {k2}x from both sides: {k1 - k2}x - {a} = {b}.",
                 f"Add {a} to both sides: {k1 - k2}x = {b} + {a} = {a + b}.",
                 f"Divide by {k1 - k2}: x = {a + b} / {k1 - k2} = {x}.",
                 f"Check: {k1} * {x} - {a} = {k1 * x - a} and {k2} * {x} + {b} = {k2 * x + b}."]
        return Problem("equations", 3, text, steps, x)
    small, diff = rng.randint(5, 120), rng.randint(2, 60)
    large = small + diff
    s = small + large
    text = choose(rng,
                  f"Two numbers add up to {s}. One of them is {diff} more than the other. What is the "
                  f"product of the two numbers?",
                  f"The sum of two numbers is {s} and their difference is {diff}. Multiply the two "
                  f"numbers together. What do you get?")
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
        text = choose(rng,
                      f"{who.name} had {total} {things}. {who.He} used {w1} of them, and then gave "
                      f"{w2} of the remaining {things} to {other.name}. How many {things} does "
                      f"{who.name} have now?",
                      f"A box holds {total} {things}. {who.name} takes out {w1} of them. {other.name} "
                      f"then takes {w2} of what is still in the box. How many {things} are left in "
                      f"the box?")
        steps = [f"First {total} * {n1} / {d1} = {used} are taken.",
                 f"{total} - {used} = {rem} remain.",
                 f"Then {rem} * {n2} / {d2} = {gave} are taken.",
                 f"{rem} - {gave} = {rem - gave} are left."]
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
    text = choose(rng,
                  f"In a class, {n1} students had an average score of {m1}, and {n2} other students "
                  f"had an average of {m2}. Then {n3} new students joined with an average of {m3}. "
                  f"What is the average score of all the students?",
                  f"A club has three teams. The {n1} players of the first team average {m1} points, "
                  f"the {n2} players of the second team average {m2} points, and the {n3} players "
                  f"of the third team average {m3} points. What is the average for all players?")
    steps = [f"The first group has {n1} * {m1} = {n1 * m1} points in total.",
             f"The second group has {n2} * {m2} = {n2 * m2}.",
             f"The third group has {n3} * {m3} = {n3 * m3}.",
             f"All together: {n1 * m1} + {n2 * m2} + {n3 * m3} = {total}.",
             f"There are {n1} + {n2} + {n3} = {count} people.",
             f"The average is {total} / {count} = {total // count}."]
    return Problem("averages", 3, text, steps, total // count)


FAMILIES = {"geometry": geometry, "equations": equations, "fractions": fractions,
            "averages": averages}
