"""Chapter 8, second half: semantic search, extractive summarization and a
tiny seq2seq model, in full mode.

``run(mode)`` measures, with the same settings as the notebooks' full mode:

* search (04_semantic_search) over the WHOLE collection (every Wikipedia and
  Lee passage, not the notebook's subset): recall@10 and MRR of dense
  retrieval (MiniLM, mean pooling, 128 tokens), BM25, TF-IDF, reciprocal-rank
  fusion and a random ranking, on the 68 course queries, with the functions
  that page exports to ``course_utils.search``;
* summarization and seq2seq: notebook 06_summarization_and_seq2seq is run in
  full mode and its own figures are read from the kernel
  (``notebook_values``): ROUGE-1/2/L F1 of centroid and TextRank extracts
  against the Wikipedia leads of 30 articles, with the random-sentence and
  lead-k baselines, and exact match of the 2+2-layer BART on 1,000 held-out
  numbers (greedy and beam 4), against word-by-word lookup.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import notebook_values  # benchmarks/, on sys.path when benchmarks/run.py runs
from course_utils import config, embeddings, search
from course_utils.assets import resolve_checkpoint


def _entry(value, unit, baseline, baseline_value, seconds, setting):
    return {
        "value": round(float(value), 4),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": round(float(baseline_value), 4),
        "seconds": round(seconds, 1),
        "setting": setting,
    }


def bench_search(tokenizer, model) -> dict:
    start = time.perf_counter()
    passages = search.load_passages()
    queries = search.load_queries()
    ids, texts = passages["id"], passages["text"]
    qtexts = [q["query"] for q in queries]
    relevant = [q["relevant"] for q in queries]
    P = embeddings.encode(
        texts, tokenizer, model, batch_size=64, max_length=128
    )
    Q = embeddings.encode(qtexts, tokenizer, model, max_length=128)
    analyzer = search.word_analyzer()
    scores = {
        "dense": (Q @ P.T).numpy(),
        "bm25": search.bm25_scores(texts, qtexts, analyzer, k1=1.5, b=0.75),
        "tfidf": search.tfidf_scores(texts, qtexts, analyzer),
        "random": np.random.default_rng(0).random((len(queries), len(ids))),
    }
    scores["hybrid"] = search.reciprocal_rank_fusion(
        scores["bm25"], scores["dense"], k=60
    )
    seconds = time.perf_counter() - start
    results = {}
    setting = (
        f"full collection: {len(ids)} passages, {len(queries)} queries, "
        "MiniLM 128 tokens, BM25 k1=1.5 b=0.75"
    )
    metrics = {
        name: search.evaluate_rankings(
            search.rank_ids(s, ids, k=len(ids)), relevant, ks=(10,)
        )
        for name, s in scores.items()
    }
    kinds = {
        kind: [i for i, q in enumerate(queries) if q["kind"] == kind]
        for kind in ("keyword", "paraphrase")
    }
    for name in ("dense", "tfidf", "hybrid", "random"):
        for metric in ("recall@10", "MRR"):
            results[f"ch08/search_{metric}_{name}"] = _entry(
                metrics[name][metric],
                metric,
                "BM25, same queries",
                metrics["bm25"][metric],
                seconds,
                setting,
            )
    for kind, sel in kinds.items():
        rel = [relevant[i] for i in sel]
        rank_base = search.rank_ids(scores["random"][sel], ids)
        base = search.mean_reciprocal_rank(rank_base, rel)
        for name in ("dense", "bm25"):
            rank = search.rank_ids(scores[name][sel], ids)
            mrr = search.mean_reciprocal_rank(rank, rel)
            results[f"ch08/search_MRR_{kind}_{name}"] = _entry(
                mrr,
                "MRR",
                "random ranking",
                base,
                seconds,
                f"{setting}; {len(sel)} {kind} queries",
            )
    return results


NOTEBOOK = (
    Path(__file__).resolve().parent.parent
    / "chapters/08_applications/06_summarization_and_seq2seq.ipynb"
)
FIGURES = """{"rouge": rouge.to_dict(orient="index"),
 "accuracy": {k: float(v) for k, v in accuracy.items()},
 "articles": len(docs), "train_numbers": len(train_numbers),
 "epochs": epochs, "steps": total_steps}"""


def bench_summarization_and_seq2seq(mode: str) -> dict:
    """ROUGE of the extractive summarizers and exact match of the tiny BART,
    read from notebook 06 run in ``mode``."""
    seconds, fig = notebook_values.execute(NOTEBOOK, mode, FIGURES)
    setting = (
        f"notebook 06 in {mode} mode: {fig['articles']} Wikipedia articles, "
        "lead as reference, k = min(lead sentences, 5), body capped at 150 "
        "sentences"
    )
    results = {}
    names = {
        "centroid": "centroid (MiniLM)",
        "textrank": "TextRank (MiniLM)",
        "lead": "lead-k of body",
    }
    for name, row in names.items():
        for metric in ("rouge1", "rouge2", "rougeL"):
            results[f"ch08/summarization_{metric}_{name}"] = _entry(
                fig["rouge"][row][metric],
                f"{metric} F1",
                "random k sentences",
                fig["rouge"]["random"][metric],
                seconds,
                setting,
            )
    setting = (
        f"notebook 06 in {mode} mode: BART 2+2 layers, d_model 64, "
        f"{fig['train_numbers']} training numbers, {fig['epochs']} epochs x "
        f"batch 64 ({fig['steps']} steps), 1000 held-out numbers 0-9999"
    )
    for key, name in (
        ("greedy", "tiny BART, greedy"),
        ("beam4", "tiny BART, beam 4"),
    ):
        results[f"ch08/seq2seq_exact_match_{key}"] = _entry(
            fig["accuracy"][name],
            "exact match",
            "word-by-word lookup",
            fig["accuracy"]["word-by-word lookup"],
            seconds,
            setting,
        )
    return results


def run(mode: str) -> dict:
    from transformers import AutoModel, AutoTokenizer

    checkpoint = resolve_checkpoint("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModel.from_pretrained(checkpoint).eval()
    results = bench_summarization_and_seq2seq(mode)
    results.update(bench_search(tokenizer, model))
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run("fast" if config.is_fast() else "full"), indent=2))
