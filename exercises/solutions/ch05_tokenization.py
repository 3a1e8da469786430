"""Solutions to exercises/ch05_tokenization.ipynb (for instructors; the tests
fill them into the notebook)."""

from collections import Counter


def learn_bpe_merges(word_counts, num_merges):
    """The first `num_merges` BPE merges of a {word: count} corpus, as a list of
    (left, right) pairs."""
    splits = {
        word: list(word) for word in word_counts
    }  # each word as a list of symbols
    # tie rule: characters numbered in alphabetical order, then each new symbol
    # in the order it is created
    number = {
        ch: i
        for i, ch in enumerate(
            sorted({ch for word in word_counts for ch in word})
        )
    }
    merges = []
    for _ in range(num_merges):
        counts = Counter()
        for word, symbols in splits.items():
            for pair in zip(symbols, symbols[1:]):
                counts[pair] += word_counts[
                    word
                ]  # weighted by how often the word occurs
        if not counts:
            break
        best = min(
            counts, key=lambda p: (-counts[p], number[p[0]], number[p[1]])
        )
        merges.append(best)
        number.setdefault(best[0] + best[1], len(number))
        for (
            word,
            symbols,
        ) in splits.items():  # apply the merge before counting again
            merged, i = [], 0
            while i < len(symbols):
                if (
                    i + 1 < len(symbols)
                    and (symbols[i], symbols[i + 1]) == best
                ):
                    merged.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            splits[word] = merged
    return merges


def wordpiece_tokenize(word, vocab, unk="[UNK]"):
    """Greedy longest-match-first WordPiece pieces of one normalised word (a
    list of strings)."""
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        piece = None
        while start < end:  # try the longest candidate first, then shorter ones
            candidate = (
                word[start:end] if start == 0 else "##" + word[start:end]
            )
            if candidate in vocab:
                piece = candidate
                break
            end -= 1
        if piece is None:  # nothing matches here: the whole word is unknown
            return [unk]
        pieces.append(piece)
        start = end
    return pieces


def tokenizer_stats(tokenizer, texts):
    """{"fertility": tokens per white-space word, "unk_rate": share of tokens
    that are [UNK]}, no special tokens."""
    n_tokens = n_unknown = n_words = 0
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)[
            "input_ids"
        ]  # no [CLS]/[SEP]
        n_tokens += len(ids)
        n_unknown += sum(i == tokenizer.unk_token_id for i in ids)
        n_words += len(text.split())
    return {"fertility": n_tokens / n_words, "unk_rate": n_unknown / n_tokens}
