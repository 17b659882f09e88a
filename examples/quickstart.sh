#!/usr/bin/env bash
# The main job on the embedded default data: a short version of the miniature EvoLM study
# (examples/mini-study.sh with examples/mini-study-short.conf), a few minutes on a 2-core CPU.
# Synthetic data -> tokenizer -> token shards -> the 1M preset pre-trained at two budgets -> math
# CPT without and with replay -> SFT and RL -> every checkpoint evaluated -> the report.
# The full study (about 25 minutes): bash examples/mini-study.sh
# Usage: examples/quickstart.sh [RUNS_DIR]   (default runs/quickstart)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/mini-study.sh" "$here/mini-study-short.conf" "${1:-runs/quickstart}"
