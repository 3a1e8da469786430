"""Extractive question answering (chapter 8): the course's SQuAD-style set and the SQuAD metrics.

``wiki_qa.json`` (in ``course_data``) holds questions that the course authors wrote over single paragraphs
of the packaged Wikipedia articles (:func:`course_utils.data.load_wikipedia`), in the fields of SQuAD v1.1
(Rajpurkar et al., 2016): ``id``, ``title``, ``context``, ``question`` and ``answers`` =
``{"text": [...], "answer_start": [...]}``, where ``answer_start`` is the character offset of the answer in
the context. The split into train / validation / test is by article, so that no passage of a test
question was seen in training.

The metrics follow the official SQuAD v1.1 evaluation script: both strings are normalised (lower case,
punctuation removed, the articles *a*, *an*, *the* removed, white space collapsed); **exact match** is 1
when the normalised strings are equal, **F1** is the harmonic mean of precision and recall of their
bag of words; for several gold answers the best score counts. Chapter 8 writes them out in the open
and checks them against these functions.

The feature preparation and the span search used by the chapter and by the benchmark live here too, so
that the two cannot drift: :func:`prepare_features` (question + context with ``stride`` and
``return_overflowing_tokens``), :func:`best_span` (the best valid start/end pair of one feature) and
:func:`postprocess` (the best answer text of each question over all its features).
"""
from __future__ import annotations

import collections
import json
import re
import string
from pathlib import Path

import datasets

from .errors import CourseError

DATA_FILE = Path(__file__).resolve().parent / "course_data" / "wiki_qa.json"
SPLITS = ("train", "validation", "test")


def load_wiki_qa() -> datasets.DatasetDict:
    """The course's QA set as a DatasetDict with splits train / validation / test (split by article).

    Columns: ``id``, ``title``, ``context``, ``question``, ``answers`` (``text``, ``answer_start`` lists).
    """
    if not DATA_FILE.exists():
        raise CourseError(f"The QA data file {DATA_FILE.name} is missing: reinstall course_utils "
                          f"(it ships in course_utils/course_data).")
    rows = json.loads(DATA_FILE.read_text(encoding="utf-8"))["data"]
    features = datasets.Features({
        "id": datasets.Value("string"),
        "title": datasets.Value("string"),
        "context": datasets.Value("string"),
        "question": datasets.Value("string"),
        "answers": {"text": datasets.Sequence(datasets.Value("string")),
                    "answer_start": datasets.Sequence(datasets.Value("int32"))},
    })
    out = {}
    for split in SPLITS:
        part = [r for r in rows if r["split"] == split]
        out[split] = datasets.Dataset.from_dict(
            {k: [r[k] for r in part] for k in features}, features=features)
    return datasets.DatasetDict(out)


# ---------------------------------------------------------------------------------------------
# SQuAD v1.1 metrics
# ---------------------------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation, drop the articles a/an/the, collapse white space (SQuAD's order)."""
    if not isinstance(text, str):
        raise CourseError(f"normalize_answer expects a string, got {type(text).__name__}.")
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _golds(gold) -> list[str]:
    golds = [gold] if isinstance(gold, str) else list(gold)
    if not golds:
        raise CourseError("a question needs at least one gold answer to be scored.")
    return golds


def exact_match(prediction: str, gold) -> float:
    """1.0 if the normalised prediction equals the normalised gold answer (any of them, if a list), else 0.0."""
    return float(max(normalize_answer(prediction) == normalize_answer(g) for g in _golds(gold)))


def _f1_one(prediction: str, gold: str) -> float:
    pred_tokens, gold_tokens = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    n_same = sum(common.values())
    if n_same == 0:
        return 0.0
    precision, recall = n_same / len(pred_tokens), n_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def f1(prediction: str, gold) -> float:
    """Bag-of-words F1 of the normalised strings, the best over the gold answers."""
    return max(_f1_one(prediction, g) for g in _golds(gold))


def squad_scores(predictions: dict[str, str], dataset) -> dict[str, float]:
    """Mean exact match and F1 in percent, over every question of ``dataset`` (a prediction per ``id``).

    A question without a prediction counts as wrong (as in the official script).
    """
    if len(dataset) == 0:
        raise CourseError("squad_scores needs at least one question.")
    em = f = 0.0
    for row in dataset:
        pred = predictions.get(row["id"], "")
        em += exact_match(pred, row["answers"]["text"])
        f += f1(pred, row["answers"]["text"])
    return {"exact_match": 100 * em / len(dataset), "f1": 100 * f / len(dataset)}


# ---------------------------------------------------------------------------------------------
# Features and spans
# ---------------------------------------------------------------------------------------------

def prepare_features(examples: dict, tokenizer, max_length: int = 128, stride: int = 32,
                     train: bool = True) -> dict:
    """Tokenize question + context pairs for ``AutoModelForQuestionAnswering`` (use with ``Dataset.map(batched=True)``).

    A context longer than ``max_length`` is cut into several windows (*features*) that overlap by
    ``stride`` tokens; only the context is truncated (``truncation="only_second"``). With ``train=True``
    each feature gets ``start_positions`` / ``end_positions``, the token indices of the answer, or
    0 / 0 (the [CLS] token) when the answer is not inside that window. With ``train=False`` each feature
    keeps ``example_id`` and an ``offset_mapping`` in which every token that is not context is ``None``.
    """
    questions = [q.strip() for q in examples["question"]]
    enc = tokenizer(questions, examples["context"], max_length=max_length, stride=stride,
                    truncation="only_second", return_overflowing_tokens=True, return_offsets_mapping=True,
                    padding="max_length")
    sample_map = enc.pop("overflow_to_sample_mapping")  # feature -> index of its example in this batch
    offsets_all = enc.pop("offset_mapping")
    if train:
        starts, ends = [], []
        for i, offsets in enumerate(offsets_all):
            answers = examples["answers"][sample_map[i]]
            start_char = answers["answer_start"][0]
            end_char = start_char + len(answers["text"][0])
            seq_ids = enc.sequence_ids(i)
            ctx_start = seq_ids.index(1)
            ctx_end = len(seq_ids) - 1 - seq_ids[::-1].index(1)
            if offsets[ctx_start][0] > start_char or offsets[ctx_end][1] < end_char:
                starts.append(0)  # the answer is not (wholly) in this window: point at [CLS]
                ends.append(0)
                continue
            s = ctx_start
            while s <= ctx_end and offsets[s][0] <= start_char:
                s += 1
            e = ctx_end
            while e >= ctx_start and offsets[e][1] >= end_char:
                e -= 1
            starts.append(s - 1)
            ends.append(e + 1)
        enc["start_positions"] = starts
        enc["end_positions"] = ends
    else:
        enc["example_id"] = [examples["id"][sample_map[i]] for i in range(len(enc["input_ids"]))]
        enc["offset_mapping"] = [
            [o if s == 1 else None for o, s in zip(offsets, enc.sequence_ids(i))]
            for i, offsets in enumerate(offsets_all)]
    return enc


def best_span(start_logits, end_logits, offsets, max_answer_len: int = 30):
    """The best valid answer span of one feature: ``(start, end, score)`` or ``None``.

    ``start_logits`` and ``end_logits`` have one entry per token ``[seq]``; ``offsets`` has one entry per
    token, ``None`` for tokens outside the context (question, special tokens, padding). A valid span has
    ``start <= end``, ``end - start + 1 <= max_answer_len`` and both ends in the context; its score is
    ``start_logits[start] + end_logits[end]``. Token indices are inclusive.
    """
    import torch

    s_log = torch.as_tensor(start_logits, dtype=torch.float64).reshape(-1)
    e_log = torch.as_tensor(end_logits, dtype=torch.float64).reshape(-1)
    if s_log.shape != e_log.shape or len(offsets) != s_log.shape[0]:
        raise CourseError(f"best_span needs start_logits, end_logits and offsets of the same length, got "
                          f"{s_log.shape[0]}, {e_log.shape[0]} and {len(offsets)}.")
    n = s_log.shape[0]
    in_context = torch.tensor([o is not None for o in offsets])
    scores = s_log[:, None] + e_log[None, :]  # [seq, seq]: score of span (start=i, end=j)
    i = torch.arange(n)
    valid = (i[None, :] >= i[:, None]) & (i[None, :] - i[:, None] < max_answer_len)
    valid &= in_context[:, None] & in_context[None, :]
    if not valid.any():
        return None
    scores = scores.masked_fill(~valid, float("-inf"))
    flat = int(scores.argmax())
    start, end = divmod(flat, n)
    return start, end, float(scores[start, end])


def postprocess(examples, features, start_logits, end_logits, max_answer_len: int = 30) -> dict[str, str]:
    """The predicted answer text of every example: the best span over all of its features.

    ``features`` is the output of :func:`prepare_features` with ``train=False`` (it has ``example_id`` and
    ``offset_mapping``); ``start_logits`` / ``end_logits`` are ``[n_features, seq]``.
    """
    example_ids, offsets_all = list(features["example_id"]), list(features["offset_mapping"])
    by_example = collections.defaultdict(list)
    for k, example_id in enumerate(example_ids):
        by_example[example_id].append(k)
    predictions = {}
    for example in examples:
        best = None
        for k in by_example[example["id"]]:
            offsets = offsets_all[k]
            span = best_span(start_logits[k], end_logits[k], offsets, max_answer_len)
            if span is not None and (best is None or span[2] > best[2]):
                best = (offsets[span[0]][0], offsets[span[1]][1], span[2])
        predictions[example["id"]] = "" if best is None else example["context"][best[0]:best[1]]
    return predictions
