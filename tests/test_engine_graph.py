"""The reverse sweep itself: reuse, accumulation, freeing, higher order, no_grad, memory."""
from __future__ import annotations

import gc
import time
import tracemalloc
import weakref

import numpy as np
import pytest

import minivi as mv


def test_reused_node_gets_both_contributions():
    a = mv.tensor(3.0, requires_grad=True)
    b = a + a          # db/da = 2
    c = b * a          # c = 2a², dc/da = 4a
    c.backward()
    assert a.grad.item() == pytest.approx(12.0)


def test_diamond_graph_visits_shared_node_once():
    x = mv.tensor([1.0, 2.0], requires_grad=True)
    h = mv.exp(x)                  # used by two branches
    y = (h * 2.0 + h * h).sum()    # dy/dx = (2 + 2h) h
    y.backward()
    h_ = np.exp([1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), (2 + 2 * h_) * h_, rtol=1e-6)


def test_leaf_gradients_accumulate_across_calls_until_reset():
    w = mv.tensor([1.0, -2.0], requires_grad=True)
    for _ in range(3):
        (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 3 * 2 * np.array([1.0, -2.0]))
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, -4.0])


def test_backward_twice_on_freed_graph_is_a_clear_error():
    x = mv.tensor(2.0, requires_grad=True)
    y = mv.exp(x) * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = mv.tensor(2.0, requires_grad=True)
    y = x * x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 12.0)


def test_backward_needs_scalar_or_grad():
    x = mv.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    y.backward(grad=np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 30.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        mv.tensor(1.0).backward()


def test_second_derivatives_match_analytic():
    f = lambda x: (mv.sin(x) * x**3).sum()  # noqa: E731
    x0 = np.array([0.3, -1.2, 2.0])
    x = mv.tensor(x0, dtype="float64")
    g = lambda t: mv.grad(f)(t).sum()  # noqa: E731 - Σ_i f'(x_i) separates, so its gradient is f''(x)
    d2 = mv.grad(g)(x).numpy()
    expected = -np.sin(x0) * x0**3 + 6 * np.cos(x0) * x0**2 + 6 * np.sin(x0) * x0
    np.testing.assert_allclose(d2, expected, rtol=1e-10)


def test_third_derivative_and_create_graph_backward():
    x = mv.tensor(1.5, requires_grad=True, dtype="float64")
    y = mv.exp(2.0 * x)
    (gx,) = mv.autograd_grad(y, [x], create_graph=True)
    (gxx,) = mv.autograd_grad(gx, [x], create_graph=True)
    gxx.backward()
    assert gx.item() == pytest.approx(2 * np.exp(3.0))
    assert gxx.item() == pytest.approx(4 * np.exp(3.0))
    assert x.grad.item() == pytest.approx(8 * np.exp(3.0))


def test_hessian_vector_product_of_a_quadratic():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    A = a @ a.T
    Am = mv.tensor(A, dtype="float64")
    v = mv.tensor(rng.standard_normal(4), dtype="float64")
    x = mv.tensor(rng.standard_normal(4), dtype="float64", requires_grad=True)
    (g,) = mv.autograd_grad(0.5 * (x * (Am @ x)).sum(), [x], create_graph=True)
    (hv,) = mv.autograd_grad((g * v).sum(), [x])
    np.testing.assert_allclose(hv.numpy(), A @ v.numpy(), rtol=1e-10)


def test_grad_argnums_and_independent_argument():
    f = lambda a, b, c: (a * b).sum()  # noqa: E731 - c unused: its gradient is zero
    ga, gc_ = mv.grad(f, argnums=(0, 2))(mv.tensor([1.0, 2.0]), mv.tensor([3.0, 4.0]), mv.tensor([5.0, 6.0]))
    np.testing.assert_allclose(ga.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gc_.numpy(), [0.0, 0.0])


def test_no_grad_records_nothing_and_detach_stops_gradient():
    w = mv.tensor([1.0, 2.0], requires_grad=True)
    with mv.no_grad():
        y = w * 2.0
    assert not y.requires_grad and y.is_leaf
    z = (w.detach() * w).sum()    # d/dw [stop(w) * w] = stop(w)
    z.backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])

    @mv.no_grad()
    def evaluate(t):
        return t * 3.0

    assert not evaluate(w).requires_grad


def test_long_chain_backpropagates_without_recursion_in_linear_time():
    def chain(n):
        x = mv.tensor(1.0, requires_grad=True, dtype="float64")
        y = x
        for _ in range(n):
            y = y * 1.0000001
        t0 = time.perf_counter()
        y.backward()
        return x, time.perf_counter() - t0

    chain(1000)  # warm-up
    x, _ = chain(100_000)
    assert x.grad.item() == pytest.approx(1.0000001**100_000, rel=1e-4)
    # Linear time: 5x the length may cost ~5x; a quadratic sweep would cost 25x.
    t_small = min(chain(20_000)[1] for _ in range(2))
    t_large = min(chain(100_000)[1] for _ in range(2))
    assert t_large / t_small < 12, (t_small, t_large)


def test_graph_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        x = mv.tensor(np.ones(3), requires_grad=True)
        h = mv.tanh(x) * x
        ref = weakref.ref(h)
        loss = h.sum()
        del h
        assert ref() is not None      # still needed by loss's graph
        del loss
        assert ref() is None          # no cycle held it: freed without the cycle collector
    finally:
        gc.enable()


def test_ten_thousand_training_steps_do_not_grow_memory():
    rng = np.random.default_rng(0)
    X = mv.tensor(rng.standard_normal((32, 8)))
    y = mv.tensor(rng.standard_normal((32, 1)))
    W = mv.tensor(rng.standard_normal((8, 16)) * 0.1, requires_grad=True)
    V = mv.tensor(rng.standard_normal((16, 1)) * 0.1, requires_grad=True)
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for step in range(10_000):
            loss = ((mv.tanh(X @ W) @ V - y) ** 2).mean()
            loss.backward()
            with mv.no_grad():
                W.data -= 0.01 * W.grad.data
                V.data -= 0.01 * V.grad.data
            W.grad = V.grad = None
            if step == 999:
                early = tracemalloc.get_traced_memory()[0]
        late = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        gc.enable()
    assert late - early < 256 * 1024, f"memory grew by {(late - early) / 1024:.0f} KiB over 9,000 steps"
    assert loss.item() < 1.0


def test_dtype_mixing_is_an_error_not_a_silent_upcast():
    a = mv.tensor([1.0], dtype="float32")
    b = mv.tensor([1.0], dtype="float64")
    with pytest.raises(TypeError, match="float32.*float64|float64.*float32"):
        a + b
    with pytest.raises(TypeError, match="astype"):
        a * np.array([2.0])        # a raw float64 array next to a float32 tensor
    assert (a * np.float64(2.0)).dtype == np.float32   # NumPy scalars act like Python numbers
    assert (a * 2).dtype == np.float32
    assert (mv.astype(a, "float64") + b).dtype == np.float64


def test_default_dtype_and_integer_data():
    assert mv.tensor([1, 2, 3]).dtype == np.float32
    with mv.default_dtype("float64"):
        assert mv.tensor([1.0]).dtype == np.float64
        assert mv.zeros(2).dtype == np.float64
    assert mv.tensor([1.0]).dtype == np.float32
    with pytest.raises(TypeError, match="float32 or float64"):
        mv.tensor([1, 2], dtype="int64")


def test_cuda_without_cupy_or_gpu_says_how_to_fix():
    from minivi.autodiff.backend import cupy_available

    if cupy_available():
        pytest.skip("a GPU is present")
    with pytest.raises(Exception, match="CuPy|cuda|CUDA"):
        mv.tensor([1.0]).to("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        mv.tensor([1.0], device="tpu")


def test_repr_and_conversions():
    x = mv.tensor([[1.0, 2.0]], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert x.numpy().shape == (1, 2) and x.T.shape == (2, 1)
    assert mv.tensor(3.5).item() == 3.5
    assert x.sum().device == "cpu"


def test_tensor_copies_its_input_array():
    a = np.ones(3, dtype=np.float32)
    t = mv.tensor(a, requires_grad=True)
    t.data -= 1.0
    np.testing.assert_array_equal(a, 1.0)


def test_python_and_numpy_scalars_of_every_kind_are_constants():
    x = mv.tensor([1.0, 2.0], requires_grad=True)
    for c in (True, 2, 2.5, np.bool_(True), np.int64(2), np.float64(2.5), np.float32(2.5)):
        y = x * c
        assert y.dtype == np.float32
    (x * np.float64(3.0)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
