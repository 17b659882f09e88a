"""Sweeps: runs that differ in one lineage knob, and the warnings that keep comparisons honest.

For a knob (say `sft_epochs`), runs are grouped by every other lineage knob; a group whose runs
take two or more values of the knob is a sweep (one line in a plot). Lineage knobs are equal inside
a group by construction; the check here is for what knobs do not capture: training settings that
differ (learning rate, batch, seed...), runs that did not complete their schedule, and results
evaluated with different decoding settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from evolm import stagespec
from evolm.report.collect import SAMPLING_ONLY, Run
from evolm.report.rows import swept_knobs


def axes() -> dict[str, stagespec.Knob]:
    """Sweep axes by report column (`sft_epochs`, ...), from the stage specs."""
    return {spec.column(knob): knob for spec, knob in stagespec.knob_columns()}

# Schedule fields that follow from the swept budget or do not change the optimization (an --export-at
# export records where it was taken; the "did not complete its schedule" warning already names it).
_DERIVED = {"total_steps", "steps_done", "tokens_done", "warmup_steps", "completed", "micro_batch", "gradient_accumulation",
            "processes", "save_every", "log_every", "eval_every", "peak_flops", "val_tokens", "compile", "compiled",
            "activation_checkpointing", "defaults_from", "kind",
            "export_at", "export_count", "lr_at_export", "decayed", "decay_steps", "stable_steps", "branch_of"}


@dataclass
class Sweep:
    knob: str
    context: dict  # the knobs every run of the sweep shares
    members: list[tuple[dict, Run]]  # (row, run) sorted by the knob

    @property
    def label(self) -> str:
        from evolm.units import format_count

        shared = [f"{k}={format_count(v) if isinstance(v, (int, float)) and v >= 1000 else v}"
                  for k, v in self.context.items() if v is not None and k not in ("preset",)]
        return f"{self.context.get('preset') or ''} " + (", ".join(shared) if shared else "")

    @property
    def has_data(self) -> bool:
        return self.has_downstream or any(row.get(c) is not None for row, _ in self.members for c in ("upstream_avg", "val_loss", "train_val_loss"))

    @property
    def has_downstream(self) -> bool:
        return any(any(k.endswith(":pass@1") for k in row) for row, _ in self.members)


def find_sweeps(rows_runs: list[tuple[dict, Run]]) -> list[Sweep]:
    sweeps = []
    knobs = swept_knobs()
    for knob in knobs:
        groups: dict[tuple, list[tuple[dict, Run]]] = {}
        for row, run in rows_runs:
            if row.get(knob) is None:
                continue
            others = tuple((k, row.get(k)) for k in ("preset", *knobs) if k != knob)
            groups.setdefault(others, []).append((row, run))
        for others, members in groups.items():
            if len({row[knob] for row, _ in members}) >= 2:
                members.sort(key=lambda m: (m[0][knob], m[0]["signature"]))
                sweeps.append(Sweep(knob, dict(others), members))
    return sweeps


def _settings(run: Run) -> dict:
    schedule = run.manifest.schedule
    settings = {k: v for k, v in schedule.settings.items() if k not in _DERIVED}
    settings["seed"] = run.manifest.seed if run.manifest.seed is not None else schedule.settings.get("seed")
    return settings


def sweep_warnings(sweep: Sweep) -> list[str]:
    warnings = []
    name = f"{axes()[sweep.knob].label} sweep ({sweep.label.strip() or 'no other knob'})"
    baseline = sweep.members[0][1]
    for _, run in sweep.members[1:]:
        a, b = _settings(baseline), _settings(run)
        differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        if differ:
            warnings.append(f"{name}: {baseline.signature} and {run.signature} differ in more than {sweep.knob}: {', '.join(differ)}")
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
        warnings.append(f"{name}: {', '.join(sampling)} were sampled differently across the sweep (K or temperature); "
                        "pass@1 (greedy) compares, Maj@K / Pass@K / correct ratio only between runs with the same sampling")
    return warnings
