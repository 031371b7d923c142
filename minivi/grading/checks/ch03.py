"""Checks of chapter 03 (deep networks): parameter count, Linear layer, MLP forward, cross-entropy.

Every check tests the learner's own object against an independent computation written here in
NumPy/SciPy (never against ``minivi.nn``), and gradients against central differences (``mv.gradcheck``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from ... import autodiff as mv
from ...autodiff.tensor import Tensor
from ..registry import CheckFailed, Partial, register
from . import as_array, assert_close, assert_shape, call, rng, unpack

#: The minivi code that computes what an exercise asks for; the grader makes it raise while that exercise is scored.
FORBIDDEN = {
    "03.linear_forward": ["minivi.nn.layers.Linear.forward"],
    "03.mlp_forward": ["minivi.nn.layers.Linear.forward", "minivi.nn.layers.Sequential.forward"],
    "03.cross_entropy": ["minivi.distributions.Categorical.log_prob"],
}

# ----------------------------------------------------------------------------------------------
# Helpers


def _numpy(value, what: str) -> np.ndarray:
    """A float64 array from the learner's Tensor (or array); CheckFailed for None."""
    if isinstance(value, Tensor):
        value = value.numpy()
    return as_array(value, what)


def _require_tensor(value, what: str, why: str) -> Tensor:
    if value is None:
        raise CheckFailed(f"{what} is None: did you forget to `return` it?")
    if not isinstance(value, Tensor):
        raise CheckFailed(f"{what} should be a minivi Tensor, got {type(value).__name__}: {why}")
    return value


def _gradcheck(f, inputs, names, what: str) -> None:
    """``mv.gradcheck(f, *inputs)`` in float64, with failures reported as CheckFailed naming the input."""
    try:
        out = f(*[mv.tensor(x, dtype="float64", requires_grad=True) for x in inputs])
        _require_tensor(out, f"the output of {what}", "compute it with Tensor operations so that gradients flow")
        if not out.requires_grad:
            raise CheckFailed(
                f"the output of {what} is not connected to its inputs in the graph (requires_grad=False although "
                f"{', '.join(names)} require gradients): somewhere the computation left the Tensor world "
                "(.numpy(), .data, .detach() or a new mv.tensor(...) of an intermediate result), so no gradient "
                "can flow back")
        mv.gradcheck(f, *inputs)
    except mv.GradcheckError as err:
        text = str(err)
        for i, name in enumerate(names):  # "input 1" -> "input 1 (W)"
            text = text.replace(f"for input {i} ", f"for input {i} ({name}) ")
        raise CheckFailed(f"the gradients through {what} disagree with finite differences: {text}. "
                          "Use only minivi operations on Tensors between input and output, so the "
                          "engine records every step") from None
    except TypeError as err:
        if "float64" not in str(err):
            raise
        raise CheckFailed(f"with float64 inputs, {what} mixed in another dtype ({err}); keep the inputs' "
                          "dtype (do not create float32 tensors inside)") from None


# ----------------------------------------------------------------------------------------------
# 03.count_parameters


@register(
    "03.count_parameters",
    points=1,
    hint=(
        'Each layer has a weight matrix and a bias vector: how many numbers in each?',
        "Layer l maps n_{l-1} inputs to n_l outputs with a weight matrix and a bias vector: count the "
        "numbers in both, for every pair of consecutive sizes, and add them up.",
    ),
)
def _check_count_parameters(count_parameters, hidden=False):
    cases = [[784, 512, 512, 10], [5, 3], [2, 1], [10, 20, 30, 40, 50], [784, 10], [1, 1, 1]]
    if hidden:
        cases = [[3, 7], [784, 256, 10], [6, 1, 6], [1, 2, 3, 4, 5, 6], [100, 100]]
    for sizes in cases:
        got = call(count_parameters, list(sizes), name="count_parameters", arg_names=("sizes",))
        if got is None:
            raise CheckFailed("count_parameters returned None: did you forget to `return` it?")
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
            if isinstance(got, (float, np.floating)) and float(got).is_integer():
                got = int(got)  # accept 18.0 as 18, but the exact integer is preferred
            else:
                raise CheckFailed(f"count_parameters({sizes}) should return an integer, got "
                                  f"{type(got).__name__} {got!r}")
        expected = 0
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            expected += n_in * n_out + n_out
        if int(got) != expected:
            weights_only = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
            why = " (that is the number of weights alone: the biases are parameters too)" \
                if int(got) == weights_only else ""
            raise CheckFailed(f"count_parameters({sizes}) returned {int(got)}, expected {expected}{why}")


# ----------------------------------------------------------------------------------------------
# 03.linear_forward


def _make_layer(Linear, n_in: int, n_out: int, seed: int):
    if not callable(Linear):
        raise CheckFailed(f"expected your class Linear, got {type(Linear).__name__} {Linear!r}")
    layer = Linear(n_in, n_out, rng=np.random.default_rng(seed))
    for attr in ("W", "b"):
        if not hasattr(layer, attr):
            raise CheckFailed(f"Linear({n_in}, {n_out}) has no attribute {attr!r}: store the weights as "
                              "self.W and the bias as self.b")
    return layer


@register(
    "03.linear_forward",
    points=2,
    parts=("initialisation", "forward pass"),
    hint=(
        "Two jobs: initialise W with Glorot's uniform range and b at zero, then compute η = x W + b.",
        'Draw W with the rng you are given, as learnable tensors (requires_grad=True).',
        "In __init__, draw W of shape (in_features, out_features) uniformly in [-a, a] with "
        "a = sqrt(6 / (in_features + out_features)) using the rng you are given (rng.uniform), start b at zero, "
        "and make both mv.tensor(..., requires_grad=True). The forward pass is η = x W + b, with Tensor "
        "operations only.",
    ),
)
def _check_linear(Linear, hidden=False):
    """Two parts, a point each: the initialisation, and the forward pass with its gradients."""
    failed = {}
    for what, part in (("initialisation", _linear_init_part), ("forward pass", _linear_forward_part)):
        try:
            part(Linear, hidden)
        except CheckFailed as exc:
            failed[what] = str(exc)
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - the learner's error costs this part only
            failed[what] = f"your code raised {type(exc).__name__}: {exc}"
    if len(failed) == 2:
        raise CheckFailed(f"{failed['initialisation']}; and the forward pass: {failed['forward pass']}")
    if failed:
        (what, message), = failed.items()
        right = "forward pass" if what == "initialisation" else "initialisation"
        raise Partial(1, f"the {right} is right (1/2 points), the {what} is not: {message}")


def _linear_init_part(Linear, hidden=False):
    # Parameters: shapes, learnable tensors, initial values.
    n_in, n_out = (300, 200) if not hidden else (250, 330)
    layer = _make_layer(Linear, n_in, n_out, seed=0)
    for attr, shape in (("W", (n_in, n_out)), ("b", (n_out,))):
        t = _require_tensor(getattr(layer, attr), f"Linear({n_in}, {n_out}).{attr}",
                            "the optimiser updates Tensors and the engine sends gradients to Tensors")
        assert_shape(t, shape, f"Linear({n_in}, {n_out}).{attr}")
        if not t.requires_grad:
            raise CheckFailed(f"Linear({n_in}, {n_out}).{attr} has requires_grad=False: it is a parameter to "
                              "learn, so create it with requires_grad=True")
    W, b = _numpy(layer.W, "W"), _numpy(layer.b, "b")
    if np.any(b != 0):
        raise CheckFailed(f"Linear({n_in}, {n_out}).b should start at zero, but b[{int(np.argmax(b != 0))}] = "
                          f"{b[b != 0][0]:.4g}")
    a = math.sqrt(6.0 / (n_in + n_out))
    if not np.all(np.isfinite(W)):
        raise CheckFailed(f"Linear({n_in}, {n_out}).W contains values that are not finite")
    if np.abs(W).max() > a * (1 + 1e-6):
        raise CheckFailed(f"Linear({n_in}, {n_out}).W has an entry {W.flat[np.argmax(np.abs(W))]:.4g} outside "
                          f"[-a, a] with a = sqrt(6 / (in + out)) = {a:.4g}: use Glorot's uniform range")
    expected_var = a * a / 3.0   # the variance of U(-a, a)
    var = float(W.var())
    if not 0.95 < var / expected_var < 1.05:
        raise CheckFailed(f"Linear({n_in}, {n_out}).W has variance {var:.4g}, but W ~ U(-a, a) with "
                          f"a = {a:.4g} has variance a²/3 = {expected_var:.4g}: draw W uniformly over the "
                          "whole interval [-a, a]")
    if abs(float(W.mean())) > 0.02 * a:
        raise CheckFailed(f"Linear({n_in}, {n_out}).W has mean {float(W.mean()):.4g}; Glorot's "
                          "U(-a, a) has mean 0")
    # Randomness: only through the rng argument.
    same = _numpy(_make_layer(Linear, n_in, n_out, seed=0).W, "W")
    other = _numpy(_make_layer(Linear, n_in, n_out, seed=1).W, "W")
    if not np.array_equal(W, same):
        raise CheckFailed(f"two Linear({n_in}, {n_out}, rng=np.random.default_rng(0)) got different W: draw the "
                          "weights with the rng argument, not with np.random or another generator")
    if np.array_equal(W, other):
        raise CheckFailed(f"Linear({n_in}, {n_out}) got the same W with rng=default_rng(0) and default_rng(1): draw "
                          "the weights with the rng you are given")



def _linear_forward_part(Linear, hidden=False):
    # The forward pass: values against NumPy, for several batch sizes, with a non-zero bias.
    r = rng(301, hidden)
    for n_in, n_out, n in [(3, 4, 5), (6, 2, 1), (1, 3, 4), (5, 5, 2)]:
        layer = _make_layer(Linear, n_in, n_out, seed=2)
        layer.b = mv.tensor(r.standard_normal(n_out), requires_grad=True)   # a bias that shows
        x = r.standard_normal((n, n_in))
        context = f"for Linear({n_in}, {n_out}) and x of shape {(n, n_in)}"
        out = _require_tensor(layer(mv.tensor(x)), "layer(x)",
                              "compute η with Tensor operations so that gradients can flow back to W and b")
        expected = x @ _numpy(layer.W, "W") + _numpy(layer.b, "b")
        assert_close(_numpy(out, "layer(x)"), expected, "layer(x)", context, rtol=1e-4, atol=1e-5)

    # Gradients: through the learner's forward, with float64 parameters swapped in.
    layer = _make_layer(Linear, 4, 3, seed=3)

    def forward(x, W, b):
        layer.W, layer.b = W, b
        return layer(x)

    _gradcheck(forward, [r.standard_normal((5, 4)), r.standard_normal((4, 3)), r.standard_normal(3)],
               ("x", "W", "b"), "your Linear layer")


# ----------------------------------------------------------------------------------------------
# 03.mlp_forward


def _np_mlp(x, params, activation):
    h = x
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        if i < len(params) - 1:
            h = activation(h)
    return h


_ACTIVATIONS = {  # name -> (minivi function, NumPy function)
    "tanh": (mv.tanh, np.tanh),
    "relu": (mv.relu, lambda z: np.maximum(z, 0.0)),
    "sigmoid": (mv.sigmoid, lambda z: 1.0 / (1.0 + np.exp(-z))),
}


def _diagnose_mlp(got, x, params, np_act) -> str:
    """A hint at the usual mistakes, found by comparing with variants computed here."""
    def near(a):
        return a.shape == got.shape and np.allclose(got, a, rtol=1e-4, atol=1e-5)

    if near(np_act(_np_mlp(x, params, np_act))):
        return "; it looks like the activation is also applied to the last layer (the output should be the logits η_L)"
    if near(_np_mlp(x, params, lambda z: z)):
        return "; it looks like no activation is applied between the layers"
    if near(_np_mlp(np_act(x), params, np_act)):
        return "; it looks like the activation is applied to the input x too"
    if near(_np_mlp(x, [(W, 0 * b) for W, b in params], np_act)):
        return "; it looks like the biases b are not added"
    return ""


@register(
    "03.mlp_forward",
    points=2,
    hint=(
        'An MLP alternates linear maps and activations; the last layer has no activation.',
        "Start from h = x; for each (W, b) compute η = h W + b, then h = activation(η) on every layer but "
        "the last; return the last η (the logits). Use Tensor operations throughout.",
    ),
)
def _check_mlp_forward(mlp_forward, hidden=False):
    r = rng(302, hidden)
    cases = [([4, 6, 5, 3], 7, "tanh"), ([4, 6, 5, 3], 1, "relu"), ([3, 8, 2], 5, "sigmoid"),
             ([5, 3], 4, "relu"), ([2, 4, 4, 4, 3], 6, "tanh")]
    for sizes, n, act_name in cases:
        act, np_act = _ACTIVATIONS[act_name]
        params_np = [(r.standard_normal((a, b)), r.standard_normal(b)) for a, b in zip(sizes[:-1], sizes[1:])]
        x_np = r.standard_normal((n, sizes[0]))
        params = [(mv.tensor(W, requires_grad=True), mv.tensor(b, requires_grad=True)) for W, b in params_np]
        context = (f"for sizes {sizes} ({len(params)} layer{'s' if len(params) > 1 else ''}), a batch of {n} "
                   f"and activation=mv.{act_name}")
        out = call(mlp_forward, mv.tensor(x_np), params, act, name="mlp_forward",
                   arg_names=("x", "params", "activation"))
        out = _require_tensor(out, "mlp_forward(x, params, activation)",
                              "keep the computation in Tensors so that gradients reach the parameters")
        got = _numpy(out, "mlp_forward(x, params, activation)")
        assert_shape(got, (n, sizes[-1]), "mlp_forward(x, params, activation)", context)
        expected = _np_mlp(x_np.astype(np.float32).astype(np.float64),
                           [(W.astype(np.float32).astype(np.float64), b.astype(np.float32).astype(np.float64))
                            for W, b in params_np], np_act)
        if not np.allclose(got, expected, rtol=1e-4, atol=1e-4):
            try:
                assert_close(got, expected, "mlp_forward(x, params, activation)", context, rtol=1e-4, atol=1e-4)
            except CheckFailed as err:
                raise CheckFailed(str(err) + _diagnose_mlp(got, x_np, params_np, np_act)) from None

    # Gradients with respect to the input and every parameter, through the learner's code.
    sizes = [3, 4, 2]
    inputs = [r.standard_normal((2, 3))]
    names = ["x"]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        inputs += [r.standard_normal((a, b)), r.standard_normal(b)]
        names += [f"W of layer {i}", f"b of layer {i}"]

    def forward(x, W0, b0, W1, b1):
        return mlp_forward(x, [(W0, b0), (W1, b1)], mv.tanh)

    _gradcheck(forward, inputs, names, "your mlp_forward")


# ----------------------------------------------------------------------------------------------
# 03.cross_entropy


def _np_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """−(1/N) Σ_n [η_{n, y_n} − logsumexp(η_n)], with SciPy's stable logsumexp."""
    n = len(labels)
    return float(np.mean(logsumexp(logits, axis=1) - logits[np.arange(n), labels]))


@register(
    "03.cross_entropy",
    points=2,
    hint=(
        'The loss is minus the mean log-probability of the right label under softmax(η).',
        'log softmax(η)_k = η_k − logsumexp(η): never take the log of softmax itself.',
        "log p(y = k | η) = η_k − logsumexp(η) = log_softmax(η)_k: take mv.log_softmax over the class "
        "axis (never log of softmax, which underflows to log 0), pick each row's label entry with integer-array "
        "indexing, and return minus the mean over the batch.",
    ),
)
def _check_cross_entropy(cross_entropy, hidden=False):
    r = rng(303, hidden)
    cases = [(6, 4), (1, 10), (5, 2), (8, 3)]
    for n, k in cases:
        logits = r.standard_normal((n, k)) * 3.0
        labels = r.integers(0, k, size=n)
        context = f"for logits of shape {(n, k)} and labels {labels.tolist()}"
        out = call(cross_entropy, mv.tensor(logits, dtype="float64"), labels, name="cross_entropy",
                   arg_names=("logits", "labels"))
        out = _require_tensor(out, "cross_entropy(logits, labels)",
                              "compute it with Tensor operations so that it can be minimised")
        if out.size != 1:
            raise CheckFailed(f"cross_entropy(logits, labels) has shape {out.shape} {context}: it should be "
                              "one number, the mean over the batch")
        got = float(out.numpy().reshape(()))
        expected = _np_cross_entropy(logits, labels)
        if not np.isclose(got, expected, rtol=1e-6, atol=1e-9):
            total = expected * n
            if np.isclose(got, total, rtol=1e-6) and n > 1:
                why = " (that is the sum over the batch: take the mean)"
            elif np.isclose(got, -expected, rtol=1e-6):
                why = " (the sign is flipped: the loss is the *negative* log-likelihood)"
            elif np.isclose(got, float(np.mean(logsumexp(logits, axis=0)[labels] - logits[np.arange(n), labels])),
                            rtol=1e-6):
                why = (" (the log-probabilities are normalised over the batch axis 0; normalise over the classes, "
                       "axis -1)")
            else:
                why = ""
            raise CheckFailed(f"cross_entropy(logits, labels) {context}: expected {expected:.6g}, got {got:.6g}{why}")

    # Extreme logits: the right answer is finite (0 for a confident right guess, 2e4 for a wrong one).
    big = 1e4
    logits = np.array([[big, -big, 0.0], [-big, big, 0.0], [0.0, 0.0, big], [big, 0.0, -big]])
    labels = np.array([0, 0, 2, 2])
    expected = _np_cross_entropy(logits, labels)
    for dtype in ("float64", "float32"):
        context = f"for logits at ±1e4 in {dtype} ({logits.tolist()}, labels {labels.tolist()})"
        with np.errstate(all="ignore"):  # the message below explains an overflow better than a warning
            out = call(cross_entropy, mv.tensor(logits, dtype=dtype), labels, name="cross_entropy",
                       arg_names=("logits", "labels"))
        out = _require_tensor(out, "cross_entropy(logits, labels)", "compute it with Tensor operations")
        got = float(out.numpy().reshape(()))
        if not math.isfinite(got):
            raise CheckFailed(f"cross_entropy is {got} {context}; the exact value is {expected:.6g}. "
                              "exp(±1e4) overflows and log(softmax) underflows to log 0 = -inf: compute "
                              "log-probabilities in a stable way")
        if not np.isclose(got, expected, rtol=1e-5):
            raise CheckFailed(f"cross_entropy {context}: expected {expected:.6g}, got {got:.6g}")

    # Gradient with respect to the logits (softmax − one-hot, over N), via finite differences.
    labels = np.array([2, 0, 1, 1, 3])
    _gradcheck(lambda z: cross_entropy(z, labels), [r.standard_normal((5, 4))], ("logits",),
               "your cross_entropy")


# ----------------------------------------------------------------------------------------------
# 03.accuracy: a test accuracy is a stochastic number, reported with its standard error


@register(
    "03.accuracy",
    points=1,
    hint=("The prediction is the class with the largest logit; the accuracy is a mean of 0/1 outcomes.",
          "The standard error of a mean of n Bernoulli outcomes with rate a is sqrt(a (1 - a) / n)."),
)
def _check_accuracy(accuracy, hidden=False):
    r = rng(304, hidden)
    sizes = [(50, 10, 0.7), (7, 3, 0.5), (1000, 10, 0.97)] if not hidden else [(64, 5, 0.3), (3, 2, 1.0),
                                                                               (500, 10, 0.88)]
    for n, k, rate in sizes:
        labels = r.integers(0, k, n)
        logits = r.standard_normal((n, k))
        right = r.random(n) < rate           # make these rows predict their label
        logits[right, labels[right]] = logits[right].max(axis=1) + r.uniform(0.1, 1.0, right.sum())
        wrong_rows = ~right
        if wrong_rows.any():                 # and the others predict another class
            other = (labels[wrong_rows] + 1 + r.integers(0, k - 1, wrong_rows.sum())) % k
            logits[wrong_rows, other] = logits[wrong_rows].max(axis=1) + r.uniform(0.1, 1.0, wrong_rows.sum())
        context = f"for {n} rows of {k} logits"
        out = call(accuracy, logits, labels, name="accuracy", arg_names=("logits", "labels"))
        acc, se = unpack(out, ("accuracy", "standard_error"), "accuracy(logits, labels)")
        acc, se = float(as_array(acc, "accuracy")), float(as_array(se, "standard error"))
        a = float(np.mean(right))
        if not np.isclose(acc, a, rtol=0, atol=1e-12):
            raise CheckFailed(f"accuracy {context} is {acc:.6g}, but {int(right.sum())} of {n} rows have their "
                              f"largest logit at the label ({a:.6g})")
        expected = float(np.sqrt(a * (1 - a) / n))
        if not np.isclose(se, expected, rtol=1e-9, atol=1e-15):
            why = " (that is the standard deviation of one outcome: divide by n under the root)" \
                if np.isclose(se, np.sqrt(a * (1 - a))) else ""
            raise CheckFailed(f"the standard error {context} with accuracy {a:.4g} is {se:.6g}, expected "
                              f"{expected:.6g}{why}")
