"""MFU's denominator: a GPU's published dense bf16 peak, else a measured matmul."""

import torch

from evolm.training.flops import device_peak, published_peak


def test_published_peaks_match_torch_device_names():
    assert published_peak("NVIDIA H100 80GB HBM3") == 989e12  # SXM
    assert published_peak("NVIDIA H100 PCIe") == 756e12
    assert published_peak("NVIDIA H200") == 989e12
    assert published_peak("NVIDIA H200 NVL") == 835e12 and published_peak("NVIDIA H800 PCIe") == 756e12
    assert published_peak("NVIDIA A100-SXM4-80GB") == 312e12
    assert published_peak("NVIDIA L40S") == 362e12 and published_peak("NVIDIA L4") == 121e12
    assert published_peak("Some Future Accelerator") is None


def test_a_cpu_peak_is_measured():
    peak, source = device_peak(torch.device("cpu"), torch.float32)
    assert peak > 1e8 and source.startswith("measured matmul")

