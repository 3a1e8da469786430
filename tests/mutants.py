"""Wrong answers a checker must reject, and the mutation score CI prints.

Each checker's tests keep a list of wrong answers, most of them mutations
of the official solution (off by one, wrong axis, wrong padding side, a
missing scale, a skipped step, a hard-coded result). A wrong answer is
*caught* when the checker raises CheckFailed with a message matching the
expected diagnosis: the named mistake when the checker names one, or its
honest generic message ("differs ... on input ...") otherwise.

    assert_rejects(check_mean_pool, [
        Wrong("first mask.sum() tokens", first_tokens_pool, r"padding"),
        ...
    ])

tests/conftest.py prints every checker's score at the end of the run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from course_utils.errors import CheckFailed

# checker name -> (caught, total); filled as the tests run
SCORES: dict[str, tuple[int, int]] = {}


@dataclass
class Wrong:
    """One wrong answer: what is wrong, the function, and a regular
    expression the checker's message must match.
    """

    mistake: str
    answer: Callable
    diagnosis: str


def outcome(checker: Callable, wrong: Wrong, call=None) -> str | None:
    """None when ``checker`` rejects ``wrong`` with the expected diagnosis,
    otherwise what happened instead.
    """
    try:
        (call or checker)(wrong.answer)
    except CheckFailed as err:
        if re.search(wrong.diagnosis, str(err), flags=re.I | re.S):
            return None
        return f"rejected with the wrong diagnosis: {err}"
    return "accepted"


def assert_rejects(
    checker: Callable, wrong_answers: list[Wrong], call=None
) -> None:
    """Every wrong answer is rejected with its diagnosis; the score is
    recorded for the summary. ``call(answer)`` runs the checker where it
    needs more than the answer.
    """
    name = getattr(checker, "__name__", str(checker))
    failures = [
        f"{wrong.mistake}: {result}"
        for wrong in wrong_answers
        if (result := outcome(checker, wrong, call)) is not None
    ]
    caught, total = len(wrong_answers) - len(failures), len(wrong_answers)
    old_caught, old_total = SCORES.get(name, (0, 0))
    SCORES[name] = (old_caught + caught, old_total + total)
    assert not failures, f"{name} let wrong answers through:\n" + "\n".join(
        failures
    )


def summary_lines() -> list[str]:
    """One line per checker, then the total, for the terminal summary."""
    if not SCORES:
        return []
    lines = [
        f"{name:<40} {caught:>3}/{total:<3} {100 * caught / total:5.1f}%"
        for name, (caught, total) in sorted(SCORES.items())
    ]
    caught = sum(c for c, _ in SCORES.values())
    total = sum(t for _, t in SCORES.values())
    lines.append(f"{'all checkers':<40} {caught:>3}/{total:<3}")
    return lines
