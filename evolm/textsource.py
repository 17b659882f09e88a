"""Where documents come from: local jsonl / parquet / txt files or folders, or a hub dataset.

A local `.jsonl` holds one JSON object per line with the text in `text_field`; a `.parquet` file
has a `text_field` column (read in record batches, never whole); a `.txt` file is one document. A
folder means every such file under it, in sorted order. Anything else that looks like `org/name`
is a Hugging Face hub dataset, streamed with `datasets` so an 80B-token source never has to fit on
disk first. A hub dataset's subset is a config name (`sample-350BT`, `finemath-3plus`) or a folder of
its repository (`sample/350BT`); several subsets are one source, their documents interleaved (the
paper's FineMath is `finemath-3plus` and `infiwebmath-3plus`).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from evolm.errors import BadInput, first_line
from evolm.fsutil import canonical_json, sha256_bytes
from evolm.jsonl import read_jsonl

LOCAL_SUFFIXES = (".jsonl", ".parquet", ".txt")
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class TextSource:
    """A resolved source of documents."""

    spec: str
    files: tuple[Path, ...] = ()
    hub_name: str | None = None
    subset: str | tuple[str, ...] | None = None
    """One hub subset, several (interleaved), or None for the dataset's default."""
    split: str = "train"
    text_field: str = "text"
    revision: str | None = None
    """A hub dataset's branch, tag or commit (None: its main branch as it is now)."""

    @property
    def is_hub(self) -> bool:
        return self.hub_name is not None

    def describe(self) -> dict:
        if self.is_hub:  # the revision only where given: shards prepared without one keep their fingerprint
            return {"hub": self.hub_name, "subset": self.subset, "split": self.split, "text_field": self.text_field,
                    **({"revision": self.revision} if self.revision else {})}
        return {"files": [str(f) for f in self.files], "text_field": self.text_field}

    def fingerprint(self) -> str:
        """Identity of the source's content: file sizes and mtimes locally, name/subset/split on the hub."""
        if self.is_hub:
            return sha256_bytes(canonical_json(self.describe()).encode())
        stats = [[str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns] for f in self.files]
        return sha256_bytes(canonical_json({"files": stats, "text_field": self.text_field}).encode())

    def snapshot(self) -> dict:
        """The hub commit this source reads now, `{"commit": sha}`, where the hub says (else empty): a
        shard set records which snapshot of a changing dataset it holds."""
        if not self.is_hub:
            return {}
        try:
            from huggingface_hub import HfApi, constants

            sha = HfApi().dataset_info(self.hub_name, revision=self.revision, timeout=constants.HF_HUB_ETAG_TIMEOUT).sha
        except Exception:  # offline, or a hub that will not say: the shards are still what they are
            return {}
        return {"commit": sha} if sha else {}

    def documents(self, start: "ReadPosition | None" = None) -> Iterator[str]:
        """The documents in order, from `start` on (those before it are read, not returned)."""
        if self.is_hub:
            yield from _hub_documents(self, start or ReadPosition())
            return
        local = (text for path in self.files for text in _file_documents(path, self.text_field))
        yield from itertools.islice(local, start.documents if start else 0, None)


@dataclass
class ReadPosition:
    """Where a resumed reading starts: after `documents` documents. A hub stream's saved position
    (`stream`: datasets' IterableDataset state, its shard and the row in it, with the datasets
    version that wrote it) continues the stream there, where reading those documents again would
    stream every one of them from the hub once more (hours, for tens of billions of tokens; datasets
    still reads the current file from its start to that row). Without one, or one of another datasets
    version, or one that will not load, they are read again and skipped. `state()`: the stream's
    position after the documents yielded so far."""

    documents: int = 0
    stream: dict | None = None
    _open: object = field(default=None, init=False, compare=False, repr=False)

    def state(self) -> dict | None:
        if self._open is None:
            return None
        import datasets

        return {"datasets": datasets.__version__, "state": self._open.state_dict()}


def resolve_source(spec: str | Path, *, text_field: str = "text", subset: str | list[str] | tuple[str, ...] | None = None,
                   split: str = "train", revision: str | None = None) -> TextSource:
    """Turn a CLI argument into a TextSource, or say in one sentence why it cannot be used."""
    spec = str(spec)
    path = Path(spec)
    hub = not path.exists() and _HUB_NAME.match(spec) and not spec.endswith(LOCAL_SUFFIXES)
    if (subset or revision is not None or split != "train") and not hub:
        given = "subset" if subset else "revision" if revision is not None else "split"
        raise BadInput(f"--{given} is for hub datasets; {spec} is not one.")
    if path.exists():
        if path.is_dir():
            files = tuple(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in LOCAL_SUFFIXES and not p.name.startswith(".")))
            if not files:
                raise BadInput(f"Folder {path} holds no .jsonl, .parquet or .txt files.")
        elif path.suffix in LOCAL_SUFFIXES:
            files = (path,)
        else:
            raise BadInput(f"Unsupported file type {path.suffix or '(none)'} for {path}; use .jsonl, .parquet or .txt.")
        for file in files:
            if file.suffix == ".parquet":
                _check_parquet(file, text_field)
        return TextSource(spec, files=files, text_field=text_field)
    if not isinstance(subset, str) and subset is not None:  # one subset stays a string: its shards' fingerprint is as before
        subset = tuple(dict.fromkeys(subset))  # a subset given twice is read once
        subset = subset if len(subset) > 1 else (subset[0] if subset else None)
    if hub:
        return TextSource(spec, hub_name=spec, subset=subset, split=split, text_field=text_field, revision=revision)
    raise BadInput(f"Source {spec} does not exist (and is not a hub dataset name like HuggingFaceFW/fineweb-edu).")


def text_inputs(sources) -> dict[str, Path]:
    """The files local sources read, named, as inputs an --out must not replace (an --out inside the
    folder they lie in is no harm: shards and tokenizers are not text, and are never read back as text)."""
    files = [file for source in sources for file in source.files]
    return {"the text": files[0]} if len(files) == 1 else {f"text file {i + 1} of {len(files)}": f for i, f in enumerate(files)}


def _file_documents(path: Path, text_field: str) -> Iterator[str]:
    if path.suffix == ".txt":
        try:
            yield path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path} is not UTF-8 text (byte {exc.start} cannot be decoded).") from None
    elif path.suffix == ".jsonl":
        yield from _jsonl_documents(path, text_field)
    else:
        yield from _parquet_documents(path, text_field)


def _jsonl_documents(path: Path, text_field: str) -> Iterator[str]:
    for number, row in read_jsonl(path):
        text = row.get(text_field) if isinstance(row, dict) else None
        if not isinstance(text, str):
            raise BadInput(f"{path} line {number} has no string field {text_field!r}.")
        yield text


def _check_parquet(path: Path, text_field: str):
    """The parquet file, once its footer says it holds a text column `text_field`: every file of a
    folder is checked so before the first document is read (file 700 of 1,000 would fail hours in)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise BadInput(f"{path} is not a readable parquet file ({exc}).") from None
    schema = parquet.schema_arrow
    if text_field not in schema.names:
        raise BadInput(f"{path} has no column {text_field!r} (columns: {', '.join(schema.names)}).")
    kind = schema.field(text_field).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or getattr(pa.types, "is_string_view", lambda _: False)(kind)):  # pyarrow 16+
        raise BadInput(f"{path} column {text_field!r} holds {kind}, not text.")
    return parquet


def _parquet_documents(path: Path, text_field: str) -> Iterator[str]:
    parquet = _check_parquet(path, text_field)
    for batch in parquet.iter_batches(batch_size=1024, columns=[text_field]):
        for text in batch.column(0).to_pylist():
            if text is not None:
                yield text


def _open_subset(datasets, source: TextSource, subset: str | None):
    """A streamed subset: by config name, or by folder (`sample/350BT` is FineWeb-Edu's folder of the
    config `sample-350BT`; datasets refuses a folder as a config name)."""
    where = {"data_dir": subset} if subset and "/" in subset else {"name": subset}
    if source.revision:
        where["revision"] = source.revision
    return datasets.load_dataset(source.hub_name, **where, split=source.split, streaming=True)


def _hub_documents(source: TextSource, start: ReadPosition) -> Iterator[str]:
    subsets = source.subset if isinstance(source.subset, tuple) else (source.subset,)
    try:
        saved = _saved_state(source, start)
        iterator = _stream_from(source, subsets, start, saved=saved)
        try:
            first = next(iterator, None)
            if saved is not None and first is None:
                raise IndexError("the stream ends at it")  # a shard index past the end, say: not a finished stream
        # datasets applies a saved position as the stream starts, and a state it cannot apply fails here
        # as one of these (a network error is none of them: it is said below, not retried from the start)
        except (KeyError, TypeError, IndexError, ValueError, AssertionError, AttributeError) as exc:
            if saved is None:
                raise
            _say_skipping(source, start, f"it does not load ({first_line(exc)})")
            iterator = _stream_from(source, subsets, start, saved=None)
            first = next(iterator, None)
    except BadInput:
        raise
    except Exception as exc:  # network errors, missing datasets, bad subsets all surface here
        raise BadInput(
            f"Could not open hub dataset {source.hub_name}"
            + (f" ({', '.join(subsets)})" if source.subset else "")
            + f": {first_line(exc)}."
        ) from None
    if first is None:
        return
    if source.text_field not in first:
        raise BadInput(f"Hub dataset {source.hub_name} has no field {source.text_field!r}.")
    yield first[source.text_field]
    for row in iterator:
        yield row[source.text_field]


def _stream_from(source: TextSource, subsets: tuple, start: ReadPosition, *, saved: dict | None) -> Iterator[dict]:
    """The hub stream's rows from `start`: from its `saved` position, or skipping the documents read
    before; `start` then reports the stream's position (`ReadPosition.state`)."""
    import datasets

    streams = [_open_subset(datasets, source, subset) for subset in subsets]
    if len(streams) > 1:
        # datasets interleaves only subsets of one schema, and FineMath's two differ (token_count is
        # int32 in finemath-3plus, int64 in infiwebmath-3plus; finemath-3plus has more columns):
        # only the text is read, so only the text is kept
        for subset, stream in zip(subsets, streams):
            if stream.column_names is not None and source.text_field not in stream.column_names:
                raise BadInput(f"Hub dataset {source.hub_name} ({subset}) has no field {source.text_field!r}.")
        streams = [stream.select_columns([source.text_field]) for stream in streams]
    # each document of every subset once, alternating while more than one has documents left
    stream = streams[0] if len(streams) == 1 else datasets.interleave_datasets(
        streams, stopping_strategy="all_exhausted_without_replacement")
    if saved is not None:
        stream.load_state_dict(saved)
    start._open = stream
    return itertools.islice(iter(stream), 0 if saved is not None else start.documents, None)


def _saved_state(source: TextSource, start: ReadPosition) -> dict | None:
    """The saved stream state to continue from: None without one, or where another datasets version
    wrote it (its states may load and mean other rows)."""
    if start.stream is None:
        return None
    import datasets

    if start.stream.get("datasets") != datasets.__version__ or "state" not in start.stream:
        _say_skipping(source, start, f"datasets {start.stream.get('datasets', '(unknown)')} wrote it, this is {datasets.__version__}")
        return None
    return start.stream["state"]


def _say_skipping(source: TextSource, start: ReadPosition, why: str) -> None:
    from evolm.console import log

    log(f"warning: {source.spec}: the stream's saved position is not used ({why}); streaming the {start.documents:,} "
        "documents read before again to skip them")

