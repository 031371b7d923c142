"""Checks for chapter 05 (auto-encoders): DAE corruption, the DAE loss, PCA, error on missing pixels.

Each check tests the learner's own function against closed forms or small independent NumPy
computations (Eckart-Young for PCA, ``np.logaddexp`` for the Bernoulli loss), never against
``minivi.models.autoencoder``.
"""

from __future__ import annotations

import numpy as np

import minivi as mv
from minivi.autodiff.tensor import Tensor
from minivi.grading.registry import CheckFailed, register

from . import as_array, assert_close, assert_shape, call, rng, unpack

#: The minivi code that computes what an exercise asks for; the grader makes it raise while that exercise is scored.
FORBIDDEN = {
    "05.corrupt": ["minivi.models.autoencoder.mask_noise", "minivi.models.autoencoder.gaussian_noise",
                   "minivi.models.autoencoder.DenoisingAutoEncoder.corrupt"],
    "05.dae_loss": ["minivi.models.autoencoder.AutoEncoder.reconstruction_loss",
                    "minivi.models.autoencoder.DenoisingAutoEncoder.loss"],
}

# ----------------------------------------------------------------------------------------------
# 05.corrupt


def _corrupt(corrupt, y, p, std, seed):
    out = call(corrupt, y, p=p, std=std, rng=np.random.default_rng(seed), name="corrupt", arg_names=("y",))
    out = as_array(out, f"corrupt(y, p={p}, std={std}, rng)")
    assert_shape(out, y.shape, f"corrupt(y, p={p}, std={std}, rng)", f"for y of shape {y.shape}")
    return out


def _near(value: float, target: float, tol: float) -> bool:
    return abs(value - target) <= tol


@register(
    "05.corrupt",
    points=2,
    hint=(
        'Two independent corruptions per entry: a Bernoulli keep-mask and additive Gaussian noise.',
        "Draw a keep-mask m = rng.random(y.shape) >= p (one independent draw per entry), multiply, then "
        "add std * rng.standard_normal(y.shape) to every entry. Use only the rng you are given, and build a "
        "new array instead of writing into y.",
    ),
)
def _check_corrupt(corrupt, hidden=False):
    r = rng(501, hidden)
    # Shapes are kept, and p = std = 0 leaves the data as it is.
    for shape in [(7,), (3, 4), (2, 3, 5)]:
        y = r.uniform(0.1, 1.0, shape)
        out = _corrupt(corrupt, y, 0.0, 0.0, seed=1)
        if np.all(out == 0):
            raise CheckFailed(f"corrupt(y, p=0, std=0, rng) set every entry of y (shape {shape}) to 0; with p = 0 "
                              "nothing is masked: p is the probability of MASKING an entry")
        assert_close(out, y, "corrupt(y, p=0, std=0, rng)", f"for y of shape {shape} (nothing to corrupt)")

    # Masking alone: a fraction p of the entries is set to 0, each entry independently.
    y = r.uniform(0.5, 1.5, (400, 500))
    p = 0.3
    out = _corrupt(corrupt, y, p, 0.0, seed=2)
    zero = out == 0
    kept = ~zero
    if np.mean(zero.all(axis=1) | kept.all(axis=1)) > 0.01 or np.mean(zero.all(axis=0) | kept.all(axis=0)) > 0.01:
        raise CheckFailed(f"corrupt(y, p={p}, std=0) of shape {y.shape} masks whole rows or columns at once; "
                          "each ENTRY must be masked independently (draw a mask of shape y.shape)")
    if np.array_equal(zero[0], zero[1]):
        raise CheckFailed(f"corrupt(y, p={p}, std=0): rows 0 and 1 got exactly the same mask; each entry must be "
                          "masked independently (draw a mask of shape y.shape, not of one row's shape)")
    frac = float(zero.mean())
    if not _near(frac, p, 0.006):  # 200,000 entries: the standard error is 0.001
        why = " (that is 1 - p: p is the probability of MASKING an entry)" if _near(frac, 1 - p, 0.006) else ""
        raise CheckFailed(f"corrupt(y, p={p}, std=0) on 200,000 non-zero entries set a fraction {frac:.4f} "
                          f"of them to 0; expected about {p}{why}")
    if not np.array_equal(out[kept], y[kept]):
        i = tuple(int(v) for v in np.argwhere(kept & (out != y))[0])
        ratio = out[i] / y[i]
        extra = (f" (scaled by {ratio:.4g}: masking noise does not rescale the kept entries, unlike "
                 "inverted dropout)") if np.isfinite(ratio) else ""
        raise CheckFailed(f"corrupt(y, p={p}, std=0): kept entries must stay exactly as they were; at index {i} "
                          f"y was {y[i]:.6g}, got {out[i]:.6g}{extra}")

    # Gaussian noise alone: ỹ - y has mean 0 and standard deviation std.
    y = np.full((400, 500), 2.0)
    std = 0.5
    noise = _corrupt(corrupt, y, 0.0, std, seed=3) - y
    mean, sd = float(noise.mean()), float(noise.std())
    if not (_near(mean, 0.0, 0.006) and _near(sd, std, 0.006)):
        raise CheckFailed(f"corrupt(y, p=0, std={std}) on 200,000 entries: the noise ỹ - y has mean {mean:.4f} and "
                          f"standard deviation {sd:.4f}; expected mean 0 and standard deviation {std} "
                          "(std is the standard deviation, not the variance)")

    # Both: mask first, then add noise to every entry (the masked ones too).
    y = np.full((400, 500), 5.0)
    p, std = 0.4, 0.1
    out = _corrupt(corrupt, y, p, std, seed=4)
    low = out < 2.5
    frac = float(low.mean())
    if not _near(frac, p, 0.006):
        raise CheckFailed(f"corrupt(y, p={p}, std={std}) with every y = 5: a fraction {frac:.4f} of the entries is "
                          f"near 0 (masked); expected about {p}")
    sd_masked, sd_kept = float(out[low].std()), float(out[~low].std())
    if not (_near(sd_masked, std, 0.006) and _near(sd_kept, std, 0.006)):
        raise CheckFailed(f"corrupt(y, p={p}, std={std}) with every y = 5: the masked entries have standard "
                          f"deviation {sd_masked:.4f} and the kept ones {sd_kept:.4f}; both should be {std}: "
                          "mask first, then add the noise to every entry, ỹ = m ⊙ y + std · ε")

    # Reproducible from the seed, and different for the next draw of the same generator.
    y = r.uniform(0.1, 1.0, (20, 30))
    first, again = (_corrupt(corrupt, y, 0.5, 0.2, seed=5) for _ in range(2))
    if not np.array_equal(first, again):
        raise CheckFailed("corrupt(y, p=0.5, std=0.2, rng=np.random.default_rng(5)) gave different results in two "
                          "calls with the same seed: draw every random number from the rng argument "
                          "(rng.random, rng.standard_normal), never from np.random.*")
    g = np.random.default_rng(6)
    a = as_array(call(corrupt, y, p=0.5, std=0.2, rng=g, name="corrupt", arg_names=("y",)), "corrupt(...)")
    b = as_array(call(corrupt, y, p=0.5, std=0.2, rng=g, name="corrupt", arg_names=("y",)), "corrupt(...)")
    if np.array_equal(a, b):
        raise CheckFailed("two calls of corrupt with the SAME generator gave identical results: draw from the rng "
                          "you are given (do not make a new generator from a fixed seed inside corrupt)")


# ----------------------------------------------------------------------------------------------
# 05.dae_loss


def _np_loss(eta: np.ndarray, y: np.ndarray, kind: str) -> float:
    per_entry = (y - eta) ** 2 if kind == "squared" else np.logaddexp(0.0, eta) - y * eta
    return float(per_entry.sum(axis=1).mean())


def _np_grad_eta(eta: np.ndarray, y: np.ndarray, kind: str) -> np.ndarray:
    """dL/dη of L = (1/n) Σ_n Σ_j ℓ(y_nj, η_nj)."""
    g = 2 * (eta - y) if kind == "squared" else np.exp(-np.logaddexp(0.0, -eta)) - y  # σ(η) − y, no overflow
    return g / len(y)


def _scalar(out, what: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise CheckFailed(f"{what} returned {type(out).__name__}, not a minivi Tensor: build the loss from mv "
                          "operations on the tensors (no .numpy() or np.*), so that .backward() can train the model")
    if out.size != 1:
        raise CheckFailed(f"{what} returned a tensor of shape {out.shape}; it must be a scalar: sum over the "
                          "pixels, then average over the data points")
    return out


def _diagnose_value(got: float, eta_clean_in, eta, y, y_tilde, kind: str) -> str:
    """A hint for a wrong loss value, from the usual mistakes."""
    n, d = y.shape
    expected = _np_loss(eta, y, kind)
    guesses = [
        (_np_loss(eta, y_tilde, kind), "you compared the reconstruction with the CORRUPTED ỹ; the target must be the "
                                       "clean y (the point of a denoising auto-encoder)"),
        (_np_loss(eta_clean_in, y, kind), "you encoded the clean y; the encoder must see the corrupted ỹ"),
        (expected / d, "you averaged over the pixels too; sum over the pixels, average over the data points"),
        (expected * n, "you summed over the data points; average over them"),
    ]
    if kind == "bernoulli":
        guesses.append((_np_loss(eta, 1 - y, kind), "the signs of y and 1 - y are swapped: "
                                                    "−log p(y | η) = softplus(η) − y η"))
    for value, why in guesses:
        if np.isclose(got, value, rtol=1e-6):
            return f"; {why}"
    return ""


def _run_loss(dae_loss, kind, encoder, decoder, Y, Yt, what):
    before = (Y.data.copy(), Yt.data.copy())
    out = dae_loss(encoder, decoder, Y, Yt, kind=kind)
    if not (np.array_equal(Y.data, before[0]) and np.array_equal(Yt.data, before[1])):
        raise CheckFailed(f"{what} changed y or y_tilde in place; leave the data as it is")
    return _scalar(out, what)


@register(
    "05.dae_loss",
    points=3,
    hint=(
        'Encode the corrupted input, decode, and compare with the CLEAN input.',
        "η = decoder(encoder(y_tilde)); per entry (y − η)² or softplus(η) − y·η (mv.softplus is stable for "
        "any η, log(sigmoid(η)) is not); then .sum(axis=1).mean(). The target is the clean y.",
    ),
)
def _check_dae_loss(dae_loss, hidden=False):
    if not callable(dae_loss):
        raise CheckFailed(f"expected your function dae_loss, got {type(dae_loss).__name__}")
    r = rng(502, hidden)
    n, d, k = 6, 5, 3
    with mv.default_dtype("float64"):
        A = mv.tensor(r.standard_normal((d, k)), requires_grad=True)
        B = mv.tensor(r.standard_normal((k, d)), requires_grad=True)
        c = mv.tensor(r.standard_normal(d), requires_grad=True)

        def encoder(t):
            return mv.tanh(t @ A)

        def decoder(z):
            return z @ B + c

        y = r.uniform(0.0, 1.0, (n, d))
        y[:2] = (y[:2] > 0.5).astype(float)  # binary rows and grey rows
        y_tilde = np.where(r.random((n, d)) < 0.4, 0.0, y) + 0.1 * r.standard_normal((n, d))
        eta = np.tanh(y_tilde @ A.numpy()) @ B.numpy() + c.numpy()
        eta_clean_in = np.tanh(y @ A.numpy()) @ B.numpy() + c.numpy()
        for kind in ("squared", "bernoulli"):
            what = f"dae_loss(encoder, decoder, y, y_tilde, kind={kind!r})"
            A.grad = B.grad = c.grad = None
            out = _run_loss(dae_loss, kind, encoder, decoder, mv.tensor(y), mv.tensor(y_tilde), what)
            got, expected = float(out.item()), _np_loss(eta, y, kind)
            if not np.isclose(got, expected, rtol=1e-8, atol=1e-10):
                raise CheckFailed(f"{what} for a batch of {n} data points with {d} pixels: expected {expected:.6g}, "
                                  f"got {got:.6g}{_diagnose_value(got, eta_clean_in, eta, y, y_tilde, kind)}")
            if out.requires_grad:
                out.backward()
            if c.grad is None:
                raise CheckFailed(f"after {what}.backward() the decoder's parameters have no gradient: the loss "
                                  "must be computed with mv operations all the way (no .numpy(), .data or np.*)")
            assert_close(c.grad.numpy(), _np_grad_eta(eta, y, kind).sum(axis=0),
                         "the gradient of the loss for the decoder's bias", f"after {what}.backward()", rtol=1e-6)

    # Extreme logits, in float32 as in training: softplus(η) − yη stays finite where log σ(η) overflows.
    logits = np.array([-1000.0, -60.0, -20.0, 0.0, 20.0, 60.0, 1000.0])
    y = np.array([[1.0, 1.0, 0.0, 0.5, 1.0, 0.0, 0.0],
                  [0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]])

    def encoder0(t):
        return t[:, :1] * 0.0

    def decoder0(z):
        return z + bias

    what = ("dae_loss(encoder, decoder, y, y_tilde, kind='bernoulli') "
            "for logits η = ±1000, ±60, ±20, 0 (float32)")
    with mv.default_dtype("float32"):
        bias = mv.tensor(logits, requires_grad=True)
        out = _run_loss(dae_loss, "bernoulli", encoder0, decoder0, mv.tensor(y), mv.tensor(y), what)
    eta = np.broadcast_to(logits, y.shape)
    got, expected = float(out.item()), _np_loss(eta, y, "bernoulli")
    if not np.isfinite(got):
        raise CheckFailed(f"{what} is {got}: log(sigmoid(η)) or log(1 − sigmoid(η)) overflows for large |η|; "
                          "write −log p(y | η) = softplus(η) − y·η (mv.softplus is stable)")
    if not np.isclose(got, expected, rtol=1e-5):
        raise CheckFailed(f"{what}: expected {expected:.6g}, got {got:.6g}; −log p(y | η) must be exact for any η, "
                          "e.g. 1000 for y = 1, η = −1000")
    if out.requires_grad:
        out.backward()
    if bias.grad is None:
        raise CheckFailed(f"after {what}.backward() the decoder's bias has no gradient: use mv operations only")
    g = bias.grad.numpy()
    if not np.all(np.isfinite(g)):
        j = int(np.argmax(~np.isfinite(g)))
        raise CheckFailed(f"after {what}.backward() the gradient for η = {logits[j]:g} is {g[j]}; use the stable "
                          "form softplus(η) − y·η, whose gradient σ(η) − y is finite everywhere")
    assert_close(g, _np_grad_eta(eta, y, "bernoulli").sum(axis=0), "the gradient for the logits", f"after {what}",
                 rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# 05.pca


def _pca_data(r, n, d):
    scales = np.geomspace(5.0, 0.2, d)  # distinct variances: the top-k subspace is well defined
    rotation, _ = np.linalg.qr(r.standard_normal((d, d)))
    return (r.standard_normal((n, d)) * scales) @ rotation.T + r.uniform(-3, 3, d)


@register(
    "05.pca",
    points=2,
    hint=(
        'The principal directions are the top right-singular vectors of the centred data.',
        "Centre the data with its column means, take the SVD of the centred data, x_c = U S Vᵀ, and return the mean "
        "and the first k rows of Vᵀ as columns (shape (d, k)): the directions of largest variance.",
    ),
)
def _check_pca(pca, hidden=False):
    r = rng(503, hidden)
    for n, d, k in [(200, 6, 1), (200, 6, 3), (50, 10, 4), (300, 5, 5)]:
        x = _pca_data(r, n, d)
        context = f"for x of shape {x.shape} and k={k}"
        mean, V = unpack(call(pca, x, k, name="pca", arg_names=("x", "k")), ("mean", "V"), f"pca(x, {k})")
        mean, V = as_array(mean, "mean"), as_array(V, "V")
        assert_close(mean, x.mean(axis=0), "mean (the column means of x)", context)
        if V.shape == (k, d) and k != d:
            raise CheckFailed(f"V has shape {V.shape} {context}; it should be (d, k) = {(d, k)}: the components "
                              "are its COLUMNS (transpose the rows of Vᵀ)")
        if V.shape == (n, k):
            raise CheckFailed(f"V has shape {V.shape} {context}; it should be (d, k) = {(d, k)}: the directions "
                              "live in pixel space, they are the rows of Vᵀ, not the columns of U")
        assert_shape(V, (d, k), "V", context)
        gram = V.T @ V
        if not np.allclose(gram, np.eye(k), atol=1e-6):
            i, j = np.unravel_index(int(np.argmax(np.abs(gram - np.eye(k)))), gram.shape)
            raise CheckFailed(f"the columns of V must be orthonormal (VᵀV = I) {context}; (VᵀV)[{i}, {j}] = "
                              f"{gram[i, j]:.4g}")
        # Eckart-Young: the best rank-k reconstruction error is the sum of the discarded squared singular values.
        xc = x - x.mean(axis=0)
        best = float(np.sum(np.linalg.svd(xc, compute_uv=False)[k:] ** 2) / n)
        got = float(np.sum((xc - xc @ V @ V.T) ** 2) / n)
        if not np.isclose(got, best, rtol=1e-6, atol=1e-9):
            raise CheckFailed(f"the reconstruction x̂ = mean + (x − mean) V Vᵀ has mean squared error {got:.6g} "
                              f"per data point {context}, but the best k-dimensional subspace gives {best:.6g}: use "
                              "the directions of LARGEST variance of the CENTRED data")


# ----------------------------------------------------------------------------------------------
# 05.masked_error


@register(
    "05.masked_error",
    points=1,
    hint=(
        'Only the missing pixels count; mask is True where a pixel is observed.',
        "mask is True where a pixel was observed: square the errors, keep the entries where mask is False, "
        "sum over the pixels of each image and average over the images.",
    ),
)
def _check_masked_error(masked_error, hidden=False):
    r = rng(504, hidden)
    for n, d in [(5, 8), (1, 3), (40, 20)]:
        x, recon = r.uniform(0, 1, (n, d)), r.uniform(0, 1, (n, d))
        mask = r.random((n, d)) < 0.6
        mask[0, 0], mask[0, 1] = True, False  # at least one of each
        context = f"for x of shape {x.shape} with {int((~mask).sum())} missing pixels"
        got = as_array(call(masked_error, x, recon, mask, name="masked_error", arg_names=("x", "recon", "mask")),
                       "masked_error(x, recon, mask)")
        if got.size != 1:
            raise CheckFailed(f"masked_error(x, recon, mask) returned shape {got.shape} {context}; it must be one "
                              "number: the average over the images")
        sq = (x - recon) ** 2
        expected = float((sq * ~mask).sum(axis=1).mean())
        value = float(got.reshape(-1)[0])
        if np.isclose(value, expected, rtol=1e-8):
            continue
        why = ""
        if np.isclose(value, float((sq * mask).sum(axis=1).mean()), rtol=1e-8):
            why = "; you used the OBSERVED pixels: mask is True where a pixel is observed, the error is on the others"
        elif np.isclose(value, float(sq[~mask].mean()), rtol=1e-8):
            why = "; you averaged over the missing pixels: sum over the pixels of each image, average over images"
        elif np.isclose(value, float((np.abs(x - recon) * ~mask).sum(axis=1).mean()), rtol=1e-8):
            why = "; that is the absolute error: square the differences"
        raise CheckFailed(f"masked_error(x, recon, mask) {context}: expected {expected:.6g}, got {value:.6g}{why}")


# ----------------------------------------------------------------------------------------------
# 05.reconstruction_errors: how the linear auto-encoder's error falls with the code size k


@register(
    "05.reconstruction_errors",
    points=2,
    hint=("Fit on the training rows, measure on the validation rows: one error per k.",
          "For each k: mean, V = pca(x_train, k); centre x_valid with the TRAINING mean, project onto V and back "
          "(x̂ = mean + (x − mean) V Vᵀ), and average the per-row sum of squared errors."),
)
def _check_reconstruction_errors(reconstruction_errors, hidden=False):
    r = rng(505, hidden)
    cases = [(120, 40, 8, 3), (60, 30, 5, 2)] if not hidden else [(90, 25, 7, 4), (200, 50, 10, 1)]
    for n_train, n_valid, d, rank in cases:
        basis = r.standard_normal((rank, d)) * 3.0
        mean = r.uniform(-2, 2, d)
        x = r.standard_normal((n_train + n_valid, rank)) @ basis + mean + 0.05 * r.standard_normal((n_train + n_valid, d))
        x_train, x_valid = x[:n_train], x[n_train:]
        ks = list(range(1, d + 1))
        context = f"for x_train of shape {x_train.shape}, x_valid of shape {x_valid.shape} (data of rank {rank} plus noise)"
        got = as_array(call(reconstruction_errors, x_train, x_valid, ks, name="reconstruction_errors",
                            arg_names=("x_train", "x_valid", "ks")), "reconstruction_errors(x_train, x_valid, ks)")
        assert_shape(got, (len(ks),), "reconstruction_errors(x_train, x_valid, ks)", f"{context}: one error per k")
        # Properties, not a reference: the subspaces are nested, so the error never grows with k; with
        # k = d nothing is discarded; and past the data's rank only the small noise is left.
        rises = np.flatnonzero(np.diff(got) > 1e-9 * max(1.0, float(got[0])))
        if rises.size:
            i = int(rises[0])
            raise CheckFailed(f"the error grows from k = {ks[i]} ({got[i]:.6g}) to k = {ks[i + 1]} ({got[i + 1]:.6g}) "
                              f"{context}; PCA's subspaces are nested, so it never does")
        if abs(got[-1]) > 1e-8 * max(1.0, float(np.sum(x_valid ** 2) / n_valid)):
            raise CheckFailed(f"with k = d = {d} the error should be 0 (nothing is discarded), got {got[-1]:.3g} "
                              f"{context}: reconstruct x̂ = mean + (x − mean) V Vᵀ")
        total = float(np.sum((x_valid - x_train.mean(axis=0)) ** 2) / n_valid)   # the error with k = 0
        if not got[rank - 1] < 0.05 * total:
            raise CheckFailed(f"{context}: at k = {rank} the error is still {got[rank - 1]:.4g}; for data of rank "
                              f"{rank} nearly all of it should be gone there")
        # On the training data itself the error is the sum of the discarded eigenvalues (Eckart-Young).
        train_err = as_array(call(reconstruction_errors, x_train, x_train, ks, name="reconstruction_errors"),
                             "reconstruction_errors(x_train, x_train, ks)")
        eig = np.linalg.svd(x_train - x_train.mean(axis=0), compute_uv=False) ** 2 / n_train
        expected = np.array([eig[k:].sum() for k in ks])
        assert_close(train_err, expected, "reconstruction_errors(x_train, x_train, ks)",
                     f"{context} (on the training data: the sum of the discarded eigenvalues of the covariance, "
                     "with the mean over rows)", rtol=1e-6, atol=1e-9)
