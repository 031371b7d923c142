"""Command line: ``python -m minivi <command>`` (also installed as ``minivi``).

  grade PATH... [--jobs N] [--csv FILE] [--json] [--format gradescope] [--chapter NN] [--checks DIR]
                                                       score notebooks (a class at once)
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


def _print_text(text: str, file=None) -> None:
    file = file or sys.stdout
    try:
        print(text, file=file)
    except UnicodeEncodeError:
        print(text.encode("ascii", errors="replace").decode("ascii"), file=file)


def _grade(args: argparse.Namespace) -> int:
    from minivi.grading.grader import (
        GradeResult, GraderError, collect_notebooks, format_table, grade_many, gradescope_results, write_csv,
    )

    fmt = "json" if args.json else args.format
    notebooks = collect_notebooks(args.paths)
    if not notebooks:
        print(f"minivi grade: no notebooks found in {', '.join(args.paths)}", file=sys.stderr)
        return 2
    if fmt == "gradescope" and len(notebooks) != 1:
        print(f"minivi grade: --format gradescope grades one submission, got {len(notebooks)} notebooks",
              file=sys.stderr)
        return 2
    try:
        results = grade_many(notebooks, jobs=args.jobs, progress=len(notebooks) > 1 and sys.stderr.isatty()
                             or (len(notebooks) > 1 and args.progress),
                             timeout=args.timeout, notebook_timeout=args.notebook_timeout,
                             chapter=args.chapter, checks=args.checks or ())
    except GraderError as exc:
        print(f"minivi grade: {exc}", file=sys.stderr)
        return 2
    failed = [r for r in results if not isinstance(r, GradeResult)]
    for r in failed:
        print(f"minivi grade: {r}", file=sys.stderr)
    graded = [r for r in results if isinstance(r, GradeResult)]
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            write_csv(results, fh)
        print(f"wrote {args.csv} ({len(graded)} graded, {len(failed)} not graded)", file=sys.stderr)
    if fmt == "gradescope":
        if graded:
            print(json.dumps(gradescope_results(graded[0]), indent=2, ensure_ascii=False))
    elif fmt == "json":
        data = [r.to_dict() for r in graded]
        print(json.dumps(data[0] if len(notebooks) == 1 and data else data, indent=2, ensure_ascii=False))
    elif not args.csv or len(graded) == 1:
        for r in graded:
            _print_text(format_table(r))
    elif graded:
        width = max(len(r.notebook) for r in graded)
        for r in graded:
            flag = f"  ({len(r.flags)} flag(s))" if r.flags else ""
            _print_text(f"{r.notebook:<{width}}  {r.total}/{r.max_total}{flag}")
    return 2 if failed and not graded else 0


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

    grade = sub.add_parser(
        "grade", help="score notebooks (one, or a class's folder) in separate processes",
        description="Score each exercise with the grader's own (hidden) checks on the learner's definitions. "
                    "The notebook's own mv.check calls count for nothing.")
    grade.add_argument("paths", nargs="+", metavar="PATH", help="notebooks or folders of notebooks")
    grade.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="grade N notebooks at once (default 1)")
    grade.add_argument("--csv", metavar="FILE", help="write the gradebook: one row per submission")
    grade.add_argument("--json", action="store_true", help="print JSON (same as --format json)")
    grade.add_argument("--format", choices=("table", "json", "gradescope"), default="table",
                       help="table (default), json, or gradescope (Gradescope's autograder results.json)")
    grade.add_argument("--chapter", metavar="NN", help="the chapter, when neither metadata nor file name says")
    grade.add_argument("--checks", action="append", metavar="DIR",
                       help="a teacher's private checks (a folder of .py files or one file); repeatable")
    grade.add_argument("--timeout", type=float, default=60, metavar="SECONDS",
                       help="time limit per cell and per check (default 60)")
    grade.add_argument("--notebook-timeout", type=float, default=600, metavar="SECONDS",
                       help="time limit for a whole submission (default 600)")
    grade.add_argument("--progress", action="store_true", help="show a progress bar even when not on a terminal")
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
    for option in ("timeout", "notebook_timeout", "jobs"):
        value = getattr(args, option, None)
        if value is not None and value <= 0:
            flag = "--" + option.replace("_", "-")
            print(f"minivi {args.command}: {flag} must be positive, got {value:g}", file=sys.stderr)
            return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
