"""An rm node's held-out problems: rows of a problem file that no node of the study trains on.

A reward model that learned to rank the samples of problems its policies were trained on would
be scored on what they memorised, so the rows are checked against every SFT and RL node that reads
the same file (SFT takes the first N rows, RL the last N: evolm.stages.posttrain) before anything is
drawn. The rows are written as their own task file (with the task YAML `evolm eval --tasks` reads),
from which the policies draw and with which `evolm rm` pairs their graded samples.
"""

from __future__ import annotations

from pathlib import Path

from evolm.errors import BadInput
from evolm.fsutil import atomic_write_text
from evolm.study.spec import _text
from evolm.units import parse_count


def trained_rows(plan, problems: Path, total: int) -> list[tuple[str, int, int]]:
    """(node, first row, end row) of every SFT and RL node of the plan that trains on `problems`."""
    taken = []
    for node in plan.nodes:
        if node.stage not in ("sft", "rl") or "data" not in node.options:
            continue
        if Path(plan.resolve(node.options["data"])).resolve() != problems.resolve():
            continue
        examples = node.options.get("examples")
        # without --examples it may take any of them (a split's part, or what the stage defaults to)
        count = total if examples is None else min(total, int(parse_count(_text(examples), what=f"{node.group}: examples")))
        taken.append((node.label, 0, count) if node.stage == "sft" else (node.label, total - count, total))
    return taken


def write_held_out(plan, node, problems: Path, start: int, end: int, folder: Path, name: str) -> Path:
    """Write rows [start, end) of `problems` as task `name` in `folder` (NAME.jsonl and NAME.task.yaml),
    once they are checked to exist and to be trained on by no node; the task YAML's path."""
    if not problems.is_file():
        raise BadInput(f"Node {node.label}: its problem file {problems} does not exist.")
    lines = [line for line in problems.read_text(encoding="utf-8").splitlines(keepends=True) if line.strip()]
    if end > len(lines):
        raise BadInput(f"Node {node.label}: problems [{start}:{end}] asks for rows past the end of {problems} "
                       f"({len(lines)} rows).")
    for label, first, last in trained_rows(plan, problems, len(lines)):
        if first < end and start < last:
            raise BadInput(f"Node {node.label}: problems [{start}:{end}] overlap rows {first}-{last} of {problems}, which "
                           f"{label} trains on; choose rows no SFT (first N) or RL (last N) node takes.")
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / f"{name}.jsonl", "".join(lines[start:end]))
    task = folder / f"{name}.task.yaml"
    atomic_write_text(task, f"# rows {start}-{end} of {problems}: problems no node of the study trains on\n"
                            f"name: {name}\ngrader: math\ndomain: id\nsuite: reward-model\n")
    return task
