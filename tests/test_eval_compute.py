"""The evaluation side of the compute ledger: tokens processed, counted from what a result keeps."""

from evolm.eval import compute


class Words:
    """A stand-in tokenizer: one token per word."""

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": text.split()}


def test_downstream_counts_each_completion_with_its_prompt_and_an_end():
    records = [{"prompt": "a b c", "completions": ["x y", "z"]}, {"prompt": "d", "completions": ["w"]}]
    # (3 x 2 + (2 + 1) + (1 + 1)) + (1 x 1 + (1 + 1))
    assert compute.downstream_tokens(records, Words()) == 11 + 3


def test_upstream_counts_every_choice_of_lm_evals_logged_samples_in_both_layouts():
    as_tuples = {"cloze": [{"arguments": [("the cat", " sat"), ("the cat", " ran away")]}]}
    as_dicts = {"cloze": [{"arguments": {"gen_args_0": {"arg_0": "the cat", "arg_1": " sat"},
                                         "gen_args_1": {"arg_0": "the cat", "arg_1": " ran away"}}}]}
    assert compute.upstream_tokens(as_tuples, Words()) == compute.upstream_tokens(as_dicts, Words()) == 3 + 4


def test_the_record_is_a_forward_pass_per_token():
    assert compute.record(100, 10) == {"processed_tokens": 100, "params": 10, "flops": 2000.0}
    assert compute.record(100, None)["flops"] is None and compute.record(None, 10)["flops"] is None
