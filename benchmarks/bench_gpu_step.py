"""Where a pre-training step's time goes on one GPU: evolm's step against variants of it.

The same model (a preset, same initialization), random tokens and AdamW step in each variant, timed
with the device synchronized around every step (warm-up steps left out). The baseline is the step
evolm's trainer takes on CUDA (fp32 weights, bf16 autocast, fused AdamW, logits upcast for the loss);
each variant prints its tokens/s, MFU against the published peak (989 TFLOP/s for H100/H200 SXM) and
`ratio=<variant / baseline>`. A first line gives a bf16 8192-cube matmul's rate: what the chip sustains,
against which the MFU goal (45% of the published peak for the 1B preset) is 56% on an H200 (804 TFLOP/s).

Variants: `bf16-weights` (weights kept in bf16, no autocast: what the fp32 master copy costs), `compiled`
(torch.compile, as `--compile`), `compiled-bf16`, and `fsdp2-bf16` (FSDP2's `fully_shard` on one
process with bf16 parameters and fp32 reductions over an fp32 sharded master copy, no autocast: how
torchtitan and OLMo-core keep mixed precision).

    python benchmarks/bench_gpu_step.py [--model 1B] [--seq-len 2048] [--batch 16] [--steps 8] [--only NAME,...]

On a CPU it runs the same code at toy size (1M preset, 64-token sequences, no autocast), so that it is
known to run before a lent GPU's minutes are spent; its numbers there mean nothing.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
import torch.nn.functional as F

from evolm.presets import get_preset
from evolm.training.flops import measure_matmul_flops, published_peak

VARIANTS = ("evolm", "bf16-weights", "compiled", "compiled-bf16", "fsdp2-bf16")


def build(preset, vocab: int, device: str, variant: str):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(preset.hf_config(vocab), attn_implementation="sdpa")
    if variant in ("bf16-weights", "compiled-bf16"):
        model = model.to(torch.bfloat16)
    if variant == "fsdp2-bf16":
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
        for layer in model.model.layers:
            fully_shard(layer, mp_policy=policy)
        fully_shard(model, mp_policy=policy)
    return model


def time_steps(model, forward, data, *, autocast: bool, steps: int, cuda: bool) -> list[float]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=cuda)
    device = data.device.type
    times = []
    for _ in range(steps + 2):  # two warm-up steps (kernel choice, compilation)
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.autocast(device, dtype=torch.bfloat16, enabled=autocast):
            logits = forward(input_ids=data[:, :-1], use_cache=False).logits
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), data[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="1B" if cuda else "1M")
    parser.add_argument("--seq-len", type=int, default=2048 if cuda else 64)
    parser.add_argument("--batch", type=int, default=16 if cuda else 4)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=8 if cuda else 2)
    parser.add_argument("--only", default=",".join(VARIANTS), help="comma-separated variants, evolm first")
    args = parser.parse_args()
    chosen = [v for v in args.only.split(",") if v]
    unknown = sorted(set(chosen) - set(VARIANTS))
    if unknown or chosen[:1] != ["evolm"]:
        parser.error(f"--only takes evolm first, then any of {', '.join(VARIANTS[1:])} (got {args.only})")
    device = "cuda" if cuda else "cpu"
    preset = get_preset(args.model)
    flops_per_token = preset.flops_per_token(args.seq_len, args.vocab)
    peak = published_peak(torch.cuda.get_device_name()) if cuda else None
    if cuda:
        rate = measure_matmul_flops(torch.device(device), torch.bfloat16, size=8192)
        print(f"matmul 8192 bf16: {rate / 1e12:.0f} TFLOP/s ({torch.cuda.get_device_name()})", flush=True)
    if "fsdp2-bf16" in chosen and not torch.distributed.is_initialized():
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29517")
        torch.distributed.init_process_group("nccl" if cuda else "gloo", rank=0, world_size=1)
    data = torch.randint(0, args.vocab, (args.batch, args.seq_len + 1), device=device)
    tokens = args.batch * args.seq_len
    baseline = None
    for variant in chosen:
        model = build(preset, args.vocab, device, variant)
        forward = torch.compile(model) if variant.startswith("compiled") and cuda else model
        autocast = cuda and variant in ("evolm", "compiled")
        times = time_steps(model, forward, data, autocast=autocast, steps=args.steps, cuda=cuda)
        rate = tokens * args.steps / sum(times[2:])
        baseline = baseline or rate
        mfu = f"MFU {100 * flops_per_token * rate / peak:.1f}%" if peak else "MFU -"
        memory = f"peak {torch.cuda.max_memory_allocated() / 2**30:.0f} GiB, " if cuda else ""
        print(f"{variant}: {rate:,.0f} tokens/s, {mfu}, {memory}first step {times[0]:.1f} s, "
              f"ratio={rate / baseline:.3f}", flush=True)
        del model, forward
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
