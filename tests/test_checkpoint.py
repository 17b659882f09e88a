import json
from pathlib import Path

import pytest

from evolm.checkpoint import (
    CheckpointError, build_manifest, compute_signature, load_checkpoint, verify_lineage, write_checkpoint,
)
from evolm.errors import BadInput
from evolm.manifest import ModelRecord


def _files(content=b"weights"):
    def write(tmp):
        (tmp / "model.safetensors").write_bytes(content)
        (tmp / "config.json").write_text("{}")
    return write


def _chain(root):
    """A pretrain -> cpt -> sft -> rl chain like the paper's 1B-160BT-8+42BT-100Kep1-100Kep8."""
    pre = write_checkpoint(root / "pre", build_manifest("pretrain", {"preset": "1B", "tokens": 160 * 10**9}), _files())
    cpt = write_checkpoint(root / "cpt", build_manifest("cpt", {"replay_tokens": 8 * 10**9, "domain_tokens": 42 * 10**9}, parent=pre), _files())
    sft = write_checkpoint(root / "sft", build_manifest("sft", {"examples": 100_000, "epochs": 1}, parent=cpt), _files())
    rl = write_checkpoint(root / "rl", build_manifest("rl", {"examples": 100_000, "epochs": 8}, parent=sft), _files())
    return pre, cpt, sft, rl


def test_signature_follows_the_paper(tmp_path):
    pre, cpt, sft, rl = _chain(tmp_path)
    assert pre.signature == "1B-160BT"
    assert cpt.signature == "1B-160BT-8+42BT"
    assert rl.signature == "1B-160BT-8+42BT-100Kep1-100Kep8"
    loaded = load_checkpoint(tmp_path / "rl")
    assert loaded.signature == rl.signature
    assert [e.stage for e in loaded.lineage] == ["pretrain", "cpt", "sft", "rl"]
    assert loaded.manifest.parent.manifest_sha256 == sft.manifest_sha256


@pytest.mark.parametrize(
    "lineage, signature",
    [
        ([{"stage": "pretrain", "knobs": {"preset": "4M", "tokens": 2_000_000}}], "4M-2MT"),
        ([{"stage": "pretrain", "knobs": {"preset": "1B", "tokens": 160 * 10**9}},
          {"stage": "cpt", "knobs": {"replay_tokens": 1_600_000_000, "domain_tokens": 48_400_000_000}}], "1B-160BT-1.6+48.4BT"),
        ([{"stage": "pretrain", "knobs": {"preset": "1B", "tokens": 160 * 10**9}},
          {"stage": "cpt", "knobs": {"replay_tokens": 0, "domain_tokens": 50 * 10**9}},
          {"stage": "sft", "knobs": {"examples": 50_000, "epochs": 2}}], "1B-160BT-50BT-50Kep2"),
        ([{"stage": "pretrain", "knobs": {"preset": "1M", "tokens": 1_000_000}},
          {"stage": "cpt", "knobs": {"replay_tokens": 200_000, "domain_tokens": 800_000}}], "1M-1MT-0.2+0.8MT"),
    ],
)
def test_signature_formats(lineage, signature):
    assert compute_signature(lineage) == signature


def test_manifest_records_provenance(tmp_path):
    pre, *_ = _chain(tmp_path)
    manifest = json.loads((tmp_path / "pre" / "evolm.json").read_text())
    assert manifest["schema"] == "evolm.checkpoint" and manifest["schema_version"] == 2
    assert set(manifest["files"]) == {"model.safetensors", "config.json"}
    assert "evolm" in manifest["provenance"]["versions"] and "torch" in manifest["provenance"]["versions"]
    assert manifest["provenance"]["hardware"]["cpu_count"] >= 1


def test_the_commit_is_evolms_not_that_of_a_repository_it_is_installed_in(tmp_path):
    """evolm installed (untracked) inside a user's git project: that project's HEAD is not evolm's commit."""
    import shutil
    import subprocess
    import sys

    import evolm
    from evolm.provenance import git_commit

    here = git_commit()
    assert here is None or len(here.removesuffix("-dirty")) == 40  # this checkout's own commit, when it is one
    project = tmp_path / "project"
    shutil.copytree(Path(evolm.__file__).parent, project / "site" / "evolm", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "notes.txt").write_text("a user's project")
    for args in (["init", "-q"], ["add", "notes.txt"], ["-c", "user.name=u", "-c", "user.email=u@x", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)
    # -S: without site-packages, whose editable-install finder would import this checkout instead
    code = "import evolm; from evolm.provenance import git_commit; print(evolm.__file__, git_commit())"
    ran = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project / "site")})
    assert ran.stdout.split() == [str(project / "site" / "evolm" / "__init__.py"), "None"], ran.stdout


def test_dirty_means_the_code_changed_new_untracked_modules_included(tmp_path):
    """'-dirty' follows the package, its configs and pyproject.toml: a new module not yet added counts (it
    ran), an edited README does not."""
    import shutil
    import subprocess
    import sys

    import evolm

    project = tmp_path / "evolm-checkout"
    shutil.copytree(Path(evolm.__file__).parent, project / "evolm", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "README.md").write_text("docs")
    (project / ".gitignore").write_text("__pycache__/\n")
    git = ["git", "-C", str(project)]
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=u", "-c", "user.email=u@x", "commit", "-qm", "x"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    code = "from evolm.provenance import git_commit; print(git_commit())"

    def commit():
        return subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path,
                              env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project), "PYTHONDONTWRITEBYTECODE": "1"}).stdout.strip()

    (project / "README.md").write_text("docs, edited")
    assert len(commit()) == 40  # not dirty: no code changed
    (project / "evolm" / "new_module.py").write_text("X = 1\n")
    assert commit().endswith("-dirty")


def test_missing_or_altered_files_are_detected(tmp_path):
    _chain(tmp_path)
    (tmp_path / "pre" / "model.safetensors").write_bytes(b"weightz")  # same size, other content
    with pytest.raises(CheckpointError, match="altered file model.safetensors"):
        load_checkpoint(tmp_path / "pre")
    load_checkpoint(tmp_path / "pre", verify="size")  # the quick check only sees sizes
    (tmp_path / "cpt" / "config.json").unlink()
    with pytest.raises(CheckpointError, match="missing config.json"):
        load_checkpoint(tmp_path / "cpt")


def test_a_file_the_manifest_does_not_list_is_refused(tmp_path):
    """An added special_tokens_map.json changes the tokenizer transformers loads while every listed file
    is unchanged: it is refused as an edit is, with the quick check too."""
    _chain(tmp_path)
    (tmp_path / "sft" / "special_tokens_map.json").write_text('{"eos_token": "<|im_end|>"}')
    for verify in ("full", "size"):
        with pytest.raises(CheckpointError, match="holds special_tokens_map.json, which its manifest does not list"):
            load_checkpoint(tmp_path / "sft", verify=verify)
    load_checkpoint(tmp_path / "sft", verify="none")
    (tmp_path / "sft" / "special_tokens_map.json").unlink()
    (tmp_path / "sft" / ".notes").write_text("hidden files, like eval/ and state/, are the user's")
    load_checkpoint(tmp_path / "sft")


def test_weights_are_readable_as_the_umask_allows_not_owner_only(tmp_path):
    """safetensors writes its file owner-only (0600) whatever the umask: another user of a shared cluster
    could not load the checkpoint. Written files get the umask's permissions."""
    import os
    import stat

    import torch
    from safetensors.torch import save_file

    umask = os.umask(0o022)
    try:
        ckpt = write_checkpoint(tmp_path / "ck", build_manifest("pretrain", {"preset": "1M", "tokens": 1000}),
                                lambda tmp: save_file({"w": torch.zeros(2)}, str(tmp / "model.safetensors")))
    finally:
        os.umask(umask)
    assert stat.S_IMODE((ckpt.path / "model.safetensors").stat().st_mode) == 0o644
    assert stat.S_IMODE((ckpt.path / "evolm.json").stat().st_mode) == 0o644


def test_eval_and_state_folders_are_not_hashed(tmp_path):
    _chain(tmp_path)
    (tmp_path / "sft" / "eval").mkdir()
    (tmp_path / "sft" / "eval" / "results.json").write_text("{}")
    load_checkpoint(tmp_path / "sft")


def test_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope")
    (tmp_path / "hf").mkdir()
    with pytest.raises(CheckpointError, match="no evolm.json"):
        load_checkpoint(tmp_path / "hf")
    assert issubclass(CheckpointError, BadInput)


def test_tampered_signature_is_detected(tmp_path):
    _chain(tmp_path)
    path = tmp_path / "sft" / "evolm.json"
    manifest = json.loads(path.read_text())
    manifest["signature"] = "1B-999BT"
    path.write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="does not match its lineage"):
        load_checkpoint(tmp_path / "sft")


@pytest.mark.parametrize("edit", ["stage", "knobs"])
def test_a_lineage_this_evolm_cannot_read_is_a_checkpoint_error(tmp_path, edit):
    """A manifest from a newer evolm (a stage this one lacks) or one edited by hand: one sentence and
    exit 2 through every command that loads it, not a raw KeyError (exit 1)."""
    _chain(tmp_path)
    path = tmp_path / "sft" / "evolm.json"
    manifest = json.loads(path.read_text())
    if edit == "stage":
        manifest["lineage"][-1]["stage"] = manifest["stage"] = "dpo"
    else:
        del manifest["lineage"][0]["knobs"]["tokens"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="has a lineage this evolm cannot read .* written by a newer evolm, or edited"):
        load_checkpoint(tmp_path / "sft")


def test_a_failed_rename_leaves_no_hidden_folder(tmp_path, monkeypatch):
    from evolm import fsutil

    def refuse(new, out):
        raise OSError("device busy")

    monkeypatch.setattr(fsutil, "replace_dir", refuse)
    with pytest.raises(OSError):
        write_checkpoint(tmp_path / "ck", build_manifest("pretrain", {"preset": "1M", "tokens": 10}), _files())
    assert list(tmp_path.iterdir()) == []


def test_an_edited_manifest_is_detected(tmp_path):
    """No file hash covers the manifest itself: its own content hash does (a seed or date edited by
    hand would otherwise be taken as the record of how the checkpoint was made)."""
    _chain(tmp_path)
    path = tmp_path / "pre" / "evolm.json"
    manifest = json.loads(path.read_text())
    assert len(manifest["content_sha256"]) == 64
    manifest["provenance"]["created"] = "2020-01-01T00:00:00+00:00"
    path.write_text(json.dumps(manifest))
    for verify in ("full", "size", "none"):
        with pytest.raises(CheckpointError, match="was edited after the checkpoint was written"):
            load_checkpoint(tmp_path / "pre", verify=verify)
    del manifest["content_sha256"]  # written before the content hash existed: taken as it is
    path.write_text(json.dumps(manifest))
    assert load_checkpoint(tmp_path / "pre").manifest.provenance.created.startswith("2020")


def test_lineage_walk_detects_a_changed_parent(tmp_path):
    pre, cpt, sft, rl = _chain(tmp_path)
    assert [a["status"] for a in verify_lineage(rl)] == ["ok", "ok", "ok"]
    write_checkpoint(tmp_path / "cpt", build_manifest("cpt", {"replay_tokens": 0, "domain_tokens": 42 * 10**9}, parent=pre),
                     _files(), overwrite=True)
    with pytest.raises(CheckpointError, match="has changed"):
        verify_lineage(load_checkpoint(tmp_path / "rl"))


def test_parent_and_lineage_paths_are_absolute_whatever_folder_the_run_started_in(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pre = write_checkpoint(Path("runs/pre"), build_manifest("pretrain", {"preset": "1B", "tokens": 10**9}), _files())
    sft = write_checkpoint(Path("runs/sft"), build_manifest("sft", {"examples": 10, "epochs": 1}, parent=pre), _files())
    manifest = load_checkpoint(tmp_path / "runs" / "sft").manifest
    assert manifest.parent.path == str(tmp_path / "runs" / "pre") == manifest.lineage[0].path
    monkeypatch.chdir("/")
    assert [a["status"] for a in verify_lineage(load_checkpoint(tmp_path / "runs" / "sft"))] == ["ok"]
    assert sft.manifest.parent.manifest_sha256 == pre.manifest_sha256


def test_writing_is_atomic(tmp_path):
    def crash(tmp):
        (tmp / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_checkpoint(tmp_path / "ck", build_manifest("pretrain", {"preset": "1M", "tokens": 10}), crash)
    assert list(tmp_path.iterdir()) == []


def test_a_killed_writers_hidden_folders_go_when_the_output_is_written_again_by_its_holder(tmp_path):
    """`kill -9` while a checkpoint's weights were written leaves `.OUT.tmp-*` (and while an overwrite
    swapped folders, `.OUT.old-*`): the next write of OUT by a process that holds it (every training
    stage) removes them; other names, and a write without the hold, keep theirs."""
    from evolm.fsutil import hold_output, release_output

    out = tmp_path / "ck"
    stale = [tmp_path / ".ck.tmp-0a1b2c3d", tmp_path / ".ck.old-deadbeef"]
    kept = [tmp_path / ".ck.tmp-notmine", tmp_path / ".ck2.tmp-0a1b2c3d", tmp_path / "ck.tmp-0a1b2c3d"]
    for folder in stale + kept:
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"half")
    write_checkpoint(out, build_manifest("pretrain", {"preset": "1M", "tokens": 10}), _files())
    assert all(folder.is_dir() for folder in stale + kept)  # not held: another process may be writing them
    hold_output(out)
    try:
        write_checkpoint(out, build_manifest("pretrain", {"preset": "1M", "tokens": 20}), _files(), overwrite=True)
    finally:
        release_output(out)
    assert not any(folder.exists() for folder in stale) and all(folder.is_dir() for folder in kept)
    assert load_checkpoint(out).manifest.knobs["tokens"] == 20


def test_the_files_reach_the_disk_before_the_folder_is_renamed_and_the_rename_after(tmp_path, monkeypatch):
    """safetensors does not fsync: without it, a crash just after the rename could leave a
    complete-looking checkpoint of empty weights."""
    import os

    from evolm import fsutil

    events, fsync, replace = [], os.fsync, fsutil.replace_dir

    def recording_fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(fsutil, "replace_dir", lambda new, out: (events.append(("rename", str(out))), replace(new, out)))
    write_checkpoint(tmp_path / "ck", build_manifest("pretrain", {"preset": "1M", "tokens": 10}), _files())
    rename = events.index(("rename", str(tmp_path / "ck")))
    before = {Path(path).name for kind, path in events[:rename] if kind == "fsync"}
    assert {"model.safetensors", "config.json", "evolm.json"} <= before
    assert ("fsync", str(tmp_path)) in events[rename:]


def test_existing_checkpoint_needs_overwrite(tmp_path):
    manifest = build_manifest("pretrain", {"preset": "1M", "tokens": 10})
    write_checkpoint(tmp_path / "ck", manifest, _files(b"first"))
    with pytest.raises(BadInput, match="--overwrite"):
        write_checkpoint(tmp_path / "ck", manifest, _files(b"second"))
    assert (tmp_path / "ck" / "model.safetensors").read_bytes() == b"first"

    def crash(tmp):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_checkpoint(tmp_path / "ck", manifest, crash, overwrite=True)
    assert (tmp_path / "ck" / "model.safetensors").read_bytes() == b"first"
    write_checkpoint(tmp_path / "ck", manifest, _files(b"second"), overwrite=True)
    assert (tmp_path / "ck" / "model.safetensors").read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]


def test_a_real_model_checkpoint_loads_with_transformers(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from evolm.presets import PRESETS

    model = AutoModelForCausalLM.from_config(PRESETS["1M"].hf_config(vocab=512, eos_token_id=0))
    manifest = build_manifest("pretrain", {"preset": "1M", "tokens": 1000}, model=ModelRecord("1M", PRESETS["1M"].params(512)))
    ckpt = write_checkpoint(tmp_path / "ck", manifest, lambda tmp: model.save_pretrained(tmp))
    assert load_checkpoint(ckpt.path).manifest.model.preset == "1M"
    loaded = AutoModelForCausalLM.from_pretrained(ckpt.path)
    ids = torch.tensor([[1, 2, 3]])
    assert torch.equal(loaded(ids).logits, model(ids).logits)

