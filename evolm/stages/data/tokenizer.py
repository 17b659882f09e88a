"""`evolm data tokenizer`: train a byte-level BPE on local text, or adopt an existing tokenizer."""

from __future__ import annotations

from pathlib import Path

from evolm.errors import BadInput
from evolm.fsutil import atomic_dir, write_json
from evolm.textsource import resolve_source
from evolm.tokenizer import adopt_tokenizer, tokenizer_fingerprint, train_bpe

RECORD = "evolm-tokenizer.json"


def make_tokenizer(out: Path, *, sources: list[str], vocab_size: int | None, adopt: str | None,
                   text_field: str = "text", overwrite: bool = False) -> dict:
    resolved = [resolve_source(s, text_field=text_field) for s in sources]
    if any(r.is_hub for r in resolved):
        raise BadInput("Tokenizer training reads local files only; prepare hub text locally first or adopt a tokenizer with --from.")
    with atomic_dir(out, overwrite=overwrite) as tmp:
        if adopt is not None:
            tokenizer = adopt_tokenizer(adopt, tmp)
            origin = {"adopted": adopt}
        else:
            documents = _nonempty(resolved)
            tokenizer = train_bpe(documents, vocab_size, tmp)
            if documents.count == 0:
                raise BadInput(f"The text given ({', '.join(sources)}) contains no documents to train on.")
            origin = {"trained_on": [r.describe() for r in resolved], "documents": documents.count, "algorithm": "byte-level BPE"}
        record = {"vocab_size": len(tokenizer), "eos_token": tokenizer.eos_token, "eos_id": tokenizer.eos_token_id,
                  "sha256": tokenizer_fingerprint(tmp), **origin}
        write_json(tmp / RECORD, record)
    return record


class _nonempty:
    """Iterates the non-empty documents of several sources, counting them."""

    def __init__(self, sources):
        self.sources, self.count = sources, 0

    def __iter__(self):
        for source in self.sources:
            for text in source.documents():
                if text.strip():
                    self.count += 1
                    yield text
