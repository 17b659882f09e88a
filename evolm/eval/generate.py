"""Batched generation with transformers: the chat-template prompt, left padding, KV cache.

The CPU / no-vLLM backend. Prompts are rendered with the checkpoint's own chat template (never an
added BOS, matching training); generation stops at EOS.
"""

from __future__ import annotations

import torch


def render_prompts(tokenizer, problems: list[str]) -> list[str]:
    from evolm.template import conversation

    return [tokenizer.apply_chat_template(conversation(p), tokenize=False, add_generation_prompt=True) for p in problems]


@torch.no_grad()
def generate(model, tokenizer, problems: list[str], *, max_new_tokens: int = 256, batch_size: int = 16,
             do_sample: bool = False, temperature: float = 1.0, repetition_penalty: float = 1.0, seed: int = 0) -> list[str]:
    """Completions (text after the prompt, without EOS) for each problem."""
    prompts = render_prompts(tokenizer, problems)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    outputs: list[str] = []
    torch.manual_seed(seed)  # sampling is reproducible for a fixed seed
    for i in range(0, len(prompts), batch_size):
        batch = tokenizer(prompts[i:i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        generated = model.generate(
            **batch, max_new_tokens=max_new_tokens, do_sample=do_sample, temperature=temperature if do_sample else None,
            top_p=None, top_k=None, repetition_penalty=repetition_penalty, pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        new_tokens = generated[:, batch["input_ids"].shape[1]:]
        outputs += tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
    return outputs
