"""Differentiable linear algebra: the Gaussian models of chapters 06-07 need it.

Each VJP is the matrix-calculus identity written with the engine's own operations
(so second derivatives work too):

    X = A⁻¹B           B̄ = A⁻ᵀ X̄,           Ā = -B̄ Xᵀ
    Y = A⁻¹            Ā = -Yᵀ Ȳ Yᵀ
    s = log|det A|     Ā = s̄ A⁻ᵀ
    L = chol(A)        Ā = ½ (S + Sᵀ),  S = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹   (Murray, 2016)

where Φ keeps the lower triangle and halves the diagonal.
``cholesky`` and ``solve_triangular`` take single (2-D) matrices; ``solve``, ``inv``
and ``slogdet`` also take stacks of matrices (..., n, n).
"""
from __future__ import annotations

from .backend import get_array_module, scipy_linalg
from .ops import _mT, defvjp, expand_dims, matmul, primitive, reshape, unbroadcast
from .tensor import Tensor


def _need_square(a, name: str, batched: bool = True) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2] or (not batched and a.ndim != 2):
        what = "a square matrix (n, n)" + (" or a stack (..., n, n)" if batched else "")
        raise ValueError(f"{name} needs {what}, got shape {a.shape}")


def _tril_mask(n: int, like, k: int = 0):
    xp = get_array_module(like)
    return xp.tri(n, n, k, dtype=like.dtype)


# --- cholesky -------------------------------------------------------------------------
def _cholesky(a):
    _need_square(a, "cholesky", batched=False)
    xp = get_array_module(a)
    try:
        return xp.linalg.cholesky(a)
    except Exception as err:  # numpy raises LinAlgError; name the usual cause
        raise ValueError(
            "cholesky: the matrix is not symmetric positive definite (add a small jitter to its "
            "diagonal, e.g. A + 1e-6 I, or check how it was built)"
        ) from err


cholesky = primitive(_cholesky, "cholesky")


def _cholesky_vjp(g: Tensor, L: Tensor, a: Tensor) -> Tensor:
    n = L.shape[-1]
    tril = _tril_mask(n, L.data)
    phi = matmul(L.T, g) * (tril - 0.5 * get_array_module(L.data).eye(n, dtype=L.dtype))
    p_linv = solve_triangular(L, phi.T, lower=True, trans=True).T      # P L⁻¹ = (L⁻ᵀ Pᵀ)ᵀ
    s = solve_triangular(L, p_linv, lower=True, trans=True)              # S = L⁻ᵀ P L⁻¹
    return (s + s.T) * 0.5


# --- triangular solve ---------------------------------------------------------------------
def _solve_triangular(a, b, lower=True, trans=False):
    _need_square(a, "solve_triangular", batched=False)
    return scipy_linalg(get_array_module(a)).solve_triangular(a, b, lower=lower, trans=1 if trans else 0)


solve_triangular_p = primitive(_solve_triangular, "solve_triangular")


def solve_triangular(a: Tensor, b: Tensor, lower: bool = True, trans: bool = False) -> Tensor:
    """X with op(A) X = B for triangular A (op(A) = Aᵀ when ``trans``)."""
    return solve_triangular_p(a, b, lower=lower, trans=trans)


def _solve_triangular_vjp_a(g, x, a, b, lower=True, trans=False):
    gb = solve_triangular_p(a, g, lower=lower, trans=not trans)
    xm = x if x.ndim == 2 else expand_dims(x, -1)
    gbm = gb if gb.ndim == 2 else expand_dims(gb, -1)
    ga = -(matmul(xm, gbm.T) if trans else matmul(gbm, xm.T))
    tri = _tril_mask(a.shape[-1], a.data)
    return ga * (tri if lower else tri.T)


defvjp(solve_triangular_p,
       _solve_triangular_vjp_a,
       lambda g, x, a, b, lower=True, trans=False: solve_triangular_p(a, g, lower=lower, trans=not trans))
defvjp(cholesky, _cholesky_vjp)


# --- general solve ----------------------------------------------------------------------------
def _solve(a, b):
    _need_square(a, "solve")
    xp = get_array_module(a)
    if b.ndim == a.ndim - 1:  # a stack of vectors
        return xp.linalg.solve(a, b[..., None])[..., 0]
    return xp.linalg.solve(a, b)


solve_p = primitive(_solve, "solve")


def solve(a: Tensor, b: Tensor) -> Tensor:
    """X = A⁻¹ B without forming A⁻¹ (B a matrix, a vector, or stacks of them)."""
    return solve_p(a, b)


def _as_col(x: Tensor, a: Tensor) -> Tensor:
    return expand_dims(x, -1) if x.ndim == a.ndim - 1 else x


def _solve_vjp_b(g, x, a, b):
    return unbroadcast(solve_p(_mT(a), g), b)


def _solve_vjp_a(g, x, a, b):
    gb = solve_p(_mT(a), g)
    return unbroadcast(-matmul(_as_col(gb, a), _mT(_as_col(x, a))), a)


defvjp(solve_p, _solve_vjp_a, _solve_vjp_b)


# --- inverse and log-determinant ----------------------------------------------------------
def _inv(a):
    _need_square(a, "inv")
    return get_array_module(a).linalg.inv(a)


inv = primitive(_inv, "inv")
defvjp(inv, lambda g, y, a: -matmul(matmul(_mT(y), g), _mT(y)))


def _logabsdet(a):
    _need_square(a, "slogdet")
    return get_array_module(a).linalg.slogdet(a)[1]


logabsdet = primitive(_logabsdet, "logabsdet")
defvjp(logabsdet, lambda g, ans, a: reshape(g, g.shape + (1, 1)) * _mT(inv(a)))


def slogdet(a: Tensor) -> tuple[Tensor, Tensor]:
    """(sign, log|det A|); the log-determinant is differentiable, the sign is constant."""
    xp = get_array_module(a.data)
    sign = Tensor._wrap(xp.linalg.slogdet(a.data)[0])
    return sign, logabsdet(a)


def det(a: Tensor) -> Tensor:
    sign, logdet = slogdet(a)
    from .ops import exp

    return sign * exp(logdet)
