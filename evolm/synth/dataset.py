"""The synthetic dataset as a whole: which generator writes which file, at which size.

Writes general-domain text (FineWeb-Edu stand-in), math-domain text (FineMath stand-in), an
SFT/RL problem pool (mathaug stand-in), in-domain and out-of-domain test sets in the paper's file
format and prompt wrappers, cloze sets for upstream evaluation, a dataset card and a summary.
Same seed and scale, same bytes: every random stream is derived from (seed, purpose) by sha256,
JSON keys are sorted, and nothing records a time or an absolute path. Standard library only,
plus evolm's one JSONL writer (`evolm.jsonl`).

Layout of `out`:
    text/general.jsonl  text/math.jsonl  pool/mathpool.jsonl
    benchmarks/SynthMathBasic{1,2,3}.jsonl  benchmarks/SynthMathLevel{1,2,3}.jsonl
    benchmarks/Synth{CodeBasic,Code,Rules,TableBasic,Table,Facts}.jsonl
    cloze/SynthCloze{Facts,Math,Text}.jsonl  DATASET.md  synth.json
"""

from __future__ import annotations

import json
import pathlib
from typing import Callable, Iterator

from evolm.jsonl import JsonlWriter, write_jsonl
from evolm.synth import card, cloze
from evolm.synth.math import word_problems
from evolm.synth.math.holdout import Holdout, equations
from evolm.synth.math.math_text import MathText
from evolm.synth.ood import code_output, facts, rules, tables
from evolm.synth.text import size_text
from evolm.synth.world.entities import build_world
from evolm.synth.world.general_text import GeneralText

GENERATOR = "evolm-synth"
VERSION = 6  # 2: the basic tiers of the difficulty ladder, one-word cloze text distractors;
# 3: test sets disjoint from the pool by computation, not only by text; 4: basic tier 3 composes
# equations the pool teaches; 5: tier 3 asks each computation on at most as many rows as the set's
# size needs; 6: the math text writes no test computation but the one-step facts on digits
# The bytes training reads (the general and math text, the math pool) have a version of their own: a
# study's runs are keyed by it (evolm.study.plan), so a change to test sets only (VERSION up, this one
# not) evaluates the runs again instead of training them again. It is the last data version that
# changed those bytes, or 5, where it started: version 5's training bytes are version 4's, but the
# studies made before it keyed their runs by 5. tests/test_synth.py holds their hashes at the tiny scale.
TRAINING_VERSION = 6
SCALES = ("tiny", "small", "full")

# One table for every size. Text budgets are JSONL bytes; about 4 characters per token for the
# small BPE tokenizers of the miniature study, so "small" is about 3M general tokens.
SIZES: dict[str, dict[str, int]] = {
    "tiny": {"general_bytes": 1_500_000, "math_bytes": 1_000_000, "pool": 2_000,
             "test": 100, "cloze": 100},
    "small": {"general_bytes": 12_000_000, "math_bytes": 8_000_000, "pool": 20_000,
              "test": 500, "cloze": 1_000},
    "full": {"general_bytes": 100_000_000, "math_bytes": 60_000_000, "pool": 100_000,
             "test": 1_000, "cloze": 1_000},
}

# The suites of the files written, as recorded in synth.json. The task declarations
# (evolm/eval/tasks) are their home; tests/test_synth.py checks these agree with them.
SUITES = {
    "synth-id": ["SynthMathBasic1", "SynthMathBasic2", "SynthMathBasic3", "SynthMathLevel1", "SynthMathLevel2", "SynthMathLevel3"],
    "synth-ood": ["SynthCodeBasic", "SynthCode", "SynthRules", "SynthTableBasic", "SynthTable", "SynthFacts"],
    "cloze": ["SynthClozeFacts", "SynthClozeMath", "SynthClozeText"],
}


def generate(out: pathlib.Path, *, seed: int = 0, scale: str = "tiny",
             log: Callable[[str], None] = lambda msg: None) -> dict:
    """Write every synthetic file into the existing empty directory `out`; return the summary
    dict that is also written to out/synth.json."""
    if scale not in SIZES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    out = pathlib.Path(out)
    size = SIZES[scale]
    world = build_world(seed)
    files: dict[str, dict] = {}

    def record(rel: str, info: dict) -> None:
        files[rel] = info
        log(f"{rel}: {info['rows']:,} rows, {size_text(info['bytes'])}")

    def save(rel: str, rows) -> list[dict]:
        rows = list(rows)
        record(rel, write_jsonl(out / rel, rows))
        return rows

    record("text/general.jsonl", _write_text(out / "text/general.jsonl", "general",
                                             GeneralText(world, seed).documents(),
                                             size["general_bytes"]))

    # The pool, then the test sets: no test set shares a computation with the pool
    # (`evolm.synth.math.holdout`) nor a text with another test set.
    holdout = Holdout(seed)
    save("pool/mathpool.jsonl", word_problems.pool_rows(seed, size["pool"], holdout))
    test_texts: set[str] = set()
    test_rows = []
    for tier in (1, 2, 3):
        test_rows += save(f"benchmarks/SynthMathBasic{tier}.jsonl",
                          word_problems.basic_test_rows(seed, tier, size["test"], holdout, test_texts))
    for level in (1, 2, 3):
        test_rows += save(f"benchmarks/SynthMathLevel{level}.jsonl",
                          word_problems.test_rows(seed, level, size["test"], holdout, test_texts))

    asked = {equations(r["gt_solution"]) for r in test_rows}
    record("text/math.jsonl", _write_text(out / "text/math.jsonl", "math",
                                          MathText(seed, test_texts, holdout.for_text(asked)).documents(),
                                          size["math_bytes"]))

    n = size["test"]
    save("benchmarks/SynthCodeBasic.jsonl", code_output.synth_code_basic_rows(seed, n))
    save("benchmarks/SynthCode.jsonl", code_output.synth_code_rows(seed, n))
    save("benchmarks/SynthRules.jsonl", rules.synth_rules_rows(seed, n))
    save("benchmarks/SynthTableBasic.jsonl", tables.synth_table_basic_rows(seed, n))
    save("benchmarks/SynthTable.jsonl", tables.synth_table_rows(seed, n))
    save("benchmarks/SynthFacts.jsonl", facts.synth_facts_rows(world, seed, n))

    m = size["cloze"]
    save("cloze/SynthClozeFacts.jsonl", cloze.cloze_facts_rows(world, seed, m))
    save("cloze/SynthClozeMath.jsonl", cloze.cloze_math_rows(seed, m))
    save("cloze/SynthClozeText.jsonl", cloze.cloze_text_rows(world, seed, m))

    summary = {
        "generator": GENERATOR,
        "version": VERSION,
        "training_version": TRAINING_VERSION,
        "seed": seed,
        "scale": scale,
        "sizes": dict(size),
        "world": world.stats(),
        "suites": {k: list(v) for k, v in SUITES.items()},
        "files": files,
    }
    (out / "DATASET.md").write_bytes(card.render_card(summary, world.stats()).encode("utf-8"))
    log("DATASET.md: dataset card")
    (out / "synth.json").write_bytes(
        (json.dumps(summary, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8"))
    log("synth.json: summary")
    return summary


def _write_text(path: pathlib.Path, prefix: str, documents: Iterator[str], budget: int) -> dict:
    """Documents until the file reaches `budget` bytes (a smaller budget gives a prefix)."""
    writer = JsonlWriter(path)
    try:
        while writer.bytes < budget:
            writer.write({"id": f"{prefix}-{writer.rows:06d}", "text": next(documents)})
    finally:
        info = writer.close()
    return info

