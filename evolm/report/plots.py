"""PNG plots (matplotlib, no display needed): one per sweep, the swept knob on the x axis.

Post-training sweeps, and pre-training / CPT sweeps of post-trained descendants, show in-domain
and out-of-domain accuracy side by side (Greedy, Maj@K, Pass@K, correct ratio). Sweeps of
pre-trained or CPT checkpoints themselves show the upstream average and the validation loss.
"""

from __future__ import annotations

from pathlib import Path

from evolm.report.rows import downstream_groups
from evolm.report.sweeps import Sweep
from evolm.report.sweeps import axes as sweep_axes

LINES = (("pass@1", "Greedy (Pass@1)", "o-"), ("maj@K", "Maj@K", "s-"), ("pass@K", "Pass@K", "^-"),
         ("correct_ratio", "Correct ratio", "d--"))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: works on machines without a display
    import matplotlib.pyplot as plt

    return plt


def plot_sweep(sweep: Sweep, path: Path) -> None:
    plt = _pyplot()
    axis = sweep_axes()[sweep.knob]
    xs = [row[sweep.knob] for row, _ in sweep.members]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    if sweep.has_downstream:
        for panel, (ax, domain) in enumerate(zip(axes, ("in-domain", "out-of-domain"))):
            for metric, label, style in LINES:
                ys = []
                for row, _ in sweep.members:
                    group = downstream_groups(row)[panel]
                    value = row.get(f"{group}:{metric}") if group else None
                    ys.append(None if value is None else 100 * value)
                points = [(x, y) for x, y in zip(xs, ys) if y is not None]
                if points:
                    ax.plot(*zip(*points), style, label=label)
            ax.set_title(f"{domain} ({_groups(sweep, panel)})")
            ax.set_ylabel("accuracy (%)")
    else:
        panels = (("upstream_avg", "upstream average accuracy (%)", 100), ("val_loss", "validation loss", 1))
        for ax, (column, label, scale) in zip(axes, panels):
            points = [(row[sweep.knob], scale * _value(row, column)) for row, _ in sweep.members if _value(row, column) is not None]
            if points:
                ax.plot(*zip(*points), "o-", label=label)
            ax.set_title(label)
            ax.set_ylabel(label)
    for ax in axes:
        ax.set_xlabel(axis.label)
        if axis.log_axis and min(xs) > 0:
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    fig.suptitle(f"{axis.label} sweep: {sweep.label.strip()}", fontsize="medium")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _value(row: dict, column: str):
    """val_loss measured by `evolm eval`, else the training run's own final value."""
    value = row.get(column)
    return row.get("train_val_loss") if value is None and column == "val_loss" else value


def _groups(sweep: Sweep, panel: int) -> str:
    names = {downstream_groups(row)[panel] for row, _ in sweep.members} - {None}
    return ", ".join(sorted(names)) or "no results"


def plot_series(series: dict, path: Path) -> None:
    """A finding's sweep (evolm.report.findings): one line per metric, accuracy in % with 1-SE error
    bars, so a reader sees which steps are larger than the noise the verdict was judged against."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
    for label, points in series["lines"].items():
        if not points:
            continue
        xs, ys, ses = zip(*points)
        ax.errorbar(xs, [100 * y for y in ys], yerr=[100 * (s or 0) for s in ses], fmt="o--" if "correct" in label else "o-",
                    capsize=3, label=label)
    ax.set_xlabel(series["x"])
    ax.set_ylabel("accuracy / correct ratio (%)" if any("correct" in label for label in series["lines"]) else "accuracy (%)")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    ax.set_title(series["title"], fontsize="medium")
    fig.savefig(path, dpi=110)
    plt.close(fig)
