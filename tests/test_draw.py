"""draw_graph: every use is an arrow, boxes carry values and exact gradients, misuse says what to do."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import minivi as mv


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _graph():
    a = mv.tensor(2.0, requires_grad=True, dtype="float64")
    b = mv.tensor(-3.0, requires_grad=True, dtype="float64")
    d = mv.sin(a) + a * b
    return a, b, d, d * d


def test_boxes_show_values_and_hand_derived_gradients():
    a, b, d, loss = _graph()
    ax = mv.draw_graph(loss, names={a: "a", b: "b", loss: "loss"})
    texts = {t.get_text().splitlines()[0]: t.get_text() for t in ax.texts if t.get_text()}
    dv = np.sin(2.0) - 6.0
    assert f"grad {2 * dv * (np.cos(2.0) - 3.0):.4g}" in texts["a"]  # dL/da = 2d (cos a + b)
    assert f"grad {2 * dv * 2.0:.4g}" in texts["b"]                    # dL/db = 2d a
    assert f"value {dv * dv:.4g}" in texts["loss = mul"] and "grad 1" in texts["loss = mul"]
    assert a.grad is None and b.grad is None  # drawing does not touch .grad
    loss.backward()  # and the graph is still usable


def test_a_reused_tensor_draws_one_arrow_per_use():
    a, b, d, loss = _graph()
    ax = mv.draw_graph(loss)
    # edges: a->sin, a->mul, b->mul, sin->add, mul->add, d->mul twice
    arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation" and c.get_text() == ""]
    assert len(arrows) == 7


def test_after_backward_and_on_a_leaf_the_error_says_what_to_do():
    a, b, d, loss = _graph()
    loss.backward()
    with pytest.raises(RuntimeError, match="before backward.*retain_graph=True"):
        mv.draw_graph(loss)
    with pytest.raises(ValueError, match="leaf"):
        mv.draw_graph(a)
    with pytest.raises(TypeError, match="Tensor"):
        mv.draw_graph(3.0)
    a, b, d, loss = _graph()
    loss.backward(retain_graph=True)
    mv.draw_graph(loss)  # retained: still drawable
