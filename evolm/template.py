"""The paper's prompt template, installed as the tokenizer's chat template.

    Human: {problem}\\nAssistant: {solution}<eos>

SFT installs it, and RL, evaluation, lm-eval and vLLM all get the same prompt through
`tokenizer.apply_chat_template`. The space after "Assistant:" belongs to the response: the
generation prompt ends with "Assistant:", and the response starts with " ", so a byte-level BPE
tokenizes training text and generation prompts identically. `{% generation %}` marks the response
for TRL's response-only loss (`assistant_only_loss`).
"""

from __future__ import annotations

TEMPLATE_NAME = "evolm/human-assistant-v1"

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'user' -%}"
    "{{ 'Human: ' + message['content'] + '\\n' }}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{{ 'Assistant:' }}{% generation %}{{ ' ' + message['content'] + eos_token }}{% endgeneration %}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'Assistant:' }}{%- endif -%}"
)


STOP_STRINGS = ("Human:", "Assistant:")
"""Where a completion ends besides EOS: the start of a turn the model goes on to write itself."""


def cut_at_stop(text: str, stop: tuple[str, ...] = STOP_STRINGS) -> str:
    """The completion up to the first stop string (generation may run a few tokens past it)."""
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=len(text))
    return text[:cut]


# evolm's template as a post-trained manifest records it
RECORD = {"name": TEMPLATE_NAME, "chat_template": CHAT_TEMPLATE, "format": "Human: {problem}\\nAssistant: {solution}<eos>"}


def prompt_text(problem: str) -> str:
    """The generation prompt for a problem, exactly as the chat template renders it."""
    return f"Human: {problem}\nAssistant:"


def training_text(problem: str, solution: str, eos_token: str) -> str:
    return f"{prompt_text(problem)} {solution}{eos_token}"


def conversation(problem: str, solution: str | None = None) -> list[dict]:
    messages = [{"role": "user", "content": problem}]
    if solution is not None:
        messages.append({"role": "assistant", "content": solution})
    return messages


def install(tokenizer) -> None:
    """Set the chat template; reuse EOS for padding (labels are masked by position, not by id)."""
    tokenizer.chat_template = CHAT_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token


def has_template(tokenizer) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def template_record(tokenizer) -> dict:
    """What a post-trained manifest records of the template its stage prompted with: evolm's, or the
    parent's own (an RL run from a model fine-tuned elsewhere keeps the template it was tuned with)."""
    if tokenizer.chat_template == CHAT_TEMPLATE:
        return dict(RECORD)
    return {"name": "the parent's own", "chat_template": tokenizer.chat_template, "format": None}
