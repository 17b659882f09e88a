"""The PPO loop of `evolm rl --algo ppo`: rollouts, rewards, GAE, clipped updates of the policy and
its critic, on transformers models through accelerate (one or many processes), with evolm's
metrics log and resume states (`OUT.partial/state/step-N`, the critic and both optimizers in them).

One step: the step's prompts (a seeded permutation per epoch, split over the processes) are each
sampled once at the rollout temperature; the task's grader scores each completion (1 or 0 on its
last token); the rollout policy's log-probabilities, the critic's values and (with --kl) the
reference model's log-probabilities are taken; GAE (gamma, lambda) gives advantages, whitened over
all processes' tokens; then `ppo_epochs` passes of clipped policy and value updates over micro
batches. Every sample draws from its own generator, seeded by (seed, step, prompt), so a prompt's
completion does not depend on which process or batch generated it: two processes train as one.
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
    kl: bool = False
    kl_coef: float = 0.0
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
    with torch.no_grad():
        critic.score.weight.zero_()
        if getattr(critic.score, "bias", None) is not None:
            critic.score.bias.zero_()
    critic.config.use_cache = False
    return critic


def sample_seed(seed: int, step: int, index: int) -> int:
    return (seed * 1_000_003 + step * 10_007 + index) % (2**63 - 1)


@torch.no_grad()
def sample(model, prompts: list[list[int]], seeds: list[int], *, max_new: int, temperature: float, eos: int, pad: int) -> list[list[int]]:
    """One completion per prompt, each drawn with its own generator (so the batch it is in does not
    change it), left-padded prompts, KV cache; a completion ends with its eos token or at max_new."""
    device = next(model.parameters()).device
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=device)
    attention = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
    generators = [torch.Generator(device="cpu").manual_seed(s) for s in seeds]
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    cache = _cache_name(model)
    out = model(input_ids=ids, attention_mask=attention, position_ids=positions, use_cache=True)
    past, logits = getattr(out, cache), out.logits[:, -1].float()
    completions: list[list[int]] = [[] for _ in prompts]
    done = [False] * len(prompts)
    for _ in range(max_new):
        probs = torch.softmax(logits / temperature, dim=-1).cpu()
        chosen = [pad if done[i] else int(torch.multinomial(probs[i], 1, generator=generators[i])) for i in range(len(prompts))]
        for i, token in enumerate(chosen):
            if not done[i]:
                completions[i].append(token)
                done[i] = token == eos
        if all(done):
            break
        attention = torch.cat([attention, torch.ones_like(attention[:, :1])], dim=1)
        positions = positions[:, -1:] + 1
        out = model(input_ids=torch.tensor(chosen, device=device)[:, None], attention_mask=attention, position_ids=positions,
                    use_cache=True, **{cache: past})
        past, logits = getattr(out, cache), out.logits[:, -1].float()
    return completions


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


def response_logprobs(model, ids, attention, starts, length: int, temperature: float) -> torch.Tensor:
    logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1].float() / temperature
    tokens = ids[:, 1:]
    logprobs = torch.log_softmax(logits, dim=-1).gather(2, tokens[..., None]).squeeze(-1)
    return _at_responses(logprobs, starts, length)


def response_values(critic, ids, attention, starts, length: int) -> torch.Tensor:
    values = critic(input_ids=ids, attention_mask=attention).logits[..., 0].float()
    return _at_responses(values, starts, length)


def train(policy, critic, ref, tokenizer, prompts: list[list[int]], score: Callable[[int, str], float], s: PPOSettings,
          run_dir: Path, accelerator, *, resume: bool, description: str) -> PPOResult:
    from transformers import get_constant_schedule_with_warmup

    world, rank, main = accelerator.num_processes, accelerator.process_index, accelerator.is_main_process
    device = accelerator.device
    actor_opt = torch.optim.AdamW(policy.parameters(), lr=s.actor_lr, weight_decay=0.0)
    critic_opt = torch.optim.AdamW(critic.parameters(), lr=s.critic_lr, weight_decay=0.0)
    policy, critic, actor_opt, critic_opt = accelerator.prepare(policy, critic, actor_opt, critic_opt)
    schedulers = [get_constant_schedule_with_warmup(o, s.warmup_steps) for o in (actor_opt, critic_opt)]
    for scheduler in schedulers:
        accelerator.register_for_checkpointing(scheduler)
    if ref is not None:
        ref.to(device).eval()
    state_root = Path(run_dir) / STATE
    start_step = latest_state(run_dir) if resume else 0
    counts = {"trained_tokens": 0, "generated_tokens": 0, "elapsed_s": 0.0}
    if start_step:
        folder = state_root / state_name(start_step)
        accelerator.load_state(str(folder))
        saved = json.loads((folder / "trainer.json").read_text())
        counts = {k: saved.get(k, 0) for k in counts}
    if resume and main:
        truncate_metrics(Path(run_dir) / METRICS, start_step)
        log(f"resuming at step {start_step}/{s.total_steps} from {state_root / state_name(start_step)}"
            if start_step else nothing_saved(run_dir))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos = tokenizer.eos_token_id
    n = len(prompts)
    metrics = MetricsLog(run_dir, description, s.total_steps, main=main)
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
            policy.eval()
            critic.eval()
            unwrapped = accelerator.unwrap_model(policy)
            responses: list[list[int]] = []
            for i in range(0, len(mine), s.micro_batch):
                part = mine[i:i + s.micro_batch]
                responses += sample(unwrapped, [prompts[j] for j in part], [sample_seed(s.seed, step, j) for j in part],
                                    max_new=s.max_completion, temperature=s.temperature, eos=eos, pad=pad)
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
                    old_logprobs = response_logprobs(policy, ids, attention, starts, length, s.temperature) * mask
                    values = response_values(critic, ids, attention, starts, length) * mask
                    kl = None
                    if ref is not None:
                        kl = (old_logprobs - response_logprobs(ref, ids, attention, starts, length, s.temperature)) * mask
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
            tokens_all = sums[0]
            # --- updates --------------------------------------------------------------------
            policy.train()
            critic.train()
            stats = {"policy_loss": 0.0, "value_loss": 0.0, "clip_fraction": 0.0, "value_clip_fraction": 0.0, "approx_kl": 0.0}
            for _ in range(s.ppo_epochs):
                for b in batches:
                    logprobs = response_logprobs(policy, b["ids"], b["attention"], b["starts"], b["mask"].size(1), s.temperature)
                    values = response_values(critic, b["ids"], b["attention"], b["starts"], b["mask"].size(1))
                    pg, clipped, approx_kl = ppo.policy_loss(logprobs, b["old"], b["advantages"], b["mask"], s.clip)
                    vf, vclipped = ppo.value_loss(values, b["values"], b["returns"], b["mask"], s.value_clip)
                    # token sums over the global token count (x world: DDP averages the processes' gradients)
                    share = world / tokens_all / s.ppo_epochs
                    accelerator.backward(pg.sum() * share + vf.sum() * share)
                    # this process's part of the global means (summed over the processes below)
                    weight = float(b["mask"].sum() / tokens_all) / s.ppo_epochs
                    stats["policy_loss"] += float(pg.detach().sum() / tokens_all) / s.ppo_epochs
                    stats["value_loss"] += float(vf.detach().sum() / tokens_all) / s.ppo_epochs
                    stats["clip_fraction"] += float(clipped.detach()) * weight
                    stats["value_clip_fraction"] += float(vclipped.detach()) * weight
                    stats["approx_kl"] += float(approx_kl.detach()) * weight
            for model in (policy, critic):
                accelerator.clip_grad_norm_(model.parameters(), s.grad_clip)
            lr = schedulers[0].get_last_lr()[0]
            for optimizer, scheduler in zip((actor_opt, critic_opt), schedulers):
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            # --- bookkeeping ----------------------------------------------------------------
            local = torch.tensor([float(scores.sum()), float(len(mine)), float(sum(len(r) for r in responses)),
                                  float(sum(len(prompts[j]) for j in mine)),
                                  sum(float((b["kl"] * b["mask"]).sum()) if b["kl"] is not None else 0.0 for b in batches),
                                  *stats.values()], device=device)
            total = accelerator.reduce(local, "sum")  # one collective for the step's sums and the loss statistics
            stats = dict(zip(stats, total[5:].tolist()))
            counts["generated_tokens"] += int(total[2])
            counts["trained_tokens"] += int(total[2] + total[3]) * s.ppo_epochs
            done = step + 1
            if done % s.log_every == 0 or done == s.total_steps:
                values_all = torch.cat([b["values"].flatten() for b in batches])
                returns_all = torch.cat([b["returns"].flatten() for b in batches])
                masks_all = torch.cat([b["mask"].flatten() for b in batches])
                reward = float(total[0] / total[1])
                rewards_logged.append(reward)
                row = {"step": done, "reward": round(reward, 6), "loss": round(stats["policy_loss"] + stats["value_loss"], 6),
                       "policy_loss": round(stats["policy_loss"], 6), "value_loss": round(stats["value_loss"], 6),
                       "clip_fraction": round(stats["clip_fraction"], 6), "value_clip_fraction": round(stats["value_clip_fraction"], 6),
                       "approx_kl": round(stats["approx_kl"], 8), "kl": round(float(total[4] / tokens_all), 8) if s.kl else None,
                       "explained_variance": round(ppo.explained_variance(values_all, returns_all, masks_all), 6),
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
                     rewards=rewards_logged, state_dict=accelerator.get_state_dict(policy))
