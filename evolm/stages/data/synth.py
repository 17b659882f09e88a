"""The synth stage: the embedded default data (`evolm.synth`) written as one atomic output.

`run` is what `evolm data synth` does, for any Python caller too: bad input is refused with
`BadInput` before anything is written, the files are built in a temporary sibling of `out` and
renamed into place only when complete, and an existing `out` is replaced only with `overwrite`
(and only once the new data is complete).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from evolm.errors import BadInput
from evolm.fsutil import atomic_dir
import evolm.synth
from evolm.synth import SCALES, generate


def run(out: Path, *, seed: int = 0, scale: str = "tiny", overwrite: bool = False,
        log: Callable[[str], None] = lambda message: None) -> dict:
    """Generate the synthetic data into the new directory `out`; return its summary (synth.json)."""
    if scale not in SCALES:
        raise BadInput(f"Unknown scale {scale!r}; choose one of {', '.join(SCALES)}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise BadInput(f"The seed must be a whole number, not {seed!r}.")
    with atomic_dir(Path(out), overwrite=overwrite, marker="synth.json", what="synthetic data folder from `evolm data synth`") as tmp:
        summary = generate(tmp, seed=seed, scale=scale, log=log)
    return summary


def generator_version(*, training: bool = False) -> str:
    """Which generator writes the data (`evolm-synth/5`): a study's synthetic data identity, so an
    upgrade that writes other bytes makes its data again. With `training`, the version of the bytes
    training reads (`evolm.synth.TRAINING_VERSION`), which keys the study's runs: an upgrade that
    changes those trains again. Read at call time, so tests can change them."""
    return f"{evolm.synth.GENERATOR}/{evolm.synth.TRAINING_VERSION if training else evolm.synth.VERSION}"
