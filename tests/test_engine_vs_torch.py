"""Random compositions of operations: minivi's gradients against PyTorch's (skipped without torch)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minivi as mv

torch = pytest.importorskip("torch")

# (minivi, torch) pairs; unary ones keep inputs in a safe domain themselves.
UNARY = [
    (mv.tanh, torch.tanh), (mv.sigmoid, torch.sigmoid), (mv.softplus, torch.nn.functional.softplus),
    (mv.exp, torch.exp), (lambda x: mv.log(x * x + 1.0), lambda x: torch.log(x * x + 1.0)),
    (lambda x: mv.sqrt(x * x + 0.5), lambda x: torch.sqrt(x * x + 0.5)), (mv.erf, torch.erf),
    (mv.log_sigmoid, torch.nn.functional.logsigmoid), (lambda x: mv.log_softmax(x, axis=-1), lambda x: torch.log_softmax(x, -1)),
    (lambda x: mv.softmax(x, axis=0), lambda x: torch.softmax(x, 0)), (lambda x: x**2, lambda x: x**2),
]
BINARY = [
    (lambda a, b: a + b, lambda a, b: a + b), (lambda a, b: a * b, lambda a, b: a * b),
    (lambda a, b: a - b, lambda a, b: a - b), (lambda a, b: a / (b * b + 1.0), lambda a, b: a / (b * b + 1.0)),
    (mv.maximum, torch.maximum),
]
SHAPES = [(3, 4), (3, 1), (1, 4), (4,)]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), depth=st.integers(2, 8))
def test_random_compositions_match_torch(seed, depth):
    rng = np.random.default_rng(seed)
    leaves = [rng.standard_normal(SHAPES[rng.integers(len(SHAPES))]) for _ in range(3)]
    program = []
    for _ in range(depth):
        if rng.random() < 0.5:
            program.append(("u", int(rng.integers(len(UNARY))), int(rng.integers(3))))
        else:
            program.append(("b", int(rng.integers(len(BINARY))), int(rng.integers(3)), int(rng.integers(3))))

    def run(xs, lib):
        slots = list(xs)
        k = 0 if lib == "mv" else 1
        for step in program:
            if step[0] == "u":
                slots[step[2]] = UNARY[step[1]][k](slots[step[2]])
            else:
                slots[step[2]] = BINARY[step[1]][k](slots[step[2]], slots[step[3]])
        return slots[0].sum() + slots[1].sum() * 0.5 + slots[2].sum() * 0.25

    mx = [mv.tensor(a, requires_grad=True, dtype="float64") for a in leaves]
    tx = [torch.tensor(a, requires_grad=True, dtype=torch.float64) for a in leaves]
    out_mv, out_t = run(mx, "mv"), run(tx, "torch")
    out_mv.backward()
    out_t.backward()
    np.testing.assert_allclose(out_mv.item(), out_t.item(), rtol=1e-10)
    for m, t in zip(mx, tx):
        if t.grad is None:
            assert m.grad is None or np.allclose(m.grad.numpy(), 0)
        else:
            np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_mlp_gradients_and_hessian_vector_product_match_torch():
    rng = np.random.default_rng(0)
    X, W1, W2 = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    y = rng.integers(0, 2, size=5)
    v = rng.standard_normal((3, 4))

    def loss_mv(w1, w2):
        logits = mv.tanh(mv.tensor(X, dtype="float64") @ w1) @ w2
        return -mv.log_softmax(logits, axis=1)[np.arange(5), y].mean()

    def loss_t(w1, w2):
        logits = torch.tanh(torch.tensor(X) @ w1) @ w2
        return torch.nn.functional.cross_entropy(logits, torch.tensor(y))

    w1m, w2m = (mv.tensor(w, dtype="float64", requires_grad=True) for w in (W1, W2))
    w1t, w2t = (torch.tensor(w, requires_grad=True) for w in (W1, W2))
    g1m, _ = mv.autograd_grad(loss_mv(w1m, w2m), [w1m, w2m], create_graph=True)
    g1t, _ = torch.autograd.grad(loss_t(w1t, w2t), [w1t, w2t], create_graph=True)
    np.testing.assert_allclose(g1m.numpy(), g1t.detach().numpy(), rtol=1e-10)
    (hv_m,) = mv.autograd_grad((g1m * mv.tensor(v, dtype="float64")).sum(), [w1m])
    (hv_t,) = torch.autograd.grad((g1t * torch.tensor(v)).sum(), [w1t])
    np.testing.assert_allclose(hv_m.numpy(), hv_t.numpy(), rtol=1e-9, atol=1e-12)
