"""A pre-training budget sweep two ways: separate cosine runs (the paper's) vs one WSD run with branches.

Three budgets of one preset: (a) three stand-alone cosine runs, (b) one warmup-stable-decay run of
the largest budget that saves its state where each smaller budget's decay starts (--branch-at), and
one decay branch per smaller budget (--branch-from). Both ways go through the `evolm pretrain`
command on the embedded default data (`evolm data synth`). Prints each budget's validation loss
both ways, the tokens trained and training wall time of each way, and last
`ratio=<WSD tokens / cosine tokens>` (the issue's goal: at most 0.65 with 20% decay) and
`wall_ratio=...`.

With `--added B` (a budget added after the sweep ran, between two of its budgets or above the
largest: no state of its own), it also branches B from the stable run, which continues the stable
phase from the latest state it saved before B's decay (above the largest, where its own decay
began), and trains a stand-alone WSD run of B with the stable run's warmup (the same result; the
least a sweep without branches would train for it): `added_ratio=<branch tokens / stand-alone
tokens>`, `added_wall_ratio=...`, and whether their validation losses are equal. `--added B1,B2`
adds them one after the other: B2 continues from the state B1 handed to the stable run where B1's
own decay began, where it is later than the stable run's own (one line and ratio per budget).

    python benchmarks/bench_wsd.py [--model 1M] [--budgets 250K,500K,1M] [--decay 20%] [--global-batch 4] [--added 750K|1.5M|1.5M,2M]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def evolm(*args) -> str:
    done = subprocess.run([sys.executable, "-m", "evolm", *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"evolm {' '.join(map(str, args[:2]))} failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip()


def manifest(path: Path) -> dict:
    return json.loads((Path(path) / "evolm.json").read_text())


def trained(m: dict) -> tuple[int, float]:
    """(tokens this run trained itself, its training wall time)."""
    shared = (m["schedule"]["settings"].get("branch_of") or {}).get("shared_tokens", 0)
    return m["schedule"]["tokens_done"] - shared, m["compute"]["wall_time_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="1M")
    parser.add_argument("--budgets", default="250K,500K,1M")
    parser.add_argument("--decay", default="20%")
    parser.add_argument("--global-batch", default="4")
    parser.add_argument("--added", default=None, help="a budget added after the sweep ran, below or above its largest (see above)")
    args = parser.parse_args()
    budgets = args.budgets.split(",")
    largest, smaller = budgets[-1], budgets[:-1]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = evolm("data", "synth", "--out", root / "data", "--scale", "small", "--seed", "0")
        text = Path(data) / "text"
        tok = evolm("data", "tokenizer", text / "general.jsonl", text / "math.jsonl", "--vocab-size", "4096", "--out", root / "tok")
        shards = evolm("data", "prepare", text / "general.jsonl", "--tokenizer", tok, "--out", root / "shards")
        common = ("--model", args.model, "--data", shards, "--global-batch", args.global_batch, "--log-every", "100000")
        cosine, wsd = {}, {}
        start = time.monotonic()
        for budget in budgets:
            cosine[budget] = manifest(evolm("pretrain", *common, "--tokens", budget, "--out", root / f"cos-{budget}"))
        cosine_wall = time.monotonic() - start
        start = time.monotonic()
        schedule = ("--schedule", "wsd", "--decay", args.decay)
        stable = evolm("pretrain", *common, "--tokens", largest, *schedule, "--branch-at", ",".join(smaller), "--out", root / "wsd")
        wsd[largest] = manifest(stable)
        for budget in smaller:
            wsd[budget] = manifest(evolm("pretrain", *common, "--tokens", budget, *schedule, "--branch-from", stable,
                                         "--out", root / f"wsd-{budget}"))
        wsd_wall = time.monotonic() - start
        added = {}
        for budget in args.added.split(",") if args.added else []:  # one after the other, each once the one before has finished
            branch = manifest(evolm("pretrain", *common, "--tokens", budget, *schedule, "--branch-from", stable,
                                    "--out", root / f"wsd-{budget}"))
            warmup = wsd[largest]["schedule"]["settings"]["warmup_steps"]
            alone = manifest(evolm("pretrain", *common, "--tokens", budget, *schedule, "--warmup", warmup,
                                   "--out", root / f"alone-{budget}"))
            added[budget] = branch, alone
    print(f"{'budget':>8}  {'val loss cosine':>15}  {'val loss WSD':>12}  {'WSD run':>14}")
    for budget in budgets:
        kind = "stable run" if budget == largest else "decay branch"
        print(f"{budget:>8}  {cosine[budget]['outcome']['val_loss']['pretrain']:>15.4f}  "
              f"{wsd[budget]['outcome']['val_loss']['pretrain']:>12.4f}  {kind:>14}")
    cos_tokens = sum(trained(m)[0] for m in cosine.values())
    wsd_tokens = sum(trained(m)[0] for m in wsd.values())
    cos_train = sum(trained(m)[1] for m in cosine.values())
    wsd_train = sum(trained(m)[1] for m in wsd.values())
    print(f"tokens trained: cosine {cos_tokens:,}, WSD {wsd_tokens:,}")
    print(f"training wall time: cosine {cos_train:.1f}s, WSD {wsd_train:.1f}s; with process start-up: "
          f"cosine {cosine_wall:.1f}s, WSD {wsd_wall:.1f}s")
    print(f"ratio={wsd_tokens / cos_tokens:.3f} wall_ratio={wsd_train / cos_train:.3f}")
    for budget, runs in added.items():
        (branch_tokens, branch_wall), (alone_tokens, alone_wall) = trained(runs[0]), trained(runs[1])
        losses = [m["outcome"]["val_loss"]["pretrain"] for m in runs]
        shared = runs[0]["schedule"]["settings"]["branch_of"]["shared_steps"]
        print(f"added budget {budget}: branched at step {shared}, trained {branch_tokens:,} tokens in {branch_wall:.1f}s; "
              f"stand-alone {alone_tokens:,} in {alone_wall:.1f}s; val loss {losses[0]:.6f} vs {losses[1]:.6f}"
              f" ({'equal' if losses[0] == losses[1] else 'DIFFERENT'})")
        print(f"added_ratio={branch_tokens / alone_tokens:.3f} added_wall_ratio={branch_wall / alone_wall:.3f}")


if __name__ == "__main__":
    main()
