"""Tokenizers: train a byte-level BPE on local text, or adopt an existing one; load and fingerprint.

A tokenizer directory is a standard Hugging Face one (`tokenizer.json`, `tokenizer_config.json`),
loadable with `AutoTokenizer.from_pretrained`, always with an EOS token: documents end with EOS and
never start with BOS (the paper's packing), so the EOS id is what the shards and trainers rely on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from evolm.errors import BadInput, first_line
from evolm.fsutil import canonical_json, sha256_bytes

DEFAULT_EOS = "<|endoftext|>"
MIN_VOCAB = 300  # 256 byte symbols + EOS + a few merges: anything smaller cannot encode text


def train_bpe(documents: Iterable[str], vocab_size: int, out: Path, *, eos_token: str = DEFAULT_EOS):
    """Train a byte-level BPE tokenizer (the `tokenizers` library) and save it as an HF directory."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if vocab_size < MIN_VOCAB:
        raise BadInput(f"Vocabulary size {vocab_size} is too small; byte-level BPE needs at least {MIN_VOCAB}.")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[eos_token],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(documents, trainer=trainer)
    return save_tokenizer(_wrap(tokenizer, eos_token), out)


def _wrap(tokenizer, eos_token: str):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=eos_token, clean_up_tokenization_spaces=False)


def adopt_tokenizer(name_or_path: str, out: Path):
    """Copy an existing tokenizer (local directory or hub name, e.g. meta-llama/Llama-2-7b-hf)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path, use_fast=True)
    except Exception as exc:  # OSError offline, ValueError for odd repos
        raise BadInput(f"Could not load tokenizer {name_or_path}: {first_line(exc)}.") from None
    if not getattr(tokenizer, "is_fast", False):
        raise BadInput(f"Tokenizer {name_or_path} has no fast (Rust) version; evolm needs tokenizer.json.")
    if tokenizer.eos_token is None:
        raise BadInput(f"Tokenizer {name_or_path} defines no EOS token; documents need one to end with.")
    save_tokenizer(tokenizer, out)
    original = _tokenizer_file(name_or_path)
    if original is None:
        return tokenizer
    # transformers 5 rebuilds some classes' pipelines as it loads them: a LlamaTokenizer (the paper's
    # Llama-2 tokenizer) gets a Metaspace pre-tokenizer in place of its file's Prepend + Replace
    # normalizer, which encodes leading and repeated spaces otherwise (" hello": one token, not two),
    # and its saved tokenizer.json no longer matches the model's own (a --val-data refusal). Adopted
    # is the file as its authors wrote it, loaded as the plain fast tokenizer it then is, unless the
    # file lacks a special token the configuration alone declares (transformers added it; evolm's
    # shard writer, which reads the file, would not know it): then transformers' rendering is kept.
    from tokenizers import Tokenizer

    file = Tokenizer.from_file(str(original))
    missing = sorted({str(t) for t in tokenizer.all_special_tokens if file.token_to_id(str(t)) is None})
    if missing:
        from evolm.console import log

        log(f"note: {name_or_path}'s tokenizer.json lacks the special token(s) {', '.join(missing)} that its configuration "
            "declares; the adopted tokenizer is transformers' rendering of it (with them), not the file itself")
        return tokenizer
    (Path(out) / "tokenizer.json").write_bytes(original.read_bytes())
    config_path = Path(out) / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return AutoTokenizer.from_pretrained(str(out))


def _tokenizer_file(name_or_path: str) -> Path | None:
    """The tokenizer.json of a local tokenizer folder or a hub repository (None: it has none, a slow
    tokenizer's conversion being then what transformers saved)."""
    path = Path(name_or_path)
    if path.is_dir():
        return path / "tokenizer.json" if (path / "tokenizer.json").is_file() else None
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    try:  # where AutoTokenizer found it: the hub, or (offline) the cache
        return Path(hf_hub_download(name_or_path, "tokenizer.json"))
    except LocalEntryNotFoundError:  # offline and not in the cache (a subclass of the next one): absent, or never fetched
        from evolm.console import log

        log(f"warning: the hub is not reachable and the cache holds no tokenizer.json of {name_or_path}; adopting "
            "transformers' conversion of its tokenizer, which may differ from the repository's own tokenizer.json "
            "(adopt it online to be sure)")
        return None
    except EntryNotFoundError:  # no such file in the repository
        return None
    except Exception as exc:  # the hub answered AutoTokenizer a moment ago: say what failed, keep nothing
        raise BadInput(f"Could not download {name_or_path}'s tokenizer.json ({first_line(exc)}).") from None


def save_tokenizer(tokenizer, out: Path):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(out))
    portable_tokenizer_config(out)
    return tokenizer


def portable_tokenizer_config(folder: Path) -> None:
    """transformers 5 names a plain fast tokenizer's class `TokenizersBackend`, which transformers 4
    does not know ("Tokenizer class TokenizersBackend does not exist"): a vLLM or lm-eval stack pinned
    to 4.x could not load evolm's checkpoints. `PreTrainedTokenizerFast` is that class in 4.x and an
    alias of it in 5.x, so both load the folder."""
    path = Path(folder) / "tokenizer_config.json"
    if not path.is_file():
        return
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("tokenizer_class") == "TokenizersBackend":
        config["tokenizer_class"] = "PreTrainedTokenizerFast"
        path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_tokenizer(path: Path | str):
    """Load a tokenizer directory saved by evolm (or any HF fast tokenizer directory)."""
    from transformers import AutoTokenizer

    path = Path(path)
    if not (path / "tokenizer.json").is_file():
        raise BadInput(f"{path} is not a tokenizer directory (no tokenizer.json); make one with `evolm data tokenizer`.")
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if tokenizer.eos_token_id is None:
        raise BadInput(f"Tokenizer {path} defines no EOS token.")
    return tokenizer


@dataclass(frozen=True)
class FastTokenizer:
    """The Rust tokenizer of a tokenizer directory plus its EOS, loaded without transformers.

    Importing transformers costs ~3 s here; tokenizing text into shards needs only the Rust
    `tokenizers.Tokenizer` (whose `encode_batch` uses every core) and the EOS id.
    """

    backend: object
    eos_token: str
    eos_id: int

    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size(with_added_tokens=True)


def load_fast_tokenizer(path: Path | str) -> FastTokenizer:
    from tokenizers import Tokenizer

    path = Path(path)
    if not (path / "tokenizer.json").is_file():
        raise BadInput(f"{path} is not a tokenizer directory (no tokenizer.json); make one with `evolm data tokenizer`.")
    config_path = path / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    eos = config.get("eos_token")
    if isinstance(eos, dict):  # older transformers saved AddedToken objects
        eos = eos.get("content")
    backend = Tokenizer.from_file(str(path / "tokenizer.json"))
    eos_id = backend.token_to_id(eos) if eos else None
    if eos_id is None:
        raise BadInput(f"Tokenizer {path} defines no EOS token.")
    return FastTokenizer(backend, eos, eos_id)


def tokenizer_fingerprint(path: Path | str) -> str:
    """sha256 of the tokenizer's vocabulary, merges, normalization and special tokens.

    Hashes the parsed `tokenizer.json` canonically (not its bytes), so re-saving the same tokenizer
    with another library version keeps the fingerprint; two tokenizers that encode differently differ.
    """
    path = Path(path)
    spec = json.loads((path / "tokenizer.json").read_text(encoding="utf-8"))
    spec.pop("version", None)
    spec.pop("truncation", None)
    spec.pop("padding", None)
    return sha256_bytes(canonical_json(spec).encode())


def token_dtype(vocab_size: int) -> str:
    """uint16 holds ids below 65536 (Llama-2's 32000 vocabulary); larger vocabularies need uint32."""
    return "uint16" if vocab_size <= 1 << 16 else "uint32"
