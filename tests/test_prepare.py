"""`evolm data tokenizer` + `evolm data prepare` on the synthetic general text."""

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from transformers import AutoTokenizer

from evolm.errors import BadInput
from evolm.shards import TokenShards


def _docs(path):
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def general(synth_tiny):
    return synth_tiny / "text" / "general.jsonl"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, general, tiny_tokenizer):
    from evolm.stages.data.prepare import prepare
    from evolm.textsource import resolve_source

    out = tmp_path_factory.mktemp("shards") / "general"
    prepare(resolve_source(general), tiny_tokenizer, out)
    return out


def test_tokenizer_directory_is_standard(tiny_tokenizer, cli, tmp_path):
    tok = AutoTokenizer.from_pretrained(tiny_tokenizer)
    assert tok.eos_token == "<|endoftext|>" and tok.eos_token_id is not None
    assert len(tok) == 1024
    assert tok.decode(tok.encode("The river flows.", add_special_tokens=False)) == "The river flows."


def test_token_count_is_encoded_lengths_plus_one_eos_each(prepared, general, tiny_tokenizer):
    tok = AutoTokenizer.from_pretrained(tiny_tokenizer)
    docs = _docs(general)
    shards = TokenShards(prepared)
    expected = sum(len(tok.encode(d, add_special_tokens=False)) + 1 for d in docs)
    splits = shards.manifest["splits"]
    assert splits["train"]["tokens"] + splits["val"]["tokens"] == expected
    assert splits["train"]["documents"] + splits["val"]["documents"] == len(docs)
    assert splits["val"]["documents"] == len(range(0, len(docs), 100))  # every 100th document
    train = shards.split("train")
    assert len(train) == splits["train"]["tokens"]
    eos_positions = np.flatnonzero(train.window(0, len(train)) == shards.eos_id)
    assert len(eos_positions) == splits["train"]["documents"]  # one EOS per document, no BOS


def test_special_tokens_written_in_a_document_are_text(tiny_tokenizer, tmp_path):
    """`<|endoftext|>` written inside a document (a page about tokenizers, or `</s>` in HTML for a Llama
    tokenizer) is text, not an EOS: each document ends in the one EOS appended by id."""
    from evolm.stages.data.prepare import prepare
    from evolm.textsource import resolve_source

    docs = [f"document {i} explains that <|endoftext|> ends a text, and more words follow it." for i in range(6)]
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
    prepare(resolve_source(tmp_path / "docs.jsonl"), tiny_tokenizer, tmp_path / "shards", val_fraction=0.5)
    shards = TokenShards(tmp_path / "shards")
    for split in ("train", "val"):
        tokens = shards.split(split).window(0, len(shards.split(split)))
        assert np.count_nonzero(tokens == shards.eos_id) == shards.manifest["splits"][split]["documents"] == 3


def test_decoding_a_window_returns_the_original_text(prepared, general, tiny_tokenizer):
    tok = AutoTokenizer.from_pretrained(tiny_tokenizer)
    docs = _docs(general)
    train_docs = [d for i, d in enumerate(docs) if i % 100 != 0]
    shards = TokenShards(prepared)
    train = shards.split("train")
    first_len = len(tok.encode(train_docs[0], add_special_tokens=False)) + 1
    second_len = len(tok.encode(train_docs[1], add_special_tokens=False)) + 1
    window = train.window(0, first_len + second_len)
    assert tok.decode(window) == train_docs[0] + tok.eos_token + train_docs[1] + tok.eos_token
    val = shards.split("val")
    assert tok.decode(val.window(0, len(tok.encode(docs[0], add_special_tokens=False)))) == docs[0]


def test_parquet_source_gives_the_same_shards(prepared, general, tiny_tokenizer, tmp_path, cli):
    docs = _docs(general)
    pq.write_table(pa.table({"text": docs, "url": ["u"] * len(docs)}), tmp_path / "general.parquet", row_group_size=300)
    result = cli("data", "prepare", tmp_path / "general.parquet", "--tokenizer", tiny_tokenizer, "--out", tmp_path / "pq", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["fingerprint"] == TokenShards(prepared).fingerprint


def test_max_tokens_takes_an_exact_prefix(general, tiny_tokenizer, tmp_path, cli):
    result = cli("data", "prepare", general, "--tokenizer", tiny_tokenizer, "--out", tmp_path / "cap", "--max-tokens", "20K", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["train_tokens"] == 20_000
    assert len(TokenShards(tmp_path / "cap").split("train")) == 20_000


def test_max_tokens_holds_out_the_validation_documents_among_those_read(general, tiny_tokenizer, tmp_path):
    """The validation split is every 10th document of those read up to the cap, whatever the batch:
    it held every 10th document of the whole batch of 512 the cap fell in (52 for 119 training)."""
    from evolm.stages.data.prepare import prepare
    from evolm.textsource import resolve_source

    manifest = prepare(resolve_source(general), tiny_tokenizer, tmp_path / "capped", max_tokens=10_000,
                       val_fraction=0.1).manifest
    train, val = manifest["splits"]["train"]["documents"], manifest["splits"]["val"]["documents"]
    assert manifest["splits"]["train"]["tokens"] == 10_000 and train < 200
    assert val == len(range(0, train + val, 10))  # documents 0, 10, 20, ... of the train + val read


def test_a_validation_share_that_is_not_one_document_in_n_says_what_it_holds_out(general, tiny_tokenizer, tmp_path, cli):
    result = cli("data", "prepare", general, "--tokenizer", tiny_tokenizer, "--val-fraction", "0.4", "--out", tmp_path / "s",
                 "--json")
    assert result.code == 0 and "note: --val-fraction 0.4 holds out 1 document in 2 (50.0%)" in result.err
    assert json.loads(result.out)["val_documents"] - json.loads(result.out)["train_documents"] in (0, 1)


def test_rerun_is_a_no_op_and_other_settings_need_overwrite(general, tiny_tokenizer, tmp_path, cli):
    args = ("data", "prepare", general, "--tokenizer", tiny_tokenizer, "--out", tmp_path / "s", "--max-tokens", "5K")
    assert cli(*args).code == 0
    before = (tmp_path / "s" / "train-00000.bin").stat().st_mtime_ns
    again = cli(*args, "--json")
    assert again.code == 0 and json.loads(again.out)["reused"] is True
    assert (tmp_path / "s" / "train-00000.bin").stat().st_mtime_ns == before
    other = cli("data", "prepare", general, "--tokenizer", tiny_tokenizer, "--out", tmp_path / "s", "--max-tokens", "6K")
    assert other.code == 2 and "--overwrite" in other.err
    assert len(TokenShards(tmp_path / "s").split("train")) == 5000


def test_a_tokenizer_with_another_eos_is_not_taken_for_the_same_shards(general, tiny_tokenizer, base, tmp_path, cli):
    # the EOS is in tokenizer_config.json, which the tokenizer's fingerprint does not hash
    other_eos = tmp_path / "tok"
    shutil.copytree(tiny_tokenizer, other_eos)
    config = json.loads((other_eos / "tokenizer_config.json").read_text())
    config["eos_token"] = "e"
    (other_eos / "tokenizer_config.json").write_text(json.dumps(config))
    rest = ("--out", tmp_path / "s", "--max-tokens", "5K", "--json")
    assert cli("data", "prepare", general, "--tokenizer", tiny_tokenizer, *rest).code == 0
    again = cli("data", "prepare", general, "--tokenizer", other_eos, *rest)
    assert again.code == 2 and "--overwrite" in again.err
    redone = cli("data", "prepare", general, "--tokenizer", other_eos, *rest, "--overwrite")
    assert redone.code == 0 and json.loads(redone.out)["reused"] is False
    eos = TokenShards(tmp_path / "s").manifest["tokenizer"]["eos_id"]
    assert eos == AutoTokenizer.from_pretrained(other_eos).convert_tokens_to_ids("e")
    # pre-training on them with the first tokenizer would learn another document boundary: refused
    refused = cli("pretrain", "--model", "1M", "--tokens", "2K", "--data", tmp_path / "s", "--tokenizer", tiny_tokenizer,
                  "--out", tmp_path / "run")
    assert refused.code == 2 and f"end their documents with token {eos}" in refused.err
    assert not (tmp_path / "run").exists()
    # nor is continued pre-training of a model whose tokenizer (the same fingerprint) ends with another EOS
    refused = cli("cpt", base, "--domain", f"{tmp_path / 's'}:4K", "--global-batch", "4", "--out", tmp_path / "cpt")
    assert refused.code == 2 and f"end their documents with token {eos}" in refused.err
    assert not (tmp_path / "cpt").exists() and not (tmp_path / "cpt.partial").exists()


def test_shards_spill_over_several_files(general, tiny_tokenizer, tmp_path):
    from evolm.stages.data.prepare import prepare
    from evolm.textsource import resolve_source

    result = prepare(resolve_source(general), tiny_tokenizer, tmp_path / "multi", max_tokens=25_000, shard_tokens=10_000)
    files = result.manifest["splits"]["train"]["files"]
    assert [f["tokens"] for f in files] == [10_000, 10_000, 5_000]
    reader = TokenShards(tmp_path / "multi").split("train")
    single = prepare(resolve_source(general), tiny_tokenizer, tmp_path / "single", max_tokens=25_000)
    assert np.array_equal(reader.window(9_990, 20), TokenShards(single.path).split("train").window(9_990, 20))


def test_a_split_of_more_files_than_the_open_file_limit_reads_whole(general, tiny_tokenizer, tmp_path):
    """A paper-scale split is thousands of files (FineWeb-Edu at 160B tokens: 1,600 of 100M tokens), past
    the usual limit of 1,024 open files a process: the reader holds none open between reads (it held a
    memory map, so a descriptor, per file). Here 125 files are read under a limit of 48."""
    import subprocess
    import sys

    from evolm.stages.data.prepare import prepare
    from evolm.textsource import resolve_source

    many = prepare(resolve_source(general), tiny_tokenizer, tmp_path / "many", max_tokens=25_000, shard_tokens=200)
    assert len(many.manifest["splits"]["train"]["files"]) == 125
    single = TokenShards(prepare(resolve_source(general), tiny_tokenizer, tmp_path / "single", max_tokens=25_000).path)
    script = ("import resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (48, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))\n"
              "from evolm.shards import TokenShards\n"
              "reader = TokenShards(sys.argv[1]).split('train')\n"
              "sys.stdout.write(reader.window(0, len(reader)).tobytes().hex())")
    read = subprocess.run([sys.executable, "-c", script, str(many.path)], capture_output=True, text=True)
    assert read.returncode == 0, read.stderr
    whole = single.split("train").window(0, 25_000)
    assert bytes.fromhex(read.stdout) == whole.tobytes()
    reader = TokenShards(many.path).split("train")
    assert np.array_equal(reader.window(190, 420), whole[190:610])  # across three files


def _stopping_after(monkeypatch, count):
    """TextSource.documents as Ctrl-C sees it: KeyboardInterrupt once `count` documents were read."""
    from evolm.textsource import TextSource

    documents = TextSource.documents

    def stopping(self, start=None):
        for i, text in enumerate(documents(self, start)):
            if i == count:
                raise KeyboardInterrupt
            yield text

    monkeypatch.setattr(TextSource, "documents", stopping)
    return documents


def test_an_interrupted_preparation_resumes_to_the_bytes_of_one_run(general, tiny_tokenizer, tmp_path, monkeypatch):
    """Stopped mid-way (after some shard files rolled over), then written on past its last saved
    progress (as a killed process would): the resume cuts the open file back, drops the file begun
    after, tokenizes only the documents not yet read, and ends with the files of an uninterrupted run."""
    from evolm.stages.data import prepare as module
    from evolm.textsource import resolve_source

    monkeypatch.setattr(module, "BATCH_DOCUMENTS", 64)
    settings = dict(max_tokens=400_000, shard_tokens=60_000)
    whole = module.prepare(resolve_source(general), tiny_tokenizer, tmp_path / "whole", **settings)
    monkeypatch.setattr(module, "SAVE_SECONDS", 0.0)  # progress saved after every batch
    documents = _stopping_after(monkeypatch, 1000)
    out, partial = tmp_path / "s", tmp_path / "s.partial"
    with pytest.raises(KeyboardInterrupt, match="s.partial kept .* training tokens saved.*--resume"):
        module.prepare(resolve_source(general), tiny_tokenizer, out, **settings)
    saved = json.loads((partial / module.PROGRESS).read_text())
    assert saved["documents_read"] == 960 and len(saved["writer"]["files"]["train"]) >= 2  # 15 batches; files rolled over
    open_file = partial / saved["writer"]["open"]["train"]["name"]
    with open(open_file, "ab") as handle:
        handle.write(b"\x07" * 100)
    (partial / "train-00099.bin").write_bytes(b"\x07" * 10)
    with pytest.raises(BadInput, match="pass --resume to continue it or --overwrite"):
        module.prepare(resolve_source(general), tiny_tokenizer, out, **settings)
    monkeypatch.setattr("evolm.textsource.TextSource.documents", documents)
    encoded = []
    write_batch = module._write_batch
    monkeypatch.setattr(module, "_write_batch", lambda batch, *rest: encoded.extend(batch) or write_batch(batch, *rest))
    resumed = module.prepare(resolve_source(general), tiny_tokenizer, out, resume=True, **settings)
    assert resumed.manifest["fingerprint"] == whole.manifest["fingerprint"]
    assert resumed.manifest["splits"] == whole.manifest["splits"]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in whole.path.iterdir())
    assert all((out / f.name).read_bytes() == f.read_bytes() for f in whole.path.glob("*.bin"))
    assert not partial.exists() and encoded[0] == _docs(general)[960]  # the documents read before were not tokenized again


# One subset is slow-marked (9 s): the interleaved case runs the same saving and loading of the stream's
# position and its fallbacks; one subset's own branch of the stream runs in the hub tests below.
@pytest.mark.parametrize("subsets", [pytest.param((), marks=pytest.mark.slow), ("a", "b")], ids=["one-subset", "two-interleaved"])
def test_a_hub_stream_resumes_from_its_saved_position_not_from_its_first_document(subsets, general, tiny_tokenizer, tmp_path,
                                                                                  cli, monkeypatch):
    """A hub source's progress holds the stream's position (datasets' state_dict), and a resume
    continues the stream there instead of streaming every document read before again to skip it (an
    80B-token preparation's resume would download them all once more). A position another datasets
    version wrote, or one that does not load, is said, and those documents are read again and skipped.
    Each way ends with the bytes of one run, for one subset and for two interleaved."""
    import datasets
    import huggingface_hub

    from evolm import textsource
    from evolm.stages.data import prepare as module
    from evolm.textsource import TextSource

    files = {None: general, "a": general, "b": general.with_name("math.jsonl")}
    real_load = datasets.load_dataset  # the "hub" dataset: the synthetic text, streamed by datasets from its files
    monkeypatch.setattr(datasets, "load_dataset", lambda path, name=None, *, split, streaming, revision=None: real_load(
        "json", data_files=str(files[name]), split="train", streaming=True))
    monkeypatch.setattr(huggingface_hub.HfApi, "dataset_info", lambda self, repo, revision=None, timeout=None: type("I", (), {"sha": "c1"}))
    monkeypatch.setattr(module, "SAVE_SECONDS", 0.0)
    args = ("data", "prepare", "org/corpus", *[a for s in subsets for a in ("--subset", s)], "--tokenizer", tiny_tokenizer,
            "--max-tokens", "400K")
    assert cli(*args, "--out", tmp_path / "whole").code == 0
    documents, stream_from = TextSource.documents, textsource._stream_from
    opened = []
    monkeypatch.setattr(textsource, "_stream_from", lambda *a, saved: (opened.append(saved), stream_from(*a, saved=saved))[1])
    for case, edit, said in [("saved position", None, None),
                             ("another datasets version", {"datasets": "0.0"}, "datasets 0.0 wrote it"),
                             ("position that does not load", {"state": {"examples_iterable": {"no": "such state"}}}, "it does not load")]:
        out = tmp_path / case.replace(" ", "-")
        monkeypatch.setattr(TextSource, "documents", documents)
        _stopping_after(monkeypatch, 1300)
        assert cli(*args, "--out", out).code == 130
        progress_file = out.with_name(out.name + ".partial") / module.PROGRESS
        progress = json.loads(progress_file.read_text())
        assert progress["documents_read"] == 1024 and progress["stream"]["datasets"] == datasets.__version__  # after 2 x 512
        progress["stream"].update(edit or {})
        progress_file.write_text(json.dumps(progress))
        opened.clear()
        monkeypatch.setattr(TextSource, "documents", documents)
        resumed = cli(*args, "--out", out, "--resume")
        assert resumed.code == 0, resumed.err
        assert opened == {"saved position": [progress["stream"]["state"]], "another datasets version": [None],
                          "position that does not load": [progress["stream"]["state"], None]}[case], case
        assert ("the stream's saved position is not used" in resumed.err) is (said is not None), resumed.err
        assert said is None or said in resumed.err
        assert TokenShards(out).fingerprint == TokenShards(tmp_path / "whole").fingerprint, case
        assert all((out / f.name).read_bytes() == f.read_bytes() for f in (tmp_path / "whole").glob("*.bin"))


def test_resume_and_ctrl_c_on_the_command_line(general, tiny_tokenizer, tmp_path, cli, monkeypatch):
    """Ctrl-C before any progress was saved keeps nothing; --resume wants a folder and the same settings."""
    from evolm.stages.data import prepare as module

    args = ("data", "prepare", general, "--tokenizer", tiny_tokenizer, "--out", tmp_path / "s", "--max-tokens", "200K")
    documents = _stopping_after(monkeypatch, 600)
    stopped = cli(*args)
    assert stopped.code == 130 and "nothing was kept" in stopped.err and not (tmp_path / "s.partial").exists()
    nothing = cli(*args, "--resume")
    assert nothing.code == 2 and "Nothing to resume: there is no" in nothing.err
    monkeypatch.setattr(module, "SAVE_SECONDS", 0.0)
    stopped = cli(*args)
    assert stopped.code == 130 and "s.partial kept" in stopped.err and "rerun with --resume" in stopped.err
    monkeypatch.setattr("evolm.textsource.TextSource.documents", documents)
    changed = cli(*args[:-1], "300K", "--resume")
    assert changed.code == 2 and "different settings (max_tokens" in changed.err and (tmp_path / "s.partial").is_dir()
    resumed = cli(*args, "--resume", "--json")
    assert resumed.code == 0, resumed.err
    assert "resuming" in resumed.err and json.loads(resumed.out)["train_tokens"] == 200_000
    assert cli(*args[:-1], "100K", "--overwrite").code == 0 and not (tmp_path / "s.partial").exists()


def test_a_stream_that_fails_mid_way_says_what_a_rerun_continues_from(general, tiny_tokenizer, tmp_path, cli, monkeypatch):
    """A connection lost for good mid-stream (datasets gives up after its retries) is an error, not a stop:
    it still says what was kept and that --resume continues from it."""
    from evolm.stages.data import prepare as module
    from evolm.textsource import TextSource

    monkeypatch.setattr(module, "SAVE_SECONDS", 0.0)
    documents = TextSource.documents

    def failing(self, start=None):
        for i, text in enumerate(documents(self, start)):
            if i == 600:
                raise ConnectionError("Server Disconnected")
            yield text

    monkeypatch.setattr(TextSource, "documents", failing)
    result = cli("data", "prepare", general, "--tokenizer", tiny_tokenizer, "--out", tmp_path / "s", "--max-tokens", "200K")
    assert result.code not in (0, 2) and "Server Disconnected" in result.err
    assert "prepare stopped: " in result.err and "s.partial kept (" in result.err and "rerun with --resume" in result.err


def test_a_resume_reads_the_commit_the_interrupted_run_read_after_the_hub_moved(general, tiny_tokenizer, tmp_path, cli,
                                                                                 monkeypatch):
    """The documents skipped on resume must be the ones read before: once the hub's branch has moved to
    another commit, the resume reads the interrupted run's commit by its sha (a README edit to the
    dataset must not cost a long preparation its progress); where that run could not learn its commit,
    the resume is refused."""
    from evolm.stages.data import prepare as module
    from evolm.textsource import TextSource

    monkeypatch.setattr(module, "SAVE_SECONDS", 0.0)
    args = ("data", "prepare", general, "--tokenizer", tiny_tokenizer, "--out", tmp_path / "s", "--max-tokens", "200K")
    documents = _stopping_after(monkeypatch, 600)
    monkeypatch.setattr(TextSource, "snapshot", lambda self: {})  # the hub did not answer
    assert cli(*args).code == 130
    monkeypatch.setattr(TextSource, "documents", documents)
    monkeypatch.setattr(TextSource, "snapshot", lambda self: {"commit": "bbb"})
    unknown = cli(*args, "--resume")
    assert unknown.code == 2 and "did not say which commit" in unknown.err and "it serves commit bbb now" in unknown.err
    assert (tmp_path / "s.partial" / module.PROGRESS).is_file()  # kept

    read_at = []
    args = (*args[:-3], tmp_path / "t", *args[-2:])
    monkeypatch.setattr(TextSource, "snapshot", lambda self: {"commit": "aaa"})
    _stopping_after(monkeypatch, 600)
    assert cli(*args).code == 130
    monkeypatch.setattr(TextSource, "documents", lambda self, start=None: (read_at.append(self.revision), documents(self, start))[1])
    monkeypatch.setattr(TextSource, "snapshot", lambda self: {"commit": "bbb"})
    moved = cli(*args, "--resume")
    assert moved.code == 0, moved.err
    assert "it serves commit bbb now of" in moved.err and "the resume reads commit aaa, as the interrupted run did" in moved.err
    assert read_at == ["aaa"] and TokenShards(tmp_path / "t").source["commit"] == "aaa"




def test_a_hub_that_named_no_commit_either_time_is_not_resumed_unless_pinned_by_sha(tmp_path):
    """Where the hub's API failed both times (streaming worked), nothing says the files are the ones the saved
    position points into: refused, unless --revision is a full sha; a local source has no commit to ask for."""
    from evolm.errors import BadInput
    from evolm.stages.data.prepare import resumed_snapshot
    from evolm.textsource import TextSource

    hub = TextSource(spec="HuggingFaceFW/fineweb-edu", hub_name="HuggingFaceFW/fineweb-edu")
    with pytest.raises(BadInput, match="the hub said neither then nor now which commit of HuggingFaceFW/fineweb-edu"):
        resumed_snapshot(tmp_path / "s.partial", hub, {}, {})
    pinned = TextSource(spec=hub.spec, hub_name=hub.hub_name, revision="a" * 40)
    assert resumed_snapshot(tmp_path / "s.partial", pinned, {}, {}) == {}
    assert resumed_snapshot(tmp_path / "s.partial", TextSource(spec="local.jsonl"), {}, {}) == {}
    assert resumed_snapshot(tmp_path / "s.partial", hub, {"commit": "aaa"}, {"commit": "aaa"}) == {"commit": "aaa"}
    assert resumed_snapshot(tmp_path / "s.partial", hub, {"commit": "aaa"}, {}) == {"commit": "aaa"}  # the hub went quiet


@pytest.mark.parametrize("case", ["missing", "empty", "no-field", "folder-without-text", "not-utf8", "parquet-of-numbers",
                                  "bad-row-after-saved-progress"])
def test_bad_sources_exit_2_and_write_nothing(case, tiny_tokenizer, general, tmp_path, cli, monkeypatch):
    """Refused in one sentence, and nothing kept: a parquet folder's files are checked before any
    document is read; a bad row found after progress was saved leaves no OUT.partial (mending the row
    changes the source, so that a resume would be refused)."""
    source = tmp_path / "src.jsonl"
    if case == "not-utf8":
        source = tmp_path / "src.txt"
        source.write_bytes("café".encode("latin-1"))
    elif case == "parquet-of-numbers":
        source = tmp_path / "folder"
        source.mkdir()
        shutil.copy(general, source / "a.jsonl")
        pq.write_table(pa.table({"text": [1, 2, 3]}), source / "z.parquet")
    elif case == "bad-row-after-saved-progress":
        from evolm.stages.data import prepare as module

        monkeypatch.setattr(module, "SAVE_SECONDS", 0.0)
        source.write_text(general.read_text() + json.dumps({"content": "x"}) + "\n")
    elif case == "empty":
        source.write_text("")
    elif case == "no-field":
        source.write_text(json.dumps({"content": "x"}) + "\n")
    elif case == "folder-without-text":
        source = tmp_path / "folder"
        source.mkdir()
        (source / "notes.md").write_text("x")
    result = cli("data", "prepare", source, "--tokenizer", tiny_tokenizer, "--out", tmp_path / "out")
    assert result.code == 2, result
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    expected = {"not-utf8": "is not UTF-8 text (byte 3 cannot be decoded)", "parquet-of-numbers": "column 'text' holds int64, not text",
                "bad-row-after-saved-progress": f"line {len(general.read_text().splitlines()) + 1} has no string field 'text'"}
    assert expected.get(case, "") in result.err
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".out", "out"))]  # nor OUT.partial


def test_unreachable_hub_dataset_is_bad_input(tiny_tokenizer, tmp_path, cli):
    result = cli("data", "prepare", "HuggingFaceFW/fineweb-edu", "--subset", "sample/350BT", "--tokenizer", tiny_tokenizer,
                 "--out", tmp_path / "fw", "--max-tokens", "1M")
    assert result.code == 2 and "Could not open hub dataset HuggingFaceFW/fineweb-edu (sample/350BT)" in result.err
    assert not (tmp_path / "fw").exists() and not (tmp_path / "fw.partial").exists()


def test_hub_subsets_by_config_name_by_folder_and_several_interleaved(tiny_tokenizer, tmp_path, cli, monkeypatch):
    """What `evolm data prepare` asks of `datasets` (the hub stands in here): FineWeb-Edu's `sample/350BT`
    is a folder of its repository (datasets refuses it as a config name: its config is `sample-350BT`),
    and the paper's FineMath is two subsets, `finemath-3plus` and `infiwebmath-3plus`, in one shard
    set: every document of both, alternating. Their columns differ as on the hub (`token_count` int32 in
    one, int64 in the other; more columns in finemath-3plus), which `datasets` cannot interleave."""
    import datasets

    asked = []

    def load_dataset(path, name=None, *, data_dir=None, split, streaming):
        asked.append((path, name, data_dir, split, streaming))
        label = name or data_dir
        extra = {"url": datasets.Value("string")} if label == "finemath-3plus" else {}
        features = datasets.Features({"text": datasets.Value("string"), **extra,
                                      "token_count": datasets.Value("int32" if label == "finemath-3plus" else "int64")})
        rows = [{"text": f"{label} document {i} " * 20, "token_count": 20, **({"url": "u"} if extra else {})}
                for i in range(3 if label == "infiwebmath-3plus" else 5)]
        return datasets.IterableDataset.from_generator(lambda: iter(rows), features=features)

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    fw = cli("data", "prepare", "HuggingFaceFW/fineweb-edu", "--subset", "sample/350BT", "--tokenizer", tiny_tokenizer,
             "--out", tmp_path / "fw", "--json")
    assert fw.code == 0, fw.err
    assert asked == [("HuggingFaceFW/fineweb-edu", None, "sample/350BT", "train", True)]
    asked.clear()
    fm = cli("data", "prepare", "HuggingFaceTB/finemath", "--subset", "finemath-3plus", "--subset", "infiwebmath-3plus",
             "--tokenizer", tiny_tokenizer, "--out", tmp_path / "fm", "--json")
    assert fm.code == 0, fm.err
    assert [a[1] for a in asked] == ["finemath-3plus", "infiwebmath-3plus"]
    assert json.loads(fm.out)["train_documents"] + json.loads(fm.out)["val_documents"] == 8
    text = AutoTokenizer.from_pretrained(str(tiny_tokenizer)).decode(
        np.fromfile(tmp_path / "fm" / "train-00000.bin", dtype=np.uint16).tolist())
    assert text.index("infiwebmath-3plus document 0") < text.index("finemath-3plus document 2")  # interleaved
    manifest = json.loads((tmp_path / "fm" / "shards.json").read_text())
    assert manifest["source"]["subset"] == ["finemath-3plus", "infiwebmath-3plus"]
    (tmp_path / "local.jsonl").write_text('{"text": "a document"}\n')
    local = cli("data", "prepare", tmp_path / "local.jsonl", "--subset", "x", "--tokenizer", tiny_tokenizer,
                "--out", tmp_path / "local")
    assert local.code == 2 and "--subset is for hub datasets" in local.err and not (tmp_path / "local").exists()
    # a config file may give one subset as one value (a repeatable option), and a subset given twice is read once
    asked.clear()
    (tmp_path / "fm.yaml").write_text("subset: finemath-3plus\n")
    one = cli("data", "prepare", "HuggingFaceTB/finemath", "--config", tmp_path / "fm.yaml", "--tokenizer", tiny_tokenizer,
              "--out", tmp_path / "fm1")
    assert one.code == 0, one.err
    twice = cli("data", "prepare", "HuggingFaceTB/finemath", "--subset", "finemath-3plus", "--subset", "finemath-3plus",
                "--tokenizer", tiny_tokenizer, "--out", tmp_path / "fm2")
    assert twice.code == 0 and [a[1] for a in asked] == ["finemath-3plus", "finemath-3plus"]  # one load per command
    field = cli("data", "prepare", "HuggingFaceTB/finemath", "--subset", "finemath-3plus", "--subset", "infiwebmath-3plus",
                "--text-field", "content", "--tokenizer", tiny_tokenizer, "--out", tmp_path / "fm3")
    assert field.code == 2 and "Hub dataset HuggingFaceTB/finemath (finemath-3plus) has no field 'content'." in field.err


def test_a_hub_source_records_the_commit_it_read_and_a_revision_is_another_source(tiny_tokenizer, tmp_path, cli, monkeypatch):
    """shards.json names the hub commit the documents came from (where the hub says); `--revision` reads
    that branch, tag or commit, and shards of another revision are not taken for these."""
    import types

    import datasets
    import huggingface_hub

    asked = []

    def load_dataset(path, name=None, *, split, streaming, revision=None):
        asked.append(revision)
        rows = [{"text": f"document {i} of {revision} " * 20} for i in range(4)]
        return datasets.IterableDataset.from_generator(lambda: iter(rows))

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    monkeypatch.setattr(huggingface_hub.HfApi, "dataset_info",
                        lambda self, repo, revision=None, timeout=None: types.SimpleNamespace(sha=f"sha-of-{revision or 'main'}"))
    args = ("data", "prepare", "HuggingFaceTB/finemath", "--subset", "finemath-3plus", "--tokenizer", tiny_tokenizer, "--json")
    now = cli(*args, "--out", tmp_path / "now")
    assert now.code == 0, now.err
    source = json.loads((tmp_path / "now" / "shards.json").read_text())["source"]
    # read at the commit recorded: a push to main between the question and the reading is not read
    assert source["commit"] == "sha-of-main" and "revision" not in source and asked == ["sha-of-main"]
    pinned = cli(*args, "--revision", "v1", "--out", tmp_path / "now")
    assert pinned.code == 2 and "holds shards prepared with other settings" in pinned.err  # another source: not "already holds these shards"
    # (a tag, too, is read by the commit it names)
    assert cli(*args, "--revision", "v1", "--out", tmp_path / "v1").code == 0 and asked == ["sha-of-main", "sha-of-v1"]
    source = json.loads((tmp_path / "v1" / "shards.json").read_text())["source"]
    assert source["revision"] == "v1" and source["commit"] == "sha-of-v1"
    again = cli(*args, "--out", tmp_path / "now")
    assert again.code == 0 and "already holds these shards" in again.err and "note:" not in again.err
    monkeypatch.setattr(huggingface_hub.HfApi, "dataset_info",
                        lambda self, repo, revision=None, timeout=None: types.SimpleNamespace(sha=f"newer-{revision or 'main'}"))
    moved = cli(*args, "--out", tmp_path / "now")  # reused, but the user learns the hub moved on
    assert moved.code == 0 and "hold commit sha-of-main of HuggingFaceTB/finemath, and the hub serves commit newer-main" in moved.err
    assert asked == ["sha-of-main", "sha-of-v1"] and json.loads((tmp_path / "now" / "shards.json").read_text())["source"]["commit"] == "sha-of-main"


def test_tokenizer_command_errors(cli, tmp_path, general):
    assert cli("data", "tokenizer", "--out", tmp_path / "t").code == 2
    bad = cli("data", "tokenizer", general, "--vocab-size", "4k5", "--out", tmp_path / "t")
    assert bad.code == 2 and "Invalid vocabulary size" in bad.err
    small = cli("data", "tokenizer", general, "--vocab-size", "100", "--out", tmp_path / "t")
    assert small.code == 2 and "--vocab-size 100 is out of range: it must be at least 300" in small.err
    offline = cli("data", "tokenizer", "--from", "meta-llama/Llama-2-7b-hf", "--out", tmp_path / "t")
    assert offline.code == 2 and "Could not load tokenizer" in offline.err
    assert not (tmp_path / "t").exists()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert cli("data", "tokenizer", empty, "--vocab-size", "512", "--out", tmp_path / "t").code == 2
    assert not (tmp_path / "t").exists()


def test_adopting_offline_says_when_it_cannot_tell_whether_the_repository_has_a_tokenizer_json(monkeypatch, capsys):
    """huggingface_hub's "offline and not in the cache" is a kind of its "no such file": without the hub, the
    repository's own tokenizer.json may exist unfetched, so transformers' conversion is adopted with a warning;
    a repository that has none is adopted so without one."""
    import huggingface_hub
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    from evolm.tokenizer import _tokenizer_file

    def unreachable(repo, name):
        raise LocalEntryNotFoundError("offline, not in the cache")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", unreachable)
    capsys.readouterr()
    assert _tokenizer_file("org/slow-tokenizer") is None
    assert "warning: the hub is not reachable and the cache holds no tokenizer.json of org/slow-tokenizer" in capsys.readouterr().err

    def absent(repo, name):
        raise EntryNotFoundError("404: no tokenizer.json")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", absent)
    assert _tokenizer_file("org/slow-tokenizer") is None and "warning" not in capsys.readouterr().err


def test_adopting_a_local_tokenizer(cli, tiny_tokenizer, tmp_path):
    from evolm.tokenizer import tokenizer_fingerprint

    result = cli("data", "tokenizer", "--from", tiny_tokenizer, "--out", tmp_path / "adopted", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["sha256"] == tokenizer_fingerprint(tiny_tokenizer)


def _llama_shaped_tokenizer(folder):
    """A folder shaped as meta-llama/Llama-2-7b-hf's: a SentencePiece-style BPE with byte fallback whose
    tokenizer.json prepends and replaces spaces with "▁" in its normalizer, and a tokenizer_config.json
    naming the class LlamaTokenizer (which transformers 5 rebuilds as it loads it)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, processors

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, **{f"<0x{i:02X}>": 3 + i for i in range(256)}}
    merges = [("▁", "h"), ("▁h", "i"), ("▁", "▁")]
    for token in ["▁", "h", "i", "▁h", "▁hi", "▁▁"]:
        vocab[token] = len(vocab)
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tokenizer.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                           decoders.Strip(" ", 1, 0)])
    tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in ("<unk>", "<s>", "</s>")])
    folder.mkdir()
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "LlamaTokenizer", "legacy": False, "add_bos_token": True, "bos_token": "<s>",
        "eos_token": "</s>", "unk_token": "<unk>"}))
    return tokenizer


def test_an_adopted_tokenizer_encodes_as_its_file_says_not_as_transformers_rebuilds_its_class(cli, tmp_path):
    """transformers 5 loads a LlamaTokenizer with a Metaspace pre-tokenizer instead of its file's
    normalizer (" hi" became one token, not the file's two). Adopted is the file, byte for byte: its
    fingerprint is the source's (so a hub model's --val-data check matches shards made with it) and
    transformers, evolm's shard writer and the file itself encode alike."""
    from evolm.tokenizer import load_fast_tokenizer, load_tokenizer, tokenizer_fingerprint

    source = _llama_shaped_tokenizer(tmp_path / "llama")
    result = cli("data", "tokenizer", "--from", tmp_path / "llama", "--out", tmp_path / "adopted", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["sha256"] == tokenizer_fingerprint(tmp_path / "llama")
    assert (tmp_path / "adopted" / "tokenizer.json").read_bytes() == (tmp_path / "llama" / "tokenizer.json").read_bytes()
    loaded, fast = load_tokenizer(tmp_path / "adopted"), load_fast_tokenizer(tmp_path / "adopted")
    assert loaded.eos_token == "</s>" and fast.eos_id == 2
    for text in (" hi", "  hi  hi ", "hi\nhi"):
        ids = source.encode(text, add_special_tokens=False).ids
        assert loaded(text, add_special_tokens=False)["input_ids"] == ids == fast.backend.encode(text, add_special_tokens=False).ids
    assert source.encode(" hi", add_special_tokens=False).tokens == ["▁", "▁hi"]
    # a special token its configuration alone declares (transformers adds it; the file does not hold it): the
    # file would lose it, so transformers' rendering is adopted, and said
    config = json.loads((tmp_path / "llama" / "tokenizer_config.json").read_text())
    (tmp_path / "llama" / "tokenizer_config.json").write_text(json.dumps({**config, "pad_token": "<pad>"}))
    padded = cli("data", "tokenizer", "--from", tmp_path / "llama", "--out", tmp_path / "padded")
    assert padded.code == 0 and "lacks the special token(s) <pad>" in padded.err, padded.err
    assert load_fast_tokenizer(tmp_path / "padded").backend.token_to_id("<pad>") is not None
