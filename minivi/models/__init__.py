"""Models built on the engine, one per chapter of the talk.

``minivi.models.lvm`` (PPCA, factor analysis, exponential-family PCA) and
``minivi.models.autoencoder`` (auto-encoders, denoising auto-encoders). Import the one you
need, e.g. ``from minivi.models.lvm import PPCA``.
"""
from .sbn import SBN  # noqa: E402,F401 - chapter 08: sigmoid belief network trained by NVIL
from .dlgm import DLGM  # noqa: E402,F401 - chapter 09
from .ssvae import M2, M1M2  # noqa: E402,F401 - chapter 10
