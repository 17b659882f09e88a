"""`evolm eval` trusts only verified files, never replaces results silently, resumes to the same bytes,
and keeps stdout for its result (issue 13: items 1, 6, 7 and 10)."""

import hashlib
import json
import shutil

import pytest

TINY = ("--suite", "SynthMathLevel1", "--limit", "3", "--max-new-tokens", "8")


def _snapshot(root):
    """Every file under root with its bytes: the state of the disk to compare before and after."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def copy_of(sft_model, tmp_path):
    """A private copy of the SFT checkpoint (without results), to alter."""
    def make(name="copy"):
        target = tmp_path / name
        shutil.copytree(sft_model, target, ignore=shutil.ignore_patterns("eval"))
        return target

    return make


def _flip_low_bit(path, offset=-100):
    data = bytearray(path.read_bytes())
    data[offset] ^= 1
    path.write_bytes(bytes(data))


def _edit_template(path):
    text = path.read_text()
    i = text.index("Assistant")
    path.write_text(text[:i] + "B" + text[i + 1:])  # one character, same size


def _edit_manifest(key):
    def edit(path):
        manifest = json.loads(path.read_text())
        if key == "seed":
            manifest["seed"] = (manifest.get("seed") or 0) + 1
        else:
            manifest["provenance"]["created"] = "2020-01-01T00:00:00+00:00"
        path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    return edit


@pytest.mark.parametrize("name, alter, message", [
    ("model.safetensors", _flip_low_bit, "altered file model.safetensors"),
    ("chat_template.jinja", _edit_template, "altered file chat_template.jinja"),
    ("evolm.json", _edit_manifest("seed"), "was edited after the checkpoint was written"),
    ("evolm.json", _edit_manifest("created"), "was edited after the checkpoint was written"),
])
def test_eval_refuses_an_altered_checkpoint_before_writing_anything(copy_of, synth_tiny, tmp_path, cli, name, alter, message):
    ckpt = copy_of()
    size = (ckpt / name).stat().st_size
    alter(ckpt / name)
    if name != "evolm.json":
        assert (ckpt / name).stat().st_size == size  # only a hash can tell
    before = _snapshot(ckpt)
    for out in ((), ("--out", tmp_path / "out")):
        result = cli("eval", ckpt, *TINY, "--samples", "0", "--benchmarks", synth_tiny, *out)
        assert result.code == 2 and message in result.err, result
        assert "Traceback" not in result.err and result.err.strip().count("\n") == 0
    assert _snapshot(ckpt) == before and not (ckpt / "eval").exists() and not (tmp_path / "out").exists()


def test_cpt_refuses_a_parent_whose_manifest_was_edited(base, shards, tmp_path, cli):
    parent = tmp_path / "base"
    shutil.copytree(base, parent)
    _edit_manifest("seed")(parent / "evolm.json")
    before = _snapshot(tmp_path)
    result = cli("cpt", parent, "--domain", f"{shards / 'math'}:4K", "--out", tmp_path / "cpt")
    assert result.code == 2 and "was edited after the checkpoint was written" in result.err, result
    assert _snapshot(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["base"]


def test_other_settings_never_replace_results_silently(copy_of, synth_tiny, cli, count_generated):
    ckpt = copy_of()
    eval_dir = ckpt / "eval"
    first = cli("eval", ckpt, *TINY, "--samples", "2", "--benchmarks", synth_tiny)
    assert first.code == 0, first.err
    before = _snapshot(eval_dir)
    count_generated.clear()

    refused = cli("eval", ckpt, *TINY, "--samples", "4", "--benchmarks", synth_tiny)
    assert refused.code == 2 and "SynthMathLevel1.json holds SynthMathLevel1 results of other settings" in refused.err
    assert "decoding.samples 2, now 4" in refused.err and "--overwrite" in refused.err
    assert refused.err.strip().count("\n") == 0 and count_generated == [] and _snapshot(eval_dir) == before
    more = cli("eval", ckpt, *TINY[:2], "--limit", "5", *TINY[4:], "--samples", "2", "--benchmarks", synth_tiny)
    assert more.code == 2 and "limit 3, now 5" in more.err and _snapshot(eval_dir) == before

    # the records of an interrupted run of other settings are refused the same way
    (eval_dir / "SynthMathLevel1.json").unlink()
    interrupted = _snapshot(eval_dir)
    refused = cli("eval", ckpt, *TINY, "--samples", "4", "--benchmarks", synth_tiny)
    assert refused.code == 2 and "holds samples of an interrupted SynthMathLevel1 evaluation" in refused.err
    assert _snapshot(eval_dir) == interrupted and count_generated == []

    replaced = cli("eval", ckpt, *TINY, "--samples", "4", "--benchmarks", synth_tiny, "--overwrite")
    assert replaced.code == 0, replaced.err
    assert json.loads((eval_dir / "SynthMathLevel1.json").read_text())["identity"]["decoding"]["samples"] == 4
    records = [json.loads(line) for line in (eval_dir / "SynthMathLevel1.samples.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(len(r["completions"]) == 5 for r in records)


def test_a_moved_checkpoint_keeps_its_results(copy_of, synth_tiny, cli, count_generated, tmp_path):
    ckpt = copy_of()
    assert cli("eval", ckpt, *TINY, "--samples", "2", "--benchmarks", synth_tiny).code == 0
    moved = tmp_path / "elsewhere" / "renamed"
    moved.parent.mkdir()
    shutil.move(ckpt, moved)
    before = _snapshot(moved / "eval")
    count_generated.clear()
    again = cli("eval", moved, *TINY, "--samples", "2", "--benchmarks", synth_tiny)
    assert again.code == 0, again.err
    assert "reusing the finished result" in again.err and count_generated == []
    assert {k: v for k, v in _snapshot(moved / "eval").items() if not k.startswith("suite-")} == {
        k: v for k, v in before.items() if not k.startswith("suite-")}


def test_an_evaluation_interrupted_under_the_earlier_hash_resumes_from_its_records(copy_of, synth_tiny, cli):
    from evolm.eval.identity import legacy_run_hash

    ckpt = copy_of()
    assert cli("eval", ckpt, *TINY, "--samples", "2", "--benchmarks", synth_tiny).code == 0
    result = ckpt / "eval" / "SynthMathLevel1.json"
    samples = ckpt / "eval" / "SynthMathLevel1.samples.jsonl"
    old = legacy_run_hash(json.loads(result.read_text())["identity"])  # as an earlier evolm hashed it (with paths)
    records = [json.loads(line) for line in samples.read_text().splitlines()]
    samples.write_text("".join(json.dumps({**r, "run": old}) + "\n" for r in records[:2]))  # two of three done
    result.unlink()
    resumed = cli("eval", ckpt, *TINY, "--samples", "2", "--benchmarks", synth_tiny)
    assert resumed.code == 0, resumed.err
    assert "resuming, 2 of 3 problems already done" in resumed.err
    runs = {json.loads(line)["run"] for line in samples.read_text().splitlines()}
    assert runs == {json.loads(result.read_text())["run"]} != {old}


def test_results_hashed_with_their_paths_by_earlier_versions_are_still_recognised():
    from evolm.eval.identity import run_hash, same_run
    from evolm.fsutil import canonical_json

    def legacy(identity):  # the hash as it was: locations included
        return hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:16]

    model = {"kind": "evolm", "path": "/old/place", "manifest_sha256": "ab", "signature": "1M-1MT", "stage": "pretrain"}
    old = {"model": model, "tasks": {"SynthClozeText": "f00"}, "limit": None, "num_fewshot": 0,
           "val": {"shards": "/old/shards", "seq_len": 256, "tokens": 4096}}
    now = {**old, "model": {**model, "path": "/new/place"},
           "val": {"shards": "/new/shards", "fingerprint": "fp1", "seq_len": 256, "tokens": 4096}}
    result = {"run": legacy(old), "identity": old, "val": {"fingerprint": "fp1", "loss": 3.2}}
    assert same_run(result, run_hash(now))
    assert not same_run({**result, "val": {"fingerprint": "fp2"}}, run_hash(now))  # other validation data
    assert not same_run(result, run_hash({**now, "limit": 100}))


def test_a_resume_after_a_torn_line_writes_the_bytes_of_an_uninterrupted_run(sft_model, synth_tiny, tmp_path, cli,
                                                                             count_generated):
    # --batch-size 4 with greedy + 2 samples: chunks of 4 problems, two sampled batches per chunk
    args = ("--suite", "SynthMathLevel1", "--samples", "2", "--limit", "10", "--max-new-tokens", "16", "--batch-size", "4",
            "--benchmarks", synth_tiny)
    whole = cli("eval", sft_model, *args, "--out", tmp_path / "whole")
    assert whole.code == 0, whole.err
    expected = (tmp_path / "whole" / "SynthMathLevel1.samples.jsonl").read_bytes()
    lines = expected.splitlines(keepends=True)
    assert len(lines) == 10

    # killed while writing the second chunk: 5 records whole, the 6th cut in the middle
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    torn = b"".join(lines[:5]) + lines[5][: len(lines[5]) // 2]
    (resumed / "SynthMathLevel1.samples.jsonl").write_bytes(torn)
    count_generated.clear()
    result = cli("eval", sft_model, *args, "--out", resumed)
    assert result.code == 0 and "resuming, 5 of 10 problems already done" in result.err, result.err
    assert len(count_generated) == 6  # the cut chunk (4 problems) whole, then the last one (2)
    assert (resumed / "SynthMathLevel1.samples.jsonl").read_bytes() == expected
    metrics = [json.loads((d / "SynthMathLevel1.json").read_text())["metrics"] for d in (tmp_path / "whole", resumed)]
    assert metrics[0] == metrics[1]
