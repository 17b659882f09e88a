"""`evolm rm`: an outcome reward model from graded `evolm eval` samples (TRL RewardTrainer)."""

import json
import random

import pytest
import torch

from evolm.checkpoint import load_checkpoint


def _task(root, problems=60, seed=0):
    """A task file and a samples file as `evolm eval --samples 3` writes them: every gold answer is 7,
    so a reward model can learn, within seconds, to score the completions that say 7 higher."""
    rng = random.Random(seed)
    tasks, records = [], []
    for i in range(problems):
        a = rng.randint(1, 6)
        tasks.append({"id": f"t{i}", "problem": f"What is {a} plus {7 - a}?", "gt_solution": "\\boxed{7}", "gt_answer": "7"})
        wrong = [n for n in range(1, 10) if n != 7]
        answers = ["7", *map(str, rng.sample(wrong, 2))] if i % 5 else ["7", "7", "7"]  # every fifth: all right
        completions = [f" {a} + {7 - a} = {n}.\nThe final answer is \\boxed{{{n}}}" for n in answers]
        records.append({"id": f"t{i}", "run": "r", "prompt": f"Human: {tasks[-1]['problem']}\nAssistant:", "gold": "7",
                        "greedy": True, "completions": completions, "answers": answers,
                        "correct": [n == "7" for n in answers], "majority": 0})
    (root / "task.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))
    (root / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return root / "task.jsonl", root / "samples.jsonl"


def test_pairs_come_from_problems_with_both_kinds_and_a_share_is_held_out(tmp_path):
    from evolm.stages.rm import build_pairs, read_samples

    problems, samples = _task(tmp_path)
    text, graded = read_samples([samples, samples], problems)  # the same file twice: completions counted once
    assert len(graded) == 60 and all(len(seen) <= 3 for seen in graded.values())
    train, test = build_pairs(graded, per_problem=4, held_out=0.25, seed=0)
    ids = {p for p, _, _ in train} | {p for p, _, _ in test}
    assert len(ids) == 48  # the 12 problems answered right every time give no pair
    assert len({p for p, _, _ in test}) == 12 and not {p for p, _, _ in test} & {p for p, _, _ in train}
    for pid, good, bad in train + test:
        assert graded[pid][good] is True and graded[pid][bad] is False
    # one correct completion against (at most) two distinct incorrect ones: two pairs, the correct one reused
    assert all(sum(p == pid for p, _, _ in train + test) == len([c for c, ok in graded[pid].items() if not ok]) for pid in ids)
    assert build_pairs(graded, 4, 0.25, seed=0) == (train, test)  # seeded


def test_rm_learns_to_rank_and_writes_a_reward_model_checkpoint(base, tmp_path, cli):
    from evolm.eval.reward_model import RewardModel

    problems, samples = _task(tmp_path)
    result = cli("rm", base, "--samples", samples, "--problems", problems, "--epochs", "4", "--lr", "3e-3",
                 "--held-out", "0.25", "--out", tmp_path / "rm", "--json")
    assert result.code == 0, result.err
    checkpoint = load_checkpoint(tmp_path / "rm")
    manifest = checkpoint.manifest
    parent = load_checkpoint(base)
    assert manifest.stage == "rm" and manifest.parent.manifest_sha256 == parent.manifest_sha256
    assert manifest.knobs == {"pairs": 72, "epochs": 4.0} and checkpoint.signature == f"{parent.signature}-rm72ep4"
    assert [d.name for d in manifest.data] == ["samples", "problems"]
    held = manifest.outcome.reward_model
    assert held["held_out_pairs"] == 24 and held["held_out_accuracy"] >= 0.8  # it learnt; 0.5 is chance
    assert json.loads(result.out)["reward_model"] == held
    # the compute ledger: both texts of every pair, 4 epochs, at 6 x parameters per token, as SFT counts
    compute = manifest.compute
    logged = [json.loads(line) for line in (tmp_path / "rm" / "metrics.jsonl").read_text().splitlines()]
    assert compute.trained_tokens == max(r["num_tokens"] for r in logged if "num_tokens" in r) > 72 * 2 * 4 * 10
    assert compute.flops == 6.0 * manifest.model.params * compute.trained_tokens
    # what `evolm eval --reward-model` loads: one score, higher for the right answer
    rm = RewardModel(str(tmp_path / "rm"))
    right, wrong = rm.score("What is 3 plus 4?", [" 3 + 4 = 7.\nThe final answer is \\boxed{7}",
                                                 " 3 + 4 = 2.\nThe final answer is \\boxed{2}"])
    assert right > wrong
    # it is no policy: neither evaluated nor trained further as one
    refused = cli("eval", tmp_path / "rm", "--suite", "SynthMathBasic1", "--out", tmp_path / "ev")
    assert refused.code == 2 and "is a reward model (evolm rm), not a policy" in refused.err
    refused = cli("sft", tmp_path / "rm", "--data", problems, "--out", tmp_path / "sft")
    assert refused.code == 2 and "cannot be trained further" in refused.err and not (tmp_path / "sft.partial").exists()


@pytest.mark.parametrize("case, message", [
    ("missing", "does not exist (write one with `evolm eval CKPT --samples K`)"),
    ("foreign id", "Problem zz of"),
    ("all right", "no (correct, incorrect) pair to train on"),
    ("not samples", "is not an `evolm eval` samples file"),
    ("too long", "--max-length 4096 is out of range: it must be between 1 and 1024, the positions of the parent"),
    ("too short", "Every one of the 14 pairs has a text longer than --max-length 8 tokens; raise it."),
])
def test_bad_samples_exit_2_before_any_output(case, message, base, tmp_path, cli):
    problems, samples = _task(tmp_path, problems=10)
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    if case == "missing":
        samples = tmp_path / "nope.jsonl"
    elif case == "foreign id":
        rows[3]["id"] = "zz"
    elif case == "all right":
        rows = [{**r, "correct": [True] * 3} for r in rows]
    elif case in ("too long", "too short"):
        pass
    else:
        rows = [{"id": r["id"], "text": "x"} for r in rows]
    if case != "missing":
        samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    longer = {"too long": ("--max-length", "4096"), "too short": ("--max-length", "8")}.get(case, ())
    result = cli("rm", base, "--samples", samples, "--problems", problems, *longer, "--out", tmp_path / "rm")
    assert result.code == 2 and message in result.err, result.err
    assert not (tmp_path / "rm").exists() and not (tmp_path / "rm.partial").exists()


def test_the_reward_text_is_the_template_the_policies_answer_in(base):
    """Training and scoring read a conversation the same way: evolm's chat template once installed."""
    from transformers import AutoTokenizer

    from evolm.eval.reward_model import reward_text
    from evolm.template import install, training_text

    tokenizer = AutoTokenizer.from_pretrained(base)
    plain = reward_text(tokenizer, "What is 1 plus 1?", " 1 + 1 = 2. ")
    assert plain == training_text("What is 1 plus 1?", "1 + 1 = 2.", tokenizer.eos_token)
    install(tokenizer)
    assert reward_text(tokenizer, "What is 1 plus 1?", " 1 + 1 = 2. ") == plain


def test_the_same_seed_trains_the_same_reward_model(base, tmp_path, cli):
    """The score head is new: drawn from the seed, not from whatever the process drew before."""
    from safetensors.torch import load_file

    problems, samples = _task(tmp_path, problems=20)
    for name in ("a", "b"):
        torch.rand(3 if name == "a" else 5)  # the global generator moved differently before each run
        result = cli("rm", base, "--samples", samples, "--problems", problems, "--out", tmp_path / name)
        assert result.code == 0, result.err
    a, b = (load_file(tmp_path / name / "model.safetensors") for name in ("a", "b"))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)


@pytest.mark.parametrize("variable, value", [("ACCELERATE_DEEPSPEED_ZERO_STAGE", "3"), ("ACCELERATE_USE_FSDP", "true")])
def test_sharded_weights_are_refused_before_any_output(variable, value, base, tmp_path, cli, monkeypatch):
    problems, samples = _task(tmp_path, problems=10)
    monkeypatch.setenv(variable, value)  # what `accelerate launch` sets for a ZeRO-3 or FSDP config
    result = cli("rm", base, "--samples", samples, "--problems", problems, "--out", tmp_path / "rm")
    assert result.code == 2 and "does not run under DeepSpeed ZeRO-3 or FSDP" in result.err
    assert not (tmp_path / "rm").exists() and not (tmp_path / "rm.partial").exists()


@pytest.mark.slow  # about 20 s with both cores (run with -m slow): the default suite stays under 10 minutes
@pytest.mark.many_processes
def test_two_processes_train_the_reward_model_of_one(base, tmp_path, cli):
    """Under torchrun (a study's `launch: {default: {processes: 8}}` starts rm nodes so), the pairs are
    shared out and the gradients averaged: the same weights as one process with the same micro batch."""
    import subprocess
    import sys

    from safetensors.torch import load_file

    from conftest import assert_launched_cleanly, launch_env, torchrun

    problems, samples = _task(tmp_path)
    args = ["rm", str(base), "--samples", str(samples), "--problems", str(problems), "--epochs", "1", "--lr", "3e-3",
            "--global-batch", "4", "--micro-batch", "2"]
    assert cli(*args, "--out", tmp_path / "one").code == 0
    done = subprocess.run([sys.executable, *torchrun(), "-m", "evolm", *args, "--out", str(tmp_path / "two")],
                          capture_output=True, text=True, env=launch_env(), timeout=300)
    assert_launched_cleanly(done)
    one, two = load_checkpoint(tmp_path / "one").manifest, load_checkpoint(tmp_path / "two").manifest
    assert two.compute.processes == 2 and two.schedule.steps_done == one.schedule.steps_done > 0
    assert two.outcome.reward_model == one.outcome.reward_model
    assert two.outcome.loss["train_loss"] == pytest.approx(one.outcome.loss["train_loss"], rel=1e-3)
    # Not bit-equal: the two processes' gradients are summed in another order than one process's two
    # micro batches, and AdamW turns that float32 roundoff in near-zero gradients into updates of up to
    # lr. Measured: 1.5e-5 at most after these 22 steps at lr 3e-3 (micro batches of 4 instead of 2,
    # same pairs, differ by 5e-3); processes training on each other's pairs would differ by about lr.
    a, b = load_file(tmp_path / "one" / "model.safetensors"), load_file(tmp_path / "two" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-4, rtol=0) for k in a)


def test_a_text_longer_than_the_reward_model_reads_is_scored_on_its_end_with_a_warning(base, capsys):
    """The score is read at a text's last token, the end of the answer: a text past the model's positions
    is cut from the left (the tokenizer's own cut, from the right, would drop the answer)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from evolm.eval.reward_model import score_texts

    tokenizer = AutoTokenizer.from_pretrained(base)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1).eval()
    model.config.pad_token_id = tokenizer.pad_token_id
    text = "What is 3 plus 4? " * 6 + "The final answer is \\boxed{7}"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    model.config.max_position_embeddings = 12
    [cut] = score_texts(model, tokenizer, [text])
    with torch.no_grad():
        end = float(model(input_ids=torch.tensor([ids[-12:]])).logits[0, 0])
        whole = float(model(input_ids=torch.tensor([ids])).logits[0, 0])
    assert len(ids) > 12 and cut == pytest.approx(end, abs=1e-5) and cut != pytest.approx(whole, abs=1e-5)
    assert "1 of 1 texts are longer than the reward model's 12 positions" in capsys.readouterr().err


def test_a_reward_model_without_a_pad_token_keeps_the_one_its_config_names(base, tmp_path):
    """The score is read at the last token that is not padding: a hub reward model whose tokenizer names
    no pad token but whose config does is padded with its config's, not with EOS."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from evolm.eval.reward_model import RewardModel

    tokenizer = AutoTokenizer.from_pretrained(base)
    tokenizer.pad_token = None
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    own = next(i for i in range(10) if i not in (tokenizer.eos_token_id, tokenizer.bos_token_id))
    model.config.pad_token_id = own
    model.save_pretrained(tmp_path / "rm")
    tokenizer.save_pretrained(tmp_path / "rm")
    rm = RewardModel(str(tmp_path / "rm"))
    assert rm.tokenizer.pad_token_id == rm.model.config.pad_token_id == own
