"""``python -m course_utils doctor``: can this environment run the book?"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    """Run the command named on the command line; return its exit code."""
    parser = argparse.ArgumentParser(prog="python -m course_utils")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check Python, packages, models and data")
    parser.parse_args(argv)
    from .doctor import run_doctor

    return run_doctor()


if __name__ == "__main__":
    sys.exit(main())
