"""SynthTable: TabMWP-style questions over a small table, answered by computation.

Money is handled in whole cents so no float rounding can creep into a gold answer; answers are
written the way TabMWP writes them ("34.35", "7.20", "57", "yes", "linear", an item name).
"""

from __future__ import annotations

import random

from evolm.synth.people import person
from evolm.synth.rng import make_rng
from evolm.synth.text import plural, with_article

PROMPT = ("You are given a table with the following data:\n\n{table}\n\nBased on the table, "
          "answer the following question:\n\n{question}")

# (unit phrase for prices, items, lowest and highest price in cents, step in cents)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PRICE_LISTS = (
    ("pound", ("banana chips", "raisins", "dried mango", "dried pineapple", "dried apple",
               "dried pear", "dried apricots", "dates"), 150, 799, 1),
    ("pound", ("shrimp", "lobster meat", "oysters", "mussels", "crab meat", "scallops",
               "salmon", "tuna"), 500, 1500, 100),
    ("kilogram", ("rice", "lentils", "oats", "flour", "sugar", "beans", "barley", "millet"),
     100, 600, 5),
    (None, ("smooth piece of marble", "piece of green slate", "smooth piece of sea glass",
            "piece of black mica", "piece of pink granite", "purple amethyst", "piece of quartz"),
     10, 99, 1),
    (None, ("red pen", "notebook", "box of markers", "glue stick", "ruler", "pencil case",
            "eraser", "box of paper clips"), 50, 600, 1),
    (None, ("toy boat", "yo-yo", "jump rope", "puzzle", "stuffed bear", "kite", "toy train",
            "rubber duck"), 100, 1500, 1),
    (None, ("desk", "bookcase", "sofa", "armchair", "bed", "dresser", "kitchen table",
            "coffee table"), 9000, 90000, 100),
    (None, ("bus ticket", "train ticket", "ferry ticket", "plane ticket", "boat tour",
            "museum pass"), 500, 30000, 100),
)
FREQ_TOPICS = (("Number of trips", "residents", "went to the library"),
               ("Flower pots painted", "children", "painted flower pots"),
               ("Books read", "students", "read books last month"),
               ("Goals scored", "players", "scored goals this season"),
               ("Pets owned", "families", "own pets"),
               ("Hours of practice", "musicians", "practised this week"))
COUNT_TOPICS = (("hot dogs", "A hot dog stand kept track of the number of hot dogs sold each day."),
                ("cups", "Maya wrote down how many cups of lemonade she sold in the past days."),
                ("tickets", "The transportation company tracked the number of train tickets sold."),
                ("people", "A reporter counted how many people he interviewed each day."),
                ("emails", "Liz kept a log of how many emails she got each day."),
                ("cars", "A car wash recorded how many cars it washed each day."),
                ("visitors", "A museum counted its visitors each day."))
PAIR_TOPICS = (("Player", "Misses", "Goals", ("Striker", "Right midfielder", "Right forward",
                                               "Center midfielder", "Goalkeeper", "Left back")),
               ("Class", "Boys", "Girls", ("Mr. Lee's class", "Ms. Hall's class", "Mr. Diaz's class",
                                           "Mrs. Kent's class", "Ms. Park's class")),
               ("Team", "Wins", "Losses", ("Eagles", "Tigers", "Sharks", "Wolves", "Bears", "Hawks")),
               ("Shop", "Apples sold", "Pears sold", ("Corner shop", "Farm stand", "Market stall",
                                                     "Grocery", "Deli")))


def _money(cents: int, integer_prices: bool) -> str:
    if integer_prices and cents % 100 == 0:
        return str(cents // 100)
    return f"{cents // 100}.{cents % 100:02d}"


def _price(cents: int, integer_prices: bool) -> str:
    return f"${cents // 100}" if integer_prices else f"${cents // 100}.{cents % 100:02d}"


def price_question(rng: random.Random) -> tuple[str, str, str]:
    unit, items, lo, hi, step = rng.choice(PRICE_LISTS)
    chosen = rng.sample(items, rng.randint(4, min(6, len(items))))
    integer_prices = step % 100 == 0 or (rng.random() < 0.4 and hi >= 500)
    prices = {}
    for it in chosen:
        c = rng.randrange(lo, hi + 1, step)
        if integer_prices:
            c = max(100, c // 100 * 100)
        prices[it] = c
    suffix = "" if unit is None else rng.choice((f"/{unit}", f" per {unit}"))
    table = "\n".join(f"{it} | {_price(c, integer_prices)}{suffix}" for it, c in prices.items())
    who = person(rng)
    a, b = rng.sample(chosen, 2)
    kind = rng.randrange(5)
    if kind == 0:
        if unit is not None and rng.random() < 0.4:  # a fraction of a unit, like TabMWP's 4/5 lb
            num, den = rng.choice(((1, 2), (1, 4), (3, 4), (2, 5), (4, 5), (1, 5)))
            cents = prices[a] * num
            if cents % den:
                return price_question(rng)
            q = f"{who.name} buys {num}/{den} of a {unit} of {a}. How much does {who.he} spend?"
            return table, q, _money(cents // den, False)
        k = rng.randint(2, 9)
        if unit is None:
            q = f"How much money does {who.name} need to buy {k} {plural(a)}?"
        else:
            q = f"{who.name} wants to buy {k} {unit}s of {a}. How much will {who.he} spend?"
        return table, q, _money(prices[a] * k, integer_prices)
    if kind == 1:
        total = prices[a] + prices[b]
        have = total + rng.choice((-1, 1)) * rng.randint(1, max(1, total // 4))
        have = max(1, have)
        if not integer_prices:
            have_txt = f"${have // 100}.{have % 100:02d}"
        else:
            have = (have + 99) // 100 * 100 if have > total else have // 100 * 100
            have_txt = f"${have // 100}"
        if unit is None:
            q = (f"{who.name} has {have_txt}. Does {who.he} have enough to buy {with_article(a)} and "
                 f"{with_article(b)}?")
        else:
            q = (f"{who.name} has {have_txt}. Does {who.he} have enough to buy a {unit} of {a} and "
                 f"a {unit} of {b}?")
        return table, q, "yes" if have >= total else "no"
    if kind == 2:
        if prices[a] == prices[b]:
            return price_question(rng)
        if unit is None:
            q = f"Which costs {rng.choice(('more', 'less'))}, {with_article(a)} or {with_article(b)}?"
        else:
            q = f"Which costs {rng.choice(('more', 'less'))} per {unit}, {a} or {b}?"
        want_more = "more" in q.split(",")[0]
        return table, q, (a if (prices[a] > prices[b]) == want_more else b)
    if kind == 3:
        if prices[a] == prices[b]:
            return price_question(rng)
        hi_it, lo_it = (a, b) if prices[a] > prices[b] else (b, a)
        if unit is None:
            what = f"{with_article(hi_it)} cost than {with_article(lo_it)}"
        else:
            what = f"a {unit} of {hi_it} cost than a {unit} of {lo_it}"
        q = f"How much more does {what}?"
        return table, q, _money(prices[hi_it] - prices[lo_it], integer_prices)
    extremes = sorted(prices.values())
    if extremes[0] == extremes[1] or extremes[-1] == extremes[-2]:
        return price_question(rng)
    most = rng.random() < 0.5
    target = max(prices, key=prices.get) if most else min(prices, key=prices.get)
    q = f"Which item is the {'most expensive' if most else 'cheapest'}?"
    return table, q, target


def frequency_question(rng: random.Random) -> tuple[str, str, str]:
    col, people, did = rng.choice(FREQ_TOPICS)
    start = rng.randint(0, 2)
    values = list(range(start, start + rng.randint(4, 7)))
    freq = [rng.randint(0, 20) for _ in values]
    table = f"{col} | Frequency\n" + "\n".join(f"{v} | {f}" for v, f in zip(values, freq))
    r = rng.randrange(3)
    if r == 0:
        return table, f"Some {people} were asked how many times they {did}. How many {people} are there in all?", str(sum(freq))
    k = rng.choice(values)
    if r == 1:
        return table, f"How many {people} answered exactly {k}?", str(freq[values.index(k)])
    return table, f"How many {people} answered more than {k}?", str(sum(f for v, f in zip(values, freq) if v > k))


def stats_question(rng: random.Random) -> tuple[str, str, str]:
    things, intro = rng.choice(COUNT_TOPICS)
    n = rng.choice((5, 6, 7))
    start = rng.randrange(7)
    days = [DAYS[(start + i) % 7] for i in range(n)]
    vals = [rng.randint(1, 99) for _ in range(n)]
    stat = rng.choice(("mean", "median", "mode", "range"))
    if stat == "median" and n % 2 == 0:
        stat = "range"
    if stat == "mean":
        vals[-1] += (-sum(vals)) % n
        ans = sum(vals) // n
    elif stat == "mode":
        vals[1] = vals[3] = vals[0 if n < 6 else 5]  # one value three times
        ans = vals[1]
        counts = [vals.count(v) for v in vals]
        if sum(1 for v in set(vals) if vals.count(v) == max(counts)) != 1:
            return stats_question(rng)  # the mode must be unique
    elif stat == "median":
        ans = sorted(vals)[n // 2]
    else:
        ans = max(vals) - min(vals)
    table = f"Day | Number of {things}\n" + "\n".join(f"{d} | {v}" for d, v in zip(days, vals))
    return table, f"{intro} What is the {stat} of the numbers?", str(ans)


def pair_question(rng: random.Random) -> tuple[str, str, str]:
    first, c1, c2, names = rng.choice(PAIR_TOPICS)
    rows = rng.sample(names, rng.randint(3, min(5, len(names))))
    v1 = rng.sample(range(0, 40), len(rows))  # distinct, so "fewest" and "most" are unique
    v2 = [rng.randint(0, 40) for _ in rows]
    table = f"{first} | {c1} | {c2}\n" + "\n".join(f"{r} | {a} | {b}" for r, a, b in zip(rows, v1, v2))
    kind = rng.randrange(3)
    if kind == 0:
        most = rng.random() < 0.5
        target = rows[v1.index(max(v1) if most else min(v1))]
        word = "most" if most else "fewest"
        return table, f"Which {first.lower()} had the {word} {c1.lower()}?", target
    i = rng.randrange(len(rows))
    if kind == 1:
        return table, f"How many {c2.lower()} did {rows[i]} have?", str(v2[i])
    return table, f"What is the total of {c1.lower()} and {c2.lower()} for {rows[i]}?", str(v1[i] + v2[i])


def function_question(rng: random.Random) -> tuple[str, str, str]:
    x0 = rng.randint(0, 8)
    xs = [x0 + i * rng.choice((1, 1, 2)) for i in range(3)]
    xs = sorted(set(xs)) if len(set(xs)) == 3 else [x0, x0 + 1, x0 + 2]
    if rng.random() < 0.5:
        a, b = rng.randint(1, 6), rng.randint(0, 15)
        ys, ans = [a * x + b for x in xs], "linear"
    else:
        b = rng.randint(0, 10)
        ys = [x * x + b for x in xs]
        if (ys[1] - ys[0]) * (xs[2] - xs[1]) == (ys[2] - ys[1]) * (xs[1] - xs[0]):
            return function_question(rng)
        ans = "nonlinear"
    table = "x | y\n" + "\n".join(f"{x} | {y}" for x, y in zip(xs, ys))
    return table, "The table shows a function. Is the function linear or nonlinear?", ans


def stem_leaf_question(rng: random.Random) -> tuple[str, str, str]:
    first = rng.randint(1, 5)
    stems = list(range(first, first + rng.randint(3, 5)))
    data = []
    lines = []
    for s in stems:
        leaves = sorted(rng.randint(0, 9) for _ in range(rng.randint(1, 5)))
        data += [10 * s + leaf for leaf in leaves]
        lines.append(f"{s} | {', '.join(map(str, leaves))}")
    thing, who = rng.choice((("fish in each tank", "tanks"), ("pounds each student lifted", "students"),
                             ("pages in each book", "books"), ("points each team scored", "teams")))
    k = rng.randint(min(data), max(data))
    if rng.random() < 0.5:
        q = f"Someone counted the {thing}. How many {who} have at least {k}?"
        ans = sum(d >= k for d in data)
    else:
        q = f"Someone counted the {thing}. How many {who} have fewer than {k}?"
        ans = sum(d < k for d in data)
    return "Stem | Leaf \n" + "\n".join(lines), q, str(ans)


KINDS = ((price_question, 40), (frequency_question, 12), (stats_question, 18), (pair_question, 12),
         (function_question, 8), (stem_leaf_question, 10))


def _distinct_rows(rng: random.Random, draw, name: str, n: int) -> list[dict]:
    """n rows of distinct problems from `draw(rng) -> (table, question, answer)`, ids `name-NNNN`."""
    rows, seen = [], set()
    while len(rows) < n:
        table, question, answer = draw(rng)
        problem = PROMPT.format(table=table, question=question)
        if problem in seen:
            continue
        seen.add(problem)
        rows.append({"id": f"{name}-{len(rows):04d}", "problem": problem,
                     "gt_solution": answer, "gt_answer": answer})
    return rows


def synth_table_rows(seed: int, n: int) -> list[dict]:
    fns = [f for f, _ in KINDS]
    weights = [w for _, w in KINDS]
    return _distinct_rows(make_rng(seed, "synth-table"), lambda rng: rng.choices(fns, weights=weights)[0](rng),
                          "SynthTable", n)



# -- the basic tier: two or three rows, one addition or subtraction on digits ----------------------
# The skill of the basic word problems (tier 1 of the math ladder) read from a small table
# instead of a sentence: the surface is new, the arithmetic is not.
BASIC_TOPICS = (("Fruit", "Number", ("apples", "pears", "plums", "oranges", "peaches")),
                ("Animal", "Count", ("ducks", "goats", "hens", "cows", "sheep")),
                ("Colour", "Marbles", ("red", "blue", "green", "yellow", "white")),
                ("Day", "Books read", DAYS))


def basic_table_question(rng: random.Random) -> tuple[str, str, str]:
    head, col, names = rng.choice(BASIC_TOPICS)
    chosen = rng.sample(names, rng.randint(2, 3))
    counts = {name: rng.randint(1, 9) for name in chosen}
    table = "\n".join([f"{head} | {col}"] + [f"{name} | {c}" for name, c in counts.items()])
    a, b = rng.sample(chosen, 2)
    if rng.random() < 0.5:
        return table, f"What is the total {col.lower()} for {a} and {b}?", str(counts[a] + counts[b])
    if counts[a] < counts[b]:
        a, b = b, a
    return table, f"How much larger is the {col.lower()} for {a} than for {b}?", str(counts[a] - counts[b])


def synth_table_basic_rows(seed: int, n: int) -> list[dict]:
    return _distinct_rows(make_rng(seed, "synth-table-basic"), basic_table_question, "SynthTableBasic", n)
