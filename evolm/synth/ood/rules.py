"""SynthRules: BoardgameQA-style defeasible reasoning, True / False / Uncertain.

A problem is built backwards from its question: a chain of rules (1-3 deep) whose leaves are game
facts or attribute facts, optionally a conflicting rule plus a preference that settles it (or a
preferred rule that does not fire), then distractor facts and rules. The label is never taken from
the construction: `rules_logic.solve` computes it from the stated facts and rules, and a problem
is kept only if the solver finds it consistent and its answer is the label the balanced schedule
asked for. The wording (prompt, animals, relations, rule templates) is in `rules_wording.py`.
"""

from __future__ import annotations

import random

from evolm.synth.ood.rules_logic import (CATEGORIES, CITIES, OTHER_COLOURS, RAINBOW, VAR, Cond,
                                         Lit, Rule, solve)
from evolm.synth.ood.rules_wording import (ANIMALS, ATTR_NEG, ATTR_POS, CONCL_NEG, CONCL_POS,
                                           EXISTS, ONE, PET_NAMES, PROMPT_HEAD, QUESTION, RELATIONS,
                                           TWO, VAR1_NEG, VAR1_POS, VAR2)
from evolm.synth.rng import balanced_schedule, make_rng
from evolm.synth.text import cap, small_number, with_article


class Builder:
    """Accumulates one problem's animals, facts, attributes, rules and preferences."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.animals = rng.sample(ANIMALS, rng.randint(6, 10))
        self.facts: dict[tuple, Lit] = {}
        self.attrs: dict[str, dict] = {}
        self.rules: list[Rule] = []
        self.prefs: list[tuple[int, int]] = []
        self.used: set[tuple] = set()  # literal keys already in play (membership only)

    # -- phrasing ----------------------------------------------------------------------------
    @staticmethod
    def third(rel: int, obj: str) -> str:
        return RELATIONS[rel][0].format(o=obj)

    @staticmethod
    def base(rel: int, obj: str) -> str:
        return RELATIONS[rel][1].format(o=obj)

    def lit_vp(self, lit: Lit) -> str:
        """'hugs the dove' or 'does not hug the dove'."""
        return self.third(lit.rel, lit.obj) if lit.pos else "does not " + self.base(lit.rel, lit.obj)

    def concl(self, lit: Lit) -> str:
        c = f"the {lit.subj}"
        t = self.rng.choice(CONCL_POS if lit.pos else CONCL_NEG)
        return t.format(c=c, third=self.third(lit.rel, lit.obj), base=self.base(lit.rel, lit.obj))

    # -- literals and leaves -------------------------------------------------------------------
    def fresh(self, subj: str | None = None, obj: str | None = None, pos: bool | None = None) -> Lit:
        rng = self.rng
        for _ in range(200):
            s = subj or rng.choice(self.animals)
            o = obj or rng.choice(self.animals)
            rel = rng.randrange(len(RELATIONS))
            if s != o and (rel, s, o) not in self.used:
                self.used.add((rel, s, o))
                return Lit(rel, s, o, rng.random() < 0.7 if pos is None else pos)
        raise RuntimeError("no fresh literal")  # pragma: no cover

    def add_fact(self, lit: Lit) -> list:
        self.facts[lit.key] = lit
        return [("fact", lit.key)]

    def attr_condition(self, s: str) -> tuple[Cond, str, list] | None:
        """A true attribute condition about s, its text, and the leaves that make it true."""
        rng = self.rng
        kinds = ["rainbow", "color_letter", "richer", "same_initial", "in_country", "age",
                 "has_cat", "friends"]
        rng.shuffle(kinds)
        a = self.attrs.setdefault(s, {})
        others = [x for x in self.animals if x != s]
        for kind in kinds:
            if kind == "rainbow" and "card" not in a:
                a["card"] = rng.choice(RAINBOW)
                return (Cond("attr", attr="rainbow", subj=s),
                        "has a card whose color is one of the rainbow colors",
                        [("attr", s, "card", rng.choice(OTHER_COLOURS))])
            if kind == "color_letter" and "card" not in a:
                a["card"] = rng.choice(RAINBOW + OTHER_COLOURS)
                letter = a["card"][0]
                bad = rng.choice([c for c in RAINBOW + OTHER_COLOURS if c[0] != letter])
                return (Cond("attr", attr="color_letter", subj=s, param=letter),
                        f'has a card whose color starts with the letter "{letter}"',
                        [("attr", s, "card", bad)])
            if kind == "richer" and "money" not in a:
                o = rng.choice(others)
                ao = self.attrs.setdefault(o, {})
                if "money" not in ao:
                    ao["money"] = rng.randint(5, 90)
                a["money"] = ao["money"] + rng.randint(1, 40)
                return (Cond("attr", attr="richer", subj=s, param=o),
                        f"has more money than the {o}",
                        [("attr", s, "money", max(0, ao["money"] - rng.randint(0, 30)))])
            if kind == "same_initial" and "name" not in a:
                o = rng.choice(others)
                ao = self.attrs.setdefault(o, {})
                if "name" not in ao:
                    ao["name"] = rng.choice(PET_NAMES)
                same = [n for n in PET_NAMES if n[0] == ao["name"][0]]
                a["name"] = rng.choice(same)
                bad = rng.choice([n for n in PET_NAMES if n[0] != ao["name"][0]])
                return (Cond("attr", attr="same_initial", subj=s, param=o),
                        f"has a name whose first letter is the same as the first letter of the {o}'s name",
                        [("attr", s, "name", bad)])
            if kind == "in_country" and "city" not in a:
                a["city"] = rng.choice(sorted(CITIES))
                country = CITIES[a["city"]]
                bad = rng.choice([c for c in sorted(CITIES) if CITIES[c] != country])
                return (Cond("attr", attr="in_country", subj=s, param=country),
                        f"is in {country} at the moment", [("attr", s, "city", bad)])
            if kind == "age" and "age_months" not in a:
                years = rng.randint(1, 5)
                if rng.random() < 0.5:
                    a["age_months"] = 12 * years + rng.randint(1, 30)
                    return (Cond("attr", attr="older", subj=s, param=years),
                            f"is more than {_years(years)} old",
                            [("attr", s, "age_months", rng.randint(1, 12 * years))])
                a["age_months"] = rng.randint(1, 12 * years - 1)
                return (Cond("attr", attr="younger", subj=s, param=years),
                        f"is less than {_years(years)} old",
                        [("attr", s, "age_months", 12 * years + rng.randint(0, 30))])
            if kind == "has_cat" and "item" not in a:
                cat = rng.choice(sorted(CATEGORIES))
                a["item"] = rng.choice(CATEGORIES[cat])
                bad_cat = rng.choice([c for c in sorted(CATEGORIES) if c != cat])
                return (Cond("attr", attr="has_cat", subj=s, param=cat), f"has {cat}",
                        [("attr", s, "item", rng.choice(CATEGORIES[bad_cat]))])
            if kind == "friends" and "friends" not in a:
                k = rng.randint(2, 10)
                if rng.random() < 0.5:
                    a["friends"] = k + rng.randint(1, 6)
                    return (Cond("attr", attr="friends_more", subj=s, param=k),
                            f"has more than {k} friends", [("attr", s, "friends", rng.randint(0, k))])
                a["friends"] = rng.randint(0, k - 1)
                return (Cond("attr", attr="friends_fewer", subj=s, param=k),
                        f"has fewer than {k} friends", [("attr", s, "friends", k + rng.randint(0, 5))])
        return None

    # -- proofs --------------------------------------------------------------------------------
    def prove(self, goal: Lit, depth: int) -> tuple[int, list]:
        """Add a rule (and what it needs) that derives `goal`; return its index and its leaves."""
        rng = self.rng
        leaves: list = []

        def support(m: Lit) -> None:
            if depth > 1 and rng.random() < 0.6:
                _, sub = self.prove(m, depth - 1)
                leaves.extend(sub)
            else:
                leaves.extend(self.add_fact(m))

        def text(templates: tuple[str, ...], **kw) -> str:
            return rng.choice(templates).format(s=s, third=third, base=base, **kw)

        kind = rng.choice(("attr", "one", "two", "exists", "var1", "var2"))
        third, base = self.third(goal.rel, goal.obj), self.base(goal.rel, goal.obj)
        s = goal.subj
        if kind == "attr":
            found = self.attr_condition(s)
            if found is not None:
                cond, cond_text, leaf = found
                leaves.extend(leaf)
                t = text(ATTR_POS if goal.pos else ATTR_NEG, cond=cond_text)
                return self._add_rule((cond,), goal, t), leaves
            kind = "one"
        if kind == "one":
            m = self.fresh(obj=s if rng.random() < 0.6 else None)
            support(m)
            t = text(ONE, a=m.subj, lit=self.lit_vp(m), concl=self.concl(goal))
            return self._add_rule((Cond("lit", m),), goal, cap(t)), leaves
        if kind == "two":
            m1 = self.fresh(obj=s if rng.random() < 0.5 else None)
            m2 = self.fresh(obj=s if rng.random() < 0.5 else None)
            support(m1)
            support(m2)
            claim = f"the {s} {third}" if goal.pos else f"the {s} does not {base}"
            t = text(TWO, a=m1.subj, lit1=self.lit_vp(m1), b=m2.subj, lit2=self.lit_vp(m2),
                     concl=self.concl(goal), claim=claim)
            return self._add_rule((Cond("lit", m1), Cond("lit", m2)), goal, t), leaves
        if kind == "exists":
            m = self.fresh(pos=True)
            support(m)
            t = text(EXISTS, vp=self.third(m.rel, m.obj), concl=self.concl(goal))
            return self._add_rule((Cond("exists", Lit(m.rel, VAR, m.obj, True)),), goal, t), leaves
        general = Lit(goal.rel, VAR, goal.obj, goal.pos)  # "something" / "one of the animals"
        concl_vp = third if goal.pos else f"does not {base}"
        if kind == "var1":
            m = self.fresh(subj=s)
            support(m)
            t = text(VAR1_POS if goal.pos else VAR1_NEG, vp=self.lit_vp(m))
            return self._add_rule((Cond("lit", Lit(m.rel, VAR, m.obj, m.pos)),), general, t), leaves
        m1, m2 = self.fresh(subj=s), self.fresh(subj=s)
        support(m1)
        support(m2)
        t = text(VAR2, vp1=self.lit_vp(m1), vp2=self.lit_vp(m2), concl_vp=concl_vp,
                 surely="" if goal.pos else "not ")
        conds = (Cond("lit", Lit(m1.rel, VAR, m1.obj, m1.pos)),
                 Cond("lit", Lit(m2.rel, VAR, m2.obj, m2.pos)))
        return self._add_rule(conds, general, t), leaves

    def _add_rule(self, conds, concl: Lit, text: str) -> int:
        self.rules.append(Rule(conds, concl, text))
        return len(self.rules) - 1

    def break_leaf(self, leaves: list) -> None:
        """Make one leaf false: drop or negate a fact, or change an attribute."""
        leaf = self.rng.choice(leaves)
        if leaf[0] == "fact":
            lit = self.facts.pop(leaf[1])
            if self.rng.random() < 0.5:
                self.facts[lit.key] = lit.negated()
        else:
            _, s, field, bad = leaf
            self.attrs[s][field] = bad

    # -- rendering ---------------------------------------------------------------------------
    def render(self, question: Lit) -> str:
        rng = self.rng
        sentences = []
        for lit in self.facts.values():
            sentences.append(f"The {lit.subj} {self.lit_vp(lit)}.")
        for s, a in self.attrs.items():
            parts = []
            for field in sorted(a):
                v = a[field]
                parts.append({
                    "card": lambda: f"has a card that is {v} in color",
                    "money": lambda: f"has {v} dollars",
                    "name": lambda: f"is named {v}",
                    "city": lambda: f"is currently in {v}",
                    "age_months": lambda: (f"is {_years(v // 12)} old" if v % 12 == 0
                                           else f"is {v} months old"),
                    "item": lambda: f"has {with_article(v)}",
                    "friends": lambda: f"has {v} friends",
                }[field]())
            if parts:
                rng.shuffle(parts)
                joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + ", and " + parts[-1]
                sentences.append(f"The {s} {joined}.")
        rng.shuffle(sentences)
        order = list(range(len(self.rules)))
        rng.shuffle(order)
        number = {old: new + 1 for new, old in enumerate(order)}
        rules_text = " ".join(f"Rule{number[i]}: {self.rules[i].text}" for i in order)
        prefs = sorted((number[w], number[l]) for w, l in self.prefs)
        prefs_text = "".join(f" Rule{w} is preferred over Rule{l}." for w, l in prefs)
        q = QUESTION.format(s=question.subj, base=self.base(question.rel, question.obj))
        return (PROMPT_HEAD + " ".join(sentences) + " And the rules of the game are as follows. "
                + rules_text + prefs_text + " " + q)


def _years(n: int) -> str:
    return "one year" if n == 1 else f"{small_number(n)} years"


def build(rng: random.Random, target: str) -> str | None:
    """One attempt at a problem whose solved answer is `target`; None if it came out otherwise."""
    b = Builder(rng)
    goal = b.fresh(pos=(target == "True") if target != "Uncertain" else rng.random() < 0.5)
    main, leaves = b.prove(goal, rng.choice((1, 2, 2, 3)))
    if target == "Uncertain":
        b.break_leaf(leaves)
    r = rng.random()
    if r < 0.3:  # a rule for the opposite conclusion; a preference for the main rule decides
        other, other_leaves = b.prove(goal.negated(), 1)
        if target == "Uncertain":
            b.break_leaf(other_leaves)
        b.prefs.append((main, other))
    elif r < 0.55:  # the opposite rule is preferred, but it does not fire
        other, other_leaves = b.prove(goal.negated(), 1)
        b.break_leaf(other_leaves)
        b.prefs.append((other, main))
    for _ in range(rng.randint(1, 4)):  # distractor facts
        b.add_fact(b.fresh())
    for _ in range(rng.randint(0, 2)):  # distractor rules, some of which fire
        _, dl = b.prove(b.fresh(), rng.choice((1, 2)))
        if rng.random() < 0.5:
            b.break_leaf(dl)
    if len(b.rules) > 12 or goal.key in b.facts:
        return None
    animals = sorted(set(b.animals) | {x for lit in b.facts.values() for x in (lit.subj, lit.obj)})
    question = Lit(goal.rel, goal.subj, goal.obj, True)  # always "does the X ...?"
    sol = solve(animals, b.facts.values(), b.attrs, b.rules, set(b.prefs))
    if not sol.consistent or sol.answer(question) != target:
        return None
    return b.render(question)


def synth_rules_rows(seed: int, n: int) -> list[dict]:
    rng = make_rng(seed, "synth-rules")
    labels = balanced_schedule(rng, ("True", "False", "Uncertain"), n)
    rows = []
    for i, label in enumerate(labels):
        for _ in range(500):
            made = build(rng, label)
            if made is not None:
                break
        else:  # pragma: no cover
            raise RuntimeError(f"could not build a SynthRules problem with answer {label}")
        rows.append({"id": f"SynthRules-{i:04d}", "problem": made, "gt_solution": label,
                     "gt_answer": label})
    return rows
