"""Solutions to exercises/ch08b_search_and_generation.ipynb (for instructors;
the tests fill them into the notebook)."""


def recall_at_k(rankings, relevant, k):
    """Mean over queries of |relevant ids in the top k| / |relevant ids|.

    rankings: one ranked list of passage ids per query (best first);
    relevant: one list of relevant ids per query.
    """
    per_query = []
    for ranked, rel in zip(rankings, relevant):
        rel = set(rel)
        # only the first k results count, each id once
        hits = len(rel & set(ranked[:k]))
        # divide by the number of relevant passages, not by k
        per_query.append(hits / len(rel))
    return sum(per_query) / len(per_query)


def centroid_scores(embeddings):
    """embeddings [n, dim] (any lengths) -> [n]: cosine of each sentence
    vector with the mean of the unit vectors."""
    # every sentence counts equally
    unit = embeddings / embeddings.norm(dim=1, keepdim=True)  # [n, dim]
    centroid = unit.mean(dim=0)  # [dim]: the mean over the sentences
    return unit @ (centroid / centroid.norm())  # [n] cosines


def distinct_n(texts, n):
    """Number of distinct word n-grams divided by the total number of word
    n-grams, over all texts together."""
    grams = []
    for text in texts:
        words = text.split()
        # n-grams never cross texts
        grams.extend(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return len(set(grams)) / len(grams) if grams else 0.0
