"""`evolm data synth`: the seeded synthetic data behind the miniature study (`evolm.synth`) and
the data stage that writes it (`evolm.stages.data.synth`).

Everything runs at scale "tiny" (well under a second per generation on a laptop CPU).
"""

from __future__ import annotations

import ast
import collections
import hashlib
import json
import shutil
import os
import pathlib
import random
import re
import subprocess
import sys

import pytest

from evolm.errors import BadInput
from evolm.stages.data import synth as synth_stage
from evolm.synth import SCALES, SIZES, generate
from evolm.synth.math.families_basic import basic, one_step_equations, two_step_equations
from evolm.synth.math.holdout import EQUATION, Holdout, equations
from evolm.synth.math import word_problems
from evolm.synth.math.word_problems import BASIC1_MAX_ROWS, BASIC3_MAX_ANSWER_SHARE, basic_test_rows
from evolm.synth.ood.code_output import SAFE_BUILTINS
from evolm.synth.ood.rules_logic import VAR, Cond, Lit, Rule, solve

BENCH_FIELDS = {"id", "problem", "gt_solution", "gt_answer"}


def _rows(path: pathlib.Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _tree_bytes(root: pathlib.Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> tuple[pathlib.Path, dict, list[str]]:
    out = tmp_path_factory.mktemp("synth-seed0")
    lines: list[str] = []
    summary = generate(out, seed=0, scale="tiny", log=lines.append)
    return out, summary, lines


def test_scales_and_sizes_table():
    assert SCALES == ("tiny", "small", "full")
    assert set(SIZES) == set(SCALES)
    assert SIZES["tiny"]["pool"] < SIZES["small"]["pool"] < SIZES["full"]["pool"]


def test_unknown_scale_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="scale"):
        generate(tmp_path, scale="huge")


def test_same_seed_gives_identical_bytes_and_another_seed_differs(synth, tmp_path):
    out, _, _ = synth
    again, other = tmp_path / "again", tmp_path / "other"
    again.mkdir()
    other.mkdir()
    generate(again, seed=0, scale="tiny")
    generate(other, seed=1, scale="tiny")
    first = _tree_bytes(out)
    assert _tree_bytes(again) == first
    different = _tree_bytes(other)
    assert different.keys() == first.keys()
    for rel in first:
        if rel.endswith(".jsonl"):
            assert different[rel] != first[rel], rel


def test_bytes_do_not_depend_on_the_process_hash_seed(synth, tmp_path):
    """Python randomises str hashes per process; nothing may depend on them."""
    out, summary, _ = synth
    code = ("import pathlib, sys; from evolm.synth import generate; "
            "generate(pathlib.Path(sys.argv[1]), seed=0, scale='tiny')")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, env=env,
                   cwd=pathlib.Path(__file__).resolve().parents[1])
    assert _tree_bytes(tmp_path) == _tree_bytes(out)


# The bytes training reads, at the tiny scale and seed 0, by evolm.synth.TRAINING_VERSION. A generator
# change that changes one of them changes what every study run trains on: it bumps TRAINING_VERSION
# (and VERSION) and adds its hashes here, so that studies train again instead of reusing runs made on
# the old bytes (evolm.study.plan keys runs by TRAINING_VERSION). A tripwire at one scale, not a proof.
TRAINING_BYTES = {
    5: {"text/general.jsonl": "6fbdb2c3df48690ce449f286b570c628720b63ca8786820cd71e25b58000cc59",
        "text/math.jsonl": "b93163d5dabd236718e30aa31f7d27f6b1288aba73f45a090923a192d4279efb",
        "pool/mathpool.jsonl": "7a618d6254d5daf253cff5c91a5946740bbfb7fc73c7b64e8a08636edf891544"},
    6: {"text/general.jsonl": "6fbdb2c3df48690ce449f286b570c628720b63ca8786820cd71e25b58000cc59",
        "text/math.jsonl": "5aaaff2676a91abcabdddc95c03479b89a0d3cc98929c9c5248c4b558c4cff0e",
        "pool/mathpool.jsonl": "7a618d6254d5daf253cff5c91a5946740bbfb7fc73c7b64e8a08636edf891544"},
}


def test_the_bytes_training_reads_are_those_of_their_version(synth):
    from evolm.synth import TRAINING_VERSION, VERSION

    _, summary, _ = synth
    assert summary["training_version"] == TRAINING_VERSION <= VERSION
    written = {rel: summary["files"][rel]["sha256"] for rel in TRAINING_BYTES[TRAINING_VERSION]}
    assert written == TRAINING_BYTES[TRAINING_VERSION], (
        "the bytes training reads changed: bump evolm.synth.TRAINING_VERSION (and VERSION) and add their hashes here")
    assert {rel for rel in summary["files"] if not rel.startswith(("benchmarks/", "cloze/"))} == set(written)


def test_layout_summary_and_hashes(synth):
    out, summary, lines = synth
    on_disk = json.loads((out / "synth.json").read_text(encoding="utf-8"))
    assert on_disk == summary
    assert summary["generator"] == "evolm-synth" and summary["version"] == 6
    assert summary["seed"] == 0 and summary["scale"] == "tiny"
    stems = {s for suite in summary["suites"].values() for s in suite}
    assert summary["suites"]["synth-id"] == ["SynthMathBasic1", "SynthMathBasic2", "SynthMathBasic3",
                                             "SynthMathLevel1", "SynthMathLevel2", "SynthMathLevel3"]
    assert set(summary["suites"]["synth-ood"]) == {"SynthCodeBasic", "SynthCode", "SynthRules", "SynthTableBasic",
                                                   "SynthTable", "SynthFacts"}
    for stem in stems:
        folder = "cloze" if stem.startswith("SynthCloze") else "benchmarks"
        assert f"{folder}/{stem}.jsonl" in summary["files"]
    for rel, info in summary["files"].items():
        data = (out / rel).read_bytes()
        assert info["rows"] == data.count(b"\n") == len(_rows(out / rel))
        assert info["sha256"] == hashlib.sha256(data).hexdigest()
        assert info["bytes"] == len(data)
    assert (out / "DATASET.md").exists()
    text = (out / "synth.json").read_text(encoding="utf-8")
    assert str(out) not in text and "time" not in text  # no absolute paths, no timestamps
    assert len(lines) == len(summary["files"]) + 2  # one line per file, card and summary


def test_sizes_follow_the_scale_table(synth):
    out, summary, _ = synth
    size = SIZES["tiny"]
    files = summary["files"]
    assert files["pool/mathpool.jsonl"]["rows"] == size["pool"]
    assert files["text/general.jsonl"]["bytes"] >= size["general_bytes"]
    assert files["text/math.jsonl"]["bytes"] >= size["math_bytes"]
    for rel, info in files.items():
        if rel.startswith("benchmarks/"):
            assert info["rows"] == size["test"], rel
        if rel.startswith("cloze/"):
            assert info["rows"] == size["cloze"], rel


def test_text_rows_and_vocabulary(synth):
    out, _, _ = synth
    general = _rows(out / "text/general.jsonl")
    assert all(set(r) == {"id", "text"} and r["text"] for r in general)
    assert general[0]["id"] == "general-000000"
    words = re.findall(r"[A-Za-z]+", " ".join(r["text"] for r in general))
    assert len({w.lower() for w in words}) > 2000
    math = _rows(out / "text/math.jsonl")
    assert all(set(r) == {"id", "text"} and r["text"] for r in math)


def test_every_benchmark_row_has_the_four_fields(synth):
    out, _, _ = synth
    for path in sorted((out / "benchmarks").glob("*.jsonl")):
        rows = _rows(path)
        assert len({r["id"] for r in rows}) == len(rows), path.name
        for r in rows:
            assert set(r) == BENCH_FIELDS, path.name
            assert isinstance(r["problem"], str) and r["problem"].strip()
            assert isinstance(r["gt_answer"], str) and r["gt_answer"].strip()


def test_pool_solutions_end_with_the_boxed_answer(synth):
    out, _, _ = synth
    files = [out / "pool/mathpool.jsonl"] + sorted((out / "benchmarks").glob("SynthMath*.jsonl"))
    for path in files:
        for r in _rows(path):
            assert set(r) == BENCH_FIELDS
            last_line = r["gt_solution"].splitlines()[-1]
            assert last_line.endswith("\\boxed{" + r["gt_answer"] + "}"), r
            assert re.findall(r"\\boxed\{([^{}]*)\}", r["gt_solution"])[-1] == r["gt_answer"]
            assert r["gt_answer"].isdigit()  # whole numbers, so graders compare exactly


def test_no_synthmath_test_problem_is_in_the_pool(synth):
    out, _, _ = synth
    pool = {r["problem"] for r in _rows(out / "pool/mathpool.jsonl")}
    assert len(pool) == SIZES["tiny"]["pool"]  # the pool itself has no duplicates
    seen: set[str] = set()
    for stem in ("Basic1", "Basic2", "Basic3", "Level1", "Level2", "Level3"):
        texts = [r["problem"] for r in _rows(out / f"benchmarks/SynthMath{stem}.jsonl")]
        assert len(set(texts)) == len(texts)
        assert not set(texts) & pool
        assert not set(texts) & seen
        seen.update(texts)
    math_text = "\n".join(r["text"] for r in _rows(out / "text/math.jsonl"))
    assert not any(t in math_text for t in seen)


def test_no_synthmath_test_problem_computes_what_a_pool_problem_computes(synth):
    """Disjoint by computation, not only by text: no test problem computes what a pool solution
    writes, whole or as consecutive steps of a longer one (another wording of a pool problem, or
    a level-1 test problem whose one equation is a pool problem's second step, would be recall),
    and the basic tiers 1-2 ask only one-step equations the pool never writes in any step."""
    out, _, _ = synth
    pool = [equations(r["gt_solution"]) for r in _rows(out / "pool/mathpool.jsonl")]
    pool_parts = {c[i:j] for c in pool for i in range(len(c)) for j in range(i + 1, len(c) + 1)}
    pool_equations = {e for c in pool for e in c}
    held_out = Holdout(0).one_step
    assert 59 <= len(held_out) <= 66 and not held_out & pool_equations  # about a quarter of 254
    for stem in ("Basic1", "Basic2", "Basic3", "Level1", "Level2", "Level3"):
        for r in _rows(out / f"benchmarks/SynthMath{stem}.jsonl"):
            computation = equations(r["gt_solution"])
            assert computation and computation not in pool_parts, r
            if stem in ("Basic1", "Basic2"):
                assert computation[0] in held_out, r
            if stem == "Basic3":  # facts the pool teaches, composed as no pool solution composes them
                assert computation in Holdout(0).two_step and set(computation) <= pool_equations, r
    asked = {equations(r["gt_solution"])[0] for r in _rows(out / "benchmarks/SynthMathBasic1.jsonl")}
    assert len(asked) > 40 and {e.split()[1] for e in asked} == set("+-*/")


def test_the_math_text_writes_no_test_computation_but_the_facts_on_digits(synth):
    """The CPT text states the one-step facts on digits, held out or not, but no other computation
    a test set asks, whole or as consecutive steps (data version 6; version 5's text wrote 46
    level-1 and 14 level-2 test computations of two steps or more at the small scale): else CPT
    would show the CPT branch those test problems in other words."""
    out, _, _ = synth
    space = Holdout(0).space
    asked = set(Holdout(0).two_step)
    for stem in ("Basic1", "Basic2", "Basic3", "Level1", "Level2", "Level3"):
        asked |= {equations(r["gt_solution"]) for r in _rows(out / f"benchmarks/SynthMath{stem}.jsonl")}
    facts = {c for c in asked if len(c) == 1 and c[0] in space}
    held = asked - facts
    assert len(facts) > 40 and len(held) > 400 and max(map(len, held)) >= 4
    written, stated = 0, set()
    for r in _rows(out / "text/math.jsonl"):
        steps = equations(r["text"])
        written += len(steps)
        stated.update((e,) for e in steps)
        runs = {steps[i:j] for i in range(len(steps)) for j in range(i + 1, min(len(steps), i + 6) + 1)}
        assert not runs & held, (r["id"], sorted(runs & held)[:3])
    assert written > 5_000  # 9,022 at the tiny scale
    assert len(facts & stated) > 0.9 * len(facts)  # the facts stay stated


def test_the_held_out_equations_are_a_seeded_quarter_of_each_operation_with_commuted_twins():
    a, b = Holdout(0), Holdout(1)
    assert a.one_step == Holdout(0).one_step and a.one_step != b.one_step
    space = one_step_equations()
    assert len(space) == 254
    for op, units in (("+", 45), ("-", 45), ("*", 36), ("/", 64)):
        held = [e for e in a.one_step if e.split()[1] == op]
        distinct = {frozenset((e.split()[0], e.split()[2])) if op in "+*" else e for e in held}
        assert len(distinct) == round(units / 4), op
    for e in a.one_step:  # "8 + 3" held out means "3 + 8" is too
        x, op, y, _, value = e.split()
        if op in "+*":
            assert f"{y} {op} {x} = {value}" in a.one_step
    held, shown = sorted(a.one_step)[0], sorted(one_step_equations() - a.one_step)[0]
    assert a.for_pool((shown,)) and a.for_pool(("12 * 3 = 36", shown))
    assert not a.for_pool((held,)) and not a.for_pool(("12 * 3 = 36", held))
    a.show(("12 * 3 = 36", "36 + 5 = 41", "41 - 6 = 35"))
    assert not a.for_test(("36 + 5 = 41",)) and not a.for_test(("12 * 3 = 36", "36 + 5 = 41"))
    assert a.for_test(("12 * 3 = 36", "41 - 6 = 35")) and a.for_test(("36 + 5 = 41", "41 - 7 = 34"))
    assert equations(["8 pairs of gloves cost 8 * 13 = $104.", "115 * 2 / 5 = 46 and 3 + 4 = 7."]) == (
        "8 * 13 = 104", "115 * 2 / 5 = 46", "3 + 4 = 7")
    with pytest.raises(ValueError, match="no equation"):
        a.for_test(())


def test_the_held_out_two_step_computations_are_a_seeded_quarter_of_those_on_taught_facts():
    a = Holdout(0)
    pairs = two_step_equations()
    assert len(pairs) == 1025 and a.two_step == Holdout(0).two_step and a.two_step != Holdout(1).two_step
    eligible = [c for c in pairs if not set(c) & a.one_step]
    assert a.two_step < set(eligible) and abs(len(a.two_step) / len(eligible) - 0.25) < 0.03
    for first, second in a.two_step:  # "3 + 4, then 2 more" held out means "4 + 3, then 2 more" is too
        x, op, y, _, value = first.split()
        if op == "+":
            assert (f"{y} + {x} = {value}", second) in a.two_step
    held, free = sorted(a.two_step)[0], sorted(set(eligible) - a.two_step)[0]
    assert a.for_pool(free) and not a.for_pool(held) and not a.for_pool(("12 * 3 = 36", *held))
    assert not a.for_composition_test(held) and held not in a.composition_tests()  # its steps are not taught yet
    a.show((held[0],))
    a.show((held[1], "12 * 3 = 36"))
    a.show(free)
    assert a.for_composition_test(held) and not a.for_composition_test(free)
    assert held in a.composition_tests() and free not in a.composition_tests()


def test_two_step_equations_is_exactly_what_tier_3_draws():
    """The holdout splits `two_step_equations()`; were it narrower than what `basic(rng, 3)` draws, some
    test computations would escape the split, and were it wider, the held-out quarter would be diluted."""
    rng, space = random.Random(0), one_step_equations()
    drawn = set()
    for _ in range(60_000):  # the rarest computation has probability 1/4374: each is drawn ~14 times
        steps = tuple(step.rstrip(".") for step in basic(rng, 3).steps)
        assert len(steps) == 2 and steps[0] in space
        if steps[1] in space:
            drawn.add(steps)
    assert drawn == two_step_equations()


def test_no_basic_tier_3_test_answer_is_a_good_guess(synth):
    """Sums of digits pile up on a few values: always answering the commonest would have scored 11%
    of basic tier 3 as drawn, so the test set caps each answer's share."""
    out, _, _ = synth
    answers = collections.Counter(r["gt_answer"] for r in _rows(out / "benchmarks/SynthMathBasic3.jsonl"))
    assert max(answers.values()) <= BASIC3_MAX_ANSWER_SHARE * SIZES["tiny"]["test"] and len(answers) > 12


@pytest.mark.parametrize("scale, per_computation", [("small", 4), ("full", 8)])
def test_basic_tier_3_spreads_its_rows_over_the_computations_it_may_ask(scale, per_computation):
    """The wordings of one computation are right or wrong together, so the set measures about as many
    problems as it has computations, weighted by their rows: drawn freely, 500 rows asked 137 of the
    148, one on 14 rows; now none is on more rows than the set's size needs, and the rarest are asked too.
    At the full scale the even share, ceil(1,000 / 148) = 7, fits only 967 rows under the answer cap."""
    holdout = Holdout(0)
    for _ in word_problems.pool_rows(0, SIZES[scale]["pool"], holdout):  # shows the pool's computations
        pass
    askable, n = holdout.composition_tests(), SIZES[scale]["test"]
    rows = basic_test_rows(0, 3, n, holdout, set())
    computations = collections.Counter(equations(r["gt_solution"]) for r in rows)
    assert len(rows) == n and set(computations) <= set(askable) and len(askable) == 148
    assert max(computations.values()) == per_computation >= -(-n // len(askable)) and len(computations) > 140
    answers = collections.Counter(r["gt_answer"] for r in rows)
    assert max(answers.values()) <= BASIC3_MAX_ANSWER_SHARE * n


def test_every_arithmetic_step_is_read_as_an_equation(synth):
    """The split reads computations back from the solutions (`holdout.EQUATION`); an arithmetic
    written another way ("8 x 9", "8*9 = 72") would slip past it, so none may exist."""
    out, _, _ = synth
    for path in ["pool/mathpool.jsonl", *(f"benchmarks/SynthMath{s}.jsonl" for s in
                                          ("Basic1", "Basic2", "Basic3", "Level1", "Level2", "Level3"))]:
        for r in _rows(out / path):
            rest = EQUATION.sub("", r["gt_solution"])
            # Numbers as whole words: the algebra family's "14x - 20 = 8x + 112" has a variable.
            assert not re.search(r"\b\d+\s*[-+*/x×]\s*\d+\b", rest), (path, rest)


def test_basic1_is_capped_where_the_held_out_texts_run_out():
    rows = basic_test_rows(0, 1, 1_000, Holdout(0), set())
    assert len(rows) == BASIC1_MAX_ROWS
    assert len({r["problem"] for r in rows}) == BASIC1_MAX_ROWS


def test_the_ladder_starts_with_one_operation_on_digits(synth):
    """Basic tier 1 is a bare operation, tier 2 the same in a one-step word problem, tier 3 two
    steps; every operand a single digit (the bottom rungs a 1M model can learn)."""
    out, _, _ = synth
    for tier, steps in ((1, 1), (2, 1), (3, 2)):
        rows = _rows(out / f"benchmarks/SynthMathBasic{tier}.jsonl")
        assert len(rows) == SIZES["tiny"]["test"]
        for r in rows:
            lines = r["gt_solution"].splitlines()
            assert len(lines) - 1 == steps, r
            a, op, b, _, value = lines[0].rstrip(".").split()
            assert eval(f"{a} {op} {b}") == int(value)  # noqa: S307 - digits and one operator
            numbers = [int(x) for x in re.findall(r"\d+", r["problem"])]
            assert all(x <= 9 for x in numbers) or op == "/"  # a division shows its product
        words = sum(len(r["problem"].split()) for r in rows) / len(rows)
        assert words < 8 if tier == 1 else words > 10
    pool = _rows(out / "pool/mathpool.jsonl")
    bare = [r for r in pool if len(r["problem"].split()) < 8]
    assert 0.15 < len(bare) / len(pool) < 0.35  # the pool teaches the bottom rung too


def test_no_basic_tier_3_answer_is_a_good_guess():
    """Capping a 'taken away' amount at the total minus one made 1 the answer of 15% of tier 3, and
    SFT models that knew no sum answered 1 and scored on it."""
    rng = random.Random(0)
    answers = collections.Counter(basic(rng, 3).answer for _ in range(20_000))
    assert answers.most_common(1)[0][1] / 20_000 < 0.10


def test_basic_ood_sets_are_the_same_arithmetic_on_a_new_surface(synth):
    out, _, _ = synth
    for r in _rows(out / "benchmarks/SynthCodeBasic.jsonl"):
        code, inputs = _split_code_problem(r["problem"])
        namespace = {"__builtins__": {}}
        exec(code, namespace)  # noqa: S102 - generated by the package under test
        assert repr(namespace["f"](int(inputs))) == r["gt_answer"]
        assert code.count("\n") == 1 and int(inputs) <= 9
    for r in _rows(out / "benchmarks/SynthTableBasic.jsonl"):
        table = r["problem"].split("data:\n\n", 1)[1].split("\n\nBased on", 1)[0].splitlines()
        counts = {line.split(" | ")[0]: int(line.split(" | ")[1]) for line in table[1:]}
        question = r["problem"].rsplit("\n\n", 1)[1]
        named = [name for name in counts if f" {name} " in f" {question.rstrip('?')} "]
        assert len(named) == 2 and 2 <= len(table) - 1 <= 3
        a, b = (counts[n] for n in named)
        assert int(r["gt_answer"]) == (a + b if "total" in question else abs(a - b))


def test_levels_get_longer(synth):
    out, _, _ = synth
    steps = []
    for level in (1, 2, 3):
        rows = _rows(out / f"benchmarks/SynthMathLevel{level}.jsonl")
        counts = [len(r["gt_solution"].splitlines()) - 1 for r in rows]
        assert min(counts) >= {1: 1, 2: 3, 3: 5}[level]
        assert max(counts) <= {1: 2, 2: 4, 3: 99}[level]
        steps.append(sum(counts) / len(counts))
    assert steps[0] < steps[1] < steps[2]


def _split_code_problem(problem: str) -> tuple[str, str]:
    code = problem.split("You are given the following function:\n\n", 1)[1]
    code, rest = code.split("\n\nYou are also given the following input", 1)
    inputs = rest.split("function):\n\n", 1)[1].split("\n\nWith the given function and input, "
                                                     "what would be the output?", 1)[0]
    return code, inputs


def test_synthcode_answers_match_re_execution(synth):
    out, _, _ = synth
    for r in _rows(out / "benchmarks/SynthCode.jsonl"):
        code, inputs = _split_code_problem(r["problem"])
        args = ast.literal_eval("(" + inputs + ",)")
        namespace = {"__builtins__": dict(SAFE_BUILTINS)}
        exec(code, namespace)  # noqa: S102 - generated by the package under test
        assert repr(namespace["f"](*args)) == r["gt_answer"] == r["gt_solution"]


def test_ood_prompt_wrappers_match_the_paper_files(synth):
    out, _, _ = synth
    first = {name: _rows(out / f"benchmarks/{name}.jsonl")[0]["problem"]
             for name in ("SynthCode", "SynthRules", "SynthTable", "SynthFacts")}
    assert first["SynthCode"].startswith("You are given the following function:\n\ndef f(")
    assert first["SynthRules"].startswith(
        'Solve the following problem. Your final answer should be "True", "False", or '
        '"Uncertain".\n\nA few players are playing a boardgame. The current state of the game '
        'is as follows. ')
    assert "Based on the game state and the rules and preferences, does the " in first["SynthRules"]
    assert first["SynthTable"].startswith("You are given a table with the following data:\n\n")
    assert "\n\nBased on the table, answer the following question:\n\n" in first["SynthTable"]
    assert first["SynthFacts"].startswith("You are given the following facts:\n1. ")
    assert ('\n\nBased on the facts above, answer the following question. Your final answer '
            'should be either "True" or "False".\n') in first["SynthFacts"]


def test_label_balance(synth):
    out, _, _ = synth
    rules = collections.Counter(r["gt_answer"] for r in _rows(out / "benchmarks/SynthRules.jsonl"))
    assert set(rules) == {"True", "False", "Uncertain"}
    assert max(rules.values()) - min(rules.values()) <= 1
    facts = collections.Counter(r["gt_answer"] for r in _rows(out / "benchmarks/SynthFacts.jsonl"))
    assert facts["True"] == facts["False"]


def test_cloze_rows(synth):
    out, _, _ = synth
    for name in ("SynthClozeFacts", "SynthClozeMath", "SynthClozeText"):
        rows = _rows(out / f"cloze/{name}.jsonl")
        positions = collections.Counter()
        for r in rows:
            assert set(r) == {"id", "query", "choices", "gold"}
            assert len(r["choices"]) == 4 and len(set(r["choices"])) == 4
            assert all(isinstance(c, str) and c for c in r["choices"]) and r["query"]
            assert 0 <= r["gold"] < 4
            positions[r["gold"]] += 1
        assert max(positions.values()) - min(positions.values()) <= 1, name


def test_cloze_facts_are_what_the_text_states(synth):
    out, _, _ = synth
    general = "\n".join(r["text"] for r in _rows(out / "text/general.jsonl"))
    rows = _rows(out / "cloze/SynthClozeFacts.jsonl")
    stated = sum(f"{r['query']} {r['choices'][r['gold']]}." in general for r in rows)
    assert stated >= 0.5 * len(rows)  # most facts appear even in 1.5 MB; rare ones need more
    for r in rows:  # and no document ever states a distractor
        for i, choice in enumerate(r["choices"]):
            if i != r["gold"]:
                assert f"{r['query']} {choice}." not in general
    math = "\n".join(r["text"] for r in _rows(out / "text/math.jsonl"))
    rows = _rows(out / "cloze/SynthClozeMath.jsonl")
    assert sum(f"{r['query']} {r['choices'][r['gold']]}" in math for r in rows) >= 0.5 * len(rows)


def test_rules_solver_preferences_and_uncertainty():
    """The BoardgameQA semantics the SynthRules labels are computed with."""
    hug = Lit(0, "cat", "dog", True)
    dance = Lit(1, "dog", "cat", True)
    r1 = Rule((Cond("lit", hug),), dance, "")  # if the cat hugs the dog, the dog dances
    r2 = Rule((Cond("lit", Lit(2, "cow", "dog", True)),), dance.negated(), "")
    animals = ["cat", "cow", "dog"]
    assert solve(animals, [hug], {}, [r1], set()).answer(dance) == "True"
    assert solve(animals, [], {}, [r1], set()).answer(dance) == "Uncertain"
    both = [hug, Lit(2, "cow", "dog", True)]
    assert solve(animals, both, {}, [r1, r2], {(1, 0)}).answer(dance) == "False"
    assert solve(animals, both, {}, [r1, r2], {(0, 1)}).answer(dance) == "True"
    assert not solve(animals, both, {}, [r1, r2], set()).consistent  # unresolved conflict
    # A preferred rule that does not fire does not block the other one.
    assert solve(animals, [hug], {}, [r1, r2], {(1, 0)}).answer(dance) == "True"
    # "If something hugs the dog, then it dances with the cat" binds the variable.
    general = Rule((Cond("lit", Lit(0, VAR, "dog", True)),), Lit(1, VAR, "cat", True), "")
    assert solve(animals, [hug], {}, [general], set()).answer(Lit(1, "cat", "cat", True)) == "True"
    # Negative conditions need a stated negative fact; absence proves nothing.
    neg = Rule((Cond("lit", hug.negated()),), dance, "")
    assert solve(animals, [], {}, [neg], set()).answer(dance) == "Uncertain"
    assert solve(animals, [hug.negated()], {}, [neg], set()).answer(dance) == "True"
    # Attribute conditions are evaluated from the stated attributes.
    rich = Rule((Cond("attr", attr="richer", subj="cat", param="cow"),), hug, "")
    attrs = {"cat": {"money": 50}, "cow": {"money": 20}}
    assert solve(animals, [], attrs, [rich], set()).answer(hug) == "True"
    assert solve(animals, [], {"cat": {"money": 50}}, [rich], set()).answer(hug) == "Uncertain"


def test_dataset_card_mentions_every_file(synth):
    out, summary, _ = synth
    card = (out / "DATASET.md").read_text(encoding="utf-8")
    for rel in summary["files"]:
        assert f"`{rel}`" in card
    assert "CC0" in card and "reasoning-gym" in card and "--seed 0" in card


# -- the stage: what `evolm data synth` and any Python caller get ----------------------------------

def _siblings(path: pathlib.Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


@pytest.mark.parametrize("options", [{"scale": "huge"}, {"seed": "7"}, {"seed": True}])
def test_stage_refuses_bad_input_before_writing_anything(tmp_path, options):
    out = tmp_path / "data"
    with pytest.raises(BadInput):
        synth_stage.run(out, **options)
    assert list(tmp_path.iterdir()) == []  # no output, no temporary sibling
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(BadInput):  # refused before the existing output is touched, even with overwrite
        synth_stage.run(out, overwrite=True, **options)
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and _siblings(out) == []


def test_stage_refuses_an_existing_output_without_overwrite(tmp_path):
    out = tmp_path / "data"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(BadInput, match="--overwrite"):
        synth_stage.run(out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and _siblings(out) == []


def test_stage_overwrite_replaces_the_output_like_the_cli(synth, tmp_path, cli):
    reference, _, _ = synth  # seed 0, tiny
    out = tmp_path / "data"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    with pytest.raises(BadInput, match="is not an earlier synthetic data folder"):  # a folder of the user's: kept
        synth_stage.run(out, seed=0, overwrite=True)
    assert [p.name for p in out.iterdir()] == ["stale.txt"]
    shutil.rmtree(out)
    synth_stage.run(out.with_name("other"), seed=1)
    (out.with_name("other") / "stale.txt").write_text("old")
    out.with_name("other").replace(out.with_name("earlier"))
    out = out.with_name("earlier")  # an earlier output of `evolm data synth` (another seed), with a file added since
    summary = synth_stage.run(out, seed=0, overwrite=True)
    assert summary == json.loads((out / "synth.json").read_text(encoding="utf-8"))
    assert _tree_bytes(out) == _tree_bytes(reference)  # stale.txt is gone, the bytes are the seed's
    assert _siblings(out) == []
    # The CLI is a thin wrapper: the same refusal (exit 2, output untouched) and the same result.
    before = _tree_bytes(out)
    refused = cli("data", "synth", "--out", out, "--seed", 1)
    assert refused.code == 2 and "--overwrite" in refused.err
    assert _tree_bytes(out) == before
    assert cli("data", "synth", "--out", out, "--scale", "huge", "--overwrite").code == 2
    assert _tree_bytes(out) == before
    done = cli("data", "synth", "--out", out, "--seed", 0, "--overwrite", "--json")
    assert done.code == 0 and json.loads(done.out)["path"] == str(out)
    assert _tree_bytes(out) == _tree_bytes(reference) and _siblings(out) == []


def test_the_suites_synth_json_lists_are_the_task_declarations():
    """synth.json names the suites of the files it wrote (the generator is standard library only, so
    it cannot read the declarations); they must be the suites `evolm eval --suite` expands."""
    from evolm import synth
    from evolm.eval.tasks.registry import BUILTIN
    from evolm.eval.tasks.upstream_tasks import CLOZE_TASKS

    suites = BUILTIN.suites()
    assert sorted(synth.SUITES["synth-id"]) == sorted(suites["synth-id"])
    assert sorted(synth.SUITES["synth-ood"]) == sorted(suites["synth-ood"])
    assert sorted(synth.SUITES["cloze"]) == sorted(CLOZE_TASKS)
    assert set(synth.SUITES) == {"synth-id", "synth-ood", "cloze"}


def test_dataset_card_shows_the_shipped_calibration_table(synth):
    """DATASET.md renders evolm/synth/calibration.json (measured by examples/calibrate-ladder.sh):
    every task of the ladder, every preset and stage, the numbers as measured."""
    from evolm.synth.card import CALIBRATION

    out, _, _ = synth
    card = (out / "DATASET.md").read_text(encoding="utf-8")
    cal = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    assert "## Difficulty calibration" in card
    assert [t["name"] for t in cal["tasks"]][:3] == ["SynthMathBasic1", "SynthMathBasic2", "SynthMathBasic3"]
    for task in cal["tasks"]:
        row = next(line for line in card.splitlines() if line.startswith(f"| {task['name']} |"))
        for preset in cal["presets"]:
            for stage in cal["stages"]:
                entry = cal["results"][preset][stage][task["name"]]
                assert f"{100 * entry['value']:.1f} ± {100 * entry['stderr']:.1f}" in row
