"""The micro batch chosen from a GPU's free memory (pretrain / cpt on CUDA without --micro-batch):
the plan's arithmetic, and train_config using it only where CUDA reports free memory."""

import pytest

from evolm.presets import get_preset
from evolm.stages.lm_run import Overrides, micro_batch_cap, train_config
from evolm.training.memory import activation_bytes, plan_micro_batch

GIB = 1024 ** 3


def per_sequence(name, *, checkpointing=False):
    p = get_preset(name)
    return activation_bytes(layers=p.layers, hidden=p.hidden, vocab=p.vocab, seq_len=p.seq_len, checkpointing=checkpointing)


def test_the_plan_is_the_largest_power_of_two_that_fits():
    plan = plan_micro_batch(64, per_sequence=GIB, params=10**9, free=40 * GIB)  # state 16e9 B ~ 14.9 GiB
    assert plan.fits and plan.micro == 16  # 14.9 + 16 <= 0.85 x 40 = 34 < 14.9 + 32
    assert not plan_micro_batch(64, per_sequence=GIB, params=10**9, free=40 * GIB, shards=1).micro == 32
    # it divides the per-process batch, and FSDP shards the state
    assert plan_micro_batch(24, per_sequence=GIB, params=10**9, free=40 * GIB).micro == 8
    assert plan_micro_batch(64, per_sequence=GIB, params=10**9, free=40 * GIB, shards=8).micro == 32
    # nothing fits: one sequence, flagged
    tight = plan_micro_batch(64, per_sequence=GIB, params=10**9, free=16 * GIB)
    assert tight.micro == 1 and not tight.fits and "micro batch 1 from 16.0 GiB free" in tight.describe()


def test_activation_checkpointing_needs_far_less_per_sequence():
    assert per_sequence("1B", checkpointing=True) < 0.3 * per_sequence("1B")  # the output head's logits stay
    assert per_sequence("4B") > per_sequence("1B") > per_sequence("125M")


def test_train_config_picks_the_micro_batch_from_free_memory_on_cuda(monkeypatch, capsys):
    preset = get_preset("1B")
    budget = 10**9
    cpu = train_config(preset, budget, Overrides())
    assert cpu.micro_batch == micro_batch_cap(preset)  # no CUDA here: the preset's cap
    micro = {}
    for free in (40, 80, 141):
        monkeypatch.setattr("evolm.training.memory.free_device_memory", lambda f=free: f * GIB)
        micro[free] = train_config(preset, budget, Overrides()).micro_batch
    assert micro[40] < micro[80] <= micro[141] and micro[80] > micro_batch_cap(preset)
    assert "micro batch" in capsys.readouterr().err
    # activation checkpointing fits more; an explicit --micro-batch is kept
    assert train_config(preset, budget, Overrides(activation_checkpointing=True)).micro_batch >= micro[141]
    assert train_config(preset, budget, Overrides(micro_batch=2)).micro_batch == 2
    with pytest.raises(Exception):
        Overrides(micro_batch=0).check()
