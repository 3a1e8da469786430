"""Transfer learning measured on the 3-way tweets (chapter 7,
04_transfer_measured): a learning curve.

For each labelled-set size (100, 300, 1,000, 3,000 and the full training split,
stratified subsets of the chapter's training split) ``run(mode)`` trains and
scores on the same test split (macro-F1 and accuracy):

* TF-IDF + logistic regression (``classification.tfidf_baseline``);
* logistic regression on frozen MiniLM sentence embeddings (mean pooled; C
  chosen on validation, ``classification.linear_probe``);
* the packaged MiniLM encoder fine-tuned with ``Trainer``
  (``finetuning.settings_for(n)``: many epochs, lr 1e-4 and warm-up for small
  sets; evaluation on a 600-tweet validation subset each epoch, best epoch
  kept; the full-data run is capped at 5 minutes of training, the
  5-CPU-minute budget of the target);
* the same architecture from random initialisation with the same settings;
* at 300 labels also a "naive" fine-tune (3 epochs, lr 2e-5, no warm-up) to
  show why the settings matter.

Every run is an entry with its training time. Then an out-of-domain test: the
full-data fine-tuned model and TF-IDF + LR on gensim's 200 movie-review
sentences, 3-way probabilities mapped with P(positive) > P(negative).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import replace

import numpy as np

from course_utils import config, data
from course_utils.assets import resolve_checkpoint
from course_utils.classification import (
    linear_probe,
    metrics_from_predictions,
    polarity_from_3way,
    predict_proba,
    sentence_embeddings,
    tfidf_baseline,
)
from course_utils.finetuning import FinetuneSettings, finetune, settings_for
from course_utils.tweet_data import stratified_subset, tweet_splits

# None: the whole training split; the two target sizes first
SIZES = (300, None, 100, 1000, 3000)
MAX_SECONDS = 300.0  # "at most 5 CPU-minutes of fine-tuning"


def _sizes() -> tuple:
    """SIZES, or the subset named in BENCH_CH07_SIZES (e.g. "full" or
    "300,full") to re-measure only those.
    """
    chosen = os.environ.get("BENCH_CH07_SIZES")
    if not chosen:
        return SIZES
    return tuple(
        None if s.strip() == "full" else int(s) for s in chosen.split(",")
    )


def _entry(value, unit, baseline, baseline_value, seconds, setting):
    return {
        "value": round(float(value), 4),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": None
        if baseline_value is None
        else round(float(baseline_value), 4),
        "seconds": round(float(seconds), 1),
        "setting": setting,
    }


def curve_entries(
    results: dict,
    curve: dict,
    mode: str,
    n_test: int,
    n_small: int,
    n_full: int | None,
    note: str = "",
) -> dict:
    """results.json entries of the learning curve and of the two targets,
    each where its size was measured.
    """
    entries = {}
    for name, r in results.items():
        n = int(name.split("=")[1])
        entries[name + "/macro_f1"] = _entry(
            r["metrics"]["macro_f1"],
            "macro-F1",
            "TF-IDF + LR, same labelled set",
            curve[("tfidf_lr", n)]["macro_f1"],
            r["seconds"],
            f"{mode}: n={n}, test={n_test}, accuracy "
            f"{r['metrics']['accuracy']:.3f}; {r['setting']}{note}",
        )
    if ("finetuned", n_small) in curve:
        gap = (
            curve[("finetuned", n_small)]["macro_f1"]
            - curve[("tfidf_lr", n_small)]["macro_f1"]
        )
        entries[f"ch07/target/finetuned_minus_tfidf_at_{n_small}"] = _entry(
            gap,
            "macro-F1 points (fraction)",
            "target: at least +0.05",
            0.05,
            results[f"ch07/learning_curve/finetuned/n={n_small}"]["seconds"],
            f"{mode}: test macro-F1 difference{note}",
        )
    if n_full is not None and ("finetuned", n_full) in curve:
        gap_full = (
            curve[("finetuned", n_full)]["macro_f1"]
            - curve[("tfidf_lr", n_full)]["macro_f1"]
        )
        entries["ch07/target/finetuned_minus_tfidf_full"] = _entry(
            gap_full,
            "macro-F1 points (fraction)",
            "target: at least 0 with <= 5 CPU-minutes",
            0.0,
            results[f"ch07/learning_curve/finetuned/n={n_full}"]["seconds"],
            f"{mode}: n={n_full}{note}",
        )
    return entries


LOG_LINE = re.compile(
    r"^\[ch07\]\s+(\S+) n=(\d+)\s+macro-F1 ([\d.]+) accuracy ([\d.]+) train "
    r"(\d+) s \| (.*)$"
)


def entries_from_log(log_text: str) -> dict:
    """The entries of a full-mode run that was stopped before it finished,
    from the ``[ch07]`` lines it printed.

    Every run prints its result as soon as it ends; a run of all sizes takes
    about an hour, so when one has to be stopped, the finished runs are recorded
    from its log (metrics to three decimals, as printed) rather than lost.
    """
    results, curve = {}, {}
    for line in log_text.splitlines():
        m = LOG_LINE.match(line.strip())
        if m:
            method, n, f1, acc, seconds, setting = m.groups()
            metrics = {"macro_f1": float(f1), "accuracy": float(acc)}
            curve[(method, int(n))] = metrics
            results[f"ch07/learning_curve/{method}/n={n}"] = {
                "metrics": metrics,
                "seconds": float(seconds),
                "setting": setting,
            }
    n_full = max(n for _, n in curve) if curve else None
    return curve_entries(
        results,
        curve,
        "full",
        n_test=len(tweet_splits()["test"]),
        n_small=300,
        n_full=n_full,
        note=" (recorded from the log of a run stopped before its last sizes)",
    )


def run(mode: str) -> dict:
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    full = mode == "full"
    checkpoint = resolve_checkpoint("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    splits = tweet_splits()
    test = splits["test"] if full else stratified_subset(splits["test"], 300)
    val = stratified_subset(splits["validation"], 600 if full else 100)
    sizes = _sizes() if full else (100,)
    y_test = np.array(list(test["label"]))
    test_texts = list(test["text"])

    encoder = AutoModel.from_pretrained(checkpoint)
    train_all = (
        splits["train"] if full else stratified_subset(splits["train"], 300)
    )
    cache: dict[str, np.ndarray] = {}

    def embed(texts):
        """Frozen mean-pooled embeddings [n, 384], each text encoded
        once across all sizes."""
        new = [t for t in dict.fromkeys(texts) if t not in cache]
        if new:
            for t, v in zip(new, sentence_embeddings(new, tokenizer, encoder)):
                cache[t] = v
        return np.stack([cache[t] for t in texts])

    t0 = time.perf_counter()
    emb_val, emb_test = embed(list(val["text"])), embed(test_texts)
    embed_s = time.perf_counter() - t0  # seconds for len(val) + len(test) texts
    per_text_s = embed_s / (len(val) + len(test))
    y_val = np.array(list(val["label"]))

    results, curve = {}, {}
    # the fine-tuned model of the out-of-domain test (full data)
    final_model = None

    def record(method, n, metrics, seconds, setting):
        curve[(method, n)] = metrics
        results[f"ch07/learning_curve/{method}/n={n}"] = {
            "metrics": metrics,
            "seconds": seconds,
            "setting": setting,
        }
        print(
            f"[ch07] {method:>16} n={n:<6} macro-F1 {metrics['macro_f1']:.3f} "
            f"accuracy {metrics['accuracy']:.3f} "
            f"train {seconds:.0f} s | {setting}",
            flush=True,
        )

    for size in sizes:
        train = (
            train_all if size is None else stratified_subset(train_all, size)
        )
        n = len(train)
        texts, labels = list(train["text"]), np.array(list(train["label"]))

        start = time.perf_counter()
        tfidf = tfidf_baseline(texts, labels)
        record(
            "tfidf_lr",
            n,
            metrics_from_predictions(y_test, tfidf.predict(test_texts)),
            time.perf_counter() - start,
            "TF-IDF word 1-2-grams, sublinear tf, LR C=2, balanced classes",
        )

        # timed as n texts at the measured embedding rate, whatever the cache
        # already held
        X = embed(texts)
        start = time.perf_counter()
        best = linear_probe(X, labels, emb_val, y_val)  # C chosen on validation
        record(
            "frozen_lr",
            n,
            metrics_from_predictions(y_test, best.predict(emb_test)),
            time.perf_counter() - start + per_text_s * n,
            f"mean-pooled MiniLM embeddings + LR, C={best.C} chosen on "
            "validation",
        )

        # the 5-minute budget is the full-data target; small sets run out
        cap = MAX_SECONDS if size is None else None
        variants = [
            ("finetuned", settings_for(n, max_seconds=cap)),
            ("random_init", settings_for(n, max_seconds=cap, pretrained=False)),
        ]
        if n == 300 or not full:
            variants.append(
                (
                    "finetuned_naive",
                    FinetuneSettings(
                        learning_rate=2e-5,
                        epochs=3,
                        batch_size=16,
                        warmup_ratio=0.0,
                    ),
                )
            )
        if not full:
            variants = [
                (m, replace(s, epochs=1, max_steps=4)) for m, s in variants
            ]
        for method, settings in variants:
            with tempfile.TemporaryDirectory() as tmp:
                out = finetune(
                    train,
                    val,
                    settings,
                    checkpoint,
                    tmp,
                    tokenizer=tokenizer,
                    early_stopping_patience=3 if settings.epochs > 3 else None,
                )
            probs = predict_proba(out.model, tokenizer, test_texts)
            record(
                method,
                n,
                metrics_from_predictions(y_test, probs.argmax(1)),
                out.seconds,
                f"{settings.describe()}; {out.steps} steps"
                + (
                    " (stopped by the time limit)"
                    if out.stopped_by_time
                    else ""
                ),
            )
            if method == "finetuned" and (size is None or not full):
                final_model = out.model

    entries = curve_entries(
        results,
        curve,
        mode,
        n_test=len(test),
        n_small=300 if full else 100,
        n_full=len(train_all) if full else None,
    )
    if final_model is None:
        return entries

    reviews = data.load_movie_reviews()
    y_rev = np.array(list(reviews["label"]))
    start = time.perf_counter()
    probs = predict_proba(
        final_model, tokenizer, list(reviews["text"]), max_length=128
    )
    acc_ft = (polarity_from_3way(probs) == y_rev).mean()
    tfidf_full = tfidf_baseline(
        list(train_all["text"]), list(train_all["label"])
    )
    acc_tfidf = (
        polarity_from_3way(tfidf_full.predict_proba(list(reviews["text"])))
        == y_rev
    ).mean()
    entries["ch07/out_of_domain/movie_reviews_accuracy"] = _entry(
        acc_ft,
        "accuracy",
        "TF-IDF + LR trained on the same tweets",
        acc_tfidf,
        time.perf_counter() - start,
        f"{mode}: {len(y_rev)} sentences, 3-way -> 2-way by P(positive) > "
        f"P(negative); fine-tuned on n={len(train_all) if full else 100}",
    )
    return entries


if __name__ == "__main__":
    import json
    import sys

    # python benchmarks/bench_ch07_fine_tuning.py --from-log LOG
    if len(sys.argv) == 3 and sys.argv[1] == "--from-log":
        # benchmarks/run.py: merges into results.json under its lock
        from run import record

        found = entries_from_log(open(sys.argv[2], encoding="utf-8").read())
        record(found)
        print(f"recorded {len(found)} entries from {sys.argv[2]}")
    else:
        print(json.dumps(run("fast" if config.is_fast() else "full"), indent=2))
