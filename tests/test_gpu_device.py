"""The GPU check scripts, run here without a GPU. benchmarks/gpu_check.sh dry-runs (every check skipped,
after checking that what it runs exists) and rehearses at toy size; benchmarks/gpu-device.sh, the one
command for a lent GPU machine that reaches no package registry, installs the carried wheels into a
folder of their own, runs evolm from the checkout and the checks, and leaves their lines in $OUT."""

import base64
import hashlib
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "gpu-device.sh"
CHECKS = ("pretrain-1B", "compile-1B", "fsdp-125M", "eval-vllm", "grpo-5", "ppo-5")


def _wheel(folder: Path, name: str = "carried_probe") -> Path:
    """A one-module pure-Python wheel, written by hand (building one would need the network)."""
    files = {f"{name}.py": b"CARRIED = True\n",
             f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
             f"{name}-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
              for path, data in files.items()]
    files[f"{name}-1.0.dist-info/RECORD"] = ("\n".join([*record, f"{name}-1.0.dist-info/RECORD,,"]) + "\n").encode()
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def _venv_env(**extra):
    """This environment with the test's venv first on PATH (the scripts call `evolm` and `python`)."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **extra)


def _run(tmp_path, wheels, *args):
    env = _venv_env(EVOLM_WHEELS=str(wheels), EVOLM_SITE=str(tmp_path / "site"), EVOLM_GPU_WORK=str(tmp_path / "work"),
                    OUT=str(tmp_path / "out"), PYTHON=sys.executable)
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=300)


# Slow-marked (5 s): the device script's test below runs the same dry run through gpu-device.sh and
# asserts the same lines.
@pytest.mark.slow
def test_the_gpu_check_script_dry_runs_on_cpu(tmp_path):
    """benchmarks/gpu_check.sh on a machine without CUDA: every check is skipped after the script has
    checked that the evolm commands and options it runs exist."""
    done = subprocess.run(["bash", str(REPO / "benchmarks" / "gpu_check.sh"), "--dry-run", str(tmp_path / "work")],
                          capture_output=True, text=True, env=_venv_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"check {name}: skipped: no CUDA" for name in CHECKS]


def test_the_device_script_installs_the_carried_wheels_and_dry_runs_the_checks(tmp_path):
    wheels = tmp_path / "whl"
    wheels.mkdir()
    _wheel(wheels)
    done = _run(tmp_path, wheels, "--dry-run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"environment: python {sys.version.split()[0]}, torch ")
    assert lines[1:] == [f"check {name}: skipped: no CUDA" for name in CHECKS]  # --dry-run skips them, GPU or not
    out = tmp_path / "out"  # what the device tool brings back: the lines, and the log (empty in a dry run)
    assert (out / "gpu_check.txt").read_text() == done.stdout and (out / "gpu_check.log").read_text() == ""
    site = tmp_path / "site"
    assert (site / "carried_probe.py").is_file()  # installed into a folder of its own, not into the environment
    # evolm runs from the checkout, on the interpreter that `python` (what gpu_check.sh reads CUDA with) names,
    # inside its venv: a link to a venv's python from another folder ran the base interpreter, without the
    # venv's packages (on the H200 image every check then said "no CUDA")
    prefix = subprocess.run([site / "bin" / "python", "-c", "import sys; print(sys.prefix)"], capture_output=True,
                            text=True, check=True).stdout.strip()
    assert prefix == sys.prefix
    assert (site / "bin" / "evolm").read_text() == f"#!/bin/sh\nexec {sys.executable} -m evolm \"$@\"\n"


def test_without_carried_wheels_it_says_what_to_run_first(tmp_path):
    done = _run(tmp_path, tmp_path / "nothing")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == (f"gpu-device: no wheels in {tmp_path / 'nothing'}; run bash benchmarks/gpu-wheels.sh on a "
                                   "machine with PyPI and carry .whl")
    assert not (tmp_path / "site").exists()


@pytest.mark.slow
def test_the_gpu_checks_rehearse_at_toy_size_on_cpu(tmp_path):
    """`gpu_check.sh --rehearse` runs every check's commands at toy size (1M preset, 16K tokens), so that
    each line a GPU run prints reads fields its checkpoints really have (about a minute here)."""
    done = subprocess.run(["bash", str(REPO / "benchmarks" / "gpu_check.sh"), "--rehearse", str(tmp_path / "work")],
                          capture_output=True, text=True, env=_venv_env(), timeout=600)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert list(lines) == [f"check {name}" for name in CHECKS], done.stdout
    assert re.fullmatch(r"31 steps, micro batch \d+ \(peak memory - GiB\), [\d,]+ tokens/s, MFU [\d.]+% of [\d.e-]+ TFLOP/s, \d+ s in all, "
                        r"[\d.]+% counting attention in full \(as OLMo-core, nanochat\)", lines["check pretrain-1B"])
    assert re.fullmatch(r"compiled False, [\d,]+ tokens/s, MFU [\d.]+% \([\d.]+% counting attention in full\), \d+ s in all "
                        r"\(compilation in the first step, "
                        r"which the rate leaves out\)", lines["check compile-1B"])
    assert re.fullmatch(r"(FSDP|NO|MULTI_CPU), [\d,]+ tokens/s, MFU [\d.]+%", lines["check fsdp-125M"])
    assert re.fullmatch(r"(\(vLLM not installed\) )?transformers [\d.]+ completions/s;( vllm [\d.]+ completions/s;)?",
                        lines["check eval-vllm"])
    assert re.fullmatch(r"5 steps in [\d.]+ s, generation (transformers|vllm)", lines["check grpo-5"])
    assert re.fullmatch(r"5 steps in [\d.]+ s, \d+ tokens generated, generation (transformers|vllm)", lines["check ppo-5"])
