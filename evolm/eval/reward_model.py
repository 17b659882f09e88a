"""Reward-model scores for RM@K and the mean RM score (the paper used Skywork-Reward-Llama-3.1-8B).

Any sequence-classification model with one output works. The conversation is rendered with the
reward model's own chat template when it has one (that is how such models are trained), else with
the paper's prompt template.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from evolm.console import log
from evolm.errors import BadInput
from evolm.eval.generate import model_context
from evolm.eval.loading import device, dtype_name
from evolm.template import conversation, training_text


def check_reward_model(spec: str, revision: str | None = None) -> None:
    """Refuse a reward model that cannot load (absent, offline, not one score) from its config alone,
    before any generation: it is otherwise loaded only once the first task's completions exist."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(spec, revision=revision)
    except (OSError, ValueError) as exc:
        raise BadInput(f"Cannot load a reward model (sequence classification) from {spec} ({str(exc).splitlines()[0]}).") from None
    if config.num_labels != 1:
        raise BadInput(f"Reward model {spec} has {config.num_labels} outputs; a reward model has one.")


def weight_bytes(spec: str, revision: str | None = None) -> int:
    """About what the reward model's weights take on the device (bf16 on a GPU), from its config: the
    embeddings, the decoder layers (attention with its key/value heads, a gated MLP) and the score head.
    For `vllm_memory_beside`, which must size vLLM's share before either model is loaded."""
    from transformers import AutoConfig

    c = AutoConfig.from_pretrained(spec, revision=revision)
    hidden, layers = c.hidden_size, c.num_hidden_layers
    heads = c.num_attention_heads
    kv = getattr(c, "num_key_value_heads", None) or heads
    head_dim = getattr(c, "head_dim", None) or hidden // heads
    intermediate = getattr(c, "intermediate_size", None) or 4 * hidden
    per_layer = hidden * heads * head_dim * 2 + hidden * kv * head_dim * 2 + 3 * hidden * intermediate
    params = c.vocab_size * hidden + layers * per_layer + hidden
    return params * torch.empty((), dtype=getattr(torch, dtype_name())).element_size()


def vllm_memory_beside(spec: str, fraction: float = 0.9, revision: str | None = None) -> float:
    """vLLM's share of the GPU (`gpu_memory_utilization`) with a reward model on the same device: its
    `fraction` less the reward model's weights and a fifth more for its activations. vLLM claims its
    share of the device's whole memory when it starts, and the reward model loads after it (it scores
    the completions of each chunk as they come); at 0.9, an 8B reward model (16 GB) no longer fits."""
    if not torch.cuda.is_available():
        return fraction
    total = torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory
    return max(0.05, round(fraction - 1.2 * weight_bytes(spec, revision) / total, 3))


class RewardModel:
    def __init__(self, spec: str, batch_size: int = 8, revision: str | None = None):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(spec, revision=revision)
            self.model = AutoModelForSequenceClassification.from_pretrained(spec, dtype=getattr(torch, dtype_name()),
                                                                            revision=revision)
        except (OSError, ValueError) as exc:
            raise BadInput(f"Cannot load a reward model (sequence classification) from {spec} ({str(exc).splitlines()[0]}).") from None
        if self.model.config.num_labels != 1:
            raise BadInput(f"Reward model {spec} has {self.model.config.num_labels} outputs; a reward model has one.")
        own = self.model.config.pad_token_id
        if self.tokenizer.pad_token is None:
            # the model's own pad token where its config names one (the score is read at the last token that
            # is not it), else EOS
            self.tokenizer.pad_token = self.tokenizer.eos_token if own is None else self.tokenizer.convert_ids_to_tokens(own)
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.model.to(device()).eval()
        self.batch_size = batch_size

    def text(self, problem: str, completion: str) -> str:
        return reward_text(self.tokenizer, problem, completion)

    def score(self, problem: str, completions: list[str]) -> list[float]:
        return score_texts(self.model, self.tokenizer, [self.text(problem, c) for c in completions], self.batch_size)


def reward_text(tokenizer, problem: str, completion: str) -> str:
    """The conversation a reward model scores: through its own chat template when it has one, else the
    paper's prompt template (what `evolm rm` trains on and `evolm eval --reward-model` scores alike)."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(conversation(problem, completion.strip()), tokenize=False)
    return training_text(problem, completion.strip(), tokenizer.eos_token or "")


@torch.no_grad()
def score_texts(model, tokenizer, texts: list[str], batch_size: int = 8) -> list[float]:
    """The model's one output for each text, in batches. A text longer than the model reads is cut from
    the left, with a warning: the score is read at its last token, the end of the answer, which a cut
    from the right (the tokenizer's default side) would drop."""
    limit = model_context(model, int(tokenizer.model_max_length))  # a tokenizer without a limit gives a huge one
    scores: list[float] = []
    cut = 0
    for i in range(0, len(texts), batch_size):
        ids = tokenizer(texts[i:i + batch_size], add_special_tokens=False)["input_ids"]
        cut += sum(len(row) > limit for row in ids)
        ids = [row[-limit:] for row in ids]
        batch = tokenizer.pad({"input_ids": ids}, return_tensors="pt")
        logits = model(**batch.to(model.device)).logits
        scores += [float(x) for x in logits[:, 0].float().cpu()]
    if cut:
        log(f"warning: {cut} of {len(texts)} texts are longer than the reward model's {limit} positions; scored on "
            f"their last {limit} tokens.")
    return scores


@dataclass
class HeldOutPairs:
    """How often a reward model scores the correct completion of a held-out pair above the incorrect one."""

    pairs: int
    accuracy: float | None

    @classmethod
    def measure(cls, model, tokenizer, pairs: list[tuple[str, str, str]]) -> "HeldOutPairs":
        """`pairs`: (problem, correct completion, incorrect completion)."""
        if not pairs:
            return cls(0, None)
        was_training = model.training
        model.eval()
        good = score_texts(model, tokenizer, [reward_text(tokenizer, p, c) for p, c, _ in pairs], 32)
        bad = score_texts(model, tokenizer, [reward_text(tokenizer, p, w) for p, _, w in pairs], 32)
        model.train(was_training)
        return cls(len(pairs), round(sum(g > b for g, b in zip(good, bad)) / len(pairs), 4))
