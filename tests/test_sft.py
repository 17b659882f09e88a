"""`evolm sft` on a CPU-preset model pre-trained on the synthetic data."""

import json

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from evolm.checkpoint import load_checkpoint
from evolm.eval.generate import generate
from evolm.eval.math_grader import last_boxed
from evolm.template import install, training_text


@pytest.fixture(scope="session")
def sft_model(tmp_path_factory, base, synth_tiny):
    from evolm.cli.main import main

    out = tmp_path_factory.mktemp("sft") / "sft"
    code = main(["sft", str(base), "--data", str(synth_tiny / "pool" / "mathpool.jsonl"), "--examples", "400",
                 "--epochs", "3", "--global-batch", "8", "--max-length", "256", "--out", str(out)])
    assert code == 0
    return out


def _boxed_rate(path, problems):
    tok = AutoTokenizer.from_pretrained(path)
    install(tok)  # the base has no template yet; the SFT checkpoint carries it
    model = AutoModelForCausalLM.from_pretrained(path)
    outputs = generate(model, tok, problems, max_new_tokens=80)
    return sum(last_boxed(o) is not None for o in outputs) / len(problems)


def test_sft_lowers_the_response_loss_and_teaches_the_format(sft_model, base, synth_tiny):
    rows = [json.loads(l) for l in (synth_tiny / "benchmarks" / "SynthMathLevel1.jsonl").read_text().splitlines()][:30]
    problems = [r["problem"] for r in rows]
    before, after = _boxed_rate(base, problems), _boxed_rate(sft_model, problems)
    assert before <= 0.1 and after >= 0.6, (before, after)
    losses = [json.loads(l)["loss"] for l in (sft_model / "metrics.jsonl").read_text().splitlines() if '"loss"' in l]
    assert losses[-1] < losses[0] - 1.0


def test_sft_checkpoint_records_lineage_and_template(sft_model, base, synth_tiny):
    ckpt = load_checkpoint(sft_model)
    assert ckpt.signature == "1M-60KT-400ep3"
    assert ckpt.manifest["parent"]["manifest_sha256"] == load_checkpoint(base).manifest_sha256
    assert ckpt.manifest["knobs"]["rows"] == [0, 400]
    assert ckpt.manifest["data"][0]["examples"] == 400 and ckpt.manifest["data"][0]["epochs"] == 3
    assert ckpt.manifest["schedule"]["completed"] and ckpt.manifest["schedule"]["global_batch"] == 8
    assert "Human: {problem}" in ckpt.manifest["template"]["format"]


def test_chat_template_reproduces_the_training_prompt(sft_model):
    tok = AutoTokenizer.from_pretrained(sft_model)
    messages = [{"role": "user", "content": "What is 3 + 4?"}, {"role": "assistant", "content": "3 + 4 = 7.\nThe final answer is \\boxed{7}"}]
    rendered = tok.apply_chat_template(messages, tokenize=False)
    assert rendered == training_text("What is 3 + 4?", "3 + 4 = 7.\nThe final answer is \\boxed{7}", tok.eos_token)
    assert rendered == "Human: What is 3 + 4?\nAssistant: 3 + 4 = 7.\nThe final answer is \\boxed{7}" + tok.eos_token
    prompt = tok.apply_chat_template(messages[:1], tokenize=False, add_generation_prompt=True)
    assert prompt == "Human: What is 3 + 4?\nAssistant:"
    assert tok(rendered, add_special_tokens=False).input_ids[:len(tok(prompt, add_special_tokens=False).input_ids)] == \
        tok(prompt, add_special_tokens=False).input_ids
    assert AutoModelForCausalLM.from_pretrained(sft_model).config.vocab_size == len(tok)


def test_sft_bad_inputs(base, synth_tiny, tmp_path, cli):
    pool = synth_tiny / "pool" / "mathpool.jsonl"
    too_many = cli("sft", base, "--data", pool, "--examples", "1M", "--out", tmp_path / "s")
    assert too_many.code == 2 and "larger than the pool" in too_many.err
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({"question": "x", "answer": "y"}) + "\n")
    missing = cli("sft", base, "--data", broken, "--examples", "1", "--out", tmp_path / "s")
    assert missing.code == 2 and "lacks the field(s) problem, gt_solution" in missing.err
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "config.json").write_text("{}")
    foreign = cli("sft", tmp_path / "plain", "--data", pool, "--examples", "10", "--out", tmp_path / "s")
    assert foreign.code == 2 and "not an evolm checkpoint" in foreign.err
    assert not (tmp_path / "s").exists() and not (tmp_path / "s.partial").exists()
