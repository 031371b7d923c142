"""The scoring process: the grader starts one per notebook (``python -I -c ... runner.main()``).

It receives a job on stdin (the learner's answer cells and the cells they need, the exercises to
score), then, in this order:

1. loads the checks from the grader's own copy of minivi (and a teacher's ``--checks`` files) and
   keeps private references to them, so nothing the learner's code does to the registry matters;
2. guards the functions each exercise forbids (``FORBIDDEN`` in the checks module) and every helper
   of :mod:`minivi.grading.checks`: called from the learner's code they raise :class:`ForbiddenCall`;
3. runs the cells in a fresh namespace (``mv.check`` is silent here: the learner's own check calls
   count for nothing), with printed output capped;
4. restores what the cells changed in the grading modules, NumPy and builtins (and reports it), then
   runs each exercise's check with ``hidden=True`` on the object the exercise names.

Results go to the grader over a pipe, one JSON line per event, each carrying a token read from stdin
before any learner code ran. The grader (:mod:`minivi.grading.grader`) kills this process when a cell
or a check runs too long or the process dies, and starts a new one that resumes after the bad item.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import json
import linecache
import os
import sys
import traceback
import types
from pathlib import Path
from typing import Any, Callable

CELL_PREFIX = "<answer cell "


class ForbiddenCall(RuntimeError):
    """Raised when an answer calls a function its exercise asks the learner to write."""


# ----------------------------------------------------------------------------------------------
# Who is calling? The innermost frame that is either the learner's (compiled from a cell) or the
# checker's own (a checks module) decides.


def _caller_is_learner(frame, check_files: frozenset) -> bool:
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(CELL_PREFIX):
            return True
        if name in check_files:
            return False
        frame = frame.f_back
    return False


class Guard:
    """Makes chosen Python functions raise when the learner's code calls them.

    The function object itself is changed (its ``__code__`` becomes a trampoline), so every alias of
    it (``minivi.glm.hessian``, ``minivi.glm.newton.hessian``, a bound method) is guarded."""

    def __init__(self, check_files: set[str]) -> None:
        self.check_files = frozenset(check_files)
        self.always: set[str] = set()
        self.active: set[str] = set()
        self.originals: dict[str, Callable] = {}
        self.calls: list[str] = []
        self.exercise = ""
        self._real_getframe = sys._getframe

    def call(self, key: str, args: tuple, kwargs: dict) -> Any:
        original = self.originals[key]
        if key in self.active or key in self.always:
            if _caller_is_learner(self._real_getframe(2), self.check_files):
                short = key.rsplit(".", 1)[-1]
                self.calls.append(key)
                what = f"exercise {self.exercise}" if self.exercise else "this exercise"
                raise ForbiddenCall(
                    f"{what} asks you to write this yourself; your answer called minivi's own `{short}` ({key})"
                )
        return original(*args, **kwargs)

    def protect(self, key: str, func: Any, always: bool = False) -> bool:
        """Guard ``func`` (a Python function, or every function of a class) under ``key``."""
        if isinstance(func, type):
            done = False
            for attr, value in list(vars(func).items()):
                inner = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
                if isinstance(inner, types.FunctionType):
                    done |= self.protect(f"{key}.{attr}", inner, always)
            return done
        func = getattr(func, "__func__", func)
        if not isinstance(func, types.FunctionType) or key in self.originals:
            return False
        copy = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__,
                                  func.__closure__)
        copy.__kwdefaults__ = func.__kwdefaults__
        copy.__dict__.update(func.__dict__)
        self.originals[key] = copy
        free = func.__code__.co_freevars
        inner = "".join(f"        {v}\n" for v in free)
        src = (
            "def _outer():\n"
            + "".join(f"    {v} = None\n" for v in free)
            + "    def _trampoline(*args, **kwargs):\n"
            + (f"        if False:\n    {inner}" if free else "")
            + f"        return __minivi_guard__({key!r}, args, kwargs)\n"
            + "    return _trampoline\n"
        )
        scope: dict = {}
        exec(compile(src, __file__, "exec"), scope)  # a library frame in tracebacks
        trampoline = scope["_outer"]().__code__
        if len(trampoline.co_freevars) != len(free):
            return False
        func.__globals__["__minivi_guard__"] = self.call
        func.__code__ = trampoline
        if always:
            self.always.add(key)
        return True


def _resolve(dotted: str) -> Any:
    """The object at a dotted path such as ``minivi.glm.hessian`` or ``minivi.glm.links.Link.nll``.

    Attributes win over submodules of the same name: ``minivi.vi.free_energy`` is the function the package
    exports, not the module ``minivi/vi/free_energy.py`` it lives in; a submodule is imported only where the
    package has no such attribute yet.
    """
    parts = dotted.split(".")
    try:
        obj = importlib.import_module(parts[0])
        for i, attr in enumerate(parts[1:], start=1):
            obj = getattr(obj, attr) if hasattr(obj, attr) else importlib.import_module(".".join(parts[:i + 1]))
        return obj
    except ImportError:  # "package.module.function" where the package rebinds the module's name to the function
        for cut in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
            return obj
        raise


# ----------------------------------------------------------------------------------------------
# Output capture


class _Capped:
    """A text stream writing to a file descriptor until ``cap`` bytes, then only counting."""

    def __init__(self, fd: int, state: dict) -> None:
        self.fd, self.state = fd, state
        self.encoding, self.errors = "utf-8", "replace"

    def write(self, text: str) -> int:
        data = str(text).encode("utf-8", "replace")
        room = self.state["cap"] - self.state["written"]
        if room > 0:
            try:
                os.write(self.fd, data[:room])
            except OSError:
                pass
            self.state["written"] += min(room, len(data))
        self.state["dropped"] += max(0, len(data) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.fd

    writable = lambda self: True  # noqa: E731


def _silent_check(name: str, obj: Any) -> None:
    """``mv.check`` while grading: the learner's own check calls count for nothing."""
    return None


def _strip_magics(source: str) -> str:
    out = []
    for line in source.split("\n"):
        stripped = line.lstrip()
        out.append(line[: len(line) - len(stripped)] + "pass  # " + stripped
                   if stripped.startswith(("%", "!")) else line)
    return "\n".join(out)


def _learner_line(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(CELL_PREFIX)]
    if not frames:
        return ""
    f = frames[-1]
    return f" (line {f.lineno}{f', in ' + f.name if f.name != '<module>' else ''})"


def _snapshot(names: list[str]) -> dict[str, dict]:
    return {n: dict(vars(sys.modules[n])) for n in names if n in sys.modules}


def _restore(snapshot: dict[str, dict]) -> list[str]:
    """Put the protected modules' attributes back; the names that had been changed."""
    changed = []
    for name, saved in snapshot.items():
        module = sys.modules.get(name)
        if module is None:
            continue
        current = vars(module)
        for key in set(current) | set(saved):
            if key.startswith("__minivi_guard__"):
                continue
            if key not in saved:
                if not isinstance(current[key], types.ModuleType):  # a lazily imported submodule is fine
                    changed.append(f"{name}.{key} (added)")
                    del current[key]
            elif current.get(key, _MISSING) is not saved[key]:
                changed.append(f"{name}.{key}")
                current[key] = saved[key]
    return changed


_MISSING = object()


def main() -> None:  # noqa: C901 - one linear script
    fd = int(sys.argv[1])
    job = json.loads(sys.stdin.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    channel = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
    token = job["token"]
    try:  # raw writes to stdout (os.write, C code) cannot fill the disk either
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        limit = max(4 * int(job.get("output_cap", 1 << 20)), 8 << 20)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    except (ImportError, AttributeError, ValueError, OSError):
        pass
    dumps, write = json.dumps, channel.write

    def send(**record: Any) -> None:
        record["token"] = token
        write(dumps(record, default=str) + "\n")
        channel.flush()

    import numpy  # noqa: F401 - imported before the learner's code, so its namespace is snapshotted

    import minivi
    import minivi.grading as grading
    from minivi.grading import registry
    import minivi.grading.checks as checks_pkg

    chapter = job["chapter"]
    run_check = registry.run_check
    checks = {c.name: c for c in registry.checks_for_chapter(chapter)}
    check_modules = [sys.modules["minivi.grading.checks"]]
    chapter_module = sys.modules.get(f"minivi.grading.checks.ch{chapter}")
    if chapter_module is not None:
        check_modules.append(chapter_module)
    for i, path in enumerate(job.get("check_files", [])):
        spec = importlib.util.spec_from_file_location(f"minivi_teacher_checks_{i}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        check_modules.append(module)
    checks.update({c.name: c for c in registry.checks_for_chapter(chapter)})
    forbidden: dict[str, list[str]] = {}
    for module in check_modules:
        for name, paths in (getattr(module, "FORBIDDEN", None) or {}).items():
            forbidden.setdefault(name, []).extend(paths)

    check_files = {str(Path(m.__file__).resolve()) for m in check_modules if getattr(m, "__file__", None)}
    check_files |= {m.__file__ for m in check_modules if getattr(m, "__file__", None)}
    guard = Guard(check_files)
    # The checker's toolkit (numerical_grad, assert_close, ...) and its check functions are never the
    # learner's to call; a module's FORBIDDEN["*"] adds its private reference computations.
    for module in check_modules:
        for attr, value in list(vars(module).items()):
            if getattr(value, "__module__", None) != module.__name__:
                continue
            if module is checks_pkg:
                guard.protect(f"{module.__name__}.{attr}", value, always=True)
    for dotted in forbidden.pop("*", []):
        try:
            guard.protect(dotted, _resolve(dotted), always=True)
        except (ImportError, AttributeError):
            pass
    keys_of: dict[str, list[str]] = {}
    unresolved = []
    for name, paths in forbidden.items():
        for dotted in paths:
            try:
                target = _resolve(dotted)
            except (ImportError, AttributeError):
                unresolved.append(dotted)
                continue
            guard.protect(dotted, target)
            keys_of.setdefault(name, []).extend(k for k in guard.originals if k == dotted or k.startswith(dotted + "."))
    real_getframe = sys._getframe

    def _getframe(depth: int = 0):
        if real_getframe(1).f_code.co_filename.startswith(CELL_PREFIX):  # called by the answer itself
            raise ForbiddenCall("sys._getframe is not available to answers while they are graded")
        return real_getframe(depth + 1)

    registry.check = grading.check = minivi.check = _silent_check
    sys._getframe = _getframe
    protected = sorted(n for n in sys.modules if n == "minivi" or n.startswith("minivi.grading")
                       or n in ("builtins", "numpy", "numpy.testing", "numpy.linalg", "json", "math"))
    snapshot = _snapshot(protected)

    state = {"cap": int(job.get("output_cap", 1 << 20)), "written": 0, "dropped": 0}
    sys.stdout = _Capped(1, state)
    sys.stderr = _Capped(2, state)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}

    for cell in job["cells"]:
        number, source = cell["number"], cell["source"]
        filename = f"{CELL_PREFIX}{number}>"
        send(ev="cell_start", cell=number)
        source = _strip_magics(source)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            code = compile(source, filename, "exec")
        except SyntaxError as exc:
            send(ev="cell_end", cell=number, status="syntax error",
                 message=f"SyntaxError: {exc.msg} (line {exc.lineno})")
            continue
        try:
            exec(code, namespace)
        except NotImplementedError as exc:
            send(ev="cell_end", cell=number, status="not implemented", message=f"NotImplementedError: {exc}")
        except SystemExit as exc:
            send(ev="cell_end", cell=number, status="exit",
                 message=f"called exit() / raised SystemExit({exc.code!r}){_learner_line(exc)}")
        except BaseException as exc:  # noqa: BLE001 - the learner's error is reported, not fatal
            text = str(exc)
            send(ev="cell_end", cell=number, status="error",
                 message=f"{type(exc).__name__}{': ' + text[:300] if text else ''}{_learner_line(exc)}")
        else:
            send(ev="cell_end", cell=number, status="ok")
        sys.stdout, sys.stderr = _Capped(1, state), _Capped(2, state)

    changed = _restore(snapshot)
    sys._getframe = _getframe
    if changed:
        send(ev="tamper", stage="cells", changed=changed[:20])
    if unresolved:
        send(ev="note", text="FORBIDDEN names not found in this minivi (not guarded): " + ", ".join(unresolved))

    for exercise in job["exercises"]:
        name, obj_name = exercise["name"], exercise["object"]
        send(ev="check_start", name=name)
        chk = checks.get(name)
        if chk is None:
            send(ev="result", name=name, status="not run", points=0, message="no such check in the grader")
            continue
        root, *attrs = (obj_name or "").split(".")
        if not root or root not in namespace:
            send(ev="result", name=name, status="not run", points=0, message="missing", missing=obj_name)
            continue
        obj = namespace[root]
        try:
            for attr in attrs:  # a check call such as mv.check("07.x", model.elbo)
                obj = getattr(obj, attr)
        except Exception as exc:  # noqa: BLE001
            send(ev="result", name=name, status="not run", points=0,
                 message=f"`{obj_name}` could not be looked up ({type(exc).__name__}: {exc})")
            continue
        guard.active = set(keys_of.get(name, []))
        guard.exercise, guard.calls = name, []
        try:
            result = run_check(name, obj, hidden=True, check=chk)
        except BaseException as exc:  # noqa: BLE001 - SystemExit from the learner's function
            result = registry.CheckResult(name, "error", 0, chk.points,
                                          f"your code raised {type(exc).__name__}: {exc}", chk.hint)
        finally:
            guard.active, guard.exercise = set(), ""
            sys.stdout, sys.stderr = _Capped(1, state), _Capped(2, state)
        calls = list(dict.fromkeys(guard.calls))
        changed = _restore(snapshot)
        sys._getframe = _getframe
        record = {"status": result.status, "points": result.points, "message": result.message,
                  "hidden": chk.has_hidden}
        if calls:
            short = ", ".join(f"`{k.rsplit('.', 1)[-1]}` ({k})" for k in calls)
            record.update(status="error", points=0,
                          message=f"exercise {name} asks you to write this yourself; your answer called "
                                  f"minivi's own {short}")
            record["forbidden"] = calls
        if changed:
            record["changed"] = changed[:20]
        send(ev="result", name=name, **record)
    send(ev="done", output_dropped=state["dropped"])


if __name__ == "__main__":
    main()
