"""Math answers: extraction from a completion, and grading against a gold answer.

One module serves both the RL reward (`evolm rl`) and evaluation, so a model is trained on exactly
the verdicts it is later measured by. It avoids the original pipeline's pitfall (evolm-paper.md,
section 6): math-verify was fed bare, undelimited answers, so `\\sqrt{3}` never matched even itself
and `2\\sqrt{3}` was cut to `2`. Here both sides are wrapped in `\\boxed{}` before parsing, and an
exact normalized-string comparison runs first.

Extraction (the paper's protocol): the last brace-matched `\\boxed{...}`; else GSM8K's native
`#### N`; else the text after the last "answer is"; nothing found = no answer (wrong).
"""

from __future__ import annotations

import functools
import re
import threading

GRADER = "evolm.math/1: last \\boxed{} | #### N | 'answer is'; normalized exact match, then math-verify on \\boxed{} both sides"
TIMEOUT_S = 5

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*")
_ANSWER_IS = re.compile(r"answer is[:\s]*", re.IGNORECASE)
_GSM8K = re.compile(r"####\s*([^\n]+)")


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` (or `\\fbox{...}`), braces matched; `\\boxed 5` too."""
    matches = list(_BOXED.finditer(text))
    for match in reversed(matches):
        start = match.end()
        if start < len(text) and text[start] == "{":
            depth = 0
            for i in range(start, len(text)):
                if text[i] == "{":
                    depth += 1
                elif text[i] == "}":
                    depth -= 1
                    if depth == 0:
                        return text[start + 1:i].strip()
            continue  # unbalanced: try an earlier one
        token = re.match(r"[^\s$]+", text[start:])
        if token:
            return token.group(0)
    return None


def extract_answer(text: str) -> str | None:
    if not text:
        return None
    boxed = last_boxed(text)
    if boxed:
        return boxed
    gsm = _GSM8K.findall(text)
    if gsm:
        return gsm[-1].strip()
    found = list(_ANSWER_IS.finditer(text))
    if found:
        tail = text[found[-1].end():].strip().split("\n")[0]
        tail = re.sub(r"\.\s*$", "", tail).strip().strip("$").strip()
        return tail or None
    return None


def gold_answer(row: dict) -> str | None:
    """The gold answer of a benchmark/pool row: gt_answer, else last \\boxed{} or #### of gt_solution."""
    answer = row.get("gt_answer")
    if isinstance(answer, str) and answer.strip():
        return answer.strip()
    return extract_answer(row.get("gt_solution") or "")


_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}")


def normalize(answer: str) -> str:
    """A canonical string for the exact-match shortcut (not a replacement for math-verify)."""
    s = answer.strip()
    s = _TEXT.sub(r"\1", s)
    for old, new in (("\\left", ""), ("\\right", ""), ("\\!", ""), ("\\,", ""), ("\\;", ""), ("\\ ", ""),
                     ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("^\\circ", ""), ("^{\\circ}", ""),
                     ("\\%", ""), ("%", ""), ("\\$", ""), ("$", "")):
        s = s.replace(old, new)
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)  # 1,000 -> 1000
    s = s.replace(" ", "").rstrip(".")
    s = re.sub(r"^[a-zA-Z]\s*=", "", s)  # x = 5 -> 5
    return s.lower()


def _timeout() -> int | None:
    # math-verify's timeouts use SIGALRM, which only the main thread may set.
    return TIMEOUT_S if threading.current_thread() is threading.main_thread() else None


# Verdicts are pure functions of the two strings; math-verify's parse is the slow part (about 1 ms,
# up to the timeout), and evaluation asks again for the same pairs (K samples that agree, Maj@K's
# clustering, the RL reward of repeated rollouts), so they are remembered.
@functools.lru_cache(maxsize=1 << 16)
def answers_match(predicted: str, gold: str) -> bool:
    """Whether two extracted answers are equal: normalized strings, else math-verify on \\boxed{} forms."""
    if normalize(predicted) == normalize(gold):
        return True
    from math_verify import parse, verify

    timeout = _timeout()
    try:
        gold_parsed = parse(f"\\boxed{{{gold}}}", parsing_timeout=timeout)
        pred_parsed = parse(f"\\boxed{{{predicted}}}", parsing_timeout=timeout)
        if not gold_parsed or not pred_parsed:
            return False
        return bool(verify(gold_parsed, pred_parsed, timeout_seconds=timeout))
    except Exception:  # noqa: BLE001 - a grader never crashes a run: unparseable = wrong
        return False
