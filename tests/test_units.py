from decimal import Decimal

import pytest

from evolm.errors import BadInput
from evolm.units import PerParam, format_count, format_count_exact, parse_count, parse_counts, resolve_count


@pytest.mark.parametrize(
    "text, value",
    [("80B", 80 * 10**9), ("1.5M", 1_500_000), ("100K", 100_000), ("2T", 2 * 10**12), ("12345", 12345),
     ("0", 0), ("100k", 100_000), ("1_000", 1000), (4096, 4096), ("2.5B", 2_500_000_000)],
)
def test_parse_counts(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["80X", "-5B", "1.2.3M", "", "B", "1.5", "1.0005K", "5Q", "ten", "1e9", "20x"])
def test_rejects_nonsense_with_a_sentence(text):
    with pytest.raises(BadInput) as info:
        parse_count(text, what="token budget")
    message = str(info.value)
    assert message.startswith("Invalid token budget") or "tokens-per-parameter" in message
    assert message.endswith(".")


def test_uppercase_x_gets_a_hint():
    with pytest.raises(BadInput, match="lowercase x"):
        parse_count("80X", allow_per_param=True)


def test_per_parameter_budget_resolves_from_the_model():
    budget = parse_count("20x", allow_per_param=True)
    assert budget == PerParam(Decimal(20))
    assert resolve_count(budget, 1_000_564_736) == 20_011_294_720
    assert resolve_count(parse_count("0.5x", allow_per_param=True), 1000) == 500
    with pytest.raises(BadInput, match="needs a model"):
        resolve_count(budget, None)


@pytest.mark.parametrize("value, text", [(160 * 10**9, "160B"), (1_500_000, "1.5M"), (100_000, "100K"), (512, "512"), (2 * 10**12, "2T")])
def test_format_count(value, text):
    assert format_count(value) == text


def test_a_list_of_counts_from_the_command_line_or_yaml():
    assert parse_counts("500K,1M") == parse_counts(" 500K , 1M ") == parse_counts(["500K", 1_000_000]) == (500_000, 1_000_000)
    assert parse_counts(2048) == (2048,) and parse_counts(None) == ()
    for bad in ("500K,,1M", "500K,lots", "20x", ""):
        with pytest.raises(BadInput, match="Invalid --export-at"):
            parse_counts(bad, what="--export-at")


@pytest.mark.parametrize("value, text", [(500_000, "500K"), (1_500_000, "1.5M"), (10_240, "10.24K"),
                                         (1_234_567, "1.234567M"), (512, "512"), (160 * 10**9, "160B")])
def test_exact_count_names_read_back_as_the_same_count(value, text):
    assert format_count_exact(value) == text and parse_count(text) == value
