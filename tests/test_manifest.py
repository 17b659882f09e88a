"""The typed manifest: round trip, the schema 1 -> 2 upgrade, and refusal of what it cannot read."""

import json

import pytest

from evolm.manifest import (
    SCHEMA_VERSION, Compute, DataSource, LineageEntry, Manifest, ManifestError, ModelRecord, Outcome, ParentRef,
    PostTraining, Schedule, TokenizerRecord, parse,
)

# A schema-1 RL manifest as evolm wrote it before the manifest was typed (fields trimmed).
V1_RL = {
    "schema": "evolm.checkpoint", "schema_version": 1, "stage": "rl", "signature": "1M-60KT-400ep3-8ep1",
    "knobs": {"examples": 8, "epochs": 1.0, "pool_sha256": "ab", "rows": [1992, 2000]},
    "parent": {"path": "/runs/sft", "manifest_sha256": "cd", "signature": "1M-60KT-400ep3"},
    "lineage": [{"stage": "pretrain", "knobs": {"preset": "1M", "tokens": 60000}, "signature": "1M-60KT",
                 "manifest_sha256": "ef", "path": "/runs/base"},
                {"stage": "sft", "knobs": {"examples": 400, "epochs": 3}, "signature": "1M-60KT-400ep3",
                 "manifest_sha256": "cd", "path": "/runs/sft"}],
    "created": "2026-11-30T10:00:00+00:00", "versions": {"evolm": "0.1.0"}, "git_commit": "abc", "hardware": {"cpu_count": 2},
    "model": {"preset": "1M", "params": 1000, "vocab_size": 1024, "shape": {"seq_len": 256}},
    "tokenizer": {"sha256": "77"},
    "template": {"name": "evolm-human-assistant/1"}, "template_name": "evolm-human-assistant/1",
    "pretraining_data": [{"name": "pretrain", "path": "/shards/general", "tokens_requested": 60000}],
    "data": [{"name": "rl", "pool": "/pool.jsonl", "pool_sha256": "ab", "rows": [1992, 2000], "examples": 8, "epochs": 1.0,
              "prompts_used": 8}],
    "reward": {"definition": "evolm.math/1"}, "kl": {"enabled": True, "coef": 1e-4}, "generation": {"rollouts_per_prompt": 2},
    "schedule": {"lr": 1e-4, "kind": "linear warmup then constant", "processes": 1, "steps_done": 2, "completed": True},
    "rewards": {"first": 0.0, "last": 0.5, "mean": 0.25}, "seed": 0, "wall_time_s": 3.5,
    "files": {"model.safetensors": {"sha256": "00", "bytes": 10}},
    "something_new": {"kept": True},
}


def test_a_schema_1_manifest_is_upgraded_field_by_field():
    m = Manifest.from_json(V1_RL)
    assert m.schema_version == SCHEMA_VERSION == 2
    assert m.parent == ParentRef("/runs/sft", "cd", "1M-60KT-400ep3")
    assert [e.stage for e in m.lineage] == ["pretrain", "sft"] and isinstance(m.lineage[0], LineageEntry)
    assert m.model == ModelRecord("1M", 1000, 1024, {"seq_len": 256}) and m.model.seq_len == 256
    assert m.tokenizer == TokenizerRecord("77")
    assert m.compute == Compute(wall_time_s=3.5, processes=1)
    assert m.schedule == Schedule(kind="linear warmup then constant", completed=True, steps_done=2, settings={"lr": 1e-4})
    assert m.outcome == Outcome(rewards={"first": 0.0, "last": 0.5, "mean": 0.25})
    assert m.posttraining.kl == {"enabled": True, "coef": 1e-4} and m.posttraining.template["name"] == "evolm-human-assistant/1"
    assert m.provenance.git_commit == "abc" and m.provenance.hardware == {"cpu_count": 2}
    assert m.data == [DataSource("rl", pool="/pool.jsonl", pool_sha256="ab", rows=[1992, 2000], examples=8, epochs=1.0,
                                 prompts_used=8)]
    assert m.pretraining_data[0].path == "/shards/general"
    assert m.files["model.safetensors"].bytes == 10
    assert m.extra == {"something_new": {"kept": True}}  # unknown keys survive a rewrite
    again = Manifest.from_json(json.loads(json.dumps(m.to_json())))
    assert again == m


def test_round_trip_of_a_current_manifest():
    m = Manifest(stage="pretrain", signature="1M-2MT", knobs={"preset": "1M", "tokens": 2_000_000},
                 model=ModelRecord("1M", 10), data=[DataSource("pretrain", path="/s", tokens_requested=5, tokens_drawn=5)],
                 schedule=Schedule("cosine", True, 10, 5, {"lr": 1e-3}), compute=Compute(wall_time_s=1.0),
                 posttraining=PostTraining(kl={"enabled": False, "coef": 0.0}))
    data = m.to_json()
    assert data["schema_version"] == 2 and data["data"] == [{"name": "pretrain", "path": "/s", "tokens_requested": 5,
                                                              "tokens_drawn": 5}]  # inapplicable fields left out
    assert Manifest.from_json(data) == m


@pytest.mark.parametrize("data, message", [
    (b"{not json", "not valid JSON"),
    (b'{"schema": "other"}', "not an evolm checkpoint manifest"),
    (json.dumps({**V1_RL, "schema_version": 99}).encode(), "newer than this evolm understands"),
    (json.dumps({**V1_RL, "schema_version": 0}).encode(), "schema_version 0, which no evolm writes"),
    (json.dumps({**V1_RL, "schema_version": -1}).encode(), "schema_version -1, which no evolm writes"),
    (json.dumps({**V1_RL, "schema_version": True}).encode(), "schema_version true, which no evolm writes"),
    (json.dumps({**V1_RL, "schema_version": "2"}).encode(), 'schema_version "2", which no evolm writes'),
    (json.dumps({k: v for k, v in V1_RL.items() if k != "knobs"}).encode(), "no knobs"),
    (json.dumps({**V1_RL, "model": "1M"}).encode(), "malformed record"),
])
def test_what_cannot_be_read_is_named(data, message):
    with pytest.raises(ManifestError, match=message):
        parse(data)
