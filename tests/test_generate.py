"""The transformers generation backend: what one prompt gets does not depend on what shares its batch."""

import torch

from evolm.eval.generate import Decoding, TransformersBackend, eos_ids
from evolm.eval.loading import load_model, load_tokenizer

SHORT, MIDDLE, LONG = "What is 2 plus 3?", "word " * 20, "word " * 200


def _backend(model, tokenizer):
    return TransformersBackend(model, tokenizer, batch_size=8)


def test_each_prompt_gets_its_own_room_whatever_shares_its_batch(sft_model):
    """A 64-token context and room for 40 new tokens: the short prompt's completion is the same alone as
    beside a 52-token prompt (which leaves 12 tokens of room) or one that fills the context; those get
    their own room, and none."""
    tokenizer, model = load_tokenizer(str(sft_model), need_template=True), load_model(str(sft_model))
    backend = _backend(model, tokenizer)
    decoding = Decoding(max_new_tokens=40, context=64, repetition_penalty=1.0)
    alone = [backend.generate([p], decoding)[0] for p in (SHORT, MIDDLE)]
    together = backend.generate([SHORT, MIDDLE, LONG], decoding)
    assert together == [*alone, [""]]
    assert len(tokenizer(alone[0][0])["input_ids"]) > 12  # more than the longer prompt's room: it was not cut to it
    sampled = Decoding(greedy=False, samples=2, max_new_tokens=40, context=64)
    assert [len(c) for c in backend.generate([SHORT, MIDDLE], sampled)] == [2, 2]


def test_a_model_with_a_learned_position_table_never_runs_past_it(sft_model):
    """GPT-2 has 64 learned positions here: the longer prompt, which would pass them while the batch runs
    for the short one's room, is generated in a batch of its own, as it would be alone."""
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = load_tokenizer(str(sft_model), need_template=True)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=1, n_head=2,
                                       eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.eos_token_id)).eval()
    backend = _backend(model, tokenizer)
    decoding = Decoding(max_new_tokens=40, context=64, repetition_penalty=1.0, stop=())
    alone = [backend.generate([p], decoding)[0] for p in (SHORT, MIDDLE)]
    assert backend.generate([SHORT, MIDDLE], decoding) == alone


def test_a_completion_ends_at_the_tokenizers_eos_and_at_the_models_end_of_turn(sft_model):
    tokenizer, model = load_tokenizer(str(sft_model), need_template=True), load_model(str(sft_model))
    model.generation_config.eos_token_id = [7, tokenizer.eos_token_id]
    assert eos_ids(model, tokenizer) == [tokenizer.eos_token_id, 7]
    model.generation_config.eos_token_id = None
    assert eos_ids(model, tokenizer) == [tokenizer.eos_token_id]


def test_a_chunk_of_problems_fills_the_batches_the_backend_makes(monkeypatch):
    """On a CPU, 32 sequences per batch: 12 problems of greedy + 4 samples a chunk. On a GPU the batch
    follows the free memory (hundreds of sequences), which chunks of 4 problems (16 samples) kept empty."""
    from evolm.eval.run import EvalOptions, _chunk

    sampled = EvalOptions("synth-id", decoding=Decoding(samples=4))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # (this test also runs on GPU machines)
    assert _chunk("transformers", sampled) == 12 and _chunk("vllm", sampled) == 512
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert _chunk("transformers", EvalOptions("synth-id", decoding=Decoding(samples=16))) == 256
    assert _chunk("transformers", EvalOptions("synth-id", decoding=Decoding(samples=16), batch_size=64)) == 7  # a given batch size


def test_on_a_gpu_a_batch_past_its_prompts_rooms_keeps_to_the_memory_it_was_sized_for():
    """The batch size follows free memory for sequences of `context` tokens; a batch that runs for its
    shortest prompt's room takes its longer prompts past the context, so on a GPU it keeps the shortest
    prompts whose sequences fit that many tokens (here 4 sequences x 100 = 400)."""
    import types

    backend = TransformersBackend.__new__(TransformersBackend)
    backend.batch_size, backend.model = None, types.SimpleNamespace(device=types.SimpleNamespace(type="cuda"))
    backend.auto_batch_size = lambda length: 4
    ids = [[0] * 10, [0] * 20, [0] * 60, [0] * 90]
    assert backend._within_memory([0, 1, 2, 3], ids, 90, 1, 100) == [0, 1]  # 2 x (20 + 90) <= 400 < 3 x (60 + 90)
    assert backend._within_memory([0, 1, 2, 3], ids, 90, 2, 100) == [0]  # 2 samples each: the shortest alone
    backend.model.device.type = "cpu"
    assert backend._within_memory([0, 1, 2, 3], ids, 90, 1, 100) == [0, 1, 2, 3]
