"""`evolm data tokenizer`: train a byte-level BPE on local text, or adopt an existing tokenizer."""

from __future__ import annotations

from pathlib import Path

from evolm.errors import BadInput
from evolm.fsutil import atomic_dir, write_json
from evolm.textsource import resolve_source, text_inputs
from evolm.options import out_of_range
from evolm.tokenizer import MIN_VOCAB, adopt_tokenizer, tokenizer_fingerprint, train_bpe

RECORD = "evolm-tokenizer.json"


def make_tokenizer(out: Path, *, sources: list[str], vocab_size: int | None, adopt: str | None,
                   text_field: str = "text", overwrite: bool = False) -> dict:
    if adopt is None:
        check_vocab_size(vocab_size)
    resolved = [resolve_source(s, text_field=text_field) for s in sources]
    if any(r.is_hub for r in resolved):
        raise BadInput("Tokenizer training reads local files only; prepare hub text locally first or adopt a tokenizer with --from.")
    inputs = text_inputs(resolved)
    if adopt is not None and Path(adopt).exists():
        inputs["the tokenizer adopted"] = Path(adopt)
    with atomic_dir(out, overwrite=overwrite, marker=RECORD, what="tokenizer from `evolm data tokenizer`", inputs=inputs) as tmp:
        if adopt is not None:
            tokenizer = adopt_tokenizer(adopt, tmp)
            origin = {"adopted": adopt}
        else:
            documents = _nonempty(resolved)
            tokenizer = train_bpe(documents, vocab_size, tmp)
            if documents.count == 0:
                raise BadInput(f"The text given ({', '.join(sources)}) contains no documents to train on.")
            # BPE stops merging when the text has no pair left to merge, short of the size asked for.
            # Refused rather than kept: the size is a setting of the study (the model's embedding
            # table), and a smaller one under the requested name would mislabel every run built on it.
            # The message gives the size this text supports, which a rerun can ask for exactly.
            if len(tokenizer) < vocab_size:
                raise out_of_range("--vocab-size", vocab_size, f"at most {len(tokenizer)} for this text (byte-level BPE "
                                   "ran out of pairs to merge there); ask for that many or fewer, or give more text")
            origin = {"trained_on": [r.describe() for r in resolved], "documents": documents.count, "algorithm": "byte-level BPE"}
        record = {"vocab_size": len(tokenizer), "eos_token": tokenizer.eos_token, "eos_id": tokenizer.eos_token_id,
                  "sha256": tokenizer_fingerprint(tmp), **origin}
        write_json(tmp / RECORD, record)
    return record


def check_vocab_size(vocab_size) -> None:
    """Before any work: a size byte-level BPE can start from (its 256 byte symbols and the EOS)."""
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < MIN_VOCAB:
        raise out_of_range("--vocab-size", vocab_size, f"at least {MIN_VOCAB} (byte-level BPE has 256 byte symbols and "
                           "an EOS before its first merge)")


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
