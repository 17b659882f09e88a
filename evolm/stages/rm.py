"""`evolm rm`: an outcome reward model trained on graded samples, with TRL's RewardTrainer.

The paper scored completions with an off-the-shelf outcome reward model (Skywork-Reward-Llama-3.1-8B)
to show that its score tracks downstream accuracy while validation loss does not (finding 8). A
miniature study has no such model, so it trains one: `evolm eval --samples K` of one or more
policies on problems held out from every run (a task file of pool rows no SFT or RL run takes)
writes graded completions (`eval/TASK.samples.jsonl`); each problem with both a correct and an
incorrect completion gives up to `--pairs-per-problem` (correct, incorrect) pairs; the parent (an SFT
checkpoint: it knows the template and the arithmetic) gets a one-output score head and learns to
rank the correct one higher (Bradley-Terry loss). A share of the problems is held out to measure
how often it does. The result is a Hugging Face sequence-classification directory for
`evolm eval --reward-model`. What we write here is the pairing of graded samples; the training is TRL's.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

from evolm.checkpoint import Checkpoint
from evolm.console import log
from evolm.errors import BadInput
from evolm.fsutil import releases_outputs_on_failure, sha256_file
from evolm.manifest import DataSource, Outcome, Schedule
from evolm.options import check_ranges, check_warmup, default_of, given, option, trainer_steps, trainer_warmup_steps
from evolm.stages.lm_run import quiet_transformers
from evolm.stages.limits import check_length, checkpoint_positions
from evolm.stages.posttrain import check_amount, done_message, load_parent, posttrain_manifest, write_posttrained
from evolm.stages.sft import examples_per_step, preset_defaults
from evolm.training.batching import split_batch
from evolm.training.metrics import metrics_callback
from evolm.training.options import LOG_EVERY, SEED, TRL_SAVE_EVERY
from evolm.training.processes import from_main, launch_requested, parallelism, world_size
from evolm.stages.outputs import check_outputs
from evolm.training.trl_run import check_one_gpu_per_process, device_settings, gathered_weights, saving, start_run_dir, train


@dataclass
class RMOptions:
    """The options of `evolm rm` (its --help shows this help); None means the default named."""

    lr: float | None = option(None, "Peak learning rate (default: a sixth of the preset's SFT rate).", above=0)
    global_batch: int | None = option(None, "Pairs per optimizer step (default: the preset's SFT batch).", minimum=1)
    micro_batch: int | None = option(None, "Pairs per forward pass on one process.", minimum=1)
    max_length: int = option(512, "Token cutoff per scored conversation (longer pairs are left out by TRL).", minimum=1)
    pairs_per_problem: int = option(4, "Most (correct, incorrect) pairs taken from one problem.", minimum=1)
    held_out: float = option(0.1, "Share of the problems kept out of training to measure the pair accuracy.",
                             minimum=0, maximum=0.5)
    warmup: float = option(10, "Warmup: a fraction of the steps (<1) or a number of steps.", minimum=0)
    seed: int = SEED()
    save_every: int = TRL_SAVE_EVERY()
    log_every: int = LOG_EVERY()

    def check(self) -> None:
        check_ranges(self)
        check_warmup(self.warmup)


def read_samples(paths: list[Path], problems: Path) -> tuple[dict[str, str], dict[str, dict[str, bool]]]:
    """(problem text by id, {completion: correct} by id) from `evolm eval` sample files and the task
    file they were drawn on; a sample whose problem the file lacks is bad input."""
    from evolm.jsonl import read_rows

    if not Path(problems).is_file():
        raise BadInput(f"Problems file {problems} does not exist.")
    text = {row["id"]: row["problem"] for row in read_rows(Path(problems)) if isinstance(row, dict) and "id" in row and "problem" in row}
    graded: dict[str, dict[str, bool]] = {}
    for path in paths:
        if not Path(path).is_file():
            raise BadInput(f"Samples file {path} does not exist (write one with `evolm eval CKPT --samples K`).")
        for record in read_rows(Path(path)):
            if not isinstance(record, dict) or not {"id", "completions", "correct"} <= record.keys():
                raise BadInput(f"{path} is not an `evolm eval` samples file (a record lacks id, completions or correct).")
            if record["id"] not in text:
                raise BadInput(f"Problem {record['id']} of {path} is not in {problems}: give the task file the samples were drawn on.")
            seen = graded.setdefault(record["id"], {})
            for completion, correct in zip(record["completions"], record["correct"]):
                seen[completion.strip()] = bool(correct)
    return text, graded


def build_pairs(graded: dict[str, dict[str, bool]], per_problem: int, held_out: float, seed: int):
    """(training pairs, held-out pairs) of (problem id, correct, incorrect): up to `per_problem` from
    each problem with both kinds of completion, each completion reused only once the other kind runs
    out; a seeded `held_out` share of those problems gives the held-out pairs."""
    rng = random.Random(seed)
    ids = sorted(i for i, seen in graded.items() if any(seen.values()) and not all(seen.values()))
    rng.shuffle(ids)
    cut = round(len(ids) * held_out)
    train, test = [], []
    for n, pid in enumerate(ids):
        good = sorted(c for c, ok in graded[pid].items() if ok)
        bad = sorted(c for c, ok in graded[pid].items() if not ok)
        rng.shuffle(good)
        rng.shuffle(bad)
        pairs = [(pid, good[i % len(good)], bad[i % len(bad)]) for i in range(min(per_problem, max(len(good), len(bad))))]
        (test if n < cut else train).extend(pairs)
    return train, test


@releases_outputs_on_failure
def run(*, parent: Path, samples: list[Path], problems: Path, epochs: float, out: Path, options: RMOptions | None = None,
        resume: bool = False, overwrite: bool = False) -> Checkpoint:
    """Train a reward model from `parent` on pairs of `samples` (graded `evolm eval` records on `problems`)."""
    import datasets
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed
    from trl import RewardConfig, RewardTrainer

    from evolm.eval.reward_model import HeldOutPairs, reward_text
    from evolm.template import install

    o = options or RMOptions()
    o.check()
    check_one_gpu_per_process("rm")
    quiet_transformers()
    check_amount(None, epochs)
    if not samples:
        raise BadInput("Give at least one --samples file (from `evolm eval CKPT --samples K`).")
    if os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3" or launch_requested("FSDP"):
        # the held-out pairs are scored on the main process's copy of the model, which these configs shard
        raise BadInput("evolm rm does not run under DeepSpeed ZeRO-3 or FSDP (its held-out pairs are scored on one "
                       "process's whole model); use one process, torchrun or zero2-1B.yaml.")
    run_dir = check_outputs(out, resume=resume, overwrite=overwrite,
                            inputs={"the parent": parent, "the problems": problems, **{f"samples file {i + 1}": p for i, p in enumerate(samples)}})
    ancestor = load_parent(parent)
    check_length("--max-length", o.max_length, checkpoint_positions(ancestor.path), f"the parent {parent}")
    text, graded = read_samples(samples, problems)
    train_pairs, test_pairs = build_pairs(graded, o.pairs_per_problem, o.held_out, o.seed)
    if not train_pairs:
        raise BadInput(f"The samples give no (correct, incorrect) pair to train on: of {len(graded)} problems, none has "
                       "both a correct and an incorrect completion (draw more samples, or from more policies).")
    defaults = preset_defaults(ancestor.manifest.model.preset)
    lr = given(o.lr, defaults.lr / 6)
    global_batch = examples_per_step(o.global_batch, ancestor.manifest.model.preset)
    batch = split_batch(global_batch, world_size(), o.micro_batch, cap=16, unit="pairs")

    tokenizer = AutoTokenizer.from_pretrained(ancestor.path)
    install(tokenizer)  # the template the policies were prompted with, which the scores are read through
    set_seed(o.seed)  # the new score head is drawn when the model loads, before the Trainer seeds anything
    model = AutoModelForSequenceClassification.from_pretrained(ancestor.path, num_labels=1, dtype=torch.float32)
    model.config.pad_token_id = tokenizer.pad_token_id
    # Tokenized here as evolm.eval.reward_model scores them, without the tokenizer's special tokens (TRL's own
    # tokenization adds them: a Llama-2 tokenizer's <s> the scores would never see), and the pairs past
    # --max-length, which TRL would leave out unsaid, counted before any output.
    def encode(completion: str, problem: str) -> list[int]:
        return tokenizer(reward_text(tokenizer, text[problem], completion), add_special_tokens=False)["input_ids"]

    encoded = [{"chosen_ids": encode(good, p), "rejected_ids": encode(bad, p)} for p, good, bad in train_pairs]
    kept = [e for e in encoded if max(len(e["chosen_ids"]), len(e["rejected_ids"])) <= o.max_length]
    if not kept:
        raise BadInput(f"Every one of the {len(encoded)} pairs has a text longer than --max-length {o.max_length} tokens; raise it.")
    if len(kept) < len(encoded):
        log(f"warning: {len(encoded) - len(kept)} of {len(encoded)} pairs have a text longer than --max-length {o.max_length} "
            "tokens and are left out.")
    steps = trainer_steps(len(kept), global_batch, epochs)
    warmup = o.warmup
    if warmup == default_of(RMOptions, "warmup") and warmup >= steps > 1:  # a short run with the default: not refused
        warmup = 0.1
        log(f"The default warmup of {o.warmup:g} steps would fill this run of {steps} steps; it warms up for a tenth of it.")
    trainer_warmup_steps(warmup, steps)  # a --warmup that fills the run is refused, before any output
    dataset = datasets.Dataset.from_list(kept)
    knobs = {"pairs": len(kept), "epochs": epochs}
    settings = {"lr": lr, "global_batch": global_batch, "micro_batch": batch.micro, "max_length": o.max_length,
                "warmup": warmup, "seed": o.seed, "pairs_per_problem": o.pairs_per_problem, "held_out": o.held_out}
    config = RewardConfig(
        output_dir=str(run_dir), num_train_epochs=epochs, learning_rate=lr, lr_scheduler_type="cosine",
        warmup_steps=warmup, per_device_train_batch_size=batch.micro, gradient_accumulation_steps=batch.accum,
        max_length=o.max_length, logging_steps=o.log_every, **saving(o.save_every),
        report_to="none", disable_tqdm=True, seed=o.seed, data_seed=o.seed,
        dataloader_num_workers=0, **device_settings(),
        include_num_input_tokens_seen="non_padding",  # the compute ledger's trained tokens (both texts of each pair)
    )
    sources = [DataSource("samples", pool=str(Path(p).resolve()), pool_sha256=sha256_file(Path(p))) for p in samples]
    sources.append(DataSource("problems", pool=str(Path(problems).resolve()), pool_sha256=sha256_file(Path(problems)),
                              examples=len(graded)))
    start_run_dir(run_dir, {"stage": "rm", "knobs": knobs, "parent": ancestor.manifest_sha256, "config": settings,
                            "data": [s.pool_sha256 for s in sources]}, resume=resume)
    trainer = RewardTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                            callbacks=[metrics_callback(run_dir, f"rm {ancestor.manifest.model.preset}")])
    result = train(trainer, run_dir, resume=resume)
    weights = gathered_weights(trainer)

    def save() -> Checkpoint:
        final = trainer.model
        held = HeldOutPairs.measure(final, tokenizer, [(text[p], good, bad) for p, good, bad in test_pairs])
        losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
        manifest = posttrain_manifest(
            "rm", knobs, ancestor, data=sources,
            schedule=Schedule(kind="cosine with warmup", completed=True, steps_done=trainer.state.global_step,
                              settings={**settings, "optimizer": "AdamW", "gradient_accumulation": batch.accum}),
            outcome=Outcome(loss={"first": losses[0] if losses else None, "last": losses[-1] if losses else None,
                                  "train_loss": result.training_loss},
                            reward_model={"held_out_pairs": held.pairs, "held_out_accuracy": held.accuracy}),
            seed=o.seed, wall_time_s=round(result.metrics.get("train_runtime", 0.0), 3), processes=world_size(),
            # 6 x parameters per trained token, the ledger's rule for every post-training stage
            parallelism=parallelism(trainer.accelerator), trained_tokens=int(trainer.state.num_input_tokens_seen), tracking=None,
        )
        checkpoint = write_posttrained(out, manifest, final, tokenizer, run_dir, state_dict=weights)
        accuracy = "no held-out pairs" if held.accuracy is None else f"held-out pair accuracy {held.accuracy:.3f} ({held.pairs} pairs)"
        done_message("rm", checkpoint, f"{len(kept)} pairs x {epochs} epochs, {trainer.state.global_step} steps, {accuracy}")
        return checkpoint

    return from_main(save)

