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

Three guards keep the sweep honest (each error names the operation and the fix):
every VJP result must have its input's shape and dtype; a tensor whose ``.data`` was
changed after the forward pass used it (its *version* moved on) cannot be differentiated;
and every leaf's ``.grad`` owns its array, so changing it in place changes nothing else.
"""
from __future__ import annotations

import threading
import warnings
import weakref
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import backend


# --- grad mode: thread-local, restored by every block on exit ---------------------------
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


# --- versions: a clock that moves on whenever some tensor's data is changed in place ------
_CLOCK = [0]  # _CLOCK[0] = the number of in-place changes so far (all tensors together)


def bump_version(t: "Tensor") -> None:
    """Record that ``t.data`` was changed in place (call it after writing into the array).

    Assigning ``t.data = ...`` or ``t.data -= ...`` does this by itself; writing through
    the array (``t.data[0] = 1``, ``np.add(..., out=t.data)``) needs this explicit call.
    """
    _CLOCK[0] += 1
    t._version = _CLOCK[0]


class Node:
    """One recorded operation: its inputs, their VJP rules, its keyword arguments and the
    clock reading when it ran (``stamp``): an input with a later version was changed since."""

    __slots__ = ("inputs", "vjps", "kwargs", "name", "stamp")

    def __init__(self, inputs: tuple, vjps: Sequence[Callable], kwargs: dict, name: str, stamp: int = 0):
        self.inputs = inputs
        self.vjps = vjps
        self.kwargs = kwargs
        self.name = name
        self.stamp = stamp


_RETAINED: dict[int, weakref.ref] = {}  # retain_grad(): id -> weak reference (a plain dict: cheap to test)


class Tensor:
    """An array that remembers how it was computed, so gradients can flow back to it.

    Make one with ``mv.tensor(data, requires_grad=True)``. Arithmetic operators
    broadcast like NumPy; ``.backward()`` fills ``.grad`` of every leaf tensor that
    requires a gradient. ``.grad`` is itself a ``Tensor``. The operators (``a + b``,
    ``a @ b``, ``a[i]``, ...) are listed in the table at the end of this file.
    """

    __slots__ = ("_data", "grad", "requires_grad", "_node", "_version", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer: np_array * tensor -> Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False, dtype=None, device: str | None = None):
        if isinstance(data, Tensor):
            if data.requires_grad:
                warnings.warn(
                    "mv.tensor(t) on a tensor that requires grad copies its values and cuts the graph: "
                    "no gradient will flow back to t. Use t.clone() to copy inside the graph, or "
                    "t.detach() to cut it on purpose (and silence this warning).", UserWarning, stacklevel=3)
            data = data._data
        src = backend.device_of(data)
        if device is None:  # arrays stay where they are; lists and numbers go to the default device
            is_array = isinstance(data, np.ndarray) or src == "cuda"
            device = src if is_array else backend.get_default_device()
        device = backend.check_device(device)
        if src != device:
            data = backend.to_device(data, device)  # explicit: the caller named the device
        dtype = backend.check_dtype(dtype) if dtype is not None else backend.get_default_dtype()
        _check_data(data)
        self._data = backend.xp_for(device).array(data, dtype=dtype)  # a copy, like torch.tensor
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._node: Node | None = None
        self._version = 0

    @staticmethod
    def _wrap(array: Any) -> "Tensor":
        """Fast constructor used by operations: no conversion, no checks."""
        t = object.__new__(Tensor)
        t._data = array
        t.grad = None
        t.requires_grad = False
        t._node = None
        t._version = 0
        return t

    # --- the data, and its version -------------------------------------------------------
    @property
    def data(self):
        """The array (NumPy or CuPy). Assigning to it (also ``t.data -= ...``) bumps the
        tensor's version, so a graph that saved the old values refuses to backpropagate."""
        return self._data

    @data.setter
    def data(self, value) -> None:
        self._data = value
        bump_version(self)

    # --- array-like properties ----------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self._data)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor: it has no first axis (use .item() for its value)")
        return len(self._data)

    def __iter__(self):
        """Iterate over the first axis (each item a differentiable slice ``t[i]``)."""
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor: it has no first axis (use .item() for its value)")
        return (self[i] for i in range(len(self._data)))

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
        return bool(self._data)

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def _scalar(self, what: str):
        if self._data.size != 1:
            raise TypeError(f"{what}(t) needs a tensor with one element, but t has shape {self.shape}: "
                            "reduce it first (t.sum(), t.mean()) or index one entry (t[0])")
        return self._data.item()

    # --- conversions ------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array on the host (copies from the GPU)."""
        return backend.to_device(self._data, "cpu") if self.device != "cpu" else np.asarray(self._data)

    def item(self) -> float:
        return self._scalar("item")

    def tolist(self):
        return self.numpy().tolist()

    def detach(self) -> "Tensor":
        """The same values, cut from the graph: gradients do not flow through it
        (the stop-gradient that score-function estimators need)."""
        return Tensor._wrap(self._data)

    def clone(self) -> "Tensor":
        """A copy of the values that stays in the graph (gradients flow through it)."""
        from .shape import copy

        return copy(self)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if self._node is not None and not flag:
            raise RuntimeError("only leaf tensors can be switched to requires_grad=False; use .detach()")
        self.requires_grad = flag
        return self

    def retain_grad(self) -> "Tensor":
        """Keep this non-leaf tensor's gradient in ``.grad`` after ``backward()`` (leaves always do)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad: it gets no gradient")
        if self._node is not None:
            key = id(self)
            _RETAINED[key] = weakref.ref(self, lambda _, key=key: _RETAINED.pop(key, None))
        return self

    def to(self, device: str) -> "Tensor":
        """An explicit copy to ``device`` ('cpu' or 'cuda'); differentiable."""
        from .shape import to_device

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
        differentiated again (it implies ``retain_graph``). ``grad`` (for a non-scalar
        tensor) may be an array or list, converted to this tensor's dtype; a ``Tensor``
        of another dtype is an error.
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
            grad = Tensor._wrap(backend.get_array_module(self._data).ones_like(self._data))
        else:
            grad = _as_grad(grad, self, "backward")
        backprop([self], [grad], retain_graph=retain_graph or create_graph, create_graph=create_graph)


def _check_data(data: Any) -> None:
    """Refuse data that NumPy would turn into NaN, drop silently, or fail on obscurely."""
    if isinstance(data, (list, tuple)):
        try:
            kind = np.asarray(data).dtype.kind
        except (ValueError, TypeError):
            kind = "O"
        if kind not in "OcUS":
            return  # plain numbers: the common case, checked by NumPy alone
        flat = list(_leaves(data))
        if any(isinstance(v, Tensor) for v in flat):
            raise TypeError("mv.tensor: got a list of tensors; use mv.stack([t1, t2, ...]) to join tensors "
                            "(it keeps the graph), or mv.tensor([t.item() ...]) for plain values")
        if any(v is None for v in flat):
            raise TypeError("mv.tensor: the data contain None, which would become NaN; replace the missing "
                            "entries by numbers (or use a mask)")
        if any(isinstance(v, complex) for v in flat):
            raise TypeError("mv.tensor: complex numbers are not supported (minivi tensors are real); pass "
                            "the real part (z.real) and the imaginary part (z.imag) as two tensors")
        if kind in "US" or any(isinstance(v, str) for v in flat):
            raise TypeError("mv.tensor: the data contain strings; convert them to numbers first")
        raise TypeError("mv.tensor: the data are not a regular array of numbers (rows of different lengths, "
                        "or objects NumPy cannot convert); pass a list of numbers with one length per axis")
    elif isinstance(data, complex) or getattr(getattr(data, "dtype", None), "kind", "") == "c":
        raise TypeError("mv.tensor: complex data are not supported (minivi tensors are real, and the imaginary "
                        "part would be dropped); pass data.real and data.imag as two tensors")


def _leaves(x):
    stack = [x]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        else:
            yield v


def _as_grad(g: Any, like: Tensor, where: str) -> Tensor:
    if not isinstance(g, Tensor):
        g = Tensor(g, dtype=like.dtype, device=like.device)  # arrays and lists: converted to like's dtype
    elif g.dtype != like.dtype:
        raise TypeError(f"{where}: grad is {g.dtype} but the tensor is {like.dtype}; they must match "
                        f"(pass grad.astype('{like.dtype}'), or an array, which is converted)")
    if g.shape != like.shape:
        raise ValueError(f"{where}: grad has shape {g.shape} but the tensor has shape {like.shape}; they must match")
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
            if isinstance(x, Tensor) and x._node is not None and id(x) not in seen:
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
    owned = {id(g._data) for g in root_grads}  # arrays a leaf may not keep as its own .grad (the caller's)
    order = topological_order(roots)
    prev_mode = _GradMode.enabled
    _GradMode.enabled = create_graph  # the sweep is recorded only when asked for
    try:
        for root in roots:  # a root that is itself a leaf
            if root._node is None and id(root) in grads:
                _deliver(root, grads.pop(id(root)), wanted, owned)
        for t in reversed(order):
            g = grads.pop(id(t), None)
            node = t._node
            if g is not None:
                if wanted is not None and id(t) in wanted:
                    wanted[id(t)] = g
                if _RETAINED and id(t) in _RETAINED:
                    t.grad = _own(g, owned) if t.grad is None else t.grad + g
                inputs, stamp, vjps, kwargs = node.inputs, node.stamp, node.vjps, node.kwargs
                if t._version > stamp:
                    raise _modified_error(node, -1, t)
                i = -1
                for x in inputs:
                    i += 1
                    if not isinstance(x, Tensor):
                        continue  # a constant number
                    if x._version > stamp:
                        raise _modified_error(node, i, x)
                    if not x.requires_grad:
                        continue
                    try:
                        rule = vjps[i]
                    except (IndexError, TypeError):
                        rule = None
                    if rule is None:
                        raise NotImplementedError(
                            f"no VJP rule for input {i} of op {node.name!r}; register one with "
                            f"defvjp({node.name}, rule_0, rule_1, ...), one rule per positional input")
                    gx = rule(g, t, *inputs, **kwargs)
                    try:  # the rule's result must look like its input: same shape, same dtype
                        gd, xd = gx._data, x._data
                        ok = gd.shape == xd.shape and gd.dtype == xd.dtype
                    except AttributeError:
                        ok = False
                    if not ok:
                        raise _bad_vjp_error(node, i, x, gx)
                    if x._node is None:
                        _deliver(x, gx, wanted, owned)
                    else:
                        k = id(x)
                        grads[k] = grads[k] + gx if k in grads else gx
            if not retain_graph:
                node.inputs = None  # free the saved tensors; a second backward() now errors
    finally:
        _GradMode.enabled = prev_mode
    if wanted is None:
        return None
    return [wanted[id(t)] for t in wrt]


def _describe(x: Any) -> str:
    if isinstance(x, Tensor):
        return f"shape {x.shape}, dtype {x.dtype}"
    return f"a {type(x).__name__}"


def _bad_vjp_error(node: Node, i: int, x: Tensor, gx: Any) -> Exception:
    if not isinstance(gx, Tensor):
        return TypeError(
            f"the VJP rule for input {i} of op {node.name!r} returned {_describe(gx)}, not a Tensor: write the "
            "rule with minivi operations on its tensor arguments (g, ans, inputs) so it returns a Tensor")
    if gx.shape != x.shape:
        hint = (" Did the rule reduce a broadcast gradient? Wrap its result in unbroadcast(result, input)."
                if gx.ndim >= x.ndim or gx.size > x.size else "")
        return ValueError(
            f"the VJP rule for input {i} of op {node.name!r} returned a gradient of shape {gx.shape}, but the "
            f"input has shape {x.shape}; a gradient must have its input's shape.{hint}")
    return TypeError(
        f"the VJP rule for input {i} of op {node.name!r} returned a {gx.dtype} gradient for a {x.dtype} input; "
        "a gradient must have its input's dtype (a float64 constant or array in the rule? use Python numbers, "
        "or .astype(input.dtype))")


def _modified_error(node: Node, i: int, x: Tensor) -> Exception:
    which = "the output" if i < 0 else f"input {i}"
    return RuntimeError(
        f"one of the tensors needed to differentiate op {node.name!r} ({which}, {_describe(x)}) was modified "
        "in place after the forward pass used it (its .data was assigned or an optimiser stepped it), so the "
        "gradient would be computed from the wrong values. Call backward() before changing it, or compute a "
        "new tensor (y = y + 1) instead of changing .data in place.")


def _own(g: Tensor, owned: set) -> Tensor:
    """``g``, or a copy of it when its array is a view, read-only, or already someone's."""
    arr = g._data
    if type(arr) is np.ndarray:
        if arr.base is None and arr.flags.writeable and id(arr) not in owned:
            owned.add(id(arr))
            return g
    elif backend.device_of(arr) == "cuda" and arr.base is None and id(arr) not in owned:
        owned.add(id(arr))
        return g
    from .shape import copy  # a differentiable copy (recorded under create_graph)

    c = copy(g)
    owned.add(id(c._data))
    return c


def _deliver(leaf: Tensor, g: Tensor, wanted: dict | None, owned: set) -> None:
    """Hand a leaf its gradient: into ``wanted`` for mv.grad, else accumulate into .grad."""
    if wanted is not None:
        if id(leaf) in wanted:
            wanted[id(leaf)] = g if wanted[id(leaf)] is None else wanted[id(leaf)] + g
        return
    if leaf.requires_grad:
        leaf.grad = _own(g, owned) if leaf.grad is None else leaf.grad + g


def tensor(data: Any, requires_grad: bool = False, dtype=None, device: str | None = None) -> Tensor:
    """Make a leaf tensor from a list, a number, a NumPy or a CuPy array.

    ``dtype`` defaults to float32 (see ``mv.set_default_dtype``); ``device`` defaults to
    the array's own device for NumPy/CuPy input and to ``mv.get_default_device()``
    otherwise. Asking for another device than the array's is an explicit copy. The data
    are always copied (like ``torch.tensor``), so updating the tensor in place never
    changes the array you passed. To join tensors use ``mv.stack``; to copy one inside the
    graph use ``t.clone()``.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


# --- the operator table: Python's syntax, mapped to the engine's operations -------------------
# (the operations are defined in elementwise.py, reductions.py, shape.py and linalg.py, which
# import Tensor from here, so they are bound at the end of this file)
from .elementwise import add, clip, div, exp, log, log1p, mul, neg, power, relu, sigmoid, softplus, sqrt, sub, tanh  # noqa: E402
from .elementwise import abs as _abs  # noqa: E402
from .linalg import matmul  # noqa: E402
from .reductions import log_softmax, logsumexp, max as _max, mean, min as _min, softmax, std, sum as _sum, var  # noqa: E402
from .shape import astype, expand_dims, getitem, reshape, squeeze, swapaxes, transpose  # noqa: E402

Tensor.__add__ = add                                  # a + b
Tensor.__radd__ = lambda a, b: add(b, a)              # 2 + a
Tensor.__sub__ = sub                                  # a - b
Tensor.__rsub__ = lambda a, b: sub(b, a)
Tensor.__mul__ = mul                                  # a * b
Tensor.__rmul__ = lambda a, b: mul(b, a)
Tensor.__truediv__ = div                              # a / b
Tensor.__rtruediv__ = lambda a, b: div(b, a)
Tensor.__pow__ = power                                # a ** b
Tensor.__rpow__ = lambda a, b: power(b, a)
Tensor.__neg__ = neg                                  # -a
Tensor.__pos__ = lambda a: a                          # +a
Tensor.__matmul__ = matmul                            # a @ b
Tensor.__rmatmul__ = lambda a, b: matmul(b, a)
Tensor.__getitem__ = getitem                          # a[i], a[:, 1:3], a[mask], a[[0, 2]]
# Comparisons give boolean arrays (masks, not differentiable); hashing stays by identity.
Tensor.__lt__ = lambda a, b: a._data < (b._data if isinstance(b, Tensor) else b)
Tensor.__le__ = lambda a, b: a._data <= (b._data if isinstance(b, Tensor) else b)
Tensor.__gt__ = lambda a, b: a._data > (b._data if isinstance(b, Tensor) else b)
Tensor.__ge__ = lambda a, b: a._data >= (b._data if isinstance(b, Tensor) else b)
Tensor.__eq__ = lambda a, b: a._data == (b._data if isinstance(b, Tensor) else b)
Tensor.__ne__ = lambda a, b: a._data != (b._data if isinstance(b, Tensor) else b)
Tensor.__hash__ = object.__hash__
# Methods: t.sum(axis=0) is mv.sum(t, axis=0), and so on.
Tensor.T = property(lambda a: transpose(a))
Tensor.sum, Tensor.mean, Tensor.var, Tensor.std, Tensor.max, Tensor.min = _sum, mean, var, std, _max, _min
Tensor.exp, Tensor.log, Tensor.log1p, Tensor.sqrt, Tensor.abs, Tensor.tanh = exp, log, log1p, sqrt, _abs, tanh
Tensor.sigmoid, Tensor.softplus, Tensor.relu, Tensor.clip = sigmoid, softplus, relu, clip
Tensor.logsumexp, Tensor.softmax, Tensor.log_softmax = logsumexp, softmax, log_softmax
Tensor.astype, Tensor.swapaxes, Tensor.squeeze, Tensor.expand_dims = astype, swapaxes, squeeze, expand_dims
Tensor.reshape = lambda a, *shape: reshape(a, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)
Tensor.transpose = lambda a, *axes: transpose(a, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else (axes or None))
Tensor.flatten = lambda a: reshape(a, (-1,))

from .functional import autograd_grad, grad  # noqa: E402,F401 - kept importable from here
