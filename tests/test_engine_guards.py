"""Regression tests for issue 7: silent wrong answers, grad mode, edge cases, bad input.

Each test reproduces one item of the issue (numbered in its name) and asserts what PyTorch
does (compared with torch float64 where that is the reference; skipped without torch).
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

import minivi as mv


def _torch():
    return pytest.importorskip("torch")


# --- 1. transpose with negative axes -------------------------------------------------------------
@pytest.mark.parametrize("axes", [(-1, 0, 1), (2, -3, -2), (-2, -1, -3)])
def test_01_transpose_negative_axes_gradient_matches_torch(axes):
    torch = _torch()
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((3, 3, 3)), rng.standard_normal((3, 3, 3))
    x = mv.tensor(x0, dtype="float64", requires_grad=True)
    (mv.transpose(x, axes) * mv.tensor(w0, dtype="float64")).sum().backward()
    xt = torch.tensor(x0, requires_grad=True)
    (xt.permute(*axes) * torch.tensor(w0)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    y = mv.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    mv.transpose(y, (-1, 0, 1)).sum().backward()
    assert y.grad.shape == (2, 3, 4)
    with pytest.raises(ValueError, match="transpose"):
        mv.transpose(y, (0, 0, 1))


# --- 2. every VJP result is checked ------------------------------------------------------------
def test_02_a_rule_that_forgets_unbroadcast_is_named():
    bad_add = mv.primitive(lambda a, b: a + b, "bad_add")
    mv.defvjp(bad_add, lambda g, ans, a, b: g, lambda g, ans, a, b: g)   # no unbroadcast
    a = mv.tensor(np.ones(3), requires_grad=True)
    b = mv.tensor(np.ones(1), requires_grad=True)
    with pytest.raises(ValueError, match=r"input 1 of op 'bad_add'.*\(3,\).*\(1,\).*broadcast"):
        bad_add(a, b).sum().backward()


def test_02_a_rule_with_the_wrong_dtype_or_type_is_named():
    bad = mv.primitive(lambda x: x * 2, "bad_dtype")
    mv.defvjp(bad, lambda g, ans, x: mv.astype(g, "float64"))
    x = mv.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="bad_dtype.*float64.*float32"):
        bad(x).sum().backward()
    raw = mv.primitive(lambda x: x * 2, "returns_array")
    mv.defvjp(raw, lambda g, ans, x: g.data * 2)
    with pytest.raises(TypeError, match="returns_array.*not a Tensor"):
        raw(x).sum().backward()


# --- 3. version counter -----------------------------------------------------------------------------
def test_03_data_changed_in_place_after_forward_is_an_error():
    x = mv.tensor([1.0, 2.0], requires_grad=True)
    y = mv.tensor([3.0, 4.0], requires_grad=True)
    z = (x * y).sum()
    y.data += 100      # the setter runs: a new version
    with pytest.raises(RuntimeError, match="'mul'.*modified in place"):
        z.backward()


def test_03_optimiser_step_and_explicit_bump_are_detected():
    w = mv.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    mv.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
    v = mv.tensor([1.0, 2.0], requires_grad=True)
    out = mv.exp(v).sum()
    v.data[0] = 5.0          # through the array: needs the explicit bump
    mv.bump_version(v)
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()


def test_03_changing_data_before_the_forward_pass_is_fine():
    x = mv.tensor([1.0, 2.0], requires_grad=True)
    x.data *= 2
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


# --- 4. leaf grads own writable arrays -----------------------------------------------------------
def test_04_leaf_grads_are_not_shared_and_are_writable():
    a = mv.tensor([1.0, 2.0], requires_grad=True)
    b = mv.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad and not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data *= 0.5
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])
    w = mv.tensor(np.ones((2, 3)), requires_grad=True)
    w.sum().backward()
    w.grad.data *= 0.5          # was a read-only broadcast view
    np.testing.assert_allclose(w.grad.numpy(), 0.5)
    c = mv.tensor([1.0, 2.0], requires_grad=True)
    g = mv.tensor([1.0, 1.0])
    (c * 1.0).backward(g)
    c2 = mv.tensor([1.0, 2.0], requires_grad=True)
    c2.backward(g)
    assert not np.shares_memory(c2.grad.data, g.data)
    u = mv.tensor(np.ones(3), requires_grad=True)
    v = mv.tensor(np.ones((1, 3)), requires_grad=True)
    (u + mv.reshape(v, (3,))).sum().backward()
    assert not np.shares_memory(u.grad.data, v.grad.data)


# --- 5. no_grad re-entrant and thread-local --------------------------------------------------------
def test_05_recursive_no_grad_function_restores_the_mode():
    @mv.no_grad()
    def depth(n):
        return 0 if n == 0 else 1 + depth(n - 1)

    depth(5)
    assert mv.is_grad_enabled()
    t = mv.tensor([1.0, 2.0], requires_grad=True)
    (2.0 ** t).sum().backward()
    assert t.grad is not None

    ng = mv.no_grad()
    with ng:
        with ng:
            assert not mv.is_grad_enabled()
        assert not mv.is_grad_enabled()
    assert mv.is_grad_enabled()

    @mv.no_grad
    def bare(x):
        return x * 2.0

    assert not bare(t).requires_grad and mv.is_grad_enabled()


def test_05_grad_mode_is_per_thread():
    seen = {}

    def worker():
        seen["other"] = mv.is_grad_enabled()

    with mv.no_grad():
        th = threading.Thread(target=worker)
        th.start()
        th.join()
        assert not mv.is_grad_enabled()
    assert seen["other"] is True


# --- 6-8. numbers, 1-D matmul, power at zero ----------------------------------------------------------
def test_06_numbers_follow_the_tensors_dtype():
    x = mv.tensor([0.5, 1.0], requires_grad=True)
    (2.0 ** x).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), np.log(2) * 2 ** np.array([0.5, 1.0]), rtol=1e-6)
    assert (mv.log(2.0) * x).dtype == np.float32
    with mv.default_dtype("float64"):
        x64 = mv.tensor([0.5], requires_grad=True)
        assert (mv.exp(1.0) * x64).dtype == np.float64


def test_07_vector_at_vector_is_0d():
    u = mv.tensor([1.0, 2.0], requires_grad=True)
    v = mv.tensor([3.0, 4.0])
    out = u @ v
    assert out.shape == () and out.item() == 11.0
    out.backward()
    np.testing.assert_allclose(u.grad.numpy(), [3.0, 4.0])
    m = mv.tensor(np.ones((2, 3, 4)))
    assert (m @ mv.tensor(np.ones(4))).shape == (2, 3)
    assert (mv.tensor(np.ones(3)) @ m).shape == (2, 4)


def test_08_power_gradients_at_zero_match_torch():
    torch = _torch()
    for a0, b0 in [(np.array([0.0, 2.0]), np.array([0.0, 0.0])), (np.array([0.0, 0.0]), np.array([2.0, 0.5])),
                   (np.array([0.0, 3.0]), np.array([1.0, 2.0]))]:
        a = mv.tensor(a0, dtype="float64", requires_grad=True)
        b = mv.tensor(b0, dtype="float64", requires_grad=True)
        (a**b).sum().backward()
        at, bt = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
        (at**bt).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy())
        np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy())
    x = mv.tensor([0.0, 1.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


# --- 10. solve broadcasts a shared matrix -------------------------------------------------------------
def test_10_solve_broadcasts_a_shared_right_hand_side_and_matrix():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((2, 4, 4)) + 4 * np.eye(4)
    B = rng.standard_normal((4, 3))
    x = mv.linalg.solve(mv.tensor(A, dtype="float64"), mv.tensor(B, dtype="float64"))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(A, B), rtol=1e-12)
    assert mv.gradcheck(lambda a, b: mv.linalg.solve(a, b), A, B)
    assert mv.gradcheck(lambda a, b: mv.linalg.solve(a, b), A[0], rng.standard_normal((2, 4, 3)))


# --- 11-16 --------------------------------------------------------------------------------------------------
def test_11_autograd_grad_accepts_a_bare_tensor():
    x = mv.tensor([1.0, 2.0], requires_grad=True)
    (g,) = mv.autograd_grad((x * x).sum(), x)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])


def test_12_iterating_a_0d_tensor_is_a_type_error_and_rows_are_differentiable():
    with pytest.raises(TypeError, match="0-d"):
        list(mv.tensor(3.0))
    x = mv.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == 2
    (rows[0] * 2.0 + rows[1]).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[2.0, 2.0], [1.0, 1.0]])


def test_13_missing_vjp_rule_is_named():
    op = mv.primitive(lambda a, b: a * b, "mystery")
    a = mv.tensor([1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="no VJP rule for input 0 of op 'mystery'.*defvjp"):
        op(a, a).sum().backward()
    mv.defvjp(op, lambda g, ans, a, b: g * b)
    b = mv.tensor([2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="input 1 of op 'mystery'"):
        op(a, b).sum().backward()


def test_14_tensor_subclasses_work_and_get_gradients():
    class Param(mv.Tensor):
        __slots__ = ()

    p = Param(np.array([1.0, 2.0]), requires_grad=True)
    y = (p * p + 1.0).sum()
    y.backward()
    np.testing.assert_allclose(p.grad.numpy(), [2.0, 4.0])


@pytest.mark.parametrize("cond", [[True, False], np.array([True, False]), True, False])
def test_15_22_where_with_list_or_bool_condition_differentiates(cond):
    a = mv.tensor([1.0, 2.0], requires_grad=True)
    out = mv.where(cond, a, 0.0)
    out.sum().backward()
    expected = np.broadcast_to(np.asarray(cond, dtype=float), (2,))
    np.testing.assert_allclose(a.grad.numpy(), expected)


def test_16_backward_grad_dtype_is_checked_or_converted():
    x = mv.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(TypeError, match="float64.*float32"):
        y.backward(mv.tensor([1.0, 1.0], dtype="float64"), retain_graph=True)
    y.backward(np.array([1.0, 1.0]))      # an array is converted to the tensor's dtype
    assert x.grad.dtype == np.float32


# --- 20, 21 -----------------------------------------------------------------------------------------------
def test_20_grad_passes_keyword_arguments():
    g = mv.grad(lambda x, k=1.0: (x * x * k).sum())(mv.tensor([1.0, 2.0]), k=2.0)
    np.testing.assert_allclose(g.numpy(), [4.0, 8.0])


def test_21_tensor_of_a_tensor_that_requires_grad_warns():
    x = mv.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="clone"):
        mv.tensor(x)
    c = x.clone()
    (c * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0])


# --- 23. log_ndtr in the far left tail ---------------------------------------------------------------
def test_23_log_ndtr_derivatives_far_in_the_left_tail_match_torch():
    torch = _torch()
    xs = np.array([-5.0, -10.0, -20.5, -35.0, -3.0, 0.5])
    x = mv.tensor(xs, dtype="float64", requires_grad=True)
    (d1,) = mv.autograd_grad(mv.log_ndtr(x).sum(), [x], create_graph=True)
    (d2,) = mv.autograd_grad(d1.sum(), [x])
    xt = torch.tensor(xs, requires_grad=True)
    (t1,) = torch.autograd.grad(torch.special.log_ndtr(xt).sum(), xt, create_graph=True)
    (t2,) = torch.autograd.grad(t1.sum(), xt)
    np.testing.assert_allclose(d1.numpy(), t1.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(d2.numpy(), t2.numpy(), rtol=1e-9)
    assert mv.gradcheck(lambda t: mv.grad(lambda u: mv.log_ndtr(u).sum())(t), np.array([-21.0, -6.0, -4.5, -3.5]))


# --- bad input: every error names the op and the fix ------------------------------------------------------
def test_bad_axes_raise_instead_of_wrapping():
    a, b = mv.tensor(np.ones((2, 3))), mv.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="concatenate: axis 2"):
        mv.concatenate([a, b], axis=2)
    with pytest.raises(ValueError, match="stack: axis 5"):
        mv.stack([a, b], axis=5)
    with pytest.raises(ValueError, match="squeeze: axis 3"):
        mv.squeeze(a, axis=3)
    with pytest.raises(ValueError, match="squeeze: axis 0 has length 2"):
        mv.squeeze(a, axis=0)
    with pytest.raises(ValueError, match="expand_dims: axis 10"):
        mv.expand_dims(a, axis=10)
    with pytest.raises(ValueError, match="swapaxes: axis 5"):
        mv.swapaxes(a, 0, 5)
    with pytest.raises(ValueError, match="sum: axis 2"):
        mv.sum(a, axis=2)
    assert mv.stack([a, b], axis=-1).shape == (2, 3, 2)
    assert mv.concatenate([a, b], axis=-1).shape == (2, 6)
    assert mv.expand_dims(a, -1).shape == (2, 3, 1)


def test_bad_data_is_refused_with_the_fix():
    with pytest.raises(TypeError, match="None"):
        mv.tensor([1, None, 3])
    with pytest.raises(TypeError, match="complex"):
        mv.tensor(np.array([1 + 2j]))
    with pytest.raises(TypeError, match="complex"):
        mv.tensor([1.0, 2j])
    t1, t2 = mv.tensor([1.0]), mv.tensor([2.0])
    with pytest.raises(TypeError, match="mv.stack"):
        mv.tensor([t1, t2])
    with pytest.raises(ValueError, match="concatenate: got an empty list"):
        mv.concatenate([])
    with pytest.raises(ValueError, match="matmul: a scalar operand"):
        mv.tensor([1.0, 2.0]) @ 2.0
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(2, 3\).*b.T"):
        mv.tensor(np.ones((2, 3))) @ mv.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="mean: the reduced axis is empty"):
        mv.mean(mv.zeros((0, 3)))
    with pytest.raises(TypeError, match=r"float\(t\).*shape \(2,\)"):
        float(mv.tensor([1.0, 2.0]))
    assert float(mv.tensor([2.5])) == 2.5


def test_config_reports_backend_dtype_and_malloc_tuning():
    c = mv.config()
    assert c["default_dtype"] == "float32" and c["default_device"] == "cpu"
    assert "numpy" in c["backend"]
    assert "MINIVI_MALLOC_TUNING" in c["malloc_tuning"] or "not Linux" in c["malloc_tuning"]
    assert "malloc_tuning" in repr(c)
