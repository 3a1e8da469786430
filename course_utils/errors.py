"""Errors that speak to the student in one sentence.

Every error the course raises on purpose derives from :class:`CourseError`. In
Jupyter they are shown as ``Name: message`` with no traceback, because the
message already says what is wrong and what to do; a 60-line trace through
library internals would only hide it.
"""

from __future__ import annotations


class CourseError(Exception):
    """Base class: the message is one clear sentence saying what is wrong and
    what to do.
    """


class AssetMissingError(CourseError, FileNotFoundError):
    """A packaged model or data set is not installed and cannot be fetched."""


class CheckFailed(CourseError, AssertionError):
    """An exercise answer is wrong; the message names the mistake."""


def _short_traceback(shell, etype, value, tb, tb_offset=None):
    """IPython custom-exception handler: show one line. IPython discards what a
    handler returns, so the handler must display it itself; the kernel still
    reports the cell as failed."""
    stb = [f"{etype.__name__}: {value}"]
    if shell is not None:
        shell._showtraceback(etype, value, stb)
    return stb


def install_short_tracebacks() -> bool:
    """In IPython, show CourseError subclasses as one line instead of a full
    traceback.

    Returns True when a handler was installed. The cell still counts as failed
    (nbval and the book build see the error); only the display is shortened.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((CourseError,), _short_traceback)
    return True


def require(condition: object, message: str) -> None:
    """Raise ``CourseError(message)`` unless ``condition`` holds.

    The public functions guard their inputs with it, so a slip of the hand
    ends in one sentence that says what to do, not a library traceback.
    """
    if not condition:
        raise CourseError(message)


def expect_type(value: object, types, name: str) -> None:
    """Raise a ``CourseError`` unless ``value`` is an instance of ``types``.

    ``bool`` is refused where ``int`` is asked for, because ``True`` as a
    size or a seed is always a slip.
    """
    wanted = types if isinstance(types, tuple) else (types,)
    is_bool = isinstance(value, bool) and bool not in wanted
    if isinstance(value, wanted) and not is_bool:
        return
    names = " or ".join(_a(t.__name__) for t in wanted)
    shown = " ".join(repr(value).split())[:40]  # one line, even for arrays
    raise CourseError(
        f"{name} must be {names}, not {_a(type(value).__name__)} "
        f"({shown}); pass {names}."
    )


def _a(noun: str) -> str:
    """'an int', 'a str': the article a type name needs in a sentence."""
    return ("an " if noun[0].lower() in "aeiou" else "a ") + noun


def expect_int(value: object, name: str, minimum: int | None = None) -> None:
    """Raise a ``CourseError`` unless ``value`` is an int (not a bool) that is
    at least ``minimum``."""
    expect_type(value, int, name)
    if minimum is not None and value < minimum:
        raise CourseError(
            f"{name} must be at least {minimum}, got {value}; "
            f"pass an int >= {minimum}."
        )
