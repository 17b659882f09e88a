"""The embedded default data of a miniature EvoLM study, generated from a seed.

`generate(out, seed=..., scale=...)` writes general and math text, an SFT/RL problem pool,
in-domain and out-of-domain test sets and cloze sets into an empty directory; the same seed and
scale give the same bytes. The data stage (`evolm.stages.data.synth`) is the one caller that adds
what a command needs around it: refusing bad input and building the output atomically.

    dataset.py   what goes into which file, the size table, the summary (synth.json)
    card.py      the dataset card (DATASET.md)
    rng.py       seeded random streams, Zipf draws, balanced label schedules
    text.py      English text helpers: plurals, verb forms, articles, capitals, numbers in words
    people.py    given names with pronouns, for word problems and table questions
    cloze.py     the multiple-choice cloze sets (facts, arithmetic, fluency)
    world/       the seeded world and its text: names, lexicon, entities, fact wordings,
                 grammar, general-domain documents
    math/        word-problem families, the pool and SynthMath levels, arithmetic facts,
                 math-domain documents
    ood/         the out-of-domain sets: SynthCode, SynthRules, SynthTable, SynthFacts

Standard library only (plus `evolm.jsonl`), so the data needs nothing but Python.
"""

from evolm.synth.dataset import GENERATOR, SCALES, SIZES, SUITES, TRAINING_VERSION, VERSION, generate

__all__ = ["GENERATOR", "SCALES", "SIZES", "SUITES", "TRAINING_VERSION", "VERSION", "generate"]
