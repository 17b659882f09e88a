"""`evolm pretrain` and `evolm cpt` on the synthetic shards, with a CPU preset."""

import json
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from evolm.checkpoint import load_checkpoint

from conftest import SMALL, assert_launched_cleanly, kill_when, launch_env, torchrun


def _metrics(path):
    return [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]


def test_pretrain_learns_and_records_what_it_did(base, tiny_tokenizer):
    ckpt = load_checkpoint(base)
    rows = [r for r in _metrics(base) if "loss" in r]
    assert rows[-1]["loss"] < rows[0]["loss"] - 1.0  # from ~ln(1024) down
    manifest = ckpt.manifest
    assert ckpt.signature == "tiny-60KT"
    assert manifest.schedule.completed is True
    assert manifest.schedule.steps_done == rows[-1]["step"] == 117  # 60K // (8 x 64)
    assert manifest.schedule.tokens_done == rows[-1]["tokens"] == 117 * 8 * 64
    assert manifest.data[0].tokens_drawn == manifest.schedule.tokens_done
    assert manifest.outcome.val_loss["pretrain"] < 6.0 and manifest.compute.wall_time_s > 0 and manifest.compute.tokens_per_s > 0
    # the compute ledger: the preset's FLOPs per token (6 x parameters plus attention, as MFU counts) x tokens
    from evolm.presets import get_preset

    per_token = get_preset("tiny").flops_per_token(64, manifest.model.vocab_size)
    assert manifest.compute.trained_tokens == manifest.schedule.tokens_done
    assert manifest.compute.flops == per_token * manifest.schedule.tokens_done > 0
    assert not (base.parent / "base.partial").exists() and not (base / "state").exists()
    lrs = [r["lr"] for r in rows]
    assert max(lrs) == pytest.approx(3e-3, rel=1e-6) and lrs[0] == 0.0  # warmup from 0 to the preset's peak


def test_checkpoint_loads_and_generates(base):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base)
    tok = AutoTokenizer.from_pretrained(base)
    ids = tok("The river", return_tensors="pt").input_ids
    out = model.generate(ids, max_new_tokens=12, do_sample=False, pad_token_id=tok.eos_token_id)
    assert out.shape[1] > ids.shape[1] and isinstance(tok.decode(out[0]), str)


def _run(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "evolm", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


# Slow-marked (13-16 s): tests/test_wsd.py kills a pre-training run the same way (at a saved state) and
# resumes it to the same weights, losses and learning rates; the schedule is the only difference.
@pytest.mark.slow
def test_killed_run_resumes_to_identical_weights(shards, tmp_path, cli):
    args = ("pretrain", *SMALL, "--tokens", "20K", "--data", shards / "general", "--save-every", "10")
    assert cli(*args, "--out", tmp_path / "straight").code == 0
    state = tmp_path / "killed.partial" / "state" / "step-00000020"  # of 39
    kill_when(_run(*args, "--out", tmp_path / "killed"), state)
    assert state.is_dir() and not (tmp_path / "killed").exists()
    resumed = cli(*args, "--out", tmp_path / "killed", "--resume")
    assert resumed.code == 0, resumed.err
    assert "resuming at step" in resumed.err
    a, b = load_file(tmp_path / "straight" / "model.safetensors"), load_file(tmp_path / "killed" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert [r.get("loss") for r in _metrics(tmp_path / "straight")] == [r.get("loss") for r in _metrics(tmp_path / "killed")]


@pytest.mark.many_processes
# Slow-marked (13-19 s with both cores): tests/test_study.py's launch test makes the same checks (losses,
# weights and a mid-run export as in one process) on a study node that torchrun starts as two processes.
@pytest.mark.slow
def test_two_processes_match_one(shards, tmp_path, cli):
    args = ["pretrain", *SMALL, "--tokens", "12K", "--data", str(shards / "general"), "--export-at", "3K"]
    assert cli(*args, "--out", tmp_path / "one").code == 0
    env = launch_env()
    done = subprocess.run([sys.executable, *torchrun(), "-m", "evolm", *args,
                           "--out", str(tmp_path / "two")], capture_output=True, text=True, env=env, timeout=300)
    assert_launched_cleanly(done)
    assert done.stdout.split() == [str(tmp_path / "two")]  # every process returns the checkpoint; only the main one prints
    one, two = _metrics(tmp_path / "one"), _metrics(tmp_path / "two")
    assert len(one) == len(two)
    for a, b in zip(one, two):
        for key in ("loss", "val_loss/pretrain"):
            if key in a:
                assert a[key] == pytest.approx(b[key], abs=1e-4)
    assert load_checkpoint(tmp_path / "two").manifest.compute.processes == 2
    # The mid-run export (step 6) is gathered and written once, by the main process, as in one process.
    export = load_checkpoint(tmp_path / "two@3K").manifest
    assert (export.schedule.steps_done, export.schedule.completed, export.compute.processes) == (6, False, 2)
    a, b = load_file(tmp_path / "one@3K" / "model.safetensors"), load_file(tmp_path / "two@3K" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_cpt_mixture_proportions_and_lineage(base, shards, tmp_path, cli):
    result = cli("cpt", base, "--domain", f"{shards / 'math'}:30K", "--replay", f"{shards / 'general'}:10K",
                 "--out", tmp_path / "cpt", "--seq-len", "64", "--global-batch", "8", "--val-tokens", "4K", "--json")
    assert result.code == 0, result.err
    ckpt = load_checkpoint(tmp_path / "cpt")
    parent = load_checkpoint(base)
    assert ckpt.signature == "tiny-60KT-10+30KT"
    assert ckpt.manifest.parent.manifest_sha256 == parent.manifest_sha256
    drawn = {d.name: d.tokens_drawn for d in ckpt.manifest.data}
    assert drawn["replay"] / (drawn["replay"] + drawn["domain"]) == pytest.approx(0.25, abs=0.01)
    assert ckpt.manifest.replay["share_of_cpt"] == pytest.approx(0.25)
    assert ckpt.manifest.replay["share_of_parent_pretraining"] == pytest.approx(10 / 60)
    assert set(ckpt.manifest.outcome.val_loss) == {"domain", "replay"}
    rows = [r for r in _metrics(tmp_path / "cpt") if "lr" in r]
    assert rows[0]["lr"] == 0.0  # a fresh schedule: warmup starts again


def test_cpt_measures_no_pretraining_loss_on_shards_prepared_again_in_place(synth_tiny, tiny_tokenizer, shards, tmp_path, cli):
    """The parent's pre-training shards were prepared again at their recorded path, from other text: their
    "val" split may hold what the parent trained on, so CPT measures no loss there and says why."""
    import shutil

    from evolm.stages.data.prepare import prepare
    from evolm.textsource import resolve_source

    data = tmp_path / "general"
    shutil.copytree(shards / "general", data)
    assert cli("pretrain", *SMALL, "--tokens", "4K", "--data", data, "--out", tmp_path / "pt").code == 0
    shutil.rmtree(data)
    prepare(resolve_source(synth_tiny / "text" / "math.jsonl"), tiny_tokenizer, data)
    result = cli("cpt", tmp_path / "pt", "--domain", f"{shards / 'math'}:4K", "--seq-len", "64", "--global-batch", "8",
                 "--val-tokens", "4K", "--out", tmp_path / "cpt")
    assert result.code == 0, result.err
    assert set(load_checkpoint(tmp_path / "cpt").manifest.outcome.val_loss) == {"domain"}
    assert "holds other shards than tiny-4KT's pre-training read" in result.err


def test_cpt_budgets_that_are_not_whole_sequences_train_to_the_end(base, shards, tmp_path, cli):
    # 15K and 5.5K tokens are 234 and 85 sequences of 64: 319 in all, 39 steps of 8 (their sum, 20.5K tokens,
    # would be 320 sequences, one more than the sources give)
    result = cli("cpt", base, "--domain", f"{shards / 'math'}:15K", "--replay", f"{shards / 'general'}:5500",
                 "--out", tmp_path / "cpt", "--seq-len", "64", "--global-batch", "8", "--val-tokens", "4K")
    assert result.code == 0, result.err
    manifest = load_checkpoint(tmp_path / "cpt").manifest
    assert (manifest.schedule.steps_done, manifest.schedule.completed) == (39, True)
    assert manifest.model.seq_len == 64  # as trained (the 1M preset's default is 256): validation loss is scored at it
    # whole steps only, and said: 39 x 8 x 64 = 19,968 of the 20,500 tokens
    assert ("note: the budget of 20,500 tokens trains as 39 whole steps of 512: 19,968 tokens (532 fewer, less than "
            "one global batch and part of a sequence a source)") in result.err
    assert manifest.schedule.tokens_done == 19_968


def test_cpt_without_replay_still_reports_general_loss(base, shards, tmp_path, cli):
    result = cli("cpt", base, "--domain", f"{shards / 'math'}:8K", "--out", tmp_path / "noreplay",
                 "--seq-len", "64", "--global-batch", "8", "--val-tokens", "4K")
    assert result.code == 0, result.err
    ckpt = load_checkpoint(tmp_path / "noreplay")
    assert ckpt.signature == "tiny-60KT-8KT" and set(ckpt.manifest.outcome.val_loss) == {"pretrain", "domain"}
    assert ckpt.manifest.replay["share_of_cpt"] == 0


def test_bad_inputs_exit_2_and_overwrite_nothing(base, shards, tmp_path, cli, tiny_tokenizer, synth_tiny):
    data = shards / "general"
    unknown = cli("pretrain", "--model", "3B", "--tokens", "1M", "--data", data, "--out", tmp_path / "x")
    assert unknown.code == 2 and "Unknown model preset '3B'" in unknown.err
    tiny = cli("pretrain", *SMALL, "--tokens", "100", "--data", data, "--out", tmp_path / "x")
    assert tiny.code == 2 and "smaller than one global batch" in tiny.err
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.partial").exists()
    # shards made with another tokenizer than the parent's
    from evolm.stages.data.prepare import prepare
    from evolm.stages.data.tokenizer import make_tokenizer
    from evolm.textsource import resolve_source

    make_tokenizer(tmp_path / "tok2", sources=[str(synth_tiny / "text" / "math.jsonl")], vocab_size=512, adopt=None)
    prepare(resolve_source(synth_tiny / "text" / "math.jsonl"), tmp_path / "tok2", tmp_path / "other")
    other = cli("cpt", base, "--domain", f"{tmp_path / 'other'}:10K", "--out", tmp_path / "y")
    assert other.code == 2 and "different tokenizer" in other.err
    assert cli("cpt", base, "--domain", f"{data}:lots", "--out", tmp_path / "y").code == 2
    # a replay of less than one sequence drew nothing while the run's name said it replayed
    short = cli("cpt", base, "--domain", f"{shards / 'math'}:8K", "--replay", f"{data}:50", "--seq-len", "64",
                "--global-batch", "8", "--out", tmp_path / "y")
    assert short.code == 2 and "The replay budget of 50 tokens is less than one sequence of 64 tokens" in short.err
    assert cli("cpt", tmp_path / "nope", "--domain", f"{data}:10K", "--out", tmp_path / "y").code == 2
    assert not (tmp_path / "y").exists()
    # an existing checkpoint is never replaced without --overwrite
    before = (base / "evolm.json").read_bytes()
    again = cli("pretrain", *SMALL, "--tokens", "60K", "--data", data, "--out", base)
    assert again.code == 2 and "--overwrite" in again.err and (base / "evolm.json").read_bytes() == before


def test_resume_with_changed_hyperparameters_is_refused(shards, tmp_path, cli):
    args = ("pretrain", *SMALL, "--tokens", "40K", "--data", shards / "general", "--save-every", "10")
    state = tmp_path / "run.partial" / "state" / "step-00000010"
    kill_when(_run(*args, "--out", tmp_path / "run"), state)
    changed = cli("pretrain", *SMALL, "--tokens", "40K", "--data", shards / "general", "--lr", "1e-3", "--out", tmp_path / "run", "--resume")
    assert changed.code == 2 and "different settings (lr, min_lr)" in changed.err
    assert state.is_dir()  # the interrupted run is kept
    fresh = cli(*args, "--out", tmp_path / "run")
    assert fresh.code == 2 and "pass --resume" in fresh.err
    nothing = cli(*args, "--out", tmp_path / "other", "--resume")
    assert nothing.code == 2 and "Nothing to resume" in nothing.err


def test_activation_checkpointing_trains_the_same_and_compile_is_off_on_cpu(shards, tmp_path, cli, recwarn):
    """--activation-checkpointing recomputes activations instead of keeping them: the same losses and
    weights; --compile asks for torch.compile, which runs only where CUDA does (recorded as compiled).
    It is turned on by the installed transformers' own name (the old one warns from 5.2x on)."""
    args = ["pretrain", *SMALL, "--tokens", "6K", "--data", str(shards / "general"), "--log-every", "1"]
    assert cli(*args, "--out", tmp_path / "plain").code == 0
    assert cli(*args, "--activation-checkpointing", "--compile", "--out", tmp_path / "recompute").code == 0
    assert [r.get("loss") for r in _metrics(tmp_path / "plain")] == pytest.approx(
        [r.get("loss") for r in _metrics(tmp_path / "recompute")], abs=1e-5)
    a, b = load_file(tmp_path / "plain" / "model.safetensors"), load_file(tmp_path / "recompute" / "model.safetensors")
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    settings = load_checkpoint(tmp_path / "recompute").manifest.schedule.settings
    assert settings["activation_checkpointing"] is True and settings["compile"] is True
    assert settings["compiled"] is (torch.cuda.is_available())
    assert load_checkpoint(tmp_path / "plain").manifest.schedule.settings["activation_checkpointing"] is False
    assert not [w for w in recwarn if "checkpointing_enable" in str(w.message)]


def test_training_and_validation_build_no_kv_cache(shards, tmp_path, cli, monkeypatch):
    """A KV cache serves generation only. transformers builds one in every forward unless told
    use_cache=False, and under FSDP with --compile that cache made dynamo recompile every layer."""
    from transformers import cache_utils

    built = []
    init = cache_utils.DynamicCache.__init__
    monkeypatch.setattr(cache_utils.DynamicCache, "__init__", lambda self, *a, **k: built.append(1) or init(self, *a, **k))
    result = cli("pretrain", *SMALL, "--tokens", "4K", "--data", str(shards / "general"), "--eval-every", "2",
                 "--log-every", "3", "--out", tmp_path / "run")
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    # each validation pass in the row of its own step (steps 2, 4, 6 and the last, 7), not the next logged one
    assert [r["step"] for r in rows if "val_loss/pretrain" in r] == [2, 4, 6, 7]
    assert [r["step"] for r in rows if "loss" in r] == [2, 3, 4, 6, 7]
    assert built == []
    # the count sees the caches transformers builds: generation builds one
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tmp_path / "run")
    model.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=2, do_sample=False, pad_token_id=0)
    assert built


def test_a_compiled_run_saves_the_models_own_weights(shards, tmp_path, cli, monkeypatch):
    """Where --compile compiles (CUDA), the training forward runs through torch.compile's wrapper, whose
    state dict names every weight `_orig_mod.<name>`. The checkpoint and its mid-run export must hold
    the model's own names and the weights a plain run trains: they once held the wrapper's names and
    loaded as a freshly initialised model. Here compilation is let run on the CPU with dynamo's eager
    backend (the same wrapper and tracing, no code generation)."""
    from evolm.training import causal_lm

    real_compile = torch.compile
    traced = []

    def eager(graph, example_inputs):  # dynamo's eager backend, counting the graphs it is given
        traced.append(graph)
        return graph.forward

    monkeypatch.setattr(causal_lm, "compiles_here", lambda: True)
    monkeypatch.setattr(torch, "compile", lambda model: real_compile(model, backend=eager))
    args = ["pretrain", *SMALL, "--tokens", "6K", "--data", str(shards / "general"), "--export-at", "3K"]
    assert cli(*args, "--out", tmp_path / "plain").code == 0
    assert cli(*args, "--compile", "--out", tmp_path / "compiled").code == 0
    assert load_checkpoint(tmp_path / "compiled").manifest.schedule.settings["compiled"] is True
    assert traced  # the training forward went through the compiled wrapper
    for run in ("plain", "plain@3K"):
        plain = load_file(tmp_path / run / "model.safetensors")
        compiled = load_file(tmp_path / run.replace("plain", "compiled") / "model.safetensors")
        assert compiled.keys() == plain.keys()
        assert all(torch.allclose(plain[k], compiled[k], atol=1e-5) for k in plain)


def test_a_logged_token_rate_covers_every_step_since_the_last_logged_row(shards, tmp_path, cli, monkeypatch):
    """On a GPU a step returns once its kernels are queued and a logged step, whose loss read waits for the
    device, takes the queued work of the steps before it; a rate from the logged step's own time was 20%
    off on an H200 (44.6K tokens/s logged at 55K). The row's rate counts every step since the last row: a
    slow step between two rows (here a 0.3 s pause in step 2's loss) shows in the next row's rate."""
    from evolm.training import causal_lm

    calls = []
    real_loss = causal_lm.F.cross_entropy

    def loss_pausing_in_step_2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the first micro batch of step 2 (two micro batches a step)
            time.sleep(0.3)
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(causal_lm.F, "cross_entropy", loss_pausing_in_step_2)
    result = cli("pretrain", *SMALL, "--tokens", "4K", "--data", str(shards / "general"), "--log-every", "4",
                 "--out", tmp_path / "run")
    assert result.code == 0, result.err
    row = next(r for r in _metrics(tmp_path / "run") if r.get("step") == 4)
    # steps 2 to 4 (the first step's warm-up is left out) held the pause: 3 x 512 tokens in over 0.3 s
    assert row["tokens_per_s"] < 3 * 512 / 0.3


def test_compilation_is_on_by_default_where_it_pays(monkeypatch):
    """Without --compile or --no-compile a run compiles on CUDA when it has enough steps to win back the
    compilation (1.2x the eager rate at 1B on an H200, after about 60 s), and not under an FSDP config;
    either flag overrides the default."""
    from evolm.presets import get_preset
    from evolm.stages.lm_run import Overrides, train_config
    from evolm.training import causal_lm

    preset = get_preset("1M")

    def compiles(steps, **given):
        overrides = Overrides(seq_len=64, global_batch=8, micro_batch=8, **given)
        return train_config(preset, [steps * 8 * 64], overrides).compile

    monkeypatch.setattr(causal_lm, "compiles_here", lambda: True)
    assert compiles(1000) is True and compiles(999) is False
    assert compiles(10, compile=True) is True and compiles(5000, compile=False) is False
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    assert compiles(5000) is False
    monkeypatch.delenv("ACCELERATE_USE_FSDP")
    monkeypatch.setattr(causal_lm, "compiles_here", lambda: False)  # a CPU
    assert compiles(5000) is False
