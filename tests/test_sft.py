"""`evolm sft` on a CPU-preset model pre-trained on the synthetic data."""

import json

import pytest
from conftest import kill_when
from transformers import AutoModelForCausalLM, AutoTokenizer

from evolm.checkpoint import load_checkpoint
from evolm.eval.generate import Decoding, TransformersBackend
from evolm.eval.math_grader import last_boxed
from evolm.template import install, training_text


def _boxed_rate(path, problems):
    tok = AutoTokenizer.from_pretrained(path)
    install(tok)  # the base has no template yet; the SFT checkpoint carries it
    model = AutoModelForCausalLM.from_pretrained(path)
    outputs = TransformersBackend(model, tok).generate(problems, Decoding(max_new_tokens=80, repetition_penalty=1.0))
    return sum(last_boxed(o[0]) is not None for o in outputs) / len(problems)


def test_sft_lowers_the_response_loss_and_teaches_the_format(sft_model, base, synth_tiny):
    rows = [json.loads(l) for l in (synth_tiny / "benchmarks" / "SynthMathLevel1.jsonl").read_text().splitlines()][:30]
    problems = [r["problem"] for r in rows]
    before, after = _boxed_rate(base, problems), _boxed_rate(sft_model, problems)
    assert before <= 0.1 and after >= 0.6, (before, after)
    losses = [json.loads(l)["loss"] for l in (sft_model / "metrics.jsonl").read_text().splitlines() if '"loss"' in l]
    assert losses[-1] < losses[0] - 1.0


def test_sft_checkpoint_records_lineage_and_template(sft_model, base, synth_tiny):
    ckpt = load_checkpoint(sft_model)
    assert ckpt.signature == "tiny-60KT-400ep2"
    assert ckpt.manifest.parent.manifest_sha256 == load_checkpoint(base).manifest_sha256
    assert ckpt.manifest.knobs["rows"] == [0, 400]
    assert ckpt.manifest.data[0].examples == 400 and ckpt.manifest.data[0].epochs == 2
    assert ckpt.manifest.schedule.completed and ckpt.manifest.schedule.settings["global_batch"] == 4
    assert "Human: {problem}" in ckpt.manifest.posttraining.template["format"]

    # the compute ledger: the non-padding tokens trained on (TRL's own count agrees), 6 x parameters each
    compute = ckpt.manifest.compute
    logged = [json.loads(line) for line in (sft_model / "metrics.jsonl").read_text().splitlines()]
    assert compute.trained_tokens == max(r["num_tokens"] for r in logged if "num_tokens" in r) > 400 * 2 * 20
    assert compute.flops == 6.0 * ckpt.manifest.model.params * compute.trained_tokens and compute.generated_tokens is None
    assert compute.mfu is None  # no GPU with a published peak here


def test_post_training_mfu_is_against_the_gpus_published_peak():
    from evolm.stages.posttrain import posttrain_ledger

    # 1M parameters, 1,000 trained and 500 generated tokens in 2 s on 2 devices of 1e12 FLOP/s
    ledger = posttrain_ledger(1_000_000, 1_000, 500, 2.0, 2, peak=1e12)
    assert ledger["flops"] == 6e9 + 1e9 and ledger["mfu"] == pytest.approx(7e9 / (2.0 * 1e12 * 2)) and ledger["peak_flops"] == 1e12
    assert posttrain_ledger(1_000_000, 1_000, None, 2.0, 1)["mfu"] is None


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
    # a warmup that fills the run: the LR would rise all run, never reach its peak nor decay (it was accepted)
    filled = cli("sft", base, "--data", pool, "--examples", "16", "--epochs", "2", "--global-batch", "4",
                 "--warmup", "8", "--out", tmp_path / "s")
    assert filled.code == 2 and "fewer than the run's 8 steps" in filled.err, filled.err
    assert not (tmp_path / "s").exists() and not (tmp_path / "s.partial").exists()


def test_interrupted_sft_resumes(base, synth_tiny, tmp_path, cli):
    import subprocess
    import sys

    args = ["sft", str(base), "--data", str(synth_tiny / "pool" / "mathpool.jsonl"), "--examples", "80", "--epochs", "2",
            "--global-batch", "8", "--max-length", "128", "--save-every", "4", "--out", str(tmp_path / "s")]
    proc = subprocess.Popen([sys.executable, "-m", "evolm", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    checkpoint = tmp_path / "s.partial" / "checkpoint-8"
    kill_when(proc, checkpoint / "evolm_elapsed.json")  # the time trained so far lands once the checkpoint is complete
    assert checkpoint.is_dir() and not (tmp_path / "s").exists()
    assert not (tmp_path / "s.partial" / "checkpoint-4").exists()  # only the newest state is kept
    before = json.loads((checkpoint / "evolm_elapsed.json").read_text())["elapsed_s"]
    refused = cli(*args[:-2], "--lr", "1e-4", "--out", tmp_path / "s", "--resume")
    assert refused.code == 2 and "different settings (lr)" in refused.err
    # another micro batch is what another number of processes gives (the record holds no process count): said so
    refused = cli(*args, "--micro-batch", "2", "--resume")
    assert refused.code == 2 and ("different settings (micro_batch) (the micro batch follows from the global batch and "
                                  "the number of processes: resume on as many processes as the run had, or pass --micro-batch 8)") in refused.err
    resumed = cli(*args, "--resume")
    assert resumed.code == 0, resumed.err
    ckpt = load_checkpoint(tmp_path / "s")
    assert ckpt.manifest.schedule.steps_done == 20
    logged = [json.loads(line) for line in (tmp_path / "s" / "metrics.jsonl").read_text().splitlines() if '"loss"' in line]
    assert [row["step"] for row in logged] == list(range(1, 21))
    # the whole run's time and mean loss, not those of the part after the resume (transformers' own count one call)
    compute, loss = ckpt.manifest.compute, ckpt.manifest.outcome.loss
    assert compute.wall_time_s > before > 0
    assert loss["train_loss"] == pytest.approx(sum(row["loss"] for row in logged) / 20, abs=1e-3)
    # and metrics.jsonl's final row says the same (it gave the part after the resume)
    final = [json.loads(line) for line in (tmp_path / "s" / "metrics.jsonl").read_text().splitlines() if '"final"' in line]
    assert len(final) == 1 and final[0]["train_runtime"] == pytest.approx(compute.wall_time_s, abs=0.01)
    assert final[0]["train_loss"] == pytest.approx(loss["train_loss"], abs=1e-6)


def test_trainer_settings_name_activation_checkpointing_as_the_installed_transformers_does(tmp_path):
    """TRL's configs turn checkpointing on by default; evolm turns it off on CPUs through the field the
    installed transformers has. transformers 5.2x renamed it (`gradient_checkpointing` then warns on
    every SFT and RL run, and goes in v6); 5.17, on the GPU image, has only the old name."""
    import dataclasses
    import warnings

    from transformers import TrainingArguments
    from trl import SFTConfig

    from evolm.training.trl_run import device_settings

    settings = device_settings()
    renamed = "activation_checkpointing" in {f.name for f in dataclasses.fields(TrainingArguments)}
    assert ("activation_checkpointing" in settings) is renamed and ("gradient_checkpointing" in settings) is not renamed
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        args = SFTConfig(output_dir=str(tmp_path), report_to=[], **settings)
    assert args.gradient_checkpointing is False and getattr(args, "activation_checkpointing", False) is False


def test_examples_longer_than_max_length_are_counted(tiny_tokenizer):
    """TRL keeps an over-long example's start (its solution loses its end and EOS) and drops one whose
    prompt fills --max-length, silently; evolm counts both (logged, and kept in the manifest's warnings)."""
    from evolm.stages.sft import over_length

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer)
    install(tokenizer)
    rows = [{"problem": "What is 1 plus 1?", "gt_solution": "1 + 1 = 2.\nThe final answer is \\boxed{2}"}] * 4
    rows += [{"problem": "What is 2 plus 2?", "gt_solution": "2 + 2 = 4. " * 40 + "The final answer is \\boxed{4}"},
             {"problem": "What is 3 plus 3? " * 40, "gt_solution": "The final answer is \\boxed{6}"}]
    said = over_length(tokenizer, rows, 64)
    assert said.left_out == 1 and said.warning.startswith("2 of 6 examples are longer than --max-length 64 tokens: 1 lose the end of their solution "
                           "(and its EOS), 1 whose prompt alone fills it are left out")
    # the count is of the text TRL trains on: the chat template's, EOS included
    fits = max(len(tokenizer.apply_chat_template([{"role": "user", "content": r["problem"]},
                                                   {"role": "assistant", "content": r["gt_solution"]}])["input_ids"])
               for r in rows[:4])
    assert over_length(tokenizer, rows[:4], fits).warning is None
    assert over_length(tokenizer, rows[:4], fits - 1).warning.startswith("4 of 4")


def test_the_data_record_gives_the_examples_trained_when_trl_leaves_some_out(base, tmp_path, cli):
    pool = tmp_path / "pool.jsonl"
    rows = [{"id": str(i), "problem": f"What is {i} plus {i}?" + (" Think hard." * 30 if i < 2 else ""),
             "gt_solution": f"The final answer is \\boxed{{{2 * i}}}"} for i in range(8)]
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli("sft", base, "--data", pool, "--examples", "8", "--max-length", "64", "--global-batch", "2",
                 "--out", tmp_path / "s")
    assert result.code == 0, result.err
    record = load_checkpoint(tmp_path / "s").manifest.data[0]
    assert (record.examples, record.prompts_used) == (8, 6)


def test_examples_whose_prompts_all_fill_max_length_are_refused_before_any_output(base, synth_tiny, tmp_path, cli):
    """TRL would drop every one and fail on an empty dataset with a traceback, leaving OUT.partial."""
    result = cli("sft", base, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "8", "--max-length", "4",
                 "--out", tmp_path / "s")
    assert result.code == 2 and "Every one of the 8 examples has a prompt of --max-length 4 tokens or more" in result.err
    assert not (tmp_path / "s").exists() and not (tmp_path / "s.partial").exists()


def test_tokenizers_name_a_class_transformers_4_and_5_both_know(tiny_tokenizer, base, sft_model):
    """transformers 5 saves a fast tokenizer as `TokenizersBackend`, unknown to transformers 4 (which a vLLM
    or lm-eval stack may pin): evolm's tokenizer folders and checkpoints name `PreTrainedTokenizerFast`."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    for folder in (tiny_tokenizer, base, sft_model):
        config = json.loads((folder / "tokenizer_config.json").read_text())
        assert config["tokenizer_class"] == "PreTrainedTokenizerFast", folder
        tokenizer = AutoTokenizer.from_pretrained(folder)
        assert isinstance(tokenizer, PreTrainedTokenizerFast) and tokenizer.eos_token == "<|endoftext|>"
    assert AutoTokenizer.from_pretrained(sft_model).chat_template  # the SFT template kept through the rewrite


def test_a_run_stopped_after_writing_its_checkpoint_leaves_nothing_the_next_command_keeps(base, synth_tiny, tmp_path, cli, monkeypatch):
    """Stopped between writing OUT and removing OUT.partial (its saved states: gigabytes on a real run),
    SFT says OUT is written; the next command for OUT, even a --resume, removes OUT.partial and says OUT exists."""
    import evolm.stages.posttrain as posttrain

    def then_stopped(partial, sha):
        real(partial, sha)
        raise KeyboardInterrupt

    real = posttrain.mark_written
    args = ["sft", str(base), "--data", str(synth_tiny / "pool" / "mathpool.jsonl"), "--examples", "16", "--epochs", "1",
            "--global-batch", "8", "--max-length", "128", "--save-every", "1", "--out", str(tmp_path / "s")]
    with monkeypatch.context() as patched:
        patched.setattr(posttrain, "mark_written", then_stopped)
        cut = cli(*args)
    assert cut.code == 130 and "was written before the stop" in cut.err, cut.err
    assert (tmp_path / "s.partial" / "checkpoint-2").is_dir()
    load_checkpoint(tmp_path / "s")
    again = cli(*args, "--resume")
    assert again.code == 2 and "finished its cleanup" in again.err and "already exists" in again.err, again.err
    assert not (tmp_path / "s.partial").exists()
