"""``Module``: a model as an object that owns its parameters; ``Parameter``: a learnable tensor.

A module finds its state by looking at its own attributes, so there is nothing to
register by hand::

    class Affine(Module):
        def __init__(self, rng):
            self.W = Parameter(rng.standard_normal((3, 2)))   # learned
            self.b = Parameter(np.zeros(2))
        def forward(self, x):
            return x @ self.W + self.b

Every ``Tensor`` attribute is state: a leaf with ``requires_grad=True`` is a
*parameter* (the optimiser learns it), any other tensor is a *buffer* (saved with the
model but not learned, e.g. BatchNorm's running mean). Attributes that are modules, or
lists/tuples of modules and tensors, are searched recursively. Names are dotted paths
(``layers.0.W``), in the order the attributes were assigned.
"""
from __future__ import annotations

import os
import zipfile
from typing import Any, Iterator, Mapping

import numpy as np

from ..autodiff import backend
from ..autodiff.tensor import Tensor, no_grad


def Parameter(data: Any, dtype=None, device: str | None = None) -> Tensor:  # noqa: N802 - reads like a type
    """A learnable tensor: a leaf ``Tensor`` with ``requires_grad=True``, holding a copy of ``data``.

    Assign it to a ``Module`` attribute and the module lists it in ``parameters()``.
    The copy means training never changes the array you passed in. A Tensor input keeps
    its dtype; lists and arrays get the default dtype (float32 unless changed).
    """
    if isinstance(data, Tensor):
        dtype = dtype or data.dtype
        data = data.data
    if data is None or isinstance(data, (str, bytes)):
        raise TypeError(f"Parameter: data must be an array of numbers (e.g. rng.standard_normal((3, 2))), got {data!r:.40}")
    try:
        t = Tensor(data, requires_grad=True, dtype=dtype, device=device)
    except (TypeError, ValueError) as err:
        raise TypeError(f"Parameter: could not make a tensor of numbers from {type(data).__name__} ({err})") from None
    t.data = t.data.copy()
    return t


class Module:
    """Base class of every layer and model: ``model(x)`` calls ``model.forward(x)``.

    Subclasses define ``forward`` and assign parameters, buffers and sub-modules as
    attributes (calling ``super().__init__()`` is not needed). ``training`` is True
    until ``eval()``: layers such as Dropout and BatchNorm behave differently then.
    """

    training: bool = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, x) to be called")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # --- finding the state ---------------------------------------------------------------
    def _children(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of the attributes holding state: tensors, modules, lists/tuples of them."""
        for name, value in vars(self).items():
            if isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if isinstance(v, (Tensor, Module)):
                        yield f"{name}.{i}", v
            elif isinstance(value, (Tensor, Module)):
                yield name, value

    def named_modules(self, prefix: str = "", _seen: set | None = None) -> Iterator[tuple[str, "Module"]]:
        """This module ("") and every sub-module, each once, with its dotted name."""
        seen = set() if _seen is None else _seen
        if id(self) in seen:
            return
        seen.add(id(self))
        yield prefix, self
        for name, v in self._children():
            if isinstance(v, Module):
                yield from v.named_modules(f"{prefix}.{name}" if prefix else name, seen)

    def modules(self) -> list["Module"]:
        return [m for _, m in self.named_modules()]

    def _named_tensors(self, prefix: str = "", _seen: set | None = None) -> Iterator[tuple[str, Tensor]]:
        """Every tensor of the state (parameters and buffers), each once, in attribute order."""
        seen = set() if _seen is None else _seen
        seen.add(id(self))
        for name, v in self._children():
            if id(v) in seen:
                continue
            if isinstance(v, Module):
                yield from v._named_tensors(f"{prefix}{name}.", seen)
            elif v.is_leaf:
                seen.add(id(v))
                yield prefix + name, v

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """(name, tensor) of every learnable tensor: a leaf with ``requires_grad=True``."""
        return [(n, t) for n, t in self._named_tensors() if t.requires_grad]

    def parameters(self) -> list[Tensor]:
        """The learnable tensors, in a deterministic order and without duplicates (pass to an optimiser)."""
        return [t for _, t in self.named_parameters()]

    def named_buffers(self) -> list[tuple[str, Tensor]]:
        """(name, tensor) of the saved but not learned tensors (e.g. running statistics)."""
        return [(n, t) for n, t in self._named_tensors() if not t.requires_grad]

    def num_parameters(self) -> int:
        """The number of learned numbers: Σ over parameters of their sizes."""
        return sum(p.size for p in self.parameters())

    # --- modes and gradients -------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set ``training`` on this module and all sub-modules (Dropout and BatchNorm read it)."""
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}.train(mode): mode must be True or False, got {mode!r} "
                            "(use model.train() or model.eval())")
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``. Dropout becomes the identity, BatchNorm uses running stats."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget accumulated gradients: ``p.grad = None`` for every parameter."""
        for p in self.parameters():
            p.grad = None

    def to(self, device: str) -> "Module":
        """Move every parameter and buffer to ``device`` ('cpu' or 'cuda'), in place. Gradients are dropped.

        Build the optimiser after moving the model: its state lives on the parameters' device.
        """
        device = backend.check_device(device)
        for _, t in self._named_tensors():
            t.data = backend.to_device(t.data, device)
            t.grad = None
        for m in self.modules():
            m._moved_to(device)
        return self

    def _moved_to(self, device: str) -> None:
        """Hook for modules holding device-bound objects other than tensors (e.g. an rng)."""

    # --- saving and loading --------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of the state as NumPy arrays: ``{dotted name: array}`` for parameters and buffers."""
        return {name: np.array(t.numpy(), copy=True) for name, t in self._named_tensors()}

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> "Module":
        """Copy ``state`` into this module's tensors, in place (optimisers keep working).

        Raises ``ValueError`` naming the keys that are missing or unexpected (unless
        ``strict=False``) and any array whose shape differs from the model's; nothing is
        changed unless every check passes.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"{type(self).__name__}.load_state_dict: expected a dict {{name: array}} such as "
                            f"model.state_dict(), got {type(state).__name__}")
        own = dict(self._named_tensors())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise ValueError(
                f"state_dict does not match {type(self).__name__}: missing keys {missing}, unexpected keys "
                f"{unexpected}. Build the model with the same architecture that was saved (or pass strict=False)."
            )
        arrays = {}
        for name, t in own.items():
            if name not in state:
                continue
            value = state[name]
            a = value.numpy() if isinstance(value, Tensor) else np.asarray(backend.to_device(value, "cpu"))
            if a.dtype.kind not in "biuf":
                raise TypeError(f"state_dict[{name!r}] holds {a.dtype} values; the model's {name} needs numbers "
                                f"({t.dtype}). Pass arrays from model.state_dict() or np.load of a saved model.")
            if a.shape != t.shape:
                raise ValueError(
                    f"state_dict[{name!r}] has shape {a.shape} but the model's {name} has shape {t.shape}: "
                    "build the model with the same layer sizes as the saved one."
                )
            arrays[name] = a
        with no_grad():
            for name, a in arrays.items():
                t = own[name]
                t.data[...] = backend.get_array_module(t.data).asarray(a, dtype=t.dtype)
        return self

    def save(self, path: str | os.PathLike) -> None:
        """Write ``state_dict()`` to a NumPy ``.npz`` file (``.npz`` is appended to ``path`` if missing)."""
        file = _npz(path)
        folder = os.path.dirname(file) or "."
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"{type(self).__name__}.save: the folder {folder} does not exist; create it "
                                    f"first (os.makedirs({folder!r}, exist_ok=True)) or save elsewhere.")
        np.savez(file, **self.state_dict())

    def load(self, path: str | os.PathLike, strict: bool = True) -> "Module":
        """Read a ``.npz`` file written by ``save`` into this (already built) model.

        Never unpickles: a file that is not a plain ``.npz`` of arrays is refused with an
        error naming it.
        """
        file = _npz(path)
        if os.path.isdir(os.fspath(path)):
            raise IsADirectoryError(f"{type(self).__name__}.load: {os.fspath(path)} is a folder; give the file "
                                    "written by model.save(path), e.g. 'runs/model.npz'.")
        if not os.path.isfile(file):
            hint = f" (.npz was appended to {os.fspath(path)!r})" if file != os.fspath(path) else ""
            raise FileNotFoundError(f"{type(self).__name__}.load: no file {file}{hint}; save one first with "
                                    "model.save(path), or check the path and working directory.")
        with open(file, "rb") as fh:
            head = fh.read(8)
        try:
            if not head.startswith(b"PK"):  # an .npz is a zip archive of .npy files
                raise ValueError(f"not a zip archive: it starts with {head!r}")
            with np.load(file, allow_pickle=False) as f:
                state = {k: f[k] for k in f.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
            reason = ("it holds Python objects (dtype=object), which are never loaded: unpickling can run code"
                      if "pickle" in str(err) else str(err))
            raise ValueError(
                f"{type(self).__name__}.load: {file} is not a readable .npz written by Module.save ({reason}). "
                "The file is corrupt or of another kind: save the model again with model.save(path)."
            ) from None
        return self.load_state_dict(state, strict=strict)

    # --- printing ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of ``repr``, e.g. ``784 → 512``."""
        return ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()}"
        children = [(n, m) for n, m in self._children() if isinstance(m, Module)]
        if not children:
            return head + ")"
        lines = [f"  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in children]
        return head + "\n" + "\n".join(lines) + "\n)"


def _npz(path: str | os.PathLike) -> str:
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"
