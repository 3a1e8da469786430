"""Named-entity recognition and extractive question answering (chapter 8, notebooks 02 and 03), full-mode figures.

``run(mode)`` fine-tunes the packaged MiniLM encoder twice, with the settings of the chapter:

* NER: ``AutoModelForTokenClassification`` on the WNUT-16 tweets (split 80/10/10 with seed 0, as in
  02_named_entities), first-piece label alignment, 10 epochs at learning rate 1e-4; entity-level F1 (seqeval)
  on the test tweets, against the memorisation baseline (each word's most frequent training tag) and the
  all-O baseline (entity F1 0).
* QA: ``AutoModelForQuestionAnswering`` on the course's wiki_qa questions (split by article), windows of 128
  tokens with stride 32, 12 epochs at learning rate 1e-4; SQuAD exact match and F1 on the test questions,
  against a random span and the sentence-overlap heuristic.

The notebook shows the teaching code in the open; this module repeats its steps (the QA features, span search
and metrics come from ``course_utils.qa``, shared with the notebook).
"""
from __future__ import annotations

import collections
import random
import re
import tempfile
import time

import numpy as np

NER_SETTINGS = {"learning_rate": 1e-4, "epochs": 10, "batch_size": 16, "max_length": 96}
QA_SETTINGS = {"learning_rate": 1e-4, "epochs": 12, "batch_size": 16, "max_length": 128, "stride": 32,
               "max_answer_len": 30}


def _trainer(model, train, collator, settings, out, fast):
    from transformers import Trainer, TrainingArguments

    args = TrainingArguments(output_dir=out, learning_rate=settings["learning_rate"],
                             num_train_epochs=1 if fast else settings["epochs"],
                             per_device_train_batch_size=settings["batch_size"], per_device_eval_batch_size=64,
                             warmup_steps=0.1, weight_decay=0.01, save_strategy="no", report_to="none", seed=0,
                             use_cpu=True, disable_tqdm=True, logging_strategy="no")
    return Trainer(model=model, args=args, train_dataset=train, data_collator=collator)


def run_ner(mode: str) -> dict:
    from datasets import DatasetDict
    from seqeval.metrics import f1_score
    from transformers import AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification

    from course_utils import assets, data, train

    fast = mode != "full"
    train.set_seed(0)
    start = time.perf_counter()
    wnut = data.load_wnut16()
    names = wnut.features["ner_tags"].feature.names
    first = wnut.train_test_split(test_size=0.2, seed=0)
    second = first["test"].train_test_split(test_size=0.5, seed=0)
    splits = DatasetDict(train=first["train"], validation=second["train"], test=second["test"])
    if fast:
        splits["train"] = splits["train"].select(range(200))
    gold_train = [[names[t] for t in tags] for tags in splits["train"]["ner_tags"]]
    gold_test = [[names[t] for t in tags] for tags in splits["test"]["ner_tags"]]

    counts = collections.defaultdict(collections.Counter)
    for words, tags in zip(splits["train"]["tokens"], gold_train):
        for w, t in zip(words, tags):
            counts[w.lower()][t] += 1
    memory = {w: c.most_common(1)[0][0] for w, c in counts.items()}
    memo_f1 = f1_score(gold_test, [[memory.get(w.lower(), "O") for w in ws] for ws in splits["test"]["tokens"]])

    checkpoint = assets.resolve_checkpoint("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)

    def align(tags, word_ids):
        out, prev = [], None
        for w in word_ids:
            out.append(-100 if w is None or w == prev else tags[w])
            prev = w
        return out

    def tok(batch):
        enc = tokenizer(batch["tokens"], is_split_into_words=True, truncation=True,
                        max_length=NER_SETTINGS["max_length"])
        enc["labels"] = [align(t, enc.word_ids(i)) for i, t in enumerate(batch["ner_tags"])]
        return enc

    tokenized = splits.map(tok, batched=True, remove_columns=["tokens", "ner_tags"])
    model = AutoModelForTokenClassification.from_pretrained(
        checkpoint, num_labels=len(names), id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)})
    with tempfile.TemporaryDirectory() as out:
        trainer = _trainer(model, tokenized["train"], DataCollatorForTokenClassification(tokenizer), NER_SETTINGS,
                           out, fast)
        trainer.train()
        pred = trainer.predict(tokenized["test"])
    predictions = np.asarray(pred.predictions).argmax(-1)
    pred_tags = [[names[p] for p, l in zip(pr, lr) if l != -100] for pr, lr in zip(predictions, pred.label_ids)]
    model_f1 = f1_score(gold_test, pred_tags, zero_division=0)
    seconds = time.perf_counter() - start
    setting = (f"{mode}: MiniLM-L6 (uncased), {len(splits['train'])} training tweets, "
               f"{1 if fast else NER_SETTINGS['epochs']} epochs, lr {NER_SETTINGS['learning_rate']}, "
               f"{len(splits['test'])} test tweets")
    return {
        "ch08/ner_entity_f1": {"value": round(float(model_f1), 4), "unit": "entity F1 (seqeval)",
                               "baseline": "memorise each word's most frequent training tag",
                               "baseline_value": round(float(memo_f1), 4), "seconds": round(seconds, 1),
                               "setting": setting},
        "ch08/ner_entity_f1_vs_all_o": {"value": round(float(model_f1), 4), "unit": "entity F1 (seqeval)",
                                        "baseline": "all-O (majority tag)", "baseline_value": 0.0,
                                        "seconds": round(seconds, 1), "setting": setting},
    }


def _overlap_heuristic(row, max_words=4):
    stop = {"the", "a", "an", "of", "in", "is", "was", "what", "which", "who", "when", "where", "how", "did",
            "does", "do", "to", "by", "for", "and", "on", "at", "many", "much", "with", "from"}
    words_of = lambda text: re.findall(r"\w+", text.lower())  # noqa: E731
    question = set(words_of(row["question"])) - stop
    best = max(re.split(r"(?<=[.!?])\s+", row["context"]), key=lambda s: len(question & set(words_of(s))))
    runs, current = [], []
    for word in best.split():
        if set(words_of(word)) & question or not words_of(word):
            runs.append(current)
            current = []
        else:
            current.append(word)
    runs.append(current)
    return " ".join(max(runs, key=len)[:max_words])


def run_qa(mode: str) -> dict:
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, default_data_collator

    from course_utils import assets, qa, train

    fast = mode != "full"
    train.set_seed(0)
    start = time.perf_counter()
    squad = qa.load_wiki_qa()
    test = squad["test"]
    rng = random.Random(0)

    def random_span(row):
        words = row["context"].split()
        s = rng.randrange(len(words))
        return " ".join(words[s:s + rng.randint(1, 4)])

    random_scores = qa.squad_scores({r["id"]: random_span(r) for r in test}, test)
    overlap_scores = qa.squad_scores({r["id"]: _overlap_heuristic(r) for r in test}, test)

    checkpoint = assets.resolve_checkpoint("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    s = QA_SETTINGS
    train_split = squad["train"].select(range(40)) if fast else squad["train"]
    feats = train_split.map(lambda b: qa.prepare_features(b, tokenizer, s["max_length"], s["stride"], True),
                            batched=True, remove_columns=train_split.column_names)
    test_feats = test.map(lambda b: qa.prepare_features(b, tokenizer, s["max_length"], s["stride"], False),
                          batched=True, remove_columns=test.column_names)
    model = AutoModelForQuestionAnswering.from_pretrained(checkpoint)
    with tempfile.TemporaryDirectory() as out:
        trainer = _trainer(model, feats, default_data_collator, s, out, fast)
        trainer.train()
        pred = trainer.predict(test_feats.remove_columns(["example_id", "offset_mapping"]))
    start_logits, end_logits = pred.predictions
    answers = qa.postprocess(test, test_feats, start_logits, end_logits, s["max_answer_len"])
    model_scores = qa.squad_scores(answers, test)
    seconds = time.perf_counter() - start
    setting = (f"{mode}: MiniLM-L6 (uncased), {len(train_split)} training questions ({len(feats)} windows of "
               f"{s['max_length']}, stride {s['stride']}), {1 if fast else s['epochs']} epochs, "
               f"{len(test)} test questions on {len(set(test['title']))} unseen articles")
    out = {}
    for metric in ("exact_match", "f1"):
        out[f"ch08/qa_{metric}"] = {"value": round(model_scores[metric], 2), "unit": f"SQuAD {metric} (%)",
                                    "baseline": "random span of 1-4 words",
                                    "baseline_value": round(random_scores[metric], 2),
                                    "seconds": round(seconds, 1), "setting": setting}
        out[f"ch08/qa_{metric}_vs_overlap"] = {"value": round(model_scores[metric], 2),
                                               "unit": f"SQuAD {metric} (%)",
                                               "baseline": "sentence-overlap heuristic",
                                               "baseline_value": round(overlap_scores[metric], 2),
                                               "seconds": round(seconds, 1), "setting": setting}
    return out


def run(mode: str) -> dict:
    return {**run_ner(mode), **run_qa(mode)}


if __name__ == "__main__":
    import json

    from course_utils import config

    print(json.dumps(run("fast" if config.is_fast() else "full"), indent=2))
