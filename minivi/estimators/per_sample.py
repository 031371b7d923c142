"""Per-sample gradients in one vectorised pass: expand the parameters over a sample axis.

For n samples z_i = g(θ, ε_i), the n gradients ∇_θ f(z_i) are usually got by n backward passes.
One pass is enough: give every sample its *own copy* of θ,

    θ_i = θ  for i = 1..n      (a leaf of shape (n, *θ.shape)),     z_i = g(θ_i, ε_i),

and differentiate S = Σ_i f(z_i) once. Because z_i depends on θ_i only, ∂S/∂θ_i = ∇_θ f(z_i):
row i of the gradient of the expanded leaf is sample i's gradient. The cost is one backward
pass over arrays n times larger, instead of n passes (and n graphs) in a Python loop.

``expand_params`` rebuilds a distribution with its parameters expanded this way;
``per_sample_grads`` differentiates once and returns the rows.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from ..distributions import Distribution


def parameters_of(q: Distribution) -> dict[str, Tensor]:
    """The parameter tensors of ``q`` that were given to it, by name (``q.params`` order).

    An optional parameter that ``q`` computed from another one is skipped: ``Bernoulli(logits=η)``
    stores ``probs = σ(η)`` too, but only ``logits`` was given. (``Categorical(logits=η)`` stores the
    normalised log_softmax(η); rebuilding from it gives the same distribution, and the gradient with
    respect to it equals the gradient with respect to η, because log_softmax is shift-invariant.)
    """
    if not isinstance(q, Distribution):
        raise TypeError(f"expected a minivi distribution (e.g. Normal(loc, scale)), got {type(q).__name__}")
    tensors = {name: getattr(q, name) for name in q.params if isinstance(getattr(q, name, None), Tensor)}
    signature = inspect.signature(type(q).__init__).parameters
    given = {}
    for name, t in tensors.items():
        optional = name in signature and signature[name].default is None   # one of alternatives (logits= or probs=)
        others = {id(u) for other, u in tensors.items() if other != name}
        if not (optional and _computed_from(t, others)):
            given[name] = t
    return given


def _computed_from(t: Tensor, ids: set[int]) -> bool:
    """True when ``t``'s graph reaches one of the tensors whose ``id`` is in ``ids``."""
    stack, seen = [t], set()
    while stack:
        u = stack.pop()
        if id(u) in seen:
            continue
        seen.add(id(u))
        if u is not t and id(u) in ids:
            return True
        if u._node is not None:
            stack.extend(x for x in u._node.inputs if isinstance(x, Tensor))
    return False


def expand_params(q: Distribution, n: int) -> tuple[Distribution, dict[str, Tensor]]:
    """``q`` rebuilt with a leading sample axis of size ``n``, and the new leaves by name.

    Every given parameter that requires a gradient becomes a fresh leaf of shape
    ``(n, 1, ..., 1, *param.shape)`` (padded so it lines up with ``(n, *q.batch_shape)``) holding
    n copies of its value; the others are passed unchanged. The rebuilt distribution has
    ``batch_shape == (n, *q.batch_shape)``: draw ONE sample of it (``sample_shape=()``) to get n.
    """
    n = int(n)
    if n < 1:
        raise ValueError(f"the number of samples n must be a positive integer, got {n}")
    given = parameters_of(q)
    if not any(t.requires_grad for t in given.values()):
        raise ValueError(
            f"{type(q).__name__}: none of its parameters ({', '.join(given)}) requires a gradient; make them with "
            "mv.tensor(..., requires_grad=True) (or nn.Parameter) so there is something to differentiate"
        )
    xp = mv.get_array_module(next(iter(given.values())).data)
    batch = tuple(q.batch_shape)
    kwargs: dict[str, Any] = {}
    leaves: dict[str, Tensor] = {}
    for name, t in given.items():
        if not t.requires_grad:
            kwargs[name] = t.detach()
            continue
        event = max(0, t.ndim - len(batch))                    # Categorical's class axis
        pad = (1,) * (len(batch) - (t.ndim - event))
        data = xp.broadcast_to(t.data, (n,) + pad + tuple(t.shape))
        leaf = mv.tensor(xp.ascontiguousarray(data), dtype=t.dtype, device=t.device, requires_grad=True)
        kwargs[name] = leaves[name] = leaf
    for name in list(inspect.signature(type(q).__init__).parameters)[1:]:  # other settings, e.g. lower=
        if name not in kwargs and name not in q.params and hasattr(q, name):
            kwargs[name] = getattr(q, name)
    try:
        q_n = type(q)(**kwargs)
    except (ValueError, TypeError):
        q_n = None
    if q_n is None or tuple(q_n.batch_shape) != (n,) + batch:
        got = "an error" if q_n is None else f"batch shape {tuple(q_n.batch_shape)}"
        raise ValueError(
            f"{type(q).__name__}: expanding its parameters over {n} samples gave {got}, "
            f"not {(n,) + batch} (a parameter with event axes that cannot be told apart from batch axes); "
            "estimate its gradients with a loop (loop_grad_samples) instead"
        )
    return q_n, leaves


def per_sample_grads(total: Tensor, leaves: dict[str, Tensor], shapes: dict[str, tuple], n: int,
                     retain_graph: bool = False) -> dict[str, np.ndarray]:
    """Differentiate the scalar ``total`` once; row i of each leaf's gradient, reshaped to ``(n, *shape)``."""
    names = list(leaves)
    grads = mv.autograd_grad(total, [leaves[k] for k in names], retain_graph=retain_graph)
    out = {}
    for name, g in zip(names, grads):
        arr = np.zeros(leaves[name].shape) if g is None else np.asarray(g.numpy(), dtype=np.float64)
        out[name] = arr.reshape((n,) + tuple(shapes[name]))
    return out


def loop_grad_samples(f: Callable[[Tensor], Tensor], q: Distribution, n: int, rng: Any,
                      method: str = "pathwise") -> dict[str, np.ndarray]:
    """The slow reference: n separate draws and n backward passes (no baseline).

    Sample i draws ``sample_shape=(1,)`` from ``rng`` in turn, so for families whose sampler takes
    one array from ``rng`` (Normal, Logistic, Gumbel, Exponential, Kumaraswamy, Bernoulli) it sees
    the same random numbers, in the same order, as the vectorised ``grad_samples`` with the same seed.
    """
    given = {k: t for k, t in parameters_of(q).items() if t.requires_grad}
    out = {k: [] for k in given}
    for _ in range(int(n)):
        if method == "pathwise":
            total = f(q.rsample(rng, (1,))).sum()
        elif method == "score":
            z = q.sample(rng, (1,))
            with mv.no_grad():
                fz = f(z).detach()
            total = (fz * q.log_prob(z)).sum()
        else:
            raise ValueError(f"method must be 'pathwise' or 'score', got {method!r}")
        grads = mv.autograd_grad(total, list(given.values()))
        for (name, t), g in zip(given.items(), grads):
            out[name].append(np.zeros(t.shape) if g is None else np.asarray(g.numpy(), dtype=np.float64))
    return {k: np.stack(v) for k, v in out.items()}
