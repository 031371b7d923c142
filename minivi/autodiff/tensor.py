"""The ``Tensor`` and the reverse sweep that differentiates it.

A tensor holds an array (``.data``, NumPy or CuPy) and, when it was computed from
tensors that require gradients, the ``Node`` of the operation that made it. Nodes point
to their inputs only, never to their output, so a graph has no reference cycles and is
freed by reference counting the moment the last tensor that uses it goes away.

``backward`` applies the chain rule as a reverse sweep over the graph: for a scalar
loss L and each node y = f(x1, ..., xk), the vector-Jacobian product (VJP)

    x̄_i  +=  ȳ · ∂y/∂x_i            (ȳ = ∂L/∂y, the "upstream" gradient)

is applied once every use of y has contributed to ȳ: so the nodes are visited in
reverse topological order (found iteratively, so a 100,000-op chain needs no
recursion). VJPs are written with tensor operations, so with ``create_graph=True``
the sweep itself is recorded and can be differentiated again.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import backend



class _GradMode:
    enabled = True


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) in which operations record no graph.

    Use it for evaluation and for parameter updates: ``with mv.no_grad(): ...``.
    """

    def __enter__(self):
        self._prev = _GradMode.enabled
        _GradMode.enabled = False

    def __exit__(self, *exc):
        _GradMode.enabled = self._prev
        return False


class enable_grad(no_grad):
    """The opposite of ``no_grad``: record the graph inside this block."""

    def __enter__(self):
        self._prev = _GradMode.enabled
        _GradMode.enabled = True


def is_grad_enabled() -> bool:
    return _GradMode.enabled


class Node:
    """One recorded operation: its inputs, their VJP rules and its keyword arguments."""

    __slots__ = ("inputs", "vjps", "kwargs", "name")

    def __init__(self, inputs: tuple, vjps: Sequence[Callable], kwargs: dict, name: str):
        self.inputs = inputs
        self.vjps = vjps
        self.kwargs = kwargs
        self.name = name


class Tensor:
    """An array that remembers how it was computed, so gradients can flow back to it.

    Make one with ``mv.tensor(data, requires_grad=True)``. Arithmetic operators
    broadcast like NumPy; ``.backward()`` fills ``.grad`` of every leaf tensor that
    requires a gradient. ``.grad`` is itself a ``Tensor``.
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer: np_array * tensor -> Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False, dtype=None, device: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        src = backend.device_of(data)
        if device is None:  # arrays stay where they are; lists and numbers go to the default device
            is_array = isinstance(data, np.ndarray) or src == "cuda"
            device = src if is_array else backend.get_default_device()
        device = backend.check_device(device)
        if src != device:
            data = backend.to_device(data, device)  # explicit: the caller named the device
        dtype = backend.check_dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self.data = backend.xp_for(device).array(data, dtype=dtype)  # a copy, like torch.tensor: no aliasing of your array
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._node: Node | None = None

    @staticmethod
    def _wrap(array: Any) -> "Tensor":
        """Fast constructor used by operations: no conversion, no checks."""
        t = object.__new__(Tensor)
        t.data = array
        t.grad = None
        t.requires_grad = False
        t._node = None
        return t

    # --- array-like properties ----------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(np.asarray(self.numpy()), precision=4, separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self._node is not None:
            extra += f", op={self._node.name}"
        if self.device != "cpu":
            extra += f", device='{self.device}'"
        if self.dtype != np.float32:
            extra += f", dtype={self.dtype}"
        return f"tensor({body}{extra})"

    def __bool__(self) -> bool:
        return bool(self.data)

    # --- conversions ------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array on the host (copies from the GPU)."""
        return backend.to_device(self.data, "cpu") if self.device != "cpu" else np.asarray(self.data)

    def item(self) -> float:
        return self.data.item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self) -> "Tensor":
        """The same values, cut from the graph: gradients do not flow through it
        (the stop-gradient that score-function estimators need)."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if self._node is not None and not flag:
            raise RuntimeError("only leaf tensors can be switched to requires_grad=False; use .detach()")
        self.requires_grad = flag
        return self

    def to(self, device: str) -> "Tensor":
        """An explicit copy to ``device`` ('cpu' or 'cuda'); differentiable."""
        from .ops import to_device

        return to_device(self, device=backend.check_device(device))

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        return self.to("cuda")

    def zero_grad(self) -> None:
        self.grad = None

    # --- differentiation ----------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        Gradients *accumulate*: calling backward twice adds into ``.grad`` (set
        ``p.grad = None`` or use ``optimizer.zero_grad()`` between steps). The graph's
        saved tensors are freed afterwards unless ``retain_graph=True``;
        ``create_graph=True`` records the backward pass so ``.grad`` can be
        differentiated again (it implies ``retain_graph``).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the computation "
                "had requires_grad=True (or it ran under mv.no_grad())."
            )
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward() without grad= needs a scalar, but this tensor has shape {self.shape}: "
                    "reduce it first (e.g. loss.sum() or loss.mean()) or pass grad= of the same shape."
                )
            grad = Tensor._wrap(backend.get_array_module(self.data).ones_like(self.data))
        else:
            grad = _as_grad(grad, self)
        backprop([self], [grad], retain_graph=retain_graph or create_graph, create_graph=create_graph)


def _as_grad(g: Any, like: Tensor) -> Tensor:
    if not isinstance(g, Tensor):
        g = Tensor(g, dtype=like.dtype, device=like.device)
    if g.shape != like.shape:
        raise ValueError(f"grad has shape {g.shape} but the tensor has shape {like.shape}; they must match")
    return g


def topological_order(roots: Iterable[Tensor]) -> list[Tensor]:
    """Non-leaf tensors reachable from ``roots``, every one after all of its inputs.

    An iterative depth-first search (no recursion, so no recursion limit): a tensor is
    appended once all the tensors it was computed from have been appended.
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(r, False) for r in roots]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
            continue
        if id(t) in seen or t._node is None:
            continue
        seen.add(id(t))
        inputs = t._node.inputs
        if inputs is None:
            raise RuntimeError(
                "Trying to backward through a graph a second time, but its saved values were freed "
                "by the first backward(). Pass retain_graph=True to the first call if you need to "
                "backpropagate twice, or recompute the forward pass."
            )
        stack.append((t, True))
        for x in inputs:
            if type(x) is Tensor and x._node is not None and id(x) not in seen:
                stack.append((x, False))
    return order


def backprop(
    roots: Sequence[Tensor],
    root_grads: Sequence[Tensor],
    retain_graph: bool = False,
    create_graph: bool = False,
    wrt: Sequence[Tensor] | None = None,
) -> list[Tensor | None] | None:
    """The reverse sweep. Without ``wrt``, accumulate into the leaves' ``.grad``;
    with ``wrt``, return the gradients of those tensors and leave ``.grad`` alone."""
    grads: dict[int, Tensor] = {}
    for r, g in zip(roots, root_grads):
        grads[id(r)] = grads[id(r)] + g if id(r) in grads else g
    wanted = {id(t): None for t in wrt} if wrt is not None else None
    order = topological_order(roots)
    prev_mode = _GradMode.enabled
    _GradMode.enabled = create_graph  # the sweep is recorded only when asked for
    try:
        for root in roots:  # a root that is itself a leaf
            if root._node is None:
                _deliver(root, grads.pop(id(root)), wanted)
        for t in reversed(order):
            g = grads.pop(id(t), None)
            node = t._node
            if g is not None:
                if wanted is not None and id(t) in wanted:
                    wanted[id(t)] = g
                for i, x in enumerate(node.inputs):
                    if type(x) is not Tensor or not x.requires_grad:
                        continue
                    gx = node.vjps[i](g, t, *node.inputs, **node.kwargs)
                    if x._node is None:
                        _deliver(x, gx, wanted)
                    elif id(x) in grads:
                        grads[id(x)] = grads[id(x)] + gx
                    else:
                        grads[id(x)] = gx
            if not retain_graph:
                node.inputs = None  # free the saved tensors; a second backward() now errors
    finally:
        _GradMode.enabled = prev_mode
    if wanted is None:
        return None
    return [wanted[id(t)] for t in wrt]


def _deliver(leaf: Tensor, g: Tensor, wanted: dict | None) -> None:
    """Hand a leaf its gradient: into ``wanted`` for mv.grad, else accumulate into .grad."""
    if wanted is not None:
        if id(leaf) in wanted:
            wanted[id(leaf)] = g if wanted[id(leaf)] is None else wanted[id(leaf)] + g
        return
    if leaf.requires_grad:
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def tensor(data: Any, requires_grad: bool = False, dtype=None, device: str | None = None) -> Tensor:
    """Make a leaf tensor from a list, a number, a NumPy or a CuPy array.

    ``dtype`` defaults to float32 (see ``mv.set_default_dtype``); ``device`` defaults to
    the array's own device for NumPy/CuPy input and to ``mv.get_default_device()``
    otherwise. Asking for another device than the array's is an explicit copy. The data
    are always copied (like ``torch.tensor``), so updating the tensor in place never
    changes the array you passed.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """The functional gradient: ``mv.grad(f)(x)`` is df/dx for scalar-valued ``f``.

    The result is recorded (``create_graph``), so ``mv.grad(mv.grad(f))`` gives second
    derivatives. ``argnums`` selects which positional arguments to differentiate; with a
    tuple, a tuple of gradients is returned.
    """
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    def grad_f(*args):
        args = list(args)
        for i in nums:
            a = args[i]
            if not isinstance(a, Tensor):
                a = tensor(a)
            if not a.requires_grad:
                a = Tensor._wrap(a.data)
                a.requires_grad = True
            args[i] = a
        with enable_grad():
            out = f(*args)
        if not isinstance(out, Tensor) or out.size != 1:
            raise ValueError("mv.grad(f) needs f to return a scalar Tensor")
        ones = Tensor._wrap(backend.get_array_module(out.data).ones_like(out.data))
        wrt = [args[i] for i in nums]
        gs = backprop([out], [ones], retain_graph=True, create_graph=True, wrt=wrt) if out.requires_grad else [None] * len(wrt)
        gs = [g if g is not None else Tensor._wrap(backend.get_array_module(w.data).zeros_like(w.data)) for g, w in zip(gs, wrt)]
        return gs[0] if single else tuple(gs)

    return grad_f


def autograd_grad(outputs: Tensor, inputs: Sequence[Tensor], grad_outputs: Any = None,
                  retain_graph: bool | None = None, create_graph: bool = False) -> list[Tensor | None]:
    """d(outputs)/d(inputs) without touching ``.grad`` (like ``torch.autograd.grad``)."""
    if grad_outputs is None:
        if outputs.size != 1:
            raise RuntimeError("grad_outputs is needed for a non-scalar output")
        grad_outputs = Tensor._wrap(backend.get_array_module(outputs.data).ones_like(outputs.data))
    else:
        grad_outputs = _as_grad(grad_outputs, outputs)
    if retain_graph is None:
        retain_graph = create_graph
    return backprop([outputs], [grad_outputs], retain_graph=retain_graph, create_graph=create_graph, wrt=list(inputs))
