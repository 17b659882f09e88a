"""The PPO loop of `evolm rl --algo ppo`: rollouts, rewards, GAE, clipped updates of the policy and
its critic, on transformers models through accelerate (one or many processes), with evolm's
metrics log and resume states (`OUT.partial/state/step-N`, the critic and its optimizer state in them).

One step: the step's prompts (a seeded permutation per epoch, split over the processes) are each
sampled once at the rollout temperature (by the policy through transformers, or by a colocated vLLM
engine given the policy's weights each step: `evolm.training.vllm_rollouts`); the task's grader scores each completion (1 or 0 on its
last token); the rollout policy's log-probabilities, the critic's values and (with --kl) the
reference model's log-probabilities are taken; GAE (gamma, lambda) gives advantages, whitened over
all processes' tokens; then `ppo_epochs` passes of clipped policy and value updates, each pass one
optimizer step per mini batch (`mini_batches` equal shares of the step's micro batches; with one, the
update is made by the policy that sampled, its ratio 1 and the clip idle). Every sample draws from its own generator, seeded by (seed, step, prompt), so a prompt's
completion does not depend on which process or batch generated it: two processes train as one
(with transformers rollouts; vLLM's batched kernels promise no such bitwise equality).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from evolm.console import log
from evolm.training import ppo
from evolm.training.causal_lm import save_state, state_name
from evolm.training.metrics import MetricsLog
from evolm.training.processes import all_agree, warn_if_not_as_launched
from evolm.training.rundir import METRICS, STATE, latest_state, nothing_saved, truncate_metrics


@dataclass
class PPOSettings:
    actor_lr: float
    critic_lr: float
    prompts_per_step: int  # over all processes
    micro_batch: int  # sequences per forward on one process
    total_steps: int
    warmup_steps: int
    temperature: float = 1.0
    max_completion: int = 256
    gamma: float = 1.0
    lam: float = 1.0
    clip: float = 0.2
    value_clip: float = 0.2
    ppo_epochs: int = 1
    mini_batches: int = 1  # optimizer steps per pass over the step's rollouts
    kl: bool = False
    kl_coef: float = 0.0
    # a rollout ends at the first of these (as the reward cuts it): the tokens after a stop string, a turn
    # the model made up past its answer, are neither trained nor rewarded
    stop: tuple[str, ...] = ()
    seed: int = 0
    save_every: int = 0
    log_every: int = 1
    grad_clip: float = 1.0


@dataclass
class PPOResult:
    steps: int
    wall_time_s: float
    trained_tokens: int
    generated_tokens: int
    rewards: list[float] = field(default_factory=list)  # the logged steps' mean rewards
    state_dict: dict | None = None  # the policy's full weights, on the main process


def value_model(path: Path, dtype=torch.float32):
    """The critic: the checkpoint's backbone with a scalar head (transformers' token-classification
    model, one label), the head zeroed so that every value starts at 0."""
    from transformers import AutoConfig, AutoModelForTokenClassification

    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()  # its load report lists the new head and the unused lm_head, as meant
    try:
        config = AutoConfig.from_pretrained(path, num_labels=1)
        config.classifier_dropout = 0.0  # no dropout before the head (transformers' default 0.1): values are regression targets
        critic = AutoModelForTokenClassification.from_pretrained(path, config=config, dtype=dtype, attn_implementation="sdpa")
    finally:
        logging.set_verbosity(level)
    head = [p for p in (critic.score.weight, getattr(critic.score, "bias", None)) if p is not None]
    with _whole(head), torch.no_grad():
        for parameter in head:
            parameter.zero_()
    critic.config.use_cache = False
    return critic


def _whole(parameters):
    """The parameters whole for a change: under a ZeRO-3 launch config, models load partitioned
    (DeepSpeed's zero.Init), each process holding a slice, and a change to a slice is lost."""
    import contextlib

    from transformers.integrations import is_deepspeed_zero3_enabled

    if not is_deepspeed_zero3_enabled():
        return contextlib.nullcontext()
    import deepspeed

    return deepspeed.zero.GatheredParameters(parameters, modifier_rank=0)


class PolicyAndCritic(torch.nn.Module):
    """The policy and its critic as one module, trained by one optimizer with a parameter group each
    (at its own learning rate). accelerate builds one DeepSpeed engine per Accelerator, so under the
    ZeRO configs two separately prepared models cannot train; and one forward gives both the policy's
    logits and the critic's values, as DDP expects one forward per backward."""

    is_gradient_checkpointing = False  # read by TRL's unwrap_model_for_generation, used for the rollouts

    def __init__(self, policy, critic):
        super().__init__()
        self.policy, self.critic = policy, critic

    def forward(self, input_ids, attention_mask, policy_only: bool = False, **policy_kwargs):
        """The policy's logits and the critic's values; `policy_only`: the policy's own output alone
        (sampling under FSDP, which must come through this forward: see `train`)."""
        if policy_only:
            return self.policy(input_ids=input_ids, attention_mask=attention_mask, **policy_kwargs)
        # a scoring forward: no KV cache (that is for sampling, through policy_only; the critic's
        # config already says so, see value_model)
        logits = self.policy(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
        values = self.critic(input_ids=input_ids, attention_mask=attention_mask).logits[..., 0]
        return logits, values

    def parameter_groups(self, actor_lr: float, critic_lr: float) -> list[dict]:
        return [{"params": list(self.policy.parameters()), "lr": actor_lr},
                {"params": list(self.critic.parameters()), "lr": critic_lr}]


def policy_weights(state_dict: dict) -> dict:
    """The policy's weights out of the combined module's state dict."""
    return {key.removeprefix("policy."): value for key, value in state_dict.items() if key.startswith("policy.")}


def sample_seed(seed: int, step: int, index: int) -> int:
    return (seed * 1_000_003 + step * 10_007 + index) % (2**63 - 1)


@torch.no_grad()
def sample(model, prompts: list[list[int]], seeds: list[int], *, max_new: int, temperature: float, eos: int, pad: int,
           stopped: Callable[[list[list[int]]], list[bool]] | None = None, forward: Callable | None = None,
           all_done: Callable[[bool], bool] = bool) -> list[list[int]]:
    """One completion per prompt, each drawn with its own generator (so the batch it is in does not
    change it), left-padded prompts, KV cache; a completion ends with its eos token, with the token that
    completes a stop string (`stopped`: given the running completions' tokens, one row each, which of
    them end with one: `stop_criteria`), or at max_new.

    `forward`: how the model is called (default: the model itself). `all_done(done)`: whether to stop,
    given whether this process's completions have all ended; under FSDP every forward gathers the
    sharded weights, a collective, so the processes stop together (`processes.all_agree`), each
    running forwards for the others' completions after its own have ended (these add no tokens)."""
    forward = forward or model
    device = next(model.parameters()).device
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=device)
    attention = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
    generators = [torch.Generator(device="cpu").manual_seed(s) for s in seeds]
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    cache = _cache_name(model)
    # logits of the last position only: the prompt's others are not needed (batch x length x vocab)
    out = forward(input_ids=ids, attention_mask=attention, position_ids=positions, use_cache=True, logits_to_keep=1)
    past, logits = getattr(out, cache), out.logits[:, -1].float()
    completions: list[list[int]] = [[] for _ in prompts]
    done = [False] * len(prompts)
    for _ in range(max_new):
        probs = torch.softmax(logits / temperature, dim=-1).cpu()
        chosen = [pad if done[i] else int(torch.multinomial(probs[i], 1, generator=generators[i])) for i in range(len(prompts))]
        running = [i for i in range(len(prompts)) if not done[i]]
        for i in running:
            completions[i].append(chosen[i])
            done[i] = chosen[i] == eos
        if stopped is not None and running:
            for i, hit in zip(running, stopped([completions[i] for i in running])):
                done[i] = done[i] or hit
        if all_done(all(done)):
            break
        attention = torch.cat([attention, torch.ones_like(attention[:, :1])], dim=1)
        positions = positions[:, -1:] + 1
        out = forward(input_ids=torch.tensor(chosen, device=device)[:, None], attention_mask=attention, position_ids=positions,
                    use_cache=True, **{cache: past})
        past, logits = getattr(out, cache), out.logits[:, -1].float()
    return completions


def stop_criteria(tokenizer, stop: tuple[str, ...]) -> Callable[[list[list[int]]], list[bool]] | None:
    """`sample`'s `stopped` for these stop strings: transformers' StopStringCriteria, which `generate`
    uses for evaluation's stop strings (it also finds a string spread over several tokens, or one that
    a token overhangs); None without stop strings. It is given only the completions' last tokens, all
    it reads: the whole completions, made a tensor at every sampled token, cost time quadratic in
    their length."""
    if not stop:
        return None
    from transformers import StopStringCriteria

    criteria = StopStringCriteria(tokenizer, list(stop))

    def stopped(completions: list[list[int]]) -> list[bool]:
        # sampled together, the running completions are all as long: one tensor of their tails
        return criteria(torch.tensor([c[-criteria.maximum_token_len:] for c in completions]), None).tolist()

    return stopped


def _cache_name(model) -> str:
    """The KV cache's keyword: `cache` from transformers 5.2x, `past_key_values` before it."""
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _batch(prompts: list[list[int]], responses: list[list[int]], pad: int, device):
    """Right-padded prompt + response sequences, and where each response starts."""
    seqs = [p + r for p, r in zip(prompts, responses)]
    width = max(len(s) for s in seqs)
    ids = torch.tensor([s + [pad] * (width - len(s)) for s in seqs], device=device)
    attention = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=device)
    starts = torch.tensor([len(p) for p in prompts], device=device)
    length = max(1, max(len(r) for r in responses))
    mask = torch.tensor([[1.0] * len(r) + [0.0] * (length - len(r)) for r in responses], device=device)
    return ids, attention, starts, mask


def _at_responses(per_position: torch.Tensor, starts: torch.Tensor, length: int) -> torch.Tensor:
    """(batch, positions) -> (batch, response tokens): the entries of the positions that predict
    each response token (position start - 1 + j for token j)."""
    index = (starts[:, None] - 1 + torch.arange(length, device=starts.device)[None, :]).clamp(max=per_position.size(1) - 1)
    return per_position.gather(1, index)


def _logprobs_of(logits, ids, starts, length: int, temperature: float) -> torch.Tensor:
    logprobs = torch.log_softmax(logits[:, :-1].float() / temperature, dim=-1).gather(2, ids[:, 1:, None]).squeeze(-1)
    return _at_responses(logprobs, starts, length)


def response_logprobs(model, ids, attention, starts, length: int, temperature: float) -> torch.Tensor:
    return _logprobs_of(model(input_ids=ids, attention_mask=attention, use_cache=False).logits, ids, starts, length, temperature)


def logprobs_and_values(model, ids, attention, starts, length: int, temperature: float):
    """The policy's log-probabilities of the response tokens and the critic's values there, in one
    forward of the combined module."""
    logits, values = model(ids, attention)
    return _logprobs_of(logits, ids, starts, length, temperature), _at_responses(values.float(), starts, length)


def train(policy, critic, ref, tokenizer, prompts: list[list[int]], score: Callable[[int, str], float], s: PPOSettings,
          run_dir: Path, accelerator, *, resume: bool, description: str, engine=None, tracker=None) -> PPOResult:
    """The PPO run; `engine` (a `VLLMRollouts`) samples the rollouts when given, else the policy
    itself through `sample`."""
    from transformers import get_constant_schedule_with_warmup

    from trl.models.utils import prepare_deepspeed, unwrap_model_for_generation

    world, rank, main = accelerator.num_processes, accelerator.process_index, accelerator.is_main_process
    device = accelerator.device
    mismatch = warn_if_not_as_launched(accelerator)
    if mismatch and main:
        log(f"warning: {mismatch}")
    deepspeed = accelerator.state.deepspeed_plugin is not None
    sharded = accelerator.is_fsdp2
    model = PolicyAndCritic(policy, critic)
    optimizer = torch.optim.AdamW(model.parameter_groups(s.actor_lr, s.critic_lr), weight_decay=0.0)
    if deepspeed:
        _fill_deepspeed_config(accelerator, s)
    model, optimizer = accelerator.prepare(model, optimizer)
    scheduler = get_constant_schedule_with_warmup(optimizer, s.warmup_steps)  # both groups, each from its own LR
    accelerator.register_for_checkpointing(scheduler)
    if ref is not None:
        ref = prepare_deepspeed(ref, accelerator) if deepspeed else ref.to(device).eval()
    state_root = Path(run_dir) / STATE
    start_step = latest_state(run_dir) if resume else 0
    counts = {"trained_tokens": 0, "generated_tokens": 0, "elapsed_s": 0.0}
    if start_step:
        folder = state_root / state_name(start_step)
        accelerator.load_state(str(folder))
        # load_state restores accelerate's count of accumulated micro batches, taken under the saving
        # run's process count; every state is saved on a step boundary, so the count starts over
        accelerator.step = 0
        saved = json.loads((folder / "trainer.json").read_text())
        counts = {k: saved.get(k, 0) for k in counts}
    if resume and main:
        truncate_metrics(Path(run_dir) / METRICS, start_step)
        log(f"resuming at step {start_step}/{s.total_steps} from {state_root / state_name(start_step)}"
            if start_step else nothing_saved(run_dir))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos = tokenizer.eos_token_id
    stopped = stop_criteria(tokenizer, s.stop)
    n = len(prompts)
    metrics = MetricsLog(run_dir, description, s.total_steps, main=main, tracker=tracker)
    rewards_logged: list[float] = []
    started = time.monotonic() - counts["elapsed_s"]

    def order(epoch: int) -> list[int]:
        g = torch.Generator().manual_seed(s.seed * 7919 + epoch)
        return torch.randperm(n, generator=g).tolist()

    orders: dict[int, list[int]] = {}
    with metrics.start(start_step):
        for step in range(start_step, s.total_steps):
            chosen = []
            for k in range(step * s.prompts_per_step, (step + 1) * s.prompts_per_step):
                epoch, at = divmod(k, n)
                chosen.append(orders.setdefault(epoch, order(epoch))[at])
            mine = chosen[rank::world]
            # --- rollouts -------------------------------------------------------------------
            model.eval()
            responses: list[list[int]] = []
            seeds = [sample_seed(s.seed, step, j) for j in mine]
            # ZeRO-3: the weights gathered once per step, for all its rollouts or for vLLM's copy
            with unwrap_model_for_generation(model, accelerator) as unwrapped:
                if engine is not None:
                    engine.load(unwrapped.policy)  # under FSDP, each weight gathered whole on its way in
                else:
                    # FSDP2 gathers the policy's top-level weights (embeddings, output head) in the
                    # combined module's forward hooks only: sampling goes through that forward, and the
                    # processes make their forwards together
                    through_root = dict(forward=lambda **kw: model(policy_only=True, **kw), all_done=all_agree) if sharded else {}
                    # autocast (bf16 on CUDA) as the prepared module's own forward has
                    with accelerator.autocast():
                        for i in range(0, len(mine), s.micro_batch):
                            part = mine[i:i + s.micro_batch]
                            responses += sample(unwrapped.policy, [prompts[j] for j in part], seeds[i:i + s.micro_batch],
                                                max_new=s.max_completion, temperature=s.temperature, eos=eos, pad=pad,
                                                stopped=stopped, **through_root)
            if engine is not None:  # outside autocast: vLLM runs in its own precision, in this thread
                responses = engine.sample([prompts[j] for j in mine], seeds, max_new=s.max_completion,
                                          temperature=s.temperature, stop=s.stop)
            texts = tokenizer.batch_decode(responses, skip_special_tokens=True)
            scores = torch.tensor([score(j, t) for j, t in zip(mine, texts)], dtype=torch.float32, device=device)
            # --- what the update needs, without gradients ------------------------------------
            batches = []
            with torch.no_grad():
                for i in range(0, len(mine), s.micro_batch):
                    part_prompts = [prompts[j] for j in mine[i:i + s.micro_batch]]
                    part_responses = responses[i:i + s.micro_batch]
                    ids, attention, starts, mask = _batch(part_prompts, part_responses, pad, device)
                    length = mask.size(1)
                    old_logprobs, values = logprobs_and_values(model, ids, attention, starts, length, s.temperature)
                    old_logprobs, values = old_logprobs * mask, values * mask
                    kl = None
                    if ref is not None:
                        with accelerator.autocast():  # the reference in the policy's precision: KL 0 at step 0
                            reference = response_logprobs(ref, ids, attention, starts, length, s.temperature)
                        kl = (old_logprobs - reference) * mask
                    rewards = ppo.token_rewards(scores[i:i + s.micro_batch], mask, kl, s.kl_coef if s.kl else 0.0)
                    advantages, returns = ppo.gae(rewards, values, mask, s.gamma, s.lam)
                    batches.append({"ids": ids, "attention": attention, "starts": starts, "mask": mask, "old": old_logprobs,
                                    "values": values, "advantages": advantages, "returns": returns, "kl": kl})
            # whiten over every process's response tokens
            sums = torch.stack([sum(b["mask"].sum() for b in batches), sum((b["advantages"] * b["mask"]).sum() for b in batches),
                                sum((b["advantages"] ** 2 * b["mask"]).sum() for b in batches)]).float()
            sums = accelerator.reduce(sums, "sum")
            for b in batches:
                b["advantages"] = ppo.whiten(b["advantages"], b["mask"], count=sums[0], total=sums[1], total_sq=sums[2])
            # --- updates --------------------------------------------------------------------
            model.train()
            stats = {"policy_loss": 0.0, "value_loss": 0.0, "clip_fraction": 0.0, "value_clip_fraction": 0.0, "approx_kl": 0.0}
            per_update = len(batches) // s.mini_batches  # micro batches per optimizer step, on each process
            if per_update * s.mini_batches != len(batches) or per_update != accelerator.gradient_accumulation_steps:
                raise RuntimeError(f"PPO splits {len(batches)} micro batches {s.mini_batches} ways, but the accelerator "
                                   f"accumulates {accelerator.gradient_accumulation_steps}")
            shares = [batches[k * per_update:(k + 1) * per_update] for k in range(s.mini_batches)]
            # each mini batch's response tokens over every process (each holds its part of each mini batch)
            tokens_of = accelerator.reduce(torch.stack([sum(b["mask"].sum() for b in part) for part in shares]).float(), "sum")
            updates = s.ppo_epochs * s.mini_batches
            for _ in range(s.ppo_epochs):
                for part, mini_tokens in zip(shares, tokens_of):
                    for b in part:
                        with accelerator.accumulate(model):  # the mini batch's last micro batch syncs, clips and steps
                            logprobs, values = logprobs_and_values(model, b["ids"], b["attention"], b["starts"],
                                                                   b["mask"].size(1), s.temperature)
                            pg, clipped, approx_kl = ppo.policy_loss(logprobs, b["old"], b["advantages"], b["mask"], s.clip)
                            vf, vclipped = ppo.value_loss(values, b["values"], b["returns"], b["mask"], s.value_clip)
                            # token sums over the mini batch's global token count; x world: DDP and DeepSpeed average
                            # the processes' gradients; x per_update: accelerate divides each micro batch's loss by it
                            share = world * per_update / mini_tokens
                            accelerator.backward(pg.sum() * share + vf.sum() * share)
                            if accelerator.sync_gradients:
                                # One norm over the policy and the critic together, where verl clips each of its
                                # separate actor and critic: under the ZeRO configs one DeepSpeed engine holds both
                                # and can only clip them together (_fill_deepspeed_config), and a launch config must
                                # not change the optimization (tested: every config trains as one process does).
                                accelerator.clip_grad_norm_(model.parameters(), s.grad_clip)  # under DeepSpeed, its engine clips
                            optimizer.step()
                            optimizer.zero_grad(set_to_none=True)
                        # this process's part of the global means over the step's updates (summed over the processes below)
                        weight = float(b["mask"].sum() / mini_tokens) / updates
                        stats["policy_loss"] += float(pg.detach().sum() / mini_tokens) / updates
                        stats["value_loss"] += float(vf.detach().sum() / mini_tokens) / updates
                        stats["clip_fraction"] += float(clipped.detach()) * weight
                        stats["value_clip_fraction"] += float(vclipped.detach()) * weight
                        stats["approx_kl"] += float(approx_kl.detach()) * weight
            lr = scheduler.get_last_lr()[0]  # the policy's group
            scheduler.step()
            # --- bookkeeping ----------------------------------------------------------------
            local = torch.tensor([float(scores.sum()), float(len(mine)), float(sum(len(r) for r in responses)),
                                  float(sum(len(prompts[j]) for j in mine)),
                                  sum(float((b["kl"] * b["mask"]).sum()) if b["kl"] is not None else 0.0 for b in batches),
                                  *stats.values(),
                                  *sum(ppo.variance_sums(b["values"], b["returns"], b["mask"]) for b in batches).tolist()],
                                 dtype=torch.float64, device=device)
            total = accelerator.reduce(local, "sum")  # one collective for the step's sums and the loss statistics
            stats = dict(zip(stats, total[5:10].tolist()))
            counts["generated_tokens"] += int(total[2])
            counts["trained_tokens"] += int(total[2] + total[3]) * s.ppo_epochs
            done = step + 1
            if done % s.log_every == 0 or done == s.total_steps:
                reward = float(total[0] / total[1])
                rewards_logged.append(reward)
                row = {"step": done, "reward": round(reward, 6), "loss": round(stats["policy_loss"] + stats["value_loss"], 6),
                       "policy_loss": round(stats["policy_loss"], 6), "value_loss": round(stats["value_loss"], 6),
                       "clip_fraction": round(stats["clip_fraction"], 6), "value_clip_fraction": round(stats["value_clip_fraction"], 6),
                       "approx_kl": round(stats["approx_kl"], 8), "kl": round(float(total[4] / sums[0]), 8) if s.kl else None,
                       "explained_variance": round(ppo.explained_variance_of(float(sums[0]), total[10:14]), 6),
                       "completion_length": round(float(total[2] / total[1]), 3), "lr": lr,
                       "elapsed_s": round(time.monotonic() - started, 3)}
                if not math.isfinite(row["loss"]):
                    raise RuntimeError(f"PPO loss became {row['loss']} at step {done}; lower the learning rates")
                metrics.write({k: v for k, v in row.items() if v is not None})
            if s.save_every and done % s.save_every == 0 and done < s.total_steps:
                save_state(accelerator, state_root, done, time.monotonic() - started,
                           extra={"trained_tokens": counts["trained_tokens"], "generated_tokens": counts["generated_tokens"]})
    accelerator.wait_for_everyone()
    metrics.write({"step": s.total_steps, "final": True}, fsync=True)
    return PPOResult(steps=s.total_steps, wall_time_s=round(time.monotonic() - started, 3),
                     trained_tokens=counts["trained_tokens"], generated_tokens=counts["generated_tokens"],
                     rewards=rewards_logged, state_dict=_policy_state(accelerator, model))


def _policy_state(accelerator, model) -> dict | None:
    """The policy's full weights on the main process (gathered from every process under ZeRO-3 and FSDP)."""
    state = accelerator.get_state_dict(model)
    return policy_weights(state) if state is not None else None


def _fill_deepspeed_config(accelerator, s: PPOSettings) -> None:
    """The batch geometry and clipping of the DeepSpeed engine, which this loop decides (accelerate
    would take them from a prepared dataloader, which the loop has none of, or from the launch
    config): the micro batch per process, the micro batches per optimizer step, the global batch, and
    gradient clipping (the engine clips, over the policy and critic together)."""
    config = accelerator.state.deepspeed_plugin.deepspeed_config
    steps = accelerator.gradient_accumulation_steps
    # one engine for the policy and the critic: DeepSpeed clips their joint gradient norm, as every config does
    config.update({"train_micro_batch_size_per_gpu": s.micro_batch, "gradient_accumulation_steps": steps,
                   "train_batch_size": s.micro_batch * steps * accelerator.num_processes, "gradient_clipping": s.grad_clip})
