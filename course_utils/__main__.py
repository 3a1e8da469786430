"""``python -m course_utils doctor``: can this environment run the book?

``python -m course_utils fill-exercises OUT``: write the exercise notebooks with the solutions
filled in (used by the tests and the instructor build).
"""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check Python, packages, models and data")
    fill = sub.add_parser("fill-exercises", help="write exercise notebooks with solutions filled in")
    fill.add_argument("out", help="output folder")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from .doctor import run_doctor

        return run_doctor()
    from .exercise_tools import fill_all

    written = fill_all(args.out)
    print(f"wrote {len(written)} filled exercise notebook(s) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
