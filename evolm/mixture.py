"""Token-budget mixtures: which window of which source each training sequence reads.

A mixture is a list of sources, each a token-shard split with a token budget (the paper's
`8+42BT` = 8B tokens of FineWeb-Edu replay + 42B of FineMath). Each source contributes
budget // seq_len windows of seq_len + 1 tokens (stride seq_len, so the last target of one window
is the first input of the next and no token is wasted); the sources' windows are interleaved in a
seeded random order, so every stretch of training sees them in proportion to their budgets.
Within a source, windows are read in a seeded random order; a budget larger than the source
repeats it (another pass, another order) and says so in `epochs`.

Sequence k of the run is row k of `plan.batch(...)`, a pure function of the plan: resuming at step s just
starts at sequence s * global_batch, and every process of a data-parallel run reads its own slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evolm.errors import BadInput
from evolm.shards import SplitReader, TokenShards

CHUNK = 1 << 16


@dataclass
class MixtureSource:
    name: str
    """'pretrain', 'domain' or 'replay' (or a user label)."""
    path: Path
    budget: int
    """Tokens requested from this source."""


class MixturePlan:
    def __init__(self, sources: list[MixtureSource], seq_len: int, seed: int, split: str = "train"):
        if not sources:
            raise BadInput("A training run needs at least one data source.")
        self.sources, self.seq_len, self.seed = sources, seq_len, seed
        self.shards = [TokenShards(s.path) for s in sources]
        self.readers: list[SplitReader] = [sh.split(split) for sh in self.shards]
        self.windows = []
        for source, reader in zip(sources, self.readers):
            available = (len(reader) - 1) // seq_len
            if available < 1:
                raise BadInput(f"Shards {source.path} hold {len(reader)} training tokens, fewer than one sequence of {seq_len + 1}.")
            self.windows.append(available)
        self.counts = [s.budget // seq_len for s in sources]
        for source, count in zip(sources, self.counts):
            if count == 0:  # it would draw nothing while the run's name and knobs say it trained on it
                raise BadInput(f"The {source.name} budget of {source.budget:,} tokens is less than one sequence of {seq_len:,} "
                               f"tokens; ask for at least {seq_len:,} or leave the source out.")
        self.total = sum(self.counts)
        self.labels = None  # one source: sequence k is simply its k-th window
        if len(sources) > 1:
            rng = np.random.default_rng([seed, 0x6D6978])  # 'mix'
            labels = np.concatenate([np.full(n, i, dtype=np.int16) for i, n in enumerate(self.counts)])
            self.labels = rng.permutation(labels)
            # counts of each source before every CHUNK-th sequence, so a sequence's position within
            # its own source is found without a per-sequence index array (156M sequences at 4B-320BT)
            chunks = [np.bincount(self.labels[i:i + CHUNK], minlength=len(sources)) for i in range(0, self.total, CHUNK)]
            self.chunk_prefix = np.vstack([np.zeros(len(sources), dtype=np.int64), np.cumsum(chunks, axis=0)])
        self._orders: dict[tuple[int, int], np.ndarray] = {}

    def __len__(self) -> int:
        return self.total

    def epochs(self, index: int) -> float:
        """Passes over source `index` that its budget asks for (above 1 means repetition)."""
        return self.counts[index] / self.windows[index]

    def _order(self, source: int, epoch: int) -> np.ndarray:
        key = (source, epoch)
        if key not in self._orders:
            rng = np.random.default_rng([self.seed, source, epoch])
            self._orders[key] = rng.permutation(self.windows[source])
            self._orders = {k: v for k, v in self._orders.items() if k[0] != source or k[1] >= epoch - 1}
        return self._orders[key]

    def _positions(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Source and position-within-source of sequences [start, stop)."""
        if self.labels is None:
            return np.zeros(stop - start, dtype=np.int64), np.arange(start, stop)
        labels = self.labels[start:stop].astype(np.int64)
        chunk = start // CHUNK
        before = self.chunk_prefix[chunk] + np.bincount(self.labels[chunk * CHUNK:start], minlength=len(self.sources))
        positions = np.empty(stop - start, dtype=np.int64)
        for source in range(len(self.sources)):
            mask = labels == source
            positions[mask] = before[source] + np.arange(int(mask.sum()))
        return labels, positions

    def batch(self, start: int, stop: int) -> np.ndarray:
        """Sequences [start, stop) of the run as an int64 array of shape (stop - start, seq_len + 1)."""
        if not 0 <= start <= stop <= self.total:
            raise IndexError(f"sequences [{start}, {stop}) outside a plan of {self.total}")
        labels, positions = self._positions(start, stop)
        out = np.empty((stop - start, self.seq_len + 1), dtype=np.int64)
        for row, (source, position) in enumerate(zip(labels.tolist(), positions.tolist())):
            epoch, offset = divmod(position, self.windows[source])
            window = int(self._order(source, epoch)[offset])
            out[row] = self.readers[source].window(window * self.seq_len, self.seq_len + 1)
        return out

    def tokens_drawn(self, sequences: int) -> list[int]:
        """Tokens each source supplied to the first `sequences` sequences (seq_len per sequence)."""
        if self.labels is None:
            return [sequences * self.seq_len]
        drawn = np.bincount(self.labels[:sequences], minlength=len(self.sources))
        return [int(n) * self.seq_len for n in drawn]
