"""Budget branches of a warmup-stable-decay pre-training run (the paper's finding 9 made cheap).

A WSD run's learning rate is constant between warmup and decay, so a run of budget B with the same
warmup is, up to the step where B's decay starts, the very same computation as a longer WSD run:
same weights, optimizer state and data (a single source's windows come in one seeded order,
whatever the budget, evolm.mixture). `evolm pretrain --schedule wsd --branch-at B1,B2` therefore
saves its full training state at each such step into `OUT.branches/<B>/`, and
`evolm pretrain --branch-from OUT --tokens B` trains only B's decay from there and writes a fully
decayed checkpoint of budget B, equal to a stand-alone WSD run of budget B with the same warmup
(bitwise on CPU, tested). The index `OUT.branches/branches.json` holds the stable run's settings,
which the branch must share. A budget the stable run saved no state for (one added to a sweep after
it ran) branches from the latest state before its own decay starts and trains the rest of the stable
phase itself: the same computation again, so the same result (tested), at the cost of those steps.
The stable run also saves the state where its own decay starts, so that a budget *larger* than its
own continues the whole stable phase from there (the learning rate is the same constant, the data
the same stream read further) and trains only the steps beyond it: a sweep grows upwards without
training its stable phase again, its new budgets sharing the stable run's warmup, as every branch does.
A branch that trains part of the stable phase itself (a budget added later) saves the state where its
own decay starts and, once it has finished, hands it to the stable run's `OUT.branches/` (`contribute`),
so that a budget added after it starts there: two budgets added above a sweep, one after the other,
train the stable stretch between them once. Each such state costs what a `--branch-at` state costs on disk.

While the stable run trains (OUT.partial exists) its states are in `OUT.branches.partial/`, where
`--branch-from` finds them, so a branch can start before the stable run ends; the run moves them to
`OUT.branches/` when it has written OUT. So a failed `--overwrite` rerun leaves the finished run's
states beside the checkpoint they belong to, as it leaves the checkpoint.
"""

from __future__ import annotations

import json
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from evolm.errors import BadInput, first_line
from evolm.fsutil import write_json
from evolm.training.rundir import cleanup_left, partial_dir
from evolm.units import format_count, format_count_exact

INDEX = "branches.json"
# Settings a branch has of its own: its budget (and so its steps and decay), and what does not change
# the optimisation (evolm.training.causal_lm.RESUMABLE_CHANGES are already outside `comparable`).
OWN = ("total_steps", "decay_steps")


def branches_dir(out: Path) -> Path:
    """The branch states of the finished run OUT."""
    out = Path(out)
    return out.with_name(out.name + ".branches")


def staging_dir(out: Path) -> Path:
    """The branch states of the run training OUT (in OUT.partial)."""
    out = Path(out)
    return out.with_name(out.name + ".branches.partial")


def current_dir(out: Path) -> Path:
    """Where OUT's branch states are: its run in progress's, if it has any, else its finished run's."""
    staged = staging_dir(out)
    return staged if partial_dir(out).exists() and staged.is_dir() else branches_dir(out)


def branch_points(config, overrides, counts: tuple[int, ...], out: Path, own: int) -> dict[int, Path]:
    """Step -> state folder for each --branch-at budget: the step where that budget's decay starts;
    and, named by the run's own budget `own`, the step where its own decay starts, which a larger
    budget added later continues the stable phase from (`find_branch`)."""
    from evolm.stages.lm_run import decay_steps

    if not counts:
        return {}
    if config.schedule != "wsd":
        raise BadInput("--branch-at needs --schedule wsd: a cosine run has no stable phase to branch from.")
    stable_end = config.total_steps - config.decay_steps
    points: dict[int, Path] = {}
    for count in counts:
        steps = count // config.tokens_per_step
        start = steps - decay_steps(overrides, steps, config.warmup_steps, config.tokens_per_step) if steps else 0
        # a state is saved after a step, so the first a branch can start from is step 1's (warmup 0)
        first = max(1, config.warmup_steps)
        if not steps or not first <= start <= stable_end:
            raise BadInput(f"--branch-at {format_count(count)} must be a budget whose decay starts inside this run's "
                           f"stable phase (steps {first} to {stable_end} of {config.tokens_per_step:,} tokens).")
        if start in points:
            raise BadInput(f"--branch-at {format_count(count)} and {points[start].name} start their decay at the same "
                           f"step ({start}); keep one of them.")
        points[start] = staging_dir(out) / format_count_exact(count)
    # a --branch-at of the run's own budget is that state already
    points.setdefault(stable_end, staging_dir(out) / format_count_exact(own))
    return points


def clear_staged(out: Path) -> None:
    """A run that starts afresh (new, or --overwrite) drops the states an interrupted run of OUT staged."""
    shutil.rmtree(staging_dir(out), ignore_errors=True)


def publish(out: Path) -> None:
    """Once OUT is written (before OUT.partial goes, so that `current_dir` finds the staged states
    if this is cut short): its run's states replace an earlier run's (none without --branch-at)."""
    shutil.rmtree(branches_dir(out), ignore_errors=True)
    if staging_dir(out).is_dir():
        staging_dir(out).rename(branches_dir(out))


def write_index(out: Path, config, overrides, points: dict[int, Path], record: dict, *, resume: bool) -> None:
    from evolm.stages.lm_run import DEFAULT_DECAY

    # run_id: this run of OUT, so that a branch hands its state only to the run it branched from (`contribute`)
    index = {"stable_run": str(Path(out).resolve()), "config": config.comparable(), "decay": overrides.decay or DEFAULT_DECAY,
             "budgets": {path.name: {"step": step, "tokens": step * config.tokens_per_step, "state": path.name}
                         for step, path in points.items()}, "run_id": uuid.uuid4().hex, **record}
    path = staging_dir(out) / INDEX
    if resume and path.is_file():
        # A resume may add a --branch-at it has not passed, so it writes its budgets; but one that train()
        # will refuse for changed settings (its record is compared there) must not leave them in the index
        # first: it keeps the index of another run's settings, data or decay.
        written = json.loads(path.read_text(encoding="utf-8"))
        index["run_id"] = written.get("run_id")  # the run resumed is the same run (None: one indexed before run ids)
        if {k: v for k, v in written.items() if k != "budgets"} != {k: v for k, v in index.items() if k != "budgets"}:
            return
    staging_dir(out).mkdir(parents=True, exist_ok=True)
    write_json(path, index)


def find_branch(stable: Path, budget: int, config, overrides, out: Path | None = None) -> tuple[dict, object, int, Path | None]:
    """(the stable run's index, the branch's settings (`branch_config`), the step it starts at, the
    stable-phase state it starts from), or one sentence why not. That state is the latest the stable
    run saved at or before the step where this budget's decay starts: its own `--branch-at` state, or,
    for a budget added after the stable run (it has no state of its own), an earlier budget's, from
    which the branch trains the rest of the stable phase itself. The learning rate is constant there
    and the data one seeded stream, so the result is the same; with none saved early enough it
    trains from step 0 (state None) with the stable run's warmup and decay. A state the branch `out`
    itself handed over (`contribute`) is not one it starts from: rerun or resumed, it starts where it did."""
    folder = current_dir(stable)
    try:
        index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        if _published_since(stable, folder):
            return find_branch(stable, budget, config, overrides, out)
        raise BadInput(f"--branch-from {stable}: no {folder}/{INDEX} (run it with --schedule wsd --branch-at ...).") from None
    config = branch_config(config, index, overrides)
    decay_start = config.total_steps - config.decay_steps
    own = index["budgets"].get(format_count_exact(budget))
    if own is not None and not (folder / own["state"] / "trainer.json").is_file() and folder == staging_dir(stable):
        if _published_since(stable, folder):
            return find_branch(stable, budget, config, overrides, out)
        # the stable run in progress has not saved it (or, resumed past that step, never will: once it
        # has finished, the branch starts from an earlier state)
        raise BadInput(f"--branch-from {stable} has not saved its state at step {own['step']} (the start of "
                       f"{format_count(budget)}'s decay); try again once it has, or once the stable run has finished.")
    entry = _latest_saved(folder, index, decay_start, skip=out)
    if entry is None and _published_since(stable, folder):
        return find_branch(stable, budget, config, overrides, out)
    return index, config, entry["step"] if entry else 0, folder / entry["state"] if entry else None


def _latest_saved(folder: Path, index: dict, decay_start: int, skip: Path | None = None) -> dict | None:
    """The index entry of the latest state saved in `folder` at or before `decay_start` (None: none),
    leaving out a state the branch `skip` contributed."""
    mine = str(Path(skip).resolve()) if skip is not None else None
    saved = [e for e in index["budgets"].values() if e["step"] <= decay_start and (mine is None or e.get("by") != mine)
             and (folder / e["state"] / "trainer.json").is_file()]
    return max(saved, key=lambda e: e["step"], default=None)


ORIGIN = "origin.json"  # in a branch's staging folder: the stable run it started from, for `contribute`


def remember_origin(out: Path, index: dict, *, resume: bool, shared: int) -> str | None:
    """The run of the stable run (its index's `run_id`) that the branch `out` started from: written into
    the branch's staging folder when it starts, read back when it resumes (the stable run may have been
    rerun in between: its state then is not this branch's to hand over). With it, the step the branch
    starts from (`shared`, `started_at`)."""
    path = staging_dir(out) / ORIGIN
    origin = {"stable_run": index["stable_run"], "run_id": index.get("run_id")}
    if resume and path.is_file():
        origin = json.loads(path.read_text(encoding="utf-8"))
    staging_dir(out).mkdir(parents=True, exist_ok=True)
    write_json(path, {**origin, "shared_steps": shared})
    return origin.get("run_id")


def started_at(out: Path) -> int | None:
    """The step the branch `out` started from when it first ran (`remember_origin`; None: not recorded).
    A branch resumed from its own state continues the weights of that start, whatever state the stable
    run holds now: another branch may have handed it a later one meanwhile (`contribute`), which
    `find_branch` would pick, and the branch would record a later shared step than it trained from."""
    try:
        return int(json.loads((staging_dir(out) / ORIGIN).read_text(encoding="utf-8"))["shared_steps"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def contribute(stable: Path, out: Path, *, name: str, stable_run_id: str | None) -> None:
    """Once the branch `out` of `stable` has written its checkpoint (the main process): the state it staged
    where its own decay starts (`OUT.branches.partial/NAME/`, its budget's name; the stable phase's state
    there: the learning rate is the same constant, the data the same stream) moves into the stable run's
    `OUT.branches/` and index, where a budget added later starts from it (`find_branch`). Handed over
    only at the end, under the index's lock, and only where the stable run is still the run it branched
    from (`run_id`, `remember_origin`: not one rerun with --overwrite since, nor rerunning now) and holds
    no state at that step or of that name (another branch of the same budget, or this one's earlier run,
    gave it already); otherwise it is dropped. The branch's staging folder goes either way, and nothing
    here fails the branch, whose checkpoint is written."""
    from evolm.console import log

    staged = staging_dir(out)
    state = staged / name
    try:
        if not (state / "trainer.json").is_file():
            return
        step = json.loads((state / "trainer.json").read_text(encoding="utf-8"))["step"]
        # a stable run stopped after writing its checkpoint, before publishing its states, is finished: its
        # states are still staged (`current_dir`), and go to OUT.branches with this one when it is cleaned up
        finished = cleanup_left(stable)
        folder = current_dir(stable) if finished else branches_dir(stable)
        with _index_lock(folder):
            if partial_dir(stable).exists() and not finished:
                log(f"note: {stable} is being trained again; the state where this branch's decay starts is not handed to it")
                return
            index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
            held = any(e["step"] == step and (folder / e["state"] / "trainer.json").is_file() for e in index["budgets"].values())
            if index.get("run_id") != stable_run_id or held or (folder / name).exists():
                return
            state.rename(folder / name)
            index["budgets"][name] = {"step": step, "tokens": step * _tokens_per_step(index), "state": name,
                                      "by": str(Path(out).resolve())}
            write_json(folder / INDEX, index)
    except Exception as exc:  # noqa: BLE001 - a stable run this user cannot write, a damaged index: the branch is done
        log(f"note: the state where this branch's decay starts was not handed to {stable} ({first_line(exc)})")
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def finish_hand_over(out: Path) -> None:
    """The hand-over of a run that wrote OUT and was stopped before it (evolm.stages.outputs.finish_cleanup):
    a branch's staged state goes to the stable run it started from (`contribute`, as its own run would
    have: the stable run and its run id from ORIGIN, the state the one folder staged); a stable run's
    states are published (`publish`). Nothing staged: nothing to do."""
    staged = staging_dir(out)
    if (staged / ORIGIN).is_file():
        try:
            origin = json.loads((staged / ORIGIN).read_text(encoding="utf-8"))
            # a dot folder is a save a kill cut short (`.tmp-NAME`), never a state to hand over
            (state,) = [p for p in staged.iterdir() if p.is_dir() and not p.name.startswith(".")]
        except (OSError, ValueError):  # unreadable, or no state (or more than one): nothing to hand over
            shutil.rmtree(staged, ignore_errors=True)
            return
        contribute(Path(origin["stable_run"]), out, name=state.name, stable_run_id=origin.get("run_id"))
    elif staged.is_dir():
        publish(out)


@contextmanager
def _index_lock(folder: Path):
    """Branches that hand over their states at once (a study's --jobs 2, Slurm jobs) take turns at the index."""
    import fcntl

    with open(folder / ".index.lock", "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError:  # a file system without locks: two hand-overs at the same instant may lose one entry
            pass
        yield


def tokens_to_train(stable: Path, budget: int) -> int | None:
    """The tokens a branch of `budget` from `stable` trains itself (`find_branch`: from the latest
    saved state before its decay starts), for a plan's estimate; None until the stable run has
    finished (while it trains, states it has yet to save would shorten the branch)."""
    from evolm.stages.lm_run import Overrides, decay_steps

    folder = branches_dir(stable)
    try:
        index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
        per_step = _tokens_per_step(index)
        steps = budget // per_step
        start = steps - decay_steps(Overrides(schedule="wsd", decay=index["decay"]), steps, index["config"]["warmup_steps"], per_step)
    except (OSError, ValueError, KeyError, TypeError, BadInput):
        return None
    entry = _latest_saved(folder, index, start)
    return (steps - (entry["step"] if entry else 0)) * per_step


def _tokens_per_step(index: dict) -> int:
    """The stable run's tokens a step, from its index's settings (TrainConfig.tokens_per_step, as recorded)."""
    return index["config"]["seq_len"] * index["config"]["global_batch"]


def _published_since(stable: Path, folder: Path) -> bool:
    """Whether `folder` was the staged states, which the stable run has since moved to OUT.branches
    (a lookup in that instant reads from where they went)."""
    return folder == staging_dir(stable) and not folder.exists()


def branch_config(config, index: dict, overrides):
    """The branch's settings: the stable run's warmup and `--decay` (its own decay phase at its own
    budget); every other training setting must be the stable run's (one sentence names the first
    that differs)."""
    from evolm.stages.lm_run import decay_steps

    if config.schedule != "wsd":
        raise BadInput(f"A branch continues a WSD run: add --schedule wsd (with {index['stable_run']}'s other settings).")
    if overrides.decay is not None and overrides.decay != index["decay"]:
        raise BadInput(f"A branch decays as its stable run said: --decay {index['decay']} (from {index['stable_run']}), "
                       f"not {overrides.decay}.")
    warmup = index["config"]["warmup_steps"]
    decay = decay_steps(replace(overrides, decay=index["decay"]), config.total_steps, warmup, config.tokens_per_step)
    config = replace(config, warmup_steps=warmup, decay_steps=decay)
    mine = config.comparable()
    for key, value in index["config"].items():
        if key not in OWN and mine.get(key) != value:
            raise BadInput(f"A branch trains with its stable run's settings; {key} is {mine.get(key)!r} here and "
                           f"{value!r} in {index['stable_run']}.")
    return config
