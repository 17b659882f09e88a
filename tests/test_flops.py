"""MFU's denominator: a GPU's published dense bf16 peak, else a measured matmul."""

import torch

from evolm.training.flops import device_peak, published_peak


def test_published_peaks_match_torch_device_names():
    assert published_peak("NVIDIA H100 80GB HBM3") == 989e12  # SXM
    assert published_peak("NVIDIA H100 PCIe") == 756e12
    assert published_peak("NVIDIA H200") == 989e12
    assert published_peak("NVIDIA A100-SXM4-80GB") == 312e12
    assert published_peak("NVIDIA L40S") == 362e12 and published_peak("NVIDIA L4") == 121e12
    assert published_peak("Some Future Accelerator") is None


def test_a_cpu_peak_is_measured():
    peak, source = device_peak(torch.device("cpu"), torch.float32)
    assert peak > 1e8 and source.startswith("measured matmul")


def test_the_gpu_check_script_dry_runs_on_cpu(tmp_path):
    """benchmarks/gpu_check.sh on a machine without CUDA: every check is skipped after the script has
    checked that the evolm commands and options it runs exist."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(["bash", str(repo / "benchmarks" / "gpu_check.sh"), "--dry-run", str(tmp_path / "work")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"check {name}: skipped: no CUDA"
                                        for name in ("pretrain-1B", "compile-1B", "fsdp-125M", "eval-vllm", "grpo-5", "ppo-5")]
