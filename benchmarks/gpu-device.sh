#!/usr/bin/env bash
# The one command for a lent GPU machine (the device tool's `run`, with `carry: [".whl"]`):
#   bash benchmarks/gpu-device.sh [--dry-run]
# That machine's python3 has torch, transformers, accelerate and peft but reaches no registry: this
# installs the wheels of .whl/ (fetched here by benchmarks/gpu-wheels.sh) into a folder of their own,
# puts evolm on PATH from this checkout, prints the environment, then runs benchmarks/gpu_check.sh.
# Its lines go to stdout and, with its log, to $OUT (what the device tool brings back) when set.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
wheels=${EVOLM_WHEELS:-$here/.whl}
site=${EVOLM_SITE:-/tmp/evolm-site}
work=${EVOLM_GPU_WORK:-/tmp/gpu-check}
py=${PYTHON:-python3}

if ! ls "$wheels"/*.whl >/dev/null 2>&1; then
  echo "gpu-device: no wheels in $wheels; run bash benchmarks/gpu-wheels.sh on a machine with PyPI and carry .whl" >&2
  exit 2
fi
"$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "$wheels"/*.whl
mkdir -p "$site/bin"
interpreter=$(command -v "$py")
# evolm itself runs from this checkout (no install step): a two-line launcher stands in for its entry point;
# and `python` (gpu_check.sh reads CUDA, vLLM and the manifests with it) is the interpreter evolm runs on.
printf '#!/bin/sh\nexec %q -m evolm "$@"\n' "$interpreter" > "$site/bin/evolm"
chmod +x "$site/bin/evolm"
# A script, not a link: a venv's python found through a link elsewhere would not see its venv (its packages).
printf '#!/bin/sh\nexec %q "$@"\n' "$interpreter" > "$site/bin/python"
chmod +x "$site/bin/python"
# gpu_check's FSDP check starts `accelerate launch`: where the image put accelerate's module but not its command
if ! command -v accelerate >/dev/null 2>&1; then
  printf '#!/bin/sh\n[ "$1" = launch ] && shift\nexec %q -m accelerate.commands.launch "$@"\n' "$interpreter" > "$site/bin/accelerate"
  chmod +x "$site/bin/accelerate"
fi
export PATH="$site/bin:$PATH" PYTHONPATH="$here:$site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1

report=${OUT:-$work}
mkdir -p "$report" "$work"
# The log of every evolm command the checks ran (their stderr), its last 8 MB, copied however the run
# ends: a device command cut off at its time limit still brings it back.
[ "$report" = "$work" ] || trap 'tail -c 8000000 "$work/gpu_check.log" > "$report/gpu_check.log" 2>/dev/null || true' EXIT
"$py" -c "import sys, torch, transformers, accelerate, trl, datasets
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA'
print(f'environment: python {sys.version.split()[0]}, torch {torch.__version__}, transformers {transformers.__version__}, '
      f'accelerate {accelerate.__version__}, trl {trl.__version__}, datasets {datasets.__version__}; {gpu}')" | tee "$report/gpu_check.txt"
status=0
bash "$here/benchmarks/gpu_check.sh" "$@" "$work" | tee -a "$report/gpu_check.txt" || status=$?
exit "$status"
