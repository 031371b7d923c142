"""Auto-encoders: learn a code z = f(y) from which a decoder g rebuilds the data.

    z = f(y)            (encoder: a deterministic network, no distribution over z)
    ŷ = g(z)            (decoder)

trained by minimising the reconstruction error over the data,

    squared:    L(y) = ‖y − g(f(y))‖²
    bernoulli:  L(y) = −log p(y | g(f(y))) = −Σ_j [y_j η_j − softplus(η_j)],   η = g(f(y)) the logits

(the Bernoulli loss reads the decoder's output as natural parameters: binary cross-entropy).
A *denoising* auto-encoder (Vincent et al., 2008) rebuilds the clean y from a corrupted
copy ỹ ~ c(ỹ | y), L(y) = −log p(y | g(f(ỹ))), so it cannot just learn the identity.

What an auto-encoder lacks (the talk's point): a generative process and a likelihood of the
data, so no principled way to fill in missing pixels, sample new data or compare models;
the latent variable models of ``minivi.models.lvm`` and chapter 09 have all three.
"""
from __future__ import annotations

import numpy as np

import minivi as mv
from minivi import Tensor, nn
from minivi.autodiff.random import default_rng, rng_device

LOSSES = ("squared", "bernoulli")


def mask_noise(y: Tensor, p: float, rng) -> Tensor:
    """Masking noise: each entry is set to 0 with probability p (kept as is otherwise, not rescaled)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"mask_noise needs 0 <= p < 1 (the fraction of entries to drop), got p={p}")
    keep = mv.rand(y.shape, rng=rng, dtype=y.dtype).data >= p
    return mv.where(keep, y, 0.0)


def gaussian_noise(y: Tensor, std: float, rng) -> Tensor:
    """Additive Gaussian noise: ỹ = y + std · ε, ε ~ N(0, I)."""
    if std < 0:
        raise ValueError(f"gaussian_noise needs std >= 0, got std={std}")
    return y + std * mv.randn(y.shape, rng=rng, dtype=y.dtype)


CORRUPTIONS = {"mask": mask_noise, "gaussian": gaussian_noise}


class AutoEncoder(nn.Module):
    """An encoder f and a decoder g (any modules or callables) trained on reconstruction error.

    ``loss="squared"``: the decoder outputs ŷ directly. ``loss="bernoulli"``: the decoder
    outputs logits η and the reconstruction is σ(η) (for data in [0, 1], e.g. MNIST pixels).
    """

    def __init__(self, encoder, decoder, loss: str = "squared"):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        self.encoder, self.decoder, self.loss_type = encoder, decoder, loss

    def _as_tensor(self, y) -> Tensor:
        if isinstance(y, Tensor):
            return y
        params = self.parameters()
        return mv.tensor(y, dtype=params[0].dtype if params else None)

    def encode(self, y) -> Tensor:
        """The code z = f(y)."""
        return self.encoder(self._as_tensor(y))

    def decode(self, z: Tensor) -> Tensor:
        """The reconstruction ŷ = g(z) (σ(g(z)) for the Bernoulli loss: a mean in [0, 1])."""
        out = self.decoder(z)
        return mv.sigmoid(out) if self.loss_type == "bernoulli" else out

    def reconstruct(self, y) -> Tensor:
        """ŷ = g(f(y))."""
        return self.decode(self.encode(y))

    forward = reconstruct

    def reconstruction_loss(self, y_in, y_target) -> Tensor:
        """The mean over data points of the loss of rebuilding ``y_target`` from ``y_in``:
        (1/n) Σ_n ‖y_n − ŷ_n‖², or (1/n) Σ_n −log p(y_n | η_n) with η_n the decoder's logits."""
        y = self._as_tensor(y_target)
        out = self.decoder(self.encode(y_in))
        if out.shape != y.shape:
            raise ValueError(f"the decoder returned shape {out.shape} but the data have shape {y.shape}: "
                             "its last layer must have as many outputs as the data have dimensions")
        # −log p(y | η) = softplus(η) − y η, written out (not distributions.Bernoulli) so that
        # grey levels y ∈ [0, 1] are allowed: then it is the binary cross-entropy.
        per_entry = (y - out) ** 2 if self.loss_type == "squared" else mv.softplus(out) - y * out
        return per_entry.reshape(len(y), -1).sum(axis=1).mean()

    def loss(self, y) -> Tensor:
        """L(y) = reconstruction error of y from y itself, averaged over the batch."""
        return self.reconstruction_loss(y, y)


class DenoisingAutoEncoder(AutoEncoder):
    """An auto-encoder that rebuilds clean data from a corrupted copy.

    ``corruption="mask"`` drops a fraction ``level`` of the entries (sets them to 0);
    ``corruption="gaussian"`` adds N(0, level²) noise. ``rng`` (a Generator or an int
    seed) draws the corruption; the module keeps it, so the sequence is reproducible.
    """

    def __init__(self, encoder, decoder, loss: str = "squared", corruption: str = "mask", level: float = 0.25,
                 *, rng):
        super().__init__(encoder, decoder, loss)
        if corruption not in CORRUPTIONS:
            raise ValueError(f"corruption must be one of {sorted(CORRUPTIONS)}, got {corruption!r}")
        self.corruption, self.level = corruption, float(level)
        self.rng = default_rng(rng) if isinstance(rng, (int, np.integer)) else rng
        rng_device(self.rng)  # a clear TypeError now rather than at the first training step

    def corrupt(self, y) -> Tensor:
        """A corrupted copy ỹ ~ c(ỹ | y)."""
        return CORRUPTIONS[self.corruption](self._as_tensor(y), self.level, self.rng)

    def loss(self, y, corrupt: bool = True) -> Tensor:
        """L(y) = error of rebuilding y from ỹ = corrupt(y); ``corrupt=False`` scores plain reconstruction."""
        y = self._as_tensor(y)
        return self.reconstruction_loss(self.corrupt(y) if corrupt else y, y)

    def _moved_to(self, device: str) -> None:
        if rng_device(self.rng) != device:  # a new generator on the new device, seeded from the old one
            self.rng = default_rng(int(self.rng.integers(2**31)), device=device)
