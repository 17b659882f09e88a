"""`evolm eval` end to end on a CPU-preset checkpoint trained on the synthetic data."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evolm.eval.tasks.upstream_tasks import PAPER_TASKS


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _complete_lines(path):
    """Records a kill left whole (its last line may be cut)."""
    from evolm.jsonl import complete_prefix

    return len(complete_prefix(path)[0])


EVAL = ("--suite", "SynthMathLevel1,SynthMathLevel2,SynthMathLevel3", "--samples", "4", "--limit", "20", "--max-new-tokens", "48")


def test_synth_id_writes_results_and_resumes_after_a_kill(sft_model, synth_tiny, tmp_path, cli, count_generated):
    out = tmp_path / "eval"
    args = [sys.executable, "-m", "evolm", "eval", str(sft_model), *EVAL, "--benchmarks", str(synth_tiny), "--out", str(out)]
    first = out / "SynthMathLevel1.samples.jsonl"
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "EVOLM_DEBUG": "1"})
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if first.is_file() and first.read_text().count("\n") >= 1:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = _complete_lines(first) if first.is_file() else 0
    assert 1 <= done_before < 20, "the kill should land after the first chunk and before the end"

    result = cli("eval", sft_model, *EVAL, "--benchmarks", synth_tiny, "--out", out, "--json")
    assert result.code == 0, result.err
    chunk = 12  # evolm.eval.run._chunk: 64 sequences per chunk, 5 per problem (greedy + 4 samples)
    # finished chunks were not generated again (one a kill cut short is generated whole: same batches, same seeds)
    assert len(count_generated) == 60 - done_before // chunk * chunk
    assert "resuming" in result.err

    summary = json.loads(result.out)
    assert summary["path"] == str(out)
    groups = summary["downstream"]["groups"]
    assert groups["id"]["tasks"] == ["SynthMathLevel1", "SynthMathLevel2", "SynthMathLevel3"]
    for name in groups["id"]["tasks"]:
        task_result = json.loads((out / f"{name}.json").read_text())
        assert task_result["problems"] == 20
        metrics = task_result["metrics"]
        for metric in ("pass@1", "maj@4", "pass@4", "pass@4_unbiased", "correct_ratio_all", "no_answer"):
            assert 0.0 <= metrics[metric]["value"] <= 1.0 and metrics[metric]["n"] == 20
        identity = task_result["identity"]
        assert identity["model"]["kind"] == "evolm" and len(identity["model"]["manifest_sha256"]) == 64
        assert len(identity["task"]["sha256"]) == 64 and identity["decoding"]["samples"] == 4
        assert identity["decoding"]["repetition_penalty"] == 1.1 and "math-verify" in identity["grader"]
        assert {"versions", "git_commit", "hardware", "wall_time_s"} <= set(task_result)
        records = _lines(out / f"{name}.samples.jsonl")
        assert [r["id"] for r in records] == sorted(r["id"] for r in records) and len(records) == 20
        for r in records:
            assert r["prompt"].startswith("Human: ") and r["prompt"].endswith("\nAssistant:")
            assert len(r["completions"]) == len(r["answers"]) == len(r["correct"]) == 5
        # the metrics are recomputed from the records, not stored separately
        assert metrics["pass@1"]["value"] == sum(r["correct"][0] for r in records) / 20
        # per-problem values, in problem order, for paired comparisons between checkpoints (the correct ratio
        # is defined only on problems with a correct sample, so it has none)
        items = task_result["items"]
        assert items["pass@1"] == [float(r["correct"][0]) for r in records] and len(items["pass@4"]) == 20
        assert "correct_ratio" not in items and len(items["ids_sha256"]) == 64
    # the SFT model has learned the answer format: most greedy level-1 completions end in \boxed{}
    # (its temperature-1 samples are mostly noise: two layers, 0.23M parameters)
    level1 = _lines(out / "SynthMathLevel1.samples.jsonl")
    assert sum(r["answers"][0] is not None for r in level1) >= 10

    count_generated.clear()
    again = cli("eval", sft_model, *EVAL, "--benchmarks", synth_tiny, "--out", out)
    assert again.code == 0 and count_generated == [] and "reusing" in again.err
    changed = ("eval", sft_model, "--suite", "SynthMathLevel1", "--samples", "2", "--limit", "5",
               "--max-new-tokens", "48", "--benchmarks", synth_tiny, "--out", out)
    refused = cli(*changed)  # other settings do not replace the results silently
    assert refused.code == 2 and "decoding.samples 4, now 2" in refused.err and "--overwrite" in refused.err
    assert count_generated == [] and json.loads((out / "SynthMathLevel1.json").read_text())["identity"]["decoding"]["samples"] == 4
    replaced = cli(*changed, "--overwrite")
    assert replaced.code == 0 and len(count_generated) == 5  # other settings: generated afresh
    assert json.loads((out / "SynthMathLevel1.json").read_text())["identity"]["decoding"]["samples"] == 2


def test_records_of_a_run_whose_limit_cut_a_chunk_are_generated_again(sft_model, synth_tiny, tmp_path, cli, count_generated):
    """The transformers backend's samples depend on the batches a chunk of problems forms (12 problems a
    chunk here). A --limit 10 run cuts its chunk at 10: an interrupted one resumed under --limit 20 generates
    those 10 again in the chunk of 12 an uninterrupted run of 20 makes, and ends with that run's records."""
    args = ("--suite", "SynthMathLevel1", "--samples", "4", "--max-new-tokens", "24", "--benchmarks", synth_tiny)
    assert cli("eval", sft_model, *args, "--limit", "10", "--out", tmp_path / "cut").code == 0
    (tmp_path / "cut" / "SynthMathLevel1.json").unlink()  # as a kill before the result leaves it
    assert [r["chunk"] for r in _lines(tmp_path / "cut" / "SynthMathLevel1.samples.jsonl")] == [[0, 10]] * 10
    count_generated.clear()
    resumed = cli("eval", sft_model, *args, "--limit", "20", "--out", tmp_path / "cut")
    assert resumed.code == 0 and "generating 10 problems again" in resumed.err and len(count_generated) == 20
    assert cli("eval", sft_model, *args, "--limit", "20", "--out", tmp_path / "whole").code == 0
    records = {name: {r["id"]: (r["chunk"], r["completions"]) for r in _lines(tmp_path / name / "SynthMathLevel1.samples.jsonl")}
               for name in ("cut", "whole")}
    assert records["cut"] == records["whole"] and len(records["whole"]) == 20
    assert {tuple(chunk) for chunk, _ in records["whole"].values()} == {(0, 12), (12, 20)}


def test_results_go_into_the_checkpoint_and_ood_tasks_grade(sft_model, synth_tiny, cli):
    result = cli("eval", sft_model, "--suite", "synth-ood", "--samples", "0", "--limit", "4", "--max-new-tokens", "24",
                 "--benchmarks", synth_tiny)
    assert result.code == 0, result.err
    eval_dir = sft_model / "eval"
    assert result.out.strip() == str(eval_dir)
    summary = json.loads((eval_dir / "suite-synth-ood.json").read_text())
    assert set(summary["downstream"]["tasks"]) == {"SynthCodeBasic", "SynthCode", "SynthRules", "SynthTableBasic",
                                                   "SynthTable", "SynthFacts"}
    assert summary["downstream"]["groups"]["ood"]["metrics"]["pass@1"]["tasks"] == 6
    from evolm.checkpoint import load_checkpoint

    load_checkpoint(sft_model)  # eval/ does not break the checkpoint's file hashes


def test_upstream_runs_lm_eval_on_the_cloze_sets_and_measures_validation_loss(sft_model, synth_tiny, tmp_path, capfd,
                                                                            monkeypatch):
    """Also the proof that a checkpoint loads in lm-eval as `--model hf --model_args pretrained=CKPT`:
    the upstream path calls simple_evaluate exactly that way. lm-eval prints notices ("Passed argument
    batch_size = auto:1 ...") on stdout; with --json stdout must still be exactly one JSON object, as
    `$(...)` and `| python -m json.tool` need, even with diagnostics on (EVOLM_DEBUG). capfd reads the
    file descriptor, so whatever any library writes there is in it, as in a process of its own."""
    from evolm.cli.main import main

    monkeypatch.setenv("EVOLM_DEBUG", "1")
    out = tmp_path / "up"
    capfd.readouterr()
    code = main(["eval", str(sft_model), "--suite", "upstream", "--benchmarks", str(synth_tiny), "--limit", "30",
                 "--out", str(out), "--json"])
    stdout, stderr = capfd.readouterr()
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["path"] == str(out) and set(summary["upstream"]["tasks"]) == {"SynthClozeFacts", "SynthClozeMath", "SynthClozeText"}
    up = json.loads((out / "upstream.json").read_text())
    assert set(up["tasks"]) == {"SynthClozeFacts", "SynthClozeMath", "SynthClozeText"}
    for entry in up["tasks"].values():
        assert entry["metric"] == "acc_norm" and 0.0 <= entry["value"] <= 1.0
    assert up["average"] == pytest.approx(sum(e["value"] for e in up["tasks"].values()) / 3)
    assert up["lm_eval"]["results"]["SynthClozeMath"]["acc_norm,none"] == up["tasks"]["SynthClozeMath"]["value"]
    assert up["lm_eval"]["n-shot"]["SynthClozeMath"] == 0
    for entry in up["tasks"].values():  # lm-eval's per-row scores, kept for paired comparisons
        assert len(entry["items"]["acc_norm"]) == 30 and set(entry["items"]["acc_norm"]) <= {0.0, 1.0}
        assert sum(entry["items"]["acc_norm"]) / 30 == pytest.approx(entry["value"])
    # the compute ledger: 90 rows of several choices, each a context and a continuation, plus the validation tokens
    processed, val = up["compute"]["processed_tokens"], up["val"]["tokens"]
    assert processed > val + 90 * 2 * 5 and up["compute"]["flops"] == 2.0 * up["compute"]["params"] * processed
    assert "samples" not in up["lm_eval"]
    assert 0 < up["val"]["loss"] < 10 and up["val"]["perplexity"] > 1 and up["val"]["tokens"] > 0
    from evolm.training.causal_lm import TrainConfig

    # the same windows as the trainer's validation loss by default (the CLI's "64K" was 64,000, not 65,536)
    assert up["identity"]["val"]["tokens"] == TrainConfig.val_tokens == 65_536


def test_a_killed_upstream_evaluation_continues_from_the_answers_lm_eval_saved(sft_model, synth_tiny, tmp_path, monkeypatch):
    """lm-eval's request cache (`use_cache`) holds each answer as the model computes it: a run killed
    partway loses none of them, the rerun scores only the rest and gets an uninterrupted run's result,
    and the cache is removed once the result is written."""
    from dataclasses import replace

    from lm_eval.api import model as lm_model
    from lm_eval.models.huggingface import HFLM

    from evolm.eval.run import EvalOptions, run

    scored = []
    score = HFLM._loglikelihood_tokens

    def counting(self, requests, *args, **kwargs):
        scored.append(len(requests))
        return score(self, requests, *args, **kwargs)

    monkeypatch.setattr(HFLM, "_loglikelihood_tokens", counting)
    fresh = EvalOptions(suite="SynthClozeMath", benchmarks=synth_tiny, limit=12, out=tmp_path / "fresh", val_tokens=1024)
    expected = run(str(sft_model), fresh)[1]["upstream"]
    total, scored[:] = sum(scored), []
    keep = lm_model.CacheHook.add_partial
    saved = []

    def killed_after_ten(self, attr, request, answer):
        keep(self, attr, request, answer)
        saved.append(request)
        if len(saved) == 10:
            raise RuntimeError("killed")

    monkeypatch.setattr(lm_model.CacheHook, "add_partial", killed_after_ten)
    options = replace(fresh, out=tmp_path / "killed")
    with pytest.raises(RuntimeError, match="killed"):
        run(str(sft_model), options)
    assert not (options.out / "upstream.json").exists() and len(list((options.out / "upstream.partial").iterdir())) == 1
    monkeypatch.setattr(lm_model.CacheHook, "add_partial", keep)
    scored[:] = []
    import gc

    gc.collect()  # the killed run's cache connection, closed as a killed process's would be
    resumed = run(str(sft_model), options)[1]["upstream"]
    assert total > 10 and sum(scored) == total - 10
    assert resumed["tasks"] == expected["tasks"] and not (options.out / "upstream.partial").exists()


def test_an_upstream_result_in_bf16_is_another_evaluation_than_in_float32(synth_tiny, monkeypatch):
    """On a GPU lm-eval scores in bf16: such a result (and its request cache) is not reused on a CPU, while
    a float32 result keeps the identity it had before the dtype was recorded."""
    from evolm.eval import upstream

    model = {"kind": "evolm", "manifest_sha256": "0" * 64}
    cpu = upstream.upstream_key(model, ["SynthClozeMath"], synth_tiny, limit=4, val_shards=None, seq_len=64, val_tokens=1024)
    assert "dtype" not in cpu
    monkeypatch.setattr(upstream, "dtype_name", lambda: "bfloat16")
    gpu = upstream.upstream_key(model, ["SynthClozeMath"], synth_tiny, limit=4, val_shards=None, seq_len=64, val_tokens=1024)
    assert gpu == {**cpu, "dtype": "bfloat16", "softmax_dtype": "float32"}
    # and lm-eval takes the log-softmax of bf16 logits in float32 (by default, in bf16)
    seen = {}
    monkeypatch.setattr("lm_eval.simple_evaluate", lambda **kwargs: seen.update(kwargs["model_args"]) or {})
    upstream.run_lm_eval("some/model", [], limit=1, trained_without_bos=False)
    assert (seen["dtype"], seen["softmax_dtype"]) == ("bfloat16", "float32")


def test_the_paper_upstream_tasks_and_metrics(monkeypatch, sft_model, paper_benchmarks, tmp_path, cli):
    """Without downloading: lm-eval knows the six tasks, the metric is acc_norm wherever the task
    has it (acc for Winogrande), and `--suite upstream` asks lm-eval for exactly those, 0-shot."""
    from lm_eval.tasks import TaskManager

    index = TaskManager().task_index
    for name, metric in PAPER_TASKS.items():
        available = [m["metric"] for m in index[name].cfg["metric_list"]]
        assert metric == ("acc_norm" if "acc_norm" in available else "acc"), name
    assert PAPER_TASKS["winogrande"] == "acc"

    calls = []

    def fake_simple_evaluate(**kwargs):
        calls.append(kwargs)
        return {"results": {name: {f"{metric},none": 0.5, f"{metric}_stderr,none": 0.01} for name, metric in PAPER_TASKS.items()}}

    import lm_eval

    monkeypatch.setattr(lm_eval, "simple_evaluate", fake_simple_evaluate)
    result = cli("eval", sft_model, "--suite", "upstream", "--benchmarks", paper_benchmarks, "--out", tmp_path / "paper",
                 "--val-tokens", "1K")
    assert result.code == 0, result.err
    assert calls[0]["tasks"] == list(PAPER_TASKS) and calls[0]["num_fewshot"] == 0
    assert calls[0]["model"] == "hf" and calls[0]["model_args"]["pretrained"] == str(sft_model)
    # a task manager that indexes only the six tasks' folders of lm-eval's, and finds each at lm-eval's own YAML
    manager = calls[0]["task_manager"]
    assert set(PAPER_TASKS) <= set(manager.all_tasks) and len(manager.all_tasks) < len(index) / 10
    assert all(manager._index[name].yaml_path == index[name].yaml_path for name in PAPER_TASKS)
    # where lm-eval has moved a task's folder, its whole index finds it
    from dataclasses import replace

    import lm_eval.tasks

    from evolm.eval import upstream
    from evolm.eval.tasks import upstream_tasks

    made = []
    monkeypatch.setitem(upstream_tasks.BY_NAME, "piqa", replace(upstream_tasks.BY_NAME["piqa"], folder="moved"))
    monkeypatch.setattr(lm_eval.tasks, "TaskManager", lambda **kwargs: made.append(kwargs))
    upstream.make_task_manager(["piqa", "hellaswag"], metadata={})
    assert made == [{"metadata": {}}]
    assert calls[0]["use_cache"].startswith(str(tmp_path / "paper" / "upstream.partial"))  # its answers, kept as made
    # no BOS, as in training (lm-eval would otherwise follow the Llama-2 tokenizer, which prepends <s>)
    assert calls[0]["model_args"]["add_bos_token"] is False
    up = json.loads((tmp_path / "paper" / "upstream.json").read_text())
    assert up["average"] == pytest.approx(0.5)
    assert up["identity"]["tasks"]["arc_easy"] == up["identity"]["tasks"]["arc_challenge"] == upstream.lm_eval_task_version("arc")
    # another project's model (here the same weights without evolm's manifest) keeps its tokenizer's BOS rule
    import shutil

    shutil.copytree(sft_model, tmp_path / "hf", ignore=shutil.ignore_patterns("evolm.json", "eval"))
    result = cli("eval", tmp_path / "hf", "--suite", "upstream", "--benchmarks", paper_benchmarks, "--out", tmp_path / "hf-paper")
    assert result.code == 0, result.err
    assert calls[1]["model_args"]["pretrained"] == str(tmp_path / "hf") and "add_bos_token" not in calls[1]["model_args"]


def test_an_lm_eval_task_that_an_upgrade_changed_is_another_evaluation(tmp_path, monkeypatch):
    """A paper task's identity was the word "lm-eval", so results scored before an lm-eval upgrade that
    changed the task's prompt or metric were taken for the new one's. It is now a hash of the task's
    files in the installed lm-eval (a stand-in copy here): the same files, the same version; a changed
    file, another version for that task only; a moved folder, lm-eval's own version."""
    import importlib.util
    import shutil
    from importlib import metadata
    from types import SimpleNamespace

    from evolm.eval import upstream

    real = Path(next(iter(importlib.util.find_spec("lm_eval").submodule_search_locations)))
    before = {folder: upstream.lm_eval_task_version(folder) for folder in ("hellaswag", "piqa")}
    assert before["hellaswag"].startswith("lm-eval tasks/hellaswag ") and before["hellaswag"] != before["piqa"]
    fake = tmp_path / "lm_eval"
    for folder in before:
        shutil.copytree(real / "tasks" / folder, fake / "tasks" / folder)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: SimpleNamespace(submodule_search_locations=[str(fake)]))
    assert {folder: upstream.lm_eval_task_version(folder) for folder in before} == before
    yaml_file = fake / "tasks" / "hellaswag" / "hellaswag.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("{{query}}", "Q: {{query}}"))
    assert upstream.lm_eval_task_version("hellaswag") != before["hellaswag"]
    assert upstream.lm_eval_task_version("piqa") == before["piqa"]
    shutil.rmtree(fake / "tasks" / "piqa")
    assert upstream.lm_eval_task_version("piqa") == f"lm-eval {metadata.version('lm_eval')}"


def test_a_paper_upstream_task_offline_is_bad_input_that_names_the_offline_suite(sft_model, tmp_path, cli):
    """lm-eval loads HellaSwag from the hub (offline here: HF_DATASETS_OFFLINE): one sentence, exit 2,
    pointing at the cloze sets, and no empty output folder."""
    result = cli("eval", sft_model, "--suite", "hellaswag", "--out", tmp_path / "hs")
    assert result.code == 2, result.err
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("error: lm-eval could not load hellaswag from the Hugging Face hub (") and "--suite cloze" in last
    assert "Traceback" not in result.err and not (tmp_path / "hs").exists()


def test_an_unreachable_hub_keeps_an_interrupted_runs_answers_and_names_what_it_could_not_load(sft_model, tmp_path, cli,
                                                                                              monkeypatch):
    """lm-eval loads the model and the tasks before it scores anything, so a hub it cannot reach costs this call
    nothing; an interrupted run's saved answers stay for the rerun (they were deleted with it), and the
    error names the model where the hub's error is about the model's repository, not the tasks."""
    from sqlitedict import SqliteDict

    from evolm.eval import upstream

    def interrupted(model_spec, tasks, *, cache, **kwargs):
        Path(cache).parent.mkdir(parents=True, exist_ok=True)  # lm-eval makes the cache's folder
        with SqliteDict(f"{cache}_rank0.db", autocommit=True) as answers:  # as lm-eval's cache hook writes them
            answers["request"] = "answer"
        raise RuntimeError("killed")

    monkeypatch.setattr(upstream, "run_lm_eval", interrupted)
    out = tmp_path / "hs"
    assert cli("eval", sft_model, "--suite", "hellaswag", "--out", out).code != 0
    (db,) = (out / "upstream.partial").iterdir()

    def offline(model_spec, tasks, **kwargs):
        raise ConnectionError("Couldn't reach 'Rowan/hellaswag' on the Hub (OfflineModeIsEnabled)")

    monkeypatch.setattr(upstream, "run_lm_eval", offline)
    result = cli("eval", sft_model, "--suite", "hellaswag", "--out", out)
    assert result.code == 2 and "error: lm-eval could not load hellaswag from the Hugging Face hub" in result.err
    assert "resuming, 1 of lm-eval's answers saved" in result.err and "answers so far are kept" in result.err
    assert db.is_file()  # kept for the rerun
    hub_model = ConnectionError("offline")
    hub_model.__cause__ = OSError("We couldn't connect to 'https://huggingface.co' to load the files of org/model-1B.")
    assert upstream._names_the_model(hub_model, "org/model-1B") and not upstream._names_the_model(hub_model, str(sft_model))


def _tiny_reward_model(tiny_tokenizer, rm_dir, seed=0):
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

    tok = AutoTokenizer.from_pretrained(tiny_tokenizer)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=1, num_labels=1, pad_token_id=tok.eos_token_id, max_position_embeddings=1024)
    torch.manual_seed(seed)
    LlamaForSequenceClassification(config).save_pretrained(rm_dir)
    tok.save_pretrained(rm_dir)
    return rm_dir


def test_reward_model_scores_every_sample(sft_model, tiny_tokenizer, synth_tiny, tmp_path, cli):
    rm_dir = _tiny_reward_model(tiny_tokenizer, tmp_path / "rm")
    out = tmp_path / "rm-eval"
    result = cli("eval", sft_model, "--suite", "SynthMathLevel1", "--samples", "3", "--limit", "4", "--max-new-tokens", "24",
                 "--benchmarks", synth_tiny, "--reward-model", rm_dir, "--out", out)
    assert result.code == 0, result.err
    records = _lines(out / "SynthMathLevel1.samples.jsonl")
    assert all(len(r["rm_scores"]) == 4 for r in records)
    metrics = json.loads((out / "SynthMathLevel1.json").read_text())["metrics"]
    assert 0.0 <= metrics["rm@3"]["value"] <= 1.0 and metrics["rm_score"]["n"] == 4


def test_adding_a_reward_model_scores_the_finished_samples_without_generating(sft_model, tiny_tokenizer, synth_tiny,
                                                                                tmp_path, cli, count_generated, monkeypatch):
    rm_a = _tiny_reward_model(tiny_tokenizer, tmp_path / "rm-a", seed=0)
    rm_b = _tiny_reward_model(tiny_tokenizer, tmp_path / "rm-b", seed=1)
    args = ("--suite", "SynthMathLevel1", "--samples", "3", "--limit", "6", "--max-new-tokens", "24", "--benchmarks", synth_tiny)
    fresh = cli("eval", sft_model, *args, "--reward-model", rm_a, "--out", tmp_path / "fresh")
    assert fresh.code == 0, fresh.err
    out = tmp_path / "eval"
    assert cli("eval", sft_model, *args, "--out", out).code == 0
    generated = len(count_generated)
    assert generated == 12  # both runs generated their 6 problems

    added = cli("eval", sft_model, *args, "--reward-model", rm_a, "--out", out)  # no --overwrite needed: nothing is lost
    assert added.code == 0, added.err
    assert len(count_generated) == generated and "only the reward model changed" in added.err
    # the same records, scores and metrics as an evaluation that had the reward model from the start
    assert _lines(out / "SynthMathLevel1.samples.jsonl") == _lines(tmp_path / "fresh" / "SynthMathLevel1.samples.jsonl")
    result, expected = (json.loads((d / "SynthMathLevel1.json").read_text()) for d in (out, tmp_path / "fresh"))
    assert result["run"] == expected["run"] and result["metrics"] == expected["metrics"]
    assert result["identity"]["reward_model"]["path"] == str(rm_a.resolve())
    # the evaluation without a reward model is answered by that result as it is (a study's node re-running its own eval)
    again = cli("eval", sft_model, *args, "--out", out)
    assert again.code == 0 and "also holds a reward model's scores" in again.err, again.err
    assert len(count_generated) == generated and json.loads((out / "SynthMathLevel1.json").read_text())["run"] == result["run"]

    # another reward model's scores replace these only with --overwrite, and still without generating
    refused = cli("eval", sft_model, *args, "--reward-model", rm_b, "--out", out)
    assert refused.code == 2 and "--overwrite" in refused.err
    replaced = cli("eval", sft_model, *args, "--reward-model", rm_b, "--out", out, "--overwrite")
    assert replaced.code == 0, replaced.err
    assert len(count_generated) == generated
    records = _lines(out / "SynthMathLevel1.samples.jsonl")
    before = _lines(tmp_path / "fresh" / "SynthMathLevel1.samples.jsonl")
    assert [r["completions"] for r in records] == [r["completions"] for r in before]
    assert [r["rm_scores"] for r in records] != [r["rm_scores"] for r in before]
    # --rescore: only the reward model may change; nothing is generated, and anything else that differs is refused
    rescored = cli("eval", sft_model, *args, "--reward-model", rm_a, "--out", out, "--rescore")
    assert rescored.code == 0, rescored.err
    assert len(count_generated) == generated
    assert [r["rm_scores"] for r in _lines(out / "SynthMathLevel1.samples.jsonl")] == [r["rm_scores"] for r in before]
    longer = ("--suite", "SynthMathLevel1", "--samples", "3", "--limit", "6", "--max-new-tokens", "30", "--benchmarks", synth_tiny)
    other = cli("eval", sft_model, *longer, "--reward-model", rm_b, "--out", out, "--rescore")
    assert other.code == 2 and "decoding.max_new_tokens 24, now 30" in other.err and "--rescore changes only" in other.err
    assert cli("eval", sft_model, *args, "--out", out, "--rescore").code == 2  # no reward model to score with
    assert cli("eval", sft_model, *args, "--reward-model", rm_b, "--out", tmp_path / "none", "--rescore").code == 2
    assert len(count_generated) == generated
    # a --rescore stopped as it moved its scored records over the old ones (its result written): the next
    # --rescore completes the move and scores those records; the result and its samples are of one evaluation
    original_replace = Path.replace

    def stop_at_the_move(self, target):
        if self.name.endswith(".pending.jsonl"):
            raise KeyboardInterrupt
        return original_replace(self, target)

    with monkeypatch.context() as patched:
        patched.setattr(Path, "replace", stop_at_the_move)
        assert cli("eval", sft_model, *args, "--reward-model", rm_b, "--out", out, "--rescore").code != 0
    assert (out / "SynthMathLevel1.samples.pending.jsonl").is_file()
    assert json.loads((out / "SynthMathLevel1.json").read_text())["identity"]["reward_model"]["path"] == str(rm_b.resolve())
    again = cli("eval", sft_model, *args, "--reward-model", rm_a, "--out", out, "--rescore")
    assert again.code == 0, again.err
    now, records = json.loads((out / "SynthMathLevel1.json").read_text()), _lines(out / "SynthMathLevel1.samples.jsonl")
    assert {r["run"] for r in records} == {now["run"]} and now["identity"]["reward_model"]["path"] == str(rm_a.resolve())
    assert [r["rm_scores"] for r in records] == [r["rm_scores"] for r in before]
    assert not (out / "SynthMathLevel1.samples.pending.jsonl").exists() and len(count_generated) == generated
    # a changed decoding still generates again
    shorter = ("--suite", "SynthMathLevel1", "--samples", "3", "--limit", "6", "--max-new-tokens", "20", "--benchmarks", synth_tiny)
    assert cli("eval", sft_model, *shorter, "--out", out, "--overwrite").code == 0
    assert len(count_generated) == generated + 6


def test_samples_added_to_a_greedy_result_need_no_overwrite_and_answer_it(sft_model, synth_tiny, tmp_path, cli,
                                                                           count_generated):
    """A study whose node moves from a greedy-only evaluation to one drawing samples as well (or back):
    the sampled result holds the greedy one (the same greedy completion is its pass@1), so it replaces
    it without --overwrite, and then answers the greedy-only evaluation without generating."""
    def args(samples, tokens=24):
        return ("--suite", "SynthMathLevel1", "--samples", str(samples), "--limit", "5", "--max-new-tokens", str(tokens),
                "--benchmarks", synth_tiny, "--out", tmp_path / "eval")
    result = tmp_path / "eval" / "SynthMathLevel1.json"
    assert cli("eval", sft_model, *args(0)).code == 0
    greedy = json.loads(result.read_text())
    assert len(count_generated) == 5
    sampled = cli("eval", sft_model, *args(3))
    assert sampled.code == 0, sampled.err
    assert "greedy half" in sampled.err and len(count_generated) == 10  # generated again, with the samples
    now = json.loads(result.read_text())
    assert now["identity"]["decoding"]["samples"] == 3 and now["items"]["pass@1"] == greedy["items"]["pass@1"]
    again = cli("eval", sft_model, *args(0))
    assert again.code == 0 and "also holds 3 samples per problem" in again.err and len(count_generated) == 10
    assert json.loads(result.read_text())["run"] == now["run"]
    # the suite summary says which decoding the task's metrics are of: the held one, not the one asked for
    summary = json.loads((tmp_path / "eval" / "suite-SynthMathLevel1.json").read_text())
    assert summary["decoding"]["samples"] == 0 and summary["downstream"]["tasks"]["SynthMathLevel1"]["decoding"]["samples"] == 3
    assert "maj@3" in summary["downstream"]["tasks"]["SynthMathLevel1"]["metrics"]
    # fewer samples than the result holds are not held by it (Pass@K, Maj@K change with K): refused
    fewer = cli("eval", sft_model, *args(2))
    assert fewer.code == 2 and "decoding.samples 3, now 2" in fewer.err and len(count_generated) == 10
    # where the checkpoint lies is no difference worth naming (a copied checkpoint keeps its results)
    copy = tmp_path / "copy"
    shutil.copytree(sft_model, copy, ignore=shutil.ignore_patterns("eval"))
    moved = cli("eval", copy, *args(2, tokens=20))
    assert moved.code == 2 and "model.path" not in moved.err and "max_new_tokens 24, now 20" in moved.err


def test_an_interrupted_replacement_leaves_the_finished_result_whole_and_resumes(sft_model, synth_tiny, tmp_path, cli,
                                                                                 monkeypatch):
    """A sampled evaluation replacing a finished greedy one writes its records aside until it is complete:
    interrupted after its first chunk (16 problems), the greedy result and its samples are as they were,
    and the rerun resumes from the side file."""
    from evolm.eval import generate as generate_module

    def args(samples, limit=20):
        return ("--suite", "SynthMathLevel1", "--samples", str(samples), "--limit", str(limit), "--max-new-tokens", "16",
                "--benchmarks", synth_tiny, "--out", tmp_path)
    result, samples = tmp_path / "SynthMathLevel1.json", tmp_path / "SynthMathLevel1.samples.jsonl"
    pending = tmp_path / "SynthMathLevel1.samples.pending.jsonl"
    assert cli("eval", sft_model, *args(0)).code == 0
    before = result.read_bytes(), samples.read_bytes()
    original, calls = generate_module.TransformersBackend.generate_prompts, []

    def dies_on_the_second_chunk(self, prompts, decoding):
        calls.append(len(prompts))
        if len(calls) == 2:
            raise RuntimeError("killed")
        return original(self, prompts, decoding)

    monkeypatch.setattr(generate_module.TransformersBackend, "generate_prompts", dies_on_the_second_chunk)
    assert cli("eval", sft_model, *args(3)).code != 0
    assert (result.read_bytes(), samples.read_bytes()) == before and len(_lines(pending)) == 16
    monkeypatch.setattr(generate_module.TransformersBackend, "generate_prompts", original)
    resumed = cli("eval", sft_model, *args(3))
    assert resumed.code == 0 and "resuming, 16 of 20 problems already done" in resumed.err, resumed.err
    now = json.loads(result.read_text())
    assert not pending.exists() and now["identity"]["decoding"]["samples"] == 3 and now["samples_file"] == samples.name
    assert {r["run"] for r in _lines(samples)} == {now["run"]} and len(_lines(samples)) == 20
    # another limit of the same evaluation, replaced with --overwrite: no "greedy half" to tell of
    other = cli("eval", sft_model, *args(3, limit=18), "--overwrite")
    assert other.code == 0 and "greedy half" not in other.err


@pytest.mark.parametrize("stop_at", ["result", "move"])
def test_a_replacement_stopped_in_its_last_steps_leaves_a_result_with_its_own_samples(stop_at, sft_model, synth_tiny,
                                                                                      tmp_path, cli, monkeypatch):
    """A sampled evaluation replacing a finished greedy one, stopped at writing its result or at moving its
    samples over the old ones: after the next evaluation in the folder (the old, greedy one here) the
    result there and its samples file are of one evaluation. (Moving the samples first, then writing the
    result, left the greedy result beside the sampled records, and the greedy evaluation reused them.)"""
    from evolm.eval import downstream

    def args(samples):
        return ("--suite", "SynthMathLevel1", "--samples", str(samples), "--limit", "6", "--max-new-tokens", "12",
                "--benchmarks", synth_tiny, "--out", tmp_path)
    result, samples = tmp_path / "SynthMathLevel1.json", tmp_path / "SynthMathLevel1.samples.jsonl"
    assert cli("eval", sft_model, *args(0)).code == 0

    def stop(*_):
        raise KeyboardInterrupt

    if stop_at == "result":
        monkeypatch.setattr(downstream, "write_json", stop)
    else:
        original_replace = Path.replace
        monkeypatch.setattr(Path, "replace", lambda self, target: stop() if self.name.endswith(".pending.jsonl")
                            else original_replace(self, target))
    assert cli("eval", sft_model, *args(3)).code != 0
    monkeypatch.undo()
    again = cli("eval", sft_model, *args(0))
    assert again.code == 0, again.err
    now = json.loads(result.read_text())
    assert {r["run"] for r in _lines(samples)} == {now["run"]} and len(_lines(samples)) == 6
    assert not (tmp_path / "SynthMathLevel1.samples.pending.jsonl").exists() or stop_at == "result"
    assert now["identity"]["decoding"]["samples"] == (3 if stop_at == "move" else 0)


def test_grade_only_regrades_responses_made_elsewhere(paper_benchmarks, tmp_path, cli):
    rows = _lines(paper_benchmarks / "GSM8KPlatinum.jsonl")[:10]
    responses = tmp_path / "old.jsonl"
    with open(responses, "w") as f:
        for i, r in enumerate(rows):
            wrong = "The answer is 123456789."
            f.write(json.dumps({"id": r["id"], "completions": [r["gt_solution"], wrong, r["gt_solution"] if i % 2 else wrong]}) + "\n")
    result = cli("eval", "--responses", responses, "--suite", "GSM8KPlatinum", "--benchmarks", paper_benchmarks,
                 "--greedy-first", "--json")
    assert result.code == 0, result.err
    metrics = json.loads(result.out)["metrics"]
    assert metrics["pass@1"]["value"] == 1.0 and metrics["pass@2"]["value"] == 0.5
    assert metrics["correct_ratio"]["value"] == 0.5 and metrics["no_answer"]["value"] == 0.0
    graded = _lines(tmp_path / "GSM8KPlatinum.graded.jsonl")
    assert graded[1]["correct"] == [True, False, True] and graded[1]["answers"][1] == "123456789"


def test_a_synthetic_basic_tier_reports_standard_errors_over_its_computations(sft_model, synth_tiny, tmp_path, cli):
    """Rows of SynthMathBasic1 whose reference solutions are identical ask one computation in other words:
    the result's standard errors are cluster-robust over them, and its per-problem values name them."""
    from evolm.eval.metrics import mean_and_stderr

    result = cli("eval", sft_model, "--suite", "SynthMathBasic1", "--samples", "0", "--limit", "40", "--max-new-tokens", "12",
                 "--benchmarks", synth_tiny, "--out", tmp_path)
    assert result.code == 0, result.err
    stored = json.loads((tmp_path / "SynthMathBasic1.json").read_text())
    rows = _lines(synth_tiny / "benchmarks" / "SynthMathBasic1.jsonl")[:40]
    clusters = stored["items"]["clusters"]
    assert len(clusters) == 40 and len(set(clusters)) == len({r["gt_solution"] for r in rows}) < 40
    assert all((clusters[i] == clusters[j]) == (rows[i]["gt_solution"] == rows[j]["gt_solution"])
               for i in range(40) for j in range(40))
    pass1 = stored["metrics"]["pass@1"]
    assert pass1["clusters"] == len(set(clusters))
    assert pass1["stderr"] == pytest.approx(mean_and_stderr(stored["items"]["pass@1"], clusters)[1])


def test_bad_input_is_one_sentence_and_exit_2(sft_model, base, synth_tiny, paper_benchmarks, tmp_path, cli, monkeypatch):
    unknown = cli("eval", sft_model, "--suite", "nosuch", "--benchmarks", synth_tiny)
    assert unknown.code == 2 and "Unknown suite or task 'nosuch'" in unknown.err

    responses = tmp_path / "r.jsonl"
    responses.write_text(json.dumps({"id": "GSM8KPlatinum-nope", "completions": ["1"]}) + "\n")
    bad_ids = cli("eval", "--responses", responses, "--suite", "GSM8KPlatinum", "--benchmarks", paper_benchmarks)
    assert bad_ids.code == 2 and "GSM8KPlatinum-nope" in bad_ids.err
    assert not (tmp_path / "GSM8KPlatinum.graded.jsonl").exists()

    no_template = cli("eval", base, "--suite", "synth-id", "--benchmarks", synth_tiny)
    assert no_template.code == 2 and "no chat template" in no_template.err
    assert not (base / "eval").exists()  # nothing written

    missing = cli("eval", sft_model, "--suite", "GSM8KPlatinum", "--benchmarks", synth_tiny, "--out", tmp_path / "x")
    assert missing.code == 2 and "has no GSM8KPlatinum.jsonl" in missing.err and not (tmp_path / "x").exists()

    monkeypatch.setenv("EVOLM_CACHE", str(tmp_path / "cache"))  # offline: the hub cannot fill the cache
    no_bench = cli("eval", sft_model, "--suite", "GSM8KPlatinum", "--out", tmp_path / "y")
    assert no_bench.code == 2 and no_bench.err.strip().splitlines()[-1].startswith("error: The paper's test sets are not in")
    assert "pass --benchmarks DIR" in no_bench.err and "Traceback" not in no_bench.err
    assert "(Could not load hf://datasets/madrylab/gsm8k-platinum" in no_bench.err  # the cause, not only the advice
    assert not (tmp_path / "cache" / "benchmarks").exists() and not (tmp_path / "y").exists()

    no_model = cli("eval", tmp_path / "nothing-here", "--suite", "synth-id", "--benchmarks", synth_tiny)
    assert no_model.code == 2 and "does not exist" in no_model.err
    for option, value, message in (("--temperature", "-1", "--temperature -1.0 is out of range"),  # (--samples 4)
                                   ("--temperature", "nan", "--temperature nan is out of range"),
                                   ("--repetition-penalty", "0", "--repetition-penalty 0.0 is out of range"),
                                   ("--batch-size", "0", "--batch-size 0 is out of range"),
                                   ("--greedy-first", None, "--greedy-first describes a --responses file")):
        refused = cli("eval", sft_model, "--suite", "synth-id", "--benchmarks", synth_tiny, "--out", tmp_path / "z",
                      "--samples", "4", option, *([value] if value else []))
        assert refused.code == 2 and message in refused.err and not (tmp_path / "z").exists(), refused.err
    greedy = cli("eval", sft_model, "--suite", "SynthMathBasic1", "--benchmarks", synth_tiny, "--out", tmp_path / "g",
                 "--samples", "0", "--temperature", "0", "--limit", "1", "--max-new-tokens", "2")
    assert greedy.code == 0, greedy.err  # nothing sampled: the temperature is not used
    for err in (unknown.err, bad_ids.err, no_template.err, missing.err, no_model.err):
        assert "Traceback" not in err and err.strip().count("\n") == 0


def test_a_plain_hugging_face_directory_is_identified_by_its_files_hashes(sft_model, synth_tiny, tmp_path, cli):
    import shutil

    plain = tmp_path / "plain-hf"
    shutil.copytree(sft_model, plain, ignore=shutil.ignore_patterns("evolm.json", "eval", "metrics.jsonl"))
    args = ("eval", plain, "--suite", "SynthMathLevel1", "--samples", "0", "--limit", "2", "--max-new-tokens", "16",
            "--benchmarks", synth_tiny)
    result = cli(*args)
    assert result.code == 0, result.err
    model = json.loads((plain / "eval" / "SynthMathLevel1.json").read_text())["identity"]["model"]
    assert model["kind"] == "hf" and model["path"] == str(plain.resolve()) and len(model["files_sha256"]) == 64
    # one flipped bit of the weights (same size) is another model: its results do not replace these
    weights = plain / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 1
    weights.write_bytes(bytes(data))
    before = {p.name: p.read_bytes() for p in (plain / "eval").iterdir()}
    again = cli(*args)
    assert again.code == 2 and "model.files_sha256" in again.err and "--overwrite" in again.err
    assert {p.name: p.read_bytes() for p in (plain / "eval").iterdir()} == before
    hub = cli("eval", "someorg/somemodel", "--suite", "SynthMathLevel1", "--benchmarks", synth_tiny)
    assert hub.code == 2 and "give --out" in hub.err


def test_one_run_loads_the_model_once_for_validation_loss_and_generation(sft_model, synth_tiny, tmp_path, cli, monkeypatch):
    """lm-eval loads its own copy by path; the validation loss and the generation share one load."""
    import evolm.eval.loading as loading

    loads = []
    real = loading.load_model
    monkeypatch.setattr(loading, "load_model", lambda spec, revision=None: loads.append(spec) or real(spec, revision))
    result = cli("eval", sft_model, "--suite", "SynthClozeMath,SynthMathLevel1", "--benchmarks", synth_tiny,
                 "--limit", "4", "--samples", "0", "--max-new-tokens", "16", "--out", tmp_path / "both")
    assert result.code == 0, result.err
    assert loads == [str(sft_model)]
    up = json.loads((tmp_path / "both" / "upstream.json").read_text())
    assert up["val"]["loss"] > 0 and "SynthClozeMath" in up["tasks"]
    assert (tmp_path / "both" / "SynthMathLevel1.json").is_file()


def test_the_validation_loss_records_the_tokens_it_scored_and_a_short_split_is_refused_first(base, shards, tmp_path, cli,
                                                                                              synth_tiny):
    """Whole windows are scored (1,000 tokens at 64 are 15 windows, 960 tokens); a split shorter than one
    window was refused only after lm-eval had run every task, and nothing was written."""
    from transformers import AutoModelForCausalLM

    from evolm.eval.upstream import validation_loss
    from evolm.stages.data.prepare import prepare
    from evolm.textsource import resolve_source

    model = AutoModelForCausalLM.from_pretrained(base)
    assert validation_loss(model, shards / "general", seq_len=64, tokens=1000)["tokens"] == 960
    (tmp_path / "few.jsonl").write_text("".join(json.dumps({"text": f"short text {i}."}) + "\n" for i in range(4)))
    prepare(resolve_source(tmp_path / "few.jsonl"), base, tmp_path / "few", val_fraction=0.5)
    result = cli("eval", base, "--suite", "cloze", "--benchmarks", synth_tiny, "--val-data", tmp_path / "few",
                 "--out", tmp_path / "up")
    assert result.code == 2 and "fewer than one" in result.err and "lm-eval" not in result.err
    assert not (tmp_path / "up" / "upstream.json").exists()


def test_the_lineages_own_shards_gone_or_too_short_leave_out_the_validation_loss_with_a_note(base, synth_tiny, tmp_path,
                                                                                              cli, monkeypatch):
    import shutil

    from evolm.stages.data.prepare import prepare
    from evolm.textsource import resolve_source

    (tmp_path / "few.jsonl").write_text("".join(json.dumps({"text": f"short text {i}, " * (1 if i == 0 else 8)}) + "\n" for i in range(40)))
    prepare(resolve_source(tmp_path / "few.jsonl"), base, tmp_path / "few", val_fraction=0.02)  # one document
    trained = cli("pretrain", "--model", "1M", "--tokens", "1K", "--data", tmp_path / "few", "--tokenizer", base,
                  "--seq-len", "64", "--global-batch", "2", "--out", tmp_path / "pt")
    assert trained.code == 0, trained.err
    monkeypatch.setattr("evolm.eval.upstream.run_lm_eval", lambda *a, **k: {"results": {}})  # only the loss is at stake
    short = cli("eval", tmp_path / "pt", "--suite", "cloze", "--benchmarks", synth_tiny, "--out", tmp_path / "e1")
    assert short.code == 0 and "is shorter than one 64-token window" in short.err, short.err
    assert "val" not in json.loads((tmp_path / "e1" / "upstream.json").read_text())
    shutil.rmtree(tmp_path / "few")
    gone = cli("eval", tmp_path / "pt", "--suite", "cloze", "--benchmarks", synth_tiny, "--out", tmp_path / "e2")
    assert gone.code == 0 and "note: no validation loss: the shards 1M-1KT was pre-trained on are not on disk" in gone.err
