"""course_utils.search (generated from chapter 8/04): passages with stable
ids, the course queries, sentence splitting, word scores, ranking metrics."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from course_utils import search
from course_utils.errors import CourseError


@pytest.fixture(scope="module")
def passages():
    return search.load_passages()


def test_passage_ids_are_unique_and_well_formed(passages):
    ids = passages["id"]
    assert len(ids) == len(set(ids)) > 4000
    assert set(passages["source"]) == {"wikipedia", "lee"}
    assert all("#" in pid for pid in ids)
    lengths = [len(t) for t in passages["text"]]
    # whole paragraphs are at least MIN_PARAGRAPH_CHARS; the last piece of a
    # cut paragraph may be one short sentence
    assert min(lengths) > 20 and max(lengths) <= 2 * search.MAX_PASSAGE_CHARS
    assert np.median(lengths) >= search.MIN_PARAGRAPH_CHARS


def test_passage_ids_are_stable(passages):
    by_id = dict(zip(passages["id"], passages["text"]))
    assert by_id["Abacus#8"].startswith(
        "A tablet found on the Greek island Salamis"
    )
    assert by_id["lee-004#0"].startswith(
        "Six midwives have been suspended at Wollongong Hospital"
    )
    assert search.load_passages(["lee"])["id"] == [
        p for p in passages["id"] if p.startswith("lee-")
    ]


def test_every_query_has_existing_relevant_ids(passages):
    queries = search.load_queries()
    ids = set(passages["id"])
    assert len(queries) >= 60
    assert {q["kind"] for q in queries} == {"keyword", "paraphrase"}
    for q in queries:
        assert q["query"].strip() and q["relevant"], q
        missing = [pid for pid in q["relevant"] if pid not in ids]
        assert not missing, (
            f"query {q['query']!r} names passages that do not exist: {missing}"
        )
    assert len({q["query"] for q in queries}) == len(
        queries
    )  # no duplicate queries


def test_queries_file_ships_with_the_package():
    path = Path(search.__file__).parent / "course_data" / search.QUERIES_FILE
    assert (
        json.loads(path.read_text(encoding="utf-8"))["queries"]
        == search.load_queries()
    )


def test_unknown_source_is_a_clear_error():
    with pytest.raises(CourseError, match="unknown source"):
        search.load_passages(["reddit"])


def test_split_sentences():
    text = (
        'It rained. "Really?" she asked! Then 3 dogs ran. e.g. lower case '
        "stays.\nNew line here"
    )
    assert search.split_sentences(text) == [
        "It rained.",
        '"Really?" she asked!',
        "Then 3 dogs ran. e.g. lower case stays.",
        "New line here",
    ]
    with pytest.raises(CourseError, match="expects a string"):
        search.split_sentences(["a list"])


def test_long_paragraphs_are_cut_at_sentence_boundaries():
    paragraph = " ".join(
        f"Sentence number {i} has a few words in it." for i in range(100)
    )
    pieces = search.article_passages(paragraph)
    assert len(pieces) > 1 and all(
        len(p) <= search.MAX_PASSAGE_CHARS for p in pieces
    )
    assert " ".join(pieces) == paragraph


def test_recall_and_reciprocal_rank_by_hand():
    ranking = ["a", "b", "c", "d"]
    assert search.recall_at_k_one(ranking, ["c", "z"], 3) == 0.5
    assert search.recall_at_k_one(ranking, ["c", "z"], 2) == 0.0
    assert (
        search.recall_at_k_one(ranking, ["a", "a"], 1) == 1.0
    )  # duplicates count once
    assert search.reciprocal_rank(ranking, ["c", "b"]) == 0.5
    assert search.reciprocal_rank(ranking, ["z"]) == 0.0
    rankings, relevant = [ranking, ["x", "y"]], [["b"], ["y", "w"]]
    assert search.recall_at_k(rankings, relevant, 2) == pytest.approx(
        (1 + 0.5) / 2
    )
    assert search.mean_reciprocal_rank(rankings, relevant) == pytest.approx(
        (1 / 2 + 1 / 2) / 2
    )
    assert search.evaluate_rankings(rankings, relevant, ks=(1,)) == {
        "recall@1": 0.0,
        "MRR": 0.5,
    }


def test_random_ranking_recall_matches_k_over_n():
    rng = np.random.default_rng(0)
    ids = [f"p{i}" for i in range(50)]
    rankings = search.rank_ids(rng.random((4000, 50)), ids)
    assert search.recall_at_k(rankings, [["p7"]] * 4000, 5) == pytest.approx(
        5 / 50, abs=0.015
    )


def test_rank_ids_is_stable_and_checks_shapes():
    assert search.rank_ids([[0.1, 0.5, 0.5, 0.0]], ["a", "b", "c", "d"]) == [
        ["b", "c", "a", "d"]
    ]
    assert search.rank_ids(
        [[0.1, 0.5, 0.5, 0.0]], ["a", "b", "c", "d"], k=2
    ) == [["b", "c"]]
    with pytest.raises(CourseError, match="n_passages"):
        search.rank_ids([[0.1, 0.2]], ["a", "b", "c"])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: search.recall_at_k_one(["a"], ["a"], 0), "positive integer"),
        (lambda: search.recall_at_k_one(["a"], [], 1), "at least one relevant"),
        (
            lambda: search.recall_at_k_one("abc", ["a"], 1),
            "not a single id or string",
        ),
        (
            lambda: search.recall_at_k([["a"]], [["a"], ["b"]], 1),
            "one of each per query",
        ),
        (lambda: search.mean_reciprocal_rank([], []), "no queries"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(CourseError, match=message):
        call()


def test_word_scores_prefer_the_passage_that_shares_rare_words():
    texts = [
        "The aardvark digs burrows at night.",
        "Termites build mounds of soil.",
        "Night trains run between cities.",
    ]
    analyzer = search.word_analyzer()
    for scores in (
        search.tfidf_scores(texts, ["aardvark burrows"], analyzer),
        search.bm25_scores(texts, ["aardvark burrows"], analyzer),
    ):
        assert scores.shape == (1, 3) and scores[0].argmax() == 0


def test_ranks_and_reciprocal_rank_fusion():
    scores = np.array([[0.1, 0.9, 0.5]])
    assert search.ranks_of(scores).tolist() == [[3, 1, 2]]
    fused = search.reciprocal_rank_fusion(scores, scores[:, ::-1], k=60)
    # the reversed scores [0.5, 0.9, 0.1] rank the passages 2, 1, 3
    expected = [1 / 63 + 1 / 62, 2 / 61, 1 / 62 + 1 / 63]
    assert np.allclose(fused[0], expected)


def test_solution_recall_agrees_with_the_module():
    import sys

    sys.path.insert(
        0, str(Path(__file__).resolve().parent.parent / "exercises")
    )
    from solutions.ch08b_search_and_generation import recall_at_k

    rankings, relevant = [["a", "b", "c"], ["d", "e", "f"]], [["c", "x"], ["d"]]
    for k in (1, 2, 3):
        assert math.isclose(
            recall_at_k(rankings, relevant, k),
            search.recall_at_k(rankings, relevant, k),
        )
