"""What produced an artifact: library versions, the evolm git commit, the hardware."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import evolm

_LIBRARIES = ("torch", "transformers", "tokenizers", "datasets", "accelerate", "trl", "peft", "lm_eval", "math-verify", "vllm", "deepspeed")


def library_versions(names=_LIBRARIES) -> dict[str, str]:
    versions = {"evolm": evolm.__version__, "python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the evolm source tree, with '-dirty' when its code (the package, its launch configs,
    pyproject.toml) has local changes, new untracked files included (a new module imported but not yet
    added ran too; an edited README or test did not); None outside git,
    and None where evolm lies untracked inside another git repository (installed into a project's
    .venv): that repository's commit says nothing of the evolm that ran (`versions` does)."""
    root = Path(evolm.__file__).resolve().parent.parent
    try:
        subprocess.run(["git", "-C", str(root), "ls-files", "--error-unmatch", "evolm/__init__.py"],
                       capture_output=True, timeout=5, check=True)
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "evolm", "configs", "pyproject.toml"],
            capture_output=True, text=True, timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def hardware() -> dict:
    info = {"machine": platform.machine(), "cpu_count": os.cpu_count(), "platform": platform.platform()}
    try:
        import torch

        if torch.cuda.is_available():
            info["accelerator"] = torch.cuda.get_device_name(0)
            info["accelerator_count"] = torch.cuda.device_count()
    except ImportError:  # pragma: no cover - torch is a core dependency
        pass
    return info


def stamp() -> dict:
    """When and with what an artifact was made: what every manifest and result file carries."""
    import datetime as _dt

    return {"created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "versions": library_versions(),
            "git_commit": git_commit(), "hardware": hardware()}
