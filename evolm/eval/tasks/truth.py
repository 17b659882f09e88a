"""True / False / Uncertain answers (BoardgameQA, StrategyQA, SynthRules, SynthFacts).

Detection is by whole word, never by substring: the original pipeline read "unknown" as "no" and
so as False (evolm-paper.md, section 6). Synonyms: yes / proved -> True, no / disproved -> False,
unknown / undetermined / cannot be determined / neither true nor false -> Uncertain; "not true" is
no answer (False or Uncertain?). Inside the answer region (the last \\boxed{},
else after the last "answer is"; as the paper's protocol, nothing else is an answer) the first label
is the answer: "The answer is True because no rule applies" says True (the explanation's "no" is not
an answer). A bare one-line completion was an answer up to `evolm.truth/3`: "Yes, the dog is not
proved, so False" was read as True.
"""

from __future__ import annotations

import re

from evolm.eval import math_grader
from evolm.eval.tasks.base import TaskSpec
from evolm.eval.tasks.hub import HubMismatch, HubSource, HubTask, evolm_row, pinned_ids

FAMILY = "truth"
NAME = ("evolm.truth/4: whole-word True/False/Uncertain (yes/no/unknown, proved/disproved, neither...nor) in the answer "
        "region (no bare line); the first is the answer; a negated one is none")
GOLD_HINT = "expected gt_answer True, False or Uncertain (or yes / no / unknown)"

_PROOF = r"(?:dis)?prov(?:ed|en)"  # BoardgameQA's own labels: proved, disproved
_WORD = rf"(?:true|false|yes|no|{_PROOF})"
_CANNOT = r"(?:cannot|can ?not|can['’]?t) be"
# Uncertain, not the label a phrase begins with or ends in
_UNDECIDED = rf"(?:neither {_WORD} nor {_WORD}|{_CANNOT} (?:determined|{_PROOF})|not determined)"
# negated: False or Uncertain? no answer ("cannot be proved" is BoardgameQA's Uncertain, above)
_NEGATED = rf"(?:(?:not|\w+n['’]t) {_WORD}|{_CANNOT} (?:true|false|yes|no))"
_LABELS = re.compile(rf"\b({_UNDECIDED}|{_NEGATED}|{_WORD}|uncertain|unknown|undetermined)\b", re.IGNORECASE)
_CANONICAL = {"true": "True", "yes": "True", "proved": "True", "proven": "True",
              "false": "False", "no": "False", "disproved": "False", "disproven": "False"}


def label(text: str) -> str | None:
    """The first True/False/Uncertain label said in `text`, by whole word; a negated one ("not true",
    which may mean False or Uncertain) is no answer."""
    found = _LABELS.search(text)
    if not found:
        return None
    said = found.group(1).lower()
    if re.fullmatch(_NEGATED, said):
        return None
    return _CANONICAL.get(said, "Uncertain")


def gold(row: dict) -> str | None:
    answer = row.get("gt_answer")
    return label(answer) if isinstance(answer, str) else None


def extract(completion: str) -> str | None:
    region = math_grader.extract_answer(completion)
    return label(region) if region is not None else None


def equivalent(predicted: str, gold: str) -> bool:
    return predicted == gold


# The paper's test sets, rebuilt from the hub (evolm/eval/tasks/hub.py loads them).
BOARDGAMEQA_HEAD = 'Solve the following problem. Your final answer should be "True", "False", or "Uncertain".\n\n'
BOARDGAMEQA_LABELS = {"proved": "True", "disproved": "False", "unknown": "Uncertain"}


def boardgameqa_to_row(record: dict) -> dict:
    """tasksource/Boardgame-QA record + `idx` -> row; gold True / False / Uncertain."""
    label = record["label"]
    if label not in BOARDGAMEQA_LABELS:
        raise HubMismatch(f"BoardgameQA row {record.get('idx')} has the unknown label {label!r}.")
    answer = BOARDGAMEQA_LABELS[label]
    return evolm_row(f"BoardgameQA-{int(record['idx']):04d}", BOARDGAMEQA_HEAD + record["example"], answer, answer)


def boardgameqa_fits(record: dict) -> bool:
    """EvoLM's length filter: drop problems longer than 2048 tokens by the 1.3-tokens-per-word estimate."""
    return len((BOARDGAMEQA_HEAD + record["example"]).split()) * 1.3 <= 2048


STRATEGYQA_HEAD = "You are given the following facts:\n"
STRATEGYQA_ASK = ('\nBased on the facts above, answer the following question. Your final answer should be '
                  'either "True" or "False".\n')


def strategyqa_to_row(record: dict) -> dict:
    """StrategyQA (strategyQA_train.json) record -> row with numbered facts; gold True / False."""
    facts = "".join(f"{i + 1}. {fact}\n" for i, fact in enumerate(record["facts"]))
    answer = str(record["answer"])
    return evolm_row(f"StrategyQA-{record['qid']}", STRATEGYQA_HEAD + facts + STRATEGYQA_ASK + record["question"],
                answer, answer)


TASKS = (
    TaskSpec("BoardgameQA500", "ood", "ood", "hub", hub=HubTask(
        "BoardgameQA500",
        (HubSource("tasksource/Boardgame-QA", None, "test", "78e38c3c8df3b4f6de7ae8bd1fc6a8bd1f31be56"),),
        boardgameqa_to_row, "CC BY 4.0", "exact",
        "ids index all 15000 test rows; EvoLM's unseeded 500-row draw (after its length filter) is pinned",
        rows=500, hub_rows=15000, keep=boardgameqa_fits, pinned_ids=pinned_ids("BoardgameQA500", "BoardgameQA-", 4))),
    TaskSpec("StrategyQA500", "ood", "ood", "hub", hub=HubTask(
        "StrategyQA500", (HubSource("havens2/strategyQA_train", None, "train"),), strategyqa_to_row, "MIT",
        "exact", "the original strategyQA_train.json; EvoLM's unseeded 500-question draw is pinned",
        rows=500, hub_rows=2290, pinned_ids=pinned_ids("StrategyQA500", "StrategyQA-"))),
    TaskSpec("SynthRules", "ood", "synth-ood", "synth"),
    TaskSpec("SynthFacts", "ood", "synth-ood", "synth"),
)
