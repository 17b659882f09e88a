"""Bad training input is refused before any output exists (issue 13, items 2-4): exit 2, one sentence
naming the option, its value and what is allowed, and the disk exactly as it was. Item 5 (--resume
without a saved state, Ctrl-C) is at the end. Each case is the command the issue gives."""

import json
import math
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import SMALL


def _tree(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def refused(cli, tmp_path, *args, message):
    """Run `evolm ARGS`; it must exit 2 with `message` as its one error sentence and leave tmp_path as it was."""
    before = _tree(tmp_path)
    result = cli(*args)
    assert result.code == 2, result
    assert result.out == ""
    assert "Traceback" not in result.err and result.err.count("error:") == 1
    last = result.err.strip().splitlines()[-1]
    if isinstance(message, re.Pattern):
        assert message.fullmatch(last), last
    else:
        assert last == f"error: {message}"
    assert _tree(tmp_path) == before
    return result


def strict_json(text):
    """json.loads that refuses NaN and Infinity, as jq and JavaScript do."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


# -- pretrain and cpt ---------------------------------------------------------------------------

@pytest.mark.parametrize("option, message", [
    (("--seq-len", "4096"), "--seq-len 4096 is out of range: it must be between 1 and 1024, the positions of the 1M preset."),
    (("--seq-len", "0"), "--seq-len 0 is out of range: it must be at least 1."),
    (("--micro-batch", "0"), "--micro-batch 0 is out of range: it must be at least 1."),
    (("--global-batch", "0"), "--global-batch 0 is out of range: it must be at least 1."),
    (("--log-every", "0"), "--log-every 0 is out of range: it must be at least 1."),
    (("--save-every", "-1"), "--save-every -1 is out of range: it must be at least 0."),
    (("--lr", "-1"), "--lr -1 is out of range: it must be greater than 0."),
    (("--lr", "nan"), "--lr nan is out of range: it must be greater than 0."),
    (("--warmup", "2.5"), "--warmup 2.5 is out of range: it must be a fraction of the steps below 1 or a whole number of steps."),
    (("--warmup", "1000"), "--warmup 1000 is out of range: it must be fewer than the run's 14 steps (or a fraction of them below 1)."),
    # a one-step run warmed up over its step trained at LR 0 (it was let through)
    (("--global-batch", "200", "--warmup", "0.9"), "--warmup 0.9 is out of range: it must be a share that leaves steps to decay "
                                                   "over (0.9 of the run's 1 steps is 1)."),
    (("--lr", "0.1", "--min-lr", "1"), "--min-lr 1 is out of range: it must be at most --lr 0.1."),
    (("--val-tokens", "0"), "--val-tokens 0 is out of range: it must be at least 1."),
    (("--tokenizer", "nope"), "--tokenizer nope is not a tokenizer folder (no tokenizer.json)."),
])
def test_pretrain_refuses_values_the_model_or_trainer_cannot_take(cli, shards, tmp_path, option, message):
    refused(cli, tmp_path, "pretrain", "--model", "1M", "--tokens", "60K", "--data", shards / "general",
            "--out", tmp_path / "pt", *option, message=message)


def test_cpt_refuses_a_sequence_past_the_parents_positions(cli, base, shards, tmp_path):
    refused(cli, tmp_path, "cpt", base, "--domain", f"{shards / 'math'}:20K", "--seq-len", "2048", "--out", tmp_path / "cpt",
            message=f"--seq-len 2048 is out of range: it must be between 1 and 1024, the positions of the parent {base}.")


# -- sft and rl -----------------------------------------------------------------------------------

def _sft(base, synth_tiny, tmp_path, *options):
    return ("sft", base, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "8", "--global-batch", "8",
            "--max-length", "64", *options, "--out", tmp_path / "s")


@pytest.mark.parametrize("option, message", [
    (("--max-length", "100000"), "--max-length 100000 is out of range: it must be between 1 and 1024, the positions of the parent {base}."),
    (("--max-length", "0"), "--max-length 0 is out of range: it must be at least 1."),
    (("--micro-batch", "0"), "--micro-batch 0 is out of range: it must be at least 1."),
    (("--global-batch", "0"), "--global-batch 0 is out of range: it must be at least 1."),
    (("--log-every", "0"), "--log-every 0 is out of range: it must be at least 1."),
    (("--save-every", "-1"), "--save-every -1 is out of range: it must be at least 0."),
    (("--epochs", "0"), "--epochs 0 is out of range: it must be a finite number greater than 0."),
])
def test_sft_refuses_values_the_model_or_trainer_cannot_take(cli, base, synth_tiny, tmp_path, option, message):
    refused(cli, tmp_path, *_sft(base, synth_tiny, tmp_path, *option), message=message.format(base=base))


def test_sft_with_a_bad_lr_leaves_nothing_and_the_corrected_rerun_runs(cli, base, synth_tiny, tmp_path):
    """Issue 13 item 4: `--lr -1` exited 1 with TRL's ValueError after creating OUT.partial, and the
    corrected rerun was then refused with "An interrupted run exists"."""
    refused(cli, tmp_path, *_sft(base, synth_tiny, tmp_path, "--lr", "-1"),
            message="--lr -1 is out of range: it must be greater than 0.")
    rerun = cli(*_sft(base, synth_tiny, tmp_path, "--lr", "1e-4"))
    assert rerun.code == 0, rerun.err
    assert (tmp_path / "s" / "evolm.json").is_file() and not (tmp_path / "s.partial").exists()


def _rl(base, synth_tiny, tmp_path, *options):
    return ("rl", base, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "8", "--rollouts", "2",
            "--max-completion-length", "16", *options, "--out", tmp_path / "r")


@pytest.mark.parametrize("option, message", [
    (("--kl", "--kl-coef", "-1"), "--kl-coef -1 is out of range: it must be at least 0."),
    (("--max-completion-length", "0"), "--max-completion-length 0 is out of range: it must be at least 1."),
    (("--max-completion-length", "900"),
     "--max-completion-length 900 is out of range: it must be at most 768 (the 1024 positions of the parent {base} less "
     "--max-prompt-length 256)."),
    (("--max-prompt-length", "1024"),
     "--max-prompt-length 1024 is out of range: it must be below 1024, the positions of the parent {base}, to leave room "
     "for a completion."),
    (("--prompts-per-step", "0"), "--prompts-per-step 0 is out of range: it must be at least 1."),
    (("--rollouts", "4", "--prompts-per-step", "3"),
     "--prompts-per-step 3 is out of range: it must be a divisor of the 8 RL prompts, or --examples a multiple of it "
     "(GRPO would leave 2 out of every epoch)."),
    (("--prompts-per-step", "16"), "--prompts-per-step 16 is out of range: it must be at most the 8 RL prompts there are."),
    (("--micro-batch", "0"), "--micro-batch 0 is out of range: it must be at least 1."),
    (("--warmup", "-0.5"), "--warmup -0.5 is out of range: it must be at least 0."),
])
def test_rl_refuses_values_the_model_or_trainer_cannot_take(cli, base, synth_tiny, tmp_path, option, message):
    refused(cli, tmp_path, *_rl(base, synth_tiny, tmp_path, *option), message=message.format(base=base))


def test_rl_with_a_bad_temperature_leaves_nothing_and_the_corrected_rerun_runs(cli, base, synth_tiny, tmp_path):
    refused(cli, tmp_path, *_rl(base, synth_tiny, tmp_path, "--prompts-per-step", "4", "--temperature", "-1"),
            message="--temperature -1 is out of range: it must be greater than 0.")
    rerun = cli(*_rl(base, synth_tiny, tmp_path, "--prompts-per-step", "4", "--temperature", "1"))
    assert rerun.code == 0, rerun.err
    assert (tmp_path / "r" / "evolm.json").is_file() and not (tmp_path / "r.partial").exists()


# -- data ---------------------------------------------------------------------------------------

def test_an_output_the_system_will_not_create_is_bad_input(cli, shards, sft_model, synth_tiny, tmp_path):
    # /proc takes no new folders (for root too, where a permission check would pass); a file is no folder
    refused(cli, tmp_path, "pretrain", *SMALL, "--tokens", "8K", "--data", shards / "general", "--out", "/proc/evolm-run",
            message=re.compile(r"error: Cannot create /proc/evolm-run(\.partial)?: .+\."))
    (tmp_path / "afile").write_text("")
    refused(cli, tmp_path, "eval", sft_model, "--suite", "SynthMathBasic1", "--benchmarks", synth_tiny, "--limit", "2",
            "--max-new-tokens", "4", "--out", tmp_path / "afile" / "x",
            message=f"Cannot create {tmp_path / 'afile' / 'x'}: Not a directory.")


def test_tokenizer_refuses_a_vocabulary_its_text_cannot_reach(cli, synth_tiny, tmp_path):
    text = synth_tiny / "text" / "general.jsonl"
    result = refused(cli, tmp_path, "data", "tokenizer", text, "--vocab-size", "70000", "--out", tmp_path / "tok",
                     message=re.compile(r"error: --vocab-size 70000 is out of range: it must be at most (\d+) for this text "
                                        r"\(byte-level BPE ran out of pairs to merge there\); ask for that many or fewer, "
                                        r"or give more text\."))
    supported = int(re.search(r"at most (\d+)", result.err).group(1))
    assert 300 < supported < 70000
    made = cli("data", "tokenizer", text, "--vocab-size", str(supported), "--out", tmp_path / "tok", "--json")
    assert made.code == 0 and json.loads(made.out)["vocab_size"] == supported  # the size it names is one it honours
    refused(cli, tmp_path, "data", "tokenizer", text, "--vocab-size", "100", "--out", tmp_path / "tok2",
            message="--vocab-size 100 is out of range: it must be at least 300 (byte-level BPE has 256 byte symbols and "
                    "an EOS before its first merge).")


def test_split_refuses_two_empty_parts(cli, synth_tiny, tmp_path):
    refused(cli, tmp_path, "data", "split", synth_tiny / "pool" / "mathpool.jsonl", "--sft", "0", "--rl", "0",
            "--out", tmp_path / "split",
            message="--sft 0 and --rl 0 would write a split with both parts empty; give at least one of them 1 or more.")


# -- JSON written by evolm is JSON ------------------------------------------------------------------

def test_a_nan_is_written_as_null_with_its_reason():
    from evolm import jsontext

    text = jsontext.dumps({"loss": 1.5, "val": {"pretrain": math.nan}, "rates": [math.inf, 2.0]}, sort_keys=True)
    assert strict_json(text) == {"loss": 1.5, "val": {"pretrain": None}, "rates": [None, 2.0],
                                 "nonfinite": {"val.pretrain": "NaN", "rates[0]": "Infinity"}}
    assert jsontext.dumps({"a": 1.0}) == json.dumps({"a": 1.0})  # finite values: exactly what json writes


def test_a_manifest_with_a_nan_validation_loss_is_valid_json(tmp_path):
    from evolm.checkpoint import build_manifest, load_checkpoint, write_checkpoint
    from evolm.jsonl import append_jsonl
    from evolm.manifest import Outcome

    def files(tmp):
        (tmp / "model.safetensors").write_bytes(b"weights")
        (tmp / "config.json").write_text("{}")

    manifest = build_manifest("pretrain", {"preset": "1M", "tokens": 4096},
                              outcome=Outcome(final_train_loss=3.2, val_loss={"pretrain": math.nan}))
    write_checkpoint(tmp_path / "pt", manifest, files)
    written = strict_json((tmp_path / "pt" / "evolm.json").read_text())
    assert written["outcome"]["val_loss"] == {"pretrain": None}
    assert written["nonfinite"] == {"outcome.val_loss.pretrain": "NaN"}
    assert load_checkpoint(tmp_path / "pt").manifest.outcome.val_loss == {"pretrain": None}
    append_jsonl(tmp_path / "metrics.jsonl", [{"step": 1, "val_loss/pretrain": math.nan}])
    assert strict_json((tmp_path / "metrics.jsonl").read_text()) == {
        "step": 1, "val_loss/pretrain": None, "nonfinite": {"val_loss/pretrain": "NaN"}}


# -- item 5: --resume without a saved state, and Ctrl-C -----------------------------------------------

# `python -m evolm` with Ctrl-C turned into KeyboardInterrupt whatever the child inherited: a shell's
# background job (`pytest ... &` without job control) ignores SIGINT, and Python then never installs its
# handler, so the run would not stop. (Set in the child's own code: preexec_fn is unsafe beside threads.)
CTRL_C_ON = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
             "sys.argv[0] = 'evolm'; runpy.run_module('evolm', run_name='__main__', alter_sys=True)")


def _start(*args):
    return subprocess.Popen([sys.executable, "-c", CTRL_C_ON, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _interrupt_when(proc, ready):
    deadline = time.time() + 120
    while not ready() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def _steps(path):
    return [json.loads(line)["step"] for line in path.read_text().splitlines() if '"loss"' in line]


def test_resume_without_a_saved_state_says_so_and_logs_each_step_once(cli, shards, tmp_path):
    # 20K tokens (39 steps, about 3 s): long enough to be interrupted after its third logged step,
    # short enough that the resumed run, which trains it all again, takes seconds
    args = ("pretrain", *SMALL, "--tokens", "20K", "--data", shards / "general", "--out", tmp_path / "pt")
    partial = tmp_path / "pt.partial"
    metrics = partial / "metrics.jsonl"
    code, out, err = _interrupt_when(_start(*args), lambda: metrics.is_file() and len(metrics.read_bytes().splitlines()) >= 3)
    assert code == 130 and out == ""
    assert err.strip().splitlines()[-1] == (
        f"interrupted; {partial} kept, without a resume state (--save-every sets how often one is saved): a rerun with "
        "--resume starts again from step 0")
    refused(cli, tmp_path, *args, message=f"An interrupted run exists at {partial}, without a resume state (a rerun with "
                                          "--resume starts again from step 0); pass --resume or --overwrite to start over.")
    resumed = cli(*args, "--resume")
    assert resumed.code == 0, resumed.err
    assert f"warning: {partial} holds no resume state" in resumed.err and "starts again from step 0" in resumed.err
    assert _steps(tmp_path / "pt" / "metrics.jsonl") == list(range(1, 40))  # 20K // 512 steps, each once


def test_ctrl_c_names_the_state_a_resume_continues_from(cli, shards, tmp_path):
    args = ("pretrain", *SMALL, "--tokens", "400K", "--data", shards / "general", "--save-every", "20", "--out", tmp_path / "pt")
    partial = tmp_path / "pt.partial"
    code, _, err = _interrupt_when(_start(*args), lambda: (partial / "state" / "step-00000020").is_dir())
    assert code == 130
    assert re.fullmatch(rf"interrupted; {re.escape(str(partial))} kept, with a resume state at step (\d+): rerun with "
                        r"--resume to continue", err.strip().splitlines()[-1]), err
    refused(cli, tmp_path, *args, message=f"An interrupted run exists at {partial}; pass --resume to continue it or "
                                          "--overwrite to start over.")


def test_trl_resume_without_a_checkpoint_starts_its_metrics_over(tmp_path, capsys):
    from evolm.training.trl_run import start_run_dir

    run_dir = tmp_path / "s.partial"
    record = {"stage": "sft", "knobs": {"examples": 8}, "config": {"lr": 1e-4}}
    start_run_dir(run_dir, record, resume=False)
    (run_dir / "metrics.jsonl").write_text('{"step": 1, "loss": 2.0}\n{"step": 2, "loss": 1.9}\n')
    capsys.readouterr()
    start_run_dir(run_dir, record, resume=True)
    assert (run_dir / "metrics.jsonl").read_text() == ""
    assert f"warning: {run_dir} holds no resume state" in capsys.readouterr().err


# Run in a process of its own: the test workers have torch imported already.
_REFUSED_BEFORE_IMPORTS = """
import sys
from evolm.cli.main import main
code = main(sys.argv[1:])
print(code, *(name in sys.modules for name in ("torch", "transformers", "trl")))
"""


@pytest.mark.parametrize("stage", ["pretrain", "cpt", "sft", "rl"])
def test_a_bad_option_is_refused_before_torch_or_trl_is_imported(stage, tmp_path):
    """An out-of-range option is a sentence in half a second, not after the 3 s (pre-training) to 8 s (SFT,
    importing TRL) the imports took before the options were checked."""
    args = {"pretrain": ["--model", "1M", "--tokens", "8K", "--data", str(tmp_path)],
            "cpt": [str(tmp_path), "--domain", f"{tmp_path}:1K"],
            "sft": [str(tmp_path), "--data", str(tmp_path)], "rl": [str(tmp_path), "--data", str(tmp_path)]}[stage]
    done = subprocess.run([sys.executable, "-c", _REFUSED_BEFORE_IMPORTS, stage, *args, "--lr", "-1", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert "--lr -1 is out of range" in done.stderr, done.stderr
    assert done.stdout.split() == ["2", "False", "False", "False"]
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()


def test_one_process_on_several_gpus_is_refused_for_the_trl_stages(base, synth_tiny, tmp_path, cli, monkeypatch):
    """transformers' Trainer would spread one process over every GPU with DataParallel and multiply the
    batch by their number; launched, each process has its one GPU, and evolm's PPO places its own model."""
    import torch

    from evolm.training.trl_run import check_one_gpu_per_process

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    pool = synth_tiny / "pool" / "mathpool.jsonl"
    for stage, extra in (("sft", ()), ("rl", ("--algo", "grpo"))):
        refused(cli, tmp_path, stage, base, "--data", pool, "--examples", "8", *extra, "--out", tmp_path / stage,
                message=f"`evolm {stage}` in one process would train on all 4 GPUs with 4 times the global batch; launch "
                        f"one process per GPU (torchrun --nproc-per-node 4 -m evolm {stage} ...) or choose one with CUDA_VISIBLE_DEVICES.")
    monkeypatch.setenv("WORLD_SIZE", "4")
    check_one_gpu_per_process("sft")  # launched: one GPU each
