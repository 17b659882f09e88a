"""`evolm ls`: what a runs folder holds: finished checkpoints with their evaluations (and, for runs of
one signature trained otherwise, the settings that tell them apart), and the unfinished runs
(`OUT.partial/` folders) still in progress or interrupted."""

from __future__ import annotations

from pathlib import Path

from evolm.checkpoint import PARTIAL_SUFFIX
from evolm.errors import BadInput
from evolm.report.collect import collect, labelled_settings


def list_runs(runs_dir: Path) -> tuple[list[dict], list[str]]:
    """(one entry per checkpoint or unfinished run, warnings about unreadable manifests)."""
    root = Path(runs_dir).resolve()
    try:
        runs, warnings = collect(root)
    except BadInput:  # no checkpoint: a folder of unfinished runs only is still listed
        if not root.is_dir() or not any(p.is_dir() for p in root.rglob(f"*{PARTIAL_SUFFIX}")):
            raise
        runs, warnings = [], []
    labelled = labelled_settings(runs)
    entries = [{"signature": run.signature, "settings": labelled[run.manifest_sha256][1], "stage": run.stage, "completed": run.completed,
                "evals": (["upstream"] if run.upstream else []) + sorted(run.downstream),
                "path": str(run.path.relative_to(root))} for run in runs]
    for partial in sorted(root.rglob(f"*{PARTIAL_SUFFIX}")):
        if partial.is_dir():
            entries.append({"signature": None, "settings": "", "stage": None, "completed": False, "evals": [], "in_progress": True,
                            "path": str(partial.relative_to(root))})
    return entries, warnings
