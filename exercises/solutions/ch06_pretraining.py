"""Solutions of exercises/ch06_pretraining.ipynb."""

import itertools

import torch


def group_texts(examples, block_size):
    concatenated = {
        k: list(itertools.chain.from_iterable(examples[k])) for k in examples
    }
    total = len(concatenated["input_ids"]) // block_size * block_size
    result = {
        k: [seq[i : i + block_size] for i in range(0, total, block_size)]
        for k, seq in concatenated.items()
    }
    result["labels"] = [list(block) for block in result["input_ids"]]
    return result


def filter_distribution(logits, top_k=0, top_p=1.0):
    logits = logits.clone()
    if top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[
            ..., -1:
        ]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_probs, order = logits.softmax(-1).sort(dim=-1, descending=True)
        mass_before = sorted_probs.cumsum(-1) - sorted_probs
        keep_sorted = mass_before < top_p
        keep_sorted[..., 0] = True  # the most probable token always stays
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        logits = logits.masked_fill(~keep, float("-inf"))
    return logits.softmax(-1)
