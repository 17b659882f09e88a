"""Held-out validation loss: mean next-token loss on fixed windows of a token shard split.

One definition for the trainer (its `val_loss/*` metrics and the manifest's `val_loss`) and for
`evolm eval` (the upstream report's validation loss), so both score the same windows the same way. It
lives in the core because evaluation must not import training code. On a CPU both compute in float32
and agree exactly; on a GPU they differ in precision (training: float32 weights under bf16 autocast,
or bf16 compute under FSDP's mixed precision; `evolm eval`: bf16 weights, its results' identity
records the dtype), so the two numbers for one checkpoint agree only to bf16 rounding there (not
measured).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def window_count(split_tokens: int, seq_len: int, val_tokens: int) -> int:
    """Windows of `seq_len` (+1 target) scored on a split of `split_tokens`: the first `val_tokens`, at least one."""
    return min((split_tokens - 1) // seq_len, max(1, val_tokens // seq_len))


@torch.no_grad()
def validation_losses(model, val_sets: dict, config, accelerator) -> dict[str, float]:
    """Mean next-token loss on the first `config.val_tokens` of each validation split (the same
    windows every time, for any process count).

    `val_sets`: name -> `evolm.shards.SplitReader`; `config`: anything with `seq_len`,
    `val_tokens` and `micro_batch` (the trainer's TrainConfig); `accelerator`: accelerate's
    Accelerator of this run (device, rank, reduction across processes).
    """
    model.eval()
    results = {}
    world, rank = accelerator.num_processes, accelerator.process_index
    for name, reader in val_sets.items():
        windows = window_count(len(reader), config.seq_len, config.val_tokens)
        # The same windows for any process count: rank r takes windows r, r + world, ...; every rank
        # runs the same number of batches (FSDP needs all ranks in every forward), padding with
        # window 0 at weight 0.
        per_rank = -(-windows // world)
        mine = [w if w < windows else -1 for w in range(rank, per_rank * world, world)]
        total = torch.zeros(2, device=accelerator.device, dtype=torch.float64)
        for i in range(0, len(mine), config.micro_batch):
            chunk = mine[i:i + config.micro_batch]
            rows = [reader.window(max(w, 0) * config.seq_len, config.seq_len + 1) for w in chunk]
            x = torch.from_numpy(np.stack(rows).astype(np.int64)).to(accelerator.device)
            weight = torch.tensor([1.0 if w >= 0 else 0.0 for w in chunk], device=x.device, dtype=torch.float64)
            logits = model(input_ids=x[:, :-1], use_cache=False).logits  # scoring: no KV cache to build
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), x[:, 1:].reshape(-1), reduction="none")
            per_row = loss.view(len(chunk), -1).double().sum(dim=1)
            total += torch.stack([(per_row * weight).sum(), weight.sum() * config.seq_len])
        total = accelerator.reduce(total, "sum")
        results[name] = float(total[0] / total[1]) if total[1] else float("nan")
    model.train()
    return results
