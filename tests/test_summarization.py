"""course_utils.summarization (generated from chapter 8/06): the lead/body
split of a Wikipedia article and the centrality scores."""

import pytest
import torch

from course_utils import summarization


def test_lead_and_body():
    text = (
        "Lead sentence one. Lead two.\n\nMore lead.\n\nHistory\n"
        "The body starts here."
    )
    lead, body = summarization.lead_and_body(text)
    assert lead == "Lead sentence one. Lead two.\n\nMore lead."
    assert body.startswith("History\nThe body")
    assert summarization.lead_and_body("Only a lead.") == ("Only a lead.", "")


def test_centrality_scores_on_unit_vectors():
    E = torch.nn.functional.normalize(
        torch.randn(6, 4, generator=torch.Generator().manual_seed(0)), dim=1
    )
    centroid = summarization.centroid_scores(E)
    mean = E.mean(dim=0)
    torch.testing.assert_close(centroid, E @ (mean / mean.norm()))
    ranks = summarization.textrank_scores(E)
    # a probability distribution over the sentences (50 damped power steps)
    assert ranks.shape == (6,) and (ranks > 0).all()
    torch.testing.assert_close(
        ranks.sum(), torch.tensor(1.0), atol=1e-5, rtol=0
    )


def test_textrank_is_networkx_pagerank():
    # the same damped random walk on the cosine graph, converged by networkx;
    # float64, 250 power steps: the L1 error (at most 2 at the start)
    # contracts by d = 0.85 per step, 2 x 0.85^250 ~ 4e-18
    import networkx as nx

    gen = torch.Generator().manual_seed(0)
    E = torch.nn.functional.normalize(torch.randn(30, 16, generator=gen), dim=1)
    E = E.double()
    W = (E @ E.T).clamp(min=0).fill_diagonal_(0)
    graph = nx.from_numpy_array(W.numpy())
    reference = nx.pagerank(
        graph, alpha=0.85, weight="weight", tol=1e-15, max_iter=1000
    )
    expected = torch.tensor(
        [reference[i] for i in range(len(E))], dtype=torch.float64
    )
    torch.testing.assert_close(
        summarization.textrank_scores(E, iterations=250),
        expected,
        atol=1e-12,
        rtol=0,
    )


def test_rouge_f1_by_hand():
    # "the cat" against "the cat sat": 2 shared words, P = 1, R = 2/3
    scores = summarization.rouge_f1("the cat sat", "the cat")
    assert scores["rouge1"] == pytest.approx(2 * 1 * (2 / 3) / (1 + 2 / 3))
    # one shared bigram of one (P = 1) and of two (R = 1/2)
    assert scores["rouge2"] == pytest.approx(2 * 0.5 / 1.5)
    assert scores["rougeL"] == pytest.approx(0.8)
