"""`evolm pretrain`: train a preset from scratch on token shards until the token budget is spent."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from evolm.checkpoint import Checkpoint
from evolm.errors import BadInput
from evolm.fsutil import releases_outputs_on_failure
from evolm.mixture import MixturePlan, MixtureSource
from evolm.presets import get_preset
from evolm.shards import TokenShards
from evolm.stages import branches
from evolm.stages.lm_run import (Overrides, RunSpec, check_exports, check_shards_tokenizer, data_record, quiet_transformers, run_and_save,
                                  decay_setting, note_whole_steps, schedule_options, train_config, warn_repeats)
from evolm.tokenizer import load_fast_tokenizer, tokenizer_fingerprint
from evolm.console import log
from evolm.training.processes import is_main_process, world_size
from evolm.training.rundir import latest_state, partial_dir
from evolm.stages.outputs import check_outputs
from evolm.training.tracking import check_report_to
from evolm.units import PerParam, format_count_exact, resolve_count


@releases_outputs_on_failure
def run(*, model: str, tokens: int | PerParam, data: Path, out: Path, tokenizer: Path | None = None,
        overrides: Overrides | None = None, resume: bool = False, overwrite: bool = False,
        branch_at: tuple[int, ...] = (), branch_from: Path | None = None) -> Checkpoint:
    overrides = overrides or Overrides()
    overrides.check()  # every option, before anything is read or written (or torch imported: bad input is quick)
    import torch
    from transformers import AutoModelForCausalLM

    report_to = check_report_to(overrides.report_to)
    quiet_transformers()
    preset = get_preset(model)
    check_outputs(out, resume=resume, overwrite=overwrite,
                  inputs={"the shards": data, "the tokenizer": tokenizer, "the stable run": branch_from})
    shards = TokenShards(data)
    tokenizer_dir = Path(tokenizer or shards.tokenizer_path)
    if not (tokenizer_dir / "tokenizer.json").is_file():
        if tokenizer is not None:
            raise BadInput(f"--tokenizer {tokenizer} is not a tokenizer folder (no tokenizer.json).")
        raise BadInput(f"The tokenizer {tokenizer_dir} recorded by {data} is gone; pass --tokenizer DIR.")
    tok_sha = tokenizer_fingerprint(tokenizer_dir)
    check_shards_tokenizer(shards, data, tok_sha, load_fast_tokenizer(tokenizer_dir).eos_id, str(tokenizer_dir))
    vocab = shards.vocab_size
    budget = resolve_count(tokens, preset.params(vocab))
    world = world_size()
    config = train_config(preset, [budget], overrides, world, vocab=vocab)
    start_from, notes = None, schedule_options(overrides)
    if branch_from is not None:  # a budget branch of a WSD run: only the decay is trained here
        if branch_at:
            raise BadInput("A branch trains one budget's decay; --branch-at belongs to the stable run.")
        index, config, shared, start_from = branches.find_branch(Path(branch_from), budget, config, overrides, out)
        recorded = branches.started_at(out) if resume and latest_state(partial_dir(out)) else None
        if recorded is not None:  # resumed from its own state: the weights continue that start
            shared = recorded
        if index["data_fingerprint"] != shards.fingerprint or index["preset"] != preset.name:
            raise BadInput(f"A branch trains the stable run's model on its data: {branch_from} is {index['preset']} on "
                           f"{index['data']}.")
        early = [c for c in config.export_at if config.export_step(c) <= shared]
        if early:
            raise BadInput(f"--export-at {early[0]:,} falls before the step this branch starts from ({shared}), which "
                           "the stable run trained: export it from the stable run.")
        decay_start = config.total_steps - config.decay_steps
        if shared < decay_start and is_main_process():  # a budget added after the stable run, or above it
            log(f"{branch_from} saved no state at step {decay_start}, where this budget's decay starts: the branch "
                + (f"continues its stable phase from step {shared} ({start_from.name}'s state)" if start_from else
                   "trains from step 0 with its warmup and decay")
                + ", and saves its state there for budgets added later")
        notes["decay"] = decay_setting(index["decay"])  # the stable run's, which the branch must keep
        notes["branch_of"] = {"stable_run": index["stable_run"], "shared_steps": shared,
                              "shared_tokens": shared * config.tokens_per_step}
    points = branches.branch_points(config, overrides, tuple(branch_at), out, own=budget)
    name = format_count_exact(budget)  # of this budget's states
    if branch_from is not None and shared < decay_start:
        # the stable stretch this branch trains is one a budget added after it need not train again: its state
        # where the decay starts, staged here, goes to the stable run's once this branch has finished
        points = {decay_start: branches.staging_dir(out) / name}
    check_exports(out, config, resume=resume, overwrite=overwrite)
    plan = MixturePlan([MixtureSource("pretrain", Path(data), budget)], config.seq_len, config.seed)
    warn_repeats(plan)
    note_whole_steps(plan, config)
    torch.manual_seed(config.seed)
    hf_config = preset.hf_config(vocab, eos_token_id=shards.eos_id)
    net = AutoModelForCausalLM.from_config(hf_config, attn_implementation="sdpa")
    on_saved = branches.publish
    if is_main_process():
        if not resume:  # states an interrupted earlier run staged must not seed this run's branches
            branches.clear_staged(out)
        if branch_from is not None:
            # (also where it now starts at its decay: what it staged before a resume is dropped, not published)
            on_saved = partial(branches.contribute, Path(branch_from), name=name,
                               stable_run_id=branches.remember_origin(out, index, resume=resume, shared=shared))
        elif points:
            branches.write_index(out, config, overrides, points, {"preset": preset.name, "data": str(Path(data).resolve()),
                                                                  "data_fingerprint": shards.fingerprint}, resume=resume)
    spec = RunSpec(
        stage="pretrain", knobs={"preset": preset.name, "tokens": budget}, preset=preset, vocab=vocab,
        tokenizer_dir=tokenizer_dir, tokenizer_sha256=tok_sha, plan=plan, config=config,
        val_sets={"pretrain": shards.split("val")},
        data_records=[data_record("pretrain", shards, budget, plan, 0)],
        extra={"budget_spec": str(tokens)}, report_to=report_to,
        branch_points=points, start_from=start_from, schedule_notes=notes, on_saved=on_saved,
    )
    return run_and_save(spec, net, out, resume=resume, overwrite=overwrite)
