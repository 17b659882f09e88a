"""A stage's checks of its output folder: evolm.training.rundir's (`check_outputs`), after finishing
what a run that wrote OUT left when it was stopped (`finish_cleanup`).

A run marks OUT.partial with OUT's manifest hash once OUT is written (`rundir.mark_written`), then hands
over what it staged and removes OUT.partial, the mark last (`rundir.remove_written`). Stopped in that
stretch, it leaves OUT finished and a marked OUT.partial; the next command for OUT finishes the job,
and `evolm study run` does so for the nodes it finds done. The hand-over is a WSD run's branch states
(evolm.stages.branches), a stage concept, so this lives here and not in the training layer.
"""

from __future__ import annotations

import os
from pathlib import Path

from evolm.console import log
from evolm.errors import first_line
from evolm.fsutil import claim_output
from evolm.stages.branches import finish_hand_over
from evolm.training import rundir


def finish_cleanup(out: Path) -> bool:
    """Finish what a run that wrote OUT left undone when it was stopped (`rundir.cleanup_left`): a WSD
    run's hand-over of its branch states (nothing for other runs), then the removal of OUT.partial.
    Whether it did; the caller holds OUT (`claim_output`). A hand-over that fails (a folder this user
    cannot write) keeps OUT.partial, where --branch-from still finds the staged states, and says so;
    the next command tries again."""
    if not rundir.cleanup_left(out):
        return False
    partial = rundir.partial_dir(out)
    try:
        finish_hand_over(Path(out))
    except Exception as exc:  # noqa: BLE001 - OUT is written: a failed hand-over must not fail the command
        log(f"note: {out} was written by a run stopped before its hand-over of branch states, which failed again "
            f"({first_line(exc)}); {partial} stays")
        return False
    rundir.remove_written(partial)
    log(f"note: {out} was written by a run stopped before it had removed {partial.name}; finished its cleanup")
    return True


def check_outputs(out: Path, *, resume: bool, overwrite: bool, inputs: dict[str, Path | None] | None = None) -> Path:
    """`rundir.check_outputs`, once what a stopped run left at OUT is finished (by the main process,
    which alone holds OUT); OUT.partial."""
    claim_output(out)  # before the cleanup: no second run of OUT works beside it
    if int(os.environ.get("RANK", "0")) == 0:
        finish_cleanup(out)
    return rundir.check_outputs(out, resume=resume, overwrite=overwrite, inputs=inputs)
