"""minivi.optim: convergence to closed-form optima, Adam against PyTorch, weight decay as a prior, schedules."""
from __future__ import annotations

import math

import numpy as np
import pytest

import minivi as mv
from minivi import optim


def least_squares(seed: int = 0, n: int = 40, d: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(n) + 1.0
    return X, y


def loss_of(w, X, y):
    """L(w) = ½ mean((X w − y)²)."""
    r = mv.tensor(X, dtype="float64") @ w - mv.tensor(y, dtype="float64")
    return 0.5 * (r * r).mean()


def run(opt, w, X, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_of(w, X, y).backward()
        opt.step()
    return w.numpy()


@pytest.mark.parametrize("make, steps", [
    (lambda w, lr: optim.SGD([w], lr=lr), 100),
    (lambda w, lr: optim.SGD([w], lr=0.2 * lr, momentum=0.9), 300),
    (lambda w, lr: optim.Adam([w], lr=optim.exponential_decay(0.1, rate=0.99)), 800),
])
def test_optimisers_reach_the_least_squares_solution(make, steps):
    X, y = least_squares()
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    lr = 1.0 / np.linalg.eigvalsh(X.T @ X / len(X)).max()   # 1 / largest curvature
    w = mv.tensor(np.zeros(3), requires_grad=True, dtype="float64")
    np.testing.assert_allclose(run(make(w, lr), w, X, y, steps), w_star, atol=1e-4)


@pytest.mark.parametrize("make", [lambda w, lam: optim.SGD([w], lr=0.5, weight_decay=lam),
                                  lambda w, lam: optim.Adam([w], lr=optim.exponential_decay(0.1, 0.99),
                                                            weight_decay=lam)])
def test_weight_decay_gives_the_map_estimate_of_a_gaussian_prior(make):
    """min ½ mean((Xw − y)²) + (λ/2)‖w‖²  ⇔  (XᵀX/n + λI) w = Xᵀy/n  (ridge regression)."""
    X, y = least_squares(1)
    lam, n = 0.5, len(X)
    w_map = np.linalg.solve(X.T @ X / n + lam * np.eye(3), X.T @ y / n)
    w = mv.tensor(np.zeros(3), requires_grad=True, dtype="float64")
    np.testing.assert_allclose(run(make(w, lam), w, X, y, 800), w_map, atol=1e-4)


@pytest.mark.parametrize("cls, kw", [(optim.SGD, dict(lr=0.1, momentum=0.5)), (optim.Adam, dict(lr=0.1))])
def test_weight_decay_equals_adding_the_gaussian_log_prior_gradient(cls, kw):
    X, y = least_squares(2)
    lam = 0.3
    w1 = mv.tensor(np.ones(3), requires_grad=True, dtype="float64")
    w2 = mv.tensor(np.ones(3), requires_grad=True, dtype="float64")
    opt1, opt2 = cls([w1], weight_decay=lam, **kw), cls([w2], **kw)
    for _ in range(5):
        opt1.zero_grad()
        loss_of(w1, X, y).backward()
        opt1.step()
        opt2.zero_grad()
        log_prior = -0.5 * lam * (w2 * w2).sum()          # log N(w; 0, 1/λ) + const
        (loss_of(w2, X, y) - log_prior).backward()
        opt2.step()
    np.testing.assert_allclose(w1.numpy(), w2.numpy(), rtol=1e-12)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_steps_equal_torch(weight_decay):
    torch = pytest.importorskip("torch")
    X, y = least_squares(3)
    W0 = np.random.default_rng(0).standard_normal((3, 2))
    w = mv.tensor(W0, requires_grad=True, dtype="float64")
    tw = torch.tensor(W0, requires_grad=True)
    opt = optim.Adam([w], lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=weight_decay)
    topt = torch.optim.Adam([tw], lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=weight_decay)
    Y = np.stack([y, -y], axis=1)
    for _ in range(6):
        opt.zero_grad()
        r = mv.tensor(X, dtype="float64") @ w - mv.tensor(Y, dtype="float64")
        (0.5 * (r * r).mean()).backward()
        opt.step()
        topt.zero_grad()
        tr = torch.tensor(X) @ tw - torch.tensor(Y)
        (0.5 * (tr * tr).mean()).backward()
        topt.step()
        np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_sgd_momentum_equals_torch():
    torch = pytest.importorskip("torch")
    X, y = least_squares(4)
    w = mv.tensor(np.zeros(3), requires_grad=True, dtype="float64")
    tw = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt, topt = optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01), torch.optim.SGD(
        [tw], lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(5):
        opt.zero_grad()
        loss_of(w, X, y).backward()
        opt.step()
        topt.zero_grad()
        (0.5 * ((torch.tensor(X) @ tw - torch.tensor(y)) ** 2).mean()).backward()
        topt.step()
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-12)


def test_float32_parameters_stay_float32_and_in_place():
    w = mv.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    data = w.data
    for opt in (optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.1), optim.Adam([w], weight_decay=0.1)):
        (w * w).sum().backward()
        opt.step()
    assert w.data is data and w.dtype == np.float32


def test_parameters_without_gradient_are_skipped():
    a = mv.tensor([1.0, 2.0], requires_grad=True)
    b = mv.tensor([3.0], requires_grad=True)
    opt = optim.Adam([a, b, a], lr=0.1)   # duplicates are dropped
    assert len(opt.params) == 2
    (a * a).sum().backward()
    opt.step()
    assert b.numpy()[0] == 3.0 and a.numpy()[0] < 1.0
    opt.zero_grad()
    assert a.grad is None


def test_optimiser_argument_errors():
    w = mv.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="requires_grad=True"):
        optim.SGD([mv.tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="no parameters"):
        optim.Adam([])
    with pytest.raises(ValueError, match="positive"):
        optim.SGD([w], lr=0.0)
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD([w], lr=0.1, momentum=1.5)


def test_schedules():
    assert optim.constant(0.1)(1000) == 0.1
    s = optim.step_decay(1.0, drop=0.5, every=10)
    assert [s(0), s(9), s(10), s(25)] == [1.0, 1.0, 0.5, 0.25]
    e = optim.exponential_decay(2.0, rate=0.5, every=2)
    assert math.isclose(e(0), 2.0) and math.isclose(e(2), 1.0) and math.isclose(e(3), 2.0 * 0.5**1.5)
    c = optim.cosine(1.0, total_steps=100, min_lr=0.1)
    assert math.isclose(c(0), 1.0) and math.isclose(c(50), 0.55) and math.isclose(c(100), 0.1) and c(500) == c(100)


def test_schedule_is_called_with_the_step_count():
    seen = []
    w = mv.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=lambda step: seen.append(step) or 0.1)
    for _ in range(3):
        (w * 1.0).sum().backward()
        opt.step()
    assert seen == [0, 1, 2] and opt.steps == 3


# ---------------------------------------------------------------------------------------
# regressions from issue 7 (silent results and unclear errors)
# ---------------------------------------------------------------------------------------
def test_a_negative_learning_rate_from_a_schedule_is_refused():
    """A negative float lr was rejected but a schedule returning one silently ascended the loss."""
    w = mv.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=lambda step: 0.1 - 0.1 * step)  # 0.1, 0.0, then -0.1
    for _ in range(2):
        (w * w).sum().backward()
        opt.step()
    before = w.numpy().copy()
    (w * w).sum().backward()
    with pytest.raises(ValueError, match=r"schedule at step 2.*lr=-0\.1.*≥ 0"):
        opt.step()
    assert np.array_equal(w.numpy(), before) and opt.steps == 2  # nothing changed
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite"):
            optim.Adam([w], lr=lambda step, bad=bad: bad).current_lr()
    with pytest.raises(TypeError, match="must be a number"):
        optim.Adam([w], lr=lambda step: "0.1").current_lr()
    with pytest.raises(ValueError, match="≥ 0"):
        optim.SGD([w], lr=-0.1)
    with pytest.raises(TypeError, match="must be a number"):
        optim.SGD([w], lr="0.1")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_gradients_are_refused_before_any_update(bad):
    """NaN gradients went into the weights without a word."""
    a = mv.tensor([1.0, 2.0], requires_grad=True)
    b = mv.tensor(np.ones((2, 3)), requires_grad=True)
    for opt in (optim.SGD([a, b], lr=0.1), optim.Adam([a, b])):
        a.grad = mv.tensor([0.5, 0.5])
        b.grad = mv.tensor(np.where(np.arange(6).reshape(2, 3) == 4, bad, 1.0))
        with pytest.raises(FloatingPointError, match=r"parameter 1 \(shape \(2, 3\).*1 NaN/inf entries of 6.*check_finite=False"):
            opt.step()
        assert a.numpy().tolist() == [1.0, 2.0] and (b.numpy() == 1.0).all()  # untouched, even the good one


def test_nan_gradient_error_names_the_parameter_and_can_be_switched_off():
    from minivi import nn
    model = nn.Linear(3, 2, rng=np.random.default_rng(0))
    opt = optim.Adam(model.named_parameters(), lr=0.1)  # named: errors use the names
    model(mv.tensor(np.array([[1.0, np.nan, 1.0]]))).sum().backward()  # a NaN in the data reaches the gradient
    with pytest.raises(FloatingPointError, match=r"gradient of W \(shape \(3, 2\)"):
        opt.step()
    opt = optim.SGD(model.parameters(), lr=0.1, check_finite=False)  # the explicit opt-out
    opt.step()
    assert np.isnan(model.W.numpy()).any() or np.isinf(model.W.numpy()).any()


def test_huge_but_finite_gradients_are_not_mistaken_for_inf():
    w = mv.tensor(np.full(4, 1.0, dtype=np.float32), requires_grad=True)
    w.grad = mv.tensor(np.full(4, 3e38, dtype=np.float32))  # the sum overflows to inf; every entry is finite
    optim.SGD([w], lr=1e-38).step()
    np.testing.assert_allclose(w.numpy(), 1.0 - 3.0, rtol=1e-6)


def test_step_without_any_gradient_says_call_backward():
    """step() with no gradient anywhere did nothing, silently."""
    w = mv.tensor([1.0], requires_grad=True)
    opt = optim.Adam([w])
    with pytest.raises(RuntimeError, match=r"no parameter has a gradient.*loss\.backward\(\)"):
        opt.step()
    assert opt.steps == 0


def test_passing_the_model_instead_of_its_parameters():
    """SGD(model, lr=.1) said "'Linear' object is not iterable"."""
    from minivi import nn
    model = nn.Linear(3, 2, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"got the model Linear itself; pass its parameters: SGD\(model\.parameters\(\)"):
        optim.SGD(model, lr=0.1)
    with pytest.raises(TypeError, match="iterable of tensors such as model.parameters"):
        optim.Adam(3.0)
    with pytest.raises(TypeError, match="parameter 1 is"):
        optim.Adam([model.W, np.ones(3)])
    with pytest.raises(ValueError, match=r"betas=\(β₁, β₂\)"):
        optim.Adam(model.parameters(), betas=0.9)
    with pytest.raises(ValueError, match="eps > 0"):
        optim.Adam(model.parameters(), eps=0.0)
