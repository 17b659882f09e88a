"""A user's own test set: a JSONL in the benchmark format plus a task YAML, no code."""

import json

from evolm.eval.suites import expand
from evolm.eval.tasks.registry import BUILTIN, registry_for
from evolm.report.rows import group_of

ROWS = [
    {"id": "mine-0", "problem": "What is 2 + 3?", "gt_solution": "2 + 3 = 5. \\boxed{5}", "gt_answer": "5"},
    {"id": "mine-1", "problem": "What is 10 / 4?", "gt_solution": "\\boxed{\\frac{5}{2}}", "gt_answer": "\\frac{5}{2}"},
]


def _task_set(folder, yaml_text="name: MyArith\ngrader: math\ndomain: id\nsuite: mine\n", name="my.task.yaml"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "MyArith.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    (folder / name).write_text(yaml_text)
    return folder / name


def test_a_task_yaml_adds_a_task_and_its_suite(tmp_path):
    path = _task_set(tmp_path / "mine")
    registry = registry_for(None, [path])
    assert "MyArith" in registry and "MyArith" not in BUILTIN
    assert registry.suites()["mine"] == ["MyArith"]
    assert expand("mine,SynthMathLevel1", None, registry)[1] == ["MyArith", "SynthMathLevel1"]
    t = registry.task("MyArith", None)
    assert t.path == path.parent / "MyArith.jsonl" and t.domain == "id" and t.grader.FAMILY == "math"
    assert t.grade("so \\boxed{2.5}", t.grader.gold(ROWS[1])) == ("2.5", True)
    assert group_of("MyArith", {"suite": t.suite, "domain": "id"}) == "mine"


def test_grade_only_with_a_user_task_from_the_cli(tmp_path, cli):
    path = _task_set(tmp_path / "mine")
    responses = tmp_path / "responses.jsonl"
    responses.write_text(json.dumps({"id": "mine-0", "completions": ["\\boxed{5}"]}) + "\n"
                         + json.dumps({"id": "mine-1", "completions": ["\\boxed{3}"]}) + "\n")
    result = cli("eval", "--responses", responses, "--suite", "MyArith", "--tasks", path, "--greedy-first", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["metrics"]["pass@1"]["value"] == 0.5
    graded = json.loads((tmp_path / "MyArith.graded.json").read_text())
    assert graded["suite"] == "mine" and graded["domain"] == "id"


def test_a_task_yaml_in_the_benchmarks_folder_is_found(tmp_path, cli):
    folder = tmp_path / "bench"
    _task_set(folder, "tasks:\n  - {name: MyArith, grader: gsm8k, domain: ood}\n")
    registry = registry_for(folder)
    assert registry.specs["MyArith"].suite == "custom-ood" and registry.specs["MyArith"].family == "gsm8k"
    responses = tmp_path / "r.jsonl"
    responses.write_text(json.dumps({"id": "mine-0", "completions": ["#### 5"]}) + "\n")
    result = cli("eval", "--responses", responses, "--suite", "MyArith", "--benchmarks", folder, "--json")
    assert result.code == 0, result.err


def test_bad_task_yamls_are_one_sentence_and_exit_2(tmp_path, cli):
    responses = tmp_path / "r.jsonl"
    responses.write_text(json.dumps({"id": "mine-0", "completions": ["5"]}) + "\n")
    cases = {
        "grader: nosuch": ("name: A\ngrader: nosuch\ndomain: id\n", "grader 'nosuch' is not one of"),
        "domain": ("name: A\ngrader: math\ndomain: maybe\n", "domain 'maybe' is not one of"),
        "missing": ("name: A\ndomain: id\n", "no grader"),
        "unknown key": ("name: A\ngrader: math\ndomain: id\nmetric: acc\n", "unknown key(s) metric"),
        "built-in": ("name: MATHHard\ngrader: math\ndomain: id\nfile: MyArith.jsonl\n", "which is a built-in task"),
        "no file": ("name: Nofile\ngrader: math\ndomain: id\n", "does not exist"),
        "yaml": ("name: [unclosed\n", "is not valid YAML"),
    }
    for i, (label, (text, message)) in enumerate(cases.items()):
        path = _task_set(tmp_path / f"case{i}", text)
        result = cli("eval", "--responses", responses, "--suite", "A", "--tasks", path)
        assert result.code == 2 and message in result.err, (label, result.err)
        assert len(result.err.strip().splitlines()) == 1, (label, result.err)


def test_a_test_file_with_a_repeated_id_or_no_gold_is_refused_before_any_work(tmp_path, cli, sft_model, synth_tiny):
    """A repeated id would make two problems one record, a row without gold would be graded wrong whatever
    the answer: both are refused, by an evaluation before the model is loaded and by grade-only; so are
    responses with a different number of completions per problem (pass@K is over one K)."""
    responses = tmp_path / "r.jsonl"
    responses.write_text(json.dumps({"id": "mine-0", "completions": ["\\boxed{5}", "5"]}) + "\n"
                         + json.dumps({"id": "mine-1", "completions": ["\\boxed{3}"]}) + "\n")
    uneven = cli("eval", "--responses", responses, "--suite", "MyArith", "--tasks", _task_set(tmp_path / "ok"))
    assert uneven.code == 2 and "line 2 has 1 completions, and the first line 2" in uneven.err
    responses.write_text(json.dumps({"id": "mine-0", "completions": ["\\boxed{5}"]}) + "\n")
    bad_rows = {"repeated": ([ROWS[0], {**ROWS[1], "id": "mine-0"}], "line 2 has a missing or repeated id 'mine-0'"),
                "no gold": ([ROWS[0], {"id": "mine-1", "problem": "What is 1 + 1?"}], "line 2 has no gold answer")}
    for label, (rows, message) in bad_rows.items():
        path = _task_set(tmp_path / label)
        (path.parent / "MyArith.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        graded = cli("eval", "--responses", responses, "--suite", "MyArith", "--tasks", path)
        evaluated = cli("eval", sft_model, "--suite", "SynthMathBasic1,MyArith", "--tasks", path,
                        "--benchmarks", synth_tiny, "--out", tmp_path / "e")
        for result in (graded, evaluated):
            assert result.code == 2 and message in result.err and len(result.err.strip().splitlines()) == 1, (label, result.err)
        assert not (tmp_path / "e").exists() and not (path.parent / "MyArith.graded.jsonl").exists()
