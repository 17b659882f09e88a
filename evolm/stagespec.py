"""Each stage declared once: its name, knobs, signature segment, sweep axes and description.

A stage's *code* lives in `evolm/stages/`; its *declaration* lives here, as data, so that the
checkpoint contract (signatures), the report (lineage tree, knob columns, sweeps, axis labels) and
the CLI can iterate over the stages without importing training code. Adding a stage is one
`register(StageSpec(...))`; nothing else in the checkpoint module or the report needs an edit.

Knobs are the lineage-defining settings of a stage (what the paper varies: tokens, examples,
epochs); every other setting is in the manifest's schedule, compared by the report's sweep checks.
A knob's report column is `<stage>_<knob>` (`pretrain_tokens`, `sft_epochs`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from evolm.units import SUFFIXES, format_count, trim_number


@dataclass(frozen=True)
class Knob:
    name: str  # the key in the stage's manifest knobs
    label: str  # the report's axis and column label, e.g. "pre-training tokens"
    swept: bool = True  # a sweep axis of the report (and a knob column of its runs table)
    log_axis: bool = False  # plotted on a log axis
    figure: str = ""  # where the paper shows this sweep, e.g. "Paper Fig. 6 / finding 5"


@dataclass(frozen=True)
class StageSpec:
    name: str
    description: str  # one line, for the CLI's help and the report
    knobs: tuple[Knob, ...]
    segment: Callable[[dict], str]  # the stage's part of the paper-style signature, from its knobs
    summary: Callable[[dict], str]  # what the stage consumed, for the report's lineage tree
    kind: str = "post"  # "base": trains on token budgets (pre-training, CPT; FLOPs counted); "post": SFT, RL; "import";
    # "reward": a reward model (a score head, not a policy: never evaluated or trained further as one)

    def column(self, knob: Knob) -> str:
        return f"{self.name}_{knob.name}"


STAGES: dict[str, StageSpec] = {}


def register(spec: StageSpec) -> StageSpec:
    if spec.kind not in ("base", "post", "import", "reward"):
        raise ValueError(f"stage {spec.name}: kind must be base, post, import or reward, not {spec.kind!r}")
    STAGES[spec.name] = spec
    return spec


def get(name: str) -> StageSpec:
    try:
        return STAGES[name]
    except KeyError:
        raise ValueError(f"unknown stage {name!r}; known: {', '.join(STAGES)}") from None


def kind_of(stage: str) -> str | None:
    """base / post / import for a declared stage; None for a stage this evolm does not know."""
    spec = STAGES.get(stage)
    return spec.kind if spec is not None else None


def knob_columns() -> list[tuple[StageSpec, Knob]]:
    """Every swept knob of every stage, in stage order: the report's lineage columns and sweep axes."""
    return [(spec, knob) for spec in STAGES.values() for knob in spec.knobs if knob.swept]


def _cpt_segment(knobs: dict) -> str:
    """`8+42BT` (replay + domain, in the unit of their total, as the paper writes it), or `50BT` without replay."""
    replay, domain = int(knobs.get("replay_tokens", 0)), int(knobs["domain_tokens"])
    unit = next((s for s in ("T", "B", "M", "K") if replay + domain >= SUFFIXES[s]), "")
    scale = SUFFIXES[unit]
    domain_text = trim_number(domain / scale, 3)
    if replay:
        return f"{trim_number(replay / scale, 3)}+{domain_text}{unit}T"
    return f"{domain_text}{unit}T"


def _examples_segment(knobs: dict) -> str:
    return f"{format_count(knobs['examples'])}ep{trim_number(knobs['epochs'], 3)}"


def _examples_summary(knobs: dict) -> str:
    return f"{format_count(knobs.get('examples', 0))} examples x {knobs.get('epochs')} epochs"


register(StageSpec(
    "pretrain", "pre-training from scratch on a token budget",
    (Knob("preset", "model preset", swept=False),
     Knob("tokens", "pre-training tokens", log_axis=True, figure="Paper Fig. 2-3 / findings 1-2")),
    segment=lambda k: f"{k['preset']}-{format_count(k['tokens'])}T",
    summary=lambda k: f"{format_count(k.get('tokens', 0))} tokens", kind="base"))
register(StageSpec(
    "cpt", "continued pre-training on domain tokens, with optional replay of pre-training data",
    (Knob("domain_tokens", "CPT domain tokens", log_axis=True, figure="Paper Fig. 4 / findings 3-4"),
     Knob("replay_tokens", "CPT replay tokens", figure="Paper Fig. 5 / finding 3")),
    segment=_cpt_segment,
    summary=lambda k: f"{format_count(k.get('domain_tokens', 0))} domain + {format_count(k.get('replay_tokens', 0))} replay tokens",
    kind="base"))
register(StageSpec(
    "sft", "supervised fine-tuning on the first N examples of the pool",
    (Knob("examples", "SFT examples", log_axis=True, figure="Paper Fig. 6-7 / finding 5"),
     Knob("epochs", "SFT epochs", figure="Paper Fig. 6 / finding 5")),
    segment=_examples_segment, summary=_examples_summary))
register(StageSpec(
    "rl", "reinforcement learning with verifiable rewards on the last N examples of the pool",
    (Knob("examples", "RL examples", log_axis=True, figure="Paper Fig. 8 / finding 6"),
     Knob("epochs", "RL epochs", figure="Paper Fig. 8 / finding 6")),
    segment=_examples_segment, summary=_examples_summary))
register(StageSpec(
    "import", "a model trained elsewhere, adopted as an evolm checkpoint", (Knob("name", "imported model", swept=False),),
    segment=lambda k: str(k["name"]), summary=lambda k: str(k.get("name", "")), kind="import"))
register(StageSpec(
    "rm", "an outcome reward model trained on graded evaluation samples (for RM scores, finding 8)",
    (Knob("pairs", "reward-model pairs", swept=False), Knob("epochs", "reward-model epochs", swept=False)),
    segment=lambda k: f"rm{format_count(k['pairs'])}ep{trim_number(k['epochs'], 3)}",
    summary=lambda k: f"{format_count(k.get('pairs', 0))} pairs x {k.get('epochs')} epochs", kind="reward"))
