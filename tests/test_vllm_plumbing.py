"""The vLLM backend's plumbing, with a stand-in `vllm` module (vLLM itself is not installed here):
what evolm asks of vLLM (memory fraction, dtype, sampling) and what it does with vLLM's refusals."""

import importlib.machinery
import itertools
import json
import sys
import types

import pytest


class _Output:
    def __init__(self, text):
        self.text = text
        self.token_ids = (7, 8, 9)  # what PPO's rollouts read


class _Request:
    def __init__(self, n):
        self.outputs = [_Output(" 1 + 1 = 2.\nThe final answer is \\boxed{2}") for _ in range(n)]


class _Runner:
    def reload_weights(self, weights_iterator=None, weights_path=None, is_checkpoint_format=True):
        raise AssertionError("evolm reloads through LLM.collective_rpc")


def _fake_vllm(monkeypatch, refuse: str | None = None):
    made = {}

    class LLM:
        def __init__(self, **kwargs):
            if refuse:
                raise ValueError(refuse)
            made["llm"] = kwargs
            made["starts"] = made.get("starts", 0) + 1
            self.llm_engine = types.SimpleNamespace(model_executor=types.SimpleNamespace(
                driver_worker=types.SimpleNamespace(model_runner=_Runner())))

        def generate(self, prompts, params, use_tqdm=True):
            batch = params if isinstance(params, list) else [params] * len(prompts)
            made.setdefault("params", []).append(batch[0].kwargs)
            made.setdefault("requests", []).append((prompts, [p.kwargs for p in batch]))
            return [_Request(p.kwargs.get("n", 1)) for p in batch]

        def collective_rpc(self, method, kwargs=None):
            assert method == "reload_weights"
            made.setdefault("loads", []).append({name: tensor.clone() for name, tensor in kwargs["weights_iterator"]})

        def reset_prefix_cache(self):
            made["resets"] = made.get("resets", 0) + 1

    class SamplingParams:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    module = types.ModuleType("vllm")
    module.__spec__ = importlib.machinery.ModuleSpec("vllm", None)
    module.LLM, module.SamplingParams = LLM, SamplingParams
    monkeypatch.setitem(sys.modules, "vllm", module)
    return made


def test_vllm_gets_the_memory_fraction_and_float32_on_a_cpu(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    made = _fake_vllm(monkeypatch)
    result = cli("eval", sft_model, "--suite", "SynthMathBasic1", "--benchmarks", synth_tiny, "--limit", "3",
                 "--samples", "2", "--backend", "vllm", "--vllm-memory", "0.5", "--out", tmp_path / "eval")
    assert result.code == 0, result.err
    assert made["llm"]["gpu_memory_utilization"] == 0.5 and made["llm"]["dtype"] == "float32"
    probe, greedy, sampled = made["params"]  # one token at start-up (a refusal comes before any output), then the task
    assert probe["max_tokens"] == 1 and greedy["temperature"] == 0.0 and sampled["n"] == 2
    saved = json.loads((tmp_path / "eval" / "SynthMathBasic1.json").read_text())
    assert saved["identity"]["backend"] == "vllm" and saved["problems"] == 3


def test_vllm_gets_token_ids_without_bos_a_seed_per_problem_and_no_prompt_past_its_context(tiny_tokenizer, monkeypatch):
    """From text vLLM would add the tokenizer's special tokens (the Llama-2 tokenizer's <s>): it gets the
    ids the transformers backend uses. One seed for every problem would give them all the same
    sampling noise. A prompt that fills the context (vLLM would refuse the whole batch) gets "", as the
    transformers backend gives it."""
    from transformers import AutoTokenizer

    from evolm.eval.generate import Decoding, VLLMBackend, prompt_seed

    made = _fake_vllm(monkeypatch)
    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer)
    tokenizer.add_special_tokens({"bos_token": "<s>"})
    tokenizer.add_bos_token = True  # as the Llama-2 tokenizer: <s> in front of every encoded text
    assert tokenizer("What is 1 plus 1?")["input_ids"][0] == tokenizer.bos_token_id
    backend = VLLMBackend("no-model-dir", tokenizer, context=32, seed=0)
    prompts = ["What is 1 plus 1?", "What is 2 plus 2?", "seven " * 40]
    results = backend.generate_prompts(prompts, Decoding(samples=2, seed=3))
    (_, probe), (greedy_inputs, greedy), (sampled_inputs, sampled) = made["requests"]
    assert greedy_inputs == sampled_inputs == [
        {"prompt_token_ids": tokenizer(p, add_special_tokens=False)["input_ids"]} for p in prompts[:2]]
    assert [p["seed"] for p in greedy] == [p["seed"] for p in sampled] == [prompt_seed(3, p) for p in prompts[:2]]
    assert len(set(p["seed"] for p in sampled)) == 2 and sampled[0]["n"] == 2 and greedy[0]["temperature"] == 0.0
    assert [len(r) for r in results] == [3, 3, 3] and results[2] == ["", "", ""]


def test_vllm_steps_aside_while_the_upstream_evaluation_loads_the_model(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    """lm-eval and the validation loss load the model on the GPU vLLM would hold (0.9 of it): the engine
    tried before any output is closed for them and started again for the generation."""
    made = _fake_vllm(monkeypatch)
    result = cli("eval", sft_model, "--suite", "cloze,SynthMathBasic1", "--benchmarks", synth_tiny, "--limit", "3",
                 "--samples", "0", "--backend", "vllm", "--out", tmp_path / "eval")
    assert result.code == 0, result.err
    assert made["starts"] == 2 and (tmp_path / "eval" / "upstream.json").is_file()
    assert json.loads((tmp_path / "eval" / "SynthMathBasic1.json").read_text())["identity"]["backend"] == "vllm"


def test_vllm_leaves_a_reward_model_its_share_of_the_gpu(tmp_path, monkeypatch):
    """With --reward-model on the same GPU, vLLM's default share (0.9 of the device, claimed when it
    starts) is lowered by the reward model's weights and a fifth more: the paper's 8B reward model,
    about 15 GB in bf16, would not fit in the 10% an H100's 0.9 leaves."""
    import types

    import torch
    from transformers import LlamaConfig

    from evolm.eval.reward_model import vllm_memory_beside, weight_bytes

    LlamaConfig(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                num_key_value_heads=8, num_labels=1).save_pretrained(tmp_path / "rm")
    assert vllm_memory_beside(str(tmp_path / "rm")) == 0.9  # no GPU: nothing to share
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: types.SimpleNamespace(total_memory=80 * 2**30))
    assert 14e9 < weight_bytes(str(tmp_path / "rm")) < 16e9  # Llama-3.1-8B's shape in bf16
    assert 0.65 < vllm_memory_beside(str(tmp_path / "rm")) < 0.72


def test_each_process_tries_vllm_on_its_own_gpu(monkeypatch):
    """GRPO's trial engine is vLLM's default one, which takes GPU 0 whatever the process: under torchrun
    with 4 processes on 4 GPUs, all four would start on the first. Each starts where its LOCAL_RANK is."""
    import os

    import torch

    from evolm.eval.generate import on_this_process_gpu

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("LOCAL_RANK", "2")
    with on_this_process_gpu():
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "2"
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")  # a job given the node's other half
    with on_this_process_gpu():
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "6"
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "4,5,6,7"


def test_vllm_gets_the_models_positions_under_any_name_they_have(tiny_tokenizer, tmp_path, monkeypatch):
    """GPT-2 names its positions n_positions: vLLM is capped by them as the transformers backend is, not
    given a context it would refuse."""
    from transformers import AutoTokenizer, GPT2Config

    from evolm.eval.generate import VLLMBackend

    made = _fake_vllm(monkeypatch)
    GPT2Config(n_positions=48, n_layer=1, n_embd=16, n_head=2).save_pretrained(tmp_path / "gpt2-like")
    backend = VLLMBackend(str(tmp_path / "gpt2-like"), AutoTokenizer.from_pretrained(tiny_tokenizer), context=2048, seed=0)
    assert backend.context == made["llm"]["max_model_len"] == 48


@pytest.mark.parametrize("saved, on_gpu", [("float32", "bfloat16"), (None, "bfloat16"), ("bfloat16", "bfloat16"),
                                            ("float16", "float16")])
def test_vllm_serves_a_gpu_the_models_half_precision_and_a_cpu_float32(saved, on_gpu, monkeypatch):
    """An evolm checkpoint is saved in float32 (the master weights of a bf16-autocast run): on a GPU
    vLLM serves it in bfloat16, as the transformers backend evaluates there, not in float32; a model
    saved in half precision keeps its own; a GPU without bf16 (V100, T4: vLLM refuses bf16 there)
    keeps a float32 checkpoint in float32; --vllm-dtype wins everywhere."""
    import torch

    from evolm.eval.generate import vllm_dtype

    config = {"dtype": saved} if saved else {}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    assert vllm_dtype(config, None) == on_gpu and vllm_dtype(config, "float32") == "float32"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: False)
    assert vllm_dtype(config, None) == (saved if saved in ("bfloat16", "float16") else "float32")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert vllm_dtype(config, None) == "float32" and vllm_dtype(config, "bfloat16") == "bfloat16"


def test_a_model_vllm_cannot_serve_exits_2_with_its_reason(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    _fake_vllm(monkeypatch, refuse="Head size 16 is not supported by PagedAttention.")
    result = cli("eval", sft_model, "--suite", "SynthMathBasic1", "--benchmarks", synth_tiny, "--limit", "3",
                 "--samples", "0", "--backend", "vllm", "--out", tmp_path / "eval")
    assert result.code == 2
    assert "vLLM cannot serve" in result.err and "Head size 16 is not supported" in result.err
    assert "use --backend transformers" in result.err and not (tmp_path / "eval").exists()


@pytest.mark.parametrize("args, message", [
    (("--vllm-memory", "1.5"), "--vllm-memory 1.5 is out of range"),
    (("--vllm-dtype", "int8"), "--vllm-dtype must be float32, bfloat16 or float16"),
])
def test_vllm_settings_out_of_range_are_refused(args, message, sft_model, synth_tiny, tmp_path, cli):
    result = cli("eval", sft_model, "--suite", "SynthMathBasic1", "--benchmarks", synth_tiny, *args, "--out", tmp_path / "e")
    assert result.code == 2 and message in result.err and not (tmp_path / "e").exists()


def test_asking_for_vllm_without_it_is_refused_before_any_work(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    monkeypatch.setattr("evolm.eval.generate.vllm_installed", lambda: False)  # as where vLLM is not installed
    result = cli("eval", sft_model, "--suite", "SynthMathBasic1", "--benchmarks", synth_tiny, "--backend", "vllm",
                 "--out", tmp_path / "e")
    assert result.code == 2 and "--backend vllm needs vLLM installed" in result.err and not (tmp_path / "e").exists()


def test_auto_falls_back_to_transformers_when_vllm_refuses_the_model(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    """--backend auto picks vLLM where it runs (here: as on a GPU); a model it refuses is evaluated with
    transformers after one warning, and the results say which backend made them."""
    _fake_vllm(monkeypatch, refuse="Head size 16 is not supported by PagedAttention.")
    monkeypatch.setattr("evolm.eval.generate.vllm_available", lambda: True)
    result = cli("eval", sft_model, "--suite", "SynthMathBasic1", "--benchmarks", synth_tiny, "--limit", "2",
                 "--samples", "0", "--out", tmp_path / "eval")
    assert result.code == 0, result.err
    assert result.err.count("warning: vLLM cannot serve") == 1 and "Head size 16" in result.err
    assert "evaluating with the transformers backend instead" in result.err
    saved = json.loads((tmp_path / "eval" / "SynthMathBasic1.json").read_text())
    assert saved["identity"]["backend"] == "transformers" and saved["problems"] == 2
    # the rerun finds that result: vLLM is not tried again (nor its warning given) for nothing to generate
    again = cli("eval", sft_model, "--suite", "SynthMathBasic1", "--benchmarks", synth_tiny, "--limit", "2",
                "--samples", "0", "--out", tmp_path / "eval")
    assert again.code == 0 and "warning" not in again.err and "reusing the finished result" in again.err, again.err


def test_a_reward_model_is_added_to_results_vllm_refused_the_model_for_without_generating(sft_model, tiny_tokenizer,
                                                                                          synth_tiny, tmp_path, cli, monkeypatch):
    """Under --backend auto, where vLLM refused the model, the results name the transformers backend: a
    reward model added later (--rescore, as a study's rm node does) scores their samples, and with vLLM
    the engine is not started for a reward model added to a finished result either."""
    from test_eval import _tiny_reward_model

    rm = _tiny_reward_model(tiny_tokenizer, tmp_path / "rm")
    args = ("eval", sft_model, "--suite", "SynthMathBasic1", "--benchmarks", synth_tiny, "--limit", "2", "--samples", "2")
    with monkeypatch.context() as refusing:
        _fake_vllm(refusing, refuse="Head size 16 is not supported by PagedAttention.")
        refusing.setattr("evolm.eval.generate.vllm_available", lambda: True)
        assert cli(*args, "--out", tmp_path / "auto").code == 0
        rescored = cli(*args, "--reward-model", rm, "--rescore", "--out", tmp_path / "auto")
        assert rescored.code == 0, rescored.err
        assert json.loads((tmp_path / "auto" / "SynthMathBasic1.json").read_text())["identity"]["backend"] == "transformers"
    made = _fake_vllm(monkeypatch)
    assert cli(*args, "--backend", "vllm", "--out", tmp_path / "v").code == 0 and made["starts"] == 1
    added = cli(*args, "--backend", "vllm", "--reward-model", rm, "--out", tmp_path / "v")
    assert added.code == 0 and "only the reward model changed" in added.err and made["starts"] == 1, added.err


def test_vllm_starts_only_for_something_to_generate_and_after_the_results_are_checked(sft_model, synth_tiny, tmp_path,
                                                                                      cli, monkeypatch):
    """Its engine takes a minute and most of a GPU: a rerun of a finished evaluation starts none, and results
    of other settings in the folder are refused (exit 2) before it starts."""
    made = _fake_vllm(monkeypatch)
    args = ("eval", sft_model, "--suite", "SynthMathBasic1", "--benchmarks", synth_tiny, "--limit", "2", "--samples", "0")
    assert cli(*args, "--backend", "vllm", "--out", tmp_path / "v").code == 0 and made["starts"] == 1
    again = cli(*args, "--backend", "vllm", "--out", tmp_path / "v")
    assert again.code == 0 and "reusing the finished result" in again.err and made["starts"] == 1
    assert cli(*args, "--backend", "transformers", "--out", tmp_path / "t").code == 0
    other = cli(*args, "--backend", "vllm", "--out", tmp_path / "t")
    assert other.code == 2 and "--overwrite" in other.err and made["starts"] == 1


def test_the_compute_dtype_is_part_of_an_evaluations_identity(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    """Completions in bf16 are not those in float32: a dtype asked for against vLLM's default here (float32
    on a CPU) is in the identity, so that result is not reused for float32; the default's results keep
    the identity they had before the dtype was recorded."""
    made = _fake_vllm(monkeypatch)
    args = ("eval", sft_model, "--suite", "SynthMathBasic1", "--benchmarks", synth_tiny, "--limit", "2", "--samples", "0",
            "--backend", "vllm", "--out", tmp_path / "v")
    assert cli(*args, "--vllm-dtype", "bfloat16").code == 0 and made["llm"]["dtype"] == "bfloat16"
    assert json.loads((tmp_path / "v" / "SynthMathBasic1.json").read_text())["identity"]["dtype"] == "bfloat16"
    in_float32 = cli(*args, "--vllm-dtype", "float32")
    assert in_float32.code == 2 and "--overwrite" in in_float32.err
    assert cli(*args, "--vllm-dtype", "float32", "--overwrite").code == 0
    assert "dtype" not in json.loads((tmp_path / "v" / "SynthMathBasic1.json").read_text())["identity"]


RL = ("--examples", "8", "--epochs", "1", "--prompts-per-step", "4", "--rollouts", "2", "--max-completion-length", "16")


def test_rl_asking_for_vllm_without_it_is_refused_before_any_work(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    monkeypatch.setattr("evolm.eval.generate.vllm_installed", lambda: False)
    result = cli("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", *RL, "--backend", "vllm",
                 "--out", tmp_path / "rl")
    assert result.code == 2 and "--backend vllm needs vLLM installed" in result.err
    assert not (tmp_path / "rl").exists() and not (tmp_path / "rl.partial").exists()


def test_rl_with_vllm_on_a_cpu_is_refused_before_any_work(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    """vLLM's CPU build cannot take TRL's weight syncs (tests/test_vllm_cpu.py shows it with the real
    one): GRPO refuses --backend vllm without CUDA at once, not at its first step."""
    _fake_vllm(monkeypatch)
    result = cli("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", *RL, "--backend", "vllm",
                 "--out", tmp_path / "rl")
    assert result.code == 2 and "needs a CUDA GPU" in result.err and "use --backend transformers" in result.err
    assert not (tmp_path / "rl").exists() and not (tmp_path / "rl.partial").exists()


def test_ppo_samples_from_vllm_given_the_policys_weights_before_each_step(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    """PPO's own colocated engine (evolm.training.vllm_rollouts), which runs on vLLM's CPU build too:
    built in this process (external launcher), given the policy's current weights before each
    step's sampling, sampled with one seed per completion; its completions are what PPO trains on."""
    from safetensors.torch import load_file

    made = _fake_vllm(monkeypatch)
    verdicts = itertools.count()  # every other completion right, so that the policy has something to learn
    monkeypatch.setattr("evolm.stages.rl.reward_function", lambda completions, **_: [float(next(verdicts) % 2) for _ in completions])
    result = cli("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "8", "--epochs", "1",
                 "--prompts-per-step", "4", "--max-completion-length", "16", "--algo", "ppo", "--backend", "vllm",
                 "--vllm-memory", "0.2", "--lr", "1e-3", "--warmup", "0", "--out", tmp_path / "rl")
    assert result.code == 0, result.err  # (no warmup: the first of two steps would train at LR 0, as transformers warms up)
    llm = made["llm"]
    assert llm["distributed_executor_backend"] == "external_launcher" and llm["gpu_memory_utilization"] == 0.2
    assert llm["dtype"] == "float32" and llm["max_model_len"] >= 16
    first, second = made["loads"]  # one load per step, each the whole policy under its checkpoint names
    parent = load_file(sft_model / "model.safetensors")
    assert set(parent) <= set(first) and all(first[k].equal(parent[k]) for k in parent)
    assert any(not second[k].equal(first[k]) for k in parent)  # step 2 samples from the trained weights
    assert made["resets"] == 2
    probe, *steps = made["requests"]
    assert [len(prompts) for prompts, _ in steps] == [4, 4]
    seeds = [p["seed"] for _, params in steps for p in params]
    assert len(set(seeds)) == 8 and all(p["temperature"] == 1.0 and p["max_tokens"] == 16 for _, params in steps for p in params)
    manifest = json.loads((tmp_path / "rl" / "evolm.json").read_text())
    assert manifest["posttraining"]["generation"]["backend"] == "vllm"
    assert manifest["compute"]["generated_tokens"] == 8 * 3  # the engine's three tokens per completion


def test_ppo_on_a_model_vllm_refuses_exits_2_before_any_output(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    _fake_vllm(monkeypatch, refuse="Head size 16 is not supported by PagedAttention.")
    result = cli("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "8", "--epochs", "1",
                 "--prompts-per-step", "4", "--algo", "ppo", "--backend", "vllm", "--out", tmp_path / "rl")
    assert result.code == 2 and "vLLM cannot serve" in result.err and "Head size 16" in result.err
    assert not (tmp_path / "rl").exists() and not (tmp_path / "rl.partial").exists()


def test_ppo_auto_trains_with_transformers_rollouts_when_vllm_refuses(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    _fake_vllm(monkeypatch, refuse="Head size 16 is not supported by PagedAttention.")
    monkeypatch.setattr("evolm.eval.generate.vllm_available", lambda: True)  # as on a GPU
    result = cli("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "8", "--epochs", "1",
                 "--prompts-per-step", "4", "--max-completion-length", "8", "--algo", "ppo", "--out", tmp_path / "rl")
    assert result.code == 0, result.err
    assert result.err.count("warning: vLLM cannot serve") == 1
    assert json.loads((tmp_path / "rl" / "evolm.json").read_text())["posttraining"]["generation"]["backend"] == "transformers"


def test_all_processes_take_one_backend(monkeypatch):
    """vLLM failing on one process only: every process refuses it (here one process stands for the
    others through the agreement collective, which reports a failure elsewhere)."""
    from evolm.stages import rl

    monkeypatch.setattr(rl, "all_agree", lambda ok: False)
    monkeypatch.setattr("evolm.eval.generate.vllm_available", lambda: True)
    assert rl.vllm_for_rollouts(rl.RLOptions(algo="ppo"), "m", lambda: "engine") is None
    with pytest.raises(rl.BadInput, match="failed on another process"):
        rl.vllm_for_rollouts(rl.RLOptions(algo="ppo", backend="vllm"), "m", lambda: "engine")


def test_grpo_starts_its_process_group_before_the_processes_agree_on_vllm(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    """The agreement is a collective only once a process group exists: GRPO and RLOO start it before
    trying vLLM (they tried it first, each process answering for itself: a trial failing on one GPU only
    left the processes on two backends, and TRL's colocated start-up waited forever for the others)."""
    from evolm.stages import rl

    order = []
    started = rl.process_group
    monkeypatch.setattr(rl, "process_group", lambda: (order.append("process group"), started())[1])

    def trial(*args, **kwargs):
        order.append("vLLM tried")
        raise KeyboardInterrupt  # enough: what follows is training

    monkeypatch.setattr(rl, "rollouts_on_vllm", trial)
    result = cli("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", *RL, "--out", tmp_path / "rl")
    assert result.code != 0 and order == ["process group", "vLLM tried"]


def test_rl_unknown_backend_is_refused(sft_model, synth_tiny, tmp_path, cli):
    result = cli("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", *RL, "--backend", "sglang",
                 "--out", tmp_path / "rl")
    assert result.code == 2 and "--backend must be auto, transformers or vllm" in result.err


def test_rl_auto_tries_vllm_once_and_trains_with_transformers_when_it_refuses(sft_model, synth_tiny, tmp_path, cli,
                                                                              monkeypatch):
    """Where auto picks vLLM (a GPU), the model is tried before training: a refusal (here a head size)
    means transformers rollouts after one warning, recorded in the manifest, instead of a crash mid-run."""
    import trl.trainer.grpo_trainer  # noqa: F401 - before the stand-in: TRL imports vLLM's modules where it finds vLLM

    _fake_vllm(monkeypatch, refuse="Head size 16 is not supported by PagedAttention.")
    monkeypatch.setattr("evolm.eval.generate.vllm_available", lambda: True)
    result = cli("rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", *RL, "--out", tmp_path / "rl")
    assert result.code == 0, result.err
    assert result.err.count("warning: vLLM cannot serve") == 1
    assert "RL generates its rollouts with transformers instead" in result.err
    generation = json.loads((tmp_path / "rl" / "evolm.json").read_text())["posttraining"]["generation"]
    assert generation["backend"] == "transformers"


def test_rl_vllm_probe_gets_the_memory_fraction(sft_model, monkeypatch):
    """The probe that precedes a vLLM RL run claims no more memory than TRL's engine will (--vllm-memory)."""
    from evolm.stages.rl import RLOptions, rollouts_on_vllm

    from transformers import AutoTokenizer

    made = _fake_vllm(monkeypatch)
    monkeypatch.setattr("evolm.eval.generate.vllm_available", lambda: True)
    tokenizer = AutoTokenizer.from_pretrained(sft_model)
    assert rollouts_on_vllm(RLOptions(vllm_memory=0.25), sft_model, tokenizer, 128) is True
    assert made["llm"]["gpu_memory_utilization"] == 0.25 and made["llm"]["max_model_len"] <= 128
    assert rollouts_on_vllm(RLOptions(backend="transformers"), sft_model, tokenizer, 128) is False
