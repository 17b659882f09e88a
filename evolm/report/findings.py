"""The paper's nine findings (EvoLM, arXiv 2506.16029, section 5), each tested on the runs present.

A finding becomes zero or more *tests*, each a comparison of *conditions*: one point of the study
(stage, preset, lineage knobs, finished or not, for an unfinished schedule the tokens it had
consumed, and the training settings of the run and its ancestors: learning rate, schedule...). Rows
that share a condition differ only in seed and are averaged as replicates. A finding compares
conditions trained with the same settings (F2 excepted: its presets have their own defaults), and
conditions that differ only in settings are named with them ("1M-500KT [lr=0.01]"). Every number carries a standard
error, and every verdict comes from one rule, applied in code, never typed in:

    shown         the effect in the paper's direction is at least 2 standard errors
    contradicted  the effect in the opposite direction is at least 2 standard errors
    too noisy     the runs exist but |effect| < 2 SE, or the accuracies compared sit at the floor
    not tested    the runs the finding needs are absent
    mixed         some tests of the finding show it and others contradict it

How effects and their standard errors are computed (paired over problems, replicates averaged) is
`evolm.report.estimates`; which runs are one condition is `evolm.report.conditions`. Accuracy is
in-domain pass@1 (the paper's `id` group, else the synthetic `synth-id`) unless a finding says otherwise.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Callable

from evolm.report.collect import with_settings
from evolm.report.conditions import Condition, conditions
from evolm.report.estimates import (CONTRADICTED, MIXED, NOISY, NOT_TESTED, SHOWN, Z, Correlation, Effect, Measure, at_floor,
                                    correlate, diff, direction, pct, saturation)
from evolm.report.rows import swept_knobs
from evolm.units import format_count

FLOP_MATCH = 0.30  # F2: FLOPs within 30% count as equal compute
TOKEN_MATCH = 0.01  # F9: a finished run within 1% of the tokens an intermediate checkpoint had seen


@dataclass
class Test:
    runs: list[str]
    effects: list[Effect]  # the first is the headline
    verdict: str
    detail: str
    shas: list[str] = field(default_factory=list)
    series: dict | None = None  # {"title", "x", "lines": {label: [(x, value, se)]}} for a plot


def _test(conds: list[Condition], effects: list[Effect], verdict: str, detail: str, series: dict | None = None) -> Test:
    return Test([c.name for c in conds], effects, verdict, detail, [r["manifest_sha256"] for c in conds for r in c.rows], series)


@dataclass
class Finding:
    id: str
    title: str
    claim: str
    rule: str  # the verdict rule in a few words
    needs: str  # the runs that would test it
    tests: list[Test] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # measured, not verdict-bearing

    @property
    def verdict(self) -> str:
        """not tested without tests; mixed when tests show and contradict; else shown, contradicted, too noisy."""
        found = {t.verdict for t in self.tests}
        if not found:
            return NOT_TESTED
        if SHOWN in found:
            return MIXED if CONTRADICTED in found else SHOWN
        if CONTRADICTED in found:
            return CONTRADICTED
        return MIXED if MIXED in found else NOISY

    @property
    def headline(self) -> Test | None:
        """The test that carries the verdict, the most decisive one (largest |effect| / SE) if several."""
        def strength(t: Test) -> float:
            e = t.effects[0] if t.effects else None
            return 0.0 if e is None or e.se is None else math.inf if e.se == 0 else abs(e.value) / e.se

        matching = [t for t in self.tests if t.verdict == self.verdict] or self.tests
        return max(matching, key=strength, default=None)

    def to_json(self) -> dict:
        head = self.headline
        return {"id": self.id, "title": self.title, "claim": self.claim, "rule": self.rule, "verdict": self.verdict,
                "effect": asdict(head.effects[0]) if head and head.effects else None, "runs": head.runs if head else [],
                "needs": self.needs, "tests": [asdict(t) for t in self.tests], "notes": self.notes}


def _by(conds: list[Condition], key: Callable[[Condition], object]) -> dict:
    groups: dict = {}
    for c in conds:
        groups.setdefault(key(c), []).append(c)
    return groups


def _done(conds: list[Condition], stage: str) -> list[Condition]:
    """Finished runs of a stage: an unfinished schedule is not the point the paper compares (F9 excepted)."""
    return [c for c in conds if c.get("stage") == stage and c.get("completed")]


def _knobs_but(c: Condition, *skip: str) -> tuple:
    return (c.get("preset"), *(c.get(k) for k in swept_knobs() if k not in skip))


def per_parameter(c: Condition) -> float | None:
    """A pre-training budget in tokens per parameter (the paper's Chinchilla-style axis), where both are recorded."""
    tokens, params = c.get("pretrain_tokens"), c.get("params")
    return tokens / params if tokens and params else None


def f1(conds: list[Condition]) -> Finding:
    """Per preset with >= 3 finished pre-training budgets that have upstream results: the upstream
    average's gain per doubling of tokens saturates, by the rule of `saturation`."""
    f = Finding("F1", "pre-training: diminishing returns", "upstream accuracy rises with tokens, with sharply diminishing returns",
                "first-interval gain >= 2 SE and >= last + 2 SE (per doubling)",
                ">= 3 finished pre-training budgets of one preset with upstream results")
    for (preset, _), group in _by(_done(conds, "pretrain"), lambda c: (c.get("preset"), c.settings())).items():
        pts = sorted(((c.get("pretrain_tokens"), c.measure("upstream_avg"), c) for c in group
                      if c.get("pretrain_tokens") and c.measure("upstream_avg")), key=lambda p: p[0])
        if len(pts) >= 3:
            effects, verdict = saturation([(x, m) for x, m, _ in pts])
            detail = (f"{with_settings(preset, pts[0][2].label)} upstream avg " + ", ".join(f"{format_count(x)}: {pct(m)}" for x, m, _ in pts)
                      + f"; gain per doubling first {effects[1].text()}, last {effects[2].text()}")
            ratios = [per_parameter(c) for *_, c in (pts[0], pts[-1])]
            if None not in ratios:  # the paper's saturation is past 80-160 tokens per parameter: say where these runs are
                detail += f"; {ratios[0]:.3g} to {ratios[1]:.3g} tokens per parameter (the paper saturates past 80-160)"
            f.tests.append(_test([c for *_, c in pts], effects, verdict, detail))
    f.notes += _downstream_by_budget(conds)
    return f


def _downstream_by_budget(conds: list[Condition]) -> list[str]:
    """The paper's downstream side of F1 (gains saturate past about 80BT for 1B, and may even turn), as
    notes, not judged: post-trained models alike but for their pre-training budget, ID pass@1 per
    budget and the largest budget's minus the smallest's."""
    post = [c for c in conds if c.get("stage") in ("sft", "rl") and c.get("completed") and c.acc() is not None]
    notes = []
    for group in _by(post, lambda c: (_knobs_but(c, "pretrain_tokens"), c.settings())).values():
        group = sorted((c for c in group if c.get("pretrain_tokens")), key=lambda c: c.get("pretrain_tokens"))
        if len({c.get("pretrain_tokens") for c in group}) < 2:
            continue
        first, last = group[0], group[-1]
        notes.append(f"downstream ({', '.join(c.name for c in group)}): ID pass@1 "
                     + ", ".join(f"{format_count(c.get('pretrain_tokens'))}: {pct(c.acc())}" for c in group)
                     + f"; {format_count(last.get('pretrain_tokens'))} minus {format_count(first.get('pretrain_tokens'))} "
                     + diff("", last.acc(), first.acc()).text() + " (not judged: the paper sees downstream gains flatten past 80BT for 1B)")
    return notes


def f2(conds: list[Condition]) -> Finding:
    """Finished pre-training runs of two presets whose FLOPs (6 x params x tokens, all the tokens the
    model saw: a WSD budget branch's own FLOPs count only the steps it trained itself, `lineage_flops` adds the stable
    run's tokens it shares) are within 30%:
    upstream average of the smaller model (trained on more tokens) minus the larger's. shown >= 2 SE;
    contradicted when the larger wins by >= 2 SE. Larger vs smaller at equal tokens (where the paper
    finds the larger wins once pre-training saturates) is reported as a note, not judged."""
    f = Finding("F2", "equal compute: smaller and longer vs larger", "at equal compute a smaller, longer-trained model can beat a larger one",
                "smaller-model upstream - larger >= 2 SE at FLOPs within 30%",
                "finished pre-training runs of two presets with FLOPs within 30% and upstream results")
    def flops(c: Condition) -> float | None:
        return c.get("lineage_flops") if c.get("lineage_flops") is not None else c.get("flops")

    pts = [c for c in _done(conds, "pretrain") if c.measure("upstream_avg") and flops(c) and c.get("params")]
    for a, b in combinations(pts, 2):
        if a.get("params") == b.get("params"):
            continue
        small, large = sorted((a, b), key=lambda c: c.get("params"))
        effect = diff("smaller minus larger upstream avg", small.measure("upstream_avg"), large.measure("upstream_avg"))
        if abs(flops(a) - flops(b)) <= FLOP_MATCH * max(flops(a), flops(b)):
            f.tests.append(_test([small, large], [effect], direction(effect),
                                 f"{small.name} {pct(small.measure('upstream_avg'))} vs {large.name} "
                                 f"{pct(large.measure('upstream_avg'))} at {flops(small):.3g} vs {flops(large):.3g} FLOPs"))
        elif small.get("pretrain_tokens") == large.get("pretrain_tokens"):
            f.notes.append(f"equal tokens ({format_count(small.get('pretrain_tokens'))}): larger {large.name} minus smaller "
                           f"{small.name}: {Effect('', -effect.value, effect.se).text()}")
    return f


def f3(conds: list[Condition]) -> Finding:
    """Forgetting = parent upstream - CPT without replay; recovery = CPT with replay - without (the
    no-replay run with the same total tokens, else the same domain tokens, else the nearest total).
    shown: both >= 2 SE; contradicted: either <= -2 SE; else too noisy."""
    f = Finding("F3", "CPT forgetting and replay", "CPT without replay forgets; moderate replay fixes most of it",
                "forgetting >= 2 SE and replay recovery >= 2 SE",
                "CPT runs from one parent with and without replay, upstream results on all three")
    parents = [c for c in _done(conds, "pretrain") if c.measure("upstream_avg")]
    cpts = [c for c in _done(conds, "cpt") if c.measure("upstream_avg") and any(c.parent is p for p in parents)]
    for c in _done(conds, "cpt"):
        if c.parent is None and any(p.get("signature") == c.get("parent") for p in parents):
            f.notes.append(f"{c.name} not compared: its parent {c.get('parent')} is not in this folder as it was "
                           "(the checkpoint of that signature here is another one: re-run or overwritten since)")
    total = lambda c: (c.get("cpt_domain_tokens") or 0) + (c.get("cpt_replay_tokens") or 0)  # noqa: E731
    # Runs are compared with the checkpoints they started from, and with and without replay only from the
    # same ones: one of two pre-training seeds against the mean of both counted the other seed's deviation
    # as forgetting, and a replay run on one seed against a run without replay on the other as recovery.
    for group in _by(cpts, lambda c: (id(c.parent), c.parent_checkpoints(), c.settings())).values():
        parent = group[0].started_from()
        plain = [c for c in group if not c.get("cpt_replay_tokens")]
        replayed = [c for c in group if c.get("cpt_replay_tokens")]
        if not replayed:
            for c in plain:
                f.notes.append(f"forgetting without a replay run to compare: {c.name} "
                               f"{diff('', parent.measure('upstream_avg'), c.measure('upstream_avg')).text()}")
        if not plain:
            f.notes.append(f"replay without a run without it from the same checkpoints ({parent.name}) to compare: "
                           + ", ".join(c.name for c in replayed))
        for rep in replayed if plain else []:
            bare = min(plain, key=lambda c: (total(c) != total(rep), c.get("cpt_domain_tokens") != rep.get("cpt_domain_tokens"),
                                             abs(total(c) - total(rep))))
            p, n, r = parent.measure("upstream_avg"), bare.measure("upstream_avg"), rep.measure("upstream_avg")
            effects = [diff("replay recovery (replay - no replay)", r, n), diff("forgetting (parent - no replay)", p, n)]
            verdicts = {direction(e) for e in effects}
            verdict = SHOWN if verdicts == {SHOWN} else CONTRADICTED if CONTRADICTED in verdicts else NOISY
            trio = (("parent", parent), ("no replay", bare), ("replay", rep))
            # The second measure of forgetting: validation loss on the pre-training data, as training measured it
            # (manifest) and as `evolm eval --val-data` did, where it was run.
            losses = [f"{what}: " + ", ".join(f"{label} {m.value:.3f}" for label, c in trio if (m := c.measure(column)))
                      for what, column in (("val loss on pre-training data (training)", "train_val_loss"),
                                           ("evaluated val loss", "val_loss"))
                      if any(c.get(column) is not None for _, c in trio)]
            f.tests.append(_test([parent, bare, rep], effects, verdict,
                                 f"upstream avg parent {pct(p)}, no replay {pct(n)}, replay {pct(r)}; forgetting {effects[1].text()}, "
                                 f"recovery {effects[0].text()}" + "".join(f"; {line}" for line in losses)))
    return f


def _cpt_ladders(sfts: list[Condition], domain: Callable[[Condition], int]) -> list[list[Condition]]:
    """SFT conditions that differ only in their base's CPT domain tokens: same SFT knobs and settings, same
    pre-training; one ladder per CPT setting (CPT at two learning rates is two ladders), the base
    without CPT (which has no CPT settings) on each."""
    ladders = []
    for same in _by(sfts, lambda c: (c.get("preset"), c.get("pretrain_tokens"), c.get("cpt_replay_tokens") or 0,
                                     c.get("sft_examples"), c.get("sft_epochs"), c.settings("pretrain", "sft"))).values():
        plain = [c for c in same if not domain(c)]
        by_cpt = _by([c for c in same if domain(c)], lambda c: c.settings("cpt"))
        ladders += [plain + cpted for cpted in by_cpt.values()] or [plain]
    return ladders


def f4(conds: list[Condition]) -> Finding:
    """SFT with identical knobs on bases differing only in CPT domain tokens (no CPT = 0): accuracy
    with the most CPT minus the least. shown >= 2 SE; contradicted <= -2 SE; at the floor: too noisy."""
    f = Finding("F4", "more domain CPT helps SFT (and RL)", "without enough domain CPT SFT is weak; more CPT raises SFT and the RL gain",
                "ID pass@1 (most CPT - least) >= 2 SE", "SFT runs with the same SFT knobs on bases with different CPT domain tokens")
    sfts = [c for c in _done(conds, "sft") if c.acc()]
    rls = [c for c in _done(conds, "rl") if c.acc()]
    domain = lambda c: c.get("cpt_domain_tokens") or 0  # noqa: E731
    for group in _cpt_ladders(sfts, domain):
        if len({domain(c) for c in group}) < 2:
            continue
        group.sort(key=domain)
        lo, hi = group[0], group[-1]
        effect = diff("ID pass@1, most CPT - least", hi.acc(), lo.acc())
        verdict = NOISY if at_floor(lo.acc(), hi.acc()) else direction(effect)
        gains = []
        for sft in group:
            for rl in (r for r in rls if r.parent is sft):
                gains.append(f"{format_count(domain(sft))} CPT tokens: {rl.get('signature')} {diff('', rl.acc(), rl.started_from().acc()).text()}")
        f.tests.append(_test([lo, hi], [effect], verdict, f"ID pass@1 {lo.name} {pct(lo.acc())} -> {hi.name} {pct(hi.acc())}"
                             + (f"; RL gain over its SFT parent: {'; '.join(gains)}" if gains else "")))
    return f


def _series(title: str, x: str, points: list[tuple[float, Condition]], lines: dict[str, tuple[int, str]]) -> dict:
    out = {}
    for label, (domain, metric) in lines.items():
        out[label] = [(px, m.value, m.se) for px, c in points if (m := c.acc(domain, metric)) is not None]
    return {"title": title, "x": x, "lines": out}


def f5(conds: list[Condition]) -> Finding:
    """An SFT epoch sweep (same base and examples, >= 3 epoch values): ID pass@1 saturates by the
    rule of F1 (per doubling of epochs); ID accuracies all at the floor: too noisy. The epoch at which
    OOD pass@1 peaks is reported."""
    f = Finding("F5", "SFT epochs: in-domain saturates", "in-domain accuracy saturates with SFT epochs; out-of-domain peaks early",
                "first-interval ID gain >= 2 SE and >= last + 2 SE (per doubling)", "an SFT epoch sweep (>= 3 values) on one base")
    for _, group in _by([c for c in _done(conds, "sft") if c.acc() and c.get("sft_epochs")],
                        lambda c: (_knobs_but(c, "sft_epochs"), c.settings())).items():
        if len(group) < 3:
            continue
        pts = sorted(((c.get("sft_epochs"), c) for c in group), key=lambda p: p[0])
        effects, verdict = saturation([(x, c.acc()) for x, c in pts])
        if at_floor(*(c.acc() for _, c in pts)):
            verdict = NOISY
        detail = "ID pass@1 " + ", ".join(f"ep{x:g}: {pct(c.acc())}" for x, c in pts)
        ood = [(x, c.acc(1)) for x, c in pts if c.acc(1)]
        if ood:
            peak = max(ood, key=lambda p: p[1].value)
            detail += f"; OOD pass@1 peaks at {peak[0]:g} epochs ({pct(peak[1])}" + (
                f"; at {ood[-1][0]:g}: {pct(ood[-1][1])})" if peak[0] != ood[-1][0] else ")")
        f.tests.append(_test([c for _, c in pts], effects, verdict, detail,
                             _series(with_settings(f"SFT epochs: {pts[0][1].get('base')}, "
                                                   f"{format_count(pts[0][1].get('sft_examples'))} examples", pts[0][1].label),
                                     "SFT epochs", pts,
                                     {"ID pass@1": (0, "pass@1"), "OOD pass@1": (1, "pass@1")})))
    return f


def f6(conds: list[Condition]) -> Finding:
    """An RL epoch sweep (>= 2 RL epoch values, same examples, SFT parent and samples per problem; the
    parent, sampled alike, is 0 epochs), on ID metrics from the point where pass@K peaks to the most
    epochs (the paper's claim is about RL past its gains: an early rise of pass@K followed by a fall
    is its pattern, not a counterexample), or from the fewest epochs when pass@K peaks at the most.
    shown: correct ratio rises >= 2 SE and pass@K does not; contradicted: pass@K rises >= 2 SE with
    correct ratio flat, or correct ratio falls >= 2 SE; mixed: both rise >= 2 SE; else (or pass@K at
    the floor) too noisy."""
    f = Finding("F6", "RL epochs: sharpens, not widens", "past saturation RL raises the correct ratio while Pass@K stops rising",
                "correct ratio up >= 2 SE, pass@K not up >= 2 SE", "an RL epoch sweep (>= 2 values) from one SFT parent")
    rls = [c for c in _done(conds, "rl") if c.acc() and c.get("rl_epochs")]
    def sampled(c: Condition) -> bool:
        return None not in (c.acc(0, "correct_ratio"), c.acc(0, "pass@K"))

    # pass@K compares only at the same K: runs sampled otherwise are another sweep
    for _, group in _by(rls, lambda c: (_knobs_but(c, "rl_epochs"), id(c.parent), c.settings(), c.get("samples_K"))).items():
        pts = sorted(((c.get("rl_epochs"), c) for c in group if sampled(c)), key=lambda p: p[0])
        if len(pts) < 2:
            continue
        # epoch 0: the SFT checkpoints the most-epochs runs started from, which every contrast reads (RL runs of
        # fewer epochs may start from more seeds of the same SFT condition, averaged in as replicates)
        parent = pts[-1][1].started_from()
        if (parent is not None and parent.get("stage") == "sft" and parent.get("completed") and parent.acc()
                and parent.get("samples_K") == group[0].get("samples_K") and sampled(parent)):
            pts.insert(0, (0.0, parent))
        peak = max(range(len(pts)), key=lambda i: pts[i][1].acc(0, "pass@K").value)
        (x0, lo), (x1, hi) = pts[peak if peak < len(pts) - 1 else 0], pts[-1]
        ratio = diff(f"ID correct ratio, {x1:g} - {x0:g} epochs", hi.acc(0, "correct_ratio"), lo.acc(0, "correct_ratio"))
        widen = diff(f"ID pass@K, {x1:g} - {x0:g} epochs", hi.acc(0, "pass@K"), lo.acc(0, "pass@K"))
        r, w = direction(ratio), direction(widen)
        if at_floor(lo.acc(0, "pass@K"), hi.acc(0, "pass@K")):
            verdict = NOISY
        elif r == SHOWN:
            verdict = MIXED if w == SHOWN else SHOWN
        else:
            verdict = CONTRADICTED if r == CONTRADICTED or w == SHOWN else NOISY
        detail = ", ".join(f"ep{x:g}: pass@K {pct(c.acc(0, 'pass@K'))} correct ratio {pct(c.acc(0, 'correct_ratio'))}" for x, c in pts)
        f.tests.append(_test([c for _, c in pts], [ratio, widen], verdict, f"ID (K={hi.get('samples_K')}) {detail}",
                             _series(with_settings(f"RL epochs: {hi.get('parent')}", hi.label),
                                     "RL epochs (0 = SFT parent)", pts,
                                     {"ID pass@K": (0, "pass@K"), "ID correct ratio": (0, "correct_ratio"),
                                      "OOD pass@K": (1, "pass@K"), "OOD correct ratio": (1, "correct_ratio")})))
    return f


def f7(conds: list[Condition]) -> Finding:
    """RL runs on one base whose SFT + RL examples are equal (>= 2 splits): the most-SFT split's ID
    pass@1 minus the most-RL split's, and the most-RL split's OOD pass@1 minus the most-SFT split's.
    shown: both >= 2 SE; contradicted: either <= -2 SE; else (or either domain at the floor) too noisy."""
    f = Finding("F7", "SFT/RL split of a fixed budget", "more SFT favours in-domain, more RL favours out-of-domain",
                "ID(most SFT) - ID(most RL) >= 2 SE and OOD(most RL) - OOD(most SFT) >= 2 SE",
                "RL runs on one base with equal SFT + RL examples split two or more ways")
    runs = [c for c in _done(conds, "rl") if c.acc() and c.acc(1) and c.get("sft_examples") and c.get("rl_examples")]
    for _, group in _by(runs, lambda c: (c.get("base"), c.get("sft_examples") + c.get("rl_examples"),
                                         c.get("sft_epochs"), c.get("rl_epochs"), c.settings())).items():
        if len({c.get("sft_examples") for c in group}) < 2:
            continue
        group.sort(key=lambda c: c.get("sft_examples"))
        rl, sft = group[0], group[-1]
        effects = [diff("ID pass@1, most SFT - most RL", sft.acc(), rl.acc()), diff("OOD pass@1, most RL - most SFT", rl.acc(1), sft.acc(1))]
        verdicts = {direction(e) for e in effects}
        if at_floor(sft.acc(), rl.acc()) or at_floor(sft.acc(1), rl.acc(1)):
            verdict = NOISY
        else:
            verdict = SHOWN if verdicts == {SHOWN} else CONTRADICTED if CONTRADICTED in verdicts else NOISY
        f.tests.append(_test([sft, rl], effects, verdict, f"{sft.name}: ID {pct(sft.acc())} OOD {pct(sft.acc(1))}; "
                             f"{rl.name}: ID {pct(rl.acc())} OOD {pct(rl.acc(1))}"))
    return f



def predictor_points(conds: list[Condition], predictor: str, domain: int) -> list[tuple[float, Measure, Condition]]:
    """(predictor, accuracy, condition) per finished post-trained condition: `rm_score` of the same group, or `val_loss`."""
    points = []
    for c in conds:
        if c.get("stage") not in ("sft", "rl") or not c.get("completed") or c.acc(domain) is None:
            continue
        x = c.measure("val_loss") if predictor == "val_loss" else c.acc(domain, "rm_score")
        if x is not None:
            points.append((x.value, c.acc(domain), c))
    return points


def f8(conds: list[Condition]) -> Finding:
    """r(reward-model score, ID pass@1) over >= 4 post-trained runs. shown: its Fisher z >= 2 SE and,
    where validation loss was measured (on >= 4 of those runs with an accuracy spread over 2 SE), its
    |z| is below the reward model's on the same runs by >= 2 SE of the difference; contradicted: z <= -2 SE, or validation
    loss correlates at 2 SE itself and is not clearly weaker (the paper's r about 0 is then refuted);
    else too noisy (see `correlate`). The difference's SE treats the two z as independent,
    which overstates it where the predictors correlate (Steiger's test would not): a stricter bar for
    'shown'. A point comparison of the two r (the rule before) called +0.94 against +0.93 shown."""
    f = Finding("F8", "reward-model score tracks accuracy, val loss does not",
                "RM score correlates with accuracy (r 0.6-0.8); validation loss does not",
                "Fisher z of r(RM, acc) >= 2 SE; |z| of r(val loss, acc) 2 SE (of the difference) below it",
                ">= 4 post-trained runs evaluated with `evolm eval --reward-model` (rm_score)")
    points = predictor_points(conds, "rm_score", 0)
    rm = correlate(points)
    if rm.n < 4:
        return f
    # validation loss over the runs the reward model scored: r over other runs would compare other models
    val = correlate(predictor_points([c for *_, c in points], "val_loss", 0))
    z = rm.effect
    val_z = val.effect if val.effect is not None and not val.noisy else None  # a too-noisy val-loss r neither supports nor refutes
    val_tracks = val_z is not None and direction(val_z) != NOISY
    gap = None
    if rm.noisy or z is None:
        verdict = NOISY
    elif direction(z) == CONTRADICTED:
        verdict = CONTRADICTED
    elif val_z is None:
        verdict = SHOWN if direction(z) == SHOWN else NOISY
    else:
        # the reward model's z on the same runs as validation loss's, where it was measured on fewer
        paired = z if val.n == rm.n else correlate([p for p in points if p[2].measure("val_loss") is not None]).effect
        gap = Effect("|z(RM)| - |z(val loss)|", paired.value - abs(val_z.value), math.hypot(paired.se, val_z.se), "z")
        if direction(z) == SHOWN and direction(gap) == SHOWN:
            verdict = SHOWN
        else:  # validation loss predicts about as well: the paper's r about 0 refuted where it correlates itself
            verdict = CONTRADICTED if val_tracks else NOISY

    def text(c: Correlation) -> str:
        return "–" if c.r is None else f"{c.r:+.2f} over {c.n} runs" + (f" ({NOISY}: {c.noisy})" if c.noisy else "")

    ood = correlate(predictor_points(conds, "rm_score", 1))
    f.tests.append(_test([c for *_, c in points], [z] if z else [], verdict,
                         f"r(RM score, ID pass@1) {text(rm)}; r(val loss, ID pass@1) "
                         f"{text(val) if val.n else 'not measured'}"
                         + (f" (|z| below RM's by {gap.value:+.2f} ± {gap.se:.2f})" if gap else "")
                         + f"; r(RM score, OOD pass@1) {text(ood)}"))
    return f


def _same_budget(mid: Condition, full: Condition) -> bool:
    """The finished run's budget is the export's: the count asked for with --export-at, or (exports
    land on whole steps, so 5K is taken at 5,120 tokens) budget or tokens done within 1% of the
    tokens the export had consumed."""
    seen = mid.get("tokens_done")
    if mid.get("export_count") is not None and full.get("pretrain_tokens") == mid.get("export_count"):
        return True
    return any(v is not None and abs(v - seen) <= TOKEN_MATCH * seen for v in (full.get("pretrain_tokens"), full.get("tokens_done")))


def f9(conds: list[Condition]) -> Finding:
    """An unfinished pre-training checkpoint (an --export-at export) at T tokens vs a finished run of
    the same preset whose budget is T (`_same_budget`): decayed minus intermediate upstream avg.
    shown >= 2 SE; contradicted <= -2 SE. The validation-loss difference is reported alongside."""
    f = Finding("F9", "intermediate checkpoints understate", "an intermediate checkpoint understates a run decayed at that budget",
                "decayed - intermediate upstream >= 2 SE", "an unfinished pre-training checkpoint and a finished run of that budget")
    done = [c for c in _done(conds, "pretrain") if c.measure("upstream_avg")]
    for mid in (c for c in conds if c.get("stage") == "pretrain" and not c.get("completed") and c.get("tokens_done")):
        if not mid.measure("upstream_avg"):
            continue
        for full in (c for c in done if c.get("preset") == mid.get("preset") and c.settings() == mid.settings() and _same_budget(mid, c)):
            effect = diff("decayed - intermediate upstream avg", full.measure("upstream_avg"), mid.measure("upstream_avg"))
            loss = [(c.measure("val_loss") or c.measure("train_val_loss")) for c in (mid, full)]
            ratio = per_parameter(full)
            budget = f"at {format_count(full.get('pretrain_tokens'))} tokens" + (f" ({ratio:.3g} per parameter)" if ratio else "")
            f.tests.append(_test([mid, full], [effect], direction(effect),
                                 (f"{full.label}: " if full.label else "") + budget
                                 + f": upstream avg {pct(mid.measure('upstream_avg'))} intermediate vs {pct(full.measure('upstream_avg'))} decayed"
                                 + (f"; val loss {loss[0].value:.3f} vs {loss[1].value:.3f}" if None not in loss else "")))
    return f


FINDINGS = (f1, f2, f3, f4, f5, f6, f7, f8, f9)


def evaluate(rows: list[dict]) -> list[Finding]:
    """Every finding, tested on the report's rows."""
    conds = conditions(rows)
    return [finding(conds) for finding in FINDINGS]


def mark_rows(rows: list[dict], findings: list[Finding]) -> None:
    """Add a `findings` column: the findings each row takes part in (F1,F5)."""
    used: dict[str, list[str]] = {}
    for f in findings:
        for sha in {s for t in f.tests for s in t.shas}:
            used.setdefault(sha, []).append(f.id)
    for row in rows:
        row["findings"] = ",".join(used.get(row["manifest_sha256"], []))


def to_json(findings: list[Finding]) -> dict:
    rule = (f"shown / contradicted when the effect is >= {Z:g} SE in / against the paper's direction; too noisy below "
            "that or at the floor; not tested without the runs; mixed when comparisons disagree")
    return {"schema": "evolm.report.findings/1", "rule": rule, "findings": [f.to_json() for f in findings]}
