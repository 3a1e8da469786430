"""Bad input to chapter 7's public functions (tweet_data, classification,
finetuning, zh_reviews) ends in one CourseError sentence, never a raw
traceback, a silent wrong answer or a hang (issue 15, section 3)."""

import datasets
import numpy as np
import pytest
from bad_input import PROPERTY_SETTINGS, clear_error, clear_error_or_result
from hypothesis import given
from hypothesis import strategies as st

from course_utils import classification, finetuning, tweet_data, zh_reviews
from course_utils.finetuning import FinetuneSettings

LABELS = tweet_data.LABELS


def labelled(texts, labels, names=LABELS):
    """A Dataset of texts with a ClassLabel ``label`` column."""
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=list(names)),
        }
    )
    return datasets.Dataset.from_dict(
        {"text": texts, "label": labels}, features=features
    )


@pytest.fixture(scope="module")
def tiny():
    """Twelve tweets, four per class."""
    texts = [f"tweet number {i}" for i in range(12)]
    return labelled(texts, [i % 3 for i in range(12)])


# --- tweet_data ---------------------------------------------------------


@pytest.mark.parametrize(
    "texts", ["one string", None, 5, [1, 2], ["ok", None], b"bytes"]
)
def test_text_list_refuses_non_lists_of_strings(texts):
    assert "texts" in clear_error(lambda: tweet_data.text_list(texts))


@pytest.mark.parametrize(
    "labels, num_labels",
    [([0.5, 1.0], None), ([[0, 1]], None), (["a"], None), ([0, 3], 3)],
)
def test_label_array_refuses_non_ids(labels, num_labels):
    clear_error(lambda: tweet_data.label_array(labels, num_labels=num_labels))


def test_label_out_of_range_names_the_range():
    message = clear_error(lambda: tweet_data.label_array([-1, 2], "y", 3))
    assert "outside 0..2" in message


def test_read_jsonl_suggests_the_close_label(tmp_path):
    path = tmp_path / "typo.jsonl"
    path.write_text('{"text": "so happy", "label": "postive"}\n')
    message = clear_error(lambda: tweet_data.read_jsonl(path))
    assert "did you mean 'positive'" in message
    clear_error(lambda: tweet_data.read_jsonl(tmp_path / "missing.jsonl"))


def test_write_jsonl_needs_a_labelled_dataset(tmp_path, tiny):
    plain = datasets.Dataset.from_dict({"text": ["a"], "label": [0]})
    clear_error(lambda: tweet_data.write_jsonl(plain, tmp_path / "x.jsonl"))
    clear_error(lambda: tweet_data.write_jsonl(["a"], tmp_path / "x.jsonl"))


@pytest.mark.parametrize("n", [0, -3, "10", 2.5, True, None])
def test_stratified_subset_refuses_bad_sizes(tiny, n):
    clear_error(lambda: tweet_data.stratified_subset(tiny, n))


def test_stratified_subset_needs_a_dataset(tiny):
    clear_error(lambda: tweet_data.stratified_subset(list(tiny["text"]), 3))
    # two rows cannot hold one of each of three classes
    clear_error(lambda: tweet_data.stratified_subset(tiny, 2))


@pytest.mark.parametrize(
    "shares", [(1.5, 0.1), (0.6, 0.5), (0, 0.1), ("0.1", 0.1)]
)
def test_stratified_splits_refuses_bad_shares(tiny, shares):
    clear_error(lambda: tweet_data.stratified_splits(tiny, *shares))


def test_cached_splits_refuses_paths_and_non_functions():
    clear_error(lambda: tweet_data.cached_splits("../up", dict, LABELS))
    clear_error(lambda: tweet_data.cached_splits("ok", "make", LABELS))


@given(n=st.one_of(st.integers(-5, 30), st.floats(), st.text(max_size=3)))
@PROPERTY_SETTINGS
def test_stratified_subset_property(tiny, n):
    kind, value = clear_error_or_result(
        lambda: tweet_data.stratified_subset(tiny, n)
    )
    if kind == "ok":  # documented: n rows (all when n >= len), class mix kept
        assert len(value) == min(n, len(tiny))
        assert set(value["label"]) == {0, 1, 2}


# --- classification -----------------------------------------------------


@pytest.mark.parametrize(
    "labels, predictions",
    [
        ([], []),
        ([0, 1], [0]),
        ([0.5], [1]),
        ([[0]], [[0]]),
        (["neg"], ["neg"]),
        ([0, np.nan], [0, 1]),
    ],
)
def test_metrics_refuse_bad_predictions(labels, predictions):
    clear_error(
        lambda: classification.metrics_from_predictions(labels, predictions)
    )


@given(
    labels=st.lists(st.integers(0, 2), max_size=8),
    predictions=st.lists(
        st.one_of(st.integers(-1, 3), st.floats(), st.none()), max_size=8
    ),
)
@PROPERTY_SETTINGS
def test_metrics_property(labels, predictions):
    from sklearn.metrics import f1_score

    kind, value = clear_error_or_result(
        lambda: classification.metrics_from_predictions(labels, predictions)
    )
    if kind == "ok":  # documented: scikit-learn's macro-F1
        expected = f1_score(labels, predictions, average="macro")
        assert value["macro_f1"] == pytest.approx(expected)


@pytest.mark.parametrize(
    "eval_pred", [5, (np.zeros(3), [0, 1, 2]), (np.zeros((2, 3)),)]
)
def test_compute_metrics_needs_logits_and_labels(eval_pred):
    clear_error(lambda: classification.compute_metrics(eval_pred))


@pytest.mark.parametrize(
    "texts, labels, C",
    [
        ("a text", [0], 2.0),
        (["a", "b"], [0], 2.0),
        (["a", "b"], [0, 0], 2.0),
        (["a", "b"], [0, 1], -1.0),
        (["a", "b"], [0.5, 1.5], 2.0),
    ],
)
def test_tfidf_baseline_refuses_bad_data(texts, labels, C):
    clear_error(lambda: classification.tfidf_baseline(texts, labels, C=C))


def test_char_ngram_baseline_refuses_one_class():
    clear_error(lambda: zh_reviews.char_ngram_baseline(["好", "差"], [1, 1]))


@pytest.mark.parametrize(
    "probs",
    [np.ones((2, 2)), [[np.nan, 0.2, 0.3]], [["a", "b", "c"]], np.ones(3)],
)
def test_polarity_refuses_bad_probabilities(probs):
    clear_error(lambda: classification.polarity_from_3way(probs))


@given(
    probs=st.lists(
        st.lists(st.floats(), min_size=1, max_size=4), min_size=1, max_size=4
    )
)
@PROPERTY_SETTINGS
def test_polarity_property(probs):
    kind, value = clear_error_or_result(
        lambda: classification.polarity_from_3way(probs)
    )
    if kind == "ok":  # documented: 1 where P(positive) > P(negative)
        array = np.asarray(probs)
        assert (
            value.tolist() == (array[:, 2] > array[:, 0]).astype(int).tolist()
        )


def test_linear_probe_refuses_mismatched_features():
    x, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    clear_error(lambda: classification.linear_probe(x, y[:3], x, y))
    clear_error(lambda: classification.linear_probe(x[0], y, x, y))
    clear_error(lambda: classification.linear_probe(x, y, x, y, Cs=()))


def test_predict_proba_and_embeddings_refuse_strings_and_non_models():
    clear_error(lambda: classification.predict_proba(None, None, ["a"]))
    clear_error(lambda: classification.predict_proba(None, None, "one text"))
    clear_error(
        lambda: classification.sentence_embeddings(["a"], None, object())
    )
    batches = classification.length_sorted_batches
    clear_error(lambda: list(batches(["a"], None, 0, 64)))
    clear_error(lambda: list(batches("a text", None, 8, 64)))


# --- finetuning ---------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("learning_rate", -1e-4),
        ("learning_rate", float("nan")),
        ("epochs", 0),
        ("batch_size", "32"),
        ("batch_size", 0),
        ("warmup_ratio", 1.5),
        ("weight_decay", -0.1),
        ("dropout", 1.0),
        ("max_seconds", 0),
        ("seed", 1.5),
        ("max_length", True),
    ],
)
def test_settings_refuse_unusable_values(field, value):
    clear_error(lambda: FinetuneSettings(**{field: value}))


@given(
    lr=st.one_of(st.floats(), st.integers(-2, 2), st.text(max_size=2)),
    batch=st.one_of(st.integers(-2, 64), st.floats(), st.booleans()),
)
@PROPERTY_SETTINGS
def test_settings_property(lr, batch):
    kind, value = clear_error_or_result(
        lambda: FinetuneSettings(learning_rate=lr, batch_size=batch)
    )
    if kind == "ok":
        assert value.learning_rate > 0 and value.batch_size >= 1


def test_settings_for_suggests_the_field():
    message = clear_error(
        lambda: finetuning.settings_for(300, learnig_rate=1e-4)
    )
    assert "did you mean 'learning_rate'" in message
    clear_error(lambda: finetuning.settings_for(0))
    clear_error(lambda: finetuning.settings_for("300"))


def test_finetune_refuses_bad_data_before_loading_anything(tiny, tmp_path):
    settings = FinetuneSettings(max_steps=1)
    out_of_range = labelled(["a", "b"], [0, 4], names=[*LABELS, "x", "y"])

    def run(train, validation=tiny, s=settings, checkpoint="any"):
        return finetuning.finetune(train, validation, s, checkpoint, tmp_path)

    assert "outside 0..2" in clear_error(lambda: run(out_of_range))
    clear_error(lambda: run(tiny.select([])))
    clear_error(lambda: run(list(tiny["text"])))
    clear_error(lambda: run(tiny, validation=None))
    clear_error(lambda: run(tiny, s={"learning_rate": 1e-4}))
    clear_error(lambda: run(tiny, checkpoint=123))


def test_make_classifier_and_tokenize_guards(tiny):
    settings = FinetuneSettings()
    clear_error(lambda: finetuning.make_classifier(123, settings))
    clear_error(lambda: finetuning.make_classifier("x", "settings"))
    clear_error(lambda: finetuning.make_classifier("x", settings, 1))
    clear_error(lambda: finetuning.make_classifier("x", settings, 2))
    clear_error(lambda: finetuning.tokenize(tiny, None, max_length=0))
    clear_error(lambda: finetuning.tokenize(["a"], None))


def test_course_model_recipes_check_their_arguments(tmp_path):
    clear_error(lambda: finetuning.tweet_classifier_setup("yes"))
    clear_error(lambda: finetuning.build_tweet_classifier(123, True))
    clear_error(lambda: zh_reviews.build_zh_review_classifier(None, True))
    clear_error(lambda: zh_reviews.zh_splits("fast"))


# --- zh_reviews ---------------------------------------------------------


@pytest.mark.parametrize(
    "texts, vocab_size",
    [("一个字符串", 100), ([], 100), (["好"], 5), (["好"], "100")],
)
def test_zh_tokenizer_refuses_bad_input(texts, vocab_size):
    clear_error(lambda: zh_reviews.train_zh_tokenizer(texts, vocab_size))


def test_zh_classifier_and_training_guards(tmp_path):
    clear_error(lambda: zh_reviews.zh_classifier(None))
    clear_error(lambda: zh_reviews.zh_classifier(None, seed="0"))
    clear_error(lambda: zh_reviews.train_zh_classifier({}, tmp_path))
    clear_error(lambda: zh_reviews.train_zh_classifier(None, tmp_path))
