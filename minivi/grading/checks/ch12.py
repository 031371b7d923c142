"""Public checks for chapter 12 (normalising flows and DRAW).

* 12.planar_flow: the planar map f(z) = z + u tanh(wᵀz + b) against the definition, and its log-determinant
  against the brute-force one: a central-difference Jacobian of the learner's own map, then NumPy's slogdet
  (including near the invertibility boundary wᵀu → −1).
* 12.flow_free_energy: F = mean_s[log p(y, z_K) − log q_0(z_0) + Σ log det]. Exact case: an affine flow that maps
  q_0 onto a Gaussian target makes every log weight equal log Z, so F = log Z for any draws; a planar flow case is
  compared with the same formula written here from its parts.
* 12.filterbank: DRAW's Gaussian filters against an element-by-element construction, and the glimpse F_Y x F_Xᵀ
  they give against the direct convolution sum Σ_a Σ_b F_Y[j, b] x[b, a] F_X[i, a].

3 + 4 + 3 = 10 points.
"""
from __future__ import annotations

import numpy as np

from ..registry import CheckFailed, register
from . import as_array, assert_close, assert_shape, call, rng, unpack

#: minivi functions that compute the graded quantities: the grader makes them raise while grading.
FORBIDDEN = {
    "12.planar_flow": ["minivi.flows.planar", "minivi.flows.planar_u_hat", "minivi.flows.Planar.forward",
                       "minivi.flows.Flow.forward", "minivi.jacobian"],
    "12.flow_free_energy": ["minivi.flows.FlowPosterior.rsample_with_log_prob", "minivi.flows.FlowPosterior.log_prob",
                            "minivi.vi.free_energy", "minivi.models.flow_dlgm.FlowDLGM.elbo"],
    "12.filterbank": ["minivi.models.draw.filterbank", "minivi.models.draw.attention.filterbank",
                      "minivi.models.draw.read_attention", "minivi.models.draw.attention.read_attention"],
}

LOG_2PI = np.log(2 * np.pi)


# ----------------------------------------------------------------------------------------------
# 12.planar_flow


def _brute_log_det(fmap, z_row: np.ndarray, h: float = 1e-6) -> float:
    """log|det J| of fmap at one point: central differences column by column, then slogdet."""
    d = len(z_row)
    J = np.zeros((d, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = h
        J[:, j] = (fmap(z_row + e) - fmap(z_row - e)) / (2 * h)
    return float(np.linalg.slogdet(J)[1])


@register(
    "12.planar_flow",
    points=3,
    hint=("The Jacobian of z + u h(wᵀz + b) is I + u ψᵀ with ψ = h'(wᵀz + b) w: a rank-one update of the identity.",
          "The matrix determinant lemma: det(I + u ψᵀ) = 1 + ψᵀu. For tanh, h'(a) = 1 − tanh(a)².",
          "Work row by row with broadcasting: a = z @ w + b has shape (n,); return z_out (n, d) and log_det (n,)."),
)
def _check_planar_flow(planar_flow, hidden: bool = False):
    r = rng(1201, hidden)
    cases = [(5, 2, 0.5), (3, 4, 1.0), (4, 1, 2.0), (6, 3, "boundary")] if not hidden else \
        [(4, 3, 0.7), (2, 6, 1.5), (5, 1, 0.3), (3, 2, "boundary")]
    for n, d, scale in cases:
        w = r.standard_normal(d)
        b = float(r.standard_normal())
        z = 1.5 * r.standard_normal((n, d))
        if scale == "boundary":                    # wᵀu = −0.999: 1 + h' wᵀu gets close to 0 near the hyperplane
            u = -0.999 * w / (w @ w)
            z = z - ((z @ w + b) / (w @ w))[:, None] * w + 0.05 * r.standard_normal((n, 1)) * w
            context = f"near the invertibility boundary (wᵀu = −0.999, d = {d})"
        else:
            u = scale * r.standard_normal(d)
            if w @ u < -1:                          # keep the case invertible: wᵀu ≥ −1
                u = u - (w @ u + 0.5) * w / (w @ w)
            context = f"for z of shape ({n}, {d})"
        out = call(planar_flow, z, u, w, b, name="planar_flow", arg_names=("z", "u", "w", "b"))
        z_out, log_det = unpack(out, ("z_out", "log_det"), "planar_flow(z, u, w, b)")
        z_out, log_det = as_array(z_out, "z_out"), as_array(log_det, "log_det")
        expected = z + np.outer(np.tanh(z @ w + b), u)
        assert_close(z_out, expected, "z_out = z + u tanh(wᵀz + b)", context, rtol=1e-10, atol=1e-12)
        assert_shape(log_det, (n,), "log_det", f"{context}: one log-determinant per row of z")

        def fmap(row):
            zo, _ = unpack(planar_flow(row[None], u, w, b), ("z_out", "log_det"), "planar_flow(z, u, w, b)")
            return as_array(zo, "z_out")[0]

        brute = np.array([_brute_log_det(fmap, row) for row in z])
        if np.allclose(log_det, -brute, atol=1e-5) and not np.allclose(brute, 0, atol=1e-5):
            raise CheckFailed(f"log_det {context} has the wrong sign: it is log|det ∂z_out/∂z|, the log of a number "
                              "that grows when the map stretches space")
        assert_close(log_det, brute, "log_det, compared with log|det| of the finite-difference Jacobian", context,
                     rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# 12.flow_free_energy


def _log_normal(z, m, C):
    L = np.linalg.cholesky(C)
    a = np.linalg.solve(L, (z - m)[..., None])[..., 0]
    return -0.5 * (a * a).sum(-1) - np.log(np.diag(L)).sum() - 0.5 * m.shape[-1] * LOG_2PI


@register(
    "12.flow_free_energy",
    points=4,
    hint=("Change of variables: log q_K(z_K) = log q_0(z_0) − Σ_k log|det ∂f_k/∂z_{k−1}|, and "
          "F = E_{q_0}[log p(y, z_K) − log q_K(z_K)].",
          "Draw z_0 = mu + exp(log_sigma) * eps (shape (S, n, d)), push it through the flow to get z_K and the summed "
          "log-determinants (S, n), and score z_K with log_joint.",
          "log q_0(z_0) is a diagonal Gaussian's log-density summed over the last axis; average over the sample "
          "axis 0 at the very end, so the result has shape (n,)."),
)
def _check_flow_free_energy(flow_free_energy, hidden: bool = False):
    r = rng(1202, hidden)
    name, args = "flow_free_energy", ("log_joint", "mu", "log_sigma", "eps", "flow")
    cases = [(3, 2, 4), (2, 3, 1)] if not hidden else [(4, 2, 3), (1, 4, 2)]
    for n, d, S in cases:
        context = f"for n={n} data points, d={d}, S={S} draws"
        # 1. exact: an affine flow maps q_0 = N(mu, diag σ²) onto N(m_n, C); the target is Z·N(z; m_n, C)
        m, log_z = r.standard_normal((n, d)), r.standard_normal(n)
        A = r.standard_normal((d, d))
        C = A @ A.T + 0.5 * np.eye(d)
        L = np.linalg.cholesky(C)
        mu, log_sigma = r.standard_normal((n, d)), 0.3 * r.standard_normal((n, d))
        eps = r.standard_normal((S, n, d))

        def affine(z0, mu=mu, log_sigma=log_sigma, m=m, L=L):
            zk = np.einsum("ij,snj->sni", L, (z0 - mu) / np.exp(log_sigma)) + m
            return zk, np.broadcast_to(np.log(np.diag(L)).sum() - log_sigma.sum(-1), z0.shape[:-1]).copy()

        def log_joint(z, m=m, C=C, log_z=log_z):
            return _log_normal(z, m, C) + log_z

        got = as_array(call(flow_free_energy, log_joint, mu, log_sigma, eps, affine, name=name, arg_names=args),
                       "flow_free_energy(...)")
        assert_shape(got, (n,), "flow_free_energy(...)", f"{context}: one value per data point")
        flipped = log_z - 2 * (np.log(np.diag(L)).sum() - log_sigma.sum(-1))
        if np.allclose(got, flipped, atol=1e-6) and not np.allclose(flipped, log_z):
            raise CheckFailed(f"flow_free_energy {context} subtracts the log-determinants: log q_K(z_K) = "
                              "log q_0(z_0) − Σ log|det|, so F gains + Σ log|det|")
        assert_close(got, log_z, "flow_free_energy(...) when the flow maps q_0 exactly onto the normalised target "
                     "(every log weight equals log Z)", context, rtol=1e-8, atol=1e-8)
        # 2. a planar flow (per data point parameters) and a non-Gaussian log-joint, by the formula from its parts
        u, w, b = r.standard_normal((n, d)), r.standard_normal((n, d)), r.standard_normal(n)
        u = np.where(((w * u).sum(-1) < -1)[:, None], u - (((w * u).sum(-1) + 0.5) / (w * w).sum(-1))[:, None] * w, u)

        def planar(z0, u=u, w=w, b=b):
            a = (z0 * w).sum(-1) + b
            return z0 + np.tanh(a)[..., None] * u, np.log1p((1 - np.tanh(a) ** 2) * (w * u).sum(-1))

        def log_joint2(z):
            return -0.25 * (z**4).sum(-1) + np.sin(z).sum(-1)

        z0 = mu + np.exp(log_sigma) * eps
        zk, ld = planar(z0)
        log_q0 = (-0.5 * eps**2 - log_sigma - 0.5 * LOG_2PI).sum(-1)
        expected = (log_joint2(zk) - log_q0 + ld).mean(0)
        got = call(flow_free_energy, log_joint2, mu, log_sigma, eps, planar, name=name, arg_names=args)
        assert_close(got, expected, "flow_free_energy(...) with a planar flow", context, rtol=1e-8, atol=1e-8)


# ----------------------------------------------------------------------------------------------
# 12.filterbank


def _filters(g, s2, delta, N, size):
    F = np.zeros((N, size))
    for i in range(1, N + 1):
        centre = g + (i - N / 2 - 0.5) * delta
        for a in range(1, size + 1):
            F[i - 1, a - 1] = np.exp(-(a - centre) ** 2 / (2 * s2))
    return F / F.sum(1, keepdims=True)


@register(
    "12.filterbank",
    points=3,
    hint=("Filter i is a Gaussian over pixel positions a = 1, …, A centred at μ^i = g + (i − N/2 − 1/2) δ, with "
          "variance σ²; each row of F is normalised to sum to one.",
          "Build the N centres with np.arange(1, N + 1), the pixel positions with np.arange(1, A + 1), and take the "
          "outer difference: shape (N, A). The same for the y axis with g_Y and B."),
)
def _check_filterbank(filterbank, hidden: bool = False):
    r = rng(1203, hidden)
    cases = [(7, 5, 3), (12, 12, 2), (6, 9, 4)] if not hidden else [(8, 6, 3), (10, 10, 5), (5, 11, 2)]
    for A, B, N in cases:
        gx, gy = r.uniform(2, A - 1), r.uniform(2, B - 1)
        s2, delta = r.uniform(0.5, 2.0), r.uniform(0.5, 2.0)
        context = f"for an image of width A={A}, height B={B}, N={N} filters, g=({gx:.2f}, {gy:.2f})"
        out = call(filterbank, gx, gy, s2, delta, N, A, B, name="filterbank")
        fx, fy = unpack(out, ("FX", "FY"), "filterbank(gx, gy, sigma2, delta, N, A, B)")
        fx, fy = as_array(fx, "FX"), as_array(fy, "FY")
        assert_shape(fx, (N, A), "FX", context)
        assert_shape(fy, (N, B), "FY", context)
        FX, FY = _filters(gx, s2, delta, N, A), _filters(gy, s2, delta, N, B)
        if np.allclose(fx, FX[::-1]) and N > 1:
            raise CheckFailed(f"FX {context} has its filters in reverse order: μ^i grows with i")
        assert_close(fx, FX, "FX (rows: filters, columns: pixel positions 1..A)", context, rtol=1e-6, atol=1e-9)
        assert_close(fy, FY, "FY (rows: filters, columns: pixel positions 1..B)", context, rtol=1e-6, atol=1e-9)
        x = r.random((B, A))
        direct = np.array([[sum(FY[j, b] * x[b, a] * FX[i, a] for a in range(A) for b in range(B))
                            for i in range(N)] for j in range(N)])
        assert_close(fy @ x @ fx.T, direct, "the glimpse FY @ x @ FX.T", f"{context}, against the direct sum",
                     rtol=1e-6, atol=1e-10)
