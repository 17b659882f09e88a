"""Atomic output directories and file hashing.

Every evolm output (a checkpoint, a data directory) is built in a temporary sibling directory and
renamed into place only when complete, so a crash or bad input never leaves a half-written output
and an existing output is replaced only with `--overwrite` (and only once the new one is complete).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Iterator

from evolm import jsontext
from evolm.errors import BadInput

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj) -> str:
    """JSON with sorted keys and fixed separators: equal objects give equal bytes (for hashing)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file through a temporary sibling, fsync it, then rename: readers and a crash see
    either the old file or the whole new one, never half of it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, obj) -> None:
    """Write pretty JSON through a temporary file and rename, so readers never see half a file (a NaN
    is written as null and named, `evolm.jsontext`)."""
    atomic_write_text(path, jsontext.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def check_output_dir(out: Path, *, overwrite: bool, marker: str, what: str,
                     inputs: dict[str, Path | None] | None = None) -> None:
    """Refuse an existing output unless `overwrite`, and even then a folder that is not an earlier
    output of this kind (`what`, known by its `marker` file) and not empty: `--out runs --overwrite`
    must not delete every checkpoint under runs/, nor `--out ~/thesis` a user's files. Refuse an
    output that is, holds or lies in one of the command's `inputs` (what each is: the path): the
    final rename would delete what the command read. Refuse a path naming no folder, or whose
    parent is a file or not writable."""
    out = Path(out)
    if out.name in ("", ".", ".."):
        raise BadInput(f"--out {out} names no new folder; give a path such as runs/new.")
    for name, path in (inputs or {}).items():
        if path is not None and overlaps(out, Path(path)):
            raise BadInput(f"--out {out} would replace {name} {path}, which this command reads; write to another folder.")
    if out.exists() and not overwrite:
        raise BadInput(f"Output {out} already exists; pass --overwrite to replace it.")
    if out.exists() and not out.is_dir():
        raise BadInput(f"Output {out} exists and is not a directory.")
    if out.is_dir() and not (out / marker).is_file() and any(out.iterdir()):
        raise BadInput(f"--out {out} is not an earlier {what} (it has no {marker}); --overwrite replaces only that, "
                       "so choose another folder.")
    for parent in out.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise BadInput(f"Cannot create {out}: {parent} is not a directory.")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise BadInput(f"Cannot create {out}: {parent} is not writable.")
            break


def overlaps(out: Path, path: Path) -> bool:
    """`out` is `path`, holds it or lies inside it."""
    out, path = Path(out).resolve(), Path(path).resolve()
    return out == path or out in path.parents or path in out.parents


def make_dir(path: Path) -> None:
    """mkdir -p, where a path the system refuses (read-only, virtual like /sys, no permission) is the
    user's bad input, not a bug."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"Cannot create {path}: {exc.strerror or exc}.") from None


@contextlib.contextmanager
def atomic_dir(out: Path, *, marker: str, what: str, overwrite: bool = False,
               inputs: dict[str, Path | None] | None = None) -> Iterator[Path]:
    """Yield a fresh temporary directory next to `out`; on success rename it to `out`.

    On any exception the temporary directory is removed and `out` is untouched. With `overwrite`,
    an existing `out` (an earlier output of this kind: `check_output_dir`) is moved aside only after
    the new directory is complete, then deleted.
    """
    out = Path(out)
    check_output_dir(out, overwrite=overwrite, marker=marker, what=what, inputs=inputs)
    remove_stale_siblings(out)
    tmp = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    except OSError as exc:  # a read-only or virtual file system (/proc), no permission: the user's path, not a bug
        raise BadInput(f"Cannot create {out}: {exc.strerror or exc}.") from None
    try:
        yield tmp
        readable_as_umask(tmp)
        flush_to_disk(tmp)
        replace_dir(tmp, out)
        flush_to_disk(out.parent, contents=False)  # the rename itself
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def flush_to_disk(root: Path, *, contents: bool = True) -> None:
    """fsync `root` and, with `contents`, every file and folder under it: the libraries that write a
    checkpoint's files (safetensors, tokenizers) do not, and a rename can reach the disk before the
    data it names, so a machine that crashed just after it would have left a complete-looking
    checkpoint of empty weights. A file system that cannot fsync a folder is let be."""
    root = Path(root)
    below = [path for path in root.rglob("*") if not path.is_symlink()] if contents else []
    for path in [*below, root]:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:  # EINVAL on a folder where the file system does not support it
            pass
        finally:
            os.close(fd)


def remove_stale_siblings(out: Path) -> None:
    """Remove the hidden `.OUT.tmp-*` and `.OUT.old-*` folders a killed writer of OUT left (`kill -9`
    while it wrote a checkpoint's weights leaves a whole model under a hidden name), where this
    process holds OUT (`hold_output`): no other evolm process is writing them then. Outputs written
    without the hold (data, reports) keep theirs: another process may be writing one."""
    out = Path(out)
    if _lock_file(out) not in _HELD or not out.parent.is_dir():
        return
    for stale in sorted(out.parent.iterdir()):
        if stale.is_dir() and re.fullmatch(rf"\.{re.escape(out.name)}\.(tmp|old)-[0-9a-f]{{8}}", stale.name):
            from evolm.console import log

            log(f"removing {stale}, left by an interrupted write of {out}")
            shutil.rmtree(stale, ignore_errors=True)


def readable_as_umask(root: Path) -> None:
    """Give every file under `root` the permissions the user's umask gives a new file (executable bits
    kept): safetensors (0.8) writes its weights owner-only (0600) whatever the umask, so other users of
    a shared cluster could not load a checkpoint their umask meant them to read."""
    umask = _umask()
    for path in Path(root).rglob("*"):
        if path.is_file() and not path.is_symlink():
            mode = path.stat().st_mode & 0o777
            wanted = (0o666 | (mode & 0o111)) & ~umask
            if mode != wanted:
                path.chmod(wanted)


def _umask() -> int:
    """The process's umask, read without setting it where Linux tells it (os.umask can only be read by
    setting it, which another thread's new file would see)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def exclusive_lock(path: Path, busy: str) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created) for the block; BadInput(busy) at once when
    another process holds it. The kernel drops the lock with the process, so a killed holder leaves
    no stale lock behind (a lock file's mere existence would)."""
    import fcntl

    make_dir(path.parent)
    try:
        handle = open(path, "a", encoding="utf-8")
    except OSError as exc:  # no permission: the user's path, as for make_dir
        raise BadInput(f"Cannot create {path}: {exc.strerror or exc}.") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BadInput(busy) from None
        except OSError as exc:  # a file system without locks (NFS without lockd, Lustre mounted without flock)
            from evolm.console import log

            log(f"warning: cannot lock {path} ({exc.strerror or exc}); nothing keeps a second runner off this folder.")
        yield


_HELD: dict[Path, object] = {}  # the outputs this process is writing: their lock files, open and locked


def _lock_file(out: Path) -> Path:
    """`.OUT.lock` beside OUT, one file for every spelling of OUT (a relative path, a symlinked parent)."""
    out = Path(out)
    return out.absolute().parent.resolve() / f".{out.name}.lock"


def hold_output(out: Path) -> None:
    """One run at a time writes OUT: two runs started with the same --out (two terminals, a requeue
    script) would write one OUT.partial, mix their states and metrics, and the last to finish would
    replace the other's output. Taken before a run checks its output (`claim_output`) and again when it
    creates OUT.partial; held on the hidden `.OUT.lock` beside it until the output is written
    (`release_output`, which removes the file), the command ends (`release_all`) or a stage called from
    Python fails (`releases_outputs_on_failure`); the kernel drops it
    with a killed run, so a stale file blocks nothing. The same process may take it again (a rerun in
    one Python session)."""
    import fcntl

    lock = _lock_file(out)
    if lock in _HELD:
        return
    make_dir(lock.parent)
    for _ in range(3):  # a holder that removed the file just as it was opened: open the new one
        try:
            handle = open(lock, "a", encoding="utf-8")
        except PermissionError:  # left by another user's finished run in a shared folder: reading is enough to lock
            handle = open(lock, encoding="utf-8")
        except OSError as exc:  # a read-only or virtual file system (/proc): OUT itself cannot be made there
            raise BadInput(f"Cannot create {out}: {exc.strerror or exc}.") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise BadInput(f"Another evolm run is writing {out} (it holds {lock}); wait for it to end, or choose another "
                           "--out.") from None
        except OSError as exc:  # a file system without locks (NFS without lockd, Lustre mounted without flock)
            from evolm.console import log

            log(f"warning: cannot lock {lock} ({exc.strerror or exc}); nothing keeps a second run off {out}.")
            _HELD[lock] = handle
            return
        try:
            if os.stat(lock).st_ino == os.fstat(handle.fileno()).st_ino:
                _HELD[lock] = handle
                return
        except FileNotFoundError:
            pass
        handle.close()
    raise BadInput(f"Another evolm run keeps replacing {lock}; wait for it to end, or choose another --out.")


def claim_output(out: Path) -> None:
    """`hold_output` before a run's checks of OUT and OUT.partial, so that no second run passes them while a
    first one works: on the main process only (torchrun and accelerate launch set RANK), and only where
    OUT's folder exists (a refused run must not leave a new folder behind; OUT.partial's creation takes
    the lock in a new folder)."""
    if int(os.environ.get("RANK", "0")) == 0 and Path(out).absolute().parent.is_dir():
        hold_output(out)


def _release(lock: Path) -> None:
    handle = _HELD.pop(lock, None)
    if handle is not None:
        with contextlib.suppress(OSError):
            if os.stat(lock).st_ino == os.fstat(handle.fileno()).st_ino:
                lock.unlink()
        handle.close()


def release_output(out: Path) -> None:
    """Let go of OUT (`hold_output`) and remove its lock file; nothing when this process does not hold it."""
    _release(_lock_file(out))


def releases_outputs_on_failure(stage):
    """A stage's `run` called from Python (a notebook, a sweep script) that fails lets go of the outputs
    it took (`hold_output`), as the CLI does for a command (`release_all`): otherwise the process kept
    them until it exited, and another process resuming the run was refused as a second writer. Those
    the process held before the call stay held."""
    import functools

    @functools.wraps(stage)
    def run(*args, **kwargs):
        before = set(_HELD)
        try:
            return stage(*args, **kwargs)
        except BaseException:
            for lock in set(_HELD) - before:
                _release(lock)
            raise

    return run


def release_all() -> None:
    """Every output this process holds: a command that ended, whether it wrote its output or failed."""
    for lock in list(_HELD):
        _release(lock)


def replace_dir(new: Path, out: Path) -> None:
    """Move the complete directory `new` to `out`, moving an existing `out` aside first."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(out, old)
    try:
        os.replace(new, out)
    except BaseException:
        if old is not None:  # the old output back in its place, not left under a hidden name
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def expand_home(value):
    """`~/runs` as the shell would read it, in a value and in every value a list or mapping holds: a
    config or study file's paths and `--out=~/runs` (the shell leaves a tilde after `=` as it is)
    would otherwise make a folder named `~` in the working directory."""
    if isinstance(value, list):
        return [expand_home(v) for v in value]
    if isinstance(value, dict):
        return {k: expand_home(v) for k, v in value.items()}
    if isinstance(value, str) and (value == "~" or value.startswith("~/")):
        return os.path.expanduser(value)
    return value


def read_yaml(path: Path, what: str):
    """A YAML file's content; a missing file or bad YAML is one BadInput sentence naming `what`
    (config, task and study files are all read this way). Two readings of PyYAML's YAML 1.1 that
    silently change a file's meaning are refused or undone: a key given twice in one mapping (the last
    won: a second `grid:` or `seed:` dropped the first), and numbers written with colons, which YAML
    1.1 reads in base 60 (`time: 12:00:00` became 43200, which sbatch reads as minutes); they stay text,
    as YAML 1.2 reads them."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{what} {path} " + ("is a folder, not a file." if path.is_dir() else "does not exist."))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{what} {path} is not UTF-8 text (a binary file?).") from None
    except OSError as exc:  # no permission
        raise BadInput(f"Cannot read {what} {path}: {exc.strerror or exc}.") from None
    try:
        return yaml.load(text, Loader=_loader())
    except _DuplicateKey as exc:
        raise BadInput(f"{what} {path} gives {exc.args[0]!r} twice in one mapping (line {exc.args[1]}); "
                       "keep one.") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{what} {path} is not valid YAML ({str(exc).splitlines()[0]}).") from None


class _DuplicateKey(Exception):
    pass


def _loader():
    """PyYAML's safe loader, refusing duplicate keys and reading base-60 numbers as text (read_yaml)."""
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:  # the mapping's own keys: one a merge (`<<: *base`) brings may be overridden
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    if key_node.value in seen:
                        raise _DuplicateKey(key_node.value, key_node.start_mark.line + 1)
                    seen.add(key_node.value)
            return super().construct_mapping(node, deep=deep)

    def number_or_text(parent):
        def construct(loader, node):
            value = loader.construct_scalar(node)
            return value if ":" in value else parent(loader, node)
        return construct

    Loader.add_constructor("tag:yaml.org,2002:int", number_or_text(yaml.SafeLoader.construct_yaml_int))
    Loader.add_constructor("tag:yaml.org,2002:float", number_or_text(yaml.SafeLoader.construct_yaml_float))
    return Loader

