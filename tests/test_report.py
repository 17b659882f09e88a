"""`evolm report` and `evolm ls` on a folder of fake-but-valid checkpoints covering every table."""

import csv
import json
import math
import shutil

import pytest

from fake_runs import TASKS, add_downstream, add_upstream, build, make_run


# The tests that look at the plots; the others get a placeholder PNG for each plot the report would draw,
# which keeps the report's files, counts and links as they are and saves matplotlib's drawing (about half
# of a report's time here).
DRAWING = {"test_report_renders_every_table_and_plot", "test_a_panel_with_nothing_measured_says_so_instead_of_an_empty_scale"}


@pytest.fixture(autouse=True)
def _placeholder_plots(request, monkeypatch):
    if request.node.originalname in DRAWING:
        return
    from evolm.report import plots

    def placeholder(_, path):
        path.write_bytes(b"\x89PNG placeholder")

    def placeholder_compute(rows, path) -> bool:  # drawn, as plot_compute, only where it has points
        if not plots.compute_points(rows):
            return False
        placeholder(rows, path)
        return True

    monkeypatch.setattr(plots, "plot_sweep", placeholder)
    monkeypatch.setattr(plots, "plot_series", placeholder)
    monkeypatch.setattr(plots, "plot_compute", placeholder_compute)


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    return root, build(root)


def add_sft_on_other_mixtures(root, made) -> dict:
    """sft-ep2's recipe (1K examples x 2 epochs) on the two other CPT mixtures, two seeds on the
    no-replay one: a CPT-budget sweep of post-trained models (150K vs 300K math tokens, no replay)."""
    added = {}
    for name, cpt, seed, level in (("sft-small", "cpt-small", 0, 0.05), ("sft-no-replay-0", "cpt-no-replay", 0, 0.10),
                                   ("sft-no-replay-1", "cpt-no-replay", 1, 0.14)):
        added[name] = make_run(root, name, "sft", {"examples": 1000, "epochs": 2.0, "rows": [0, 1000]}, made[cpt], seed=seed)
        add_downstream(added[name], level)
    return added


def test_report_renders_every_table_and_plot(runs, tmp_path, cli):
    root, made = runs
    made.update(add_sft_on_other_mixtures(root, made))
    out = tmp_path / "report"
    result = cli("report", root, "--out", out, "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["checkpoints"] == len(made)
    md = (out / "report.md").read_text()
    for title in ("Upstream accuracy by pre-training budget and model size", "Post-trained models by base",
                  "Continued pre-training: mixture, forgetting", "CPT domain tokens sweep", "SFT epochs sweep", "RL examples sweep",
                  "A fixed post-training budget split between SFT and RL", "Do reward-model score and validation loss predict"):
        assert title in md, title
    assert "Not in this folder" not in md
    assert "K = 4 samples at temperature 1; Greedy is Pass@1" in md  # the results' own temperature
    assert "evolm 0.1.0" in md and "total compute" in md and "2 CPU cores" in md
    # the lineage tree nests children under parents
    tree = md.split("## Checkpoints")[1].split("## Tables")[0]
    assert "\n- 1M-400KT  (pretrain; 400K tokens)" in tree and "\n        - 1M-400KT-60+240KT-1Kep2  (sft" in tree
    # forgetting: no replay loses upstream accuracy against its parent, replay keeps most of it
    cpt_rows = [line for line in md.splitlines() if line.startswith("| 1M-400KT | 300K | 0 |")]
    assert cpt_rows and "| -8.0 |" in cpt_rows[0]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == summary["plots"] >= 4 and "<table>" in html
    plots = sorted(p.name for p in (out / "plots").iterdir())
    for knob in ("pretrain_tokens", "cpt_domain_tokens", "sft_epochs", "rl_examples"):
        assert any(p.startswith(knob) for p in plots), (knob, plots)
    for plot in (out / "plots").iterdir():
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000


def test_tables_show_a_condition_once_and_compare_cpt_mixtures_through_one_sft_recipe(runs, tmp_path, cli):
    """Two seeds of one SFT are one row (their mean, named with the seeds) in every table; the CPT
    table reads each mixture's child of the SFT recipe most mixtures have (1K x 2 epochs), not
    whichever child comes first; a CPT budget sweep of post-trained models gets its table."""
    root, made = runs
    added = add_sft_on_other_mixtures(root, made)
    out = tmp_path / "report"
    assert cli("report", root, "--out", out).code == 0
    md = (out / "report.md").read_text()
    replicated = f"{added['sft-no-replay-0']['signature']} x2 (seeds 0,1)"
    # ID greedy: the mean over SynthMathLevel1/2 (level, level + 0.01), then over the seeds 0.10 and 0.14
    post = md.split("### Post-trained models by base")[1].split("###")[0]
    assert f"| {replicated} | SFT | 12.5 |" in post and post.count(added["sft-no-replay-0"]["signature"]) == 1
    cpt = {line.split(" | ")[1]: line for line in md.split("### Continued pre-training")[1].split("###")[0].splitlines()
           if line.startswith("| 1M-400KT |")}
    assert cpt["150K"].endswith("| 5.5 | 7.5 | 1 |")  # sft-small; OOD: SynthCode and SynthFacts (level + 0.02, + 0.03)
    assert cpt["300K"].endswith("| 12.5 | 14.5 | 1 |")  # the two seeds' mean
    assert cpt["240K"].endswith("| 20.5 | 22.5 | 1 |")  # sft-ep2, not sft-ep1 (10.5) nor sft-400 (12.5)
    assert "After SFT: SFT examples 1K, SFT epochs 2.0, the recipe most CPT rows were fine-tuned with" in md
    sweep = md.split("### CPT domain tokens sweep")[1].split("###")[0]
    assert "*Paper Fig. 4 / findings 3-4*" in sweep
    assert f"| 150K | {added['sft-small']['signature']} | 5.5 |" in sweep and f"| 300K | {replicated} | 12.5 |" in sweep


def test_post_trained_models_of_two_pre_training_budgets_are_tabled_and_noted_under_f1(runs, tmp_path, cli):
    """The same SFT on the 100K and 400K bases: a pre-training tokens table of downstream accuracy, and
    F1's note (not a verdict: the upstream test alone judges F1) with the larger budget minus the smaller."""
    root, made = runs
    for tokens, level in ((100_000, 0.30), (400_000, 0.20)):
        add_downstream(make_run(root, f"sft-on-{tokens}", "sft", {"examples": 1000, "epochs": 2.0, "rows": [0, 1000]},
                                made[f"pt-{tokens}"]), level)
    out = tmp_path / "report"
    result = cli("report", root, "--out", out, "--json")
    assert result.code == 0, result.err
    md = (out / "report.md").read_text()
    table = md.split("### pre-training tokens sweep: 1M")[1].split("###")[0]
    assert "| 100K | 1M-100KT-1Kep2 | 30.5 |" in table and "| 400K | 1M-400KT-1Kep2 | 20.5 |" in table
    f1 = next(f for f in json.loads((out / "findings.json").read_text())["findings"] if f["id"] == "F1")
    assert len(f1["tests"]) == 1 and len(f1["notes"]) == 1  # the verdict rests on the upstream test alone
    assert f1["notes"][0].startswith("downstream (1M-100KT-1Kep2, 1M-400KT-1Kep2): ID pass@1 100K: 30.5±")
    assert "; 400K minus 100K -10.0 ± " in f1["notes"][0]


def test_runs_csv_numbers_equal_the_eval_files(runs, tmp_path, cli):
    root, made = runs
    out = tmp_path / "report"
    assert cli("report", root, "--out", out).code == 0
    rows = {r["signature"]: r for r in csv.DictReader(open(out / "runs.csv"))}
    assert len(rows) == len(made)
    for name, run in made.items():
        row = rows[run["signature"]]
        for task_file in (run["path"] / "eval").glob("*.json"):
            result = json.loads(task_file.read_text())
            if result["schema"].startswith("evolm.eval.downstream"):
                k = result["identity"]["decoding"]["samples"]
                for metric, entry in result["metrics"].items():
                    column = f"{result['task']}:{metric.replace(f'@{k}', '@K')}"
                    assert float(row[column]) == entry["value"], (name, column)
            else:
                assert float(row["upstream_avg"]) == result["average"]
                assert float(row["val_loss"]) == result["val"]["loss"]
                for task, entry in result["tasks"].items():
                    assert float(row[f"up:{task}"]) == entry["value"]
    sft = rows[made["sft-ep2"]["signature"]]
    ids = [json.loads((made["sft-ep2"]["path"] / "eval" / f"{t}.json").read_text())["metrics"]["pass@1"]["value"]
           for t, d in TASKS.items() if d == "id"]
    assert float(sft["synth-id:pass@1"]) == pytest.approx(sum(ids) / len(ids))  # unweighted mean of the ID tasks
    assert sft["sft_epochs"] == "2.0" and sft["cpt_replay_tokens"] == "60000" and sft["pretrain_tokens"] == "400000"
    data = json.loads((out / "runs.json").read_text())
    assert {r["signature"] for r in data} == set(rows)


def test_report_warns_about_unfair_comparisons(runs, tmp_path, cli):
    root, made = runs
    unfinished = make_run(root, "sft-ep8", "sft", {"examples": 1000, "epochs": 8.0, "rows": [0, 1000]}, made["cpt-replay"],
                          completed=False)
    odd = make_run(root, "sft-ep16", "sft", {"examples": 1000, "epochs": 16.0, "rows": [0, 1000]}, made["cpt-replay"],
                   schedule={"lr": 5e-3})
    reseeded = make_run(root, "sft-ep4-seed1", "sft", {"examples": 1000, "epochs": 4.0, "rows": [0, 1000]}, made["cpt-replay"],
                        seed=1)
    for run in (unfinished, odd, reseeded):
        add_downstream(run, 0.3)
    out = tmp_path / "report"
    result = cli("report", root, "--out", out)
    assert result.code == 0, result.err
    md = (out / "report.md").read_text()
    warnings = md.split("## Warnings")[1].split("## Checkpoints")[0]
    assert f"{unfinished['signature']} did not complete its schedule" in warnings
    assert "[INCOMPLETE]" in md
    # another learning rate is not drawn on the sweep's line: it is named, with its setting, as left out
    assert (f"{odd['signature']} [lr=0.005] left out: trained with other settings than the sweep, "
            "and with no second sft_epochs value that way") in warnings
    # a replicate stays in the sweep (drawn as the mean); points of unequal seeds are flagged
    assert "its points were trained with different seeds (1.0: 0; 2.0: 0; 4.0: 0,1; 8.0: 0)" in warnings
    assert "warning:" in result.err


def test_a_learning_rate_grid_in_one_folder_is_two_conditions_never_replicates(runs, tmp_path, cli):
    """The same knobs at two learning rates: each rate is named, has its own F1 test and its own sweep
    line; the CPT table measures forgetting against the checkpoint CPT started from, not against
    another run of the same signature."""
    root, made = runs
    for tokens, acc in ((100_000, 0.20), (200_000, 0.30), (400_000, 0.50)):
        run = make_run(root, f"pt-lr-{tokens}", "pretrain", {"preset": "1M", "tokens": tokens}, schedule={"lr": 1e-2})
        add_upstream(run, {"SynthClozeFacts": acc, "SynthClozeMath": acc + 0.1, "SynthClozeText": acc - 0.05}, 3.0)
    out = tmp_path / "report"
    result = cli("report", root, "--out", out)
    assert result.code == 0, result.err
    md = (out / "report.md").read_text()
    f1 = next(f for f in json.loads((out / "findings.json").read_text())["findings"] if f["id"] == "F1")
    assert sorted(t["runs"][0] for t in f1["tests"]) == ["1M-100KT [lr=0.001]", "1M-100KT [lr=0.01]"]
    assert not any(" x2 " in name for t in f1["tests"] for name in t["runs"])
    assert "| 1M [lr=0.01] | 100K |" in md and "| 1M [lr=0.001] | 100K |" in md
    assert len(list((out / "plots").glob("pretrain_tokens-*.png"))) == 2
    assert "differ in more than pretrain_tokens" not in md
    cpt_rows = [line for line in md.splitlines() if line.startswith("| 1M-400KT [lr=0.001] | 300K | 0 |")]
    assert cpt_rows and "| -8.0 |" in cpt_rows[0]
    runs_csv = {r["path"]: r for r in csv.DictReader(open(out / "runs.csv"))}
    assert runs_csv["pt-lr-100000"]["settings"] == "lr=0.01" and "_settings" not in runs_csv["pt-lr-100000"]
    listed = cli("ls", root).out.splitlines()
    assert any(line.startswith("1M-100KT [lr=0.01] ") and line.endswith("pt-lr-100000") for line in listed)


def test_replicates_are_told_by_value_and_unknown_ancestors_are_named(tmp_path, cli):
    """A default min_lr of lr/10 and the same value typed in are one setting (two seeds: replicates);
    a base outside the folder is read where the lineage says it is; an SFT whose base is gone cannot
    be compared on the base's settings, and says so."""
    root = tmp_path / "runs"
    root.mkdir()
    typed = make_run(root, "pt-typed", "pretrain", {"preset": "1M", "tokens": 100_000}, schedule={"lr": 0.003, "min_lr": 0.0003})
    default = make_run(root, "pt-default", "pretrain", {"preset": "1M", "tokens": 100_000},
                       schedule={"lr": 0.003, "min_lr": 0.003 / 10}, seed=1)
    assert 0.003 / 10 != 0.0003
    elsewhere = make_run(tmp_path / "elsewhere", "pt-seed2", "pretrain", {"preset": "1M", "tokens": 100_000}, seed=2,
                         schedule={"lr": 0.003, "min_lr": 0.0003})
    gone = make_run(tmp_path / "gone", "pt-seed3", "pretrain", {"preset": "1M", "tokens": 100_000}, seed=3)
    tuned = [make_run(root, f"sft-on-{name}", "sft", {"examples": 1000, "epochs": 2.0, "rows": [0, 1000]}, base, seed=i)
             for i, (name, base) in enumerate((("typed", typed), ("elsewhere", elsewhere), ("gone", gone)))]
    shutil.rmtree(tmp_path / "gone")
    for run in (typed, default):
        add_upstream(run, {"SynthClozeText": 0.3}, 3.0)
    for run in tuned:
        add_downstream(run, 0.2)
    out = tmp_path / "report"
    assert cli("report", root, "--out", out).code == 0
    md = (out / "report.md").read_text()
    tree = md.split("## Checkpoints")[1].split("## Tables")[0]
    assert "- 1M-100KT  (pretrain" in tree and "[" not in tree.split("- 1M-100KT")[1].split("\n")[0]
    rows = {r["path"]: r for r in csv.DictReader(open(out / "runs.csv"))}
    assert rows["pt-typed"]["settings"] == rows["pt-default"]["settings"] == ""
    assert rows["sft-on-gone"]["settings"] == "pretrain settings unknown"
    assert rows["sft-on-typed"]["settings"] == rows["sft-on-elsewhere"]["settings"] == ""
    from evolm.report.conditions import conditions
    from evolm.report.collect import collect
    from evolm.report.rows import add_settings, build_row

    found, _ = collect(root)
    built = [build_row(run, root) for run in found]
    add_settings(built, found)
    replicates = [c for c in conditions(built) if c.get("stage") == "sft" and len(c.rows) == 2]
    assert [sorted(r["path"] for r in c.rows) for c in replicates] == [["sft-on-elsewhere", "sft-on-typed"]]


def test_runs_of_equal_knobs_on_other_data_are_two_conditions_not_seed_replicates(tmp_path, cli):
    """Two data versions (or two studies' data) in one report: runs of the same knobs and settings but
    other shards are named apart ("data ..."), never averaged as seeds; on the same shards they are."""
    from evolm.report.collect import collect
    from evolm.report.conditions import conditions
    from evolm.report.rows import add_settings, build_row

    root = tmp_path / "runs"
    root.mkdir()
    for name, seed, fingerprint, acc in (("pt-a0", 0, "a" * 64, 0.40), ("pt-a1", 1, "a" * 64, 0.42), ("pt-b", 1, "b" * 64, 0.30)):
        run = make_run(root, name, "pretrain", {"preset": "1M", "tokens": 100_000}, seed=seed,
                       data=[{"name": "pretrain", "path": f"/data/{fingerprint[0]}", "fingerprint": fingerprint}])
        add_upstream(run, {"SynthClozeText": acc}, 3.0)
    found, _ = collect(root)
    built = [build_row(run, root) for run in found]
    add_settings(built, found)
    grouped = sorted(sorted(r["path"] for r in c.rows) for c in conditions(built))
    assert grouped == [["pt-a0", "pt-a1"], ["pt-b"]]
    labels = {r["path"]: r["settings"] for r in built}
    assert labels["pt-a0"] == labels["pt-a1"] != labels["pt-b"] and labels["pt-b"].startswith("data ")
    assert cli("report", root, "--out", tmp_path / "report").code == 0
    md = (tmp_path / "report" / "report.md").read_text()
    assert md.count("- 1M-100KT [data ") == 3 and md.count(f"1M [{labels['pt-b']}] | 100K | 30.0") == 1


def test_the_post_trained_tables_note_gives_the_samples_own_temperature(tmp_path, cli):
    root = tmp_path / "runs"
    root.mkdir()
    base = make_run(root, "pt", "pretrain", {"preset": "1M", "tokens": 100_000})
    add_downstream(make_run(root, "sft", "sft", {"examples": 1000, "epochs": 2.0, "rows": [0, 1000]}, base), 0.2,
                   temperature=0.7)
    assert cli("report", root, "--out", tmp_path / "report").code == 0
    assert "K = 4 samples at temperature 0.7; Greedy is Pass@1" in (tmp_path / "report" / "report.md").read_text()


def test_a_mid_run_export_is_drawn_at_the_tokens_it_had_seen_not_on_its_runs_line(runs, tmp_path, cli):
    """An --export-at checkpoint has its run's budget as its knob: on the budget sweep's line it would
    stand at 400K with what 200K tokens taught. It is kept off the line, placed at 200K."""
    from evolm.report.collect import collect
    from evolm.report.rows import add_settings, build_row
    from evolm.report.sweeps import export_x, find_sweeps

    root, made = runs
    export = make_run(root, "pt-400000@200K", "pretrain", {"preset": "1M", "tokens": 400_000}, completed=False,
                      schedule={"tokens_done": 200_000, "export_count": 200_000})
    add_upstream(export, {"SynthClozeFacts": 0.36, "SynthClozeMath": 0.46, "SynthClozeText": 0.31}, 3.7)
    found, _ = collect(root)
    rows = [build_row(run, root) for run in found]
    add_settings(rows, found)
    sweep = next(s for s in find_sweeps(list(zip(rows, found))) if s.knob == "pretrain_tokens")
    assert [row["path"] for row, _ in sweep.members] == ["pt-100000", "pt-200000", "pt-400000"]
    assert [(row["path"], export_x(row, "pretrain_tokens")) for row, _ in sweep.exports] == [("pt-400000@200K", 200_000)]
    assert cli("report", root, "--out", tmp_path / "report").code == 0
    assert "did not complete its schedule" not in (tmp_path / "report" / "report.md").read_text()


def _conditions(root):
    from evolm.report.conditions import conditions
    from evolm.report.collect import collect
    from evolm.report.rows import add_settings, build_row

    found, _ = collect(root)
    rows = [build_row(run, root) for run in found]
    add_settings(rows, found)
    return found, conditions(rows)


def test_the_rl_gain_over_three_sft_seeds_pairs_each_rl_run_with_its_own_parent(tmp_path):
    """Real manifests: each row carries its lineage's hashes, so an RL run on each of three SFT seeds is
    compared with its own parent, and the gain's error is not swamped by the SFT seeds' spread."""
    from evolm.report import estimates

    root = tmp_path / "runs"
    root.mkdir()
    base = make_run(root, "pt", "pretrain", {"preset": "1M", "tokens": 100_000})
    for seed, (sft_level, rl_level) in enumerate(((0.20, 0.21), (0.30, 0.32), (0.40, 0.41))):
        sft = make_run(root, f"sft-{seed}", "sft", {"examples": 1000, "epochs": 2.0, "rows": [0, 1000]}, base, seed=seed)
        add_downstream(sft, sft_level)
        add_downstream(make_run(root, f"rl-{seed}", "rl", {"examples": 160, "epochs": 1.0, "rows": [1000, 1160]}, sft), rl_level)
    found, conds = _conditions(root)
    rows = {r["path"]: r for c in conds for r in c.rows}
    assert rows["rl-1"]["_lineage"] == (rows["pt"]["manifest_sha256"], rows["sft-1"]["manifest_sha256"], rows["rl-1"]["manifest_sha256"])
    [rl] = [c for c in conds if c.get("stage") == "rl"]
    gain = estimates.diff("", rl.acc(), rl.started_from().acc())
    problems = 0.01 / math.sqrt(2)  # each task's SE 0.01, two in-domain tasks, no per-problem values: not paired
    assert gain.value == pytest.approx(0.04 / 3)
    assert gain.se == pytest.approx(math.sqrt(2 * problems ** 2 + estimates.seed_variance([0.01, 0.02, 0.01])))


def test_runs_trained_from_a_mid_run_export_are_not_replicates_of_runs_from_the_finished_run(runs):
    root, made = runs
    export = make_run(root, "pt-400000@200K", "pretrain", {"preset": "1M", "tokens": 400_000}, completed=False,
                      schedule={"tokens_done": 200_000, "export_count": 200_000})
    knobs = {"examples": 400, "epochs": 2.0, "rows": [0, 400]}
    for name, parent, seed in (("sft-on-export", export, 0), ("sft-on-final", made["pt-400000"], 1)):
        add_downstream(make_run(root, name, "sft", knobs, parent, seed=seed), 0.2)
    _, conds = _conditions(root)
    mine = sorted((c.name, [r["path"] for r in c.rows]) for c in conds if c.rows[0]["path"] in ("sft-on-export", "sft-on-final"))
    assert mine == [("1M-400KT-400ep2", ["sft-on-final"]), ("1M-400KT-400ep2 [pretrain exported_at=200000]", ["sft-on-export"])]


def test_rl_replicates_on_sft_parents_of_different_seeds_are_named_by_the_seeds_that_differ(runs):
    """Three RL runs at RL seed 0, each on an SFT run of its own seed: replicates, named by the SFT
    seeds that tell them apart ("sft seeds 0,1,2"), not by the RL seed they share."""
    root, made = runs
    knobs = {"examples": 400, "epochs": 2.0, "rows": [0, 400]}
    for seed in (0, 1, 2):
        sft = make_run(root, f"sft-{seed}", "sft", knobs, made["pt-400000"], seed=seed)
        add_downstream(make_run(root, f"rl-{seed}", "rl", {"examples": 100, "epochs": 1.0, "rows": [0, 100]}, sft, seed=0), 0.2)
    _, conds = _conditions(root)
    by_stage = {c.get("stage"): c.name for c in conds if len(c.rows) == 3}
    assert by_stage == {"sft": "1M-400KT-400ep2 x3 (seeds 0,1,2)", "rl": "1M-400KT-400ep2-100ep1 x3 (sft seeds 0,1,2)"}


def test_a_wsd_manifest_from_before_the_decay_was_recorded_compares_with_a_new_one(tmp_path):
    root = tmp_path / "runs"
    old = make_run(root, "pt-old", "pretrain", {"preset": "1M", "tokens": 400_000},
                   schedule={"schedule": "wsd", "total_steps": 50, "decay_steps": 10, "stable_steps": 35})
    new = make_run(root, "pt-new", "pretrain", {"preset": "1M", "tokens": 400_000}, seed=1,
                   schedule={"schedule": "wsd", "total_steps": 50, "decay_steps": 10, "stable_steps": 35, "decay": "20%"})
    found, conds = _conditions(root)
    assert [r.training_settings()["decay"] for r in found] == ["20%", "20%"]
    assert len(conds) == 1 and len(conds[0].rows) == 2 and {old["sha"], new["sha"]} == {r["manifest_sha256"] for r in conds[0].rows}


def test_the_split_table_orders_splits_whose_ancestors_are_unknown():
    from evolm.report.tables import split_table

    def split(sft, rl, chain):
        return {"stage": "rl", "signature": f"1M-400KT-{sft}ep2-{rl}ep1", "base": "1M-400KT", "sft_examples": sft,
                "rl_examples": rl, "sft_epochs": 2.0, "rl_epochs": 1.0, "_settings": chain, "synth-id:pass@1": 0.2}

    known, unknown = (("pretrain", "{}"), ("sft", "{}"), ("rl", "{}")), (("pretrain", None), ("sft", "{}"), ("rl", "{}"))
    table = split_table([split(1000, 200, known), split(400, 800, known), split(1000, 200, unknown), split(400, 800, unknown)])
    assert [row[0] for row in table.rows] == ["1M-400KT"] * 2 + ["1M-400KT [pretrain settings unknown]"] * 2


def test_validation_loss_on_two_copies_of_one_dataset_is_one_setting(tmp_path, cli):
    """Each study folder prepares its own copy of the data: the shards' paths differ, their fingerprint
    does not. Shards of other content are still told apart."""
    root = tmp_path / "runs"
    root.mkdir()
    made = [make_run(root, f"pt-{t}", "pretrain", {"preset": "1M", "tokens": t}) for t in (100_000, 200_000)]

    def measure_val(run, shards, fingerprint):
        add_upstream(run, {"SynthClozeText": 0.3}, 3.0)
        path = run["path"] / "eval" / "upstream.json"
        result = json.loads(path.read_text())
        result["identity"]["val"] = {"shards": shards, "seq_len": 256, "tokens": 64000}
        result["val"]["fingerprint"] = fingerprint
        path.write_text(json.dumps(result))

    def warnings():
        assert cli("report", root, "--out", tmp_path / "report", "--overwrite").code == 0
        return (tmp_path / "report" / "report.md").read_text().split("## Checkpoints")[0]  # the header and warnings

    measure_val(made[0], "/studies/a/data/shards/general", "f00d")
    measure_val(made[1], "/studies/b/data/shards/general", "f00d")
    assert "upstream was evaluated with different settings" not in warnings()
    measure_val(made[1], "/studies/b/data/shards/general", "beef")
    assert "upstream was evaluated with different settings on different checkpoints (val.fingerprint" in warnings()


def test_report_warns_when_results_of_different_evaluation_settings_meet(tmp_path, cli):
    """K = 2 on one checkpoint and K = 4 on another (or within one checkpoint's group, or in two
    folders for one checkpoint) are named, never mixed quietly."""
    root = tmp_path / "runs"
    base = make_run(root, "pt", "pretrain", {"preset": "1M", "tokens": 100_000})
    two = make_run(root, "sft-two", "sft", {"examples": 100, "epochs": 1.0, "rows": [0, 100]}, base)
    four = make_run(root, "sft-four", "sft", {"examples": 200, "epochs": 1.0, "rows": [0, 200]}, base)
    add_downstream(two, 0.1, k=2)
    add_downstream(four, 0.2, k=4)
    level2 = json.loads((two["path"] / "eval" / "SynthMathLevel2.json").read_text())
    level2["identity"]["decoding"]["samples"] = 8  # another K inside the in-domain group of one checkpoint
    (two["path"] / "eval" / "SynthMathLevel2.json").write_text(json.dumps(level2))
    elsewhere = root / "facts-greedy"
    elsewhere.mkdir()
    facts = json.loads((four["path"] / "eval" / "SynthFacts.json").read_text())
    facts["identity"]["decoding"]["samples"], facts["created"] = 0, "2026-11-28T10:00:00+00:00"
    (elsewhere / "SynthFacts.json").write_text(json.dumps(facts))
    files = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    result = cli("report", root, "--out", tmp_path / "report", "--json")
    assert result.code == 0, result.err
    md = (tmp_path / "report" / "report.md").read_text()
    warnings = md.split("## Warnings")[1].split("## Checkpoints")[0]
    # K differs, the greedy decoding does not: pass@1 still compares, and the warning says so, once for
    # the tasks that differ the same way
    across = (f"SynthCode, SynthMathLevel1 were sampled differently on different checkpoints (decoding.samples: "
              f"2 on {two['signature']}; 4 on {four['signature']}): pass@1 (greedy) compares across them")
    assert across in warnings and across in result.err
    assert "SynthMathLevel2 was sampled differently on different checkpoints (decoding.samples: 8 on" in warnings
    assert f"{two['signature']}: its synth-id tasks were evaluated with different settings" in warnings
    assert f"{four['path']} has SynthFacts results of different settings in two folders" in warnings
    assert json.loads(result.out)["warnings"] >= 6
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == files  # the report only reads


def test_a_corrupt_manifest_is_named_and_skipped(runs, tmp_path, cli):
    root, made = runs
    bad = root / "broken"
    bad.mkdir()
    (bad / "evolm.json").write_text("{not json")
    result = cli("report", root, "--out", tmp_path / "report")
    assert result.code == 0, result.err
    assert f"skipped {bad / 'evolm.json'}" in result.err
    assert f"skipped {bad / 'evolm.json'}" in (tmp_path / "report" / "report.md").read_text()


def test_an_empty_folder_exits_2(tmp_path, cli):
    (tmp_path / "empty").mkdir()
    result = cli("report", tmp_path / "empty", "--out", tmp_path / "report")
    assert result.code == 2 and "holds no evolm checkpoint" in result.err
    assert not (tmp_path / "report").exists()
    missing = cli("report", tmp_path / "nope", "--out", tmp_path / "report")
    assert missing.code == 2 and "does not exist" in missing.err


def test_a_report_of_several_folders_holds_their_checkpoints_only(runs, tmp_path, cli):
    """What a study reports (its nodes' folders, not every folder in its out:): the checkpoints below
    the folders given, each once (a folder inside another given one adds nothing), named relative to
    the folder holding them all; a folder that does not exist is refused before anything is written."""
    root, made = runs
    two = cli("report", root / "pt-100000", root / "pt-200000", "--out", tmp_path / "two", "--json")
    assert two.code == 0, two.err
    assert json.loads(two.out)["checkpoints"] == 2
    assert f"runs folder: {root.resolve()} (2 checkpoints)" in (tmp_path / "two" / "report.md").read_text()
    rows = list(csv.DictReader(open(tmp_path / "two" / "runs.csv")))
    assert sorted(r["path"] for r in rows) == ["pt-100000", "pt-200000"] and all(r["upstream_avg"] for r in rows)
    nested = cli("report", root / "pt-100000", root, "--out", tmp_path / "all", "--json")
    assert nested.code == 0 and json.loads(nested.out)["checkpoints"] == len(made)
    missing = cli("report", root / "pt-100000", tmp_path / "nope", "--out", tmp_path / "x")
    assert missing.code == 2 and "does not exist" in missing.err and not (tmp_path / "x").exists()


def test_report_refuses_to_overwrite_without_the_flag(runs, tmp_path, cli):
    root, _ = runs
    out = tmp_path / "report"
    assert cli("report", root, "--out", out).code == 0
    again = cli("report", root, "--out", out)
    assert again.code == 2 and "--overwrite" in again.err
    assert cli("report", root, "--out", out, "--overwrite").code == 0


def test_report_overwrite_never_replaces_a_checkpoint_or_a_foreign_folder(runs, tmp_path, cli):
    root, made = runs
    checkpoint = made["sft-ep2"]["path"]
    before = sorted(p.name for p in checkpoint.iterdir())
    into_checkpoint = cli("report", root, "--out", checkpoint, "--overwrite")
    assert into_checkpoint.code == 2 and "holds evolm checkpoints" in into_checkpoint.err
    assert sorted(p.name for p in checkpoint.iterdir()) == before
    into_runs = cli("report", root, "--out", root, "--overwrite")
    assert into_runs.code == 2 and "holds evolm checkpoints" in into_runs.err
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "todo.txt").write_text("keep me")
    foreign = cli("report", root, "--out", mine, "--overwrite")
    assert foreign.code == 2 and "is not a report written by `evolm report`" in foreign.err
    assert (mine / "todo.txt").read_text() == "keep me" and len(list(mine.iterdir())) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("report", root, "--out", empty, "--overwrite").code == 0  # nothing to lose


def test_report_warns_about_an_unreadable_eval_result(runs, tmp_path, cli):
    root, made = runs
    task_file = next((made["sft-ep2"]["path"] / "eval").glob("Synth*.json"))
    task_file.write_text(task_file.read_text()[:50])  # a torn write
    result = cli("report", root, "--out", tmp_path / "report", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["warnings"] >= 1
    assert f"skipped {task_file}: not a readable JSON result" in (tmp_path / "report" / "report.md").read_text()


def test_ls_lists_signature_stage_completion_and_evals(runs, cli):
    root, made = runs
    (root / "pt-800000.partial").mkdir()
    result = cli("ls", root)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    sft = next(line for line in lines if line.startswith(made["sft-ep2"]["signature"] + " "))
    assert " sft " in sft and "complete" in sft and "upstream,SynthCode,SynthFacts,SynthMathLevel1,SynthMathLevel2" in sft
    assert any("in progress" in line and "pt-800000.partial" in line for line in lines)
    listed = json.loads(cli("ls", root, "--json").out)["checkpoints"]
    assert len([e for e in listed if e["signature"]]) == len(made)
    (root.parent / "ls.yaml").write_text("json: true\n")  # ls takes a --config as every command does
    assert json.loads(cli("ls", root, "--config", root.parent / "ls.yaml").out)["checkpoints"] == listed


def test_ls_lists_a_folder_of_unfinished_runs_and_names_a_copied_checkpoint(runs, tmp_path, cli):
    root, made = runs
    only = tmp_path / "only-partial"
    (only / "pt.partial").mkdir(parents=True)
    result = cli("ls", only)
    assert result.code == 0 and "pt.partial" in result.out and "in progress" in result.out, result.err
    assert cli("ls", tmp_path / "nothing-here").code == 2
    shutil.copytree(made["pt-100000"]["path"], root / "pt-100000-copy")
    result = cli("ls", root)
    assert result.code == 0 and f"{root / 'pt-100000-copy'} is a copy of" in result.err
    assert result.out.count(made["pt-100000"]["signature"] + " ") == 1


def test_a_sweep_sampled_differently_is_told_apart_from_different_greedy_decoding(runs, tmp_path, cli):
    """The mini study samples K completions only on the runs F6 compares: pass@1 (greedy) still
    compares along the SFT epochs sweep, and the warning says which metrics do not."""
    root, made = runs
    add_downstream(made["sft-ep1"], 0.10, k=0)  # greedy only
    assert cli("report", root, "--out", tmp_path / "report").code == 0
    md = (tmp_path / "report" / "report.md").read_text()
    assert "were sampled differently across the sweep (K, temperature, top-p or seed); pass@1 (greedy) compares" in md
    assert "were evaluated with different decoding settings" not in md
    for task in TASKS:  # a different greedy setting is the stronger warning
        path = made["sft-ep4"]["path"] / "eval" / f"{task}.json"
        result = json.loads(path.read_text())
        result["identity"]["decoding"]["repetition_penalty"] = 1.1
        path.write_text(json.dumps(result))
    assert cli("report", root, "--out", tmp_path / "report2").code == 0
    assert "were evaluated with different decoding settings across the sweep" in (tmp_path / "report2" / "report.md").read_text()


def test_findings_pair_checkpoints_scored_on_the_same_rows(tmp_path, cli):
    """Per-row upstream scores travel from the eval results to the findings (a paired SE), not into runs.csv."""
    root = tmp_path / "runs"
    decayed = make_run(root, "pt-200K", "pretrain", {"preset": "1M", "tokens": 200_000})
    mid = make_run(root, "pt-400K@200K", "pretrain", {"preset": "1M", "tokens": 400_000}, completed=False,
                   schedule={"tokens_done": 200_000})
    rows_mid, rows_decayed = [1.0] * 30 + [0.0] * 70, [1.0] * 36 + [0.0] * 64  # the decayed run adds 6 rows, loses none
    add_upstream(mid, {"SynthClozeText": 0.0}, 3.0, items={"SynthClozeText": rows_mid})
    add_upstream(decayed, {"SynthClozeText": 0.0}, 2.9, items={"SynthClozeText": rows_decayed})
    out = tmp_path / "report"
    assert cli("report", root, "--out", out).code == 0
    f9 = json.loads((out / "findings.json").read_text())["findings"]
    effect = next(f for f in f9 if f["id"] == "F9")["tests"][0]["effects"][0]
    assert effect["value"] == pytest.approx(0.06) and effect["se"] == pytest.approx((0.06 * 0.94 / 99) ** 0.5)
    assert next(f for f in f9 if f["id"] == "F9")["verdict"] == "shown"
    header = next(csv.reader(open(out / "runs.csv")))
    assert "_items" not in header and all("_items" not in r for r in json.loads((out / "runs.json").read_text()))


def test_a_run_sampled_only_on_some_tasks_keeps_pass_at_k_for_them(tmp_path, cli):
    """The mini study samples K only on the in-domain tasks F6 reads; the out-of-domain ones are greedy."""
    root = tmp_path / "runs"
    run = make_run(root, "sft", "sft", {"examples": 100, "epochs": 1.0, "rows": [0, 100]})
    written = add_downstream(run, 0.3, k=4)
    for task, result in written.items():
        if TASKS[task] == "ood":  # greedy only: pass@1 and no sampled metrics
            result["identity"]["decoding"]["samples"] = 0
            result["metrics"] = {m: v for m, v in result["metrics"].items() if m in ("pass@1", "no_answer")}
            (run["path"] / "eval" / f"{task}.json").write_text(json.dumps(result))
    out = tmp_path / "report"
    assert cli("report", root, "--out", out).code == 0
    row = json.loads((out / "runs.json").read_text())[0]
    assert row["samples_K"] == 4 and row["synth-id:pass@K"] is not None and "synth-ood:pass@K" not in row
    assert row["synth-ood:pass@1"] is not None
    assert "were evaluated with different settings" not in (out / "report.md").read_text()



def test_a_budget_sweep_mixing_cosine_and_wsd_runs_is_flagged(tmp_path, cli):
    """A WSD branch and a cosine run compared across budgets: the schedules differ, and the report says so
    (as it says which checkpoints did not decay)."""
    root = tmp_path / "runs"
    root.mkdir()
    cosine = make_run(root, "pt-200K", "pretrain", {"preset": "1M", "tokens": 200_000})
    wsd = make_run(root, "pt-400K", "pretrain", {"preset": "1M", "tokens": 400_000},
                   schedule={"schedule": "wsd", "decay_steps": 10, "stable_steps": 30, "decayed": True})
    for run, acc in ((cosine, 0.3), (wsd, 0.4)):
        add_upstream(run, {"SynthClozeText": acc}, 3.0)
    result = cli("report", root, "--out", tmp_path / "report")
    assert result.code == 0, result.err
    warnings = (tmp_path / "report" / "report.md").read_text().split("## Warnings")[1].split("## Checkpoints")[0]
    assert ("1M-200KT [schedule=cosine]; 1M-400KT [schedule=wsd] take different pretrain_tokens values but were "
            "trained with different settings, so no sweep compares them") in warnings


def test_a_sweep_line_goes_through_the_mean_of_seed_replicates():
    """Two seeds at one point: the line passes through their mean (not a zigzag between them), and the
    replicates are drawn faintly beside it."""
    from evolm.report.plots import _line, _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots()
    _line(ax, [(1, 10.0), (2, 20.0), (2, 30.0), (4, 40.0)], "o-", "Greedy")
    line, faint = ax.lines
    assert list(line.get_xdata()) == [1, 2, 4] and list(line.get_ydata()) == [10.0, 25.0, 40.0]
    assert line.get_label() == "Greedy (mean of seeds)" and len(faint.get_xdata()) == 4
    plt.close(fig)


def test_a_reward_model_is_in_the_lineage_tree_and_in_no_sweep_or_table(runs, tmp_path, cli):
    """An `evolm rm` checkpoint carries its SFT parent's knobs in its lineage, but is no policy: with it
    in the folder the SFT epochs sweep neither draws it nor names it as left out."""
    root, made = runs
    rm = make_run(root, "rm", "rm", {"pairs": 300, "epochs": 2.0}, made["sft-ep2"])
    result = cli("report", root, "--out", tmp_path / "report")
    assert result.code == 0, result.err
    md = (tmp_path / "report" / "report.md").read_text()
    assert md.count(rm["signature"]) == 1 and f"{rm['signature']}  (rm; 300 pairs x 2.0 epochs)" in md
    assert "left out" not in result.err


def test_a_panel_with_nothing_measured_says_so_instead_of_an_empty_scale(tmp_path, monkeypatch):
    """An SFT epochs sweep evaluated in-domain only: the out-of-domain panel says "nothing measured" and
    draws no ticks; the in-domain panel draws its line on a scale."""
    from matplotlib.figure import Figure

    from evolm.report.plots import plot_sweep
    from evolm.report.sweeps import Sweep

    figures = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: figures.append(fig))
    members = [({"sft_epochs": e, "synth-id:pass@1": acc}, None) for e, acc in ((1.0, 0.2), (2.0, 0.3), (4.0, 0.35))]
    plot_sweep(Sweep("sft_epochs", {"preset": "1M"}, members), tmp_path / "sweep.png")
    in_domain, out_of_domain = figures[0].axes
    assert [list(line.get_ydata()) for line in in_domain.lines] == [[20.0, 30.0, 35.0]] and len(in_domain.get_xticks())
    assert not out_of_domain.lines and [t.get_text() for t in out_of_domain.texts] == ["nothing measured"]
    assert not len(out_of_domain.get_xticks()) and not len(out_of_domain.get_yticks())
