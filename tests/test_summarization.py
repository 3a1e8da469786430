"""course_utils.summarization (generated from chapter 8/06): the lead/body
split of a Wikipedia article and the centrality scores."""

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
