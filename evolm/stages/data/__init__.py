"""The data stage: synthetic default data, tokenizers, token shards, SFT/RL splits, benchmarks."""
