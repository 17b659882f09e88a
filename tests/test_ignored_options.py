"""An option that a combination would silently ignore is refused instead: one sentence, exit 2, before any
work and with nothing written (the rule for bad input; each case here was once parsed and dropped)."""

import pytest


@pytest.mark.parametrize("args, message", [
    # an adopted tokenizer keeps its own vocabulary
    (("data", "tokenizer", "--from", "gpt2", "--vocab-size", "4096", "--out", "{tmp}/tok"),
     "--vocab-size is for training a tokenizer; one adopted with --from keeps its own vocabulary."),
    # a local file has no splits to choose from
    (("data", "prepare", "{tmp}/local.jsonl", "--split", "validation", "--tokenizer", "{tmp}/tok", "--out", "{tmp}/shards"),
     "--split is for hub datasets; {tmp}/local.jsonl is not one."),
    # grading completions made elsewhere: no rows to limit, no checkpoints, no model, no batches
    (("eval", "--responses", "{tmp}/responses.jsonl", "--suite", "SynthMathBasic1", "--limit", "5", "--out", "{tmp}/graded"),
     "--responses grades every completion in the file, made elsewhere; --limit does not apply to it."),
    (("eval", "--responses", "{tmp}/responses.jsonl", "--suite", "SynthMathBasic1", "--checkpoints", "{tmp}/*",
      "--batch-size", "8", "--out", "{tmp}/graded"),
     "--checkpoints and --batch-size do not apply to it."),
    # nor anything only generating or scoring reads (each was dropped without a word, --no-greedy with pass@1 reported)
    (("eval", "--responses", "{tmp}/responses.jsonl", "--suite", "SynthMathBasic1", "--samples", "4", "--no-greedy",
      "--backend", "vllm", "--val-tokens", "garbage", "--out", "{tmp}/graded"),
     "--samples, --no-greedy, --backend and --val-tokens do not apply to it."),
    # Slurm's jobs run as their dependencies allow, each with the resources of the file's slurm: section
    (("study", "run", "{tmp}/study.yaml", "--executor", "slurm", "--jobs", "2"),
     "--jobs is for the local executor; with --executor slurm, Slurm schedules the jobs and the file's slurm: section "
     "sets each job's resources and time."),
    (("study", "run", "{tmp}/study.yaml", "--executor", "slurm", "--jobs", "2", "--peak-flops", "1e12"),
     "--jobs and --peak-flops are for the local executor"),
    # lm-eval scores upstream tasks: no generation, no reward model, no vLLM
    (("eval", "{tmp}/nope", "--suite", "cloze", "--reward-model", "{tmp}/rm", "--vllm-memory", "0.5", "--out", "{tmp}/e"),
     "--suite cloze has no generation task (lm-eval scores its tasks); --reward-model and --vllm-memory do not apply to it."),
    # nor any decoding setting
    (("eval", "{tmp}/nope", "--suite", "upstream", "--samples", "4", "--temperature", "0.7", "--no-greedy", "--out", "{tmp}/e"),
     "--suite upstream has no generation task (lm-eval scores its tasks); --samples, --temperature and --no-greedy do not apply to it."),
], ids=["tokenizer-from-vocab", "prepare-local-split", "responses-limit", "responses-checkpoints", "responses-decoding", "slurm-jobs", "slurm-jobs-and-peak",
        "upstream-reward-model", "upstream-decoding"])
def test_an_option_the_combination_would_ignore_is_refused(args, message, tmp_path, cli):
    (tmp_path / "local.jsonl").write_text('{"text": "a document"}\n')
    (tmp_path / "responses.jsonl").write_text('{"id": "0", "completions": ["\\\\boxed{1}"]}\n')
    (tmp_path / "study.yaml").write_text("study: t\nout: runs\nnodes: []\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli(*(a.format(tmp=tmp_path) for a in args))
    assert result.code == 2 and message.format(tmp=tmp_path) in result.err, result.err
    assert result.err.strip().count("\n") == 0 and "Traceback" not in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_an_option_at_its_default_stays_accepted(tmp_path, cli):
    """The refusals above check that an option was given, not that it was named: its default, written out,
    passes them (here to the next refusal, or to the work)."""
    (tmp_path / "local.jsonl").write_text('{"text": "a document"}\n')
    missing_tokenizer = cli("data", "prepare", tmp_path / "local.jsonl", "--split", "train", "--tokenizer", tmp_path / "tok",
                            "--out", tmp_path / "shards")
    assert missing_tokenizer.code == 2 and "is not a tokenizer directory" in missing_tokenizer.err, missing_tokenizer.err
    (tmp_path / "study.yaml").write_text("study: t\nout: runs\nnodes: []\n")
    one_job = cli("study", "run", tmp_path / "study.yaml", "--executor", "slurm", "--jobs", "1")
    assert one_job.code == 2 and "data needs exactly one of" in one_job.err, one_job.err  # refused for the file instead
    upstream = cli("eval", tmp_path / "nope", "--suite", "upstream", "--samples", "16", "--temperature", "1.0", "--out", tmp_path / "e")
    assert upstream.code == 2 and "does not exist" in upstream.err, upstream.err  # the missing model, not the defaults
