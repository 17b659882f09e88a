#!/usr/bin/env bash
# The post-training half of the study in miniature: pre-train the 4M preset on general text,
# continue on math text (with replay), SFT on the first N pool problems, then GRPO on the last M,
# and print how the reward moved during RL. Takes about 13 minutes on a 2-core CPU.
# Usage: examples/sft-rl.sh [RUNS_DIR]   (default runs/sft-rl)
set -euo pipefail
runs=${1:-runs/sft-rl}
mkdir -p "$runs"
data=$(evolm data synth --out "$runs/data" --scale small --seed 0 --overwrite)
tok=$(evolm data tokenizer "$data/text/general.jsonl" "$data/text/math.jsonl" --vocab-size 4096 --out "$runs/tokenizer" --overwrite)
web=$(evolm data prepare "$data/text/general.jsonl" --tokenizer "$tok" --out "$runs/shards/general" --overwrite)
math=$(evolm data prepare "$data/text/math.jsonl" --tokenizer "$tok" --out "$runs/shards/math" --overwrite)
base=$(evolm pretrain --model 4M --tokens 600K --data "$web" --out "$runs/base" --overwrite --log-every 10)
cpt=$(evolm cpt "$base" --domain "$math:1M" --replay "$web:200K" --out "$runs/cpt" --overwrite --log-every 10)
sft=$(evolm sft "$cpt" --data "$data/pool/mathpool.jsonl" --examples 2000 --epochs 2 --out "$runs/sft" --overwrite --log-every 10)
rl=$(evolm rl "$sft" --data "$data/pool/mathpool.jsonl" --examples 240 --epochs 1 --out "$runs/rl" --overwrite)
python3 "$(dirname "$0")/reward_thirds.py" "$rl"
echo "$rl"
