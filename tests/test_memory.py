"""The micro batch chosen from a GPU's free memory (pretrain / cpt on CUDA without --micro-batch):
the plan's arithmetic, and train_config using it only where CUDA reports free memory."""

import pytest

from evolm.presets import get_preset
from evolm.stages.lm_run import Overrides, micro_batch_cap, train_config
from evolm.training.memory import activation_bytes, plan_micro_batch

GIB = 1024 ** 3


def per_sequence(name, *, checkpointing=False):
    p = get_preset(name)
    return activation_bytes(layers=p.layers, hidden=p.hidden, intermediate=p.intermediate, kv_dim=p.kv_dim,
                            vocab=p.vocab, seq_len=p.seq_len, checkpointing=checkpointing)


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
    cpu = train_config(preset, [budget], Overrides())
    assert cpu.micro_batch == micro_batch_cap(preset)  # no CUDA here: the preset's cap
    micro = {}
    for free in (40, 80, 141):
        monkeypatch.setattr("evolm.training.memory.free_device_memory", lambda f=free: f * GIB)
        micro[free] = train_config(preset, [budget], Overrides()).micro_batch
    assert micro[40] < micro[80] <= micro[141] and micro[80] > micro_batch_cap(preset)
    assert "micro batch" in capsys.readouterr().err
    # activation checkpointing fits more; an explicit --micro-batch is kept
    assert train_config(preset, [budget], Overrides(activation_checkpointing=True)).micro_batch >= micro[141]
    assert train_config(preset, [budget], Overrides(micro_batch=2)).micro_batch == 2
    # the tokenizer's vocabulary, not the preset's 32K: a 128K one (Llama-3's) needs more memory a sequence
    # and for its two embedding matrices; at 80 GiB free the 1B preset then fits half the micro batch
    monkeypatch.setattr("evolm.training.memory.free_device_memory", lambda: 80 * GIB)
    assert train_config(preset, [budget], Overrides(), vocab=128_256).micro_batch == micro[80] // 2
    assert train_config(preset, [budget], Overrides(), vocab=preset.vocab).micro_batch == micro[80]
    with pytest.raises(Exception):
        Overrides(micro_batch=0).check()


def _saved_bytes(model, tokens) -> int:
    """Bytes of the tensors autograd saves for the backward of one forward under bf16 autocast, weights
    and their bf16 casts left out (the state, not activations: no activation here has a weight's shape)."""
    import torch

    weights = {tuple(p.shape) for p in model.parameters()}
    storages = {}

    def pack(t):
        if tuple(t.shape) not in weights:
            storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), torch.autocast("cpu", dtype=torch.bfloat16):
        model(input_ids=tokens)
    return sum(storages.values())


def test_the_per_layer_estimate_is_what_the_llama_model_saves():
    """The plan's bytes per token and layer against what transformers' Llama really keeps for its
    backward under bf16 autocast with SDPA attention, measured on a model of the 1B preset's
    proportions (head dim 64, 8 query heads per KV head, intermediate 2.39 x hidden) at a CPU's size:
    the estimate neither falls short (the micro batch would not fit) nor runs 10% over."""
    import dataclasses

    import torch
    from transformers import LlamaForCausalLM

    from evolm.training.memory import layer_bytes_per_token

    shape = dataclasses.replace(get_preset("1B"), hidden=512, intermediate=1224, heads=8, kv_heads=1, vocab=1000)
    seq = 384
    torch.manual_seed(0)
    tokens = torch.randint(0, shape.vocab, (1, seq))
    saved = {}
    for layers in (1, 2):
        model = LlamaForCausalLM(dataclasses.replace(shape, layers=layers).hf_config())
        assert model.config._attn_implementation == "sdpa"
        saved[layers] = _saved_bytes(model, tokens)
    measured = (saved[2] - saved[1]) / seq
    estimate = layer_bytes_per_token(hidden=shape.hidden, intermediate=shape.intermediate, kv_dim=shape.kv_dim)
    assert measured <= estimate <= 1.1 * measured, (measured, estimate)


def test_an_fsdp_config_that_checkpoints_activations_counts_as_checkpointing(monkeypatch):
    """fsdp-4B.yaml turns on FSDP's own activation checkpointing (accelerate sets these variables for
    each process): the memory plan counts it and the manifest's settings say so, though --activation-
    checkpointing was not given (the model's own checkpointing then stays off: causal_lm.train)."""
    preset, budget = get_preset("4B"), 10**10
    monkeypatch.setattr("evolm.training.memory.free_device_memory", lambda: 80 * GIB)
    plain = train_config(preset, [budget], Overrides(), world=8)
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    without = train_config(preset, [budget], Overrides(), world=8)
    monkeypatch.setenv("FSDP_ACTIVATION_CHECKPOINTING", "true")
    fsdp = train_config(preset, [budget], Overrides(), world=8)
    assert not plain.activation_checkpointing and not without.activation_checkpointing
    assert fsdp.activation_checkpointing and fsdp.micro_batch > without.micro_batch


def test_trainers_leave_checkpointing_to_an_fsdp_config_that_does_it(monkeypatch):
    """On a GPU, TRL's trainers checkpoint activations (device_settings); under fsdp-4B.yaml FSDP does,
    and transformers' Trainer refuses both at once ("can't both be set to True")."""
    import torch

    from evolm.training.trl_run import checkpointing_argument, device_settings

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device_settings()[checkpointing_argument()] is True
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    monkeypatch.setenv("FSDP_ACTIVATION_CHECKPOINTING", "true")
    assert device_settings()[checkpointing_argument()] is False
