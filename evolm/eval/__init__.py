"""Evaluation: suites, generation backends, graders, metrics and the lm-eval bridge (issue 5)."""

PAPER_SAMPLES = 16  # K sampled completions per problem in the paper: `evolm eval --samples`'s default
