"""The helpers every checker uses: a time limit on the student's function,
the student's own line in a crash message, and the wrong-answer lists.
"""

from __future__ import annotations

import threading
import time

import pytest
import torch
from mutants import Wrong, outcome

from course_utils import checks
from course_utils.errors import CheckFailed


def never_returns(x):
    while True:
        try:
            time.sleep(0.01)
        except Exception:  # a student's catch-all must not hide the limit
            pass


def crashes(values):
    first = values[10]
    return first


@pytest.fixture
def short_limit(monkeypatch):
    monkeypatch.setattr(checks, "TIME_LIMIT_S", 0.3)


def test_a_function_that_never_returns_is_stopped_and_named(short_limit):
    start = time.monotonic()
    with pytest.raises(CheckFailed, match=r"never_returns\(Tensor of shape "):
        checks.call_student(never_returns, torch.zeros(2, 3))
    assert time.monotonic() - start < 2


def test_the_time_limit_holds_outside_the_main_thread(short_limit):
    messages = []

    def worker():
        try:
            checks.call_student(never_returns, 1)
        except CheckFailed as err:
            messages.append(str(err))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert messages and "did not finish within 0.3 s" in messages[0]


def test_an_earlier_timer_is_restored(short_limit):
    import signal

    if not hasattr(signal, "setitimer"):
        pytest.skip("no interval timers on this platform")
    signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        checks.call_student(lambda x: x + 1, 1)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 90 < left <= 100
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def test_a_crash_names_the_students_own_line():
    with pytest.raises(CheckFailed) as err:
        checks.call_student(crashes, [1, 2])
    message = str(err.value)
    assert "IndexError" in message
    assert "test_check_helpers.py, line" in message
    assert "`first = values[10]`" in message


def test_a_crash_inside_a_library_still_names_the_students_line():
    def bad_matmul(a):
        return a @ torch.zeros(5, 2)

    with pytest.raises(CheckFailed, match=r"`return a @ torch.zeros\(5, 2\)`"):
        checks.call_student(bad_matmul, torch.zeros(2, 3))


def test_a_fast_result_comes_back_unchanged():
    assert checks.call_student(lambda x: x * 2, 21) == 42


def test_outcome_tells_accepted_from_a_wrong_diagnosis():
    def lenient(answer):
        pass

    def strict(answer):
        checks.fail("you summed over the wrong axis")

    wrong = Wrong("axis", lambda x: x, r"wrong axis")
    assert outcome(lenient, wrong) == "accepted"
    assert outcome(strict, wrong) is None
    other = Wrong("scale", lambda x: x, r"scale")
    assert outcome(strict, other).startswith("rejected with the wrong")


# -------------------------------------------------------------------------
# compare_with_reference: right or wrong first, then the diagnosis


def _cases():
    return [
        checks.Case("a row of three", (torch.tensor([[1.0, 2.0, 3.0]]),)),
        checks.Case("two rows", (torch.tensor([[1.0, 2.0], [3.0, 5.0]]),)),
    ]


def row_means(x):
    return x.mean(dim=1)


def test_the_reference_itself_passes():
    checks.compare_with_reference(row_means, row_means, _cases())


def test_a_mistake_is_named_only_when_it_reproduces_the_output():
    def column_means(x):
        return x.mean(dim=0)

    diagnoses = [("you averaged over the wrong axis", column_means)]
    with pytest.raises(CheckFailed, match="wrong axis"):
        checks.compare_with_reference(
            column_means, row_means, _cases(), diagnoses=diagnoses
        )

    def row_sums(x):
        return x.sum(dim=1)

    # wrong, but not the named mistake: a generic message with the input
    with pytest.raises(CheckFailed) as err:
        checks.compare_with_reference(
            row_sums, row_means, _cases(), diagnoses=diagnoses
        )
    message = str(err.value)
    assert "wrong axis" not in message
    assert "a row of three" in message and "expected tensor([2.0])" in message


def test_the_student_cannot_change_the_inputs_the_reference_sees():
    def mean_in_place(x):
        result = x.mean(dim=1)
        x.zero_()
        return result

    checks.compare_with_reference(mean_in_place, row_means, _cases())


def test_same_result_compares_nested_results():
    same = checks.same_result
    assert same({"a": [1.0, torch.tensor(2.0)]}, {"a": [1.0, 2.0]})
    assert not same({"a": 1.0}, {"a": 1.0, "b": 2.0})
    assert not same([1, 2], [1, 2, 3])
    assert not same(torch.zeros(2), torch.zeros(3))
    assert not same(1.0, "1.0")
    assert same(float("nan"), float("nan"))
