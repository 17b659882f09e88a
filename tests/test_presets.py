import json

import pytest
import torch
from transformers import LlamaForCausalLM

from evolm.errors import BadInput
from evolm.presets import PRESETS, get_preset


def test_paper_presets_match_the_paper():
    assert f"{PRESETS['0.5B'].params() / 1e9:.3f}" == "0.501"
    assert f"{PRESETS['1B'].params() / 1e9:.3f}" == "1.001"
    assert f"{PRESETS['4B'].params() / 1e9:.3f}" == "4.000"
    one_b = PRESETS["1B"]
    assert (one_b.hidden, one_b.intermediate, one_b.layers, one_b.heads, one_b.kv_heads, one_b.vocab) == (2048, 4896, 22, 32, 4, 32000)
    assert (one_b.global_batch, one_b.seq_len, one_b.peak_lr, one_b.min_lr) == (512, 2048, 2e-4, 2e-5)
    assert PRESETS["4B"].global_batch == 1024 and PRESETS["4B"].peak_lr == 1.5e-4


@pytest.mark.parametrize("name, low, high", [("1M", 0.9e6, 1.1e6), ("4M", 3.6e6, 4.4e6), ("16M", 14.5e6, 17.5e6)])
def test_cpu_presets_are_named_by_their_size(name, low, high):
    assert low <= PRESETS[name].params() <= high


@pytest.mark.parametrize("name", list(PRESETS))
def test_parameter_formula_matches_the_transformers_model(name):
    preset = PRESETS[name]
    with torch.device("meta"):  # no memory is allocated, so even 4B is instant
        model = LlamaForCausalLM(preset.hf_config())
    assert sum(p.numel() for p in model.parameters()) == preset.params()
    assert not model.config.tie_word_embeddings


def test_unknown_preset_is_bad_input():
    with pytest.raises(BadInput, match="Unknown model preset '3B'"):
        get_preset("3B")


def test_presets_command(cli):
    result = cli("presets", "--json")
    assert result.code == 0
    rows = {row["name"]: row for row in json.loads(result.out)["presets"]}
    assert set(rows) == set(PRESETS)
    assert rows["1B"]["params"] == 1_000_564_736
    table = cli("presets")
    assert "1.001B" in table.out and "0.501B" in table.out and "4.000B" in table.out
