"""A learner's bad inputs to distributions, data, optim and nn.Module: every one raises an error that names the
operation, what was expected (or what was got) and the fix. No silent result, no raw NumPy/Python message.

Each row: (what the learner wrote, the call, the exception type, a pattern the message must match). The pattern
always includes the operation's name and a fix or the expected input; the test also checks that the message is
not a bare NumPy/Python text by requiring the operation's name.
"""
from __future__ import annotations

import numpy as np
import pytest

import minivi as mv
from minivi import data, nn, optim
from minivi.distributions import (Bernoulli, Beta, Categorical, CensoredNormal, Dirichlet, Gamma, Laplace, Normal,
                                  OrderedLogistic, Poisson, StudentT, kl_divergence)

RNG = np.random.default_rng(0)


def linear():
    return nn.Linear(3, 2, rng=np.random.default_rng(0))


def grad_of_wrong_shape():
    m = linear()
    m.W.grad = mv.tensor(np.ones(5))
    optim.SGD(m.parameters(), lr=0.1).step()


CASES = [
    # --- distributions: parameters ------------------------------------------------------------
    ("Normal('a', 1)", lambda: Normal("a", 1.0), TypeError, r"Normal: parameter loc must be a number"),
    ("Normal(None, 1)", lambda: Normal(None, 1.0), TypeError, r"Normal: parameter loc must be a number.*None"),
    ("Normal(0, -1)", lambda: Normal(0.0, -1.0), ValueError, r"Normal: scale must be positive; parameterise"),
    ("Normal(0, inf)", lambda: Normal(0.0, np.inf), ValueError, r"Normal: scale contains inf; parameters must be finite"),
    ("Normal(nan, 1)", lambda: Normal(np.nan, 1.0), ValueError, r"Normal: loc contains NaN \(check what computed it"),
    ("Normal(float32, float64)", lambda: Normal(mv.tensor([0.0]), mv.tensor([1.0], dtype="float64")), TypeError,
     r"Normal: parameter 'scale' is float64.*convert them to one dtype"),
    ("Normal(shape 3, shape 4)", lambda: Normal(np.zeros(3), np.ones(4)), ValueError,
     r"Normal: shapes do not broadcast.*add axes of size 1"),
    ("Bernoulli(0.3) positional", lambda: Bernoulli(0.3), TypeError, r"Bernoulli: name the parameter, Bernoulli\(logits=\.\.\.\) or Bernoulli\(probs"),
    ("Categorical([.5, .5]) positional", lambda: Categorical([0.5, 0.5]), TypeError, r"Categorical: name the parameter"),
    ("Bernoulli(probs=1.5)", lambda: Bernoulli(probs=1.5), ValueError, r"Bernoulli: probs must lie in \[0, 1\]"),
    ("Bernoulli(logits=-inf)", lambda: Bernoulli(logits=-np.inf), ValueError, r"Bernoulli: logits contains inf"),
    ("Categorical(logits=[0, +inf])", lambda: Categorical(logits=[0.0, np.inf]), ValueError, r"Categorical: logits contains \+inf"),
    ("Categorical(probs not summing to 1)", lambda: Categorical(probs=[0.5, 0.6]), ValueError, r"Categorical: probs must sum to 1"),
    ("Categorical(logits=scalar)", lambda: Categorical(logits=1.0), ValueError, r"Categorical: logits needs a last axis"),
    ("Poisson(rate=..., log_rate=...)", lambda: Poisson(rate=2.0, log_rate=1.0), ValueError, r"Poisson: give exactly one of rate= or log_rate="),
    ("Poisson(-1)", lambda: Poisson(-1.0), ValueError, r"Poisson: rate must be positive; use log_rate="),
    ("Poisson(rate=inf)", lambda: Poisson(rate=np.inf), ValueError, r"Poisson: rate contains inf"),
    ("Gamma(inf, 1)", lambda: Gamma(np.inf, 1.0), ValueError, r"Gamma: concentration contains inf"),
    ("Gamma(-1, 1)", lambda: Gamma(-1.0, 1.0), ValueError, r"Gamma: concentration must be positive"),
    ("Laplace(0, inf)", lambda: Laplace(0.0, np.inf), ValueError, r"Laplace: scale contains inf"),
    ("OrderedLogistic(0, [0, -1])", lambda: OrderedLogistic(0.0, [0.0, -1.0]), ValueError, r"OrderedLogistic: cutpoints must be strictly increasing"),
    ("CensoredNormal(lower='a')", lambda: CensoredNormal(0.0, 1.0, lower="a"), TypeError, r"CensoredNormal: lower must be a number"),
    ("Beta(0, 1)", lambda: Beta(0.0, 1.0), ValueError, r"Beta: concentration1 \(α\) must be positive; use exp"),
    ("Dirichlet(1.0)", lambda: Dirichlet(1.0), ValueError, r"Dirichlet: concentration needs a last axis"),
    ("Dirichlet([1.0])", lambda: Dirichlet([1.0]), ValueError, r"Dirichlet: concentration needs K ≥ 2.*use Beta"),
    ("StudentT(0)", lambda: StudentT(0.0), ValueError, r"StudentT: df \(degrees of freedom ν\) must be positive"),
    # --- distributions: values --------------------------------------------------------------------
    ("Normal.log_prob(nan)", lambda: Normal(0.0, 1.0).log_prob(np.nan), ValueError, r"Normal: log_prob\(value\): the value contains NaN or inf"),
    ("Poisson.log_prob(inf)", lambda: Poisson(2.0).log_prob(np.inf), ValueError, r"Poisson: log_prob\(value\): the value contains NaN or inf"),
    ("Normal.log_prob(None)", lambda: Normal(0.0, 1.0).log_prob(None), TypeError, r"Normal\.log_prob\(value\) must be a number, array or Tensor"),
    ("Normal.log_prob('a')", lambda: Normal(0.0, 1.0).log_prob("a"), TypeError, r"Normal\.log_prob\(value\) must be a number"),
    ("Normal.log_prob(float64) with float32 parameters", lambda: Normal(mv.tensor([0.0]), 1.0).log_prob(mv.tensor([1.0], dtype="float64")),
     TypeError, r"Normal: the value is float64.*convert one of them"),
    ("Bernoulli.log_prob(2)", lambda: Bernoulli(logits=0.0).log_prob(2.0), ValueError, r"Bernoulli: values must be 0 or 1"),
    ("Bernoulli.log_prob(wrong shape)", lambda: Bernoulli(probs=[0.3, 0.2]).log_prob([1, 0, 1]), ValueError,
     r"Bernoulli: shapes do not broadcast \(value \(3,\), batch_shape \(2,\)\)"),
    ("Categorical.log_prob(one-hot)", lambda: Categorical(logits=np.zeros((2, 3))).log_prob(np.eye(3, dtype=int)[[0, 1]][None].repeat(4, 0)),
     ValueError, r"Categorical: labels of shape \(4, 2, 3\) look one-hot.*argmax"),
    ("Categorical.log_prob(['a'])", lambda: Categorical(probs=[[0.5, 0.5]]).log_prob(["a"]), TypeError, r"Categorical: labels must be integers"),
    ("Categorical.log_prob(3) with K = 3", lambda: Categorical(logits=np.zeros(3)).log_prob(3), ValueError, r"Categorical: labels must lie in 0\.\.2"),
    ("Gamma.log_prob(-1)", lambda: Gamma(1.0, 1.0).log_prob(-1.0), ValueError, r"Gamma: values must be positive"),
    ("Beta.log_prob(1.0)", lambda: Beta(1.0, 1.0).log_prob(1.0), ValueError, r"Beta: values must lie strictly inside \(0, 1\)"),
    ("Dirichlet.log_prob(not on the simplex)", lambda: Dirichlet([1.0, 1.0]).log_prob([0.5, 0.6]), ValueError, r"Dirichlet: values must sum to 1"),
    ("CensoredNormal.log_prob(below lower)", lambda: CensoredNormal(0.0, 1.0).log_prob(-1.0), ValueError, r"CensoredNormal: values must be ≥ lower"),
    # --- distributions: sampling and KL -------------------------------------------------------------
    ("Normal.sample(None)", lambda: Normal(0.0, 1.0).sample(None), TypeError, r"Normal\.sample/rsample.*rng must be a numpy\.random\.Generator.*default_rng"),
    ("Normal.sample(100) (shape first)", lambda: Normal(0.0, 1.0).sample(100), TypeError, r"Normal\.sample/rsample.*Pass the generator first"),
    ("Normal.sample(rng, 2.5)", lambda: Normal(0.0, 1.0).sample(RNG, 2.5), TypeError, r"Normal\.sample: sample_shape must be an int or a tuple"),
    ("Normal.sample(rng, -1)", lambda: Normal(0.0, 1.0).sample(RNG, -1), TypeError, r"Normal\.sample: sample_shape must be .*non-negative"),
    ("Gamma.rsample", lambda: Gamma(1.0, 1.0).rsample(RNG), NotImplementedError, r"Gamma has no reparameterised sampler: use sample\(\)"),
    ("StudentT.rsample with df requiring grad", lambda: StudentT(mv.tensor([3.0], requires_grad=True)).rsample(RNG), NotImplementedError,
     r"StudentT\.rsample: df requires a gradient.*Detach df"),
    ("kl_divergence(Normal, 3.0)", lambda: kl_divergence(Normal(0.0, 1.0), 3.0), TypeError, r"kl_divergence\(p, q\): q must be a Distribution"),
    ("kl_divergence(batch 3, batch 4)", lambda: kl_divergence(Normal(np.zeros(3), 1.0), Normal(np.zeros(4), 1.0)), ValueError,
     r"kl_divergence\(p, q\): batch shapes do not broadcast"),
    ("kl_divergence(Normal, Laplace)", lambda: kl_divergence(Normal(0.0, 1.0), Laplace(0.0, 1.0)), NotImplementedError,
     r"no closed-form KL\[Normal ‖ Laplace\].*Monte Carlo"),
    # --- optim --------------------------------------------------------------------------------------
    ("SGD(model, lr=.1)", lambda: optim.SGD(linear(), lr=0.1), TypeError, r"SGD: got the model Linear itself; pass its parameters: SGD\(model\.parameters\(\)"),
    ("SGD(w, lr) with a bare tensor", lambda: optim.SGD(mv.tensor([1.0], requires_grad=True), lr=0.1), TypeError, r"SGD: pass an iterable of tensors.*\[w\]"),
    ("Adam(3.0)", lambda: optim.Adam(3.0), TypeError, r"Adam: params must be an iterable of tensors such as model\.parameters\(\)"),
    ("SGD([numpy array])", lambda: optim.SGD([np.ones(3)], lr=0.1), TypeError, r"SGD: optimisers update leaf tensors.*nn\.Parameter"),
    ("SGD(params, lr=None)", lambda: optim.SGD(linear().parameters(), lr=None), TypeError, r"SGD: a learning rate must be a number"),
    ("SGD(params, lr=-0.1)", lambda: optim.SGD(linear().parameters(), lr=-0.1), ValueError, r"SGD: lr=-0\.1, but a learning rate must be a finite number ≥ 0"),
    ("Adam(weight_decay='a')", lambda: optim.Adam(linear().parameters(), weight_decay="a"), TypeError, r"Adam: weight_decay must be a number"),
    ("Adam(weight_decay=-1)", lambda: optim.Adam(linear().parameters(), weight_decay=-1), ValueError, r"Adam: weight_decay is a prior precision λ >= 0"),
    ("Adam(betas=0.9)", lambda: optim.Adam(linear().parameters(), betas=0.9), ValueError, r"Adam needs betas=\(β₁, β₂\).*e\.g\. \(0\.9, 0\.999\)"),
    ("SGD(momentum=1.5)", lambda: optim.SGD(linear().parameters(), lr=0.1, momentum=1.5), ValueError, r"momentum must be in \[0, 1\)"),
    ("step() before backward()", lambda: optim.SGD(linear().parameters(), lr=0.1).step(), RuntimeError, r"SGD\.step\(\): no parameter has a gradient.*loss\.backward\(\)"),
    ("a hand-set gradient of the wrong shape", grad_of_wrong_shape, ValueError, r"SGD\.step\(\): the gradient of parameter 0 has shape \(5,\) but the parameter has shape \(3, 2\)"),
    ("cosine(total_steps=0)", lambda: optim.cosine(0.1, total_steps=0), ValueError, r"schedule: total_steps must be a positive number"),
    ("step_decay(every=0)", lambda: optim.step_decay(0.1, every=0), ValueError, r"schedule: every must be a positive number"),
    ("exponential_decay(rate=-1)", lambda: optim.exponential_decay(0.1, rate=-1.0), ValueError, r"schedule: rate must be a positive number"),
    # --- nn.Module ----------------------------------------------------------------------------------
    ("Module.load_state_dict(list)", lambda: linear().load_state_dict([1, 2]), TypeError, r"Linear\.load_state_dict: expected a dict.*model\.state_dict\(\)"),
    ("Module.load_state_dict(missing keys)", lambda: linear().load_state_dict({"W": np.zeros((3, 2))}), ValueError,
     r"state_dict does not match Linear: missing keys \['b'\].*same architecture"),
    ("Module.load_state_dict(wrong shape)", lambda: linear().load_state_dict({"W": np.zeros((2, 3)), "b": np.zeros(2)}), ValueError,
     r"state_dict\['W'\] has shape \(2, 3\).*same layer sizes"),
    ("Module.train('yes')", lambda: linear().train("yes"), TypeError, r"Linear\.train\(mode\): mode must be True or False"),
    ("Module.to('gpu')", lambda: linear().to("gpu"), (ValueError, RuntimeError), r"cuda|device"),
    ("Parameter('abc')", lambda: nn.Parameter("abc"), TypeError, r"Parameter: data must be an array of numbers"),
    ("Parameter([[1, 2], [3]])", lambda: nn.Parameter([[1.0, 2.0], [3.0]]), TypeError, r"Parameter: could not make a tensor of numbers"),
    ("Linear(3, 2)(x with 5 features)", lambda: linear()(mv.tensor(np.ones((4, 5)))), ValueError, r"Linear\(3 → 2\) got input of shape \(4, 5\).*flatten images first"),
    ("Module()(x) without forward", lambda: nn.Module()(1), NotImplementedError, r"Module must define forward"),
    # --- data ---------------------------------------------------------------------------------------
    ("load_mnist(split='val')", lambda: data.load_mnist(split="val"), ValueError, r"load_mnist: split must be 'train' or 'test'"),
    ("load_mnist(3)", lambda: data.load_mnist(3), TypeError, r"load_mnist: path must be a folder name.*split="),
    ("minibatches(tensor)", lambda: data.minibatches(mv.tensor(np.ones((3, 2))), batch_size=2, rng=RNG), TypeError,
     r"minibatches: array 0 is a minivi Tensor; pass NumPy arrays \(x\.numpy\(\)\)"),
    ("minibatches(ragged lists)", lambda: data.minibatches([[1, 2], [3]], batch_size=1, rng=RNG), ValueError, r"minibatches: array 0 is not rectangular"),
    ("minibatches(x, y of other lengths)", lambda: data.minibatches(np.ones(3), np.ones(4), batch_size=2, rng=RNG), ValueError,
     r"minibatches: all arrays must have the same number of rows"),
    ("minibatches(batch_size=0)", lambda: data.minibatches(np.ones(3), batch_size=0, rng=RNG), ValueError, r"batch_size must be a positive integer"),
    ("minibatches without rng", lambda: data.minibatches(np.ones(3), batch_size=2), TypeError, r"minibatches\(shuffle=True\) needs rng=np\.random\.default_rng"),
    ("train_test_split(test_fraction=20)", lambda: data.train_test_split(np.ones(10), test_fraction=20, rng=RNG), ValueError,
     r"test_fraction must be strictly between 0 and 1"),
    ("mcar_mask(observed_fraction=1.5)", lambda: data.mcar_mask((3, 3), 1.5, RNG), ValueError, r"observed_fraction must be in \[0, 1\]"),
    ("mcar_mask(rng=None)", lambda: data.mcar_mask((3, 3), 0.5, None), TypeError, r"mcar_mask needs rng=np\.random\.default_rng"),
    ("half_mask(n=-1)", lambda: data.half_mask(-1), ValueError, r"half_mask: n is the number of images"),
    ("half_mask(image_shape=28)", lambda: data.half_mask(2, image_shape=28), ValueError, r"half_mask: image_shape must be \(height, width\)"),
    ("block_mask(block bigger than the image)", lambda: data.block_mask(2, block=(30, 3), position=(0, 0)), ValueError,
     r"block \(30, 3\) must be non-empty and fit inside the image"),
    ("apply_mask(int mask)", lambda: data.apply_mask(np.ones((2, 3)), np.ones((2, 3), int)), TypeError, r"mask must be a boolean array"),
    ("binarize(threshold='a')", lambda: data.binarize(np.full((2, 2), 0.5), threshold="a"), ValueError, r"binarize: threshold must be a number in \[0, 1\]"),
    ("binarize(uint8 images)", lambda: data.binarize(np.zeros((2, 2), np.uint8)), TypeError, r"binarize expects float intensities.*normalize=True"),
]


@pytest.mark.parametrize("what, call, error, pattern", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(what, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_the_survey_is_large():
    """The report counts these rows; keep the count honest if rows are added or removed."""
    assert len(CASES) >= 80
