"""Peak FLOP/s and model FLOP utilization (MFU).

MFU = achieved training FLOP/s / peak FLOP/s, with training FLOPs per token from the model's shape
(`Preset.flops_per_token`). The peak is what the user passes (`--peak-flops`, e.g. 989e12 for an
H100's dense bf16) or what a short matmul measures once on this device in the training dtype.
"""

from __future__ import annotations

import time

import torch


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
