#!/usr/bin/env bash
# The embedded default end to end: synthetic data -> tokenizer -> token shards -> SFT/RL split ->
# benchmark folder. Each evolm command prints only its output path on stdout, so they chain.
# Usage: examples/quickstart.sh [RUNS_DIR] [SCALE]   (defaults: runs/quickstart, tiny)
set -euo pipefail
runs=${1:-runs/quickstart}
scale=${2:-tiny}
mkdir -p "$runs"

data=$(evolm data synth --out "$runs/data" --scale "$scale" --seed 0 --overwrite)
tok=$(evolm data tokenizer "$data/text/general.jsonl" "$data/text/math.jsonl" --vocab-size 4096 --out "$runs/tokenizer" --overwrite)
web=$(evolm data prepare "$data/text/general.jsonl" --tokenizer "$tok" --out "$runs/shards/general" --overwrite)
math=$(evolm data prepare "$data/text/math.jsonl" --tokenizer "$tok" --out "$runs/shards/math" --overwrite)
split=$(evolm data split "$data/pool/mathpool.jsonl" --sft 1000 --rl 500 --out "$runs/split" --overwrite)
echo "data:      $data" >&2
echo "tokenizer: $tok" >&2
echo "shards:    $web $math" >&2
echo "split:     $split" >&2
evolm data prepare "$data/text/general.jsonl" --tokenizer "$tok" --out "$web" --json
