"""A stage declares itself once: a toy stage spec appears in signatures, the report's lineage tree,
its knob columns and its sweeps, with no edit to the checkpoint module or the report."""

import json

import pytest

from evolm import stagespec
from evolm.checkpoint import compute_signature, load_checkpoint
from fake_runs import add_downstream, make_run


@pytest.fixture
def distill_stage():
    spec = stagespec.register(stagespec.StageSpec(
        "distill", "distillation from a teacher (a toy stage for this test)",
        (stagespec.Knob("teacher_tokens", "distillation tokens", log_axis=True, figure="toy figure"),),
        segment=lambda k: f"d{k['teacher_tokens']}", summary=lambda k: f"{k['teacher_tokens']} teacher tokens"))
    yield spec
    del stagespec.STAGES["distill"]


def test_a_toy_stage_flows_through_signatures_tree_and_sweeps(distill_stage, tmp_path, cli):
    root = tmp_path / "runs"
    base = make_run(root, "pt", "pretrain", {"preset": "1M", "tokens": 100_000})
    made = []
    for tokens, level in ((1000, 0.1), (2000, 0.2), (4000, 0.3)):
        run = make_run(root, f"distill-{tokens}", "distill", {"teacher_tokens": tokens}, base)
        add_downstream(run, level)
        made.append(run)
    assert made[0]["signature"] == "1M-100KT-d1000" == compute_signature(made[0]["lineage"] + [made[0]["entry"]])
    assert load_checkpoint(made[0]["path"], verify="none").signature == "1M-100KT-d1000"  # the loader checks it

    result = cli("report", root, "--out", tmp_path / "report", "--json")
    assert result.code == 0, result.err
    md = (tmp_path / "report" / "report.md").read_text()
    tree = md.split("## Checkpoints")[1].split("## Tables")[0]
    assert "- 1M-100KT-d2000  (distill; 2000 teacher tokens)" in tree
    assert "distillation tokens sweep" in md and "toy figure" in md
    rows = json.loads((tmp_path / "report" / "runs.json").read_text())
    rows = rows if isinstance(rows, list) else rows["runs"]
    assert sorted(r["distill_teacher_tokens"] for r in rows if r["stage"] == "distill") == [1000, 2000, 4000]
    assert [p.name for p in (tmp_path / "report" / "plots").iterdir()] == ["distill_teacher_tokens-1.png"]


def test_an_unknown_stage_is_refused_by_the_checkpoint_contract():
    with pytest.raises(ValueError, match="unknown stage 'distill'"):
        compute_signature([{"stage": "distill", "knobs": {}}])


def test_the_cli_lists_each_training_stage_by_its_spec(cli):
    listing = cli("--help").out
    for name in ("pretrain", "cpt", "sft", "rl"):
        description = stagespec.get(name).description
        assert f"{name}" in listing and description[:1].upper() + description[1:30] in listing, name
