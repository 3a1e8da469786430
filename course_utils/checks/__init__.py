"""Exercise checkers: each one runs a student's function on cases with known
answers and, when it is wrong, raises :class:`~course_utils.errors.CheckFailed`
with a sentence that names the mistake.

One module per chapter (``checks.ch01``, ``checks.ch02``, ...). The helpers
below keep the messages consistent: :func:`fail` for a mistake, :func:`passed`
for success.
"""

from __future__ import annotations

import torch

from ..errors import CheckFailed


def fail(message: str):
    """Stop the check with a message that says what is wrong and, where it can,
    how to fix it.
    """
    raise CheckFailed(message)


def passed(what: str) -> None:
    """Print the one line a student sees when every check passed."""
    print(f"\u2713 {what}: all checks passed.")


def call_student(
    fn,
    *args,
    name: str | None = None,
    allow_none: bool = False,
    crash_message=None,
    **kwargs,
):
    """Call the student's function; turn "not written yet" and crashes into
    one clear sentence.

    ``allow_none``: the function works by side effect (for example it fills
    ``p.grad``), so None is a fine result. ``crash_message(exc)``: the
    sentence for a crash, where a checker knows what a crash on these inputs
    means (default: the exception, briefly).
    """
    name = name or getattr(fn, "__name__", "your function")
    try:
        result = fn(*args, **kwargs)
    except NotImplementedError:
        fail(
            f"{name} is not written yet: replace the `raise "
            "NotImplementedError` line with your code."
        )
    except CheckFailed:
        raise
    except Exception as exc:  # the student's code crashed: say where, briefly
        if crash_message is not None:
            fail(crash_message(exc))
        fail(f"{name} raised {type(exc).__name__}: {exc}")
    if result is None and not allow_none:
        fail(f"{name} returned None: did you forget the `return` statement?")
    return result


def as_tensor(x, what: str) -> torch.Tensor:
    """The student's result as a detached tensor (NumPy arrays accepted), or one
    sentence asking for a tensor.
    """
    if isinstance(x, torch.Tensor):
        return x.detach()
    try:
        import numpy as np

        if isinstance(x, np.ndarray):
            return torch.from_numpy(x)
    except ImportError:  # pragma: no cover
        pass
    fail(f"{what} returned a {type(x).__name__}; return a torch tensor.")


def tensors_close(
    a: torch.Tensor, b: torch.Tensor, atol: float = 1e-5, rtol: float = 1e-4
) -> bool:
    """Same shape and the same values within tolerance, compared in float64 (NaN
    equals NaN).

    The defaults fit a short float32 chain (one matmul, attention or reduction;
    CONTRIBUTING.md), with room for a student who sums in another order; a
    checker for a deeper exercise passes its own tolerance.
    """
    if tuple(a.shape) != tuple(b.shape):
        return False
    return torch.allclose(
        a.detach().double(),
        b.detach().double(),
        atol=atol,
        rtol=rtol,
        equal_nan=True,
    )
