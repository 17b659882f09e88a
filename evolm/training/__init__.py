"""Training plumbing shared by the stages: everything between a stage's options and the weights.

- `causal_lm`: the causal-LM trainer of pretrain and cpt (accelerate, token-budget mixtures,
  atomic resume state);
- `trl_run`: the wiring of TRL's trainers for sft and rl (device settings, run folder, resume);
- `batching`: the one split of a global batch into per-process micro batches and accumulation;
- `metrics`: the one metrics/progress writer (metrics.jsonl, stderr progress, tracker scalars);
- `tracking`: `--report-to tensorboard|wandb|none`, through accelerate's and transformers' trackers;
- `rundir`: the run folder `OUT.partial/` and the record that guards `--resume`;
- `processes`: which process is the main one, and its result shared with the others;
- `flops`: peak FLOP/s for MFU.

Stages import this package; evaluation and the report never do.
"""
