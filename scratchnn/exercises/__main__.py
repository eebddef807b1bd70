"""python -m scratchnn.exercises list | start DIR | check DIR: the course as homework.

    list [--part N]                              each exercise, its part, what it is graded on
    start DIR [NAME ...] [--part N]              a workspace of stubs (a file per exercise);
          [--solutions] [--force]                  --solutions: the library's answers (a key);
                                                   a file already there is kept unless --force
    check DIR [NAME ...] [--verbose]             grade; exit 0 only if every one asked passes
          [--timeout SECONDS]

A teacher picks the exercises by part (--part 3) or by name (start DIR dense_backward
adam_step); check grades what the workspace holds, or the names given.
"""

import argparse
import shutil
import sys
import textwrap
import time

from .registry import EXERCISES, PARTS
from .workspace import StudentImportError, WorkspaceError, number, relative_path, start

MARKS = {"pass": "pass", "fail": "FAIL", "not started": "not started", "timeout": "STOPPED",
         "crashed": "CRASHED", "error": "ERROR"}


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m scratchnn.exercises", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="list|start|check")
    listing = commands.add_parser("list", help="the exercises, in the course's order")
    listing.add_argument("--part", type=int, choices=sorted(PARTS))
    begin = commands.add_parser("start", help="write a workspace of stubs")
    begin.add_argument("folder", metavar="DIR")
    begin.add_argument("names", nargs="*", metavar="NAME", help="only these exercises")
    begin.add_argument("--part", type=int, choices=sorted(PARTS), help="only this part")
    begin.add_argument("--solutions", action="store_true",
                       help="write the library's own answers (a teacher's key)")
    begin.add_argument("--force", action="store_true",
                       help="overwrite exercise files that are already there")
    grade = commands.add_parser("check", help="grade a workspace")
    grade.add_argument("folder", metavar="DIR")
    grade.add_argument("names", nargs="*", metavar="NAME", help="only these exercises")
    grade.add_argument("--verbose", action="store_true",
                       help="with each failure, the traceback of the error behind it and what "
                            "your function printed (without it, prints are not shown)")
    grade.add_argument("--timeout", type=float, default=30.0,
                       help="seconds one exercise may take before it is stopped (default 30)")
    return parser.parse_args(argv)


def wrapped(text, indent, width):
    return textwrap.fill(text, width, initial_indent="", subsequent_indent=" " * indent)


def list_exercises(part):
    width = min(shutil.get_terminal_size((100, 20)).columns, 110)
    for p in sorted(PARTS):
        if part not in (None, p):
            continue
        print(f"Part {p}: {PARTS[p]}")
        for e in (e for e in EXERCISES if e.part == p):
            print(f"  {number(e):2d}. {e.name:<25} {e.where}")
            print("      " + wrapped(f"graded on: {e.graded}", 6, width - 6))
        print()
    return 0


def start_workspace(args):
    written, kept = start(args.folder, args.part, tuple(args.names), args.solutions, args.force)
    kind = "the library's answers (a teacher's key)" if args.solutions else "stubs to fill in"
    print(f"Wrote {len(written)} exercise file{'s' * (len(written) != 1)} into {args.folder}"
          + (f", {kind}:" if written else "."))
    for e in written:
        print(f"  {relative_path(e)}")
    if kept:
        print("Kept, as they were already there (--force overwrites them):")
    for e in kept:
        print(f"  {relative_path(e)}")
    print(f"\nNext: write the bodies, then: python -m scratchnn.exercises check {args.folder}")
    return 0


def check_workspace(args):
    from .grading import check
    began = time.perf_counter()
    results = check(args.folder, args.names or None, timeout=args.timeout, verbose=args.verbose)
    width = min(shutil.get_terminal_size((100, 20)).columns, 110)
    counts, part = {}, None
    print(f"Grading {args.folder}: {len(results)} exercise{'s' * (len(results) != 1)}\n")
    for exercise, status, message, seconds, details in results:
        if exercise.part != part:
            part = exercise.part
            print(f"Part {part}: {PARTS[part]}")
        counts[status] = counts.get(status, 0) + 1
        head = f"  {MARKS[status]:<11} {number(exercise):2d} {exercise.name:<25} "
        if status == "pass":
            print(head + f"({seconds:.1f} s)")
        elif status == "not started":
            print(head.rstrip())
        else:
            text = message if status != "fail" or message.startswith(exercise.name) else \
                f"{exercise.qualname}: {message}"
            print(head.rstrip())
            print("      " + wrapped(text, 6, width - 6))
            if args.verbose and details:
                print(textwrap.indent(details.rstrip(), "      | "))
    order = ("pass", "fail", "timeout", "crashed", "error", "not started")
    words = {"pass": "passed", "fail": "failed", "timeout": "stopped", "crashed": "crashed",
             "error": "could not be graded", "not started": "not started"}
    summary = ", ".join(f"{counts[s]} {words[s]}" for s in order if s in counts)
    print(f"\n{summary} ({time.perf_counter() - began:.1f} s).")
    if counts.get("pass", 0) == len(results):
        print("Every exercise passed.")
        return 0
    if "fail" in counts or "timeout" in counts or "crashed" in counts:
        print("Mend the first failure above (--verbose adds the traceback of an error behind one).")
    return 1


def main(argv=None):
    args = parse(argv)
    try:
        if args.command == "list":
            return list_exercises(args.part)
        if args.command == "start":
            return start_workspace(args)
        return check_workspace(args)
    except (WorkspaceError, StudentImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        if "hypothesis" in str(err):
            print("error: the grader needs hypothesis: pip install 'scratchnn[homework]' (or "
                  "pip install hypothesis)", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
