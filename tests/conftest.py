"""Shared fixtures. Tests run offline: the hub is never contacted."""

import fcntl
import os
import shutil
import signal
import sys
import tempfile
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
# DeepSpeed's CPU collective op is compiled (about 30 s) into torch's extension cache, by default one
# folder per user: two checkouts' virtual environments there rebuild it for each other (their include
# paths differ), which fell inside whichever ZeRO test ran first (42 s instead of 14). One per
# environment instead; .ci/run prebuilds it there.
os.environ.setdefault("TORCH_EXTENSIONS_DIR", os.path.join(sys.prefix, "torch_extensions"))
# The suite runs in two pytest-xdist workers (pyproject's addopts), one per core: each worker and what
# it starts keep to one thread, since two processes that each spin two OpenMP threads on two cores run
# many times slower (platform notes), and set before torch is imported, which reads it once.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from evolm.cli.main import main  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# The paper's real test sets ship with the tests (tests/data/benchmarks, with their licence notes).
PAPER_BENCHMARKS = REPO / "tests" / "data" / "benchmarks"


def _core_locks():
    """(turnstile, cores) lock files shared by this run's pytest-xdist workers; None outside xdist."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:
        return None
    return tuple(open(Path(tempfile.gettempdir()) / f"evolm-tests-{run}.{name}", "a") for name in ("turnstile", "cores"))


CORE_LOCKS = _core_locks()


_holding_the_cores = False  # this worker kept both cores from one `many_processes` test to the next

# The files that take longest, about longest first (seconds of one core, measured 2026-12-07): pytest-xdist
# hands whole files to the two workers in collection order (`--dist loadfile --no-loadscope-reorder`,
# pyproject), the first and third to one worker, the second and fourth to the other, so these start first
# and the short files even out the end (xdist's own order, most tests first, left test_study.py or
# test_wsd.py to one worker while the other had finished). test_posttrain_launch.py, whose
# `many_processes` tests wait for the other worker's test in progress, comes third: first, it waited out
# test_study.py's longest test (48 s) at the start. test_report.py, 52 s then, takes about a quarter of
# that since its tests draw no plots (2026-12-08), and has left the list.
LONGEST_FIRST = ("test_study.py", "test_eval.py", "test_posttrain_launch.py", "test_ppo.py",  # 127-54 s
                 "test_wsd.py", "test_study_slurm.py", "test_rl_reward.py", "test_pretrain.py", "test_bad_options.py",  # 54-46 s
                 "test_prepare.py", "test_export.py", "test_rl.py", "test_vllm_plumbing.py", "test_sft.py", "test_synth.py")  # 44-15 s


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


def _many_processes(item) -> bool:
    return item is not None and item.get_closest_marker("many_processes") is not None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """A test marked `many_processes` has both cores to itself while it runs: its processes step in
    lockstep through gloo collectives, and beside the other worker's test (three or four busy processes
    on two cores) each collective waits for a descheduled peer: a two-process ZeRO-3 PPO run took 95 s
    so, 14 s alone. A readers-writer lock (flock; fcntl has no fair queue, hence the turnstile a waiting
    writer holds so that the other worker cannot keep it out) lets ordinary tests share the cores and
    these run alone. Only the test's call is alone (`pytest_runtest_call`): its fixtures' setup, one
    process (the one-process runs its launches are compared with, the models built once per run), is an
    ordinary test's work, and under the lock it kept the other worker waiting (the first such test of a
    run built them all). A worker keeps the cores from one such test to the next one it runs: handed back
    between them, the other worker starts a test that the next one then waits out (12 such tests, 5 of
    them in a row in one file)."""
    global _holding_the_cores
    if CORE_LOCKS is None:
        yield
        return
    turnstile, cores = CORE_LOCKS
    if not _holding_the_cores:
        _take(turnstile, cores, fcntl.LOCK_SH)
    try:
        yield
    finally:
        _holding_the_cores = _holding_the_cores and _many_processes(item) and _many_processes(nextitem)
        if not _holding_the_cores:
            fcntl.flock(cores, fcntl.LOCK_UN)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    global _holding_the_cores
    if CORE_LOCKS is not None and _many_processes(item) and not _holding_the_cores:
        turnstile, cores = CORE_LOCKS
        fcntl.flock(cores, fcntl.LOCK_UN)  # the shared hold of its setup, given up for the whole
        _take(turnstile, cores, fcntl.LOCK_EX)
        _holding_the_cores = True
    yield


def _take(turnstile, cores, how) -> None:
    """The cores, shared (LOCK_SH) or alone (LOCK_EX), through the turnstile: a worker waiting for them
    alone holds it, so the other cannot start test after test and keep it out."""
    fcntl.flock(turnstile, fcntl.LOCK_EX)
    try:
        if how == fcntl.LOCK_EX:
            fcntl.flock(cores, fcntl.LOCK_EX)
    finally:
        fcntl.flock(turnstile, fcntl.LOCK_UN)
    if how == fcntl.LOCK_SH:
        fcntl.flock(cores, fcntl.LOCK_SH)


class CliResult:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def __repr__(self):
        return f"CliResult(code={self.code}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def cli(capsys):
    """Run `evolm ARGS...` in-process; return exit code, stdout and stderr."""

    def run(*args):
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def _built_once(tmp_path_factory, name, build):
    """`name`, written by `build(path)` once per test run: the two pytest-xdist workers each built the
    same bytes (the SFT model and the base under it: 36 s of a core each), now one builds, in the run's
    folder above the workers' own, while the other waits for it under a file lock (no longer than
    building it itself would take). Without xdist, built in the session's folder."""
    if CORE_LOCKS is None:
        out = tmp_path_factory.mktemp(name) / name
        build(out)
        return out
    shared = tmp_path_factory.getbasetemp().parent / "built-once"
    shared.mkdir(exist_ok=True)
    out = shared / name
    with open(shared / f"{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (shared / f"{name}.complete").exists():  # a worker's failed build is tried again, and fails alike
                for leftover in (out, shared / f"{name}.partial"):
                    shutil.rmtree(leftover, ignore_errors=True)
                build(out)
                (shared / f"{name}.complete").touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return out


def _own_copy(tmp_path_factory, checkpoint):
    """This worker's copy of a checkpoint built once: tests write into theirs (an evaluation's eval/, which
    some then assert is absent), so each worker keeps the one it had. The copy's recorded data and parent
    are the shared ones, alike in both workers."""
    if CORE_LOCKS is None:
        return checkpoint
    out = tmp_path_factory.mktemp(checkpoint.name) / checkpoint.name
    shutil.copytree(checkpoint, out)
    return out


# The data fixtures are built once and read in place (no test writes into them), so that every path a
# checkpoint records is the same in both workers: a CPT whose replay is not its parent's pre-training
# data (by path) measures a third validation loss.
@pytest.fixture(scope="session")
def synth_tiny(tmp_path_factory):
    """The embedded default data at scale tiny, generated once per test session."""
    from evolm import synth

    def build(out):
        out.mkdir()
        synth.generate(out, seed=0, scale="tiny")

    return _built_once(tmp_path_factory, "synth", build)


@pytest.fixture(scope="session")
def tiny_tokenizer(tmp_path_factory, synth_tiny):
    """A 1024-token BPE trained on the synthetic general text."""
    from evolm.stages.data.tokenizer import make_tokenizer

    def build(out):
        make_tokenizer(out, sources=[str(synth_tiny / "text" / "general.jsonl")], vocab_size=1024, adopt=None)

    return _built_once(tmp_path_factory, "tok", build)


# A run small enough for tests: 512 tokens per step. The `tiny` preset (two layers of the 1M preset's
# width) runs the same code as 1M in about half the time of a test's run (a WSD test of 9 runs: 39 s
# against 69 s, 2026-12-07; the whole suite's CPU time fell by a fifth) and learns enough for them: the
# SFT model below, trained on it, answers in the template's format as it did on 1M (test_sft).
SMALL = ("--model", "tiny", "--seq-len", "64", "--global-batch", "8", "--micro-batch", "4", "--val-tokens", "4K")


@pytest.fixture(scope="session")
def shards(tmp_path_factory, synth_tiny, tiny_tokenizer):
    """Token shards of the synthetic general and math text."""
    from evolm.stages.data.prepare import prepare
    from evolm.textsource import resolve_source

    def build(root):
        for name in ("general", "math"):
            prepare(resolve_source(synth_tiny / "text" / f"{name}.jsonl"), tiny_tokenizer, root / name)

    return _built_once(tmp_path_factory, "lm-shards", build)


@pytest.fixture(scope="session")
def _shared_base(tmp_path_factory, shards):
    def build(out):
        assert main(["pretrain", *SMALL, "--tokens", "60K", "--data", str(shards / "general"), "--out", str(out)]) == 0

    return _built_once(tmp_path_factory, "base", build)


@pytest.fixture(scope="session")
def base(tmp_path_factory, _shared_base):
    """The tiny preset pre-trained on 60K tokens of general text (117 steps)."""
    return _own_copy(tmp_path_factory, _shared_base)


@pytest.fixture(scope="session")
def sft_model(tmp_path_factory, _shared_base, synth_tiny):
    """`base` after SFT on the first 400 pool problems for 2 epochs (200 steps of 4): it answers in the
    template's boxed format (30 of 30 Level 1 problems, test_sft), in two thirds of the tokens (30 s
    here, not 48) of the 150 steps of 8 it was before; one epoch was not dependable (0 to 70%)."""
    def build(out):
        code = main(["sft", str(_shared_base), "--data", str(synth_tiny / "pool" / "mathpool.jsonl"), "--examples",
                     "400", "--epochs", "2", "--global-batch", "4", "--max-length", "256", "--out", str(out)])
        assert code == 0

    return _own_copy(tmp_path_factory, _built_once(tmp_path_factory, "sft", build))


@pytest.fixture
def count_generated(monkeypatch):
    """Count the problems (one rendered prompt each) the transformers backend is asked to generate."""
    from evolm.eval import generate as generate_module

    asked = []
    original = generate_module.TransformersBackend.generate_prompts

    def counting(self, prompts, decoding):
        asked.extend(prompts)
        return original(self, prompts, decoding)

    monkeypatch.setattr(generate_module.TransformersBackend, "generate_prompts", counting)
    return asked


@pytest.fixture
def paper_benchmarks():
    """The folder of the paper's 11 downstream test files shipped in the repository."""
    return PAPER_BENCHMARKS


# A fresh clone has everything the suite needs; a skip is a fault unless it is rare and explained
# (pytest's -rs, set in pyproject.toml, prints each skip's reason in the summary).
MAX_SKIPS = 3


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped > MAX_SKIPS and exitstatus == 0:
        reporter.write_line(f"FAILED: {skipped} tests skipped (at most {MAX_SKIPS} may); see the reasons above")
        session.exitstatus = 1


def kill_when(proc, state, timeout=120, settle=0.0):
    """SIGKILL the run as soon as `state` (a resume state's folder, or the file a checkpoint writes
    last) exists, `settle` seconds after; the processes of a launcher (torchrun starts them in
    sessions of their own) too."""
    import psutil  # accelerate's dependency

    deadline = time.time() + timeout
    while not state.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(settle)
    try:
        tree = [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]
    except psutil.NoSuchProcess:  # it had ended
        tree = []
    for process in tree:
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    proc.wait()


def launch_env():
    """The environment of a many-process launch in a test: one thread per process (two processes on
    two cores), offline, and EVOLM_DEBUG so a process that could not free gloo's threads says so."""
    return dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", EVOLM_DEBUG="1")


def assert_launched_cleanly(done, threads_freed=True):
    """A many-process launch (torchrun / accelerate launch, with `launch_env`) succeeded; with
    `threads_freed`, its processes also freed gloo's worker threads before exiting (see
    evolm.training.processes.start_processes) instead of leaving by `finish_processes`' fallback."""
    assert done.returncode == 0, done.stderr[-3000:]
    if threads_freed:
        assert "worker threads outlived the process group" not in done.stderr


def torchrun(processes=2):
    """torchrun's arguments (after the interpreter) for PROCESSES processes on this machine; then `-m
    evolm ARGS` or a script. --standalone rendezvouses on a free port, so that two launches at once (one
    per test worker) do not collide."""
    return ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]


def launcher(config):
    """The command that starts `evolm` through `accelerate launch` with the shipped launch config
    CONFIG and two CPU processes, fp32."""
    import sys

    return [str(Path(sys.executable).parent / "accelerate"), "launch", "--config_file",
            str(REPO / "configs" / "accelerate" / f"{config}.yaml"), "--num_processes", "2", "--mixed_precision", "no",
            # a free port (accelerate's default 29500 would collide with a launch in the other test worker)
            "--main_process_port", "0", "-m", "evolm"]


def accelerate_launch(config, *args, env=None):
    """`accelerate launch --config_file configs/accelerate/CONFIG.yaml -m evolm ARGS` with two CPU
    processes, fp32 (ENV: variables to add to `launch_env`). The launcher itself logs DeepSpeed's
    accelerator choice to stdout before evolm starts: evolm's own stdout is the last line."""
    import subprocess

    done = subprocess.run([*launcher(config), *map(str, args)], capture_output=True, text=True,
                          env={**launch_env(), **(env or {})}, timeout=300)
    # DeepSpeed keeps its process groups in module globals for the life of the process, and FSDP2's
    # device mesh its own, so gloo's threads outlive `destroy_process_group` under the ZeRO and FSDP
    # configs: the processes leave by `finish_processes`' fallback, still with exit code 0.
    assert_launched_cleanly(done, threads_freed=False)
    assert done.stdout.strip().splitlines()[-1] == str(args[list(args).index("--out") + 1])
    return done
