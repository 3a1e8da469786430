"""course_utils.finetune: splits, metrics, the polarity mapping, and the two chapter-7 recipes built in FAST mode."""
import numpy as np
import pytest
from transformers import pipeline

from course_utils import course_models, finetune
from course_utils.errors import CourseError


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("COURSE_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield finetune.tweet_splits()
    mp.undo()


def test_splits_are_disjoint_stratified_and_named(splits):
    assert set(splits) == {"train", "validation", "test"}
    assert splits["train"].features["label"].names == ["negative", "neutral", "positive"]
    texts = {name: set(part["text"]) for name, part in splits.items()}
    assert not texts["train"] & texts["test"] and not texts["train"] & texts["validation"]
    shares = {name: np.bincount(part["label"], minlength=3) / len(part) for name, part in splits.items()}
    np.testing.assert_allclose(shares["train"], shares["test"], atol=0.01)
    n = sum(len(p) for p in splits.values())
    assert abs(len(splits["test"]) / n - finetune.TEST_FRACTION) < 0.01


def test_stratified_subset_keeps_proportions(splits):
    sub = finetune.stratified_subset(splits["train"], 300)
    assert len(sub) == 300
    full = np.bincount(splits["train"]["label"]) / len(splits["train"])
    np.testing.assert_allclose(np.bincount(sub["label"]) / 300, full, atol=0.01)
    assert finetune.stratified_subset(sub, 10_000) is sub
    with pytest.raises(CourseError, match="at least 1"):
        finetune.stratified_subset(sub, 0)


def test_jsonl_round_trip(tmp_path, splits):
    part = splits["validation"].select(range(20))
    back = finetune.read_jsonl(finetune.write_jsonl(part, tmp_path / "x.jsonl"))
    assert back["text"] == part["text"] and back["label"] == part["label"]
    (tmp_path / "bad.jsonl").write_text('{"text": "hi", "label": "angry"}\n')
    with pytest.raises(CourseError, match="angry"):
        finetune.read_jsonl(tmp_path / "bad.jsonl")


def test_metrics_match_sklearn():
    from sklearn.metrics import f1_score

    y = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    m = finetune.metrics_from_predictions(y, p)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["macro_f1"] == pytest.approx(f1_score(y, p, average="macro"))
    logits = np.eye(3)[p] * 5.0
    assert finetune.compute_metrics((logits, y)) == m
    with pytest.raises(CourseError, match="same shape"):
        finetune.metrics_from_predictions(y, p[:3])


def test_polarity_mapping_ignores_neutral():
    probs = np.array([[0.2, 0.7, 0.1], [0.1, 0.6, 0.3], [0.5, 0.1, 0.4]])
    assert finetune.polarity_from_3way(probs).tolist() == [0, 1, 0]
    with pytest.raises(CourseError, match=r"\[n, 3\]"):
        finetune.polarity_from_3way(np.ones((2, 2)))


def test_settings_grow_epochs_for_small_data():
    assert finetune.settings_for(300).epochs > finetune.settings_for(3000).epochs >= finetune.settings_for(30000).epochs
    assert finetune.settings_for(300, learning_rate=1e-5).learning_rate == 1e-5


def test_zh_tokenizer_is_character_level():
    tok = finetune.train_zh_tokenizer(["这个手机很好用", "质量太差了", "很好很好"] * 5, vocab_size=200)
    pieces = tok.tokenize("手机很好")
    assert pieces == ["手", "机", "很", "好"]
    assert tok("很好")["input_ids"][0] == tok.cls_token_id


@pytest.mark.parametrize("name, texts", [
    ("tweet-classifier", ["I love this!", "worst day ever"]),
    ("zh-review-classifier", ["质量很好，非常满意", "太差了"]),
])
def test_recipe_builds_fast_and_loads_with_pipeline(name, texts, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    folder = course_models.ensure(name)
    printed = capsys.readouterr().out
    assert "train_runtime" not in printed and "'loss'" not in printed, "the Trainer printed its log dicts"
    classifier = pipeline("text-classification", model=str(folder))
    out = classifier(texts)
    names = set(classifier.model.config.id2label.values())
    assert names in ({"negative", "neutral", "positive"}, {"negative", "positive"})
    assert len(out) == 2 and all(o["label"] in names and 0 < o["score"] <= 1 for o in out)
