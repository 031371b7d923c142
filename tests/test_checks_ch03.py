"""Chapter 03's checks: right answers pass, typical wrong ones fail with a message that helps."""
from __future__ import annotations

import numpy as np
import pytest

import minivi as mv
from minivi.grading import registry

CH03 = ["03.count_parameters", "03.linear_forward", "03.mlp_forward", "03.cross_entropy", "03.accuracy"]


# ----------------------------------------------------------------------------------------------
# Right answers (written here independently of the solutions notebook)


def count_ok(sizes):
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


class LinearOK:
    def __init__(self, in_features, out_features, *, rng):
        a = np.sqrt(6.0 / (in_features + out_features))
        self.W = mv.tensor(rng.uniform(-a, a, (in_features, out_features)), requires_grad=True)
        self.b = mv.tensor(np.zeros(out_features), requires_grad=True)

    def __call__(self, x):
        return x @ self.W + self.b


class LinearModule(mv.nn.Module):
    """The same as a Module with nn.Parameter, as a learner who read minivi.nn might write it."""

    def __init__(self, in_features, out_features, *, rng):
        a = np.sqrt(6.0 / (in_features + out_features))
        self.W = mv.nn.Parameter(rng.uniform(-a, a, (in_features, out_features)))
        self.b = mv.nn.Parameter(np.zeros(out_features))

    def forward(self, x):
        return mv.matmul(x, self.W) + self.b


def mlp_ok(x, params, activation=mv.relu):
    for i, (W, b) in enumerate(params):
        x = x @ W + b
        x = activation(x) if i + 1 < len(params) else x
    return x


def cross_entropy_ok(logits, labels):
    z = logits - mv.logsumexp(logits, axis=1, keepdims=True)
    return -(z[np.arange(len(labels)), labels]).sum() / len(labels)


@pytest.mark.parametrize("name, obj", [("03.count_parameters", count_ok), ("03.linear_forward", LinearOK),
                                       ("03.linear_forward", LinearModule), ("03.mlp_forward", mlp_ok),
                                       ("03.cross_entropy", cross_entropy_ok)])
def test_right_answers_pass(name, obj):
    result = registry.run_check(name, obj)
    assert result.status == "passed", result.message


# ----------------------------------------------------------------------------------------------
# Wrong answers


def _linear(init_W=None, init_b=None, forward=None):
    """A Linear class with one part replaced by a wrong version."""

    class Linear(LinearOK):
        def __init__(self, n_in, n_out, *, rng):
            super().__init__(n_in, n_out, rng=rng)
            if init_W is not None:
                self.W = mv.tensor(init_W(n_in, n_out, rng), requires_grad=True)
            if init_b is not None:
                self.b = init_b(n_out)

        def __call__(self, x):
            return forward(self, x) if forward is not None else super().__call__(x)

    return Linear


_global = np.random.default_rng(999)  # a generator the check does not control (like np.random)


def _glorot(n_in, n_out, rng):
    a = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-a, a, (n_in, n_out))


def _naive_cross_entropy(logits, labels):
    p = mv.exp(logits) / mv.exp(logits).sum(axis=1, keepdims=True)
    return -mv.log(p)[np.arange(len(labels)), labels].mean()


_bad_log_softmax = mv.primitive(lambda z: z - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
                                - z.max(1, keepdims=True), "bad_log_softmax")
mv.defvjp(_bad_log_softmax, lambda g, ans, z: g)  # forgets the softmax term of the gradient


def _cross_entropy_wrong_gradient(logits, labels):  # right values, wrong gradient
    return -_bad_log_softmax(logits)[np.arange(len(labels)), labels].mean()


def _mlp_activation_everywhere(x, params, activation=mv.relu):
    for W, b in params:
        x = activation(x @ W + b)
    return x


def _mlp_numpy(x, params, activation=mv.relu):  # right values, but detached from the graph
    h = x.numpy()
    for i, (W, b) in enumerate(params):
        h = h @ W.numpy() + b.numpy()
        if i + 1 < len(params):
            h = activation(mv.tensor(h)).numpy()
    return mv.tensor(h)


WRONG = [
    ("03.count_parameters", lambda sizes: sum(a * b for a, b in zip(sizes, sizes[1:])),
     "number of weights alone"),
    ("03.count_parameters", lambda sizes: sum((a + 1) * b for a, b in zip(sizes, sizes[1:])) + sizes[0],
     "count_parameters([784, 512, 512, 10]) returned"),
    ("03.count_parameters", lambda sizes: str(count_ok(sizes)), "should return an integer"),
    ("03.linear_forward", _linear(init_W=lambda i, o, rng: rng.standard_normal((i, o))), "outside [-a, a]"),
    ("03.linear_forward", _linear(init_W=lambda i, o, rng: rng.uniform(-0.5, 0.5, (i, o)) * np.sqrt(6 / (i + o))),
     "variance"),
    ("03.linear_forward", _linear(init_W=lambda i, o, rng: _glorot(i, o, _global)), "with the rng argument"),
    ("03.linear_forward", _linear(init_W=lambda i, o, rng: _glorot(i, o, np.random.default_rng(0))),
     "the rng you are given"),
    ("03.linear_forward", _linear(init_W=lambda i, o, rng: _glorot(o, i, rng)), "should have shape (300, 200)"),
    ("03.linear_forward", _linear(init_b=lambda o: mv.tensor(np.ones(o), requires_grad=True)), "should start at zero"),
    ("03.linear_forward", _linear(init_b=lambda o: mv.tensor(np.zeros(o))), "requires_grad=False"),
    ("03.linear_forward", _linear(init_b=lambda o: np.zeros(o)), "should be a minivi Tensor"),
    ("03.linear_forward", _linear(forward=lambda self, x: x @ self.W), "layer(x) is wrong"),
    ("03.linear_forward", _linear(forward=lambda self, x: x.numpy() @ self.W.numpy() + self.b.numpy()),
     "layer(x) should be a minivi Tensor"),
    ("03.linear_forward", _linear(forward=lambda self, x: x.detach() @ self.W + self.b), "input 0 (x)"),
    ("03.linear_forward", _linear(forward=lambda self, x: mv.tensor(x.numpy()) @ self.W + self.b),
     "do not create float32 tensors inside"),
    ("03.linear_forward", _linear(forward=lambda self, x: x @ self.W.detach() + self.b), "input 1 (W)"),
    ("03.mlp_forward", _mlp_activation_everywhere, "applied to the last layer"),
    ("03.mlp_forward", lambda x, params, activation=mv.relu: mlp_ok(x, params, lambda z: z),
     "no activation is applied"),
    ("03.mlp_forward", lambda x, params, activation=mv.relu: mlp_ok(activation(x), params, activation),
     "applied to the input x"),
    ("03.mlp_forward", lambda x, params, activation=mv.relu: mlp_ok(x, [(W, 0 * b) for W, b in params], activation),
     "biases b are not added"),
    ("03.mlp_forward", lambda x, params, activation=mv.relu: mlp_ok(x, params[:-1], activation), "has shape"),
    ("03.mlp_forward", _mlp_numpy, "not connected to its inputs"),
    ("03.cross_entropy", _naive_cross_entropy, "overflows"),
    ("03.cross_entropy", lambda z, y: -mv.log_softmax(z, axis=-1)[np.arange(len(y)), y].sum(),
     "the sum over the batch"),
    ("03.cross_entropy", lambda z, y: mv.log_softmax(z, axis=-1)[np.arange(len(y)), y].mean(), "sign is flipped"),
    ("03.cross_entropy", lambda z, y: -mv.log_softmax(z, axis=0)[np.arange(len(y)), y].mean(), "batch axis 0"),
    ("03.cross_entropy", lambda z, y: -mv.log_softmax(z, axis=-1)[np.arange(len(y)), y], "should be one number"),
    ("03.cross_entropy", lambda z, y: float(cross_entropy_ok(z, y).item()), "should be a minivi Tensor"),
    ("03.cross_entropy", lambda z, y: cross_entropy_ok(z.detach(), y), "not connected to its inputs"),
    ("03.cross_entropy", _cross_entropy_wrong_gradient, "gradients through your cross_entropy disagree"),
]


@pytest.mark.parametrize("name, fn, fragment", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_wrong_implementations_fail_with_a_useful_message(name, fn, fragment):
    result = registry.run_check(name, fn)
    if name == "03.linear_forward":  # two parts: a wrong initialisation or forward pass costs one point
        assert (result.status, result.points) in (("failed", 0), ("partial", 1)), result
    else:
        assert result.status == "failed", result
    assert fragment in result.message, result.message
    for reference in ("x @ self.W", "log_softmax(logits", "zip(sizes"):  # never the reference code
        assert reference not in result.message


def test_naive_cross_entropy_message_explains_the_overflow(recwarn):
    message = registry.run_check("03.cross_entropy", _naive_cross_entropy).message
    assert "at ±1e4" in message and "log 0" in message
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]   # no overflow warnings shown


def test_not_implemented_and_points():
    def stub(*args, **kwargs):
        raise NotImplementedError("exercise: fill in this function")

    for name in CH03:
        assert registry.run_check(name, stub).status == "not implemented"
    checks = registry.checks_for_chapter("03")
    assert [c.name for c in checks] == CH03
    assert all(1 <= c.points <= 3 and c.hint for c in checks)
    assert sum(c.points for c in checks) == 8


def accuracy_ok(logits, labels):
    a = float(np.mean(np.argmax(logits, axis=1) == labels))
    return a, float(np.sqrt(a * (1 - a) / len(labels)))


@pytest.mark.parametrize("hidden", [False, True])
def test_accuracy_right_and_wrong(hidden):
    assert registry.run_check("03.accuracy", accuracy_ok, hidden=hidden).passed
    no_root_n = registry.run_check("03.accuracy", lambda l, y: (accuracy_ok(l, y)[0], np.sqrt(
        accuracy_ok(l, y)[0] * (1 - accuracy_ok(l, y)[0]))), hidden=hidden)
    assert no_root_n.status == "failed" and "divide by n" in no_root_n.message
    argmin = registry.run_check("03.accuracy", lambda l, y: accuracy_ok(-l, y), hidden=hidden)
    assert argmin.status == "failed" and "largest logit" in argmin.message


def test_every_ch03_check_passes_its_hidden_cases():
    right = {"03.count_parameters": count_ok, "03.linear_forward": LinearOK, "03.mlp_forward": mlp_ok,
             "03.cross_entropy": cross_entropy_ok, "03.accuracy": accuracy_ok}
    for name, obj in right.items():
        result = registry.run_check(name, obj, hidden=True)
        assert result.passed, (name, result.message)


def test_linear_with_one_wrong_part_gets_half_marks():
    wrong_forward = _linear(forward=lambda self, x: x @ self.W)          # the bias is forgotten
    result = registry.run_check("03.linear_forward", wrong_forward)
    assert (result.status, result.points, result.max_points) == ("partial", 1, 2), result
    assert result.message.startswith("the initialisation is right (1/2 points), the forward pass is not")
    assert registry.get_check("03.linear_forward").parts == ("initialisation", "forward pass")
