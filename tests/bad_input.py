"""Shared by the bad-input tests (tests/test_bad_input_*.py).

A public function given bad input must end in one ``CourseError`` sentence or
in a result its docstring documents: never a raw library traceback, a silent
wrong answer or a hang. ``clear_error`` runs one call under a time limit and
returns the error's message, failing the test on anything else.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, settings

from course_utils.errors import CourseError

# Fixed seed (derandomize) so a rerun tries the same inputs; no deadline,
# because the first call of a function may load a model.
PROPERTY_SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)


@contextmanager
def time_limit(seconds: int):
    """Fail the test if the block runs longer than ``seconds`` (a hang)."""

    def on_alarm(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def clear_error(call, seconds: int = 20) -> str:
    """Run ``call()``, which must raise a ``CourseError``; return its message.

    Fails when the call returns (a silent acceptance), raises anything else
    (a raw traceback) or runs past ``seconds`` (a hang).
    """
    kind, value = clear_error_or_result(call, seconds)
    if kind == "ok":
        pytest.fail(f"bad input was accepted and returned {value!r:.80}")
    return value


def clear_error_or_result(call, seconds: int = 20):
    """Run ``call()``: return ``("ok", value)`` or ``("error", message)``.

    For generated input that may be valid: a result is allowed, and the
    caller checks that it is the documented one. Any exception other than a
    one-sentence ``CourseError``, or a hang, fails the test.
    """
    try:
        with time_limit(seconds):
            return "ok", call()
    except CourseError as error:
        message = str(error).strip()
        assert message and "\n" not in message, (
            f"a CourseError must be one sentence, got {message!r}"
        )
        return "error", message
    except TimeoutError as error:
        pytest.fail(f"hung: {error}")
    except Exception as error:  # noqa: BLE001 - the point is to catch it
        pytest.fail(
            f"raw {type(error).__name__} instead of a CourseError: {error}"
        )
