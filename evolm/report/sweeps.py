"""Sweeps: runs that differ in one lineage knob, and the warnings that keep comparisons honest.

For a knob (say `sft_epochs`), runs are grouped by every other lineage knob and by the lineage's
training settings but the seed (learning rate, schedule...: `collect.lineage_settings`); a group
whose runs take two or more values of the knob is a sweep (one line in a plot), labelled with its
settings where another sweep of the same knobs was trained otherwise. The checks here are for what
that grouping lets through: seeds that differ, runs that did not complete their schedule, and
results evaluated with different decoding settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evolm import stagespec
from evolm.options import SAMPLING_ONLY
from evolm.report.collect import Run, settings_labels, with_settings
from evolm.report.rows import SETTINGS, swept_knobs
from evolm.units import format_count


def axes() -> dict[str, stagespec.Knob]:
    """Sweep axes by report column (`sft_epochs`, ...), from the stage specs."""
    return {spec.column(knob): knob for spec, knob in stagespec.knob_columns()}

@dataclass
class Sweep:
    knob: str
    context: dict  # the knobs every run of the sweep shares
    members: list[tuple[dict, Run]]  # (row, run) sorted by the knob
    settings: str = ""  # what tells it from a sweep of the same knobs trained otherwise ("lr=0.01")
    # Mid-run exports (--export-at) of its runs: drawn apart at the tokens they had seen (`export_x`),
    # not on the line at their run's budget.
    exports: list[tuple[dict, Run]] = field(default_factory=list)

    @property
    def label(self) -> str:
        shared = [f"{k}={format_count(v) if isinstance(v, (int, float)) and v >= 1000 else v}"
                  for k, v in self.context.items() if v is not None and k not in ("preset",)]
        return with_settings(" ".join(part for part in (self.context.get("preset") or "", ", ".join(shared)) if part), self.settings)

    @property
    def has_data(self) -> bool:
        return self.has_downstream or any(row.get(c) is not None for row, _ in self.members for c in ("upstream_avg", "val_loss", "train_val_loss"))

    @property
    def has_downstream(self) -> bool:
        return any(any(k.endswith(":pass@1") for k in row) for row, _ in self.members)


def is_mid_run_export(run: Run) -> bool:
    return run.is_export and not run.completed


def export_x(row: dict, knob: str) -> float | None:
    """Where a mid-run export sits on a token axis of its own stage: the knob's value times the share
    of the stage's budget it had seen (a pre-training export of a 1M run taken at 500K: 500K); None
    on any other axis."""
    own = {"pretrain": ("pretrain_tokens",), "cpt": ("cpt_domain_tokens", "cpt_replay_tokens")}.get(row.get("stage"), ())
    budget = sum(row.get(k) or 0 for k in own)
    if knob not in own or not budget or row.get("tokens_done") is None:
        return None
    return row[knob] * row["tokens_done"] / budget


def _grouped(rows_runs: list[tuple[dict, Run]], knob: str, *, exports: bool = False) -> dict[tuple, dict[tuple, list[tuple[dict, Run]]]]:
    """{the other knobs: {the lineage's training settings: [(row, run)]}} of the runs that have `knob`:
    finished runs, or with `exports` the mid-run exports."""
    knobs = swept_knobs()
    groups: dict[tuple, dict[tuple, list[tuple[dict, Run]]]] = {}
    for row, run in rows_runs:
        if stagespec.kind_of(row.get("stage")) == "reward":  # a reward model carries its policy's knobs, but is no point of a sweep
            continue
        if row.get(knob) is not None and is_mid_run_export(run) == exports:
            others = tuple((k, row.get(k)) for k in ("preset", *knobs) if k != knob)
            groups.setdefault(others, {}).setdefault(row.get(SETTINGS) or (), []).append((row, run))
    return groups


def find_sweeps(rows_runs: list[tuple[dict, Run]]) -> list[Sweep]:
    """Per knob, per value of the other knobs, one sweep per training settings (a learning-rate grid
    draws a line per rate, not one zigzag) that takes two or more values of the knob."""
    sweeps = []
    for knob in swept_knobs():
        exports = _grouped(rows_runs, knob, exports=True)
        for others, by_settings in _grouped(rows_runs, knob).items():
            chains = list(by_settings)
            for chain, label in zip(chains, settings_labels(chains)):
                members = sorted(by_settings[chain], key=lambda m: (m[0][knob], m[0]["signature"]))
                if len({row[knob] for row, _ in members}) >= 2:
                    mine = [m for m in exports.get(others, {}).get(chain, []) if export_x(m[0], knob) is not None]
                    sweeps.append(Sweep(knob, dict(others), members, label, mine))
    return sweeps


def left_out_warnings(rows_runs: list[tuple[dict, Run]]) -> list[str]:
    """Runs that share every other knob but were trained with other settings and took no second value
    of the knob that way are in no sweep; the report names them, and their settings, instead of
    drawing them on another setting's line."""
    warnings = []
    for knob in swept_knobs():
        for others, by_settings in _grouped(rows_runs, knob).items():
            if len(by_settings) < 2 or len({row[knob] for group in by_settings.values() for row, _ in group}) < 2:
                continue
            chains = list(by_settings)
            alone = [with_settings(", ".join(row["signature"] for row, _ in by_settings[chain]), label)
                     for chain, label in zip(chains, settings_labels(chains)) if len({row[knob] for row, _ in by_settings[chain]}) < 2]
            name = f"{axes()[knob].label} sweep ({Sweep(knob, dict(others), []).label or 'no other knob'})"
            if len(alone) == len(chains):
                warnings.append(f"{name}: {'; '.join(alone)} take different {knob} values but were trained with different "
                                "settings, so no sweep compares them")
            elif alone:
                warnings.append(f"{name}: {'; '.join(alone)} left out: trained with other settings than the sweep, "
                                f"and with no second {knob} value that way")
    return warnings


def sweep_warnings(sweep: Sweep) -> list[str]:
    warnings = []
    name = f"{axes()[sweep.knob].label} sweep ({sweep.label.strip() or 'no other knob'})"
    # A sweep's runs share every other knob and setting (find_sweeps) but the seed. Replicates are drawn
    # as their mean; points trained with different seeds carry seed-to-seed noise in their differences.
    seeds: dict = {}
    for row, run in sweep.members:
        seeds.setdefault(row[sweep.knob], set()).add(str(run.training_settings().get("seed")))
    if len({frozenset(s) for s in seeds.values()}) > 1:
        by_point = "; ".join(f"{format_count(x) if isinstance(x, (int, float)) and x >= 1000 else x}: {','.join(sorted(s))}"
                             for x, s in seeds.items())
        warnings.append(f"{name}: its points were trained with different seeds ({by_point}), so seed-to-seed noise is "
                        "part of their differences")
    for _, run in sweep.members:
        if not run.completed:
            warnings.append(f"{name}: {run.signature} did not complete its schedule")
    decodings, greedy = {}, {}
    for _, run in sweep.members:
        for task, result in run.downstream.items():
            decoding = result.get("identity", {}).get("decoding", {})
            decodings.setdefault(task, set()).add(repr(sorted(decoding.items())))
            greedy.setdefault(task, set()).add(repr(sorted((k, v) for k, v in decoding.items() if k not in SAMPLING_ONLY)))
    mixed = sorted(task for task, keys in greedy.items() if len(keys) > 1)
    if mixed:
        warnings.append(f"{name}: {', '.join(mixed)} were evaluated with different decoding settings across the sweep")
    sampling = sorted(task for task, keys in decodings.items() if len(keys) > 1 and task not in mixed)
    if sampling:
        warnings.append(f"{name}: {', '.join(sampling)} were sampled differently across the sweep (K, temperature, top-p or seed); "
                        "pass@1 (greedy) compares, Maj@K / Pass@K / correct ratio only between runs with the same sampling")
    return warnings
