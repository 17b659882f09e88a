"""The study runner's overhead per node: the same evolm commands run directly and through `evolm study run`.

A small study (pre-training of the 1M preset, SFT, RL on the embedded default data, no evaluation)
is run twice: (a) each node's training command as the runner would build it (`Runner.train_command`),
one after another with `subprocess`; (b) `evolm study run FILE --no-report` on a fresh output folder.
Both read the same prepared data, made once beforehand. Prints both wall times, the overhead per
node, and last `ratio=<study / direct>` (goal: close to 1; the runner adds under 2 s per node).

    python benchmarks/bench_study.py [--tokens 64K]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def evolm(*args) -> str:
    done = subprocess.run([sys.executable, "-m", "evolm", *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"evolm {' '.join(map(str, args[:3]))} failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip()


def study(out: Path, data: dict, tokens: str) -> dict:
    return {"study": "bench", "out": str(out), "data": {"prepared": data}, "nodes": [
        {"name": "pt", "stage": "pretrain", "grid": {"model": "1M", "tokens": tokens},
         "with": {"data": "@general", "seq-len": 64, "global-batch": 8, "micro-batch": 4, "val-tokens": "4K"}},
        {"name": "sft", "stage": "sft", "from": "pt", "grid": {"examples": 64, "epochs": 1},
         "with": {"data": "@pool", "global-batch": 8, "max-length": 128}},
        {"name": "rl", "stage": "rl", "from": "sft", "grid": {"examples": 8, "epochs": 1},
         "with": {"data": "@pool", "rollouts": 2, "prompts-per-step": 4, "max-completion-length": 16}},
    ]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", default="64K", help="pre-training tokens of the study's one base")
    args = parser.parse_args()
    from evolm.study import plan as planning
    from evolm.study.runner import Runner
    from evolm.study.spec import parse

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        synth = Path(evolm("data", "synth", "--out", root / "data", "--scale", "tiny"))
        tok = evolm("data", "tokenizer", synth / "text" / "general.jsonl", "--vocab-size", "1024", "--out", root / "tok")
        general = evolm("data", "prepare", synth / "text" / "general.jsonl", "--tokenizer", tok, "--out", root / "general")
        math = evolm("data", "prepare", synth / "text" / "math.jsonl", "--tokenizer", tok, "--out", root / "math")
        data = {"general": general, "math": math, "pool": str(synth / "pool" / "mathpool.jsonl"), "benchmarks": str(synth)}

        direct_plan = planning.build(parse(study(root / "direct", data, args.tokens)))
        runner = Runner(direct_plan, report=False)
        start = time.monotonic()
        for node in direct_plan.nodes:
            done = subprocess.run(runner.train_command(node), capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{node.label} failed:\n{done.stderr[-2000:]}")
        direct = time.monotonic() - start

        file = root / "study.yaml"
        file.write_text(yaml.safe_dump(study(root / "study", data, args.tokens)))
        start = time.monotonic()
        evolm("study", "run", file, "--no-report")
        through = time.monotonic() - start

    nodes = len(direct_plan.nodes)
    print(f"{nodes} nodes (pretrain {args.tokens}, SFT, RL): direct {direct:.1f} s, through evolm study run {through:.1f} s")
    print(f"runner overhead: {(through - direct) / nodes:+.2f} s per node (goal: under 2 s)")
    print(f"ratio={through / direct:.3f}")


if __name__ == "__main__":
    main()
