#!/usr/bin/env bash
# Wheels for the lent GPU machine, fetched here: that machine reaches no package registry, and its
# image (Python 3.12, torch 2.11, transformers 5.17, ...) lacks some of evolm's dependencies. This
# downloads the ones benchmarks/gpu-wheels.txt pins, for CPython 3.12 on x86-64 Linux, into .whl/
# (git-ignored), which the device run carries and benchmarks/gpu-device.sh installs there.
#
# Usage: bash benchmarks/gpu-wheels.sh                 fill .whl/ from benchmarks/gpu-wheels.txt
#        bash benchmarks/gpu-wheels.sh --resolve PYTHON   print what pip would add to PYTHON's environment
#                                                     (a venv with the image's versions) to install evolm
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
list="$here/benchmarks/gpu-wheels.txt"

if [ "${1:-}" = "--resolve" ]; then
  py=${2:?--resolve needs the python of an environment like the GPU machine\'s}
  report=$(mktemp)
  "$py" -m pip install -q --dry-run --report "$report" -e "$here" >/dev/null
  "$py" -c "import json, sys
for item in json.load(open(sys.argv[1]))['install']:
    m = item['metadata']
    if m['name'] != 'evolm':
        print(f\"{m['name']}=={m['version']}\")" "$report"
  rm -f "$report"
  exit 0
fi

out="$here/.whl"
mkdir -p "$out"
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
grep -v '^#' "$list" | grep -v '^$' | while read -r pin; do
  name=${pin%%==*}
  # Already there (pip writes names with _ and any case): skip.
  if ls "$out" | tr 'A-Z-' 'a-z_' | grep -q "^$(tr 'A-Z-' 'a-z_' <<<"$name")-${pin##*==}-"; then continue; fi
  if ! python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      "${platforms[@]}" -d "$out" "$pin" 2>/dev/null; then
    # Published as a source archive only: all of these are pure Python, so a wheel built here installs there.
    python3 -m pip wheel -q --no-deps -w "$out" "$pin"
  fi
done
size=$(du -sm "$out" | cut -f1)
echo "gpu-wheels: $(ls "$out" | wc -l) wheels, ${size} MiB in $out" >&2
if [ "$size" -gt 56 ]; then
  echo "gpu-wheels: $out is ${size} MiB; a device run carries at most 64 MiB with the working tree" >&2
  exit 2
fi
