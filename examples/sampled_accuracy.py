"""Greedy and sampled accuracy of a checkpoint on rows of a problem pool, graded by the RL reward.

Used by examples/rl-reward.sh to check `evolm rl` independently of TRL's own reward log: the same
prompts are sampled afresh with evolm's evaluation backend as GRPO's rollouts are drawn (temperature
1, no repetition penalty, no stop strings: only EOS or the length cap ends a completion; PPO's
rollouts end at a stop string, which the reward's cut makes the same verdict) and graded with the RL
reward itself (`evolm.stages.rl.reward_function`: the completion cut at its first stop string, then
each row's task grader). Until 2026-12-07 this script graded the whole completion, without the cut.

    python examples/sampled_accuracy.py CKPT POOL.jsonl START END [--samples 16] [--max-new-tokens 32]
Prints one JSON line: {"rows": [START, END], "greedy": ..., "sampled": ...}.
"""

import argparse
import json

from evolm.eval.generate import Decoding, TransformersBackend
from evolm.eval.loading import load_model, load_tokenizer
from evolm.eval.tasks.registry import row_grader
from evolm.jsonl import read_rows
from evolm.stages.rl import reward_function


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("pool")
    parser.add_argument("start", type=int)
    parser.add_argument("end", type=int)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args()
    rows = read_rows(args.pool)[args.start:args.end]
    backend = TransformersBackend(load_model(args.checkpoint), load_tokenizer(args.checkpoint, need_template=True))
    decoding = Decoding(samples=args.samples, repetition_penalty=1.0, max_new_tokens=args.max_new_tokens, stop=())
    completions = backend.generate([r["problem"] for r in rows], decoding)
    graders = [row_grader(r) for r in rows]
    verdicts = [reward_function(cs, gold=[g.gold(r)] * len(cs), grader=[g.FAMILY] * len(cs))
                for r, g, cs in zip(rows, graders, completions)]
    greedy = sum(v[0] for v in verdicts) / len(rows)
    sampled = sum(sum(v[1:]) for v in verdicts) / (len(rows) * args.samples)
    print(json.dumps({"rows": [args.start, args.end], "greedy": round(greedy, 4), "sampled": round(sampled, 4)}))


if __name__ == "__main__":
    main()
