"""GloVe against PPMI + truncated SVD on the same co-occurrence counts (chapter
4, 02_glove).

``run(mode)`` counts co-occurrences in the course's Wikipedia articles (window
5, 1/d weighting, words seen at least 5 times), trains GloVe (dim 50, AdaGrad,
x_max = 100 as in the paper and x_max = 10) and the PPMI + SVD baseline (dim
100), and returns one entry per GloVe model and measure: Spearman correlation on
WordSim-353 and SimLex-999 and 3CosAdd accuracy on the analogy set, each over
the items whose words are in the vocabulary, with the baseline's figure on the
same items. FAST mode uses 20 articles and 6 epochs.
"""

from __future__ import annotations

import time

from course_utils import config, data, glove
from course_utils.assets import asset_path

BASELINE = "PPMI+SVD dim 100, same counts"


def run(mode: str) -> dict:
    full = mode == "full"
    start = time.perf_counter()
    articles = data.load_wikipedia()
    n_articles = len(articles) if full else 20
    docs = [
        glove.tokenize(t) for t in articles.select(range(n_articles))["text"]
    ]
    vocab = glove.frequent_words(docs, min_count=5)
    word_to_id = {w: i for i, w in enumerate(vocab)}
    X = glove.cooccurrence_matrix(docs, vocab, window=5)
    counting_s = time.perf_counter() - start

    sets = {
        name: data.load_word_similarity(name)
        for name in ("wordsim353", "simlex999")
    }
    questions = glove.read_analogies(asset_path("word-analogies"))

    def evaluate(vectors):
        out = {}
        for name, pairs in sets.items():
            rho, used, total = glove.similarity_spearman(
                vectors, word_to_id, pairs
            )
            out[f"{name}_spearman"] = (rho, "spearman", f"{used}/{total} pairs")
        acc, used, total = glove.analogy_accuracy(
            vectors, word_to_id, questions
        )
        out["analogy_accuracy"] = (acc, "accuracy", f"{used}/{total} questions")
        return out

    t0 = time.perf_counter()
    baseline = evaluate(glove.svd_vectors(glove.ppmi(X), dim=100))
    baseline_s = time.perf_counter() - t0

    results = {}
    epochs = 25 if full else 6
    for label, x_max in (("glove", 100.0), ("glove_xmax10", 10.0)):
        t0 = time.perf_counter()
        model = glove.train_glove(X, dim=50, epochs=epochs, x_max=x_max)
        scores = evaluate(model.vectors)
        seconds = time.perf_counter() - t0 + counting_s + baseline_s
        for measure, (value, unit, coverage) in scores.items():
            results[f"{label}/{measure}"] = {
                "value": round(value, 4),
                "unit": unit,
                "baseline": BASELINE,
                "baseline_value": round(baseline[measure][0], 4),
                "seconds": round(seconds, 1),
                "coverage": coverage,
                "setting": f"{mode}: {len(docs)} articles, V={len(vocab)}, "
                f"window 5, dim 50, x_max {x_max:g}, "
                f"{epochs} epochs, final loss {model.losses[-1]:.4f}",
            }
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run("fast" if config.is_fast() else "full"), indent=2))
