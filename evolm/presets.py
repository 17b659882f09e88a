"""Model presets: the paper's LLaMA-2-style shapes plus CPU-sized ones.

Shapes and pre-training defaults for 0.5B, 1B and 4B are the paper's (evolm-paper.md, sections 1
and 3); 125M, 250M and 2B are the shapes from the authors' configs, whose training defaults the
paper does not give (we interpolate, and say so in `defaults_from`). 1M, 4M and 16M are evolm's
CPU presets, named, like the paper's, by their parameter count at their default vocabulary.
`tiny` (0.62M, two layers of the 1M preset's width) is not a study size: it is the smallest model
that runs every code path, for checking a pipeline end to end (a CI job, a new cluster's launch
config) in about half the 1M preset's time; it learns little.

Each preset also carries its post-training defaults (`Preset.sft`, `Preset.rl`): the paper's for 1B
and 4B (section 3), ours elsewhere; `evolm sft` / `evolm rl` use them unless an option is given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from evolm.errors import BadInput


@dataclass(frozen=True)
class SFTDefaults:
    """A preset's SFT defaults. The field defaults are the paper's 1B recipe, which evolm also uses
    for the smaller paper shapes and for a preset this evolm does not know."""

    lr: float = 1e-5
    """Peak learning rate."""
    global_batch: int = 128
    """Examples per optimizer step."""
    defaults_from: str = "evolm"
    """'paper' when these are the paper's numbers for this size, 'evolm' when we chose them."""


@dataclass(frozen=True)
class RLDefaults:
    """A preset's RL defaults. The field defaults are the paper's 1B recipe, which evolm also uses
    for the smaller paper shapes and for a preset this evolm does not know."""

    lr: float = 2e-6
    """Actor learning rate."""
    prompts_per_step: int = 1024
    max_prompt_length: int = 1024
    """Prompts longer than this many tokens are skipped."""
    max_completion_length: int = 1024
    defaults_from: str = "evolm"
    """'paper' when these are the paper's numbers for this size, 'evolm' when we chose them."""


# The paper's 4B post-training recipe (1B's is the dataclasses' defaults); 2B borrows it.
_SFT_4B = SFTDefaults(lr=7.5e-6, global_batch=256, defaults_from="paper")
_RL_4B = RLDefaults(lr=1e-6, prompts_per_step=2048, defaults_from="paper")


@dataclass(frozen=True)
class Preset:
    name: str
    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    vocab: int
    """Default vocabulary size the preset is named at (Llama-2's 32000 for the paper's models)."""
    seq_len: int
    """Pre-training sequence length (tokens per sequence)."""
    global_batch: int
    """Pre-training global batch in sequences."""
    peak_lr: float
    min_lr: float
    defaults_from: str
    """'paper' when the training defaults are the paper's, 'evolm' when we chose them."""
    max_position: int = 2048
    rope_theta: float = 10000.0
    rms_eps: float = 1e-5
    sft: SFTDefaults = SFTDefaults()
    """SFT defaults (learning rate, global batch)."""
    rl: RLDefaults = RLDefaults()
    """RL defaults (learning rate, prompts per step, prompt and completion lengths)."""

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def kv_dim(self) -> int:
        """Width of the key (and of the value) projection: kv_heads x head_dim (grouped-query attention)."""
        return self.kv_heads * self.head_dim

    @property
    def positions(self) -> int:
        """The model's positions (max_position_embeddings): the longest sequence it can take."""
        return max(self.max_position, self.seq_len)

    def params(self, vocab: int | None = None) -> int:
        """Parameter count with untied input/output embeddings (as the paper counts)."""
        v = self.vocab if vocab is None else vocab
        h = self.hidden
        per_layer = 2 * h * h + 2 * h * self.kv_dim + 3 * h * self.intermediate + 2 * h
        return 2 * v * h + self.layers * per_layer + h

    def non_embedding_params(self) -> int:
        return self.params(vocab=0)

    def flops_per_token(self, seq_len: int | None = None, vocab: int | None = None, *, causal: bool = True) -> float:
        """Training FLOPs per token: 6 x (non-embedding params + output head) + attention.

        The input embedding is a lookup and costs nothing. Attention's two matmuls (scores and values)
        cost 12 * layers * seq_len * hidden per token over the whole matrix (forward + backward, PaLM
        appendix B); a causal model needs the lower half, 6 * ... (Kaplan et al.), what evolm counts in
        its FLOPs, ledger and MFU. `causal=False` counts the whole matrix, the convention OLMo-core,
        nanochat and nanoGPT report MFU in (the 1B preset at 2048 tokens: 1.09x evolm's count).
        """
        v = self.vocab if vocab is None else vocab
        s = self.seq_len if seq_len is None else seq_len
        dense = self.non_embedding_params() + v * self.hidden
        return 6.0 * dense + (6.0 if causal else 12.0) * self.layers * s * self.hidden

    def describe(self, vocab: int | None = None) -> dict:
        """The shape and pre-training defaults (what a checkpoint's manifest records of its model)."""
        data = asdict(self)
        del data["sft"], data["rl"]
        data["head_dim"] = self.head_dim
        data["params"] = self.params(vocab)
        if vocab is not None:
            data["vocab"] = vocab
        return data

    def hf_config(self, vocab: int | None = None, *, eos_token_id: int | None = None, bos_token_id: int | None = None):
        """A transformers LlamaConfig of this shape (RMSNorm, SwiGLU, RoPE, no biases, GQA, untied)."""
        from transformers import LlamaConfig

        return LlamaConfig(
            vocab_size=self.vocab if vocab is None else vocab,
            hidden_size=self.hidden,
            intermediate_size=self.intermediate,
            num_hidden_layers=self.layers,
            num_attention_heads=self.heads,
            num_key_value_heads=self.kv_heads,
            head_dim=self.head_dim,
            max_position_embeddings=self.positions,
            rms_norm_eps=self.rms_eps,
            rope_theta=self.rope_theta,
            hidden_act="silu",
            attention_bias=False,
            mlp_bias=False,
            tie_word_embeddings=False,
            eos_token_id=eos_token_id,
            bos_token_id=bos_token_id,
            pad_token_id=None,
        )


def _paper(name, hidden, intermediate, layers, global_batch, peak_lr, defaults_from="paper", *,
           sft=SFTDefaults(), rl=RLDefaults()):
    return Preset(
        name=name, hidden=hidden, intermediate=intermediate, layers=layers, heads=32, kv_heads=4,
        vocab=32000, seq_len=2048, global_batch=global_batch, peak_lr=peak_lr, min_lr=peak_lr / 10,
        defaults_from=defaults_from, sft=sft, rl=rl,
    )


def _cpu(name, hidden, intermediate, layers, heads, peak_lr, *, sft_lr, rl_lr, rl_completion):
    return Preset(
        name=name, hidden=hidden, intermediate=intermediate, layers=layers, heads=heads, kv_heads=2,
        vocab=4096, seq_len=256, global_batch=16, peak_lr=peak_lr, min_lr=peak_lr / 10,
        defaults_from="evolm", max_position=1024,
        sft=SFTDefaults(lr=sft_lr, global_batch=16),
        rl=RLDefaults(lr=rl_lr, prompts_per_step=8, max_prompt_length=256, max_completion_length=rl_completion),
    )


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        _cpu("tiny", 64, 192, 2, 4, 3e-3, sft_lr=3e-3, rl_lr=1e-4, rl_completion=96),
        _cpu("1M", 64, 192, 10, 4, 3e-3, sft_lr=3e-3, rl_lr=1e-4, rl_completion=96),
        _cpu("4M", 192, 512, 6, 6, 2e-3, sft_lr=2e-3, rl_lr=5e-5, rl_completion=128),
        _cpu("16M", 384, 1024, 8, 6, 1e-3, sft_lr=1e-3, rl_lr=2e-5, rl_completion=128),
        _paper("125M", 768, 2176, 12, 512, 3e-4, "evolm"),
        _paper("250M", 1024, 2992, 16, 512, 3e-4, "evolm"),
        _paper("0.5B", 1536, 3216, 20, 512, 2.5e-4),
        _paper("1B", 2048, 4896, 22, 512, 2e-4,
               sft=SFTDefaults(defaults_from="paper"), rl=RLDefaults(defaults_from="paper")),
        _paper("2B", 2816, 6180, 26, 1024, 1.5e-4, "evolm",
               sft=replace(_SFT_4B, defaults_from="evolm"), rl=replace(_RL_4B, defaults_from="evolm")),
        _paper("4B", 4096, 7792, 28, 1024, 1.5e-4, sft=_SFT_4B, rl=_RL_4B),
    )
}


def paper_values(stage: str, field: str) -> str:
    """The paper's post-training numbers, for help texts: `paper_values("sft", "lr")` ->
    "1e-5 for 1B, 7.5e-6 for 4B" ("1024" when every paper size has the same)."""
    texts = [(name, f"{getattr(getattr(preset, stage), field):g}".replace("e-0", "e-"))
             for name, preset in PRESETS.items() if getattr(preset, stage).defaults_from == "paper"]
    if len({text for _, text in texts}) == 1:
        return texts[0][1]
    return ", ".join(f"{text} for {name}" for name, text in texts)


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise BadInput(f"Unknown model preset {name!r}; choose one of {', '.join(PRESETS)}.") from None
