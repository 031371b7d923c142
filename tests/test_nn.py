"""minivi.nn: modules, Linear/MLP against PyTorch, state dicts, dropout, batch norm, gradchecks."""
from __future__ import annotations

import numpy as np
import pytest

import minivi as mv
from minivi import nn


def _set(module: nn.Module, dotted: str, value) -> None:
    """module.<dotted> = value, where list entries are reached by index ("layers.0.W")."""
    *path, last = dotted.split(".")
    obj = module
    for part in path:
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    if last.isdigit():
        obj[int(last)] = value
    else:
        setattr(obj, last, value)


def gradcheck_module(module: nn.Module, x: np.ndarray) -> bool:
    """gradcheck of module(x) with respect to the input and every parameter (float64)."""
    names = [n for n, _ in module.named_parameters()]

    def f(x, *params):
        for name, p in zip(names, params):
            _set(module, name, p)
        return module(x)

    return mv.gradcheck(f, x, *module.parameters())


# --- Module: registration, modes, printing ------------------------------------------------
class Block(nn.Module):
    def __init__(self, rng):
        self.inner = nn.Linear(3, 4, rng=rng)
        self.heads = [nn.Linear(4, 2, rng=rng), nn.Linear(4, 1, bias=False, rng=rng)]
        self.scale = nn.Parameter(np.ones(1))
        self.offset = mv.zeros(1)            # a buffer: saved, not learned
        self.dropout = nn.Dropout(0.5, rng=rng)
        self.shared = self.inner             # the same module twice: its parameters count once

    def forward(self, x):
        h = self.dropout(mv.tanh(self.inner(x)))
        return [head(h) * self.scale + self.offset for head in self.heads]


def test_parameters_are_found_in_nested_modules_and_lists_in_order(rng):
    m = Block(rng)
    names = [n for n, _ in m.named_parameters()]
    assert names == ["inner.W", "inner.b", "heads.0.W", "heads.0.b", "heads.1.W", "scale"]
    assert [n for n, _ in m.named_buffers()] == ["offset"]
    params = m.parameters()
    assert all(type(p) is mv.Tensor and p.requires_grad for p in params)
    assert len({id(p) for p in params}) == len(params)
    assert m.num_parameters() == 3 * 4 + 4 + 4 * 2 + 2 + 4 + 1
    m.heads.append(nn.Linear(4, 5, rng=rng))  # lists are read when asked, so appending works
    assert len(m.parameters()) == len(params) + 2


def test_train_eval_propagate_and_zero_grad(rng):
    m = Block(rng)
    assert m.training and m.dropout.training
    m.eval()
    assert not m.training and not m.dropout.training and not m.heads[1].training
    m.train()
    assert m.dropout.training
    out = m(np.ones((2, 3), dtype=np.float32))
    (out[0].sum() + out[1].sum()).backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_repr_lists_submodules(rng):
    text = repr(nn.MLP([4, 8, 2], rng=rng, dropout=0.1))
    assert text.startswith("MLP(4 → 8 → 2") and "(layers.0): Linear(4 → 8)" in text and "Dropout(p=0.1" in text
    assert repr(nn.get_activation(lambda x: x)) == "Activation(<lambda>)"


def test_parameter_copies_its_data():
    a = np.zeros(3, dtype=np.float32)
    p = nn.Parameter(a)
    p.data += 1
    assert a.sum() == 0 and p.requires_grad and p.is_leaf


def test_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1.0)


# --- state_dict, save/load ------------------------------------------------------------------
def test_save_load_round_trip(tmp_path, rng):
    a = nn.MLP([5, 6, 3], rng=np.random.default_rng(0), batchnorm=True)
    a(np.random.default_rng(1).standard_normal((8, 5)).astype(np.float32))  # moves the running statistics
    b = nn.MLP([5, 6, 3], rng=np.random.default_rng(1), batchnorm=True)
    params_before = [id(p) for p in b.parameters()]
    a.save(tmp_path / "model")              # saved as model.npz
    b.load(tmp_path / "model.npz")
    for (na, ta), (nb, tb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb
        np.testing.assert_array_equal(ta, tb)
    assert [id(p) for p in b.parameters()] == params_before  # loaded in place: optimisers keep working
    x = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(a.eval()(x).numpy(), b.eval()(x).numpy())


def test_state_dict_is_a_copy(rng):
    m = nn.Linear(2, 2, rng=rng)
    sd = m.state_dict()
    m.W.data += 1
    assert not np.allclose(sd["W"], m.W.numpy())


def test_load_errors_name_the_keys_and_shapes(rng):
    m = nn.MLP([3, 4, 2], rng=rng)
    sd = m.state_dict()
    with pytest.raises(ValueError, match=r"missing keys \['layers.2.b'\]"):
        m.load_state_dict({k: v for k, v in sd.items() if k != "layers.2.b"})
    with pytest.raises(ValueError, match=r"unexpected keys \['extra'\]"):
        m.load_state_dict({**sd, "extra": np.zeros(1)})
    bad = {**sd, "layers.0.W": np.zeros((4, 3))}
    with pytest.raises(ValueError, match=r"layers.0.W.*shape \(4, 3\).*\(3, 4\)"):
        m.load_state_dict(bad)
    np.testing.assert_array_equal(m.layers[2].b.numpy(), sd["layers.2.b"])  # nothing half-loaded
    m.load_state_dict({"layers.0.W": np.ones((3, 4))}, strict=False)
    assert (m.layers[0].W.numpy() == 1).all()


def test_to_cpu_keeps_the_model_working(rng):
    m = nn.MLP([3, 4, 2], rng=rng, dropout=0.2).to("cpu")
    assert m(np.ones((2, 3), dtype=np.float32)).shape == (2, 2)
    with pytest.raises(ValueError, match="unknown device"):
        m.to("tpu")


# --- Linear and MLP -------------------------------------------------------------------------
def test_linear_computes_xW_plus_b_and_checks_shapes(rng):
    lin = nn.Linear(3, 2, rng=rng)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(lin(x).numpy(), x @ lin.W.numpy() + lin.b.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match=r"last axis must have 3 features"):
        lin(np.ones((5, 4), dtype=np.float32))
    with pytest.raises(TypeError, match="rng"):
        nn.Linear(3, 2, rng=None)


def test_initialisation_scales(rng):
    he = nn.Linear(400, 300, rng=rng, init="he").W.numpy()
    glorot = nn.Linear(400, 300, rng=rng).W.numpy()
    assert abs(he.var() - 2 / 400) < 0.05 * 2 / 400
    assert abs(glorot.var() - 2 / 700) < 0.05 * 2 / 700
    assert np.abs(glorot).max() <= np.sqrt(6 / 700)


def test_mlp_structure_and_activations(rng):
    m = nn.MLP([4, 8, 8, 3], activation="tanh", output_activation="softmax", rng=rng, dropout=0.3, batchnorm=True)
    kinds = [type(l).__name__ for l in m.layers]
    assert kinds == ["Linear", "BatchNorm", "Tanh", "Dropout", "Linear", "BatchNorm", "Tanh", "Dropout", "Linear",
                     "Softmax"]
    probs = m(rng.standard_normal((6, 4)).astype(np.float32)).numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="unknown activation"):
        nn.MLP([2, 2], activation="swishy", rng=rng)
    with pytest.raises(ValueError, match="at least"):
        nn.MLP([3], rng=rng)


def test_one_hidden_layer_mlp_gradients_match_torch(rng):
    torch = pytest.importorskip("torch")
    with mv.default_dtype("float64"):
        m = nn.MLP([5, 7, 3], activation="tanh", rng=rng)
    x = rng.standard_normal((11, 5))
    y = rng.integers(0, 3, size=11)
    loss = -mv.log_softmax(m(mv.tensor(x, dtype="float64")))[np.arange(11), y].mean()
    loss.backward()

    W1, b1, W2, b2 = (torch.tensor(p.numpy(), requires_grad=True) for p in m.parameters())
    tloss = torch.nn.functional.cross_entropy(torch.tanh(torch.tensor(x) @ W1 + b1) @ W2 + b2, torch.tensor(y))
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    for p, tp in zip(m.parameters(), (W1, b1, W2, b2)):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradcheck_linear_and_mlp(rng):
    with mv.default_dtype("float64"):
        lin = nn.Linear(3, 2, rng=rng)
        mlp = nn.MLP([3, 4, 2], activation="softplus", output_activation="sigmoid", rng=rng)
    x = rng.standard_normal((4, 3))
    assert gradcheck_module(lin, x)
    assert gradcheck_module(mlp, x)


# --- Dropout ----------------------------------------------------------------------------------
def test_dropout_is_identity_in_eval_mode():
    for kind in ("binary", "gaussian"):
        d = nn.Dropout(0.5, kind, rng=0).eval()
        x = mv.tensor(np.arange(6.0).reshape(2, 3))
        assert d(x) is x


def test_binary_dropout_keeps_the_mean_and_drops_a_fraction_p():
    d = nn.Dropout(0.3, rng=np.random.default_rng(0))
    y = d(mv.ones(200_000)).numpy()
    assert abs((y == 0).mean() - 0.3) < 0.005
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.01


def test_gaussian_dropout_has_mean_one_and_variance_p_over_1_minus_p():
    p = 0.2
    y = nn.Dropout(p, "gaussian", rng=1)(mv.ones(200_000)).numpy()
    assert abs(y.mean() - 1.0) < 0.01
    assert abs(y.var() - p / (1 - p)) < 0.01


def test_dropout_gradient_is_the_mask_and_draws_are_reproducible():
    x = mv.ones(10, requires_grad=True)
    y = nn.Dropout(0.5, rng=3)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())
    np.testing.assert_array_equal(nn.Dropout(0.5, rng=3)(mv.ones(10)).numpy(), y.numpy())
    with pytest.raises(ValueError, match="0 <= p < 1"):
        nn.Dropout(1.0, rng=0)
    with pytest.raises(ValueError, match="kind"):
        nn.Dropout(0.1, "bernoulli", rng=0)


# --- BatchNorm --------------------------------------------------------------------------------
def test_batchnorm_train_mode_standardises_each_feature(rng):
    bn = nn.BatchNorm(4)
    x = mv.tensor(rng.normal(5.0, 3.0, size=(256, 4)))
    y = bn(x).numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=0), 1.0, atol=1e-3)
    # running statistics moved 10% of the way from (0, 1) towards the batch's (unbiased) statistics
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.numpy().mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * x.numpy().var(axis=0, ddof=1), rtol=1e-5)


def test_batchnorm_eval_mode_uses_running_statistics(rng):
    bn = nn.BatchNorm(3)
    bn.running_mean.data[:] = [1.0, 2.0, 3.0]
    bn.running_var.data[:] = [4.0, 1.0, 0.25]
    bn.gamma.data[:] = 2.0
    bn.beta.data[:] = 0.5
    bn.eval()
    x = rng.standard_normal((5, 3)).astype(np.float32)
    expected = 2.0 * (x - [1.0, 2.0, 3.0]) / np.sqrt(np.array([4.0, 1.0, 0.25]) + 1e-5) + 0.5
    np.testing.assert_allclose(bn(mv.tensor(x)).numpy(), expected, rtol=1e-5)
    assert bn(mv.tensor(x[:1])).shape == (1, 3)  # one example is fine in eval mode
    before = bn.running_mean.numpy().copy()
    bn(mv.tensor(x))
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)  # and nothing is updated


def test_batchnorm_errors(rng):
    bn = nn.BatchNorm(3)
    with pytest.raises(ValueError, match="at least 2 examples"):
        bn(mv.ones(1, 3))
    with pytest.raises(ValueError, match="3 features"):
        bn(mv.ones(4, 2))


def test_gradcheck_batchnorm_train_mode(rng):
    with mv.default_dtype("float64"):
        bn = nn.BatchNorm(3)
        bn.gamma.data[:] = rng.standard_normal(3)
    assert gradcheck_module(bn, rng.standard_normal((5, 3)))


# ---------------------------------------------------------------------------------------
# regressions from issue 7: saving and loading with bad files
# ---------------------------------------------------------------------------------------
def test_load_of_a_corrupt_file_names_it_and_never_suggests_allow_pickle(tmp_path, rng):
    """Module.load on a corrupt .npz suggested allow_pickle (unsafe advice) or raised BadZipFile with no path."""
    model = nn.Linear(3, 2, rng=rng)
    model.save(tmp_path / "good")
    good = (tmp_path / "good.npz").read_bytes()
    bad = {
        "garbage.npz": b"this is not a zip file at all",
        "truncated.npz": good[: len(good) // 2],
        "empty.npz": b"",
    }
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "single.npy", np.ones(3))
    (tmp_path / "single.npz").write_bytes((tmp_path / "single.npy").read_bytes())
    np.savez(tmp_path / "objects.npz", W=np.array([{"a": 1}], dtype=object), b=np.zeros(2))
    for name in [*bad, "single.npz", "objects.npz"]:
        with pytest.raises(ValueError) as info:
            model.load(tmp_path / name)
        message = str(info.value)
        assert str(tmp_path / name) in message and "Linear.load" in message, message
        assert "allow_pickle" not in message and "model.save" in message, message
    assert "never loaded" in message  # the object array: refused, and said why
    np.testing.assert_array_equal(model.load(tmp_path / "good").W.numpy(), model.W.numpy())


def test_load_and_save_path_errors(tmp_path, rng):
    model = nn.Linear(3, 2, rng=rng)
    with pytest.raises(FileNotFoundError, match=r"no file .*missing\.npz \(\.npz was appended"):
        model.load(tmp_path / "missing")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        model.load(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"folder .*nowhere does not exist.*os\.makedirs"):
        model.save(tmp_path / "nowhere" / "m")
    with pytest.raises(TypeError, match="expected a dict"):
        model.load_state_dict(None)
    with pytest.raises(TypeError, match=r"state_dict\['W'\] holds <U1 values"):
        model.load_state_dict({"W": np.full((3, 2), "a"), "b": np.zeros(2)})
    with pytest.raises(TypeError, match=r"model\.train\(\) or model\.eval\(\)"):
        model.train("yes")
    with pytest.raises(TypeError, match="Parameter: data must be an array of numbers"):
        nn.Parameter("abc")
