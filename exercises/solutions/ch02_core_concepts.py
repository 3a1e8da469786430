"""Solutions to exercises/ch02_core_concepts.ipynb (for instructors; the tests
fill them into the notebook).
"""


def mean_pool(hidden, mask):
    """Average of the real token vectors: hidden [batch, seq, dim], mask [batch,
    seq] -> [batch, dim].
    """
    mask = mask.unsqueeze(-1).to(
        hidden.dtype
    )  # [batch, seq, 1], broadcasts over dim
    summed = (hidden * mask).sum(
        dim=1
    )  # [batch, dim]: padding positions contribute 0
    n_real = mask.sum(dim=1)  # [batch, 1]: number of real tokens per sentence
    return summed / n_real


def cosine_similarity_matrix(a, b):
    """Cosine similarity of every row of a [n, dim] with every row of b [m, dim]
    -> [n, m].
    """
    a_unit = a / a.norm(dim=1, keepdim=True)  # each row scaled to length 1
    b_unit = b / b.norm(dim=1, keepdim=True)
    return a_unit @ b_unit.T


def pieces_per_word(text, tokenizer):
    """How many WordPiece tokens each word of `text` becomes, in word order
    (special tokens excluded).
    """
    word_ids = tokenizer(
        text
    ).word_ids()  # one entry per token; None for [CLS] and [SEP]
    counts = {}
    for word in word_ids:
        if word is not None:
            counts[word] = counts.get(word, 0) + 1
    return [counts[word] for word in sorted(counts)]
