"""Solutions to exercises/ch08a_ner_and_qa.ipynb (for instructors; the tests
fill them into the notebook)."""

import torch


def align_labels_with_tokens(word_labels, word_ids):
    """One label per token: the word's label on its first piece, -100 on
    later pieces and special tokens."""
    labels = []
    previous = None
    for word in word_ids:
        if word is None:
            # [CLS], [SEP], padding: ignored by the loss
            labels.append(-100)
        elif word != previous:
            # the first piece of a new word carries the word's tag
            labels.append(word_labels[word])
        else:
            # a later piece of the same word: ignored, so each word counts once
            labels.append(-100)
        previous = word
    return labels


def best_span(start_logits, end_logits, offsets, max_answer_len):
    """The (start, end) token indices with the highest start + end logit
    among valid spans."""
    start_logits = torch.as_tensor(start_logits)
    end_logits = torch.as_tensor(end_logits)
    n = len(offsets)
    in_context = torch.tensor([o is not None for o in offsets])  # [seq]
    scores = start_logits[:, None] + end_logits[None, :]  # [seq, seq]: (i, j)
    i = torch.arange(n)
    length = i[None, :] - i[:, None] + 1  # [seq, seq]: end - start + 1
    valid = (length >= 1) & (length <= max_answer_len)
    valid &= in_context[:, None] & in_context[None, :]
    scores = scores.masked_fill(~valid, float("-inf"))
    start, end = divmod(int(scores.argmax()), n)
    return start, end
