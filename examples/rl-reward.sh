#!/usr/bin/env bash
# Does `evolm rl` raise the reward? A check on problems a 1M-parameter model can learn: single-digit
# arithmetic drills in the pool format (`problem`, `gt_solution` ending in \boxed{}). The synthetic
# pool's multi-step word problems are beyond such a model (about 1% right after SFT), so GRPO sees
# all-zero groups there and has nothing to learn from.
#
# SFT on the first 2,400 drills (4 epochs) leaves a model that answers most drills greedily but only
# 65-75% of its temperature-1 samples are right (0.746 on the RL drills on 2026-12-06, 0.719 on data version 6 on 2026-12-08, 0.645 with
# transformers 5.25 on 2026-12-07): room for
# RL to sharpen. GRPO then trains on the
# last 16 drills for 30 epochs (60 steps of 8 prompts x 8 rollouts). What we measured (README,
# "Does RL raise the reward?"): at this size RL improves the prompts it trains on, not others. The
# same GRPO on 480 distinct drills for one epoch leaves the reward flat, and training on 16 drills
# lowers accuracy on other drills; so this example prints both.
#
# Prints the mean training reward over the first and last third of the run, then an independent
# check: greedy and sampled accuracy (16 fresh samples each) of the SFT and RL checkpoints on the
# 16 RL drills and on 64 drills neither stage trained on. 4 to 8 minutes on a 2-core CPU (6m37s on
# 2026-12-08), with the machine's hour.
# ALGO=ppo runs the paper's PPO with a critic instead (one rollout per prompt, LR 1e-4, 120 epochs: 240 steps
# of 8 prompts, 1,920 samples against GRPO's 3,840; 4m30s to 7m21s measured),
# ALGO=rloo TRL's RLOO with GRPO's settings. MODEL picks the preset (default 1M); BACKEND the
# rollouts' generation (default auto): BACKEND=vllm with ALGO=ppo and MODEL=4M runs on vLLM's CPU
# build (benchmarks/vllm-cpu-env.sh), whose attention refuses the 1M preset's head size of 16.
# Usage: [ALGO=grpo|ppo|rloo] [MODEL=1M] [BACKEND=auto] examples/rl-reward.sh [RUNS_DIR]   (default runs/rl-reward)
set -euo pipefail
runs=${1:-runs/rl-reward}
case "${ALGO:-grpo}" in
  grpo) rl_args=(--rollouts 8 --lr 3e-4 --epochs 30) ;;
  rloo) rl_args=(--algo rloo --rollouts 8 --lr 3e-4 --epochs 30) ;;
  # one rollout per prompt, critic LR 10x the actor's (the paper's). At GRPO's 3e-4 PPO's reward
  # barely moved (0.625 -> 0.637) and accuracy on untrained drills fell from 0.56 to 0.40; at 1e-4
  # it rose on three seeds, untrained drills unharmed, until the reward cut completions at the stop
  # strings (2026-12-06): from an SFT model then right on 0.75 of its samples, it moved by -0.025 to
  # +0.012 on three seeds, and fell at 2e-4. It needs more samples than 60 steps' 480 from that start:
  # over 240 steps (120 epochs) it rose on three seeds, fresh samples 0.785-0.793 against the SFT
  # model's 0.746 (README, "Does RL raise the reward?").
  ppo) rl_args=(--algo ppo --lr 1e-4 --epochs 120) ;;
  *) echo "rl-reward: ALGO must be grpo, ppo or rloo" >&2; exit 2 ;;
esac
mkdir -p "$runs"
data=$(evolm data synth --out "$runs/data" --scale tiny --seed 0 --overwrite)
tok=$(evolm data tokenizer "$data/text/general.jsonl" "$data/text/math.jsonl" --vocab-size 4096 --out "$runs/tokenizer" --overwrite)
web=$(evolm data prepare "$data/text/general.jsonl" --tokenizer "$tok" --out "$runs/shards/general" --overwrite)

# The drill pool: 3,000 seeded problems such as "What is 7 plus 5?" -> "7 + 5 = 12. ... \boxed{12}".
python3 - "$runs/drills.jsonl" <<'PY'
import json, random, sys
rng = random.Random(0)
ops = [("plus", "+", lambda a, b: a + b), ("minus", "-", lambda a, b: a - b), ("times", "*", lambda a, b: a * b)]
with open(sys.argv[1], "w") as out:
    for i in range(3000):
        word, sign, fn = rng.choice(ops)
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        if word == "minus" and b > a:
            a, b = b, a
        answer = fn(a, b)
        out.write(json.dumps({"id": f"drill-{i:04d}", "problem": f"What is {a} {word} {b}?",
                              "gt_solution": f"{a} {sign} {b} = {answer}.\nThe final answer is \\boxed{{{answer}}}"}) + "\n")
PY

base=$(evolm pretrain --model "${MODEL:-1M}" --tokens 300K --data "$web" --out "$runs/base" --overwrite --log-every 20)
sft=$(evolm sft "$base" --data "$runs/drills.jsonl" --examples 2400 --epochs 4 --out "$runs/sft" --overwrite --log-every 50)
rl=$(evolm rl "$sft" --data "$runs/drills.jsonl" --examples 16 "${rl_args[@]}" --backend "${BACKEND:-auto}" --max-completion-length 32 \
      --out "$runs/rl" --overwrite --log-every 1)
here=$(dirname "$0")
python3 "$here/reward_thirds.py" "$rl" >&2
# Row ranges from the manifests: the RL drills, and the 64 drills after the SFT rows (no stage trained on them).
read -r rl_rows untrained_rows < <(python3 - "$sft" "$rl" <<'PY'
import sys
from evolm.checkpoint import load_checkpoint
sft_end = load_checkpoint(sys.argv[1], verify="none").manifest.knobs["rows"][1]
rl_start, rl_end = load_checkpoint(sys.argv[2], verify="none").manifest.knobs["rows"]
print(f"{rl_start}:{rl_end} {sft_end}:{min(sft_end + 64, rl_start)}")
PY
)
: > "$runs/accuracy.txt"
for name in sft rl; do
  for rows in "$rl_rows" "$untrained_rows"; do
    result=$(python3 "$here/sampled_accuracy.py" "$runs/$name" "$runs/drills.jsonl" "${rows%:*}" "${rows#*:}")
    echo "$name $result" | tee -a "$runs/accuracy.txt" >&2
  done
done
echo "$rl"
