"""The text-classification project of chapter 7, in pieces that its notebooks, recipes and benchmark share.

The notebooks teach each step in the open (``Trainer``, ``TrainingArguments``,
``AutoModelForSequenceClassification`` are written out where they are taught); this module keeps
what would otherwise be copied between them: the stratified splits of the tweets (written to JSON
Lines and read back with ``load_dataset("json")``), metrics with scikit-learn, the TF-IDF baseline,
one function that fine-tunes with given :class:`FinetuneSettings` (so the learning-curve runs do not
copy code), batched prediction, and the Chinese review classifier's tokenizer and model settings.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from . import data
from .config import cache_dir
from .errors import CourseError

LABELS = data.TWEET_LABELS  # ["negative", "neutral", "positive"]
MAX_LENGTH = 64  # tweets are short: 99% are under ~52 WordPiece tokens
SPLIT_SEED = 0
TEST_FRACTION = 0.15
VALIDATION_FRACTION = 0.10


# ---------------------------------------------------------------------------------------------
# Data: JSON Lines in, stratified splits out
# ---------------------------------------------------------------------------------------------

def write_jsonl(dataset, path) -> Path:
    """Write a Dataset (``text``, ``label`` as a label *name*) to JSON Lines, one object per line."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = dataset.features["label"].names
    with open(path, "w", encoding="utf-8") as fh:
        for text, label in zip(list(dataset["text"]), list(dataset["label"])):
            fh.write(json.dumps({"text": text, "label": names[label]}, ensure_ascii=False) + "\n")
    return path


def read_jsonl(path, label_names=LABELS):
    """Read a JSON Lines file of ``{"text", "label"}`` objects with ``load_dataset("json")``; labels become a ClassLabel."""
    import datasets

    ds = datasets.load_dataset("json", data_files=str(path), split="train")
    unknown = set(ds.unique("label")) - set(label_names)
    if unknown:
        raise CourseError(f"{path} has labels {sorted(unknown)} that are not among {label_names}.")
    return ds.cast_column("label", datasets.ClassLabel(names=list(label_names)))


def _split_indices(labels, fraction, seed: int):
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    return train_test_split(idx, test_size=fraction, stratify=np.asarray(labels), random_state=seed)


def stratified_splits(ds, test_fraction: float = TEST_FRACTION, validation_fraction: float = VALIDATION_FRACTION,
                      seed: int = SPLIT_SEED):
    """Train / validation / test splits that keep the class proportions (scikit-learn's stratified split)."""
    import datasets

    labels = np.asarray(list(ds["label"]))
    rest, test = _split_indices(labels, test_fraction, seed)
    train, val = _split_indices(labels[rest], validation_fraction / (1 - test_fraction), seed)
    return datasets.DatasetDict(train=ds.select(np.sort(rest[train])), validation=ds.select(np.sort(rest[val])),
                                test=ds.select(np.sort(test)))


def _cached_splits(name: str, make, label_names):
    """Write the splits that ``make()`` returns to ``<cache>/data/<name>/{train,validation,test}.jsonl`` once,
    then read them with ``load_dataset("json")`` (as the project would receive them)."""
    import shutil

    import datasets
    from filelock import FileLock

    folder = cache_dir() / "data" / name
    folder.parent.mkdir(parents=True, exist_ok=True)
    files = {split: folder / f"{split}.jsonl" for split in ("train", "validation", "test")}
    with FileLock(str(folder) + ".lock"):
        if not all(f.exists() for f in files.values()):
            tmp = folder.parent / f".{name}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            for split, part in make().items():
                write_jsonl(part, tmp / f"{split}.jsonl")
            shutil.rmtree(folder, ignore_errors=True)
            tmp.rename(folder)
    splits = datasets.load_dataset("json", data_files={k: str(v) for k, v in files.items()})
    return splits.cast_column("label", datasets.ClassLabel(names=list(label_names)))


def tweet_splits():
    """The chapter's splits of the de-duplicated tweets, stratified 75/10/15, as JSON Lines read back with
    ``load_dataset("json")``: a DatasetDict with train / validation / test, ``text`` and ``label`` (ClassLabel)."""
    return _cached_splits("tweets-v1", lambda: stratified_splits(data.load_tweets().select_columns(["text", "label"])),
                          LABELS)


def stratified_subset(ds, n: int, seed: int = 0):
    """``n`` rows of ``ds`` with its class proportions (all of it when ``n >= len(ds)``), in their original order."""
    if n < 1:
        raise CourseError(f"stratified_subset: n must be at least 1, got {n}.")
    if n >= len(ds):
        return ds
    rest, keep = _split_indices(np.asarray(list(ds["label"])), n, seed)
    return ds.select(np.sort(keep))


# ---------------------------------------------------------------------------------------------
# Metrics and the baseline
# ---------------------------------------------------------------------------------------------

def metrics_from_predictions(labels, predictions) -> dict:
    """Accuracy and macro precision / recall / F1 (scikit-learn) of integer predictions."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape:
        raise CourseError(f"labels {labels.shape} and predictions {predictions.shape} must have the same shape.")
    p, r, f, _ = precision_recall_fscore_support(labels, predictions, average="macro", zero_division=0)
    return {"accuracy": float(accuracy_score(labels, predictions)), "macro_precision": float(p),
            "macro_recall": float(r), "macro_f1": float(f)}


def compute_metrics(eval_pred) -> dict:
    """For ``Trainer(compute_metrics=...)``: logits [n, classes] and labels [n] -> accuracy and macro scores."""
    logits, labels = eval_pred
    return metrics_from_predictions(labels, np.asarray(logits).argmax(axis=-1))


def tfidf_baseline(texts, labels, C: float = 2.0, **tfidf_kw):
    """TF-IDF (word uni- and bigrams, sublinear tf) + logistic regression, fitted; a scikit-learn Pipeline."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    settings = {"ngram_range": (1, 2), "sublinear_tf": True, "min_df": 1, **tfidf_kw}
    model = make_pipeline(TfidfVectorizer(**settings),
                          LogisticRegression(C=C, max_iter=2000, class_weight="balanced"))
    return model.fit(list(texts), np.asarray(list(labels)))


# ---------------------------------------------------------------------------------------------
# Fine-tuning with given settings
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FinetuneSettings:
    """What a fine-tuning run may vary. ``max_seconds`` stops training after that much wall time."""

    learning_rate: float = 5e-5
    epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides epochs
    batch_size: int = 32
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_length: int = MAX_LENGTH
    dropout: float | None = None  # None: the checkpoint's own (0.1)
    pretrained: bool = True  # False: the same architecture with random weights
    freeze_encoder: bool = False  # True: train only the pooler and classification head
    eval_every_epoch: bool = True
    max_seconds: float | None = None
    seed: int = 0

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self).items())


# Chosen on the validation split in the chapter (04_transfer_measured) and the benchmark: with few labels the
# randomly initialised head needs many updates, so small sets get many epochs, a higher learning rate and warm-up.
SMALL_DATA = FinetuneSettings(learning_rate=1e-4, epochs=20, batch_size=16, warmup_ratio=0.1)
LARGE_DATA = FinetuneSettings(learning_rate=1e-4, epochs=1, batch_size=32, warmup_ratio=0.06)


def settings_for(n_train: int, **overrides) -> FinetuneSettings:
    """The chapter's fine-tuning settings for a training set of ``n_train`` examples."""
    if n_train <= 1000:
        base = replace(SMALL_DATA, epochs=20 if n_train <= 300 else 8)
    elif n_train <= 5000:
        base = replace(SMALL_DATA, epochs=3, batch_size=32)
    else:
        base = LARGE_DATA
    return replace(base, **overrides)


def make_classifier(checkpoint: str, settings: FinetuneSettings, num_labels: int = len(LABELS),
                    label_names=LABELS):
    """``AutoModelForSequenceClassification`` for ``checkpoint`` (pretrained or randomly initialised), label names set."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    id2label = dict(enumerate(label_names))
    extra = {}
    if settings.dropout is not None:
        extra = {"hidden_dropout_prob": settings.dropout, "attention_probs_dropout_prob": settings.dropout,
                 "classifier_dropout": settings.dropout}
    torch.manual_seed(settings.seed)  # the new head's initial weights
    if settings.pretrained:
        model = AutoModelForSequenceClassification.from_pretrained(
            checkpoint, num_labels=num_labels, id2label=id2label, label2id={v: k for k, v in id2label.items()}, **extra)
    else:
        config = AutoConfig.from_pretrained(checkpoint, num_labels=num_labels, id2label=id2label,
                                            label2id={v: k for k, v in id2label.items()}, **extra)
        model = AutoModelForSequenceClassification.from_config(config)
    if settings.freeze_encoder:
        for name, param in model.named_parameters():
            param.requires_grad = name.startswith(("classifier", "bert.pooler"))
    return model


def tokenize(ds, tokenizer, max_length: int = MAX_LENGTH):
    """Token ids without padding (the collator pads each batch): adds ``input_ids``, ``attention_mask`` (, ``token_type_ids``)."""
    return ds.map(lambda batch: tokenizer(batch["text"], truncation=True, max_length=max_length), batched=True)


@dataclass
class FinetuneResult:
    model: object
    trainer: object
    seconds: float
    steps: int
    examples_seen: int
    history: list  # the Trainer's log_history
    stopped_by_time: bool


def _time_limit_callback(max_seconds):
    from transformers import TrainerCallback

    class TimeLimit(TrainerCallback):
        """Stop training once ``max_seconds`` of wall time have passed (checked after every step)."""

        def __init__(self):
            self.start, self.hit = None, False

        def on_train_begin(self, args, state, control, **kw):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            if max_seconds is not None and time.perf_counter() - self.start > max_seconds:
                self.hit = True
                control.should_training_stop = True

    return TimeLimit()


def _quiet(trainer, verbose: bool):
    """Without ``verbose`` the Trainer prints nothing: with tqdm disabled it would print every log dict instead."""
    from transformers.trainer_callback import PrinterCallback

    if not verbose:
        trainer.remove_callback(PrinterCallback)
    return trainer


def finetune(train, validation, settings: FinetuneSettings, checkpoint: str, output_dir, tokenizer=None,
             early_stopping_patience: int | None = None, eval_on_train: bool = False,
             verbose: bool = False) -> FinetuneResult:
    """Fine-tune ``AutoModelForSequenceClassification`` on ``train`` (Dataset with ``text``, ``label``) with Trainer.

    Evaluates on ``validation`` after every epoch (when ``settings.eval_every_epoch``); with
    ``early_stopping_patience`` it keeps the best epoch by validation macro-F1. With ``eval_on_train`` the
    training set is evaluated too (log keys ``eval_train_loss``, ``eval_validation_loss``, ...), to draw the
    training and validation curves of the same model. Returns the trained model,
    the Trainer, the training wall time and the log history.
    """
    from transformers import (AutoTokenizer, DataCollatorWithPadding, EarlyStoppingCallback, Trainer,
                              TrainingArguments)

    tokenizer = tokenizer or AutoTokenizer.from_pretrained(checkpoint)
    model = make_classifier(checkpoint, settings)
    train_tok = tokenize(train, tokenizer, settings.max_length).select_columns(
        ["input_ids", "attention_mask", "label"])
    val_tok = tokenize(validation, tokenizer, settings.max_length).select_columns(
        ["input_ids", "attention_mask", "label"])
    evaluate = settings.eval_every_epoch or early_stopping_patience is not None
    eval_set = {"train": train_tok, "validation": val_tok} if eval_on_train else val_tok
    best_metric = "validation_macro_f1" if eval_on_train else "macro_f1"
    args = TrainingArguments(
        output_dir=str(output_dir), learning_rate=settings.learning_rate, num_train_epochs=settings.epochs,
        max_steps=settings.max_steps, per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=64, warmup_steps=settings.warmup_ratio, weight_decay=settings.weight_decay,
        lr_scheduler_type="linear", max_grad_norm=1.0, seed=settings.seed, use_cpu=True,
        eval_strategy="epoch" if evaluate else "no", save_strategy="epoch" if early_stopping_patience else "no",
        load_best_model_at_end=early_stopping_patience is not None, metric_for_best_model=best_metric,
        save_total_limit=1 if early_stopping_patience else None, save_only_model=True,
        logging_strategy="steps", logging_steps=10, report_to="none", disable_tqdm=not verbose)
    limit = _time_limit_callback(settings.max_seconds)
    callbacks = [limit]
    if early_stopping_patience is not None:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=early_stopping_patience))
    trainer = Trainer(model=model, args=args, train_dataset=train_tok, eval_dataset=eval_set,
                      data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer,
                      compute_metrics=compute_metrics, callbacks=callbacks)
    _quiet(trainer, verbose)
    start = time.perf_counter()
    out = trainer.train()
    seconds = time.perf_counter() - start
    steps = out.global_step
    return FinetuneResult(model=trainer.model.eval(), trainer=trainer, seconds=seconds, steps=steps,
                          examples_seen=steps * settings.batch_size, history=trainer.state.log_history,
                          stopped_by_time=limit.hit)


def _length_sorted_batches(texts: list, tokenizer, batch_size: int, max_length: int):
    """Yield (indices, tokenized batch) over texts sorted by length, so that little padding is wasted."""
    order = np.argsort([len(t) for t in texts])
    for start in range(0, len(texts), batch_size):
        idx = order[start:start + batch_size]
        yield idx, tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                             return_tensors="pt")


def predict_proba(model, tokenizer, texts, batch_size: int = 64, max_length: int = MAX_LENGTH) -> np.ndarray:
    """Class probabilities [n, classes] for a list of texts; batches of similar length so little padding is wasted."""
    import torch

    texts = list(texts)
    probs = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    model.eval()
    with torch.no_grad():
        for idx, batch in _length_sorted_batches(texts, tokenizer, batch_size, max_length):
            probs[idx] = torch.softmax(model(**batch).logits, dim=-1).numpy()
    return probs


def sentence_embeddings(texts, tokenizer, encoder, batch_size: int = 64, max_length: int = MAX_LENGTH) -> np.ndarray:
    """Mean-pooled, L2-normalised embeddings [n, hidden] of a frozen encoder (length-sorted batches)."""
    import torch

    from .embeddings import mean_pool

    texts = list(texts)
    out = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    encoder.eval()
    with torch.no_grad():
        for idx, batch in _length_sorted_batches(texts, tokenizer, batch_size, max_length):
            pooled = mean_pool(encoder(**batch).last_hidden_state, batch["attention_mask"])
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    return out


def polarity_from_3way(probs) -> np.ndarray:
    """Map 3-way probabilities [n, 3] (negative, neutral, positive) to 2-way predictions: 1 where P(pos) > P(neg).

    The neutral class has no counterpart among the movie reviews, so it is ignored: of the two polar
    classes, the one the model finds more probable wins.
    """
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[1] != 3:
        raise CourseError(f"polarity_from_3way expects probabilities of shape [n, 3], got {probs.shape}.")
    return (probs[:, 2] > probs[:, 0]).astype(int)


# ---------------------------------------------------------------------------------------------
# The Chinese review classifier: a character-level WordPiece tokenizer and a small BERT from scratch
# ---------------------------------------------------------------------------------------------

ZH_LABELS = data.POLARITY_LABELS  # ["negative", "positive"]
ZH_MAX_LENGTH = 128
ZH_MODEL = {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 512,
            "max_position_embeddings": ZH_MAX_LENGTH + 2}
ZH_VOCAB_SIZE = 6000


ZH_SIZES = {"fast": {"train": 600, "validation": 200, "test": 300},
            # full mode trains on a stratified 4,000 of the 13k training reviews: the whole set takes several
            # times the 5-minute notebook budget on two cores (validation and test stay whole)
            "full": {"train": 4000}}


def zh_splits(fast: bool = False):
    """Stratified 75/10/15 splits of the Chinese reviews, with the training side cut to ``ZH_SIZES``."""
    splits = _cached_splits("zh-reviews-v1", lambda: stratified_splits(data.load_chinese_reviews()), ZH_LABELS)
    for name, n in ZH_SIZES["fast" if fast else "full"].items():
        splits[name] = stratified_subset(splits[name], n)
    return splits


def train_zh_tokenizer(texts, vocab_size: int = ZH_VOCAB_SIZE):
    """A character-level WordPiece tokenizer trained on ``texts`` with the ``tokenizers`` library, as a fast tokenizer.

    BERT's Chinese pre-tokenizer puts spaces around every CJK character, so each Chinese character is a
    word and the vocabulary holds the frequent characters; Latin words and digits get WordPiece pieces.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(list(texts), trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials,
                                                                   min_frequency=2))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    from tokenizers import decoders

    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=ZH_MAX_LENGTH)


def zh_classifier(tokenizer, seed: int = 0):
    """A small ``BertForSequenceClassification`` (2 layers, hidden 128) with random weights for the Chinese reviews."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    id2label = dict(enumerate(ZH_LABELS))
    config = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, num_labels=2,
                        id2label=id2label, label2id={v: k for k, v in id2label.items()}, **ZH_MODEL)
    torch.manual_seed(seed)
    return BertForSequenceClassification(config)


ZH_SETTINGS = {"learning_rate": 1e-3, "epochs": 3, "batch_size": 32, "warmup_ratio": 0.1, "weight_decay": 0.01}


def train_zh_classifier(splits, output_dir, fast: bool = False, verbose: bool = False):
    """Train the tokenizer and the small BERT on the training reviews; returns (model, tokenizer, trainer, seconds)."""
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    tokenizer = train_zh_tokenizer(splits["train"]["text"], vocab_size=2000 if fast else ZH_VOCAB_SIZE)
    model = zh_classifier(tokenizer)
    cols = ["input_ids", "attention_mask", "label"]
    max_length = 64 if fast else ZH_MAX_LENGTH
    train_tok = tokenize(splits["train"], tokenizer, max_length).select_columns(cols)
    val_tok = tokenize(splits["validation"], tokenizer, max_length).select_columns(cols)
    s = ZH_SETTINGS
    args = TrainingArguments(
        output_dir=str(output_dir), learning_rate=s["learning_rate"], num_train_epochs=1 if fast else s["epochs"],
        per_device_train_batch_size=s["batch_size"], per_device_eval_batch_size=64, warmup_steps=s["warmup_ratio"],
        weight_decay=s["weight_decay"], seed=0, use_cpu=True, eval_strategy="epoch", save_strategy="no",
        logging_steps=10, report_to="none", disable_tqdm=not verbose)
    trainer = Trainer(model=model, args=args, train_dataset=train_tok, eval_dataset=val_tok,
                      data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer,
                      compute_metrics=compute_metrics)
    _quiet(trainer, verbose)
    start = time.perf_counter()
    trainer.train()
    return trainer.model.eval(), tokenizer, trainer, time.perf_counter() - start


def char_ngram_baseline(texts, labels):
    """Character 1-3-gram TF-IDF + logistic regression: the strong classical baseline for Chinese text."""
    return tfidf_baseline(texts, labels, analyzer="char", ngram_range=(1, 3), min_df=2)


# ---------------------------------------------------------------------------------------------
# The chapter's tweet classifier (notebook 02 trains it; the recipe `tweet-classifier` repeats it)
# ---------------------------------------------------------------------------------------------

TWEET_CLASSIFIER_FULL = replace(LARGE_DATA, max_steps=100, eval_every_epoch=False)
TWEET_CLASSIFIER_FAST = replace(LARGE_DATA, max_steps=6, batch_size=16, eval_every_epoch=False)
FAST_SIZES = {"train": 400, "validation": 200, "test": 300}


def tweet_classifier_setup(fast: bool):
    """(splits, settings) of the chapter's tweet classifier: in FAST mode stratified subsets and 6 steps."""
    splits = tweet_splits()
    if fast:
        for name, n in FAST_SIZES.items():
            splits[name] = stratified_subset(splits[name], n)
    return splits, (TWEET_CLASSIFIER_FAST if fast else TWEET_CLASSIFIER_FULL)
