"""Tokenization throughput: `evolm data prepare` vs a plain one-document-at-a-time loop.

Both use the same Rust tokenizer on the same jsonl corpus (the synthetic general text, repeated to
--megabytes), both read and parse the jsonl. The baseline calls `Tokenizer.encode` per document in
one Python loop and keeps the ids in memory; evolm batches documents through `encode_batch` (all
cores) and writes finished shards. Prints tokens/s of each and, last, `ratio=<evolm / loop>`.

    python benchmarks/bench_tokenize.py [--megabytes 12]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from array import array
from pathlib import Path

from evolm import synth
from evolm.stages.data.prepare import prepare
from evolm.stages.data.tokenizer import make_tokenizer
from evolm.textsource import resolve_source
from evolm.tokenizer import load_fast_tokenizer


def build_corpus(work: Path, megabytes: float) -> tuple[Path, Path]:
    data = work / "synth"
    data.mkdir()
    synth.generate(data, seed=0, scale="tiny")
    general = data / "text" / "general.jsonl"
    tokenizer = work / "tok"
    make_tokenizer(tokenizer, sources=[str(general)], vocab_size=4096, adopt=None)
    lines = general.read_text(encoding="utf-8").splitlines(keepends=True)
    corpus = work / "corpus.jsonl"
    written = 0
    with open(corpus, "w", encoding="utf-8") as handle:
        while written < megabytes * 1e6:
            for line in lines:
                handle.write(line)
                written += len(line)
    return corpus, tokenizer


def plain_loop(corpus: Path, tokenizer_dir: Path) -> int:
    tok = load_fast_tokenizer(tokenizer_dir)
    ids = array("H")
    with open(corpus, encoding="utf-8") as handle:
        for line in handle:
            ids.extend(tok.backend.encode(json.loads(line)["text"], add_special_tokens=False).ids)
            ids.append(tok.eos_id)
    return len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=12.0, help="corpus size in MB of jsonl")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus, tokenizer = build_corpus(work, args.megabytes)
        loop_times, evolm_times, tokens = [], [], 0
        for attempt in range(args.repeats):
            start = time.perf_counter()
            loop_tokens = plain_loop(corpus, tokenizer)
            loop_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = prepare(resolve_source(corpus), tokenizer, work / f"shards-{attempt}")
            evolm_times.append(time.perf_counter() - start)
            splits = result.manifest["splits"]
            tokens = splits["train"]["tokens"] + splits["val"]["tokens"]
            assert tokens == loop_tokens, (tokens, loop_tokens)
        loop_tps, evolm_tps = tokens / min(loop_times), tokens / min(evolm_times)
        print(f"corpus: {corpus.stat().st_size / 1e6:.1f} MB jsonl, {tokens:,} tokens (vocab 4096)")
        print(f"plain loop (encode one document at a time): {loop_tps:,.0f} tokens/s")
        print(f"evolm data prepare (batched, all cores, shards written): {evolm_tps:,.0f} tokens/s")
        print(f"ratio={evolm_tps / loop_tps:.2f}")


if __name__ == "__main__":
    main()
