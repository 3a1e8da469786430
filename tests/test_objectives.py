"""The loss formulas of chapter 4 (03_objectives) against torch and
transformers.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    BertForPreTraining,
    DataCollatorForLanguageModeling,
    GPT2Config,
    GPT2LMHeadModel,
)
from transformers.utils import logging as hf_logging

import course_utils as cu

hf_logging.set_verbosity_error()


def nll(logits, targets):
    """-log softmax(logits)[target] at every position; targets may hold -100
    (clamped, mask them yourself).
    """
    return (
        -F.log_softmax(logits, dim=-1)
        .gather(-1, targets.clamp(min=0)[..., None])
        .squeeze(-1)
    )


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(
        cu.resolve_checkpoint("all-MiniLM-L6-v2")
    )


def test_cross_entropy_softmax_and_label_smoothing():
    gen = torch.Generator().manual_seed(0)
    logits, y = (
        torch.randn(7, 5, generator=gen) * 3,
        torch.tensor([0, 4, 2, 2, 1, 3, 0]),
    )
    by_hand = (torch.logsumexp(logits, -1) - logits[torch.arange(7), y]).mean()
    assert_close(by_hand, F.cross_entropy(logits, y))
    probs = torch.exp(logits) / torch.exp(logits).sum(-1, keepdim=True)
    assert_close(
        -torch.log(probs[torch.arange(7), y]).mean(), F.cross_entropy(logits, y)
    )
    # logits, not probabilities
    assert not torch.allclose(
        F.cross_entropy(probs, y), F.cross_entropy(logits, y), atol=1e-3
    )
    q = torch.full_like(logits, 0.1 / 5)
    q[torch.arange(7), y] += 0.9
    assert_close(
        -(q * F.log_softmax(logits, -1)).sum(-1).mean(),
        F.cross_entropy(logits, y, label_smoothing=0.1),
    )
    big = torch.tensor([[1000.0, 999.0, 995.0]])
    m = big.max()
    by_hand = m + torch.log(torch.exp(big - m).sum()) - big[0, 1]
    # by_hand passes through 1000.32, rounded in steps of 6e-5 there: atol 1e-4,
    # not 1e-5
    assert_close(
        by_hand, F.cross_entropy(big, torch.tensor([1])), atol=1e-4, rtol=1e-5
    )


def test_stacked_linear_layers_are_one_matrix():
    gen = torch.Generator().manual_seed(0)
    # the same formula, so float64 (CONTRIBUTING.md rule 2): the default
    # tolerances then hold on every CPU
    x, W1, W2 = (
        torch.randn(*shape, generator=gen, dtype=torch.float64)
        for shape in [(10, 4), (4, 16), (16, 4)]
    )
    assert_close((x @ W1) @ W2, x @ (W1 @ W2))
    assert not torch.allclose(F.relu(x @ W1) @ W2, x @ (W1 @ W2), atol=1e-3)


def test_clm_loss_equals_gpt2(tokenizer):
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=32,
        n_embd=32,
        n_layer=1,
        n_head=2,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    model = GPT2LMHeadModel(config).eval()
    batch = tokenizer(
        ["A short one.", "A somewhat longer sentence for the language model."],
        padding=True,
        return_tensors="pt",
    )
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    with torch.no_grad():
        out = model(
            **{k: batch[k] for k in ("input_ids", "attention_mask")},
            labels=labels,
        )
    target = labels[:, 1:]
    keep = target != -100
    by_hand = nll(out.logits[:, :-1], target)[keep].mean()
    assert_close(
        by_hand, out.loss, atol=1e-5, rtol=1e-5
    )  # log-softmax over 30522 logits: sqrt(V) u = 1e-5
    assert not torch.allclose(
        nll(out.logits, labels)[labels != -100].mean(), out.loss, atol=1e-3
    )  # unshifted is wrong
    assert (
        0.8 * len(tokenizer) < math.exp(out.loss.item()) < 1.25 * len(tokenizer)
    )  # untrained: ~uniform


def _mask(input_ids, special, tokenizer, gen):
    candidates = special == 0
    n_select = (candidates.sum(-1) * 0.15).round().clamp(min=1)
    rank = (
        torch.rand(input_ids.shape, generator=gen)
        .masked_fill(~candidates, 2.0)
        .argsort(-1)
        .argsort(-1)
    )
    selected = rank < n_select[:, None]
    labels = input_ids.masked_fill(~selected, -100)
    u = torch.rand(input_ids.shape, generator=gen)
    inputs = input_ids.clone()
    inputs[selected & (u < 0.8)] = tokenizer.mask_token_id
    rand = selected & (u >= 0.8) & (u < 0.9)
    inputs[rand] = torch.randint(
        len(tokenizer), input_ids.shape, generator=gen
    )[rand]
    return inputs, labels


def test_mlm_loss_equals_bert_for_masked_lm(tokenizer):
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    model = BertForMaskedLM(config).eval()
    enc = tokenizer(
        [
            "the quick brown fox jumps over the lazy dog " * 3,
            "a second, shorter text here",
        ],
        padding=True,
        return_special_tokens_mask=True,
        return_tensors="pt",
    )
    inputs, labels = _mask(
        enc["input_ids"],
        enc["special_tokens_mask"],
        tokenizer,
        torch.Generator().manual_seed(0),
    )
    assert torch.all(labels[enc["special_tokens_mask"] == 1] == -100)
    with torch.no_grad():
        out = model(
            input_ids=inputs,
            attention_mask=enc["attention_mask"],
            labels=labels,
        )
    keep = labels != -100
    assert_close(
        nll(out.logits[keep], labels[keep]).mean(),
        out.loss,
        atol=1e-5,
        rtol=1e-5,
    )  # log-softmax over 30522


def test_nsp_and_total_loss_equal_bert_for_pretraining(tokenizer):
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    model = BertForPreTraining(config).eval()
    enc = tokenizer(
        ["The cat sat on the mat.", "Paris is the capital of France."],
        ["It was a sunny day.", "Photosynthesis happens in leaves."],
        padding=True,
        return_special_tokens_mask=True,
        return_tensors="pt",
    )
    nsp_labels = torch.tensor([0, 1])  # 0 = IsNext, 1 = NotNext
    inputs, labels = _mask(
        enc["input_ids"],
        enc["special_tokens_mask"],
        tokenizer,
        torch.Generator().manual_seed(1),
    )
    with torch.no_grad():
        out = model(
            input_ids=inputs,
            attention_mask=enc["attention_mask"],
            token_type_ids=enc["token_type_ids"],
            labels=labels,
            next_sentence_label=nsp_labels,
        )
        pooled = model.bert(
            input_ids=inputs,
            attention_mask=enc["attention_mask"],
            token_type_ids=enc["token_type_ids"],
        ).pooler_output
    assert_close(
        model.cls.seq_relationship(pooled), out.seq_relationship_logits
    )
    nsp = nll(out.seq_relationship_logits, nsp_labels).mean()
    keep = labels != -100
    mlm = nll(out.prediction_logits[keep], labels[keep]).mean()
    assert_close(
        mlm + nsp, out.loss, atol=1e-5, rtol=1e-5
    )  # log-softmax over 30522 logits: sqrt(V) u = 1e-5


def test_data_collator_follows_80_10_10(tokenizer):
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 20000, (400, 64), generator=gen)
    ids[:, 0], ids[:, -1] = tokenizer.cls_token_id, tokenizer.sep_token_id
    special = torch.zeros_like(ids)
    special[:, 0] = special[:, -1] = 1
    collator = DataCollatorForLanguageModeling(
        tokenizer=tokenizer, mlm_probability=0.15, seed=0
    )
    out = collator(
        [
            {"input_ids": r, "special_tokens_mask": s}
            for r, s in zip(ids.tolist(), special.tolist())
        ]
    )
    selected = out["labels"] != -100
    n = int(selected.sum())
    assert abs(n / int((special == 0).sum()) - 0.15) < 0.01
    assert torch.equal(out["labels"][selected], ids[selected])
    masked = (
        (out["input_ids"][selected] == tokenizer.mask_token_id)
        .float()
        .mean()
        .item()
    )
    unchanged = (
        (out["input_ids"][selected] == ids[selected]).float().mean().item()
    )
    for share, p in [
        (masked, 0.8),
        (unchanged, 0.1),
        (1 - masked - unchanged, 0.1),
    ]:
        assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / n)
