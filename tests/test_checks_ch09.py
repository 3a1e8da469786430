"""The chapter 9 checkers: the solutions pass, each diagnosed mistake fails with
its message, stubs fail.
"""

import pytest
from solutions import ch09_scaling as sol

from course_utils.checks import ch09
from course_utils.errors import CheckFailed


def stub(*args, **kwargs):
    raise NotImplementedError


# ------------------------------------------------------------- parameter count


def test_parameter_count_solution_passes(capsys):
    ch09.check_gpt2_parameter_count(sol.gpt2_parameter_count)
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda c: sol.gpt2_parameter_count(c) + c.vocab_size * c.n_embd,
            "ties it to the token embeddings",
        ),
        (
            lambda c: sol.gpt2_parameter_count(c) - c.n_positions * c.n_embd,
            "position embeddings",
        ),
        (
            lambda c: sol.gpt2_parameter_count(c) - 2 * c.n_embd,
            "final LayerNorm",
        ),
        (
            lambda c: (
                c.vocab_size * c.n_embd
                + c.n_positions * c.n_embd
                + 12 * c.n_layer * c.n_embd**2
            ),
            "biases and LayerNorm",
        ),
        (lambda c: 12 * c.n_layer * c.n_embd**2, "compare term by term"),
        (stub, "not written yet"),
    ],
)
def test_parameter_count_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch09.check_gpt2_parameter_count(wrong)


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


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_mean_over_steps, "SUM of token losses"),
        (_no_zero_grad, "zero_grad"),
        (_no_division, "without any division"),
        (_no_backward, "did not change"),
        (stub, "not written yet"),
    ],
)
def test_accumulation_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch09.check_accumulated_gradients(wrong)


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


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_no_gradients, "left out the gradients"),
        (_one_adam_state, "TWO float32 states"),
        (_no_master, "master copy"),
        (stub, "not written yet"),
    ],
)
def test_memory_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch09.check_training_memory_bytes(wrong)
