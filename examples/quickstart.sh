#!/usr/bin/env bash
# The main job on the embedded default data: the study file examples/quickstart.yaml, a short
# version of the miniature EvoLM study, 9 to 20 minutes on a 2-core CPU. Synthetic data -> tokenizer
# -> token shards -> the 1M preset pre-trained on 500K tokens -> math CPT -> SFT with and without
# it, RL on the CPT branch -> every checkpoint evaluated -> the report (its path is printed last).
# The full study (2h29m from nothing, 32 nodes): evolm study run examples/mini-study.yaml
# Usage: examples/quickstart.sh [RUNS_DIR]   (default runs/quickstart)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec evolm study run "$here/quickstart.yaml" --out "${1:-runs/quickstart}"
