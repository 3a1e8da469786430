"""The chapter 9 checkers: the solutions pass, each diagnosed mistake fails with
its message, stubs fail.
"""

import pytest
from mutants import Wrong, assert_rejects
from solutions import ch09_scaling as sol

from course_utils.checks import ch09
from course_utils.errors import CheckFailed


def stub(*args, **kwargs):
    raise NotImplementedError


# ------------------------------------------------------------- parameter count


def test_parameter_count_solution_passes(capsys):
    ch09.check_gpt2_parameter_count(sol.gpt2_parameter_count)
    assert "all checks passed" in capsys.readouterr().out


def _inner_ignored(c):
    d = c.n_embd
    return (
        c.vocab_size * d
        + c.n_positions * d
        + c.n_layer * (12 * d * d + 13 * d)
        + 2 * d
    )


GENERIC = "gives a different result on"

COUNT_WRONG = [
    Wrong(
        "output layer counted apart",
        lambda c: sol.gpt2_parameter_count(c) + c.vocab_size * c.n_embd,
        "ties it to the token embeddings",
    ),
    Wrong(
        "no position embeddings",
        lambda c: sol.gpt2_parameter_count(c) - c.n_positions * c.n_embd,
        "position embeddings",
    ),
    Wrong(
        "no final LayerNorm",
        lambda c: sol.gpt2_parameter_count(c) - 2 * c.n_embd,
        "final LayerNorm",
    ),
    Wrong(
        "no biases or LayerNorms",
        lambda c: (
            sol.gpt2_parameter_count(c)
            - c.n_layer * (9 * c.n_embd + (c.n_inner or 4 * c.n_embd))
            - 2 * c.n_embd
        ),
        "biases and LayerNorm",
    ),
    Wrong("n_inner ignored (issue 16)", _inner_ignored, "n_inner"),
    Wrong(
        "8 d^2 per block",
        lambda c: sol.gpt2_parameter_count(c) - 4 * c.n_layer * c.n_embd**2,
        "8\\*d\\^2",
    ),
    Wrong(
        "one layer too few",
        lambda c: (
            sol.gpt2_parameter_count(c)
            - (
                sol.gpt2_parameter_count(c)
                - c.vocab_size * c.n_embd
                - c.n_positions * c.n_embd
                - 2 * c.n_embd
            )
            // c.n_layer
        ),
        GENERIC,
    ),
    Wrong(
        "n_inner used even when None",
        lambda c: _inner_ignored(c) if c.n_inner is None else c.n_inner * 0,
        GENERIC,
    ),
    Wrong("GPT-2 small hard-coded", lambda c: 124_439_808, GENERIC),
    Wrong("only the blocks", lambda c: 12 * c.n_layer * c.n_embd**2, GENERIC),
    Wrong("a string returned", lambda c: "124M", "return an integer"),
]


def test_parameter_count_rejects_wrong_answers():
    assert_rejects(ch09.check_gpt2_parameter_count, COUNT_WRONG)


def test_parameter_count_stub():
    with pytest.raises(CheckFailed, match="not written yet"):
        ch09.check_gpt2_parameter_count(stub)


def test_parameter_count_solution_matches_real_models():
    # issue 16: the solution ignored n_inner
    from transformers import GPT2Config

    for n_inner in (None, 24):
        config = GPT2Config(
            vocab_size=50,
            n_positions=8,
            n_embd=8,
            n_layer=2,
            n_head=2,
            n_inner=n_inner,
            bos_token_id=49,
            eos_token_id=49,
        )
        assert sol.gpt2_parameter_count(config) == ch09.true_count(config)


# ------------------------------------------------------- gradient accumulation


def _mean_over_steps(model, input_ids, labels, steps):
    model.zero_grad()
    for ids, lab in zip(input_ids.chunk(steps), labels.chunk(steps)):
        (model(input_ids=ids, labels=lab).loss / steps).backward()


def _no_zero_grad(model, input_ids, labels, steps):
    total = int((labels[:, 1:] != -100).sum())
    for ids, lab in zip(input_ids.chunk(steps), labels.chunk(steps)):
        count = int((lab[:, 1:] != -100).sum())
        (model(input_ids=ids, labels=lab).loss * count / total).backward()


def _no_division(model, input_ids, labels, steps):
    model.zero_grad()
    for ids, lab in zip(input_ids.chunk(steps), labels.chunk(steps)):
        model(input_ids=ids, labels=lab).loss.backward()


def _no_backward(model, input_ids, labels, steps):
    for ids, lab in zip(input_ids.chunk(steps), labels.chunk(steps)):
        model(input_ids=ids, labels=lab)
    return 0


def test_accumulation_solution_passes(capsys):
    ch09.check_accumulated_gradients(sol.accumulated_gradients)
    assert "all checks passed" in capsys.readouterr().out


def _rows_minus_one(model, input_ids, labels, steps):
    """Targets counted as real labels minus one per row (issue 16: off by
    3.4% once a row is all padding).
    """

    def count(lab):
        return int((lab != -100).sum()) - len(lab)

    ch09._weighted(count)(model, input_ids, labels, steps)


def _whole_batch_at_once(model, input_ids, labels, steps):
    model.zero_grad()
    model(input_ids=input_ids, labels=labels).loss.backward()


def _zero_grad_each_step(model, input_ids, labels, steps):
    total = int((labels[:, 1:] != -100).sum())
    for ids, lab in zip(input_ids.chunk(steps), labels.chunk(steps)):
        model.zero_grad()
        count = int((lab[:, 1:] != -100).sum())
        (model(input_ids=ids, labels=lab).loss * count / total).backward()


def _rows_weighted(model, input_ids, labels, steps):
    model.zero_grad()
    for ids, lab in zip(input_ids.chunk(steps), labels.chunk(steps)):
        loss = model(input_ids=ids, labels=lab).loss
        (loss * len(ids) / len(input_ids)).backward()


ACCUMULATION_WRONG = [
    Wrong("mean over steps", _mean_over_steps, "SUM of token losses"),
    Wrong("no zero_grad", _no_zero_grad, "zero_grad"),
    Wrong("no division", _no_division, "without any division"),
    Wrong("no backward", _no_backward, "did not change"),
    Wrong(
        "labels counted before the shift",
        ch09._weighted(lambda lab: int((lab != -100).sum())),
        "before the shift",
    ),
    Wrong("steps times too large", ch09._times_steps, "one division too few"),
    Wrong("one row of padding miscounted", _rows_minus_one, "differs"),
    Wrong("whole batch in one pass", _whole_batch_at_once, "one forward"),
    Wrong("zero_grad in every micro-batch", _zero_grad_each_step, "differs"),
    Wrong("micro-batches weighted by rows", _rows_weighted, "differs"),
]


def test_accumulation_rejects_wrong_answers():
    assert_rejects(ch09.check_accumulated_gradients, ACCUMULATION_WRONG)


def test_accumulation_stub():
    with pytest.raises(CheckFailed, match="not written yet"):
        ch09.check_accumulated_gradients(stub)


# ---------------------------------------------------------------------- memory


def test_memory_solution_passes(capsys):
    ch09.check_training_memory_bytes(sol.training_memory_bytes)
    assert "all checks passed" in capsys.readouterr().out


def _no_gradients(n, optimizer, precision):
    return (
        sol.training_memory_bytes(n, optimizer, precision)
        - (4 if precision == "fp32" else 2) * n
    )


def _one_adam_state(n, optimizer, precision):
    return sol.training_memory_bytes(n, optimizer, precision) - (
        4 * n if optimizer == "adamw" else 0
    )


def _no_master(n, optimizer, precision):
    return sol.training_memory_bytes(n, optimizer, precision) - (
        4 * n if precision == "mixed" else 0
    )


MEMORY_WRONG = [
    Wrong("no gradients", _no_gradients, "left out the gradients"),
    Wrong("one AdamW state", _one_adam_state, "TWO float32 states"),
    Wrong("no master weights", _no_master, "master copy"),
    Wrong(
        "no momentum state",
        ch09._memory_with(states={"momentum": 0}),
        "momentum buffer",
    ),
    Wrong("mixed halves everything", ch09._memory_with(halve=True), "halve"),
    Wrong(
        "n_params ignored",
        lambda n, o, p: sol.training_memory_bytes(1_000_000, o, p),
        GENERIC,
    ),
    Wrong(
        "bits instead of bytes",
        lambda n, o, p: 8 * sol.training_memory_bytes(n, o, p),
        GENERIC,
    ),
    Wrong(
        "gigabytes",
        lambda n, o, p: sol.training_memory_bytes(n, o, p) / 1e9,
        GENERIC,
    ),
]


def test_memory_rejects_wrong_answers():
    assert_rejects(ch09.check_training_memory_bytes, MEMORY_WRONG)


def test_memory_stub():
    with pytest.raises(CheckFailed, match="not written yet"):
        ch09.check_training_memory_bytes(stub)
