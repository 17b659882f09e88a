"""Paths a user can get wrong: one sentence and exit 2, nothing written (issue 13, item 11)."""

import json
import os

import pytest


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs a /proc file system")
def test_an_output_under_proc_is_refused_with_one_sentence(tmp_path, cli):
    result = cli("data", "synth", "--out", "/proc/evolm-synth-test", "--scale", "tiny")
    assert result.code == 2 and result.err.startswith("error: Cannot create /proc/evolm-synth-test:"), result.err
    assert "Traceback" not in result.err and not os.path.exists("/proc/evolm-synth-test")


def test_a_pool_folder_names_the_files_inside(tmp_path, cli, synth_tiny):
    folder = synth_tiny / "pool"
    out = tmp_path / "split"
    result = cli("data", "split", folder, "--sft", "10", "--rl", "10", "--out", out)
    assert result.code == 2 and f"Pool {folder} is a folder; give the pool's .jsonl or .parquet file ({folder / 'mathpool.jsonl'})" in result.err
    assert not out.exists()


def test_val_data_of_another_tokenizer_leaves_no_output_folder(tmp_path, cli, base, synth_tiny):
    from evolm.stages.data.prepare import prepare
    from evolm.stages.data.tokenizer import make_tokenizer
    from evolm.textsource import resolve_source

    other = tmp_path / "tok512"
    make_tokenizer(other, sources=[str(synth_tiny / "text" / "general.jsonl")], vocab_size=512, adopt=None)
    prepare(resolve_source(synth_tiny / "text" / "general.jsonl"), other, tmp_path / "shards512")
    out = tmp_path / "eval-out"
    result = cli("eval", base, "--suite", "upstream", "--benchmarks", synth_tiny, "--val-data", tmp_path / "shards512",
                 "--out", out)
    assert result.code == 2 and "was tokenized with another tokenizer than" in result.err, result.err
    assert not out.exists()
    # a plain Hugging Face folder (the same model, no evolm manifest): its tokenizer.json is compared instead
    import shutil

    hf = tmp_path / "hf"
    shutil.copytree(base, hf, ignore=shutil.ignore_patterns("evolm.json", "eval"))
    result = cli("eval", hf, "--suite", "upstream", "--benchmarks", synth_tiny, "--val-data", tmp_path / "shards512", "--out", out)
    assert result.code == 2 and f"was tokenized with another tokenizer than {hf}" in result.err, result.err
    assert not out.exists()


def test_a_hub_model_offline_is_refused_at_once(tmp_path, cli, monkeypatch):
    import time

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "hub-eval"
    started = time.monotonic()
    result = cli("eval", "evolm-tests/no-such-model", "--suite", "upstream", "--limit", "5", "--out", out)
    assert result.code == 2 and "evolm-tests/no-such-model is not in the local Hugging Face cache" in result.err, result.err
    assert time.monotonic() - started < 30 and not out.exists()  # no retries against an unreachable hub


def test_an_output_that_is_the_runs_own_input_is_refused_and_the_input_kept(tmp_path, cli, base, shards, synth_tiny):
    """`--out` naming the parent, shards the run reads, or a folder holding or inside one: with --overwrite,
    the final rename over OUT would have deleted what the run read (the parent replaced by its child)."""
    import shutil

    from evolm.fsutil import sha256_file

    def fingerprint(folder):
        return sorted((str(p.relative_to(folder)), sha256_file(p)) for p in folder.rglob("*") if p.is_file())

    # copies: were the refusal gone, these runs would replace what they name
    base, shards = shutil.copytree(base, tmp_path / "runs" / "base"), shutil.copytree(shards, tmp_path / "shards")
    pool = tmp_path / "data" / "pool.jsonl"
    pool.parent.mkdir()
    shutil.copy(next((synth_tiny / "pool").glob("*.jsonl")), pool)
    kept = {path: fingerprint(path) for path in (base, shards, pool.parent)}
    domain = f"{shards}:4K"
    refused = {
        "parent": ("cpt", base, "--domain", domain, "--out", base, "the parent"),
        "shards": ("cpt", base, "--domain", domain, "--out", shards, "the domain shards 1"),
        "holds the parent": ("cpt", base, "--domain", domain, "--out", base.parent, "the parent"),
        "inside the parent": ("cpt", base, "--domain", domain, "--out", base / "child", "the parent"),
        "pre-training data": ("pretrain", "--model", "1M", "--tokens", "4K", "--data", shards, "--out", shards, "the shards"),
        "sft data": ("sft", base, "--data", pool, "--examples", "4", "--out", pool.parent, "the data"),
    }
    for label, (*args, what) in refused.items():
        result = cli(*args, "--overwrite")
        assert result.code == 2 and "which this command reads; write to another folder" in result.err and what in result.err, (label, result.err)
        assert len(result.err.strip().splitlines()) == 1, (label, result.err)
    assert {path: fingerprint(path) for path in kept} == kept and not (base / "child").exists()


def test_a_mistyped_local_path_is_not_taken_for_a_hub_name(tmp_path, cli, monkeypatch, synth_tiny):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    result = cli("eval", "runs/sft-1M", "--suite", "synth-id", "--benchmarks", synth_tiny, "--out", tmp_path / "out")
    assert result.code == 2 and "Model runs/sft-1M does not exist: runs is a local folder without sft-1M." in result.err
    assert not (tmp_path / "out").exists()


def test_a_hub_models_identity_holds_the_commit_it_resolves_to(monkeypatch, tmp_path):
    """New weights pushed under a hub name are another model: its evaluations are not reused for them."""
    import types

    import huggingface_hub

    from evolm.errors import BadInput
    from evolm.eval import identity

    monkeypatch.chdir(tmp_path)
    asked = []
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info",
                        lambda self, name, timeout=None: asked.append(timeout) or types.SimpleNamespace(sha="abc123"))
    assert identity.model_identity("org/model") == {"kind": "hub", "name": "org/model", "commit": "abc123"}
    assert asked == [huggingface_hub.constants.HF_HUB_ETAG_TIMEOUT]  # a network that drops packets: seconds, not minutes

    def offline(self, name, timeout=None):
        raise huggingface_hub.errors.OfflineModeIsEnabled("offline")

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", offline)
    cached = f"{tmp_path}/hub/models--org--model/snapshots/deadbeef/config.json"
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda name, filename: cached)
    assert identity.model_identity("org/model")["commit"] == "deadbeef"  # offline: the cached copy's
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda name, filename: None)
    assert identity.model_identity("org/model") == {"kind": "hub", "name": "org/model"}
    (tmp_path / "org").mkdir()  # a local folder named as the organisation (results written to org/res)
    with pytest.raises(BadInput, match="org is a local folder without model"):  # a name the hub does not resolve
        identity.model_identity("org/model")
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda name, filename: cached)
    assert identity.model_identity("org/model")["commit"] == "deadbeef"  # one it does: the hub's model
    assert identity.run_hash({"model": identity.model_identity("org/model")}) != identity.run_hash(
        {"model": {"kind": "hub", "name": "org/model", "commit": "abc123"}})


def test_a_hub_model_is_evaluated_at_the_commit_its_identity_records(monkeypatch, tmp_path, cli, sft_model, synth_tiny):
    """The hub resolved the name to one commit, and by the time the model loads its main has moved on: the
    tokenizer, the generating model and lm-eval's copy must all read the recorded commit, or the results
    would name weights they were not made with. Here main is a broken snapshot, so any loader that reads
    main fails the evaluation."""
    import shutil
    import types

    import huggingface_hub

    recorded, pushed = "a" * 40, "b" * 40
    repo = tmp_path / "hub" / "models--org--model"
    shutil.copytree(sft_model, repo / "snapshots" / recorded, ignore=shutil.ignore_patterns("evolm.json", "eval", "state"))
    (repo / "snapshots" / pushed).mkdir(parents=True)
    (repo / "snapshots" / pushed / "config.json").write_text("{ not json")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(pushed)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda self, name, timeout=None: types.SimpleNamespace(sha=recorded))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "results"
    result = cli("eval", "org/model", "--suite", "SynthMathLevel1,SynthClozeFacts", "--benchmarks", synth_tiny,
                 "--limit", "4", "--samples", "0", "--max-new-tokens", "8", "--out", out, "--json")
    assert result.code == 0, result.err
    for name in ("SynthMathLevel1", "upstream"):
        made = json.loads((out / f"{name}.json").read_text())
        assert made["identity"]["model"] == {"kind": "hub", "name": "org/model", "commit": recorded}
    assert json.loads((out / "upstream.json").read_text())["lm_eval"]["configs"]  # lm-eval scored it, at the commit
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda self, name, timeout=None: types.SimpleNamespace(sha=pushed))
    broken = cli("eval", "org/model", "--suite", "SynthMathLevel1", "--benchmarks", synth_tiny, "--limit", "4",
                 "--samples", "0", "--out", tmp_path / "other")
    # the check before any work reads that commit too, and says what is wrong with it
    assert broken.code == 2 and f"Cannot load model org/model at {pushed[:12]}" in broken.err and "JSON" in broken.err, broken.err


def test_overwrite_replaces_only_an_earlier_output_of_its_kind(tmp_path, cli, base, shards, synth_tiny, monkeypatch):
    """`--overwrite` replaced any folder: `--out runs` deleted every checkpoint under runs/, `--out ~/thesis`
    a user's files, `evolm data split pool/pool.jsonl --out pool` the pool it read."""
    import shutil

    pool = tmp_path / "pool" / "pool.jsonl"
    pool.parent.mkdir()
    shutil.copy(next((synth_tiny / "pool").glob("*.jsonl")), pool)
    runs = tmp_path / "runs"
    shutil.copytree(base, runs / "base")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    refused = {
        "the split's own pool": (("data", "split", pool, "--sft", "5", "--rl", "5", "--out", pool.parent),
                                 f"--out {pool.parent} would replace the pool {pool}"),
        "a folder of checkpoints": (("pretrain", "--model", "1M", "--tokens", "4K", "--data", shards, "--out", runs),
                                    f"--out {runs} is not an earlier evolm checkpoint (it has no evolm.json)"),
        "a user's folder": (("data", "synth", "--scale", "tiny", "--out", mine),
                            f"--out {mine} is not an earlier synthetic data folder from `evolm data synth`"),
        "a checkpoint, as a tokenizer": (("data", "tokenizer", synth_tiny / "text" / "general.jsonl", "--vocab-size", "300",
                                          "--out", runs / "base"), "is not an earlier tokenizer from `evolm data tokenizer`"),
    }
    for label, (args, message) in refused.items():
        result = cli(*args, "--overwrite")
        assert result.code == 2 and message in result.err and len(result.err.strip().splitlines()) == 1, (label, result.err)
    assert pool.is_file() and (runs / "base" / "evolm.json").is_file() and (mine / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "pool", "runs"]  # nothing half-written beside them

    monkeypatch.chdir(mine)
    result = cli("data", "synth", "--scale", "tiny", "--out", ".", "--overwrite")
    assert result.code == 2 and "--out . names no new folder" in result.err and (mine / "thesis.tex").is_file()
    # an earlier output of the same kind, or an empty folder, is replaced as before
    (tmp_path / "empty").mkdir()
    assert cli("data", "split", pool, "--sft", "5", "--rl", "5", "--out", tmp_path / "empty", "--overwrite").code == 0
    assert cli("data", "split", pool, "--sft", "4", "--rl", "4", "--out", tmp_path / "empty", "--overwrite").code == 0
    assert (tmp_path / "empty" / "split.json").is_file()


def test_a_second_run_writing_the_same_output_is_refused_while_the_first_runs(tmp_path, cli, shards):
    """Two runs with one --out (two terminals, a requeue script) trained into one OUT.partial and the last
    replaced the other's checkpoint. The other run is stood in for by a lock held on another open file."""
    import fcntl
    import shutil

    args = ("pretrain", "--model", "1M", "--tokens", "4K", "--data", shards / "general", "--seq-len", "64",
            "--global-batch", "8", "--out", tmp_path / "pt")
    with open(tmp_path / ".pt.lock", "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        busy = cli(*args)
        assert busy.code == 2 and f"Another evolm run is writing {tmp_path / 'pt'}" in busy.err, busy.err
        assert not (tmp_path / "pt").exists() and not (tmp_path / "pt.partial").exists()
        (tmp_path / "pt.partial").mkdir()  # the other run's folder: an --overwrite or --resume leaves it as it is
        (tmp_path / "pt.partial" / "run.json").write_text("{}")
        for flag in ("--overwrite", "--resume"):
            busy = cli(*args, flag)
            assert busy.code == 2 and "Another evolm run is writing" in busy.err, busy.err
            assert (tmp_path / "pt.partial" / "run.json").read_text() == "{}"
    shutil.rmtree(tmp_path / "pt.partial")
    assert cli(*args).code == 0 and not (tmp_path / ".pt.lock").exists()  # let go of, and removed, once written
    assert cli(*args, "--overwrite", "--seq-len", "4096").code == 2  # refused before it takes OUT: nothing left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pt"]


def test_a_stage_that_fails_in_python_lets_go_of_its_output(tmp_path, shards):
    """A stage's `run` called from Python that failed kept its hold on OUT until the process exited, so
    another process resuming the run (the CLI in a terminal beside a notebook) was refused as a second
    writer. The other process is stood in for by a lock taken on another open file."""
    import fcntl

    from evolm.errors import BadInput
    from evolm.stages import pretrain

    (tmp_path / "pt.partial").mkdir()  # an interrupted run: without --resume the stage refuses, after taking OUT
    (tmp_path / "pt.partial" / "run.json").write_text("{}")
    with pytest.raises(BadInput, match="An interrupted run exists"):
        pretrain.run(model="1M", tokens=4096, data=shards / "general", out=tmp_path / "pt")
    with open(tmp_path / ".pt.lock", "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError while the failed run holds it
    assert (tmp_path / "pt.partial" / "run.json").read_text() == "{}"
    from evolm.stages import cpt, rl, rm, sft

    # the other stages that take OUT go through the same wrapper (the data preparation releases in its own `finally`)
    assert all(getattr(stage.run, "__wrapped__", None) for stage in (cpt, sft, rl, rm))


def test_validation_windows_of_another_projects_model_fit_its_position_table(tmp_path, base, shards):
    """A Hugging Face model with fewer positions than evolm's default 2,048-token windows (GPT-2 has
    1,024) failed in its position lookup, after lm-eval had run: its windows are its positions long."""
    import json
    import shutil

    from evolm.eval.run import EvalOptions, _val_shards

    hf = tmp_path / "hf"
    shutil.copytree(base, hf, ignore=shutil.ignore_patterns("evolm.json", "eval"))
    config = json.loads((hf / "config.json").read_text())
    config["max_position_embeddings"] = 64
    (hf / "config.json").write_text(json.dumps(config))
    general = shards / "general"
    found, seq_len = _val_shards(str(hf), {"kind": "hf"}, EvalOptions(suite="upstream", val_data=general))
    assert (found, seq_len) == (general, 64)
    config["max_position_embeddings"] = 8192  # more positions than the default windows: those
    (hf / "config.json").write_text(json.dumps(config))
    assert _val_shards(str(hf), {"kind": "hf"}, EvalOptions(suite="upstream", val_data=general))[1] == 2048
