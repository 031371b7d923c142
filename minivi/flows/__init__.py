"""Normalising flows (Rezende & Mohamed 2015): the talk's "better inference".

    from minivi import flows
    f = flows.Planar(dim=2, rng=rng)                 # also flows.Radial(dim, rng=rng)
    z_out, log_det = f(z)                            # z (batch, dim) -> (batch, dim), log|det ∂z_out/∂z| (batch,)
    flow = flows.Flow([flows.Planar(2, rng=rng) for _ in range(8)])     # composition, same call
    q = flows.FlowGaussian(2, flow)                  # a variational family: q() is a FlowPosterior
    F = vi.free_energy(lambda z: -flows.U1(z), q(), None, rng, 100, kl="mc")   # plugs into minivi.vi
"""
from .densities import ENERGIES, U1, U2, U3, U4
from .flow import Flow
from .planar import Planar, planar, planar_u_hat
from .posterior import FlowGaussian, FlowPosterior
from .radial import Radial, radial, radial_alpha_beta

__all__ = ["Flow", "Planar", "Radial", "planar", "planar_u_hat", "radial", "radial_alpha_beta", "FlowGaussian",
           "FlowPosterior", "ENERGIES", "U1", "U2", "U3", "U4"]
