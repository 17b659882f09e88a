"""What an evaluation cost, for the compute ledger: the tokens the model processed (prompts and
completions; lm-eval's contexts and continuations; validation tokens) at 2 x parameters each (a
forward pass). Counted from what the evaluation kept (its records, lm-eval's logged samples) with
the model's tokenizer, so both generation backends count alike."""

from __future__ import annotations

from pathlib import Path


def model_params(model_spec: str) -> int | None:
    """The parameter count an evolm checkpoint's manifest records (None for other models)."""
    from evolm.checkpoint import MANIFEST, CheckpointError, load_checkpoint

    path = Path(model_spec)
    if not (path / MANIFEST).is_file():
        return None
    try:
        model = load_checkpoint(path, verify="none").manifest.model
    except CheckpointError:
        return None
    return model.params if model is not None else None


def _length(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def downstream_tokens(records: list[dict], tokenizer) -> int:
    """Each completion re-reads its prompt (batched sampling repeats it) and adds its own tokens and an end."""
    total = 0
    for record in records:
        completions = record.get("completions") or []
        total += _length(tokenizer, record.get("prompt", "")) * len(completions)
        total += sum(_length(tokenizer, c) + 1 for c in completions)
    return total


def upstream_tokens(samples: dict, tokenizer) -> int:
    """lm-eval's loglikelihood requests, from its logged samples: one context + continuation per choice."""
    total = 0
    for rows in (samples or {}).values():
        for row in rows:
            arguments = row.get("arguments") or []
            pairs = arguments.values() if isinstance(arguments, dict) else arguments
            for pair in pairs:
                parts = list(pair.values()) if isinstance(pair, dict) else list(pair)
                total += _length(tokenizer, "".join(p for p in parts[:2] if isinstance(p, str)))
    return total


def record(tokens: int | None, params: int | None) -> dict:
    return {"processed_tokens": tokens, "params": params,
            "flops": None if tokens is None or params is None else 2.0 * params * tokens}
