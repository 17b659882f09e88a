"""Collect examples/calibrate-ladder.sh's evaluations into the calibration table DATASET.md shows.

    python examples/ladder_table.py RUNS_DIR OUT_JSON --settings TEXT --presets 1M 4M

Reads RUNS_DIR/<preset>-{pt,cpt,sft}-eval/<Task>.json (evolm eval's result files: pass@1 and its
standard error per task) and writes one JSON: presets, stages, tasks in ladder order, results.
"""

import argparse
import json
from pathlib import Path

from evolm.eval.tasks.registry import BUILTIN
from evolm.fsutil import write_json
from evolm.provenance import git_commit, hardware

STAGES = {"pt": "pre-trained", "cpt": "+CPT", "sft": "+SFT"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--presets", nargs="+", required=True)
    args = parser.parse_args()
    tasks = [spec for spec in BUILTIN.specs.values() if spec.suite in ("synth-id", "synth-ood")]
    results: dict = {}
    limit = None
    for preset in args.presets:
        for folder, stage in STAGES.items():
            for spec in tasks:
                path = args.runs / f"{preset}-{folder}-eval" / f"{spec.name}.json"
                metric = json.loads(path.read_text())["metrics"]["pass@1"]
                limit = metric.get("n", limit)
                results.setdefault(preset, {}).setdefault(stage, {})[spec.name] = {
                    "value": round(metric["value"], 4), "stderr": round(metric["stderr"] or 0.0, 4)}
    info = hardware()
    write_json(args.out, {
        "presets": args.presets, "stages": list(STAGES.values()), "limit": limit, "settings": args.settings,
        "commit": (git_commit() or "unknown")[:12],
        "hardware": f"{info.get('cpu_count', '?')} CPU cores" if not info.get("accelerator") else info["accelerator"],
        "tasks": [{"name": spec.name, "domain": spec.domain} for spec in tasks], "results": results})


if __name__ == "__main__":
    main()
