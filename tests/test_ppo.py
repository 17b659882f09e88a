"""PPO's pieces (evolm.training.ppo) against hand computations, and its critic."""

import math

import pytest
import torch

from evolm.training import ppo

from conftest import accelerate_launch, assert_launched_cleanly, kill_when, launch_env, launcher, torchrun


def t(rows):
    return torch.tensor(rows, dtype=torch.float32)


def test_gae_with_gamma_and_lambda_1_is_the_reward_to_go_minus_the_value():
    advantages, returns = ppo.gae(t([[0, 0, 1]]), t([[0.5, 0.6, 0.7]]), t([[1, 1, 1]]), 1.0, 1.0)
    assert advantages.tolist()[0] == pytest.approx([0.5, 0.4, 0.3])
    assert returns.tolist()[0] == pytest.approx([1.0, 1.0, 1.0])  # the terminal reward, at every token


def test_gae_by_hand_with_discounting():
    # deltas: t2 = 1 - 0.7 = 0.3; t1 = 0.9 * 0.7 - 0.6 = 0.03; t0 = 0.9 * 0.6 - 0.5 = 0.04; gamma * lambda = 0.72
    advantages, returns = ppo.gae(t([[0, 0, 1]]), t([[0.5, 0.6, 0.7]]), t([[1, 1, 1]]), 0.9, 0.8)
    assert advantages.tolist()[0] == pytest.approx([0.04 + 0.72 * (0.03 + 0.72 * 0.3), 0.03 + 0.72 * 0.3, 0.3])
    assert returns.tolist()[0] == pytest.approx([a + v for a, v in zip(advantages.tolist()[0], [0.5, 0.6, 0.7])])


def test_gae_stops_at_the_end_of_each_response():
    # a 2-token response padded to 3: the padding's value (9) and reward are ignored
    advantages, returns = ppo.gae(t([[0, 1, 5]]), t([[0.2, 0.3, 9]]), t([[1, 1, 0]]), 1.0, 1.0)
    assert advantages.tolist()[0] == pytest.approx([0.8, 0.7, 0.0]) and returns.tolist()[0] == pytest.approx([1.0, 1.0, 0.0])


def test_the_terminal_reward_lands_on_each_responses_last_token_less_the_kl_penalty():
    mask = t([[1, 1, 0], [1, 0, 0]])
    assert ppo.token_rewards(t([1, 0]), mask, None, 0.0).tolist() == [[0, 1, 0], [0, 0, 0]]
    with_kl = ppo.token_rewards(t([1, 0]), mask, t([[0.5, 0.5, 7], [1, 0, 0]]), 0.1)
    assert with_kl.tolist()[0] == pytest.approx([-0.05, 0.95, 0]) and with_kl.tolist()[1] == pytest.approx([-0.1, 0, 0])


@pytest.mark.parametrize("warmup,total", [(0.1, 24), (0.1, 20), (0.05, 7), (0.0, 10), (3, 24)])
def test_ppo_warms_up_for_as_many_steps_as_trl_gives_grpo_and_rloo(warmup, total, tmp_path):
    from transformers import TrainingArguments

    from evolm.options import trainer_warmup_steps

    library = TrainingArguments(output_dir=str(tmp_path), warmup_steps=warmup, use_cpu=True).get_warmup_steps(total)
    assert trainer_warmup_steps(warmup, total) == library


def test_whitening_over_the_masked_tokens():
    assert ppo.whiten(t([[1, 2, 3, 100]]), t([[1, 1, 1, 0]])).tolist()[0] == pytest.approx([-1, 0, 1, 0], abs=1e-6)


def test_the_clipped_policy_loss_by_hand():
    logprobs, old, mask = t([[torch.log(torch.tensor(1.5)).item()]]), t([[0.0]]), t([[1]])
    # A > 0, ratio 1.5 > 1.2: the clipped term -1.2 is the larger, so the loss stops rewarding the ratio
    losses, clipped, _ = ppo.policy_loss(logprobs, old, t([[1.0]]), mask, 0.2)
    assert losses.item() == pytest.approx(-1.2) and clipped.item() == 1.0
    # A < 0: the unclipped 1.5 is the larger (the pessimistic bound)
    losses, clipped, _ = ppo.policy_loss(logprobs, old, t([[-1.0]]), mask, 0.2)
    assert losses.item() == pytest.approx(1.5) and clipped.item() == 0.0


def test_the_clipped_value_loss_by_hand():
    losses, clipped = ppo.value_loss(t([[2.0]]), t([[1.0]]), t([[1.5]]), t([[1]]), 0.2)
    assert losses.item() == pytest.approx(0.5 * 0.25) and clipped.item() == 0.0  # (2-1.5)^2 > (1.2-1.5)^2
    losses, clipped = ppo.value_loss(t([[0.5]]), t([[1.0]]), t([[2.0]]), t([[1]]), 0.2)
    assert losses.item() == pytest.approx(0.5 * 1.5 ** 2) and clipped.item() == 0.0
    losses, clipped = ppo.value_loss(t([[1.5]]), t([[1.0]]), t([[1.6]]), t([[1]]), 0.2)
    assert losses.item() == pytest.approx(0.5 * 0.4 ** 2) and clipped.item() == 1.0  # clipped to 1.2: (1.2-1.6)^2


def test_explained_variance():
    returns, mask = t([[1, 2, 3]]), t([[1, 1, 1]])
    assert ppo.explained_variance(returns, returns, mask) == pytest.approx(1.0)
    assert ppo.explained_variance(torch.zeros_like(returns) + 2, returns, mask) == pytest.approx(0.0)
    values = t([[0.5, 2.5, 2.0]])
    by_hand = 1 - torch.var(returns - values, unbiased=False) / torch.var(returns, unbiased=False)
    assert ppo.explained_variance(values, returns, mask) == pytest.approx(float(by_hand))
    # a step's value over its processes: the sums of its parts (here one token each), not a mean of ratios
    parts = [ppo.variance_sums(values[:, i:i + 1], returns[:, i:i + 1], mask[:, i:i + 1]) for i in range(3)]
    assert ppo.explained_variance_of(3.0, sum(parts)) == pytest.approx(float(by_hand))
    assert math.isnan(ppo.explained_variance(values, t([[1, 1, 1]]), mask))  # returns that do not vary: undefined


def test_the_policy_of_grpo_and_rloo_under_fsdp_is_one_transformers_generates_in_step_for():
    """A canary: transformers' generate keeps many processes in step (synced_gpus) for a model its
    `is_fsdp_managed_module` accepts, which is how it reads evolm's mark (generation/utils.py)."""
    from transformers.distributed.fsdp import is_fsdp_managed_module

    from evolm.stages.rl import mark_fsdp_managed

    model = torch.nn.Linear(1, 1)
    assert not is_fsdp_managed_module(model)
    mark_fsdp_managed(model)
    assert is_fsdp_managed_module(model)


class _AlwaysEOS(torch.nn.Module):
    """A stand-in policy whose every next token is EOS (7 of 8), counting its forwards."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.calls = 0

    def forward(self, input_ids, attention_mask, position_ids=None, use_cache=True, past_key_values=None, logits_to_keep=0):
        from types import SimpleNamespace

        self.calls += 1
        logits = torch.full((input_ids.size(0), 1, 8), -1e9)
        logits[..., 7] = 0.0
        return SimpleNamespace(logits=logits, past_key_values=None)


def test_sampling_forwards_until_every_process_is_done():
    """Under FSDP each forward gathers weights, a collective: a process whose completions have all
    ended keeps forwarding, adding no tokens, until `all_done` says every process's have (PPO passes
    processes.all_agree). Alone, it stops at once."""
    from evolm.training.ppo_loop import sample

    policy, others_done = _AlwaysEOS(), iter([False, False, True])
    kwargs = dict(max_new=10, temperature=1.0, eos=7, pad=0)
    together = sample(policy, [[1, 2], [3]], [0, 1], **kwargs, all_done=lambda mine: mine and next(others_done))
    assert together == [[7], [7]] and policy.calls == 3  # the prompt's forward, then two while the others sampled
    alone = _AlwaysEOS()
    assert sample(alone, [[1, 2], [3]], [0, 1], **kwargs) == [[7], [7]] and alone.calls == 1


class _Scripted(torch.nn.Module):
    """A stand-in policy whose row i writes scripts[i], one token a forward (then EOS, id 0)."""

    def __init__(self, scripts, vocab):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.scripts, self.vocab, self.calls = scripts, vocab, 0

    def forward(self, input_ids, attention_mask, position_ids=None, use_cache=True, past_key_values=None, logits_to_keep=0):
        from types import SimpleNamespace

        logits = torch.full((input_ids.size(0), 1, self.vocab), -1e9)
        for row, script in enumerate(self.scripts):
            logits[row, 0, script[self.calls] if self.calls < len(script) else 0] = 0.0
        self.calls += 1
        return SimpleNamespace(logits=logits, past_key_values=None)


def test_a_rollout_ends_with_the_token_that_completes_a_stop_string(tiny_tokenizer):
    """The reward cuts a completion at the first stop string (as evaluation does): PPO's rollout ends
    there too, so the turn a model makes up past its answer is neither trained nor rewarded. The
    stop string's own tokens stay, as an EOS token does; a completion without one runs to its EOS."""
    from transformers import AutoTokenizer

    from evolm.template import STOP_STRINGS, cut_at_stop
    from evolm.training.ppo_loop import sample, stop_criteria

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer)
    rambling = tokenizer.encode("so it is 4.\nHuman: and what is 5 + 5?", add_special_tokens=False)
    plain = tokenizer.encode("so it is 4.", add_special_tokens=False) + [0]
    # the shortest prefix whose text holds the stop string
    upto = next(k for k in range(1, len(rambling) + 1) if "Human:" in tokenizer.decode(rambling[:k]))
    assert upto < len(rambling)
    kwargs = dict(max_new=40, temperature=1.0, eos=0, pad=0)
    stopped = sample(_Scripted([rambling, plain], len(tokenizer)), [[1], [2]], [0, 1], **kwargs,
                     stopped=stop_criteria(tokenizer, STOP_STRINGS))
    assert stopped == [rambling[:upto], plain]
    assert cut_at_stop(tokenizer.decode(stopped[0]), STOP_STRINGS) == "so it is 4.\n"
    unstopped = sample(_Scripted([rambling, plain], len(tokenizer)), [[1], [2]], [0, 1], **kwargs)
    assert unstopped == [rambling + [0], plain]  # without stop strings: on to its EOS
    assert stop_criteria(tokenizer, ()) is None


def test_the_critic_starts_from_the_checkpoint_with_a_zero_head_and_saves_and_loads(sft_model, tmp_path):
    from transformers import AutoModelForCausalLM, AutoModelForTokenClassification

    from evolm.training.ppo_loop import value_model

    critic = value_model(sft_model)
    policy = AutoModelForCausalLM.from_pretrained(sft_model)
    backbone = policy.model.state_dict()
    assert all(torch.equal(v, backbone[k]) for k, v in critic.model.state_dict().items())
    ids = torch.tensor([[1, 2, 3]])
    assert torch.count_nonzero(critic(input_ids=ids).logits) == 0  # every value starts at 0
    with torch.no_grad():
        critic.score.weight.normal_()
    critic.save_pretrained(tmp_path / "critic")
    again = AutoModelForTokenClassification.from_pretrained(tmp_path / "critic")
    assert torch.allclose(again(input_ids=ids).logits, critic(input_ids=ids).logits, atol=1e-5)


def test_checkpointed_activations_give_ppo_the_same_rollouts_and_gradients(sft_model):
    """PPO on CUDA recomputes activations in the backward (evolm.training.memory.checkpoint_activations):
    the rollouts (eval mode, KV cache) are the same tokens, the update's gradients the same numbers."""
    from transformers import AutoModelForCausalLM

    from evolm.training.memory import checkpoint_activations
    from evolm.training.ppo_loop import PolicyAndCritic, logprobs_and_values, sample, value_model

    def run(checkpointing):
        torch.manual_seed(0)
        model = PolicyAndCritic(AutoModelForCausalLM.from_pretrained(sft_model), value_model(sft_model))
        with torch.no_grad():
            model.critic.score.weight.normal_()
        if checkpointing:
            checkpoint_activations(model.policy, model.critic)
            on = [getattr(m, "is_activation_checkpointing", None) for m in (model.policy, model.critic)]  # 5.2x's name
            assert on == [True, True] or all(m.is_gradient_checkpointing for m in (model.policy, model.critic))
        model.eval()
        with torch.no_grad():
            tokens = sample(model.policy, [[5, 6, 7], [8, 9]], [1, 2], max_new=6, temperature=1.0, eos=0, pad=0)
        model.train()
        ids = torch.tensor([[5, 6, 7, 8, 9, 10]])
        logprobs, values = logprobs_and_values(model, ids, torch.ones_like(ids), torch.tensor([2]), 3, 1.0)
        (logprobs.sum() + values.sum()).backward()
        return tokens, [p.grad.clone() for p in model.parameters() if p.grad is not None]

    plain, checkpointed = run(False), run(True)
    assert plain[0] == checkpointed[0]
    assert len(plain[1]) == len(checkpointed[1]) > 0
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(plain[1], checkpointed[1]))


# --- `evolm rl --algo ppo` on drills a small model gets partly right after a short SFT --------------------------------

import json  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from safetensors.torch import load_file  # noqa: E402

from evolm.checkpoint import load_checkpoint  # noqa: E402

PPO = ("--algo", "ppo", "--examples", "8", "--prompts-per-step", "4", "--max-completion-length", "32", "--lr", "3e-4",
       "--log-every", "1")


@pytest.fixture(scope="module")
def drills(tmp_path_factory, base):
    """Single-digit drills (as examples/rl-reward.sh) and the (tiny) base after SFT on 400 of them: partly right, so
    the rewards are not all zero."""
    from evolm.cli.main import main

    root = tmp_path_factory.mktemp("drills")
    rng = random.Random(0)
    with open(root / "drills.jsonl", "w") as out:
        for i in range(480):  # 8 distinct drills, so that 400 SFT rows teach them to a two-layer model within seconds
            a, b = rng.randint(1, 4), rng.randint(1, 2)
            out.write(json.dumps({"id": f"d{i}", "problem": f"What is {a} plus {b}?",
                                  "gt_solution": f"{a} + {b} = {a + b}.\nThe final answer is \\boxed{{{a + b}}}"}) + "\n")
    assert main(["sft", str(base), "--data", str(root / "drills.jsonl"), "--examples", "400", "--epochs", "3",
                 "--global-batch", "8", "--max-length", "128", "--out", str(root / "sft")]) == 0
    return root


def _rows(path):
    return [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]


def test_ppo_trains_the_policy_and_critic_and_records_it(drills, tmp_path, cli):
    result = cli("rl", drills / "sft", "--data", drills / "drills.jsonl", *PPO, "--epochs", "2", "--out", tmp_path / "ppo")
    assert result.code == 0, result.err
    manifest = load_checkpoint(tmp_path / "ppo").manifest
    settings = manifest.schedule.settings
    assert (settings["algo"], settings["rollouts"], settings["gamma"], settings["lam"]) == ("ppo", 1, 1.0, 1.0)
    critic = manifest.posttraining.critic
    assert critic["critic_lr"] == pytest.approx(3e-3) and (critic["gamma"], critic["lam"], critic["value_clip"]) == (1.0, 1.0, 0.2)
    assert manifest.posttraining.kl == {"enabled": False, "coef": 0.0} and manifest.schedule.steps_done == 4
    assert manifest.posttraining.generation["stop"] == ["Human:", "Assistant:"]  # rollouts end where the reward cuts
    rows = [r for r in _rows(tmp_path / "ppo") if "reward" in r]
    assert len(rows) == 4 and any(r["reward"] > 0 for r in rows)
    for key in ("value_loss", "policy_loss", "clip_fraction", "explained_variance", "completion_length", "approx_kl"):
        assert key in rows[0] or key == "explained_variance"
    assert any(r["value_loss"] > 0 for r in rows)
    # the ledger: every sampled token, 4 prompts x 1 rollout per step
    assert manifest.compute.generated_tokens == round(sum(r["completion_length"] * 4 for r in rows))
    assert not manifest.outcome.warnings  # the weights moved


def test_ppo_mini_batches_update_a_policy_that_has_moved_so_the_clip_can_act(drills, tmp_path, cli):
    """One update per step (the default) is made by the policy that sampled: its ratio is 1 (approx_kl 0, no
    clipping). Split two ways, the second update's ratio is taken after the first moved the weights, which the
    clip then bounds; two epochs make four updates a step."""
    one = cli("rl", drills / "sft", "--data", drills / "drills.jsonl", *PPO, "--micro-batch", "2", "--out", tmp_path / "one")
    assert one.code == 0, one.err
    rows = [r for r in _rows(tmp_path / "one") if "reward" in r]
    assert all(abs(r["approx_kl"]) < 1e-6 and r["clip_fraction"] == 0 for r in rows)
    assert "ppo_mini_batches" not in load_checkpoint(tmp_path / "one").manifest.schedule.settings  # as runs made before it
    split = cli("rl", drills / "sft", "--data", drills / "drills.jsonl", *PPO, "--micro-batch", "2", "--ppo-mini-batches", "2",
                "--ppo-epochs", "2", "--out", tmp_path / "split")
    assert split.code == 0, split.err
    rows = [r for r in _rows(tmp_path / "split") if "reward" in r]
    # (a step whose rewards are all alike has no advantage to move the policy: step 1 here)
    assert any(r["approx_kl"] > 1e-6 for r in rows) and any(r["clip_fraction"] > 0 for r in rows)
    settings = load_checkpoint(tmp_path / "split").manifest.schedule.settings
    assert (settings["ppo_mini_batches"], settings["ppo_epochs"]) == (2, 2)
    a, b = (load_file(tmp_path / name / "model.safetensors") for name in ("one", "split"))
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_ppo_with_kl_records_it_reports_to_tensorboard_and_takes_any_number_of_prompts(drills, tmp_path, cli):
    """PPO reads its prompts as one stream across epochs: 10 prompts at 4 per step (GRPO would refuse the
    remainder); its metrics reach TensorBoard as the other stages' do."""
    from test_tracking import _scalars

    result = cli("rl", drills / "sft", "--data", drills / "drills.jsonl", *PPO, "--examples", "10", "--kl", "--kl-coef", "0.1",
                 "--report-to", "tensorboard", "--out", tmp_path / "kl")
    assert result.code == 0, result.err
    manifest = load_checkpoint(tmp_path / "kl").manifest
    assert manifest.posttraining.kl == {"enabled": True, "coef": 0.1, "form": "per-token reward penalty, coef x (log p - log p_parent)"} and manifest.tracking == {"report_to": "tensorboard", "logs": "tb"}
    rows = [r for r in _rows(tmp_path / "kl") if "reward" in r]
    assert all("kl" in r for r in rows) and len(rows) == manifest.schedule.steps_done == 2  # round(10 / 4)
    rl_data = next(d for d in manifest.data if d.name == "rl")
    assert (rl_data.prompts_used, rl_data.epochs) == (8, 0.8)  # what the 2 steps read, not the 10 asked for
    assert [step for step, _ in _scalars(tmp_path / "kl" / "tb")["train/reward"]] == [r["step"] for r in rows]


@pytest.mark.parametrize("args, message", [
    (("--algo", "grpo", "--critic-lr", "1e-5"), "are PPO's"),
    (("--algo", "grpo", "--rollouts", "1"), "needs at least 2"),
    (("--algo", "ppo", "--gamma", "1.5"), "--gamma 1.5 is out of range"),
    (("--algo", "a2c"), "Unknown RL algorithm"),
    (("--algo", "ppo", "--rollouts", "2"), "PPO draws one rollout per prompt"),  # it did draw one, and recorded 2
    (("--algo", "grpo", "--ppo-mini-batches", "2"), "are PPO's"),
    (("--algo", "ppo", "--prompts-per-step", "4", "--micro-batch", "2", "--ppo-mini-batches", "3"),
     "--ppo-mini-batches 3 must divide the 2 micro batches of 2 completions"),
])
def test_ppo_settings_are_checked_before_any_work(args, message, drills, tmp_path, cli):
    result = cli("rl", drills / "sft", "--data", drills / "drills.jsonl", "--examples", "8", *args, "--out", tmp_path / "x")
    assert result.code == 2 and message in result.err and not (tmp_path / "x.partial").exists()


def test_ppo_is_refused_under_an_fsdp1_config_before_any_work(drills, tmp_path, cli, monkeypatch):
    """PPO samples through the root module's forward, which gathers the weights under FSDP2 only."""
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")  # what `accelerate launch` sets for an FSDP config
    monkeypatch.setenv("FSDP_VERSION", "1")  # for one without `fsdp_version: 2`
    result = cli("rl", drills / "sft", "--data", drills / "drills.jsonl", *PPO, "--out", tmp_path / "x")
    assert result.code == 2 and "not FSDP1" in result.err and not (tmp_path / "x.partial").exists()


@pytest.mark.parametrize("config", [None, pytest.param("fsdp-1B", marks=[pytest.mark.slow, pytest.mark.many_processes])])
def test_ppo_resumes_after_a_kill_with_its_critic(config, drills, tmp_path, cli):
    """Killed after its state at step 2 (of 6), resumed: the same steps and the same weights as a run never
    killed, which needs the critic and both optimizers back (the rollouts are seeded per step and prompt).
    fsdp-1B (two processes, slow: 25 s): the state is FSDP's sharded one (torch.distributed.checkpoint)."""
    args = ["rl", str(drills / "sft"), "--data", str(drills / "drills.jsonl"), *PPO, "--epochs", "3", "--save-every", "2"]
    launch = launcher(config) if config else [sys.executable, "-m", "evolm"]

    def run(*more):
        """(exit code, stderr): in this process without a launch config (faster)."""
        if not config:
            result = cli(*args, *more)
            return result.code, result.err
        done = accelerate_launch(config, *args, *more)  # asserts it succeeded
        return done.returncode, done.stderr

    assert run("--out", tmp_path / "whole")[0] == 0
    out = tmp_path / "killed"
    child = subprocess.Popen([*launch, *args, "--out", str(out)], env=launch_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    state = tmp_path / "killed.partial" / "state" / "step-00000002" / "trainer.json"
    kill_when(child, state, timeout=240)
    assert state.exists() and not out.exists()
    if config:  # FSDP's sharded model state (torch.distributed.checkpoint), not a whole one
        assert (state.parent / "pytorch_model_fsdp_0").is_dir()
    code, err = run("--out", out, "--resume")
    assert code == 0, err[-3000:]
    assert "resuming at step 2/6" in err
    a, b = load_file(tmp_path / "whole" / "model.safetensors"), load_file(out / "model.safetensors")
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    whole, again = load_checkpoint(tmp_path / "whole").manifest, load_checkpoint(out).manifest
    assert again.schedule.steps_done == 6 and again.compute.generated_tokens == whole.compute.generated_tokens
    assert again.compute.parallelism == ("FSDP" if config else "NO")
    assert [r["reward"] for r in _rows(out) if "reward" in r] == [r["reward"] for r in _rows(tmp_path / "whole") if "reward" in r]


# Two accumulated micro batches per process (one per prompt) under two processes, four under one.
ONE_PER_MICRO_BATCH = ("--epochs", "1", "--micro-batch", "1")


@pytest.fixture(scope="module")
def one_process_ppo(drills, tmp_path_factory):
    """The one-process PPO run the launched ones are compared with (made once for this file)."""
    from evolm.cli.main import main

    out = tmp_path_factory.mktemp("ppo-one") / "one"
    assert main(["rl", str(drills / "sft"), "--data", str(drills / "drills.jsonl"), *PPO, *ONE_PER_MICRO_BATCH,
                 "--out", str(out)]) == 0
    return out


def _same_steps(one, two):
    one, two = [[r for r in _rows(p) if "reward" in r] for p in (one, two)]
    assert len(one) == len(two) == 2
    for a, b in zip(one, two):
        assert a["reward"] == b["reward"] and a["completion_length"] == b["completion_length"]
        assert b["policy_loss"] == pytest.approx(a["policy_loss"], abs=1e-4)
        assert b["value_loss"] == pytest.approx(a["value_loss"], abs=1e-4)


@pytest.mark.many_processes
# Slow-marked (12-14 s with both cores): the launch configs' test below makes the same assertions (the
# losses and weights of one process) under ZeRO-3, whose data-parallel part this is.
@pytest.mark.slow
def test_two_processes_give_the_losses_of_one(drills, one_process_ppo, tmp_path):
    args = ["rl", str(drills / "sft"), "--data", str(drills / "drills.jsonl"), *PPO, *ONE_PER_MICRO_BATCH]
    done = subprocess.run([sys.executable, *torchrun(), "-m", "evolm", *args,
                           "--out", str(tmp_path / "two")], capture_output=True, text=True, env=launch_env(), timeout=300)
    assert_launched_cleanly(done)
    _same_steps(one_process_ppo, tmp_path / "two")
    assert load_checkpoint(tmp_path / "two").manifest.compute.processes == 2
    a, b = load_file(one_process_ppo / "model.safetensors"), load_file(tmp_path / "two" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


@pytest.mark.slow
def test_two_processes_split_into_mini_batches_as_one_does(drills, tmp_path):
    """With --ppo-mini-batches each optimizer step takes the same prompts whatever the process count (each
    process holds its part of every mini batch) and its loss is a token mean over that mini batch's tokens on
    all processes: two processes make the updates of one."""
    from evolm.cli.main import main

    args = ["rl", str(drills / "sft"), "--data", str(drills / "drills.jsonl"), *PPO, *ONE_PER_MICRO_BATCH,
            "--ppo-mini-batches", "2", "--ppo-epochs", "2"]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    done = subprocess.run([sys.executable, *torchrun(), "-m", "evolm", *args, "--out", str(tmp_path / "two")],
                          capture_output=True, text=True, env=launch_env(), timeout=300)
    assert_launched_cleanly(done)
    _same_steps(tmp_path / "one", tmp_path / "two")
    a, b = load_file(tmp_path / "one" / "model.safetensors"), load_file(tmp_path / "two" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


@pytest.mark.many_processes
# ZeRO-2 is slow-marked (about 20 s): the default suite keeps ZeRO-3, whose path (partitioned
# weights, gathered for rollouts and the checkpoint) is the superset, and runs ZeRO-2 with SFT and GRPO.
# fsdp-1B too (14-22 s with both cores), for the default suite's time: FSDP2 stays in it through the SFT
# and GRPO launch test (tests/test_posttrain_launch.py) and the pre-training compile test.
@pytest.mark.parametrize("config, parallelism", [pytest.param("zero2-1B", "DEEPSPEED", marks=pytest.mark.slow),
                                                 ("zero3-4B", "DEEPSPEED"),
                                                 pytest.param("fsdp-1B", "FSDP", marks=pytest.mark.slow)])
def test_launch_configs_train_the_policy_and_critic_as_one_process(config, parallelism, drills, one_process_ppo, tmp_path):
    """PPO through the shipped launch configs, two CPU processes, for real: the policy and its critic
    as one engine (ZeRO-2: sharded optimizer states; ZeRO-3: the weights too, loaded partitioned,
    gathered for the rollouts and the checkpoint), with DeepSpeed's gradient accumulation and clipping;
    FSDP2 on gloo (evolm.training.processes.shard_as_launched), sampling through the sharded module's
    forward with the processes stopping together, the weights gathered for the checkpoint."""
    if parallelism == "DEEPSPEED":
        pytest.importorskip("deepspeed")
    done = accelerate_launch(config, "rl", drills / "sft", "--data", drills / "drills.jsonl", *PPO, *ONE_PER_MICRO_BATCH,
                             "--out", tmp_path / "two")
    _same_steps(one_process_ppo, tmp_path / "two")
    # completions ended before the 32-token limit, at lengths of their own: under FSDP the process
    # whose completions had ended went on forwarding with the other (a hang otherwise)
    assert any(r["completion_length"] < 32 for r in _rows(tmp_path / "two") if "reward" in r)
    manifest = load_checkpoint(tmp_path / "two").manifest
    assert (manifest.compute.processes, manifest.compute.parallelism) == (2, parallelism)
    assert "the launch config asks for" not in done.stderr
    a, b = load_file(one_process_ppo / "model.safetensors"), load_file(tmp_path / "two" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
