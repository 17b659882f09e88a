#!/usr/bin/env bash
# Calibrates the difficulty ladder of the embedded default data: each CPU preset after pre-training
# only, after math CPT (with replay) and after SFT, evaluated greedily on every synthetic task, from
# the bare-operation rung (SynthMathBasic1) to the GSM8K-shaped levels and the out-of-domain sets.
# Writes the table `evolm data synth` renders into DATASET.md (evolm/synth/calibration.json by
# default). Seeded: the same code on the same hardware reproduces the numbers.
# Usage: examples/calibrate-ladder.sh [RUNS_DIR] [OUT_JSON]   (about 20 minutes alone on a 2-core CPU,
# 20m04s on 2026-12-07; 37m10s with other work beside it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${1:-runs/calibrate-ladder}
out_json=${2:-$here/../evolm/synth/calibration.json}
PRESETS=${PRESETS:-"1M 4M"}
PRETRAIN_TOKENS=${PRETRAIN_TOKENS:-1M}
CPT_DOMAIN=${CPT_DOMAIN:-400K}
CPT_REPLAY=${CPT_REPLAY:-100K}
SFT_EXAMPLES=${SFT_EXAMPLES:-1000}
SFT_EPOCHS=${SFT_EPOCHS:-4}
BATCH=${BATCH:-4}   # global batch of every stage, as in examples/mini-study.yaml
LIMIT=${LIMIT:-200}
mkdir -p "$runs"
data=$(evolm data synth --out "$runs/data" --scale small --seed 0 --overwrite)
tok=$(evolm data tokenizer "$data/text/general.jsonl" "$data/text/math.jsonl" --vocab-size 4096 --out "$runs/tokenizer" --overwrite)
web=$(evolm data prepare "$data/text/general.jsonl" --tokenizer "$tok" --out "$runs/shards/general" --overwrite)
math=$(evolm data prepare "$data/text/math.jsonl" --tokenizer "$tok" --out "$runs/shards/math" --overwrite)
greedy() {  # greedy CKPT OUT; no repetition penalty, as in the mini study (it penalises copying the prompt's digits)
  evolm eval "$1" --suite synth-id,synth-ood --benchmarks "$data" --limit "$LIMIT" --samples 0 --max-new-tokens 64 \
    --repetition-penalty 1.0 --out "$2" >/dev/null
}
with_template() {  # with_template CKPT COPY: a plain HF copy carrying the paper's chat template
  # Pre-trained and CPT checkpoints have no chat template (SFT installs it), and evolm eval refuses
  # to guess one; the calibration asks how such a model does on the same prompts, so it evaluates a
  # copy (weights and tokenizer, no manifest) with the template the SFT model will use.
  python3 - "$1" "$2" <<'PY'
import shutil
import sys

from transformers import AutoTokenizer

from evolm.template import install

src, dst = sys.argv[1:]
shutil.rmtree(dst, ignore_errors=True)
shutil.copytree(src, dst, ignore=shutil.ignore_patterns("evolm.json", "eval", "metrics.jsonl", "state"))
tokenizer = AutoTokenizer.from_pretrained(src)
install(tokenizer)
tokenizer.save_pretrained(dst)
PY
  echo "$2"
}
# once OUT COMMAND...: a checkpoint already finished in RUNS_DIR by the same command on the same data
# is reused (a rerun resumes); one made otherwise (other settings, an older data version) is trained
# again, not labelled with this run's settings. OUT.stamp beside it records what made it.
data_id=$(sha256sum "$data/synth.json" | cut -c1-16)
once() {
  local out=$1; shift
  local stamp="$data_id $*"
  if [ -f "$out/evolm.json" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "$out"
  else
    "$@" --out "$out" --overwrite && printf '%s\n' "$stamp" > "$out.stamp"
  fi
}
for preset in $PRESETS; do
  pt=$(once "$runs/$preset-pt" evolm pretrain --model "$preset" --tokens "$PRETRAIN_TOKENS" --data "$web" \
    --global-batch "$BATCH" --log-every 200)
  cpt=$(once "$runs/$preset-cpt" evolm cpt "$pt" --domain "$math:$CPT_DOMAIN" --replay "$web:$CPT_REPLAY" \
    --global-batch "$BATCH" --log-every 200)
  sft=$(once "$runs/$preset-sft" evolm sft "$cpt" --data "$data/pool/mathpool.jsonl" --examples "$SFT_EXAMPLES" \
    --epochs "$SFT_EPOCHS" --global-batch "$BATCH" --log-every 100)
  greedy "$(with_template "$pt" "$runs/$preset-pt-templated")" "$runs/$preset-pt-eval"
  greedy "$(with_template "$cpt" "$runs/$preset-cpt-templated")" "$runs/$preset-cpt-eval"
  greedy "$sft" "$runs/$preset-sft-eval"
done
# The data version in the settings: a table measured on other data is stale (the slow test compares them).
version=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$data/synth.json")
python3 "$here/ladder_table.py" "$runs" "$out_json" \
  --settings "pre-training $PRETRAIN_TOKENS tokens, CPT $CPT_REPLAY replay + $CPT_DOMAIN math tokens, SFT $SFT_EXAMPLES examples x $SFT_EPOCHS epochs, global batch $BATCH, greedy without repetition penalty, synth --scale small --seed 0, data version $version" \
  --presets $PRESETS
echo "$out_json"
