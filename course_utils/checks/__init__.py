"""Exercise checkers: each one runs a student's function on cases with known
answers and, when it is wrong, raises :class:`~course_utils.errors.CheckFailed`
with a sentence that names the mistake.

One module per chapter (``checks.ch01``, ``checks.ch02``, ...). The helpers
below keep the messages consistent: :func:`fail` for a mistake, :func:`passed`
for success.
"""

from __future__ import annotations

import copy
import math
import signal
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import CheckFailed

# A student's function gets this long per call. The slowest official
# solution takes about a second in FAST mode on a 2-core laptop, so 30 s
# only ever stops a loop that never ends.
TIME_LIMIT_S = 30.0


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
        result = _within_time_limit(fn, args, kwargs, TIME_LIMIT_S)
    except _OutOfTime:
        fail(
            f"{name}({describe_inputs(args, kwargs)}) did not finish within "
            f"{TIME_LIMIT_S:g} s: look for a loop that never ends (a `while` "
            "whose condition never changes, or an index never advanced)."
        )
    except NotImplementedError:
        fail(
            f"{name} is not written yet: replace the `raise "
            "NotImplementedError` line with your code."
        )
    except CheckFailed:
        raise
    except Exception as exc:  # the student's code crashed: say where
        where = student_line(exc)
        if crash_message is not None:
            fail(crash_message(exc) + where)
        fail(f"{name} raised {type(exc).__name__}: {exc}{where}")
    if result is None and not allow_none:
        fail(f"{name} returned None: did you forget the `return` statement?")
    return result


class _OutOfTime(BaseException):
    """Raised inside a student's function that ran out of time (a
    BaseException, so that the student's own ``except Exception`` cannot
    swallow it).
    """


def _within_time_limit(fn, args, kwargs, seconds: float):
    """``fn(*args, **kwargs)``, stopped after ``seconds``.

    In the main thread on Linux and macOS (a Jupyter kernel runs cells
    there) a SIGALRM timer interrupts the function itself. Elsewhere
    (Windows, a worker thread) the call runs in a daemon thread that is
    abandoned when time is up: Python cannot stop a thread.
    """
    main = threading.current_thread() is threading.main_thread()
    if hasattr(signal, "setitimer") and main:
        return _with_alarm(fn, args, kwargs, seconds)
    outcome: dict = {}

    def target():
        try:
            outcome["result"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed back to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _OutOfTime
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _with_alarm(fn, args, kwargs, seconds: float):
    def on_alarm(signum, frame):
        raise _OutOfTime

    start = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_timer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_timer:  # someone else's timer was running: restore it
            left = previous_timer - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))


def describe_inputs(args, kwargs) -> str:
    """The arguments of a call, short: shapes for tensors and arrays, lengths
    for long sequences.
    """

    def short(value) -> str:
        shape = getattr(value, "shape", None)
        if shape is not None and not isinstance(value, (int, float)):
            return f"{type(value).__name__} of shape {tuple(shape)}"
        if isinstance(value, (list, tuple, dict)) and len(value) > 4:
            return f"{type(value).__name__} of {len(value)} items"
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."

    parts = [short(a) for a in args]
    parts += [f"{key}={short(value)}" for key, value in kwargs.items()]
    return ", ".join(parts)


_PACKAGE = Path(__file__).resolve().parent.parent
_LIBRARIES = {
    Path(sysconfig.get_paths()[key]).resolve()
    for key in ("stdlib", "platstdlib", "purelib", "platlib")
}


def _is_student_file(filename: str) -> bool:
    if filename.startswith("<") and "ipython-input" not in filename:
        return False  # exec'd code without a file
    path = Path(filename).resolve()
    return not any(
        path.is_relative_to(folder) for folder in (_PACKAGE, *_LIBRARIES)
    )


def student_line(exc: BaseException) -> str:
    """`` (Cell In[5], line 3: `x = y[i]`)``: the deepest line of the
    student's own code in ``exc``'s traceback, or "" when there is none.
    """
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if _is_student_file(frame.filename)
    ]
    if not frames:
        return ""
    frame = frames[-1]
    where = f"{Path(frame.filename).name}, line {frame.lineno}"
    try:  # a notebook cell: name it as Jupyter does
        from IPython import get_ipython

        label = get_ipython().compile.format_code_name(frame.filename)
        if label:
            where = f"{label[0]} {label[1]}, line {frame.lineno}"
    except Exception:  # not in IPython, or an IPython without cell names
        pass
    code = f": `{frame.line.strip()}`" if frame.line else ""
    return f" (at {where}{code})"


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


def same_result(expected, got, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """``got`` equals ``expected``: tensors and arrays within tolerance
    (:func:`tensors_close`), floats with ``math.isclose``, dicts with the same
    keys, sequences of the same length, all compared item by item.
    """
    if isinstance(expected, torch.Tensor) or hasattr(expected, "__array__"):
        try:
            got_tensor = torch.as_tensor(got)
        except (TypeError, ValueError, RuntimeError):
            return False
        return tensors_close(torch.as_tensor(expected), got_tensor, atol, rtol)
    if isinstance(expected, bool) or expected is None:
        return got is expected or got == expected
    if isinstance(expected, (int, float)):
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            if not (isinstance(got, torch.Tensor) and got.numel() == 1):
                return False
            got = got.item()
        return math.isclose(got, expected, rel_tol=rtol, abs_tol=atol) or (
            math.isnan(got) and math.isnan(expected)
        )
    if isinstance(expected, dict):
        return (
            isinstance(got, dict)
            and set(got) == set(expected)
            and all(same_result(expected[k], got[k], atol, rtol) for k in got)
        )
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(got, (list, tuple))
            and len(got) == len(expected)
            and all(
                same_result(e, g, atol, rtol) for e, g in zip(expected, got)
            )
        )
    return got == expected


def short_repr(value, limit: int = 120) -> str:
    """A value as a student can read it in one line."""
    if isinstance(value, torch.Tensor):
        if value.numel() <= 12:
            text = f"tensor({value.tolist()})"
        else:
            text = f"a tensor of shape {tuple(value.shape)}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Case:
    """One input for a student's function: a label a student can read
    ("two sentences, the second left-padded"), and the arguments.
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def compare_with_reference(
    student: Callable,
    reference: Callable,
    cases: Sequence[Case],
    *,
    name: str | None = None,
    diagnoses: Sequence[tuple[str, Callable]] = (),
    same: Callable = same_result,
    validate: Callable | None = None,
    on_crash: Callable | None = None,
    explain: Callable | None = None,
    hint: str = "",
) -> None:
    """Decide right or wrong on every case first, then name the mistake.

    The student's function and the reference run on each case (each on its
    own copy of the inputs). If they disagree anywhere, a diagnosis
    ``(message, mistaken_function)`` is given only when the mistaken
    function reproduces the student's output on every case; otherwise the
    message says on which input they differ and what was expected.

    Optional, for what a checker knows about its exercise:

    - ``validate(result, args, kwargs)`` sees each result first and returns
      it in the reference's form, or fails with one sentence about a result
      of the wrong kind (a list for a tensor, rows that do not sum to 1),
      which is said when no named mistake reproduces the output;
    - ``on_crash(exc, args, kwargs)`` says what a crash on these inputs
      means (None: the default message);
    - ``explain(case, args, expected, got)`` writes the message for the
      first case that differs (None: the generic one), ``args`` being the
      inputs the student's function saw;
    - ``hint``: the rule in one sentence, after the generic message.
    """
    name = name or getattr(student, "__name__", "your function")
    results, wrong_kind = [], []
    for case in cases:
        args, kwargs = copy.deepcopy((case.args, case.kwargs))
        try:
            got = _call_checked(student, args, kwargs, name, on_crash)
        except CheckFailed:
            if not wrong_kind:
                raise
            break  # a crash that follows from the wrong kind of result
        if validate is not None:
            try:
                got = validate(got, args, kwargs)
            except CheckFailed as err:  # said after a named mistake
                wrong_kind.append(str(err))
        expected = reference(*copy.deepcopy(case.args), **case.kwargs)
        results.append((case, args, expected, got))
    wrong = [r for r in results if not same(r[2], r[3])]
    if not (wrong or wrong_kind):
        return
    for message, mistaken in diagnoses:
        if all(_reproduces(mistaken, r[0], r[3], same) for r in results):
            fail(message)
    if wrong_kind:
        fail(wrong_kind[0])
    case, args, expected, got = wrong[0]
    message = explain(case, args, expected, got) if explain else None
    fail(
        message
        or f"{name} gives a different result on {case.label}: expected "
        f"{short_repr(expected)}, got {short_repr(got)}. {hint}".rstrip()
    )


def validator(check: Callable) -> Callable:
    """A ``validate`` for :func:`compare_with_reference` from a function
    ``check(result, *args, **kwargs)`` that only fails on a result of the
    wrong kind and returns nothing.
    """

    def validate(result, args, kwargs):
        check(result, *args, **kwargs)
        return result

    return validate


def _call_checked(student, args, kwargs, name, on_crash):
    """One call of the student's function through :func:`call_student`,
    its crash named by ``on_crash``.
    """

    def crash_message(exc):
        message = on_crash(exc, args, kwargs) if on_crash else None
        return message or f"{name} raised {type(exc).__name__}: {exc}"

    return call_student(
        student, *args, name=name, crash_message=crash_message, **kwargs
    )


def _reproduces(mistaken: Callable, case: Case, got, same: Callable) -> bool:
    """Whether the mistaken function gives the student's output on ``case``."""
    args, kwargs = copy.deepcopy((case.args, case.kwargs))
    try:
        return same(mistaken(*args, **kwargs), got)
    except Exception:  # a mistake that crashes here is not this student's
        return False
