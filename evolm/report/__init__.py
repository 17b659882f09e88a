"""`evolm report`: a folder of checkpoints and eval results -> the paper's findings, tables and plots.

Reads manifests (`evolm.json`) and evaluation results (JSON) only; imports no training code.
"""
