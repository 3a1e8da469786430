import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils import errors
from course_utils.checks import call_student, fail


def test_course_errors_are_shown_as_one_line():
    err = errors.CheckFailed("your probabilities do not sum to 1")
    shown = []

    class FakeShell:
        def _showtraceback(self, etype, value, stb):
            shown.append(stb)

    lines = errors._short_traceback(FakeShell(), type(err), err, None)
    assert lines == ["CheckFailed: your probabilities do not sum to 1"]
    # IPython ignores the returned lines: the handler must display them
    assert shown == [lines]
    # no IPython shell in pytest
    assert errors.install_short_tracebacks() is False


def test_a_check_failure_is_an_assertion_error_too():
    with pytest.raises(AssertionError):
        fail("wrong")


def test_call_student_turns_stubs_and_crashes_into_sentences():
    def stub():
        raise NotImplementedError

    def crashes():
        return 1 / 0

    def forgets_return():
        pass

    with pytest.raises(errors.CheckFailed, match="not written yet"):
        call_student(stub)
    with pytest.raises(errors.CheckFailed, match="raised ZeroDivisionError"):
        call_student(crashes)
    with pytest.raises(errors.CheckFailed, match="returned None"):
        call_student(forgets_return)
    assert call_student(lambda x: x + 1, 1) == 2


def test_set_seed_makes_reruns_identical():
    cu.set_seed(123)
    first = (np.random.rand(3), torch.rand(3))
    cu.set_seed(123)
    second = (np.random.rand(3), torch.rand(3))
    np.testing.assert_array_equal(first[0], second[0])
    torch.testing.assert_close(first[1], second[1])


def test_timer_records_seconds():
    with cu.timer("nothing", verbose=False) as t:
        pass
    assert 0 <= t["seconds"] < 1


def test_heatmap_rejects_mismatched_labels():
    from course_utils.plots import heatmap

    with pytest.raises(cu.CourseError, match="one label per row"):
        heatmap(np.zeros((2, 3)), ["a", "b"], ["x", "y"])
