"""Generalised linear models: the talk's link-function table as code.

    η = wᵀx + b,        y ~ p(y | g(η); θ)          g: the inverse link, or "activation"

    from minivi.glm import GLM, simulate_glm, link_table
    print(link_table())                                   # the table, rebuilt from the code
    X, y, w, b = simulate_glm("probit", 2000, 3, rng)
    model = GLM(3, link="probit").fit(X, y, method="newton")

``links`` holds the rows, ``model`` the GLM (maximum likelihood or MAP), ``newton`` the
second-order methods (Newton, IRLS, natural gradient), ``synthetic`` simulated data for
every row and ``bootstrap`` the resampling helper.
"""
from .bootstrap import bootstrap, percentile_interval
from .links import ALIASES, LINKS, Extra, Link, get_link, link_table
from .model import GLM
from .newton import (fisher_matrix, hessian, irls_logistic, minimize_newton, natural_gradient_step, newton_step,
                     value_grad_hessian)
from .synthetic import simulate_glm

__all__ = ["GLM", "Link", "Extra", "LINKS", "ALIASES", "get_link", "link_table", "simulate_glm", "hessian",
           "value_grad_hessian", "newton_step", "minimize_newton", "irls_logistic", "fisher_matrix",
           "natural_gradient_step", "bootstrap", "percentile_interval"]
