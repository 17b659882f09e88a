"""Multiple-choice cloze sets for upstream evaluation (offline stand-ins for HellaSwag, ARC...).

Rows are {"id", "query", "choices": [4 strings], "gold": int}; a model scores
`query + " " + choice` and picks the most likely (lm-eval's acc / acc_norm). Three sets probe
three things pre-training should teach, each with its answer computed, not written:
- SynthClozeFacts: recall of a WORLD fact the general text states ("The capital of Varnia is").
- SynthClozeMath: arithmetic facts the math text states ("Seven plus five equals").
- SynthClozeText: fluency and knowledge of the world's text: the real continuation of a
  general-text sentence vs. the same continuation with one word replaced by a word of another
  sentence (the same slot in all three). Word-order scrambles, the first design, were told apart
  at 98-100% after 500K tokens, leaving no headroom to show diminishing returns; which word fits
  a slot is learnt gradually, rare contexts last.
Gold positions follow a balanced schedule, so always answering "A" scores exactly 25%.
"""

from __future__ import annotations

import random

from evolm.synth.math import arith_facts as af
from evolm.synth.rng import Zipf, balanced_schedule, make_rng
from evolm.synth.world import fact_sentences as fs
from evolm.synth.world.entities import World
from evolm.synth.world.general_text import general_sentence_stream


def _row(rng: random.Random, row_id: str, query: str, gold: str, wrong: list[str],
         position: int) -> dict:
    """One cloze row: the wrong choices shuffled, the gold one put at `position`."""
    wrong = list(wrong)
    rng.shuffle(wrong)
    return {"id": row_id, "query": query, "choices": wrong[:position] + [gold] + wrong[position:],
            "gold": position}


def cloze_facts_rows(world: World, seed: int, n: int) -> list[dict]:
    """Entities are drawn with Zipf(0.5) weights over popularity, so the set mixes facts the
    text repeats constantly with facts it states rarely (accuracy keeps rising with tokens)."""
    rng = make_rng(seed, "cloze-facts")
    positions = balanced_schedule(rng, (0, 1, 2, 3), n)
    pickers = {r.name: Zipf(getattr(world, r.entities), 0.5) for r in fs.RELATIONS}
    values = {r.name: r.values(world) for r in fs.RELATIONS}
    rows, seen = [], set()
    while len(rows) < n:
        rel = rng.choice(fs.RELATIONS)
        ent = pickers[rel.name](rng)
        query = rel.query.format(s=rel.subject(ent))
        if query in seen:
            continue
        seen.add(query)
        gold = rel.answer(ent)
        wrong = rng.sample([v for v in values[rel.name] if v != gold], 3)
        rows.append(_row(rng, f"SynthClozeFacts-{len(rows):04d}", query, gold, wrong,
                         positions[len(rows)]))
    return rows


def cloze_math_rows(seed: int, n: int) -> list[dict]:
    rng = make_rng(seed, "cloze-math")
    positions = balanced_schedule(rng, (0, 1, 2, 3), n)
    rows, seen = [], set()
    while len(rows) < n:
        fact = af.random_fact(rng)
        words = rng.random() < 0.5
        query = fact.query(words)
        if query in seen:
            continue
        seen.add(query)
        wrong_vals = af.distractors(rng, fact)
        gold = fact.answer(words)
        wrong = [af.ArithFact(fact.kind, fact.a, fact.b, v).answer(words) for v in wrong_vals]
        rows.append(_row(rng, f"SynthClozeMath-{len(rows):04d}", query, gold, wrong,
                         positions[len(rows)]))
    return rows


def cloze_text_rows(world: World, seed: int, n: int) -> list[dict]:
    rng = make_rng(seed, "cloze-text")
    positions = balanced_schedule(rng, (0, 1, 2, 3), n)
    sentences = general_sentence_stream(world, seed, "cloze-text-sentences")
    rows, seen = [], set()
    recent: list[str] = []  # words of earlier sentences: the replacements
    while len(rows) < n:
        sentence = next(sentences)
        if '"' in sentence or "\n" in sentence:
            continue
        words = sentence.rstrip(".?").split()
        recent.extend(w for w in words if len(w) >= 3 and w.isalpha())
        del recent[:-2000]
        if len(words) < 9 or sentence in seen or len(recent) < 200:
            continue
        seen.add(sentence)
        end = sentence[-1]
        cut = rng.randint(max(3, len(words) // 3), len(words) - 5)
        query = " ".join(words[:cut])
        tail = words[cut:]
        gold = " ".join(tail) + end
        slots = [i for i, w in enumerate(tail) if len(w) >= 3 and w.isalpha()]
        if not slots:
            continue
        slot = rng.choice(slots)
        options = sorted({w for w in recent if w.lower() != tail[slot].lower()})
        if len(options) < 3:
            continue
        wrong = [" ".join(tail[:slot] + [w] + tail[slot + 1:]) + end for w in rng.sample(options, 3)]
        rows.append(_row(rng, f"SynthClozeText-{len(rows):04d}", query, gold, wrong,
                         positions[len(rows)]))
    return rows
