import os
import sys
from pathlib import Path

# The tests are offline and in FAST mode, however they are started.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("COURSE_FAST", "1")

REPO = Path(__file__).resolve().parent.parent
# the exercise solutions are plain modules: tests import them as
# `solutions.chNN_topic`
sys.path.insert(0, str(REPO / "exercises"))


def pytest_terminal_summary(terminalreporter):
    """Print each exercise checker's mutation score (tests/mutants.py)."""
    from mutants import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("checker mutation scores (wrong answers)")
        for line in lines:
            terminalreporter.write_line(line)
