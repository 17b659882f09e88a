"""The micro batch a GPU's free memory holds, for pretrain and cpt on CUDA without --micro-batch.

An estimate made before training, not a probe. Why by hand: accelerate's
`find_executable_batch_size` halves a batch after each out-of-memory error, which changes the
optimisation (evolm keeps the global batch fixed and only splits it) and, on several processes,
lets ranks disagree; transformers and TRL choose no training micro batch at all.

Per token and layer, what the Llama model of transformers saves for its backward under bf16
autocast with SDPA (flash) attention, counted from its saved tensors (tests/test_memory.py measures
it again): the residual stream stays float32, so each of the two RMSNorms keeps its fp32 input and
output (16 x hidden bytes together); autocast casts the normed input to bf16 once per projection
(q, k, v: 6 x hidden; gate, up: 4 x hidden); attention keeps q, k, v after RoPE, its output and that
output's contiguous copy for o_proj (6 x hidden + 4 x kv_dim); SwiGLU keeps the gate and up outputs,
the SiLU and the product (8 x intermediate). In all 32 x hidden + 4 x kv_dim + 8 x intermediate:
51.6 x hidden for 1B (47.7 for 4B to 55.9 for 250M), half again the 34 x hidden of Korthikanti et
al. 2022 (a GPT block in pure half precision). Under activation checkpointing each layer keeps only its fp32
input (4 x hidden), plus one layer's full activations while it is recomputed. The output head adds
seq_len x vocab logits in bf16 with an fp32 copy and its gradient for the loss (~10 bytes each).
Model state is 16 bytes per parameter (fp32 weights and gradients, Adam's two moments), divided over
processes under FSDP.
"""

from __future__ import annotations

from dataclasses import dataclass

HEADROOM = 0.85  # of the free memory: the allocator's fragmentation, CUDA context, temporary buffers
STATE_BYTES_PER_PARAM = 16
LOGIT_BYTES = 10


@dataclass(frozen=True)
class MemoryPlan:
    micro: int
    per_sequence: int  # estimated activation bytes of one sequence
    state: int  # estimated model + optimizer state bytes on one process
    free: int  # free device memory when the plan was made

    @property
    def fits(self) -> bool:
        return self.state + self.micro * self.per_sequence <= HEADROOM * self.free

    def describe(self) -> str:
        gib = 1024 ** 3
        return (f"micro batch {self.micro} from {self.free / gib:.1f} GiB free (estimated {self.state / gib:.2f} GiB of "
                f"model and optimizer state, {self.per_sequence / gib:.3f} GiB of activations per sequence)")


def layer_bytes_per_token(*, hidden: int, intermediate: int, kv_dim: int) -> int:
    """Bytes one decoder layer keeps per token for its backward (see the module's docstring)."""
    return 32 * hidden + 4 * kv_dim + 8 * intermediate


def activation_bytes(*, layers: int, hidden: int, intermediate: int, kv_dim: int, vocab: int, seq_len: int,
                     checkpointing: bool) -> int:
    layer = seq_len * layer_bytes_per_token(hidden=hidden, intermediate=intermediate, kv_dim=kv_dim)
    body = (layers * 4 * seq_len * hidden + layer) if checkpointing else layers * layer
    return body + LOGIT_BYTES * seq_len * vocab


def plan_micro_batch(per_rank: int, *, per_sequence: int, params: int, free: int, shards: int = 1) -> MemoryPlan:
    """The largest power of two that divides `per_rank` and fits beside the state (at least 1)."""
    state = STATE_BYTES_PER_PARAM * params // max(1, shards)
    micro = 1
    while micro * 2 <= per_rank and per_rank % (micro * 2) == 0 and state + micro * 2 * per_sequence <= HEADROOM * free:
        micro *= 2
    return MemoryPlan(micro, per_sequence, state, free)


def free_device_memory() -> int | None:
    """Free bytes on this process's CUDA device (LOCAL_RANK's under a launcher, asked before
    accelerate selects it); None without CUDA (the CPU defaults apply). Ranks on one node of equal,
    equally idle GPUs see the same figure and so choose the same micro batch."""
    import os

    import torch

    if not torch.cuda.is_available():
        return None
    device = int(os.environ.get("LOCAL_RANK", 0)) % torch.cuda.device_count()
    free, _ = torch.cuda.mem_get_info(device)
    return int(free)


def checkpoint_activations(*models) -> None:
    """Recompute each layer's activations in the backward instead of keeping them (pre-training's
    --activation-checkpointing; PPO's policy and critic on CUDA, as TRL's trainers do for SFT and
    GRPO: without it they keep a forward's activations per micro batch, about 86 GB for 32 sequences
    of 512 tokens of the 1B preset). Only in training mode: sampling in eval mode is unchanged."""
    for model in models:
        # transformers 5.2x renamed it (the old name warns, and goes in v6); 5.17 has only the old one
        enable = getattr(model, "activation_checkpointing_enable", None) or model.gradient_checkpointing_enable
        enable({"use_reentrant": False})
