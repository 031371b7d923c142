"""Semi-supervised deep generative models (chapter 10; Kingma, Mohamed, Rezende & Welling 2014).

    from minivi.models.ssvae import M2, M1M2, fit_ssvae, labelled_subset, paper_alpha
    m = M2(x_dim=784, n_classes=10, z_dim=50, hidden=(500,), rng=mv.default_rng(0))
    m.labelled_bound(x, y, rng)      # −L(x, y) ≤ log p(x, y), (n,)
    m.unlabelled_bound(x, rng)       # −U(x) ≤ log p(x), y summed out by enumeration, (n,)
    fit_ssvae(m, x_l, y_l, x_u, epochs, rng, alpha=paper_alpha(N, N_l, N_u))
    m.classify(x); m.generate(y, z); m.analogies(x, classes)
"""
from .m1 import M1M2, m1_features
from .m2 import LIKELIHOODS, M2, paper_alpha
from .training import classifier_error, error_rate, fit_classifier, fit_ssvae, labelled_subset, make_baseline

__all__ = ["M2", "M1M2", "LIKELIHOODS", "m1_features", "paper_alpha", "fit_ssvae", "fit_classifier",
           "labelled_subset", "make_baseline", "error_rate", "classifier_error"]
