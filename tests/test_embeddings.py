"""course_utils.embeddings: mean pooling, cosine matrices and encode, checked
against torch and sentence-transformers.
"""

import pytest
import torch
import torch.nn.functional as F

import course_utils as cu
from course_utils import embeddings


@pytest.fixture(scope="module")
def minilm():
    from transformers import AutoModel, AutoTokenizer

    checkpoint = cu.resolve_checkpoint("all-MiniLM-L6-v2")
    return (
        checkpoint,
        AutoTokenizer.from_pretrained(checkpoint),
        AutoModel.from_pretrained(checkpoint).eval(),
    )


SENTENCES = [
    "A short one.",
    "A much longer sentence, which forces the others in the batch to be "
    "padded.",
    "Pretraining needs no labels.",
    "The river bank was muddy.",
]


def test_mean_pool_ignores_padding():
    hidden = torch.randn(2, 4, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    pooled = embeddings.mean_pool(hidden, mask)
    assert pooled.shape == (2, 3)
    torch.testing.assert_close(pooled[0], hidden[0, :2].mean(dim=0))
    torch.testing.assert_close(pooled[1], hidden[1].mean(dim=0))
    hidden[0, 2:] = 1e6  # whatever sits at padding positions must not matter
    torch.testing.assert_close(embeddings.mean_pool(hidden, mask), pooled)


def test_mean_pool_all_padding_row_gives_zeros_not_nan():
    pooled = embeddings.mean_pool(torch.ones(1, 3, 2), torch.zeros(1, 3))
    assert torch.isfinite(pooled).all() and (pooled == 0).all()


def test_mean_pool_bad_shapes_get_clear_errors():
    with pytest.raises(
        ValueError, match=r"hidden_states must be \[batch, seq, dim\]"
    ):
        embeddings.mean_pool(torch.zeros(2, 3), torch.ones(2, 3))
    with pytest.raises(
        ValueError, match=r"attention_mask must be \[batch, seq\] = \(2, 3\)"
    ):
        embeddings.mean_pool(torch.zeros(2, 3, 4), torch.ones(3, 2))


def test_cosine_similarity_matrix_matches_torch():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(3, 5, generator=g) * 4, torch.randn(4, 5, generator=g)
    sims = embeddings.cosine_similarity_matrix(a, b)
    assert sims.shape == (3, 4)
    torch.testing.assert_close(
        sims, F.cosine_similarity(a[:, None], b[None, :], dim=-1)
    )
    torch.testing.assert_close(
        torch.diagonal(embeddings.cosine_similarity_matrix(a)), torch.ones(3)
    )


def test_cosine_similarity_matrix_zero_rows_and_bad_input():
    sims = embeddings.cosine_similarity_matrix(
        torch.zeros(1, 3), torch.ones(2, 3)
    )
    assert torch.isfinite(sims).all()
    with pytest.raises(ValueError, match="same dimension"):
        embeddings.cosine_similarity_matrix(torch.ones(2, 3), torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"2-D \[n, dim\]"):
        embeddings.cosine_similarity_matrix(torch.ones(2, 3, 4))


def test_manual_pooling_and_encode_match_sentence_transformers(minilm):
    """The chapter's claim: masked mean pooling + L2 normalisation is
    SentenceTransformer.encode for this model.
    """
    from sentence_transformers import SentenceTransformer

    checkpoint, tokenizer, model = minilm
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    ours = F.normalize(
        embeddings.mean_pool(hidden, batch["attention_mask"]), dim=-1
    )
    reference = SentenceTransformer(checkpoint, device="cpu").encode(
        SENTENCES, convert_to_tensor=True
    )
    tol = dict(
        atol=1.2e-4, rtol=1.2e-4
    )  # computed from 6 layers' output: 6 x 2e-5 (CONTRIBUTING.md)
    torch.testing.assert_close(ours, reference, **tol)
    torch.testing.assert_close(
        embeddings.encode(SENTENCES, tokenizer, model, batch_size=3),
        reference,
        **tol,
    )
    naive = F.normalize(
        hidden.mean(dim=1), dim=-1
    )  # padding-blind: wrong for the padded sentences
    assert not torch.allclose(naive, reference, atol=1e-3)


def test_encode_keeps_order_and_rejects_bad_input(minilm):
    _, tokenizer, model = minilm
    forward = embeddings.encode(SENTENCES, tokenizer, model, batch_size=2)
    backward = embeddings.encode(
        SENTENCES[::-1], tokenizer, model, batch_size=2
    )
    tol = dict(
        atol=1.2e-4, rtol=1.2e-4
    )  # computed from 6 layers' output: 6 x 2e-5 (CONTRIBUTING.md)
    torch.testing.assert_close(forward, backward.flip(0), **tol)
    torch.testing.assert_close(
        forward.norm(dim=1), torch.ones(len(SENTENCES)), atol=1e-5, rtol=1e-5
    )  # a sum of 384
    with pytest.raises(ValueError, match="not a single string"):
        embeddings.encode("one sentence", tokenizer, model)
    with pytest.raises(ValueError, match="empty"):
        embeddings.encode([], tokenizer, model)
