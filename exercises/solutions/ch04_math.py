"""Solutions to exercises/ch04_math.ipynb (for instructors; the tests fill them
into the notebook).
"""

import torch


def glove_weight(x, x_max=100.0, alpha=0.75):
    x = torch.as_tensor(x, dtype=torch.float64)
    # below x_max the weight grows like (x / x_max) ** alpha; frequent pairs are
    # capped at 1
    return torch.where(x < x_max, (x / x_max) ** alpha, torch.ones_like(x))


def glove_loss(W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75):
    i, j = torch.nonzero(
        X, as_tuple=True
    )  # only pairs that co-occur: f(0) = 0 and log 0 is undefined
    counts = X[i, j]
    prediction = (W[i] * W_ctx[j]).sum(dim=-1) + b[i] + b_ctx[j]  # (N,)
    return (
        glove_weight(counts, x_max, alpha)
        * (prediction - torch.log(counts)) ** 2
    ).sum()


def cross_entropy_from_logits(logits, targets):
    m = logits.max(
        dim=-1, keepdim=True
    ).values  # subtract the row maximum: every exponent <= 0
    log_z = m.squeeze(-1) + torch.log(
        torch.exp(logits - m).sum(dim=-1)
    )  # log sum_c exp(z_c), (batch,)
    correct = logits[torch.arange(len(targets)), targets]  # z_y, (batch,)
    return (log_z - correct).mean()


def causal_lm_loss(logits, labels):
    pred, target = (
        logits[:, :-1],
        labels[:, 1:],
    )  # the logits at t predict the token at t + 1
    keep = target != -100
    log_probs = torch.log_softmax(pred, dim=-1)
    nll = -log_probs.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(
        -1
    )  # (B, T-1)
    return nll[keep].mean()
