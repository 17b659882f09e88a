"""Warnings for evaluation results of different settings that a report puts side by side.

A task's numbers compare across checkpoints only when every checkpoint was evaluated the same way:
the same task file, decoding (greedy, K samples, temperature, ...), grader, backend, reward model
and problem limit (the model is what is compared, so it is left out). Within one checkpoint a
group mean (id, ood) averages its tasks, so their decoding must match too. `evolm eval` refuses to
replace a result with one of other settings, but results made into other folders (`--out`), or
on other checkpoints, can still differ: the report says so instead of mixing them quietly.
"""

from __future__ import annotations

from evolm.report.collect import Run, settings_of, without_sampling
from evolm.report.rows import group_of

# What a group mean's tasks must share (their task files and graders differ by nature).
_GROUP_KEYS = ("decoding", "backend", "reward_model")


def settings_warnings(runs: list[Run]) -> list[str]:
    warnings = []
    by_task: dict[str, list[tuple[Run, dict]]] = {}
    for run in runs:
        if run.upstream is not None:
            by_task.setdefault("upstream", []).append((run, settings_of(run.upstream)))
        for task, result in run.downstream.items():
            by_task.setdefault(task, []).append((run, settings_of(result)))
    # Tasks that differ the same way on the same checkpoints make one warning (the mini study samples
    # its three in-domain tasks on the runs F6 compares: one line, not three).
    mixed: dict[tuple[str, str], list[str]] = {}
    for task, entries in sorted(by_task.items()):
        greedy = [(who, without_sampling(s)) for who, s in entries]
        if len({_key(s) for _, s in greedy}) > 1:
            mixed.setdefault(("settings", _difference_key(greedy), _difference(greedy)), []).append(task)
        elif len({_key(s) for _, s in entries}) > 1:  # e.g. K samples only where a finding reads them
            mixed.setdefault(("sampling", _difference_key(entries), _difference(entries)), []).append(task)
    for (kind, _, difference), tasks in mixed.items():
        names, verb = ", ".join(tasks), "were" if len(tasks) > 1 else "was"
        if kind == "settings":
            warnings.append(f"{names} {verb} evaluated with different settings on different checkpoints "
                            f"({difference}), so {'their' if len(tasks) > 1 else 'its'} numbers across them are not comparable")
        else:
            warnings.append(f"{names} {verb} sampled differently on different checkpoints ({difference}): "
                            "pass@1 (greedy) compares across them, Maj@K / Pass@K / correct ratio only between "
                            "checkpoints with the same sampling")
    for run in runs:
        groups: dict[str, list[tuple[str, dict]]] = {}
        for task, result in sorted(run.downstream.items()):
            shared = {k: v for k, v in settings_of(result).items() if k in _GROUP_KEYS}
            groups.setdefault(group_of(task, result), []).append((task, shared))
        for group, members in sorted(groups.items()):
            if len({_key(s) for _, s in members}) > 1:
                warnings.append(f"{run.signature}: its {group} tasks were evaluated with different settings "
                                f"({_difference(members)}), so its {group} means mix them")
    return warnings


def _key(settings: dict) -> str:
    import json

    return json.dumps(settings, sort_keys=True, default=str)


def _leaves(settings: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            out.update(_leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = _key(value) if isinstance(value, list) else value
    return out


def _differing(entries: list) -> tuple[list[tuple[object, dict]], list[str]]:
    """(each checkpoint with its flattened settings, the settings whose values differ among them)."""
    leaves = [(who, _leaves(settings)) for who, settings in entries]
    names = sorted({k for _, leaf in leaves for k in leaf})
    return leaves, [k for k in names if len({_key(leaf.get(k)) for _, leaf in leaves}) > 1]


def _difference_key(entries: list) -> str:
    """Every setting that differs, with every checkpoint of each value (by manifest hash): tasks whose
    keys are equal differ the same way on the same checkpoints, and share one warning."""
    leaves, differing = _differing(entries)
    return _key({k: sorted((_key(leaf.get(k)), who.manifest_sha256 if isinstance(who, Run) else str(who)) for who, leaf in leaves)
                 for k in differing})


def _difference(entries: list) -> str:
    """'decoding.samples: 2 on A, B; 4 on C' for the first setting that differs (and how many more)."""
    leaves, differing = _differing(entries)
    if not differing:
        return "settings recorded differently"
    first = differing[0]
    values: dict[str, list[str]] = {}
    for who, leaf in leaves:
        values.setdefault(_key(leaf.get(first)), []).append(_name(who))
    parts = [f"{value} on {', '.join(whos[:3])}{' ...' if len(whos) > 3 else ''}" for value, whos in values.items()]
    more = f"; {len(differing) - 1} more setting(s) differ" if len(differing) > 1 else ""
    return f"{first}: {'; '.join(parts)}{more}"


def _name(who) -> str:
    return who.signature if isinstance(who, Run) else str(who)
