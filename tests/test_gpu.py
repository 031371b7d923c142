"""GPU (CuPy) path: the same code on both devices, and no implicit host/device copies.

Marked ``gpu``: skipped on machines without CuPy and a CUDA device (conftest.py).
"""
from __future__ import annotations

import numpy as np
import pytest

import minivi as mv

pytestmark = pytest.mark.gpu


def test_tensor_moves_only_when_asked():
    x = mv.tensor([1.0, 2.0], device="cuda")
    assert x.device == "cuda" and type(x.data).__module__.startswith("cupy")
    y = x.to("cpu")
    assert y.device == "cpu" and isinstance(y.data, np.ndarray)
    np.testing.assert_allclose(y.numpy(), [1.0, 2.0])


def test_mixing_devices_is_an_error_naming_both():
    a, b = mv.tensor([1.0], device="cuda"), mv.tensor([1.0])
    with pytest.raises(RuntimeError, match="cpu and cuda|cuda and cpu"):
        a + b
    with pytest.raises(RuntimeError, match="move it explicitly|\\.to\\("):
        a * np.ones(1, dtype=np.float32)


def test_rng_device_must_match():
    with pytest.raises(RuntimeError, match="default_rng"):
        mv.randn(3, rng=np.random.default_rng(0), device="cuda")
    g = mv.default_rng(0, device="cuda")
    assert mv.randn(2, 3, rng=g).device == "cuda"


@pytest.mark.parametrize("name", ["exp", "log_ndtr", "softplus", "sigmoid", "gammaln", "digamma", "erf"])
def test_elementwise_ops_and_gradients_agree_across_devices(name):
    x0 = np.linspace(0.1, 3.0, 7)
    out = {}
    for dev in ("cpu", "cuda"):
        x = mv.tensor(x0, requires_grad=True, dtype="float64", device=dev)
        y = getattr(mv, name)(x)
        y.sum().backward()
        out[dev] = (y.numpy(), x.grad.numpy())
    np.testing.assert_allclose(out["cuda"][0], out["cpu"][0], rtol=1e-10)
    np.testing.assert_allclose(out["cuda"][1], out["cpu"][1], rtol=1e-10)


def test_same_model_code_on_both_devices_linalg_included():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5))
    spd, b = a @ a.T + 5 * np.eye(5), rng.standard_normal((5, 2))
    W0, X0 = rng.standard_normal((4, 3)), rng.standard_normal((6, 4))

    def model(dev):
        W = mv.tensor(W0, requires_grad=True, dtype="float64", device=dev)
        S = mv.tensor(spd, requires_grad=True, dtype="float64", device=dev)
        X, B = mv.tensor(X0, dtype="float64", device=dev), mv.tensor(b, dtype="float64", device=dev)
        L = mv.linalg.cholesky(S)
        loss = mv.log_softmax(mv.tanh(X @ W), axis=1).sum() + mv.linalg.solve(S, B).sum() + mv.linalg.slogdet(S)[1] \
            + mv.linalg.solve_triangular(L, B, lower=True).sum() + X[np.array([0, 0, 3])].sum()
        loss.backward()
        return loss.item(), W.grad.numpy(), S.grad.numpy()

    cpu, gpu = model("cpu"), model("cuda")
    assert gpu[0] == pytest.approx(cpu[0], rel=1e-10)
    np.testing.assert_allclose(gpu[1], cpu[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gpu[2], cpu[2], rtol=1e-9, atol=1e-12)


def test_default_device_context():
    with mv.default_device("cuda"):
        assert mv.zeros(3).device == "cuda"
        assert mv.tensor([1.0]).device == "cuda"
    assert mv.zeros(3).device == "cpu"


def test_gradcheck_runs_on_gpu_inputs():
    import cupy

    x = cupy.asarray(np.random.default_rng(1).standard_normal((3, 4)))
    assert mv.gradcheck(lambda t: mv.logsumexp(t * t, axis=1), x)
