"""Peak FLOP/s and model FLOP utilization (MFU).

MFU = achieved training FLOP/s / peak FLOP/s, with training FLOPs per token from the model's shape
(`Preset.flops_per_token`). The peak is, in order: what the user passes (`--peak-flops`); on a GPU
in the table below, its published dense bf16 peak (how OLMo-core, nanochat and the MFU literature
count it, so the numbers compare); else what a short matmul measures once on this device in the
training dtype (CPUs, unlisted GPUs).
"""

from __future__ import annotations

import time

import torch


# Dense (no sparsity) bf16 tensor-core peaks per GPU from the vendors' datasheets, in FLOP/s. Matched
# against torch.cuda.get_device_name() in order, the first substring that matches wins (so "H100
# PCIe" and "H200 NVL", the lower-clocked PCIe cards, come before the SXM "H100" and "H200").
PUBLISHED_BF16_PEAKS: tuple[tuple[str, float], ...] = (
    ("GB200", 2.5e15), ("B200", 2.25e15), ("GH200", 989e12), ("H200 NVL", 835e12), ("H200", 989e12),
    ("H100 PCIe", 756e12), ("H100 NVL", 835e12), ("H100", 989e12), ("H800 PCIe", 756e12), ("H800", 989e12),
    ("A100", 312e12), ("A800", 312e12),
    ("L40S", 362e12), ("L40", 181e12), ("L4", 121e12), ("A10", 125e12),
    ("MI300X", 1307e12), ("MI250X", 383e12),
)


def published_peak(device_name: str) -> float | None:
    """The published dense bf16 peak of a GPU by its name, or None when the table does not list it."""
    for fragment, peak in PUBLISHED_BF16_PEAKS:
        if fragment.lower() in device_name.lower():
            return peak
    return None


def device_peak(device: torch.device, dtype: torch.dtype) -> tuple[float, str]:
    """(peak FLOP/s of one device, where it came from): the published peak of a listed GPU, else a
    measured matmul."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        peak = published_peak(name)
        if peak is not None:
            return peak, f"published bf16 peak of {name}"
    return measure_matmul_flops(device, dtype), f"measured matmul ({dtype}) on {device.type}"


def measure_matmul_flops(device: torch.device, dtype: torch.dtype, size: int | None = None, seconds: float = 0.5) -> float:
    """Sustained FLOP/s of a square matmul in `dtype` on `device` (about `seconds` of work)."""
    size = size or (8192 if device.type == "cuda" else 1024)
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    torch.mm(a, b)  # warm-up (kernel selection, thread pool start)
    _sync(device)
    runs, start = 0, time.perf_counter()
    while True:
        torch.mm(a, b)
        runs += 1
        if runs % 4 == 0:
            _sync(device)
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return 2.0 * size**3 * runs / elapsed


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
