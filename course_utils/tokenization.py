"""Tokenizer helpers shared by chapters 5 to 8: the real GPT-2 tokenizer offline, fertility and [UNK] rate.

``gpt2_tokenizer()`` gives GPT-2's byte-level BPE tokenizer as an ordinary ``transformers`` tokenizer.
Where the Hugging Face Hub is reachable (Colab) it is ``AutoTokenizer.from_pretrained("openai-community/gpt2")``;
offline it is rebuilt from the merge ranks that ``openai-whisper`` ships (``gpt2.tiktoken``), with the same
pre-tokenizer, decoder and special token. The tests check that it gives exactly the ids of ``tiktoken``'s own
encoder for the same ranks.

``fertility`` (tokens per word, or per character) and ``unk_rate`` (share of tokens that are the unknown
token) measure how well a tokenizer fits a text; chapter 5 compares tokenizers with them.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache

from .assets import asset_path, hub_reachable, hub_revision
from .errors import CourseError

GPT2_HUB_ID = "openai-community/gpt2"
GPT2_EOS = "<|endoftext|>"
# GPT-2's pre-tokenization regex (from OpenAI's encoder.py): contractions, letters, digits, other symbols,
# each optionally with one leading space; runs of white space stay together except the last space.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def gpt2_ranks() -> dict[bytes, int]:
    """GPT-2's 50,256 byte sequences and their merge ranks (rank 0-255: the single bytes)."""
    from tiktoken.load import load_tiktoken_bpe

    return load_tiktoken_bpe(str(asset_path("gpt2-bpe-ranks")))


def gpt2_tiktoken():
    """``tiktoken``'s own GPT-2 encoder built from the packaged ranks (the reference the tests compare with)."""
    import tiktoken

    ranks = gpt2_ranks()
    return tiktoken.Encoding(name="gpt2-packaged", pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
                             special_tokens={GPT2_EOS: len(ranks)})


def _merges_from_ranks(ranks: dict[bytes, int]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary and merge list (in GPT-2's byte-to-unicode alphabet) from tiktoken ranks.

    A token of rank r was created by merging two shorter tokens; every split of it into two known tokens is
    listed with rank r, so that BPE with these merges applies the lowest-rank merge first, as tiktoken does.
    """
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    byte_to_char = bytes_to_unicode()

    def to_str(b: bytes) -> str:
        return "".join(byte_to_char[x] for x in b)

    vocab = {to_str(token): rank for token, rank in ranks.items()}
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        for i in range(1, len(token)):
            left, right = token[:i], token[i:]
            if left in ranks and right in ranks:
                merges.append((ranks[left], ranks[right], rank, left, right))
    merges.sort(key=lambda m: (m[2], m[0], m[1]))
    return vocab, [(to_str(m[3]), to_str(m[4])) for m in merges]


@lru_cache(maxsize=1)
def _offline_gpt2_backend():
    """The offline GPT-2 ``tokenizers.Tokenizer``, built once and then kept as tokenizer.json in the course cache."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    from .config import cache_dir

    cached = cache_dir() / "gpt2-packaged-tokenizer.json"
    if cached.exists():
        try:
            return Tokenizer.from_file(str(cached))
        except Exception:  # a truncated or stale file: rebuild it
            cached.unlink()
    vocab, merges = _merges_from_ranks(gpt2_ranks())
    vocab[GPT2_EOS] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False, ignore_merges=True))
    # the ByteLevel pre-tokenizer's built-in regex is GPT-2's pattern; then each byte becomes one visible character
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken(GPT2_EOS, special=True, normalized=False)])
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tok.save(str(tmp))
    tmp.replace(cached)  # atomic: parallel notebooks never read half a file
    return tok


def gpt2_tokenizer(use_hub: bool | None = None):
    """The GPT-2 byte-level BPE tokenizer (50,257 ids) as a ``transformers`` fast tokenizer.

    ``use_hub=None`` takes the Hub copy when the Hub is reachable and the packaged ranks otherwise; both
    encode every string to the same ids. ``<|endoftext|>`` (id 50256) is the BOS, EOS and UNK token, as on
    the Hub; GPT-2 has no padding token, so set ``tokenizer.pad_token = tokenizer.eos_token`` to pad.
    """
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if use_hub is None:
        use_hub = hub_reachable()
    if use_hub:
        return AutoTokenizer.from_pretrained(GPT2_HUB_ID, revision=hub_revision(GPT2_HUB_ID))
    from tokenizers import Tokenizer

    backend = Tokenizer.from_str(_offline_gpt2_backend().to_str())  # a copy: callers may change padding etc.
    return PreTrainedTokenizerFast(tokenizer_object=backend,
                                   bos_token=GPT2_EOS, eos_token=GPT2_EOS, unk_token=GPT2_EOS,
                                   model_max_length=1024, clean_up_tokenization_spaces=False)


# ---------------------------------------------------------------------------------------------
# Measuring a tokenizer on a text: fertility and [UNK] rate
# ---------------------------------------------------------------------------------------------

def _texts(texts) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise CourseError("Pass a string or a non-empty list of strings (the texts to tokenize).")
    return texts


def _encode_all(tokenizer, texts: list[str]) -> list[list[int]]:
    if hasattr(tokenizer, "encode_batch"):  # a raw `tokenizers.Tokenizer`
        return [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]
    if callable(tokenizer):  # a transformers tokenizer
        return tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    raise CourseError(f"Expected a transformers tokenizer or a tokenizers.Tokenizer, got {type(tokenizer).__name__}.")


def count_units(texts, unit: str = "word") -> int:
    """Number of words (white-space separated, punctuation attached) or of non-space characters in ``texts``."""
    texts = _texts(texts)
    if unit == "word":
        return sum(len(t.split()) for t in texts)
    if unit == "char":
        return sum(len(re.sub(r"\s", "", t)) for t in texts)
    raise CourseError(f"unit must be 'word' or 'char', not {unit!r}.")


def fertility(tokenizer, texts: str | Iterable[str], unit: str = "word") -> float:
    """Tokens per unit: tokens per white-space word (``unit="word"``) or per non-space character (``"char"``).

    Special tokens ([CLS], [SEP]) are not counted. Use ``unit="char"`` for languages written without spaces,
    such as Chinese, where a "word" would be a whole clause.
    """
    texts = _texts(texts)
    n_units = count_units(texts, unit)
    if n_units == 0:
        raise CourseError("The texts contain no words or characters to measure fertility on.")
    return sum(len(ids) for ids in _encode_all(tokenizer, texts)) / n_units


def _unk_id(tokenizer) -> int | None:
    if hasattr(tokenizer, "unk_token_id"):
        return tokenizer.unk_token_id
    model = getattr(tokenizer, "model", None)
    unk = getattr(model, "unk_token", None)
    return tokenizer.token_to_id(unk) if unk else None


def unk_rate(tokenizer, texts: str | Iterable[str]) -> float:
    """Share of the tokens of ``texts`` that are the unknown token (0.0 for a tokenizer that has none).

    A byte-level tokenizer never needs [UNK]; GPT-2's ``unk_token`` is ``<|endoftext|>``, which ordinary
    text never produces, so its rate is 0 as well.
    """
    texts = _texts(texts)
    unk = _unk_id(tokenizer)
    ids = [i for seq in _encode_all(tokenizer, texts) for i in seq]
    if not ids:
        raise CourseError("The texts gave no tokens at all.")
    return 0.0 if unk is None else sum(i == unk for i in ids) / len(ids)
