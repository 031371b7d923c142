"""Command line: ``python -m minivi <command>`` (also installed as ``minivi``).

  grade NOTEBOOK.ipynb [--json] [--timeout SECONDS]   run a notebook headless, print its score
  build-exercises [--check] [--root DIR] [NAMES...]    make exercises/ from solutions/
  run-chapters [--fast] [--out DIR] [NAMES...]         execute the chapters headless, write figures and the HTML book
  init DIR                                             copy the chapters and exercises into DIR (a working copy)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main"]


def _grade(args: argparse.Namespace) -> int:
    from minivi.grading.grader import GraderError, format_table, grade_notebook

    try:
        result = grade_notebook(args.notebook, timeout=args.timeout)
    except GraderError as exc:
        print(f"minivi grade: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        text = format_table(result)
        try:
            print(text)
        except UnicodeEncodeError:
            print(text.encode("ascii", errors="replace").decode("ascii"))
    return 0


def _build_exercises(args: argparse.Namespace) -> int:
    from minivi.grading.notebooks import build_exercises, default_root

    root = Path(args.root) if args.root else default_root()
    if not (root / "solutions").is_dir():
        print(f"minivi build-exercises: no solutions/ directory under {root}", file=sys.stderr)
        return 2
    try:
        changed = build_exercises(root, args.names, check=args.check)
    except ValueError as exc:
        print(f"minivi build-exercises: {exc}", file=sys.stderr)
        return 2
    shown = [str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in changed]
    if args.check:
        if changed:
            print("out of date (run `python -m minivi build-exercises`):\n" + "\n".join(f"  {s}" for s in shown))
            return 1
        print("exercises are up to date")
        return 0
    print("\n".join(f"wrote {s}" for s in shown) if shown else "exercises are up to date")
    return 0


def _run_chapters(args: argparse.Namespace) -> int:
    from minivi.chapters import run_chapters

    root = Path(args.root) if args.root else None
    try:
        failed = run_chapters(args.names, out=args.out, fast=True if args.fast else None, root=root,
                              timeout=args.timeout, book=not args.no_book)
    except (OSError, ModuleNotFoundError) as exc:  # no chapters, --out not a folder, a missing extra
        print(f"minivi run-chapters: {exc}", file=sys.stderr)
        return 2
    return 1 if failed else 0


def _init(args: argparse.Namespace) -> int:
    from minivi.course import init_course

    try:
        written = init_course(args.dir, force=args.force)
    except OSError as exc:
        print(f"minivi init: {exc}", file=sys.stderr)
        return 2
    print(f"copied {len(written)} notebooks into {Path(args.dir).resolve()}" + (" (existing files kept; --force "
          "overwrites them)" if not args.force else ""))
    print(f"next: cd {args.dir} && jupyter lab   (or: python -m minivi run-chapters --root {args.dir})")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minivi", description="minivi course tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    grade = sub.add_parser("grade", help="run a chapter notebook headless and print its score")
    grade.add_argument("notebook", help="path to the notebook, e.g. exercises/01_autodiff.ipynb")
    grade.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
    grade.add_argument("--timeout", type=float, default=60, metavar="SECONDS",
                       help="per-cell time limit in seconds (default 60)")
    grade.set_defaults(func=_grade)

    build = sub.add_parser("build-exercises", help="generate exercises/ from solutions/")
    build.add_argument("names", nargs="*", help="notebooks to build (e.g. 01_autodiff or 01); default all")
    build.add_argument("--check", action="store_true", help="write nothing; exit 1 and list files that differ")
    build.add_argument("--root", help="repository root (default: the one holding this minivi package)")
    build.set_defaults(func=_build_exercises)

    run = sub.add_parser("run-chapters", help="execute the chapter notebooks headless and write their figures")
    run.add_argument("names", nargs="*", help="chapters to run (e.g. 01 03_deep_networks); default all")
    run.add_argument("--fast", action="store_true", help="smoke mode (same as MINIVI_FAST=1): fewer epochs and samples")
    run.add_argument("--out", default="build", help="folder for executed notebooks and figures (default build/)")
    run.add_argument("--root", help="repository root (default: the one holding this minivi package)")
    run.add_argument("--timeout", type=int, default=1200, metavar="SECONDS", help="per-cell time limit (default 1200)")
    run.add_argument("--no-book", action="store_true", help="skip the HTML book (OUT/book/index.html)")
    run.set_defaults(func=_run_chapters)

    init = sub.add_parser("init", help="copy the chapter and exercise notebooks into a working folder")
    init.add_argument("dir", help="folder to create or fill, e.g. my-course")
    init.add_argument("--force", action="store_true", help="overwrite notebooks that are already there")
    init.set_defaults(func=_init)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "timeout", 1) is not None and getattr(args, "timeout", 1) <= 0:
        print("minivi grade: --timeout must be positive", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
