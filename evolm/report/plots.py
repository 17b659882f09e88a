"""PNG plots (matplotlib, no display needed): one per sweep, the swept knob on the x axis.

Post-training sweeps, and pre-training / CPT sweeps of post-trained descendants, show in-domain
and out-of-domain accuracy side by side (Greedy, Maj@K, Pass@K, correct ratio). Sweeps of
pre-trained or CPT checkpoints themselves show the upstream average and the validation loss.
"""

from __future__ import annotations

from pathlib import Path

from evolm.report.collect import with_settings
from evolm.report.rows import downstream_groups
from evolm.report.sweeps import Sweep, export_x
from evolm.report.sweeps import axes as sweep_axes

LINES = (("pass@1", "Greedy (Pass@1)", "o-"), ("maj@K", "Maj@K", "s-"), ("pass@K", "Pass@K", "^-"),
         ("correct_ratio", "Correct ratio", "d--"))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: works on machines without a display
    import matplotlib.pyplot as plt

    return plt


def _line(ax, points: list[tuple], style: str, label: str) -> None:
    """One line through the mean of each x's values (seed replicates), the replicates themselves
    drawn faintly where there are several, so that the line does not zigzag between seeds."""
    by_x: dict = {}
    for x, y in points:
        by_x.setdefault(x, []).append(y)
    xs = sorted(by_x)
    ax.plot(xs, [sum(by_x[x]) / len(by_x[x]) for x in xs], style, label=label + (" (mean of seeds)" if len(points) > len(xs) else ""))
    if len(points) > len(xs):
        ax.plot(*zip(*points), style[0], alpha=0.3, color=ax.lines[-1].get_color())


def plot_sweep(sweep: Sweep, path: Path) -> None:
    plt = _pyplot()
    axis = sweep_axes()[sweep.knob]
    xs = [row[sweep.knob] for row, _ in sweep.members]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    # Fixed margins, not constrained_layout, which measured every tick label's extent each time: a
    # third of a report's time (1.9 s instead of 2.8 for tests/fake_runs.py's 7 plots)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.84, wspace=0.22)
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
                    _line(ax, points, style, label)
            ax.set_title(f"{domain} ({_groups(sweep, panel)})")
            ax.set_ylabel("accuracy (%)")
    else:
        panels = (("upstream_avg", "upstream average accuracy (%)", 100), ("val_loss", "validation loss", 1))
        for ax, (column, label, scale) in zip(axes, panels):
            points = [(row[sweep.knob], scale * _value(row, column)) for row, _ in sweep.members if _value(row, column) is not None]
            if points:
                _line(ax, points, "o-", "finished runs (decayed)")
            exported = [(export_x(row, sweep.knob), scale * _value(row, column)) for row, _ in sweep.exports
                        if _value(row, column) is not None]
            if exported:
                ax.plot(*zip(*exported), "o", fillstyle="none", markersize=8, label="mid-run exports (--export-at)")
            ax.set_title(label)
            ax.set_ylabel(label)
    for ax in axes:
        ax.set_xlabel(axis.label)
        if not ax.lines:  # nothing measured for this panel (no out-of-domain evaluation): say so, draw no empty scale
            ax.text(0.5, 0.5, "nothing measured", ha="center", va="center", transform=ax.transAxes, color="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            continue
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
    fig, ax = plt.subplots(figsize=(6.5, 4))
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.13, top=0.9)  # fixed, as plot_sweep's
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


STAGE_COLORS = {"pretrain": "tab:gray", "cpt": "tab:blue", "sft": "tab:orange", "rl": "tab:green"}


def compute_points(rows: list[dict]) -> list[dict]:
    """The rows the compute plot shows: in-domain pass@1 and the FLOPs behind the model (its lineage's)."""
    points = []
    for row in rows:
        group = downstream_groups(row)[0]
        value = row.get(f"{group}:pass@1") if group else None
        if value is not None and row.get("lineage_flops"):
            points.append({"sha": row["manifest_sha256"], "parent": row.get("parent_sha256"), "stage": row["stage"],
                           "x": row["lineage_flops"], "y": 100 * value, "export": row.get("export_count") is not None,
                           "label": with_settings(row["signature"], row.get("settings"))})
    return points


def plot_compute(rows: list[dict], path: Path) -> bool:
    """In-domain pass@1 against the training FLOPs behind each model (its own and its ancestors'), a
    line from each model to its nearest evaluated ancestor: how much accuracy each stage's compute
    bought (the paper's framing of diminishing returns per unit of compute). False: nothing to plot."""
    points = compute_points(rows)
    if not points:
        return False
    plt = _pyplot()
    by_sha = {p["sha"]: p for p in points}
    parents = {row["manifest_sha256"]: row.get("parent_sha256") for row in rows}
    # Points are numbered and named in a key beside the axes: a study's signatures are long and its
    # post-trained models cluster, so names written at the points overlap into an unreadable block.
    points.sort(key=lambda p: (p["x"], p["y"]))
    height = max(4.0, 0.9 + 0.17 * len(points))
    fig, (ax, key) = plt.subplots(1, 2, figsize=(10, height), gridspec_kw={"width_ratios": [3, 2]})
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.5 / height, top=1 - 0.35 / height, wspace=0.04)  # inches, fixed
    for p in points:
        above = parents.get(p["sha"])
        while above is not None and above not in by_sha:
            above = parents.get(above)
        if above is not None:
            q = by_sha[above]
            ax.plot([q["x"], p["x"]], [q["y"], p["y"]], "-", color="lightgray", zorder=1)
    for stage, color in STAGE_COLORS.items():
        mine = [p for p in points if p["stage"] == stage]
        if mine:
            ax.scatter([p["x"] for p in mine], [p["y"] for p in mine], color=color, label=stage, zorder=2,
                       facecolors=["none" if p["export"] else color for p in mine])
    for number, p in enumerate(points, 1):
        ax.annotate(str(number), (p["x"], p["y"]), fontsize=7, xytext=(3, 3), textcoords="offset points", color="dimgray")
    key.axis("off")
    key.text(0, 1, "\n".join(f"{n:>2}  {p['label']} ({p['stage']}, {p['y']:.1f}%)" for n, p in enumerate(points, 1)),
             va="top", ha="left", fontsize=7, family="monospace", transform=key.transAxes)
    ax.set_xscale("log")
    ax.set_xlabel("training FLOPs behind the model (its lineage's, cumulative)")
    ax.set_ylabel("in-domain pass@1 (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title("accuracy per unit of compute, by lineage", fontsize="medium")
    fig.savefig(path, dpi=110, bbox_inches="tight")  # the key's longest line sets the width (one plot a report)
    plt.close(fig)
    return True
