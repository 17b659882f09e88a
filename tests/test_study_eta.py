"""The study runner's ETA: training and evaluation learnt apart (evolm.study.eta)."""

from pathlib import Path

import pytest

from evolm.study.eta import Eta
from evolm.study.plan import Node

UPSTREAM = [("upstream", {"suite": "upstream"})]
DOWNSTREAM = [("downstream", {"suite": "synth-id"})]


def node(id, stage, evals, model="1M", options=None):
    return Node(id, id, stage, options or {}, None, Path(id), evals, model)


def test_a_short_runs_evaluation_does_not_scale_the_long_runs_training():
    """The mini study's start: a pre-training run estimated at 10 s trains in 20 and evaluates in 40.
    One scale over both (60 / 10) made the ETA of what was left 6x its estimates; learnt apart, a
    pre-training run estimated at 100 s is 200 + 40, and an SFT run (no SFT finished yet) takes the
    trained nodes' scale with the mean evaluation time of any node."""
    pt, pt_next, sft = node("pt", "pretrain", UPSTREAM), node("pt2", "pretrain", UPSTREAM), node("sft", "sft", DOWNSTREAM)
    eta = Eta({"pt": 10.0, "pt2": 100.0, "sft": 300.0})
    assert eta.seconds([pt_next, sft], set()) == pytest.approx(400.0)  # nothing finished: the plan's estimates
    eta.record(pt, 20.0, 40.0)
    assert eta.seconds([pt_next], set()) == pytest.approx(240.0)
    assert eta.seconds([pt_next, sft], set()) == pytest.approx(240.0 + 600.0 + 40.0)
    # once an SFT run finished, SFT runs scale by SFT's own ratio and take SFT's evaluation time
    eta.estimates["sft0"] = 300.0
    eta.record(node("sft0", "sft", DOWNSTREAM), 150.0, 90.0)
    assert eta.seconds([sft], set()) == pytest.approx(300.0 * 0.5 + 90.0)


def test_a_trained_node_counts_its_evaluations_only_and_jobs_share_the_work():
    pt, sft = node("pt", "pretrain", UPSTREAM), node("sft", "sft", DOWNSTREAM)
    eta = Eta({"pt": 10.0, "sft": 300.0}, jobs=2)
    eta.record(pt, 10.0, 30.0)
    assert eta.seconds([sft], {"sft"}) == pytest.approx(30.0)  # evaluation only; one node left: one job
    assert eta.seconds([pt, sft], set()) == pytest.approx((10.0 + 30.0 + 300.0 + 30.0) / 2)


def test_an_unknown_estimate_gives_no_eta():
    eta = Eta({"pt": None})
    assert eta.seconds([node("pt", "pretrain", UPSTREAM)], set()) is None
    assert eta.seconds([], set()) is None


def test_evaluation_time_is_per_checkpoint_and_per_preset():
    """A run with an --export-at export evaluates two checkpoints: its time is learnt per checkpoint and
    paid twice by a node that also exports; another preset with the same evaluations takes the stage's
    mean instead of this preset's."""
    exporting = node("pt1m", "pretrain", UPSTREAM, options={"export-at": "500K"})
    assert len(exporting.exports()) == 1
    eta = Eta({"pt1m": 10.0, "pt": 10.0, "pt4m": 10.0})
    eta.record(exporting, 10.0, 80.0)  # two evaluations of 40 s
    assert eta.seconds([node("pt", "pretrain", UPSTREAM)], {"pt"}) == pytest.approx(40.0)
    assert eta.seconds([node("pt2", "pretrain", UPSTREAM, options={"export-at": "1K"})], {"pt2"}) == pytest.approx(80.0)
    eta.record(node("pt", "pretrain", UPSTREAM), 10.0, 40.0)
    eta.record(node("pt4m", "pretrain", UPSTREAM, model="4M"), 10.0, 100.0)
    assert eta.seconds([node("pt4m-b", "pretrain", UPSTREAM, model="4M")], {"pt4m-b"}) == pytest.approx(100.0)
    assert eta.seconds([node("pt-c", "pretrain", UPSTREAM)], {"pt-c"}) == pytest.approx(40.0)


def test_a_resumed_run_teaches_nothing_about_training_time():
    eta = Eta({"pt": 100.0, "pt2": 100.0})
    eta.record(node("pt", "pretrain", []), None, None)  # resumed: it trained only the rest of its estimate
    assert eta.seconds([node("pt2", "pretrain", [])], set()) == pytest.approx(100.0)
