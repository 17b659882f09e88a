"""Signs that a post-training run changed nothing, so that it is said, recorded and reported.

A run can finish with its parent's exact weights: GRPO on prompts whose rollouts all get the same
reward has zero advantages and zero gradients (a 1M model on hard problems scores 0 everywhere),
and a learning rate that rounds to nothing does the same. Nothing fails, so without these checks
the report would show an "RL" model that is its SFT parent.
"""

from __future__ import annotations

from pathlib import Path

WEIGHTS = "model.safetensors"


def unchanged_weights(parent: Path, state_dict: dict) -> bool | None:
    """True when every tensor the parent saved equals the final one; None when the parent's
    weights are not one safetensors file (sharded or absent) and the check cannot run.
    Reads the parent one tensor at a time, so it costs no second copy of the model."""
    import torch
    from safetensors import safe_open

    path = Path(parent) / WEIGHTS
    if not path.is_file() or not state_dict:
        return None
    with safe_open(str(path), framework="pt") as saved:
        names = [name for name in saved.keys() if name in state_dict]
        if not names:
            return None
        for name in names:
            before, after = saved.get_tensor(name), state_dict[name].detach().to("cpu")
            if after.is_floating_point() and after.element_size() < before.element_size():
                # weights gathered in a lower precision than the parent saved (bf16 under DeepSpeed, which
                # converts the model in place): the parent rounded alike, or they would never compare equal
                before = before.to(after.dtype)
            if not torch.equal(before, after.to(before.dtype)):
                return False
        return True


def reward_without_variance(log_history: list[dict]) -> bool:
    """True when every logged GRPO step had all rollouts of every prompt rewarded alike (TRL's
    `frac_reward_zero_std` is 1 throughout): no advantage, so no learning signal."""
    fractions = [h["frac_reward_zero_std"] for h in log_history if "frac_reward_zero_std" in h]
    return bool(fractions) and all(f >= 1.0 for f in fractions)


def noop_warnings(parent: Path, state_dict: dict, log_history: list[dict], stage: str) -> list[str]:
    """The signs found, each also logged as a warning (the stage records them in its manifest)."""
    from evolm.console import log

    found = []
    if reward_without_variance(log_history):
        found.append(f"{stage}: every rollout of every prompt got the same reward (frac_reward_zero_std 1.0 at every "
                     "logged step), so the advantages and the updates were zero")
    if unchanged_weights(parent, state_dict):
        found.append(f"{stage}: the weights are identical to the parent's; this checkpoint is its parent under a new name")
    for warning in found:
        log(f"warning: {warning}")
    return found
