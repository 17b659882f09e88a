"""Evaluation throughput: batched transformers generation against a one-prompt-at-a-time loop,
and the math grader's completions/s.

Both generation paths run the same model (the 4M preset, randomly initialised: throughput does not
depend on the weights, and an untrained model rarely stops early, so both generate the full length)
on the same chat-template prompts with the same greedy settings and repetition penalty 1.1.
Generated tokens are counted by re-encoding the completions, the same way for both.

    python benchmarks/bench_eval.py [--model 4M] [--prompts 64] [--max-new-tokens 64] [--batch-size 32]

The last line is `ratio=<batched tokens/s / loop tokens/s>`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from evolm import synth
from evolm.eval.generate import Decoding, TransformersBackend, render_prompts
from evolm.eval.tasks import math as math_task
from evolm.presets import get_preset
from evolm.stages.data.tokenizer import make_tokenizer


def loop_generate(model, tokenizer, problems: list[str], max_new_tokens: int) -> list[str]:
    """The baseline: `generate` on one prompt at a time (KV cache on, no padding)."""
    outputs = []
    for prompt in render_prompts(tokenizer, problems):
        ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        generated = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, repetition_penalty=1.1,
                                   pad_token_id=tokenizer.eos_token_id, temperature=None, top_p=None, top_k=None)
        outputs.append(tokenizer.decode(generated[0, ids["input_ids"].shape[1]:], skip_special_tokens=True))
    return outputs


def tokens(tokenizer, texts: list[str]) -> int:
    return sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="4M")
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args()
    from transformers import AutoTokenizer, LlamaForCausalLM

    from evolm.template import install

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "data").mkdir()
        synth.generate(work / "data", seed=0, scale="tiny")
        make_tokenizer(work / "tok", sources=[str(work / "data" / "text" / "general.jsonl")], vocab_size=4096, adopt=None)
        tokenizer = AutoTokenizer.from_pretrained(work / "tok")
        install(tokenizer)
        rows = [json.loads(line) for line in (work / "data" / "benchmarks" / "SynthMathLevel1.jsonl").read_text().splitlines()]
    problems = [r["problem"] for r in rows][:args.prompts]
    model = LlamaForCausalLM(get_preset(args.model).hf_config(len(tokenizer), eos_token_id=tokenizer.eos_token_id)).eval()
    print(f"model {args.model}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters, {len(problems)} prompts, "
          f"{args.max_new_tokens} new tokens each, {torch.get_num_threads()} threads")

    start = time.perf_counter()
    with torch.no_grad():
        baseline = loop_generate(model, tokenizer, problems, args.max_new_tokens)
    loop_s = time.perf_counter() - start
    loop_rate = tokens(tokenizer, baseline) / loop_s
    print(f"one prompt at a time: {loop_rate:,.0f} tokens/s ({loop_s:.1f}s)")

    backend = TransformersBackend(model, tokenizer, args.batch_size)
    decoding = Decoding(greedy=True, samples=0, max_new_tokens=args.max_new_tokens, repetition_penalty=1.1)
    start = time.perf_counter()
    batched = [c[0] for c in backend.generate(problems, decoding)]
    batched_s = time.perf_counter() - start
    batched_rate = tokens(tokenizer, batched) / batched_s
    print(f"evolm batched (batch {backend.auto_batch_size(decoding.context)}): {batched_rate:,.0f} tokens/s ({batched_s:.1f}s)")

    # Grading: each problem's own solution (right; the exact-string shortcut) and the next problem's
    # (wrong; math-verify parses and compares both), so both paths are timed.
    pairs = [(r["gt_solution"], math_task.gold(r)) for r in rows] + \
            [(rows[(i + 1) % len(rows)]["gt_solution"], math_task.gold(r)) for i, r in enumerate(rows)]
    start = time.perf_counter()
    correct = sum(math_task.equivalent(math_task.extract(c), g) for c, g in pairs)
    grade_s = time.perf_counter() - start
    print(f"math grader: {len(pairs) / grade_s:,.0f} completions/s ({correct}/{len(pairs)} graded correct)")
    print(f"ratio={batched_rate / loop_rate:.2f}")


if __name__ == "__main__":
    main()
