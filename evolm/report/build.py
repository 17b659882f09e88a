"""`evolm report RUNS_DIR [RUNS_DIR...] --out DIR`: collect, tabulate, plot and write."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evolm import stagespec
from evolm.checkpoint import MANIFEST
from evolm.manifest import shared_flops
from evolm.console import log
from evolm.errors import BadInput
from evolm.fsutil import atomic_dir
from evolm.report import findings, plots, render, tables
from evolm.report.collect import Run, collect, common_root, with_settings
from evolm.report.eval_settings import settings_warnings
from evolm.report.rows import add_settings, build_row
from evolm.report.sweeps import find_sweeps, left_out_warnings, sweep_warnings


def lineage_tree(runs: list[Run], rows: dict[str, dict]) -> list[str]:
    """An indented tree: signature, stage, what the stage consumed, completion, path."""
    children: dict[str | None, list[Run]] = {}
    shas = {run.manifest_sha256 for run in runs}
    for run in runs:
        parent = run.parent_sha256 if run.parent_sha256 in shas else None
        children.setdefault(parent, []).append(run)
    lines: list[str] = []

    def visit(run: Run, depth: int) -> None:
        spec = stagespec.STAGES.get(run.stage)
        what = spec.summary(run.manifest.knobs) if spec is not None else ""
        done = "" if run.completed else "  [INCOMPLETE]"
        evals = ", ".join((["upstream"] if run.upstream else []) + sorted(run.downstream))
        name = with_settings(run.signature, rows[run.manifest_sha256].get("settings"))
        lines.append(f"{'    ' * depth}- {name}  ({run.stage}; {what}){done}  {rows[run.manifest_sha256]['path']}"
                     + (f"  evals: {evals}" if evals else ""))
        for child in children.get(run.manifest_sha256, []):
            visit(child, depth + 1)

    for root in children.get(None, []):
        if root.parent_sha256 and root.parent_sha256 not in shas:
            lines.append(f"- (parent {root.manifest.parent.signature} not in this folder)")
            visit(root, 1)
        else:
            visit(root, 0)
    return lines


def header(runs: list[Run], root: Path) -> list[str]:
    import evolm
    from evolm.provenance import git_commit

    trained = [r for r in runs if not r.is_export]  # an export's compute is its run's
    flops = {r.manifest_sha256: r.compute_flops() for r in trained}
    counted = [f for f in flops.values() if f]
    stages = [s for s in stagespec.STAGES if any(r.stage == s and flops[r.manifest_sha256] for r in trained)]
    unknown = len(trained) - len(counted)
    wall = sum(r.manifest.compute.wall_time_s or 0 for r in trained)
    evaluation = sum((result.get("compute") or {}).get("flops") or 0.0
                     for r in runs for result in [r.upstream or {}, *r.downstream.values()])
    hardware = sorted({_hardware(r.manifest.provenance.hardware) for r in runs})
    return [
        f"evolm {evolm.__version__}, git commit {git_commit() or 'unknown'}",
        f"runs folder: {root} ({len(runs)} checkpoints)",
        f"hardware: {'; '.join(hardware)}",
        f"total compute: {counted and f'{sum(counted):.3g}' or 0} training FLOPs over {len(counted)} runs "
        f"({', '.join(stages) or 'none'}; each manifest's compute ledger"
        + (f"; {unknown} older checkpoints without one not counted" if unknown else "")
        + f") and {wall / 60:.1f} minutes of training wall time; evaluation {evaluation:.3g} FLOPs",
    ]


def add_lineage_flops(runs: list[Run], by_sha: dict[str, dict]) -> None:
    """Each row's `lineage_flops`: its own training FLOPs plus its ancestors' (None when one of them is
    not in the folder or has no count)."""
    run_of = {r.manifest_sha256: r for r in runs}

    def total(sha: str) -> float | None:
        row = by_sha[sha]
        if "lineage_flops" not in row:
            run = run_of[sha]
            own, parent = run.compute_flops(), run.parent_sha256
            above = 0.0 if parent is None else (total(parent) if parent in run_of else None)
            if above is not None:  # a WSD budget branch's model also holds its stable run's first tokens
                above += shared_flops(run.manifest.compute, run.manifest.schedule)
            row["lineage_flops"] = None if own is None or above is None else own + above
        return row["lineage_flops"]

    for sha in by_sha:
        total(sha)


def _hardware(info: dict) -> str:
    if info.get("accelerator"):
        return f"{info.get('accelerator_count', 1)} x {info['accelerator']}"
    return f"{info.get('cpu_count', '?')} CPU cores ({info.get('machine', '?')})"


REPORT_FILES = ("report.md", "runs.json")  # what marks a folder as a report `evolm report` wrote


def check_report_out(out: Path, overwrite: bool) -> None:
    """`--overwrite` replaces an earlier report, never anything else: not a checkpoint, not a runs
    folder, not a folder of the user's. Checked before any work."""
    out = Path(out)
    if not (overwrite and out.is_dir()) or not any(out.iterdir()):
        return
    if (out / MANIFEST).exists() or next(out.rglob(MANIFEST), None) is not None:
        raise BadInput(f"--out {out} holds evolm checkpoints; --overwrite replaces only an earlier report, so choose another folder.")
    if not all((out / name).is_file() for name in REPORT_FILES):
        raise BadInput(f"--out {out} is not a report written by `evolm report` (no {' and '.join(REPORT_FILES)}); "
                       "--overwrite replaces only an earlier report, so choose another folder.")


def build_report(runs_dirs: Path | Sequence[Path], out: Path, *, overwrite: bool = False) -> dict:
    check_report_out(out, overwrite)
    paths = [Path(runs_dirs)] if isinstance(runs_dirs, (str, Path)) else [Path(p) for p in runs_dirs]
    root = common_root(paths)
    runs, warnings = collect([p.resolve() for p in paths])
    warnings += [f"{run.signature} ({run.path}): {w}" for run in runs for w in (run.manifest.outcome.warnings or [])]
    warnings += settings_warnings(runs)
    rows = [build_row(run, root) for run in runs]
    add_settings(rows, runs)
    by_sha = {row["manifest_sha256"]: row for row in rows}
    add_lineage_flops(runs, by_sha)
    sweeps = find_sweeps(list(zip(rows, runs)))
    warnings += left_out_warnings(list(zip(rows, runs)))
    for sweep in sweeps:
        warnings += sweep_warnings(sweep)
    stage_of = {spec.column(knob): spec for spec, knob in stagespec.knob_columns()}
    sweep_tables = [tables.sweep_table(s) for s in sweeps if stage_of[s.knob].kind == "post" and s.has_downstream]
    # post-trained models whose pre-training or CPT budget differs, the rest of their lineage equal: the
    # paper's downstream side of findings 1 and 4 (more pre-training, more domain CPT, then SFT / RL)
    budget_tables = [tables.sweep_table(s) for s in sweeps if stage_of[s.knob].kind == "base" and s.has_downstream]
    questions = [  # (what the paper asks, the tables that answer it from these runs)
        ("upstream by budget and size (Table 4)", [tables.upstream_table(rows)]),
        ("post-trained models by base (Table 1)", [tables.posttrained_table(rows)]),
        ("CPT mixtures (Table 2)", [tables.cpt_table(rows)]),
        ("downstream by pre-training or CPT budget (Fig. 2-4)", budget_tables),
        ("SFT / RL sweeps (Fig. 6-8)", sweep_tables),
        ("SFT/RL split (Fig. 9)", [tables.split_table(rows)]),
        ("reward-model score and validation loss vs accuracy (Section 4.2)", [tables.correlation_table(rows)]),
    ]
    found = findings.evaluate(rows)
    findings.mark_rows(rows, found)
    present = [t for _, answers in questions for t in answers if t is not None]
    for table in present:
        tables.note_narrowed(table)
    missing = [question for question, answers in questions if not any(t is not None for t in answers)]
    with atomic_dir(Path(out), overwrite=overwrite, marker="runs.json", what="report from `evolm report`") as tmp:
        (tmp / "plots").mkdir()
        written = []
        for i, sweep in enumerate(s for s in sweeps if s.has_data):
            path = tmp / "plots" / f"{sweep.knob}-{i + 1}.png"
            plots.plot_sweep(sweep, path)
            written.append(path)
        if plots.plot_compute(rows, tmp / "plots" / "compute.png"):
            written.append(tmp / "plots" / "compute.png")
        finding_plots = []
        for f in found:  # the sweeps a finding was judged on, with error bars (F5 SFT epochs, F6 RL epochs)
            for i, test in enumerate(t for t in f.tests if t.series):
                finding_plots.append(tmp / "plots" / f"finding-{f.id}-{i + 1}.png")
                plots.plot_series(test.series, finding_plots[-1])
        head = header(runs, root)
        tree = lineage_tree(runs, by_sha)
        render.write_markdown(tmp / "report.md", head, tree, warnings, present, written, missing, found, finding_plots)
        render.write_html(tmp / "report.html", head, tree, warnings, present, written, missing, found, finding_plots)
        render.write_runs(tmp, rows)
        render.write_findings(tmp, found)
    for warning in warnings:
        log(f"warning: {warning}")
    return {"checkpoints": len(runs), "tables": len(present), "plots": len(written) + len(finding_plots), "warnings": len(warnings),
            "findings": {f.id: f.verdict for f in found}}
