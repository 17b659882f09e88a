"""Upstream evaluation: lm-eval's own `simple_evaluate`, plus validation loss on token shards.

The paper's six tasks run by name (0-shot; `acc_norm` where the task has it, `acc` for
Winogrande; unweighted average). Offline, the synthetic cloze sets of `evolm data synth` run
through the same lm-eval path as local multiple-choice tasks. lm-eval's own results are kept,
unchanged, inside our result file.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from evolm.console import log
from evolm.errors import BadInput, causes
from evolm.eval.identity import finished_result, loaded_revision, run_hash
from evolm.eval.loading import device, dtype_name
from evolm.eval.metrics import item_scores
from evolm.provenance import stamp
from evolm.eval.compute import model_params, upstream_tokens
from evolm.eval.compute import record as compute_record
from evolm.fsutil import sha256_file, write_json
from evolm.jsonl import read_jsonl
from evolm.eval.tasks.upstream_tasks import BY_NAME as UPSTREAM_TASKS

RESULT_SCHEMA = "evolm.eval.upstream/1"
PARTIAL = "upstream.partial"  # in the results folder: lm-eval's answers of an evaluation not yet finished


def cloze_file(name: str, benchmarks: Path | None) -> Path:
    if benchmarks is None:
        raise BadInput(f"Task {name} needs --benchmarks DIR (a folder made by `evolm data synth`).")
    for candidate in (Path(benchmarks) / "cloze" / f"{name}.jsonl", Path(benchmarks) / f"{name}.jsonl"):
        if candidate.is_file():
            return candidate
    raise BadInput(f"{benchmarks} has no cloze/{name}.jsonl (make it with `evolm data synth`).")


def cloze_task(name: str, path: Path) -> dict:
    """A local lm-eval multiple-choice task over `{query, choices, gold}` rows (no hub access)."""
    for number, row in read_jsonl(path):
        if not isinstance(row, dict) or not {"query", "choices", "gold"} <= set(row):
            raise BadInput(f"{path} line {number} is not a cloze row with query, choices and gold.")
        break
    return {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(path)}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": "{{query}}",
        "doc_to_choice": "{{choices}}",
        "doc_to_target": "{{gold}}",
        "target_delimiter": " ",
        "metric_list": [{"metric": m, "aggregation": "mean", "higher_is_better": True} for m in ("acc", "acc_norm")],
        "metadata": {"version": 1, "sha256": sha256_file(path)},
    }


def resolve(names: list[str], benchmarks: Path | None) -> tuple[list, dict[str, str], dict[str, str]]:
    """(tasks for simple_evaluate, task -> reported metric, task -> version string)."""
    tasks, metrics, versions = [], {}, {}
    for name in names:
        spec = UPSTREAM_TASKS.get(name)
        if spec is None:
            raise BadInput(f"Unknown upstream task {name!r}; known: {', '.join(UPSTREAM_TASKS)}.")
        metrics[name] = spec.metric
        if spec.source == "lm-eval":
            tasks.append(name)
            versions[name] = lm_eval_task_version(spec.folder)
        else:
            path = cloze_file(name, benchmarks)
            tasks.append(cloze_task(name, path))
            versions[name] = sha256_file(path)
    return tasks, metrics, versions


def lm_eval_task_version(folder: str) -> str:
    """The version of one of lm-eval's own tasks in an evaluation's identity: a hash of the YAML and Python
    files of its folder in the installed lm-eval (its prompt, choices, metric and dataset are there), so
    that an lm-eval whose task changed scores it as another evaluation, and one that changed only other
    tasks does not re-key the results. Where lm-eval has moved the folder: lm-eval's version. Found
    without importing lm-eval, which a plan's checks need not load."""
    import hashlib
    from importlib import metadata, util

    root = Path(next(iter(util.find_spec("lm_eval").submodule_search_locations))) / "tasks" / folder
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".py") and p.is_file()) if root.is_dir() else []
    if not files:
        return f"lm-eval {metadata.version('lm_eval')}"
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(root).as_posix()}\0{sha256_file(path)}\0".encode())
    return f"lm-eval tasks/{folder} {digest.hexdigest()[:16]}"


def run_lm_eval(model_spec: str, tasks: list, *, limit: int | None, batch_size: int | str = "auto",
                cache: Path | None = None, trained_without_bos: bool = True, revision: str | None = None) -> dict:
    """`cache`: lm-eval's own request cache (`use_cache`, a SQLite file it names CACHE_rank0.db), to which
    its HF model writes each answer as it computes it; a rerun of the same evaluation answers those from
    it, so a killed run continues where it was instead of scoring every task again."""
    import lm_eval
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model_args = {"pretrained": model_spec, "dtype": dtype_name(), **compute_dtypes(), **({"revision": revision} if revision else {})}
    if trained_without_bos:
        # evolm trains without BOS (documents end with EOS, no BOS, as the paper packed them), and lm-eval
        # otherwise follows the tokenizer, which for the paper's Llama-2 tokenizer prepends <s> to every
        # context (the original pipeline's mismatch, evolm-paper.md section 6). Another project's model
        # keeps what its tokenizer says, which is how it was trained.
        model_args["add_bos_token"] = False
    task_manager = make_task_manager([task for task in tasks if isinstance(task, str)], metadata=dict(model_args))
    return lm_eval.simple_evaluate(
        model="hf", model_args=model_args, tasks=tasks, num_fewshot=0, task_manager=task_manager,
        limit=limit, batch_size=batch_size, device=device(), log_samples=True, verbosity="ERROR",
        use_cache=None if cache is None else str(cache),
    )


def compute_dtypes() -> dict:
    """lm-eval's dtypes where not float32 (a CPU's, none then): the model's (bf16 on a GPU), and its
    log-softmax's in float32. lm-eval (0.4) takes the log-softmax in the logits' dtype by default: bf16
    rounds each token's log-probability (by 0.03 to 0.06 nats past |4|) before the sum over a choice's
    tokens, which can swap two close choices."""
    dtype = dtype_name()
    return {} if dtype == "float32" else {"dtype": dtype, "softmax_dtype": "float32"}


def scored_without_bos(model: dict) -> bool:
    """Whether lm-eval scores the model (its evaluation identity) without BOS: evolm's own checkpoints,
    trained without one; another project's model keeps its tokenizer's rule."""
    return model["kind"] == "evolm"


def make_task_manager(hub_tasks: list[str], *, metadata: dict):
    """lm-eval's task manager for these tasks. simple_evaluate's own indexes every task YAML lm-eval
    ships (7-10 s of a core here, 10 of the 19 s an evaluation of one cloze set took) even where every
    task is given as a config, as the synthetic cloze sets are: they get one with no index, and the
    paper's tasks one that indexes only their folders, or the whole index where lm-eval has moved them.
    `metadata`: what simple_evaluate gives its own (the model's arguments)."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    if not hub_tasks:
        return TaskManager(include_defaults=False, metadata=metadata)
    root = Path(lm_eval.__file__).parent / "tasks"
    folders = sorted({root / UPSTREAM_TASKS[name].folder for name in hub_tasks})
    if all(folder.is_dir() for folder in folders):
        manager = TaskManager(include_defaults=False, include_path=[str(f) for f in folders], metadata=metadata)
        if set(hub_tasks) <= set(manager.all_tasks):
            return manager
    return TaskManager(metadata=metadata)


def request_cache(out_dir: Path, run: str) -> tuple[Path, Path]:
    """(the prefix lm-eval's request cache is given, the SQLite file it makes of it) for one upstream
    evaluation: keyed by its run hash, since lm-eval's keys are the requests' text only, not the model."""
    prefix = out_dir / PARTIAL / run[:16]
    return prefix, prefix.with_name(prefix.name + "_rank0.db")


def _cached_answers(db: Path) -> int:
    import sqlite3

    from sqlitedict import SqliteDict  # what lm-eval's cache is written with

    try:
        with SqliteDict(str(db), flag="r") as answers:
            return len(answers)
    except (sqlite3.Error, RuntimeError):  # a file a kill left unreadable: lm-eval starts it again
        return 0


def _drop_cache(db: Path) -> None:
    db.unlink(missing_ok=True)
    try:
        db.parent.rmdir()  # only when no other evaluation's interrupted answers are left in it
    except OSError:
        pass


def validation_loss(model, shards_dir: Path, *, seq_len: int, tokens: int) -> dict:
    """Mean next-token loss (and perplexity) on the first `tokens` of a shard folder's val split,
    with the trainer's own evaluation code."""
    import math
    from types import SimpleNamespace

    from accelerate import Accelerator

    from evolm.shards import TokenShards
    from evolm.val_loss import validation_losses as evaluate
    from evolm.val_loss import window_count

    shards = TokenShards(shards_dir)
    reader = shards.split("val")
    check_val_split(shards_dir, seq_len)
    config = SimpleNamespace(seq_len=seq_len, val_tokens=tokens, micro_batch=8)
    loss = evaluate(model, {"val": reader}, config, Accelerator(cpu=device() == "cpu"))["val"]
    return {"shards": str(Path(shards_dir).resolve()), "fingerprint": shards.fingerprint, "seq_len": seq_len,
            # the tokens scored: whole windows, as val_loss takes them (100K at 2,048 is 48 windows, 98,304 tokens)
            "tokens": window_count(len(reader), seq_len, tokens) * seq_len, "loss": loss,
            "perplexity": math.exp(loss)}


def check_val_split(shards_dir: Path, seq_len: int) -> None:
    """A validation split needs one window: checked when the evaluation is planned, not after lm-eval."""
    from evolm.shards import TokenShards

    available = len(TokenShards(shards_dir).split("val"))
    if available <= seq_len:
        raise BadInput(f"The val split of {shards_dir} has {available} tokens, fewer than one {seq_len}-token window.")


def summarize(raw: dict, metrics: dict[str, str]) -> dict:
    """Per task: lm-eval's value and stderr of the reported metric, and its per-row values (from
    lm-eval's logged samples) for paired comparisons between checkpoints."""
    tasks = {}
    for name, metric in metrics.items():
        entry = raw["results"].get(name, {})
        tasks[name] = {"metric": metric, "value": entry.get(f"{metric},none"), "stderr": entry.get(f"{metric}_stderr,none"),
                       "acc": entry.get("acc,none")}
        rows = sorted((raw.get("samples") or {}).get(name) or [], key=lambda s: s["doc_id"])
        if rows and all(metric in r for r in rows):
            tasks[name]["items"] = item_scores([r["doc_id"] for r in rows], [{metric: r[metric]} for r in rows])
    values = [t["value"] for t in tasks.values() if t["value"] is not None]
    return {"tasks": tasks, "average": sum(values) / len(values) if len(values) == len(tasks) and values else None}


def upstream_key(model: dict, names: list[str], benchmarks: Path | None, *, limit: int | None, val_shards: Path | None,
                 seq_len: int, val_tokens: int) -> dict:
    """The identity of an upstream evaluation: model, task versions, limit, validation-loss settings."""
    from evolm.shards import TokenShards

    _, _, versions = resolve(names, benchmarks)
    if val_shards is not None:
        check_val_split(val_shards, seq_len)
    # another project's model keeps its tokenizer's BOS rule (run_lm_eval), since this version: named, so
    # that a result from before (scored without BOS) is not taken for one with it
    bos = {} if scored_without_bos(model) else {"add_bos_token": "the tokenizer's"}
    # the compute dtypes where not float32 (bf16 on a GPU), as downstream results record theirs: a GPU's
    # scores (and its request cache) are not taken for a CPU's; float32 results keep their identity
    return {"model": model, "tasks": versions, "limit": limit, "num_fewshot": 0, **bos, **compute_dtypes(),
            "val": None if val_shards is None else {"shards": str(Path(val_shards).resolve()), "fingerprint": TokenShards(val_shards).fingerprint,
                                                    "seq_len": seq_len, "tokens": val_tokens}}


def evaluate_upstream(model_spec: str, model: dict, names: list[str], out_dir: Path, *, benchmarks: Path | None,
                      limit: int | None, val_shards: Path | None, seq_len: int, val_tokens: int,
                      get_model: Callable[[], object], batch_size: int | str = "auto") -> dict:
    """lm-eval on `names` and the validation loss on `val_shards`; `get_model` returns the loaded
    model for the latter (run.py shares one load with generation)."""
    tasks, metrics, _ = resolve(names, benchmarks)
    key = upstream_key(model, names, benchmarks, limit=limit, val_shards=val_shards, seq_len=seq_len, val_tokens=val_tokens)
    run = run_hash(key)
    path = out_dir / "upstream.json"
    previous = finished_result(path, run)
    if previous is not None:
        log(f"upstream: reusing the finished result in {path}")
        return previous
    started = time.monotonic()
    result = {"schema": RESULT_SCHEMA, "run": run, "identity": key}
    processed = 0
    if tasks:
        revision = loaded_revision(model)  # lm-eval's copy and the token count's tokenizer read the same commit
        log(f"upstream: lm-eval on {', '.join(metrics)}" + (f" (first {limit} rows each)" if limit else ""))
        cache, db = request_cache(out_dir, run)
        resuming = db.is_file()
        if resuming:
            log(f"upstream: resuming, {_cached_answers(db)} of lm-eval's answers saved in {db} by an interrupted run")
        try:
            raw = run_lm_eval(model_spec, tasks, limit=limit, batch_size=batch_size, cache=cache,
                              trained_without_bos=scored_without_bos(model), revision=revision)
        except BaseException as exc:
            unreachable = _unreachable(exc)
            if unreachable and not resuming:
                _drop_cache(db)  # nothing was scored: lm-eval loads the model and the tasks before any answer
            elif db.is_file():  # an interrupted run's answers stay for the rerun (one that reaches the hub)
                log(f"upstream: lm-eval's answers so far are kept in {db}; the same command continues from them")
            if not unreachable:
                raise
            reason = str(exc).splitlines()[0]
            if _names_the_model(exc, model_spec):
                raise BadInput(f"lm-eval could not load the model {model_spec} from the Hugging Face hub ({reason}); its "
                               "weights and tokenizer need the hub once (then its cache).") from None
            hub = [t for t in tasks if isinstance(t, str)]
            raise BadInput(f"lm-eval could not load {', '.join(hub)} from the Hugging Face hub ({reason}); "
                           "the paper's upstream tasks need the hub once (then its cache), or evaluate offline on the "
                           "synthetic cloze sets (--suite cloze --benchmarks DIR from `evolm data synth`).") from None
        result.update(summarize(raw, metrics))
        processed = upstream_tokens(raw.get("samples"), _tokenizer(model_spec, revision))
        result["lm_eval"] = {k: raw.get(k) for k in ("results", "versions", "n-shot", "n-samples", "higher_is_better", "configs",
                                                   "lm_eval_version", "git_hash", "date")}
    if val_shards is not None:
        log(f"upstream: validation loss on {val_shards}")
        result["val"] = validation_loss(get_model(), val_shards, seq_len=seq_len, tokens=val_tokens)
        processed += result["val"]["tokens"]
    result["compute"] = compute_record(processed, model_params(model_spec))
    result["wall_time_s"] = round(time.monotonic() - started, 2)
    result.update(stamp())
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(path, _jsonable(result))
    if tasks:
        _drop_cache(db)
    return result


def _unreachable(exc: BaseException) -> bool:
    """Whether an error (or one it was raised from) says the hub could not be reached: datasets raises
    the builtin ConnectionError ("Couldn't reach 'Rowan/hellaswag' on the Hub (OfflineModeIsEnabled)");
    huggingface_hub and httpx have their own types."""
    return any(isinstance(e, ConnectionError) or type(e).__name__ in (
        "OfflineModeIsEnabled", "LocalEntryNotFoundError", "ConnectError", "ConnectTimeout") for e in causes(exc))


def _names_the_model(exc: BaseException, model_spec: str) -> bool:
    """Whether an unreachable-hub error (or one it was raised from) is about the evaluated hub model rather
    than a task's dataset: lm-eval builds the model (its weights, its tokenizer) before it loads the tasks,
    and the hub's errors name the repository they could not read. A local checkpoint is never fetched."""
    if Path(model_spec).exists():
        return False
    return any(model_spec in str(e) for e in causes(exc))


def _tokenizer(model_spec: str, revision: str | None):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_spec, revision=revision)


def _jsonable(obj):
    """lm-eval's configs can hold callables and other objects: keep them as strings."""
    import json

    return json.loads(json.dumps(obj, default=str))
