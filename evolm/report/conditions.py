"""Conditions: the points of a study that the findings compare.

A condition is one point of the study (stage, preset, lineage knobs, finished or not, for an
unfinished schedule the tokens it had consumed, and the training settings of the run and its
ancestors: learning rate, schedule...). Rows that share a condition differ only in seed and are
averaged as replicates (`evolm.report.estimates.mean_measure`).
"""

from __future__ import annotations

from dataclasses import dataclass

from evolm.report.collect import with_settings
from evolm.report.estimates import Measure, mean_measure, on_tasks
from evolm.report.rows import DATA, ITEMS, LINEAGE, MEMBERS, SEEDS, SETTINGS, downstream_groups, swept_knobs
from evolm.units import format_count


@dataclass(eq=False)
class Condition:
    rows: list[dict]  # replicates
    parent: "Condition | None" = None  # the condition of its parent checkpoint, when in the folder

    def get(self, column: str):
        return self.rows[0].get(column)  # knobs and lineage are equal across replicates

    @property
    def label(self) -> str:
        """The settings that tell it from conditions of the same signature ("lr=0.01"), if any."""
        return self.rows[0].get("settings") or ""

    def settings(self, *stages: str) -> tuple:
        """The lineage's training settings (all stages, or those named): equal settings, comparable runs."""
        return tuple(s for s in self.rows[0].get(SETTINGS) or () if not stages or s[0] in stages)

    def measure(self, column: str) -> Measure | None:
        rows = [r for r in self.rows if r.get(column) is not None]
        m = mean_measure([(r[column], r.get(f"{column}:se")) for r in rows], [(r.get(ITEMS) or {}).get(column) for r in rows],
                         [r.get("manifest_sha256") for r in rows], outer_seeds(rows), [r.get(LINEAGE) for r in rows])
        # the replicates measured (a replicate not evaluated has no members, and would turn the task-by-task
        # comparison off for all of them)
        members = [(r.get(MEMBERS) or {}).get(column) for r in rows]
        if m is None or not members or not all(members):
            return m
        shared = {task: c for task, c in members[0].items() if all(each.get(task) == c for each in members)}
        scored = frozenset().union(*members)  # the tasks any replicate was scored on
        if not shared:  # replicates on disjoint tasks: a mean of theirs compares with nothing (no task in common)
            m.parts, m.left_out = {}, scored
            return m
        parts = {task: self.measure(task_column) for task, task_column in shared.items()}
        if None in parts.values():
            return m
        if len(scored) == len(shared):
            m.parts = parts
            return m
        # Replicates scored on different tasks: the mean of their means would mix tasks (one seed's mean
        # over two tasks with another's over one), so the condition is the mean over the tasks all of
        # them were scored on (a finding comparing it with another condition says which were left out).
        items = {t: v for p in parts.values() for t, v in (p.items or {}).items()} if all(p.items for p in parts.values()) else None
        whole = Measure(m.value, m.se, m.replicates, items, parts, seed_groups=m.seed_groups, lineages=m.lineages)
        narrowed = on_tasks(whole, set(parts))
        narrowed.parts, narrowed.left_out = parts, scored - set(parts)
        return narrowed

    def parent_checkpoints(self) -> frozenset:
        """The manifests' hashes of the checkpoints this condition's runs started from."""
        return frozenset(r.get("parent_sha256") for r in self.rows)

    def started_from(self) -> "Condition | None":
        """The parent condition narrowed to the checkpoints this condition's runs started from: a CPT run on
        one of two pre-training seeds is compared with that seed, not with the mean of both (whose other
        seed's deviation no standard error counts)."""
        if self.parent is None:
            return None
        rows = [r for r in self.parent.rows if r.get("manifest_sha256") in self.parent_checkpoints()]
        return self.parent if not rows or len(rows) == len(self.parent.rows) else Condition(rows, self.parent.parent)

    def groups(self) -> tuple[str | None, str | None]:
        """The (in-domain, out-of-domain) downstream groups of the first replicate that has results."""
        return next((g for g in map(downstream_groups, self.rows) if any(g)), (None, None))

    def acc(self, domain: int = 0, metric: str = "pass@1") -> Measure | None:
        """A downstream metric of the in-domain (0) or out-of-domain (1) group."""
        group = self.groups()[domain]
        return self.measure(f"{group}:{metric}") if group else None

    @property
    def name(self) -> str:
        text = with_settings(self.get("signature"), self.label)
        if not self.get("completed"):
            text += f" (unfinished at {format_count(self.get('tokens_done') or 0)} tokens)"
        if len(self.rows) < 2:
            return text
        # a replicate without any evaluation result, beside others with them, is in none of the accuracy
        # means the report shows: say so, so that "x2" is not read as two runs measured
        missing = sum(not _has_results(r) for r in self.rows)
        return text + f" x{len(self.rows)} ({self.seeds_text()}" + (f"; {missing} not evaluated)" if 0 < missing < len(self.rows) else ")")

    def seeds_text(self) -> str:
        """The seeds that tell the replicates apart: "seeds 0,1", or an ancestor's ("sft seeds 0,1,2")
        when the run's own seed is the same in all of them."""
        chains = [r.get(SEEDS) or (("", r.get("seed")),) for r in self.rows]
        parts = []
        if len({len(c) for c in chains}) == 1:
            for i, (stage, _) in enumerate(chains[0]):
                values = {c[i][1] for c in chains}
                if len(values) > 1:
                    prefix = "" if i == len(chains[0]) - 1 else f"{stage} "
                    parts.append(prefix + "seeds " + _seed_list(values))
        return "; ".join(parts) or "seeds " + _seed_list({r.get("seed") for r in self.rows})


def outer_seeds(rows: list[dict]) -> list | None:
    """Per row, the seed of the earliest stage whose seed differs among the rows, where that stage is
    an ancestor's (replicates nested in it: `Measure.seed_groups`); None when only the rows' own seed
    differs, or their lineages are not known alike."""
    chains = [r.get(SEEDS) for r in rows]
    if len(rows) < 2 or any(not c for c in chains) or len({len(c) for c in chains}) != 1:
        return None
    for i in range(len(chains[0]) - 1):
        if len({c[i][1] for c in chains}) > 1:
            return [c[i][1] for c in chains]
    return None


def _has_results(row: dict) -> bool:
    """Whether a run has an upstream average or any downstream result (of the paper's or the synthetic
    in-domain and out-of-domain groups, which the report's tables and findings read)."""
    return row.get("upstream_avg") is not None or any(downstream_groups(row))


def _seed_list(seeds: set) -> str:
    """Seeds in numeric order, "?" for one not recorded (an ancestor outside the folder)."""
    return ",".join(sorted(("?" if s is None else str(s) for s in seeds), key=lambda t: (not t.isdigit(), int(t) if t.isdigit() else 0, t)))


def conditions(rows: list[dict]) -> list[Condition]:
    knobs = swept_knobs()
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        done = bool(row.get("completed"))
        key = (row["stage"], row.get("preset"), *(row.get(k) for k in knobs), done, None if done else row.get("tokens_done"),
               row.get(SETTINGS), row.get(DATA))
        groups.setdefault(key, []).append(row)
    conds = [Condition(g) for g in groups.values()]
    of_sha = {row["manifest_sha256"]: c for c in conds for row in c.rows if row.get("manifest_sha256")}
    of_signature = {c.get("signature"): c for c in sorted(conds, key=lambda c: bool(c.get("completed")))}  # finished wins
    for c in conds:
        # Rows made by hand (tests, older callers) may lack parent_sha256: their parent is found by signature.
        sha = c.get("parent_sha256")
        c.parent = of_sha.get(sha) if sha else of_signature.get(c.get("parent")) if c.get("parent") else None
    return conds
