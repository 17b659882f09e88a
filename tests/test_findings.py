"""The report's Findings: each of the paper's nine findings judged by its rule (2 standard errors)
on small fabricated rows, and `evolm report` writing the section and findings.json."""

import itertools
import json
import math
import re

import pytest

from evolm.report import estimates, findings
from evolm.report.conditions import conditions
from evolm.report.estimates import CONTRADICTED, MIXED, NOISY, NOT_TESTED, SHOWN
from evolm.report.rows import swept_knobs
from evolm.report.tables import correlation_table
from fake_runs import add_downstream, add_upstream, build, make_run

_sha = itertools.count()


def row(stage, signature, parent=None, *, completed=True, seed=0, **fields):
    r = {k: None for k in swept_knobs()}
    r.update(stage=stage, signature=signature, parent=parent, base=signature, manifest_sha256=f"sha{next(_sha)}", preset="1M",
             params=1_000_000, completed=completed, seed=seed, tokens_done=None, flops=None, samples_K=4)
    r.update(fields)
    return r


def pt(tokens, avg, se=0.005, *, preset="1M", params=1_000_000, **fields):
    flops = fields.pop("flops", 6.0 * params * (fields.get("tokens_done") or tokens))
    return row("pretrain", f"{preset}-{tokens}T", pretrain_preset=preset, pretrain_tokens=tokens, preset=preset, params=params,
               flops=flops, **{"upstream_avg": avg, "upstream_avg:se": se, **fields})


def cpt(domain, replay, avg, se=0.005, parent="1M-400000T"):
    return row("cpt", f"{parent}-{replay}+{domain}", parent, pretrain_preset="1M", pretrain_tokens=400_000, cpt_domain_tokens=domain,
               cpt_replay_tokens=replay, upstream_avg=avg, **{"upstream_avg:se": se})


def acc(group, metric, value, se=0.01):
    return {f"{group}:{metric}": value, f"{group}:{metric}:se": se}


def down(id1, ood1=None, se=0.01, *, pass_k=None, ratio=None, rm=None, real=False):
    ids, oods = ("id", "ood") if real else ("synth-id", "synth-ood")
    out = acc(ids, "pass@1", id1, se)
    if ood1 is not None:
        out.update(acc(oods, "pass@1", ood1, se))
    if pass_k is not None:
        out.update(acc(ids, "pass@K", pass_k, se))
    if ratio is not None:
        out.update(acc(ids, "correct_ratio", ratio, se))
    if rm is not None:
        out.update(acc(ids, "rm_score", rm, se))
    return out


def sft(examples, epochs, metrics, *, domain=300_000, parent=None, **fields):
    base = parent or (f"1M-400000T-{domain}" if domain else "1M-400000T")
    return row("sft", f"{base}-{examples}ep{epochs}", base, base=base, pretrain_preset="1M", pretrain_tokens=400_000,
               cpt_domain_tokens=domain or None, cpt_replay_tokens=0 if domain else None, sft_examples=examples, sft_epochs=epochs,
               **metrics, **fields)


def rl(parent_row, examples, epochs, metrics):
    knobs = {k: parent_row[k] for k in swept_knobs() if k.startswith(("pretrain", "cpt", "sft"))}
    return row("rl", f"{parent_row['signature']}-{examples}ep{epochs}", parent_row["signature"], base=parent_row["base"],
               rl_examples=examples, rl_epochs=epochs, **knobs, **metrics)


def judge(number, rows):
    return findings.FINDINGS[number - 1](conditions(rows))


# F1: pre-training returns per doubling of tokens, first interval vs last


def test_f1_diminishing_returns():
    f = judge(1, [pt(100_000, 0.30), pt(200_000, 0.40), pt(400_000, 0.42)])
    drop, first, last = f.tests[0].effects
    assert f.verdict == SHOWN
    assert first.value == pytest.approx(0.10) and first.se == pytest.approx(math.sqrt(2) * 0.005)
    assert last.value == pytest.approx(0.02)
    # the middle budget is in both intervals: counted once, with coefficient 2
    assert drop.value == pytest.approx(0.08) and drop.se == pytest.approx(math.sqrt(6) * 0.005)
    # where the budgets sit against the paper's saturation point, from the runs' parameter counts
    assert f.tests[0].detail.endswith("; 0.1 to 0.4 tokens per parameter (the paper saturates past 80-160)")
    assert judge(1, [pt(100_000, 0.30), pt(200_000, 0.31), pt(400_000, 0.40)]).verdict == CONTRADICTED
    noisy = judge(1, [pt(100_000, 0.30, 0.03), pt(200_000, 0.33, 0.03), pt(400_000, 0.35, 0.03)])
    assert noisy.verdict == NOISY and noisy.tests[0].effects[0].value == pytest.approx(0.01)
    # two finished budgets and an unfinished third are not a curve
    absent = judge(1, [pt(100_000, 0.30), pt(200_000, 0.40), pt(400_000, 0.42, completed=False, tokens_done=300_000)])
    assert absent.verdict == NOT_TESTED and absent.tests == []


def test_f1_gain_is_per_doubling():
    f = judge(1, [pt(100_000, 0.30), pt(400_000, 0.40), pt(800_000, 0.45)])  # 2 doublings, then 1
    assert f.tests[0].effects[1].value == pytest.approx(0.05) and f.tests[0].effects[2].value == pytest.approx(0.05)
    assert f.verdict == NOISY


# F2: equal compute


def big(tokens, avg, **fields):
    return pt(tokens, avg, preset="4M", params=4_000_000, **fields)


def test_f2_equal_compute():
    f = judge(2, [pt(400_000, 0.40), big(100_000, 0.35)])  # 6 x 1M x 400K = 6 x 4M x 100K
    assert f.verdict == SHOWN and f.tests[0].effects[0].value == pytest.approx(0.05)
    assert f.tests[0].effects[0].se == pytest.approx(math.hypot(0.005, 0.005))
    assert f.tests[0].runs == ["1M-400000T", "4M-100000T"]
    assert judge(2, [pt(400_000, 0.35), big(100_000, 0.40)]).verdict == CONTRADICTED
    assert judge(2, [pt(400_000, 0.40), big(100_000, 0.395)]).verdict == NOISY
    # FLOPs 16x apart: no equal-compute pair; the equal-token pair is reported, not judged
    far = judge(2, [pt(100_000, 0.30), big(100_000, 0.38), big(400_000, 0.45)])
    assert far.verdict == NOT_TESTED and len(far.notes) == 1 and "larger 4M-100000T minus smaller 1M-100000T: +8.0 ± 0.7 pp" in far.notes[0]


def test_f2_counts_the_tokens_a_wsd_branch_shares_with_its_stable_run():
    # a 400K-token budget branch decayed over its last 80K tokens: its own FLOPs are the decay's, its model's
    # all 400K tokens' (lineage_flops); a 4M run at 20K tokens matches the first, not the second
    branch = pt(400_000, 0.40, flops=6.0 * 1_000_000 * 80_000, lineage_flops=6.0 * 1_000_000 * 400_000)
    assert judge(2, [branch, big(20_000, 0.30)]).verdict == NOT_TESTED
    assert judge(2, [branch, big(100_000, 0.35)]).verdict == SHOWN


# F3: forgetting and replay


def test_f3_forgetting_and_replay():
    parent = pt(400_000, 0.40)
    f = judge(3, [parent, cpt(300_000, 0, 0.30), cpt(240_000, 60_000, 0.38), cpt(150_000, 0, 0.34)])
    recovery, forgetting = f.tests[0].effects
    assert f.verdict == SHOWN
    assert forgetting.value == pytest.approx(0.10) and recovery.value == pytest.approx(0.08)  # paired with the 300K no-replay run
    assert f.tests[0].runs[1] == "1M-400000T-0+300000"
    assert judge(3, [parent, cpt(300_000, 0, 0.30), cpt(240_000, 60_000, 0.25)]).verdict == CONTRADICTED
    assert judge(3, [parent, cpt(300_000, 0, 0.395), cpt(240_000, 60_000, 0.40)]).verdict == NOISY
    alone = judge(3, [parent, cpt(300_000, 0, 0.30)])
    assert alone.verdict == NOT_TESTED and "+10.0 ± 0.7 pp" in alone.notes[0]


def test_f3_compares_cpt_runs_with_the_checkpoints_they_started_from():
    """Two pre-training seeds (40 and 50%), CPT on the second only: forgetting is 50 - 47, not the seeds'
    mean 45 - 47 (whose first seed's deviation no standard error counts); and a run without replay on one
    seed is never the comparison of a replay run on the other (the seeds' gap would read as recovery)."""
    base0, base1 = pt(400_000, 0.40, seed=0), pt(400_000, 0.50, seed=1)

    def on(base, *args):
        return {**cpt(*args), "parent_sha256": base["manifest_sha256"]}

    f = judge(3, [base0, base1, on(base1, 300_000, 0, 0.47), on(base1, 240_000, 60_000, 0.49)])
    recovery, forgetting = f.tests[0].effects
    assert f.verdict == SHOWN and forgetting.value == pytest.approx(0.03) and recovery.value == pytest.approx(0.02)
    assert forgetting.se == pytest.approx(math.hypot(0.005, 0.005)) and f.tests[0].runs[0] == "1M-400000T"
    apart = judge(3, [base0, base1, on(base0, 300_000, 0, 0.37), on(base1, 240_000, 60_000, 0.47)])
    assert apart.verdict == NOT_TESTED and not apart.tests
    assert any(n.startswith("replay without a run without it from the same checkpoints") for n in apart.notes)
    assert any(n.startswith("forgetting without a replay run to compare") and "+3.0 ± 0.7 pp" in n for n in apart.notes)
    # rows that do not name their parent checkpoint are compared within their parent condition only
    other = judge(3, [pt(400_000, 0.40), pt(800_000, 0.60), cpt(300_000, 0, 0.35), cpt(240_000, 60_000, 0.58, parent="1M-800000T")])
    assert other.verdict == NOT_TESTED


def test_f3_reports_validation_loss_on_pretraining_data():
    rows = [pt(400_000, 0.40, train_val_loss=3.0), cpt(300_000, 0, 0.30), cpt(240_000, 60_000, 0.38)]
    rows[1]["train_val_loss"], rows[2]["train_val_loss"] = 3.6, 3.1
    detail = judge(3, rows).tests[0].detail
    assert "val loss on pre-training data (training): parent 3.000, no replay 3.600, replay 3.100" in detail


# F4: more CPT helps SFT; RL gain per base


def test_f4_more_cpt_helps_sft():
    no_cpt, with_cpt = sft(1000, 2.0, down(0.05), domain=0), sft(1000, 2.0, down(0.20))
    f = judge(4, [no_cpt, with_cpt, rl(no_cpt, 200, 1.0, down(0.04)), rl(with_cpt, 200, 1.0, down(0.26))])
    assert f.verdict == SHOWN and f.tests[0].effects[0].value == pytest.approx(0.15)
    assert "0 CPT tokens: 1M-400000T-1000ep2.0-200ep1.0 -1.0 ± 1.4 pp" in f.tests[0].detail
    assert "300K CPT tokens: 1M-400000T-300000-1000ep2.0-200ep1.0 +6.0 ± 1.4 pp" in f.tests[0].detail
    assert judge(4, [sft(1000, 2.0, down(0.20), domain=0), sft(1000, 2.0, down(0.05))]).verdict == CONTRADICTED
    assert judge(4, [sft(1000, 2.0, down(0.10), domain=0), sft(1000, 2.0, down(0.11))]).verdict == NOISY
    floor = judge(4, [sft(1000, 2.0, down(0.0, se=0.0), domain=0), sft(1000, 2.0, down(0.01))])
    assert floor.verdict == NOISY and floor.tests[0].effects[0].value == pytest.approx(0.01)
    # the paper's groups (id / ood) when present, as on real runs
    real = judge(4, [sft(1000, 2.0, down(0.06, real=True), domain=0), sft(1000, 2.0, down(0.19, real=True))])
    assert real.verdict == SHOWN and real.tests[0].effects[0].value == pytest.approx(0.13)
    # different SFT knobs are not a comparison
    assert judge(4, [sft(1000, 2.0, down(0.05), domain=0), sft(1000, 4.0, down(0.20))]).verdict == NOT_TESTED


def on_tasks(scores, se=0.01):
    """Downstream metrics of the synth-id group from per-task pass@1 (as `evolm report`'s rows hold them)."""
    out = {f"{t}:pass@1": v for t, v in scores.items()} | {f"{t}:pass@1:se": se for t in scores}
    out.update(acc("synth-id", "pass@1", sum(scores.values()) / len(scores), se * math.sqrt(len(scores)) / len(scores)))
    out["_members"] = {"synth-id:pass@1": {t: f"{t}:pass@1" for t in scores}}
    return out


def test_means_over_different_tasks_are_compared_on_the_tasks_they_share():
    # without CPT: 10% on Level1, 50% on Level2 (mean 30%); with CPT scored on Level1 only: 20%. On the task both
    # were scored on, CPT helps by 10 points; the means as they stand would say it hurts by 10
    no_cpt = sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.10, "SynthMathLevel2": 0.50}), domain=0)
    f = judge(4, [no_cpt, sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.20}))])
    effect = f.tests[0].effects[0]
    assert f.verdict == SHOWN and effect.value == pytest.approx(0.10) and effect.se == pytest.approx(math.hypot(0.01, 0.01))
    assert "(on the 1 tasks all were scored on; not SynthMathLevel2)" in effect.name
    apart = judge(4, [no_cpt, sft(1000, 2.0, on_tasks({"SynthMathLevel3": 0.20}))])
    assert apart.verdict == NOISY and "no task in common" in apart.tests[0].effects[0].name
    # two seeds without CPT (Level1 10 and 14%): on the shared task, their spread over Level1 alone
    seeds = [sft(1000, 2.0, on_tasks({"SynthMathLevel1": a, "SynthMathLevel2": 0.50}), domain=0, seed=s) for s, a in ((0, 0.10), (1, 0.14))]
    effect = judge(4, [*seeds, sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.20}))]).tests[0].effects[0]
    assert effect.value == pytest.approx(0.08) and effect.se == pytest.approx(math.sqrt(0.01 ** 2 + 0.02 ** 2 + 0.01 ** 2))


def test_a_replicate_not_evaluated_does_not_stop_the_comparison_on_shared_tasks():
    """Two SFT seeds without CPT, the second not evaluated: the first's Level1 (30%) is still what CPT's
    Level1-only 40% is compared with, not its mean over two tasks (60%)."""
    no_cpt = [sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.30, "SynthMathLevel2": 0.90}), domain=0, seed=0),
              sft(1000, 2.0, {}, domain=0, seed=1)]
    effect = judge(4, [*no_cpt, sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.40}))]).tests[0].effects[0]
    assert effect.value == pytest.approx(0.10) and "(on the 1 tasks all were scored on" in effect.name


def test_replicates_scored_on_different_tasks_are_averaged_on_the_tasks_all_of_them_were_scored_on():
    """Two SFT seeds without CPT, the first scored on Level1 (30%) and Level2 (90%), the second on Level1
    alone (34%): their means (60% and 34%) are over different tasks; the condition is their Level1 mean
    (32%), which CPT's Level1 40% is compared with, naming the task left out."""
    no_cpt = [sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.30, "SynthMathLevel2": 0.90}), domain=0, seed=0),
              sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.34}), domain=0, seed=1)]
    effect = judge(4, [*no_cpt, sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.40}))]).tests[0].effects[0]
    assert effect.value == pytest.approx(0.08) and "(on the 1 tasks all were scored on; not SynthMathLevel2)" in effect.name
    # the seeds' spread over Level1 (+-2 points) and each side's evaluation error
    assert effect.se == pytest.approx(math.sqrt(0.01 ** 2 + 0.02 ** 2 + 0.01 ** 2))
    # against a condition whose tasks are unknown (results written before they were kept), still named
    cpt = sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.40}))
    del cpt["_members"]
    assert "(not SynthMathLevel2, which not every replicate was scored on)" in judge(4, [*no_cpt, cpt]).tests[0].effects[0].name
    # seeds on disjoint tasks have no mean to compare: no task in common
    apart = [sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.30}), domain=0, seed=0),
             sft(1000, 2.0, on_tasks({"SynthMathLevel2": 0.90}), domain=0, seed=1)]
    assert "no task in common" in judge(4, [*apart, sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.40}))]).tests[0].effects[0].name


def test_f4_compares_the_base_without_cpt_with_each_cpt_setting():
    """CPT at two learning rates: two tests, each against the same SFT on the base without CPT (which
    has no CPT settings); the pre-training and SFT settings must match."""
    pre, tuned = ("pretrain", json.dumps({"lr": 0.003})), ("sft", json.dumps({"lr": 0.003}))
    chain = lambda *cpt: {"_settings": (pre, *cpt, tuned)}  # noqa: E731
    no_cpt = sft(1000, 2.0, down(0.05), domain=0, **chain())
    slow = sft(1000, 2.0, down(0.20), **chain(("cpt", json.dumps({"lr": 0.001}))), settings="cpt lr=0.001")
    fast = sft(1000, 2.0, down(0.08), **chain(("cpt", json.dumps({"lr": 0.01}))), settings="cpt lr=0.01")
    f = judge(4, [no_cpt, slow, fast])
    assert sorted((t.runs[1], round(t.effects[0].value, 2)) for t in f.tests) == [
        ("1M-400000T-300000-1000ep2.0 [cpt lr=0.001]", 0.15), ("1M-400000T-300000-1000ep2.0 [cpt lr=0.01]", 0.03)]
    other_sft = sft(1000, 2.0, down(0.20), **{"_settings": (pre, ("cpt", "{}"), ("sft", json.dumps({"lr": 0.1})))})
    assert judge(4, [no_cpt, other_sft]).verdict == NOT_TESTED


# F5: SFT epochs


def epochs_sweep(ids, oods=(0.2, 0.2, 0.2), se=0.01):
    return [sft(1000, e, down(i, o, se)) for e, i, o in zip((1.0, 2.0, 4.0), ids, oods)]


def test_f5_sft_epochs_saturate():
    f = judge(5, epochs_sweep((0.10, 0.20, 0.22), (0.20, 0.25, 0.22)))
    assert f.verdict == SHOWN and f.tests[0].effects[0].value == pytest.approx(0.08)
    assert "OOD pass@1 peaks at 2 epochs (25.0±1.0; at 4: 22.0±1.0)" in f.tests[0].detail
    lines = f.tests[0].series["lines"]
    assert [x for x, _, _ in lines["ID pass@1"]] == [1.0, 2.0, 4.0] and lines["OOD pass@1"][1][1:] == (0.25, 0.01)
    assert judge(5, epochs_sweep((0.10, 0.11, 0.25))).verdict == CONTRADICTED
    assert judge(5, epochs_sweep((0.10, 0.12, 0.13), se=0.02)).verdict == NOISY
    at_floor = judge(5, epochs_sweep((0.0, 0.015, 0.0)))
    assert at_floor.verdict == NOISY and at_floor.tests[0].effects[1].value == pytest.approx(0.015)
    assert judge(5, epochs_sweep((0.10, 0.20))).verdict == NOT_TESTED


# F6: RL epochs (the SFT parent is 0 epochs)


def rl_sweep(ratios, pass_ks, se=0.01):
    parent = sft(1000, 2.0, down(0.2, 0.2, se, ratio=ratios[0], pass_k=pass_ks[0]))
    return [parent] + [rl(parent, 200, e, down(0.2, 0.2, se, ratio=r, pass_k=k)) for e, r, k in zip((2.0, 8.0), ratios[1:], pass_ks[1:])]


def test_f6_rl_sharpens_rather_than_widens():
    f = judge(6, rl_sweep((0.50, 0.60, 0.70), (0.62, 0.61, 0.60)))
    ratio, widen = f.tests[0].effects
    assert f.verdict == SHOWN and ratio.value == pytest.approx(0.20) and widen.value == pytest.approx(-0.02)
    assert ratio.name == "ID correct ratio, 8 - 0 epochs"
    # the paper's pattern: RL first widens (pass@K up from the SFT parent), then past its peak pass@K falls while
    # the correct ratio keeps rising; judged from the peak, so the early gain does not make it "mixed"
    peaked = judge(6, rl_sweep((0.30, 0.55, 0.70), (0.50, 0.70, 0.62)))
    ratio, widen = peaked.tests[0].effects
    assert peaked.verdict == SHOWN and ratio.name == "ID correct ratio, 8 - 2 epochs" and widen.value == pytest.approx(-0.08)
    assert [x for x, _, _ in f.tests[0].series["lines"]["ID pass@K"]] == [0.0, 2.0, 8.0]
    assert judge(6, rl_sweep((0.50, 0.50, 0.51), (0.40, 0.55, 0.70))).verdict == CONTRADICTED
    assert judge(6, rl_sweep((0.50, 0.60, 0.70), (0.40, 0.55, 0.70))).verdict == MIXED
    assert judge(6, rl_sweep((0.50, 0.51, 0.52), (0.60, 0.61, 0.60))).verdict == NOISY
    one = rl_sweep((0.50, 0.60, 0.70), (0.60, 0.62, 0.61))[:2]  # one RL run: not an epoch sweep
    assert judge(6, one).verdict == NOT_TESTED


def test_f6_starts_from_the_sft_checkpoint_the_rl_runs_started_from():
    """Three SFT seeds (correct ratio 40, 45 and 60%) and RL only from the third: epoch 0 is that seed's
    60%, not the seeds' mean (48.3%), which counted the other seeds' deviation as RL's effect."""
    seeds = [sft(1000, 2.0, down(0.2, 0.2, ratio=r, pass_k=0.6), seed=s) for s, r in enumerate((0.40, 0.45, 0.60))]
    runs = [{**rl(seeds[2], 200, e, down(0.2, 0.2, ratio=r, pass_k=0.6)), "parent_sha256": seeds[2]["manifest_sha256"]}
            for e, r in ((2.0, 0.65), (8.0, 0.70))]
    f = judge(6, [*seeds, *runs])
    ratio, _ = f.tests[0].effects
    assert ratio.name == "ID correct ratio, 8 - 0 epochs" and ratio.value == pytest.approx(0.10)
    assert f.tests[0].series["lines"]["ID correct ratio"][0][:2] == (0.0, 0.60)


def test_f6_compares_pass_at_k_only_at_the_same_k():
    parent, *runs = rl_sweep((0.50, 0.60, 0.70), (0.62, 0.61, 0.75))
    runs[1]["samples_K"] = 16  # the 8-epoch run sampled 16 per problem, the 2-epoch run 4: two one-run sweeps
    assert judge(6, [parent, *runs]).verdict == NOT_TESTED


def test_f6_an_sft_parent_without_a_correct_ratio_leaves_the_sweep_to_its_rl_runs():
    parent, *runs = rl_sweep((0.50, 0.60, 0.70), (0.62, 0.61, 0.60))
    del parent["synth-id:correct_ratio"], parent["synth-id:correct_ratio:se"]  # a task with no correct sample
    f = judge(6, [parent, *runs])
    assert f.verdict == SHOWN and f.tests[0].effects[0].name == "ID correct ratio, 8 - 2 epochs"


# F7: a fixed budget split between SFT and RL


def split(sft_id, sft_ood, rl_id, rl_ood):
    heavy_sft, light_sft = sft(1000, 2.0, down(0.1, 0.1)), sft(400, 2.0, down(0.1, 0.1))
    return [rl(heavy_sft, 200, 1.0, down(sft_id, sft_ood)), rl(light_sft, 800, 1.0, down(rl_id, rl_ood))]


def test_f7_sft_favours_id_rl_favours_ood():
    f = judge(7, split(0.30, 0.20, 0.22, 0.28))
    id_effect, ood_effect = f.tests[0].effects
    assert f.verdict == SHOWN and id_effect.value == pytest.approx(0.08) and ood_effect.value == pytest.approx(0.08)
    assert f.tests[0].runs[0].endswith("1000ep2.0-200ep1.0")
    assert judge(7, split(0.20, 0.20, 0.22 + 0.05, 0.28)).verdict == CONTRADICTED
    assert judge(7, split(0.30, 0.20, 0.29, 0.21)).verdict == NOISY
    assert judge(7, split(0.30, 0.20, 0.22, 0.28)[:1]).verdict == NOT_TESTED


# F8: reward-model score vs validation loss as predictors


def post_runs(accs, rms, val_losses=None, se=0.01):
    runs = []
    for i, (a, r) in enumerate(zip(accs, rms)):
        extra = {} if val_losses is None else {"val_loss": val_losses[i]}
        runs.append(sft(1000, float(i + 1), down(a, None, se, rm=r), **extra))
    return runs


def test_f8_reward_model_tracks_accuracy():
    accs = (0.10, 0.20, 0.30, 0.40, 0.50)
    f = judge(8, post_runs(accs, (0.0, 0.2, 0.5, 0.6, 0.9), val_losses=(3.1, 2.8, 3.0, 2.8, 3.1)))  # orthogonal to accuracy
    z = f.tests[0].effects[0]
    assert f.verdict == SHOWN and z.se == pytest.approx(1 / math.sqrt(2)) and math.tanh(z.value) > 0.98
    assert re.search(r"r\(val loss, ID pass@1\) [+-]0\.00 over 5 runs \(\|z\| below RM.s by \+2\.\d\d ± 1\.00\);", f.tests[0].detail)
    assert judge(8, post_runs(accs, (0.9, 0.6, 0.5, 0.2, 0.0))).verdict == CONTRADICTED
    # validation loss predicting as well as the reward model contradicts the second half
    assert judge(8, post_runs(accs, (0.0, 0.2, 0.5, 0.6, 0.9), val_losses=(3.4, 3.3, 3.2, 3.1, 3.0))).verdict == CONTRADICTED
    # ... and so does validation loss that correlates nearly as strongly: r +0.98 against -0.97 is no
    # difference over 5 runs (the rule before compared the two r as points and called this shown)
    close = post_runs(accs, (0.0, 0.2, 0.5, 0.6, 0.9), val_losses=(3.4, 3.3, 3.25, 3.05, 3.0))
    assert abs(estimates.pearson([3.4, 3.3, 3.25, 3.05, 3.0], accs)) < estimates.pearson([0.0, 0.2, 0.5, 0.6, 0.9], accs)
    near = judge(8, close)
    assert near.verdict == CONTRADICTED and "|z| below RM's by +0." in near.tests[0].detail
    # validation loss that correlates at 2 SE but clearly weaker than the reward model leaves F8 shown
    many = [0.05 * i for i in range(1, 13)]
    weaker = [3.0 - 0.1 * i + (0.5 if i % 2 else -0.5) for i in range(1, 13)]
    r_val = estimates.pearson(weaker, many)
    assert -0.8 < r_val < -0.6 and abs(math.atanh(r_val)) * 3 >= 2  # n = 12: SE of z 1/3
    assert judge(8, post_runs(many, [a + 0.001 * (i % 3) for i, a in enumerate(many)], val_losses=weaker)).verdict == SHOWN
    # validation loss under 2 SE itself but not clearly weaker than the reward model: neither half settled
    few = (0.10, 0.20, 0.30, 0.40, 0.50, 0.60)
    rm_few, val_few = (0.0, 0.25, 0.15, 0.5, 0.45, 0.6), (3.0, 2.8, 3.0, 2.85, 2.7, 2.9)
    z_rm, z_val = (math.atanh(estimates.pearson(x, few)) for x in (rm_few, val_few))
    assert z_rm * math.sqrt(3) >= 2 and abs(z_val) * math.sqrt(3) < 2 and (z_rm - abs(z_val)) / math.sqrt(2 / 3) < 2
    assert judge(8, post_runs(few, rm_few, val_losses=val_few)).verdict == NOISY
    floor = judge(8, post_runs((0.0, 0.01, 0.0, 0.02, 0.01), (0.0, 0.2, 0.1, 0.4, 0.3)))
    assert floor.verdict == NOISY and "accuracy spread within 2 SE" in floor.tests[0].detail
    absent = judge(8, post_runs(accs[:3], (0.0, 0.2, 0.5)))
    assert absent.verdict == NOT_TESTED and "--reward-model" in absent.needs


def test_f8_compares_validation_loss_on_the_runs_the_reward_model_scored():
    """Runs with a validation loss and no reward-model score (another model family, say) are left out of
    r(val loss): the two r compare the same runs. With them, validation loss tracked accuracy over 9 runs
    and F8 read contradicted; on the reward model's 5 runs it does not."""
    accs = (0.10, 0.20, 0.30, 0.40, 0.50)
    scored = post_runs(accs, (0.0, 0.2, 0.5, 0.6, 0.9), val_losses=(3.1, 2.8, 3.0, 2.8, 3.1))
    others = [sft(1000, float(10 + i), down(a, None, 0.01), val_loss=4.0 - 2 * a)
              for i, a in enumerate((0.05, 0.25, 0.45, 0.65))]
    f = judge(8, scored + others)
    assert f.verdict == SHOWN and re.search(r"r\(val loss, ID pass@1\) [+-]0\.00 over 5 runs", f.tests[0].detail)
    # validation loss on 4 of the 5 scored runs: the reward model's z in the gap is over those 4 too
    scored[0].pop("val_loss")
    detail = judge(8, scored).tests[0].detail
    rm4 = math.atanh(estimates.pearson([0.2, 0.5, 0.6, 0.9], accs[1:]))
    val4 = math.atanh(estimates.pearson([2.8, 3.0, 2.8, 3.1], accs[1:]))
    assert f"below RM's by {rm4 - abs(val4):+.2f} ± {math.sqrt(2):.2f})" in detail


def test_f8_with_every_run_equally_accurate_is_too_noisy_and_still_written():
    # no accuracy spread gives no correlation, and so no effect: findings.json is still written
    found = findings.evaluate(post_runs((0.3, 0.3, 0.3, 0.3), (0.0, 0.1, 0.2, 0.3)))
    f8 = found[7]
    assert f8.verdict == NOISY and f8.tests[0].effects == []
    assert findings.to_json(found)["findings"][7]["effect"] is None


def test_a_correlation_with_a_value_that_is_not_finite_is_none_not_a_perfect_one():
    """NaN made r NaN, which the clamp to +-0.999999 read as +1: F8 would say shown on it."""
    assert estimates.pearson([0.1, float("nan"), 0.3, 0.4, 0.5], [1, 2, 3, 4, 5]) is None
    assert estimates.pearson([0.1, 0.2, 0.3, 0.4, float("inf")], [1, 2, 3, 4, 5]) is None
    assert estimates.pearson([0.1, 0.2, 0.3, 0.4, 0.5], [1, 2, 3, 4, 5]) == pytest.approx(1.0)


def test_the_correlation_table_does_not_present_r_over_runs_at_the_floor():
    rows = post_runs((0.0, 0.01, 0.0, 0.02, 0.01), (0.0, 0.2, 0.1, 0.4, 0.3))
    table = correlation_table(rows)
    assert table.rows[0][:4] == ["mean reward-model score", "ID Greedy", 5, "too noisy (accuracy spread within 2 SE)"]
    few = correlation_table(post_runs((0.1, 0.3, 0.5), (0.0, 0.2, 0.5)))
    assert few.rows[0][3] == "too noisy (n = 3 < 4)"
    good = correlation_table(post_runs((0.10, 0.20, 0.30, 0.40, 0.50), (0.0, 0.2, 0.5, 0.6, 0.9)))
    assert good.rows[0][3] == "+0.99" and good.rows[0][4].endswith("± 0.71")


# F9: intermediate vs decayed


def test_f9_intermediate_checkpoint_understates():
    mid = pt(400_000, 0.33, completed=False, tokens_done=200_000)
    f = judge(9, [mid, pt(200_000, 0.36, val_loss=3.1), pt(400_000, 0.40)])
    assert f.verdict == SHOWN and f.tests[0].effects[0].value == pytest.approx(0.03)
    assert f.tests[0].runs == ["1M-400000T (unfinished at 200K tokens)", "1M-200000T"]
    assert f.tests[0].detail.startswith("at 200K tokens (0.2 per parameter): upstream avg 33.0±0.5 intermediate vs 36.0±0.5 decayed")
    assert judge(9, [pt(400_000, 0.39, completed=False, tokens_done=200_000), pt(200_000, 0.36)]).verdict == CONTRADICTED
    assert judge(9, [pt(400_000, 0.355, completed=False, tokens_done=200_000), pt(200_000, 0.36)]).verdict == NOISY
    assert judge(9, [mid, pt(400_000, 0.40)]).verdict == NOT_TESTED
    # --export-at 5K is taken at the step that reaches it (5,120 tokens): matched to the 5K run by the count asked for
    export = pt(20_000, 0.30, completed=False, tokens_done=5_120, export_count=5_000)
    assert judge(9, [export, pt(5_000, 0.33)]).verdict == SHOWN
    assert judge(9, [pt(20_000, 0.30, completed=False, tokens_done=5_120), pt(5_000, 0.33)]).verdict == NOT_TESTED


# paired comparisons: checkpoints scored on the same problems


def scored(values, ids="ids-a"):
    """`_items` of a one-task measure: per-problem values under an ids hash."""
    return {"_items": {"upstream_avg": {"SynthClozeText": (ids, values)}}}


def test_contrasts_of_the_same_problems_are_paired():
    # 400 problems; the larger run gets 20 more of them right and loses none: the problems are the same, so the
    # difference is 5.0 pp with a per-problem SE of sqrt(var(d)/n), far below the independent sqrt(se_a^2 + se_b^2)
    weak = [1.0] * 100 + [0.0] * 300
    strong = [1.0] * 120 + [0.0] * 280
    se_weak, se_strong = (math.sqrt(p * (1 - p) / 399) for p in (0.25, 0.30))
    rows = [pt(200_000, 0.25, se_weak, **scored(weak)), pt(400_000, 0.30, se_strong, **scored(strong)),
            pt(400_000, 0.30, se_strong, completed=False, tokens_done=200_000, **scored(strong))]
    f9 = judge(9, rows)
    effect = f9.tests[0].effects[0]
    d = [0.0] * 100 + [-1.0] * 20 + [0.0] * 280  # decayed - intermediate, per problem
    mean = sum(d) / 400
    assert effect.value == pytest.approx(-0.05)
    assert effect.se == pytest.approx(math.sqrt(sum((x - mean) ** 2 for x in d) / 399 / 400))
    assert effect.se < 0.4 * math.hypot(se_weak, se_strong) and f9.verdict == CONTRADICTED
    # unpaired when the problem sets differ (another ids hash) or a side has no per-problem values
    rows[0] = pt(200_000, 0.25, se_weak, **scored(weak, ids="ids-b"))
    assert judge(9, rows).tests[0].effects[0].se == pytest.approx(math.hypot(se_weak, se_strong))
    rows[0] = pt(200_000, 0.25, se_weak)
    assert judge(9, rows).verdict == NOISY


def test_paired_se_of_a_mean_over_tasks_and_of_a_curve():
    a = estimates.Measure(0.5, 0.1, items={"t1": ("h", [1.0, 0.0, 1.0, 0.0]), "t2": ("g", [1.0, 1.0])})
    b = estimates.Measure(0.5, 0.1, items={"t1": ("h", [1.0, 1.0, 0.0, 0.0]), "t2": ("g", [0.0, 1.0])})
    # t1: d = 0, -1, 1, 0 (var 2/3, n 4); t2: d = 1, 0 (var 1/2, n 2); the mean over 2 tasks halves the SE
    assert estimates.paired_se({0: 1.0, 1: -1.0}, [a, b]) == pytest.approx(math.sqrt(2 / 3 / 4 + 1 / 2 / 2) / 2)
    assert estimates.paired_se({0: 1.0, 1: -1.0}, [a, estimates.Measure(0.5, 0.1, items={"t1": ("h", [1.0] * 4)})]) is None
    # F1's first-minus-last contrast over the same problems: one per-problem contrast, not three independent errors
    one, two, three = ([1.0] * k + [0.0] * (100 - k) for k in (30, 40, 42))
    rows = [pt(100_000, 0.30, 0.046, **scored(one)), pt(200_000, 0.40, 0.049, **scored(two)), pt(400_000, 0.42, 0.05, **scored(three))]
    drop, first, _ = judge(1, rows).tests[0].effects
    assert first.se == pytest.approx(math.sqrt(0.1 * 0.9 / 99))
    assert drop.value == pytest.approx(0.08) and judge(1, rows).verdict == SHOWN


def test_paired_contrasts_are_cluster_robust_where_results_name_the_computations():
    # 6 problems, 3 computations asked twice each: the two models differ on both rows of computation x
    a = estimates.Measure(0.5, 0.2, items={"t": ("h", [1.0, 1.0, 0.0, 0.0, 1.0, 0.0], ["x", "x", "y", "y", "z", "z"])})
    b = estimates.Measure(0.2, 0.2, items={"t": ("h", [0.0, 0.0, 0.0, 0.0, 1.0, 0.0], ["x", "x", "y", "y", "z", "z"])})
    d, mean = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0], 1 / 3
    independent = math.sqrt(sum((x - mean) ** 2 for x in d) / 5 / 6)
    clustered = math.sqrt(3 / 2 * ((2 - 2 * mean) ** 2 + (2 * mean) ** 2 + (2 * mean) ** 2)) / 6
    assert estimates.paired_se({0: 1.0, 1: -1.0}, [a, b]) == pytest.approx(clustered) and clustered > independent
    # results written without clusters (older ones, or tasks of distinct problems): per problem
    plain = [estimates.Measure(m.value, m.se, items={"t": m.items["t"][:2]}) for m in (a, b)]
    assert estimates.paired_se({0: 1.0, 1: -1.0}, plain) == pytest.approx(independent)
    # the same ids grouped otherwise (another version of the test file): not paired at all
    regrouped = estimates.Measure(b.value, b.se, items={"t": ("h", b.items["t"][1], ["x", "y", "y", "y", "z", "z"])})
    assert estimates.paired_se({0: 1.0, 1: -1.0}, [a, regrouped]) is None
    # one result naming the computations and one not (written before results named them): the same
    # problems, so the labels one names hold for both, in a contrast and in a mean of replicates alike
    assert estimates.paired_se({0: 1.0, 1: -1.0}, [a, plain[1]]) == pytest.approx(clustered)
    averaged = estimates.averaged_items([a.items, plain[1].items])
    assert averaged == {"t": ("h", [0.5, 0.5, 0.0, 0.0, 1.0, 0.0], ["x", "x", "y", "y", "z", "z"])}
    assert estimates.averaged_items([a.items, regrouped.items]) is None


def test_replicates_pair_their_per_problem_means_and_add_their_spread():
    # two seeds on the same 10 problems (30% and 40%) against one run on them (40%)
    seed0, seed1, other = [1.0] * 3 + [0.0] * 7, [1.0] * 4 + [0.0] * 6, [0.0] + [1.0] * 4 + [0.0] * 5
    rows = [pt(400_000, 0.30, 0.145, seed=0, **scored(seed0)), pt(400_000, 0.40, 0.163, seed=1, **scored(seed1)),
            pt(400_000, 0.40, 0.163, completed=False, tokens_done=200_000, **scored(other))]
    done, unfinished = sorted(conditions(rows), key=lambda c: not c.get("completed"))
    m = done.measure("upstream_avg")
    means = [1.0, 1.0, 1.0, 0.5] + [0.0] * 6
    spread = 0.05 ** 2  # var(0.30, 0.40) / 2
    assert m.replicates == 2 and m.items["SynthClozeText"][1] == means and m.seed_var == pytest.approx(spread)
    assert m.se == pytest.approx(math.sqrt(sd(means) ** 2 / 10 + spread))
    assert estimates.pct(m) == f"35.0±{100 * m.se:.1f} (seeds ±5.0)"
    # the contrast pairs the per-problem means with the other run's values and adds the seeds' spread
    d = [a - b for a, b in zip(means, other)]
    effect = estimates.diff("d", m, unfinished.measure("upstream_avg"))
    assert effect.value == pytest.approx(-0.05) and effect.se == pytest.approx(math.sqrt(sd(d) ** 2 / 10 + spread))
    # seeds that agree by chance keep the problems' error, not divided by the number of seeds: they share the problems
    twin = [pt(400_000, 0.30, 0.145, seed=s, **scored(seed0)) for s in (0, 1)]
    assert conditions(twin)[0].measure("upstream_avg").se == pytest.approx(sd(seed0) / math.sqrt(10))
    # seeds scored on other problems: not paired, the mean of their SEs (an upper bound) and the spread
    rows[1] = pt(400_000, 0.40, 0.163, seed=1, **scored(seed1, ids="ids-b"))
    m = conditions(rows)[0].measure("upstream_avg")
    assert m.items is None and m.se == pytest.approx(math.sqrt(((0.145 + 0.163) / 2) ** 2 + spread))


def test_a_replicate_mean_over_fewer_tasks_keeps_each_seeds_spread():
    M = estimates.Measure
    def part(values, problem=0.03):  # one task's mean over seeds, by run
        spread = estimates.seed_variance(list(values.values()))
        return M(sum(values.values()) / len(values), math.sqrt(problem ** 2 + spread), len(values), replicate_values=values)
    # two tasks, the seeds lined up: each seed's mean over both tasks (a 0.3, b 0.5) gives the spread
    parts = {"t1": part({"a": 0.4, "b": 0.6}), "t2": part({"a": 0.2, "b": 0.4})}
    m = estimates.on_tasks(M(0.4, None, 2, parts=parts), {"t1", "t2"})
    problem = math.sqrt(2 * 0.03 ** 2) / 2
    assert m.se == pytest.approx(math.sqrt(problem ** 2 + 0.1 ** 2)) and m.seed_var == pytest.approx(0.01)
    # seed b lacks t2 and c lacks t1: not lined up, each task's spread added as if fully correlated, and not paired
    parts["t2"] = part({"a": 0.2, "c": 0.4})
    m = estimates.on_tasks(M(0.4, None, 2, items={"t1": ("h", [1.0, 0.0]), "t2": ("g", [0.0, 1.0])}, parts=parts), {"t1", "t2"})
    assert m.items is None and m.se == pytest.approx(math.hypot(problem, 0.1))
    # a paired contrast on the one task both were scored on keeps the replicates' spread over that task
    seeds = [{"t1": ("h", [1.0, 1.0, 0.0, 0.0]), "t2": ("g", [1.0, 0.0])}, {"t1": ("h", [1.0, 0.0, 0.0, 0.0]), "t2": ("g", [1.0, 1.0])}]
    t1 = estimates.mean_measure([(0.5, 0.29), (0.25, 0.25)], [{"t1": v["t1"]} for v in seeds], ["a", "b"])
    t2 = estimates.mean_measure([(0.5, 0.5), (1.0, 0.0)], [{"t2": v["t2"]} for v in seeds], ["a", "b"])
    both = estimates.mean_measure([(0.5, 0.3), (0.625, 0.1)], seeds, ["a", "b"])
    both.parts = {"t1": t1, "t2": t2}
    one = M(0.25, 0.25, items={"t1": ("h", [0.0, 1.0, 0.0, 0.0])}, parts={"t1": M(0.25, 0.25)})
    effect = estimates.diff("d", both, one)
    d = [1.0, -0.5, 0.0, 0.0]  # seed means on t1 (1, 0.5, 0, 0) minus the other run
    assert effect.value == pytest.approx(0.125) and "(on the 1 tasks" in effect.name
    assert effect.se == pytest.approx(math.sqrt(sd(d) ** 2 / 4 + 0.125 ** 2))


def sd(values):
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


# replicates, the overall verdict


def test_seed_replicates_are_averaged_with_their_spread():
    m = estimates.mean_measure([(0.30, 0.01), (0.40, 0.01)])
    assert m.value == pytest.approx(0.35) and m.se == pytest.approx(math.hypot(0.05, 0.01)) and m.replicates == 2
    # seeds that agree by chance keep the evaluation's error
    assert estimates.mean_measure([(0.30, 0.02), (0.30, 0.02)]).se == pytest.approx(0.02)
    rows = [pt(400_000, 0.40, seed=0), pt(400_000, 0.44, seed=1), big(100_000, 0.35)]
    f = judge(2, rows)
    assert f.tests[0].runs[0] == "1M-400000T x2 (seeds 0,1)"
    assert f.tests[0].effects[0].value == pytest.approx(0.07)
    assert f.tests[0].effects[0].se == pytest.approx(math.sqrt(0.02 ** 2 + 0.005 ** 2 + 0.005 ** 2))


def test_replicates_are_named_by_the_seeds_that_differ_in_numeric_order_unknown_last():
    seeds = [(("pretrain", 0), ("sft", 10), ("rl", 0)), (("pretrain", 0), ("sft", 2), ("rl", 0)),
             (("pretrain", 0), ("sft", 2), ("rl", 1)), (("pretrain", None), ("sft", 2), ("rl", 1))]
    rows = [row("rl", "1M-400000T-1Kep4-160ep1", seed=s[-1][1], _seeds=s) for s in seeds]
    [cond] = conditions(rows)
    assert cond.name == "1M-400000T-1Kep4-160ep1 x4 (pretrain seeds 0,?; sft seeds 2,10; seeds 0,1)"


def test_replicates_nested_in_an_ancestors_seeds_vary_with_it_as_a_unit():
    """Two SFT seeds on each of two CPT seeds: the spread is that of the two CPT seeds' means over 2, not
    that of four independent runs over 4, which would understate the SE when the CPT seed moves both."""
    values = {(0, 0): 0.30, (0, 1): 0.34, (1, 0): 0.44, (1, 1): 0.46}
    rows = [row("sft", "1M-400000T-2MT-1Kep4", seed=s, _seeds=(("pretrain", 0), ("cpt", c), ("sft", s)),
                **{"synth-id:pass@1": v, "synth-id:pass@1:se": 0.01}) for (c, s), v in values.items()]
    [cond] = conditions(rows)
    m = cond.acc()
    assert cond.name == "1M-400000T-2MT-1Kep4 x4 (cpt seeds 0,1; seeds 0,1)" and m.value == pytest.approx(0.385)
    cpt_means = (0.32, 0.45)
    assert m.seed_var == pytest.approx(estimates.seed_variance(list(cpt_means)))  # (0.13^2 / 2) / 2
    assert m.se == pytest.approx(math.hypot(0.01, 0.065))
    flat = estimates.mean_measure([(v, 0.01) for v in values.values()])  # four unrelated seeds: a smaller SE
    assert flat.se == pytest.approx(math.sqrt(0.01 ** 2 + estimates.seed_variance(list(values.values())))) and flat.se < m.se
    # only the runs' own seed differs: nothing is nested, the plain spread
    own = [row("sft", "1M-400000T-2MT-1Kep4", seed=s, _seeds=(("pretrain", 0), ("cpt", 0), ("sft", s)),
               **{"synth-id:pass@1": v, "synth-id:pass@1:se": 0.01}) for s, v in ((0, 0.30), (1, 0.34))]
    assert conditions(own)[0].acc().se == pytest.approx(estimates.mean_measure([(0.30, 0.01), (0.34, 0.01)]).se)


def test_unbalanced_nested_replicates_weigh_each_outer_seed_by_its_runs():
    """Three SFT runs on CPT seed 0, one on CPT seed 1: the value is the mean over the four runs, and its
    seed variance that of a mean of the two CPT seeds' means weighted 3/4 and 1/4."""
    values = {(0, 0): 0.30, (0, 1): 0.32, (0, 2): 0.34, (1, 0): 0.50}
    rows = [row("sft", "1M-400000T-2MT-1Kep4", seed=s, _seeds=(("pretrain", 0), ("cpt", c), ("sft", s)),
                **{"synth-id:pass@1": v, "synth-id:pass@1:se": 0.0}) for (c, s), v in values.items()]
    m = conditions(rows)[0].acc()
    s2 = (0.50 - 0.32) ** 2 / 2  # the variance of the group means 0.32 and 0.50
    assert m.value == pytest.approx(0.365) and m.seed_var == pytest.approx(s2 * (0.75 ** 2 + 0.25 ** 2))


def test_a_mean_over_some_tasks_keeps_the_nesting_of_its_replicates():
    """Recomputed over one of two tasks (to compare with a run scored on that task alone), two SFT seeds
    on each of two CPT seeds still vary with their CPT seed as a unit: the same seed variance as that
    task's own measure, larger than four independent runs would give."""
    runs, outer = ["r00", "r01", "r10", "r11"], [0, 0, 1, 1]
    a = estimates.mean_measure([(v, 0.0) for v in (0.30, 0.34, 0.44, 0.46)], runs=runs, outer_seeds=outer)
    b = estimates.mean_measure([(v, 0.0) for v in (0.10, 0.12, 0.20, 0.22)], runs=runs, outer_seeds=outer)
    both = estimates.mean_measure([(0.20, 0.0), (0.23, 0.0), (0.32, 0.0), (0.34, 0.0)], runs=runs, outer_seeds=outer)
    both.parts = {"a": a, "b": b}
    only_a = estimates.on_tasks(both, {"a"})
    assert only_a.value == pytest.approx(0.385) and only_a.seed_var == pytest.approx(a.seed_var)
    assert only_a.seed_var == pytest.approx(estimates.seed_variance([0.32, 0.45]))
    assert only_a.seed_var > estimates.seed_variance([0.30, 0.34, 0.44, 0.46])


def _lineage_rows(stage, signature, values, lineages, parent=None, se=0.0, **knobs):
    """Replicate rows of one condition: (run hash, value) with each run's lineage hashes (its own last)."""
    return [row(stage, signature, parent, seed=i, manifest_sha256=lineage[-1], parent_sha256=lineage[-2] if len(lineage) > 1 else None,
                _lineage=lineage, **knobs, **{"synth-id:pass@1": v, "synth-id:pass@1:se": se})
            for i, (v, lineage) in enumerate(zip(values, lineages))]


def test_a_contrast_of_runs_with_their_parents_pairs_the_seeds_by_lineage():
    """An RL run on each of three SFT seeds against those SFT runs: the RL gain's seed spread is that of
    the three per-parent gains, not the two conditions' spreads added (which counts the SFT seeds'
    spread, shared by each RL run and its parent, twice)."""
    sfts, rls = [0.40, 0.50, 0.60], [0.41, 0.52, 0.61]
    sft_lineages = [("pt", "cpt", f"sft{s}") for s in range(3)]
    rows = (_lineage_rows("sft", "S", sfts, sft_lineages)
            + _lineage_rows("rl", "S-160ep1", rls, [(*lin, f"rl{s}") for s, lin in enumerate(sft_lineages)], parent="S", rl_epochs=1))
    by_stage = {c.get("stage"): c for c in conditions(rows)}
    rl = by_stage["rl"]
    effect = estimates.diff("gain", rl.acc(), rl.started_from().acc())
    assert effect.value == pytest.approx(0.01 + 0.01 / 3)
    assert effect.se == pytest.approx(math.sqrt(estimates.seed_variance([0.01, 0.02, 0.01])))
    unpaired = math.sqrt(estimates.seed_variance(sfts) + estimates.seed_variance(rls))
    assert effect.se < unpaired / 10
    # siblings: RL runs of more epochs on the same SFT runs pair with these, by their SFT parents
    more = _lineage_rows("rl", "S-160ep4", [0.45, 0.50, 0.66], [(*lin, f"rl4-{s}") for s, lin in enumerate(sft_lineages)], parent="S",
                         rl_epochs=4)
    longer = next(c for c in conditions(rows + more) if c.get("signature") == "S-160ep4")
    assert estimates.diff("", longer.acc(), rl.acc()).se == pytest.approx(math.sqrt(estimates.seed_variance([0.04, -0.02, 0.05])))
    # two RL runs on the first SFT seed: that condition's value weighs it twice, the ancestors' means do not:
    # not paired, each side's spread
    extra = _lineage_rows("rl", "S-160ep1", [0.43], [("pt", "cpt", "sft0", "rl0b")], parent="S", rl_epochs=1)
    rl = next(c for c in conditions(rows + extra) if c.get("stage") == "rl")
    effect = estimates.diff("gain", rl.acc(), rl.started_from().acc())
    assert effect.se == pytest.approx(math.sqrt(estimates.seed_variance(rls + [0.43]) + estimates.seed_variance(sfts)))
    # lineages unknown (rows from older reports, or made by hand): not paired
    for r in rows:
        del r["_lineage"]
    rl = next(c for c in conditions(rows) if c.get("stage") == "rl")
    assert estimates.diff("gain", rl.acc(), rl.started_from().acc()).se == pytest.approx(unpaired)


def test_lineage_pairing_uses_the_first_ancestor_the_replicates_differ_in():
    """Two SFT seeds on each of two CPT seeds, against those CPT runs: paired by CPT run (the SFT seeds on one
    CPT run averaged first), as `Measure.seed_var` nests them; runs on other ancestors than the other side's
    are not paired."""
    cpt_lineages = [("pt", f"cpt{c}") for c in range(2)]
    cpts = _lineage_rows("cpt", "C", [0.30, 0.50], cpt_lineages)
    values = {(0, 0): 0.40, (0, 1): 0.44, (1, 0): 0.58, (1, 1): 0.64}
    sfts = [r for (c, s), v in values.items()
            for r in _lineage_rows("sft", "C-1Kep4", [v], [(*cpt_lineages[c], f"sft{c}{s}")], parent="C")]
    for r, (c, s) in zip(sfts, values):
        r["_seeds"] = (("pretrain", 0), ("cpt", c), ("sft", s))
    for r, c in zip(cpts, range(2)):
        r["_seeds"] = (("pretrain", 0), ("cpt", c))
    sft = next(c for c in conditions(cpts + sfts) if c.get("stage") == "sft")
    effect = estimates.diff("", sft.acc(), sft.started_from().acc())
    assert effect.value == pytest.approx(0.515 - 0.40)
    assert effect.se == pytest.approx(math.sqrt(estimates.seed_variance([0.42 - 0.30, 0.61 - 0.50])))
    # against CPT runs on another pre-training run: no shared ancestor where they differ, each side's spread
    other = _lineage_rows("cpt", "C2", [0.35, 0.45], [("pt2", "cptx"), ("pt2", "cpty")], cpt_domain_tokens=1)
    c2 = next(c for c in conditions(other) if c.get("signature") == "C2")
    assert estimates.diff("", sft.acc(), c2.acc()).se == pytest.approx(math.sqrt(sft.acc().seed_var + c2.acc().seed_var))


def test_a_replicate_without_downstream_results_does_not_hide_the_others():
    """Seed 0 was not evaluated downstream, seed 1 was: the condition's accuracy is seed 1's, and its name
    says that one of its two runs was not evaluated."""
    rows = [row("sft", "1M-400000T-1Kep4", seed=0), row("sft", "1M-400000T-1Kep4", seed=1, **{"synth-id:pass@1": 0.30})]
    [cond] = conditions(rows)
    assert cond.groups() == ("synth-id", None) and cond.acc().value == pytest.approx(0.30)
    # its name still counts both runs, and says that one was not evaluated
    assert cond.name == "1M-400000T-1Kep4 x2 (seeds 0,1; 1 not evaluated)"


def test_the_cpt_table_measures_change_against_the_runs_it_started_from_and_reads_finished_sft():
    """CPT on the second of two pre-training seeds is compared with that seed (0.50 -> 0.49: -1.0), not with
    the seeds' mean; its "after SFT" cells read the finished child of the recipe most CPT runs have,
    not an unfinished one, nor a recipe one CPT has twice."""
    from evolm.report.tables import cpt_table

    base0, base1 = pt(400_000, 0.40, seed=0), pt(400_000, 0.50, seed=1)
    mixture = {"pretrain_preset": "1M", "pretrain_tokens": 400_000, "cpt_replay_tokens": 0}
    one = row("cpt", "1M-400000T-2MT", "1M-400000T", parent_sha256=base1["manifest_sha256"], cpt_domain_tokens=2_000_000,
              upstream_avg=0.49, **mixture)
    other = row("cpt", "1M-400000T-1MT", "1M-400000T", parent_sha256=base1["manifest_sha256"], cpt_domain_tokens=1_000_000,
                upstream_avg=0.45, **mixture)

    def sft(parent, examples, acc, completed=True):
        return row("sft", f"{parent['signature']}-{examples}ep2", parent["signature"], parent_sha256=parent["manifest_sha256"],
                   completed=completed, sft_examples=examples, sft_epochs=2.0, **{k: parent[k] for k in mixture},
                   cpt_domain_tokens=parent["cpt_domain_tokens"], **{"synth-id:pass@1": acc})

    children = [sft(one, 1000, 0.05, completed=False), sft(one, 1000, 0.10), sft(one, 400, 0.20), sft(other, 400, 0.30),
                sft(other, 1000, 0.40), {**sft(other, 1000, 0.42), "seed": 1}]
    table = cpt_table([base0, base1, one, other, *children])
    rows = {r[1]: r for r in table.rows}
    assert rows["2M"][0] == "1M-400000T" and rows["2M"][5] == "-1.0" and rows["1M"][5] == "-5.0"
    # 1K x 2 epochs: a finished child under both CPT runs, three runs (400: two); the unfinished 5.0 is not read
    assert "After SFT: SFT examples 1K, SFT epochs 2.0" in table.notes[-1]
    assert (rows["2M"][7], rows["1M"][7]) == ("10.0", "41.0")


def test_cpt_replicates_on_two_pre_training_seeds_are_one_row_that_counts_its_runs():
    """Two CPT seeds on each of two pre-training seeds: one row, its "CPT runs" cell the four runs and the
    seeds that tell them apart, its change measured against the two bases it started from (not a third
    pre-training seed without CPT, which the parent condition's mean would count)."""
    from evolm.report.tables import cpt_table

    bases = [pt(400_000, 0.40, seed=0), pt(400_000, 0.50, seed=1)]
    unused = pt(400_000, 0.90, seed=2)
    mixture = {"pretrain_preset": "1M", "pretrain_tokens": 400_000, "cpt_domain_tokens": 2_000_000, "cpt_replay_tokens": 0}
    runs = [row("cpt", "1M-400000T-2MT", "1M-400000T", seed=s, parent_sha256=base["manifest_sha256"], upstream_avg=up,
                _seeds=(("pretrain", base["seed"]), ("cpt", s)), **mixture)
            for base, ups in zip(bases, ((0.36, 0.38), (0.42, 0.44))) for s, up in enumerate(ups)]
    [line] = cpt_table([*bases, unused, *runs]).rows
    assert line[4] == "40.0" and line[5] == "-5.0" and line[-1] == "4 (pretrain seeds 0,1; seeds 0,1)"


def lr(value):
    """The lineage settings column of a pre-training row trained at `value` (as `evolm report` fills it)."""
    return {"_settings": (("pretrain", json.dumps({"lr": value})),), "settings": f"lr={value:g}"}


def test_runs_that_differ_in_training_settings_are_not_replicates():
    rows = [pt(400_000, 0.40, seed=0, **lr(1e-3)), pt(400_000, 0.44, seed=1, **lr(1e-3)), pt(400_000, 0.20, seed=0, **lr(1e-2))]
    conds = conditions(rows)
    assert sorted((c.name, len(c.rows)) for c in conds) == [("1M-400000T [lr=0.001] x2 (seeds 0,1)", 2), ("1M-400000T [lr=0.01]", 1)]
    # F1 compares budgets trained alike: three budgets at each rate are two tests, never a six-point curve
    grid = [pt(t, a + 0.1 * (v == 1e-2), **lr(v)) for v in (1e-3, 1e-2) for t, a in ((100_000, 0.30), (200_000, 0.36), (400_000, 0.38))]
    f = judge(1, grid)
    assert len(f.tests) == 2 and all(len(t.runs) == 3 for t in f.tests)
    assert {t.runs[0] for t in f.tests} == {"1M-100000T [lr=0.001]", "1M-100000T [lr=0.01]"}
    # F9: an export is compared only with a run decayed at its budget under the same settings
    mid = pt(400_000, 0.33, completed=False, tokens_done=200_000, **lr(1e-2))
    assert judge(9, [mid, pt(200_000, 0.40, **lr(1e-3))]).verdict == NOT_TESTED
    assert judge(9, [mid, pt(200_000, 0.40, **lr(1e-3)), pt(200_000, 0.36, **lr(1e-2))]).tests[0].effects[0].value == pytest.approx(0.03)


def test_the_verdict_of_several_tests():
    f = findings.Finding("F0", "t", "c", "r", "n")
    assert f.verdict == NOT_TESTED and f.headline is None

    def test(verdict, value):
        return findings.Test(["a"], [estimates.Effect("e", value, 0.01)], verdict, "")

    f.tests = [test(NOISY, 0.01), test(SHOWN, 0.03), test(SHOWN, 0.05)]
    assert f.verdict == SHOWN and f.headline.effects[0].value == 0.05
    f.tests.append(test(CONTRADICTED, -0.05))
    assert f.verdict == MIXED


# the report


def test_report_writes_the_findings_section_and_json(tmp_path, cli):
    root = tmp_path / "runs"
    made = build(root)
    # an unfinished 400K run exported at 200K tokens, against the finished 200K run (upstream 35.0)
    mid = make_run(root, "pt-400000@200K", "pretrain", {"preset": "1M", "tokens": 400_000}, completed=False,
                   schedule={"tokens_done": 200_000, "export_count": 200_000})
    add_upstream(mid, {"SynthClozeFacts": 0.33, "SynthClozeMath": 0.43, "SynthClozeText": 0.28}, 3.7)
    # RL epochs 1 (rl-200) and 4 from the same SFT parent
    more = make_run(root, "rl-200-ep4", "rl", {"examples": 200, "epochs": 4.0, "rows": [1700, 1900]}, made["sft-ep2"])
    add_downstream(more, 0.30)
    out = tmp_path / "report"
    result = cli("report", root, "--out", out, "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    # the export is drawn apart from the budget sweep, not flagged as a run of it that did not finish
    assert "did not complete its schedule" not in result.err and "differ in more than" not in result.err
    assert summary["findings"] == {"F1": NOISY, "F2": NOT_TESTED, "F3": SHOWN, "F4": NOT_TESTED, "F5": SHOWN, "F6": MIXED,
                                   "F7": CONTRADICTED, "F8": SHOWN, "F9": SHOWN}
    data = json.loads((out / "findings.json").read_text())
    by_id = {f["id"]: f for f in data["findings"]}
    assert list(by_id) == [f"F{i}" for i in range(1, 10)]
    # forgetting: parent 39.7 -> 31.7 without replay (3 tasks, each SE 0.01: average SE 0.01/sqrt(3))
    forgetting = by_id["F3"]["tests"][0]["effects"][1]
    assert forgetting["value"] == pytest.approx(0.08) and forgetting["se"] == pytest.approx(math.sqrt(2 / 3) * 0.01)
    assert by_id["F9"]["effect"]["value"] == pytest.approx(0.02) and by_id["F9"]["runs"][0] == "1M-400KT (unfinished at 200K tokens)"
    assert by_id["F2"]["tests"] == [] and by_id["F2"]["effect"] is None
    md = (out / "report.md").read_text()
    section = md.split("## Findings")[1].split("## Tables")[0]
    assert "| F3 CPT forgetting and replay | 1M-400KT, 1M-400KT-300KT, 1M-400KT-60+240KT | +7.0 ± 0.8 pp" in section
    assert "| F9 intermediate checkpoints understate |" in section and "| shown |" in section
    assert "Fisher z of r(RM, acc) >= 2 SE; \\|z\\| of r(val loss, acc) 2 SE (of the difference) below it |" in section  # a | inside a cell is escaped
    assert "- F2 (not tested; paper:" in section
    assert "| 1M | 200K of 400K (unfinished) | 33.0 |" in md  # the upstream table tells the export from the run and "![finding-F5-1](plots/finding-F5-1.png)" in section
    assert "![finding-F6-1](plots/finding-F6-1.png)" in section
    html = (out / "report.html").read_text()
    assert "<h2>Findings</h2>" in html and html.count("data:image/png;base64,") == summary["plots"]
    for name in ("finding-F5-1.png", "finding-F6-1.png"):
        assert (out / "plots" / name).read_bytes()[:4] == b"\x89PNG"
    rows = {r["signature"] + ("" if r["completed"] else "@mid"): r for r in json.loads((out / "runs.json").read_text())}
    assert rows["1M-400KT@mid"]["tokens_done"] == 200_000 and rows["1M-400KT@mid"]["pretrain_tokens"] == 400_000
    assert rows["1M-400KT"]["upstream_avg:se"] == pytest.approx(0.01 / math.sqrt(3))
    assert rows["1M-400KT"]["up:SynthClozeMath:se"] == 0.01 and rows["1M-400KT"]["findings"] == "F1,F3"
    sft2 = rows["1M-400KT-60+240KT-1Kep2"]
    assert sft2["SynthCode:pass@1:se"] == 0.01 and sft2["synth-id:pass@1:se"] == pytest.approx(math.sqrt(2) * 0.01 / 2)


def test_a_table_marks_a_mean_over_replicates_scored_on_different_tasks():
    """The table row of two seeds scored on Level1 + Level2 and on Level1 alone is their Level1 mean (32%),
    marked, with the mark explained; a row whose seeds share their tasks is not marked."""
    from evolm.report.tables import NARROWED, NARROWED_NOTE, note_narrowed, posttrained_table

    narrowed = [sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.30, "SynthMathLevel2": 0.90}), domain=0, seed=0),
                sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.34}), domain=0, seed=1)]
    table = posttrained_table(narrowed)
    note_narrowed(table)
    assert table.rows[0][3] == f"32.0{NARROWED}" and NARROWED_NOTE in table.notes
    shared = [sft(1000, 2.0, on_tasks({"SynthMathLevel1": 0.30}), domain=0, seed=s) for s in (0, 1)]
    table = posttrained_table(shared)
    note_narrowed(table)
    assert table.rows[0][3] == "30.0" and NARROWED_NOTE not in table.notes
