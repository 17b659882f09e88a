"""An rm node in a study file (finding 8 as one file): its policies draw samples on held-out pool rows,
`evolm rm` trains on them, and every node evaluated with the scored evaluations gets reward-model
scores on the samples it already has, none generated again."""

import json
import re

import pytest
from test_study import MODEL, PT, study, write

from evolm.study import plan as planning
from evolm.study.spec import load, parse


@pytest.fixture
def small_answers_pool(tmp_path):
    """A pool whose answers are 1, 2 or 3: a policy SFT-trained on it for seconds answers in that format
    with one of the three, so at temperature 1 most problems get right and wrong samples (pairs)."""
    rows = []
    for i in range(200):
        a, b = i % 3, 1 + (i // 3) % 3
        answer = a + b if a + b <= 3 else b
        problem = f"Ann has {answer} apples. How many apples does Ann have?" if a + b > 3 else f"What is {a} plus {b}?"
        rows.append({"id": f"p{i:03d}", "problem": problem, "gt_answer": str(answer),
                     "gt_solution": f"\\boxed{{{answer}}}"})
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def rm_study(tmp_path, shards, synth_tiny, pool, sft_epochs=(2, 4), **rm):
    data = study(tmp_path, shards, synth_tiny, [
        {"name": "pt", "stage": "pretrain", "grid": {"model": MODEL, "tokens": "8K"}, "with": dict(PT)},
        {"name": "sft", "stage": "sft", "from": "pt", "grid": {"examples": 60, "epochs": list(sft_epochs)},
         "with": {"data": "@pool", "global-batch": 4, "max-length": 64, "lr": 0.01}, "eval": ["sampled"]},
        {"name": "rm", "stage": "rm", "from": {"sft": {"epochs": 4}}, "policies": ["sft"], "draw": "sampled",
         "problems": "@pool[100:160]", "score": ["sampled"], "with": {"epochs": 1, "lr": 0.001}, **rm},
    ])
    data["data"]["prepared"]["pool"] = str(pool)
    data["evals"]["sampled"] = {"suite": "SynthMathBasic1", "limit": 4, "samples": 3, "max-new-tokens": 12}
    return data


def _events(root, what):
    path = root / ".study" / "events.jsonl"
    return [e for e in map(json.loads, path.read_text().splitlines()) if e["what"] == what and e["event"] == "start"]


# About 42 s (six processes: pre-training, SFT, its evaluation, the draw, the reward model, the scoring):
# slow-marked so the default suite stays under 10 minutes. The default suite keeps the pieces: an rm
# node's plan and order (below), `evolm rm` (test_rm.py) and scoring finished samples (test_eval.py).
@pytest.mark.slow
def test_an_rm_node_draws_on_held_out_rows_trains_and_scores_the_sampled_nodes_once(tmp_path, shards, synth_tiny,
                                                                                     small_answers_pool, cli):
    file = write(tmp_path, rm_study(tmp_path, shards, synth_tiny, small_answers_pool, sft_epochs=(4,)))
    plan = planning.build(load(file))
    rm, sft = plan.nodes[-1], plan.nodes[1]

    # the study without its rm node first, then with it: the finished nodes are neither trained nor evaluated again
    without = rm_study(tmp_path, shards, synth_tiny, small_answers_pool, sft_epochs=(4,))
    without["nodes"].pop()
    assert cli("study", "run", write(tmp_path, without, "without.yaml"), "--peak-flops", "1e11", "--no-report").code == 0
    result = cli("study", "run", file, "--peak-flops", "1e11", "--no-report", "--json")
    assert result.code == 0, result.err
    root = tmp_path / "runs"
    assert len(json.loads(result.out)["done"]) == 3
    assert len(_events(root, "train")) == 3 and len(_events(root, "eval")) == 1 + 1  # the SFT node's own, then the scoring
    # the policy drew on rows 100-160 of the pool, which the SFT run (first 60 rows) does not train on
    drawn = root / ".study" / "rm-samples" / rm.label
    held_out = [json.loads(line)["id"] for line in (drawn / "RewardModelProblems.jsonl").read_text().splitlines()]
    assert held_out == [f"p{i:03d}" for i in range(100, 160)]
    assert len(_events(root, "draw")) == 1
    manifest = json.loads((rm.path / "evolm.json").read_text())
    assert manifest["stage"] == "rm" and manifest["knobs"]["pairs"] > 0 and manifest["outcome"]["reward_model"]["held_out_pairs"] > 0
    # the SFT node's own evaluation now has the reward model's scores on the samples it drew before
    task = json.loads((sft.path / "eval" / "SynthMathBasic1.json").read_text())
    assert task["identity"]["reward_model"]["manifest_sha256"] and "rm_score" in task["metrics"]
    records = [json.loads(line) for line in (sft.path / "eval" / "SynthMathBasic1.samples.jsonl").read_text().splitlines()]
    assert all(len(r["rm_scores"]) == 4 for r in records)  # greedy + 3 samples
    log = (root / ".study" / "logs" / f"{rm.label}.log").read_text()
    assert log.count("only the reward model changed") == 1  # its samples kept and scored, not generated again
    # the ledger counts its training (both texts of every pair) and, as its evaluation, its policy's draw
    ledger = json.loads(cli("study", "ledger", file, "--json").out)
    entry = next(n for n in ledger["nodes"] if n["stage"] == "rm")
    drawn_flops = json.loads((drawn / sft.label / "RewardModelProblems.json").read_text())["compute"]["flops"]
    assert entry["flops"] == manifest["compute"]["flops"] > 0 and entry["eval_flops"] == drawn_flops > 0
    # a rerun draws, trains and scores nothing
    assert cli("study", "run", file, "--peak-flops", "1e11", "--no-report").code == 0
    assert len(_events(root, "draw")) == 1 and len(_events(root, "train")) == 3 and len(_events(root, "eval")) == 2


def test_an_rm_node_waits_for_its_policies_and_the_nodes_it_scores(tmp_path, shards, synth_tiny, small_answers_pool):
    plan = planning.build(parse(rm_study(tmp_path, shards, synth_tiny, small_answers_pool)))
    sft2, sft4, rm = plan.nodes[1:]
    assert rm.stage == "rm" and rm.parent is sft4 and [p.label for p in rm.policies] == [sft2.label, sft4.label]
    assert [n.label for n in rm.scores] == [sft2.label, sft4.label]
    assert [n.label for n in rm.needs()] == [sft4.label, sft2.label]  # its parent first
    # `study run --reevaluate` lets nodes' own evaluations replace results (--overwrite); never an rm node's
    # scoring, which evolm eval refuses with --overwrite (--rescore only scores)
    from evolm.study.runner import Runner

    reevaluating = Runner(plan, report=False, reevaluate=True)
    assert all("--overwrite" in c for c in reevaluating.eval_commands(sft2)) and reevaluating.eval_commands(sft2)
    scoring = reevaluating.eval_commands(rm) + reevaluating.draw_commands(rm)
    assert scoring and all("--overwrite" not in c for c in scoring) and all("--rescore" in c for c in reevaluating.eval_commands(rm))
    # who draws, how and on which rows make the reward model; what it scores is its evaluation
    def ids(**rm_changes):
        return planning.build(parse(rm_study(tmp_path, shards, synth_tiny, small_answers_pool, **rm_changes))).nodes[-1]
    assert ids(problems="@pool[100:150]").id != rm.id and ids(policies=[{"sft": {"epochs": 4}}]).id != rm.id
    scores_nothing = ids(score=[])
    assert scores_nothing.id == rm.id and scores_nothing.eval_key() != rm.eval_key()
    # the draw evaluation's options that sampling does not take (its limit) leave the reward model as it is
    data = rm_study(tmp_path, shards, synth_tiny, small_answers_pool)
    data["evals"]["sampled"]["limit"] = 8
    assert planning.build(parse(data)).nodes[-1].id == rm.id
    # scoring one more evaluation of the same nodes is a new evaluation of the rm node, not a new reward model
    data = rm_study(tmp_path, shards, synth_tiny, small_answers_pool)
    data["evals"]["greedy"] = {"suite": "SynthMathBasic1", "limit": 4, "samples": 0, "max-new-tokens": 12}
    data["nodes"][1]["eval"] = ["sampled", "greedy"]
    before = planning.build(parse(data)).nodes[-1]
    data["nodes"][2]["score"] = ["sampled", "greedy"]
    after = planning.build(parse(data)).nodes[-1]
    assert after.id == before.id and after.eval_key() != before.eval_key()


def test_held_out_rows_that_a_node_trains_on_are_refused_before_any_work(tmp_path, shards, synth_tiny, small_answers_pool,
                                                                        cli):
    def refused(data, pattern):
        result = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
        assert result.code == 2 and re.search(pattern, result.err), result.err
        assert len(result.err.strip().splitlines()) == 1 and not (tmp_path / "runs").exists()

    refused(rm_study(tmp_path, shards, synth_tiny, small_answers_pool, problems="@pool[40:100]"),
            r"problems \[40:100\] overlap rows 0-60 of .*pool.jsonl, which sft-")
    refused(rm_study(tmp_path, shards, synth_tiny, small_answers_pool, problems="@pool[150:250]"),
            r"rows past the end of .*pool.jsonl \(200 rows\)")
    # an SFT node that reads a split folder of the same pool takes its rows too (all of its SFT part here)
    split = tmp_path / "split"
    assert cli("data", "split", small_answers_pool, "--sft", "120", "--rl", "20", "--out", split).code == 0
    data = rm_study(tmp_path, shards, synth_tiny, small_answers_pool)
    data["nodes"].insert(2, {"name": "sft-split", "stage": "sft", "from": "pt", "with": {"data": str(split), "global-batch": 4}})
    refused(data, r"problems \[100:160\] overlap rows 0-120 of .*pool.jsonl, which sft-split-")


def test_one_reward_model_scores_an_evaluation_and_the_nodes_it_scores_come_first(tmp_path, shards, synth_tiny,
                                                                                 small_answers_pool, cli):
    data = rm_study(tmp_path, shards, synth_tiny, small_answers_pool)
    data["nodes"].append(dict(data["nodes"][2], name="rm-again", **{"with": {"epochs": 2}}))
    result = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert result.code == 2 and "would both score" in result.err and "one reward model's scores per evaluation" in result.err
    data = rm_study(tmp_path, shards, synth_tiny, small_answers_pool)
    data["nodes"].append(dict(data["nodes"][1], name="sft-later", grid={"examples": 60, "epochs": 3}))
    result = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert result.code == 2 and "sft-later" in result.err and "would be left unscored" in result.err


@pytest.mark.parametrize("change, message", [
    (lambda g: g.pop("policies"), "an rm node needs policies:"),
    (lambda g: g.update(draw="nope"), "draw 'nope' is not declared under evals"),
    (lambda g: g.update(problems="@pool"), "problems: must be a problem file and a range of its rows"),
    (lambda g: g.update(problems="@pool[9:3]"), "problems: must be a problem file and a range of its rows"),
    (lambda g: g.update(score=["nope"]), "score: 'nope' is not declared under evals"),
    (lambda g: g.update(score=["up"]), "--suite cloze has no generation task (lm-eval scores its tasks); --reward-model does not apply"),
    (lambda g: g.update(eval=["sampled"]), "an rm node is not evaluated as a policy"),
    (lambda g: g.update(policies=[{"sft": {"epochs": 9}}]), "matches no node"),
])
def test_bad_rm_nodes_exit_2_in_one_sentence(change, message, tmp_path, shards, synth_tiny, small_answers_pool, cli):
    data = rm_study(tmp_path, shards, synth_tiny, small_answers_pool)
    data["evals"]["up"] = {"suite": "cloze", "limit": 4}
    data["nodes"][1]["eval"] = [*data["nodes"][1].get("eval", []), "up"]  # an upstream evaluation an rm could name
    change(data["nodes"][2])
    result = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert result.code == 2 and message in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1 and not (tmp_path / "runs").exists()


def test_rm_keys_belong_to_rm_nodes_and_nothing_starts_from_a_reward_model(tmp_path, shards, synth_tiny, small_answers_pool,
                                                                         cli):
    data = rm_study(tmp_path, shards, synth_tiny, small_answers_pool)
    data["nodes"][1]["score"] = ["sampled"]
    result = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert result.code == 2 and "score: is for an rm node" in result.err
    data = rm_study(tmp_path, shards, synth_tiny, small_answers_pool)
    data["nodes"].append({"name": "rl", "stage": "rl", "from": "rm", "with": {"data": "@pool", "examples": 8}})
    result = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert result.code == 2 and "'rm' is a reward model" in result.err
    data = rm_study(tmp_path, shards, synth_tiny, small_answers_pool)
    data["evals"]["sampled"]["samples"] = 0
    result = cli("study", "plan", write(tmp_path, data), "--peak-flops", "1e11")
    assert result.code == 2 and "must draw at least 2 samples per problem" in result.err


def test_the_mini_study_tests_f8_with_its_last_node(cli, tmp_path):
    """examples/mini-study.yaml plans its rm node: four SFT policies draw, the seed-0 math-CPT SFT model is
    its parent, and the 24 post-trained runs, all evaluated with `sampled`, are scored (the slow test runs it)."""
    from pathlib import Path

    study_file = Path(__file__).resolve().parent.parent / "examples" / "mini-study.yaml"
    result = cli("study", "plan", study_file, "--out", tmp_path / "runs", "--peak-flops", "1e11", "--json")
    assert result.code == 0, result.err
    nodes = json.loads(result.out)["nodes"]
    rm = nodes[-1]
    assert len(nodes) == 32 and rm["stage"] == "rm" and rm["parent"].startswith("sft-1000-4-0-")
    assert len(rm["policies"]) == 4 and len(rm["scores"]) == 24
    assert {n["group"] for n in nodes if n["name"] in rm["scores"]} == {"sft", "rl", "sft-f6", "rl-f6", "rl-f6-seeds",
                                                                        "sft-epochs", "sft-split", "rl-split"}
