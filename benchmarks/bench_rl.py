"""RL throughput of `evolm rl`, GRPO and PPO: prompts/s and generated tokens/s.

Builds a small checkpoint from the embedded default data (synth tiny, a 4096-token BPE, the 1M
preset pre-trained briefly), then runs `evolm rl` for a fixed number of steps and reads its
checkpoint's compute ledger: the completion tokens sampled (`compute.generated_tokens`, counted by
TRL's token log for GRPO and by evolm's own loop for PPO) / the run's wall time. The generation backend is the one
`evolm rl` picks: vLLM on a CUDA machine with vLLM installed, else batched transformers `generate`.

The baseline, measured in the same run: generation alone, the same rollouts (same prompts, batch
of prompts x rollouts, temperature 1, same length cap) drawn from the same starting checkpoint with
transformers `generate` on the same device and dtype, completion tokens counted up to the first EOS as TRL counts them. The last line is
`ratio=<GRPO generated tokens/s / generation-only tokens/s>`: the share of pure sampling speed the
whole RL loop (rewards, log-probabilities, updates) keeps; `ppo_ratio=` the same for PPO (one rollout
per prompt, against generation alone with one; its loop also runs the critic and samples with its
own per-prompt generators).

    python benchmarks/bench_rl.py [--model 1M] [--steps 6] [--prompts-per-step 8] [--rollouts 4] [--max-completion-length 96]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from evolm import synth
from evolm.stages import pretrain, rl
from evolm.stages.data.prepare import prepare
from evolm.stages.data.tokenizer import make_tokenizer
from evolm.stages.lm_run import Overrides
from evolm.textsource import resolve_source


def generation_only(checkpoint: Path, problems: list[str], rollouts: int, per_step: int, max_new: int) -> float:
    """Generated tokens/s of sampling the same rollouts with `generate` and nothing else."""
    from transformers import AutoTokenizer

    from evolm.eval.loading import load_model
    from evolm.template import conversation, has_template, install

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    if not has_template(tokenizer):
        install(tokenizer)  # as `evolm rl` does for a parent straight from pre-training
    tokenizer.padding_side = "left"
    model = load_model(str(checkpoint))  # the device and dtype `evolm rl` trains in: bf16 on a GPU, fp32 on a CPU
    eos = tokenizer.eos_token_id
    tokens, start = 0, time.perf_counter()
    for first in range(0, len(problems), per_step):
        texts = [tokenizer.apply_chat_template(conversation(p), tokenize=False, add_generation_prompt=True)
                 for p in problems[first:first + per_step]]
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.no_grad():
            out = model.generate(**batch, do_sample=True, temperature=1.0, top_k=None, top_p=1.0, max_new_tokens=max_new,
                                 num_return_sequences=rollouts, pad_token_id=eos, eos_token_id=eos)
        completion = out[:, batch["input_ids"].shape[1]:]
        for row in completion.tolist():
            tokens += row.index(eos) + 1 if eos in row else len(row)
    return tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="1M")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--prompts-per-step", type=int, default=8)
    parser.add_argument("--rollouts", type=int, default=4)
    parser.add_argument("--max-completion-length", type=int, default=96)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "data").mkdir()
        synth.generate(work / "data", seed=0, scale="tiny")
        make_tokenizer(work / "tok", sources=[str(work / "data" / "text" / "general.jsonl")], vocab_size=4096, adopt=None)
        prepare(resolve_source(work / "data" / "text" / "general.jsonl"), work / "tok", work / "shards")
        pretrain.run(model=args.model, tokens=200_000, data=work / "shards", out=work / "base", overrides=Overrides(log_every=10))
        prompts = args.steps * args.prompts_per_step
        pool = [json.loads(line) for line in (work / "data" / "pool" / "mathpool.jsonl").read_text().splitlines()]
        measured = {}
        for algo, rollouts in (("grpo", args.rollouts), ("ppo", 1)):  # PPO: one rollout per prompt, the paper's
            checkpoint = rl.run(
                parent=work / "base", data=work / "data" / "pool" / "mathpool.jsonl", examples=prompts, epochs=1,
                out=work / f"rl-{algo}", options=rl.RLOptions(algo=algo, prompts_per_step=args.prompts_per_step, rollouts=rollouts,
                                                              max_completion_length=args.max_completion_length),
            )
            compute = checkpoint.manifest.compute  # the ledger: sampled tokens and the run's wall time
            torch.manual_seed(0)
            baseline = generation_only(work / "base", [r["problem"] for r in pool[-prompts:]], rollouts,
                                       args.prompts_per_step, args.max_completion_length)
            measured[algo] = (compute.generated_tokens / compute.wall_time_s, baseline, compute.wall_time_s,
                              checkpoint.manifest.posttraining.generation["backend"], rollouts)
    print(f"model {args.model}, {args.steps} steps of {args.prompts_per_step} prompts, max {args.max_completion_length} new tokens")
    for algo, (rate, baseline, wall, backend, rollouts) in measured.items():
        print(f"{algo}: {rollouts} rollout(s) per prompt, backend {backend}, wall time {wall:.1f} s, prompts/s={prompts / wall:.2f}, "
              f"generated tokens/s={rate:.1f}; generation alone (transformers generate, same rollouts) {baseline:.1f} tokens/s; "
              f"ratio {rate / baseline:.3f}")
    print(f"ppo_ratio={measured['ppo'][0] / measured['ppo'][1]:.3f}")
    print(f"ratio={measured['grpo'][0] / measured['grpo'][1]:.3f}")

if __name__ == "__main__":
    main()
