#!/usr/bin/env bash
# The GPU paths users depend on, exercised in one run on a lent GPU machine (at most 9 minutes):
#   pretrain-1B   the 1B preset in bf16 for about 60 steps, eager: tokens/s and MFU (goal: >= 45%)
#   compile-1B    the same with --compile: whether torch.compile pays (on by default from 1,000 steps)
#   fsdp-125M     the 125M preset through configs/accelerate/fsdp-1B.yaml on one GPU: parallelism, tokens/s
#   eval-vllm     `evolm eval --backend vllm` against `--backend transformers` on a 125M SFT checkpoint
#                 (the transformers half alone where vLLM is not installed)
#   grpo-5        5 GRPO steps of 128-token completions (vLLM colocate when vLLM is installed)
#   ppo-5         5 PPO steps with a critic (evolm's colocated vLLM engine when vLLM is installed)
# One line per check on stdout ("check NAME: ...", "check NAME: skipped: WHY", or why it failed: "timed out
# at its limit" or "failed, exit N"); logs go to WORKDIR.
# Usage: bash benchmarks/gpu_check.sh [--dry-run | --rehearse] [WORKDIR]  (default WORKDIR: runs/gpu-check)
# --dry-run, or a machine without CUDA, skips every check after checking that the evolm commands and
# options it would run exist (the tests run it that way, so the script cannot rot).
# --rehearse runs every check at toy size on whatever is there (a CPU: the 1M preset, 16K tokens of
# 64-token sequences), so that what a GPU run reads from each checkpoint is known to be there before
# a lent GPU's minutes are spent (a slow test runs it).
set -euo pipefail
dry=0 rehearse=0
if [ "${1:-}" = "--dry-run" ]; then dry=1; shift; elif [ "${1:-}" = "--rehearse" ]; then rehearse=1; shift; fi
# The checks' sizes: the GPU's, or the rehearsal's.
# The RL checks' completions are short: a 125M model after 4 SFT steps never ends one, and at the paper's
# 1024 tokens each GRPO step took 14 s of transformers generation on an H200 (both checks timed out).
big=1B small=125M tokens=2M seq=2048 batch=16 scale=small vocab=4096 sft_examples=512 limit=500 new_tokens=64 completion=128
if [ "$rehearse" = 1 ]; then
  big=1M small=1M tokens=16K seq=64 batch=8 scale=tiny vocab=1024 sft_examples=64 limit=8 new_tokens=16 completion=32
fi
work=${1:-runs/gpu-check}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
log="$work/gpu_check.log"
: > "$log"

has_cuda() { python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; }
# Every option a check passes must exist in its command's --help: what keeps the dry run honest.
need() {  # need "SUBCOMMAND..." --flag...
  local cmd=$1; shift
  local help
  help=$(evolm $cmd --help 2>&1) || { echo "gpu_check: evolm $cmd does not exist" >&2; exit 2; }
  for flag in "$@"; do
    grep -q -- "$flag" <<<"$help" || { echo "gpu_check: evolm $cmd has no $flag" >&2; exit 2; }
  done
}
failed() {  # failed STATUS -> why a check's command ended without a checkpoint (timeout exits 124)
  if [ "$1" = 124 ]; then echo "timed out at its limit (see $log)"; else echo "failed, exit $1 (see $log)"; fi
}
field() {  # field CHECKPOINT PYTHON-EXPR-ON-m  -> a value of the manifest
  python -c "import json,sys; m=json.load(open(sys.argv[1]+'/evolm.json')); print($2)" "$1"
}
# full_mfu CHECKPOINT -> its MFU with attention counted over the whole matrix, as OLMo-core and nanochat
# report theirs (evolm counts the causal half: evolm.presets.Preset.flops_per_token)
full_mfu() {
  python -c "import json,sys; from evolm.presets import get_preset; m=json.load(open(sys.argv[1]+'/evolm.json')); p=get_preset(m['model']['preset']); s=m['schedule']['settings']['seq_len']; v=m['model']['vocab_size']; print(f\"{100*m['compute']['mfu']*p.flops_per_token(s, v, causal=False)/p.flops_per_token(s, v):.1f}%\")" "$1"
}

need "data synth" --out --scale --seed --overwrite
need "data tokenizer" --vocab-size --out --overwrite
need "data prepare" --tokenizer --out --overwrite
need pretrain --model --tokens --data --global-batch --seq-len --out --overwrite --log-every --compile --no-compile
need sft --data --examples --epochs --out --overwrite
need eval --suite --benchmarks --limit --samples --backend --out --overwrite --max-new-tokens
need rl --data --examples --prompts-per-step --rollouts --out --overwrite --backend --vllm-memory --algo --max-completion-length
for config in fsdp-1B; do [ -f "$here/configs/accelerate/$config.yaml" ] || { echo "gpu_check: no $config.yaml" >&2; exit 2; }; done

checks=(pretrain-1B compile-1B fsdp-125M eval-vllm grpo-5 ppo-5)
if [ "$dry" = 1 ] || { [ "$rehearse" = 0 ] && ! has_cuda; }; then
  for c in "${checks[@]}"; do echo "check $c: skipped: no CUDA"; done
  exit 0
fi

start=$(date +%s)
# Asked once (importing vLLM takes seconds): the rollout backend of the RL checks, and whether eval-vllm runs.
rollouts=$(python -c "import vllm" >/dev/null 2>&1 && echo vllm || echo transformers)
# Every check's time limit is cut to what is left of GPU_CHECK_SECONDS (default 540: a device command
# may run 600 s), so that the script ends, with a line per check, before whoever runs it stops it.
budget=${GPU_CHECK_SECONDS:-540}
left() {  # left SECONDS -> SECONDS, or what is left if less (at least 5)
  local rest=$(( start + budget - $(date +%s) ))
  (( rest < 5 )) && rest=5
  echo $(( rest < $1 ? rest : $1 ))
}
data=$(evolm data synth --out "$work/data" --scale "$scale" --seed 0 --overwrite 2>>"$log")
tok=$(evolm data tokenizer "$data/text/general.jsonl" "$data/text/math.jsonl" --vocab-size "$vocab" --out "$work/tokenizer" --overwrite 2>>"$log")
web=$(evolm data prepare "$data/text/general.jsonl" --tokenizer "$tok" --out "$work/shards" --overwrite 2>>"$log")
pool="$data/pool/mathpool.jsonl"

# 1B in bf16: 61 steps of 16 x 2048 tokens (2M tokens; the global batch is the paper's / 32, so the
# numbers are per-GPU throughput, not the paper's optimization). The micro batch is the one evolm
# chooses from the free memory (evolm.training.memory), whose estimate the peak memory checks.
if out=$(timeout "$(left 240)" evolm pretrain --model "$big" --tokens "$tokens" --global-batch "$batch" --seq-len "$seq" \
    --data "$web" --out "$work/pt-1B" --overwrite --log-every 10 --no-compile 2>>"$log"); then
  echo "check pretrain-1B: $(field "$out" "f\"{m['schedule']['steps_done']} steps, micro batch {m['schedule']['settings']['micro_batch']} (peak memory {m['compute'].get('peak_memory_gib') or '-'} GiB), {m['compute']['tokens_per_s']:,.0f} tokens/s, MFU {100*m['compute']['mfu']:.1f}% of {m['compute']['peak_flops']/1e12:.4g} TFLOP/s, {m['compute']['wall_time_s']:.0f} s in all\""), $(full_mfu "$out") counting attention in full (as OLMo-core, nanochat)"
else
  echo "check pretrain-1B: $(failed $?)"
fi

if out=$(timeout "$(left 300)" evolm pretrain --model "$big" --tokens "$tokens" --global-batch "$batch" --seq-len "$seq" \
    --data "$web" --out "$work/pt-1B-compile" --overwrite --log-every 10 --compile 2>>"$log"); then
  echo "check compile-1B: $(field "$out" "f\"compiled {m['schedule']['settings'].get('compiled')}, {m['compute']['tokens_per_s']:,.0f} tokens/s, MFU {100*m['compute']['mfu']:.1f}% ($(full_mfu "$out") counting attention in full), {m['compute']['wall_time_s']:.0f} s in all (compilation in the first step, which the rate leaves out)\"")"
else
  echo "check compile-1B: $(failed $?)"
fi

# 125M through the FSDP launch config on one GPU.
if out=$(timeout "$(left 150)" accelerate launch --config_file "$here/configs/accelerate/fsdp-1B.yaml" --num_processes 1 \
    -m evolm pretrain --model "$small" --tokens "$tokens" --global-batch "$batch" --seq-len "$seq" --data "$web" \
    --out "$work/pt-125M" --overwrite --log-every 10 2>>"$log"); then
  echo "check fsdp-125M: $(field "$out" "f\"{m['compute'].get('parallelism')}, {m['compute']['tokens_per_s']:,.0f} tokens/s, MFU {100*m['compute']['mfu']:.1f}%\"")"
else
  echo "check fsdp-125M: $(failed $?)"
fi

# A 125M SFT checkpoint (the chat template evaluation needs), evaluated by both backends.
sft=""
if [ -f "$work/pt-125M/evolm.json" ]; then
  sft=$(timeout "$(left 90)" evolm sft "$work/pt-125M" --data "$pool" --examples "$sft_examples" --epochs 1 --out "$work/sft-125M" \
    --overwrite 2>>"$log") || sft=""
fi
if [ -z "$sft" ]; then
  echo "check eval-vllm: skipped: no 125M SFT checkpoint (see $log)"
else
  line="check eval-vllm:"
  backends="transformers vllm"
  [ "$rollouts" = vllm ] || { backends=transformers; line="$line (vLLM not installed)"; }  # the transformers half still runs
  for backend in $backends; do
    t0=$(date +%s.%N)
    if timeout "$(left 120)" evolm eval "$sft" --suite SynthMathBasic1 --benchmarks "$data" --limit "$limit" --samples 4 \
        --max-new-tokens "$new_tokens" --backend "$backend" --out "$work/eval-$backend" --overwrite >/dev/null 2>>"$log"; then
      line="$line $backend $(python -c "import sys; print(f'{5*int(sys.argv[3])/(float(sys.argv[2])-float(sys.argv[1])):.1f}')" "$t0" "$(date +%s.%N)" "$limit") completions/s;"
    else
      line="$line $backend failed;"
    fi
  done
  echo "$line"
fi

# Five GRPO steps of 8 prompts x 4 rollouts (vLLM colocate when installed).
if [ -z "$sft" ]; then
  echo "check grpo-5: skipped: no 125M SFT checkpoint"
elif out=$(timeout "$(left 150)" evolm rl "$sft" --data "$pool" --examples 40 --prompts-per-step 8 --rollouts 4 \
    --max-completion-length "$completion" --backend "$rollouts" --vllm-memory 0.3 --out "$work/rl-125M" --overwrite 2>>"$log"); then
  echo "check grpo-5: $(field "$out" "f\"{m['schedule']['steps_done']} steps in {m['compute']['wall_time_s']:.1f} s, generation {m['posttraining']['generation']['backend']}\"")"
else
  echo "check grpo-5: $(failed $?)"
fi

# Five PPO steps of 8 prompts x 1 rollout: the policy and critic in bf16, rollouts from evolm's own
# colocated vLLM engine (given the policy's weights each step) when installed.
if [ -z "$sft" ]; then
  echo "check ppo-5: skipped: no 125M SFT checkpoint"
elif out=$(timeout "$(left 150)" evolm rl "$sft" --algo ppo --data "$pool" --examples 40 --prompts-per-step 8 \
    --max-completion-length "$completion" --backend "$rollouts" --vllm-memory 0.3 --out "$work/ppo-125M" --overwrite 2>>"$log"); then
  echo "check ppo-5: $(field "$out" "f\"{m['schedule']['steps_done']} steps in {m['compute']['wall_time_s']:.1f} s, {m['compute']['generated_tokens']} tokens generated, generation {m['posttraining']['generation']['backend']}\"")"
else
  echo "check ppo-5: $(failed $?)"
fi
echo "gpu_check: done in $(( $(date +%s) - start )) s" >&2
