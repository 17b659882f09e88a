"""A post-training run that changed nothing is said, recorded and reported (issue 13, item 9)."""

import json

import torch
from safetensors.torch import save_file

from evolm.training.noop import noop_warnings, reward_without_variance, unchanged_weights


def _parent(tmp_path, weights):
    save_file(weights, str(tmp_path / "model.safetensors"))
    return tmp_path


def test_identical_weights_are_detected_and_a_changed_tensor_is_not(tmp_path):
    weights = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.ones(4)}
    parent = _parent(tmp_path, weights)
    assert unchanged_weights(parent, {k: v.clone() for k, v in weights.items()}) is True
    moved = {k: v.clone() for k, v in weights.items()}
    moved["b"][2] += 1e-6
    assert unchanged_weights(parent, moved) is False
    assert unchanged_weights(tmp_path / "absent", weights) is None  # no single weights file: cannot tell


def test_weights_gathered_in_bf16_compare_with_the_parent_rounded_alike(tmp_path):
    """Under DeepSpeed the final weights come back in bf16 (it converts the model in place) while the
    parent saved float32: compared at float32, an untouched model differed from its parent by rounding
    alone, and the warning could never fire there."""
    weights = {"w": torch.tensor([0.1, 1 / 3, 2.0, -7.3], dtype=torch.float32)}
    parent = _parent(tmp_path, weights)
    rounded = {"w": weights["w"].to(torch.bfloat16)}
    assert not torch.equal(rounded["w"].float(), weights["w"])  # the rounding the old comparison tripped on
    assert unchanged_weights(parent, rounded) is True
    trained = {"w": rounded["w"].clone()}
    trained["w"][1] += 0.25
    assert unchanged_weights(parent, trained) is False


def test_reward_without_variance_needs_every_logged_step_flat():
    assert reward_without_variance([{"frac_reward_zero_std": 1.0}, {"frac_reward_zero_std": 1.0}])
    assert not reward_without_variance([{"frac_reward_zero_std": 1.0}, {"frac_reward_zero_std": 0.75}])
    assert not reward_without_variance([{"loss": 0.1}])  # SFT logs no reward


def test_the_warnings_name_what_happened(tmp_path):
    weights = {"w": torch.zeros(3)}
    parent = _parent(tmp_path, weights)
    found = noop_warnings(parent, weights, [{"frac_reward_zero_std": 1.0}], "rl")
    assert len(found) == 2 and "same reward" in found[0] and "identical to the parent's" in found[1]
    assert noop_warnings(parent, {"w": torch.ones(3)}, [{"frac_reward_zero_std": 0.5}], "rl") == []


def test_the_report_lists_a_run_that_did_nothing(tmp_path, cli):
    from fake_runs import build

    from evolm.checkpoint import MANIFEST
    from evolm.manifest import Manifest

    root = tmp_path / "runs"
    made = build(root)
    path = made["sft-ep2"]["path"] / MANIFEST
    manifest = Manifest.from_json(json.loads(path.read_text()))  # the fakes are schema 1; write it as this evolm does
    manifest.outcome.warnings = ["sft: the weights are identical to the parent's; this checkpoint is its parent under a new name"]
    path.write_text(json.dumps(manifest.to_json()))
    result = cli("report", root, "--out", tmp_path / "report")
    assert result.code == 0, result.err
    md = (tmp_path / "report" / "report.md").read_text()
    assert f"{made['sft-ep2']['signature']} ({made['sft-ep2']['path']}): sft: the weights are identical" in md
