"""Chapter 10's checks, in process: correct implementations pass (public and hidden cases), typical wrong
ones fail with a message that says what was wrong."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

from minivi.grading import registry


# ----------------------------------------------------------------------------------------------
# Correct implementations (the solutions notebook has the same ones)


def labelled_bound(log_px, mu, log_sigma, eps, n_classes):
    z = mu + np.exp(log_sigma) * eps
    kl = (-log_sigma + 0.5 * (np.exp(2 * log_sigma) + mu**2) - 0.5).sum(-1)
    return log_px(z).mean(0) - np.log(n_classes) - kl


def _log_softmax(logits):
    m = logits.max(1, keepdims=True)
    return logits - m - np.log(np.exp(logits - m).sum(1, keepdims=True))


def unlabelled_bound(logits, neg_L):
    log_q = _log_softmax(logits)
    q = np.exp(log_q)
    n, K = logits.shape
    values = np.stack([neg_L(np.full(n, c)) for c in range(K)], axis=1)
    return (q * values).sum(1) - (q * log_q).sum(1)


def unlabelled_bound_scipy(logits, neg_L):
    from scipy.special import log_softmax, softmax

    n, K = logits.shape
    q = softmax(logits, axis=1)
    values = np.stack([neg_L(np.full(n, c)) for c in range(K)], axis=1)
    return (q * (values - log_softmax(logits, axis=1))).sum(1)


def classification_loss(logits, y, alpha):
    return alpha * -_log_softmax(logits)[np.arange(len(y)), y].mean()


CORRECT = [
    ("10.labelled_bound", labelled_bound),
    ("10.unlabelled_bound", unlabelled_bound),
    ("10.unlabelled_bound", unlabelled_bound_scipy),
    ("10.classification_loss", classification_loss),
]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("name, fn", CORRECT, ids=[f"{c[0]}-{c[1].__name__}" for c in CORRECT])
def test_ch10_correct_implementations_pass(name, fn, hidden):
    registry.get_check(name).func(fn, hidden=hidden)


# ----------------------------------------------------------------------------------------------
# Typical wrong implementations


def _lb_no_prior(log_px, mu, log_sigma, eps, n_classes):
    return labelled_bound(log_px, mu, log_sigma, eps, n_classes) + np.log(n_classes)


def _lb_kl_over_batch(log_px, mu, log_sigma, eps, n_classes):
    z = mu + np.exp(log_sigma) * eps
    kl = (-log_sigma + 0.5 * (np.exp(2 * log_sigma) + mu**2) - 0.5).sum()
    return log_px(z).mean(0) - np.log(n_classes) - kl


def _lb_variance_as_scale(log_px, mu, log_sigma, eps, n_classes):
    z = mu + np.exp(2 * log_sigma) * eps
    kl = (-log_sigma + 0.5 * (np.exp(2 * log_sigma) + mu**2) - 0.5).sum(-1)
    return log_px(z).mean(0) - np.log(n_classes) - kl


def _ub_no_entropy(logits, neg_L):
    q = np.exp(_log_softmax(logits))
    n, K = logits.shape
    return (q * np.stack([neg_L(np.full(n, c)) for c in range(K)], axis=1)).sum(1)


def _ub_naive_softmax(logits, neg_L):
    q = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    n, K = logits.shape
    values = np.stack([neg_L(np.full(n, c)) for c in range(K)], axis=1)
    return (q * values).sum(1) - (q * np.log(q)).sum(1)


def _ub_argmax_only(logits, neg_L):
    """Plug in the most probable label instead of summing over y."""
    log_q = _log_softmax(logits)
    q = np.exp(log_q)
    return neg_L(logits.argmax(1)) - (q * log_q).sum(1)


def _ub_entropy_sign(logits, neg_L):
    log_q = _log_softmax(logits)
    q = np.exp(log_q)
    n, K = logits.shape
    values = np.stack([neg_L(np.full(n, c)) for c in range(K)], axis=1)
    return (q * values).sum(1) + (q * log_q).sum(1)


def _cl_sum(logits, y, alpha):
    return alpha * -_log_softmax(logits)[np.arange(len(y)), y].sum()


def _cl_naive(logits, y, alpha):
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return alpha * -np.log(p[np.arange(len(y)), y]).mean()


def _cl_no_alpha(logits, y, alpha):
    return -_log_softmax(logits)[np.arange(len(y)), y].mean()


WRONG = [
    ("10.labelled_bound", _lb_no_prior, "log p\\(y\\)"),
    ("10.labelled_bound", _lb_kl_over_batch, "wrong"),
    ("10.labelled_bound", _lb_variance_as_scale, "wrong|expected"),
    ("10.unlabelled_bound", _ub_no_entropy, "entropy"),
    ("10.unlabelled_bound", _ub_naive_softmax, "finite|log-sum-exp"),
    ("10.unlabelled_bound", _ub_argmax_only, "enumerate|wrong"),
    ("10.unlabelled_bound", _ub_entropy_sign, "wrong"),
    ("10.classification_loss", _cl_sum, "average"),
    ("10.classification_loss", _cl_naive, "log-sum-exp|wrong"),
    ("10.classification_loss", _cl_no_alpha, "wrong"),
]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("name, fn, message", WRONG, ids=[f"{w[0]}-{w[1].__name__}" for w in WRONG])
def test_ch10_wrong_implementations_fail(name, fn, message, hidden):
    with pytest.raises(registry.CheckFailed, match=message):
        with np.errstate(all="ignore"):
            registry.get_check(name).func(fn, hidden=hidden)


def test_ch10_hints_are_tiered_and_do_not_give_the_code():
    for name in ("10.labelled_bound", "10.unlabelled_bound", "10.classification_loss"):
        hint = registry.get_check(name).hint
        assert isinstance(hint, tuple) and len(hint) >= 2
        assert "def " not in " ".join(hint)
