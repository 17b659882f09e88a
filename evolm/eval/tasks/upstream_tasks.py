"""The upstream (log-likelihood, multiple-choice) tasks: the paper's lm-eval tasks run by name,
and the synthetic cloze sets of `evolm data synth` run as local lm-eval tasks (offline).

The lm-eval bridge (`evolm.eval.upstream`) and `--suite` read these declarations; nothing else
lists upstream task names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UpstreamSpec:
    name: str  # lm-eval task name, or the cloze file's stem
    metric: str  # the metric the paper reports (acc_norm where the task has it)
    suite: str  # "upstream" (the paper's, from lm-eval) or "cloze" (synthetic, local files)
    source: str  # "lm-eval" (lm-eval's own task and data) or "synth" (a cloze/NAME.jsonl file)
    folder: str | None = None  # lm-eval's: the folder of lm_eval/tasks/ its YAML is in (evolm.eval.upstream.make_task_manager)


# The paper's six (section 4): 0-shot, acc_norm where it exists, acc for Winogrande.
TASKS: tuple[UpstreamSpec, ...] = (
    UpstreamSpec("hellaswag", "acc_norm", "upstream", "lm-eval", "hellaswag"),
    UpstreamSpec("winogrande", "acc", "upstream", "lm-eval", "winogrande"),
    UpstreamSpec("piqa", "acc_norm", "upstream", "lm-eval", "piqa"),
    UpstreamSpec("openbookqa", "acc_norm", "upstream", "lm-eval", "openbookqa"),
    UpstreamSpec("arc_easy", "acc_norm", "upstream", "lm-eval", "arc"),
    UpstreamSpec("arc_challenge", "acc_norm", "upstream", "lm-eval", "arc"),
    UpstreamSpec("SynthClozeFacts", "acc_norm", "cloze", "synth"),
    UpstreamSpec("SynthClozeMath", "acc_norm", "cloze", "synth"),
    UpstreamSpec("SynthClozeText", "acc_norm", "cloze", "synth"),
)
BY_NAME = {t.name: t for t in TASKS}
PAPER_TASKS: dict[str, str] = {t.name: t.metric for t in TASKS if t.source == "lm-eval"}
CLOZE_TASKS: tuple[str, ...] = tuple(t.name for t in TASKS if t.source == "synth")
