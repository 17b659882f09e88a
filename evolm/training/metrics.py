"""The one metrics/progress writer of every training stage.

Each logged step becomes one JSON line in `metrics.jsonl` (`append_jsonl`), one update of the
stderr progress display, and (for the causal-LM trainer, whose tracker evolm drives itself) one
set of tracker scalars. The causal-LM trainer calls it directly; the TRL stages through
`MetricsCallback`, which renames transformers' log keys to the same vocabulary, so a reader finds
the same names in every stage's file:

    step, loss, lr, grad_norm            every stage
    tokens, tokens_per_s, mfu, elapsed_s, val_loss/<name>    pretrain, cpt
    epoch, reward, kl, completions/...   sft and rl (TRL's own names)

The last line of a finished run is a summary marked `"final": true` (the causal-LM trainer's final
validation losses; TRL's train_runtime and train_loss), dropped on --resume with the lines logged
after the resumed state (`evolm.training.rundir.truncate_metrics`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from evolm.console import Progress
from evolm.jsonl import append_jsonl
from evolm.training.rundir import METRICS

# transformers' / TRL's log keys -> evolm's
RENAMES = {"learning_rate": "lr"}
# metric -> (label, format) of the fields the progress display shows
SHOWN = {"loss": ("loss", "{:.4f}"), "lr": ("lr", "{:.2e}"), "tokens_per_s": ("tok_s", "{:,.0f}"),
         "mfu": ("mfu", "{:.1%}"), "reward": ("reward", "{:.4g}"), "kl": ("kl", "{:.4g}")}
# keys that are not scalars to track
_NOT_SCALARS = ("step", "final")


class MetricsLog:
    """metrics.jsonl + progress (+ tracker scalars) of one run; a no-op off the main process.

    `tracker(values, step)`, when given, receives each row's scalars as `train/<name>` (and
    `val_loss/<name>` as they are), the names transformers' trackers use for the TRL stages.
    """

    def __init__(self, run_dir: Path, description: str, total_steps: int | None, *, main: bool = True,
                 tracker: Callable[[dict, int], None] | None = None):
        self.path = Path(run_dir) / METRICS
        self.description, self.total_steps, self.main, self.tracker = description, total_steps, main, tracker
        self.progress: Progress | None = None

    def start(self, done_steps: int = 0, total_steps: int | None = None) -> "MetricsLog":
        if self.main and self.progress is None:
            self.progress = Progress(self.description, total=total_steps or self.total_steps, unit="steps",
                                     initial=done_steps).__enter__()
        return self

    def write(self, row: dict, *, fsync: bool = False) -> None:
        """Log one row (it must carry `step`)."""
        if not self.main:
            return
        append_jsonl(self.path, [row], fsync=fsync)
        if self.tracker is not None:
            scalars = {_tracker_name(k): v for k, v in row.items()
                       if k not in _NOT_SCALARS and isinstance(v, (int, float)) and not isinstance(v, bool)}
            if scalars:
                self.tracker(scalars, row["step"])
        if self.progress is not None and not row.get("final"):
            shown = {label: fmt.format(row[k]) for k, (label, fmt) in SHOWN.items() if isinstance(row.get(k), (int, float))}
            self.progress.update(max(0, row["step"] - self.progress.done), **shown)

    def close(self, *exc) -> None:
        if self.progress is not None:
            self.progress.__exit__(*(exc or (None, None, None)))
            self.progress = None

    def __enter__(self) -> "MetricsLog":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close(*exc)


def _tracker_name(key: str) -> str:
    return key if key.startswith("val_loss/") else f"train/{key}"


def metrics_callback(run_dir: Path, description: str, total_steps: int | None = None):
    """A transformers TrainerCallback writing TRL's logs through `MetricsLog` (main process only)."""
    from transformers import TrainerCallback

    class MetricsCallback(TrainerCallback):
        def __init__(self):
            self.log = None
            self.before = None  # a resumed run's training seconds before this process (`resumed_after`)

        def resumed_after(self, seconds: float | None) -> None:
            """transformers' train_runtime and train_loss cover this process's part of a resumed run: the
            rows get the whole run's (as the manifest does, evolm.training.trl_run.train)."""
            self.before = seconds

        def close(self, *exc) -> None:
            if self.log is not None:
                self.log.close(*exc)
                self.log = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.log = MetricsLog(run_dir, description, total_steps, main=state.is_world_process_zero)
            self.log.start(state.global_step, state.max_steps or total_steps)

        def on_step_end(self, args, state, control, **kwargs):
            # The last step logs whatever its interval (as PPO's loop does): a run shorter than
            # --log-every logged nothing, and GRPO and RLOO recorded no reward.
            if state.max_steps and state.global_step >= state.max_steps:
                control.should_log = True
            return control

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.log is None or not logs:
                return
            row = {"step": state.global_step, "epoch": round(state.epoch or 0, 4),
                   **{RENAMES.get(k, k): v for k, v in logs.items() if isinstance(v, (int, float))}}
            # transformers' end-of-training summary has train_loss; with include_num_input_tokens_seen
            # (SFT's ledger) every step's log also carries train_runtime, so that key cannot tell them apart
            final = "train_loss" in logs and "train_runtime" in logs
            if self.before is not None and "train_runtime" in row:
                row["train_runtime"] = round(self.before + row["train_runtime"], 4)
            if final:
                row["final"] = True
                if self.before is not None:
                    row["train_loss"] = logged_mean_loss(state.log_history, row["train_loss"])
            self.log.write(row, fsync=final)

        def on_train_end(self, args, state, control, **kwargs):
            self.close()

    return MetricsCallback()


def logged_mean_loss(log_history: list[dict], fallback: float) -> float:
    """The mean training loss over every step logged, each log's loss (the mean over the steps since
    the one before) weighted by those steps."""
    total, steps, previous = 0.0, 0, 0
    for entry in log_history:
        if "loss" in entry and "step" in entry and entry["step"] > previous:
            total += entry["loss"] * (entry["step"] - previous)
            steps += entry["step"] - previous
            previous = entry["step"]
    return total / steps if steps else fallback
