"""Load the evaluated model and tokenizer: fp32 on a CPU (bf16 is ~27x slower there), bf16 on a GPU."""

from __future__ import annotations

import torch

from evolm.errors import BadInput


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def dtype_name() -> str:
    return "bfloat16" if device() == "cuda" else "float32"


def load_tokenizer(spec: str, *, need_template: bool, revision: str | None = None):
    from transformers import AutoTokenizer

    from evolm.template import has_template

    try:
        tokenizer = AutoTokenizer.from_pretrained(spec, revision=revision)
    except OSError as exc:
        raise BadInput(f"Cannot load a tokenizer from {spec} ({str(exc).splitlines()[0]}).") from None
    if need_template and not has_template(tokenizer):
        raise BadInput(
            f"{spec} has no chat template, which downstream evaluation needs to build prompts; "
            "evaluate a checkpoint after `evolm sft`, or use --suite upstream."
        )
    return tokenizer


def load_model(spec: str, revision: str | None = None):
    from transformers import AutoModelForCausalLM

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # its bars would interleave with our progress lines
    try:
        model = AutoModelForCausalLM.from_pretrained(spec, dtype=getattr(torch, dtype_name()), revision=revision)
    except OSError as exc:
        raise BadInput(f"Cannot load a causal language model from {spec} ({str(exc).splitlines()[0]}).") from None
    return model.to(device()).eval()


class SharedModel:
    """The evaluated model, loaded once for the parts of a run that use it in-process (validation
    loss, transformers generation). lm-eval still loads its own copy by path, as a user's
    `lm_eval --model hf --model_args pretrained=CKPT` would, which keeps that route tested. `revision`:
    identity.loaded_revision's."""

    def __init__(self, spec: str, revision: str | None = None):
        self.spec, self.revision = spec, revision
        self._model = None

    def get(self):
        if self._model is None:
            from evolm.console import log

            log(f"loading {self.spec}")
            self._model = load_model(self.spec, self.revision)
        return self._model

    def release(self) -> None:
        """Free it (before vLLM claims the GPU's memory)."""
        self._model = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
