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
pins=$(grep -v '^#' "$list" | grep -v '^$')
norm() { tr 'A-Z-' 'a-z_'; }  # as pip names wheels: lower case, _ for -
prefix() { norm <<<"${1%%==*}-${1##*==}-"; }  # the start of a pin's wheel name
pinned() { local pin; for pin in $pins; do [[ "$(norm <<<"$1")" == "$(prefix "$pin")"* ]] && return 0; done; return 1; }
# A wheel no pin names any more (an earlier pin's version) goes: the device installs every wheel here.
for wheel in "$out"/*.whl; do
  [ -e "$wheel" ] || continue
  pinned "$(basename "$wheel")" || { echo "gpu-wheels: removing $(basename "$wheel"), which no pin names" >&2; rm -f "$wheel"; }
done
for pin in $pins; do
  if ls "$out" | norm | grep -q "^$(prefix "$pin")"; then continue; fi  # already there
  errors=$(mktemp)
  if ! python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      "${platforms[@]}" -d "$out" "$pin" 2>"$errors"; then
    if grep -q "No matching distribution" "$errors"; then
      # Published as a source archive only: all of these are pure Python, so a wheel built here installs there.
      python3 -m pip wheel -q --no-deps -w "$out" "$pin"
    else
      cat "$errors" >&2; rm -f "$errors"; exit 1
    fi
  fi
  rm -f "$errors"
done
size=$(du -sm "$out" | cut -f1)
echo "gpu-wheels: $(ls "$out" | wc -l) wheels, ${size} MiB in $out" >&2
if [ "$size" -gt 56 ]; then
  echo "gpu-wheels: $out is ${size} MiB; a device run carries at most 64 MiB with the working tree" >&2
  exit 2
fi
