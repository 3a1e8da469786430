"""Checkers for the chapter 9 exercises (exercises/ch09_scaling.ipynb).

``check_gpt2_parameter_count`` compares the student's formula with real
``GPT2LMHeadModel`` modules built on the meta device;
``check_accumulated_gradients`` runs the student's accumulation on padded
batches and compares the gradient with the whole batch's;
``check_training_memory_bytes`` compares with the state tensors that real
optimizers create. On a mistake each one compares the answer with what the
typical wrong answers give, to name it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import call_student, fail, passed

# ------------------------------------------------------------------------------
# Parameter count
# ------------------------------------------------------------------------------

_SHAPES = [
    dict(vocab_size=1000, n_positions=64, n_embd=32, n_layer=2, n_head=4),
    dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12),
    dict(vocab_size=3000, n_positions=512, n_embd=96, n_layer=5, n_head=3),
]


def _true_count(config) -> int:
    from transformers import GPT2LMHeadModel

    with torch.device("meta"):
        model = GPT2LMHeadModel(config)
    return sum(p.numel() for p in model.parameters())


def check_gpt2_parameter_count(gpt2_parameter_count) -> None:
    """``gpt2_parameter_count(config)``: the number of parameters of
    ``GPT2LMHeadModel(config)`` (tied embeddings).
    """
    from transformers import GPT2Config

    for shape in _SHAPES:
        # GPT-2's end-of-text id is its last token; the default (50256) lies
        # outside the small vocabularies, and transformers warns about it
        last = shape["vocab_size"] - 1
        config = GPT2Config(**shape, bos_token_id=last, eos_token_id=last)
        got = call_student(
            gpt2_parameter_count, config, name="gpt2_parameter_count"
        )
        try:
            got = int(got)
        except (TypeError, ValueError):
            fail(f"gpt2_parameter_count returned {got!r}; return an integer.")
        true = _true_count(config)
        if got == true:
            continue
        V, P, d, L = (
            shape["vocab_size"],
            shape["n_positions"],
            shape["n_embd"],
            shape["n_layer"],
        )
        tied, positions, ln_f = V * d, P * d, 2 * d
        small = L * 13 * d  # the blocks' biases and LayerNorm parameters
        diagnoses = {
            true + tied: (
                "you counted the output layer separately, but GPT-2 ties it "
                "to the token embeddings (the same matrix): count V*d once."
            ),
            true - positions: (
                "the learned position embeddings (n_positions x n_embd) are "
                "missing."
            ),
            true - small - ln_f: (
                "the biases and LayerNorm parameters are missing: each block "
                "adds 13*d of them and the final LayerNorm 2*d."
            ),
            true
            - ln_f: "the final LayerNorm (ln_f, 2*d parameters) is missing.",
            true - small: (
                "each block's 13*d biases and LayerNorm parameters are missing."
            ),
            true - tied - positions - ln_f: (
                "the embeddings (tokens V*d, positions P*d) and the final "
                "LayerNorm are missing."
            ),
            true - L * 4 * d * d: (
                "the blocks have 12*d^2 weights (4*d^2 in attention, 8*d^2 in "
                "the feed-forward network of width 4*d); you counted 8*d^2."
            ),
        }
        hint = diagnoses.get(
            got,
            "compare term by term with the formula in the chapter: "
            "embeddings, L blocks of 12*d^2 + 13*d, final LayerNorm.",
        )
        fail(
            f"For {shape} the model has {true:,} parameters and you returned "
            f"{got:,} (off by {got - true:+,}): {hint}"
        )
    passed("gpt2_parameter_count")


# ------------------------------------------------------------------------------
# Gradient accumulation
# ------------------------------------------------------------------------------


def _gradient(model) -> torch.Tensor:
    return torch.cat(
        [
            (p.grad if p.grad is not None else torch.zeros_like(p)).flatten()
            for p in model.parameters()
        ]
    )


def _whole_batch_gradient(model, input_ids, labels) -> torch.Tensor:
    model.zero_grad()
    logits = model(input_ids=input_ids).logits[:, :-1]
    targets = labels[:, 1:]
    loss = F.cross_entropy(
        logits.reshape(-1, logits.size(-1)),
        targets.reshape(-1),
        ignore_index=-100,
    )
    loss.backward()
    return _gradient(model)


def _mean_over_steps(
    model, input_ids, labels, steps, divide=True
) -> torch.Tensor:
    model.zero_grad()
    for ids, lab in zip(input_ids.chunk(steps), labels.chunk(steps)):
        loss = model(input_ids=ids, labels=lab).loss
        (loss / steps if divide else loss).backward()
    return _gradient(model)


def _case(seed: int):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=64,
        n_positions=16,
        n_embd=16,
        n_layer=1,
        n_head=2,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=0,
        eos_token_id=0,
    )
    model = GPT2LMHeadModel(config)
    input_ids = torch.randint(0, 64, (8, 16))
    lengths = torch.tensor([16, 3, 9, 14, 2, 16, 5, 11])
    labels = input_ids.masked_fill(
        torch.arange(16)[None, :] >= lengths[:, None], -100
    )
    return model, input_ids, labels


def check_accumulated_gradients(accumulated_gradients) -> None:
    """``accumulated_gradients(model, input_ids, labels, steps)`` leaves in
    ``p.grad`` the whole batch's gradient.
    """
    for seed, steps in ((0, 4), (1, 2)):
        model, input_ids, labels = _case(seed)
        reference = _whole_batch_gradient(model, input_ids, labels)
        # stale gradients from an earlier step: the function must clear them
        with torch.no_grad():
            for p in model.parameters():
                p.grad = torch.full_like(p, 0.01)
        stale = _gradient(model)
        call_student(
            accumulated_gradients,
            model,
            input_ids.clone(),
            labels.clone(),
            steps,
            name="accumulated_gradients",
            allow_none=True,
        )
        got = _gradient(model)
        # gradients summed in another grouping (CONTRIBUTING.md): 1e-4 relative;
        # atol 1e-6 = 1e-4 x a typical
        # gradient (1e-3 to 0.2 here)
        if torch.allclose(got, reference, rtol=1e-4, atol=1e-6):
            continue
        if torch.allclose(got, stale):
            fail(
                "The gradients did not change: call loss.backward() for each "
                "micro-batch (and do not call "
                "zero_grad after the last one)."
            )
        if torch.allclose(got - stale, reference, rtol=1e-4, atol=1e-6):
            fail(
                "The gradients of an earlier step were still there: call "
                "model.zero_grad() once, before the "
                "first micro-batch."
            )
        naive = _mean_over_steps(model, input_ids, labels, steps)
        if torch.allclose(got, naive, rtol=1e-4, atol=1e-6):
            fail(
                "You divided each micro-batch's mean loss by the number of "
                "steps. With padding the micro-batches "
                "have different numbers of real tokens, so their means must "
                "not get equal weights: divide each "
                "micro-batch's SUM of token losses by the number of real "
                "tokens in the WHOLE batch."
            )
        if torch.allclose(
            got,
            _mean_over_steps(model, input_ids, labels, steps, divide=False),
            rtol=1e-4,
            atol=1e-6,
        ):
            fail(
                "The micro-batch losses were added without any division, so "
                "the gradient is about `steps` times "
                "too large: divide by the number of real tokens in the whole "
                "batch."
            )
        if torch.allclose(got, reference * steps, rtol=1e-4, atol=1e-6):
            fail(
                f"Your gradient is {steps} times the whole batch's: one "
                "division too few."
            )
        fail(
            "The accumulated gradient differs from the whole batch's gradient. "
            "Count the real tokens once for the "
            "whole batch (labels[:, 1:] != -100: the model shifts the labels), "
            "then for each micro-batch backward "
            "its mean loss x its own token count / the whole batch's count."
        )
    passed("accumulated_gradients")


# ------------------------------------------------------------------------------
# Training memory
# ------------------------------------------------------------------------------

_OPTIMIZERS = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.1),
}


def _measured_fp32_bytes(optimizer: str) -> tuple[int, int]:
    """(parameters, bytes of weights + gradients + optimizer state tensors)
    for a real float32 training step.
    """
    model = torch.nn.Linear(10, 7)
    opt = _OPTIMIZERS[optimizer](model.parameters())
    model(torch.randn(3, 10)).sum().backward()
    opt.step()
    n = sum(p.numel() for p in model.parameters())
    states = [
        s
        for st in opt.state.values()
        for s in st.values()
        if torch.is_tensor(s) and s.dim() > 0
    ]
    total = sum(
        t.numel() * t.element_size()
        for t in [
            *model.parameters(),
            *(p.grad for p in model.parameters()),
            *states,
        ]
    )
    return n, total


def check_training_memory_bytes(training_memory_bytes) -> None:
    """``training_memory_bytes(n_params, optimizer, precision)`` for
    optimizer in sgd/momentum/adamw, precision fp32/mixed.
    """
    state_numbers = {"sgd": 0, "momentum": 1, "adamw": 2}
    for optimizer in ("sgd", "momentum", "adamw"):
        n, measured = _measured_fp32_bytes(optimizer)
        for n_params in (n, 1_000_000):
            got = call_student(
                training_memory_bytes,
                n_params,
                optimizer,
                "fp32",
                name="training_memory_bytes",
            )
            true = measured // n * n_params
            if got == true:
                continue
            per = got / n_params
            # before the gradient check: 16 - 4 is also 12
            if optimizer == "adamw" and per == 12:
                fail(
                    "adamw, fp32: AdamW keeps TWO float32 states per parameter "
                    "(the first and second moments), "
                    "8 bytes; or did you leave out the gradients (4 bytes)? "
                    "Count weights 4 + gradients 4 + states."
                )
            if per == true / n_params - 4:
                fail(
                    f"{optimizer}, fp32: you left out the gradients (4 bytes "
                    "per parameter)."
                )
            fail(
                f"{optimizer}, fp32: a real {optimizer} step keeps "
                f"{true / n_params:g} bytes per parameter "
                f"(weights, gradients, {state_numbers[optimizer]} optimizer "
                f"state(s)); you returned {per:g}."
            )
    for optimizer, states in state_numbers.items():
        true = (2 + 2 + 4 + 4 * states) * 1_000_000
        got = call_student(
            training_memory_bytes,
            1_000_000,
            optimizer,
            "mixed",
            name="training_memory_bytes",
        )
        if got == true:
            continue
        if got == true - 4_000_000:
            fail(
                f"{optimizer}, mixed: the float32 master copy of the weights "
                "(4 bytes per parameter) is missing: the "
                "optimizer updates float32 weights and the bfloat16 copy is "
                "made from them."
            )
        fail(
            f"{optimizer}, mixed precision: expected {true // 1_000_000} bytes "
            "per parameter (bfloat16 weights 2 + "
            "bfloat16 gradients 2 + float32 master weights 4 + optimizer "
            "states 4 each); you returned "
            f"{got / 1_000_000:g}."
        )
    passed("training_memory_bytes")
