"""Solutions of exercises/ch09_scaling.ipynb."""


def gpt2_parameter_count(config):
    V, P, d, L = (
        config.vocab_size,
        config.n_positions,
        config.n_embd,
        config.n_layer,
    )
    # the feed-forward width: n_inner, or 4 * d when it is None
    inner = config.n_inner if config.n_inner is not None else 4 * d
    # attention 4*d^2 + 4*d, feed-forward 2*d*inner + inner + d, 2 LayerNorms
    block = 4 * d * d + 2 * d * inner + 9 * d + inner
    return V * d + P * d + L * block + 2 * d


def accumulated_gradients(model, input_ids, labels, steps):
    model.zero_grad()
    # real targets in the whole batch (the model shifts the labels)
    total = int((labels[:, 1:] != -100).sum())
    for ids, lab in zip(input_ids.chunk(steps), labels.chunk(steps)):
        count = int((lab[:, 1:] != -100).sum())
        # mean over this micro-batch's targets
        loss = model(input_ids=ids, labels=lab).loss
        # = its sum of token losses / the whole batch's count
        (loss * count / total).backward()


def training_memory_bytes(n_params, optimizer, precision):
    states = {"sgd": 0, "momentum": 1, "adamw": 2}[optimizer]
    if precision == "fp32":
        return (4 + 4 + 4 * states) * n_params
    # bf16 weights and gradients, fp32 master weights and states
    return (2 + 2 + 4 + 4 * states) * n_params
