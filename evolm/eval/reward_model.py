"""Reward-model scores for RM@K and the mean RM score (the paper used Skywork-Reward-Llama-3.1-8B).

Any sequence-classification model with one output works. The conversation is rendered with the
reward model's own chat template when it has one (that is how such models are trained), else with
the paper's prompt template.
"""

from __future__ import annotations

import torch

from evolm.errors import BadInput
from evolm.eval.loading import device, dtype_name
from evolm.template import conversation, training_text


def check_reward_model(spec: str) -> None:
    """Refuse a reward model that cannot load (absent, offline, not one score) from its config alone,
    before any generation: it is otherwise loaded only once the first task's completions exist."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(spec)
    except (OSError, ValueError) as exc:
        raise BadInput(f"Cannot load a reward model (sequence classification) from {spec} ({str(exc).splitlines()[0]}).") from None
    if config.num_labels != 1:
        raise BadInput(f"Reward model {spec} has {config.num_labels} outputs; a reward model has one.")


class RewardModel:
    def __init__(self, spec: str, batch_size: int = 8):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(spec)
            self.model = AutoModelForSequenceClassification.from_pretrained(spec, dtype=getattr(torch, dtype_name()))
        except (OSError, ValueError) as exc:
            raise BadInput(f"Cannot load a reward model (sequence classification) from {spec} ({str(exc).splitlines()[0]}).") from None
        if self.model.config.num_labels != 1:
            raise BadInput(f"Reward model {spec} has {self.model.config.num_labels} outputs; a reward model has one.")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.model.to(device()).eval()
        self.batch_size = batch_size

    def text(self, problem: str, completion: str) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(conversation(problem, completion.strip()), tokenize=False)
        return training_text(problem, completion.strip(), self.tokenizer.eos_token or "")

    @torch.no_grad()
    def score(self, problem: str, completions: list[str]) -> list[float]:
        scores: list[float] = []
        for i in range(0, len(completions), self.batch_size):
            texts = [self.text(problem, c) for c in completions[i:i + self.batch_size]]
            batch = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True, add_special_tokens=False)
            logits = self.model(**batch.to(self.model.device)).logits
            scores += [float(x) for x in logits[:, 0].float().cpu()]
        return scores
