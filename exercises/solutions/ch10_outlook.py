"""Solutions of exercises/ch10_outlook.ipynb."""

import numpy as np


def weat_effect_size(X, Y, A, B):
    def unit(M):
        M = np.asarray(M, dtype=np.float64)
        # rows of length 1: dot product = cosine
        return M / np.linalg.norm(M, axis=1, keepdims=True)

    X, Y, A, B = unit(X), unit(Y), unit(A), unit(B)
    # s(x, A, B) for every x
    sx = (X @ A.T).mean(axis=1) - (X @ B.T).mean(axis=1)
    sy = (Y @ A.T).mean(axis=1) - (Y @ B.T).mean(axis=1)
    return float((sx.mean() - sy.mean()) / np.concatenate([sx, sy]).std(ddof=1))


def permutation_p_value(x_scores, y_scores, n_permutations, rng):
    x, y = (
        np.asarray(x_scores, dtype=np.float64),
        np.asarray(y_scores, dtype=np.float64),
    )
    pooled, n_x = np.concatenate([x, y]), len(x)
    observed = x.mean() - y.mean()
    count = 0
    for _ in range(n_permutations):
        # a random split that keeps the group sizes
        shuffled = rng.permutation(pooled)
        count += shuffled[:n_x].mean() - shuffled[n_x:].mean() >= observed
    return (1 + count) / (1 + n_permutations)


def gradient_x_input(model, input_ids, attention_mask, target):
    # [1, T, H]
    embeddings = (
        model.get_input_embeddings()(input_ids).detach().requires_grad_(True)
    )
    # [1, classes]
    logits = model(
        inputs_embeds=embeddings, attention_mask=attention_mask
    ).logits
    logits[0, target].backward()
    return (embeddings.grad * embeddings).sum(-1)[0].detach()  # [T]
