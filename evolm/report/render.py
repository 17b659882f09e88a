"""Write the report: Markdown, self-contained HTML (plots embedded), runs.csv, runs.json and findings.json."""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path

from evolm.report.findings import Finding, to_json
from evolm.report.rows import PRIVATE
from evolm.report.tables import Table


def markdown_table(table: Table) -> str:
    lines = [f"### {table.title}", "", f"*{table.question}*", "",
             "| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in table.rows]  # a | in a cell ends it
    lines += [""] + [f"> {note}" for note in table.notes]
    return "\n".join(lines) + "\n"


def html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in table.rows)
    notes = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in table.notes)
    return (f"<h3>{html.escape(table.title)}</h3><p class='q'>{html.escape(table.question)}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}")


def findings_table(findings: list[Finding]) -> Table:
    """One line per finding: the runs of the test that carries its verdict, its effect, the verdict, the rule."""
    table = Table("The paper's findings, tested on these runs", "EvoLM section 5",
                  ["finding", "runs", "effect ± SE", "verdict", "rule"])
    for f in findings:
        head = f.headline
        runs = "–" if head is None else ", ".join(head.runs[:4]) + (f" (+{len(head.runs) - 4} more)" if len(head.runs) > 4 else "")
        if len(f.tests) > 1:
            runs += f" [1 of {len(f.tests)} comparisons]"
        e = head.effects[0] if head and head.effects else None
        effect = "–" if e is None else e.text() if e.unit == "z" else f"{e.text()} ({e.name})"
        table.rows.append([f"{f.id} {f.title}", runs, effect, f.verdict, f.rule])
    table.notes.append("Verdicts are computed, not typed: shown / contradicted when the effect is at least 2 standard errors "
                       "in / against the paper's direction; too noisy below that or when the accuracies compared sit at the "
                       "floor; not tested when the runs are absent; mixed when comparisons disagree. SE of a difference (or a "
                       "first-minus-last contrast) of runs scored on the same problems: that of the per-problem contrast "
                       "(paired); otherwise sqrt(se1^2 + se2^2). Replicates differing only in seed are averaged; "
                       "their SE adds the seeds' spread to the error of the problems, which the seeds share (paired over "
                       "their per-problem means), so a condition of one seed carries no training noise in its SE.")
    return table


def finding_details(findings: list[Finding]) -> list[str]:
    """One line per finding with the numbers of every comparison (or what would test it)."""
    lines = []
    for f in findings:
        parts = [f"[{t.verdict}] {t.detail}" for t in f.tests] or [f"needs {f.needs}"]
        lines.append(f"{f.id} ({f.verdict}; paper: {f.claim}): " + " | ".join(parts + f.notes))
    return lines


def write_findings(out: Path, findings: list[Finding]) -> None:
    (out / "findings.json").write_text(json.dumps(to_json(findings), indent=1) + "\n", encoding="utf-8")


def write_markdown(path: Path, header: list[str], tree: list[str], warnings: list[str], tables: list[Table],
                   plots: list[Path], missing: list[str], findings: list[Finding] = (), finding_plots: list[Path] = ()) -> None:
    parts = ["# evolm report", "", *[f"- {line}" for line in header], ""]
    if warnings:
        parts += ["## Warnings", "", *[f"- {w}" for w in warnings], ""]
    parts += ["## Checkpoints", "", *tree, ""]
    if findings:
        parts += ["## Findings", "", markdown_table(findings_table(findings)), *[f"- {line}" for line in finding_details(findings)], ""]
        parts += [f"![{p.stem}](plots/{p.name})" for p in finding_plots] + ([""] if finding_plots else [])
    parts += ["## Tables", ""]
    parts += [markdown_table(t) for t in tables]
    if missing:
        parts += ["Not in this folder (no runs for them): " + "; ".join(missing) + ".", ""]
    if plots:
        parts += ["## Plots", ""] + [f"![{p.stem}](plots/{p.name})" for p in plots] + [""]
    path.write_text("\n".join(parts), encoding="utf-8")


CSS = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
       "table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
       "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.q{color:#666;font-style:italic;margin:0}"
       ".note{color:#555;font-size:.9em}.warn{color:#a40}pre{background:#f7f7f7;padding:.5em;overflow-x:auto}img{max-width:100%}")


def _img(plot: Path) -> str:
    data = base64.b64encode(plot.read_bytes()).decode()
    return f"<p><img alt='{html.escape(plot.stem)}' src='data:image/png;base64,{data}'></p>"


def write_html(path: Path, header: list[str], tree: list[str], warnings: list[str], tables: list[Table],
               plots: list[Path], missing: list[str], findings: list[Finding] = (), finding_plots: list[Path] = ()) -> None:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>evolm report</title><style>{CSS}</style></head><body>",
             "<h1>evolm report</h1><ul>" + "".join(f"<li>{html.escape(h)}</li>" for h in header) + "</ul>"]
    if warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li class='warn'>{html.escape(w)}</li>" for w in warnings) + "</ul>")
    parts.append("<h2>Checkpoints</h2><pre>" + html.escape("\n".join(tree)) + "</pre>")
    if findings:
        parts += ["<h2>Findings</h2>", html_table(findings_table(findings)),
                  "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in finding_details(findings)) + "</ul>"]
        parts += [_img(plot) for plot in finding_plots]
    parts.append("<h2>Tables</h2>")
    parts += [html_table(t) for t in tables]
    if missing:
        parts.append(f"<p class='note'>Not in this folder (no runs for them): {html.escape('; '.join(missing))}.</p>")
    if plots:
        parts.append("<h2>Plots</h2>")
        parts += [_img(plot) for plot in plots]
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def write_runs(out: Path, rows: list[dict]) -> None:
    rows = [{k: v for k, v in row.items() if k not in PRIVATE} for row in rows]  # per-problem values stay in the eval results
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with open(out / "runs.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else repr(row[k]) if isinstance(row.get(k), float) else row[k])
                             for k in columns})
    (out / "runs.json").write_text(json.dumps(rows, indent=1, sort_keys=False) + "\n", encoding="utf-8")
