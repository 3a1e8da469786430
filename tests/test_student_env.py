"""README's student path works: a non-root user, no apt or Node, a bare
environment, a wheel.

scripts/test.sh runs ``python scripts/student_env.py install`` before pytest: it
builds the course package as a wheel and runs ``install.py`` (README's student
command) as an unprivileged user in a new virtual environment, which ends with
``python -m course_utils doctor``. The chapter notebooks then run alone in that
environment (tests/test_chapter_notebooks.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _student_env():
    spec = importlib.util.spec_from_file_location(
        "student_env", REPO / "scripts" / "student_env.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def record():
    student_env = _student_env()
    path = student_env.area() / "install.json"
    if os.environ.get("COURSE_BOOK_PREBUILT") != "1" or not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "student_env.py"),
                "install",
            ],
            check=False,
            timeout=3600,
        )
    return json.loads(path.read_text()), student_env.area()


def test_the_student_install_succeeds_as_a_non_root_user(record):
    result, folder = record
    log = (folder / "install.log").read_text(errors="replace")
    assert result["returncode"] == 0, log[-5000:]
    assert result["uid"] != 0, "the student install ran as root"
    assert result["wheel"].endswith(".whl")


def test_the_fresh_install_ends_with_a_passing_doctor_and_a_cpu_torch(record):
    result, folder = record
    if not result["fresh"]:
        pytest.skip(
            "this run reinstalled only the wheel; the fresh install was tested "
            "when "
            "install.py, requirements.txt or pyproject.toml last "
            "changed"
        )
    log = (folder / "install.log").read_text(errors="replace")
    assert (
        "All good: this environment can run every chapter of the book." in log
    )
    assert "CPU build" in log
    assert "[FAIL]" not in log


def test_the_student_environment_has_the_wheel_not_the_source_tree(record):
    result, folder = record
    python = Path(result["venv"]) / "bin" / "python"
    probe = "import course_utils, sys; print(course_utils.__file__)"
    out = subprocess.run(
        [str(python), "-c", probe],
        capture_output=True,
        text=True,
        cwd=folder,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    assert (
        "site-packages" in out.stdout
        and str(REPO / "course_utils") not in out.stdout
    )
    data = (
        Path(out.stdout.strip()).parent
        / "course_data"
        / "benchmark_results.json"
    )
    assert data.exists(), (
        "the measured figures the chapters show are not in the wheel"
    )
