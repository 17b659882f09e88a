#!/usr/bin/env bash
# The EvoLM study in miniature, as a plain pipeline of evolm commands: synthetic data -> one CPU
# preset pre-trained at several token budgets -> math CPT without and with replay from the largest
# base -> SFT and RL on top of each -> every checkpoint evaluated (upstream; synth-id and synth-ood
# for post-trained ones) -> the report. Each evolm command prints only its output path on stdout,
# so results chain as "$(evolm ...)"; progress goes to stderr.
# Usage: examples/mini-study.sh [CONFIG] [RUNS_DIR]
#   (defaults: examples/mini-study.conf, runs/mini-study; examples/mini-study-short.conf is a few minutes)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
config=${1:-$here/mini-study.conf}
runs=${2:-runs/mini-study}
# shellcheck source=mini-study.conf
source "$config"
start=$(date +%s)
mkdir -p "$runs"

data=$(evolm data synth --out "$runs/data" --scale "$SCALE" --seed 0 --overwrite)
tok=$(evolm data tokenizer "$data/text/general.jsonl" "$data/text/math.jsonl" --vocab-size "$VOCAB" --out "$runs/tokenizer" --overwrite)
web=$(evolm data prepare "$data/text/general.jsonl" --tokenizer "$tok" --out "$runs/shards/general" --overwrite)
math=$(evolm data prepare "$data/text/math.jsonl" --tokenizer "$tok" --out "$runs/shards/math" --overwrite)
pool="$data/pool/mathpool.jsonl"

upstream() { evolm eval "$1" --suite upstream --benchmarks "$data" --limit "$UPSTREAM_LIMIT" >/dev/null; }
downstream() {
  evolm eval "$1" --suite synth --benchmarks "$data" --limit "$EVAL_LIMIT" --samples "$EVAL_SAMPLES" \
    --max-new-tokens "$MAX_NEW_TOKENS" >/dev/null
}
post_train() {  # SFT then RL on top of a base, everything evaluated; $2 names the branch
  local sft rl
  sft=$(evolm sft "$1" --data "$pool" --examples "$SFT_EXAMPLES" --epochs "$SFT_EPOCHS" --out "$runs/$2-sft" --overwrite --log-every 10)
  rl=$(evolm rl "$sft" --data "$pool" --examples "$RL_EXAMPLES" --epochs "$RL_EPOCHS" --out "$runs/$2-sft-rl" --overwrite --log-every 5)
  for ckpt in "$sft" "$rl"; do upstream "$ckpt"; downstream "$ckpt"; done
}

# Pre-training at several budgets (paper Table 4, Fig. 2-3).
base=""
for budget in $PRETRAIN_BUDGETS; do
  base=$(evolm pretrain --model "$PRESET" --tokens "$budget" --data "$web" --out "$runs/pt-$budget" --overwrite --log-every 20)
  upstream "$base"
done

# CPT from the largest base: all math, or math with general-text replay (paper Table 2, Fig. 4-5).
domain_only=$(evolm cpt "$base" --domain "$math:$CPT_TOKENS" --out "$runs/cpt-math" --overwrite --log-every 20)
with_replay=$(evolm cpt "$base" --domain "$math:$CPT_REPLAY_DOMAIN" --replay "$web:$CPT_REPLAY" --out "$runs/cpt-replay" --overwrite --log-every 20)
upstream "$domain_only"
upstream "$with_replay"

# SFT and RL on top of the chosen bases (paper Table 1, finding 4).
for branch in $BRANCHES; do
  case "$branch" in
    nocpt) post_train "$base" nocpt ;;
    cpt-math) post_train "$domain_only" cpt-math ;;
    cpt-replay) post_train "$with_replay" cpt-replay ;;
    *) echo "mini-study: unknown branch '$branch' in BRANCHES (nocpt, cpt-math, cpt-replay)" >&2; exit 2 ;;
  esac
done

report=$(evolm report "$runs" --out "$runs/report" --overwrite)
evolm ls "$runs" >&2
echo "mini study: $(( $(date +%s) - start )) s; report in $report/report.md" >&2
echo "$report"
