"""Models built on the engine, one per chapter of the talk.

- ``minivi.models.autoencoder``: auto-encoders and denoising auto-encoders (chapter 05)
- ``minivi.models.lvm``: PPCA, factor analysis, exponential-family PCA (chapter 06)
- ``minivi.models.SBN``: a sigmoid belief network trained by NVIL (chapter 08)
- ``minivi.models.DLGM``: deep latent Gaussian models, the VAE among them (chapter 09)
- ``minivi.models.M2``, ``minivi.models.M1M2``: semi-supervised DLGMs (chapter 10)
- ``minivi.models.bnn``: Bayes by backprop, MC dropout, Hamiltonian Monte Carlo (chapter 11)
- ``minivi.models.FlowDLGM``: a DLGM whose posterior is pushed through normalising flows (chapter 12)
- ``minivi.models.DRAW``: the recurrent, attentive DRAW model (chapter 12)

Import the one you need, e.g. ``from minivi.models.lvm import PPCA`` or ``from minivi.models import DLGM``.
"""
from .dlgm import DLGM  # noqa: F401
from .draw import DRAW  # noqa: F401
from .flow_dlgm import FlowDLGM  # noqa: F401
from .sbn import SBN  # noqa: F401
from .ssvae import M1M2, M2  # noqa: F401
