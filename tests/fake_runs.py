"""A folder of small fake-but-valid checkpoints (manifests and eval JSON only) covering every table."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from evolm.checkpoint import compute_signature

TASKS = {"SynthMathLevel1": "id", "SynthMathLevel2": "id", "SynthCode": "ood", "SynthFacts": "ood"}


def make_run(root: Path, name: str, stage: str, knobs: dict, parent: dict | None = None, *, params: int = 1_000_000,
             completed: bool = True, schedule: dict | None = None, seed: int = 0, data: list[dict] | None = None) -> dict:
    lineage = [] if parent is None else parent["lineage"] + [parent["entry"]]
    signature = compute_signature(lineage + [{"stage": stage, "knobs": knobs}])
    manifest = {
        "schema": "evolm.checkpoint", "schema_version": 1, "stage": stage, "signature": signature, "knobs": knobs,
        "parent": None if parent is None else {"path": str(parent["path"]), "manifest_sha256": parent["sha"],
                                               "signature": parent["signature"]},
        "lineage": lineage, "model": {"preset": "1M", "params": params},
        "schedule": {"completed": completed, "lr": 1e-3, "global_batch": 16,
                     "tokens_done": knobs.get("tokens") or (knobs.get("domain_tokens", 0) + knobs.get("replay_tokens", 0)) or None,
                     **(schedule or {})},
        "seed": seed, "wall_time_s": 60.0, "hardware": {"cpu_count": 2, "machine": "x86_64"},
        "val_loss": {"pretrain": 3.0}, **({"data": data} if data else {}),
    }
    path = root / name
    path.mkdir(parents=True)
    data = json.dumps(manifest).encode()
    (path / "evolm.json").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    entry = {"stage": stage, "knobs": knobs, "signature": signature, "manifest_sha256": sha, "path": str(path)}
    return {"path": path, "sha": sha, "signature": signature, "lineage": lineage, "entry": entry}


def add_upstream(run: dict, accuracies: dict[str, float], val_loss: float, items: dict[str, list[float]] | None = None) -> None:
    """`items`: per-row scores of some tasks (then their value is the rows' mean), all over the same rows."""
    tasks = {t: {"metric": "acc_norm", "value": v, "stderr": 0.01} for t, v in accuracies.items()}
    for task, values in (items or {}).items():
        tasks[task].update(value=sum(values) / len(values), items={"ids_sha256": "rows-0-to-n", "acc_norm": values})
    result = {"schema": "evolm.eval.upstream/1", "run": "x", "identity": {"model": {"kind": "evolm", "manifest_sha256": run["sha"]}},
              "tasks": tasks, "average": sum(t["value"] for t in tasks.values()) / len(tasks), "val": {"loss": val_loss},
              "created": "2026-11-27T10:00:00+00:00"}
    (run["path"] / "eval").mkdir(exist_ok=True)
    (run["path"] / "eval" / "upstream.json").write_text(json.dumps(result))


def add_downstream(run: dict, level: float, *, k: int = 4, rm: bool = False, temperature: float = 1.0) -> dict[str, dict]:
    """Downstream results whose numbers derive from `level` and the task; returns them by task."""
    written = {}
    (run["path"] / "eval").mkdir(exist_ok=True)
    for i, (task, domain) in enumerate(TASKS.items()):
        base = round(level + 0.01 * i, 4)
        metrics = {"pass@1": base, f"maj@{k}": base + 0.05, f"pass@{k}": base + 0.2, "correct_ratio": 0.5 + base / 2,
                   "no_answer": 0.1}
        if rm:
            metrics["rm_score"] = 2 * base - 1
            metrics[f"rm@{k}"] = base + 0.02
        result = {"schema": "evolm.eval.downstream/1", "run": "x", "task": task, "domain": domain, "limit": None, "problems": 100,
                  "metrics": {m: {"value": v, "stderr": 0.01, "n": 100} for m, v in metrics.items()},
                  "identity": {"model": {"kind": "evolm", "manifest_sha256": run["sha"]}, "decoding": {"samples": k, "temperature": temperature}},
                  "created": "2026-11-27T10:00:00+00:00"}
        (run["path"] / "eval" / f"{task}.json").write_text(json.dumps(result))
        written[task] = result
    return written


def build(root: Path) -> dict[str, dict]:
    """Pre-training at three budgets; CPT at two domain budgets and with replay; SFT epoch sweep; RL example sweep;
    an SFT/RL split at a fixed total; reward-model scores on the post-trained runs."""
    runs = {}
    for tokens, acc in ((100_000, 0.30), (200_000, 0.35), (400_000, 0.38)):
        run = make_run(root, f"pt-{tokens}", "pretrain", {"preset": "1M", "tokens": tokens})
        add_upstream(run, {"SynthClozeFacts": acc, "SynthClozeMath": acc + 0.1, "SynthClozeText": acc - 0.05}, 4.0 - acc)
        runs[f"pt-{tokens}"] = run
    base = runs["pt-400000"]
    for name, domain, replay, acc in (("cpt-small", 150_000, 0, 0.34), ("cpt-no-replay", 300_000, 0, 0.30),
                                      ("cpt-replay", 240_000, 60_000, 0.37)):
        run = make_run(root, name, "cpt", {"domain_tokens": domain, "replay_tokens": replay}, base)
        add_upstream(run, {"SynthClozeFacts": acc, "SynthClozeMath": acc + 0.1, "SynthClozeText": acc - 0.05}, 3.5 + (0.5 if not replay else 0))
        runs[name] = run
    cpt = runs["cpt-replay"]
    for epochs, level in ((1.0, 0.10), (2.0, 0.20), (4.0, 0.25)):
        run = make_run(root, f"sft-ep{int(epochs)}", "sft", {"examples": 1000, "epochs": epochs, "rows": [0, 1000]}, cpt)
        runs[f"sft-ep{int(epochs)}"] = run
        add_downstream(run, level, rm=True)
        add_upstream(run, {"SynthClozeFacts": 0.3}, 3.0 + epochs / 10)
    sft = runs["sft-ep2"]
    for examples, level in ((200, 0.22), (400, 0.26), (800, 0.27)):
        run = make_run(root, f"rl-{examples}", "rl", {"examples": examples, "epochs": 1.0, "rows": [1900 - examples, 1900]}, sft)
        runs[f"rl-{examples}"] = run
        add_downstream(run, level, rm=True)
    # a fixed total of 1200 examples: 1000 SFT + 200 RL (above) vs 400 SFT + 800 RL
    sft_small = make_run(root, "sft-400", "sft", {"examples": 400, "epochs": 2.0, "rows": [0, 400]}, cpt)
    add_downstream(sft_small, 0.12)
    runs["sft-400"] = sft_small
    split = make_run(root, "rl-split-800", "rl", {"examples": 800, "epochs": 1.0, "rows": [1100, 1900]}, sft_small)
    add_downstream(split, 0.18)
    runs["rl-split-800"] = split
    return runs
