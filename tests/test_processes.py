"""Collectives evolm adds over its processes, with two real CPU processes (gloo, torchrun)."""

import subprocess
import sys

AGREE = """
import torch.distributed as dist
from evolm.training.processes import all_agree
dist.init_process_group("gloo")
rank = dist.get_rank()
print(rank, all_agree(True), all_agree(rank == 0), all_agree(False))
dist.destroy_process_group()
"""


def test_all_agree_is_true_only_where_every_process_says_so(tmp_path):
    script = tmp_path / "agree.py"
    script.write_text(AGREE)
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", str(script)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(done.stdout.split("\n")[:2]) == ["0 True False False", "1 True False False"]


def test_all_agree_without_a_process_group_is_the_process_own_answer():
    from evolm.training.processes import all_agree

    assert all_agree(True) is True and all_agree(False) is False
