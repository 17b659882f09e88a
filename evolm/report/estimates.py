"""Estimates with standard errors, the contrasts between them, and the one verdict rule.

A *measure* is a score of a condition (one run, or seed replicates averaged) with its standard error,
and where kept its per-problem values; an *effect* is a contrast of measures (a difference, a gain per
doubling, a correlation's Fisher z) signed so that positive is the paper's direction. `direction`
turns an effect into shown / contradicted / too noisy by the 2-SE rule. Kept apart from the findings
so that every finding, and the report's tables, judge with the same arithmetic.

Differences between checkpoints evaluated on the same problems are paired: the standard error of a
contrast (a difference, or the per-doubling gains of F1 and F5) is that of its per-problem values,
sqrt(var(sum_k c_k x_k,i) / n) per task, which removes the variance of which problems were drawn
(a strong model and a weak one find the same problems easy). Where the per-problem values are
missing (results written before they were kept, or different problem sets), conditions are
treated as independent: sqrt(sum_k c_k^2 se_k^2).

Replicates (seeds) of a condition are averaged. Their mean has two errors: training's randomness,
estimated by the seeds' spread (var over seeds / n), and the drawing of the problems, which seeds
evaluated on the same problems share, so it is not divided by the number of seeds: it is the error
of the per-problem means over the seeds, paired like a single run's. A paired contrast's SE is then
sqrt(paired^2 + sum_k c_k^2 spread_k^2) (an unpaired one's sqrt(sum_k c_k^2 se_k^2), each se with its
spread). A condition of one seed has no spread to estimate: its SE
is the evaluation's alone, so a replicated condition reads as noisier than a single run that is not.

2 SE is about a 95% two-sided interval for a difference of roughly normal estimates: a screen for
"these runs can tell", not a significance test corrected for the many comparisons made here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from evolm.eval.metrics import mean_and_stderr

Z = 2.0  # standard errors an effect must reach
SHOWN, CONTRADICTED, NOISY, NOT_TESTED, MIXED = "shown", "contradicted", "too noisy", "not tested", "mixed"


@dataclass
class Measure:
    value: float
    se: float | None
    replicates: int = 1
    # {task: (problem ids hash, [value per problem], [cluster per problem] or None)} of a single
    # evaluation, for paired contrasts
    items: dict | None = field(default=None, repr=False, compare=False)
    # a mean over tasks: each task's own measure (rows' MEMBERS), to compare it with a mean over others
    parts: dict[str, "Measure"] | None = field(default=None, repr=False, compare=False)
    # the replicates' own values by run (manifest sha256; None for one run)
    replicate_values: dict[str, float] | None = field(default=None, repr=False, compare=False)
    # by run, the seed of the earliest stage whose seed differs among the replicates, where that is an
    # ancestor's (two CPT seeds with two SFT seeds on each): the replicates are nested in it
    seed_groups: dict[str, object] | None = field(default=None, repr=False, compare=False)
    # tasks some replicates were scored on and others not, which a mean over tasks leaves out
    left_out: frozenset = field(default=frozenset(), repr=False, compare=False)
    # by run, the manifest hashes of its lineage, oldest first, ending with its own: a contrast with the
    # runs' ancestors or siblings pairs the replicates that descend from one ancestor (`lineage_seed_var`)
    lineages: dict[str, tuple] | None = field(default=None, repr=False, compare=False)

    @property
    def seed_var(self) -> float:
        """The variance of the mean that training's randomness adds: var over seeds / n (0 for one run).
        Nested replicates vary with their outer seed as a unit, so theirs is the variance of the outer
        seeds' means over their number (weighted by the groups' sizes where these differ, as the value,
        a mean over runs, weighs them): two SFT seeds on each of two CPT runs are two draws of the CPT's
        randomness, not four (counted as four, a CPT seed that moves both of its SFT runs would be
        divided by 4 instead of 2 and the SE understated)."""
        if not self.replicate_values:
            return 0.0
        if self.seed_groups:
            groups: dict = {}
            for run, value in self.replicate_values.items():
                groups.setdefault(self.seed_groups.get(run), []).append(value)
            if 1 < len(groups) < len(self.replicate_values):
                # the value is the mean over runs, a mean of the group means weighted by their sizes
                # (n_g / n): var = s^2 * sum (n_g / n)^2, s^2 the variance of the group means (= s^2 / G
                # when the groups are equal)
                means = [sum(g) / len(g) for g in groups.values()]
                s2 = seed_variance(means) * len(means)
                n = len(self.replicate_values)
                return s2 * sum((len(g) / n) ** 2 for g in groups.values())
        return seed_variance(list(self.replicate_values.values()))

    @property
    def problem_se(self) -> float | None:
        """The SE without the seeds' spread: the error of drawing these problems."""
        return None if self.se is None else math.sqrt(max(self.se * self.se - self.seed_var, 0.0))


def seed_variance(values: list[float] | None) -> float:
    if not values or len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1) / len(values)


def on_tasks(m: Measure, tasks: set[str]) -> Measure:
    """A mean over tasks recomputed over some of them: the unweighted mean; its problem error
    sqrt(sum se^2) / n over the tasks, and the spread of each seed's mean over them."""
    parts = [m.parts[t] for t in sorted(tasks)]
    errors = [p.problem_se for p in parts]
    problem = None if None in errors else math.sqrt(sum(e * e for e in errors)) / len(parts)
    per_seed = [p.replicate_values for p in parts]
    replicates = ({run: sum(v[run] for v in per_seed) / len(parts) for run in per_seed[0]}
                  if per_seed[0] and all(v and set(v) == set(per_seed[0]) for v in per_seed) else None)
    if replicates is None and any(p.seed_var for p in parts):
        # not every seed scored on every task: their spreads added as if fully correlated (an upper
        # bound), and not paired, which would leave that spread out
        spread = sum(math.sqrt(p.seed_var) for p in parts) / len(parts)
        se = None if problem is None else math.hypot(problem, spread)
        return Measure(sum(p.value for p in parts) / len(parts), se, m.replicates)
    items = {t: v for t, v in m.items.items() if t in tasks} if m.items and set(m.items) >= tasks else None
    out = Measure(sum(p.value for p in parts) / len(parts), None, m.replicates, items, replicate_values=replicates,
                  seed_groups=m.seed_groups, lineages=m.lineages)
    out.se = None if problem is None else math.sqrt(problem * problem + out.seed_var)
    return out


@dataclass
class Effect:
    name: str
    value: float
    se: float | None
    unit: str = "pp"  # "pp": an accuracy difference, shown in percentage points; "z": Fisher z of a correlation

    def text(self) -> str:
        if self.unit == "z":  # a correlation is read as r; its Fisher z carries the SE
            return f"r {math.tanh(self.value):+.2f} (z {self.value:+.2f} ± {self.se:.2f})"
        scale, suffix = (100, " pp") if self.unit == "pp" else (1, "")
        se = "?" if self.se is None else f"{scale * self.se:.{1 if self.unit == 'pp' else 2}f}"
        return f"{scale * self.value:+.{1 if self.unit == 'pp' else 2}f} ± {se}{suffix}"


def direction(effect: Effect) -> str:
    """shown / contradicted / too noisy for one effect signed so that positive is the paper's direction."""
    if effect.se is None:  # no standard error recorded: nothing to judge the effect against
        return NOISY
    if effect.value > 0 and effect.value >= Z * effect.se:
        return SHOWN
    if effect.value < 0 and -effect.value >= Z * effect.se:
        return CONTRADICTED
    return NOISY


def at_floor(*measures: Measure) -> bool:
    """Every accuracy within 2 SE of zero: a difference between them says nothing about the model."""
    return all(m.value <= Z * (m.se or 0.0) for m in measures)


def _same_tasks(items: list[dict | None]) -> bool:
    """Per-problem values ({task: (ids hash, values, labels)}) present for each measure, on the same tasks."""
    return bool(items) and all(items) and all(set(it) == set(items[0]) for it in items)


def _same_problems(vectors: list[tuple]) -> bool:
    """One task's per-problem vectors over the same problems: one ids hash, one length."""
    return len({v[0] for v in vectors}) == 1 and len({len(v[1]) for v in vectors}) == 1


def _shared_labels(vectors: list[tuple]) -> tuple[bool, list | None]:
    """(whether the vectors' cluster labels agree, those labels or None): results that name no
    computations (older ones) defer to those that do, since the same problems have the same labels;
    labels that differ mean the same ids grouped otherwise (another version of the test file)."""
    labels = [v[2] for v in vectors if len(v) > 2 and v[2]]  # no labels however written
    if any(other != labels[0] for other in labels[1:]) or (labels and len(labels[0]) != len(vectors[0][1])):
        return False, None
    return True, labels[0] if labels else None


def averaged_items(stored: list[dict | None]) -> dict | None:
    """The replicates' per-problem values averaged problem by problem ({task: (ids hash, means,
    cluster labels)}), when every replicate was scored on the same problems, grouped alike where
    grouped (`_shared_labels`); else None."""
    if not _same_tasks(stored):
        return None
    out = {}
    for task in stored[0]:
        vectors = [it[task] for it in stored]
        if not _same_problems(vectors):
            return None
        agree, labels = _shared_labels(vectors)
        if not agree:
            return None
        out[task] = (vectors[0][0], [sum(column) / len(vectors) for column in zip(*(v[1] for v in vectors))], labels)
    return out


def mean_measure(points: list[tuple[float, float | None]], stored: list[dict | None] | None = None,
                 runs: list[str] | None = None, outer_seeds: list | None = None,
                 lineages: list[tuple | None] | None = None) -> Measure | None:
    """The mean of replicate values (value, SE), with each replicate's per-problem values if any and
    the runs they are of (to line up one seed's values across tasks; by position without them).
    Without any SE nor per-problem values, the SE is unknown (None), whatever the spread.
    Its SE: sqrt(spread^2 + problem^2), the spread over seeds (sd / sqrt(n)) and the error of the
    problems drawn, which the seeds share: that of the per-problem means over the seeds where all have
    them for the same problems, else the mean of the replicates' SEs (the SE of a mean of estimates
    is at most the mean of their SEs: an upper bound, reached when the seeds agree problem by problem).
    `outer_seeds`, per point, the ancestor's seed the replicates are nested in (`Measure.seed_groups`);
    `lineages`, per point, its run's lineage hashes (`Measure.lineages`)."""
    if not points:
        return None
    values = [v for v, _ in points]
    n, mean = len(values), sum(values) / len(values)
    errors = [e for _, e in points]
    stored = stored if stored is not None and len(stored) == n else [None] * n
    if n == 1:
        return Measure(mean, errors[0], items=stored[0])
    items = averaged_items(stored)
    problem = paired_se({0: 1.0}, [Measure(mean, None, items=items)]) if items else None
    if problem is None and None not in errors:
        problem, items = sum(errors) / n, None
    runs = runs if runs is not None and len(set(runs)) == n else [str(i) for i in range(n)]
    groups = dict(zip(runs, outer_seeds)) if outer_seeds is not None and len(outer_seeds) == n else None
    known = lineages is not None and len(lineages) == n and all(lineages)
    m = Measure(mean, None, n, items, replicate_values=dict(zip(runs, values)), seed_groups=groups,
                lineages=dict(zip(runs, lineages)) if known else None)
    m.se = None if problem is None else math.sqrt(problem * problem + m.seed_var)
    return m



def pct(m: Measure | None) -> str:
    """"69.1±3.8", and for seed replicates the part of that SE their spread is: "(seeds ±1.0)"."""
    if m is None:
        return "–"
    text = f"{100 * m.value:.1f}" + ("" if m.se is None else f"±{100 * m.se:.1f}")
    return text + (f" (seeds ±{100 * math.sqrt(m.seed_var):.1f})" if m.replicates > 1 and m.se is not None else "")


def diff(name: str, a: Measure, b: Measure) -> Effect:
    """a - b: paired over problems where both have per-problem values, else sqrt(se_a^2 + se_b^2)."""
    return combine(name, {0: 1.0, 1: -1.0}, [a, b])


def paired_se(coefs: dict[int, float], measures: list[Measure]) -> float | None:
    """The SE of sum_k c_k m_k from per-problem values, when every measure has them for the same
    tasks over the same problems; each measure is an unweighted mean over its tasks. Cluster-robust
    over the problems' computations where the results name them (the same problems: the same labels)."""
    items = [measures[i].items for i in coefs]
    if not _same_tasks(items):
        return None
    variance = 0.0
    for task in items[0]:
        vectors = [it[task] for it in items]
        if not _same_problems(vectors) or len(vectors[0][1]) < 2:
            return None
        contrast = [sum(c * v[1][j] for c, v in zip(coefs.values(), vectors)) for j in range(len(vectors[0][1]))]
        agree, clusters = _shared_labels(vectors)
        if not agree:
            return None  # not paired
        se = mean_and_stderr(contrast, clusters)[1]
        if se is None:
            return None
        variance += se * se
    return math.sqrt(variance) / len(items[0])


def shared_tasks(coefs: dict[int, float], measures: list[Measure]) -> tuple[list[Measure], str] | None:
    """Means over tasks compared on the tasks all of them were scored on (a run scored on more tasks,
    or other ones, would otherwise move the contrast by its choice of tasks); the measures, and a note
    naming the tasks left out, here or already by a mean over replicates scored on different tasks
    (`Measure.left_out`; "" when none was); None when they share no task. Measures that are not means
    over known tasks as they are."""
    used = [measures[i] for i in coefs]
    if any(m.parts is None for m in used):  # tasks unknown on one side: compared as they are, naming any left out
        left_out = sorted(set().union(*(m.left_out for m in used)))
        return measures, (f" (not {', '.join(left_out)}, which not every replicate was scored on)" if left_out else "")
    shared = set.intersection(*(set(m.parts) for m in used))
    if not shared:
        return None
    left_out = sorted(set.union(*(set(m.parts) | m.left_out for m in used)) - shared)
    if not left_out:
        return measures, ""
    out = list(measures)
    for i in coefs:
        out[i] = measures[i] if set(measures[i].parts) == shared else on_tasks(measures[i], shared)
    return out, f" (on the {len(shared)} tasks all were scored on; not {', '.join(left_out)})"


def combine(name: str, coefs: dict[int, float], measures: list[Measure]) -> Effect:
    compared = shared_tasks(coefs, measures)
    if compared is None:
        return Effect(f"{name} (no task in common)", 0.0, None)
    measures, note = compared
    name += note
    value = sum(c * measures[i].value for i, c in coefs.items())
    se = paired_se(coefs, measures)
    seeds = lineage_seed_var(coefs, measures)
    if seeds is None:  # replicates not paired by lineage: each side's seed spread
        seeds = sum(c * c * measures[i].seed_var for i, c in coefs.items())
    # Paired: the problems' error plus the seeds' spread. Each seed's own noise on a problem is in both
    # terms (the per-problem means hold it too): the SE errs large, by at most sqrt(2).
    if se is None:
        errors = [measures[i].problem_se for i in coefs]
        se = None if None in errors else math.sqrt(sum((c * e) ** 2 for c, e in zip(coefs.values(), errors)))
    return Effect(name, value, None if se is None else math.sqrt(se * se + seeds))


def lineage_seed_var(coefs: dict[int, float], measures: list[Measure]) -> float | None:
    """The seed variance of sum_k c_k m_k where the replicates of every measure descend from the same
    ancestors, as many from each (an RL run on each of three SFT seeds, against those SFT runs; or
    against RL runs of more epochs on the same SFT runs): the spread of the contrast ancestor by ancestor,
    seed_variance over ancestors of sum_k c_k (m_k's mean over that ancestor's replicates). An RL run
    that inherits most of its accuracy from its SFT parent then gains by what it adds to that parent;
    each side's spread added (what `combine` does otherwise) counts the parents' spread twice.
    The ancestors are those at the first lineage step where the replicates' runs differ, as
    `Measure.seed_var` nests them; None (not paired) when the measures differ there, a measure
    has one run or unknown lineages, or a measure has more replicates on one ancestor than on another
    (its value, a mean over runs, is then not the mean of its ancestors' means)."""
    used = [(c, measures[i]) for i, c in coefs.items() if c]
    if len(used) < 2 or any(not m.replicate_values or not m.lineages or set(m.lineages) != set(m.replicate_values)
                            for _, m in used):
        return None
    chains = [chain for _, m in used for chain in m.lineages.values()]
    for depth in range(min(map(len, chains))):
        keys = [{run: m.lineages[run][depth] for run in m.replicate_values} for _, m in used]
        found = set().union(*(set(k.values()) for k in keys))
        if "" in found:  # a manifest written before lineages recorded their hashes
            return None
        if len(found) == 1:  # one ancestor shared by every run: they differ further down
            continue
        if any(set(k.values()) != found for k in keys):
            return None
        contrast = dict.fromkeys(found, 0.0)
        for (c, m), key in zip(used, keys):
            groups: dict = {}
            for run, value in m.replicate_values.items():
                groups.setdefault(key[run], []).append(value)
            if len({len(g) for g in groups.values()}) > 1:
                return None
            for ancestor, values in groups.items():
                contrast[ancestor] += c * sum(values) / len(values)
        return seed_variance(list(contrast.values()))
    return None


def saturation(points: list[tuple[float, Measure]]) -> tuple[list[Effect], str]:
    """Diminishing returns along a geometric axis (tokens, epochs): the gain per doubling over the
    first interval (g1) and the last (gL), and g1 - gL with a budget shared by both intervals counted
    once. shown: g1 >= 2 SE and g1 - gL >= 2 SE; contradicted: gL - g1 >= 2 SE or g1 <= -2 SE."""
    xs, ms = [x for x, _ in points], [m for _, m in points]

    def interval(i: int) -> dict[int, float]:
        doublings = math.log2(xs[i + 1] / xs[i])
        return {i: -1 / doublings, i + 1: 1 / doublings}

    first, last = interval(0), interval(len(xs) - 2)
    drop = {k: first.get(k, 0.0) - last.get(k, 0.0) for k in {**first, **last}}
    effects = [combine("first minus last interval, per doubling", drop, ms),
               combine("first-interval gain per doubling", first, ms), combine("last-interval gain per doubling", last, ms)]
    d, g1 = direction(effects[0]), direction(effects[1])
    if d == SHOWN and g1 == SHOWN:
        return effects, SHOWN
    return effects, CONTRADICTED if CONTRADICTED in (d, g1) else NOISY


@dataclass
class Correlation:
    n: int
    r: float | None
    noisy: str | None  # why r is not a result, or None

    @property
    def effect(self) -> Effect | None:
        """Fisher z = atanh(r), whose SE is 1/sqrt(n-3) whatever r is (the SE of r itself depends on r)."""
        if self.r is None or self.n < 4:
            return None
        return Effect("Pearson r; Fisher z = atanh r", math.atanh(max(-0.999999, min(0.999999, self.r))), 1 / math.sqrt(self.n - 3), "z")


def pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3 or not all(math.isfinite(v) for v in (*xs, *ys)):  # a NaN made r NaN, which the clamp read as +1
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sx, sy = math.sqrt(sum((x - mx) ** 2 for x in xs)), math.sqrt(sum((y - my) ** 2 for y in ys))
    if sx == 0 or sy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / (sx * sy)


def correlate(points: list[tuple]) -> Correlation:
    """Pearson r of a predictor against accuracy; too noisy under 4 runs, or when the best and worst
    accuracy differ by less than 2 SE (r would then rank evaluation noise, e.g. runs at the floor)."""
    n = len(points)
    r = pearson([p[0] for p in points], [p[1].value for p in points])
    if n < 4:
        return Correlation(n, r, f"n = {n} < 4")
    lo, hi = min(points, key=lambda p: p[1].value)[1], max(points, key=lambda p: p[1].value)[1]
    if direction(diff("", hi, lo)) != SHOWN:
        return Correlation(n, r, "accuracy spread within 2 SE")
    return Correlation(n, r, None if r is not None else "no spread in the predictor")
