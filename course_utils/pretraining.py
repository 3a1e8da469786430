"""Chapter 6's data, tokenizer, model configs and training runs, shared by the chapter and the recipes.

The chapter (``chapters/06_pretraining``) writes every step in the open (``Dataset.map``, ``group_texts``,
``GPT2Config``, ``TrainingArguments``, ``Trainer``) and asserts that its settings equal the ones here;
the recipes ``course_utils/recipes/tiny_gpt.py`` and ``tiny_bert.py`` call :func:`train_tiny_gpt` and
:func:`train_tiny_bert`, so a model rebuilt by a later chapter is trained exactly as chapter 6 trains it.

Data: the course's Wikipedia articles split by article exactly as chapter 1 splits them
(``train_test_split(test_size=0.1, seed=0)``, see :func:`course_utils.ngram.load_lm_corpus`); the
held-out side is called ``validation`` here.
"""
from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import numpy as np
import torch

from .errors import CourseError

SPLIT = dict(test_size=0.1, seed=0)  # the same arguments as chapter 1's load_lm_corpus

EOS = "<|endoftext|>"  # separates articles; also the GPT's bos, eos and pad token
PAD = "<pad>"
MASK = "<mask>"
UNK = "<unk>"  # never produced by a byte-level BPE; BERT's config and the pipeline expect one to exist

# Vocabulary size of the byte-level BPE tokenizer (full mode, FAST mode).
VOCAB_SIZE = {"full": 2048, "fast": 1024}

# The tiny GPT: GPT2Config(vocab_size=len(tokenizer), bos/eos/pad ids of the tokenizer, **TINY_GPT).
TINY_GPT = dict(n_positions=128, n_embd=128, n_layer=2, n_head=4, n_inner=512, activation_function="gelu_new",
                resid_pdrop=0.1, embd_pdrop=0.1, attn_pdrop=0.1, tie_word_embeddings=True)

# The tiny BERT: BertConfig(vocab_size=len(tokenizer), pad_token_id=..., **TINY_BERT).
TINY_BERT = dict(max_position_embeddings=128, hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=512, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                 type_vocab_size=1, tie_word_embeddings=True)

BLOCK_SIZE = {"full": 128, "fast": 64}
N_ARTICLES_FAST = 12  # FAST mode keeps the first 12 articles (before the split)
MLM_PROBABILITY = 0.15


def mode(fast: bool | None = None) -> str:
    from .config import is_fast

    fast = is_fast() if fast is None else fast
    return "fast" if fast else "full"


def gpt_train_settings(fast: bool | None = None) -> dict:
    """Keyword arguments of ``TrainingArguments`` for the tiny GPT (besides output_dir and logging)."""
    full = mode(fast) == "full"
    return dict(max_steps=600 if full else 30, per_device_train_batch_size=8,
                learning_rate=3e-3, lr_scheduler_type="cosine", warmup_steps=0.05,
                weight_decay=0.1, adam_beta2=0.98, max_grad_norm=1.0, seed=0)


def bert_train_settings(fast: bool | None = None) -> dict:
    """Keyword arguments of ``TrainingArguments`` for the tiny BERT (besides output_dir and logging)."""
    full = mode(fast) == "full"
    return dict(max_steps=600 if full else 30, per_device_train_batch_size=8,
                learning_rate=1e-3, lr_scheduler_type="cosine", warmup_steps=0.05,
                weight_decay=0.1, adam_beta2=0.98, max_grad_norm=1.0, seed=0)


# ------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------

def load_split(fast: bool | None = None, articles=None):
    """The Wikipedia articles as a ``DatasetDict`` with ``train`` and ``validation`` (title, text).

    The same articles on each side as ``course_utils.ngram.load_lm_corpus()`` (FAST mode: the first
    ``N_ARTICLES_FAST`` articles, as chapter 1's FAST mode). ``articles``: an already loaded
    ``cu.data.load_wikipedia()`` Dataset.
    """
    from datasets import DatasetDict

    if articles is None:
        from .data import load_wikipedia

        articles = load_wikipedia()
    if mode(fast) == "fast":
        articles = articles.select(range(min(N_ARTICLES_FAST, len(articles))))
    split = articles.train_test_split(**SPLIT)
    return DatasetDict(train=split["train"], validation=split["test"])


def train_tokenizer(texts, vocab_size: int):
    """Train a byte-level BPE tokenizer on ``texts`` and wrap it for transformers.

    Special tokens: ``<|endoftext|>`` (id 0; bos, eos, and the article separator), ``<pad>``, ``<mask>``
    (with ``lstrip`` so that ``"is <mask>"`` masks the word with its leading space, as RoBERTa does) and
    ``<unk>`` (never produced: every byte is in the base alphabet). Returns a ``PreTrainedTokenizerFast``.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 300:
        raise CourseError(f"vocab_size={vocab_size} is too small: a byte-level BPE needs the 256 bytes plus merges.")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS, PAD, MASK, UNK],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(list(texts), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS, pad_token=PAD, unk_token=UNK,
                                   mask_token=AddedToken(MASK, lstrip=True, special=True),
                                   clean_up_tokenization_spaces=False)


def tokenize_function(tokenizer):
    """``Dataset.map(batched=True)`` function: each article's token ids followed by ``<|endoftext|>``."""
    eos = tokenizer.eos_token_id

    def tokenize(examples):
        out = tokenizer(examples["text"], add_special_tokens=False)
        return {"input_ids": [ids + [eos] for ids in out["input_ids"]],
                "attention_mask": [m + [1] for m in out["attention_mask"]]}

    return tokenize


def group_texts(examples: dict, block_size: int) -> dict:
    """Concatenate every list column of a batch and cut it into blocks of ``block_size``.

    The remainder shorter than a block is dropped; ``labels`` is a copy of ``input_ids`` (the causal
    LM head shifts them itself). Input: ``{"input_ids": [[...], ...], "attention_mask": [...]}``.
    """
    concatenated = {k: list(itertools.chain.from_iterable(examples[k])) for k in examples}
    total = len(concatenated["input_ids"]) // block_size * block_size
    result = {k: [t[i:i + block_size] for i in range(0, total, block_size)] for k, t in concatenated.items()}
    result["labels"] = [list(x) for x in result["input_ids"]]
    return result


def prepare_blocks(split, tokenizer, block_size: int):
    """Tokenize a ``DatasetDict`` of articles and group it into blocks: the chapter's two ``map`` calls."""
    tokenized = split.map(tokenize_function(tokenizer), batched=True, remove_columns=["title", "text"])
    return tokenized.map(group_texts, batched=True, batch_size=1000, fn_kwargs={"block_size": block_size})


# ------------------------------------------------------------------------------------------------
# Evaluation
# ------------------------------------------------------------------------------------------------

def article_token_ids(texts, tokenizer) -> list[list[int]]:
    """Each article's token ids (no special tokens); the unit both the GPT and the n-gram model score."""
    return tokenizer(list(texts), add_special_tokens=False)["input_ids"]


@torch.no_grad()
def gpt_token_nll(model, articles_ids: list[list[int]], eos_id: int, window: int, stride: int | None = None,
                  batch_size: int = 16) -> np.ndarray:
    """Negative log-likelihood (nats) of every token of every article and of its final ``<|endoftext|>``.

    Each article is scored as ``<|endoftext|> ids <|endoftext|>``: the first token is predicted from the
    separator alone, exactly as the n-gram model predicts it from ``<s>``, and the closing separator plays
    the part of ``</s>``. Long articles are scored with a sliding window of ``window`` tokens moved by
    ``stride`` (default ``window // 2``): every token after the first window sees at least
    ``window - stride`` tokens of context. ``stride == window`` gives disjoint blocks, where the first
    tokens of each block lose their context. Returns an array of shape (sum(len(ids) + 1),).
    """
    stride = stride or window // 2
    if not 0 < stride <= window:
        raise CourseError(f"stride must lie in (0, window={window}], got {stride}.")
    model.eval()
    chunks = []  # (input ids, number of leading positions whose predictions are not scored)
    for ids in articles_ids:
        seq = [eos_id] + list(ids) + [eos_id]
        n_pred = len(seq) - 1
        start = 0
        scored_until = 0  # predictions of seq[1..scored_until] are done
        while scored_until < n_pred:
            end = min(start + window, len(seq))
            chunks.append((seq[start:end], scored_until - start))
            scored_until = end - 1
            start = end - 1 - (window - stride) if end < len(seq) else end
            start = max(start, 0)
    out = []
    for b in range(0, len(chunks), batch_size):
        batch = chunks[b:b + batch_size]
        width = max(len(c) for c, _ in batch)
        ids = torch.full((len(batch), width), eos_id)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, (c, _) in enumerate(batch):
            ids[i, :len(c)] = torch.tensor(c)
            mask[i, :len(c)] = 1
        logits = model(input_ids=ids, attention_mask=mask).logits.float()  # (B, T, V)
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        nll = -logp.gather(-1, ids[:, 1:, None])[..., 0]  # (B, T-1): position t predicts token t+1
        for i, (c, skip) in enumerate(batch):
            out.append(nll[i, skip:len(c) - 1].numpy())
    return np.concatenate(out).astype(np.float64)


def ngram_token_nll(lm, articles_ids: list[list[int]]) -> np.ndarray:
    """The same tokens scored by a ``course_utils.ngram.NgramLM`` fitted on token-id strings: shape (N,)."""
    sentences = [[str(i) for i in ids] for ids in articles_ids]
    return -lm.token_logprobs(sentences)


def fit_token_ngram(n: int, train_ids: list[list[int]], vocab_size: int, smoothing: str = "mkn"):
    """A ``NgramLM`` over BPE token ids (as strings); its vocabulary is every id, so nothing is ``<unk>``."""
    from . import ngram

    vocab = ngram.Vocab(str(i) for i in range(vocab_size))
    return ngram.NgramLM(n, vocab, smoothing=smoothing).fit([[str(i) for i in ids] for ids in train_ids])


# ------------------------------------------------------------------------------------------------
# Training runs (the recipes and the benchmark use these; the chapter writes the same steps out)
# ------------------------------------------------------------------------------------------------

def gpt_config(tokenizer, **overrides):
    from transformers import GPT2Config

    return GPT2Config(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                      eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                      **{**TINY_GPT, **overrides})


def bert_config(tokenizer, **overrides):
    from transformers import BertConfig

    return BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **{**TINY_BERT, **overrides})


def _training_arguments(out_dir, settings: dict, eval_steps: int | None):
    from transformers import TrainingArguments

    logging_steps = max(settings["max_steps"] // 20, 1)
    return TrainingArguments(
        output_dir=str(out_dir), logging_steps=logging_steps, report_to="none", save_strategy="no",
        eval_strategy="steps" if eval_steps else "no", eval_steps=eval_steps, per_device_eval_batch_size=32,
        use_cpu=True, dataloader_num_workers=0, disable_tqdm=True, **settings)


def _prepare(fast: bool | None):
    """Mode, article split, the trained tokenizer and the grouped blocks: what both training runs start from."""
    from transformers import set_seed

    m = mode(fast)
    set_seed(0)
    split = load_split(m == "fast")
    tokenizer = train_tokenizer(split["train"]["text"], VOCAB_SIZE[m])
    return m, split, tokenizer, prepare_blocks(split, tokenizer, BLOCK_SIZE[m])


def _settings_and_arguments(settings: dict, work_dir, max_steps: int | None, evaluate: bool):
    """The mode's settings with ``max_steps`` overridden if given, and the ``TrainingArguments`` built from them."""
    if max_steps is not None:
        settings["max_steps"] = max_steps
    eval_steps = max(settings["max_steps"] // 5, 1) if evaluate else None
    return settings, _training_arguments(work_dir, settings, eval_steps)


def train_tiny_gpt(work_dir: Path, fast: bool | None = None, max_steps: int | None = None, evaluate: bool = False):
    """Chapter 6's tiny GPT: tokenizer, blocks, ``GPT2LMHeadModel`` trained with ``Trainer``.

    Returns ``dict(model, tokenizer, trainer, split, blocks, seconds, tokens_per_second)``.
    ``max_steps`` overrides the mode's number of steps (the benchmark trains longer).
    """
    from transformers import DataCollatorForLanguageModeling, GPT2LMHeadModel, Trainer, set_seed

    m, split, tokenizer, blocks = _prepare(fast)
    set_seed(0)
    model = GPT2LMHeadModel(gpt_config(tokenizer))
    settings, args = _settings_and_arguments(gpt_train_settings(m == "fast"), work_dir, max_steps, evaluate)
    trainer = Trainer(model=model, args=args, train_dataset=blocks["train"], eval_dataset=blocks["validation"],
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False))
    return _train_timed(trainer, settings, BLOCK_SIZE[m], tokenizer=tokenizer, split=split, blocks=blocks)


def _train_timed(trainer, settings: dict, block_size: int, **extra) -> dict:
    """Run ``trainer.train()``; return the model in eval mode, the trainer, seconds and tokens/second, plus ``extra``."""
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    tokens = settings["max_steps"] * settings["per_device_train_batch_size"] * block_size
    trainer.model.eval()
    return dict(model=trainer.model, trainer=trainer, seconds=seconds, tokens_per_second=tokens / seconds, **extra)


def train_tiny_bert(work_dir: Path, fast: bool | None = None, max_steps: int | None = None, evaluate: bool = False):
    """Chapter 6's tiny BERT: the same tokenizer and blocks, ``BertForMaskedLM`` with 15 % dynamic masking."""
    from transformers import BertForMaskedLM, DataCollatorForLanguageModeling, Trainer, set_seed

    m, split, tokenizer, blocks = _prepare(fast)
    blocks = blocks.remove_columns("labels")  # the masking collator makes the labels
    set_seed(0)
    model = BertForMaskedLM(bert_config(tokenizer))
    settings, args = _settings_and_arguments(bert_train_settings(m == "fast"), work_dir, max_steps, evaluate)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=MLM_PROBABILITY)
    trainer = Trainer(model=model, args=args, train_dataset=blocks["train"], eval_dataset=blocks["validation"],
                      data_collator=collator)
    return _train_timed(trainer, settings, BLOCK_SIZE[m], tokenizer=tokenizer, split=split, blocks=blocks)


def perplexity(nll: np.ndarray) -> float:
    """exp(mean NLL) of per-token negative log-likelihoods in nats."""
    return float(math.exp(float(np.mean(nll))))
