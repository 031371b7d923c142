"""Array backends: NumPy on the CPU, CuPy on the GPU.

Every tensor holds one array of one backend. Code that needs the array module asks
for it with ``get_array_module(array)`` (the DeZero / CuPy idiom), so one piece of
model code runs on either device. CuPy is imported lazily, the first time a GPU is
asked for: importing minivi without CuPy installed works and costs nothing.

Nothing here ever copies between host and device behind your back: the only copy is
the one you ask for with ``tensor.to("cuda")`` or ``tensor.to("cpu")``.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

__all__ = ["cupy_available", "default_device", "default_dtype", "get_array_module", "get_default_device",
           "get_default_dtype", "set_default_dtype", "set_device"]

_state = {"device": "cpu", "dtype": np.dtype(np.float32)}
_cupy = None  # the cupy module, once imported


def _import_cupy():
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as err:  # pragma: no cover - depends on the machine
            raise RuntimeError(
                "device='cuda' needs CuPy, which is not installed. Install it with "
                "CuPy's prebuilt wheel for your driver: `pip install 'minivi[gpu-cuda12]'` or "
                "`pip install 'minivi[gpu-cuda13]'` (`nvidia-smi` shows the CUDA version), "
                "or stay on device='cpu'."
            ) from err
        _cupy = cupy
    return _cupy


def cupy_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        cp = _import_cupy()
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def _is_cupy_array(x: Any) -> bool:
    if type(x) is np.ndarray:
        return False
    if _cupy is None:  # CuPy not imported by minivi yet: the user may have made this array with it
        if type(x).__module__.partition(".")[0] != "cupy":
            return False
        _import_cupy()
    return isinstance(x, _cupy.ndarray)


def get_array_module(x: Any):
    """Return ``numpy`` or ``cupy``: the module that owns array ``x``."""
    return _cupy if _is_cupy_array(x) else np


def device_of(x: Any) -> str:
    """'cpu' for NumPy arrays and Python numbers, 'cuda' for CuPy arrays."""
    return "cuda" if _is_cupy_array(x) else "cpu"


def check_device(device: str) -> str:
    """Normalise a device name ('cpu', 'cuda', 'gpu', 'cuda:0') to 'cpu' or 'cuda'."""
    d = str(device).lower()
    if d == "cpu":
        return "cpu"
    if d in ("cuda", "gpu") or d.startswith("cuda:"):
        return "cuda"
    raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'")


def xp_for(device: str):
    """The array module for a device name."""
    return _import_cupy() if check_device(device) == "cuda" else np


def to_device(array: Any, device: str):
    """Explicit copy of ``array`` to ``device`` (a no-op when it is already there)."""
    device = check_device(device)
    if device == device_of(array):
        return array
    if device == "cuda":
        return _import_cupy().asarray(array)
    return _cupy.asnumpy(array)


# --- defaults -------------------------------------------------------------------------
def get_default_device() -> str:
    return _state["device"]


def set_device(device: str) -> None:
    """Set the device on which new tensors are created ('cpu' or 'cuda')."""
    device = check_device(device)
    if device == "cuda":
        _import_cupy()
    _state["device"] = device


@contextlib.contextmanager
def default_device(device: str) -> Iterator[None]:
    """``with mv.default_device("cuda"): ...`` creates new tensors on the GPU."""
    old = _state["device"]
    set_device(device)
    try:
        yield
    finally:
        _state["device"] = old


def get_default_dtype() -> np.dtype:
    return _state["dtype"]


def set_default_dtype(dtype) -> None:
    """Set the floating dtype of new tensors: float32 (the default) or float64."""
    _state["dtype"] = check_dtype(dtype)


@contextlib.contextmanager
def default_dtype(dtype) -> Iterator[None]:
    """``with mv.default_dtype("float64"): ...`` (gradient checks use this)."""
    old = _state["dtype"]
    set_default_dtype(dtype)
    try:
        yield
    finally:
        _state["dtype"] = old


def check_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise TypeError(
            f"minivi tensors are float32 or float64, not {dt}. Keep integer data such as "
            "labels as plain arrays (they are used as indices), or pass dtype='float32'."
        )
    return dt


# --- special functions and linear algebra, per backend ---------------------------------
def special(xp):
    """``scipy.special`` for NumPy, ``cupyx.scipy.special`` for CuPy."""
    if xp is np:
        import scipy.special

        return scipy.special
    import cupyx.scipy.special

    return cupyx.scipy.special


def scipy_linalg(xp):
    """``scipy.linalg`` for NumPy, ``cupyx.scipy.linalg`` for CuPy."""
    if xp is np:
        import scipy.linalg

        return scipy.linalg
    import cupyx.scipy.linalg

    return cupyx.scipy.linalg
