"""Math-domain documents (the FineMath stand-in): lessons, worked examples, fact drills, times
tables, forum-style questions, basic-tier worksheets and a glossary, on exactly the skills the
problem pool exercises.

Continued pre-training on this text is what should make SFT and RL work better (the paper's
finding 4), so it teaches the pool's skills in the pool's notation ("4 * 3 = 12") without ever
containing a test problem: worked examples are drawn fresh and any whose text is in a test set, or
whose steps write a test problem's computation (but a one-step fact on digits), is skipped (so is a document
whose problems' steps in a row would write one).
"""

from __future__ import annotations

from typing import Iterator

from evolm.synth.math import arith_facts as af
from evolm.synth.math.problem_kit import fraction
from evolm.synth.math.families_basic import basic
from evolm.synth.math.holdout import equations, writes_any
from evolm.synth.math.word_problems import FAMILY_NAMES, POOL_LADDER, make_problem
from evolm.synth.people import person
from evolm.synth.rng import make_rng
from evolm.synth.text import number_words

SKILLS = ("addition", "subtraction", "multiplication", "division", "fractions", "percentages",
          "rates", "equations", "area", "averages", "order", "rounding")

GLOSSARY = (
    "The sum of two numbers is what you get when you add them.",
    "The difference of two numbers is what you get when you subtract the smaller from the larger.",
    "The product of two numbers is what you get when you multiply them.",
    "The quotient is the result of a division.",
    "A remainder is what is left over when one number does not divide another exactly.",
    "The perimeter of a shape is the total distance around its edge.",
    "The area of a rectangle is its length times its width.",
    "The perimeter of a rectangle is two times the sum of its length and width.",
    "The perimeter of a square is four times the length of one side.",
    "A percent is a number of parts per hundred, so 25% means 25 out of every 100.",
    "To find a percentage of a number, multiply the number by the percentage and divide by 100.",
    "The average, or mean, of a list of numbers is their sum divided by how many numbers there are.",
    "Speed is distance divided by time, and distance is speed times time.",
    "A fraction such as 3/4 means 3 parts out of 4 equal parts.",
    "To find a fraction of a quantity, divide by the denominator and multiply by the numerator.",
    "An equation says that two expressions are equal; solving it means finding the unknown.",
    "Whatever you do to one side of an equation, you must also do to the other side.",
    "Multiplication and division are done before addition and subtraction.",
    "An even number can be divided by 2 with no remainder; an odd number cannot.",
    "A discount is an amount taken off a price; the sale price is the old price minus the discount.",
    "Profit is the selling price minus the cost.",
    "The median is the middle value when the numbers are put in order.",
    "The range of a list of numbers is the largest value minus the smallest value.",
    "Half of a number is the number divided by 2, and double a number is the number times 2.",
)


class MathText:
    """An endless, seeded stream of math documents."""

    def __init__(self, seed: int, exclude: set[str], held_out: frozenset = frozenset(), purpose: str = "math-text"):
        self.rng = make_rng(seed, purpose)
        self.exclude = exclude  # problem texts that must not appear (the test sets)
        # The test sets' computations but the one-step facts on digits (`Holdout.for_text`): the
        # text states those, as FineMath would, but never writes one of these as consecutive
        # steps, or CPT would show the CPT branch the test's computations in other words (finding 4
        # compares it with a branch without CPT).
        self.held_out = held_out
        self.held_lengths = sorted({len(c) for c in held_out})
        kinds = [(self.lesson_doc, 30), (self.worked_doc, 30), (self.drill_doc, 14),
                 (self.table_doc, 6), (self.forum_doc, 12), (self.glossary_doc, 4),
                 (self.practice_doc, 8), (self.basics_doc, 24)]
        self.kinds = [k for k, _ in kinds]
        self.weights = [w for _, w in kinds]

    def documents(self) -> Iterator[str]:
        while True:
            doc = self.rng.choices(self.kinds, weights=self.weights)[0]()
            if not self._writes_held_out(doc):  # two problems' steps in a row could form one too
                yield doc

    def _writes_held_out(self, text) -> bool:
        return writes_any(equations(text), self.held_out, self.held_lengths)

    # -- document kinds ------------------------------------------------------------------------
    def lesson_doc(self) -> str:
        rng = self.rng
        skill = rng.choice(SKILLS)
        title = rng.choice(("Lesson", "Chapter", "Unit", "Topic", "Notes")) + ": " + {
            "addition": "Adding whole numbers", "subtraction": "Subtracting whole numbers",
            "multiplication": "Multiplying whole numbers", "division": "Dividing with and without remainders",
            "fractions": "Fractions of a quantity", "percentages": "Percentages and discounts",
            "rates": "Speed, distance and time", "equations": "Solving simple equations",
            "area": "Area and perimeter", "averages": "Averages", "order": "The order of operations",
            "rounding": "Rounding numbers"}[skill]
        parts = [title]
        intro = [g for g in GLOSSARY if _about(g, skill)]
        if intro:
            parts.append(" ".join(rng.sample(intro, min(len(intro), rng.randint(1, 2)))))
        for i in range(rng.randint(2, 4)):
            q, steps, ans = self.skill_example(skill)
            parts.append(f"Example {i + 1}. {q}\n" + "\n".join(steps) + f"\nSo the answer is {ans}.")
        if rng.random() < 0.5:
            parts.append(rng.choice(("Always check your answer by working backwards.",
                                     "Write each step on its own line so you can check it.",
                                     "Estimate first, then calculate, then compare.",
                                     "Remember to include the units in your answer.")))
        return "\n\n".join(parts)

    def worked_doc(self) -> str:
        rng = self.rng
        # The whole ladder, basic tiers included, so CPT on this text teaches what every test
        # level asks (never a test problem itself).
        kind, level = rng.choices(POOL_LADDER, weights=(0.12, 0.16, 0.12, 0.24, 0.2, 0.16))[0]
        for _ in range(50):
            if kind == "basic":
                p = basic(rng, level)
            else:
                p = make_problem(rng, level, rng.choice(FAMILY_NAMES))
            if p.text not in self.exclude and not self._writes_held_out(p.steps):
                break
        else:  # pragma: no cover
            return self.drill_doc()
        style = rng.randrange(4)
        if style == 0:
            return f"Problem: {p.text}\n\nSolution:\n" + "\n".join(p.steps) + \
                   f"\nThe answer is {p.answer}."
        if style == 1:
            return f"{p.text}\n\n" + " ".join(p.steps) + f" The final answer is \\boxed{{{p.answer}}}."
        if style == 2:
            return f"Worked example ({p.family}, {'basic tier' if kind == 'basic' else 'level'} {level})\n\n{p.text}\n\n" + \
                   "\n".join(f"Step {i + 1}: {s}" for i, s in enumerate(p.steps)) + \
                   f"\n\nAnswer: {p.answer}"
        return f"Q: {p.text}\nA: " + " ".join(p.steps) + f" So the answer is {p.answer}."

    def drill_doc(self) -> str:
        """Arithmetic facts in words and symbols: what the math cloze set tests."""
        rng = self.rng
        kind = rng.choice(af.KINDS)
        lines = [rng.choice(("Fact practice", "Mental maths", "Number facts", "Quick facts",
                             "Learn these facts")) + f": {kind}"]
        facts = [af.random_fact(rng, kind) for _ in range(rng.randint(5, 12))]
        for f in facts:
            r = rng.random()
            if r < 0.45:
                lines.append(f.sentence(words=True))
            elif r < 0.75:
                lines.append(f.sentence(words=False))
            else:
                lines.append(f"{f.sentence(words=False)}, so {f.sentence(words=True)[0].lower()}"
                             f"{f.sentence(words=True)[1:]}")
        return "\n".join(lines)

    def table_doc(self) -> str:
        rng = self.rng
        n = rng.randint(2, 12)
        if rng.random() < 0.5:
            rows = [f"{n} * {k} = {n * k}" for k in range(1, 13)]
            return f"The {n} times table\n\n" + "\n".join(rows)
        rows = [f"{number_words(n).capitalize()} times {number_words(k)} equals "
                f"{number_words(n * k)}." for k in range(1, 11)]
        return f"Multiplying by {number_words(n)}\n\n" + " ".join(rows)

    def forum_doc(self) -> str:
        rng = self.rng
        skill = rng.choice(SKILLS)
        q, steps, ans = self.skill_example(skill)
        who = person(rng)
        asker = rng.choice(("a student", "a parent", "someone", who.name))
        return (f"Question from {asker}: {q} I keep getting the wrong answer.\n\n"
                f"Reply: Let's do it step by step. " + " ".join(steps) +
                f" So the answer is {ans}. " + rng.choice(("Hope this helps!", "Good luck!",
                                                          "Practise a few more like this.", "")))

    def glossary_doc(self) -> str:
        rng = self.rng
        items = rng.sample(GLOSSARY, rng.randint(4, 9))
        return "Glossary\n\n" + "\n".join(f"- {g}" for g in items)

    def basics_doc(self) -> str:
        """A worksheet of the ladder's basic tiers, each worked in the pool's notation. The bottom
        rungs (copy two digits, apply one operation) are what a 1M-4M model can learn, and this is
        where math CPT teaches them: at 12K tokens/s a CPT run sees thousands of these, far more than
        a few thousand SFT examples can show (measured: after SFT alone, a 1M model was at chance on
        the bare operations, whose answers it wrote in the right format with the wrong digits)."""
        rng = self.rng
        title = rng.choice(("Warm-up", "Quick practice", "Mental maths", "Worksheet", "Try these"))
        lines = [f"{title}: {rng.choice(('one-step problems', 'small numbers', 'basic problems', 'practice'))}"]
        style = rng.randrange(3)
        for i in range(rng.randint(6, 12)):
            p = basic(rng, rng.choice((1, 1, 2, 2, 3)))
            if p.text in self.exclude or self._writes_held_out(p.steps):
                continue
            work = " ".join(p.steps)
            if style == 0:
                lines.append(f"Q: {p.text}\nA: {work} The answer is {p.answer}.")
            elif style == 1:
                lines.append(f"{i + 1}. {p.text} {work} So the answer is {p.answer}.")
            else:
                lines.append(f"{p.text}\n{work}\nThe final answer is \\boxed{{{p.answer}}}")
        return "\n".join(lines)

    def practice_doc(self) -> str:
        rng = self.rng
        lines = ["Practice questions with answers"]
        for i in range(rng.randint(4, 8)):
            q, _, ans = self.skill_example(rng.choice(SKILLS))
            lines.append(f"{i + 1}. {q} Answer: {ans}")
        return "\n".join(lines)

    # -- short skill examples (question, steps, answer) ---------------------------------------
    def skill_example(self, skill: str) -> tuple[str, list[str], int]:
        rng = self.rng
        if skill == "addition":
            a, b = rng.randint(10, 999), rng.randint(10, 999)
            return (f"What is {a} + {b}?", [f"Add the numbers: {a} + {b} = {a + b}."], a + b)
        if skill == "subtraction":
            a = rng.randint(20, 999)
            b = rng.randint(1, a)
            return (f"What is {a} - {b}?", [f"Subtract: {a} - {b} = {a - b}.",
                                            f"Check: {a - b} + {b} = {a}."], a - b)
        if skill == "multiplication":
            a, b = rng.randint(2, 99), rng.randint(2, 20)
            tens, ones = a // 10 * 10, a % 10
            return (f"Work out {a} * {b}.",
                    [f"Split {a} into {tens} and {ones}.", f"{tens} * {b} = {tens * b} and {ones} * {b} = {ones * b}.",
                     f"{tens * b} + {ones * b} = {a * b}."], a * b)
        if skill == "division":
            d, q = rng.randint(2, 12), rng.randint(2, 60)
            r = rng.randint(0, d - 1)
            n = d * q + r
            steps = [f"{d} * {q} = {d * q}, which is the largest multiple of {d} not above {n}."]
            steps.append(f"So {n} / {d} = {q}" + (f" with remainder {n - d * q}." if r else " exactly."))
            return (f"Divide {n} by {d}. What is the whole-number quotient?", steps, q)
        if skill == "fractions":
            num, den, words = fraction(rng)
            n = den * rng.randint(2, 30)
            return (f"What is {words} of {n}?",
                    [f"Divide by {den}: {n} / {den} = {n // den}.",
                     f"Multiply by {num}: {n // den} * {num} = {n // den * num}."], n // den * num)
        if skill == "percentages":
            p = rng.choice((10, 20, 25, 50, 75))
            n = rng.randint(1, 40) * (100 // {10: 10, 20: 20, 25: 25, 50: 50, 75: 25}[p])
            return (f"What is {p}% of {n}?", [f"{n} * {p} / 100 = {n * p // 100}."], n * p // 100)
        if skill == "rates":
            s, t = rng.randint(3, 90), rng.randint(2, 8)
            return (f"A cyclist rides {s * t} kilometres in {t} hours. What is the speed?",
                    [f"Speed = distance / time = {s * t} / {t} = {s} kilometres per hour."], s)
        if skill == "equations":
            k, x, a = rng.randint(2, 9), rng.randint(1, 30), rng.randint(1, 40)
            return (f"Solve {k}x + {a} = {k * x + a}.",
                    [f"Subtract {a}: {k}x = {k * x}.", f"Divide by {k}: x = {x}."], x)
        if skill == "area":
            length, width = rng.randint(2, 30), rng.randint(2, 30)
            if rng.random() < 0.5:
                return (f"A rectangle is {length} cm by {width} cm. What is its area?",
                        [f"Area = {length} * {width} = {length * width} square centimetres."], length * width)
            return (f"A rectangle is {length} cm by {width} cm. What is its perimeter?",
                    [f"Perimeter = 2 * ({length} + {width}) = 2 * {length + width} = {2 * (length + width)} cm."],
                    2 * (length + width))
        if skill == "averages":
            k = rng.randint(2, 5)
            vals = [rng.randint(1, 50) for _ in range(k)]
            vals[-1] += (-sum(vals)) % k
            return (f"Find the mean of {', '.join(map(str, vals))}.",
                    [f"The sum is {' + '.join(map(str, vals))} = {sum(vals)}.",
                     f"There are {k} numbers, so the mean is {sum(vals)} / {k} = {sum(vals) // k}."],
                    sum(vals) // k)
        if skill == "order":
            a, b, c = rng.randint(1, 20), rng.randint(2, 12), rng.randint(2, 12)
            return (f"Work out {a} + {b} * {c}.",
                    [f"Multiply first: {b} * {c} = {b * c}.", f"Then add: {a} + {b * c} = {a + b * c}."],
                    a + b * c)
        n = rng.randint(100, 9999)
        r = (n + 5) // 10 * 10
        return (f"Round {n} to the nearest ten.",
                [f"The ones digit is {n % 10}, so we round {'up' if n % 10 >= 5 else 'down'}.",
                 f"{n} rounded to the nearest ten is {r}."], r)


def _about(definition: str, skill: str) -> bool:
    keys = {"addition": ("sum",), "subtraction": ("difference",), "multiplication": ("product",),
            "division": ("quotient", "remainder", "divided"), "fractions": ("fraction",),
            "percentages": ("percent", "discount", "profit"), "rates": ("speed",),
            "equations": ("equation",), "area": ("perimeter", "area"), "averages": ("average", "median", "range"),
            "order": ("before addition",), "rounding": ("even number",)}[skill]
    return any(k in definition for k in keys)
