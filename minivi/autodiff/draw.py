"""Draw a computational graph with matplotlib (no Graphviz needed).

Each tensor is a box: leaves (inputs and parameters) on the left, each operation one
column further right than its deepest input, the output last. Arrows show data flow;
the reverse sweep of ``backward`` walks them from right to left.
"""
from __future__ import annotations

from .tensor import Tensor, topological_order


def draw_graph(root: Tensor, names: dict | None = None, ax=None):
    """Draw the graph that computed ``root``; ``names`` maps tensors to labels."""
    import matplotlib.pyplot as plt

    names = {id(t): n for t, n in (names or {}).items()}
    order = topological_order([root])
    leaves: list[Tensor] = []
    for t in order:
        for x in t._node.inputs:
            if isinstance(x, Tensor) and x._node is None and all(x is not l for l in leaves):
                leaves.append(x)
    depth = {id(x): 0 for x in leaves}
    for t in order:
        depth[id(t)] = 1 + max((depth.get(id(x), 0) for x in t._node.inputs if isinstance(x, Tensor)), default=0)
    columns: dict[int, list[Tensor]] = {}
    for t in leaves + order:
        columns.setdefault(depth[id(t)], []).append(t)
    pos = {}
    for col, ts in columns.items():
        for row, t in enumerate(ts):
            pos[id(t)] = (col, -(row - (len(ts) - 1) / 2))
    if ax is None:
        _, ax = plt.subplots(figsize=(1.8 * (len(columns) + 1), 1.2 * (max(len(c) for c in columns.values()) + 1)))

    def label(t: Tensor) -> str:
        shape = "x".join(map(str, t.shape)) or "scalar"
        if id(t) in names:
            return f"{names[id(t)]}\n{shape}"
        return f"{t._node.name}\n{shape}" if t._node is not None else f"leaf\n{shape}"

    for t in order:
        for x in t._node.inputs:
            x0, y0 = pos[id(x)] if isinstance(x, Tensor) else (None, None)
            if x0 is None:
                continue
            x1, y1 = pos[id(t)]
            ax.annotate("", xy=(x1 - 0.28, y1), xytext=(x0 + 0.28, y0),
                        arrowprops=dict(arrowstyle="->", color="0.4", shrinkA=2, shrinkB=2))
    for t in leaves + order:
        x0, y0 = pos[id(t)]
        colour = "#cfe8ff" if t._node is None else ("#ffd9b3" if t is root else "#e8e8e8")
        ax.text(x0, y0, label(t), ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.4", fc=colour, ec="0.3"))
    ax.set_xlim(-0.6, max(columns) + 0.6)
    ax.set_ylim(min(p[1] for p in pos.values()) - 0.8, max(p[1] for p in pos.values()) + 0.8)
    ax.axis("off")
    return ax
