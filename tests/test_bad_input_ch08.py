"""Bad input to the public functions that chapter 8 exports (course_utils.ner,
qa, search, summarization) ends in one CourseError sentence or a documented
result: never a raw traceback, a silent wrong answer or a hang (issue 15)."""

import math

import pytest
import torch
from bad_input import PROPERTY_SETTINGS, clear_error, clear_error_or_result
from hypothesis import given
from hypothesis import strategies as st

from course_utils import ner, qa, search, summarization

NOT_A_COUNT = st.one_of(
    st.integers(max_value=0),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.none(),
    st.booleans(),
)


# --- qa: the best span ------------------------------------------------------

LOGITS = [0.0, 1.0, 2.0, 0.5]
OFFSETS = [None, (0, 3), (4, 7), None]


@pytest.mark.parametrize("max_answer_len", [0, -3, 2.5, "30", True, None])
def test_best_span_max_answer_len_out_of_range(max_answer_len):
    message = clear_error(
        lambda: qa.best_span(LOGITS, LOGITS, OFFSETS, max_answer_len)
    )
    assert "max_answer_len" in message


@pytest.mark.parametrize(
    "start, end, offsets",
    [
        (LOGITS, LOGITS, OFFSETS[:3]),  # one offset short
        (LOGITS, LOGITS[:3], OFFSETS),  # end logits short
        (LOGITS, LOGITS, 4),  # not a list of offsets
        (LOGITS, LOGITS, "0,3 4,7"),
        (["a", "b", "c", "d"], LOGITS, OFFSETS),  # not numbers
        ([math.nan, 1.0, 2.0, 0.5], LOGITS, OFFSETS),  # NaN would win argmax
    ],
)
def test_best_span_mismatched_inputs(start, end, offsets):
    clear_error(lambda: qa.best_span(start, end, offsets))


def test_best_span_without_context_is_none():
    # documented: no valid span gives None, not an error
    assert qa.best_span(LOGITS, LOGITS, [None] * 4) is None


@pytest.mark.parametrize(
    "offsets, sequence_ids, start_char, end_char",
    [
        ([(0, 1)], [None, 1], 0, 1),  # one offset for two tokens
        ([(0, 1), (1, 2)], [0, None], 0, 1),  # no context token
        ([(0, 1), (1, 2)], [1, 1], 2, 2),  # an empty answer
        ([(0, 1), (1, 2)], [1, 1], 2, 1),  # end before start
    ],
)
def test_answer_tokens_bad_lists(offsets, sequence_ids, start_char, end_char):
    clear_error(
        lambda: qa.answer_tokens(offsets, sequence_ids, start_char, end_char)
    )


def test_postprocess_needs_one_logit_row_per_feature():
    features = {"offset_mapping": [OFFSETS], "example_id": ["q"]}
    examples = [{"id": "q", "context": "abc defg"}]
    clear_error(
        lambda: qa.postprocess(examples, features, [LOGITS] * 2, [LOGITS] * 2)
    )
    answer = qa.postprocess(examples, features, [LOGITS], [LOGITS])
    assert answer == {"q": "def"}  # characters 4 to 7


@given(
    logits=st.lists(
        st.floats(allow_nan=True, allow_infinity=False, width=32),
        min_size=0,
        max_size=6,
    ),
    offsets=st.lists(
        st.one_of(st.none(), st.just((0, 1))), min_size=0, max_size=6
    ),
    max_answer_len=st.one_of(st.integers(-2, 8), NOT_A_COUNT),
)
@PROPERTY_SETTINGS
def test_best_span_property(logits, offsets, max_answer_len):
    kind, value = clear_error_or_result(
        lambda: qa.best_span(logits, logits[::-1], offsets, max_answer_len)
    )
    if kind == "ok" and value is not None:  # a valid span, as documented
        start, end, _ = value
        assert 0 <= end - start < max_answer_len
        assert offsets[start] is not None and offsets[end] is not None


# --- ner: label alignment and the memorisation baseline --------------------


@pytest.mark.parametrize(
    "word_labels, word_ids",
    [
        ([1, 0], [None, 0, 1, 2, None]),  # three words, two labels
        ([1], [None, -1, None]),  # a negative word id
        ([1], [None, 0.0, None]),  # not an int
        ("B-person", [None, 0]),  # a string, not a list of labels
        (5, [None]),
        ([1, 0], "01"),
    ],
)
def test_align_labels_wrong_lengths(word_labels, word_ids):
    clear_error(lambda: ner.align_labels(word_labels, word_ids))


def test_align_labels_accepts_truncated_words():
    # truncation drops the last words: fewer word ids than labels is fine
    assert ner.align_labels([1, 0, 2], [None, 0, None]) == [-100, 1, -100]


@given(
    word_labels=st.lists(st.integers(0, 4), max_size=5),
    word_ids=st.lists(st.one_of(st.none(), st.integers(-2, 6)), max_size=8),
)
@PROPERTY_SETTINGS
def test_align_labels_property(word_labels, word_ids):
    kind, value = clear_error_or_result(
        lambda: ner.align_labels(word_labels, word_ids)
    )
    if kind == "ok":
        assert len(value) == len(word_ids)
        firsts = [
            w
            for i, w in enumerate(word_ids)
            if w is not None and (i == 0 or word_ids[i - 1] != w)
        ]
        assert [label for label in value if label != -100] == [
            word_labels[w] for w in firsts
        ]


@pytest.mark.parametrize(
    "sentences, tags",
    [
        ([["a", "b"]], [["O"]]),  # one tag for two words
        ([["a"], ["b"]], [["O"]]),  # one tag list for two sentences
        ("a b", ["O", "O"]),  # a string, not sentences
        ([["a"]], None),
    ],
)
def test_memorise_tags_mismatched(sentences, tags):
    clear_error(lambda: ner.memorise_tags(sentences, tags))


def test_to_tag_sequences_shapes():
    names = ["O", "B-person", "I-person"]
    logits = torch.zeros(1, 4, 3)
    clear_error(lambda: ner.to_tag_sequences(logits, [[0, 1, 2]], names))
    clear_error(lambda: ner.to_tag_sequences(logits, [[0] * 4], names[:2]))


def test_split_wnut_seed():
    clear_error(lambda: ner.split_wnut(None, seed="0"))
    clear_error(lambda: ner.split_wnut(None, seed=-1))


# --- search: metrics, corpus, queries ---------------------------------------


@given(k=NOT_A_COUNT)
@PROPERTY_SETTINGS
def test_recall_at_k_with_k_below_one(k):
    message = clear_error(lambda: search.recall_at_k([["a"]], [["a"]], k))
    assert "k must be" in message


ID_LISTS = st.one_of(
    st.lists(st.sampled_from("abcd"), max_size=4),
    st.text(max_size=3),
    st.integers(),
    st.none(),
)


@given(
    rankings=st.one_of(st.lists(ID_LISTS, max_size=3), ID_LISTS),
    relevant=st.one_of(st.lists(ID_LISTS, max_size=3), ID_LISTS),
    k=st.one_of(st.integers(-1, 5), NOT_A_COUNT),
)
@PROPERTY_SETTINGS
def test_ranking_metrics_property(rankings, relevant, k):
    for metric in (
        lambda: search.recall_at_k(rankings, relevant, k),
        lambda: search.mean_reciprocal_rank(rankings, relevant),
    ):
        kind, value = clear_error_or_result(metric)
        if kind == "ok":
            assert 0.0 <= value <= 1.0


@pytest.fixture(scope="module")
def analyzer():
    return search.word_analyzer()


@pytest.mark.parametrize("score", [search.bm25_scores, search.tfidf_scores])
@pytest.mark.parametrize(
    "texts, queries",
    [
        ([], ["cats"]),  # an empty corpus
        (["the", "of and"], ["cats"]),  # no word left to index
        (["a text about cats"], "cats"),  # the query is not in a list
        (["a text about cats"], [3]),  # a query that is not a string
        (["a text about cats"], []),
        ("a text about cats", ["cats"]),
    ],
)
def test_word_scores_bad_corpus_or_queries(score, texts, queries, analyzer):
    clear_error(lambda: score(texts, queries, analyzer))


def test_rank_ids_and_fusion_bad_input():
    clear_error(lambda: search.rank_ids([["x", "y"]], ["a", "b"]))
    clear_error(lambda: search.rank_ids([[1.0, 2.0]], ["a"]))
    clear_error(lambda: search.rank_ids([[1.0, 2.0]], ["a", "b"], k=0))
    clear_error(lambda: search.reciprocal_rank_fusion())
    clear_error(
        lambda: search.reciprocal_rank_fusion([[1.0, 2.0]], [[1.0, 2.0, 3.0]])
    )
    clear_error(lambda: search.reciprocal_rank_fusion([[1.0]], k=-1))
    clear_error(lambda: search.ranks_of([1.0, 2.0]))


def test_passage_functions_need_text():
    clear_error(lambda: search.load_passages("lee"))
    clear_error(lambda: search.load_passages(["news"]))
    clear_error(lambda: search.cut_paragraph(5))
    clear_error(lambda: search.cut_paragraph("A. B.", max_chars=0))
    clear_error(lambda: search.article_passages(None))
    clear_error(lambda: search.split_sentences(["a"]))


# --- summarization: ROUGE and centrality ------------------------------------


@pytest.mark.parametrize(
    "reference, summary",
    [("", "a summary"), ("a reference", ""), ("   ", "x"), ("...", "x")],
)
def test_rouge_on_empty_strings(reference, summary):
    message = clear_error(lambda: summarization.rouge_f1(reference, summary))
    assert "no word" in message


def test_rouge_needs_strings():
    clear_error(lambda: summarization.rouge_f1(None, "x"))
    clear_error(lambda: summarization.rouge_f1("x", ["x"]))


@given(reference=st.text(max_size=20), summary=st.text(max_size=20))
@PROPERTY_SETTINGS
def test_rouge_property(reference, summary):
    kind, value = clear_error_or_result(
        lambda: summarization.rouge_f1(reference, summary)
    )
    if kind == "ok":
        assert set(value) == {"rouge1", "rouge2", "rougeL"}
        assert all(0.0 <= v <= 1.0 for v in value.values())


def test_centrality_bad_embeddings():
    unit = torch.nn.functional.normalize(torch.ones(3, 4), dim=1)
    for bad in (torch.empty(0, 4), torch.ones(4), [[1.0, 0.0]], None):
        clear_error(lambda: summarization.centroid_scores(bad))
        clear_error(lambda: summarization.textrank_scores(bad))
    clear_error(lambda: summarization.textrank_scores(unit, d=1.5))
    clear_error(lambda: summarization.textrank_scores(unit, d="0.85"))
    clear_error(lambda: summarization.textrank_scores(unit, iterations=0))


def test_lead_and_body_need_text():
    clear_error(lambda: summarization.lead_and_body(None))
    clear_error(lambda: summarization.is_heading(3))
