"""Chapter 05's checks: right implementations pass, typical wrong ones fail with a message that helps."""
from __future__ import annotations

import numpy as np
import pytest

import minivi as mv
from minivi.grading import registry

# ----------------------------------------------------------------------------------------------
# Right implementations (written here, independently of the solutions notebook)


def corrupt(y, p, std, rng):
    keep = rng.random(np.shape(y)) >= p
    return np.where(keep, y, 0.0) + std * rng.standard_normal(np.shape(y))


def dae_loss(encoder, decoder, y, y_tilde, kind="bernoulli"):
    eta = decoder(encoder(y_tilde))
    per_entry = (y - eta) ** 2 if kind == "squared" else mv.softplus(eta) - y * eta
    return per_entry.sum(axis=1).mean()


def pca(x, k):
    mean = x.mean(axis=0)
    return mean, np.linalg.svd(x - mean, full_matrices=False)[2][:k].T


def masked_error(x, recon, mask):
    return float((((x - recon) ** 2) * ~mask).sum(axis=1).mean())


def dae_loss_log_sigmoid(encoder, decoder, y, y_tilde, kind="bernoulli"):
    """Also right: −[y log σ(η) + (1 − y) log σ(−η)] with the stable log σ."""
    eta = decoder(encoder(y_tilde))
    if kind == "squared":
        return ((y - eta) ** 2).sum(axis=1).mean()
    return -(y * mv.log_sigmoid(eta) + (1 - y) * mv.log_sigmoid(-eta)).sum(axis=1).mean()


def pca_flipped_signs(x, k):
    """Also right: any orthonormal basis of the top-k subspace."""
    mean, V = pca(x, k)
    return mean, -V


@pytest.mark.parametrize("name, fn", [
    ("05.corrupt", corrupt), ("05.dae_loss", dae_loss), ("05.dae_loss", dae_loss_log_sigmoid),
    ("05.pca", pca), ("05.pca", pca_flipped_signs), ("05.masked_error", masked_error),
])
def test_right_implementations_pass(name, fn):
    result = registry.run_check(name, fn)
    assert result.status == "passed", result.message
    hidden = registry.run_check(name, fn, hidden=True)
    assert hidden.status == "passed", hidden.message


def test_points_total_8():
    assert {c.name: c.points for c in registry.checks_for_chapter("05")} == {
        "05.corrupt": 2, "05.dae_loss": 3, "05.pca": 2, "05.masked_error": 1, "05.reconstruction_errors": 2}


# ----------------------------------------------------------------------------------------------
# Wrong implementations


def corrupt_noise_then_mask(y, p, std, rng):
    noisy = y + std * rng.standard_normal(np.shape(y))
    return np.where(rng.random(np.shape(y)) >= p, noisy, 0.0)


def corrupt_keep_with_p(y, p, std, rng):
    return np.where(rng.random(np.shape(y)) < p, y, 0.0) + std * rng.standard_normal(np.shape(y))


def corrupt_rescaled(y, p, std, rng):
    return np.where(rng.random(np.shape(y)) >= p, y / (1 - p), 0.0) + std * rng.standard_normal(np.shape(y))


def corrupt_global_rng(y, p, std, rng):
    return np.where(np.random.random(np.shape(y)) >= p, y, 0.0) + std * np.random.standard_normal(np.shape(y))


def corrupt_fixed_seed(y, p, std, rng):
    return corrupt(y, p, std, np.random.default_rng(0))


def corrupt_in_place(y, p, std, rng):
    y[rng.random(y.shape) < p] = 0.0
    y += std * rng.standard_normal(y.shape)
    return y


def corrupt_one_row_mask(y, p, std, rng):
    keep = rng.random(np.shape(y)[-1]) >= p
    return np.where(keep, y, 0.0) + std * rng.standard_normal(np.shape(y))


def corrupt_variance(y, p, std, rng):
    return corrupt(y, p, std**2, rng)


def dae_loss_noisy_target(encoder, decoder, y, y_tilde, kind="bernoulli"):
    return dae_loss(encoder, decoder, y_tilde, y_tilde, kind)


def dae_loss_clean_input(encoder, decoder, y, y_tilde, kind="bernoulli"):
    return dae_loss(encoder, decoder, y, y, kind)


def dae_loss_mean_over_pixels(encoder, decoder, y, y_tilde, kind="bernoulli"):
    eta = decoder(encoder(y_tilde))
    per_entry = (y - eta) ** 2 if kind == "squared" else mv.softplus(eta) - y * eta
    return per_entry.mean()


def dae_loss_naive_log(encoder, decoder, y, y_tilde, kind="bernoulli"):
    eta = decoder(encoder(y_tilde))
    if kind == "squared":
        return ((y - eta) ** 2).sum(axis=1).mean()
    q = mv.sigmoid(eta)
    return -(y * mv.log(q) + (1 - y) * mv.log(1 - q)).sum(axis=1).mean()


def dae_loss_numpy(encoder, decoder, y, y_tilde, kind="bernoulli"):
    eta = decoder(encoder(y_tilde)).numpy()
    yn = y.numpy()
    per_entry = (yn - eta) ** 2 if kind == "squared" else np.logaddexp(0, eta) - yn * eta
    return mv.tensor(per_entry.sum(axis=1).mean())


def pca_uncentred(x, k):
    return x.mean(axis=0), np.linalg.svd(x, full_matrices=False)[2][:k].T


def pca_rows(x, k):
    mean = x.mean(axis=0)
    return mean, np.linalg.svd(x - mean, full_matrices=False)[2][:k]


def pca_u(x, k):
    mean = x.mean(axis=0)
    return mean, np.linalg.svd(x - mean, full_matrices=False)[0][:, :k]


def pca_smallest(x, k):
    mean = x.mean(axis=0)
    return mean, np.linalg.svd(x - mean, full_matrices=False)[2][-k:].T


def masked_error_observed(x, recon, mask):
    return masked_error(x, recon, ~mask)


def masked_error_per_pixel(x, recon, mask):
    return float(((x - recon) ** 2)[~mask].mean())


def masked_error_abs(x, recon, mask):
    return float((np.abs(x - recon) * ~mask).sum(axis=1).mean())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the naive log(sigmoid) overflows, as it should
@pytest.mark.parametrize("name, fn, fragment", [
    ("05.corrupt", corrupt_noise_then_mask, "mask first, then add the noise to every entry"),
    ("05.corrupt", corrupt_keep_with_p, "p is the probability of MASKING"),
    ("05.corrupt", corrupt_rescaled, "does not rescale the kept entries"),
    ("05.corrupt", corrupt_global_rng, "never from np.random"),
    ("05.corrupt", corrupt_fixed_seed, "SAME generator gave identical results"),
    ("05.corrupt", corrupt_in_place, "changed its input y in place"),
    ("05.corrupt", corrupt_one_row_mask, "each ENTRY must be masked independently"),
    ("05.corrupt", corrupt_variance, "not the variance"),
    ("05.dae_loss", dae_loss_noisy_target, "the target must be the clean y"),
    ("05.dae_loss", dae_loss_clean_input, "the encoder must see the corrupted"),
    ("05.dae_loss", dae_loss_mean_over_pixels, "sum over the pixels, average over the data points"),
    ("05.dae_loss", dae_loss_naive_log, "softplus"),
    ("05.dae_loss", dae_loss_numpy, "have no gradient"),
    ("05.pca", pca_uncentred, "CENTRED"),
    ("05.pca", pca_rows, "are its COLUMNS"),
    ("05.pca", pca_u, "not the columns of U"),
    ("05.pca", pca_smallest, "LARGEST variance"),
    ("05.masked_error", masked_error_observed, "you used the OBSERVED pixels"),
    ("05.masked_error", masked_error_per_pixel, "sum over the pixels of each image"),
    ("05.masked_error", masked_error_abs, "square the differences"),
])
def test_wrong_implementations_fail_with_a_useful_message(name, fn, fragment):
    result = registry.run_check(name, fn)
    assert result.status == "failed", (result.status, result.message)
    assert fragment in result.message, result.message


def test_messages_name_inputs_and_values():
    message = registry.run_check("05.dae_loss", dae_loss_noisy_target).message
    assert "kind='squared'" in message and "expected" in message and "got" in message
    message = registry.run_check("05.masked_error", masked_error_observed).message
    assert "expected" in message and "missing pixels" in message


def test_stubs_are_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError("exercise 05.x: fill in this function")

    for check in registry.checks_for_chapter("05"):
        assert registry.run_check(check.name, stub).status == "not implemented"


def reconstruction_errors(x_train, x_valid, ks):
    out = []
    for k in ks:
        mean, V = pca(x_train, k)
        centred = x_valid - mean
        out.append(np.sum((centred - centred @ V @ V.T) ** 2) / len(x_valid))
    return np.array(out)


@pytest.mark.parametrize("hidden", [False, True])
def test_reconstruction_errors_right(hidden):
    assert registry.run_check("05.reconstruction_errors", reconstruction_errors, hidden=hidden).passed


@pytest.mark.parametrize("fn, fragment", [
    (lambda a, b, ks: reconstruction_errors(a, b, ks)[::-1], "the error grows"),
    (lambda a, b, ks: 2 * reconstruction_errors(a, b, ks), "sum of the discarded eigenvalues"),
    (lambda a, b, ks: reconstruction_errors(a, b, ks)[:-1], "one error per k"),
    (lambda a, b, ks: np.array([np.sum((b - b.mean(0)) ** 2) / len(b)] * len(ks)) * np.linspace(1, 0.9, len(ks)),
     "error should be 0"),
])
def test_reconstruction_errors_wrong(fn, fragment):
    result = registry.run_check("05.reconstruction_errors", fn)
    assert result.status == "failed" and fragment in result.message, result.message
