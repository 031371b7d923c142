"""M1 and the stacked M1+M2 (Kingma et al. 2014).

M1 is a DLGM (chapter 09, ``minivi.models.DLGM``) trained on every digit, labelled or not; the means of
its posterior q(z₁ | x) are features on which a classifier is trained with the labelled digits alone. The
features make the classes easier to separate than the pixels (digits of a class lie close in z₁).

M1+M2 stacks the two: M2 (``M2(likelihood="gaussian")``) models M1's features z₁ instead of the pixels,

    p(x, z₁, y, z₂) = p(x | z₁) p(z₁ | y, z₂) p(y) p(z₂),     q = q(z₁ | x) q(y | z₁) q(z₂ | y, z₁),

trained layer by layer as in the paper: first M1 by its free energy, then M2 on the features.
Here the features are the posterior means of q(z₁ | x) (the paper draws z₁ ~ q(z₁ | x)).
"""
from __future__ import annotations

import numpy as np

import minivi as mv
from minivi.models.dlgm import DLGM

from .m2 import M2


def m1_features(dlgm: DLGM, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """M1's features: the posterior means of q(z₁ | x), array (n, z_dims[0])."""
    return np.concatenate([dlgm.encode(x[i:i + batch_size])[0] for i in range(0, len(x), batch_size)])


class M1M2:
    """The stacked model: a trained M1 (a ``DLGM``) below an M2 over its features.

    ``classify(x)`` = M2's q(y | z₁) at z₁ = the mean of q(z₁ | x); ``generate(y, z)`` decodes z (M2's style)
    with label y to z₁ and z₁ to pixels with M1's decoder; ``analogies`` likewise.
    """

    def __init__(self, m1: DLGM, m2: M2):
        if m2.x_dim != m1.z_dims[0]:
            raise ValueError(f"M1+M2: M2 must model M1's features, x_dim={m1.z_dims[0]}, got M2(x_dim={m2.x_dim})")
        self.m1, self.m2 = m1, m2

    def features(self, x: np.ndarray) -> np.ndarray:
        return m1_features(self.m1, x)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.m2.predict_proba(self.features(x))

    def classify(self, x: np.ndarray) -> np.ndarray:
        return self.m2.classify(self.features(x))

    def generate(self, y, z) -> np.ndarray:
        return self.m1.decode(self.m2.generate(y, z).astype(np.float32))

    def analogies(self, x: np.ndarray, classes=None) -> np.ndarray:
        f = self.features(x)
        out = self.m2.analogies(f, classes)                      # (n, C, z1_dim)
        n, C, d = out.shape
        return self.m1.decode(out.reshape(n * C, d).astype(np.float32)).reshape(n, C, -1)
