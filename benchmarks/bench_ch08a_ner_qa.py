"""Named-entity recognition and extractive question answering (chapter 8,
notebooks 02 and 03): the full-mode figures.

``run(mode)`` fine-tunes the packaged MiniLM encoder twice, with the settings
of the chapter:

* NER: ``AutoModelForTokenClassification`` on the WNUT-16 tweets (split
  80/10/10 with seed 0, as in 02_named_entities), first-piece label
  alignment, 10 epochs at learning rate 1e-4; entity-level F1 (seqeval) on
  the test tweets, against the memorisation baseline (each word's most
  frequent training tag) and the all-O baseline (entity F1 0).
* QA: ``AutoModelForQuestionAnswering`` on the course's wiki_qa questions
  (split by article), windows of 128 tokens with stride 32, 12 epochs at
  learning rate 1e-4; SQuAD exact match and F1 on the test questions,
  against a random span and the sentence-overlap heuristic.

The split, baselines, label alignment, QA features, span search and metrics
are the chapter's own code, imported from the modules its pages export
(``course_utils.ner`` from 02_named_entities, ``course_utils.qa`` from
03_question_answering); this script only sets the full-mode settings.
"""

from __future__ import annotations

import random
import tempfile
import time


NER_SETTINGS = {
    "learning_rate": 1e-4,
    "epochs": 10,
    "batch_size": 16,
    "max_length": 96,
}
QA_SETTINGS = {
    "learning_rate": 1e-4,
    "epochs": 12,
    "batch_size": 16,
    "max_length": 128,
    "stride": 32,
    "max_answer_len": 30,
}


def _trainer(model, train, collator, settings, out, fast):
    from transformers import Trainer, TrainingArguments

    args = TrainingArguments(
        output_dir=out,
        learning_rate=settings["learning_rate"],
        num_train_epochs=1 if fast else settings["epochs"],
        per_device_train_batch_size=settings["batch_size"],
        per_device_eval_batch_size=64,
        warmup_steps=0.1,
        weight_decay=0.01,
        save_strategy="no",
        report_to="none",
        seed=0,
        use_cpu=True,
        logging_strategy="no",
    )
    return Trainer(
        model=model, args=args, train_dataset=train, data_collator=collator
    )


def run_ner(mode: str) -> dict:
    from functools import partial

    from seqeval.metrics import f1_score
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
    )

    import course_utils as cu
    from course_utils import data, ner

    fast = mode != "full"
    cu.set_seed(0)
    start = time.perf_counter()
    wnut = data.load_wnut16()
    names = wnut.features["ner_tags"].feature.names
    splits = ner.split_wnut(wnut, seed=0)
    if fast:
        splits["train"] = splits["train"].select(range(200))

    def tag_names(split):
        return [[names[t] for t in tags] for tags in split["ner_tags"]]

    gold_train, gold_test = (
        tag_names(splits["train"]),
        tag_names(splits["test"]),
    )
    memory = ner.memorise_tags(splits["train"]["tokens"], gold_train)
    memorised = ner.tag_from_memory(memory, splits["test"]["tokens"])
    memo_f1 = f1_score(gold_test, memorised)

    checkpoint = cu.resolve_checkpoint("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    tokenized = splits.map(
        partial(
            ner.tokenize_and_align,
            tokenizer=tokenizer,
            max_length=NER_SETTINGS["max_length"],
        ),
        batched=True,
        remove_columns=["tokens", "ner_tags"],
    )
    model = AutoModelForTokenClassification.from_pretrained(
        checkpoint,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
    )
    collator = DataCollatorForTokenClassification(tokenizer)
    with tempfile.TemporaryDirectory() as out:
        trainer = _trainer(
            model, tokenized["train"], collator, NER_SETTINGS, out, fast
        )
        trainer.train()
        pred = trainer.predict(tokenized["test"])
    pred_tags, _ = ner.to_tag_sequences(pred.predictions, pred.label_ids, names)
    model_f1 = f1_score(gold_test, pred_tags, zero_division=0)
    seconds = time.perf_counter() - start
    epochs = 1 if fast else NER_SETTINGS["epochs"]
    setting = (
        f"{mode}: MiniLM-L6 (uncased), {len(splits['train'])} training tweets, "
        f"{epochs} epochs, lr {NER_SETTINGS['learning_rate']}, "
        f"{len(splits['test'])} test tweets"
    )
    entry = {
        "value": round(float(model_f1), 4),
        "unit": "entity F1 (seqeval)",
        "seconds": round(seconds, 1),
        "setting": setting,
    }
    return {
        "ch08/ner_entity_f1": {
            **entry,
            "baseline": "memorise each word's most frequent training tag",
            "baseline_value": round(float(memo_f1), 4),
        },
        "ch08/ner_entity_f1_vs_all_o": {
            **entry,
            "baseline": "all-O (majority tag)",
            "baseline_value": 0.0,
        },
    }


def run_qa(mode: str) -> dict:
    from transformers import (
        AutoModelForQuestionAnswering,
        AutoTokenizer,
        default_data_collator,
    )

    import course_utils as cu
    from course_utils import qa

    fast = mode != "full"
    cu.set_seed(0)
    start = time.perf_counter()
    squad = qa.load_wiki_qa()
    test = squad["test"]
    rng = random.Random(0)
    random_scores = qa.squad_scores(
        {r["id"]: qa.random_span(r, rng) for r in test}, test
    )
    overlap_scores = qa.squad_scores(
        {r["id"]: qa.overlap_heuristic(r) for r in test}, test
    )

    checkpoint = cu.resolve_checkpoint("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    s = QA_SETTINGS
    train_split = squad["train"].select(range(40)) if fast else squad["train"]

    def features(split, train):
        return split.map(
            lambda b: qa.prepare_features(
                b, tokenizer, s["max_length"], s["stride"], train
            ),
            batched=True,
            remove_columns=split.column_names,
        )

    feats, test_feats = features(train_split, True), features(test, False)
    model = AutoModelForQuestionAnswering.from_pretrained(checkpoint)
    with tempfile.TemporaryDirectory() as out:
        trainer = _trainer(model, feats, default_data_collator, s, out, fast)
        trainer.train()
        pred = trainer.predict(
            test_feats.remove_columns(["example_id", "offset_mapping"])
        )
    start_logits, end_logits = pred.predictions
    answers = qa.postprocess(
        test, test_feats, start_logits, end_logits, s["max_answer_len"]
    )
    model_scores = qa.squad_scores(answers, test)
    seconds = time.perf_counter() - start
    setting = (
        f"{mode}: MiniLM-L6 (uncased), {len(train_split)} training questions "
        f"({len(feats)} windows of {s['max_length']}, stride {s['stride']}), "
        f"{1 if fast else s['epochs']} epochs, {len(test)} test questions on "
        f"{len(set(test['title']))} unseen articles"
    )
    out = {}
    for metric in ("exact_match", "f1"):
        entry = {
            "value": round(model_scores[metric], 2),
            "unit": f"SQuAD {metric} (%)",
            "seconds": round(seconds, 1),
            "setting": setting,
        }
        out[f"ch08/qa_{metric}"] = {
            **entry,
            "baseline": "random span of 1-4 words",
            "baseline_value": round(random_scores[metric], 2),
        }
        out[f"ch08/qa_{metric}_vs_overlap"] = {
            **entry,
            "baseline": "sentence-overlap heuristic",
            "baseline_value": round(overlap_scores[metric], 2),
        }
    return out


def run(mode: str) -> dict:
    return {**run_ner(mode), **run_qa(mode)}


if __name__ == "__main__":
    import json

    from course_utils import config

    print(json.dumps(run("fast" if config.is_fast() else "full"), indent=2))
