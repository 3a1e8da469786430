import datasets

from course_utils import data


def test_wikipedia_articles_are_clean_text():
    wiki = data.load_wikipedia()
    assert isinstance(wiki, datasets.Dataset)
    assert wiki.column_names == ["title", "text"]
    assert 95 <= wiki.num_rows <= 110
    total = sum(len(t) for t in wiki["text"])
    assert 2_500_000 < total < 3_500_000
    sample = " ".join(wiki["text"][:10])
    assert "'''" not in sample and "[[" not in sample and "{{" not in sample
    assert not any(t.lower().startswith("#redirect") for t in wiki["text"])
    assert "Anarchism" in wiki["title"]


def test_tweets_have_three_labels_no_empty_rows_and_no_duplicates():
    tweets = data.load_tweets()
    assert tweets.features["label"].names == ["negative", "neutral", "positive"]
    texts = tweets["text"]
    assert all(t.strip() for t in texts)
    assert len(set(texts)) == len(texts)
    counts = {name: 0 for name in data.TWEET_LABELS}
    for label in tweets["label"]:
        counts[data.TWEET_LABELS[label]] += 1
    assert all(c > 5000 for c in counts.values()), counts
    with_duplicates = data.load_tweets(drop_duplicates=False)
    assert with_duplicates.num_rows > tweets.num_rows


def test_word_similarity_sets():
    ws = data.load_word_similarity("wordsim353")
    sl = data.load_word_similarity("simlex999")
    assert ws.num_rows == 353 and sl.num_rows == 999
    assert all(0 <= s <= 10 for s in ws["score"])
    assert all(w == w.lower() for w in ws["word1"])


def test_movie_reviews_are_labelled_sentences():
    ds = data.load_movie_reviews()
    assert len(ds) == 200 and ds.features["label"].names == [
        "negative",
        "positive",
    ]
    assert not any(t.startswith("__label__") for t in ds["text"])
    assert 0 < sum(ds["label"]) < len(ds)


def test_lee_corpus_has_300_documents():
    ds = data.load_lee_corpus()
    assert len(ds) == 300 and all(len(t) > 50 for t in ds["text"])


def test_chinese_reviews_deduplicated_without_contradictions():
    ds = data.load_chinese_reviews()
    assert len(set(ds["text"])) == len(ds) > 15_000
    raw = data.load_chinese_reviews(drop_duplicates=False)
    assert len(raw) > 35_000
    labels = {}
    for text, label in zip(raw["text"], raw["label"]):
        labels.setdefault(text, set()).add(label)
    kept = set(ds["text"])
    assert all(len(labels[t]) == 1 for t in kept)


def test_wnut16_tags_are_bio_and_aligned():
    ds = data.load_wnut16()
    names = ds.features["ner_tags"].feature.names
    assert names[0] == "O" and len(ds) == 2394
    for row in ds.select(range(200)):
        assert len(row["tokens"]) == len(row["ner_tags"])
        for prev, tag in zip([0] + row["ner_tags"], row["ner_tags"]):
            # an I- tag continues an entity of the same type
            if names[tag].startswith("I-"):
                assert names[prev][2:] == names[tag][2:]


def test_peoples_daily_words_and_tags_align():
    ds = data.load_peoples_daily(max_sentences=500)
    assert len(ds) == 500
    assert all(len(r["tokens"]) == len(r["pos"]) for r in ds)
    tags = {t for r in ds for t in r["pos"]}
    assert {"nr", "ns", "nt"} <= tags and not any(
        "]" in t or "/" in t for t in tags
    )
