#!/usr/bin/env bash
# Finding 8 on a finished miniature study: train the reward model it lacks (`evolm rm`), score the
# runs the study sampled in-domain with it, measure their validation loss, and rebuild the report.
# Usage: examples/reward-model.sh RUNS   (the folder of `evolm study run examples/mini-study.yaml`)
#
# 1. Four SFT policies of the study (with and without math CPT, and 1 and 2 SFT epochs) draw 4
#    samples each on 1,500 pool problems no node trains on (rows 4000-5499: SFT takes rows from 0, at
#    most 1,000; RL the last 160 or 360), graded by the task's grader. Their results go to
#    RUNS/reward-model/, not the policies' eval/ folders, where the report would average the held-out
#    task into the policies' in-domain accuracy.
# 2. `evolm rm` trains a reward model from the first policy on the (correct, incorrect) pairs.
# 3. Every run the study sampled in-domain (K = 4) is evaluated again with `--reward-model` (its
#    samples are drawn again, with the same seeds) and `--val-data` (validation loss on general text).
# 4. `evolm report RUNS --overwrite` then tests F8 (README, "Reward models").
set -euo pipefail
runs=${1:?usage: examples/reward-model.sh RUNS}
data=$(ls -d "$runs"/data-*/data | head -1)
work="$runs/reward-model"
mkdir -p "$work"
python3 -c "import sys; rows = open(sys.argv[1]).readlines()[4000:5500]; open(sys.argv[2], 'w').writelines(rows)" \
  "$data/pool/mathpool.jsonl" "$work/RMTrain.jsonl"
printf 'name: RMTrain\ngrader: math\ndomain: id\n' > "$work/RMTrain.task.yaml"
# the policies by signature (the seed-0 run where replicates differ by seed)
policies=$(python3 - "$runs" <<'PY'
import sys
from pathlib import Path
from evolm.checkpoint import load_checkpoint
wanted = ["1M-1MT-2MT-1Kep4", "1M-1MT-2MT-1Kep1", "1M-1MT-2MT-1Kep2", "1M-1MT-1Kep4"]
found = {}
for path in sorted(Path(sys.argv[1]).iterdir()):
    if (path / "evolm.json").is_file():
        c = load_checkpoint(path, verify="none")
        if c.stage == "sft" and c.signature in wanted and (c.signature not in found or c.manifest.seed < found[c.signature][0]):
            found[c.signature] = (c.manifest.seed, path)
missing = [w for w in wanted if w not in found]
if missing:
    sys.exit(f"{sys.argv[1]} has no SFT run {', '.join(missing)}: run examples/mini-study.yaml into it first")
print(" ".join(str(found[w][1]) for w in wanted))
PY
)
samples=()
for policy in $policies; do
  out="$work/samples/$(basename "$policy")"
  evolm eval "$policy" --tasks "$work/RMTrain.task.yaml" --suite RMTrain --samples 4 --max-new-tokens 48 \
    --repetition-penalty 1.0 --out "$out" > /dev/null
  samples+=(--samples "$out/RMTrain.samples.jsonl")
done
rm_model=$(evolm rm ${policies%% *} "${samples[@]}" --problems "$work/RMTrain.jsonl" --epochs 2 --log-every 50 \
  --out "$work/rm" --overwrite)
for run in "$runs"/*/; do
  record="$run/eval/SynthMathBasic3.samples.jsonl"
  [ -f "$run/evolm.json" ] && [ -f "$record" ] || continue
  python3 -c "import json, sys; sys.exit(len(json.loads(open(sys.argv[1]).readline())['completions']) < 2)" "$record" || continue
  evolm eval "$run" --suite SynthMathBasic3 --limit 500 --samples 4 --max-new-tokens 48 --repetition-penalty 1.0 \
    --benchmarks "$data" --reward-model "$rm_model" --val-data "$(dirname "$data")/shards/general" --overwrite > /dev/null
done
evolm report "$runs" --out "$runs/report" --overwrite
