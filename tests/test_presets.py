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
    # --vocab takes a count as `evolm data tokenizer --vocab-size` does (32K was refused as not an integer)
    short, written = (json.loads(cli("presets", "--vocab", v, "--json").out)["presets"] for v in ("32K", "32000"))
    assert short == written and {row["vocab"] for row in short} == {32_000}
    assert cli("presets", "--vocab", "1.5").code == 2


# The post-training defaults as `evolm sft` / `evolm rl` resolve them, pinned to the values of the
# tables they replaced (evolm.stages.sft.SFT_DEFAULTS / evolm.stages.rl.RL_DEFAULTS):
# preset -> (lr, global batch, from), (lr, prompts per step, max prompt, max completion, from).
POST_TRAINING_DEFAULTS = {
    "1M": ((3e-3, 16, "evolm"), (1e-4, 8, 256, 96, "evolm")),
    "4M": ((2e-3, 16, "evolm"), (5e-5, 8, 256, 128, "evolm")),
    "16M": ((1e-3, 16, "evolm"), (2e-5, 8, 256, 128, "evolm")),
    "125M": ((1e-5, 128, "evolm"), (2e-6, 1024, 1024, 1024, "evolm")),
    "250M": ((1e-5, 128, "evolm"), (2e-6, 1024, 1024, 1024, "evolm")),
    "0.5B": ((1e-5, 128, "evolm"), (2e-6, 1024, 1024, 1024, "evolm")),
    "1B": ((1e-5, 128, "paper"), (2e-6, 1024, 1024, 1024, "paper")),
    "2B": ((7.5e-6, 256, "evolm"), (1e-6, 2048, 1024, 1024, "evolm")),
    "4B": ((7.5e-6, 256, "paper"), (1e-6, 2048, 1024, 1024, "paper")),
    "not-a-preset": ((1e-5, 128, "evolm"), (2e-6, 1024, 1024, 1024, "evolm")),  # e.g. a checkpoint of another evolm
}


@pytest.mark.parametrize("name", POST_TRAINING_DEFAULTS)
def test_post_training_defaults_are_unchanged(name):
    from dataclasses import astuple

    from evolm.stages import rl, sft

    assert (astuple(sft.preset_defaults(name)), astuple(rl.preset_defaults(name))) == POST_TRAINING_DEFAULTS[name]
    if name in PRESETS:
        assert sft.preset_defaults(name) is PRESETS[name].sft and rl.preset_defaults(name) is PRESETS[name].rl


def test_presets_command_shows_post_training_defaults(cli):
    rows = {row["name"]: row for row in json.loads(cli("presets", "--json").out)["presets"]}
    assert rows["4B"]["sft"] == {"lr": 7.5e-6, "global_batch": 256, "defaults_from": "paper"}
    assert rows["1M"]["rl"]["max_completion_length"] == 96
    assert "sft" not in PRESETS["1B"].describe()  # a manifest's model record stays the shape + pre-training defaults
    header = cli("presets").out.splitlines()[0].split()
    assert {"sft_lr", "sft_batch", "rl_lr", "rl_prompts", "rl_lengths", "post_defaults"} <= set(header)


def test_help_quotes_the_paper_defaults_from_the_presets():
    from evolm.presets import paper_values

    assert paper_values("sft", "lr") == "1e-5 for 1B, 7.5e-6 for 4B"
    assert paper_values("rl", "prompts_per_step") == "1024 for 1B, 2048 for 4B"
    assert paper_values("rl", "max_completion_length") == "1024"
