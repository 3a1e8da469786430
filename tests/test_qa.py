"""course_utils.qa (generated from chapter 8/03): the course's SQuAD-style
set (offsets, passages, split by article), the SQuAD metrics, the baselines,
features with stride and span search."""

import json

import pytest
import torch

import course_utils as cu
from course_utils import qa
from course_utils.errors import CourseError


@pytest.fixture(scope="module")
def wiki_qa():
    return qa.load_wiki_qa()


def test_splits_and_size(wiki_qa):
    assert set(wiki_qa) == {"train", "validation", "test"}
    assert sum(len(s) for s in wiki_qa.values()) >= 150
    assert (
        len(wiki_qa["train"]) > len(wiki_qa["test"]) > 0
        and len(wiki_qa["validation"]) > 0
    )


def test_every_answer_is_at_its_offset(wiki_qa):
    for split in wiki_qa.values():
        for row in split:
            for text, start in zip(
                row["answers"]["text"], row["answers"]["answer_start"]
            ):
                assert text, row["id"]
                assert row["context"][start : start + len(text)] == text, (
                    row["id"],
                    text,
                    start,
                )


def test_every_context_is_in_its_wikipedia_article(wiki_qa):
    articles = dict(
        zip(*[cu.data.load_wikipedia()[c] for c in ("title", "text")])
    )
    for split in wiki_qa.values():
        for row in split:
            assert row["title"] in articles, row["title"]
            assert row["context"] in articles[row["title"]], row["id"]


def test_split_is_by_article_and_ids_are_unique(wiki_qa):
    titles = {name: set(split["title"]) for name, split in wiki_qa.items()}
    assert not titles["train"] & titles["test"]
    assert not titles["train"] & titles["validation"]
    assert not titles["validation"] & titles["test"]
    ids = [i for split in wiki_qa.values() for i in split["id"]]
    assert len(ids) == len(set(ids))
    questions = [q for split in wiki_qa.values() for q in split["question"]]
    assert len(questions) == len(set(questions)), "a question is repeated"


def test_json_has_squad_fields():
    raw = json.loads(qa.DATA_FILE.read_text(encoding="utf-8"))
    assert {"id", "title", "context", "question", "answers", "split"} <= set(
        raw["data"][0]
    )
    assert set(raw["data"][0]["answers"]) == {"text", "answer_start"}


# --- metrics ------------------------------------------------------------


@pytest.mark.parametrize(
    "text, normalised",
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("  a  cat, an owl and THE dog ", "cat owl and dog"),
        ("U.S.-born", "usborn"),
        ("theory", "theory"),  # 'the' inside a word stays
    ],
)
def test_normalize_answer(text, normalised):
    assert qa.normalize_answer(text) == normalised


def test_exact_match_and_f1():
    assert qa.exact_match("the Moon", "Moon") == 1.0
    assert qa.exact_match("Moon landing", "Moon") == 0.0
    assert qa.exact_match("Paris", ["London", "paris."]) == 1.0
    # prediction "neil armstrong and" vs gold "neil armstrong":
    # precision 2/3, recall 1
    assert qa.f1("Neil Armstrong and", "Neil Armstrong") == pytest.approx(
        2 * (2 / 3) * 1 / (2 / 3 + 1)
    )
    assert qa.f1("Buzz", "Neil Armstrong") == 0.0
    assert qa.f1("", "Neil Armstrong") == 0.0
    assert qa.f1("c b", ["x", "b"]) == pytest.approx(
        2 * 0.5 * 1 / 1.5
    )  # best over golds


def test_squad_scores_counts_missing_predictions_as_wrong(wiki_qa):
    test = wiki_qa["test"]
    gold = {row["id"]: row["answers"]["text"][0] for row in test}
    assert qa.squad_scores(gold, test) == {"exact_match": 100.0, "f1": 100.0}
    half = dict(list(gold.items())[: len(gold) // 2])
    scores = qa.squad_scores(half, test)
    assert scores["exact_match"] == pytest.approx(100 * len(half) / len(test))


def test_bad_input_gets_a_clear_error():
    with pytest.raises(CourseError, match="expects a string"):
        qa.normalize_answer(None)
    with pytest.raises(CourseError, match="at least one gold answer"):
        qa.f1("x", [])
    with pytest.raises(CourseError, match="same length"):
        qa.best_span(torch.zeros(3), torch.zeros(4), [None, (0, 1), (1, 2)])


def test_baselines_on_a_known_row():
    import random

    row = {
        "question": "Who landed on the Moon in 1969?",
        "context": "Apollo 11 landed in 1969. Neil Armstrong walked on it.",
    }
    assert qa.first_words(row) == "Apollo 11 landed"
    # the best sentence shares "landed" and "1969"; what is left is "Apollo 11"
    assert qa.overlap_heuristic(row) == "Apollo 11"
    spans = [qa.random_span(row, random.Random(0)) for _ in range(2)]
    assert spans[0] == spans[1] and spans[0] in row["context"]


def test_answer_tokens_points_at_cls_outside_the_window():
    offsets = [(0, 0), (0, 3), (0, 0), (0, 4), (5, 9), (10, 12), (0, 0)]
    seq_ids = [None, 0, None, 1, 1, 1, None]
    assert qa.answer_tokens(offsets, seq_ids, 5, 12) == (4, 5)
    assert qa.answer_tokens(offsets, seq_ids, 20, 25) == (0, 0)


# --- features and spans -------------------------------------------------


def test_best_span_obeys_the_rules():
    offsets = [None, None, None, (0, 3), (4, 7), (8, 11), (12, 15), None]
    start = torch.tensor([9.0, 8.0, 0.0, 0.0, 1.0, 5.0, 0.0, 0.0])
    end = torch.tensor([9.0, 0.0, 8.0, 0.0, 3.0, 0.0, 2.0, 9.0])
    s, e, score = qa.best_span(start, end, offsets, max_answer_len=30)
    assert (s, e) == (5, 6) and score == pytest.approx(
        7.0
    )  # not [CLS], not the question, not end < start
    s, e, _ = qa.best_span(start, end, offsets, max_answer_len=1)
    assert e - s + 1 == 1
    assert qa.best_span(start, end, [None] * 8) is None


def test_features_with_stride_find_every_answer(wiki_qa):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(
        cu.resolve_checkpoint("all-MiniLM-L6-v2")
    )
    batch = wiki_qa["train"][:40]
    feats = qa.prepare_features(
        batch, tokenizer, max_length=96, stride=24, train=True
    )
    assert len(feats["input_ids"]) > 40  # some contexts needed several windows
    decoded_hits = set()
    for k, (s, e) in enumerate(
        zip(feats["start_positions"], feats["end_positions"])
    ):
        if s == 0:
            continue
        text = tokenizer.decode(feats["input_ids"][k][s : e + 1])
        decoded_hits.add(text)
    golds = {
        tokenizer.decode(
            tokenizer(a["text"][0], add_special_tokens=False)["input_ids"]
        )
        for a in batch["answers"]
    }
    assert (
        golds <= decoded_hits
    )  # every answer is found, token for token, in at least one window

    eval_feats = qa.prepare_features(
        batch, tokenizer, max_length=96, stride=24, train=False
    )
    # perfect logits at the gold tokens give back the gold answers after
    # post-processing
    n, seq = len(eval_feats["input_ids"]), len(eval_feats["input_ids"][0])
    start_logits, end_logits = torch.zeros(n, seq), torch.zeros(n, seq)
    for k in range(n):
        if feats["start_positions"][k]:
            start_logits[k, feats["start_positions"][k]] = 10
            end_logits[k, feats["end_positions"][k]] = 10
    rows = [dict(zip(batch, values)) for values in zip(*batch.values())]
    preds = qa.postprocess(
        rows, eval_feats, start_logits, end_logits, max_answer_len=30
    )
    assert all(preds[r["id"]] == r["answers"]["text"][0] for r in rows)
