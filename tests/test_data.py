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
