"""What every downstream task is: a test file, a domain, and a grader family.

A grader family knows how to find a row's gold answer, how to extract an answer from a completion,
and when two answers are equivalent (the same relation clusters samples for Maj@K). Families are
the small modules beside this one; `registry.py` maps benchmark file stems to families.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from evolm.errors import BadInput
from evolm.fsutil import read_jsonl, sha256_file


class Grader(Protocol):
    NAME: str  # versioned, recorded with every result: changing a grader changes this string

    def gold(self, row: dict) -> str | None: ...

    def extract(self, completion: str) -> str | None: ...

    def equivalent(self, predicted: str, gold: str) -> bool: ...


@dataclass(frozen=True)
class Task:
    name: str  # the benchmark file's stem, e.g. GSM8KPlatinum
    domain: str  # "id" (in-domain: math) or "ood"
    path: Path
    grader: Grader

    def rows(self, limit: int | None = None) -> list[dict]:
        """The test rows in file order (the first `limit` of them), each with a gold answer."""
        rows = []
        for number, row in read_jsonl(self.path):
            if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(row.get("problem"), str):
                raise BadInput(f"{self.path} line {number} is not a test row with an id and a problem.")
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
        if not rows:
            raise BadInput(f"{self.path} holds no rows.")
        return rows

    def sha256(self) -> str:
        return sha256_file(self.path)

    def grade(self, completion: str | None, gold: str | None) -> tuple[str | None, bool]:
        """(extracted answer, correct?) for one completion; no answer or no gold is wrong."""
        answer = self.grader.extract(completion or "")
        if answer is None or gold is None:
            return answer, False
        return answer, bool(self.grader.equivalent(answer, gold))


def answer_region(completion: str, extract_boxed: Callable[[str], str | None]) -> str | None:
    """Where a final answer sits: the last \\boxed{}, else after the last "answer is", else a
    completion that is a single short line (a bare answer such as a test file's own gt_solution)."""
    region = extract_boxed(completion)
    if region is not None:
        return region
    text = completion.strip()
    if text and "\n" not in text and len(text) <= 200:
        return text
    return None
