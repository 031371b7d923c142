"""Grad mode: whether operations record the graph (``mv.no_grad()``, ``mv.enable_grad()``).

The mode is per thread (as in PyTorch), and every block restores the mode it found on exit,
so nested blocks and recursive ``@mv.no_grad()`` functions leave it as it was.
"""
from __future__ import annotations

import threading
from typing import Callable


class _GradModeState(threading.local):
    enabled = True


_GradMode = _GradModeState()  # per thread, as in PyTorch


class no_grad:
    """Context manager (and decorator) in which operations record no graph.

    Use it for evaluation and for parameter updates: ``with mv.no_grad(): ...``.
    Re-entrant and thread-local: each ``with`` restores the mode it found, so nested
    blocks and recursive ``@mv.no_grad()`` functions leave the mode as it was.
    """

    _mode = False

    def __init__(self, func: Callable | None = None):
        self._saved: list[bool] = []  # a stack: the same object may be entered recursively
        self._func = func
        if func is not None:  # @mv.no_grad without parentheses
            self.__wrapped__ = func

    def __enter__(self):
        self._saved.append(_GradMode.enabled)
        _GradMode.enabled = self._mode

    def __exit__(self, *exc):
        _GradMode.enabled = self._saved.pop()
        return False

    def __call__(self, *args, **kwargs):
        if self._func is not None:
            with type(self)():
                return self._func(*args, **kwargs)
        func = args[0]

        def wrapper(*a, **kw):
            with type(self)():  # a fresh block per call: safe for recursion and threads
                return func(*a, **kw)

        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__doc__ = getattr(func, "__doc__", None)
        wrapper.__wrapped__ = func
        return wrapper


class enable_grad(no_grad):
    """The opposite of ``no_grad``: record the graph inside this block."""

    _mode = True


def is_grad_enabled() -> bool:
    return _GradMode.enabled
