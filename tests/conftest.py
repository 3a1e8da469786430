import os
import sys
from pathlib import Path

import pytest

# The tests are offline and in FAST mode, however they are started.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("COURSE_FAST", "1")

REPO = Path(__file__).resolve().parent.parent
# the exercise solutions are plain modules: tests import them as
# `solutions.chNN_topic`
sys.path.insert(0, str(REPO / "exercises"))


def pytest_sessionfinish(session):
    """Under pytest-xdist, a worker hands its scores to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        from mutants import SCORES

        workeroutput["mutation_scores"] = {
            name: list(score) for name, score in SCORES.items()
        }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """The controller adds up the scores its workers found."""
    from mutants import SCORES

    scores = getattr(node, "workeroutput", {}).get("mutation_scores", {})
    for name, (caught, total) in scores.items():
        old_caught, old_total = SCORES.get(name, (0, 0))
        SCORES[name] = (old_caught + caught, old_total + total)


def pytest_terminal_summary(terminalreporter):
    """Print each exercise checker's mutation score (tests/mutants.py)."""
    from mutants import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("checker mutation scores (wrong answers)")
        for line in lines:
            terminalreporter.write_line(line)
