"""Math answers: extraction from a completion, and grading against a gold answer.

One module serves both the RL reward (`evolm rl`) and evaluation, so a model is trained on exactly
the verdicts it is later measured by. It avoids the original pipeline's pitfall (evolm-paper.md,
section 6): math-verify was fed bare, undelimited answers, so `\\sqrt{3}` never matched even itself
and `2\\sqrt{3}` was cut to `2`. Here both sides are wrapped in `\\boxed{}` before parsing, and an
exact normalized-string comparison runs first.

Extraction: the last brace-matched `\\boxed{...}` (the paper's protocol); else whichever comes later
of the text after the last "answer is" (the paper's fallback: its first sentence, or a `$$`/`\\[`
display block that follows; emphasis around it removed) and GSM8K's native `#### N` line (starting with a
number: a markdown heading `#### Step 2` is not an answer); nothing found = no answer (wrong). A gold
solution is read boxed, then `#### ...`, then "answer is".
"""

from __future__ import annotations

import functools
import re
import threading

GRADER = ("evolm.math/3: last \\boxed{} | the later of 'answer is' (its sentence) and a '#### N' line; normalized exact match "
          "(thousands separators only in a whole number), comma lists as multisets, then math-verify on \\boxed{} both sides")
TIMEOUT_S = 5

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*")
_ANSWER_IS = re.compile(r"answer is[:\s]*", re.IGNORECASE)
_GSM8K = re.compile(r"####\s*([^\n]+)")
# GSM8K's answer line in a completion: what follows `####` when it starts with a number ("#### 12",
# "#### 12 dollars", "#### 25%", "#### **7**"); not a markdown heading ("#### Step 2: solve", "#### 1. Setup")
_GSM8K_LINE = re.compile(r"^[ \t]*####[ \t]*(?!\d+\.[ \t]+[A-Za-z])((?:\*\*)?\$?[ \t]*-?\.?\d[^\n]*?)[ \t]*$", re.MULTILINE)
_DISPLAY = re.compile(r"^(?:\$\$|\\\[)(.*?)(?:\$\$|\\\])", re.DOTALL)
# markdown emphasis around the whole answer (`**5**`, `*5*`); inside it `*` and `_` are arithmetic, a
# Python power, a literal's own characters or a LaTeX subscript (`2**3`, `'**a**'`, `x_1`)
_EMPHASIS = re.compile(r"^(\*\*|\*|_)(?=\S)(.+?)(?<=\S)\1$")
# one number with thousands separators (`1,234`, `-12,000.5`): also a two-item list (`70,110`), which
# only the question tells apart
_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
# units after a number, as normalize() leaves them (lower case, no spaces): `dollars`, `cm^2`, `/hour`,
# `ft^2/s`; a digit only in a power, so `1e6` and `12dollarsand50cents` are not a number and a unit; a power
# only on a unit of two letters or `m`, since `5x^2` is an expression, not 5 of a unit x^2
_UNIT_PIECE = r"(?:(?:[a-z]{2,}|m)\^\d+|[a-z]+)"
_UNIT = re.compile(rf"(?<=\d)/?{_UNIT_PIECE}(?:/{_UNIT_PIECE})*$")
# a sentence's end: a period before a capital, but not a title's (Ms. Weston is a TabMWP answer); an initial's
# is one, since a letter is an answer too (MATH's "(A)" choices: "The answer is A. Then...")
_SENTENCE_END = re.compile("".join(rf"(?<!\b{t})" for t in ("Mr", "Ms", "Mrs", "Dr", "St", "Jr", "Sr", "Mt", "Prof"))
                           + r"\.\s+(?=[A-Z])")


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
    """A completion's final answer: the last \\boxed{}, else after the last "answer is", else a
    `#### N` line."""
    if not text:
        return None
    boxed = last_boxed(text)
    if boxed:
        return boxed
    # the later of the two is the final answer: "the answer is" may be said of the question before a
    # `#### 7` line, and a `#### 12` line may come before "So the answer is 12"
    said = _last(_ANSWER_IS.finditer(text))
    line = _last(_GSM8K_LINE.finditer(text))
    if line and (not said or line.start() > said.start()):
        # a trailing remark in parentheses is not the answer ("#### 7 (apples)")
        return _clean(re.sub(r"\s*\([^()]*\)\s*\.?$", "", line.group(1))) or _after(text, said)
    return _after(text, said)


def _last(matches):
    """The last of an iterator of matches, or None."""
    last = None
    for last in matches:
        pass
    return last


def answer_is(text: str) -> str | None:
    """What follows the last "answer is" (see `_after`)."""
    return _after(text, _last(_ANSWER_IS.finditer(text)))


def _after(text: str, said: re.Match | None) -> str | None:
    """What follows an "answer is" match: a display block (`$$ x $$`, `\\[ x \\]`) or the rest of its line,
    without emphasis around it (`**5**`), a final period or surrounding `$`."""
    if said is None:
        return None
    rest = text[said.end():].lstrip()
    display = _DISPLAY.match(rest)
    if display:
        return _clean(display.group(1))
    return _clean(_first_sentence(rest.split("\n")[0]))


def _first_sentence(line: str) -> str:
    """"34.35. She spends..." -> "34.35": a period before a capital ends a sentence (3.5 and "12 p.m." stay
    whole), but not inside an open quote ('Hello. World' is one CRUXEval answer; brackets and `$` are
    left unpaired by half-open intervals and escaped dollars)."""
    for end in _SENTENCE_END.finditer(line):
        head = line[:end.start()]
        if all(head.count(quote) % 2 == 0 for quote in ("'", '"')):
            return head
    return line


def _clean(answer: str) -> str | None:
    answer = re.sub(r"\.\s*$", "", answer.strip()).strip()
    answer = _EMPHASIS.sub(r"\2", answer).strip()
    return re.sub(r"\.\s*$", "", answer).strip().strip("$").strip() or None


def gold_answer(row: dict) -> str | None:
    """The gold answer of a benchmark/pool row: gt_answer, else the last \\boxed{} of gt_solution, else
    its `#### ...` (GSM8K's own), else after "answer is"."""
    answer = row.get("gt_answer")
    if isinstance(answer, str) and answer.strip():
        return answer.strip()
    solution = row.get("gt_solution") or ""
    if not solution:
        return None
    native = _GSM8K.findall(solution)
    return last_boxed(solution) or (native[-1].strip() if native else None) or answer_is(solution)


_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}")


def unwrap_text(answer: str) -> str:
    """`\\text{Friday}` -> `Friday` (also `\\textbf`, `\\mathrm`, `\\mbox`): models box words in them."""
    return _TEXT.sub(r"\1", answer)


def ungroup(number: str) -> str | None:
    """`1,234.5` -> `1234.5`; None where a comma is not a thousands separator (`4,5`, `12,34`: a list, or
    a decimal comma, which only the question tells apart)."""
    if "," not in number:
        return number
    return number.replace(",", "") if _GROUPED.fullmatch(number) else None


def plain_number(normalized: str) -> str | None:
    """A normalize()d answer without its trailing units (`12dollars`, `12.50/hour`, `5cm^2`; not `12/5`) and
    thousands separators (`1,200`); None where a comma is not one (`4,5`). The text is a number only if
    the caller's pattern says so."""
    return ungroup(_UNIT.sub("", normalized))


def normalize(answer: str) -> str:
    """A canonical string for the exact-match shortcut (not a replacement for math-verify)."""
    s = unwrap_text(answer.strip())
    for old, new in (("\\left", ""), ("\\right", ""), ("\\!", ""), ("\\,", ""), ("\\;", ""), ("\\ ", ""),
                     ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("^\\circ", ""), ("^{\\circ}", ""),
                     ("\\%", ""), ("%", ""), ("\\$", ""), ("$", "")):
        s = s.replace(old, new)
    s = s.replace(" ", "").rstrip(".")
    s = re.sub(r"^[a-zA-Z]\s*=", "", s)  # x = 5 -> 5
    s = ungroup(s) or s  # 1,000 -> 1000; not inside brackets, where [-36,104] is an interval
    return s.lower()


def _listed(answer: str) -> list[str] | None:
    """The items of a bare comma-separated answer (`70, 110`; not a tuple, interval or set in
    brackets, whose order or kind matters to math-verify), or None."""
    s = answer.strip().strip("$").strip()
    if "," not in s or re.search(r"[()\[\]{}]", s.replace("\\{", "").replace("\\}", "")) or "\\{" in s:
        return None
    items = [item.strip() for item in s.split(",")]
    return items if len(items) > 1 and all(items) else None


def _same_items(predicted: list[str], gold: list[str], ordered: bool = False) -> bool:
    """Two lists of answers equal as multisets (`ordered`: item by item), each pair by `answers_match`."""
    if len(predicted) != len(gold):
        return False
    if ordered:
        return all(answers_match(p, g) for p, g in zip(predicted, gold))
    left = list(gold)
    for item in predicted:
        match = next((i for i, g in enumerate(left) if answers_match(item, g)), None)
        if match is None:
            return False
        left.pop(match)
    return True


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
    listed = _listed(predicted), _listed(gold)
    if listed[0] and listed[1]:  # "Enter all the solutions, separated by commas": in any order, unless
        # one side also reads as one number (`1,234`): then "234, 1" is not its list, only "1, 234" is
        ambiguous = any(_GROUPED.fullmatch(a.replace(" ", "")) for a in (predicted, gold))
        return _same_items(*listed, ordered=ambiguous)
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
