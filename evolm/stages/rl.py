"""`evolm rl`: reinforcement learning with verifiable rewards on the last N pool examples.

The reward is 1 when the completion's final answer equals the gold answer under the evaluation's
own grader (`evolm.eval.math_grader`, math-verify with `\\boxed{}` on both sides), else 0. The
algorithm is GRPO through TRL: the paper used PPO with a critic (verl), but the installed TRL
(1.16) no longer ships a PPO trainer, so `--algo` offers GRPO only. KL regularization is an
explicit switch (`--kl --kl-coef 1e-4`), off by default as it effectively was in the paper, and the
manifest records whether it was on. Learning rate: 10% warmup then constant (the paper's).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from evolm.console import log
from evolm.errors import BadInput
from evolm.eval import math_grader
from evolm.rundir import check_outputs
from evolm.stages.data.split import rl_range
from evolm.stages.lm_run import quiet_transformers, world_size
from evolm.stages.posttrain import (
    batch_split, device_settings, done_message, lineage_examples, load_parent,
    gathered_weights, load_pool, metrics_callback, posttrain_manifest, start_run_dir, train, write_posttrained,
)

ALGORITHMS = ("grpo",)
# preset -> (actor LR, prompts per step, max prompt tokens, max completion tokens, where from)
RL_DEFAULTS = {
    "1B": (2e-6, 1024, 1024, 1024, "paper"), "4B": (1e-6, 2048, 1024, 1024, "paper"),
    "125M": (2e-6, 1024, 1024, 1024, "evolm"), "250M": (2e-6, 1024, 1024, 1024, "evolm"),
    "0.5B": (2e-6, 1024, 1024, 1024, "evolm"), "2B": (1e-6, 2048, 1024, 1024, "evolm"),
    "1M": (1e-4, 8, 256, 96, "evolm"), "4M": (5e-5, 8, 256, 128, "evolm"), "16M": (2e-5, 8, 256, 128, "evolm"),
}


@dataclass
class RLOptions:
    algo: str = "grpo"
    lr: float | None = None
    prompts_per_step: int | None = None
    rollouts: int = 4
    """Completions sampled per prompt (GRPO needs at least 2; the paper's PPO used 1)."""
    temperature: float = 1.0
    max_prompt_length: int | None = None
    max_completion_length: int | None = None
    micro_batch: int | None = None
    kl: bool = False
    kl_coef: float = 1e-4
    warmup: float = 0.1
    seed: int = 0
    save_every: int = 0
    log_every: int = 1


def reward_function(completions, gold, **_) -> list[float]:
    """TRL reward function: the evaluation grader's verdict, 1.0 or 0.0 per completion."""
    texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
    return [math_grader.reward(text, answer) for text, answer in zip(texts, gold)]


def check_disjoint_from_sft(parent, pool, start: int, end: int) -> None:
    """Refuse RL rows that any SFT run in the lineage trained on (same pool, overlapping rows)."""
    for knobs in lineage_examples(parent, "sft"):
        if knobs.get("pool_sha256") != pool.sha256:
            log("warning: an SFT run in this lineage used another pool file; overlap cannot be checked row by row.")
            continue
        sft_start, sft_end = knobs["rows"]
        if max(start, sft_start) < min(end, sft_end):
            raise BadInput(
                f"RL rows [{start}, {end}) overlap the rows [{sft_start}, {sft_end}) this lineage used for SFT "
                f"({min(end, sft_end) - max(start, sft_start)} examples); choose fewer RL examples (at most "
                f"{len(pool.rows) - sft_end})."
            )


def run(*, parent: Path, data: Path, examples: int, epochs: float, out: Path, options: RLOptions | None = None,
        resume: bool = False, overwrite: bool = False):
    import datasets
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from evolm.template import conversation, has_template, install

    o = options or RLOptions()
    quiet_transformers()
    if o.algo not in ALGORITHMS:
        raise BadInput(f"Unknown RL algorithm {o.algo!r}; the installed TRL provides {', '.join(ALGORITHMS)} (no PPO trainer).")
    if epochs <= 0 or examples <= 0:
        raise BadInput("--examples and --epochs must be positive.")
    if o.rollouts < 2:
        raise BadInput("GRPO needs --rollouts of at least 2 (it compares completions of the same prompt).")
    run_dir = check_outputs(out, resume=resume, overwrite=overwrite)
    ancestor = load_parent(parent)
    pool = load_pool(data)
    start, end = rl_range(len(pool.rows), examples)
    check_disjoint_from_sft(ancestor, pool, start, end)
    preset = ancestor.manifest["model"]["preset"]
    lr, prompts, max_prompt, max_completion, source = RL_DEFAULTS.get(preset, (2e-6, 1024, 1024, 1024, "evolm"))
    lr = o.lr if o.lr is not None else lr
    prompts = o.prompts_per_step or prompts
    max_prompt = o.max_prompt_length or max_prompt
    max_completion = o.max_completion_length or max_completion
    micro, accum = batch_split(prompts * o.rollouts, o.micro_batch, world_size(), cap=32)

    tokenizer = AutoTokenizer.from_pretrained(ancestor.path)
    if not has_template(tokenizer):
        install(tokenizer)  # RL straight after pre-training: the same template SFT would have set
    tokenizer.padding_side = "left"
    rows = pool.rows[start:end]
    golds = [math_grader.gold_answer(r) for r in rows]
    kept = [(r, g) for r, g in zip(rows, golds)
            if g is not None and len(tokenizer.apply_chat_template(conversation(r["problem"]), add_generation_prompt=True)) <= max_prompt]
    if len(kept) < len(rows):
        log(f"warning: {len(rows) - len(kept)} of {len(rows)} RL prompts are longer than {max_prompt} tokens or have no gold answer; skipped.")
    if not kept:
        raise BadInput("No RL example fits --max-prompt-length with a gold answer.")
    dataset = datasets.Dataset.from_list([{"prompt": conversation(r["problem"]), "gold": g} for r, g in kept])
    use_vllm = bool(importlib.util.find_spec("vllm")) and torch.cuda.is_available()
    knobs = {"examples": examples, "epochs": epochs, "pool_sha256": pool.sha256, "rows": [start, end]}
    settings = {"algo": o.algo, "lr": lr, "prompts_per_step": prompts, "rollouts": o.rollouts, "temperature": o.temperature,
                "max_prompt_length": max_prompt, "max_completion_length": max_completion, "kl": o.kl,
                "kl_coef": o.kl_coef if o.kl else 0.0, "warmup": o.warmup, "seed": o.seed, "micro_batch": micro}
    start_run_dir(run_dir, {"stage": "rl", "knobs": knobs, "parent": ancestor.manifest_sha256, "config": settings}, resume=resume)
    model = AutoModelForCausalLM.from_pretrained(ancestor.path, dtype=torch.float32, attn_implementation="sdpa")
    config = GRPOConfig(
        output_dir=str(run_dir), learning_rate=lr, lr_scheduler_type="constant_with_warmup", warmup_steps=o.warmup,
        per_device_train_batch_size=micro, gradient_accumulation_steps=accum, num_generations=o.rollouts,
        max_completion_length=max_completion, temperature=o.temperature, beta=settings["kl_coef"],
        num_train_epochs=epochs, logging_steps=o.log_every, save_strategy="steps" if o.save_every else "no",
        save_steps=o.save_every or 500, report_to="none", disable_tqdm=True, seed=o.seed, use_vllm=use_vllm,
        vllm_mode="colocate", **device_settings(),
    )
    trainer = GRPOTrainer(model=model, reward_funcs=reward_function, args=config, train_dataset=dataset,
                          processing_class=tokenizer, callbacks=[metrics_callback(run_dir, f"rl {preset}", None)])
    result = train(trainer, run_dir, resume=resume)
    weights = gathered_weights(trainer)
    if not trainer.is_world_process_zero():
        return None
    rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    manifest = posttrain_manifest(
        "rl", knobs, ancestor, ancestor.manifest["tokenizer"]["sha256"],
        data=[{"name": "rl", **pool.describe(start, end), "epochs": epochs, "prompts_used": len(kept)}],
        reward={"definition": math_grader.GRADER, "values": [0.0, 1.0], "function": "evolm.stages.rl.reward_function"},
        kl={"enabled": o.kl, "coef": settings["kl_coef"]},
        generation={"backend": "vllm" if use_vllm else "transformers", "rollouts_per_prompt": o.rollouts,
                    "temperature": o.temperature, "max_prompt_length": max_prompt, "max_completion_length": max_completion},
        schedule={**settings, "kind": "linear warmup then constant", "defaults_from": source, "gradient_accumulation": accum,
                  "processes": world_size(), "steps_done": trainer.state.global_step, "completed": True},
        rewards={"first": rewards[0] if rewards else None, "last": rewards[-1] if rewards else None,
                 "mean": sum(rewards) / len(rewards) if rewards else None},
        seed=o.seed, wall_time_s=round(result.metrics.get("train_runtime", 0.0), 3),
    )
    checkpoint = write_posttrained(out, manifest, trainer.model, tokenizer, run_dir, state_dict=weights)
    done_message("rl", checkpoint, f"{len(kept)} prompts x {epochs} epochs, {trainer.state.global_step} steps, "
                 f"mean reward {manifest['rewards']['mean']}")
    return checkpoint
