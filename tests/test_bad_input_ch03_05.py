"""Bad input to chapter 3's ``course_utils.nn`` and chapter 5's
``course_utils.tokenization`` ends in one CourseError sentence or in the
documented result: never a raw torch or tokenizers traceback, a silent wrong
answer or a hang.

Property tests generate wrong types, random shapes, empty and out-of-range
values and NaN; the explicit tests are the examples issue 15 names
(``causal_mask(2.5)``, ``MultiHeadAttention("8", 2)``, attention on numpy
arrays).
"""

import math

import numpy as np
import pytest
import torch
from bad_input import PROPERTY_SETTINGS, clear_error, clear_error_or_result
from hypothesis import given
from hypothesis import strategies as st

from course_utils import nn as cnn
from course_utils import tokenization

# anything that is not an int: wrong types for every size argument
NOT_INT = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=4),
    st.lists(st.integers(0, 4), max_size=3),
    st.binary(max_size=3),
)
SIZES = st.one_of(st.integers(-3, 12), NOT_INT)
# anything that is not a tensor, numpy arrays first
NOT_TENSOR = st.one_of(
    st.builds(np.ones, st.tuples(st.integers(1, 3), st.integers(1, 3))),
    st.lists(st.floats(-1, 1), max_size=4),
    st.none(),
    st.floats(allow_nan=True),
    st.text(max_size=4),
)
# random shapes of 0 to 4 dimensions, sizes 0 to 4 (empty ones included)
SHAPES = st.lists(st.integers(0, 4), min_size=0, max_size=4)
FLOAT_OR_INT = st.sampled_from([torch.float32, torch.float64, torch.int64])


def _tensor(shape, dtype=torch.float32):
    if dtype.is_floating_point:
        return torch.randn(tuple(shape), dtype=dtype)
    return torch.randint(0, 3, tuple(shape), dtype=dtype)


# --- the examples the issue names -------------------------------------------


def test_named_examples_get_one_sentence():
    assert "int" in clear_error(lambda: cnn.causal_mask(2.5))
    assert "d_model" in clear_error(lambda: cnn.MultiHeadAttention("8", 2))
    assert "n_heads" in clear_error(lambda: cnn.MultiHeadAttention(8, 2.0))
    q = np.ones((2, 3, 4), dtype=np.float32)
    message = clear_error(lambda: cnn.scaled_dot_product_attention(q, q, q))
    assert "Tensor" in message
    mha = cnn.MultiHeadAttention(8, 2)
    assert "Tensor" in clear_error(lambda: mha(np.ones((1, 3, 8))))


def test_explicit_shape_and_type_slips():
    q = torch.randn(2, 3, 8)
    # Q/K/V last dimensions, K/V rows, batch dimensions
    clear_error(
        lambda: cnn.scaled_dot_product_attention(q, torch.randn(2, 3, 4), q)
    )
    clear_error(
        lambda: cnn.scaled_dot_product_attention(q, q, torch.randn(2, 4, 8))
    )
    clear_error(
        lambda: cnn.scaled_dot_product_attention(
            q, torch.randn(3, 3, 8), torch.randn(3, 3, 8)
        )
    )
    # integer tensors, no keys, a mask that does not broadcast or is 0/1
    clear_error(lambda: cnn.scaled_dot_product_attention(*[q.long()] * 3))
    empty = torch.randn(2, 0, 8)
    clear_error(lambda: cnn.scaled_dot_product_attention(q, empty, empty))
    clear_error(
        lambda: cnn.scaled_dot_product_attention(
            q, q, q, torch.ones(4, 4, dtype=torch.bool)
        )
    )
    clear_error(lambda: cnn.scaled_dot_product_attention(q, q, q, [[1]]))
    # d_model not divisible by n_heads; a padding mask that is not 0/1
    clear_error(lambda: cnn.MultiHeadAttention(10, 4))
    clear_error(lambda: cnn.padding_mask(torch.tensor([[1, 2, 0]])))
    clear_error(lambda: cnn.padding_mask([[1, 1, 0]]))
    # layers: wrong width, wrong attention_mask shape, wrong loader input
    block = cnn.DecoderBlock(16, 4)
    clear_error(lambda: block(torch.randn(1, 5, 12)))
    clear_error(lambda: block(torch.randn(1, 5, 16), torch.ones(1, 4)))
    clear_error(lambda: cnn.load_gpt2_block(block, torch.nn.Linear(2, 2)))
    clear_error(lambda: cnn.load_bert_layer(block, torch.nn.Linear(2, 2)))
    layer = cnn.DecoderLayer(16, 4, 32)
    x = torch.randn(2, 5, 16)
    clear_error(lambda: layer(x, torch.randn(2, 7, 12)))
    clear_error(lambda: layer(x, torch.randn(2, 7, 16), torch.ones(2, 5)))
    clear_error(lambda: cnn.load_torch_decoder_layer(layer, block))
    clear_error(lambda: cnn.EncoderLayer(16, 4, 32, dropout=1.5))
    clear_error(lambda: cnn.EncoderLayer(16, 4, 32, layer_norm_eps=math.nan))
    clear_error(lambda: cnn.PositionwiseFFN(8, 16, activation=["gelu"]))
    clear_error(lambda: cnn.sinusoidal_positional_encoding(10, 8, base=0))
    clear_error(lambda: cnn.LearnedPositionalEmbedding(4, 8)(x[..., :8]))


# --- chapter 3: properties over generated input ------------------------------


@PROPERTY_SETTINGS
@given(seq_len=SIZES)
def test_causal_mask_any_length(seq_len):
    kind, mask = clear_error_or_result(lambda: cnn.causal_mask(seq_len))
    if kind == "ok":
        assert type(seq_len) is int and seq_len >= 1
        assert torch.equal(mask, torch.ones(seq_len, seq_len).tril().bool())


@PROPERTY_SETTINGS
@given(
    shapes=st.tuples(SHAPES, SHAPES, SHAPES),
    dtype=FLOAT_OR_INT,
    mask_shape=st.one_of(st.none(), SHAPES),
)
def test_attention_any_shapes(shapes, dtype, mask_shape):
    q, k, v = (_tensor(shape, dtype) for shape in shapes)
    mask = None if mask_shape is None else torch.rand(tuple(mask_shape)) > 0.3

    kind, value = clear_error_or_result(
        lambda: cnn.scaled_dot_product_attention(q, k, v, mask)
    )
    if kind == "ok":
        out, weights = value
        batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2])
        assert q.shape[-1] == k.shape[-1] >= 1 and k.shape[-2] >= 1
        assert weights.shape[-2:] == (q.shape[-2], k.shape[-2])
        assert out.shape[-2:] == (q.shape[-2], v.shape[-1])
        assert weights.shape[:-2] == batch or mask is not None
        torch.testing.assert_close(
            weights.sum(-1), torch.ones(weights.shape[:-1], dtype=q.dtype)
        )


@PROPERTY_SETTINGS
@given(bad=NOT_TENSOR, position=st.integers(0, 3))
def test_attention_refuses_non_tensors(bad, position):
    args = [torch.randn(2, 3, 4) for _ in range(3)] + [None]
    args[position] = bad
    if position == 3 and bad is None:
        return  # mask=None is the documented default
    clear_error(lambda: cnn.scaled_dot_product_attention(*args))


@PROPERTY_SETTINGS
@given(
    values=st.lists(
        st.lists(st.integers(-1, 2), min_size=1, max_size=4),
        min_size=1,
        max_size=3,
    ),
    flat=st.booleans(),
)
def test_padding_mask_any_values(values, flat):
    width = min(len(row) for row in values)
    mask = torch.tensor([row[:width] for row in values])
    mask = mask.flatten() if flat else mask
    kind, result = clear_error_or_result(lambda: cnn.padding_mask(mask))
    if kind == "ok":
        assert mask.dim() == 2 and ((mask == 0) | (mask == 1)).all()
        assert torch.equal(result[:, 0, 0], mask.bool())


@PROPERTY_SETTINGS
@given(shape=SHAPES, n_heads=SIZES)
def test_split_heads_any_input(shape, n_heads):
    x = torch.randn(tuple(shape))
    kind, heads = clear_error_or_result(lambda: cnn.split_heads(x, n_heads))
    if kind == "ok":
        b, t, d = x.shape
        assert heads.shape == (b, n_heads, t, d // n_heads)
        assert torch.equal(cnn.merge_heads(heads), x)


@PROPERTY_SETTINGS
@given(d_model=SIZES, n_heads=SIZES, bias=st.one_of(st.booleans(), NOT_INT))
def test_multi_head_attention_any_sizes(d_model, n_heads, bias):
    kind, mha = clear_error_or_result(
        lambda: cnn.MultiHeadAttention(d_model, n_heads, bias)
    )
    if kind == "ok":
        assert d_model % n_heads == 0 and isinstance(bias, bool)
        out, _ = mha(torch.randn(1, 3, d_model))
        assert out.shape == (1, 3, d_model)


@PROPERTY_SETTINGS
@given(query=SHAPES, key=st.one_of(st.none(), SHAPES), dtype=FLOAT_OR_INT)
def test_multi_head_attention_any_inputs(query, key, dtype):
    mha = cnn.MultiHeadAttention(4, 2)
    q = _tensor(query, dtype)
    k = None if key is None else _tensor(key, dtype)
    kind, value = clear_error_or_result(lambda: mha(q, k))
    if kind == "ok":
        out, weights = value
        assert out.shape == q.shape and out.shape[-1] == 4
        assert weights.shape[-2] == q.shape[1]


@PROPERTY_SETTINGS
@given(
    max_len=SIZES,
    d_model=SIZES,
    base=st.one_of(st.floats(allow_nan=True), st.integers(-2, 5), NOT_INT),
)
def test_sinusoidal_any_arguments(max_len, d_model, base):
    kind, pe = clear_error_or_result(
        lambda: cnn.sinusoidal_positional_encoding(max_len, d_model, base)
    )
    if kind == "ok":
        assert pe.shape == (max_len, d_model) and torch.isfinite(pe).all()
        assert d_model % 2 == 0 and base > 1


@PROPERTY_SETTINGS
@given(
    d_model=SIZES,
    d_ff=SIZES,
    activation=st.one_of(st.sampled_from(["gelu", "relu", "swish"]), NOT_INT),
)
def test_ffn_any_arguments(d_model, d_ff, activation):
    kind, ffn = clear_error_or_result(
        lambda: cnn.PositionwiseFFN(d_model, d_ff, activation)
    )
    if kind == "ok":
        assert activation in cnn.ACTIVATIONS
        assert ffn(torch.randn(2, d_model)).shape == (2, d_model)


@PROPERTY_SETTINGS
@given(
    x_shape=SHAPES,
    mask_shape=st.one_of(st.none(), SHAPES),
    which=st.sampled_from(["encoder", "decoder", "seq2seq", "positions"]),
)
def test_layers_any_input(x_shape, mask_shape, which):
    torch.manual_seed(0)
    x = torch.randn(tuple(x_shape))
    mask = (
        None if mask_shape is None else torch.randint(0, 2, tuple(mask_shape))
    )
    layer = {
        "encoder": lambda: cnn.EncoderLayer(4, 2, 8),
        "decoder": lambda: cnn.DecoderBlock(4, 2),
        "seq2seq": lambda: cnn.DecoderLayer(4, 2, 8),
        "positions": lambda: cnn.LearnedPositionalEmbedding(3, 4),
    }[which]().eval()
    if which == "encoder":
        mask = None if mask is None else mask.bool()
        call = lambda: layer(x, mask)  # noqa: E731
    elif which == "seq2seq":
        call = lambda: layer(x, x, mask)  # noqa: E731
    elif which == "decoder":
        call = lambda: layer(x, mask)  # noqa: E731
    else:
        call = lambda: layer(x)  # noqa: E731
    kind, out = clear_error_or_result(call)
    if kind == "ok":
        assert out.shape == x.shape and x.shape[-1] == 4


# --- chapter 5: tokenization --------------------------------------------------


@pytest.fixture(scope="module")
def char_tokenizer():
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, "a": 1, "b": 2, "c": 3}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Split(Regex("."), behavior="isolated"),
        ]
    )
    return tok


# letters the character tokenizer knows (a, b), one it does not (x), and the
# white space that Python's str.split and the Rust pre-tokenizer both split on
LETTERS = "abx \t\n"
TEXTS = st.one_of(
    st.text(LETTERS, max_size=8),
    st.lists(st.text(LETTERS, max_size=6), max_size=3),
    st.lists(
        st.one_of(st.text(LETTERS, max_size=3), st.integers()), max_size=3
    ),
    st.none(),
    st.integers(),
    st.binary(max_size=4),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


def test_named_tokenization_slips(char_tokenizer):
    clear_error(lambda: tokenization.fertility(len, "a b"))  # not a tokenizer
    clear_error(lambda: tokenization.unk_rate(None, "a b"))
    clear_error(lambda: tokenization.fertility(char_tokenizer, None))
    clear_error(lambda: tokenization.count_units("a b", unit=["word"]))
    clear_error(lambda: tokenization.gpt2_tokenizer(use_hub="no"))
    clear_error(lambda: tokenization.learn_bpe(["low", "lower"], 3))
    clear_error(lambda: tokenization.learn_bpe({"low": 5}, 2.0))
    clear_error(lambda: tokenization.learn_bpe({"low": 0}, 2))
    clear_error(lambda: tokenization.train_library_bpe({"lo w": 2}, 2))
    clear_error(lambda: tokenization.merge_pair(list("abc"), "ab"))
    clear_error(lambda: tokenization.most_frequent_pair({}, {}))
    clear_error(lambda: tokenization.pair_counts({"ab": ["a", "b"]}, {}))
    clear_error(lambda: tokenization.bpe_merges(char_tokenizer))  # WordLevel
    clear_error(lambda: tokenization.bpe_merges("not a tokenizer"))


@PROPERTY_SETTINGS
@given(texts=TEXTS, unit=st.one_of(st.sampled_from(["word", "char"]), TEXTS))
def test_fertility_and_unk_rate_any_texts(char_tokenizer, texts, unit):
    kind, value = clear_error_or_result(
        lambda: tokenization.fertility(char_tokenizer, texts, unit)
    )
    if kind == "ok":
        as_list = [texts] if isinstance(texts, str) else list(texts)
        n_units = tokenization.count_units(as_list, unit)
        n_tokens = sum(len("".join(t.split())) for t in as_list)
        assert value == n_tokens / n_units  # one token per character
    kind, rate = clear_error_or_result(
        lambda: tokenization.unk_rate(char_tokenizer, texts)
    )
    if kind == "ok":
        assert 0.0 <= rate <= 1.0


WORD_COUNTS = st.one_of(
    st.dictionaries(
        st.text(alphabet="abcde", min_size=0, max_size=5),
        st.integers(-1, 4),
        max_size=4,
    ),
    st.dictionaries(st.text(max_size=3), st.one_of(NOT_INT), max_size=2),
    st.lists(st.text(max_size=3), max_size=3),
    st.none(),
)


@PROPERTY_SETTINGS
@given(word_counts=WORD_COUNTS, num_merges=SIZES)
def test_learn_bpe_any_corpus(word_counts, num_merges):
    kind, merges = clear_error_or_result(
        lambda: tokenization.learn_bpe(word_counts, num_merges)
    )
    if kind == "ok":
        assert type(num_merges) is int and 0 <= len(merges) <= num_merges
        assert all(n >= 1 for n in word_counts.values())
        assert all(isinstance(a, str) and isinstance(b, str) for a, b in merges)
        library = clear_error_or_result(
            lambda: tokenization.bpe_merges(
                tokenization.train_library_bpe(word_counts, num_merges)
            )
        )
        # same letters a-e, the same tie rule: the library's merges (it may
        # stop earlier, as it never merges past its vocabulary size)
        assert library[0] == "ok" and merges[: len(library[1])] == library[1]


@PROPERTY_SETTINGS
@given(
    symbols=st.lists(
        st.text(alphabet="ab", min_size=1, max_size=2), max_size=6
    ),
    pair=st.one_of(
        st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["a", "b"])),
        st.text(max_size=2),
        st.tuples(st.text(max_size=1)),
        st.none(),
    ),
)
def test_merge_pair_any_pair(symbols, pair):
    kind, merged = clear_error_or_result(
        lambda: tokenization.merge_pair(symbols, pair)
    )
    if kind == "ok":
        assert isinstance(pair, tuple) and len(pair) == 2
        assert "".join(merged) == "".join(symbols)
        assert len(merged) <= len(symbols)
