"""Chapter 7's generated modules: tweet_data, classification, finetuning and
zh_reviews (splits, metrics, the polarity mapping, the settings rule, and the
two course models built in FAST mode, leaving nothing in the temp folder)."""

import tempfile

import numpy as np
import pytest
from transformers import pipeline

from course_utils import classification, finetuning, tweet_data, zh_reviews
from course_utils.errors import CourseError


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("COURSE_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield tweet_data.tweet_splits()
    mp.undo()


def test_splits_are_disjoint_stratified_and_named(splits):
    assert set(splits) == {"train", "validation", "test"}
    names = splits["train"].features["label"].names
    assert names == ["negative", "neutral", "positive"]
    texts = {name: set(part["text"]) for name, part in splits.items()}
    assert not texts["train"] & texts["test"]
    assert not texts["train"] & texts["validation"]
    shares = {
        name: np.bincount(part["label"], minlength=3) / len(part)
        for name, part in splits.items()
    }
    np.testing.assert_allclose(shares["train"], shares["test"], atol=0.01)
    n = sum(len(p) for p in splits.values())
    test_share = len(splits["test"]) / n
    assert abs(test_share - tweet_data.TEST_FRACTION) < 0.01


def test_stratified_subset_keeps_proportions(splits):
    sub = tweet_data.stratified_subset(splits["train"], 300)
    assert len(sub) == 300
    full = np.bincount(splits["train"]["label"]) / len(splits["train"])
    np.testing.assert_allclose(np.bincount(sub["label"]) / 300, full, atol=0.01)
    assert tweet_data.stratified_subset(sub, 10_000) is sub
    with pytest.raises(CourseError, match="at least 1"):
        tweet_data.stratified_subset(sub, 0)


def test_jsonl_round_trip(tmp_path, splits):
    part = splits["validation"].select(range(20))
    path = tweet_data.write_jsonl(part, tmp_path / "x.jsonl")
    back = tweet_data.read_jsonl(path)
    assert back["text"] == part["text"] and back["label"] == part["label"]
    (tmp_path / "bad.jsonl").write_text('{"text": "hi", "label": "angry"}\n')
    with pytest.raises(CourseError, match="angry"):
        tweet_data.read_jsonl(tmp_path / "bad.jsonl")


def test_metrics_match_sklearn():
    from sklearn.metrics import f1_score

    y = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    m = classification.metrics_from_predictions(y, p)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["macro_f1"] == pytest.approx(f1_score(y, p, average="macro"))
    logits = np.eye(3)[p] * 5.0
    assert classification.compute_metrics((logits, y)) == m
    with pytest.raises(CourseError, match="same shape"):
        classification.metrics_from_predictions(y, p[:3])


def test_polarity_mapping_ignores_neutral():
    probs = np.array([[0.2, 0.7, 0.1], [0.1, 0.6, 0.3], [0.5, 0.1, 0.4]])
    assert classification.polarity_from_3way(probs).tolist() == [0, 1, 0]
    with pytest.raises(CourseError, match=r"\[n, 3\]"):
        classification.polarity_from_3way(np.ones((2, 2)))


def test_linear_probe_chooses_c_on_validation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    y = (x[:, 0] > 0).astype(int)
    probe = classification.linear_probe(x[:40], y[:40], x[40:], y[40:])
    assert probe.C in classification.PROBE_CS
    assert (probe.predict(x[40:]) == y[40:]).mean() > 0.8


def test_settings_grow_epochs_for_small_data():
    epochs = [finetuning.settings_for(n).epochs for n in (300, 3000, 30000)]
    assert epochs[0] > epochs[1] >= epochs[2]
    lr = finetuning.settings_for(300, learning_rate=1e-5).learning_rate
    assert lr == 1e-5


def test_tweet_classifier_settings():
    full, fast = (
        finetuning.TWEET_CLASSIFIER_FULL,
        finetuning.TWEET_CLASSIFIER_FAST,
    )
    assert (full.max_steps, full.batch_size, full.learning_rate) == (
        100,
        32,
        1e-4,
    )
    assert (fast.max_steps, fast.batch_size) == (6, 16)
    assert not full.eval_every_epoch and full.warmup_ratio == 0.06


def test_zh_tokenizer_is_character_level():
    texts = ["这个手机很好用", "质量太差了", "很好很好"] * 5
    tok = zh_reviews.train_zh_tokenizer(texts, vocab_size=200)
    pieces = tok.tokenize("手机很好")
    assert pieces == ["手", "机", "很", "好"]
    assert tok("很好")["input_ids"][0] == tok.cls_token_id


@pytest.mark.parametrize(
    "build, texts",
    [
        (finetuning.build_tweet_classifier, ["I love this!", "worst day ever"]),
        (
            zh_reviews.build_zh_review_classifier,
            ["质量很好，非常满意", "太差了"],
        ),
    ],
)
def test_model_builds_fast_and_loads_with_pipeline(
    build, texts, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    # a fresh temp folder: the Trainer's output_dir must not outlive the run
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    folder = tmp_path / "model"
    build(folder, True)
    left_behind = sorted(p.name for p in scratch.iterdir())
    assert not left_behind, f"the build left {left_behind} in the temp folder"
    printed = capsys.readouterr().out
    assert "train_runtime" not in printed and "'loss'" not in printed, (
        "the Trainer printed its log dicts"
    )
    classifier = pipeline("text-classification", model=str(folder))
    out = classifier(texts)
    names = set(classifier.model.config.id2label.values())
    expected = ({"negative", "neutral", "positive"}, {"negative", "positive"})
    assert names in expected
    assert len(out) == 2
    assert all(o["label"] in names and 0 < o["score"] <= 1 for o in out)
