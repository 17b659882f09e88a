"""Downstream tasks: one small module per grader family, and the registry of names and suites."""
