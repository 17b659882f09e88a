#!/usr/bin/env bash
# Forgetting and replay in miniature: pre-train the 1M preset on general text, then continue on
# math text with and without general-text replay, and compare the general-domain validation loss.
# Usage: examples/cpt-replay.sh [RUNS_DIR] [PRETRAIN_TOKENS] [CPT_TOKENS]   (defaults: runs/cpt-replay 2M 600K)
set -euo pipefail
runs=${1:-runs/cpt-replay}
pre_tokens=${2:-2M}
cpt_tokens=${3:-600K}
mkdir -p "$runs"
data=$(evolm data synth --out "$runs/data" --scale small --seed 0 --overwrite)
tok=$(evolm data tokenizer "$data/text/general.jsonl" "$data/text/math.jsonl" --vocab-size 4096 --out "$runs/tokenizer" --overwrite)
web=$(evolm data prepare "$data/text/general.jsonl" --tokenizer "$tok" --out "$runs/shards/general" --overwrite)
math=$(evolm data prepare "$data/text/math.jsonl" --tokenizer "$tok" --out "$runs/shards/math" --overwrite)
base=$(evolm pretrain --model 1M --tokens "$pre_tokens" --data "$web" --out "$runs/base" --overwrite --log-every 10)
# the same total CPT budget: all math, or 20% general replay + 80% math
plain=$(evolm cpt "$base" --domain "$math:$cpt_tokens" --out "$runs/cpt-no-replay" --overwrite --log-every 10)
replay_tokens=$(python3 -c "from evolm.units import parse_count as p; t=p('$cpt_tokens'); print(t // 5)")
domain_tokens=$(python3 -c "from evolm.units import parse_count as p; t=p('$cpt_tokens'); print(t - t // 5)")
mixed=$(evolm cpt "$base" --domain "$math:$domain_tokens" --replay "$web:$replay_tokens" --out "$runs/cpt-replay" --overwrite --log-every 10)
python3 - "$base" "$plain" "$mixed" <<'PY'
import sys
from evolm.checkpoint import load_checkpoint
rows = []
for path in sys.argv[1:]:
    m = load_checkpoint(path, verify="none").manifest
    val = m.outcome.val_loss
    general = val.get("pretrain", val.get("replay"))
    rows.append((m.signature, general, val.get("domain"), m.compute.wall_time_s))
base_general = rows[0][1]
print(f"{'checkpoint':28} {'val general':>12} {'change':>8} {'val math':>9} {'wall s':>7}")
for sig, general, domain, wall in rows:
    print(f"{sig:28} {general:12.4f} {general - base_general:+8.4f} {domain if domain is not None else float('nan'):9.4f} {wall:7.1f}")
PY
