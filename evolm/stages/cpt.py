"""`evolm cpt`: continued pre-training from a parent checkpoint on a domain + replay mixture.

As in the paper, only the parent's weights are loaded: the optimizer and the learning-rate schedule
start fresh (same recipe as pre-training). The sources are interleaved in proportion to their
token budgets (`8+42BT` = `--replay web:8B --domain math:42B`); the manifest records each source's
budget and the tokens actually drawn, and the replay share of both the CPT stream and the parent's
pre-training budget (the paper's "about 5% replay" is 8B of a 160B pre-training budget, 16% of the
CPT stream).
"""

from __future__ import annotations

from pathlib import Path

from evolm.checkpoint import Checkpoint, check_policy, load_checkpoint
from evolm.errors import BadInput
from evolm.fsutil import releases_outputs_on_failure
from evolm.mixture import MixturePlan, MixtureSource
from evolm.presets import get_preset
from evolm.lineage_data import pretraining_data
from evolm.shards import TokenShards
from evolm.stages.limits import checkpoint_positions
from evolm.stages.lm_run import (
    Overrides, RunSpec, check_exports, check_shards_tokenizer, quiet_transformers, data_record, pretraining_val_set, run_and_save, schedule_options,
    note_whole_steps, train_config, warn_repeats,
)
from evolm.tokenizer import load_fast_tokenizer
from evolm.training.processes import world_size
from evolm.stages.outputs import check_outputs
from evolm.training.tracking import check_report_to
from evolm.units import parse_count


def parse_source(text: str, what: str) -> tuple[Path, int]:
    """`SHARDS:BUDGET` -> (path, tokens)."""
    path, sep, budget = str(text).rpartition(":")
    if not sep or not path:
        raise BadInput(f"{what} {text!r} must be SHARDS:BUDGET, e.g. shards/math:42B.")
    tokens = int(parse_count(budget, what=f"{what} budget"))
    if tokens <= 0:
        raise BadInput(f"{what} {text!r} needs a positive token budget.")
    return Path(path), tokens


@releases_outputs_on_failure
def run(*, parent: Path, domain: list[str], replay: list[str], out: Path, overrides: Overrides | None = None,
        resume: bool = False, overwrite: bool = False) -> Checkpoint:
    overrides = overrides or Overrides()
    overrides.check()  # every option, before anything is read or written (or torch imported: bad input is quick)
    import torch
    from transformers import AutoModelForCausalLM

    report_to = check_report_to(overrides.report_to)
    quiet_transformers()
    if not domain:
        raise BadInput("CPT needs at least one --domain SHARDS:BUDGET.")
    sources = [("domain", *parse_source(d, "--domain")) for d in domain] + [("replay", *parse_source(r, "--replay")) for r in replay]
    check_outputs(out, resume=resume, overwrite=overwrite,
                  inputs={"the parent": parent, **{f"the {kind} shards {i + 1}": path for i, (kind, path, _) in enumerate(sources)}})
    ancestor = load_checkpoint(parent)
    check_policy(ancestor, "trained further")
    preset = get_preset(ancestor.manifest.model.preset)
    shard_sets = []
    eos_id = load_fast_tokenizer(ancestor.path).eos_id
    for kind, path, _ in sources:
        shards = TokenShards(path)
        check_shards_tokenizer(shards, path, ancestor.manifest.tokenizer.sha256, eos_id, f"the parent {parent}")
        shard_sets.append(shards)
    vocab = ancestor.manifest.model.vocab_size
    domain_tokens = sum(b for kind, _, b in sources if kind == "domain")
    replay_tokens = sum(b for kind, _, b in sources if kind == "replay")
    config = train_config(preset, [b for _, _, b in sources], overrides, world_size(),
                          positions=checkpoint_positions(ancestor.path), model=f"the parent {parent}", vocab=vocab)
    check_exports(out, config, resume=resume, overwrite=overwrite)
    plan = MixturePlan([MixtureSource(kind, path, b) for kind, path, b in sources], config.seq_len, config.seed)
    warn_repeats(plan)
    note_whole_steps(plan, config)
    torch.manual_seed(config.seed)
    net = AutoModelForCausalLM.from_pretrained(ancestor.path, dtype=torch.float32, attn_implementation="sdpa")
    parent_budget = None
    if ancestor.stage == "pretrain":  # an export (OUT@COUNT) keeps its run's knobs: it had seen only tokens_done
        schedule = ancestor.manifest.schedule
        parent_budget = ancestor.manifest.knobs.get("tokens") if schedule.completed else schedule.tokens_done
    names = _val_names(sources)
    spec = RunSpec(
        stage="cpt", knobs={"domain_tokens": domain_tokens, "replay_tokens": replay_tokens}, preset=preset, vocab=vocab,
        tokenizer_dir=ancestor.path, tokenizer_sha256=ancestor.manifest.tokenizer.sha256, plan=plan, config=config,
        val_sets={**pretraining_val_set(ancestor, skip=[p for _, p, _ in sources]),
                  **{name: shards.split("val") for name, shards in zip(names, shard_sets)}},
        data_records=[data_record(name, shards, b, plan, i) for i, (name, shards, (_, _, b)) in enumerate(zip(names, shard_sets, sources))],
        parent=ancestor,
        extra={"pretraining_data": pretraining_data(ancestor), "replay": {
            "share_of_cpt": replay_tokens / (domain_tokens + replay_tokens),
            "share_of_parent_pretraining": replay_tokens / parent_budget if parent_budget else None,
        }}, report_to=report_to, schedule_notes=schedule_options(overrides),
    )
    return run_and_save(spec, net, out, resume=resume, overwrite=overwrite)


def _val_names(sources) -> list[str]:
    """'domain' / 'replay' (numbered when a kind repeats): the names of validation losses."""
    names = []
    for kind, _, _ in sources:
        same = sum(1 for k, _, _ in sources if k == kind)
        names.append(kind if same == 1 else f"{kind}{sum(1 for n in names if n.startswith(kind))}")
    return names
