#!/usr/bin/env bash
# The embedded default end to end on a CPU: synthetic data -> tokenizer -> token shards -> SFT/RL
# split -> pre-training of the 1M preset -> math CPT with replay. Each evolm command prints only
# its output path on stdout, so the commands chain; progress goes to stderr.
# Usage: examples/quickstart.sh [RUNS_DIR] [SCALE] [PRETRAIN_TOKENS]   (defaults: runs/quickstart tiny 300K)
set -euo pipefail
runs=${1:-runs/quickstart}
scale=${2:-tiny}
tokens=${3:-300K}
mkdir -p "$runs"

data=$(evolm data synth --out "$runs/data" --scale "$scale" --seed 0 --overwrite)
tok=$(evolm data tokenizer "$data/text/general.jsonl" "$data/text/math.jsonl" --vocab-size 4096 --out "$runs/tokenizer" --overwrite)
web=$(evolm data prepare "$data/text/general.jsonl" --tokenizer "$tok" --out "$runs/shards/general" --overwrite)
math=$(evolm data prepare "$data/text/math.jsonl" --tokenizer "$tok" --out "$runs/shards/math" --overwrite)
split=$(evolm data split "$data/pool/mathpool.jsonl" --sft 1000 --rl 500 --out "$runs/split" --overwrite)
base=$(evolm pretrain --model 1M --tokens "$tokens" --data "$web" --out "$runs/base" --overwrite --log-every 5)
cpt=$(evolm cpt "$base" --domain "$math:80K" --replay "$web:20K" --out "$runs/cpt" --overwrite --log-every 5)

echo "data:       $data" >&2
echo "tokenizer:  $tok" >&2
echo "shards:     $web $math" >&2
echo "SFT/RL:     $split" >&2
echo "pretrained: $base" >&2
echo "CPT:        $cpt" >&2
echo "$cpt"
