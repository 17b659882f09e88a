"""An rm node's held-out problems: rows of a problem pool that no node of the study trains on.

A reward model that learned to rank the samples of problems its policies were trained on would
be scored on what they memorised, so the rows are checked against every SFT and RL node of the
study: the rows each one takes are what `evolm sft`/`rl` would select (evolm.stages.data.split:
the first or last N of a pool, or of a split folder's part), compared by the pool's sha256. The
check runs before any work where the pool exists (`evolm study plan`/`run` with prepared data),
else right after the study's data is made. The rows are then written as their own task (with the
task YAML `evolm eval --tasks` reads), from which the policies draw and with which `evolm rm`
pairs their graded samples.
"""

from __future__ import annotations

from pathlib import Path

from evolm.errors import BadInput
from evolm.fsutil import atomic_write_text, sha256_file
from evolm.jsonl import dumps
from evolm.study.spec import _text
from evolm.units import parse_count


def samples_dir(root: Path, node) -> Path:
    """Where an rm node's policies draw its samples: in the study's state folder (evolm.study.plan.STATE_DIR),
    where the report does not read them as the policies' results."""
    from evolm.study.plan import STATE_DIR

    return Path(root) / STATE_DIR / "rm-samples" / node.label


def trained_rows(plan, pool_sha256: str) -> list[tuple[str, int, int]]:
    """(node, first row, end row) of every SFT and RL node of the plan that trains on the pool with this hash."""
    from evolm.stages.data.split import select_examples

    taken, selected = [], {}  # many nodes take the same rows: each (data, stage, count) is read once
    for node in plan.nodes:
        if node.stage not in ("sft", "rl") or "data" not in node.options:
            continue
        examples = node.options.get("examples")
        try:
            count = None if examples is None else int(parse_count(_text(examples), what=f"{node.group}: examples"))
            key = (plan.resolve(node.options["data"]), node.stage, count)
            if key not in selected:
                record = select_examples(Path(key[0]), node.stage, count).record
                selected[key] = (record["pool_sha256"], tuple(record["rows"]))
        except (BadInput, ValueError, OSError):
            continue  # data that node cannot read: it refuses it itself when it starts
        sha, rows = selected[key]
        if sha == pool_sha256:
            taken.append((node.label, *rows))
    return taken


def held_out_rows(plan, node) -> list[dict]:
    """The rm node's problem rows, once checked to exist and to be trained on by no node (BadInput otherwise)."""
    from evolm.stages.data.split import read_pool

    file, start, end = node.reward.problems
    problems = Path(plan.resolve(file))
    rows = read_pool(problems)
    if end > len(rows):
        raise BadInput(f"Node {node.label}: problems [{start}:{end}] asks for rows past the end of {problems} "
                       f"({len(rows)} rows).")
    for label, first, last in trained_rows(plan, sha256_file(problems)):
        if first < end and start < last:
            raise BadInput(f"Node {node.label}: problems [{start}:{end}] overlap rows {first}-{last} of {problems}, which "
                           f"{label} trains on; choose rows no SFT (first N) or RL (last N) node takes.")
    return rows[start:end]


def check_held_out(plan, *, missing_ok: bool) -> None:
    """Every rm node's problems, checked before any node runs. `missing_ok`: a pool the study's data
    preparation has not made yet is checked later (the runner checks again once it exists)."""
    for node in plan.nodes:
        if node.reward is not None:
            if missing_ok and not Path(plan.resolve(node.reward.problems[0])).exists():
                continue
            held_out_rows(plan, node)


def write_held_out(plan, node, folder: Path, name: str) -> Path:
    """Write the rm node's rows as task `name` in `folder` (NAME.jsonl and NAME.task.yaml); the task YAML's path."""
    rows = held_out_rows(plan, node)
    file, start, end = node.reward.problems
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / f"{name}.jsonl", "".join(dumps(row, sort_keys=False) + "\n" for row in rows))
    task = folder / f"{name}.task.yaml"
    # graded as math: the SFT/RL pool's problems end in a \boxed{} answer, which the RL reward grades so too
    atomic_write_text(task, f"# rows {start}-{end} of {plan.resolve(file)}: problems no node of the study trains on\n"
                            f"name: {name}\ngrader: math\ndomain: id\nsuite: reward-model\n")
    return task
