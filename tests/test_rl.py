"""`evolm rl` (GRPO through TRL) on the SFT test model."""

import json

import pytest
from conftest import kill_when

from evolm.checkpoint import load_checkpoint
from evolm.stages.rl import reward_function

RL = ("--prompts-per-step", "4", "--rollouts", "2", "--max-completion-length", "24", "--epochs", "1")


def test_reward_function_takes_trl_completions():
    conversational = [[{"role": "assistant", "content": "so \\boxed{4}"}], [{"role": "assistant", "content": "\\boxed{5}"}]]
    assert reward_function(conversational, gold=["4", "4"]) == [1.0, 0.0]
    assert reward_function(["the answer is 4", "none"], gold=["4", "4"]) == [1.0, 0.0]


def test_the_reward_grades_the_answer_before_a_turn_the_model_made_up():
    """Evaluation cuts a completion at the first stop string ("Human:", "Assistant:"); so does the reward,
    which would otherwise take the last boxed answer, from the turn the model went on to invent."""
    assert reward_function([" \\boxed{12}\nHuman: and 3 + 4?\nAssistant: \\boxed{7}"], gold=["12"]) == [1.0]
    assert reward_function([" \\boxed{9}\nHuman: and 6 + 6?\nAssistant: \\boxed{12}"], gold=["12"]) == [0.0]


def test_rl_runs_and_records_its_reward_and_kl(sft_model, synth_tiny, tmp_path, cli, recwarn):
    pool = synth_tiny / "pool" / "mathpool.jsonl"
    result = cli("rl", sft_model, "--data", pool, "--examples", "8", *RL, "--out", tmp_path / "rl", "--kl", "--json")
    assert result.code == 0, result.err
    ckpt = load_checkpoint(tmp_path / "rl")
    assert ckpt.signature == "tiny-60KT-400ep2-8ep1"
    assert ckpt.manifest.knobs["rows"] == [1992, 2000]
    assert ckpt.manifest.posttraining.kl == {"enabled": True, "coef": 1e-4, "form": "loss term, coef x per-token k3 estimate (TRL)"}
    # TRL's loss settings as passed, not left to the installed release's defaults
    assert ckpt.manifest.posttraining.objective["loss_type"] == "dapo" and ckpt.manifest.posttraining.objective["epsilon"] == 0.2
    assert "math-verify" in ckpt.manifest.posttraining.reward["definition"]
    assert ckpt.manifest.posttraining.reward["graders"] == ["math"]
    assert ckpt.manifest.posttraining.generation["backend"] == "transformers"
    rows = [json.loads(line) for line in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    logged = [r for r in rows if "reward" in r]
    assert len(logged) == 2 and all(0.0 <= r["reward"] <= 1.0 for r in logged)
    assert all("kl" in r and "completions/mean_length" in r for r in logged)
    assert json.loads(result.out)["kl"]["enabled"] is True
    assert (tmp_path / "rl" / "chat_template.jinja").is_file()
    # the compute ledger: every completion token sampled (TRL's per-step mean length x completions per
    # step, logged every step here), prompts and completions trained, at 2 and 6 x parameters per token
    compute, params = ckpt.manifest.compute, ckpt.manifest.model.params
    assert compute.generated_tokens == round(sum(r["completions/mean_length"] * 4 * 2 for r in logged))
    assert compute.trained_tokens == max(r["num_tokens"] for r in rows if "num_tokens" in r)
    assert compute.trained_tokens > compute.generated_tokens > 0
    assert compute.flops == 6.0 * params * compute.trained_tokens + 2.0 * params * compute.generated_tokens
    assert compute.device_hours == pytest.approx(compute.wall_time_s / 3600, abs=1e-6)
    # no deprecation notices from the libraries' own calls to each other (TRL's is_gradient_checkpointing)
    assert not [str(w.message) for w in recwarn if "checkpointing" in str(w.message)]


def test_rl_with_activation_checkpointing_prints_no_deprecation_notice(sft_model, synth_tiny, tmp_path, cli, monkeypatch,
                                                                      recwarn):
    """On CUDA, TRL trains with activation checkpointing, which TRL 1.16 turns off and on around every
    generation through names transformers 5.2x deprecated: none of those notices reaches the user.
    Checkpointing is turned on here as on CUDA."""
    from evolm.stages import rl
    from evolm.training.trl_run import checkpointing_argument, device_settings

    monkeypatch.setattr(rl, "device_settings", lambda: {**device_settings(), checkpointing_argument(): True})
    pool = synth_tiny / "pool" / "mathpool.jsonl"
    result = cli("rl", sft_model, "--data", pool, "--examples", "4", *RL, "--out", tmp_path / "rl")
    assert result.code == 0, result.err
    assert not [str(w.message) for w in recwarn if "checkpointing" in str(w.message)]


def test_rl_without_kl_records_it_off(sft_model, synth_tiny, tmp_path, cli):
    result = cli("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "4", *RL,
                 "--log-every", "50", "--out", tmp_path / "rl")
    assert result.code == 0, result.err
    manifest = load_checkpoint(tmp_path / "rl").manifest
    assert manifest.posttraining.kl == {"enabled": False, "coef": 0.0}
    # a run shorter than --log-every logs its last step all the same (it recorded no reward)
    rows = [json.loads(line) for line in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "reward" in r] == [1] and manifest.outcome.rewards["mean"] is not None
    # SFT after this RL may not train on its last 4 rows either (RL after SFT is refused alike, below)
    sft = cli("sft", tmp_path / "rl", "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "1998",
              "--out", tmp_path / "sft")
    assert sft.code == 2 and not (tmp_path / "sft").exists() and not (tmp_path / "sft.partial").exists()
    assert ("SFT rows [0, 1998) overlap the rows [1996, 2000) this lineage used for RL (2 examples); choose fewer SFT "
            "examples (at most 1996)") in sft.err


def test_rloo_runs_through_trl_each_epoch_in_an_order_of_the_seed_and_epoch_alone(sft_model, synth_tiny, tmp_path, cli,
                                                                                     monkeypatch):
    """Two epochs of RLOO. TRL's sampler draws every epoch's prompt order from one generator seeded once,
    so a run resumed in its second epoch (a new generator) replayed the first epoch's order past the steps
    it skipped; here the second epoch's order is the one a fresh sampler gives for epoch 1."""
    import torch

    from evolm.jsonl import read_rows
    from evolm.stages import rl

    seen = []

    def spy(completions, prompts=None, **kwargs):
        seen.extend(p[-1]["content"] if isinstance(p, list) else p for p in prompts)
        return reward_function(completions, prompts=prompts, **kwargs)

    monkeypatch.setattr(rl, "reward_function", spy)
    pool = synth_tiny / "pool" / "mathpool.jsonl"
    result = cli("rl", sft_model, "--data", pool, "--examples", "8", *RL[:-1], "2", "--algo", "rloo", "--out", tmp_path / "rloo")
    assert result.code == 0, result.err
    manifest = load_checkpoint(tmp_path / "rloo").manifest
    assert manifest.schedule.settings["algo"] == "rloo" and manifest.schedule.steps_done == 4
    assert manifest.posttraining.critic is None and manifest.compute.generated_tokens > 0
    assert manifest.posttraining.objective["normalize_advantages"] is False
    assert (manifest.data[0].epochs, manifest.data[0].prompts_used) == (2.0, 8)
    start, end = manifest.knobs["rows"]
    problems = [row["problem"] for row in read_rows(pool)][start:end]
    order = [problems.index(p) for i, p in enumerate(seen) if i % 2 == 0]  # each prompt's 2 rollouts in a row
    seed = manifest.schedule.settings["seed"]
    expected = [torch.randperm(8, generator=torch.Generator().manual_seed(seed + epoch)).tolist() for epoch in (0, 1)]
    assert order == expected[0] + expected[1]


def test_a_run_resumed_inside_a_later_epoch_reads_the_uninterrupted_runs_prompts():
    """The resume path: transformers' Trainer skips the steps done through accelerate's data loader, then
    sets the epoch, which accelerate forwards to the sampler beneath the skipping one."""
    from types import SimpleNamespace

    from accelerate import Accelerator
    from torch.utils.data import DataLoader
    from trl import GRPOTrainer

    from evolm.training.trl_run import epoch_seeded

    trainer = object.__new__(epoch_seeded(GRPOTrainer))  # only the sampler is asked of it
    trainer.train_dataset, trainer.num_generations, trainer.num_iterations, trainer.shuffle_dataset = list(range(8)), 2, 1, True
    trainer.args = SimpleNamespace(generation_batch_size=8, steps_per_generation=1, seed=3)

    def loader():
        return Accelerator(cpu=True).prepare(DataLoader(list(range(8)), batch_size=8, sampler=trainer._get_train_sampler()))

    whole = loader()
    epochs = []
    for epoch in (0, 1):
        whole.set_epoch(epoch)
        epochs.append([b.tolist() for b in whole])
    resumed = Accelerator(cpu=True).skip_first_batches(loader(), 1)  # killed after the first step of epoch 1
    resumed.set_epoch(1)
    assert [b.tolist() for b in resumed] == epochs[1][1:] and epochs[1] != epochs[0]


def test_fractional_rl_epochs_record_the_prompts_their_steps_read():
    from evolm.stages.rl import _prompts_trained

    assert _prompts_trained(48, 6, 4) == {"epochs": 0.5, "prompts_used": 24}  # TRL: ceil(0.5 x 12) steps
    assert _prompts_trained(48, 24, 4) == {"epochs": 2.0, "prompts_used": 48}
    assert _prompts_trained(10, 2, 4) == {"epochs": 0.8, "prompts_used": 8}  # PPO's stream


def test_rl_refuses_prompts_longer_than_max_prompt_length(sft_model, synth_tiny, tmp_path, cli):
    """Prompt lengths are counted in tokens (not in the fields of transformers 5's BatchEncoding)."""
    result = cli("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "8", *RL,
                 "--max-prompt-length", "10", "--out", tmp_path / "rl")
    assert result.code == 2 and "No RL example fits --max-prompt-length" in result.err
    assert "8 of 8 RL prompts are longer than 10 tokens" in result.err


def test_rl_refuses_the_sft_examples(sft_model, synth_tiny, tmp_path, cli):
    result = cli("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "1700", *RL,
                 "--out", tmp_path / "rl")
    assert result.code == 2
    assert "RL rows [300, 2000) overlap the rows [0, 400) this lineage used for SFT (100 examples)" in result.err
    assert not (tmp_path / "rl").exists() and not (tmp_path / "rl.partial").exists()


def test_rl_bad_inputs(sft_model, synth_tiny, tmp_path, cli):
    pool = synth_tiny / "pool" / "mathpool.jsonl"
    assert cli("rl", sft_model, "--data", pool, "--examples", "9999", "--out", tmp_path / "r").code == 2
    unknown = cli("rl", sft_model, "--data", pool, "--examples", "4", "--algo", "a2c", "--out", tmp_path / "r")
    assert unknown.code == 2 and "Unknown RL algorithm 'a2c'; choose grpo, ppo, rloo" in unknown.err
    one = cli("rl", sft_model, "--data", pool, "--examples", "4", "--rollouts", "1", "--out", tmp_path / "r")
    assert one.code == 2 and "at least 2" in one.err
    assert cli("rl", tmp_path, "--data", pool, "--examples", "4", "--out", tmp_path / "r").code == 2
    for algo, rollouts in (("grpo", "2"), ("ppo", "1")):  # 12 prompts, 4 a step: a warmup of 3 steps fills the run
        filled = cli("rl", sft_model, "--data", pool, "--examples", "12", "--prompts-per-step", "4", "--rollouts", rollouts,
                     "--algo", algo, "--warmup", "3", "--out", tmp_path / "r")
        assert filled.code == 2 and "fewer than the run's 3 steps" in filled.err, filled.err
    assert not (tmp_path / "r").exists()


def test_interrupted_rl_resumes(sft_model, synth_tiny, tmp_path, cli):
    import subprocess
    import sys

    # 12 steps: the kill must land after the step-2 checkpoint and before the end. It lands as soon as that
    # checkpoint is complete (the time trained so far is its last file): half a second later, the two-layer
    # model had saved step 4 over it (one state is kept), and with 6 steps a run once finished in between.
    args = ["rl", str(sft_model), "--data", str(synth_tiny / "pool" / "mathpool.jsonl"), "--examples", "48", *RL,
            "--save-every", "2", "--out", str(tmp_path / "r")]
    proc = subprocess.Popen([sys.executable, "-m", "evolm", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    checkpoint = tmp_path / "r.partial" / "checkpoint-2"
    kill_when(proc, checkpoint / "evolm_elapsed.json")
    assert checkpoint.is_dir() and not (tmp_path / "r").exists()
    resumed = cli(*args, "--resume")
    assert resumed.code == 0, resumed.err
    ckpt = load_checkpoint(tmp_path / "r")
    assert ckpt.manifest.schedule.steps_done == 12
    steps = [json.loads(l)["step"] for l in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines() if '"reward"' in l]
    assert steps == list(range(1, 13))


def test_a_checkpoint_cut_by_a_kill_is_not_resumed_from(tmp_path):
    """transformers resumes from the highest checkpoint folder; one without trainer_state.json was
    cut mid-write and is removed first (this made the resume test above flaky)."""
    from evolm.training.trl_run import drop_incomplete_checkpoints, last_trl_checkpoint

    (tmp_path / "checkpoint-2").mkdir()
    (tmp_path / "checkpoint-2" / "trainer_state.json").write_text('{"global_step": 2}')
    (tmp_path / "checkpoint-4").mkdir()
    (tmp_path / "checkpoint-4" / "model.safetensors").write_bytes(b"partial")
    drop_incomplete_checkpoints(tmp_path)
    assert last_trl_checkpoint(tmp_path) == 2 and not (tmp_path / "checkpoint-4").exists()


def test_rl_that_learns_nothing_says_so_in_its_output_manifest_and_report(sft_model, tmp_path, cli):
    """Rewards without variance (no answer the model writes is ever right) give zero advantages:
    the RL checkpoint is its SFT parent. The command, the manifest and the report say so."""
    pool = tmp_path / "unanswerable.jsonl"
    rows = [{"problem": f"What is {i} + {i}?", "gt_solution": "It is 9876543.\nThe final answer is \\boxed{9876543}",
             "gt_answer": "9876543"} for i in range(8)]
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli("rl", sft_model, "--data", pool, "--examples", "4", *RL, "--out", tmp_path / "runs" / "rl")
    assert result.code == 0, result.err
    assert "warning: rl: every rollout of every prompt got the same reward" in result.err
    assert "warning: rl: the weights are identical to the parent's" in result.err
    warnings = load_checkpoint(tmp_path / "runs" / "rl").manifest.outcome.warnings
    assert len(warnings) == 2 and "frac_reward_zero_std 1.0" in warnings[0]
    assert cli("report", tmp_path / "runs", "--out", tmp_path / "report").code == 0
    assert "the weights are identical to the parent's" in (tmp_path / "report" / "report.md").read_text()


def test_rl_prompts_with_evolm_template_after_pre_training_and_the_parents_own_after_fine_tuning(tiny_tokenizer):
    """An adopted tokenizer's own template (ChatML here) is not the paper's: RL straight from a pre-trained
    or CPT checkpoint installs evolm's, as SFT would have; a model fine-tuned with its own template keeps
    it, and the manifest's record says which it was (before, it always named evolm's)."""
    from transformers import AutoTokenizer

    from evolm.stages.rl import prompt_template
    from evolm.template import CHAT_TEMPLATE, TEMPLATE_NAME, template_record

    chatml = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    for stage, kept in (("pretrain", False), ("cpt", False), ("sft", True), ("rl", True)):
        tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer)
        tokenizer.chat_template = chatml
        prompt_template(tokenizer, stage)
        assert (tokenizer.chat_template == chatml) is kept, stage
        assert template_record(tokenizer)["name"] == ("the parent's own" if kept else TEMPLATE_NAME)
    bare = AutoTokenizer.from_pretrained(tiny_tokenizer)
    prompt_template(bare, "sft")  # a fine-tuned parent without any template gets evolm's
    assert bare.chat_template == CHAT_TEMPLATE
