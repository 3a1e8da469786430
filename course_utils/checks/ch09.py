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

import copy
import functools
import random

from . import (
    Case,
    call_student,
    compare_with_reference,
    fail,
    passed,
    validator,
)

# ------------------------------------------------------------------------------
# Parameter count
# ------------------------------------------------------------------------------


def _config(vocab_size, n_positions, n_embd, n_layer, n_head, n_inner=None):
    """A GPT2Config whose end-of-text id (GPT-2's last token) lies inside
    the vocabulary: the default, 50256, would make transformers warn.
    """
    from transformers import GPT2Config

    last = vocab_size - 1
    return GPT2Config(
        vocab_size=vocab_size,
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        n_inner=n_inner,
        bos_token_id=last,
        eos_token_id=last,
    )


def _count_cases() -> list[Case]:
    """GPT-2 small, tiny shapes with n_inner set and unset, then seeded
    random shapes.
    """
    shapes = [
        (1000, 64, 32, 2, 4, None),
        (50257, 1024, 768, 12, 12, None),
        (3000, 512, 96, 5, 3, None),
        (1000, 64, 32, 2, 4, 48),
        (500, 16, 8, 1, 2, 8),
        (2, 1, 4, 1, 1, None),
    ]
    rng = random.Random(0)
    for _ in range(6):
        heads = rng.randint(1, 4)
        shapes.append(
            (
                rng.randint(2, 5000),
                rng.randint(1, 2048),
                heads * rng.randint(1, 24),
                rng.randint(1, 6),
                heads,
                rng.choice([None, rng.randint(1, 300)]),
            )
        )
    return [
        Case(
            f"GPT2Config(vocab_size={v}, n_positions={p}, n_embd={d}, "
            f"n_layer={n}, n_head={h}, n_inner={i})",
            (_config(v, p, d, n, h, i),),
        )
        for v, p, d, n, h, i in shapes
    ]


def true_count(config) -> int:
    """The parameters of ``GPT2LMHeadModel(config)``, built on the meta
    device (no memory, no time).
    """
    from transformers import GPT2LMHeadModel

    with torch.device("meta"):
        model = GPT2LMHeadModel(config)
    return sum(p.numel() for p in model.parameters())


_true_count = true_count  # the name the tests knew


def _terms(config):
    """V, P, d, L and the feed-forward width of ``config``."""
    d = config.n_embd
    inner = config.n_inner if config.n_inner is not None else 4 * d
    return config.vocab_size, config.n_positions, d, config.n_layer, inner


def _count(head=False, positions=True, small=True, ln_f=True, mlp=None):
    """A parameter count with one known mistake (see _count_diagnoses)."""

    def count(config):
        V, P, d, L, inner = _terms(config)
        inner = inner if mlp is None else mlp * d
        block = 4 * d * d + 2 * d * inner
        block += (9 * d + inner) if small else 0
        total = V * d + L * block
        total += V * d if head else 0
        total += P * d if positions else 0
        return total + (2 * d if ln_f else 0)

    return count


def _eight_d_squared(config):
    """The blocks' weights counted as 8*d^2 (attention or MLP forgotten)."""
    V, P, d, L, inner = _terms(config)
    return _count()(config) - L * 4 * d * d


def _same_count(expected: int, got) -> bool:
    try:
        return got == expected and float(got) == float(expected)
    except (TypeError, ValueError):
        return False


def _validate_count(got, config) -> None:
    try:
        float(got)
    except (TypeError, ValueError):
        fail(f"gpt2_parameter_count returned {got!r}; return an integer.")


def _count_diagnoses():
    return [
        (
            "you counted the output layer separately, but GPT-2 ties it to "
            "the token embeddings (the same matrix): count V*d once.",
            _count(head=True),
        ),
        (
            "the learned position embeddings (n_positions x n_embd) are "
            "missing.",
            _count(positions=False),
        ),
        (
            "the biases and LayerNorm parameters are missing: each block adds "
            "9*d + n_inner of them (13*d when n_inner = 4*d) and the final "
            "LayerNorm 2*d.",
            _count(small=False, ln_f=False),
        ),
        (
            "the final LayerNorm (ln_f, 2*d parameters) is missing.",
            _count(ln_f=False),
        ),
        (
            "each block's biases and LayerNorm parameters (9*d + n_inner) are "
            "missing.",
            _count(small=False),
        ),
        (
            "the feed-forward width is config.n_inner (4 * n_embd only when "
            "n_inner is None): you used 4 * n_embd although n_inner was set.",
            _count(mlp=4),
        ),
        (
            "the blocks have 4*d^2 weights in attention and 2*d*n_inner in the "
            "feed-forward network (12*d^2 when n_inner = 4*d); you counted "
            "only 8*d^2.",
            _eight_d_squared,
        ),
    ]


def check_gpt2_parameter_count(gpt2_parameter_count) -> None:
    """``gpt2_parameter_count(config)``: the number of parameters of
    ``GPT2LMHeadModel(config)`` (tied embeddings).
    """
    compare_with_reference(
        gpt2_parameter_count,
        true_count,
        _count_cases(),
        name="gpt2_parameter_count",
        same=_same_count,
        diagnoses=_count_diagnoses(),
        validate=validator(_validate_count),
        hint="Compare term by term with the formula in the chapter: "
        "embeddings, L blocks of 4*d^2 + 2*d*n_inner + 9*d + n_inner, final "
        "LayerNorm.",
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
    """The reference: one backward of the whole batch's mean loss over its
    real targets.
    """
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


def _tiny_gpt(seed: int):
    from transformers import GPT2Config, GPT2LMHeadModel

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
    with torch.random.fork_rng():  # leave the student's own seed alone
        torch.manual_seed(seed)
        model = GPT2LMHeadModel(config)
    # the name transformers' loss table knows (no "unrecognized" warning)
    model.loss_type = "ForCausalLM"
    return model


def _padded(lengths, width, left, gen):
    """Random ids and labels, -100 on the padding (right or left)."""
    ids = torch.randint(0, 64, (len(lengths), width), generator=gen)
    position = torch.arange(width)[None, :]
    lengths = torch.tensor(lengths)[:, None]
    pad = position < width - lengths if left else position >= lengths
    return ids, ids.masked_fill(pad, -100)


def _accumulation_cases():
    """(label, model seed, lengths, width, left padding, steps): uneven
    micro-batches, a row and a whole micro-batch of padding, left padding,
    one step and one row per step, then seeded random ones.
    """
    cases = [
        (
            "8 right-padded rows, 4 steps",
            [16, 3, 9, 14, 2, 16, 5, 11],
            16,
            0,
            4,
        ),
        (
            "8 right-padded rows, 2 steps",
            [16, 3, 9, 14, 2, 16, 5, 11],
            16,
            0,
            2,
        ),
        ("a row of padding only", [12, 0, 7, 12, 4, 9], 12, 0, 2),
        ("a micro-batch of padding only", [10, 6, 0, 0, 3, 10], 10, 0, 3),
        ("left padding", [8, 2, 5, 8, 1, 6], 8, 1, 3),
        ("one step", [7, 3, 5], 7, 0, 1),
        ("one row per step", [9, 2, 6, 4], 9, 1, 4),
        ("5 rows, 3 steps (chunks of 2, 2, 1)", [6, 6, 1, 4, 3], 6, 0, 3),
    ]
    rng = random.Random(0)
    for k in range(3):
        rows, width = rng.randint(2, 8), rng.randint(2, 16)
        lengths = [
            rng.choice([0, 1, width, rng.randint(0, width)])
            for _ in range(rows)
        ]
        lengths[0] = width  # at least one real target in the batch
        steps = rng.randint(1, rows)
        cases.append((f"random batch {k}", lengths, width, k % 2, steps))
    gen = torch.Generator().manual_seed(0)
    return [
        (
            f"{label} (lengths {lengths}, steps={steps})",
            *_padded(lengths, width, left, gen),
            steps,
        )
        for label, lengths, width, left, steps in cases
    ]


_STALE = 0.01  # gradients of an earlier step, which the function must clear


def _accumulate(function, model, input_ids, labels, steps, student=True):
    """``p.grad`` after ``function`` ran on a copy of ``model`` whose
    gradients are stale; the largest batch any forward saw.
    """
    model = copy.deepcopy(model)
    for p in model.parameters():
        p.grad = torch.full_like(p, _STALE)
    rows = []
    hook = model.register_forward_pre_hook(
        lambda module, args, kwargs: rows.append(
            len((args or [kwargs.get("input_ids")])[0])
        ),
        with_kwargs=True,
    )
    args = (model, input_ids.clone(), labels.clone(), steps)
    try:
        if student:
            call_student(
                function, *args, name="accumulated_gradients", allow_none=True
            )
        else:
            function(*args)
    finally:
        hook.remove()
    return _gradient(model), max(rows, default=0)


def _same_gradient(expected, got) -> bool:
    # gradients summed in another grouping (CONTRIBUTING.md): 1e-4 relative;
    # atol 1e-6 = 1e-4 x a typical gradient (1e-3 to 0.2 here)
    return torch.allclose(got, expected, rtol=1e-4, atol=1e-6, equal_nan=True)


def _mean_over_steps(model, input_ids, labels, steps):
    model.zero_grad()
    for ids, lab in zip(input_ids.chunk(steps), labels.chunk(steps)):
        (model(input_ids=ids, labels=lab).loss / steps).backward()


def _sum_of_means(model, input_ids, labels, steps):
    model.zero_grad()
    for ids, lab in zip(input_ids.chunk(steps), labels.chunk(steps)):
        model(input_ids=ids, labels=lab).loss.backward()


def _weighted(count, clear=True):
    """Each micro-batch's mean loss x count(lab) / count(labels)."""

    def accumulate(model, input_ids, labels, steps):
        if clear:
            model.zero_grad()
        total = count(labels)
        for ids, lab in zip(input_ids.chunk(steps), labels.chunk(steps)):
            loss = model(input_ids=ids, labels=lab).loss
            (loss * count(lab) / total).backward()

    return accumulate


def _targets(labels):
    return int((labels[:, 1:] != -100).sum())


def _times_steps(model, input_ids, labels, steps):
    _weighted(_targets)(model, input_ids, labels, steps)
    for p in model.parameters():
        p.grad *= len(input_ids.chunk(steps))


def _accumulation_diagnoses():
    return [
        (
            "The gradients did not change: call loss.backward() for each "
            "micro-batch (and do not call zero_grad after the last one).",
            lambda *args: None,
        ),
        (
            "The gradients of an earlier step were still there: call "
            "model.zero_grad() once, before the first micro-batch.",
            _weighted(_targets, clear=False),
        ),
        (
            "You divided each micro-batch's mean loss by the number of steps. "
            "With padding the micro-batches have different numbers of real "
            "tokens, so their means must not get equal weights: divide each "
            "micro-batch's SUM of token losses by the number of real tokens "
            "in the WHOLE batch.",
            _mean_over_steps,
        ),
        (
            "The micro-batch losses were added without any division, so the "
            "gradient is about `steps` times too large: divide by the number "
            "of real tokens in the whole batch.",
            _sum_of_means,
        ),
        (
            "You counted the labels before the shift: the model predicts "
            "token t+1 from position t, so count the real targets with "
            "labels[:, 1:] != -100, in the whole batch and in each "
            "micro-batch.",
            _weighted(lambda lab: int((lab != -100).sum())),
        ),
        (
            "Your gradient is `steps` times the whole batch's: one division "
            "too few.",
            _times_steps,
        ),
    ]


def check_accumulated_gradients(accumulated_gradients) -> None:
    """``accumulated_gradients(model, input_ids, labels, steps)`` leaves in
    ``p.grad`` the whole batch's gradient.
    """
    models = {seed: _tiny_gpt(seed) for seed in (0, 1)}
    results = []
    for k, (label, input_ids, labels, steps) in enumerate(
        _accumulation_cases()
    ):
        model = models[k % 2]
        expected = _whole_batch_gradient(
            copy.deepcopy(model), input_ids, labels
        )
        got, rows = _accumulate(
            accumulated_gradients, model, input_ids, labels, steps
        )
        results.append((label, model, input_ids, labels, steps, expected, got))
        largest = len(input_ids.chunk(steps)[0])
        if rows > largest:
            fail(
                f"On {label} a forward pass saw {rows} rows: run one forward "
                f"and backward per micro-batch (input_ids.chunk(steps), at "
                f"most {largest} rows here), so that no pass holds the whole "
                "batch."
            )
    if all(_same_gradient(r[5], r[6]) for r in results):
        passed("accumulated_gradients")
        return
    for message, mistaken in _accumulation_diagnoses():
        if all(
            _reproduces(mistaken, model, ids, lab, steps, got)
            for _, model, ids, lab, steps, _, got in results
        ):
            fail(message)
    label = next(r[0] for r in results if not _same_gradient(r[5], r[6]))
    fail(
        f"On {label} the accumulated gradient differs from the whole batch's "
        "gradient. Count the real targets once for the whole batch "
        "(labels[:, 1:] != -100: the model shifts the labels), then for each "
        "micro-batch backward its mean loss x its own count / the whole "
        "batch's count."
    )


def _reproduces(mistaken, model, input_ids, labels, steps, got) -> bool:
    try:
        grad, _ = _accumulate(
            mistaken, model, input_ids, labels, steps, student=False
        )
    except Exception:  # a mistake that crashes here is not this student's
        return False
    return _same_gradient(grad, got)


# ------------------------------------------------------------------------------
# Training memory
# ------------------------------------------------------------------------------

_OPTIMIZERS = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.1),
}


@functools.lru_cache(maxsize=None)  # a real step: once per optimizer
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


def reference_memory_bytes(n_params, optimizer, precision) -> int:
    """fp32: weights, gradients and state tensors of a real optimizer step;
    mixed: bfloat16 weights and gradients, float32 master weights and
    states.
    """
    n, measured = _measured_fp32_bytes(optimizer)
    per = measured // n  # 4 + 4 + 4 per state
    if precision == "mixed":  # bf16 weights 2 + gradients 2 + master 4
        per = 2 + 2 + 4 + (per - 8)
    return per * n_params


def _memory_cases() -> list[Case]:
    rng = random.Random(0)
    sizes = [1, 77, 1_000_000, 7_000_000_000, rng.randint(2, 10**9)]
    return [
        Case(
            f"n_params={n}, optimizer={opt!r}, precision={prec!r}",
            (n, opt, prec),
        )
        for n in sizes
        for opt in _OPTIMIZERS
        for prec in ("fp32", "mixed")
    ]


def _memory_with(states=None, gradients=True, master=True, halve=False):
    """Bytes with one known mistake (see _memory_diagnoses)."""

    def memory(n_params, optimizer, precision):
        count = {"sgd": 0, "momentum": 1, "adamw": 2}[optimizer]
        count = states.get(optimizer, count) if states else count
        if precision == "fp32" or halve:
            per = 4 + (4 if gradients else 0) + 4 * count
            return per * n_params // (2 if precision == "mixed" else 1)
        per = 2 + (2 if gradients else 0) + (4 if master else 0) + 4 * count
        return per * n_params

    return memory


def _memory_diagnoses():
    return [
        (
            "you left out the gradients (4 bytes per parameter in fp32, 2 in "
            "mixed precision).",
            _memory_with(gradients=False),
        ),
        (
            "AdamW keeps TWO float32 states per parameter (the first and "
            "second moments), 8 bytes: count weights + gradients + both "
            "states.",
            _memory_with(states={"adamw": 1}),
        ),
        (
            "SGD with momentum keeps one float32 state per parameter (the "
            "momentum buffer), 4 bytes.",
            _memory_with(states={"momentum": 0}),
        ),
        (
            "mixed precision: the float32 master copy of the weights (4 bytes "
            "per parameter) is missing: the optimizer updates float32 "
            "weights and the bfloat16 copy is made from them.",
            _memory_with(master=False),
        ),
        (
            "mixed precision does not halve everything: only the weights and "
            "gradients of the forward and backward passes are bfloat16; the "
            "master weights and the optimizer states stay float32.",
            _memory_with(halve=True),
        ),
    ]


def _same_bytes(expected: int, got) -> bool:
    # bytes are whole numbers: exact, even for 7e9 parameters
    try:
        return float(got) == expected
    except (TypeError, ValueError):
        return False


def check_training_memory_bytes(training_memory_bytes) -> None:
    """``training_memory_bytes(n_params, optimizer, precision)`` for
    optimizer in sgd/momentum/adamw, precision fp32/mixed.
    """
    compare_with_reference(
        training_memory_bytes,
        reference_memory_bytes,
        _memory_cases(),
        name="training_memory_bytes",
        same=_same_bytes,
        diagnoses=_memory_diagnoses(),
        hint="Per parameter: fp32 weights 4 + gradients 4 + 4 per optimizer "
        "state (sgd 0, momentum 1, adamw 2); mixed: bfloat16 weights 2 + "
        "gradients 2 + float32 master weights 4 + states 4 each.",
    )
    passed("training_memory_bytes")
