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
