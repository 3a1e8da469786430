"""Chapter 8, second half: semantic search, extractive summarization and a tiny seq2seq model, in full mode.

``run(mode)`` measures, with the same settings as the notebooks' full mode:

* search (04_semantic_search) over the WHOLE collection (every Wikipedia and Lee passage, not the notebook's subset):
  recall@10 and MRR of dense retrieval (MiniLM, mean pooling, 128 tokens), BM25, TF-IDF, reciprocal-rank fusion and a
  random ranking, on the 68 course queries;
* summarization (06_summarization_and_seq2seq): ROUGE-1/2/L F1 of centroid and TextRank extracts against the Wikipedia
  leads of 30 articles, with the random-sentence and lead-k baselines;
* seq2seq (06): exact match of the 2+2-layer BART on 1,000 held-out numbers (greedy and beam 4), against word-by-word
  lookup.

The notebook code is the reference; the few helpers repeated here (number words, TextRank) are kept identical.
"""
from __future__ import annotations

import random
import time

import numpy as np
import torch
import torch.nn.functional as F

from course_utils import config, data, embeddings, retrieval
from course_utils.assets import resolve_checkpoint


def _entry(value, unit, baseline, baseline_value, seconds, setting):
    return {"value": round(float(value), 4), "unit": unit, "baseline": baseline,
            "baseline_value": round(float(baseline_value), 4), "seconds": round(seconds, 1), "setting": setting}


def _ranks_of(scores):
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, scores.shape[1] + 1)[None, :].repeat(len(scores), 0), axis=1)
    return ranks


def bench_search(tokenizer, model) -> dict:
    from rank_bm25 import BM25Okapi
    from sklearn.feature_extraction.text import TfidfVectorizer

    start = time.perf_counter()
    passages = retrieval.load_passages()
    queries = retrieval.load_queries()
    ids, texts = passages["id"], passages["text"]
    qtexts = [q["query"] for q in queries]
    relevant = [q["relevant"] for q in queries]
    P = embeddings.encode(texts, tokenizer, model, batch_size=64, max_length=128)
    Q = embeddings.encode(qtexts, tokenizer, model, max_length=128)
    analyzer = TfidfVectorizer(lowercase=True, stop_words="english").build_analyzer()
    tfidf = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
    D = tfidf.fit_transform(texts)
    bm25 = BM25Okapi([analyzer(t) for t in texts], k1=1.5, b=0.75)
    scores = {
        "dense": (Q @ P.T).numpy(),
        "bm25": np.stack([bm25.get_scores(analyzer(q)) for q in qtexts]),
        "tfidf": (tfidf.transform(qtexts) @ D.T).toarray(),
        "random": np.random.default_rng(0).random((len(queries), len(ids))),
    }
    scores["hybrid"] = 1 / (60 + _ranks_of(scores["bm25"])) + 1 / (60 + _ranks_of(scores["dense"]))
    seconds = time.perf_counter() - start
    results = {}
    setting = f"full collection: {len(ids)} passages, {len(queries)} queries, MiniLM 128 tokens, BM25 k1=1.5 b=0.75"
    metrics = {name: retrieval.evaluate_rankings(retrieval.rank_ids(s, ids, k=len(ids)), relevant, ks=(10,))
               for name, s in scores.items()}
    kinds = {kind: [i for i, q in enumerate(queries) if q["kind"] == kind] for kind in ("keyword", "paraphrase")}
    for name in ("dense", "tfidf", "hybrid", "random"):
        for metric in ("recall@10", "MRR"):
            results[f"ch08/search_{metric}_{name}"] = _entry(metrics[name][metric], metric, "BM25, same queries",
                                                             metrics["bm25"][metric], seconds, setting)
    for kind, sel in kinds.items():
        for name in ("dense", "bm25"):
            rank = retrieval.rank_ids(scores[name][sel], ids)
            mrr = retrieval.mean_reciprocal_rank(rank, [relevant[i] for i in sel])
            rank_base = retrieval.rank_ids(scores["random"][sel], ids)
            base = retrieval.mean_reciprocal_rank(rank_base, [relevant[i] for i in sel])
            results[f"ch08/search_MRR_{kind}_{name}"] = _entry(mrr, "MRR", "random ranking", base, seconds,
                                                               f"{setting}; {len(sel)} {kind} queries")
    return results


def _textrank(E, d=0.85, iterations=50):
    W = (E @ E.T).clamp(min=0).fill_diagonal_(0)
    P = W / W.sum(dim=1, keepdim=True).clamp(min=1e-12)
    r = torch.full((len(E),), 1 / len(E))
    for _ in range(iterations):
        r = (1 - d) / len(E) + d * (P.T @ r)
    return r


def bench_summarization(tokenizer, model) -> dict:
    from rouge_score import rouge_scorer

    start = time.perf_counter()
    wiki = data.load_wikipedia()
    docs = []
    for title, text in zip(wiki["title"], wiki["text"]):
        if title.startswith("List of") or "disambiguation" in title:
            continue
        lead, body = retrieval.lead_and_body(text)
        lead_s = retrieval.split_sentences(lead)
        body_s = [s for p in retrieval.article_passages(body) for s in retrieval.split_sentences(p) if len(s.split()) >= 5]
        if len(lead_s) >= 3 and len(body_s) >= 30:
            docs.append({"reference": " ".join(lead_s), "sentences": body_s[:150], "k": min(len(lead_s), 5)})
    docs = docs[:30]
    for doc in docs:
        doc["E"] = embeddings.encode(doc["sentences"], tokenizer, model, batch_size=64, max_length=64)
    rng = random.Random(0)

    def top(scores, k):
        return sorted(torch.as_tensor(scores).topk(k).indices.tolist())

    systems = {
        "random": lambda doc: sorted(rng.sample(range(len(doc["sentences"])), doc["k"])),
        "lead": lambda doc: list(range(doc["k"])),
        "centroid": lambda doc: top(doc["E"] @ F.normalize(doc["E"].mean(dim=0), dim=0), doc["k"]),
        "textrank": lambda doc: top(_textrank(doc["E"]), doc["k"]),
    }
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    means = {}
    for name, system in systems.items():
        per_doc = [scorer.score(doc["reference"], " ".join(doc["sentences"][i] for i in system(doc))) for doc in docs]
        means[name] = {m: float(np.mean([s[m].fmeasure for s in per_doc])) for m in ("rouge1", "rouge2", "rougeL")}
    seconds = time.perf_counter() - start
    setting = f"{len(docs)} Wikipedia articles, lead as reference, k = min(lead sentences, 5), body capped at 150 sentences"
    results = {}
    for name in ("centroid", "textrank", "lead"):
        for metric in ("rouge1", "rouge2", "rougeL"):
            results[f"ch08/summarization_{metric}_{name}"] = _entry(means[name][metric], f"{metric} F1",
                                                                    "random k sentences", means["random"][metric],
                                                                    seconds, setting)
    return results


ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _below_100(n):
    return ONES[n] if n < 20 else TENS[n // 10] + ("" if n % 10 == 0 else "-" + ONES[n % 10])


def number_to_words(n):
    if n < 100:
        return _below_100(n)
    thousands, rest = divmod(n, 1000)
    hundreds, tens = divmod(rest, 100)
    parts = ([_below_100(thousands) + " thousand"] if thousands else []) + ([ONES[hundreds] + " hundred"] if hundreds else [])
    return " ".join(parts + ([("and " if parts else "") + _below_100(tens)] if tens else []))


def bench_seq2seq(fast: bool) -> dict:
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig, PreTrainedTokenizerFast

    start = time.perf_counter()
    torch.manual_seed(0)
    numbers = random.Random(0).sample(range(10_000), 10_000)
    test, train = numbers[:1000], numbers[1000:][: 3000 if fast else 9000]
    words = sorted({w for n in range(10_000) for w in number_to_words(n).replace("-", " - ").split()})
    vocab = {t: i for i, t in enumerate(["<pad>", "<s>", "</s>", "<unk>"] + words + list("0123456789"))}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True)])
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", vocab["</s>"])])
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                  unk_token="<unk>")
    cfg = BartConfig(vocab_size=len(tok), d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                     decoder_attention_heads=4, encoder_ffn_dim=256, decoder_ffn_dim=256, max_position_embeddings=32,
                     dropout=0.0, pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1,
                     forced_eos_token_id=None)
    model = BartForConditionalGeneration(cfg)

    def make_batch(ns):
        batch = tok([number_to_words(n) for n in ns], padding=True, return_tensors="pt")
        labels = tok([str(n) for n in ns], padding=True, return_tensors="pt")["input_ids"]
        batch["labels"] = labels.masked_fill(labels == 0, -100)
        return batch

    epochs, batch_size = (2, 64) if fast else (6, 64)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    total = epochs * (len(train) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=total, pct_start=0.1)
    order = list(train)
    model.train()
    for epoch in range(epochs):
        random.Random(epoch).shuffle(order)
        for s in range(0, len(order) - batch_size + 1, batch_size):
            loss = model(**make_batch(order[s:s + batch_size])).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
    model.eval()
    accuracy = {}
    for beams in (1, 4):
        gen = GenerationConfig(max_new_tokens=8, num_beams=beams, decoder_start_token_id=1, bos_token_id=1,
                               eos_token_id=2, pad_token_id=0)
        preds = []
        for s in range(0, len(test), 250):
            batch = tok([number_to_words(n) for n in test[s:s + 250]], padding=True, return_tensors="pt")
            with torch.no_grad():
                out = model.generate(**batch, generation_config=gen)
            preds += [p.replace(" ", "") for p in tok.batch_decode(out, skip_special_tokens=True)]
        accuracy[beams] = float(np.mean([p == str(n) for p, n in zip(preds, test)]))
    value = {w: str(i) for i, w in enumerate(ONES)} | {w: str(10 * i) for i, w in enumerate(TENS) if w != "_"}
    lookup = float(np.mean(["".join(value.get(w, "") for w in number_to_words(n).replace("-", " ").split()) == str(n)
                            for n in test]))
    seconds = time.perf_counter() - start
    setting = (f"BART 2+2 layers, d_model 64, {len(train)} training numbers, {epochs} epochs x batch {batch_size} "
               f"({total} steps), 1000 held-out numbers 0-9999")
    return {f"ch08/seq2seq_exact_match_{'greedy' if b == 1 else 'beam4'}": _entry(accuracy[b], "exact match",
                                                                                  "word-by-word lookup", lookup,
                                                                                  seconds, setting)
            for b in (1, 4)}


def run(mode: str) -> dict:
    from transformers import AutoModel, AutoTokenizer

    checkpoint = resolve_checkpoint("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModel.from_pretrained(checkpoint).eval()
    results = {}
    results.update(bench_seq2seq(fast=mode != "full"))
    results.update(bench_summarization(tokenizer, model))
    results.update(bench_search(tokenizer, model))
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run("fast" if config.is_fast() else "full"), indent=2))
