"""Evaluation: suites, generation backends, graders, metrics and the lm-eval bridge (issue 5)."""
