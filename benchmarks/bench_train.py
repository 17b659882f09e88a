"""Training-step throughput: evolm's trainer vs a minimal hand-written PyTorch loop.

Both train the same model (a preset, same initialization) on the same batches with the same AdamW,
gradient clipping and micro-batching, in this one process. The evolm side is the real trainer
(`evolm.training.causal_lm.train`: accelerate, the token-budget mixture, metrics, progress); the baseline is
the loop anyone would write by hand. Prints tokens/s of each, the achieved FLOP/s of both against
this machine's measured fp32 matmul FLOP/s, and last `ratio=<evolm / plain>`.

    python benchmarks/bench_train.py [--model 4M] [--steps 12] [--seq-len 256] [--global-batch 16] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from evolm.mixture import MixturePlan, MixtureSource
from evolm.presets import get_preset
from evolm.shards import ShardWriter, content_fingerprint
from evolm.training.causal_lm import TrainConfig, train
from evolm.training.flops import measure_matmul_flops


def random_shards(root: Path, tokens: int, vocab: int) -> Path:
    """Token shards of uniform random ids: throughput does not depend on what the tokens say."""
    root.mkdir()
    writer = ShardWriter(root, "uint16")
    rng = np.random.default_rng(0)
    writer.write("train", rng.integers(0, vocab, tokens), documents=1)
    writer.write("val", rng.integers(0, vocab, 4096), documents=1)
    splits = writer.finish()
    (root / "shards.json").write_text(json.dumps({
        "format": "evolm-shards", "version": 1, "dtype": "uint16", "splits": splits,
        "tokenizer": {"sha256": "random", "vocab_size": vocab, "eos_id": 0},
        "fingerprint": content_fingerprint(splits, "random"),
    }))
    return root


def make_model(preset, vocab: int, seed: int):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(preset.hf_config(vocab, eos_token_id=0), attn_implementation="sdpa")


def plain_loop(model, plan: MixturePlan, config: TrainConfig) -> float:
    """The minimal loop: batch -> micro-batches -> forward/backward -> clip -> AdamW step. Returns tokens/s."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(config.beta1, config.beta2),
                                  weight_decay=config.weight_decay)
    accum = config.global_batch // config.micro_batch
    timed, start = 0, None
    for step in range(config.total_steps):
        if step == 1:  # like evolm's figure, leave out the first (warm-up) step
            start = time.perf_counter()
        batch = torch.from_numpy(plan.batch(step * config.global_batch, (step + 1) * config.global_batch))
        for m in range(accum):
            x = batch[m * config.micro_batch:(m + 1) * config.micro_batch]
            logits = model(input_ids=x[:, :-1]).logits
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), x[:, 1:].reshape(-1))
            (loss / accum).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        timed += step >= 1
    return config.tokens_per_step * timed / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="4M")
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--global-batch", type=int, default=16)
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    preset = get_preset(args.model)
    config = TrainConfig(seq_len=args.seq_len, global_batch=args.global_batch, micro_batch=args.micro_batch,
                         lr=preset.peak_lr, min_lr=preset.min_lr, warmup_steps=1, total_steps=args.steps,
                         val_tokens=args.seq_len, peak_flops=1.0)
    with tempfile.TemporaryDirectory() as tmp:
        shards = random_shards(Path(tmp) / "shards", config.tokens_per_step * args.steps + 1, args.vocab)
        budget = config.tokens_per_step * args.steps
        plan = MixturePlan([MixtureSource("bench", shards, budget)], config.seq_len, seed=0)
        plain, ours = [], []
        for attempt in range(args.repeats):  # alternate, best of each: neither side gets the warm machine
            plain.append(plain_loop(make_model(preset, args.vocab, 0), plan, config))
            result = train(make_model(preset, args.vocab, 0), plan, config, Path(tmp) / f"run{attempt}", run_record={},
                           val_sets={}, flops_per_token=preset.flops_per_token(args.seq_len, args.vocab))
            ours.append(result.tokens_per_s)
        plain_tps, evolm_tps = max(plain), max(ours)
    peak = measure_matmul_flops(torch.device("cpu"), torch.float32, seconds=1.0)
    flops_per_token = preset.flops_per_token(args.seq_len, args.vocab)
    print(f"model {preset.name} ({preset.params(args.vocab):,} params, vocab {args.vocab}), seq {args.seq_len}, "
          f"batch {args.global_batch} (micro {args.micro_batch}), {args.steps} steps, {torch.get_num_threads()} threads")
    print(f"measured fp32 matmul: {peak / 1e9:.1f} GFLOP/s")
    print(f"plain loop: {plain_tps:,.0f} tokens/s  {plain_tps * flops_per_token / 1e9:.1f} GFLOP/s  MFU {plain_tps * flops_per_token / peak:.1%}")
    print(f"evolm:      {evolm_tps:,.0f} tokens/s  {evolm_tps * flops_per_token / 1e9:.1f} GFLOP/s  MFU {evolm_tps * flops_per_token / peak:.1%}")
    print(f"ratio={evolm_tps / plain_tps:.3f}")


if __name__ == "__main__":
    main()
