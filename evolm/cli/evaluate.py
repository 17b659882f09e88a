"""`evolm eval`: upstream and downstream evaluation of a checkpoint, or grading of given responses."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

from evolm.cli.common import ConfigOption, JsonOption, count, emit
from evolm.errors import BadInput
from evolm.options import PAPER_SAMPLES, VAL_TOKENS, listed


# The options that shape generation only: a suite with no generation task would take them and drop them.
DECODING_OPTIONS = ("samples", "temperature", "repetition_penalty", "max_new_tokens", "context", "seed", "no_greedy")


def decoding_given(ctx, names=DECODING_OPTIONS) -> list[str]:
    """The options among `names` (the decoding ones by default) that a command line (or a study's
    `evolm eval` command) sets to other than their defaults, as their flags. A default written out, or a
    value from --config (kept for whichever suite it is used with), is not counted."""
    defaults = {param.name: param.default for param in ctx.command.params}
    # click's ParameterSource by name: typer vendors click in a private module whose path may change
    return [f"--{name.replace('_', '-')}" for name in names
            if ctx.get_parameter_source(name).name == "COMMANDLINE" and ctx.params[name] != defaults[name]]


def evaluate(
    ctx: typer.Context,
    model: Optional[str] = typer.Argument(None, metavar="CKPT", help="evolm checkpoint, Hugging Face model directory or hub name."),
    suite: str = typer.Option(..., "--suite", help="upstream | id | ood | downstream | all | synth-id | synth-ood | synth | cloze | NAME[,NAME] (tasks by file stem)."),
    tasks: Optional[list[Path]] = typer.Option(None, "--tasks", help="A task YAML declaring your own test set (name, grader, domain, suite, file); repeatable. `*.task.yaml` files in --benchmarks are read too."),
    benchmarks: Optional[Path] = typer.Option(None, "--benchmarks", help="Folder of test files (from `evolm data benchmarks`) or a synth data folder (from `evolm data synth`); default for the paper's tasks: fetched from the hub once into ~/.cache/evolm."),
    samples: int = typer.Option(PAPER_SAMPLES, "--samples", help="Sampled completions per problem at --temperature, besides the greedy one (paper: 16)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Evaluate only the first N problems (rows) of each task."),
    out: Optional[Path] = typer.Option(None, "--out", help="Results folder (default: CKPT/eval)."),
    max_new_tokens: int = typer.Option(1024, "--max-new-tokens", help="Longest completion in tokens (also bounded by --context)."),
    context: int = typer.Option(2048, "--context", help="Prompt + completion tokens (paper: 2048); capped by the model's positions."),
    temperature: float = typer.Option(1.0, "--temperature", help="Sampling temperature of the K samples."),
    repetition_penalty: float = typer.Option(1.1, "--repetition-penalty", help="Penalty on repeated tokens in every completion, the greedy one included (1.0: none; paper: 1.1)."),
    no_greedy: bool = typer.Option(False, "--no-greedy", help="Skip the greedy completion (no Pass@1)."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed."),
    backend: str = typer.Option("auto", "--backend", help="auto (vLLM on a GPU when installed, else transformers) | transformers | vllm."),
    vllm_memory: Optional[float] = typer.Option(None, "--vllm-memory", help="With vLLM: the fraction of the device's memory it may claim (gpu_memory_utilization; default 0.9, less a --reward-model's share on the same GPU)."),
    vllm_dtype: Optional[str] = typer.Option(None, "--vllm-dtype", help="With vLLM: float32 | bfloat16 | float16 (default: on a GPU the model's bfloat16 or float16, bfloat16 for a float32 checkpoint; float32 on a CPU)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Sequences per generation batch with the transformers backend (default: from free memory on a GPU, 32 on a CPU; vLLM batches by itself), and lm-eval's batch for upstream tasks (default: lm-eval's auto)."),
    reward_model: Optional[str] = typer.Option(None, "--reward-model", help="Sequence-classification reward model for RM@K and the mean RM score."),
    val_data: Optional[Path] = typer.Option(None, "--val-data", help="Token shards for validation loss (default: the lineage's pre-training data, if on disk)."),
    val_tokens: str = typer.Option(str(VAL_TOKENS), "--val-tokens", help="Validation tokens to score (a count: 64K, 1M); the default is training's."),
    checkpoints: Optional[str] = typer.Option(None, "--checkpoints", help="A glob of checkpoints to evaluate one after another in this call (e.g. 'runs/pt-1M@*' for a run's --export-at exports), each into its own CKPT/eval (with --json: one line per checkpoint); instead of CKPT."),
    responses: Optional[Path] = typer.Option(None, "--responses", help="Grade-only: a .jsonl of {id, completions: [...]} made elsewhere; no model is loaded."),
    greedy_first: bool = typer.Option(False, "--greedy-first", help="Grade-only: the first completion of each line is the greedy one."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace results in the output folder that were made with other settings (default: refuse, unless this evaluation holds them: the same with a reward model's scores or samples added; use --out DIR to keep both)."),
    rescore: bool = typer.Option(False, "--rescore", help="Only add or replace --reward-model's scores on the finished evaluation in the output folder (its samples kept, none generated); refused when anything else differs."),
    as_json: bool = JsonOption, config: Optional[Path] = ConfigOption,
) -> None:
    """Evaluate a model (upstream: lm-eval + validation loss; downstream: generation + exact grading), or grade --responses."""
    if samples < 0 or (limit is not None and limit < 1) or max_new_tokens < 1 or context < 2:
        raise BadInput("--samples must be >= 0, --limit and --max-new-tokens positive, and --context at least 2.")
    if backend not in ("auto", "transformers", "vllm"):
        raise BadInput(f"--backend must be auto, transformers or vllm, not {backend!r}.")
    if vllm_memory is not None and not 0 < vllm_memory <= 1:
        raise BadInput(f"--vllm-memory {vllm_memory} is out of range: it must be a fraction above 0 and at most 1.")
    if vllm_dtype not in (None, "float32", "bfloat16", "float16"):
        raise BadInput(f"--vllm-dtype must be float32, bfloat16 or float16, not {vllm_dtype!r}.")
    # the libraries refuse these only once the model is loaded (or, for a batch size, quietly pick another)
    if samples > 0 and not (math.isfinite(temperature) and temperature > 0):
        raise BadInput(f"--temperature {temperature} is out of range: the samples' temperature must be above 0 (the greedy completion needs none).")
    if not (math.isfinite(repetition_penalty) and repetition_penalty > 0):
        raise BadInput(f"--repetition-penalty {repetition_penalty} is out of range: it must be above 0 (1.0 is none).")
    if batch_size is not None and batch_size < 1:
        raise BadInput(f"--batch-size {batch_size} is out of range: it must be at least 1 (leave it out to choose from memory).")
    if rescore and (reward_model is None or responses is not None or overwrite):
        raise BadInput("--rescore scores a finished evaluation with a --reward-model; give one, without --responses or --overwrite.")
    if greedy_first and responses is None:
        raise BadInput("--greedy-first describes a --responses file; give one, or leave it out.")
    if responses is not None:
        ignored = [name for name, value in (("--limit", limit), ("--checkpoints", checkpoints), ("--reward-model", reward_model),
                                            ("--batch-size", batch_size), ("--val-data", val_data),
                                            ("--vllm-memory", vllm_memory), ("--vllm-dtype", vllm_dtype)) if value is not None]
        # and what only generating or scoring reads, set on the command line (dropped without a word before:
        # --no-greedy, with pass@1 reported all the same)
        ignored += decoding_given(ctx, (*DECODING_OPTIONS, "backend", "val_tokens"))
        if ignored:
            raise BadInput(f"--responses grades every completion in the file, made elsewhere; {listed(ignored)} "
                           f"{'does' if len(ignored) == 1 else 'do'} not apply to it.")
        _grade_only(model, suite, benchmarks, list(tasks or []), responses, greedy_first, out, as_json, overwrite)
        return
    targets = _checkpoints(checkpoints, model, out)
    if model is None and not targets:
        raise BadInput("Give a checkpoint to evaluate, --checkpoints GLOB, or --responses FILE to grade completions made elsewhere.")
    if no_greedy and samples == 0:
        raise BadInput("--no-greedy with --samples 0 leaves nothing to generate.")
    from evolm.eval.run import EvalOptions, run

    decoding = decoding_of(dict(no_greedy=no_greedy, samples=samples, temperature=temperature, repetition_penalty=repetition_penalty,
                                max_new_tokens=max_new_tokens, context=context, seed=seed))
    options = EvalOptions(suite=suite, benchmarks=benchmarks, out=out, limit=limit, decoding=decoding, backend=backend,
                          batch_size=batch_size, reward_model=reward_model, val_data=val_data, val_tokens=count(val_tokens, "--val-tokens"),
                          tasks=list(tasks or []), overwrite=overwrite, vllm_memory=vllm_memory, vllm_dtype=vllm_dtype,
                          rescore=rescore, decoding_given=tuple(decoding_given(ctx)))
    for target in targets:  # every match's refusals (an altered file, no chat template, results of other settings) first
        run(target, options, check_only=True)
    for target in targets or [model]:  # one at a time: each model is loaded, evaluated and released in turn
        if targets:
            from evolm.console import log

            log(f"evaluating {target} ({targets.index(target) + 1} of {len(targets)})")
        out_dir, summary = run(target, options)
        _print_summary(summary)
        emit(out_dir, {k: summary.get(k) for k in ("suite", "upstream", "downstream", "wall_time_s")}, as_json)


def _checkpoints(pattern: str | None, model: str | None, out: Path | None) -> list[str]:
    """The folders --checkpoints matches, each holding a model (checked before any work)."""
    if pattern is None:
        return []
    if model is not None or out is not None:
        raise BadInput("--checkpoints evaluates each match into its own CKPT/eval; drop the CKPT argument and --out.")
    import glob

    matches = sorted(p for p in glob.glob(pattern) if Path(p).is_dir() and not p.endswith(".partial"))
    if not matches:
        raise BadInput(f"--checkpoints {pattern} matches no checkpoint folder.")
    for match in matches:
        if not (Path(match) / "evolm.json").is_file() and not (Path(match) / "config.json").is_file():
            raise BadInput(f"--checkpoints {pattern} matches {match}, which holds no model (no evolm.json or config.json).")
    return matches


def decoding_of(params: dict):
    """The decoding `evolm eval`'s options ask for (its parameters by name, as typer parses them): what the
    command runs with, and what a study's check of its evaluations compares (evolm.cli.study)."""
    from evolm.eval.generate import Decoding

    return Decoding(greedy=not params["no_greedy"], samples=params["samples"], temperature=params["temperature"],
                    repetition_penalty=params["repetition_penalty"], max_new_tokens=params["max_new_tokens"],
                    context=params["context"], seed=params["seed"])


def _grade_only(model, suite, benchmarks, task_files, responses, greedy_first, out, as_json, overwrite) -> None:
    from evolm.eval.grade_only import grade_responses
    from evolm.eval.tasks.registry import registry_for

    if model is not None:
        raise BadInput("--responses grades completions without a model; drop the CKPT argument.")
    registry = registry_for(benchmarks, task_files)
    if suite not in registry:
        raise BadInput(f"--responses grades one task; --suite must name it (one of {', '.join(registry.names())}).")
    out_dir = out or Path(responses).parent
    result = grade_responses(Path(responses), registry.task(suite, benchmarks), out_dir, greedy_first=greedy_first,
                             overwrite=overwrite)
    _print_task(suite, result["metrics"])
    emit(out_dir / f"{suite}.graded.json", {"task": suite, "problems": result["problems"], "metrics": result["metrics"]}, as_json)


HEADLINE = ("pass@1", "maj@", "pass@", "correct_ratio", "rm@", "no_answer")


def _headline(metrics: dict) -> str:
    parts = []
    for name, entry in metrics.items():
        if name.startswith(HEADLINE) and not name.endswith(("_unbiased", "_all")) and entry["value"] is not None:
            parts.append(f"{name} {100 * entry['value']:.1f}")
    return "  ".join(parts)


def _print_task(name: str, metrics: dict) -> None:
    from evolm.console import log

    log(f"{name}: {_headline(metrics)}")


def _print_summary(summary: dict) -> None:
    from evolm.console import log

    upstream = summary.get("upstream") or {}
    for name, entry in (upstream.get("tasks") or {}).items():
        if entry["value"] is not None:
            log(f"{name}: {entry['metric']} {100 * entry['value']:.1f}")
    if upstream.get("average") is not None:
        log(f"upstream average: {100 * upstream['average']:.1f}")
    if upstream.get("val"):
        log(f"validation loss: {upstream['val']['loss']:.4f} (perplexity {upstream['val']['perplexity']:.2f})")
    downstream = summary.get("downstream") or {}
    for name, entry in (downstream.get("tasks") or {}).items():
        _print_task(name, entry["metrics"])
    for group, entry in (downstream.get("groups") or {}).items():
        _print_task(f"{group.upper()} mean", entry["metrics"])
