"""Linear algebra: products (matmul, einsum, tensordot, outer, trace) and the differentiable
decompositions and solves that Gaussian models need (``mv.linalg``).

Each VJP is the matrix-calculus identity written with the engine's own operations
(so second derivatives work too):

    C = A B            Ā = C̄ Bᵀ,            B̄ = Aᵀ C̄
    X = A⁻¹B           B̄ = A⁻ᵀ X̄,           Ā = -B̄ Xᵀ
    Y = A⁻¹            Ā = -Yᵀ Ȳ Yᵀ
    s = log|det A|     Ā = s̄ A⁻ᵀ
    L = chol(A)        Ā = ½ (S + Sᵀ),  S = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹   (Murray, 2016)

where Φ keeps the lower triangle and halves the diagonal. Every function here also takes
stacks of matrices (..., n, n): the leading axes are batch axes (a full-covariance Gaussian
per data point), and a single matrix is shared by (broadcast over) a stack of right-hand sides.
"""
from __future__ import annotations

import string

import numpy as np

from .backend import get_array_module, scipy_linalg
from .elementwise import exp
from .primitive import broadcast_to, defvjp, defvjp_argnum, primitive, unbroadcast
from .reductions import sum as _sum
from .shape import diagonal, expand_dims, matrix_transpose as _mT, reshape
from .tensor import Tensor

# ---------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------
matmul_p = primitive(lambda a, b: a @ b, "matmul")
defvjp(matmul_p,
       lambda g, ans, a, b: unbroadcast(matmul_p(g, _mT(b)), a),          # Ā = C̄ Bᵀ
       lambda g, ans, a, b: unbroadcast(matmul_p(_mT(a), g), b))          # B̄ = Aᵀ C̄


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product ``a @ b`` with NumPy's rules: 1-D operands are vectors (u @ v is a 0-d
    inner product), leading axes are batch axes that broadcast."""
    for x in (a, b):
        if isinstance(x, (int, float, complex)) or getattr(x, "ndim", 1) == 0:
            raise ValueError(f"matmul: a scalar operand ({x!r:.40}) is not allowed with @; use * to scale a tensor")
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        from .primitive import _lift

        a, b = _lift(a, b if isinstance(b, Tensor) else None), _lift(b, a if isinstance(a, Tensor) else None)
    if a.shape[-1] != b.shape[-2 if b.ndim >= 2 else -1]:
        k = "its length" if b.ndim == 1 else "its second-to-last axis"
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not line up: the last axis of a "
                         f"({a.shape[-1]}) must equal {k} of b ({b.shape[-2 if b.ndim >= 2 else -1]}); "
                         "transpose one of them (e.g. a @ b.T)?")
    if a.ndim >= 2 and b.ndim >= 2:
        return matmul_p(a, b)
    a2 = reshape(a, (1, -1)) if a.ndim == 1 else a
    b2 = reshape(b, (-1, 1)) if b.ndim == 1 else b
    out = matmul_p(a2, b2)
    shape = list(out.shape)
    if b.ndim == 1:
        shape.pop(-1)
    if a.ndim == 1:
        shape.pop(-2 if b.ndim != 1 else -1)
    return reshape(out, tuple(shape))


def _parse_einsum(subscripts: str, shapes: list) -> tuple[list[str], str]:
    """Explicit subscripts: ellipses replaced by letters, the output written out."""
    subscripts = subscripts.replace(" ", "")
    ins, arrow, out = subscripts.partition("->")
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operand(s) but {len(shapes)} were given")
    used = set(subscripts) - {".", ",", "-", ">"}
    free = [c for c in string.ascii_letters if c not in used]
    n_ell = max((len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell = "".join(free[:n_ell])
    terms = [t.replace("...", ell[n_ell - (len(s) - len(t.replace("...", ""))):]) if "..." in t else t
             for t, s in zip(terms, shapes)]
    if not arrow:  # NumPy's implicit output: the letters used once, in alphabetical order
        letters = "".join(terms)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    for t, s in zip(terms, shapes):
        if len(t) != len(s):
            raise ValueError(f"einsum: term {t!r} has {len(t)} indices but its operand has shape {s}")
    return terms, out


def _einsum_vjp(i, g, ans, *xs, terms, out):
    """x̄ᵢ = einsum(ȳ and the other operands -> xᵢ's indices); indices only xᵢ has are broadcast."""
    others = "".join(t for j, t in enumerate(terms) if j != i) + out
    keep = "".join(c for c in terms[i] if c in others)
    gi = einsum_p(g, *[x for j, x in enumerate(xs) if j != i],
                  terms=[out] + [t for j, t in enumerate(terms) if j != i], out=keep)
    if keep != terms[i]:
        gi = broadcast_to(reshape(gi, tuple(xs[i].shape[k] if c in keep else 1 for k, c in enumerate(terms[i]))),
                          xs[i].shape)
    return gi


einsum_p = primitive(lambda *xs, terms, out: get_array_module(xs[0]).einsum(",".join(terms) + "->" + out, *xs),
                     "einsum")
defvjp_argnum(einsum_p, _einsum_vjp)


def einsum(subscripts: str, *operands: Tensor) -> Tensor:
    """Einstein summation, as ``np.einsum`` ('ij,jk->ik', 'bi,bi->b', '...ij,...jk->...ik').
    Differentiable in every operand; an index repeated within one operand ('ii') is not
    (use ``mv.diagonal`` / ``mv.trace``)."""
    shapes = [tuple(np.shape(x._data if isinstance(x, Tensor) else x)) for x in operands]
    terms, out = _parse_einsum(subscripts, shapes)
    sizes: dict[str, int] = {}
    for t, s in zip(terms, shapes):
        if len(set(t)) != len(t) and any(isinstance(x, Tensor) and x.requires_grad for x in operands):
            raise ValueError(f"einsum: the index repeated within {t!r} is not differentiable here; "
                             "use mv.diagonal or mv.trace")
        for c, n in zip(t, s):
            sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
    ops = []
    for x, t, s in zip(operands, terms, shapes):  # broadcast size-1 axes explicitly (the VJP sums them back)
        full = tuple(sizes[c] for c in t)
        ops.append(broadcast_to(x, full) if full != s and isinstance(x, Tensor) else x)
    try:
        return einsum_p(*ops, terms=terms, out=out)
    except ValueError as err:
        raise ValueError(f"einsum {subscripts!r} with shapes {shapes}: {err}") from err


def tensordot(a: Tensor, b: Tensor, axes=2) -> Tensor:
    """Sum of products over the last ``axes`` axes of a and the first of b (or two lists of axes)."""
    if isinstance(axes, int):
        ax_a, ax_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        ax_a, ax_b = ([axes[0]] if isinstance(axes[0], int) else list(axes[0]),
                      [axes[1]] if isinstance(axes[1], int) else list(axes[1]))
    ax_a, ax_b = [x % a.ndim for x in ax_a], [x % b.ndim for x in ax_b]
    letters = iter(string.ascii_letters)
    ta = [next(letters) for _ in range(a.ndim)]
    tb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(ax_a, ax_b):
        tb[j] = ta[i]
    out = [c for k, c in enumerate(ta) if k not in ax_a] + [c for k, c in enumerate(tb) if k not in ax_b]
    return einsum("".join(ta) + "," + "".join(tb) + "->" + "".join(out), a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product a bᵀ of two vectors (flattened first, as ``np.outer``)."""
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


def trace(x: Tensor, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Σ of the diagonal (``np.trace``); for a stack of matrices pass axis1=-2, axis2=-1."""
    return _sum(diagonal(x, offset=offset, axis1=axis1, axis2=axis2), axis=-1)


# ---------------------------------------------------------------------------------------
# Solves and decompositions (single matrices or stacks)
# ---------------------------------------------------------------------------------------
def _need_square(a, name: str, batched: bool = True) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name} needs a square matrix (n, n) or a stack of them (..., n, n), got shape {a.shape}")


def _is_vector(a_shape: tuple, b_shape: tuple) -> bool:
    """Is b a vector (or a stack of vectors) rather than a matrix of right-hand sides?"""
    return len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and tuple(b_shape) == tuple(a_shape[:-1]))


def _check_rhs(a, b, name: str) -> None:
    n = a.shape[-1]
    rows = b.shape[-1] if _is_vector(a.shape, b.shape) else b.shape[-2] if b.ndim >= 2 else None
    if rows != n:
        raise ValueError(f"{name}: the matrix has shape {a.shape} but the right-hand side has shape {b.shape}; "
                         f"it needs {n} rows (a vector (n,), a matrix (n, k), or stacks of them)")


def _as_col(x: Tensor, a) -> Tensor:
    return expand_dims(x, -1) if _is_vector(a.shape, x.shape) else x


# --- cholesky -------------------------------------------------------------------------
def _cholesky(a):
    _need_square(a, "cholesky")
    xp = get_array_module(a)
    try:
        return xp.linalg.cholesky(a)
    except Exception as err:  # numpy raises LinAlgError; name the usual cause
        raise ValueError(
            "cholesky: the matrix is not symmetric positive definite (add a small jitter to its "
            "diagonal, e.g. A + 1e-6 I, or check how it was built)"
        ) from err


def _tril_mask(n: int, like, k: int = 0):
    return get_array_module(like).tri(n, n, k, dtype=like.dtype)


def _cholesky_vjp(g: Tensor, L: Tensor, a: Tensor) -> Tensor:
    n = L.shape[-1]
    phi = matmul(_mT(L), g) * (_tril_mask(n, L._data) - 0.5 * get_array_module(L._data).eye(n, dtype=L.dtype))
    p_linv = _mT(solve_triangular(L, _mT(phi), lower=True, trans=True))   # P L⁻¹ = (L⁻ᵀ Pᵀ)ᵀ
    s = solve_triangular(L, p_linv, lower=True, trans=True)               # S = L⁻ᵀ P L⁻¹
    return (s + _mT(s)) * 0.5


cholesky = primitive(_cholesky, "cholesky")
defvjp(cholesky, _cholesky_vjp)


# --- triangular solve ---------------------------------------------------------------------
def _solve_triangular(a, b, lower=True, trans=False):
    xp = get_array_module(a)
    if a.ndim == 2 and b.ndim <= 2:                      # one matrix: LAPACK's triangular solve
        return scipy_linalg(xp).solve_triangular(a, b, lower=lower, trans=1 if trans else 0)
    if a.ndim == 2:                                      # one matrix, a stack of right-hand sides (..., n, k)
        n = a.shape[-1]
        cols = xp.moveaxis(b, -2, 0).reshape(n, -1)
        x = scipy_linalg(xp).solve_triangular(a, cols, lower=lower, trans=1 if trans else 0)
        return xp.moveaxis(x.reshape((n,) + b.shape[:-2] + b.shape[-1:]), 0, -2)
    t = xp.tril(a) if lower else xp.triu(a)              # a stack of matrices: batched solve
    if trans:
        t = xp.swapaxes(t, -1, -2)
    if _is_vector(a.shape, b.shape):
        return xp.linalg.solve(t, b[..., None])[..., 0]
    return xp.linalg.solve(t, b)


solve_triangular_p = primitive(_solve_triangular, "solve_triangular")


def solve_triangular(a: Tensor, b: Tensor, lower: bool = True, trans: bool = False) -> Tensor:
    """X with op(A) X = B for triangular A (op(A) = Aᵀ when ``trans``); only the ``lower``
    (or upper) triangle of A is read. A and B may be stacks; a single A is shared."""
    _need_square(a, "solve_triangular")
    _check_rhs(a, b, "solve_triangular")
    return solve_triangular_p(a, b, lower=lower, trans=trans)


def _solve_triangular_vjp_a(g, x, a, b, lower=True, trans=False):
    gb = solve_triangular_p(a, g, lower=lower, trans=not trans)           # B̄ = op(A)⁻ᵀ X̄
    xm, gbm = _as_col(x, a), _as_col(gb, a)
    ga = -(matmul(xm, _mT(gbm)) if trans else matmul(gbm, _mT(xm)))       # Ā = -B̄ Xᵀ (or -X B̄ᵀ)
    tri = _tril_mask(a.shape[-1], a._data)
    return unbroadcast(ga * (tri if lower else tri.T), a)


defvjp(solve_triangular_p,
       _solve_triangular_vjp_a,
       lambda g, x, a, b, lower=True, trans=False: unbroadcast(solve_triangular_p(a, g, lower=lower, trans=not trans), b))


# --- general solve ----------------------------------------------------------------------------
def _solve(a, b):
    xp = get_array_module(a)
    if _is_vector(a.shape, b.shape):  # a vector, or a stack of vectors
        return xp.linalg.solve(a, b[..., None])[..., 0]
    return xp.linalg.solve(a, b)      # matrices; a single A is broadcast over a stack of B and back


solve_p = primitive(_solve, "solve")


def solve(a: Tensor, b: Tensor) -> Tensor:
    """X = A⁻¹ B without forming A⁻¹. B is a vector (n,), a matrix (n, k), or stacks of them;
    A (n, n) or a stack (..., n, n); leading axes broadcast (one A for many B, or the reverse)."""
    _need_square(a, "solve")
    _check_rhs(a, b, "solve")
    return solve_p(a, b)


def _solve_vjp_a(g, x, a, b):
    gb = solve_p(_mT(a), g)                                               # B̄ = A⁻ᵀ X̄
    return unbroadcast(-matmul(_as_col(gb, a), _mT(_as_col(x, a))), a)    # Ā = -B̄ Xᵀ


def _solve_vjp_b(g, x, a, b):
    return unbroadcast(solve_p(_mT(a), g), b)                             # B̄ = A⁻ᵀ X̄


defvjp(solve_p, _solve_vjp_a, _solve_vjp_b)


# --- inverse and log-determinant ----------------------------------------------------------
def _inv(a):
    _need_square(a, "inv")
    return get_array_module(a).linalg.inv(a)


inv = primitive(_inv, "inv")
defvjp(inv, lambda g, y, a: -matmul(matmul(_mT(y), g), _mT(y)))         # Ā = -Yᵀ Ȳ Yᵀ


def _logabsdet(a):
    _need_square(a, "slogdet")
    return get_array_module(a).linalg.slogdet(a)[1]


logabsdet = primitive(_logabsdet, "logabsdet")
defvjp(logabsdet, lambda g, ans, a: reshape(g, g.shape + (1, 1)) * _mT(inv(a)))   # Ā = s̄ A⁻ᵀ


def slogdet(a: Tensor) -> tuple[Tensor, Tensor]:
    """(sign, log|det A|) of a matrix or of each matrix in a stack; the log-determinant is
    differentiable, the sign is constant."""
    _need_square(a, "slogdet")
    xp = get_array_module(a._data)
    sign = Tensor._wrap(xp.linalg.slogdet(a._data)[0])
    return sign, logabsdet(a)


def det(a: Tensor) -> Tensor:
    """det A = sign · exp(log|det A|)."""
    sign, logdet = slogdet(a)
    return sign * exp(logdet)


__all__ = ["matmul", "einsum", "tensordot", "outer", "trace", "cholesky", "solve_triangular", "solve", "inv",
           "slogdet", "det", "logabsdet"]
