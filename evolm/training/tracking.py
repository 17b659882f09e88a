"""Experiment tracking: `--report-to tensorboard|wandb|none`, through the libraries' own trackers.

The causal-LM trainer logs through accelerate (`Accelerator(log_with=...)`, `init_trackers`,
`accelerator.log`, and the trackers' `finish` as `end_training` calls it); the TRL stages through transformers' `report_to` callbacks.
Either way the tracker writes into the run folder, `OUT.partial/tb/` (TensorBoard event files) or
`OUT.partial/wandb/` (a W&B run; `offline-run-*` with `WANDB_MODE=offline`, which needs neither an
account nor a network; `wandb sync` uploads it later), and the folder moves into the finished
checkpoint with the rest. `metrics.jsonl` is written whatever the choice: trackers are for
watching, the checkpoint's own record stays the source of truth.

The choice is recorded in run.json and the manifest (`tracking`), but a resumed run may pick
another one (it does not change the weights): TensorBoard drops the events a killed run logged
after the step it resumes from, W&B starts a new run in the same folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from evolm.errors import BadInput

CHOICES = ("none", "tensorboard", "wandb")
# tracker -> (the package it needs, the folder of the run folder it logs into)
_TRACKERS = {"tensorboard": ("tensorboard", "tb"), "wandb": ("wandb", "wandb")}


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def check_report_to(report_to: str | None) -> str:
    """The tracker name, refused (BadInput) when unknown or when its package is not installed."""
    name = (report_to or "none").strip().lower()
    if name not in CHOICES:
        raise BadInput(f"Unknown --report-to {report_to!r}; choose one of {', '.join(CHOICES)}.")
    if name != "none" and not _installed(_TRACKERS[name][0]):
        raise BadInput(f"--report-to {name} needs the {_TRACKERS[name][0]} package, which is not installed; "
                       f"pip install {_TRACKERS[name][0]} (or evolm[tracking]).")
    if name == "wandb" and not _wandb_ready():
        raise BadInput("--report-to wandb needs a W&B login: run `wandb login`, set WANDB_API_KEY, or set "
                       "WANDB_MODE=offline to keep the logs in the run folder.")
    return name


def _wandb_ready() -> bool:
    """W&B can start a run: offline or disabled, or an API key it finds (environment, settings, .netrc).
    Without one, wandb.init fails once the run folder exists (UsageError: No API key configured)."""
    local = ("offline", "disabled", "dryrun")
    if os.environ.get("WANDB_MODE", "").strip().lower() in local:
        return True
    import wandb

    try:  # `wandb offline` keeps the mode in W&B's settings file, which its setup reads (as wandb.init will)
        from wandb.sdk import wandb_setup

        if str(wandb_setup.singleton().settings.mode).lower() in local:
            return True
    except Exception:  # noqa: BLE001 - an internal API of wandb's; without it the login decides
        pass
    return bool(wandb.login(prompt=False, verify=False))  # reads the key where wandb.init would; no network


@dataclass
class Tracking:
    """Where and how one run reports; `report_to` was checked by `check_report_to`."""

    report_to: str
    run_dir: Path
    run_name: str
    """The run's name in the tracker (the output folder's name)."""

    @property
    def enabled(self) -> bool:
        return self.report_to != "none"

    @property
    def folder(self) -> str | None:
        """The folder of the run folder (and of the checkpoint) the tracker writes."""
        return _TRACKERS[self.report_to][1] if self.enabled else None

    def manifest(self) -> dict:
        return {"report_to": self.report_to, **({"logs": self.folder} if self.enabled else {})}

    # -- the causal-LM trainer: accelerate's trackers -------------------------------------------

    def accelerator_kwargs(self) -> dict:
        if not self.enabled:
            return {}
        return {"log_with": self.report_to, "project_dir": str(self.run_dir)}

    def start_accelerate(self, accelerator, config: dict, *, resume_step: int | None) -> None:
        """`init_trackers` once the run folder exists; `resume_step`: the step resumed from (None:
        a fresh run)."""
        if not self.enabled:
            return
        if self.report_to == "tensorboard":
            # A resumed run drops what the killed one logged after the resumed step.
            kwargs = {} if resume_step is None else {"purge_step": resume_step + 1}
            accelerator.init_trackers(self.folder, config=_hparams(config), init_kwargs={"tensorboard": kwargs})
        else:
            accelerator.init_trackers(self._wandb_project(), config=config, init_kwargs={"wandb": self._wandb_init()})

    def finish_accelerate(self, accelerator) -> None:
        """What `accelerator.end_training()` does for the trackers (flush and close), without its
        other half: it also destroys the process group, which the stage still needs to gather the
        weights and share the checkpoint from the main process."""
        for tracker in accelerator.trackers:
            tracker.finish()

    # -- the TRL stages: transformers' report_to -------------------------------------------------

    @contextlib.contextmanager
    def trl_session(self, config: dict, *, main: bool):
        """Around building and running a TRL trainer: transformers' TensorBoard callback reads its
        folder from TENSORBOARD_LOGGING_DIR when the trainer is built; its W&B callback logs into
        the W&B run open at train begin, which this opens here, in the run folder, and finishes at
        the end (the callback itself never finishes it)."""
        if self.report_to == "tensorboard":
            with _environment(TENSORBOARD_LOGGING_DIR=str(self.run_dir / self.folder)):
                yield
        elif self.report_to == "wandb" and main:
            import wandb

            run = wandb.init(project=self._wandb_project(), config=config, **self._wandb_init())
            try:
                yield
            finally:
                run.finish()
        else:
            yield

    # -- both ------------------------------------------------------------------------------------

    def copy_logs(self, target: Path) -> None:
        """Bring the tracker's folder from the run folder into the checkpoint being written (a copy:
        the run folder is removed once the checkpoint is complete, and a failed write keeps it).
        W&B's convenience links (`latest-run`, `debug.log`) are left behind: a finished checkpoint
        keeps only the runs themselves."""
        if not self.enabled or not (self.run_dir / self.folder).is_dir():
            return

        def links(folder: str, names: list[str]) -> list[str]:
            return [name for name in names if os.path.islink(os.path.join(folder, name))]

        shutil.copytree(self.run_dir / self.folder, Path(target) / self.folder, ignore=links)

    def _wandb_project(self) -> str:
        return os.environ.get("WANDB_PROJECT", "evolm")

    def _wandb_init(self) -> dict:
        import wandb

        # console="off": W&B would otherwise wrap stdout, which carries only the command's result.
        return {"dir": str(self.run_dir), "name": self.run_name, "settings": wandb.Settings(console="off")}


def _hparams(config: dict) -> dict:
    """TensorBoard's hparams take numbers, strings and booleans only."""
    return {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in config.items() if v is not None}


@contextlib.contextmanager
def _environment(**values: str):
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
