"""Bad input to chapter 6's public functions (course_utils.pretraining and
course_utils.generation) ends in one CourseError sentence that says what to
do, or in a documented result: never a raw traceback or a silent wrong answer.

Property tests generate wrong types, wrong shapes, empty input and numbers out
of range; the explicit tests are the cases issue 15 names (temperature <= 0,
top_k < 1 or > V, top_p outside (0, 1], block size < 2, empty text).
"""

import math

import pytest
import torch
from bad_input import PROPERTY_SETTINGS, clear_error, clear_error_or_result
from hypothesis import given
from hypothesis import strategies as st

from course_utils import generation, pretraining

# wrong types for every guard: none of them is a valid size or text list
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.binary(max_size=4),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
V = 16  # vocabulary of the generated logits


@pytest.fixture(scope="module")
def tokenizer():
    texts = ["The river flows into the sea. " * 20, "A city, a town. " * 20]
    return pretraining.train_tokenizer(texts, 300)


@pytest.fixture(scope="module")
def tiny_gpt(tokenizer):
    from transformers import GPT2LMHeadModel

    torch.manual_seed(0)
    config = pretraining.gpt_config(
        tokenizer, n_layer=1, n_embd=16, n_head=2, n_inner=32, n_positions=32
    )
    return GPT2LMHeadModel(config).eval()


# ---------------------------------------------------------------- pretraining


@given(
    examples=st.one_of(
        JUNK,
        st.fixed_dictionaries(
            {"input_ids": st.lists(st.lists(st.integers(0, 9), max_size=7))}
        ),
        st.fixed_dictionaries(
            {
                "input_ids": st.lists(
                    st.lists(st.integers(0, 9), max_size=5), max_size=3
                ),
                "attention_mask": st.lists(
                    st.lists(st.just(1), max_size=5), max_size=3
                ),
            }
        ),
    ),
    block_size=st.one_of(st.integers(-2, 9), JUNK),
)
@PROPERTY_SETTINGS
def test_group_texts_blocks_or_one_sentence(examples, block_size):
    kind, out = clear_error_or_result(
        lambda: pretraining.group_texts(examples, block_size)
    )
    if kind == "ok":  # documented: full blocks only, labels a copy of ids
        total = sum(map(len, examples["input_ids"]))
        assert len(out["input_ids"]) == total // block_size
        assert all(len(b) == block_size for b in out["input_ids"])
        assert out["labels"] == out["input_ids"]


@pytest.mark.parametrize("block_size", [1, 0, -4, 2.5, "64", True, None])
def test_group_texts_refuses_a_bad_block_size(block_size):
    batch = {"input_ids": [[1, 2, 3, 4]], "attention_mask": [[1, 1, 1, 1]]}
    assert "block_size" in clear_error(
        lambda: pretraining.group_texts(batch, block_size)
    )


@pytest.mark.parametrize(
    "examples",
    [
        [[1, 2, 3]],  # a list, not a batch
        {"text": ["no ids"]},  # not tokenized
        {"input_ids": [1, 2, 3, 4]},  # flat: one list, not one per article
        {"input_ids": [[1, 2, 3]], "attention_mask": [[1, 1]]},  # lengths
    ],
)
def test_group_texts_refuses_a_bad_batch(examples):
    clear_error(lambda: pretraining.group_texts(examples, 2))


@pytest.mark.parametrize(
    "texts", ["one string", [], [""], ["  ", "\n"], [1, 2], None, 42, [b"x"]]
)
def test_train_tokenizer_refuses_empty_or_wrong_texts(texts):
    assert "texts" in clear_error(
        lambda: pretraining.train_tokenizer(texts, 400)
    )


@pytest.mark.parametrize("vocab_size", [299, 0, "2048", 2048.0, None, True])
def test_train_tokenizer_refuses_a_bad_vocabulary_size(vocab_size):
    assert "vocab_size" in clear_error(
        lambda: pretraining.train_tokenizer(["some text here"], vocab_size)
    )


@given(fast=JUNK)
@PROPERTY_SETTINGS
def test_mode_takes_a_bool_or_none(fast):
    kind, out = clear_error_or_result(lambda: pretraining.mode(fast))
    assert (kind == "ok") == (fast is None or isinstance(fast, bool))
    if kind == "ok":
        assert out in ("fast", "full")


def test_load_split_refuses_something_that_is_not_the_articles():
    clear_error(lambda: pretraining.load_split(articles=["an article"]))


def test_article_token_ids_refuses_a_single_string(tokenizer):
    clear_error(lambda: pretraining.article_token_ids("an article", tokenizer))


@given(nll=st.one_of(JUNK, st.lists(st.floats(0, 20), max_size=4)))
@PROPERTY_SETTINGS
def test_perplexity_of_finite_nlls_or_one_sentence(nll):
    kind, out = clear_error_or_result(lambda: pretraining.perplexity(nll))
    if kind == "ok":
        assert math.isclose(out, math.exp(sum(nll) / len(nll)), rel_tol=1e-12)


@pytest.mark.parametrize(
    "nll", [[], [[1.0, 2.0]], [float("nan")], [1.0, math.inf], "1.0"]
)
def test_perplexity_refuses_empty_nested_or_nan(nll):
    clear_error(lambda: pretraining.perplexity(nll))


@given(
    window=st.one_of(st.integers(-2, 40), JUNK),
    stride=st.one_of(st.none(), st.integers(-2, 40), JUNK),
    batch_size=st.one_of(st.integers(-1, 3), st.just("4")),
)
@PROPERTY_SETTINGS
def test_gpt_token_nll_windows_or_one_sentence(
    tiny_gpt, window, stride, batch_size
):
    ids = [[5, 6, 7, 8, 9, 10], [11, 12]]
    kind, out = clear_error_or_result(
        lambda: pretraining.gpt_token_nll(
            tiny_gpt, ids, 0, window, stride, batch_size
        )
    )
    if kind == "ok":  # every token plus one end of article per article
        assert out.shape == (6 + 1 + 2 + 1,) and (out >= 0).all()


@pytest.mark.parametrize(
    "ids",
    [[], "5 6 7", [5, 6, 7], [["5", "6"]], [[5.0, 6.0]], None],
)
def test_scoring_refuses_ids_that_are_not_lists_of_ids(tiny_gpt, ids):
    clear_error(lambda: pretraining.gpt_token_nll(tiny_gpt, ids, 0, 8))
    clear_error(lambda: pretraining.fit_token_ngram(2, ids, 20))


def test_gpt_token_nll_refuses_a_window_longer_than_the_model(tiny_gpt):
    message = clear_error(
        lambda: pretraining.gpt_token_nll(tiny_gpt, [[5, 6]], 0, window=64)
    )
    assert "n_positions" in message


def test_configs_refuse_a_misspelt_setting(tokenizer):
    assert "n_layers" in clear_error(
        lambda: pretraining.gpt_config(tokenizer, n_layers=4)
    )
    assert "num_layers" in clear_error(
        lambda: pretraining.bert_config(tokenizer, num_layers=4)
    )
    clear_error(lambda: pretraining.gpt_config("not a tokenizer"))


@pytest.mark.parametrize("max_steps", [0, -1, 2.5, "30", True])
def test_run_arguments_refuse_a_bad_number_of_steps(tmp_path, max_steps):
    settings = pretraining.gpt_train_settings(True)
    clear_error(
        lambda: pretraining.run_arguments(settings, tmp_path, max_steps)
    )


def test_run_arguments_refuse_a_work_dir_that_is_not_a_path():
    settings = pretraining.gpt_train_settings(True)
    clear_error(lambda: pretraining.run_arguments(settings, 3, 5))


# ----------------------------------------------------------------- generation


LOGITS = st.one_of(
    JUNK,
    st.builds(torch.randn, st.integers(1, V)),  # [V]
    st.builds(torch.randn, st.integers(1, 3), st.integers(1, V)),  # [B, V]
    st.builds(torch.randn, st.just(2), st.just(3), st.just(V)),  # [B, T, V]
    st.builds(lambda v: torch.arange(v), st.integers(1, V)),  # integers
    st.just(torch.full((V,), math.nan)),
    st.just(torch.full((2, V), -math.inf)),
    st.just(torch.empty(0)),
)


@given(logits=LOGITS, k=st.one_of(st.integers(-2, 2 * V), NUMBERS))
@PROPERTY_SETTINGS
def test_top_k_probs_is_a_distribution_or_one_sentence(logits, k):
    kind, out = clear_error_or_result(lambda: generation.top_k_probs(logits, k))
    if kind == "ok":
        assert out.shape == logits.shape
        torch.testing.assert_close(
            out.sum(-1), torch.ones(out.shape[:-1]), rtol=0, atol=1e-5
        )
        # at least min(k, V) tokens kept (more only where logits tie)
        assert ((out > 0).sum(-1) >= min(k, logits.shape[-1])).all()


@given(logits=LOGITS, p=NUMBERS)
@PROPERTY_SETTINGS
def test_top_p_probs_is_a_distribution_or_one_sentence(logits, p):
    kind, out = clear_error_or_result(lambda: generation.top_p_probs(logits, p))
    if kind == "ok":
        assert 0 < p <= 1 and out.shape == logits.shape
        kept_mass = (logits.softmax(-1) * (out > 0)).sum(-1)
        assert (kept_mass >= p - 1e-5).all()  # the nucleus reaches p


def test_top_k_larger_than_the_vocabulary_keeps_every_token():
    from transformers import TopKLogitsWarper

    logits = torch.randn(2, V)
    out = generation.top_k_probs(logits, V + 10)  # clipped to V
    torch.testing.assert_close(out, logits.softmax(-1))
    library = TopKLogitsWarper(top_k=V + 10)(None, logits.clone()).softmax(-1)
    torch.testing.assert_close(out, library)


@pytest.mark.parametrize("k", [0, -1, 2.0, "5", None, True])
def test_top_k_refuses_k_below_one_or_not_an_int(k):
    assert "k must" in clear_error(
        lambda: generation.top_k_probs(torch.randn(V), k)
    )


@pytest.mark.parametrize("p", [0, -0.1, 1.5, math.nan, math.inf, "0.9"])
def test_top_p_refuses_p_outside_zero_one(p):
    assert "p must" in clear_error(
        lambda: generation.top_p_probs(torch.randn(V), p)
    )


@pytest.mark.parametrize(
    "logits",
    [
        torch.randn(2, 3, V),  # [B, T, V]: take the last position first
        torch.arange(V),  # integers
        [0.1, 0.2],  # not a tensor
        torch.full((V,), math.nan),
        torch.empty(0),
    ],
)
def test_filters_refuse_logits_of_the_wrong_shape_or_type(logits):
    assert "logits" in clear_error(lambda: generation.top_k_probs(logits, 3))
    assert "logits" in clear_error(lambda: generation.top_p_probs(logits, 0.9))


@given(
    temperature=NUMBERS,
    top_k=st.one_of(st.integers(-2, 60), NUMBERS),
    top_p=NUMBERS,
    penalty=NUMBERS,
    max_new_tokens=st.one_of(st.integers(-2, 50), NUMBERS),
)
@PROPERTY_SETTINGS
def test_settings_config_or_one_sentence(
    temperature, top_k, top_p, penalty, max_new_tokens
):
    kind, config = clear_error_or_result(
        lambda: generation.settings_config(
            "sampling", temperature, top_k, top_p, penalty, max_new_tokens
        )
    )
    if kind == "ok":  # every value as given, and every one in range
        assert temperature > 0 and top_k >= 0 and 0 < top_p <= 1
        assert (config.temperature, config.top_k, config.top_p) == (
            temperature,
            top_k,
            top_p,
        )
        assert config.max_new_tokens == max_new_tokens >= 1


@pytest.mark.parametrize(
    "knobs, name",
    [
        (dict(temperature=0), "temperature"),
        (dict(temperature=-1.0), "temperature"),
        (dict(temperature=math.nan), "temperature"),
        (dict(top_k=-1), "top_k"),
        (dict(top_k=2.5), "top_k"),
        (dict(top_p=0.0), "top_p"),
        (dict(top_p=1.5), "top_p"),
        (dict(repetition_penalty=0), "repetition_penalty"),
        (dict(max_new_tokens=0), "max_new_tokens"),
    ],
)
def test_settings_config_names_the_bad_knob(knobs, name):
    assert name in clear_error(
        lambda: generation.settings_config("sampling", **knobs)
    )


@pytest.mark.parametrize("strategy", ["beam", "", None, ["greedy"], 1])
def test_settings_config_refuses_an_unknown_strategy(strategy):
    clear_error(lambda: generation.settings_config(strategy))


def test_generate_refuses_an_empty_prompt_or_a_wrong_config(
    tiny_gpt, tokenizer
):
    config = generation.settings_config("greedy", max_new_tokens=2)
    for prompt in ("", None, ["The river"]):
        assert "prompt" in clear_error(
            lambda: generation.generate(tiny_gpt, tokenizer, prompt, config)
        )
    assert "GenerationConfig" in clear_error(
        lambda: generation.generate(
            tiny_gpt, tokenizer, "The", {"max_new_tokens": 2}
        )
    )
    clear_error(
        lambda: generation.generate(tiny_gpt, tokenizer, "The", config, "0")
    )


@given(
    samples=st.one_of(
        JUNK,
        st.lists(st.lists(st.integers(0, 3), max_size=5), max_size=3),
        st.lists(st.text(max_size=4), max_size=3),
    ),
    n=st.one_of(st.integers(-1, 4), NUMBERS),
)
@PROPERTY_SETTINGS
def test_distinct_n_or_one_sentence(samples, n):
    kind, out = clear_error_or_result(lambda: generation.distinct_n(samples, n))
    if kind == "ok":
        assert 0.0 <= out <= 1.0


def test_distinct_n_refuses_tensors_and_a_single_string():
    # a tensor's elements hash by identity: every n-gram would look new
    clear_error(lambda: generation.distinct_n([torch.tensor([1, 1, 1])], 1))
    clear_error(lambda: generation.distinct_n("aaaa", 1))
