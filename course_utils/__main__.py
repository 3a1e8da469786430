"""``python -m course_utils doctor``: can this environment run the book?"""

from __future__ import annotations

import argparse
import sys

from .errors import CourseError, expect_type


def main(argv=None) -> int:
    """Run the command named on the command line; return its exit code.

    ``argv`` is a list of strings (``None``: the command line); an unknown
    command prints argparse's usage and exits with code 2.
    """
    expect_type(argv, (list, tuple, type(None)), "argv")
    parser = argparse.ArgumentParser(prog="python -m course_utils")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check Python, packages, models and data")
    parser.parse_args(argv)
    from .doctor import run_doctor

    try:
        return run_doctor()
    except CourseError as err:  # one sentence, not a traceback
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
