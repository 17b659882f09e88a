"""The report's tables, one per question the paper asks, built only from the runs present.

Accuracies are percentages with one decimal; K-sample metrics are labelled with the K used. Tables of
post-trained models show one row per condition (`evolm.report.conditions`): runs that differ only in
seed are one row, their mean, named with the seeds ("x2 (seeds 0,1)"); runs.csv keeps every run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from evolm import stagespec
from evolm.report.collect import settings_labels, with_settings
from evolm.report.conditions import Condition, conditions
from evolm.report.estimates import NOISY, correlate
from evolm.report.findings import predictor_points
from evolm.report.rows import SETTINGS, downstream_groups
from evolm.report.sweeps import Sweep, axes
from evolm.units import format_count


@dataclass
class Table:
    title: str
    question: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def num(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def count(value) -> str:
    if value is None:
        return "–"
    return format_count(value) if isinstance(value, (int, float)) and value >= 1000 else str(value)


def named(row: dict, name: str | None = None) -> str:
    """A run's name (its signature, or `name`) with the settings that tell it from runs of the same
    signature trained otherwise ("1M-500KT [lr=0.01]")."""
    return with_settings(row.get("signature") if name is None else name, row.get("settings"))


DOWNSTREAM = (("pass@1", "Greedy"), ("maj@K", "Maj@K"), ("pass@K", "Pass@K"))


def _by_base(c: Condition) -> tuple:
    """Sort key: the base's preset, then its pre-training budget as a number (1M-2MT before 1M-16MT)."""
    return (c.get("preset") or "", c.get("pretrain_tokens") or 0)


def mean(c: Condition | None, column: str) -> float | None:
    """A column's mean over the condition's replicates (those that have it); a mean over tasks, over the
    tasks all of them were scored on (`Condition.measure`)."""
    m = c.measure(column) if c is not None else None
    return None if m is None else m.value


NARROWED = "†"
NARROWED_NOTE = (f"{NARROWED} The row's replicates were scored on different tasks: the mean over the tasks all of them "
                 "were scored on, or, with no task in common, a mean of means over different tasks (the warnings name them).")


def pct_mean(c: Condition | None, column: str) -> str:
    """`mean` as a percentage cell, marked where the replicates were scored on different tasks (a
    mean that is not over the tasks its column names, `Measure.left_out`)."""
    m = c.measure(column) if c is not None else None
    return "–" if m is None else pct(m.value) + (NARROWED if m.left_out else "")


def note_narrowed(table: Table) -> None:
    """Explain the mark wherever a cell of the table carries it."""
    if any(isinstance(v, str) and v.endswith(NARROWED) for row in table.rows for v in row):
        table.notes.append(NARROWED_NOTE)


def _downstream_cells(c: Condition, metrics=DOWNSTREAM) -> list[str]:
    return [pct_mean(c, f"{group}:{metric}") if group else "–" for group in c.groups() for metric, _ in metrics]


def _downstream_columns() -> list[str]:
    return [f"{domain} {label}" for domain in ("ID", "OOD") for _, label in DOWNSTREAM]


def upstream_table(rows: list[dict]) -> Table | None:
    """Paper Table 4: upstream accuracy by pre-training budget and model size."""
    pretrained = [r for r in rows if r["stage"] == "pretrain"]
    if not pretrained:
        return None
    tasks = sorted({k[3:] for r in pretrained for k in r if k.startswith("up:") and not k.endswith(":se")})
    table = Table("Upstream accuracy by pre-training budget and model size", "Paper Table 4 / finding 1",
                  ["model", "tokens", *tasks, "average", "val loss"])
    table.notes.append("val loss: measured by `evolm eval` where present, else the training run's own final value.")
    for r in sorted(pretrained, key=lambda r: (r.get("params") or 0, r.get("pretrain_tokens") or 0)):
        tokens = count(r.get("pretrain_tokens"))
        if not r.get("completed") and r.get("tokens_done"):  # an export: what it had seen, of what budget
            tokens = f"{count(r['tokens_done'])} of {tokens} (unfinished)"
        table.rows.append([named(r, r.get("preset")), tokens, *[pct(r.get(f"up:{t}")) for t in tasks],
                           pct(r.get("upstream_avg")), num(r.get("val_loss") if r.get("val_loss") is not None else r.get("train_val_loss"))])
    return table


def posttrained_table(rows: list[dict]) -> Table | None:
    """Paper Table 1: SFT and SFT+RL models, ID and OOD Greedy / Maj@K / Pass@K, by base."""
    post = [c for c in conditions(rows) if stagespec.kind_of(c.get("stage")) == "post" and any(c.groups())]
    if not post:
        return None
    ks = sorted({r.get("samples_K") for c in post for r in c.rows if r.get("samples_K")})
    table = Table("Post-trained models by base: in-domain and out-of-domain accuracy", "Paper Table 1 / findings 4, 7",
                  ["base", "model", "stage", *_downstream_columns()])
    for c in sorted(post, key=lambda c: (*_by_base(c), c.get("base"), c.get("signature"), c.name)):
        table.rows.append([c.get("base"), c.name, c.get("stage").upper(), *_downstream_cells(c)])
    temperatures = sorted({r.get("samples_temperature") for c in post for r in c.rows if r.get("samples_K")} - {None})
    sampled = (f"K = {', '.join(map(str, ks))} samples at temperature {', '.join(f'{t:g}' for t in temperatures) or '?'}"
               if ks else "Maj@K and Pass@K need samples at temperature 1; none were drawn")
    table.notes.append(f"{sampled}; Greedy is Pass@1. Runs that differ only in seed are one row, their mean.")
    return table


def _sft_recipe(c: Condition) -> tuple:
    """What an SFT condition did after its parent: its own knobs and training settings."""
    spec = stagespec.get(c.get("stage"))
    return (*((spec.column(k), c.get(spec.column(k))) for k in spec.knobs if k.swept), c.settings(spec.name))


def _recipe_text(recipe: tuple) -> str:
    return ", ".join(f"{axes()[k].label} {count(v)}" for k, v in recipe[:-1] if v is not None)


def cpt_table(rows: list[dict]) -> Table | None:
    """Paper Table 2 / Fig. 4-5: CPT mixture vs downstream accuracy and forgetting.

    Its "after SFT" columns compare the CPT mixtures through one SFT recipe: the one that the most CPT
    conditions have a child of (ties: the most replicates), so that no row reads another recipe."""
    conds = conditions(rows)
    cpts = [c for c in conds if c.get("stage") == "cpt"]
    if not cpts:
        return None
    # per CPT condition, its finished SFT children by recipe (one each: finished runs of equal knobs and
    # settings are one condition)
    children = {id(c): {_sft_recipe(d): d for d in conds
                        if d.parent is c and d.get("stage") == "sft" and d.get("completed") and any(d.groups())} for c in cpts}
    recipes: dict[tuple, list[int]] = {}  # recipe: [CPT conditions with a child of it, runs of it]
    for kids in children.values():
        for recipe, d in kids.items():
            tally = recipes.setdefault(recipe, [0, 0])
            tally[0] += 1
            tally[1] += len(d.rows)
    recipe = max(recipes, key=lambda k: (*recipes[k], repr(k)), default=None)
    table = Table("Continued pre-training: mixture, forgetting and downstream accuracy", "Paper Table 2, Fig. 4-5 / finding 3",
                  ["parent", "domain tokens", "replay tokens", "replay share", "upstream avg", "change vs parent",
                   "val loss (pre-training data)", "after SFT: ID Greedy", "after SFT: OOD Greedy", "CPT runs"])
    def order(c: Condition) -> tuple:  # by base, then mixture
        return (*_by_base(c), c.get("parent") or "", c.get("cpt_replay_tokens") or 0, c.get("cpt_domain_tokens") or 0, c.name)

    for c in sorted(cpts, key=order):
        up, parent_up = mean(c, "upstream_avg"), mean(c.started_from(), "upstream_avg")
        change = None if up is None or parent_up is None else up - parent_up
        domain, replay = c.get("cpt_domain_tokens") or 0, c.get("cpt_replay_tokens") or 0
        child = children[id(c)].get(recipe)
        id_group, ood_group = child.groups() if child else (None, None)
        val = mean(c, "val_loss")
        if val is None:  # measured by `evolm eval` where present, else the training run's own final value
            val = mean(c, "train_val_loss")
        table.rows.append([
            with_settings(c.parent.get("signature"), c.parent.label) if c.parent else c.get("parent"), count(domain), count(replay), f"{replay / (domain + replay):.0%}" if domain + replay else "–",
            pct_mean(c, "upstream_avg"), "–" if change is None else f"{100 * change:+.1f}", num(val),
            pct_mean(child, f"{id_group}:pass@1") if id_group else "–", pct_mean(child, f"{ood_group}:pass@1") if ood_group else "–",
            f"{len(c.rows)} ({c.seeds_text()})" if len(c.rows) > 1 else "1",
        ])
    table.notes.append("Forgetting: the change of the upstream average against the parent, and the validation loss on the "
                       "parent's pre-training data (training-time value where no evaluation measured it). Runs that differ only "
                       "in seed are one row, their mean.")
    if recipe is not None:
        table.notes.append(f"After SFT: {_recipe_text(recipe) or 'one SFT recipe'}, the recipe most CPT rows were fine-tuned "
                           "with (the mean over its seeds; – where a row has no such child).")
    return table


def sweep_table(sweep: Sweep) -> Table:
    """Paper Fig. 2-8: downstream metrics against the swept knob (a post-training knob, or the
    pre-training or CPT budget of post-trained models); replicates are one row, their mean."""
    extra = (("correct_ratio", "Correct ratio"),)
    axis = axes()[sweep.knob]
    table = Table(f"{axis.label} sweep: {sweep.label.strip()}", axis.figure,
                  [axis.label, "model", *_downstream_columns(), "ID correct ratio", "OOD correct ratio"])
    for c in sorted(conditions([row for row, _ in sweep.members]), key=lambda c: (c.get(sweep.knob), c.get("signature"))):
        table.rows.append([count(c.get(sweep.knob)), c.name, *_downstream_cells(c), *_downstream_cells(c, extra)])
    return table


def split_table(rows: list[dict]) -> Table | None:
    """Paper Fig. 9: a fixed budget of post-training examples split between SFT and RL."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["stage"] == "rl" and r.get("sft_examples") and r.get("rl_examples") and any(downstream_groups(r)):
            key = (r["base"], r["sft_examples"] + r["rl_examples"], r.get("sft_epochs"), r.get("rl_epochs"), r.get(SETTINGS) or ())
            groups.setdefault(key, []).append(r)
    groups = {k: v for k, v in groups.items() if len({r["sft_examples"] for r in v}) >= 2}
    if not groups:
        return None
    table = Table("A fixed post-training budget split between SFT and RL", "Paper Fig. 9 / finding 7",
                  ["base", "total examples", "SFT examples", "RL examples", *_downstream_columns()])
    keys = sorted(groups, key=lambda k: (*k[:4], json.dumps(k[4])))  # a chain may hold None (settings unknown)
    labels = {}  # splits of one base and total trained otherwise: named by what differs
    for same in {k[:4] for k in keys}:
        chains = [k for k in keys if k[:4] == same]
        labels.update(zip(chains, settings_labels([k[4] for k in chains])))
    for key in keys:
        base, total = key[0], key[1]
        for c in sorted(conditions(groups[key]), key=lambda c: c.get("sft_examples")):
            table.rows.append([with_settings(base, labels[key]), count(total), count(c.get("sft_examples")), count(c.get("rl_examples")),
                               *_downstream_cells(c)])
    table.notes.append("Runs that differ only in seed are one row, their mean.")
    return table


def correlation_table(rows: list[dict]) -> Table | None:
    """Paper Section 4.2: reward-model score and validation loss as predictors of accuracy.

    An r is printed only where it can mean something (evolm.report.estimates.correlate): at least 4
    runs and accuracies whose spread exceeds 2 SE; otherwise the cell says too noisy and why, so an
    r over runs at the floor is not read as a result."""
    conds = conditions(rows)
    table = Table("Do reward-model score and validation loss predict downstream accuracy?", "Paper Section 4.2 / finding 8",
                  ["predictor", "accuracy", "runs", "Pearson r", "Fisher z ± SE"])
    for predictor, label in (("rm_score", "mean reward-model score"), ("val_loss", "validation loss")):
        for domain, name in ((0, "ID"), (1, "OOD")):
            points = predictor_points(conds, predictor, domain)
            if not points:
                continue
            corr = correlate(points)
            z = corr.effect
            r = f"{NOISY} ({corr.noisy})" if corr.noisy else f"{corr.r:+.2f}"
            table.rows.append([label, f"{name} Greedy", corr.n, r, "–" if corr.noisy or z is None else f"{z.value:+.2f} ± {z.se:.2f}"])
    if not table.rows:
        return None
    table.notes.append("Runs: finished post-trained checkpoints, seeds averaged. r is shown only with at least 4 runs and a "
                       "best-minus-worst accuracy of at least 2 SE; the SE of Fisher z = atanh(r) is 1/sqrt(n-3).")
    return table
