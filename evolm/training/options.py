"""Options every training stage has (pretrain, cpt, sft, rl), declared once for all of them.

Each is a `shared_option`: a stage's options dataclass makes it a field by calling it
(`seed: int = SEED()`), so the help, default, parsing and allowed range stay in this one place.
"""

from __future__ import annotations

from evolm.options import shared_option

# numpy's and Python's seeding (TRL seeds both) take 0 .. 2**32 - 1.
SEED = shared_option(0, "Seed for initialization, data order and sampling.", minimum=0, maximum=2**32 - 1)
LOG_EVERY = shared_option(1, "Steps between metrics.jsonl lines.", minimum=1)
REPORT_TO = shared_option(
    "none",
    "Experiment tracker: tensorboard (logs in OUT/tb), wandb (OUT/wandb; WANDB_MODE=offline works without a network) "
    "or none. metrics.jsonl is written either way; --resume may pick another.",
)
TRL_SAVE_EVERY = shared_option(0, "Steps between resume states in OUT.partial (TRL's checkpoints; PPO's own) (0: never).", minimum=0)
"""SFT's and RL's: TRL writes its own checkpoints, from which `--resume` continues."""
