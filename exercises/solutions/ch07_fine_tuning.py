"""Solutions to exercises/ch07_fine_tuning.ipynb (for instructors; the tests
fill them into the notebook).
"""

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, precision_recall_fscore_support


def compute_metrics(eval_pred):
    """logits [n, classes] and labels [n] -> accuracy and macro precision /
    recall / F1.
    """
    logits, labels = eval_pred
    predictions = np.argmax(logits, axis=-1)  # one class per example
    p, r, f, _ = precision_recall_fscore_support(
        labels, predictions, average="macro", zero_division=0
    )
    return {
        "accuracy": accuracy_score(labels, predictions),
        "macro_precision": p,
        "macro_recall": r,
        "macro_f1": f,
    }


def warmup_multiplier(step, warmup_steps, total_steps):
    """Learning-rate multiplier at `step`: 0 -> 1 linearly over warm-up,
    then 1 -> 0 linearly until total_steps.
    """
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def fit(model, optimizer, x, y, val_x, val_y, epochs, batch_size, generator):
    """Train for `epochs` and return the validation accuracy after each
    epoch (a list of floats).
    """
    accuracies = []
    for _ in range(epochs):
        model.train()  # dropout on for training
        # one permutation for inputs and labels
        perm = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()  # dropout off for evaluation
        with torch.no_grad():
            accuracies.append(
                (model(val_x).argmax(-1) == val_y).float().mean().item()
            )
    return accuracies
