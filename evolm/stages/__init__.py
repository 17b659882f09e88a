"""Stages: data, pretrain, cpt, sft, rl. Each reads and writes directories; none imports the CLI."""
