"""DRAW (Gregor et al. 2015): a recurrent DLGM that draws on a canvas, with and without attention (chapter 12).

    from minivi.models.draw import DRAW
    m = DRAW((28, 28), T=10, z_dim=10, attention=True, rng=mv.default_rng(0))
    loss = -m.elbo(x, rng).mean()             # train with minivi.optim (fit_dlgm works: it calls m.elbo)
    steps = m.sample(16, rng)                 # steps["canvas"]: (T, 16, 28, 28), one canvas per step
"""
from .attention import attention_params, filterbank, read_attention, write_attention
from .model import DRAW

__all__ = ["DRAW", "attention_params", "filterbank", "read_attention", "write_attention"]
