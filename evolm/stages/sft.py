"""`evolm sft`: full (or LoRA) supervised fine-tuning with TRL's SFTTrainer.

The paper's recipe (evolm-paper.md sections 2-3): the first N examples of the pool (or of a split
folder's SFT part), the template
`Human: {problem}\\nAssistant: {solution}<eos>` (installed as the chat template), loss on the
response only, no packing, cutoff 2048, cosine schedule with 10% warmup; 1B: LR 1e-5, global batch
128; 4B: 7.5e-6, 256.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from evolm.checkpoint import Checkpoint
from evolm.console import log
from evolm.errors import BadInput
from evolm.fsutil import releases_outputs_on_failure
from evolm.options import check_ranges, check_warmup, default_of, given, listed, option, trainer_steps, trainer_warmup_steps
from evolm.presets import PRESETS, SFTDefaults, paper_values
from evolm.stages.data.split import select_examples
from evolm.stages.limits import check_length, checkpoint_positions
from evolm.stages.lm_run import quiet_transformers
from evolm.manifest import DataSource, Outcome, Schedule
from evolm.stages.posttrain import check_amount, check_disjoint, done_message, load_parent, posttrain_manifest, write_posttrained
from evolm.training.batching import split_batch
from evolm.training.metrics import metrics_callback
from evolm.training.noop import noop_warnings
from evolm.training.options import LOG_EVERY, REPORT_TO, SEED, TRL_SAVE_EVERY
from evolm.training.processes import from_main, is_main_process, launch_requested, parallelism, world_size
from evolm.stages.outputs import check_outputs
from evolm.training.tracking import Tracking, check_report_to
from evolm.training.trl_run import check_one_gpu_per_process, device_settings, gathered_weights, saving, start_run_dir, train


@dataclass
class SFTOptions:
    """The options of `evolm sft` (its --help shows this help); None means the preset's default
    (`evolm.presets.SFTDefaults`: the paper's for 1B and 4B)."""

    lr: float | None = option(None, f"Peak learning rate (preset default; paper: {paper_values('sft', 'lr')}).", above=0)
    global_batch: int | None = option(
        None, f"Examples per optimizer step (preset default; paper: {paper_values('sft', 'global_batch')}).", minimum=1)
    micro_batch: int | None = option(None, "Examples per forward pass on one process.", minimum=1)
    max_length: int | None = option(None, "Token cutoff per example (default 2048 or the model's context).", minimum=1)
    warmup: float = option(0.1, "Warmup: a fraction of the steps (<1) or a number of steps.", minimum=0)
    weight_decay: float = option(0.0, "AdamW weight decay.", minimum=0)
    seed: int = SEED()
    lora: bool = option(False, "Train a PEFT LoRA adapter and merge it into a plain HF model at the end.")
    lora_rank: int = option(16, "LoRA rank (with --lora).", minimum=1)
    lora_alpha: int = option(32, "LoRA alpha, the adapter's scale numerator (with --lora).", above=0)
    save_every: int = TRL_SAVE_EVERY()
    log_every: int = LOG_EVERY()
    report_to: str = REPORT_TO()

    def check(self) -> None:
        """Every option on its own and the relations that need no model: run first, before any
        output exists (TRL would refuse some of them only after OUT.partial was made)."""
        check_ranges(self)
        check_warmup(self.warmup)
        changed = [f"--{name.replace('_', '-')}" for name in ("lora_rank", "lora_alpha") if getattr(self, name) != default_of(self, name)]
        if changed and not self.lora:  # a warning: a study's grid over lora: [true, false] sets them for both
            log(f"warning: {listed(changed)} {'has' if len(changed) == 1 else 'have'} no effect: LoRA is off (add --lora to use it).")


def preset_defaults(preset: str) -> SFTDefaults:
    """The SFT defaults of a checkpoint's preset (the dataclass's own for a preset this evolm does not know)."""
    known = PRESETS.get(preset)
    return known.sft if known else SFTDefaults()


def examples_per_step(global_batch: int | None, preset: str) -> int:
    """The global batch SFT (and `evolm rm`, in pairs) splits over its processes: --global-batch, else the
    preset's SFT batch (also what a study checks against its launch before any work, evolm.study.launch)."""
    return given(global_batch, preset_defaults(preset).global_batch)


@dataclass
class LengthCheck:
    warning: str | None
    """None when every example fits."""
    left_out: int = 0
    """Examples TRL drops: their prompt alone fills --max-length."""


def over_length(tokenizer, rows: list[dict], max_length: int) -> LengthCheck:
    """What TRL does, silently, to examples longer than `max_length` tokens: it keeps their start, so a
    solution loses its end and its EOS; one whose prompt alone fills `max_length` has nothing left to
    learn from and is dropped. Counted here (the chat template's text, tokenized as TRL tokenizes it),
    logged and returned as one warning, with the number dropped."""
    from evolm.console import log
    from evolm.template import prompt_text, training_text

    if not rows:
        return LengthCheck(None)
    def lengths(texts) -> list[int]:
        # in slices, keeping only the lengths: the token lists of a paper-scale pool (400K examples) at once
        # held 15-20 GB of host memory in every process
        return [len(ids) for start in range(0, len(texts), 4096)
                for ids in tokenizer(texts[start:start + 4096], add_special_tokens=False)["input_ids"]]

    full = lengths([training_text(r["problem"], r["gt_solution"], tokenizer.eos_token) for r in rows])
    prompts = lengths([prompt_text(r["problem"]) for r in rows])
    dropped = sum(p >= max_length for p in prompts)
    if dropped == len(rows):  # TRL would fail on an empty dataset, after the run folder exists
        raise BadInput(f"Every one of the {len(rows)} examples has a prompt of --max-length {max_length} tokens or more, "
                       "which leaves nothing to learn; raise --max-length.")
    cut = sum(f > max_length for f, p in zip(full, prompts) if p < max_length)
    if not cut and not dropped:
        return LengthCheck(None)
    warning = (f"{cut + dropped} of {len(rows)} examples are longer than --max-length {max_length} tokens: "
               f"{cut} lose the end of their solution (and its EOS), {dropped} whose prompt alone fills it are left out")
    log(f"warning: {warning}")
    return LengthCheck(warning, dropped)


@releases_outputs_on_failure
def run(*, parent: Path, data: Path, examples: int | None, epochs: float, out: Path, options: SFTOptions | None = None,
        resume: bool = False, overwrite: bool = False) -> Checkpoint:
    """Fine-tune `parent` on the first `examples` of a pool file, or of a split folder's SFT part
    (None: all of that part). Every process returns the checkpoint."""
    o = options or SFTOptions()
    o.check()  # every option, before anything is read or written (or TRL imported: bad input is quick)
    import datasets
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from evolm.template import conversation, install

    check_one_gpu_per_process("sft")
    report_to = check_report_to(o.report_to)
    quiet_transformers()
    check_amount(examples, epochs)
    if o.lora and (os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3" or launch_requested("FSDP")):
        raise BadInput("--lora under DeepSpeed ZeRO-3 or FSDP is not supported (the adapter cannot be merged into "
                       "sharded weights); use zero2-1B.yaml, torchrun (plain data parallel) or a single process.")
    run_dir = check_outputs(out, resume=resume, overwrite=overwrite, inputs={"the parent": parent, "the data": data})
    ancestor = load_parent(parent)
    chosen = select_examples(data, "sft", examples)
    if not chosen.rows:
        raise BadInput(f"The SFT part of {data} is empty; there is nothing to fine-tune on.")
    check_disjoint(ancestor, chosen, "sft")
    start, end = chosen.start, chosen.end
    preset = ancestor.manifest.model.preset
    defaults = preset_defaults(preset)
    lr = given(o.lr, defaults.lr)
    global_batch = examples_per_step(o.global_batch, preset)
    source = defaults.defaults_from
    batch = split_batch(global_batch, world_size(), o.micro_batch, cap=16, unit="examples")
    micro, accum = batch.micro, batch.accum
    trainer_warmup_steps(o.warmup, trainer_steps(len(chosen.rows), global_batch, epochs))
    positions = checkpoint_positions(ancestor.path)
    max_length = given(o.max_length, min(2048, positions))
    check_length("--max-length", max_length, positions, f"the parent {parent}")

    tokenizer = AutoTokenizer.from_pretrained(ancestor.path)
    install(tokenizer)
    dataset = datasets.Dataset.from_list([{"messages": conversation(r["problem"], r["gt_solution"])} for r in chosen.rows])
    long_rows = over_length(tokenizer, chosen.rows, max_length)
    knobs = {"examples": end - start, "epochs": epochs, "pool_sha256": chosen.pool_sha256, "rows": [start, end]}
    settings = {"lr": lr, "global_batch": global_batch, "micro_batch": micro, "max_length": max_length,
                "warmup": o.warmup, "weight_decay": o.weight_decay, "seed": o.seed, "lora": o.lora,
                "lora_rank": o.lora_rank, "lora_alpha": o.lora_alpha}
    peft_config = None
    if o.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=o.lora_rank, lora_alpha=o.lora_alpha, target_modules="all-linear", task_type="CAUSAL_LM")
    # Built before OUT.partial exists: TRL's own checks of its arguments then also come before any output.
    # And before the model: under a ZeRO-3 launch config with zero3_init_flag, building the arguments arms
    # DeepSpeed's zero.Init, and the model then loads partitioned over the processes (built after it, each
    # process held the whole model in host memory first).
    config = SFTConfig(
        output_dir=str(run_dir), num_train_epochs=epochs, learning_rate=lr, lr_scheduler_type="cosine",
        warmup_steps=o.warmup, weight_decay=o.weight_decay, per_device_train_batch_size=micro,
        gradient_accumulation_steps=accum, max_length=max_length, packing=False, assistant_only_loss=True,
        logging_steps=o.log_every, **saving(o.save_every),
        report_to=report_to, disable_tqdm=True, seed=o.seed, data_seed=o.seed, dataloader_num_workers=0,
        include_num_input_tokens_seen="non_padding",  # the compute ledger's trained tokens (kept across --resume)
        **device_settings(),
    )
    model = AutoModelForCausalLM.from_pretrained(ancestor.path, dtype=torch.float32, attn_implementation="sdpa")
    start_run_dir(run_dir, {"stage": "sft", "knobs": knobs, "parent": ancestor.manifest_sha256, "config": settings,
                            "report_to": report_to}, resume=resume)
    tracking = Tracking(report_to, run_dir, Path(out).name)
    with tracking.trl_session({"stage": "sft", **knobs, **settings}, main=is_main_process()):
        trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                             peft_config=peft_config, callbacks=[metrics_callback(run_dir, f"sft {preset}")])
        result = train(trainer, run_dir, resume=resume)
    weights = None if o.lora else gathered_weights(trainer)  # LoRA is merged below instead (refused under ZeRO-3)

    def save() -> Checkpoint:  # on the main process; the others receive its result
        final = trainer.model.merge_and_unload() if o.lora else trainer.model
        final.config.use_cache = True
        warnings = (noop_warnings(ancestor.path, weights or final.state_dict(), trainer.state.log_history, "sft")
                    + ([long_rows.warning] if long_rows.warning else [])) or None
        losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
        manifest = posttrain_manifest(
            "sft", knobs, ancestor,
            data=[DataSource("sft", **chosen.record, epochs=epochs,
                             prompts_used=len(chosen.rows) - long_rows.left_out if long_rows.left_out else None)],
            schedule=Schedule(kind="cosine with warmup", completed=True, steps_done=trainer.state.global_step,
                              settings={**settings, "optimizer": "AdamW", "defaults_from": source, "gradient_accumulation": accum}),
            outcome=Outcome(loss={"first": losses[0] if losses else None, "last": losses[-1] if losses else None,
                                  "train_loss": result.training_loss}, warnings=warnings),
            lora={"rank": o.lora_rank, "alpha": o.lora_alpha, "merged": True} if o.lora else None,
            seed=o.seed, wall_time_s=round(result.metrics.get("train_runtime", 0.0), 3), processes=world_size(),
            parallelism=parallelism(trainer.accelerator), trained_tokens=int(trainer.state.num_input_tokens_seen),
            tracking=tracking.manifest(),
        )
        checkpoint = write_posttrained(out, manifest, final, tokenizer, run_dir, state_dict=weights, tracking=tracking)
        done_message("sft", checkpoint, f"{chosen.end - chosen.start} examples x {epochs} epochs, {trainer.state.global_step} "
                     f"steps, loss {manifest.outcome.loss['first']} -> {manifest.outcome.loss['last']}")
        return checkpoint

    return from_main(save)
