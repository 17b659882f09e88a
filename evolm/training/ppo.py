"""PPO with a critic, as the paper's RL stage: the algorithm's pieces (GAE, whitening, the clipped
policy and value losses), each a small function the tests check against hand computations.

Why by hand: TRL 1.16 has no PPO trainer (it moved to `trl.experimental` in 0.26 and was deleted
with its value-head models), and the libraries that keep one (OpenRLHF, verl, SkyRL) pin other
transformers releases and need Ray. These are the formulas of Schulman et al. (2017) and GAE
(Schulman et al., 2016), on plain tensors; the loop that uses them is `evolm.training.ppo_loop`.

Shapes: (batch, response tokens), with `mask` 1 on the tokens of each response and 0 after its end.
"""

from __future__ import annotations

import torch


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1)


def whiten(x: torch.Tensor, mask: torch.Tensor, *, count=None, total=None, total_sq=None) -> torch.Tensor:
    """Advantages to zero mean and unit variance over the masked tokens. `count`/`total`/`total_sq`:
    the sums over every process (so many processes whiten as one would); by default this batch's."""
    if count is None:
        count, total, total_sq = mask.sum(), (x * mask).sum(), (x * x * mask).sum()
    mean = total / count.clamp(min=1)
    var = (total_sq / count.clamp(min=1) - mean * mean) * count / (count - 1).clamp(min=1)  # unbiased
    return (x - mean) * torch.rsqrt(var + 1e-8) * mask


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(advantages, returns) by generalized advantage estimation, backwards over each response:
    delta_t = r_t + gamma V_{t+1} - V_t (V past the response's end is 0), A_t = delta_t + gamma lam A_{t+1},
    returns = A + V. With gamma = lambda = 1 (the paper's), A_t is the sum of rewards from t on minus V_t."""
    values = values * mask
    rewards = rewards * mask
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(rewards.size(1))):
        following = values[:, t + 1] if t + 1 < rewards.size(1) else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * following - values[:, t]
        running = (delta + gamma * lam * running) * mask[:, t]
        advantages[:, t] = running
    return advantages, (advantages + values) * mask


def policy_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
                clip: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate, per token: max(-A r, -A clip(r, 1 - eps, 1 + eps)) with r the probability
    ratio to the rollout policy. (per-token losses, clip fraction, approximate KL to the rollout policy)."""
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    losses = torch.maximum(unclipped, clipped) * mask
    clip_fraction = masked_mean((clipped > unclipped).float(), mask)
    approx_kl = masked_mean(0.5 * (logprobs - old_logprobs) ** 2, mask)
    return losses, clip_fraction, approx_kl


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor,
               clip: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The clipped value loss, per token: 0.5 max((V - R)^2, (clip(V, V_old +- eps) - R)^2).
    (per-token losses, fraction of tokens where the clipped term was the larger)."""
    clipped_values = old_values + torch.clamp(values - old_values, -clip, clip)
    unclipped = (values - returns) ** 2
    clipped = (clipped_values - returns) ** 2
    losses = 0.5 * torch.maximum(unclipped, clipped) * mask
    return losses, masked_mean((clipped > unclipped).float(), mask)


def variance_sums(values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[sum R, sum R^2, sum (R - V), sum (R - V)^2] over the masked tokens: summed over micro batches
    and processes, they give the explained variance of a whole step (`explained_variance_of`)."""
    residual = (returns - values).double()
    returns, mask = returns.double(), mask.double()
    return torch.stack([(returns * mask).sum(), (returns ** 2 * mask).sum(), (residual * mask).sum(), (residual ** 2 * mask).sum()])


def explained_variance_of(count: float, sums) -> float:
    """1 - Var(R - V) / Var(R) from `variance_sums` over `count` tokens: 1 when the critic predicts
    the returns, <= 0 when it does not help; NaN when the returns do not vary (every response scored
    the same), where it is undefined."""
    sum_r, sum_r2, sum_e, sum_e2 = (float(x) for x in sums)
    var_returns = sum_r2 / count - (sum_r / count) ** 2
    var_residual = sum_e2 / count - (sum_e / count) ** 2
    # below 1e-9 the variance of rewards in [0, 1] is rounding, not spread
    return 1.0 - var_residual / var_returns if var_returns > 1e-9 else float("nan")


def explained_variance(values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor) -> float:
    """`explained_variance_of` one batch."""
    return explained_variance_of(float(mask.sum()), variance_sums(values, returns, mask))


def token_rewards(scores: torch.Tensor, mask: torch.Tensor, kl: torch.Tensor | None, kl_coef: float) -> torch.Tensor:
    """The reward of each response token: the task's score on its last token, minus kl_coef x the
    per-token KL estimate (log pi - log pi_ref) when the KL penalty is on."""
    rewards = torch.zeros_like(mask, dtype=torch.float32)
    if kl is not None and kl_coef:
        rewards = rewards - kl_coef * kl * mask
    last = (mask.sum(dim=1) - 1).clamp(min=0).long()
    rewards[torch.arange(mask.size(0)), last] += scores * (mask.sum(dim=1) > 0)
    return rewards
