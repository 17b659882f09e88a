"""RL throughput of `evolm rl` (GRPO): prompts/s and generated tokens/s.

Builds a small checkpoint from the embedded default data (synth tiny, a 4096-token BPE, the 1M
preset pre-trained briefly), then runs `evolm rl` for a fixed number of steps and reads TRL's own
logs: completions per step x mean completion length / wall time. The generation backend is the one
`evolm rl` picks: vLLM on a CUDA machine with vLLM installed, else batched transformers `generate`.

    python benchmarks/bench_rl.py [--model 1M] [--steps 6] [--prompts-per-step 8] [--rollouts 4] [--max-completion-length 96]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from evolm.stages import pretrain, rl
from evolm.stages.data import synth
from evolm.stages.data.prepare import prepare
from evolm.stages.data.tokenizer import make_tokenizer
from evolm.stages.lm_run import Overrides
from evolm.textsource import resolve_source


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
        checkpoint = rl.run(
            parent=work / "base", data=work / "data" / "pool" / "mathpool.jsonl", examples=prompts, epochs=1,
            out=work / "rl", options=rl.RLOptions(prompts_per_step=args.prompts_per_step, rollouts=args.rollouts,
                                                  max_completion_length=args.max_completion_length),
        )
        rows = [json.loads(line) for line in (work / "rl" / "metrics.jsonl").read_text().splitlines()]
        steps = [r for r in rows if "completions/mean_length" in r]
        runtime = next(r["train_runtime"] for r in rows if "train_runtime" in r)
        generated = sum(r["completions/mean_length"] * args.prompts_per_step * args.rollouts for r in steps)
        backend = checkpoint.manifest["generation"]["backend"]
    print(f"model {args.model}, {len(steps)} GRPO steps of {args.prompts_per_step} prompts x {args.rollouts} rollouts, "
          f"max {args.max_completion_length} new tokens, backend {backend}")
    print(f"wall time {runtime:.1f} s (generation, rewards and updates)")
    print(f"prompts/s={prompts / runtime:.2f}")
    print(f"generated tokens/s={generated / runtime:.1f}")


if __name__ == "__main__":
    main()
