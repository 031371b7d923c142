"""Shape and indexing: reshape, transpose, squeeze, indexing, concatenate, stack, flip,
diagonals and triangles, casts and device copies.

These move entries around without changing them, so each VJP moves the gradient back:
reshape's rule reshapes back, transpose's applies the inverse permutation, indexing's
scatters the gradient into zeros. Axes are checked: an axis out of range is an error
naming the operation, never silently wrapped around.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from . import backend
from .backend import get_array_module
from .primitive import broadcast_to, check_axis, defvjp, defvjp_argnum, norm_axis, primitive, sum_to, xp_of
from .tensor import Tensor

# --- reshape and transpose ------------------------------------------------------------------
reshape_p = primitive(lambda x, shape: x.reshape(shape), "reshape")
defvjp(reshape_p, lambda g, ans, x, shape: reshape_p(g, shape=x.shape))    # reshape back


def reshape(x: Tensor, shape) -> Tensor:
    """Same entries, new shape (one entry may be -1). VJP: reshape back."""
    shape = tuple(shape) if not isinstance(shape, (int, np.integer)) else (int(shape),)
    try:
        return reshape_p(x, shape=shape)
    except ValueError as err:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} entries) into "
                         f"{shape}; the number of entries must stay the same") from err


transpose_p = primitive(lambda x, axes=None: x.transpose(axes), "transpose")
defvjp(transpose_p, lambda g, ans, x, axes=None:                           # the inverse permutation
       transpose_p(g, axes=None if axes is None else tuple(int(i) for i in np.argsort(axes))))


def transpose(x: Tensor, axes=None) -> Tensor:
    """Permute axes (reverse them by default; negative axes count from the end).
    VJP: the inverse permutation."""
    if axes is None:
        return transpose_p(x, axes=None)
    perm = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -x.ndim <= a < x.ndim:
            raise ValueError(f"transpose: axis {a} is out of range for a tensor of shape {x.shape}")
        perm.append(int(a) % x.ndim)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {tuple(axes)} are not a permutation of the {x.ndim} axes of a tensor "
                         f"of shape {x.shape}")
    return transpose_p(x, axes=tuple(perm))


def swapaxes(x: Tensor, a: int, b: int) -> Tensor:
    """Exchange axes ``a`` and ``b``."""
    a, b = check_axis(a, x.ndim, "swapaxes"), check_axis(b, x.ndim, "swapaxes")
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return transpose_p(x, axes=tuple(axes))


def matrix_transpose(x: Tensor) -> Tensor:
    """Swap the last two axes (xᵀ for a matrix, each matrix's transpose for a stack)."""
    if x.ndim == 2:
        return transpose_p(x, axes=None)
    return swapaxes(x, -1, -2)


def expand_dims(x: Tensor, axis: int) -> Tensor:
    """Insert an axis of length 1 at ``axis`` (in [-ndim-1, ndim])."""
    ax = check_axis(axis, x.ndim + 1, "expand_dims")
    shape = list(x.shape)
    shape.insert(ax, 1)
    return reshape_p(x, shape=tuple(shape))


def squeeze(x: Tensor, axis=None) -> Tensor:
    """Remove axes of length 1 (all of them, or those in ``axis``, which must have length 1)."""
    if axis is None:
        axes = [i for i, n in enumerate(x.shape) if n == 1]
    else:
        axes = list(norm_axis(axis, x.ndim, "squeeze"))
        bad = [a for a in axes if x.shape[a] != 1]
        if bad:
            raise ValueError(f"squeeze: axis {bad[0]} has length {x.shape[bad[0]]}, not 1 (shape {x.shape})")
    return reshape_p(x, shape=tuple(n for i, n in enumerate(x.shape) if i not in axes))


flip_p = primitive(lambda x, axis: xp_of(x).flip(x, axis=axis), "flip")
defvjp(flip_p, lambda g, ans, x, axis: flip_p(g, axis=axis))               # flip back


def flip(x: Tensor, axis=None) -> Tensor:
    """Reverse the order of entries along ``axis`` (all axes by default)."""
    return flip_p(x, axis=norm_axis(axis, x.ndim, "flip"))


# --- indexing ------------------------------------------------------------------------------------
def _is_advanced(idx) -> bool:
    idx = idx if isinstance(idx, tuple) else (idx,)
    return any(not isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in idx)


def _add_rows(out, rows, g):
    """out[rows] += g with repeated rows adding up (rows: an integer array indexing axis 0): sort the rows,
    sum each run of equal ones with add.reduceat, write each sum once."""
    n = out.shape[0]
    flat = rows.ravel()
    flat = np.where(flat < 0, flat + n, flat)
    order = np.argsort(flat, kind="stable")
    s = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    g2 = g.reshape(flat.size, -1)[order]
    out.reshape(n, -1)[s[starts]] += np.add.reduceat(g2, starts, axis=0)


def _scatter(g, idx, shape):
    """Zeros of ``shape`` with ``g`` added at ``idx`` (repeated indices add up)."""
    xp = get_array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if _is_advanced(idx):
        rows = idx[0] if isinstance(idx, tuple) and len(idx) == 1 else idx
        if xp is np and isinstance(rows, np.ndarray) and rows.dtype.kind in "iu" and rows.size and len(shape):
            _add_rows(out, rows, g)                # W[y]: the embedding look-up, 10x faster than add.at
        elif xp is np:
            np.add.at(out, idx, g)
        else:
            import cupyx

            cupyx.scatter_add(out, idx, g)
    else:
        out[idx] = g
    return out


getitem_p = primitive(lambda x, idx: x[idx], "getitem")
scatter = primitive(_scatter, "scatter")
defvjp(getitem_p, lambda g, ans, x, idx: scatter(g, idx=idx, shape=x.shape))   # scatter into zeros
defvjp(scatter, lambda g, ans, x, idx, shape: getitem_p(g, idx=idx))


def _index(idx):
    """Tensors used as indices are read as their (integer or boolean) arrays."""
    if isinstance(idx, tuple):
        return tuple(_index(i) for i in idx)
    if isinstance(idx, Tensor):
        return idx._data
    if isinstance(idx, list):
        return np.asarray(idx)
    return idx


def getitem(x: Tensor, idx) -> Tensor:
    """``x[idx]`` with NumPy's indexing (ints, slices, None, ..., integer and boolean arrays)."""
    return getitem_p(x, idx=_index(idx))


# --- joining tensors -------------------------------------------------------------------------------
def _concatenate_vjp(i, g, ans, *xs, axis=0):
    start = int(np.sum([x.shape[axis] for x in xs[:i]])) if i else 0
    sl = [slice(None)] * g.ndim
    sl[axis] = slice(start, start + xs[i].shape[axis])
    return getitem_p(g, idx=tuple(sl))                                      # slice the gradient apart


concatenate_p = primitive(lambda *xs, axis=0: xp_of(*xs).concatenate(xs, axis=axis), "concatenate")
defvjp_argnum(concatenate_p, _concatenate_vjp)


def _check_join(tensors, op: str) -> list:
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}: expected a list of tensors, e.g. mv.{op}([a, b]), got {type(tensors).__name__}")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: got an empty list; pass at least one tensor")
    if not any(isinstance(t, Tensor) for t in tensors):
        tensors = [Tensor(t) for t in tensors]
    return tensors


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis. VJP: slice the gradient back apart."""
    tensors = _check_join(tensors, "concatenate")
    nd = tensors[0].ndim if isinstance(tensors[0], Tensor) else np.ndim(tensors[0])
    if nd == 0:
        raise ValueError("concatenate: 0-d tensors have no axis to join along; use mv.stack")
    ax = check_axis(axis, nd, "concatenate")
    shapes = [np.shape(t._data if isinstance(t, Tensor) else t) for t in tensors]
    if any(len(s) != nd or s[:ax] + s[ax + 1:] != shapes[0][:ax] + shapes[0][ax + 1:] for s in shapes):
        raise ValueError(f"concatenate: shapes {shapes} must agree except along axis {axis}")
    return concatenate_p(*tensors, axis=ax)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis (``axis`` in [-ndim-1, ndim])."""
    tensors = _check_join(tensors, "stack")
    shapes = [np.shape(t._data if isinstance(t, Tensor) else t) for t in tensors]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: all tensors must have the same shape, got {shapes}")
    ax = check_axis(axis, len(shapes[0]) + 1, "stack")
    return concatenate_p(*[expand_dims(t, ax) if isinstance(t, Tensor) else np.expand_dims(t, ax)
                           for t in tensors], axis=ax)


# --- diagonals and triangles -----------------------------------------------------------------------
def _diagonal(x, offset=0, axis1=0, axis2=1):
    return xp_of(x).diagonal(x, offset, axis1, axis2).copy()


def _embed_diagonal(g, shape, offset=0, axis1=0, axis2=1):
    """Zeros of ``shape`` with ``g`` (diagonal entries on its last axis) on the diagonal."""
    xp = get_array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    view = xp.moveaxis(out, (axis1, axis2), (-2, -1))
    n = g.shape[-1]
    i = xp.arange(n)
    view[..., i + max(-offset, 0), i + max(offset, 0)] = g
    return out


diagonal_p = primitive(_diagonal, "diagonal")
embed_diagonal_p = primitive(_embed_diagonal, "embed_diagonal")
defvjp(diagonal_p, lambda g, ans, x, offset=0, axis1=0, axis2=1:          # put ȳ back on the diagonal
       embed_diagonal_p(g, shape=x.shape, offset=offset, axis1=axis1, axis2=axis2))
defvjp(embed_diagonal_p, lambda g, ans, x, shape, offset=0, axis1=0, axis2=1:
       diagonal_p(g, offset=offset, axis1=axis1, axis2=axis2))


def diagonal(x: Tensor, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal of the matrices spanned by ``axis1`` and ``axis2`` (as ``np.diagonal``: it
    becomes the last axis). For a stack of matrices (..., n, n) pass axis1=-2, axis2=-1."""
    if x.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {x.shape} (mv.diag makes a matrix from a vector)")
    a1, a2 = check_axis(axis1, x.ndim, "diagonal"), check_axis(axis2, x.ndim, "diagonal")
    if a1 == a2:
        raise ValueError("diagonal: axis1 and axis2 must differ")
    return diagonal_p(x, offset=int(offset), axis1=a1, axis2=a2)


def diag(x: Tensor, k: int = 0) -> Tensor:
    """As ``np.diag``: a vector -> the square matrix with it on diagonal ``k``; a matrix -> its diagonal."""
    if x.ndim == 1:
        n = x.shape[0] + abs(k)
        return embed_diagonal_p(x, shape=(n, n), offset=int(k), axis1=0, axis2=1)
    if x.ndim == 2:
        return diagonal_p(x, offset=int(k), axis1=0, axis2=1)
    raise ValueError(f"diag: needs a vector or a matrix, got shape {x.shape} (for stacks use mv.diagonal(x, axis1=-2, axis2=-1))")


tril_p = primitive(lambda x, k=0: xp_of(x).tril(x, k), "tril")
defvjp(tril_p, lambda g, ans, x, k=0: tril_p(g, k=k))                      # keep the same triangle of ȳ
triu_p = primitive(lambda x, k=0: xp_of(x).triu(x, k), "triu")
defvjp(triu_p, lambda g, ans, x, k=0: triu_p(g, k=k))


def tril(x: Tensor, k: int = 0) -> Tensor:
    """Lower triangle (entries on and below diagonal ``k``) of a matrix or of each matrix in a stack."""
    if x.ndim < 2:
        raise ValueError(f"tril: needs a matrix or a stack of matrices, got shape {x.shape}")
    return tril_p(x, k=int(k))


def triu(x: Tensor, k: int = 0) -> Tensor:
    """Upper triangle (entries on and above diagonal ``k``) of a matrix or of each matrix in a stack."""
    if x.ndim < 2:
        raise ValueError(f"triu: needs a matrix or a stack of matrices, got shape {x.shape}")
    return triu_p(x, k=int(k))


# --- copies, casts and devices ------------------------------------------------------------------
copy = primitive(lambda x: xp_of(x).array(x, copy=True), "copy")
defvjp(copy, lambda g, ans, x: g)


def _astype(x, dtype):
    return x.astype(dtype)


astype_p = primitive(_astype, "astype")
defvjp(astype_p, lambda g, ans, x, dtype: astype_p(g, dtype=x.dtype))


def astype(x: Tensor, dtype) -> Tensor:
    """An explicit (differentiable) cast between float32 and float64."""
    return astype_p(x, dtype=backend.check_dtype(dtype))


to_device = primitive(lambda x, device: backend.to_device(x, device), "to_device")
defvjp(to_device, lambda g, ans, x, device: to_device(g, device=x.device))


def stop_gradient(x: Tensor) -> Tensor:
    """The same values with no gradient flowing back (``x.detach()``)."""
    return x.detach()


__all__ = ["reshape", "transpose", "swapaxes", "expand_dims", "squeeze", "flip", "concatenate", "stack", "diagonal",
           "diag", "tril", "triu", "astype", "stop_gradient", "broadcast_to", "sum_to"]
