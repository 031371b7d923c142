"""Draw a computational graph with matplotlib (no Graphviz needed).

Each tensor is a box: leaves (inputs and parameters) on the left, each operation one
column further right than its deepest input, the output last. A box shows the tensor's
name (or its operation), its value (or shape) and, for a scalar output, the gradient
d output / d tensor, as micrograd's drawing does. Arrows show data flow, one per use:
``d * d`` draws two arrows from ``d``. The reverse sweep of ``backward`` walks them from
right to left, summing what arrives along each arrow.
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor

__all__ = ["draw_graph"]


def _graph(root: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """(leaves, operations) reachable from ``root``, every operation after its inputs."""
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph expects the Tensor a computation produced, got {type(root).__name__}")
    if root._node is None:
        raise ValueError(
            "draw_graph: this tensor is a leaf (made by mv.tensor, or computed under mv.no_grad() or from tensors "
            "that do not require grad), so no graph recorded it. Draw the result of a computation on tensors with "
            "requires_grad=True, e.g. loss = (w * x).sum(); mv.draw_graph(loss).")
    order: list[Tensor] = []
    leaves: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t._node is None:
            leaves.append(t)
            continue
        if t._node.inputs is None:
            raise RuntimeError(
                "draw_graph: backward() has already run on this graph and freed what it saved, so the graph can no "
                "longer be drawn. Call draw_graph before backward(), or call backward(retain_graph=True).")
        stack.append((t, True))
        for x in reversed(t._node.inputs):
            if isinstance(x, Tensor) and id(x) not in seen:
                stack.append((x, False))
    return leaves, order


def _value(t: Tensor) -> str:
    if t.size == 1:
        return f"{float(np.asarray(t.numpy()).reshape(())):.4g}"
    return "x".join(map(str, t.shape))


def draw_graph(root: Tensor, names: dict | None = None, ax=None, grads: bool = True, fontsize: float = 9,
               vertical: bool | None = None):
    """Draw the graph that computed ``root``; ``names`` maps tensors to labels.

    With ``grads`` (and a scalar ``root`` that requires grad) each scalar box also shows
    d root / d tensor, computed without touching any ``.grad``. Call it before ``backward()``
    (which frees the graph) or after ``backward(retain_graph=True)``. ``vertical`` draws the
    graph top to bottom (default: when it is more than 8 operations deep, so labels stay readable).
    """
    import matplotlib.pyplot as plt

    from .tensor import autograd_grad

    names = {id(t): n for t, n in (names or {}).items()}
    leaves, order = _graph(root)
    everything = leaves + order
    gradient: dict[int, str] = {}
    if grads and root.size == 1 and root.requires_grad:
        wanted = [t for t in everything if t.requires_grad]
        for t, g in zip(wanted, autograd_grad(root, wanted, retain_graph=True)):
            if g is not None:
                gradient[id(t)] = _value(g)  # shown for scalars only: a matrix's gradient would show its shape
    depth = {id(x): 0 for x in leaves}
    for t in order:
        depth[id(t)] = 1 + max((depth[id(x)] for x in t._node.inputs if isinstance(x, Tensor)), default=0)
    for x in leaves:  # a leaf sits just before its first use, not all in the first column
        uses = [depth[id(t)] for t in order if any(y is x for y in t._node.inputs)]
        depth[id(x)] = max(0, min(uses, default=1) - 1)
    columns: dict[int, list[Tensor]] = {}
    for t in everything:
        columns.setdefault(depth[id(t)], []).append(t)
    if vertical is None:
        vertical = len(columns) > 8
    pos = {}
    for col, ts in columns.items():
        for row, t in enumerate(ts):
            along, across = 1.6 * col, -1.1 * (row - (len(ts) - 1) / 2)
            pos[id(t)] = (-across * 1.6, -along * 0.75) if vertical else (along, across)
    if ax is None:
        n_across = max(len(c) for c in columns.values())
        size = (2.6 * (n_across + 0.5), 1.2 * (len(columns) + 0.5)) if vertical else \
            (2.0 * (len(columns) + 0.5), 1.3 * (n_across + 0.8))
        _, ax = plt.subplots(figsize=size)

    def label(t: Tensor) -> str:
        op = t._node.name if t._node is not None else ("leaf" if t.requires_grad else "constant")
        head = f"{names[id(t)]} = {op}" if id(t) in names and t._node is not None else names.get(id(t), op)
        lines = [head, ("value " if t.size == 1 else "shape ") + _value(t)]
        if id(t) in gradient and t.size == 1:
            lines.append("grad " + gradient[id(t)])
        return "\n".join(lines)

    boxes = {}
    for t in everything:
        x0, y0 = pos[id(t)]
        colour = "#cfe8ff" if t._node is None else ("#ffd9b3" if t is root else "#e8e8e8")
        boxes[id(t)] = ax.text(x0, y0, label(t), ha="center", va="center", fontsize=fontsize, family="monospace",
                bbox=dict(boxstyle="round,pad=0.35", fc=colour, ec="0.3"))
    for t in order:
        ins = [x for x in t._node.inputs if isinstance(x, Tensor)]
        for k, x in enumerate(ins):
            uses = [j for j, y in enumerate(ins) if y is x]
            rad = 0.0 if len(uses) == 1 else 0.6 * (uses.index(k) - (len(uses) - 1) / 2)  # one arrow per use
            # from box to box: the arrow is clipped at the two boxes' edges (drawn after them, zorder 4)
            ax.annotate("", xy=pos[id(t)], xytext=pos[id(x)], zorder=4,
                        arrowprops=dict(arrowstyle="->", color="0.35", shrinkA=1, shrinkB=1,
                                        patchA=boxes[id(x)].get_bbox_patch(), patchB=boxes[id(t)].get_bbox_patch(),
                                        connectionstyle=f"arc3,rad={rad}"))
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    if gradient:
        ax.set_title("boxes: value and d(output)/d(box); one arrow per use of a tensor", fontsize=fontsize)
    return ax
