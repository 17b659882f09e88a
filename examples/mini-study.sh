#!/usr/bin/env bash
# The EvoLM study in miniature, as a plain pipeline of evolm commands, laid out to test the paper's
# findings (the report's Findings section judges each one from the files):
#   F1  one CPU preset pre-trained at several token budgets (upstream accuracy per budget);
#   F2  a second preset at the compute of the largest budget (equal FLOPs, fewer tokens);
#   F9  the largest run's weights exported part-way (--export-at), against a run that fully
#       decayed its schedule at that budget;
#   F3  math CPT from the largest base without and with general-text replay;
#   F4  SFT then RL on top of each branch (no CPT, CPT, CPT with replay);
#   F5  an SFT epochs sweep, F6 an RL epochs sweep, F7 an SFT/RL split at a fixed total, all on the
#       replay branch;
#   F8  needs a reward model (not in the miniature; see the README).
# Every evolm command prints only its output path on stdout, so results chain as "$(evolm ...)";
# progress goes to stderr. Post-trained models are evaluated downstream only (EVAL_TASKS).
# Usage: examples/mini-study.sh [CONFIG] [RUNS_DIR]
#   (defaults: examples/mini-study.conf, runs/mini-study; examples/mini-study-short.conf is the quickstart)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
config=${1:-$here/mini-study.conf}
runs=${2:-runs/mini-study}
# shellcheck source=mini-study.conf
source "$config"
start=$(date +%s)
mkdir -p "$runs"
say() { echo "mini study [$(( $(date +%s) - start )) s]: $*" >&2; }

data=$(evolm data synth --out "$runs/data" --scale "$SCALE" --seed 0 --overwrite)
tok=$(evolm data tokenizer "$data/text/general.jsonl" "$data/text/math.jsonl" --vocab-size "$VOCAB" --out "$runs/tokenizer" --overwrite)
web=$(evolm data prepare "$data/text/general.jsonl" --tokenizer "$tok" --out "$runs/shards/general" --overwrite)
math=$(evolm data prepare "$data/text/math.jsonl" --tokenizer "$tok" --out "$runs/shards/math" --overwrite)
pool="$data/pool/mathpool.jsonl"

upstream() { evolm eval "$1" --suite upstream --benchmarks "$data" --limit "$UPSTREAM_LIMIT" >/dev/null; }
evaluate() {  # evaluate CKPT TASKS SAMPLES
  evolm eval "$1" --suite "$2" --benchmarks "$data" --limit "$EVAL_LIMIT" --samples "$3" \
    --max-new-tokens "$MAX_NEW_TOKENS" --repetition-penalty "${REPETITION_PENALTY:-1.1}" >/dev/null
}
downstream() {  # downstream CKPT SAMPLES: with samples, only SAMPLED_TASKS get them; the other tasks are greedy
  if [ "$2" -gt 0 ] && [ -n "${SAMPLED_TASKS:-}" ]; then
    local rest
    rest=$(tr ',' '\n' <<<"$EVAL_TASKS" | grep -vxF -f <(tr ',' '\n' <<<"$SAMPLED_TASKS") | paste -sd, - || true)
    evaluate "$1" "$SAMPLED_TASKS" "$2"
    if [ -n "$rest" ]; then evaluate "$1" "$rest" 0; fi
  else
    evaluate "$1" "$EVAL_TASKS" "$2"
  fi
}
sft() {  # sft BASE EXAMPLES EPOCHS NAME [SAMPLES] -> checkpoint path (evaluated)
  local out
  out=$(evolm sft "$1" --data "$pool" --examples "$2" --epochs "$3" --global-batch "$SFT_BATCH" --out "$runs/$4" \
    --overwrite --log-every 100)
  downstream "$out" "${5:-$EVAL_SAMPLES}"
  echo "$out"
}
rl() {  # rl SFT EXAMPLES EPOCHS NAME [SAMPLES] -> checkpoint path (evaluated)
  local out
  out=$(evolm rl "$1" --data "$pool" --examples "$2" --epochs "$3" --out "$runs/$4" --overwrite --log-every 5)
  downstream "$out" "${5:-$EVAL_SAMPLES}"
  echo "$out"
}

# F1 (and F9): pre-training budgets; the largest also exports its weights at EXPORT_AT.
base=""
budgets=($PRETRAIN_BUDGETS)
largest=${budgets[${#budgets[@]}-1]}
for budget in "${budgets[@]}"; do
  export_at=()
  if [ "$budget" = "$largest" ] && [ -n "${EXPORT_AT:-}" ]; then export_at=(--export-at "$EXPORT_AT"); fi
  base=$(evolm pretrain --model "$PRESET" --tokens "$budget" --data "$web" --global-batch "$PRETRAIN_BATCH" \
    --out "$runs/pt-$budget" --overwrite --log-every 50 ${export_at[@]+"${export_at[@]}"})
  upstream "$base"
done
if [ -n "${EXPORT_AT:-}" ]; then upstream "$runs/pt-$largest@$EXPORT_AT"; fi
say "pre-training done"

# F2: a second preset at the same compute as the largest budget.
if [ -n "${EQUAL_COMPUTE_PRESET:-}" ]; then
  upstream "$(evolm pretrain --model "$EQUAL_COMPUTE_PRESET" --tokens "$EQUAL_COMPUTE_TOKENS" --data "$web" \
    --global-batch "$PRETRAIN_BATCH" --out "$runs/pt-$EQUAL_COMPUTE_PRESET-$EQUAL_COMPUTE_TOKENS" --overwrite --log-every 200)"
fi

# F3: CPT from the largest base, all math or math with replay (the same total).
domain_only=$(evolm cpt "$base" --domain "$math:$CPT_TOKENS" --global-batch "$PRETRAIN_BATCH" --out "$runs/cpt-math" \
  --overwrite --log-every 200)
upstream "$domain_only"
with_replay=""
if [ -n "${CPT_REPLAY:-}" ]; then  # an empty CPT_REPLAY skips the replay mixture (and what builds on it)
  with_replay=$(evolm cpt "$base" --domain "$math:$CPT_REPLAY_DOMAIN" --replay "$web:$CPT_REPLAY" \
    --global-batch "$PRETRAIN_BATCH" --out "$runs/cpt-replay" --overwrite --log-every 200)
  upstream "$with_replay"
fi
say "CPT done"

# F4: SFT and RL on each branch.
replay_sft=""
for branch in $BRANCHES; do
  case "$branch" in
    nocpt) from=$base ;;
    cpt-math) from=$domain_only ;;
    cpt-replay) from=$with_replay; [ -n "$from" ] || { echo "mini-study: BRANCHES has cpt-replay but CPT_REPLAY is empty" >&2; exit 2; } ;;
    *) echo "mini-study: unknown branch '$branch' in BRANCHES (nocpt, cpt-math, cpt-replay)" >&2; exit 2 ;;
  esac
  k=$EVAL_SAMPLES  # F6 reads pass@K and the correct ratio of the replay branch's SFT model and its RL models
  if [ "$branch" = cpt-replay ] && [ -n "${RL_EPOCHS_SWEEP:-}" ]; then k=$RL_SWEEP_SAMPLES; fi
  s=$(sft "$from" "$SFT_EXAMPLES" "$SFT_EPOCHS" "$branch-sft" "$k")
  case " ${RL_BRANCHES-$BRANCHES} " in *" $branch "*) rl "$s" "$RL_EXAMPLES" "$RL_EPOCHS" "$branch-sft-rl" "$k" >/dev/null ;; esac
  if [ "$branch" = cpt-replay ]; then replay_sft=$s; fi
done
say "post-training branches done"

# F5: more SFT epochs on the replay branch; F6: more RL epochs from its SFT model.
if [ -n "${SFT_EPOCHS_SWEEP:-}${SPLITS:-}" ] && [ -z "$with_replay" ]; then
  echo "mini-study: SFT_EPOCHS_SWEEP and SPLITS build on the replay branch; set CPT_REPLAY" >&2; exit 2
fi
for epochs in ${SFT_EPOCHS_SWEEP:-}; do sft "$with_replay" "$SFT_EXAMPLES" "$epochs" "cpt-replay-sft-ep$epochs" >/dev/null; done
if [ -n "$replay_sft" ]; then
  for epochs in ${RL_EPOCHS_SWEEP:-}; do
    rl "$replay_sft" "$RL_EXAMPLES" "$epochs" "cpt-replay-sft-rl-ep$epochs" "$RL_SWEEP_SAMPLES" >/dev/null
  done
fi
# F7: the same total of examples split differently between SFT and RL ("SFT:RL" pairs).
for split in ${SPLITS:-}; do
  s=$(sft "$with_replay" "${split%%:*}" "$SFT_EPOCHS" "split-${split%%:*}-sft")
  rl "$s" "${split##*:}" "$RL_EPOCHS" "split-${split%%:*}-sft-rl" >/dev/null
done
say "sweeps done"

report=$(evolm report "$runs" --out "$runs/report" --overwrite)
evolm ls "$runs" >&2
say "all done; report in $report/report.md"
echo "$report"
