"""The one split of a global batch over processes, micro batches and gradient accumulation.

Every trainer keeps the global batch (sequences or examples per optimizer step, across all
processes) fixed for any process count: each process handles `global_batch / world` of them per
step, in micro batches of `micro`, accumulating `per_rank / micro` of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from evolm.errors import BadInput


@dataclass(frozen=True)
class BatchSplit:
    per_rank: int
    """Sequences (examples) each process handles per optimizer step."""
    micro: int
    """Sequences (examples) per forward/backward on one process."""
    accum: int
    """Micro batches accumulated per optimizer step."""


def split_batch(global_batch: int, world: int, micro: int | None = None, *, cap: int = 8,
                powers_of_two: bool = False, unit: str = "sequences") -> BatchSplit:
    """Split `global_batch` over `world` processes; `micro` None picks the largest divisor of the
    per-process batch up to `cap` (the largest power of two with `powers_of_two`)."""
    if global_batch <= 0:
        raise BadInput(f"The global batch must be positive (got {global_batch}).")
    if global_batch % world:
        raise BadInput(f"The global batch of {global_batch} {unit} does not divide over {world} processes.")
    per_rank = global_batch // world
    if micro is None:
        sizes = range(min(cap, per_rank), 0, -1)
        micro = next(m for m in sizes if per_rank % m == 0 and (not powers_of_two or m & (m - 1) == 0))
    if micro <= 0:
        raise BadInput(f"The micro batch must be positive (got {micro}).")
    if per_rank % micro:
        raise BadInput(f"The micro batch {micro} does not divide the {per_rank} {unit} each of {world} process(es) "
                       "handles per step.")
    return BatchSplit(per_rank=per_rank, micro=micro, accum=per_rank // micro)
